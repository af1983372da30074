package main

// Base-image attribution end to end (issue 18): images built on real bases
// and pushed to Debian's docker-registry are attributed to the exact base
// and its most specific tag, and the findings of the base's layers are
// marked as the base's.

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/source"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// ociArchiveImage reads the one image of an OCI layout tar, as drydock's
// source stage opens it (extracted until the test ends).
func ociArchiveImage(t *testing.T, path string) v1.Image {
	t.Helper()
	img, err := source.Open(t.Context(), "oci-archive:"+path, source.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = img.Close() })
	return img.V1
}

// appImage is base plus a layer holding lodash 4.17.15 (a GHSA in the test
// database).
func appImage(t *testing.T, base v1.Image) v1.Image {
	t.Helper()
	app, err := testimage.TarOf(map[string][]byte{
		"app/node_modules/lodash/package.json": []byte(`{"name": "lodash", "version": "4.17.15"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(string(app))), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "COPY app /app"}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// withApp is appImage(base), pushed to host/repo:1.0.
func withApp(t *testing.T, base v1.Image, host, repo string) string {
	t.Helper()
	img := appImage(t, base)
	ref := host + "/" + repo + ":1.0"
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	return ref
}

func TestBaseImageAttribution(t *testing.T) {
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{})
	cache := t.TempDir()
	// The index: the real busybox 1.37.0-musl layout, the published table,
	// and the repo's Alpine 3.16.9 image as a private base.
	for _, args := range [][]string{
		{"base", "add", "oci-archive:" + busyboxTestdata + "busybox-1.37.0-musl.oci.tar"},
		{"base", "add", "oci-archive:" + busyboxTestdata + "busybox-1.38.0-musl.oci.tar"},
		{"base", "import", busyboxTestdata + "busybox-amd64-history-index.json"},
		{"base", "add", "docker-archive:" + alpineImage + ":alpine:3.16.9"},
	} {
		if res := drydockIn(t, cache, args...); res.code != 0 {
			t.Fatalf("drydock %v: exit %d\n%s", args, res.code, res.stderr)
		}
	}

	busybox := withApp(t, ociArchiveImage(t, busyboxTestdata+"busybox-1.37.0-musl.oci.tar"), reg.Host, "team/tool")
	alpineBase, err := tarball.ImageFromPath(alpineImage, nil)
	if err != nil {
		t.Fatal(err)
	}
	alpine := withApp(t, alpineBase, reg.Host, "team/web")

	scanJSONIn := func(ref string, more ...string) *report.Report {
		t.Helper()
		res := drydockIn(t, cache, append([]string{"image", "--db", testDB, "--format", "json", ref}, more...)...)
		if res.code != 0 {
			t.Fatalf("drydock image %s: exit %d\n%s", ref, res.code, res.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		return &rep
	}

	rep := scanJSONIn(busybox)
	b := rep.BaseImage
	if b == nil || b.Name != "busybox:1.37.0-musl" || b.Layers != 1 || b.Signal != "layer-chain" ||
		b.ManifestDigest != "sha256:29989570aeecad61a019f684218ea74d4b8c1c74f9e0abeb34ca926b81174ee1" {
		t.Errorf("busybox-based image: base %+v, want busybox:1.37.0-musl, 1 layer, by layer chain, manifest sha256:29989570…", b)
	}

	// The advice: busybox:1.38.0-musl, a minor bump, pinned by digest, with
	// what drydock's own scan of it finds.
	rep = scanJSONIn(busybox, "--base-advice")
	direct := scanJSONIn("oci-archive:" + busyboxTestdata + "busybox-1.38.0-musl.oci.tar")
	if b := rep.BaseImage; b == nil || len(b.Advice) != 1 {
		t.Fatalf("advice: %+v", b)
	}
	adv := rep.BaseImage.Advice[0]
	if adv.Name != "busybox:1.38.0-musl" || adv.Bump != "minor" || !adv.Scanned || adv.Leaves == nil ||
		adv.From != "FROM busybox:1.38.0-musl@sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998" {
		t.Errorf("advice %+v", adv)
	} else if adv.Leaves.Total != direct.Summary.Findings {
		t.Errorf("busybox:1.38.0-musl leaves %d findings; drydock's own scan of it has %d", adv.Leaves.Total, direct.Summary.Findings)
	}

	// Real counts: an app on AlmaLinux 8.8, with 9.0 indexed as a newer base
	// of the same (untagged-variant) family: a major bump whose counts are
	// drydock's own scan of 9.0, and which fixes the 8.8 base findings whose
	// advisories 9.0 does not have.
	alma88, alma90 := almaImage(t, "8.8", "Packages", "almalinux-8.8-Packages.gz"), almaImage(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz")
	for _, ref := range []string{alma88, alma90} {
		if res := drydockIn(t, cache, "base", "add", ref); res.code != 0 {
			t.Fatalf("base add %s: exit %d\n%s", ref, res.code, res.stderr)
		}
	}
	legacy := withApp(t, almaV1Image(t, "8.8", "Packages", "almalinux-8.8-Packages.gz"), reg.Host, "team/legacy")
	rep = scanJSONIn(legacy, "--base-advice")
	direct = scanJSONIn(alma90)
	b = rep.BaseImage
	if b == nil || b.Name != "almalinux:8.8" || b.Findings == nil || len(b.Advice) != 1 {
		t.Fatalf("AlmaLinux 8.8 app: base %+v", b)
	}
	adv = b.Advice[0]
	if adv.Name != "almalinux:9.0" || adv.Bump != "major" || !adv.Scanned || adv.Leaves == nil {
		t.Fatalf("advice %+v", adv)
	}
	var crit, high int
	for _, f := range direct.Findings {
		switch f.Severity {
		case "CRITICAL":
			crit++
		case "HIGH":
			high++
		}
	}
	if got, want := *adv.Leaves, (result.BaseCounts{Critical: crit, High: high, Total: direct.Summary.Findings}); got != want || want.Total == 0 {
		t.Errorf("almalinux:9.0 leaves %+v; drydock's own scan of it: %+v", got, want)
	}
	if b.Findings.Total == 0 || adv.Fixes == 0 || adv.Fixes > b.Findings.Total {
		t.Errorf("the 8.8 base has %d findings; 9.0 fixes %d", b.Findings.Total, adv.Fixes)
	}
	t.Logf("AlmaLinux 8.8 base: %+v; 9.0 leaves %+v and fixes %d", *b.Findings, *adv.Leaves, adv.Fixes)
	table := drydockIn(t, cache, "image", "--db", testDB, "--base-advice", legacy)
	for _, want := range []string{"Base image: almalinux:8.8 (layer-chain; its first 1 layer(s))",
		fmt.Sprintf("major bump → almalinux:9.0 leaves %d finding(s)", direct.Summary.Findings), "FROM almalinux:9.0@sha256:"} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("the table lacks %q:\n%.1200s", want, table.stdout)
		}
	}

	rep = scanJSONIn(alpine)
	if b := rep.BaseImage; b == nil || b.Name != "alpine:3.16.9" || b.Layers != 1 {
		t.Fatalf("alpine-based image: base %+v", b)
	}
	// The busybox and ssl_client findings are in the Alpine layer: the
	// base's; lodash's are in the image's own layer.
	var base, own []string
	for _, f := range rep.Findings {
		marked := slices.ContainsFunc(f.Annotations, func(a finding.Annotation) bool {
			return a.Kind == vocab.AnnotationBaseImage && a.Status == "layer-chain" && strings.Contains(a.Reason, "alpine:3.16.9")
		})
		if marked {
			base = append(base, f.Package.Name)
		} else {
			own = append(own, f.Package.Name)
		}
	}
	slices.Sort(base)
	if !slices.Equal(base, []string{"busybox", "ssl_client"}) || len(own) == 0 || slices.ContainsFunc(own, func(p string) bool { return p != "lodash" }) {
		t.Errorf("findings marked as the base's: %v; the image's own: %v", base, own)
	}
}
