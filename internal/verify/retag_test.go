package verify

import (
	"context"
	"crypto/tls"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drydock-scan/drydock/internal/testimage"
)

// TestDigestNotTag: on the real docker-registry with TLS and basic auth
// (the stage is handed the source's authenticated options), an image
// tagged :1.0 is signed, then :1.0 is moved to another image. The stage,
// given the first image's digest, verifies it, and the registry's access
// log shows it never asked for the tag: only manifests by digest and the
// tags derived from that digest (sha256-<hex>, .sig, .att).
func TestDigestNotTag(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	ca := testimage.MakeCA(t, t.TempDir())
	reg := testimage.StartRegistryWith(t, bin, testimage.RegistryOptions{CA: &ca, AccessLog: true})
	opts := []remote.Option{
		remote.WithAuth(&authn.Basic{Username: testimage.RegistryUser, Password: testimage.RegistryPassword}),
		remote.WithTransport(&http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}),
	}
	alice := newSigner(t)
	repo := reg.Host + "/team/app"
	tag, err := name.NewTag(repo + ":1.0")
	if err != nil {
		t.Fatal(err)
	}
	first, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, first, opts...); err != nil {
		t.Fatal(err)
	}
	d, _ := first.Digest()
	raw, _ := first.RawManifest()
	img := image{ref: tag.Context().Digest(d.String()), raw: raw}
	img.desc.Digest, img.desc.Size = d, int64(len(raw))
	img.desc.MediaType, _ = first.MediaType()
	layer := legacySig(t, alice, repo, d)
	layer.MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	sigImg := mutateAppend(t, layer)
	if err := remote.Write(tag.Context().Tag(strings.Replace(d.String(), ":", "-", 1)+".sig"), sigImg, opts...); err != nil {
		t.Fatal(err)
	}
	// The tag moves.
	second, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, second, opts...); err != nil {
		t.Fatal(err)
	}
	before := len(reg.Requests())

	got, err := Run(context.Background(), Target{Digest: img.ref, Remote: opts}, Options{KeyFiles: []string{alice.file}})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Verified || got.Digest != d.String() || len(got.Signatures) != 1 || got.Signatures[0].Covers != d.String() {
		t.Fatalf("the signed digest after its tag moved: %+v", got)
	}
	derived := regexp.MustCompile(`^/v2/team/app/(manifests/(sha256:[0-9a-f]{64}|` + regexp.QuoteMeta(strings.Replace(d.String(), ":", "-", 1)) + `(\.sig|\.att)?)|blobs/sha256:[0-9a-f]{64}|referrers/` + regexp.QuoteMeta(d.String()) + `)$`)
	reqs := reg.Requests()[before:]
	if len(reqs) == 0 {
		t.Fatal("no request logged: the access log is not working")
	}
	sawSig := false
	for _, r := range reqs {
		sawSig = sawSig || strings.HasSuffix(r.Path, ".sig")
		if r.Path == "/v2/" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			continue // the auth ping; the test's own pushes, logged late
		}
		if !derived.MatchString(r.Path) || strings.Contains(r.Path, ":1.0") || strings.HasSuffix(r.Path, "/1.0") {
			t.Errorf("%s %s (%d): not a digest or a tag derived from %s", r.Method, r.Path, r.Status, d)
		}
	}
	if !sawSig {
		t.Errorf("the .sig tag read is not in the access log: %v", reqs)
	}
}

func mutateAppend(t *testing.T, a mutate.Addendum) v1.Image {
	t.Helper()
	img, err := mutate.Append(mutate.MediaType(empty.Image, types.OCIManifestSchema1), a)
	if err != nil {
		t.Fatal(err)
	}
	return img
}
