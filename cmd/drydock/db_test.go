package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/vulndb"
	dbupdate "github.com/drydock-scan/drydock/internal/vulndb/update"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

// sharedNative returns a path under the shared data's native/ folder
// ($DRYDOCK_SHARED_DATA, beside the repository, or /work/shared/data),
// skipping the test when the shared data is absent (failing under CI).
func sharedNative(t *testing.T, rel string) string {
	t.Helper()
	var roots []string
	if d := os.Getenv("DRYDOCK_SHARED_DATA"); d != "" {
		roots = append(roots, d)
	}
	roots = append(roots, "../../../shared/data", "/work/shared/data")
	for _, r := range roots {
		p := filepath.Join(r, "native", filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("shared test data native/%s not found in %v", rel, roots)
	}
	t.Skipf("shared test data native/%s not found", rel)
	return ""
}

var osvArchive = regexp.MustCompile(`^/[^/]+/all\.zip$`)

// osvBucket serves a directory as the OSV bucket does: <Ecosystem>/all.zip
// and nothing else (no drydock-native.json).
func osvBucket(t *testing.T, dir string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !osvArchive.MatchString(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(dir, filepath.FromSlash(path.Clean(r.URL.Path))))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// secdbOrigin serves Alpine secdb branch directories as
// secdb.alpinelinux.org does: an index page of branch links, and
// <branch>/main.json, <branch>/community.json.
func secdbOrigin(t *testing.T, dir string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.ServeFile(w, r, filepath.Join(dir, filepath.FromSlash(path.Clean(r.URL.Path))))
			return
		}
		if err := vulndbtest.WriteSecDBIndex(w, dir); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// kevOrigin serves the KEV catalog at CISA's path; it returns its URL.
func kevOrigin(t *testing.T, file string) string {
	const p = "/sites/default/files/feeds/known_exploited_vulnerabilities.json"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != p {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, file)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + p
}

func absPath(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// closedURL is a URL nothing listens on.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// TestDBUpdateOrigins: `db update` from an OSV bucket (no
// drydock-native.json, as the real one) takes the Alpine secdb and the KEV
// catalog from their origins, here local servers laid out like them; an
// Alpine image then gets its secdb findings and an AlmaLinux image its KEV
// mark. Before, the native feeds were silently skipped over such a mirror.
func TestDBUpdateOrigins(t *testing.T) {
	secdb := secdbOrigin(t, sharedNative(t, "alpine-secdb"))
	kev := kevOrigin(t, sharedNative(t, "cisa-kev/known_exploited_vulnerabilities.json"))
	osv := osvBucket(t, mirrorDir)
	db := filepath.Join(t.TempDir(), "drydock.db")
	res := drydock(t, "db", "update", "--source", osv, "--alpine-secdb", secdb, "--kev", kev, "--db", db)
	if res.code != 0 {
		t.Fatalf("db update: exit %d\n%s", res.code, res.stderr)
	}
	// Alpine is not said to be skipped: the secdb has it.
	if !strings.Contains(res.stderr, "ecosystems not published by any mirror (skipped)") || !strings.Contains(res.stderr, "Debian") ||
		regexp.MustCompile(`skipped.*Alpine`).MatchString(res.stderr) {
		t.Errorf("db update stderr:\n%s", res.stderr)
	}

	rep, run := scanJSON(t, "--db", db, alpineImage)
	if run.code != 0 {
		t.Fatalf("alpine scan: exit %d\n%s", run.code, run.stderr)
	}
	want := []string{"busybox CVE-2023-42366", "ssl_client CVE-2023-42366"}
	if diff := cmp.Diff(want, pairs(rep)); diff != "" {
		t.Errorf("alpine findings (-want +got):\n%s", diff)
	}

	rep, run = scanJSON(t, "--db", db, almaImage(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz"))
	if run.code != 0 {
		t.Fatalf("almalinux scan: exit %d\n%s", run.code, run.stderr)
	}
	i := slices.IndexFunc(rep.Findings, func(f finding.Finding) bool { return f.Package.Name == "glibc" && f.ID == "ALSA-2023:5453" })
	if i < 0 || !rep.Findings[i].KEV {
		t.Errorf("glibc ALSA-2023:5453 (CVE-2023-4911) not marked known exploited: found %v", i >= 0)
	}
}

// TestDBUpdateNoSourceError: when nothing can be fetched, the error names
// each source, where it was looked for and why.
func TestDBUpdateNoSourceError(t *testing.T) {
	empty := t.TempDir()
	down := closedURL(t)
	res := drydock(t, "db", "update", "--source", empty, "--ecosystem", "npm,Go", "--alpine-secdb", down, "--kev", "none",
		"--db", filepath.Join(t.TempDir(), "drydock.db"))
	if res.code == 0 {
		t.Fatalf("exit 0:\n%s", res.stderr)
	}
	for _, want := range []string{
		"no source could be fetched:\n",
		"  alpine-secdb: " + down + "/: ",
		"connection refused",
		"  cisa-kev: turned off\n",
		"  osv/Go: " + filepath.Join(empty, "Go", "all.zip") + ": no such file\n",
		"  osv/npm: " + filepath.Join(empty, "npm", "all.zip") + ": no such file",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
}

// TestDBUpdateAlpineNotSkipped: an update from the repository's mirror
// (Alpine secdb, no OSV Alpine archive) does not log Alpine as skipped.
func TestDBUpdateAlpineNotSkipped(t *testing.T) {
	res := drydock(t, "db", "update", "--source", mirrorDir, "--db", filepath.Join(t.TempDir(), "drydock.db"))
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	line := ""
	for _, l := range strings.Split(res.stderr, "\n") {
		if strings.Contains(l, "skipped") {
			line = l
		}
	}
	if !strings.Contains(line, "Debian") || strings.Contains(line, "Alpine") {
		t.Errorf("skipped line %q (want Debian, not Alpine); stderr:\n%s", line, res.stderr)
	}
}

// TestDBStatus: the status shows the real age of the database ("9d4h", not
// "220h0m0s" or "0s") and the feeds it lacks.
func TestDBStatus(t *testing.T) {
	db := filepath.Join(t.TempDir(), "drydock.db")
	built := time.Now().Add(-(9*24*time.Hour + 4*time.Hour + 10*time.Minute))
	_, err := dbupdate.Run(context.Background(), dbupdate.Options{
		Mirrors: []string{mirrorDir}, Ecosystems: []string{"npm", "Debian"}, Path: db, KEV: dbupdate.Off, AlpineSecDB: dbupdate.Off,
		Now: func() time.Time { return built },
	})
	if err != nil {
		t.Fatal(err)
	}
	res := drydock(t, "db", "status", "--db", db)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	for _, want := range []string{
		"(9d4h ago)",
		"Missing (not in this database: scans report partial coverage):",
		"  osv/Debian  " + absPath(t, filepath.Join(mirrorDir, "Debian", "all.zip")) + ": not published by any mirror\n",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, res.stdout)
		}
	}
	// The mirror carries the secdb and KEV files, so only what it lacks
	// is missing: nothing here.
	if strings.Contains(res.stdout, "turned off") {
		t.Errorf("a feed the mirror carries is listed as missing:\n%s", res.stdout)
	}
}

// TestDBStatusDamaged: `db status` fails on a database that opens but is
// damaged further in (a scan would fail on it), instead of printing it.
func TestDBStatusDamaged(t *testing.T) {
	data, err := os.ReadFile(testDB)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	if err := os.WriteFile(good, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if res := drydock(t, "db", "status", "--db", good); res.code != 0 {
		t.Fatalf("intact database: exit %d\n%s", res.code, res.stderr)
	}
	for _, at := range []int{3, 2} {
		bad := slices.Clone(data)
		for i := len(bad) / at; i < len(bad)/at+16<<10; i++ {
			bad[i] = 0
		}
		p := filepath.Join(dir, fmt.Sprintf("zeroed-%d.db", at))
		if err := os.WriteFile(p, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := vulndb.Open(context.Background(), p); err != nil {
			t.Fatalf("the damage is meant to leave the file openable: %v", err)
		}
		res := drydock(t, "db", "status", "--db", p)
		if res.code == 0 || !strings.Contains(res.stderr, p) || strings.Contains(res.stdout, "Records by ecosystem") {
			t.Errorf("damaged at 1/%d: exit %d\nstdout:\n%s\nstderr:\n%s", at, res.code, res.stdout, res.stderr)
		}
	}
}
