package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/testimage"
)

// TestRetagDuringScan (issue 17): the tag is moved to another image right
// after drydock resolved it — between the verify stage and the layer walk —
// and the scan is still of the verified digest, not of what the tag names
// now. A proxy in front of Debian's docker-registry re-tags the image the
// moment the first request naming the tag has been answered by the
// registry, before that answer reaches drydock.
func TestRetagDuringScan(t *testing.T) {
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{})
	ref, digest := pushAlpine(t, reg.Host)
	priv, pub := keyFiles(t)
	signAndAttach(t, priv, ref, digest, cosignSignPredicate, map[string]any{})

	// The image the tag is moved to: the same Alpine layer plus lodash
	// 4.17.15 (its own findings), unsigned; its blobs are pushed first.
	moved := appImage(t, mustImage(t, ref))
	movedDigest, err := moved.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(mustTag(t, reg.Host+"/team/alpine:staging"), moved); err != nil {
		t.Fatal(err)
	}

	backend, err := url.Parse("http://" + reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(backend)
	var once sync.Once
	retagged := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v2/team/alpine/manifests/3.16.9" {
			proxy.ServeHTTP(w, r)
			return
		}
		// Answer from the registry, move the tag, then reply.
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		once.Do(func() {
			if err := remote.Tag(mustTag(t, reg.Host+"/team/alpine:3.16.9"), moved); err != nil {
				t.Errorf("moving the tag: %v", err)
			}
			retagged = true
		})
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")

	out := filepath.Join(t.TempDir(), "report.json")
	res := drydock(t, "image", "--db", testDB, "--verify-key", pub, "--require-signature", "--format", "json="+out, host+"/team/alpine:3.16.9")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if !retagged {
		t.Fatal("the proxy never moved the tag: the test proves nothing")
	}
	rep := readJSONReport(t, out)
	if rep.Image.Digest != digest.String() || rep.SupplyChain == nil || rep.SupplyChain.Digest != digest.String() || !rep.SupplyChain.Verified {
		t.Errorf("scanned %s, verified %+v; want both the signed %s", rep.Image.Digest, rep.SupplyChain, digest)
	}
	for _, f := range rep.Findings {
		if f.Package.Name == "lodash" {
			t.Errorf("a finding of the moved-to image: %s in %s", f.ID, f.Package.Name)
		}
	}
	// The tag did move: a scan now sees the other, unsigned image.
	if d, err := remote.Head(mustTag(t, reg.Host+"/team/alpine:3.16.9")); err != nil || d.Digest != movedDigest {
		t.Fatalf("the tag names %v (%v), want the moved-to %s", d, err, movedDigest)
	}
	if res := drydock(t, "image", "--db", testDB, "--verify-key", pub, "--require-signature", "--format", "json", host+"/team/alpine:3.16.9"); res.code != 4 {
		t.Errorf("after the move: exit %d, want 4 (the image the tag names now is unsigned)", res.code)
	}
}

func mustTag(t *testing.T, ref string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func mustImage(t *testing.T, ref string) v1.Image {
	t.Helper()
	img, err := remote.Image(mustTag(t, ref))
	if err != nil {
		t.Fatal(err)
	}
	return img
}
