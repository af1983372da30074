package main

// Upgrade advice beyond the base's family (issue 18, "other distributions
// only when asked"): an application on AlmaLinux 9.0 micro, with the index
// holding the AlmaLinux 9.0 → 9.3 micro series, the repo's Alpine 3.16.9
// image and busybox 1.37.0-musl and 1.38.0-musl. --base-advice alone lists
// the AlmaLinux minor bumps only; --base-advice-other adds alpine:3.16.9
// and busybox:1.38.0-musl (not 1.37.0-musl: one per family, the newest),
// each leaving exactly what drydock's own scan of it finds, ranked by what
// they leave; a base that cannot be scanned comes last, with unknown counts.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/testimage"
)

func TestBaseAdviceOtherDistributions(t *testing.T) {
	cache := t.TempDir()
	scanIn := func(ref string, more ...string) *report.Report {
		t.Helper()
		res := drydockIn(t, cache, append([]string{"image", "--db", testDB, "--format", "json", ref}, more...)...)
		if res.code != 0 && res.code != 1 {
			t.Fatalf("drydock image %s %v: exit %d\n%s", ref, more, res.code, res.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("drydock image %s %v: %v\n%s", ref, more, err, res.stderr)
		}
		return &rep
	}
	countsOf := func(rep *report.Report) result.BaseCounts {
		return result.BaseCounts{Critical: rep.Summary.BySeverity["CRITICAL"], High: rep.Summary.BySeverity["HIGH"], Total: rep.Summary.Findings}
	}

	appRef := ociLayout(t, "shop/app:1.0", withAppLayer(t, almaMicroImage(t, "9.0", "Packages")))

	// The index: first the AlmaLinux series alone, where there is no other
	// family to offer, and the report says so.
	for _, r := range almaMicroReleases {
		if res := drydockIn(t, cache, "base", "add", ociLayout(t, "almalinux:"+r.release, almaMicroImage(t, r.release, r.dbName))); res.code != 0 {
			t.Fatalf("base add almalinux:%s: exit %d\n%s", r.release, res.code, res.stderr)
		}
	}
	if b := scanIn(appRef, "--base-advice-other").BaseImage; b == nil || len(b.Advice) != 3 ||
		!strings.Contains(b.Note, "no base of another family in the index that drydock can scan") {
		t.Fatalf("only AlmaLinux indexed: base %+v", b)
	}
	var adds [][]string
	alpineRef := "docker-archive:" + alpineImage + ":alpine:3.16.9"
	busybox138 := "oci-archive:" + busyboxTestdata + "busybox-1.38.0-musl.oci.tar"
	// AlmaLinux 8.8 under another repository: another family, with more
	// findings than Alpine.
	legacyRef := ociLayout(t, "legacy.example/almalinux:8.8", almaV1Image(t, "8.8", "Packages", "almalinux-8.8-Packages.gz"))
	// A base drydock can no longer scan: its layout is removed once added.
	gone, err := testimage.Build(testimage.Config{Config: v1.Config{Cmd: []string{"/bin/sh"}}}, testimage.Layer{
		Files: map[string][]byte{"etc/motd": []byte("a base whose layout is gone\n")}, CreatedBy: "ADD rootfs.tar /",
	})
	if err != nil {
		t.Fatal(err)
	}
	goneRef := ociLayout(t, "gone.example/base:1.0", gone)
	adds = append(adds,
		[]string{"base", "add", "oci-archive:" + busyboxTestdata + "busybox-1.37.0-musl.oci.tar"},
		[]string{"base", "add", busybox138},
		[]string{"base", "import", busyboxTestdata + "busybox-amd64-history-index.json"},
		[]string{"base", "add", alpineRef},
		[]string{"base", "add", legacyRef},
		[]string{"base", "add", goneRef},
	)
	for _, args := range adds {
		if res := drydockIn(t, cache, args...); res.code != 0 {
			t.Fatalf("drydock %v: exit %d\n%s", args, res.code, res.stderr)
		}
	}
	if err := os.RemoveAll(filepath.Dir(strings.TrimPrefix(goneRef, "oci:"))); err != nil {
		t.Fatal(err)
	}

	// drydock's own scans of the other bases: the counts the advice must give.
	direct := map[string]result.BaseCounts{
		"alpine:3.16.9":                countsOf(scanIn(alpineRef)),
		"busybox:1.38.0-musl":          countsOf(scanIn(busybox138)),
		"legacy.example/almalinux:8.8": countsOf(scanIn(legacyRef)),
	}
	if direct["alpine:3.16.9"].Total == 0 {
		t.Fatal("drydock finds nothing in Alpine 3.16.9: the test database lacks its advisories")
	}
	t.Logf("drydock's own scans: %+v", direct)

	// Not asked: the same family only, as before.
	plain := scanIn(appRef, "--base-advice").BaseImage
	if plain == nil || plain.Name != "almalinux:9.0" || plain.Findings == nil || plain.Findings.Total == 0 {
		t.Fatalf("app on 9.0: base %+v", plain)
	}
	var plainNames []string
	for _, a := range plain.Advice {
		plainNames = append(plainNames, a.Bump+" "+a.Name)
	}
	if d := cmp.Diff([]string{"minor almalinux:9.1", "minor almalinux:9.2", "minor almalinux:9.3"}, plainNames); d != "" {
		t.Errorf("--base-advice lists (-want +got):\n%s", d)
	}
	if strings.Contains(plain.Note, "another family") {
		t.Errorf("--base-advice alone speaks of other families: %q", plain.Note)
	}

	// Asked: the same-family advice unchanged and first, then the others.
	checkOther := func(how string, b *result.BaseImage) {
		t.Helper()
		if b == nil || b.Findings == nil || *b.Findings != *plain.Findings || b.Name != plain.Name {
			t.Fatalf("%s: base %+v, want %+v", how, b, plain)
		}
		if len(b.Advice) < len(plain.Advice) {
			t.Fatalf("%s: advice %+v", how, b.Advice)
		}
		if d := cmp.Diff(plain.Advice, b.Advice[:len(plain.Advice)]); d != "" {
			t.Errorf("%s: the same-family advice changed (-without +with):\n%s", how, d)
		}
		others := b.Advice[len(plain.Advice):]
		var got []string
		for _, a := range others {
			got = append(got, a.Bump+" "+a.Name)
		}
		// Ranked by what they leave, those whose scan saw everything first:
		// busybox has no OS package database (its 0 is not a clean bill);
		// the base that cannot be scanned last.
		want := []string{"other alpine:3.16.9", "other legacy.example/almalinux:8.8", "other busybox:1.38.0-musl", "other gone.example/base:1.0"}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: other bases (-want +got):\n%s", how, d)
		}
		var scanned []result.BaseCounts
		for _, a := range others {
			if a.Name == "gone.example/base:1.0" {
				if a.Scanned || a.Leaves != nil || a.Fixes != 0 || !strings.HasPrefix(a.Note, "not scanned: ") {
					t.Errorf("%s: the base that cannot be scanned: %+v, want unknown counts and the reason", how, a)
				}
				continue
			}
			want, ok := direct[a.Name]
			if !ok || !a.Scanned || a.Leaves == nil || !strings.HasPrefix(a.From, "FROM "+a.Name+"@sha256:") {
				t.Errorf("%s: %+v", how, a)
				continue
			}
			if *a.Leaves != want {
				t.Errorf("%s: %s leaves %+v; drydock's own scan of it: %+v", how, a.Name, *a.Leaves, want)
			}
			if a.Fixes == 0 || a.Fixes > b.Findings.Total {
				t.Errorf("%s: %s fixes %d of the base's %d findings", how, a.Name, a.Fixes, b.Findings.Total)
			}
			wantNote := map[string]string{
				"alpine:3.16.9":                "linux/amd64, not the base's linux/arm64",
				"legacy.example/almalinux:8.8": "linux/amd64, not the base's linux/arm64",
				"busybox:1.38.0-musl":          "linux/amd64, not the base's linux/arm64; its scan: no OS package database found (no os-release and no apk, dpkg or rpm database): only language packages are reported",
			}[a.Name]
			if a.Note != wantNote {
				t.Errorf("%s: %s note %q, want %q (its platform, and its scan's limits)", how, a.Name, a.Note, wantNote)
			}
			scanned = append(scanned, *a.Leaves)
			t.Logf("%s: %s leaves %+v, fixes %d of %d", how, a.Name, *a.Leaves, a.Fixes, b.Findings.Total)
		}
		// alpine before AlmaLinux 8.8 by what they leave; busybox, which
		// leaves fewer than both, after them for its scan's limits.
		if len(scanned) != 3 || cmpCounts(scanned[0], scanned[1]) >= 0 || cmpCounts(scanned[2], scanned[0]) >= 0 {
			t.Errorf("%s: leaves %+v: the test no longer shows the ranking by counts, nor a scan with limits ranked after those without", how, scanned)
		}
	}
	// The JSON report, checked against the published schema (bump "other").
	const schemaID = "https://github.com/drydock-scan/drydock/docs/json-schema/drydock-report-v1.schema.json"
	schema, err := reporttest.CompileSchema(schemaID, map[string]string{schemaID: "../../docs/json-schema/drydock-report-v1.schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	otherJSON := func(more ...string) *result.BaseImage {
		t.Helper()
		res := drydockIn(t, cache, append([]string{"image", "--db", testDB, "--format", "json", appRef}, more...)...)
		if res.code != 0 && res.code != 1 {
			t.Fatalf("drydock image %v: exit %d\n%s", more, res.code, res.stderr)
		}
		if err := schema.Validate([]byte(res.stdout)); err != nil {
			t.Errorf("drydock image %v: the report does not match the JSON schema: %v", more, err)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("drydock image %v: %v", more, err)
		}
		return rep.BaseImage
	}
	checkOther("--base-advice-other", otherJSON("--base-advice-other"))
	checkOther("--base-advice --base-advice-other", otherJSON("--base-advice", "--base-advice-other"))

	// The table says it.
	table := drydockIn(t, cache, "image", "--db", testDB, "--base-advice-other", appRef)
	for _, want := range []string{
		"minor bump → almalinux:9.1 leaves",
		fmt.Sprintf("other base → alpine:3.16.9 leaves %d finding(s) (%d critical, %d high)", direct["alpine:3.16.9"].Total, direct["alpine:3.16.9"].Critical, direct["alpine:3.16.9"].High),
		fmt.Sprintf("other base → busybox:1.38.0-musl leaves %d finding(s)", direct["busybox:1.38.0-musl"].Total),
		"(linux/amd64, not the base's linux/arm64; its scan: no OS package database found",
		"other base → gone.example/base:1.0: not scanned: ",
	} {
		if !strings.Contains(table.stdout, want) {
			t.Errorf("the table lacks %q:\n%.2000s", want, table.stdout)
		}
	}

	// The environment form.
	t.Setenv("DRYDOCK_BASE_ADVICE_OTHER", "true")
	checkOther("$DRYDOCK_BASE_ADVICE_OTHER", otherJSON())
}

// cmpCounts orders counts by critical, then high, then total.
func cmpCounts(x, y result.BaseCounts) int {
	switch {
	case x.Critical != y.Critical:
		return x.Critical - y.Critical
	case x.High != y.High:
		return x.High - y.High
	}
	return x.Total - y.Total
}
