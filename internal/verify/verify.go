// Package verify is drydock's supply-chain verify stage: before the scan it
// finds the signatures and attestations of exactly the scanned manifest
// digest (never a tag), verifies them against the configured trust, and
// reads build provenance from them. The answer is a result.SupplyChain;
// nothing about the image is an error, everything is said in it.
//
// Discovery (each manifest and blob capped in size and checked against its
// digest, the number of artifacts examined capped): the OCI 1.1 referrers
// API or its sha256-<hex> tag fallback, cosign's legacy sha256-<hex>.sig and
// .att tags, BuildKit attestation manifests in the image index, and the
// index.json of an OCI layout; the same for the index the platform manifest
// was reached through, when that index lists it. Verification is
// sigstore-go's (bundles v0.1–v0.3, cosign legacy signatures converted to a
// bundle first) or a SignatureVerifier (Notation).
package verify

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"

	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/verify/provenance"
)

// Target is exactly what was scanned: a digest, never a tag.
type Target struct {
	// Digest is repository@sha256:… of the scanned platform manifest.
	Digest name.Digest
	// IndexDigest is "sha256:…" of the index it was reached through, ""
	// if none.
	IndexDigest string
	// Remote are the authenticated registry options; nil for a layout.
	Remote []remote.Option
	// LayoutDir is the OCI layout directory when the source is a layout.
	LayoutDir string
}

// Identity pins a keyless signer: the issuer AND the subject, each exactly
// or by a regexp (RE2) that must match the whole value (it is anchored:
// unlike sigstore-go's and cosign's, which match anywhere in it).
type Identity struct{ Issuer, Subject, IssuerRegexp, SubjectRegexp string }

// Options say what signatures are checked against and how much is fetched.
type Options struct {
	// KeyFiles are PEM public keys (ECDSA, RSA, Ed25519: what
	// sigstore-go's verifier supports).
	KeyFiles []string
	// Identities are keyless signers (needs TrustedRoot).
	Identities []Identity
	// TrustedRoot is a trusted_root.json (offline keyless, and the logs
	// and timestamp authorities for thresholds).
	TrustedRoot string
	// TlogThreshold and TimestampThreshold: 0 is the default (1
	// transparency-log entry for keyless, none for keys; no signed
	// timestamp), a negative value is none.
	TlogThreshold, TimestampThreshold int
	// Notation verifies Notation signatures; nil unless configured.
	Notation SignatureVerifier
	// MaxReferrers caps the artifacts examined (default 32).
	MaxReferrers int
	// MaxBlobSize caps each fetched manifest or blob (default 4 MiB).
	MaxBlobSize int64
	// Require is copied to SupplyChain.Required.
	Require bool
	// Now is the clock (default time.Now): a signature whose verified
	// signing time is more than 5 minutes after Now is refused.
	// (sigstore-go checks certificate validity at the verified
	// timestamps, or at its own clock when no timestamp is required.)
	Now func() time.Time
}

// SignatureVerifier lets the notation package plug in without verify
// importing it. A verified answer must say in Covers the digest its
// signature signed: it counts only when that is subject's digest.
type SignatureVerifier interface {
	ArtifactType() string // "application/vnd.cncf.notary.signature"
	// Describe says what signatures are checked against (the Trust line).
	Describe() string
	Verify(ctx context.Context, subject v1.Descriptor, sigManifest []byte, envelope []byte, envelopeMediaType string) (result.Signature, error)
}

// Defaults of Options.
const (
	DefaultMaxReferrers = 32
	DefaultMaxBlobSize  = 4 << 20
	// maxCap bounds both caps (1 GiB): more than any signature needs.
	maxCap = 1 << 30
)

// Artifact and annotation names.
const (
	bundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle"
	notationArtifactType  = "application/vnd.cncf.notary.signature"
	inTotoMediaType       = "application/vnd.in-toto+json"
	// CosignSignPredicate is the predicate type of cosign's image
	// signatures in the bundle format (a DSSE statement that signs the
	// image): such a statement is a signature, not only an attestation.
	CosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"
	refTypeAnnotation   = "vnd.docker.reference.type"
	refDigestAnnotation = "vnd.docker.reference.digest"
)

// Run verifies the target. It returns an error only for unusable options
// (a key or trusted root that does not load, an identity that does not pin
// issuer and subject); everything about the image is in the result.
func Run(ctx context.Context, t Target, o Options) (*result.SupplyChain, error) {
	if o.MaxReferrers <= 0 {
		o.MaxReferrers = DefaultMaxReferrers
	}
	if o.MaxBlobSize <= 0 {
		o.MaxBlobSize = DefaultMaxBlobSize
	}
	// Bounded so that cap+1 (a read limit) and 10×cap (layout entries)
	// cannot overflow into refusing everything.
	o.MaxBlobSize = min(o.MaxBlobSize, maxCap)
	o.MaxReferrers = min(o.MaxReferrers, maxCap/10)
	if o.Now == nil {
		o.Now = time.Now
	}
	ts, err := trusts(o)
	if err != nil {
		return nil, err
	}
	digest, err := v1.NewHash(t.Digest.DigestStr())
	if err != nil {
		return nil, fmt.Errorf("verifying %s: %w", t.Digest, err)
	}
	r := &run{
		o: o, trusts: ts, budget: o.MaxReferrers, platform: digest,
		sc: &result.SupplyChain{Digest: digest.String(), IndexDigest: t.IndexDigest, Required: o.Require},
	}
	for _, tr := range ts {
		r.sc.Trust = append(r.sc.Trust, tr.desc)
	}
	if o.Notation != nil {
		r.sc.Trust = append(r.sc.Trust, o.Notation.Describe())
	}
	if len(r.sc.Trust) == 0 {
		r.problem("no trust configured (no key, keyless identity or Notation policy): signatures are listed but none can verify")
	}
	if t.LayoutDir != "" {
		r.store = &layoutStore{dir: t.LayoutDir, max: o.MaxBlobSize, maxEntries: 10 * o.MaxReferrers}
	} else {
		r.store = &remoteStore{repo: t.Digest.Context(), opts: t.Remote, max: o.MaxBlobSize}
	}

	var index *v1.IndexManifest
	if t.IndexDigest != "" {
		index = r.readIndex(ctx, t.IndexDigest)
	}
	r.discover(ctx, digest)
	// BuildKit attestations are read only from an index that lists the
	// platform manifest.
	if index != nil && r.listing != (v1.Hash{}) {
		for _, d := range index.Manifests {
			if d.Annotations[refTypeAnnotation] == "attestation-manifest" && d.Annotations[refDigestAnnotation] == r.platform.String() {
				r.buildkit(ctx, d)
			}
		}
		r.discover(ctx, r.listing)
	}
	if r.skipped > 0 {
		r.problem(fmt.Sprintf("discovery capped at %d artifacts: %d more were not examined (a signature among them was not checked and does not count)", o.MaxReferrers, r.skipped))
	}
	// Deterministic order whatever order a registry lists referrers in.
	slices.SortStableFunc(r.sc.Signatures, func(a, b result.Signature) int {
		return cmp.Or(cmp.Compare(a.Covers, b.Covers), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Source, b.Source), cmp.Compare(a.Digest, b.Digest))
	})
	slices.SortStableFunc(r.sc.Attestations, func(a, b result.Attestation) int {
		return cmp.Or(cmp.Compare(a.Source, b.Source), cmp.Compare(a.PredicateType, b.PredicateType), cmp.Compare(a.Digest, b.Digest))
	})
	slices.SortStableFunc(r.sc.Provenance, func(a, b result.Provenance) int {
		return cmp.Or(cmp.Compare(a.PredicateType, b.PredicateType), cmp.Compare(a.BuilderID, b.BuilderID), cmp.Compare(a.InvocationID, b.InvocationID))
	})
	for _, s := range r.sc.Signatures {
		if s.Verified {
			r.sc.Verified = true
		}
	}
	return r.sc, nil
}

// run is one verification's state.
type run struct {
	o        Options
	trusts   []trust
	store    store
	platform v1.Hash
	// listing is the index that lists the platform manifest (zero when
	// none): its signatures cover the platform manifest.
	listing v1.Hash
	sc      *result.SupplyChain
	budget  int
	skipped int
}

func (r *run) problem(s string) { r.sc.Problems = append(r.sc.Problems, s) }

// take spends one artifact of the budget; false when it is spent.
func (r *run) take() bool {
	if r.budget <= 0 {
		r.skipped++
		return false
	}
	r.budget--
	return true
}

// readIndex reads the index the platform manifest was reached through
// (digest-checked) and, when it lists the platform manifest, makes it the
// listing index whose signatures cover the platform manifest too.
func (r *run) readIndex(ctx context.Context, indexDigest string) *v1.IndexManifest {
	h, err := v1.NewHash(indexDigest)
	if err != nil {
		r.problem(fmt.Sprintf("index digest %q: %v", indexDigest, err))
		return nil
	}
	raw, err := r.store.manifest(ctx, h, 0)
	if err != nil {
		r.problem(fmt.Sprintf("reading the index %s: %v", h, err))
		return nil
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		r.problem(fmt.Sprintf("reading the index %s: %v", h, err))
		return nil
	}
	for _, d := range im.Manifests {
		if d.Digest == r.platform {
			r.listing = h
			return im
		}
	}
	r.problem(fmt.Sprintf("the index %s does not list %s: its signatures do not cover the scanned manifest and were not read", h, r.platform))
	return im
}

// covered are the digests a signature found for d may sign: d, and the
// listing index when d is the platform manifest.
func (r *run) covered(d v1.Hash) []v1.Hash {
	if d == r.platform && r.listing != (v1.Hash{}) {
		return []v1.Hash{d, r.listing}
	}
	return []v1.Hash{d}
}

// discover finds and checks everything attached to d (the platform
// manifest or its index): referrers, then cosign's .sig and .att tags.
func (r *run) discover(ctx context.Context, d v1.Hash) {
	r.referrers(ctx, d)
	r.cosignTag(ctx, d, ".sig")
	r.cosignTag(ctx, d, ".att")
}

func (r *run) referrers(ctx context.Context, d v1.Hash) {
	raw, source, err := r.store.referrers(ctx, d)
	if err != nil {
		r.problem(err.Error())
		return
	}
	if source == "referrers-tag" {
		r.problem(fmt.Sprintf("the registry has no OCI 1.1 referrers API: the %s tag was read instead (its list is not authenticated; every entry is checked)", strings.Replace(d.String(), ":", "-", 1)))
	}
	if raw == nil {
		return
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(raw))
	if err != nil {
		r.problem(fmt.Sprintf("reading the referrers of %s (%s): %v", d, source, err))
		return
	}
	for _, desc := range im.Manifests {
		at := desc.ArtifactType
		// Artifacts that cannot be signatures (SBOMs…) are not fetched.
		if at != "" && !strings.HasPrefix(at, bundleMediaTypePrefix) && at != notationArtifactType &&
			at != "application/vnd.oci.empty.v1+json" && (r.o.Notation == nil || at != r.o.Notation.ArtifactType()) {
			continue
		}
		if !r.take() {
			continue
		}
		r.referrer(ctx, d, source, desc)
	}
}

// referrer fetches one referrer manifest and checks what it holds.
func (r *run) referrer(ctx context.Context, subject v1.Hash, source string, desc v1.Descriptor) {
	raw, err := r.store.manifest(ctx, desc.Digest, desc.Size)
	if err != nil {
		r.problem(fmt.Sprintf("referrer of %s (%s): %v", subject, source, err))
		return
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		r.problem(fmt.Sprintf("referrer %s of %s (%s): %v", desc.Digest, subject, source, err))
		return
	}
	// The list is not authenticated (the fallback tag least of all): the
	// manifest itself must name the subject.
	if m.Subject == nil || m.Subject.Digest != subject {
		r.problem(fmt.Sprintf("referrer %s listed for %s (%s) does not name it as its subject: skipped", desc.Digest, subject, source))
		return
	}
	at := m.ArtifactType
	if at == "" {
		at = string(m.Config.MediaType)
	}
	switch {
	case strings.HasPrefix(at, bundleMediaTypePrefix):
		if len(m.Layers) == 0 {
			r.problem(fmt.Sprintf("bundle referrer %s of %s has no layer", desc.Digest, subject))
			return
		}
		b, err := r.store.blob(ctx, m.Layers[0])
		if err != nil {
			r.sc.Signatures = append(r.sc.Signatures, result.Signature{Kind: "sigstore-bundle", Source: source, Digest: desc.Digest.String(), Covers: subject.String(), Error: err.Error()})
			return
		}
		r.bundle(b, source, desc.Digest.String(), subject)
	case at == notationArtifactType || (r.o.Notation != nil && at == r.o.Notation.ArtifactType()):
		r.notation(ctx, source, desc.Digest, subject, *m.Subject, raw, m)
	}
}

// bundle checks a Sigstore bundle found for subject.
func (r *run) bundle(b []byte, source, artifact string, subject v1.Hash) {
	sig := result.Signature{Kind: "sigstore-bundle", Source: source, Digest: artifact, Covers: subject.String()}
	entity, err := parseBundle(b)
	if err != nil {
		sig.Error = err.Error()
		r.sc.Signatures = append(r.sc.Signatures, sig)
		return
	}
	policy, err := digestPolicy(subject)
	policies, covers := []func() sgverify.ArtifactPolicyOption{policy}, []v1.Hash{subject}
	if entity.GetDsseEnvelope() != nil {
		// A statement may name the listing index as its subject.
		covers = r.covered(subject)
		policies, err = dssePolicies(covers)
	}
	if err != nil {
		sig.Error = err.Error()
		r.sc.Signatures = append(r.sc.Signatures, sig)
		return
	}
	out, which := checkAny(entity, policies, r.trusts)
	out = r.atTime(out)
	if which >= 0 {
		// Which digest the verified signature is about.
		sig.Covers = covers[which].String()
	}
	if env := entity.GetDsseEnvelope(); env != nil {
		st, serr := r.statement(env.GetPayloadType(), env.GetPayload(), subject)
		if st.PredicateType == CosignSignPredicate {
			if serr != nil {
				out.verified, out.err = false, joinErr(out.err, serr.Error())
			}
			r.sc.Signatures = append(r.sc.Signatures, fill(sig, out))
			return
		}
		r.attestation(source, artifact, st, serr, out)
		return
	}
	r.sc.Signatures = append(r.sc.Signatures, fill(sig, out))
}

// clockSkew is how far in the future a verified signing time may be.
const clockSkew = 5 * time.Minute

// atTime refuses a signature whose verified signing time is later than
// the clock (Options.Now) allows: the log's or the timestamp authority's
// clock, or this machine's, is wrong, and a certificate checked at that
// time proves nothing now.
func (r *run) atTime(out outcome) outcome {
	if out.verified && out.timeVerified && out.signedAt != nil {
		if now := r.o.Now(); out.signedAt.After(now.Add(clockSkew)) {
			out.verified = false
			out.err = fmt.Sprintf("the verified signing time %s is after the current time %s", out.signedAt.Format(time.RFC3339), now.UTC().Format(time.RFC3339))
		}
	}
	return out
}

func fill(sig result.Signature, out outcome) result.Signature {
	sig.Verified = out.verified
	sig.Identity, sig.Issuer = out.identity, out.issuer
	sig.SignedAt, sig.TimeVerified, sig.TlogIndex = out.signedAt, out.timeVerified, out.tlogIndex
	sig.Error = out.err
	return sig
}

// statement reads a signed in-toto statement and checks that it is about
// subject.
func (r *run) statement(payloadType string, payload []byte, subject v1.Hash) (provenance.Statement, error) {
	if payloadType != inTotoMediaType {
		return provenance.Statement{}, fmt.Errorf("DSSE payload type %q, want %q", payloadType, inTotoMediaType)
	}
	st, err := provenance.FromStatement(payload)
	if err != nil && st.PredicateType == "" {
		return st, err // not an in-toto statement
	}
	if err != nil {
		// A statement whose SLSA predicate does not parse: the signature
		// may still verify; its provenance is not used, and that is said.
		r.problem(fmt.Sprintf("the %s statement's provenance could not be read: %v", st.PredicateType, err))
	}
	for _, c := range r.covered(subject) {
		if st.HasSubject(c.String()) {
			return st, nil
		}
	}
	return st, fmt.Errorf("the statement's subjects %v do not include %s", st.Subjects, subject)
}

// attestation records a DSSE attestation and, when it verified and is SLSA,
// its provenance.
func (r *run) attestation(source, artifact string, st provenance.Statement, stErr error, out outcome) {
	a := result.Attestation{PredicateType: st.PredicateType, Source: source, Digest: artifact,
		Verified: out.verified && stErr == nil, Identity: out.identity, Issuer: out.issuer, Error: out.err}
	if stErr != nil {
		a.Error = joinErr(a.Error, stErr.Error())
	}
	if a.PredicateType == "" {
		a.PredicateType = "unknown"
	}
	r.sc.Attestations = append(r.sc.Attestations, a)
	if a.Verified && st.Provenance != nil {
		p := *st.Provenance
		p.Verified = true
		r.sc.Provenance = append(r.sc.Provenance, p)
	}
}

func joinErr(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// cosignTag reads cosign's legacy sha256-<hex>.sig / .att manifest.
func (r *run) cosignTag(ctx context.Context, d v1.Hash, suffix string) {
	tag := strings.Replace(d.String(), ":", "-", 1) + suffix
	raw, h, err := r.store.tag(ctx, tag)
	if errors.Is(err, errNotFound) {
		return
	}
	source := "cosign-tag"
	if _, ok := r.store.(*layoutStore); ok {
		source = "oci-layout"
	}
	if err != nil {
		r.problem(fmt.Sprintf("cosign %s tag of %s: %v", suffix, d, err))
		return
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		r.problem(fmt.Sprintf("cosign %s manifest %s: %v", tag, h, err))
		return
	}
	for _, l := range m.Layers {
		if !r.take() {
			continue
		}
		content, err := r.store.blob(ctx, l)
		if suffix == ".att" {
			r.cosignAttestation(source, l, content, err, d)
		} else {
			r.cosignSignature(source, l, content, err, d)
		}
	}
}

func (r *run) cosignSignature(source string, l v1.Descriptor, payload []byte, fetchErr error, d v1.Hash) {
	sig := result.Signature{Kind: "cosign-legacy", Source: source, Digest: l.Digest.String(), Covers: d.String()}
	if fetchErr != nil {
		sig.Error = fetchErr.Error()
		r.sc.Signatures = append(r.sc.Signatures, sig)
		return
	}
	entity, err := legacyBundle(l.Annotations, payload, false)
	if err != nil {
		sig.Error = err.Error()
		r.sc.Signatures = append(r.sc.Signatures, sig)
		return
	}
	out := r.atTime(check(entity, readerPolicy(payload), r.trusts))
	signed, perr := simpleSigningDigest(payload)
	switch {
	case perr != nil:
		out.verified, out.err = false, joinErr(out.err, perr.Error())
	case !slices.ContainsFunc(r.covered(d), func(c v1.Hash) bool { return c.String() == signed }):
		out.verified, out.err = false, joinErr(out.err, fmt.Sprintf("the payload signs %s, not %s", signed, d))
	default:
		sig.Covers = signed
	}
	r.sc.Signatures = append(r.sc.Signatures, fill(sig, out))
}

func (r *run) cosignAttestation(source string, l v1.Descriptor, envelope []byte, fetchErr error, d v1.Hash) {
	if fetchErr != nil {
		r.attestation(source, l.Digest.String(), provenance.Statement{}, fetchErr, outcome{})
		return
	}
	entity, err := legacyBundle(l.Annotations, envelope, true)
	if err != nil {
		r.attestation(source, l.Digest.String(), provenance.Statement{}, err, outcome{})
		return
	}
	policies, err := dssePolicies(r.covered(d))
	if err != nil {
		r.attestation(source, l.Digest.String(), provenance.Statement{}, err, outcome{})
		return
	}
	out, _ := checkAny(entity, policies, r.trusts)
	out = r.atTime(out)
	env := entity.GetDsseEnvelope()
	st, serr := r.statement(env.GetPayloadType(), env.GetPayload(), d)
	r.attestation(source, l.Digest.String(), st, serr, out)
}

// notation hands a Notation signature to the configured verifier.
func (r *run) notation(ctx context.Context, source string, artifact, subject v1.Hash, subjectDesc v1.Descriptor, raw []byte, m *v1.Manifest) {
	sig := result.Signature{Kind: "notation", Source: source, Digest: artifact.String(), Covers: subject.String()}
	if r.o.Notation == nil {
		sig.Error = "no Notation trust policy configured"
		r.sc.Signatures = append(r.sc.Signatures, sig)
		return
	}
	if len(m.Layers) != 1 {
		sig.Error = fmt.Sprintf("a Notation signature manifest has %d layers, want 1 (the envelope)", len(m.Layers))
		r.sc.Signatures = append(r.sc.Signatures, sig)
		return
	}
	env, err := r.store.blob(ctx, m.Layers[0])
	if err != nil {
		sig.Error = err.Error()
		r.sc.Signatures = append(r.sc.Signatures, sig)
		return
	}
	got, err := r.o.Notation.Verify(ctx, subjectDesc, raw, env, string(m.Layers[0].MediaType))
	got.Kind, got.Source, got.Digest = "notation", source, artifact.String()
	if err != nil {
		got.Verified = false
		got.Error = joinErr(got.Error, err.Error())
	}
	// The verifier says what its signature signed; it counts only when
	// that is the subject it was handed.
	if got.Verified && got.Covers != subject.String() {
		got.Verified = false
		got.Error = joinErr(got.Error, fmt.Sprintf("the Notation verifier verified a signature of %s, not of %s", got.Covers, subject))
	}
	if !got.Verified && got.Covers == "" {
		got.Covers = subject.String()
	}
	r.sc.Signatures = append(r.sc.Signatures, got)
}

// buildkit reads a BuildKit attestation manifest: unsigned statements,
// kept as hints (Verified false), never as proof.
func (r *run) buildkit(ctx context.Context, d v1.Descriptor) {
	if !r.take() {
		return
	}
	raw, err := r.store.manifest(ctx, d.Digest, d.Size)
	if err != nil {
		r.problem(fmt.Sprintf("BuildKit attestation manifest: %v", err))
		return
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		r.problem(fmt.Sprintf("BuildKit attestation manifest %s: %v", d.Digest, err))
		return
	}
	for _, l := range m.Layers {
		if l.MediaType != inTotoMediaType {
			continue
		}
		// Each statement is a blob fetched: it counts against the cap.
		if !r.take() {
			continue
		}
		a := result.Attestation{PredicateType: l.Annotations["in-toto.io/predicate-type"], Source: "buildkit", Digest: d.Digest.String(),
			Error: "unsigned (a BuildKit attestation manifest in the index): a hint, not proof"}
		b, err := r.store.blob(ctx, l)
		var st provenance.Statement
		if err == nil {
			st, err = r.statement(inTotoMediaType, b, r.platform)
		}
		if err != nil {
			a.Error = joinErr(a.Error, err.Error())
		} else {
			a.PredicateType = st.PredicateType
			if st.Provenance != nil {
				r.sc.Provenance = append(r.sc.Provenance, *st.Provenance)
			}
		}
		if a.PredicateType == "" {
			a.PredicateType = "unknown"
		}
		r.sc.Attestations = append(r.sc.Attestations, a)
	}
}
