package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// TestTrivyInput: --input FILE is the positional reference by Trivy's
// name, for image and sbom; a missing file is an error naming it, never a
// registry pull.
func TestTrivyInput(t *testing.T) {
	abs, err := filepath.Abs(alpineImage)
	if err != nil {
		t.Fatal(err)
	}
	want, res := scanJSON(t, alpineImage)
	if res.code != 0 {
		t.Fatalf("positional: exit %d: %s", res.code, res.stderr)
	}
	got, res := scanJSON(t, "--input", alpineImage)
	if res.code != 0 {
		t.Fatalf("--input: exit %d: %s", res.code, res.stderr)
	}
	if d := cmp.Diff(pairs(want), pairs(got)); d != "" || len(got.Packages) != 14 {
		t.Errorf("--input: %d packages, findings differ from the positional scan (-want +got):\n%s", len(got.Packages), d)
	}

	// A bare file name in the working directory, and one that does not
	// exist but reads like an image name.
	dir := t.TempDir()
	data, err := os.ReadFile(abs)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.tar"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	var rep report.Report
	if res := drydock(t, "sbom", "--format", "json", "--input", "app.tar"); res.code != 0 || json.Unmarshal([]byte(res.stdout), &rep) != nil || len(rep.Packages) != 14 {
		t.Errorf("sbom --input app.tar: exit %d, %d packages, want 0 and 14\n%s", res.code, len(rep.Packages), res.stderr)
	}
	if res := drydock(t, "image", "--db", testDB, "--input", "alpine"); res.code != 3 || !strings.Contains(res.stderr, `no such file or directory: "./alpine"`) {
		t.Errorf("--input alpine (missing): exit %d, stderr %q; want 3 naming the file", res.code, res.stderr)
	}
	if res := drydock(t, "image", "--db", testDB, "--input", "app.tar", "app.tar"); res.code != 2 || !strings.Contains(res.stderr, "not both") {
		t.Errorf("--input and an argument: exit %d, stderr %q; want 2", res.code, res.stderr)
	}
	if res := drydock(t, "image", "--db", testDB, "--input", "registry:alpine:3.16"); res.code != 2 {
		t.Errorf("--input registry:…: exit %d, want 2", res.code)
	}
	if res := drydock(t, "image", "--db", testDB); res.code != 2 || !strings.Contains(res.stderr, "--input") {
		t.Errorf("no image: exit %d, stderr %q; want 2", res.code, res.stderr)
	}
}

// TestTrivyAcceptedFlags: the flags that ask for what drydock always does
// run a Trivy user's line unchanged, with the same result.
func TestTrivyAcceptedFlags(t *testing.T) {
	want, _ := scanJSON(t, alpineImage)
	got, res := scanJSON(t, "--list-all-pkgs", "--skip-db-update", "--offline-scan", "--no-progress", alpineImage)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if d := cmp.Diff(pairs(want), pairs(got)); d != "" || len(got.Packages) != len(want.Packages) {
		t.Errorf("%d packages (want %d); findings (-want +got):\n%s", len(got.Packages), len(want.Packages), d)
	}
	t.Setenv("DRYDOCK_SKIP_DB_UPDATE", "true")
	if res := drydock(t, "scan-sbom", "--db", testDB, "--offline-scan", "--list-all-pkgs", "../../testdata/sbom/does-not-exist.json"); res.code != 3 {
		t.Errorf("scan-sbom with the accepted flags: exit %d, want 3 (the missing file, not a flag error)\n%s", res.code, res.stderr)
	}
}

// TestPkgTypes: --pkg-types os leaves the npm package unmatched, library
// the Alpine packages; what is left out is a coverage gap ("excluded") in
// every report, never a clean result.
func TestPkgTypes(t *testing.T) {
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{Tar: gunzipFile(t, layerFromArchive(t, alpineImage)), CreatedBy: "ADD alpine-minirootfs-3.16.9 /"},
		testimage.Layer{Files: map[string][]byte{
			"app/node_modules/lodash/package.json": []byte(`{"name": "lodash", "version": "4.17.15", "license": "MIT"}`),
		}, CreatedBy: "COPY node_modules /app/node_modules"})
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "app.tar")
	if err := testimage.WriteDockerArchive(archive, "app:1", img); err != nil {
		t.Fatal(err)
	}
	all := []string{"busybox CVE-2023-42366", "lodash GHSA-35jh-r3h4-6jhm", "ssl_client CVE-2023-42366"}
	for _, tc := range []struct {
		types    string
		findings []string
		excluded []string // coverage entries marked excluded
	}{
		{"os,library", all, nil},
		{"os", []string{"busybox CVE-2023-42366", "ssl_client CVE-2023-42366"}, []string{"npm"}},
		{"library", []string{"lodash GHSA-35jh-r3h4-6jhm"}, []string{"Alpine:v3.16"}},
		{"OS, Library", all, nil},
	} {
		t.Run(tc.types, func(t *testing.T) {
			rep, res := scanJSON(t, "--scanners", "vuln", "--pkg-types", tc.types, archive)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if d := cmp.Diff(tc.findings, pairs(rep)); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			var excluded []string
			for _, c := range rep.Coverage {
				if c.Status == "excluded" {
					excluded = append(excluded, c.Ecosystem)
					if len(c.Reasons) == 0 || !strings.Contains(c.Reasons[0], "--pkg-types") || c.Packages == 0 {
						t.Errorf("%s: %d packages, reasons %q; want its packages counted and --pkg-types named", c.Ecosystem, c.Packages, c.Reasons)
					}
				}
			}
			if d := cmp.Diff(tc.excluded, excluded); d != "" {
				t.Errorf("excluded coverage (-want +got):\n%s", d)
			}
			if len(rep.Packages) != 15 {
				t.Errorf("%d packages, want 15: the packages left unmatched are still listed", len(rep.Packages))
			}
			if rep.Summary.CoverageGaps != len(tc.excluded) {
				t.Errorf("summary: %d coverage gaps, want %d", rep.Summary.CoverageGaps, len(tc.excluded))
			}
			if len(tc.excluded) > 0 && !strings.Contains(res.stderr, "status=excluded") {
				t.Errorf("the exclusion is not logged:\n%s", res.stderr)
			}
		})
	}
	t.Run("table", func(t *testing.T) {
		res := drydock(t, "image", "--db", testDB, "--scanners", "vuln", "--pkg-types", "library", archive)
		if res.code != 0 || !strings.Contains(res.stdout, "Alpine:v3.16") || !strings.Contains(res.stdout, "excluded") {
			t.Errorf("exit %d; the table does not show the excluded Alpine packages:\n%s", res.code, res.stdout)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("DRYDOCK_PKG_TYPES", "os")
		rep, _ := scanJSON(t, "--scanners", "vuln", archive)
		if d := cmp.Diff([]string{"busybox CVE-2023-42366", "ssl_client CVE-2023-42366"}, pairs(rep)); d != "" {
			t.Errorf("$DRYDOCK_PKG_TYPES=os: findings (-want +got):\n%s", d)
		}
	})
	t.Run("scan-sbom", func(t *testing.T) {
		sbom := filepath.Join(t.TempDir(), "bom.json")
		if res := drydock(t, "sbom", "--format", "cyclonedx", "-o", sbom, archive); res.code != 0 {
			t.Fatalf("sbom: exit %d: %s", res.code, res.stderr)
		}
		res := drydock(t, "scan-sbom", "--db", testDB, "--format", "json", "--pkg-types", "library", sbom)
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("exit %d: %v\n%s", res.code, err, res.stderr)
		}
		if d := cmp.Diff([]string{"lodash GHSA-35jh-r3h4-6jhm"}, pairs(&rep)); d != "" {
			t.Errorf("findings (-want +got):\n%s", d)
		}
	})
	if res := drydock(t, "image", "--db", testDB, "--scanners", "vuln", "--pkg-types", "os", "--policy", "builtin:complete-coverage", archive); res.code != 1 || !strings.Contains(res.stderr, "npm (excluded)") {
		t.Errorf("builtin:complete-coverage with --pkg-types os: exit %d, want 1 naming npm (excluded)\n%s", res.code, res.stderr)
	}
	if res := drydock(t, "image", "--db", testDB, "--pkg-types", "os,lib", archive); res.code != 2 || !strings.Contains(res.stderr, `"lib"`) {
		t.Errorf("--pkg-types os,lib: exit %d, stderr %q; want 2 naming lib", res.code, res.stderr)
	}
}

// TestRegistryCredentialFlags: --username/--password, their variables and
// --password-stdin authenticate against the distribution registry with
// htpasswd auth, with no Docker config file to fall back on.
func TestRegistryCredentialFlags(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	ca := testimage.MakeCA(t, t.TempDir())
	host := testimage.StartRegistry(t, bin, &ca)
	img, err := testimage.Build(testimage.Config{}, testimage.Layer{Tar: gunzipFile(t, layerFromArchive(t, alpineImage)), CreatedBy: "ADD alpine-minirootfs-3.16.9 /"})
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/team/alpine:3.16.9"
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: ca.Pool}
	if err := remote.Write(tag, img, remote.WithTransport(tr),
		remote.WithAuth(&authn.Basic{Username: testimage.RegistryUser, Password: testimage.RegistryPassword})); err != nil {
		t.Fatalf("pushing: %v", err)
	}
	// No Docker config file: only the flags can authenticate. The scans run
	// in this process, where SSL_CERT_FILE is already read, so they skip TLS
	// verification (--insecure-registry) rather than trust the test CA.
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	scanWith := func(stdin string, args ...string) cliRun {
		var out, errb bytes.Buffer
		var in io.Reader
		if stdin != "" {
			in = strings.NewReader(stdin)
		}
		args = append([]string{"--cache-dir", t.TempDir(), "sbom", "--insecure-registry", "--format", "json"}, args...)
		code := run(context.Background(), append(args, ref), in, &out, &errb)
		return cliRun{code, out.String(), errb.String()}
	}
	packages := func(t *testing.T, res cliRun) int {
		t.Helper()
		var rep report.Report
		if res.code != 0 || json.Unmarshal([]byte(res.stdout), &rep) != nil {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		return len(rep.Packages)
	}

	if res := scanWith(""); res.code != 3 || !strings.Contains(res.stderr, "401") {
		t.Fatalf("without credentials: exit %d, stderr %q; want 3 and a 401 (else the test proves nothing)", res.code, res.stderr)
	}
	t.Run("flags", func(t *testing.T) {
		if n := packages(t, scanWith("", "--username", testimage.RegistryUser, "--password", testimage.RegistryPassword)); n != 14 {
			t.Errorf("%d packages, want 14", n)
		}
	})
	t.Run("password-stdin", func(t *testing.T) {
		if n := packages(t, scanWith(testimage.RegistryPassword+"\n", "--username", testimage.RegistryUser, "--password-stdin")); n != 14 {
			t.Errorf("%d packages, want 14", n)
		}
	})
	t.Run("environment", func(t *testing.T) {
		t.Setenv("DRYDOCK_USERNAME", testimage.RegistryUser)
		t.Setenv("DRYDOCK_PASSWORD", testimage.RegistryPassword)
		if n := packages(t, scanWith("")); n != 14 {
			t.Errorf("%d packages, want 14", n)
		}
	})
	t.Run("image", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"--cache-dir", t.TempDir(), "image", "--insecure-registry", "--db", testDB, "--format", "json",
			"--username", testimage.RegistryUser, "--password", testimage.RegistryPassword, ref}, nil, &out, &errb)
		var rep report.Report
		if code != 0 || json.Unmarshal(out.Bytes(), &rep) != nil {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if got := pairs(&rep); !slices.Equal(got, []string{"busybox CVE-2023-42366", "ssl_client CVE-2023-42366"}) {
			t.Errorf("findings %v", got)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		res := scanWith("", "--username", testimage.RegistryUser, "--password", "wrong")
		if res.code != 3 || !strings.Contains(res.stderr, "401") {
			t.Errorf("exit %d, stderr %q; want 3 and a 401", res.code, res.stderr)
		}
		if strings.Contains(res.stderr, "wrong") {
			t.Errorf("the password is in the error: %q", res.stderr)
		}
	})
	t.Run("usage errors", func(t *testing.T) {
		for _, tc := range []struct {
			stdin string
			args  []string
		}{
			{"", []string{"--username", testimage.RegistryUser}},
			{"", []string{"--password", "x"}},
			{"", []string{"--registry-token", "t", "--username", "u", "--password", "p"}},
			{"x", []string{"--username", "u", "--password", "p", "--password-stdin"}},
			{"\n", []string{"--username", "u", "--password-stdin"}},
		} {
			if res := scanWith(tc.stdin, tc.args...); res.code != 2 {
				t.Errorf("%v: exit %d, want 2\n%s", tc.args, res.code, res.stderr)
			}
		}
	})
}

// TestRegistryCredentialKeychain: what each combination of the credential
// flags hands go-containerregistry for any registry. (The registry of the
// tests speaks htpasswd basic auth only, so the bearer token is checked
// here, not against it.)
func TestRegistryCredentialKeychain(t *testing.T) {
	for _, tc := range []struct {
		c    compatFlags
		want *authn.AuthConfig // nil: no keychain (the Docker config decides)
	}{
		{compatFlags{}, nil},
		{compatFlags{username: "u", password: "p"}, &authn.AuthConfig{Username: "u", Password: "p"}},
		{compatFlags{registryToken: "tok"}, &authn.AuthConfig{RegistryToken: "tok"}},
	} {
		if err := tc.c.credentials(nil); err != nil {
			t.Fatal(err)
		}
		if tc.want == nil {
			if tc.c.keychain != nil {
				t.Errorf("%+v: a keychain without credentials", tc.c)
			}
			continue
		}
		reg, err := name.NewRegistry("registry.example.com")
		if err != nil {
			t.Fatal(err)
		}
		a, err := tc.c.keychain.Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("auth config (-want +got):\n%s", d)
		}
	}
}

// TestWorkdirIgnoreFiles: with no --ignore-file, the working directory's
// .drydockignore.yaml, .trivyignore.yaml and .trivyignore are read, as
// Trivy reads .trivyignore, and the report and stderr say so;
// --ignore-file "" reads none.
func TestWorkdirIgnoreFiles(t *testing.T) {
	image, err := filepath.Abs(alpineImage)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	write := func(name, data string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	suppressed := func(rep *report.Report) []string {
		var out []string
		for _, f := range rep.Findings {
			for _, a := range f.Annotations {
				if a.Kind == "suppressed" {
					out = append(out, f.Package.Name+" "+a.Source)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	pickedNotes := func(rep *report.Report) []string {
		var out []string
		for _, n := range rep.Notes {
			if strings.Contains(n.Message, "working directory") {
				out = append(out, n.Path)
			}
		}
		slices.Sort(out) // the report sorts its notes
		return out
	}

	// Trivy's text file: busybox's CVE (both packages).
	write(".trivyignore", "# accepted until the base image moves\nCVE-2023-42366\n")
	rep, res := scanJSON(t, "--scanners", "vuln", image)
	if d := cmp.Diff([]string{"busybox .trivyignore", "ssl_client .trivyignore"}, suppressed(rep)); d != "" {
		t.Errorf(".trivyignore: suppressed (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{".trivyignore"}, pickedNotes(rep)); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	if !strings.Contains(res.stderr, "ignore file read from the working directory") || !strings.Contains(res.stderr, "path=.trivyignore") {
		t.Errorf("stderr does not say the file was read:\n%s", res.stderr)
	}

	// All three, Trivy's YAML as Trivy writes it.
	write(".trivyignore.yaml", "vulnerabilities:\n  - id: CVE-2023-42366\n    purls: [\"pkg:apk/alpine/ssl_client\"]\n    statement: not used\n")
	write(".drydockignore.yaml", "ignores:\n  - id: CVE-2023-42366\n    packages: [busybox]\n    reason: not used\n")
	write(".trivyignore", "# nothing\n")
	rep, _ = scanJSON(t, "--scanners", "vuln", image)
	if d := cmp.Diff([]string{"busybox .drydockignore.yaml", "ssl_client .trivyignore.yaml"}, suppressed(rep)); d != "" {
		t.Errorf("three files: suppressed (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{".drydockignore.yaml", ".trivyignore", ".trivyignore.yaml"}, pickedNotes(rep)); d != "" {
		t.Errorf("notes (-want +got):\n%s", d)
	}
	res = drydock(t, "image", "--db", testDB, "--scanners", "vuln", image)
	if !strings.Contains(res.stdout, ".trivyignore.yaml") {
		t.Errorf("the table does not name the ignore files read:\n%s", res.stdout)
	}

	// A named file, or '', and the working directory's are not read.
	rep, _ = scanJSON(t, "--scanners", "vuln", "--ignore-file", "", image)
	if len(suppressed(rep)) != 0 || len(pickedNotes(rep)) != 0 {
		t.Errorf("--ignore-file '': suppressed %v, notes %v; want none", suppressed(rep), pickedNotes(rep))
	}
	rep, _ = scanJSON(t, "--scanners", "vuln", "--ignore-file", ".trivyignore.yaml", image)
	if d := cmp.Diff([]string{"ssl_client .trivyignore.yaml"}, suppressed(rep)); d != "" || len(pickedNotes(rep)) != 0 {
		t.Errorf("--ignore-file .trivyignore.yaml: notes %v, suppressed (-want +got):\n%s", pickedNotes(rep), d)
	}

	// A broken file is an error that says why it was read.
	write(".trivyignore", "CVE-2023-42366 CVE-2023-0001\n")
	if res := drydock(t, "image", "--db", testDB, image); res.code != 2 || !strings.Contains(res.stderr, ".trivyignore:1") || !strings.Contains(res.stderr, "no --ignore-file was given") {
		t.Errorf("broken .trivyignore: exit %d, stderr %q; want 2 naming the file and why it was read", res.code, res.stderr)
	}
}
