package main

// The AlmaLinux 9.0 → 9.3 micro series as bases (issue 18): the real rpm
// databases and os-release files of four AlmaLinux 9 micro releases
// (testdata/almalinux-micro, see its README), each built as a one-layer
// arm64 image, registered with `drydock base add`; an application on 9.0
// gets the three newer ones as minor bumps, nearest first, each with what
// drydock's own scan of it finds in the test database's real AlmaLinux
// advisories.

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/testimage"
)

const almaMicroTestdata = "testdata/almalinux-micro/"

// almaMicroReleases are the four releases, with the rpm database each ships
// (9.0 still has the Berkeley DB one) and its package count (the headers in
// the database, as listed in the shared data's derived .rpms.json; 9.1 on
// add the gpg-pubkey entry).
//
// missing are the packages drydock does not list. 9.0's almalinux-gpg-keys
// and basesystem, whose headers are inline on a Berkeley DB hash page, were
// missing until drydock read those itself (internal/extract/rpm,
// bdbinline.go): none is missing now, and the test fails if any is lost.
var almaMicroReleases = []struct {
	release, dbName string
	packages        int
	missing         []string
}{
	{"9.0", "Packages", 22, nil},
	{"9.1", "rpmdb.sqlite", 23, nil},
	{"9.2", "rpmdb.sqlite", 23, nil},
	{"9.3", "rpmdb.sqlite", 23, nil},
}

// almaMicroImage is the release's rootfs reduced to what matching reads (the
// rpm database and os-release), as one layer, arm64 like the rootfs.
func almaMicroImage(t *testing.T, release, dbName string) v1.Image {
	t.Helper()
	osRelease, err := os.ReadFile(almaMicroTestdata + "almalinux-" + release + "-os-release")
	if err != nil {
		t.Fatal(err)
	}
	db := gunzip(t, almaMicroTestdata+"almalinux-"+release+"-"+dbName+".gz")
	img, err := testimage.Build(testimage.Config{Arch: "arm64", Config: v1.Config{Cmd: []string{"/bin/sh"}}}, testimage.Layer{
		Files:     map[string][]byte{"usr/lib/os-release": osRelease, "var/lib/rpm/" + dbName: db},
		CreatedBy: "ADD almalinux-9-docker-aarch64-micro.tar.xz / # buildkit",
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// ociLayout writes img as an OCI layout tagged tag and returns its reference.
func ociLayout(t *testing.T, tag string, img v1.Image) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "layout")
	if err := testimage.WriteOCILayout(dir, tag, img); err != nil {
		t.Fatal(err)
	}
	return "oci:" + dir
}

func TestAlmaLinuxMicroBaseAdvice(t *testing.T) {
	cache := t.TempDir()
	scanIn := func(ref string, more ...string) *report.Report {
		t.Helper()
		res := drydockIn(t, cache, append([]string{"image", "--db", testDB, "--format", "json", ref}, more...)...)
		if res.code != 0 && res.code != 1 {
			t.Fatalf("drydock image %s: exit %d\n%s", ref, res.code, res.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("drydock image %s: %v\n%s", ref, err, res.stderr)
		}
		return &rep
	}

	refs := map[string]string{}
	for _, r := range almaMicroReleases {
		ref := ociLayout(t, "almalinux:"+r.release, almaMicroImage(t, r.release, r.dbName))
		refs[r.release] = ref
		if res := drydockIn(t, cache, "base", "add", ref); res.code != 0 {
			t.Fatalf("base add almalinux:%s: exit %d\n%s", r.release, res.code, res.stderr)
		}
	}

	// Drydock's own scan of each release: the counts the advice must give.
	direct := map[string]result.BaseCounts{}
	for _, r := range almaMicroReleases {
		rep := scanIn(refs[r.release])
		if rep.Distro == nil || rep.Distro.ID != "almalinux" || rep.Distro.VersionID != r.release {
			t.Errorf("almalinux:%s: distro %+v", r.release, rep.Distro)
		}
		if len(rep.Packages) != r.packages-len(r.missing) {
			t.Errorf("almalinux:%s: %d packages, want %d (%d headers, %v not listed)", r.release, len(rep.Packages), r.packages-len(r.missing), r.packages, r.missing)
		}
		for _, p := range rep.Packages {
			if slices.Contains(r.missing, p.Name) {
				t.Errorf("almalinux:%s: %s is listed now: remove it from missing", r.release, p.Name)
			}
		}
		direct[r.release] = result.BaseCounts{
			Critical: rep.Summary.BySeverity["CRITICAL"], High: rep.Summary.BySeverity["HIGH"], Total: rep.Summary.Findings,
		}
		t.Logf("almalinux:%s: %d packages, findings %+v", r.release, len(rep.Packages), direct[r.release])
	}
	if direct["9.0"].Total == 0 {
		t.Fatal("drydock finds nothing in AlmaLinux 9.0: the test database has no AlmaLinux advisories")
	}

	// An application on 9.0.
	appRef := ociLayout(t, "shop/app:1.0", withAppLayer(t, almaMicroImage(t, "9.0", "Packages")))
	rep := scanIn(appRef, "--base-advice")
	b := rep.BaseImage
	if b == nil || b.Name != "almalinux:9.0" || b.Signal != "layer-chain" || b.Layers != 1 || b.Findings == nil {
		t.Fatalf("app on 9.0: base %+v", b)
	}
	if *b.Findings != direct["9.0"] {
		t.Errorf("the app's base findings %+v, drydock's own scan of almalinux:9.0 %+v", *b.Findings, direct["9.0"])
	}
	var names []string
	for _, adv := range b.Advice {
		names = append(names, adv.Name)
		want := direct[strings.TrimPrefix(adv.Name, "almalinux:")]
		if adv.Bump != "minor" || !adv.Scanned || adv.Leaves == nil || !strings.HasPrefix(adv.From, "FROM "+adv.Name+"@sha256:") {
			t.Errorf("advice %+v", adv)
			continue
		}
		if *adv.Leaves != want {
			t.Errorf("%s leaves %+v; drydock's own scan of it: %+v", adv.Name, *adv.Leaves, want)
		}
		if adv.Fixes > b.Findings.Total {
			t.Errorf("%s fixes %d of the base's %d findings", adv.Name, adv.Fixes, b.Findings.Total)
		}
		t.Logf("%s (%s): leaves %+v, fixes %d of %d", adv.Name, adv.Bump, *adv.Leaves, adv.Fixes, b.Findings.Total)
	}
	if got := strings.Join(names, ","); got != "almalinux:9.1,almalinux:9.2,almalinux:9.3" {
		t.Errorf("advice %s, want almalinux:9.1,almalinux:9.2,almalinux:9.3 (minor bumps, nearest first)", got)
	}
}

// TestCopaFormatAlmaLinuxMicro: `drydock image --format copa` on an app on
// the real AlmaLinux 9.0 micro rpm database lists exactly the rpm packages
// of the JSON report's fixable findings, once each, and no npm package.
func TestCopaFormatAlmaLinuxMicro(t *testing.T) {
	appRef := ociLayout(t, "shop/app:1.0", withAppLayer(t, almaMicroImage(t, "9.0", "Packages")))
	rep, _ := scanJSON(t, appRef)
	res := drydock(t, "image", "--db", testDB, "--format", "copa", appRef)
	if res.code != 0 && res.code != 1 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.DisallowUnknownFields()
	var m writer.CopaManifest
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("%v\n%s", err, res.stdout)
	}
	want := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Package.Ecosystem == "rpm" && f.FixedVersion != "" && !f.Suppressed() {
			want[f.Package.Name] = true
		}
	}
	got := map[string]bool{}
	for _, u := range m.OSUpdates {
		if got[u.Name] {
			t.Errorf("%s is listed twice", u.Name)
		}
		got[u.Name] = true
		if u.Class != "os-pkgs" || u.Type != "rpm" || u.FixedVersion == "" || u.InstalledVersion == "" || u.VulnerabilityID == "" {
			t.Errorf("update %+v", u)
		}
	}
	if len(want) == 0 || len(got) != len(want) {
		t.Errorf("osupdates for %v, want %v", got, want)
	}
	for n := range want {
		if !got[n] {
			t.Errorf("%s has a fixable finding but no update", n)
		}
	}
	if m.APIVersion != "v1alpha2" || m.Metadata.OS.Type != "almalinux" || m.Metadata.OS.Version != "9.0" ||
		m.Metadata.Config.Arch != "arm64" || len(m.LangUpdates) != 0 {
		t.Errorf("manifest %+v", m)
	}
}

// withAppLayer is base plus a layer holding lodash 4.17.15 (a GHSA in the
// test database): withApp's image, without the registry.
func withAppLayer(t *testing.T, base v1.Image) v1.Image {
	t.Helper()
	app, err := testimage.TarOf(map[string][]byte{
		"app/node_modules/lodash/package.json": []byte(`{"name": "lodash", "version": "4.17.15"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(app)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "COPY app /app"}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}
