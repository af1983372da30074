package attest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drydock-scan/drydock/internal/testimage"
)

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

const vulnType = "https://cosign.sigstore.dev/attestation/vuln/v1"

// statementFor is a minimal cosign-vuln Statement about digest.
func statementFor(t testing.TB, repo string, digest v1.Hash) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": repo, "digest": map[string]string{digest.Algorithm: digest.Hex}}},
		"predicateType": vulnType,
		"predicate": map[string]any{
			"invocation": map[string]any{"parameters": []string{}, "uri": "", "event_id": "", "builder.id": ""},
			"scanner":    map[string]any{"uri": "pkg:github/drydock-scan/drydock@test", "version": "test", "db": map[string]string{"uri": "", "version": "2026-01-14T06:00:00Z"}, "result": map[string]any{"summary": map[string]any{"findings": 2}}},
			"metadata":   map[string]any{"scanStartedOn": "2026-01-15T09:58:25Z", "scanFinishedOn": "2026-01-15T10:00:00Z"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustHash(t testing.TB, s string) v1.Hash {
	t.Helper()
	h, err := v1.NewHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestSignVerify: a bundle made by Sign verifies with sigstore-go against the
// public key, and carries exactly what BUNDLE_SPEC and the brief ask: media
// type v0.3, a DSSE envelope with the in-toto payload type, the public key
// hint as the only verification material.
func TestSignVerify(t *testing.T) {
	key := newKey(t)
	digest := mustHash(t, "sha256:"+strings.Repeat("ab", 32))
	st := statementFor(t, "registry.example.com/team/app", digest)
	b, err := Sign(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Verify(b, &key.PublicKey, digest)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !bytes.Equal(got.Statement, st) || got.PredicateType != vulnType {
		t.Errorf("verified statement %q (%s); want the one signed", got.Statement, got.PredicateType)
	}

	var doc struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial map[string]json.RawMessage
		DsseEnvelope         struct {
			PayloadType string `json:"payloadType"`
			Signatures  []struct{ Sig string }
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	hint, err := KeyHint(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range doc.VerificationMaterial {
		keys = append(keys, k)
	}
	if diff := cmp.Diff([]string{"publicKey"}, keys); diff != "" {
		t.Errorf("verification material (no certificate, no tlog entries, no timestamps) (-want +got):\n%s", diff)
	}
	if want := fmt.Sprintf(`{"hint":%q}`, hint); string(doc.VerificationMaterial["publicKey"]) != want {
		t.Errorf("publicKey %s, want %s", doc.VerificationMaterial["publicKey"], want)
	}
	if doc.MediaType != BundleMediaType || doc.DsseEnvelope.PayloadType != InTotoPayloadType || len(doc.DsseEnvelope.Signatures) != 1 {
		t.Errorf("mediaType %q, payloadType %q, %d signatures", doc.MediaType, doc.DsseEnvelope.PayloadType, len(doc.DsseEnvelope.Signatures))
	}
}

// TestVerifyRefuses: one byte changed anywhere that is signed, another key,
// or another image, and verification fails.
func TestVerifyRefuses(t *testing.T) {
	key := newKey(t)
	digest := mustHash(t, "sha256:"+strings.Repeat("ab", 32))
	good, err := Sign(context.Background(), statementFor(t, "registry.example.com/team/app", digest), key)
	if err != nil {
		t.Fatal(err)
	}
	// editEnvelope decodes the bundle, changes a field of the envelope and
	// encodes it again.
	editEnvelope := func(field string, edit func([]byte)) []byte {
		var m map[string]any
		if err := json.Unmarshal(good, &m); err != nil {
			t.Fatal(err)
		}
		env := m["dsseEnvelope"].(map[string]any)
		var holder map[string]any
		var key string
		if field == "payload" {
			holder, key = env, "payload"
		} else {
			holder, key = env["signatures"].([]any)[0].(map[string]any), "sig"
		}
		raw, err := base64.StdEncoding.DecodeString(holder[key].(string))
		if err != nil {
			t.Fatal(err)
		}
		edit(raw)
		holder[key] = base64.StdEncoding.EncodeToString(raw)
		out, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	other := newKey(t)
	for _, tc := range []struct {
		name   string
		bundle []byte
		pub    *ecdsa.PublicKey
		digest v1.Hash
	}{
		{"one byte of the statement", editEnvelope("payload", func(b []byte) { b[bytes.Index(b, []byte(`"findings":2`))+11] = '0' }), &key.PublicKey, digest},
		{"one bit of the statement's last byte", editEnvelope("payload", func(b []byte) { b[len(b)-1] ^= 1 }), &key.PublicKey, digest},
		{"one byte of the signature", editEnvelope("sig", func(b []byte) { b[len(b)/2] ^= 0x40 }), &key.PublicKey, digest},
		{"one character of the bundle text", flipBase64Char(t, good), &key.PublicKey, digest},
		{"another key", good, &other.PublicKey, digest},
		{"another image", good, &key.PublicKey, mustHash(t, "sha256:"+strings.Repeat("cd", 32))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Equal(tc.bundle, good) && tc.pub == &key.PublicKey && tc.digest == digest {
				t.Fatal("the case changes nothing")
			}
			if v, err := Verify(tc.bundle, tc.pub, tc.digest); err == nil {
				t.Errorf("verified: %s", v.Statement)
			}
		})
	}
	if _, err := Verify(good, &key.PublicKey, digest); err != nil {
		t.Errorf("the unchanged bundle: %v", err)
	}
}

// flipBase64Char changes one character inside the envelope's base64 payload
// in the bundle's JSON text, keeping it valid base64.
func flipBase64Char(t testing.TB, bundle []byte) []byte {
	t.Helper()
	i := bytes.Index(bundle, []byte(`"payload":"`))
	if i < 0 {
		t.Fatal("no payload in the bundle")
	}
	i += len(`"payload":"`) + 40
	out := bytes.Clone(bundle)
	if out[i] == 'A' {
		out[i] = 'B'
	} else {
		out[i] = 'A'
	}
	return out
}

func TestLoadKeys(t *testing.T) {
	ec := newKey(t)
	sec1, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384der, err := x509.MarshalECPrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaDER, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	p := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	for _, tc := range []struct {
		name string
		pem  []byte
		want string // "" = accepted
	}{
		{"SEC 1", p("EC PRIVATE KEY", sec1), ""},
		{"PKCS #8", p("PRIVATE KEY", pkcs8), ""},
		{"P-384", p("EC PRIVATE KEY", p384der), "P-384, want P-256"},
		{"RSA", p("PRIVATE KEY", rsaDER), "want ECDSA P-256"},
		{"cosign encrypted", p("ENCRYPTED SIGSTORE PRIVATE KEY", []byte("x")), `PEM block "ENCRYPTED SIGSTORE PRIVATE KEY"`},
		{"a public key", p("PUBLIC KEY", pub), `PEM block "PUBLIC KEY"`},
		{"not PEM", []byte("hello"), "no PEM block"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := LoadPrivateKey(tc.pem)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want == "" && !k.Equal(ec):
				t.Error("a different key")
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if k, err := LoadPublicKey(p("PUBLIC KEY", pub)); err != nil || !k.Equal(&ec.PublicKey) {
		t.Errorf("LoadPublicKey: %v", err)
	}
	if _, err := LoadPublicKey(p("EC PRIVATE KEY", sec1)); err == nil || !strings.Contains(err.Error(), `want "PUBLIC KEY"`) {
		t.Errorf("LoadPublicKey of a private key: %v", err)
	}
}

// pushImage pushes a random image to repo and returns its manifest digest
// and descriptor.
func pushImage(t testing.TB, repo string) (name.Digest, v1.Descriptor) {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(repo + ":1.0")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	mt, err := img.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	return tag.Context().Digest(d.String()), v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(raw))}
}

// get is a plain HTTP GET against the registry, for checks that do not go
// through go-containerregistry.
func get(t testing.TB, url, accept string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// attachAndFind attaches n bundles to a fresh image in host/team/app and
// checks that Find returns each of them, verified against the key.
func attachAndFind(t *testing.T, host string, n int) (name.Digest, []v1.Hash) {
	t.Helper()
	ctx := context.Background()
	key := newKey(t)
	subject, desc := pushImage(t, host+"/team/app")
	if _, _, err := Find(ctx, subject); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Find before attaching: %v, want ErrNotFound", err)
	}
	var attached []v1.Hash
	for i := range n {
		b, err := Sign(ctx, statementFor(t, subject.Context().String(), desc.Digest), key)
		if err != nil {
			t.Fatal(err)
		}
		h, err := Attach(ctx, subject, desc, b, vulnType, time.Date(2026, 1, 15, 10, i, 0, 0, time.UTC))
		if err != nil {
			t.Fatalf("Attach: %v", err)
		}
		attached = append(attached, h)
	}
	found, _, err := Find(ctx, subject)
	if err != nil {
		t.Fatalf("Find: %v", err)
	}
	var got []v1.Hash
	for _, r := range found {
		got = append(got, r.Manifest)
		v, err := Verify(r.Bundle, &key.PublicKey, desc.Digest)
		if err != nil {
			t.Errorf("referrer %s does not verify: %v", r.Manifest, err)
			continue
		}
		if v.PredicateType != vulnType || r.Annotations[AnnotationPredicateType] != vulnType || r.Annotations[AnnotationContent] != "dsse-envelope" {
			t.Errorf("referrer %s: predicate type %q, annotations %v", r.Manifest, v.PredicateType, r.Annotations)
		}
	}
	sortHashes(attached)
	sortHashes(got)
	if diff := cmp.Diff(attached, got); diff != "" {
		t.Errorf("found referrers (-attached +found):\n%s", diff)
	}
	return subject, attached
}

func sortHashes(h []v1.Hash) {
	for i := range h {
		for j := i + 1; j < len(h); j++ {
			if h[j].String() < h[i].String() {
				h[i], h[j] = h[j], h[i]
			}
		}
	}
}

// TestReferrersAPI: go-containerregistry's in-process registry with the
// referrers API on. The bundle is listed by GET /v2/<name>/referrers/<digest>
// and no sha256-<hex> tag is written: Find found it through the API.
func TestReferrersAPI(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	subject, attached := attachAndFind(t, host, 2)

	code, hdr, body := get(t, srv.URL+"/v2/team/app/referrers/"+subject.DigestStr(), string(types.OCIImageIndex))
	if code != http.StatusOK || hdr.Get("Content-Type") != string(types.OCIImageIndex) {
		t.Fatalf("referrers API: %d %s", code, hdr.Get("Content-Type"))
	}
	// go-containerregistry v0.22.1's registry lists a referrer under its
	// config media type (pkg/registry/manifest.go, handleReferrers), not the
	// manifest's artifactType as the distribution spec asks: Find does not
	// rely on the listed artifactType for that reason.
	assertIndexLists(t, body, attached, string(types.OCIEmptyJSON))
	if code, _, _ := get(t, srv.URL+"/v2/team/app/manifests/"+strings.Replace(subject.DigestStr(), ":", "-", 1), string(types.OCIImageIndex)); code != http.StatusNotFound {
		t.Errorf("the fallback tag exists (HTTP %d) on a registry with the referrers API", code)
	}
}

// TestReferrersTagFallback: the real CNCF distribution 2.8 registry, which
// has no referrers API. Attach keeps the sha256-<hex> tag index up to date
// (go-containerregistry does it when the API answers 404) and Find reads it.
func TestReferrersTagFallback(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	host := testimage.StartRegistry(t, bin, nil)
	subject, attached := attachAndFind(t, host, 2)

	base := "http://" + host + "/v2/team/app"
	if code, _, body := get(t, base+"/referrers/"+subject.DigestStr(), string(types.OCIImageIndex)); code != http.StatusNotFound {
		t.Fatalf("distribution answered the referrers API with HTTP %d (%.200s): the fallback is not exercised", code, body)
	}
	code, hdr, body := get(t, base+"/manifests/"+strings.Replace(subject.DigestStr(), ":", "-", 1), string(types.OCIImageIndex))
	if code != http.StatusOK || hdr.Get("Content-Type") != string(types.OCIImageIndex) {
		t.Fatalf("fallback tag: HTTP %d %s", code, hdr.Get("Content-Type"))
	}
	assertIndexLists(t, body, attached, BundleMediaType)
}

// assertIndexLists checks that an image index lists exactly the referrers,
// each with artifactType and the predicate type annotation.
func assertIndexLists(t *testing.T, body []byte, want []v1.Hash, artifactType string) {
	t.Helper()
	im, err := v1.ParseIndexManifest(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var got []v1.Hash
	for _, d := range im.Manifests {
		if d.ArtifactType != artifactType || d.MediaType != types.OCIManifestSchema1 || d.Annotations[AnnotationPredicateType] != vulnType {
			t.Errorf("index entry %s: artifactType %q, mediaType %q, annotations %v", d.Digest, d.ArtifactType, d.MediaType, d.Annotations)
		}
		got = append(got, d.Digest)
	}
	sortHashes(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("index entries (-want +got):\n%s", diff)
	}
}

// TestFindChecksTheIndex: a fallback tag index is not authenticated; an
// entry whose manifest names another subject is not returned.
func TestFindChecksTheIndex(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	key := newKey(t)
	a, aDesc := pushImage(t, host+"/team/a")
	b, _ := pushImage(t, host+"/team/a")
	bundle, err := Sign(ctx, statementFor(t, a.Context().String(), aDesc.Digest), key)
	if err != nil {
		t.Fatal(err)
	}
	h, err := Attach(ctx, a, aDesc, bundle, vulnType, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// Copy a's fallback index to b's fallback tag: it now lists a referrer
	// of a under b.
	idx, err := remote.Index(a.Context().Tag(strings.Replace(a.DigestStr(), ":", "-", 1)))
	if err != nil {
		t.Fatalf("a's fallback tag (this registry has no referrers API): %v", err)
	}
	if err := remote.WriteIndex(b.Context().Tag(strings.Replace(b.DigestStr(), ":", "-", 1)), idx); err != nil {
		t.Fatal(err)
	}
	if found, _, err := Find(ctx, a); err != nil || len(found) != 1 || found[0].Manifest != h {
		t.Fatalf("Find(a) = %v, %v", found, err)
	}
	found, skipped, err := Find(ctx, b)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("Find(b) = %d referrers, %v; want ErrNotFound (the listed manifest refers to a)", len(found), err)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], h.String()) || !strings.Contains(skipped[0], "does not name") {
		t.Errorf("Find(b) skipped %q, want the referrer %s named, its subject being another image", skipped, h)
	}

	// A dangling entry (a manifest the registry does not have) listed
	// next to a's good referrer: the good one is still found, the other
	// said.
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	gone, goneDesc := pushImage(t, host+"/team/a")
	missing := goneDesc.Digest
	dangling := im.DeepCopy()
	dangling.Manifests = append(dangling.Manifests, v1.Descriptor{MediaType: goneDesc.MediaType, Digest: missing, Size: goneDesc.Size, ArtifactType: BundleMediaType})
	raw, err := json.Marshal(dangling)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(a.Context().Tag(strings.Replace(a.DigestStr(), ":", "-", 1)), rawManifest{raw: raw, mt: types.OCIImageIndex}); err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(gone); err != nil {
		t.Fatal(err)
	}
	found, skipped, err = Find(ctx, a)
	if err != nil || len(found) != 1 || found[0].Manifest != h {
		t.Fatalf("Find(a) with a dangling entry = %v, %v", found, err)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0], missing.String()) {
		t.Errorf("Find(a) skipped %q, want the dangling %s named", skipped, missing)
	}
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }
