package main

// Issue 21: --skip-dirs / --skip-files (Trivy's, applied in the layer
// walker) and --timeout against a registry that hangs.

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// hostilePackageJSON is a package.json no parser can read: binary garbage
// (a few MB; the walker would read 100 MB of it the same way).
var hostilePackageJSON = []byte("\x00\xff{{{" + strings.Repeat("\xfe garbage \x00", 400_000))

// skipImage is an app layer with a vulnerable lodash, a hostile
// package.json, a GitHub token and the EICAR test file under
// /app/node_modules, written as an OCI layout.
func skipImage(t *testing.T) string {
	t.Helper()
	lodash, err := os.ReadFile(filepath.Join(extractData, "npm/testdata/installed/app/node_modules/lodash/package.json"))
	if err != nil {
		t.Fatal(err)
	}
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{Files: map[string][]byte{
			"app/package.json":                     []byte(`{"name":"shop","version":"1.0.0"}`),
			"app/node_modules/lodash/package.json": lodash,
			"app/node_modules/evil/package.json":   hostilePackageJSON,
			"app/node_modules/evil/.npmrc":         []byte("//registry.npmjs.org/:_authToken=ghp_" + "r8Vq2LmN5kTz9XwYb4Hc7JdF3sPq6GaE1uKo\n"),
			"app/node_modules/evil/eicar.com":      []byte(eicar),
		}, CreatedBy: "COPY app /app"},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "layout")
	if err := testimage.WriteOCILayout(dir, "shop:1", img); err != nil {
		t.Fatal(err)
	}
	return "oci:" + dir
}

func noteAbout(rep *report.Report, match func(inventory.Note) bool) bool {
	return slices.ContainsFunc(rep.Notes, match)
}

// TestSkipDirsFlag: `drydock image --skip-dirs` never reads the skipped
// directory — the hostile package.json in it, which the npm extractor
// fails on (a warning) when the same image is scanned without the flag,
// is not parsed; the vulnerable lodash, the token and EICAR under it are
// not reported (no extractor, secret rule or malware check saw them) —
// and the report says what was skipped. --skip-files and `drydock sbom` alike.
func TestSkipDirsFlag(t *testing.T) {
	ref := skipImage(t)
	hostile := func(n inventory.Note) bool {
		return n.Path == "/app/node_modules/evil/package.json" && n.Extractor == "lang/npm" && n.Level == "warning"
	}

	rep, res := scanJSON(t, ref)
	if res.code != 1 || len(rep.Malware) == 0 || len(rep.Secrets) == 0 {
		t.Fatalf("without --skip-dirs: exit %d, %d malware, %d secrets; want 1 (EICAR) and the token\n%s", res.code, len(rep.Malware), len(rep.Secrets), res.stderr)
	}
	if !slices.Contains(pairs(rep), "lodash GHSA-35jh-r3h4-6jhm") {
		t.Errorf("without --skip-dirs: findings %v, want lodash's", pairs(rep))
	}
	if !noteAbout(rep, hostile) {
		t.Errorf("without --skip-dirs the hostile package.json is read and fails: no such note in %+v", rep.Notes)
	}

	rep, res = scanJSON(t, "--skip-dirs", "**/node_modules", ref)
	if res.code != 0 {
		t.Fatalf("--skip-dirs: exit %d\n%s", res.code, res.stderr)
	}
	if len(rep.Findings) != 0 || len(rep.Malware) != 0 || len(rep.Secrets) != 0 {
		t.Errorf("--skip-dirs: findings %v, %d malware, %d secrets; want none (all under the skipped dir)", pairs(rep), len(rep.Malware), len(rep.Secrets))
	}
	if noteAbout(rep, hostile) {
		t.Errorf("--skip-dirs: the hostile package.json was parsed")
	}
	want := `--skip-dirs "**/node_modules": 4 files in 1 layer not read (not scanned for packages, secrets or malware)`
	if !noteAbout(rep, func(n inventory.Note) bool { return n.Level == "warning" && n.Message == want }) {
		t.Errorf("--skip-dirs: no note %q in %+v", want, rep.Notes)
	}
	// The table shows it too.
	if tab := drydock(t, "image", "--db", testDB, "--skip-dirs", "/app/node_modules", ref); !strings.Contains(tab.stdout, `--skip-dirs "/app/node_modules": 4 files`) {
		t.Errorf("table: no skip note\n%s", tab.stdout)
	}

	// --skip-files, comma-separated and repeated, on drydock sbom; a
	// pattern that skipped nothing is said too.
	res = drydock(t, "sbom", "--format", "json", "--skip-files", "/app/node_modules/lodash/package.json,/nothing", "--skip-files", "**/evil/*.json", ref)
	if res.code != 0 {
		t.Fatalf("sbom --skip-files: exit %d\n%s", res.code, res.stderr)
	}
	var sb report.Report
	if err := json.Unmarshal([]byte(res.stdout), &sb); err != nil {
		t.Fatal(err)
	}
	if got := packageSet(&sb); len(got) != 1 || noteAbout(&sb, hostile) {
		t.Errorf("sbom --skip-files: packages %v (want only the app's), hostile file parsed: %v", got, noteAbout(&sb, hostile))
	}
	for _, s := range []string{`--skip-files \"/app/node_modules/lodash/package.json\": 1 file in 1 layer not read`, `--skip-files \"/nothing\" matched no file in the image`, `--skip-files \"**/evil/*.json\": 1 file`} {
		if !strings.Contains(res.stdout, s) {
			t.Errorf("sbom --skip-files: no note %s", s)
		}
	}

	// From drydock.yaml, as a list (pflag's Replace path).
	conf := filepath.Join(t.TempDir(), "drydock.yaml")
	if err := os.WriteFile(conf, []byte("image:\n  skip-dirs:\n    - \"**/evil\"\n    - /app/node_modules/lodash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, res = scanJSON(t, "--config", conf, ref)
	if res.code != 0 || len(rep.Findings) != 0 || !noteAbout(rep, func(n inventory.Note) bool {
		return strings.HasPrefix(n.Message, `--skip-dirs "**/evil": 3 files`)
	}) {
		t.Errorf("skip-dirs from drydock.yaml: exit %d, findings %v, notes %+v\n%s", res.code, pairs(rep), rep.Notes, res.stderr)
	}
	if err := os.WriteFile(conf, []byte("image:\n  skip-dirs: [\"/app/[a-\"]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := drydock(t, "image", "--config", conf, "--db", testDB, ref); res.code != 2 || !strings.Contains(res.stderr, "not a valid glob") {
		t.Errorf("bad pattern in drydock.yaml: exit %d, want 2\n%s", res.code, res.stderr)
	}

	// A pattern that is no glob is a usage error, from the flag or the
	// environment, never a scan that reads what it meant to skip.
	if res := drydock(t, "image", "--db", testDB, "--skip-dirs", "/app/[a-", ref); res.code != 2 || !strings.Contains(res.stderr, "not a valid glob") {
		t.Errorf("bad pattern: exit %d, want 2\n%s", res.code, res.stderr)
	}
	t.Setenv("DRYDOCK_SKIP_FILES", "/")
	if res := drydock(t, "sbom", ref); res.code != 2 || !strings.Contains(res.stderr, "DRYDOCK_SKIP_FILES") {
		t.Errorf("bad pattern in $DRYDOCK_SKIP_FILES: exit %d, want 2\n%s", res.code, res.stderr)
	}
}

// TestTimeoutHangingRegistry (issue 21): against a registry that stops
// answering — at the manifest, or at the layer blob once the scan is
// under way — `drydock image --timeout 2s` ends within the limit plus a
// second, exit 3, naming --timeout. (The registry's own request timeouts
// are a minute: only --timeout can end these.)
func TestTimeoutHangingRegistry(t *testing.T) {
	reg := testimage.StartMisbehavingRegistry(t)
	img, err := testimage.Build(testimage.Config{}, testimage.Layer{
		Files: map[string][]byte{"app/package.json": []byte(`{"name":"shop","version":"1.0.0"}`)}, CreatedBy: "COPY app /app"})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(reg.Host + "/t/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	layerDigest, err := layers[0].Digest()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		fault testimage.Fault
		match func(*http.Request) bool
	}{
		{"manifest never answered", testimage.NoAnswer, testimage.IsManifest},
		{"layer stalls mid-blob", testimage.StallMidBody, testimage.IsBlob(layerDigest.String())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg.Misbehave(tc.fault, tc.match)
			const limit = 2 * time.Second
			start := time.Now()
			res := drydock(t, "image", "--timeout", "2s", "--insecure-registry", "--no-cache", "--db", testDB, reg.Host+"/t/app:1")
			took := time.Since(start)
			if reg.Hits() == 0 {
				t.Fatalf("the registry never misbehaved: exit %d\n%s", res.code, res.stderr)
			}
			if took > limit+time.Second {
				t.Errorf("took %s, want at most %s (the limit + 1 s)", took, limit+time.Second)
			}
			if res.code != 3 || !strings.Contains(res.stderr, "did not finish within 2s (--timeout)") {
				t.Errorf("exit %d, want 3 with an error naming --timeout\n%s", res.code, res.stderr)
			}
			t.Logf("took %s: %s", took.Round(time.Millisecond), strings.TrimSpace(res.stderr))
		})
	}
}
