// Package notation verifies Notation (Notary Project) signatures for the
// verify stage, with notation-go's verifier under a Notation trust policy
// (OCI trust policy document, version 1.0) and a directory trust store
// (x509/ca/<name>/, x509/signingAuthority/<name>/, x509/tsa/<name>/).
//
// Verification is offline: no OCSP request and no CRL download is ever
// made (see offline.go). Verification plugins are not run.
//
// *Verifier satisfies the verify stage's SignatureVerifier interface
// (ArtifactType, Verify) without importing it.
package notation

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/tspclient-go"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/drydock-scan/drydock/internal/result"
)

// ArtifactType is the artifact type of a Notation signature manifest.
const ArtifactType = "application/vnd.cncf.notary.signature"

// Kind is result.Signature.Kind for Notation signatures.
const Kind = "notation"

// unknownRepository stands for the image's repository when the caller gave
// none (see WithRepository): under the reserved ".invalid" domain it can
// match no registryScopes entry, so only a "*" statement applies.
const unknownRepository = "unknown.invalid/drydock-repository-not-given"

// Verifier verifies Notation signature envelopes (JWS and COSE) under one
// trust policy and trust store. It is safe for concurrent use.
type Verifier struct {
	policyFile, storeDir string
	doc                  *trustpolicy.Document
	// checked: the timestamping chain's revocation is checked (offline).
	checked notation.Verifier
	// tsaSkipped: for statements whose revocation check is "skip".
	tsaSkipped notation.Verifier
	// repository is the image's repository ("registry.example.com/app"),
	// matched against the statements' registryScopes.
	repository string
}

// New reads the trust policy (a Notation OCI trust policy JSON document,
// version 1.0) and the trust store directory (the layout below Notation's
// "truststore" folder: x509/<ca|signingAuthority|tsa>/<name>/ holding PEM or
// DER certificates), checks that every trust store the policy names loads,
// and returns a Verifier. Every error names the file or directory.
func New(ctx context.Context, trustPolicyFile, trustStoreDir string) (*Verifier, error) {
	doc, err := readPolicy(trustPolicyFile)
	if err != nil {
		return nil, err
	}
	store, err := openTrustStore(trustStoreDir)
	if err != nil {
		return nil, err
	}
	if err := checkStores(ctx, doc, store, trustStoreDir); err != nil {
		return nil, fmt.Errorf("Notation trust policy %s: %w", trustPolicyFile, err)
	}
	signing, err := offlineValidator(purpose.CodeSigning)
	if err != nil {
		return nil, err
	}
	timestamping, err := offlineValidator(purpose.Timestamping)
	if err != nil {
		return nil, err
	}
	checked, err := verifier.NewWithOptions(doc, store, nil, verifier.VerifierOptions{
		RevocationCodeSigningValidator:  signing,
		RevocationTimestampingValidator: timestamping,
	})
	if err != nil {
		return nil, fmt.Errorf("Notation trust policy %s: %w", trustPolicyFile, err)
	}
	tsaSkipped, err := verifier.NewWithOptions(doc, store, nil, verifier.VerifierOptions{
		RevocationCodeSigningValidator:  signing,
		RevocationTimestampingValidator: skippedValidator{},
	})
	if err != nil {
		return nil, fmt.Errorf("Notation trust policy %s: %w", trustPolicyFile, err)
	}
	return &Verifier{policyFile: trustPolicyFile, storeDir: trustStoreDir, doc: doc, checked: checked, tsaSkipped: tsaSkipped}, nil
}

// WithRepository returns a copy of v that selects the trust policy
// statement by the image's repository, written as in registryScopes
// ("registry.example.com/team/app"; Docker Hub: "docker.io/library/alpine").
// Without it only a statement with registryScopes ["*"] applies.
func (v *Verifier) WithRepository(repository string) (*Verifier, error) {
	if repository == "" || strings.ContainsAny(repository, "@ \t\n") || !strings.Contains(repository, "/") {
		return nil, fmt.Errorf("Notation verification: repository %q is not <registry>/<path>", repository)
	}
	c := *v
	c.repository = repository
	return &c, nil
}

// ArtifactType is the artifact type of the signature manifests this
// verifier reads.
func (v *Verifier) ArtifactType() string { return ArtifactType }

// Describe says what signatures are checked against, for
// result.SupplyChain.Trust.
func (v *Verifier) Describe() string {
	return fmt.Sprintf("notation policy %s, trust store %s (offline: no OCSP/CRL requests)", v.policyFile, v.storeDir)
}

// Verify verifies one Notation signature: envelope is the signature
// manifest's layer (media type envelopeMediaType, "application/jose+json"
// or "application/cose"), sigManifest the signature manifest (checked when
// given: artifact type, subject, one layer of that media type and digest),
// subject the descriptor of the image manifest (or index) it must sign —
// media type, digest and size must all match the signed payload.
//
// A signature that does not verify is a result with Verified false and
// Error set; the error return is only for a cancelled ctx. Source is left
// for the caller.
func (v *Verifier) Verify(ctx context.Context, subject v1.Descriptor, sigManifest []byte, envelope []byte, envelopeMediaType string) (result.Signature, error) {
	if err := ctx.Err(); err != nil {
		return result.Signature{}, err
	}
	res := result.Signature{Kind: Kind, Covers: subject.Digest.String()}
	if len(sigManifest) > 0 {
		res.Digest = digest.FromBytes(sigManifest).String()
		if err := checkManifest(sigManifest, subject, envelope, envelopeMediaType); err != nil {
			res.Error = err.Error()
			return res, nil
		}
	}
	if envelopeMediaType != jws.MediaTypeEnvelope && envelopeMediaType != cose.MediaTypeEnvelope {
		res.Error = fmt.Sprintf("signature envelope media type %q is neither %q nor %q", envelopeMediaType, jws.MediaTypeEnvelope, cose.MediaTypeEnvelope)
		return res, nil
	}

	repo := v.repository
	if repo == "" {
		repo = unknownRepository
		if !hasWildcard(v.doc) {
			res.Error = fmt.Sprintf("trust policy %s has no statement with registryScopes [\"*\"], and the image's repository was not given to select one", v.policyFile)
			return res, nil
		}
	}
	ref := repo + "@" + subject.Digest.String()
	statement, err := v.doc.GetApplicableTrustPolicy(ref)
	if err != nil {
		res.Error = fmt.Sprintf("trust policy %s: %v", v.policyFile, err)
		return res, nil
	}
	level, err := statement.SignatureVerification.GetVerificationLevel()
	if err != nil {
		res.Error = fmt.Sprintf("trust policy %s, statement %q: %v", v.policyFile, statement.Name, err)
		return res, nil
	}
	if level.Name == trustpolicy.LevelSkip.Name {
		res.Error = fmt.Sprintf("trust policy %s, statement %q: verification level %q, nothing was verified", v.policyFile, statement.Name, level.Name)
		return res, nil
	}
	nv := v.checked
	if level.Enforcement[trustpolicy.TypeRevocation] == trustpolicy.ActionSkip {
		nv = v.tsaSkipped
	}

	desc := ocispec.Descriptor{
		MediaType: string(subject.MediaType),
		Digest:    digest.Digest(subject.Digest.String()),
		Size:      subject.Size,
	}
	outcome, verr := nv.Verify(ctx, desc, envelope, notation.VerifierVerifyOptions{
		ArtifactReference:  ref,
		SignatureMediaType: envelopeMediaType,
	})
	if err := ctx.Err(); err != nil {
		return result.Signature{}, err
	}
	var info *signature.SignerInfo
	if outcome != nil && outcome.EnvelopeContent != nil {
		info = &outcome.EnvelopeContent.SignerInfo
		if len(info.CertificateChain) > 0 {
			res.Identity = info.CertificateChain[0].Subject.String()
		}
		if !info.SignedAttributes.SigningTime.IsZero() {
			t := info.SignedAttributes.SigningTime.UTC()
			res.SignedAt = &t
		}
		if d := payloadDigest(outcome.EnvelopeContent.Payload.Content); d != "" {
			res.Covers = d
		}
	}
	if verr != nil {
		res.Error = verr.Error()
		return res, nil
	}
	if info == nil {
		res.Error = "notation-go verified nothing (no envelope content)"
		return res, nil
	}
	for _, r := range outcome.VerificationResults {
		if r != nil && r.Error != nil {
			res.Error = fmt.Sprintf("trust policy %s, statement %q (level %s): the %s check failed and is only logged: %v; drydock counts a signature as verified only when every check the statement runs passes", v.policyFile, statement.Name, level.Name, r.Type, r.Error)
			return res, nil
		}
	}
	if ts, ok := verifiedTimestamp(statement, level, outcome, time.Now()); ok {
		res.SignedAt = &ts
		res.TimeVerified = true
	}
	res.Verified = true
	return res, nil
}

// hasWildcard reports whether a statement applies to every repository.
func hasWildcard(doc *trustpolicy.Document) bool {
	for _, st := range doc.TrustPolicies {
		for _, s := range st.RegistryScopes {
			if s == "*" {
				return true
			}
		}
	}
	return false
}

// payloadDigest is the target artifact's digest in a Notation payload
// ("application/vnd.cncf.notary.payload.v1+json"), or "".
func payloadDigest(content []byte) string {
	var p struct {
		TargetArtifact struct {
			Digest string `json:"digest"`
		} `json:"targetArtifact"`
	}
	if json.Unmarshal(content, &p) != nil {
		return ""
	}
	return p.TargetArtifact.Digest
}

// verifiedTimestamp returns the time of the RFC 3161 countersignature when
// notation-go verified one for this outcome: the scheme is notary.x509, the
// statement names a tsa trust store, the authenticTimestamp check is not
// skipped, the countersignature is present, and (with verifyTimestamp
// "afterCertExpiry") the signing chain has expired — the same conditions
// under which notation-go verifies it; its check passed (the caller has
// seen every check pass).
func verifiedTimestamp(st *trustpolicy.TrustPolicy, level *trustpolicy.VerificationLevel, outcome *notation.VerificationOutcome, now time.Time) (time.Time, bool) {
	info := outcome.EnvelopeContent.SignerInfo
	if info.SignedAttributes.SigningScheme != signature.SigningSchemeX509 || len(info.UnsignedAttributes.TimestampSignature) == 0 {
		return time.Time{}, false
	}
	if level.Enforcement[trustpolicy.TypeAuthenticTimestamp] == trustpolicy.ActionSkip {
		return time.Time{}, false
	}
	tsa := false
	for _, s := range st.TrustStores {
		if strings.HasPrefix(s, "tsa:") {
			tsa = true
		}
	}
	if !tsa {
		return time.Time{}, false
	}
	if st.SignatureVerification.VerifyTimestamp == trustpolicy.OptionAfterCertExpiry {
		expired := false
		for _, c := range info.CertificateChain {
			if now.After(c.NotAfter) {
				expired = true
			}
		}
		if !expired {
			return time.Time{}, false
		}
	}
	checked := false
	for _, r := range outcome.VerificationResults {
		if r != nil && r.Type == trustpolicy.TypeAuthenticTimestamp {
			if r.Error != nil {
				return time.Time{}, false
			}
			checked = true
		}
	}
	if !checked {
		return time.Time{}, false
	}
	token, err := tspclient.ParseSignedToken(info.UnsignedAttributes.TimestampSignature)
	if err != nil {
		return time.Time{}, false
	}
	tst, err := token.Info()
	if err != nil {
		return time.Time{}, false
	}
	ts, err := tst.Validate(info.Signature)
	if err != nil {
		return time.Time{}, false
	}
	return ts.Value.UTC(), true
}

// checkManifest checks the signature manifest against the subject and the
// envelope: a Notation signature artifact whose subject is the image and
// whose one layer is this envelope.
func checkManifest(raw []byte, subject v1.Descriptor, envelope []byte, envelopeMediaType string) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var m ocispec.Manifest
	if err := dec.Decode(&m); err != nil {
		return fmt.Errorf("decoding the signature manifest: %w", err)
	}
	at := m.ArtifactType
	if at == "" {
		at = m.Config.MediaType
	}
	if at != ArtifactType {
		return fmt.Errorf("signature manifest: artifact type %q, not %q", at, ArtifactType)
	}
	if m.Subject == nil {
		return errors.New("signature manifest has no subject")
	}
	if m.Subject.Digest.String() != subject.Digest.String() {
		return fmt.Errorf("signature manifest's subject is %s, not %s", m.Subject.Digest, subject.Digest)
	}
	if len(m.Layers) != 1 {
		return fmt.Errorf("signature manifest has %d layers, a Notation signature has one", len(m.Layers))
	}
	l := m.Layers[0]
	if l.MediaType != envelopeMediaType {
		return fmt.Errorf("signature manifest's layer has media type %q, the envelope was given as %q", l.MediaType, envelopeMediaType)
	}
	if err := l.Digest.Validate(); err != nil {
		return fmt.Errorf("signature manifest's layer digest %q: %w", l.Digest, err)
	}
	if got := l.Digest.Algorithm().FromBytes(envelope); got != l.Digest {
		return fmt.Errorf("signature envelope digest %s, the signature manifest says %s", got, l.Digest)
	}
	return nil
}
