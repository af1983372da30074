package baseimage

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// The real busybox diff_ids (testdata/README.md).
const (
	musl1370     = "sha256:cdb90b3acfad4e427a5bb3dc46cef97d9b63942f7c572d385ac61eb545a7cef2" // busybox:1.37.0-musl, 2026-07-27
	musl1380     = "sha256:0f8918d0fe4f272ce8acece89916a9ba0b240584d3c1dd1943f343f69b0d0ffb" // busybox:1.38.0-musl
	muslOld13610 = "sha256:994bf8f4adc78c5c1e4a6b5e3b59ad57902b301e0e79255a3e95ea4b213a76bd" // busybox:1.36.1-musl, 2024-02-27 (metadata only)
	appLayer     = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	appLayer2    = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
)

func busyboxIndex(t *testing.T) *Index {
	t.Helper()
	f, err := os.Open("testdata/busybox-amd64-history-index.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es, err := ImportTable(f, "docker-library/busybox dist-amd64")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 127 {
		t.Fatalf("%d records, want the table's 127", len(es))
	}
	ix := &Index{}
	if err := ix.Add(es...); err != nil {
		t.Fatal(err)
	}
	return ix
}

func imageOf(diffIDs []string, history ...inventory.History) *inventory.Image {
	img := &inventory.Image{History: history}
	for i, d := range diffIDs {
		img.Layers = append(img.Layers, inventory.Layer{Index: i, DiffID: d})
	}
	return img
}

func TestDetect(t *testing.T) {
	ix := busyboxIndex(t)
	cmdStep := inventory.History{CreatedBy: `/bin/sh -c #(nop)  CMD ["sh"]`, EmptyLayer: true, LayerIndex: -1}
	for _, tc := range []struct {
		name        string
		img         *inventory.Image
		annotations map[string]string
		want        Attribution
	}{
		{"busybox 1.37.0-musl and an app layer: the exact base and its most specific tag",
			imageOf([]string{musl1370, appLayer}), nil,
			Attribution{Name: "busybox:1.37.0-musl", Layers: 1, Signal: SignalLayerChain, Hierarchy: []string{"busybox:1.37.0-musl"}}},
		{"an older published base, known from the table alone (no layer blob exists)",
			imageOf([]string{muslOld13610, appLayer, appLayer2}), nil,
			Attribution{Name: "busybox:1.36.1-musl", Layers: 1, Signal: SignalLayerChain, Hierarchy: []string{"busybox:1.36.1-musl"}}},
		{"the base itself is not built on itself",
			imageOf([]string{musl1380}), nil,
			Attribution{Signal: SignalNone, Note: "no base image found (a squashed or single-stage image): every layer counts as the image's own"}},
		{"annotations naming an unindexed base",
			imageOf([]string{appLayer, appLayer2}), map[string]string{AnnotationBaseName: "docker.io/library/debian:12-slim"},
			Attribution{Name: "docker.io/library/debian:12-slim", Signal: SignalAnnotation, Annotation: "docker.io/library/debian:12-slim",
				Note: "the base named by the image's annotations is not in the base-image index: its layers are not known"}},
		{"a squashed image with a history: unidentified, the history's guess",
			imageOf([]string{appLayer, appLayer2},
				inventory.History{CreatedBy: "ADD rootfs.tar.xz /", LayerIndex: 0}, cmdStep,
				inventory.History{CreatedBy: "COPY app /app", LayerIndex: 1}),
			nil,
			Attribution{Layers: 1, Signal: SignalHistory,
				Note: "unidentified base: by the image's history, its first 1 layer(s) precede the last CMD/ENTRYPOINT of a base"}},
		{"layers and annotations disagree: the verified layers win, the disagreement is said",
			imageOf([]string{musl1370, appLayer}), map[string]string{AnnotationBaseName: "busybox:1.38.0-musl",
				AnnotationBaseDigest: "sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"},
			Attribution{Name: "busybox:1.37.0-musl", Layers: 1, Signal: SignalLayerChain, Hierarchy: []string{"busybox:1.37.0-musl"},
				Annotation: "busybox:1.38.0-musl@sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998",
				Note:       "the image's annotations name busybox:1.38.0-musl@sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998, but its layers are busybox:1.37.0-musl's"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Detect(tc.img, Evidence{Annotations: tc.annotations}, ix)
			if d := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Attribution{}, "Base")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestHierarchy: an image on a base that is itself on an indexed base
// reports both, the outer one as its base.
func TestHierarchy(t *testing.T) {
	ix := busyboxIndex(t)
	if err := ix.Add(Entry{Repository: "registry.example/team/base", Tags: []string{"2.1"}, DiffIDs: []string{musl1370, appLayer}}); err != nil {
		t.Fatal(err)
	}
	got := Detect(imageOf([]string{musl1370, appLayer, appLayer2}), Evidence{}, ix)
	want := Attribution{Name: "registry.example/team/base:2.1", Layers: 2, Signal: SignalLayerChain,
		Hierarchy: []string{"busybox:1.37.0-musl", "registry.example/team/base:2.1"}}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(Attribution{}, "Base")); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestSortTags(t *testing.T) {
	got := SortTags([]string{"musl", "1-musl", "1.37-musl", "unstable-musl", "1.37.0-musl", "latest"})
	want := []string{"1.37.0-musl", "1.37-musl", "1-musl", "unstable-musl", "latest", "musl"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestChainIDs(t *testing.T) {
	// The second: sha256 of "sha256:aaa… sha256:bbb…", computed with sha256sum.
	a := "sha256:" + repeat('a', 64)
	b := "sha256:" + repeat('b', 64)
	want := []string{a, "sha256:ccd722928bd92476ba1745586fed6e45a102504185ad88cd89e01ff116fd146c"}
	if d := cmp.Diff(want, ChainIDs([]string{a, b})); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func TestIndexFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "bases.json")
	ix, err := Load(path)
	if err != nil || len(ix.Entries) != 0 {
		t.Fatalf("a missing index: %v, %d entries", err, len(ix.Entries))
	}
	e := Entry{Repository: "busybox", Tags: []string{"1.37-musl"}, DiffIDs: []string{musl1370}, ManifestDigest: "sha256:" + repeat('c', 64)}
	if err := ix.Add(e); err != nil {
		t.Fatal(err)
	}
	e.Tags = []string{"1.37.0-musl"}
	if err := ix.Add(e); err != nil {
		t.Fatal(err)
	}
	if err := ix.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Entries) != 1 || !cmp.Equal(back.Entries[0].Tags, []string{"1.37.0-musl", "1.37-musl"}) {
		t.Errorf("after adding the same base twice: %+v", back.Entries)
	}
	if err := ix.Add(Entry{Repository: "x", DiffIDs: []string{"sha256:nothex"}}); err == nil {
		t.Error("a bad diff_id was accepted")
	}
	if err := os.WriteFile(path, []byte(`{"entries":[{"repository":"x","diff_ids":["md5:1"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil {
		t.Error("a bad index file was read")
	}
}

func TestCandidates(t *testing.T) {
	ix := busyboxIndex(t)
	var base *Entry
	for i := range ix.Entries {
		if ix.Entries[i].Name() == "busybox:1.36.1-musl" {
			base = &ix.Entries[i]
		}
	}
	var got []string
	for _, c := range Candidates(ix, base) {
		got = append(got, c.Bump+" "+c.Tag)
	}
	// Newer musl versions only, one per version, minor before major.
	want := []string{"minor 1.37.0-musl", "minor 1.38.0-musl"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("candidates of busybox:1.36.1-musl (-want +got):\n%s", d)
	}
	for _, tc := range []struct {
		tag    string
		v      []int
		family string
		ok     bool
	}{
		{"1.37.0-musl", []int{1, 37, 0}, "-musl", true},
		{"9.0", []int{9, 0}, "", true},
		{"3.12-slim-bookworm", []int{3, 12}, "-slim-bookworm", true},
		{"latest", nil, "", false},
	} {
		v, fam, ok := tagVersion(tc.tag)
		if !cmp.Equal(v, tc.v) || fam != tc.family || ok != tc.ok {
			t.Errorf("tagVersion(%q) = %v %q %v", tc.tag, v, fam, ok)
		}
	}
}

// TestDetectEvidence: the signals besides the layers, strongest first; each
// decides only when the base it names has the image's layers.
func TestDetectEvidence(t *testing.T) {
	ix := busyboxIndex(t)
	const (
		musl1370a = "sha256:6be969a074d06073a62ad8ccfd2ad6ec2790cae25d519d8df255ba24819d96f0" // the two manifests the table
		musl1370b = "sha256:29989570aeecad61a019f684218ea74d4b8c1c74f9e0abeb34ca926b81174ee1" // records for the same layer
		musl1380m = "sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998"
	)
	onMusl := imageOf([]string{musl1370, appLayer})
	for _, tc := range []struct {
		name     string
		img      *inventory.Image
		ev       Evidence
		want     Attribution
		wantBase string
	}{
		{"verified provenance names the exact manifest of two with the same layer",
			onMusl, Evidence{Provenance: []string{"pkg:docker/busybox@1.37.0-musl?digest=" + musl1370a + "&platform=linux%2Famd64"}},
			Attribution{Name: "busybox:1.37.0-musl", Layers: 1, Signal: SignalProvenance, Hierarchy: []string{"busybox:1.37.0-musl"}},
			musl1370a},
		{"provenance outranks the annotations and the build info",
			onMusl, Evidence{Provenance: []string{"pkg:docker/busybox@1.37.0-musl?digest=" + musl1370b},
				Annotations: map[string]string{AnnotationBaseName: "busybox:1.37.0-musl", AnnotationBaseDigest: musl1370a},
				BuildInfo:   []BuildSource{{Type: "docker-image", Ref: "docker.io/library/busybox:1.37.0-musl", Pin: musl1370a}}},
			Attribution{Name: "busybox:1.37.0-musl", Layers: 1, Signal: SignalProvenance, Hierarchy: []string{"busybox:1.37.0-musl"},
				Annotation: "busybox:1.37.0-musl@" + musl1370a},
			musl1370b},
		{"annotations with a digest the index knows decide",
			onMusl, Evidence{Annotations: map[string]string{AnnotationBaseName: "busybox:1.37.0-musl", AnnotationBaseDigest: musl1370a}},
			Attribution{Name: "busybox:1.37.0-musl", Layers: 1, Signal: SignalAnnotation, Hierarchy: []string{"busybox:1.37.0-musl"},
				Annotation: "busybox:1.37.0-musl@" + musl1370a},
			musl1370a},
		{"BuildKit build info pins the base",
			onMusl, Evidence{BuildInfo: []BuildSource{{Type: "docker-image", Ref: "docker.io/library/busybox:1.37.0-musl", Pin: musl1370b}}},
			Attribution{Name: "busybox:1.37.0-musl", Layers: 1, Signal: SignalBuildInfo, Hierarchy: []string{"busybox:1.37.0-musl"}},
			musl1370b},
		{"a forged claim: annotations name busybox 1.38.0 on layers that are not its: flagged, not trusted",
			imageOf([]string{appLayer, appLayer2}), Evidence{Annotations: map[string]string{AnnotationBaseName: "busybox:1.38.0-musl", AnnotationBaseDigest: musl1380m}},
			Attribution{Signal: SignalNone, Annotation: "busybox:1.38.0-musl@" + musl1380m,
				Note: "the image's annotations name busybox:1.38.0-musl@" + musl1380m + " (busybox:1.38.0-musl), but the image's layers do not start with its layers: the claim is not trusted; " +
					"no base image found (a squashed or single-stage image): every layer counts as the image's own"}, ""},
		{"provenance naming a base the index does not know: a claim, layers from the history",
			imageOf([]string{appLayer, appLayer2},
				inventory.History{CreatedBy: "ADD rootfs.tar.xz /", LayerIndex: 0},
				inventory.History{CreatedBy: `CMD ["sh"]`, EmptyLayer: true, LayerIndex: -1},
				inventory.History{CreatedBy: "COPY app /app", LayerIndex: 1}),
			Evidence{Provenance: []string{"pkg:docker/debian@12-slim?digest=sha256:" + strings.Repeat("ab", 32)}},
			Attribution{Name: "debian:12-slim@sha256:" + strings.Repeat("ab", 32), Layers: 1, Signal: SignalProvenance,
				Note: "the base named by the verified provenance is not in the base-image index: its layers are not known; the history puts the base at the first 1 layer(s)"}, ""},
		{"the empty-layer variant: the image's builder wrote empty-tar layers the indexed base does not have",
			imageOf([]string{musl1370, EmptyTarDiffID, appLayer}), Evidence{},
			Attribution{Name: "busybox:1.37.0-musl", Layers: 1, Signal: SignalLayerChain, Hierarchy: []string{"busybox:1.37.0-musl"}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Detect(tc.img, tc.ev, ix)
			if d := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(Attribution{}, "Base")); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			if tc.wantBase != "" && (got.Base == nil || got.Base.ManifestDigest != tc.wantBase) {
				t.Errorf("base %+v, want manifest %s", got.Base, tc.wantBase)
			}
		})
	}
}

// TestEmptyLayerVariant: a base published with an empty-tar layer is found
// in an image whose builder wrote none, and the base's layer count is the
// image's layers up to the base's last real one.
func TestEmptyLayerVariant(t *testing.T) {
	ix := &Index{}
	if err := ix.Add(Entry{Repository: "registry.example/base", Tags: []string{"1.0"}, DiffIDs: []string{musl1370, EmptyTarDiffID, appLayer}}); err != nil {
		t.Fatal(err)
	}
	got := Detect(imageOf([]string{musl1370, appLayer, appLayer2}), Evidence{}, ix)
	want := Attribution{Name: "registry.example/base:1.0", Layers: 2, Signal: SignalLayerChain, Hierarchy: []string{"registry.example/base:1.0"},
		Note: "matched without the empty layers (a builder that writes empty-tar layers for metadata steps)"}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(Attribution{}, "Base")); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// The plain chain wins when it matches: no note.
	if got := Detect(imageOf([]string{musl1370, EmptyTarDiffID, appLayer, appLayer2}), Evidence{}, ix); got.Note != "" || got.Layers != 3 {
		t.Errorf("plain match: %+v", got)
	}
}

func TestParseBuildInfo(t *testing.T) {
	// The decoded structure of moby/buildkit docs/build-repro.md.
	bi := `{"frontend":"dockerfile.v0","attrs":{"filename":"Dockerfile"},"sources":[` +
		`{"type":"docker-image","ref":"docker.io/library/alpine:3.13","pin":"sha256:1d30d1ba3cb90962067e9b29491fbd56997979d54376f23f01448b5c5cd8b462"},` +
		`{"type":"git","ref":"https://github.com/crazy-max/buildkit-buildsources-test.git#master","pin":"259a5aa5aa5bb3562d12cc631fe399f4788642c1"}]}`
	cfg := `{"architecture":"amd64","moby.buildkit.buildinfo.v1":"` + base64.StdEncoding.EncodeToString([]byte(bi)) + `"}`
	for _, tc := range []struct {
		name, cfg string
		want      []BuildSource
		err       bool
	}{
		{"docker-image sources only", cfg, []BuildSource{{Type: "docker-image", Ref: "docker.io/library/alpine:3.13", Pin: "sha256:1d30d1ba3cb90962067e9b29491fbd56997979d54376f23f01448b5c5cd8b462"}}, false},
		{"no build info", `{"architecture":"amd64"}`, nil, false},
		{"not base64", `{"moby.buildkit.buildinfo.v1":"%%%"}`, nil, true},
		{"not a string", `{"moby.buildkit.buildinfo.v1":3}`, nil, true},
		{"not JSON", `{`, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBuildInfo([]byte(tc.cfg))
			if (err != nil) != tc.err {
				t.Fatalf("err %v, want error %v", err, tc.err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func FuzzParseBuildInfo(f *testing.F) {
	f.Add([]byte(`{"moby.buildkit.buildinfo.v1":"eyJzb3VyY2VzIjpbXX0="}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ParseBuildInfo(b)
	})
}

// TestOtherCandidates: the bases of the other families, one per repository
// and tag family (the highest scannable version), never the base itself,
// its family or its hierarchy.
func TestOtherCandidates(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	digest := func(c string) string { return "sha256:" + strings.Repeat(c, 64) }
	const src = "oci:/bases/x"
	alpine := Entry{Repository: "alpine", Tags: []string{"3.16.9", "3.16"}, ManifestDigest: digest("a"), DiffIDs: []string{digest("1")}, Platform: "linux/amd64", Source: src}
	entries := []Entry{
		alpine,
		// The same family, newer: a bump, not another base.
		{Repository: "alpine", Tags: []string{"3.20.3"}, ManifestDigest: digest("b"), DiffIDs: []string{digest("2")}, Source: src},
		// The same repository, another family.
		{Repository: "alpine", Tags: []string{"3.20-edge"}, ManifestDigest: digest("c"), DiffIDs: []string{digest("3")}, Source: src},
		// busybox musl: 1.38.0 wins over 1.37.0 and over 1.39.0, which
		// drydock cannot scan; two platforms of 1.38.0, the base's wins.
		{Repository: "busybox", Tags: []string{"1.37.0-musl"}, ManifestDigest: digest("d"), DiffIDs: []string{digest("4")}, Source: src},
		{Repository: "busybox", Tags: []string{"1.38.0-musl"}, ManifestDigest: digest("e"), DiffIDs: []string{digest("5")}, Platform: "linux/arm64", Created: day(3), Source: src},
		{Repository: "busybox", Tags: []string{"1.38.0-musl"}, ManifestDigest: digest("f"), DiffIDs: []string{digest("6")}, Platform: "linux/amd64", Created: day(2), Source: src},
		{Repository: "busybox", Tags: []string{"1.39.0-musl"}, ManifestDigest: digest("7"), DiffIDs: []string{digest("7")}},
		// busybox glibc: the newer of two builds of 1.38.0.
		{Repository: "busybox", Tags: []string{"1.38.0-glibc"}, ManifestDigest: digest("8"), DiffIDs: []string{digest("8")}, Created: day(1), Source: src},
		{Repository: "busybox", Tags: []string{"1.38.0-glibc"}, ManifestDigest: digest("9"), DiffIDs: []string{digest("9")}, Created: day(5), Source: src},
		// No version to rank: not listed.
		{Repository: "debian", Tags: []string{"latest"}, ManifestDigest: digest("0"), DiffIDs: []string{digest("0")}, Source: src},
		// The base's hierarchy: built on it, or the same image elsewhere.
		{Repository: "python", Tags: []string{"3.12-alpine"}, ManifestDigest: digest("c0"), DiffIDs: []string{digest("1"), digest("c1")}, Source: src},
		{Repository: "mirror.example/alpine", Tags: []string{"3.16.9"}, ManifestDigest: digest("a"), DiffIDs: []string{digest("1")}, Source: src},
		{Repository: "copy.example/alpine", Tags: []string{"3.16.9"}, ManifestDigest: digest("c2"), DiffIDs: []string{digest("1")}, Source: src},
		// Another distribution.
		{Repository: "almalinux", Tags: []string{"9.3"}, ManifestDigest: digest("c3"), DiffIDs: []string{digest("c4")}, Source: src},
	}
	name := func(cs []Candidate) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Bump+" "+c.Entry.Repository+":"+c.Tag+" "+c.Entry.ManifestDigest[7:9])
		}
		return out
	}
	for _, tc := range []struct {
		name string
		base *Entry // nil, or an entry of entries (by manifest) or a copy
		want []string
	}{
		{"alpine 3.16.9", &alpine, []string{
			"other almalinux:9.3 c3", "other alpine:3.20-edge cc", "other busybox:1.38.0-glibc 99", "other busybox:1.38.0-musl ff"}},
		{"busybox 1.37.0-musl on arm64: its family is left out; alpine's newest; no glibc build has its platform",
			&Entry{Repository: "busybox", Tags: []string{"1.37.0-musl"}, ManifestDigest: digest("d"), DiffIDs: []string{digest("4")}, Platform: "linux/arm64"},
			[]string{"other almalinux:9.3 c3", "other alpine:3.20-edge cc", "other alpine:3.20.3 bb", "other busybox:1.38.0-glibc 99",
				"other copy.example/alpine:3.16.9 c2", "other mirror.example/alpine:3.16.9 aa", "other python:3.12-alpine c0"}},
		{"a base without a versioned tag: its whole repository is left out",
			&Entry{Repository: "busybox", Tags: []string{"musl"}, DiffIDs: []string{digest("d1")}},
			[]string{"other almalinux:9.3 c3", "other alpine:3.20-edge cc", "other alpine:3.20.3 bb",
				"other copy.example/alpine:3.16.9 c2", "other mirror.example/alpine:3.16.9 aa", "other python:3.12-alpine c0"}},
		{"no base", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ix := &Index{Entries: slices.Clone(entries)}
			base := tc.base
			if base == &alpine {
				base = &ix.Entries[0] // the index's own entry, as adviseBase passes it
			}
			if d := cmp.Diff(tc.want, name(OtherCandidates(ix, base))); d != "" {
				t.Errorf("OtherCandidates (-want +got):\n%s", d)
			}
		})
	}
}
