package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/drydock-scan/drydock/internal/attest"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/verify/provenance"
)

// signer is a key generated in the test, its public key as a PEM file and
// the identity verify gives it ("key:sha256:…").
type signer struct {
	key      *ecdsa.PrivateKey
	file     string
	identity string
}

func newSigner(t testing.TB) signer {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "key.pub")
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(der)
	return signer{key: k, file: f, identity: "key:sha256:" + hex.EncodeToString(sum[:])}
}

// image is a pushed image: its digest reference, descriptor and manifest.
type image struct {
	ref  name.Digest
	desc v1.Descriptor
	raw  []byte
}

func pushImage(t testing.TB, repo string) image {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	return pushTaggable(t, repo, img)
}

type taggable interface {
	remote.Taggable
	MediaType() (types.MediaType, error)
	Digest() (v1.Hash, error)
}

func pushTaggable(t testing.TB, repo string, x taggable) image {
	t.Helper()
	d, err := x.Digest()
	if err != nil {
		t.Fatal(err)
	}
	r, err := name.NewRepository(repo)
	if err != nil {
		t.Fatal(err)
	}
	ref := r.Digest(d.String())
	switch v := x.(type) {
	case v1.ImageIndex:
		err = remote.WriteIndex(ref, v)
	case v1.Image:
		err = remote.Write(ref, v)
	}
	if err != nil {
		t.Fatal(err)
	}
	raw, err := x.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	mt, err := x.MediaType()
	if err != nil {
		t.Fatal(err)
	}
	return image{ref: ref, desc: v1.Descriptor{MediaType: mt, Digest: d, Size: int64(len(raw))}, raw: raw}
}

// signMessage makes a Sigstore bundle v0.3 whose message signature signs
// SHA-256(manifest): the manifest's digest.
func signMessage(t testing.TB, s signer, manifest []byte) []byte {
	t.Helper()
	kp, err := attest.Keypair(s.key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sign.Bundle(&sign.PlainData{Data: manifest}, kp, sign.BundleOptions{Context: context.Background()})
	if err != nil {
		t.Fatal(err)
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func attach(t testing.TB, subject image, bundle []byte, predicateType string) v1.Hash {
	t.Helper()
	h, err := attest.Attach(context.Background(), subject.ref, subject.desc, bundle, predicateType, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// pushLegacy pushes cosign's legacy sha256-<hex>.sig (or .att) manifest for
// subject with one layer per (content, annotations).
func pushLegacy(t testing.TB, subject image, suffix string, mt types.MediaType, layers ...mutate.Addendum) []v1.Hash {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	var digests []v1.Hash
	for _, a := range layers {
		a.MediaType = mt
		var err error
		img, err = mutate.Append(img, a)
		if err != nil {
			t.Fatal(err)
		}
		d, err := a.Layer.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	tag := subject.ref.Context().Tag(strings.Replace(subject.desc.Digest.String(), ":", "-", 1) + suffix)
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	return digests
}

// legacySig is one cosign simple-signing layer that signs digest.
func legacySig(t testing.TB, s signer, repo string, digest v1.Hash) mutate.Addendum {
	t.Helper()
	payload := []byte(`{"critical":{"identity":{"docker-reference":"` + repo + `"},"image":{"docker-manifest-digest":"` + digest.String() + `"},"type":"cosign container image signature"},"optional":null}`)
	sum := sha256.Sum256(payload)
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return mutate.Addendum{Layer: static.NewLayer(payload, "application/vnd.dev.cosign.simplesigning.v1+json"),
		Annotations: map[string]string{annSignature: base64.StdEncoding.EncodeToString(sig)}}
}

// statement is an in-toto statement about digest.
func statement(t testing.TB, predicateType string, digest v1.Hash, predicate string) []byte {
	t.Helper()
	return []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"img","digest":{"` + digest.Algorithm + `":"` + digest.Hex + `"}}],"predicateType":"` + predicateType + `","predicate":` + predicate + `}`)
}

const slsaV1 = `{"buildDefinition":{"buildType":"https://actions.github.io/buildtypes/workflow/v1","externalParameters":{"workflow":{"repository":"https://github.com/example/app"}},"resolvedDependencies":[{"uri":"git+https://github.com/example/app@refs/heads/main","digest":{"gitCommit":"0123456789abcdef0123456789abcdef01234567"}}]},"runDetails":{"builder":{"id":"https://github.com/actions/runner"}}}`

func signStatement(t testing.TB, s signer, st []byte) []byte {
	t.Helper()
	b, err := attest.Sign(context.Background(), st, s.key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tamper flips one byte of a bundle's DSSE payload.
func tamper(t testing.TB, bundle []byte) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	env := b["dsseEnvelope"].(map[string]any)
	p, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(p), "example/app")
	p[i] ^= 0x01
	env["payload"] = base64.StdEncoding.EncodeToString(p)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dsseOf is a bundle's DSSE envelope in its JSON form: what cosign's legacy
// .att layer holds.
func dsseOf(t testing.TB, bundle []byte) []byte {
	t.Helper()
	var b struct {
		DSSE json.RawMessage `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(bundle, &b); err != nil {
		t.Fatal(err)
	}
	return b.DSSE
}

func discardLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// matchErrors replaces got's Error and Problem strings by want's where
// got's contains want's: the expected values name a substring.
func matchErrors(want, got *result.SupplyChain) {
	if got == nil || want == nil {
		return
	}
	for i := range got.Signatures {
		if i < len(want.Signatures) && want.Signatures[i].Error != "" && strings.Contains(got.Signatures[i].Error, want.Signatures[i].Error) {
			got.Signatures[i].Error = want.Signatures[i].Error
		}
	}
	for i := range got.Attestations {
		if i < len(want.Attestations) && want.Attestations[i].Error != "" && strings.Contains(got.Attestations[i].Error, want.Attestations[i].Error) {
			got.Attestations[i].Error = want.Attestations[i].Error
		}
	}
	for i := range got.Problems {
		if i < len(want.Problems) && strings.Contains(got.Problems[i], want.Problems[i]) {
			got.Problems[i] = want.Problems[i]
		}
	}
	for i := range got.Trust {
		if i < len(want.Trust) && strings.HasPrefix(got.Trust[i], want.Trust[i]) {
			got.Trust[i] = want.Trust[i]
		}
	}
}

// TestRegistries: the verify stage on go-containerregistry's in-process
// registry (OCI 1.1 referrers API) and on the real CNCF distribution 2.8
// (docker-registry: no referrers API, so the sha256-<hex> tag fallback is
// what serves the list), with keys generated here.
func TestRegistries(t *testing.T) {
	registries := []struct {
		name, source string
		host         func(t *testing.T) string
		// fallback: the registry has no referrers API.
		fallback bool
	}{
		{name: "ggcr", source: "referrers", host: func(t *testing.T) string {
			srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
			t.Cleanup(srv.Close)
			return strings.TrimPrefix(srv.URL, "http://")
		}},
		{name: "distribution", source: "referrers-tag", fallback: true, host: func(t *testing.T) string {
			return testimage.StartRegistry(t, testimage.RegistryBinary(t), nil)
		}},
	}
	for _, reg := range registries {
		t.Run(reg.name, func(t *testing.T) {
			host := reg.host(t)
			testScenarios(t, host, reg.source, reg.fallback)
		})
	}
}

func testScenarios(t *testing.T, host, source string, fallback bool) {
	ctx := context.Background()
	alice, mallory := newSigner(t), newSigner(t)
	keyTrust := func(s signer) []string { return []string{"key " + strings.TrimPrefix(s.identity, "key:")} }
	noAPI := func(d v1.Hash) []string {
		if !fallback {
			return nil
		}
		return []string{"the registry has no OCI 1.1 referrers API: the " + strings.Replace(d.String(), ":", "-", 1) + " tag was read instead"}
	}
	repo := host + "/team/app"

	type scenario struct {
		name   string
		target func(t *testing.T) (Target, *result.SupplyChain)
		o      Options
	}
	scenarios := []scenario{
		{name: "bundle referrer signature", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			ref := attach(t, img, signMessage(t, alice, img.raw), "")
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Verified: true, Trust: keyTrust(alice),
				Signatures: []result.Signature{{Kind: "sigstore-bundle", Source: source, Digest: ref.String(), Covers: img.desc.Digest.String(), Verified: true, Identity: alice.identity}},
				Problems:   noAPI(img.desc.Digest)}
		}},
		{name: "cosign v3 DSSE signature", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			// cosign v3 signs an image as an in-toto statement of
			// predicate type https://sigstore.dev/cosign/sign/v1 about
			// the manifest digest: a signature, not only an attestation.
			img := pushImage(t, repo)
			ref := attach(t, img, signStatement(t, alice, statement(t, CosignSignPredicate, img.desc.Digest, `{}`)), CosignSignPredicate)
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Verified: true, Trust: keyTrust(alice),
				Signatures: []result.Signature{{Kind: "sigstore-bundle", Source: source, Digest: ref.String(), Covers: img.desc.Digest.String(), Verified: true, Identity: alice.identity}},
				Problems:   noAPI(img.desc.Digest)}
		}},
		{name: "legacy cosign .sig", o: Options{KeyFiles: []string{alice.file}, Require: true}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			layers := pushLegacy(t, img, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json", legacySig(t, alice, repo, img.desc.Digest))
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Verified: true, Required: true, Trust: keyTrust(alice),
				Signatures: []result.Signature{{Kind: "cosign-legacy", Source: "cosign-tag", Digest: layers[0].String(), Covers: img.desc.Digest.String(), Verified: true, Identity: alice.identity}},
				Problems:   noAPI(img.desc.Digest)}
		}},
		{name: "signatures for another digest", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img, other := pushImage(t, repo), pushImage(t, repo)
			ref := attach(t, img, signMessage(t, alice, other.raw), "")
			v3 := attach(t, img, signStatement(t, alice, statement(t, CosignSignPredicate, other.desc.Digest, `{}`)), CosignSignPredicate)
			layers := pushLegacy(t, img, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json", legacySig(t, alice, repo, other.desc.Digest))
			bundles := []result.Signature{
				{Kind: "sigstore-bundle", Source: source, Digest: ref.String(), Covers: img.desc.Digest.String(), Error: "artifact does not match digest"},
				{Kind: "sigstore-bundle", Source: source, Digest: v3.String(), Covers: img.desc.Digest.String(), Error: "do not include " + img.desc.Digest.String()},
			}
			if v3.String() < ref.String() {
				bundles[0], bundles[1] = bundles[1], bundles[0]
			}
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: keyTrust(alice),
				Signatures: []result.Signature{
					{Kind: "cosign-legacy", Source: "cosign-tag", Digest: layers[0].String(), Covers: img.desc.Digest.String(),
						// Alice did sign it, but another digest.
						Identity: alice.identity, Error: "the payload signs " + other.desc.Digest.String() + ", not " + img.desc.Digest.String()},
					bundles[0], bundles[1],
				},
				Problems: noAPI(img.desc.Digest)}
		}},
		{name: "wrong key", o: Options{KeyFiles: []string{mallory.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			ref := attach(t, img, signMessage(t, alice, img.raw), "")
			layers := pushLegacy(t, img, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json", legacySig(t, alice, repo, img.desc.Digest))
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: keyTrust(mallory),
				Signatures: []result.Signature{
					{Kind: "cosign-legacy", Source: "cosign-tag", Digest: layers[0].String(), Covers: img.desc.Digest.String(), Error: "verif"},
					{Kind: "sigstore-bundle", Source: source, Digest: ref.String(), Covers: img.desc.Digest.String(), Error: "verif"},
				},
				Problems: noAPI(img.desc.Digest)}
		}},
		{name: "no trust configured", target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			ref := attach(t, img, signMessage(t, alice, img.raw), "")
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(),
				Signatures: []result.Signature{{Kind: "sigstore-bundle", Source: source, Digest: ref.String(), Covers: img.desc.Digest.String(), Error: "nothing to verify this signature against"}},
				Problems:   append([]string{"no trust configured"}, noAPI(img.desc.Digest)...)}
		}},
		{name: "attestations: signed, tampered, legacy .att", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			good := signStatement(t, alice, statement(t, provenance.SLSAv1, img.desc.Digest, slsaV1))
			goodRef := attach(t, img, good, provenance.SLSAv1)
			badRef := attach(t, img, tamper(t, signStatement(t, alice, statement(t, provenance.SLSAv1, img.desc.Digest, slsaV1))), provenance.SLSAv1)
			vuln := signStatement(t, alice, statement(t, "https://cosign.sigstore.dev/attestation/vuln/v1", img.desc.Digest, `{}`))
			layers := pushLegacy(t, img, ".att", "application/vnd.dsse.envelope.v1+json",
				mutate.Addendum{Layer: static.NewLayer(dsseOf(t, vuln), "application/vnd.dsse.envelope.v1+json"), Annotations: map[string]string{annSignature: ""}})
			prov := result.Provenance{PredicateType: provenance.SLSAv1, Verified: true, BuilderID: "https://github.com/actions/runner",
				BuildType: "https://actions.github.io/buildtypes/workflow/v1", SourceRepo: "https://github.com/example/app",
				SourceDigest: "sha1:0123456789abcdef0123456789abcdef01234567",
				Materials:    []string{"git+https://github.com/example/app@refs/heads/main?digest=gitCommit:0123456789abcdef0123456789abcdef01234567"}}
			atts := []result.Attestation{
				{PredicateType: "https://cosign.sigstore.dev/attestation/vuln/v1", Source: "cosign-tag", Digest: layers[0].String(), Verified: true, Identity: alice.identity},
				{PredicateType: provenance.SLSAv1, Source: source, Digest: goodRef.String(), Verified: true, Identity: alice.identity},
				{PredicateType: provenance.SLSAv1, Source: source, Digest: badRef.String(), Error: "verif"},
			}
			if badRef.String() < goodRef.String() {
				atts[1], atts[2] = atts[2], atts[1]
			}
			// An attestation is not a signature of the image: Verified
			// stays false with no signature.
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: keyTrust(alice),
				Attestations: atts, Provenance: []result.Provenance{prov}, Problems: noAPI(img.desc.Digest)}
		}},
		{name: "signed provenance that does not parse", o: Options{KeyFiles: []string{alice.file}}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			ref := attach(t, img, signStatement(t, alice, statement(t, provenance.SLSAv1, img.desc.Digest, `{"runDetails":{"metadata":{"startedOn":"yesterday"}}}`)), provenance.SLSAv1)
			return Target{Digest: img.ref}, &result.SupplyChain{Digest: img.desc.Digest.String(), Trust: keyTrust(alice),
				Attestations: []result.Attestation{{PredicateType: provenance.SLSAv1, Source: source, Digest: ref.String(), Verified: true, Identity: alice.identity}},
				Problems:     append(noAPI(img.desc.Digest), `the https://slsa.dev/provenance/v1 statement's provenance could not be read: reading provenance: runDetails.metadata.startedOn "yesterday"`)}
		}},
		{name: "capped", o: Options{KeyFiles: []string{alice.file}, MaxReferrers: 2}, target: func(t *testing.T) (Target, *result.SupplyChain) {
			img := pushImage(t, repo)
			for range 3 {
				attach(t, img, signMessage(t, alice, img.raw), "")
			}
			sc := &result.SupplyChain{Digest: img.desc.Digest.String(), Verified: true, Trust: keyTrust(alice),
				Problems: append(noAPI(img.desc.Digest), "discovery capped at 2 artifacts: 1 more were not examined")}
			return Target{Digest: img.ref}, sc
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			target, want := sc.target(t)
			got, err := Run(ctx, target, sc.o)
			if err != nil {
				t.Fatal(err)
			}
			if sc.name == "capped" {
				// Which two of the three are examined is the registry's
				// order: check the count, then drop them from the diff.
				if len(got.Signatures) != 2 {
					t.Errorf("%d signatures examined, want 2 (the cap)", len(got.Signatures))
				}
				for _, s := range got.Signatures {
					if !s.Verified {
						t.Errorf("signature %s not verified: %s", s.Digest, s.Error)
					}
				}
				got.Signatures = nil
			}
			matchErrors(want, got)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("SupplyChain -want +got:\n%s", d)
			}
		})
	}

	t.Run("index signature", func(t *testing.T) {
		p1, err := random.Image(128, 1)
		if err != nil {
			t.Fatal(err)
		}
		p2, err := random.Image(128, 1)
		if err != nil {
			t.Fatal(err)
		}
		p1d, _ := p1.Digest()
		stmt := statement(t, provenance.SLSAv1, p1d, slsaV1)
		att := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
		att, err = mutate.Append(att, mutate.Addendum{Layer: static.NewLayer(stmt, inTotoMediaType), MediaType: inTotoMediaType,
			Annotations: map[string]string{"in-toto.io/predicate-type": provenance.SLSAv1}})
		if err != nil {
			t.Fatal(err)
		}
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
			mutate.IndexAddendum{Add: p1, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
			mutate.IndexAddendum{Add: p2, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64"}}},
			mutate.IndexAddendum{Add: att, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"},
				Annotations: map[string]string{refTypeAnnotation: "attestation-manifest", refDigestAnnotation: p1d.String()}}})
		index := pushTaggable(t, repo, idx)
		attd, _ := att.Digest()
		ref := attach(t, index, signMessage(t, alice, index.raw), "")
		// A legacy signature under the platform manifest's .sig tag whose
		// payload names the listing index covers it too.
		p1raw, _ := p1.RawManifest()
		p1img := image{ref: index.ref.Context().Digest(p1d.String()), desc: v1.Descriptor{MediaType: types.DockerManifestSchema2, Digest: p1d, Size: int64(len(p1raw))}, raw: p1raw}
		layers := pushLegacy(t, p1img, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json", legacySig(t, alice, repo, index.desc.Digest))
		target := Target{Digest: index.ref.Context().Digest(p1d.String()), IndexDigest: index.desc.Digest.String()}
		got, err := Run(ctx, target, Options{KeyFiles: []string{alice.file}})
		if err != nil {
			t.Fatal(err)
		}
		hint := result.Provenance{PredicateType: provenance.SLSAv1, BuilderID: "https://github.com/actions/runner",
			BuildType: "https://actions.github.io/buildtypes/workflow/v1", SourceRepo: "https://github.com/example/app",
			SourceDigest: "sha1:0123456789abcdef0123456789abcdef01234567",
			Materials:    []string{"git+https://github.com/example/app@refs/heads/main?digest=gitCommit:0123456789abcdef0123456789abcdef01234567"}}
		want := &result.SupplyChain{Digest: p1d.String(), IndexDigest: index.desc.Digest.String(), Verified: true, Trust: keyTrust(alice),
			Signatures: []result.Signature{
				{Kind: "cosign-legacy", Source: "cosign-tag", Digest: layers[0].String(), Covers: index.desc.Digest.String(), Verified: true, Identity: alice.identity},
				{Kind: "sigstore-bundle", Source: source, Digest: ref.String(), Covers: index.desc.Digest.String(), Verified: true, Identity: alice.identity},
			},
			Attestations: []result.Attestation{{PredicateType: provenance.SLSAv1, Source: "buildkit", Digest: attd.String(), Error: "unsigned"}},
			Provenance:   []result.Provenance{hint},
			Problems:     append(noAPI(p1d), noAPI(index.desc.Digest)...)}
		matchErrors(want, got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("platform manifest listed by a signed index: -want +got:\n%s", d)
		}

		// A manifest the index does not list: the index's signature does
		// not cover it.
		stray := pushImage(t, repo)
		strayLayers := pushLegacy(t, stray, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json", legacySig(t, alice, repo, index.desc.Digest))
		got, err = Run(ctx, Target{Digest: stray.ref, IndexDigest: index.desc.Digest.String()}, Options{KeyFiles: []string{alice.file}})
		if err != nil {
			t.Fatal(err)
		}
		want = &result.SupplyChain{Digest: stray.desc.Digest.String(), IndexDigest: index.desc.Digest.String(), Trust: keyTrust(alice),
			Signatures: []result.Signature{{Kind: "cosign-legacy", Source: "cosign-tag", Digest: strayLayers[0].String(), Covers: stray.desc.Digest.String(), Identity: alice.identity,
				Error: "the payload signs " + index.desc.Digest.String() + ", not " + stray.desc.Digest.String()}},
			Problems: append([]string{"the index " + index.desc.Digest.String() + " does not list " + stray.desc.Digest.String()}, noAPI(stray.desc.Digest)...)}
		matchErrors(want, got)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("manifest not listed by the signed index: -want +got:\n%s", d)
		}
	})
}
