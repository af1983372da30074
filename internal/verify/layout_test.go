package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drydock-scan/drydock/internal/attest"
	"github.com/drydock-scan/drydock/internal/result"
)

// writeBlob puts b in the layout and returns its descriptor.
func writeBlob(t *testing.T, p layout.Path, b []byte, mt types.MediaType) v1.Descriptor {
	t.Helper()
	h, n, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.WriteBlob(h, io.NopCloser(bytes.NewReader(b))); err != nil {
		t.Fatal(err)
	}
	return v1.Descriptor{MediaType: mt, Digest: h, Size: n}
}

// referrerManifest is a bundle referrer manifest as attest.Attach writes
// it (cosign's BUNDLE_SPEC), as bytes.
func referrerManifest(t *testing.T, config, layer v1.Descriptor, subject v1.Descriptor) []byte {
	t.Helper()
	b, err := json.Marshal(v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: attest.BundleMediaType,
		Config: config, Layers: []v1.Descriptor{layer}, Subject: &subject})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLayout: an OCI layout holding the image, a bundle referrer (a
// manifest whose subject is the image) and cosign's sha256-<hex>.sig
// (named by its ref.name annotation): both verify, from the layout alone.
// Then a byte of the bundle blob is flipped on disk: the digest check
// refuses it and says so.
func TestLayout(t *testing.T) {
	ctx := context.Background()
	alice := newSigner(t)
	dir := t.TempDir()
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	raw, _ := img.RawManifest()
	imgDesc := v1.Descriptor{MediaType: types.DockerManifestSchema2, Digest: d, Size: int64(len(raw))}
	if mt, _ := img.MediaType(); mt != "" {
		imgDesc.MediaType = mt
	}

	config := writeBlob(t, p, []byte("{}"), types.OCIEmptyJSON)
	bundleDesc := writeBlob(t, p, signMessage(t, alice, raw), attest.BundleMediaType)
	refRaw := referrerManifest(t, config, bundleDesc, imgDesc)
	refDesc := writeBlob(t, p, refRaw, types.OCIManifestSchema1)
	refDesc.ArtifactType = attest.BundleMediaType
	if err := p.AppendDescriptor(refDesc); err != nil {
		t.Fatal(err)
	}
	sigLayer := legacySig(t, alice, "example.com/app", d)
	sigLayer.MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	sigImg, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), sigLayer)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(sigImg, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": strings.Replace(d.String(), ":", "-", 1) + ".sig"})); err != nil {
		t.Fatal(err)
	}
	sigLayerDigest, _ := sigLayer.Layer.Digest()

	ref, err := name.NewDigest("example.com/app@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	target := Target{Digest: ref, LayoutDir: dir}
	got, err := Run(ctx, target, Options{KeyFiles: []string{alice.file}})
	if err != nil {
		t.Fatal(err)
	}
	want := &result.SupplyChain{Digest: d.String(), Verified: true, Trust: []string{"key " + strings.TrimPrefix(alice.identity, "key:")},
		Signatures: []result.Signature{
			{Kind: "cosign-legacy", Source: "oci-layout", Digest: sigLayerDigest.String(), Covers: d.String(), Verified: true, Identity: alice.identity},
			{Kind: "sigstore-bundle", Source: "oci-layout", Digest: refDesc.Digest.String(), Covers: d.String(), Verified: true, Identity: alice.identity},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("layout -want +got:\n%s", diff)
	}

	// Flip a byte of the bundle blob on disk.
	blob := filepath.Join(dir, "blobs", "sha256", bundleDesc.Digest.Hex)
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x01
	if err := os.WriteFile(blob, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err = Run(ctx, target, Options{KeyFiles: []string{alice.file}})
	if err != nil {
		t.Fatal(err)
	}
	want.Signatures[1].Verified, want.Signatures[1].Identity = false, ""
	want.Signatures[1].Error = "blob " + bundleDesc.Digest.String() + ": content has digest"
	matchErrors(want, got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tampered blob in the layout -want +got:\n%s", diff)
	}
}

// TestRegistryBlobChecks: a registry that serves a bundle blob with one
// byte flipped (same length), and a bundle over MaxBlobSize: neither is
// used, both say why.
func TestRegistryBlobChecks(t *testing.T) {
	ctx := context.Background()
	alice := newSigner(t)
	var corrupt string // "/blobs/sha256:…" to flip
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if corrupt == "" || r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, corrupt) {
			inner.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		inner.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if len(body) > 0 {
			body[len(body)/2] ^= 0x01
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"

	img := pushImage(t, repo)
	bundle := signMessage(t, alice, img.raw)
	ref := attach(t, img, bundle, "")
	h, _, err := v1.SHA256(bytes.NewReader(bundle))
	if err != nil {
		t.Fatal(err)
	}
	corrupt = "/blobs/" + h.String()
	got, err := Run(ctx, Target{Digest: img.ref}, Options{KeyFiles: []string{alice.file}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Verified || len(got.Signatures) != 1 || got.Signatures[0].Digest != ref.String() || got.Signatures[0].Error == "" {
		t.Fatalf("a corrupted bundle blob: %+v", got)
	}
	t.Logf("corrupted blob: %s", got.Signatures[0].Error)
	corrupt = ""

	// A large attestation bundle (the referrers list and manifests stay
	// under the cap).
	big := signStatement(t, alice, statement(t, "https://example.com/big/v1", img.desc.Digest, `{"pad":"`+strings.Repeat("x", 8000)+`"}`))
	attach(t, img, big, "https://example.com/big/v1")
	got, err = Run(ctx, Target{Digest: img.ref}, Options{KeyFiles: []string{alice.file}, MaxBlobSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	want := "is " + itoa(len(big)) + " bytes, over the 4096 byte cap"
	var capped, small bool
	for _, s := range got.Signatures {
		capped = capped || strings.Contains(s.Error, want)
		small = small || (s.Verified && s.Digest == ref.String())
	}
	if !capped || !small {
		t.Fatalf("a bundle over MaxBlobSize: %+v, want an error saying %q and the small bundle verified", got, want)
	}
	got, err = Run(ctx, Target{Digest: img.ref}, Options{KeyFiles: []string{alice.file}})
	if err != nil || !got.Verified || len(got.Attestations) != 1 || !got.Attestations[0].Verified {
		t.Fatalf("the same bundles, served intact and under the cap: %+v, %v", got, err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// fakeNotation stands in for internal/verify/notation: it records what
// verify handed it and answers as told.
type fakeNotation struct {
	subject            v1.Descriptor
	manifest, envelope []byte
	mediaType          string
	answer             result.Signature
	err                error
}

func (f *fakeNotation) ArtifactType() string { return notationArtifactType }

func (f *fakeNotation) Describe() string {
	return "notation trust policy (" + notationArtifactType + ")"
}

func (f *fakeNotation) Verify(_ context.Context, subject v1.Descriptor, m, env []byte, mt string) (result.Signature, error) {
	f.subject, f.manifest, f.envelope, f.mediaType = subject, m, env, mt
	return f.answer, f.err
}

// TestNotationPlumbing: a Notation signature referrer reaches the
// configured SignatureVerifier with the subject descriptor, the signature
// manifest and the envelope blob, digest-checked; its answer is recorded
// as a "notation" signature; without a verifier it is listed, unverified,
// with the reason.
func TestNotationPlumbing(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"
	img := pushImage(t, repo)

	envelope := []byte(`{"payload":"e30","protected":"e30","signature":"AA"}`)
	sigImg := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	sigImg = mutate.ConfigMediaType(sigImg, notationArtifactType)
	sigImg, err := mutate.Append(sigImg, mutate.Addendum{Layer: static.NewLayer(envelope, "application/jose+json"), MediaType: "application/jose+json"})
	if err != nil {
		t.Fatal(err)
	}
	sigImg = mutate.Subject(sigImg, img.desc).(v1.Image)
	sig := pushTaggable(t, repo, sigImg)

	f := &fakeNotation{answer: result.Signature{Verified: true, Identity: "CN=alice,O=Example", Covers: img.desc.Digest.String()}}
	got, err := Run(ctx, Target{Digest: img.ref}, Options{Notation: f})
	if err != nil {
		t.Fatal(err)
	}
	want := &result.SupplyChain{Digest: img.desc.Digest.String(), Verified: true, Trust: []string{"notation trust policy (" + notationArtifactType + ")"},
		Signatures: []result.Signature{{Kind: "notation", Source: "referrers", Digest: sig.desc.Digest.String(), Covers: img.desc.Digest.String(), Verified: true, Identity: "CN=alice,O=Example"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
	if f.subject.Digest != img.desc.Digest || !bytes.Equal(f.manifest, sig.raw) || !bytes.Equal(f.envelope, envelope) || f.mediaType != "application/jose+json" {
		t.Errorf("the verifier was handed subject %v, manifest %.60s, envelope %s, media type %q", f.subject, f.manifest, f.envelope, f.mediaType)
	}

	f = &fakeNotation{err: errors.New("identity mismatch")}
	got, err = Run(ctx, Target{Digest: img.ref}, Options{Notation: f})
	if err != nil {
		t.Fatal(err)
	}
	if got.Verified || len(got.Signatures) != 1 || got.Signatures[0].Error != "identity mismatch" {
		t.Errorf("a refusing verifier: %+v", got)
	}

	got, err = Run(ctx, Target{Digest: img.ref}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Verified || len(got.Signatures) != 1 || got.Signatures[0].Kind != "notation" || got.Signatures[0].Error != "no Notation trust policy configured" {
		t.Errorf("no verifier: %+v", got)
	}
}

// TestLayoutBuildKitIndex: an OCI layout as `docker buildx build --output
// type=oci` writes it (an index with the platform manifest and its BuildKit
// attestation manifest): the SLSA provenance is read from the layout as a
// hint (unverified), and the index is checked to list the manifest.
func TestLayoutBuildKitIndex(t *testing.T) {
	p1, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	p1d, _ := p1.Digest()
	att, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer:     static.NewLayer(statement(t, "https://slsa.dev/provenance/v0.2", p1d, `{"builder":{"id":"https://github.com/docker/buildx"},"buildType":"https://mobyproject.org/buildkit@v1","invocation":{"configSource":{"uri":"https://github.com/example/app.git#main","digest":{"sha1":"0123456789012345678901234567890123456789"}}}}`), inTotoMediaType),
		MediaType: inTotoMediaType, Annotations: map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	attd, _ := att.Digest()
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: p1, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
			Annotations: map[string]string{refTypeAnnotation: "attestation-manifest", refDigestAnnotation: p1d.String()}}})
	idxd, _ := idx.Digest()
	dir := t.TempDir()
	lp, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendIndex(idx); err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest("oci-layout.invalid/layout@" + p1d.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Run(context.Background(), Target{Digest: ref, IndexDigest: idxd.String(), LayoutDir: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := &result.SupplyChain{Digest: p1d.String(), IndexDigest: idxd.String(),
		Attestations: []result.Attestation{{PredicateType: "https://slsa.dev/provenance/v0.2", Source: "buildkit", Digest: attd.String(),
			Error: "unsigned (a BuildKit attestation manifest in the index): a hint, not proof"}},
		Provenance: []result.Provenance{{PredicateType: "https://slsa.dev/provenance/v0.2", BuilderID: "https://github.com/docker/buildx",
			BuildType: "https://mobyproject.org/buildkit@v1", SourceRepo: "https://github.com/example/app.git#main",
			SourceDigest: "sha1:0123456789012345678901234567890123456789"}},
		Problems: []string{"no trust configured (no key, keyless identity or Notation policy): signatures are listed but none can verify"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("-want +got:\n%s", diff)
	}
}
