package notation

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/signer"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/drydock-scan/drydock/internal/result"
)

const (
	mtJWS  = "application/jose+json"
	mtCOSE = "application/cose"
)

// pki is a CA and a code-signing leaf it issued, made in the test.
type pki struct {
	ca, leaf *x509.Certificate
	leafKey  *ecdsa.PrivateKey
}

var serial atomic.Int64

func newCert(t testing.TB, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(serial.Add(1))
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// newPKI makes a root CA named caName and a leaf under it; revocationURL,
// when set, is put in the leaf as its OCSP server and CRL distribution
// point.
func newPKI(t testing.TB, caName, revocationURL string) pki {
	t.Helper()
	ca, caKey := newCert(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: caName, Organization: []string{"drydock"}, Country: []string{"US"}, Province: []string{"WA"}},
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, nil)
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "drydock test signer", Organization: []string{"drydock"}, Country: []string{"US"}, Province: []string{"WA"}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if revocationURL != "" {
		tmpl.OCSPServer = []string{revocationURL + "/ocsp"}
		tmpl.CRLDistributionPoints = []string{revocationURL + "/crl"}
	}
	leaf, leafKey := newCert(t, tmpl, ca, caKey)
	return pki{ca: ca, leaf: leaf, leafKey: leafKey}
}

const signerIdentity = "CN=drydock test signer,O=drydock,ST=WA,C=US"

// writeStore writes certificates into a trust store directory:
// stores maps "ca/name" to the certificates of x509/ca/name/.
func writeStore(t testing.TB, stores map[string][]*x509.Certificate) string {
	t.Helper()
	root := t.TempDir()
	for store, certs := range stores {
		d := filepath.Join(root, "x509", filepath.FromSlash(store))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, c := range certs {
			p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("cert%d.pem", i)), p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return root
}

// imageDesc is the descriptor of a made-up image manifest.
func imageDesc(content string) v1.Descriptor {
	sum := sha256.Sum256([]byte(content))
	return v1.Descriptor{
		MediaType: types.OCIManifestSchema1,
		Digest:    v1.Hash{Algorithm: "sha256", Hex: fmt.Sprintf("%x", sum)},
		Size:      int64(len(content)),
	}
}

func toOCI(d v1.Descriptor) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: string(d.MediaType), Digest: digest.Digest(d.Digest.String()), Size: d.Size}
}

// sign signs subject with notation-go's generic signer.
func sign(t testing.TB, p pki, subject v1.Descriptor, mediaType string) []byte {
	t.Helper()
	s, err := signer.NewGenericSigner(p.leafKey, []*x509.Certificate{p.leaf, p.ca})
	if err != nil {
		t.Fatal(err)
	}
	env, _, err := s.Sign(context.Background(), toOCI(subject), notation.SignerSignOptions{SignatureMediaType: mediaType})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// sigManifest is the signature manifest `notation sign` pushes.
func sigManifest(t testing.TB, subject v1.Descriptor, envelope []byte, mediaType, artifactType string) []byte {
	t.Helper()
	s := toOCI(subject)
	m := ocispec.Manifest{
		MediaType:    ocispec.MediaTypeImageManifest,
		ArtifactType: artifactType,
		Config:       ocispec.DescriptorEmptyJSON,
		Layers:       []ocispec.Descriptor{{MediaType: mediaType, Digest: digest.FromBytes(envelope), Size: int64(len(envelope))}},
		Subject:      &s,
	}
	m.SchemaVersion = 2
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// tamper flips one byte of the envelope's signature value.
func tamper(t testing.TB, env []byte, mediaType string) []byte {
	t.Helper()
	out := append([]byte(nil), env...)
	if mediaType == mtCOSE {
		// COSE_Sign1 ends with the signature byte string.
		out[len(out)-5] ^= 0x01
		return out
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(m["signature"].(string))
	if err != nil {
		t.Fatal(err)
	}
	sig[len(sig)/2] ^= 0x01
	m["signature"] = base64.RawURLEncoding.EncodeToString(sig)
	out, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// retarget replaces a JWS envelope's payload with one that names another
// artifact, keeping the signature.
func retarget(t testing.TB, env []byte, other v1.Descriptor) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(env, &m); err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(map[string]any{"targetArtifact": toOCI(other)})
	if err != nil {
		t.Fatal(err)
	}
	m["payload"] = base64.RawURLEncoding.EncodeToString(payload)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestGeneratedSignatures signs descriptors with notation-go's signer (JWS
// and COSE) under a CA made in the test and verifies them.
func TestGeneratedSignatures(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer srv.Close()

	good := newPKI(t, "drydock test root", "")
	other := newPKI(t, "another root", "")
	withRevocation := newPKI(t, "drydock revocation root", srv.URL)

	trusted := writeStore(t, map[string][]*x509.Certificate{"ca/drydock": {good.ca, withRevocation.ca}, "ca/other": {other.ca}})
	pinned := "x509.subject: C=US, ST=WA, O=drydock, CN=drydock test signer"

	image := imageDesc(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`)
	another := imageDesc(`{"schemaVersion":2,"note":"another image"}`)

	type tc struct {
		name       string
		policy     map[string]any
		store      string
		repository string
		// env returns the envelope and the signature manifest (nil: none).
		env     func(t *testing.T, mt string) ([]byte, []byte)
		subject v1.Descriptor
		want    result.Signature
	}
	signed := func(p pki) func(t *testing.T, mt string) ([]byte, []byte) {
		return func(t *testing.T, mt string) ([]byte, []byte) {
			e := sign(t, p, image, mt)
			return e, sigManifest(t, image, e, mt, ArtifactType)
		}
	}
	bare := func(p pki) func(t *testing.T, mt string) ([]byte, []byte) {
		return func(t *testing.T, mt string) ([]byte, []byte) { return sign(t, p, image, mt), nil }
	}
	ok := result.Signature{Kind: "notation", Covers: image.Digest.String(), Verified: true, Identity: signerIdentity}
	fail := func(msg string) result.Signature {
		return result.Signature{Kind: "notation", Covers: image.Digest.String(), Identity: signerIdentity, Error: msg}
	}
	scoped := strict([]string{"ca:drydock"}, pinned)
	scoped["registryScopes"] = []string{"registry.example.com/team/app"}

	tests := []tc{
		{name: "passes, with its signature manifest", policy: strict([]string{"ca:drydock"}, pinned), env: signed(good), subject: image, want: ok},
		{name: "passes, envelope alone", policy: strict([]string{"ca:drydock"}, pinned), env: bare(good), subject: image, want: ok},
		{name: "passes, any identity (\"*\")", policy: strict([]string{"ca:drydock"}, "*"), env: bare(good), subject: image, want: ok},
		{name: "fails for another subject digest", policy: strict([]string{"ca:drydock"}, pinned), env: bare(good), subject: another,
			want: fail("content descriptor mismatch")},
		{name: "fails when the manifest's subject is another image", policy: strict([]string{"ca:drydock"}, pinned), subject: image,
			env: func(t *testing.T, mt string) ([]byte, []byte) {
				e := sign(t, good, image, mt)
				return e, sigManifest(t, another, e, mt, ArtifactType)
			},
			want: result.Signature{Kind: "notation", Covers: image.Digest.String(), Error: "signature manifest's subject is " + another.Digest.String() + ", not " + image.Digest.String()}},
		{name: "fails with a tampered signature", policy: strict([]string{"ca:drydock"}, pinned), subject: image,
			env:  func(t *testing.T, mt string) ([]byte, []byte) { return tamper(t, sign(t, good, image, mt), mt), nil },
			want: result.Signature{Kind: "notation", Covers: image.Digest.String(), Error: "signature is invalid"}},
		{name: "fails with a tampered envelope under its manifest", policy: strict([]string{"ca:drydock"}, pinned), subject: image,
			env: func(t *testing.T, mt string) ([]byte, []byte) {
				e := sign(t, good, image, mt)
				return tamper(t, e, mt), sigManifest(t, image, e, mt, ArtifactType)
			},
			want: result.Signature{Kind: "notation", Covers: image.Digest.String(), Error: "signature envelope digest"}},
		{name: "fails with an untrusted CA", policy: strict([]string{"ca:other"}, pinned), env: bare(good), subject: image,
			want: fail("does not contain any trusted certificate")},
		{name: "fails for another identity", policy: strict([]string{"ca:drydock"}, "x509.subject: C=US, ST=WA, O=drydock, CN=someone else"),
			env: bare(good), subject: image, want: fail("does not match the X.509 trusted identities")},
		{name: "fails with a manifest of another artifact type", policy: strict([]string{"ca:drydock"}, pinned), subject: image,
			env: func(t *testing.T, mt string) ([]byte, []byte) {
				e := sign(t, good, image, mt)
				return e, sigManifest(t, image, e, mt, "application/vnd.dev.cosign.artifact.sig.v1+json")
			},
			want: result.Signature{Kind: "notation", Covers: image.Digest.String(), Error: "artifact type"}},
		{name: "scoped statement: no repository given", policy: scoped, env: bare(good), subject: image,
			want: result.Signature{Kind: "notation", Covers: image.Digest.String(), Error: "has no statement with registryScopes"}},
		{name: "scoped statement: its repository", policy: scoped, repository: "registry.example.com/team/app", env: bare(good), subject: image, want: ok},
		{name: "scoped statement: another repository", policy: scoped, repository: "registry.example.com/team/other", env: bare(good), subject: image,
			want: result.Signature{Kind: "notation", Covers: image.Digest.String(), Error: "no applicable trust policy"}},
		{name: "level skip verifies nothing", policy: map[string]any{"signatureVerification": map[string]any{"level": "skip"}},
			env: bare(good), subject: image, want: result.Signature{Kind: "notation", Covers: image.Digest.String(), Error: "nothing was verified"}},
		{name: "strict, certificate with OCSP/CRL: unknown offline, fails", policy: strict([]string{"ca:drydock"}, pinned),
			env: bare(withRevocation), subject: image, want: fail("revocation status is unknown")},
		{name: "strict with revocation skipped, certificate with OCSP/CRL: passes", policy: strictNoRevocation([]string{"ca:drydock"}, pinned),
			env: bare(withRevocation), subject: image, want: ok},
		{name: "permissive (revocation logged), certificate with OCSP/CRL: not counted as verified",
			policy: map[string]any{"signatureVerification": map[string]any{"level": "permissive"}, "trustStores": []string{"ca:drydock"}, "trustedIdentities": []string{pinned}},
			env:    bare(withRevocation), subject: image, want: fail("the revocation check failed and is only logged")},
	}
	for _, mt := range []string{mtJWS, mtCOSE} {
		cases := tests
		if mt == mtJWS {
			cases = append(cases, tc{name: "fails with a payload naming another artifact", policy: strict([]string{"ca:drydock"}, pinned), subject: another,
				env: func(t *testing.T, mt string) ([]byte, []byte) {
					return retarget(t, sign(t, good, image, mt), another), nil
				},
				want: result.Signature{Kind: "notation", Covers: another.Digest.String(), Error: "signature is invalid"}})
		}
		for _, tt := range cases {
			t.Run(mt+"/"+tt.name, func(t *testing.T) {
				ctx := context.Background()
				store := tt.store
				if store == "" {
					store = trusted
				}
				v, err := New(ctx, writePolicy(t, tt.policy), store)
				if err != nil {
					t.Fatal(err)
				}
				if tt.repository != "" {
					if v, err = v.WithRepository(tt.repository); err != nil {
						t.Fatal(err)
					}
				}
				env, manifest := tt.env(t, mt)
				before := time.Now().Add(-time.Second).UTC()
				got, err := v.Verify(ctx, tt.subject, manifest, env, mt)
				if err != nil {
					t.Fatal(err)
				}
				want := tt.want
				if manifest != nil {
					want.Digest = digest.FromBytes(manifest).String()
				}
				// The signer's claimed signing time: now, never a verified time.
				if got.SignedAt != nil {
					if got.SignedAt.Before(before) || got.SignedAt.After(time.Now().Add(time.Second)) {
						t.Errorf("SignedAt %v is not the signing time", got.SignedAt)
					}
					got.SignedAt = nil
				} else if want.Identity != "" {
					t.Errorf("no SignedAt")
				}
				checkSig(t, got, want)
			})
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("%d revocation requests reached the test's OCSP/CRL server: verification must be offline", n)
	}
}

// signatureVerifier is the verify stage's SignatureVerifier, copied (this
// package must not import internal/verify): *Verifier must satisfy it.
type signatureVerifier interface {
	ArtifactType() string
	Describe() string
	Verify(ctx context.Context, subject v1.Descriptor, sigManifest []byte, envelope []byte, envelopeMediaType string) (result.Signature, error)
}

var _ signatureVerifier = (*Verifier)(nil)

func TestArtifactType(t *testing.T) {
	v, err := New(context.Background(), writePolicy(t, strict([]string{"ca:x"}, "*")),
		writeStore(t, map[string][]*x509.Certificate{"ca/x": {newPKI(t, "x", "").ca}}))
	if err != nil {
		t.Fatal(err)
	}
	if got := v.ArtifactType(); got != "application/vnd.cncf.notary.signature" {
		t.Errorf("ArtifactType() = %q", got)
	}
	if got := v.Describe(); !strings.Contains(got, v.policyFile) || !strings.Contains(got, v.storeDir) || !strings.Contains(got, "offline") {
		t.Errorf("Describe() = %q, want the policy file, the trust store and offline named", got)
	}
}

func TestVerifyCancelled(t *testing.T) {
	p := newPKI(t, "x", "")
	v, err := New(context.Background(), writePolicy(t, strict([]string{"ca:x"}, "*")),
		writeStore(t, map[string][]*x509.Certificate{"ca/x": {p.ca}}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	img := imageDesc("x")
	if _, err := v.Verify(ctx, img, nil, sign(t, p, img, mtJWS), mtJWS); err == nil {
		t.Error("Verify with a cancelled context: no error")
	}
}

// FuzzVerify: arbitrary envelopes and signature manifests never panic and
// never verify.
func FuzzVerify(f *testing.F) {
	p := newPKI(f, "fuzz root", "")
	v, err := New(context.Background(), writePolicy(f, strict([]string{"ca:x"}, "*")),
		writeStore(f, map[string][]*x509.Certificate{"ca/x": {p.ca}}))
	if err != nil {
		f.Fatal(err)
	}
	img := imageDesc("fuzzed image")
	for _, mt := range []string{mtJWS, mtCOSE} {
		e := sign(f, p, img, mt)
		f.Add(tamper(f, e, mt), sigManifest(f, img, e, mt, ArtifactType), mt == mtCOSE)
		f.Add(e[:len(e)/2], []byte(nil), mt == mtCOSE)
	}
	f.Fuzz(func(t *testing.T, env, manifest []byte, cose bool) {
		mt := mtJWS
		if cose {
			mt = mtCOSE
		}
		got, err := v.Verify(context.Background(), img, manifest, env, mt)
		if err != nil {
			t.Fatal(err)
		}
		if got.Verified {
			t.Errorf("a fuzzed envelope verified: %q", env)
		}
	})
}
