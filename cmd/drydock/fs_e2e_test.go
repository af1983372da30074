package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report"
)

// fsTree writes files (slash paths) under a new directory.
func fsTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func fsJSON(t *testing.T, args ...string) (*report.Report, cliRun) {
	t.Helper()
	res := drydock(t, append([]string{"fs", "--db", testDB, "--format", "json"}, args...)...)
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("drydock fs %v: exit %d, output is not JSON: %v\nstderr: %s", args, res.code, err, res.stderr)
	}
	return &rep, res
}

// TestFSSourceCheckout scans a checkout: a lockfile (matched without
// --match-declared), a .env with a token, and a Dockerfile with each
// problem the checker knows, each reported with its file and line.
func TestFSSourceCheckout(t *testing.T) {
	gh := "ghp_" + "r8Vq2LmN5kTz9XwYb4Hc7JdF3sPq6GaE1uKo" // fake, assembled
	lock := `{"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": {
  "": {"name": "app", "version": "1.0.0", "dependencies": {"lodash": "4.17.15"}},
  "node_modules/lodash": {"version": "4.17.15", "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.15.tgz"}}}`
	dockerfile := "FROM node:latest\n" + // 1: latest tag
		"ADD https://example.com/tool.tgz /opt/\n" + // 2: ADD from a URL
		"RUN apt-get update && \\\n" + // 3: apt-get install without --no-install-recommends
		"    apt-get install -y curl\n" +
		"ENV GITHUB_TOKEN=" + gh + "\n" + // 5: secret in ENV
		"USER root\n" // 6: root; no HEALTHCHECK (reported at the last FROM, line 1)
	root := fsTree(t, map[string]string{
		"package-lock.json":      lock,
		".env":                   "GITHUB_TOKEN=" + gh + "\n",
		"Dockerfile":             dockerfile,
		"deploy/Dockerfile.prod": "FROM gcr.io/distroless/nodejs20-debian12:nonroot\nHEALTHCHECK CMD [\"/nodejs/bin/node\", \"-v\"]\nUSER 65532\n",
	})
	rep, res := fsJSON(t, root)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if got := pairs(rep); !slices.Contains(got, "lodash GHSA-35jh-r3h4-6jhm") {
		t.Errorf("findings %v: no lodash GHSA", got)
	}
	var secrets []string
	for _, s := range rep.Secrets {
		if strings.Contains(s.Match, gh) {
			t.Errorf("secret %s shown unredacted", s.RuleID)
		}
		secrets = append(secrets, s.Path)
	}
	if !slices.ContainsFunc(secrets, func(p string) bool { return strings.HasSuffix(p, ".env") }) {
		t.Errorf("secrets in %v: none in .env", secrets)
	}
	var mis []string
	for _, m := range rep.Misconfigs {
		mis = append(mis, m.ID+" "+m.Title[strings.LastIndexByte(m.Title, '(')+1:len(m.Title)-1])
	}
	slices.Sort(mis)
	want := []string{
		"DD-DF-001 Dockerfile:6", "DD-DF-002 Dockerfile:2", "DD-DF-003 Dockerfile:1",
		"DD-DF-004 Dockerfile:1", "DD-DF-005 Dockerfile:3", "DD-DF-006 Dockerfile:5",
	}
	if d := cmp.Diff(want, mis); d != "" {
		t.Errorf("misconfigurations (-want +got):\n%s", d)
	}

	// The table shows where each problem is, and the gate fails on them.
	tab := drydock(t, "fs", "--db", testDB, "--exit-code", "1", root)
	if tab.code != 1 {
		t.Errorf("--exit-code 1: exit %d\n%s", tab.code, tab.stderr)
	}
	for _, w := range strings.Fields("GHSA-35jh-r3h4-6jhm " + strings.Join(want, " ")) {
		if !strings.Contains(tab.stdout, w) {
			t.Errorf("table lacks %q:\n%s", w, tab.stdout)
		}
	}

	// The lockfile's packages are declared, not installed: fs matches
	// them by default, and not when told otherwise.
	off, _ := fsJSON(t, "--match-declared=false", root)
	if got := pairs(off); slices.Contains(got, "lodash GHSA-35jh-r3h4-6jhm") {
		t.Errorf("--match-declared=false: findings %v", got)
	}

	// --scanners replaces fs's default list.
	only, _ := fsJSON(t, "--scanners", "misconfig", root)
	if len(only.Findings) != 0 || len(only.Secrets) != 0 || len(only.Misconfigs) != len(want) {
		t.Errorf("--scanners misconfig: %d findings, %d secrets, %d misconfigurations", len(only.Findings), len(only.Secrets), len(only.Misconfigs))
	}

	// --skip-files reaches the Dockerfile checks too: a skipped Dockerfile
	// is not read.
	skipped, _ := fsJSON(t, "--skip-files", "/Dockerfile", root)
	if len(skipped.Misconfigs) != 0 {
		t.Errorf("--skip-files /Dockerfile: misconfigurations %v", skipped.Misconfigs)
	}
	if strings.Contains(tab.stdout, gh) {
		t.Error("table shows the token")
	}
}

func TestFSCleanAndMissing(t *testing.T) {
	root := fsTree(t, map[string]string{
		"Dockerfile": "FROM alpine:3.20\nRUN apk add --no-cache curl\nHEALTHCHECK CMD wget -qO- localhost:8080 || exit 1\nUSER 10001\n",
	})
	rep, res := fsJSON(t, root)
	if res.code != 0 || len(rep.Misconfigs) != 0 || len(rep.Findings) != 0 {
		t.Errorf("clean tree: exit %d, misconfigurations %v, findings %v\n%s", res.code, rep.Misconfigs, pairs(rep), res.stderr)
	}
	if got := drydock(t, "fs", "--db", testDB, filepath.Join(root, "missing")); got.code == 0 {
		t.Errorf("a missing path: exit 0")
	}
}

// TestRootfsIsImageDir: drydock rootfs PATH reports what drydock image
// dir:PATH does (installed packages, not a checkout's lockfiles).
func TestRootfsIsImageDir(t *testing.T) {
	root := alpineRootfs(t)
	want, res := scanJSON(t, "dir:"+root)
	if res.code != 0 || len(want.Findings) == 0 {
		t.Fatalf("image dir: exit %d, %d findings\n%s", res.code, len(want.Findings), res.stderr)
	}
	got := drydock(t, "rootfs", "--db", testDB, "--format", "json", root)
	var rep report.Report
	if err := json.Unmarshal([]byte(got.stdout), &rep); err != nil || got.code != 0 {
		t.Fatalf("rootfs: exit %d, %v\n%s", got.code, err, got.stderr)
	}
	if d := cmp.Diff(pairs(want), pairs(&rep)); d != "" {
		t.Errorf("rootfs findings differ from image dir: (-want +got):\n%s", d)
	}
}
