package verify

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
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
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drydock-scan/drydock/internal/attest"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/verify/provenance"
)

// TestAdversarialRegistry: what a registry that serves what it likes (but
// holds no trusted key) can make the stage say. Every case is checked with
// cmp.Diff on the whole SupplyChain; none may end Verified unless a
// signature by a trusted key covers exactly the scanned digest.
func TestAdversarialRegistry(t *testing.T) {
	ctx := context.Background()
	alice, mallory := newSigner(t), newSigner(t)
	keyTrust := func(ss ...signer) []string {
		var out []string
		for _, s := range ss {
			out = append(out, "key "+strings.TrimPrefix(s.identity, "key:"))
		}
		return out
	}
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"

	multi := func(t *testing.T, d ...v1.Hash) []byte {
		var subs []string
		for i, h := range d {
			subs = append(subs, `{"name":"img`+itoa(i)+`","digest":{"`+h.Algorithm+`":"`+h.Hex+`"}}`)
		}
		return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[` + strings.Join(subs, ",") + `],"predicateType":"` + provenance.SLSAv1 + `","predicate":` + slsaV1 + `}`)
	}
	prov := result.Provenance{PredicateType: provenance.SLSAv1, Verified: true, BuilderID: "https://github.com/actions/runner",
		BuildType: "https://actions.github.io/buildtypes/workflow/v1", SourceRepo: "https://github.com/example/app",
		SourceDigest: "sha1:0123456789abcdef0123456789abcdef01234567",
		Materials:    []string{"git+https://github.com/example/app@refs/heads/main?digest=gitCommit:0123456789abcdef0123456789abcdef01234567"}}

	tests := []struct {
		name   string
		o      Options
		target func(t *testing.T) (Target, *result.SupplyChain)
	}{
		{name: "provenance signed by the trusted key for another image", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img, other := pushImage(t, repo), pushImage(t, repo)
			ref := attach(t, img, signStatement(t, alice, statement(t, provenance.SLSAv1, other.desc.Digest, slsaV1)), provenance.SLSAv1)
			att := pushLegacy(t, img, ".att", "application/vnd.dsse.envelope.v1+json", mutate.Addendum{
				Layer:       static.NewLayer(dsseOf(t, signStatement(t, alice, statement(t, provenance.SLSAv1, other.desc.Digest, slsaV1))), "application/vnd.dsse.envelope.v1+json"),
				Annotations: map[string]string{annSignature: ""}})
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: keyTrust(alice),
				Attestations: []result.Attestation{
					{PredicateType: provenance.SLSAv1, Source: "cosign-tag", Digest: att[0].String(), Error: "does not match"},
					{PredicateType: provenance.SLSAv1, Source: "referrers", Digest: ref.String(), Error: "does not match"},
				}}
		}},
		{name: "statement with several subjects, one of them the image (in-toto: it is about each)", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img, other := pushImage(t, repo), pushImage(t, repo)
			ref := attach(t, img, signStatement(t, alice, multi(t, other.desc.Digest, img.desc.Digest)), provenance.SLSAv1)
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: keyTrust(alice),
				Attestations: []result.Attestation{{PredicateType: provenance.SLSAv1, Source: "referrers", Digest: ref.String(), Verified: true, Identity: alice.identity}},
				Provenance:   []result.Provenance{prov}}
		}},
		{name: "statement with several subjects, none the image", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img, o1, o2 := pushImage(t, repo), pushImage(t, repo), pushImage(t, repo)
			ref := attach(t, img, signStatement(t, alice, multi(t, o1.desc.Digest, o2.desc.Digest)), provenance.SLSAv1)
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: keyTrust(alice),
				Attestations: []result.Attestation{{PredicateType: provenance.SLSAv1, Source: "referrers", Digest: ref.String(), Error: "does not match"}}}
		}},
		{name: "subject with the image's hex under another algorithm", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			ref := attach(t, img, signStatement(t, alice, multi(t, v1.Hash{Algorithm: "sha512", Hex: img.desc.Digest.Hex})), provenance.SLSAv1)
			sig := attach(t, img, signStatement(t, alice, []byte(strings.Replace(string(statement(t, CosignSignPredicate, img.desc.Digest, `{}`)), `"sha256"`, `"sha384"`, 1))), CosignSignPredicate)
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: keyTrust(alice),
				Signatures:   []result.Signature{{Kind: "sigstore-bundle", Source: "referrers", Digest: sig.String(), Covers: img.desc.Digest.String(), Error: "does not match"}},
				Attestations: []result.Attestation{{PredicateType: provenance.SLSAv1, Source: "referrers", Digest: ref.String(), Error: "does not match"}}}
		}},
		{name: "several keys: the signer is the key that verified", o: Options{KeyFiles: []string{mallory.file, alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			ref := attach(t, img, signMessage(t, alice, img.raw), "")
			layers := pushLegacy(t, img, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json", legacySig(t, alice, repo, img.desc.Digest))
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Verified: true, Trust: keyTrust(mallory, alice),
				Signatures: []result.Signature{
					{Kind: "cosign-legacy", Source: "cosign-tag", Digest: layers[0].String(), Covers: img.desc.Digest.String(), Verified: true, Identity: alice.identity},
					{Kind: "sigstore-bundle", Source: "referrers", Digest: ref.String(), Covers: img.desc.Digest.String(), Verified: true, Identity: alice.identity},
				}}
		}},
		{name: "legacy payload naming another repository (cosign checks only the digest too)", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			layers := pushLegacy(t, img, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json", legacySig(t, alice, "elsewhere.example/other/repo", img.desc.Digest))
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Verified: true, Trust: keyTrust(alice),
				Signatures: []result.Signature{{Kind: "cosign-legacy", Source: "cosign-tag", Digest: layers[0].String(), Covers: img.desc.Digest.String(), Verified: true, Identity: alice.identity}}}
		}},
		{name: "caps at their largest values do not overflow into refusing everything", o: Options{KeyFiles: []string{alice.file}, MaxBlobSize: math.MaxInt64, MaxReferrers: math.MaxInt}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			ref := attach(t, img, signMessage(t, alice, img.raw), "")
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Verified: true, Trust: keyTrust(alice),
				Signatures: []result.Signature{{Kind: "sigstore-bundle", Source: "referrers", Digest: ref.String(), Covers: img.desc.Digest.String(), Verified: true, Identity: alice.identity}}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, want := tc.target(t)
			got, err := Run(ctx, target, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			matchErrors(want, got)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("SupplyChain -want +got:\n%s", d)
			}
		})
	}
}

// TestAdversarialIndex: signatures and attestations found for a platform
// manifest reached through an index may name the platform manifest or the
// index that lists it (either alone); a statement naming only a manifest
// the index does not list covers nothing.
func TestAdversarialIndex(t *testing.T) {
	ctx := context.Background()
	alice := newSigner(t)
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"

	p1, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: p1, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: p2, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}})
	index := pushTaggable(t, repo, idx)
	p1img := pushTaggable(t, repo, p1)
	stray := pushImage(t, repo)

	p1Only := signStatement(t, alice, statement(t, provenance.SLSAv1, p1img.desc.Digest, slsaV1))
	indexOnly := signStatement(t, alice, statement(t, "https://example.com/index-only/v1", index.desc.Digest, `{}`))
	strayOnly := signStatement(t, alice, statement(t, "https://example.com/stray/v1", stray.desc.Digest, `{}`))
	sigP1 := attach(t, p1img, signStatement(t, alice, statement(t, CosignSignPredicate, p1img.desc.Digest, `{}`)), CosignSignPredicate)
	sigIndex := attach(t, p1img, signStatement(t, alice, statement(t, CosignSignPredicate, index.desc.Digest, `{}`)), CosignSignPredicate)
	att := pushLegacy(t, p1img, ".att", "application/vnd.dsse.envelope.v1+json",
		mutate.Addendum{Layer: static.NewLayer(dsseOf(t, p1Only), "application/vnd.dsse.envelope.v1+json"), Annotations: map[string]string{annSignature: ""}},
		mutate.Addendum{Layer: static.NewLayer(dsseOf(t, indexOnly), "application/vnd.dsse.envelope.v1+json"), Annotations: map[string]string{annSignature: ""}},
		mutate.Addendum{Layer: static.NewLayer(dsseOf(t, strayOnly), "application/vnd.dsse.envelope.v1+json"), Annotations: map[string]string{annSignature: ""}})

	got, err := Run(ctx, Target{Digest: p1img.ref, IndexDigest: index.desc.Digest.String()}, Options{KeyFiles: []string{alice.file}})
	if err != nil {
		t.Fatal(err)
	}
	prov := result.Provenance{PredicateType: provenance.SLSAv1, Verified: true, BuilderID: "https://github.com/actions/runner",
		BuildType: "https://actions.github.io/buildtypes/workflow/v1", SourceRepo: "https://github.com/example/app",
		SourceDigest: "sha1:0123456789abcdef0123456789abcdef01234567",
		Materials:    []string{"git+https://github.com/example/app@refs/heads/main?digest=gitCommit:0123456789abcdef0123456789abcdef01234567"}}
	want := &result.SupplyChain{Digest: p1img.desc.Digest.String(), IndexDigest: index.desc.Digest.String(), Verified: true,
		Trust: []string{"key " + strings.TrimPrefix(alice.identity, "key:")},
		Signatures: []result.Signature{
			{Kind: "sigstore-bundle", Source: "referrers", Digest: sigIndex.String(), Covers: index.desc.Digest.String(), Verified: true, Identity: alice.identity},
			{Kind: "sigstore-bundle", Source: "referrers", Digest: sigP1.String(), Covers: p1img.desc.Digest.String(), Verified: true, Identity: alice.identity},
		},
		Attestations: []result.Attestation{
			{PredicateType: "https://example.com/index-only/v1", Source: "cosign-tag", Digest: att[1].String(), Verified: true, Identity: alice.identity},
			{PredicateType: "https://example.com/stray/v1", Source: "cosign-tag", Digest: att[2].String(), Error: "does not match"},
			{PredicateType: provenance.SLSAv1, Source: "cosign-tag", Digest: att[0].String(), Verified: true, Identity: alice.identity},
		},
		Provenance: []result.Provenance{prov}}
	if want.Signatures[0].Covers > want.Signatures[1].Covers {
		want.Signatures[0], want.Signatures[1] = want.Signatures[1], want.Signatures[0]
	}
	matchErrors(want, got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SupplyChain -want +got:\n%s", d)
	}
}

// TestAdversarialForgedIndex: the registry answers the index's digest with
// another index, one that lists the scanned (stray) manifest; the stray
// manifest's signature names the real, signed index. The forged index is
// refused (its content has another digest), so nothing covers the stray
// manifest.
func TestAdversarialForgedIndex(t *testing.T) {
	ctx := context.Background()
	alice := newSigner(t)
	var forgedPath string
	var forged []byte
	inner := registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if forgedPath == "" || r.URL.Path != forgedPath {
			inner.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", string(types.OCIImageIndex))
		w.Header().Set("Docker-Content-Digest", strings.TrimPrefix(forgedPath, "/v2/team/app/manifests/"))
		w.Header().Set("Content-Length", itoa(len(forged)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(forged)
		}
	}))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"

	p1, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	index := pushTaggable(t, repo, mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex), mutate.IndexAddendum{Add: p1}))
	stray := pushImage(t, repo)
	layers := pushLegacy(t, stray, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json", legacySig(t, alice, repo, index.desc.Digest))
	forged, err = json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{stray.desc}})
	if err != nil {
		t.Fatal(err)
	}
	forgedPath = "/v2/team/app/manifests/" + index.desc.Digest.String()

	got, err := Run(ctx, Target{Digest: stray.ref, IndexDigest: index.desc.Digest.String()}, Options{KeyFiles: []string{alice.file}})
	if err != nil {
		t.Fatal(err)
	}
	want := &result.SupplyChain{Digest: stray.desc.Digest.String(), IndexDigest: index.desc.Digest.String(), Trust: []string{"key " + strings.TrimPrefix(alice.identity, "key:")},
		Signatures: []result.Signature{{Kind: "cosign-legacy", Source: "cosign-tag", Digest: layers[0].String(), Covers: stray.desc.Digest.String(), Identity: alice.identity,
			Error: "the payload signs " + index.desc.Digest.String() + ", not " + stray.desc.Digest.String()}},
		Problems: []string{"reading the index " + index.desc.Digest.String()}}
	matchErrors(want, got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SupplyChain -want +got:\n%s", d)
	}
	t.Logf("problems: %q", got.Problems)
}

// TestAdversarialReferrerSubject: on a registry without the referrers API
// the sha256-<hex> tag is whatever the registry says; a valid signature of
// another image listed there (its manifest's subject is the other image)
// is skipped, never verified.
func TestAdversarialReferrerSubject(t *testing.T) {
	ctx := context.Background()
	alice := newSigner(t)
	srv := httptest.NewServer(registry.New(registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"
	img, other := pushImage(t, repo), pushImage(t, repo)
	ref := attach(t, other, signMessage(t, alice, other.raw), "")

	// The tag for img lists other's signature.
	refRaw, err := remote.Get(other.ref.Context().Digest(ref.String()))
	if err != nil {
		t.Fatal(err)
	}
	list, err := json.Marshal(v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex, Manifests: []v1.Descriptor{
		{MediaType: types.OCIManifestSchema1, ArtifactType: attest.BundleMediaType, Digest: ref, Size: int64(len(refRaw.Manifest))}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Put(img.ref.Context().Tag(strings.Replace(img.desc.Digest.String(), ":", "-", 1)), rawIndex(list)); err != nil {
		t.Fatal(err)
	}
	got, err := Run(ctx, Target{Digest: img.ref}, Options{KeyFiles: []string{alice.file}})
	if err != nil {
		t.Fatal(err)
	}
	want := &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: []string{"key " + strings.TrimPrefix(alice.identity, "key:")},
		Problems: []string{"the registry has no OCI 1.1 referrers API", "referrer " + ref.String() + " listed for " + img.desc.Digest.String() + " (referrers-tag) does not name it as its subject: skipped"}}
	matchErrors(want, got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SupplyChain -want +got:\n%s", d)
	}
}

// rawIndex is an image index pushed as its bytes.
type rawIndex []byte

func (r rawIndex) RawManifest() ([]byte, error)        { return r, nil }
func (r rawIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }

// TestAdversarialNotationCovers: a Notation verifier that answers
// "verified" for another digest than the subject it was handed is not
// believed.
func TestAdversarialNotationCovers(t *testing.T) {
	ctx := context.Background()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"
	img, other := pushImage(t, repo), pushImage(t, repo)
	sigImg := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), notationArtifactType)
	sigImg, err := mutate.Append(sigImg, mutate.Addendum{Layer: static.NewLayer([]byte(`{}`), "application/jose+json"), MediaType: "application/jose+json"})
	if err != nil {
		t.Fatal(err)
	}
	sig := pushTaggable(t, repo, mutate.Subject(sigImg, img.desc).(v1.Image))

	for _, tc := range []struct {
		name   string
		covers string
		want   result.Signature
	}{
		{name: "covers the subject", covers: img.desc.Digest.String(),
			want: result.Signature{Kind: "notation", Source: "referrers", Digest: sig.desc.Digest.String(), Covers: img.desc.Digest.String(), Verified: true, Identity: "CN=alice"}},
		{name: "covers another digest", covers: other.desc.Digest.String(),
			want: result.Signature{Kind: "notation", Source: "referrers", Digest: sig.desc.Digest.String(), Covers: other.desc.Digest.String(), Identity: "CN=alice",
				Error: "the Notation verifier verified a signature of " + other.desc.Digest.String() + ", not of " + img.desc.Digest.String()}},
		{name: "says nothing of what it covers", covers: "",
			want: result.Signature{Kind: "notation", Source: "referrers", Digest: sig.desc.Digest.String(), Covers: img.desc.Digest.String(), Identity: "CN=alice",
				Error: "the Notation verifier verified a signature of , not of " + img.desc.Digest.String()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeNotation{answer: result.Signature{Verified: true, Identity: "CN=alice", Covers: tc.covers}}
			got, err := Run(ctx, Target{Digest: img.ref}, Options{Notation: f})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff([]result.Signature{tc.want}, got.Signatures); d != "" || got.Verified != tc.want.Verified {
				t.Errorf("verified %v; signatures -want +got:\n%s", got.Verified, d)
			}
		})
	}
}

// TestAdversarialKeyless: keyless signatures from sigstore-go's virtual
// Sigstore. A subject or issuer regexp matches the whole value (sigstore-go
// alone would find it anywhere in the value: ".*@example\.com" would take
// "evil@example.com.attacker.example"); a signature with no log entry does
// not verify at the default threshold (1), even with a timestamp.
func TestAdversarialKeyless(t *testing.T) {
	ctx := context.Background()
	vs, rootPath := virtualSigstore(t)
	const issuer = "https://accounts.example"
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"

	signed := func(t *testing.T, identity string, drop ...string) image {
		img := pushImage(t, repo)
		payload := []byte(`{"critical":{"identity":{"docker-reference":"` + repo + `"},"image":{"docker-manifest-digest":"` + img.desc.Digest.String() + `"},"type":"cosign container image signature"},"optional":null}`)
		ann := signKeyless(t, vs, identity, issuer, payload).annotations(t)
		for _, k := range drop {
			delete(ann, k)
		}
		pushLegacy(t, img, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json",
			mutate.Addendum{Layer: static.NewLayer(payload, "application/vnd.dev.cosign.simplesigning.v1+json"), Annotations: ann})
		return img
	}
	alice := signed(t, "alice@example.com")
	evil := signed(t, "evil@example.com.attacker.example")
	evilIssuer := signed(t, "alice@example.com")
	noTlog := signed(t, "alice@example.com", annRekorBundle)

	re := func(subject, issuer string) Options {
		return Options{TrustedRoot: rootPath, Identities: []Identity{{IssuerRegexp: issuer, SubjectRegexp: subject}}}
	}
	tests := []struct {
		name     string
		img      image
		o        Options
		verified bool
		err      string
	}{
		{name: "unanchored subject regexp, the signer it means", img: alice, o: re(`.*@example\.com`, `https://accounts\.example`), verified: true},
		{name: "unanchored subject regexp, a longer identity", img: evil, o: re(`.*@example\.com`, `https://accounts\.example`), err: "no matching CertificateIdentity"},
		{name: "subject regexp matching a prefix", img: evil, o: re(`evil@example\.com`, `https://accounts\.example`), err: "no matching CertificateIdentity"},
		{name: "issuer regexp matching a part", img: evilIssuer, o: re(`alice@example\.com`, `accounts`), err: "no matching CertificateIdentity"},
		{name: "anchored by the user still works", img: alice, o: re(`^.*@example\.com$`, `^https://accounts\.example$`), verified: true},
		{name: "no log entry at the default threshold", img: noTlog, o: Options{TrustedRoot: rootPath, Identities: []Identity{{Issuer: issuer, Subject: "alice@example.com"}}}, err: "not enough verified log entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Run(ctx, Target{Digest: tc.img.ref}, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Signatures) != 1 {
				t.Fatalf("%d signatures, want 1: %+v", len(got.Signatures), got)
			}
			s := got.Signatures[0]
			if s.Verified != tc.verified || got.Verified != tc.verified || !strings.Contains(s.Error, tc.err) {
				t.Errorf("verified %v (supply chain %v), error %q; want verified %v, an error saying %q", s.Verified, got.Verified, s.Error, tc.verified, tc.err)
			}
		})
	}
}

// TestAdversarialLayoutDigestAlgorithm: a layout whose index.json names a
// digest with a path in its algorithm ("../../outside:<hex>") does not make
// the stage open a file outside the layout's blobs.
func TestAdversarialLayoutDigestAlgorithm(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "layout")
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	const hexName = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if err := os.MkdirAll(filepath.Join(root, "outside"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "outside", hexName), []byte(`{"secret":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	idx, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var im map[string]any
	if err := json.Unmarshal(idx, &im); err != nil {
		t.Fatal(err)
	}
	im["manifests"] = append(im["manifests"].([]any), map[string]any{"mediaType": string(types.OCIManifestSchema1), "digest": "../../outside:" + hexName, "size": 15})
	idx, err = json.Marshal(im)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o600); err != nil {
		t.Fatal(err)
	}
	ref, err := name.NewDigest("example.com/app@" + d.String())
	if err != nil {
		t.Fatal(err)
	}
	got, err := Run(context.Background(), Target{Digest: ref, LayoutDir: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// go-containerregistry refuses the algorithm when index.json is
	// parsed: the layout is unreadable, nothing is verified.
	bad := `unsupported hash: "../../outside"`
	want := &result.SupplyChain{Digest: d.String(), Problems: []string{"no trust configured", bad, bad, bad}}
	matchErrors(want, got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SupplyChain -want +got:\n%s", d)
	}

	// And the store itself refuses such a digest, however it was made.
	s := &layoutStore{dir: dir, max: DefaultMaxBlobSize, maxEntries: DefaultMaxReferrers}
	for _, h := range []v1.Hash{{Algorithm: "../../outside", Hex: hexName}, {Algorithm: "sha256", Hex: "../../outside/" + hexName}, {Algorithm: "", Hex: hexName}} {
		_, err := s.read("blob", h, 0)
		if err == nil || !strings.Contains(err.Error(), "bad digest") {
			t.Errorf("layout read of %q: %v, want a bad digest error", h, err)
		}
	}
}

// TestAdversarialBuildKitUnlisted: BuildKit attestation manifests of an
// index that does not list the scanned manifest are not read, not even as
// hints.
func TestAdversarialBuildKitUnlisted(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"
	p1, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	stray := pushImage(t, repo)
	att, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), mutate.Addendum{
		Layer: static.NewLayer(statement(t, provenance.SLSAv1, stray.desc.Digest, slsaV1), inTotoMediaType), MediaType: inTotoMediaType,
		Annotations: map[string]string{"in-toto.io/predicate-type": provenance.SLSAv1}})
	if err != nil {
		t.Fatal(err)
	}
	index := pushTaggable(t, repo, mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: p1},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Annotations: map[string]string{refTypeAnnotation: "attestation-manifest", refDigestAnnotation: stray.desc.Digest.String()}}}))
	got, err := Run(context.Background(), Target{Digest: stray.ref, IndexDigest: index.desc.Digest.String()}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := &result.SupplyChain{Digest: stray.desc.Digest.String(), IndexDigest: index.desc.Digest.String(),
		Problems: []string{"no trust configured", "the index " + index.desc.Digest.String() + " does not list " + stray.desc.Digest.String()}}
	matchErrors(want, got)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("SupplyChain -want +got:\n%s", d)
	}
}

// TestAdversarialBuildKitLayersCapped: the in-toto layers of a BuildKit
// attestation manifest count against MaxReferrers: a manifest listing
// thousands of layers cannot make the stage fetch thousands of blobs.
func TestAdversarialBuildKitLayersCapped(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"
	p1, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	p1d, _ := p1.Digest()
	att := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	for i := range 4 {
		att, err = mutate.Append(att, mutate.Addendum{
			Layer:     static.NewLayer(statement(t, "https://example.com/p"+itoa(i)+"/v1", p1d, `{}`), inTotoMediaType),
			MediaType: inTotoMediaType})
		if err != nil {
			t.Fatal(err)
		}
	}
	index := pushTaggable(t, repo, mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: p1},
		mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Annotations: map[string]string{refTypeAnnotation: "attestation-manifest", refDigestAnnotation: p1d.String()}}}))
	got, err := Run(context.Background(), Target{Digest: index.ref.Context().Digest(p1d.String()), IndexDigest: index.desc.Digest.String()}, Options{MaxReferrers: 3})
	if err != nil {
		t.Fatal(err)
	}
	// The manifest and two of its layers: 3.
	if len(got.Attestations) != 2 || !slices.ContainsFunc(got.Problems, func(p string) bool { return strings.Contains(p, "discovery capped at 3 artifacts: 2 more") }) {
		t.Errorf("%d attestations read, problems %q; want 2 and a cap problem saying 2 more", len(got.Attestations), got.Problems)
	}
}
