package result

import "time"

// SupplyChain is what the verify stage (internal/verify) found out about the
// scanned image's signatures and attestations, before the scan. It is about
// exactly the scanned manifest digest (Digest): the reference is resolved
// once and never re-resolved.
//
// Verified is true only when at least one signature was verified against the
// configured trust (a key, a keyless identity+issuer, a Notation trust
// policy). Everything that was found but not verified, and every reason,
// is kept: an unsigned image and an image whose signature fails are
// different answers, and neither is silent.
type SupplyChain struct {
	// Digest is the manifest digest that was verified (and scanned).
	Digest string `json:"digest"`
	// IndexDigest is the multi-platform index the platform manifest was
	// reached through, when there was one.
	IndexDigest string `json:"index_digest,omitempty"`
	// Verified: at least one signature verified under the configured trust.
	Verified bool `json:"verified"`
	// Required is true when the run asked for a verified signature
	// (--require-signature); the verdict then fails when Verified is false.
	Required bool `json:"required,omitempty"`
	// Trust describes what signatures were checked against ("key
	// sha256:…", "keyless issuer=… subject=…", "notation policy …").
	Trust []string `json:"trust,omitempty"`
	// Signatures are the signatures found, verified or not.
	Signatures []Signature `json:"signatures,omitempty"`
	// Attestations are the in-toto statements found (signed or as hints).
	Attestations []Attestation `json:"attestations,omitempty"`
	// Provenance is the build provenance read from a verified SLSA
	// attestation (or, marked Verified=false, an unsigned BuildKit one: a
	// hint, never proof).
	Provenance []Provenance `json:"provenance,omitempty"`
	// Problems are everything that went wrong or could not be checked
	// (discovery capped, a blob failed its digest, a signature for another
	// digest, a registry without the referrers API…).
	Problems []string `json:"problems,omitempty"`
}

// Signature is one signature over the image (or over an index that lists it).
type Signature struct {
	// Kind: "sigstore-bundle", "cosign-legacy", "notation".
	Kind string `json:"kind"`
	// Source says where it was found: "referrers", "referrers-tag"
	// (the sha256-<hex> fallback), "cosign-tag" (.sig), "oci-layout".
	Source string `json:"source"`
	// Digest is the signature artifact's manifest (or blob) digest.
	Digest string `json:"digest,omitempty"`
	// Covers is the digest the signature signs (the image, or its index).
	Covers   string `json:"covers,omitempty"`
	Verified bool   `json:"verified"`
	// Identity is the signer: a certificate subject (SAN) for keyless
	// signing, "key:<hint>" for a key, the certificate subject for Notation.
	Identity string `json:"identity,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
	// SignedAt is the verified signing time (transparency log or
	// timestamp authority), or the signature's own claim when nothing
	// verified one (then TimeVerified is false).
	SignedAt     *time.Time `json:"signed_at,omitempty"`
	TimeVerified bool       `json:"time_verified,omitempty"`
	// TlogIndex is the transparency-log entry's index, when there is one.
	TlogIndex *int64 `json:"tlog_index,omitempty"`
	// Error says why it did not verify.
	Error string `json:"error,omitempty"`
}

// Attestation is one in-toto statement attached to the image.
type Attestation struct {
	PredicateType string `json:"predicate_type"`
	// Source as in Signature, plus "buildkit" (an attestation manifest in
	// the image index).
	Source   string `json:"source"`
	Digest   string `json:"digest,omitempty"`
	Verified bool   `json:"verified"`
	Identity string `json:"identity,omitempty"`
	Issuer   string `json:"issuer,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Provenance is what a SLSA provenance predicate (v0.2 or v1) says about how
// the image was built.
type Provenance struct {
	// PredicateType is "https://slsa.dev/provenance/v0.2" or
	// "https://slsa.dev/provenance/v1".
	PredicateType string `json:"predicate_type"`
	// Verified is false for unsigned provenance (a BuildKit attestation
	// without a signature): shown as a hint, never as proof.
	Verified bool `json:"verified"`
	// BuilderID is builder.id (v0.2) or runDetails.builder.id (v1).
	BuilderID string `json:"builder_id,omitempty"`
	// BuildType is buildType (v0.2) or buildDefinition.buildType (v1).
	BuildType string `json:"build_type,omitempty"`
	// SourceRepo is the source repository the build read (a git URI from
	// invocation.configSource / materials, or
	// buildDefinition.externalParameters / resolvedDependencies).
	SourceRepo string `json:"source_repo,omitempty"`
	// SourceDigest is that source's commit digest ("sha1:…").
	SourceDigest string `json:"source_digest,omitempty"`
	// Materials are the resolved dependencies (materials in v0.2) as URIs
	// with a digest ("pkg:docker/alpine@3.20?digest=sha256:…").
	Materials []string `json:"materials,omitempty"`
	// InvocationID is metadata.buildInvocationID / runDetails.metadata.invocationID.
	InvocationID string     `json:"invocation_id,omitempty"`
	StartedOn    *time.Time `json:"started_on,omitempty"`
	FinishedOn   *time.Time `json:"finished_on,omitempty"`
}
