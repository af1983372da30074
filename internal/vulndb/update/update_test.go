package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/vulndb"
)

// mirrorServer serves a directory in the OSV bucket layout with ETags, or
// fails every request with 500. It counts requests and statuses.
type mirrorServer struct {
	*httptest.Server
	dir  string
	fail bool

	mu        sync.Mutex
	override  map[string][]byte // URL path → content served instead of the file
	requests  map[string]int    // URL path → requests
	statuses  map[int]int
	condition int // requests carrying If-None-Match
}

func newMirrorServer(t *testing.T, dir string, fail bool) *mirrorServer {
	m := &mirrorServer{dir: dir, fail: fail, override: map[string][]byte{}, requests: map[string]int{}, statuses: map[int]int{}}
	m.Server = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.Close)
	return m
}

func (m *mirrorServer) serve(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, m: m}
	m.mu.Lock()
	m.requests[r.URL.Path]++
	if r.Header.Get("If-None-Match") != "" {
		m.condition++
	}
	data, overridden := m.override[r.URL.Path]
	m.mu.Unlock()
	if m.fail {
		http.Error(rec, "mirror is down", http.StatusInternalServerError)
		return
	}
	if !overridden {
		var err error
		data, err = os.ReadFile(filepath.Join(m.dir, filepath.FromSlash(path.Clean(r.URL.Path))))
		if err != nil {
			http.NotFound(rec, r)
			return
		}
	}
	sum := sha256.Sum256(data)
	rec.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	http.ServeContent(rec, r, path.Base(r.URL.Path), time.Time{}, bytes.NewReader(data))
}

func (m *mirrorServer) setOverride(p string, data []byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if data == nil {
		delete(m.override, p)
	} else {
		m.override[p] = data
	}
}

func (m *mirrorServer) snapshot() (statuses map[int]int, conditional int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := map[int]int{}
	for k, v := range m.statuses {
		s[k] = v
	}
	clear(m.statuses)
	c := m.condition
	m.condition = 0
	return s, c
}

func (m *mirrorServer) count(p string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[p]
}

// statusRecorder counts the status before it is sent, so the count is
// complete by the time the client has the response.
type statusRecorder struct {
	http.ResponseWriter
	m *mirrorServer
}

func (s *statusRecorder) WriteHeader(code int) {
	s.m.mu.Lock()
	s.m.statuses[code]++
	s.m.mu.Unlock()
	s.ResponseWriter.WriteHeader(code)
}

// TestUpdateHTTP runs the update path against real zips served over HTTP:
// a failing first mirror, conditional re-fetch, a corrupt download.
func TestUpdateHTTP(t *testing.T) {
	ctx := context.Background()
	down := newMirrorServer(t, testMirror, true)
	good := newMirrorServer(t, testMirror, false)
	dir := t.TempDir()
	var progress bytes.Buffer
	opt := Options{
		Mirrors:    []string{down.URL, good.URL + "/"},
		Ecosystems: []string{"npm", "Maven"},
		Path:       filepath.Join(dir, "db", "drydock.db"),
		CacheDir:   filepath.Join(dir, "cache"),
		Client:     good.Client(),
		Progress:   &progress,
	}

	// 1. First run: everything comes from the second mirror.
	res, err := Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	// npm, Maven, alpine main, KEV and two NVD files (listed in drydock-native.json).
	if res.Downloaded != 6 || res.NotModified != 0 || res.UpToDate || len(res.Warnings) != 0 {
		t.Errorf("first run: %+v", res)
	}
	wantCounts := map[string]int{"Alpine:v3.16": 2172, "Maven": 2, "npm": 2}
	if diff := cmp.Diff(wantCounts, res.Metadata.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if n := down.count("/npm/all.zip"); n != 1 {
		t.Errorf("failing mirror saw %d requests for npm/all.zip, want 1", n)
	}
	for _, s := range res.Metadata.Sources {
		if !strings.HasPrefix(s.URL, good.URL+"/") || s.ETag == "" {
			t.Errorf("source %s: url %q etag %q", s.Name, s.URL, s.ETag)
		}
	}
	if !strings.Contains(progress.String(), "osv/npm: 2 records") {
		t.Errorf("progress output:\n%s", progress.String())
	}
	st, cond := good.snapshot()
	if st[http.StatusOK] != 7 || cond != 0 { // 6 files + the native index
		t.Errorf("first run statuses %v, conditional requests %d", st, cond)
	}

	// 2. Second run: every file answers 304, nothing is rebuilt.
	dbInfo, _ := os.Stat(opt.Path)
	res, err = Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !res.UpToDate || res.Downloaded != 0 || res.NotModified != 6 {
		t.Errorf("second run: %+v", res)
	}
	st, cond = good.snapshot()
	if st[http.StatusNotModified] != 6 || cond != 6 {
		t.Errorf("second run statuses %v, conditional requests %d", st, cond)
	}
	if info, _ := os.Stat(opt.Path); !info.ModTime().Equal(dbInfo.ModTime()) {
		t.Errorf("database rewritten although up to date")
	}

	// 3. A corrupt zip: clear error naming the URL; the old database stays.
	good.setOverride("/npm/all.zip", []byte("PK\x03\x04 this is not really a zip"))
	_, err = Run(ctx, opt)
	if err == nil || !strings.Contains(err.Error(), good.URL+"/npm/all.zip") || !strings.Contains(err.Error(), "zip") {
		t.Fatalf("corrupt zip: error %v", err)
	}
	db := openTest(t, opt.Path)
	if got, err := db.Advisories(ctx, "npm", "lodash"); err != nil || len(got) != 1 {
		t.Errorf("old database after failed update: %v, %v", ids(got), err)
	}
	entries, _ := os.ReadDir(filepath.Dir(opt.Path))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"drydock.db", "drydock.db.lock"}, names); diff != "" {
		t.Errorf("database directory holds more than the database and its lock file (-want +got):\n%s", diff)
	}

	// 4. Fixed upstream: the bad download is not reused through a 304.
	good.setOverride("/npm/all.zip", nil)
	good.snapshot()
	res, err = Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Downloaded != 1 || res.NotModified != 5 || !res.UpToDate {
		t.Errorf("after the fix: %+v", res)
	}

	// 5. A changed file rebuilds the database.
	good.setOverride("/Maven/all.zip", zipOf(t, map[string]string{"GHSA-x.json": `{"id": "GHSA-x", "affected": [{"package": {"ecosystem": "Maven", "name": "g:a"}, "versions": ["1"]}]}`}))
	res, err = Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.UpToDate || res.Downloaded != 1 || res.Metadata.Counts["Maven"] != 1 {
		t.Errorf("after a change: %+v", res)
	}
	db2 := openTest(t, opt.Path)
	if got, _ := db2.Advisories(ctx, "Maven", "g:a"); len(got) != 1 {
		t.Errorf("new Maven data missing")
	}
	if got, _ := db.Advisories(ctx, "Maven", "org.apache.logging.log4j:log4j-core"); len(got) != 2 {
		t.Errorf("reader opened before the update lost its data")
	}
}

func TestUpdateNotPublished(t *testing.T) {
	good := newMirrorServer(t, testMirror, false)
	dir := t.TempDir()
	res, err := Run(context.Background(), Options{
		Mirrors:    []string{good.URL},
		Ecosystems: []string{"npm", "Rocky Linux"},
		Path:       filepath.Join(dir, "drydock.db"),
		Client:     good.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"osv/Rocky Linux: not published by any mirror"}
	if diff := cmp.Diff(want, res.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if n := good.count("/Rocky Linux/all.zip"); n != 1 {
		t.Errorf("%d requests for /Rocky Linux/all.zip (the space must be escaped)", n)
	}
}

func TestUpdateAllMirrorsFail(t *testing.T) {
	down := newMirrorServer(t, testMirror, true)
	good := newMirrorServer(t, testMirror, false)
	dir := t.TempDir()
	opt := Options{
		Mirrors:     []string{down.URL, good.URL},
		Ecosystems:  []string{"npm", "Debian"}, // 500 on one mirror, 404 on the other: not a plain "not published"
		Path:        filepath.Join(dir, "drydock.db"),
		Client:      good.Client(),
		AlpineSecDB: Off, KEV: Off, // no origins in tests
	}
	_, err := Run(context.Background(), opt)
	if err == nil || !strings.Contains(err.Error(), "osv/Debian: every mirror failed") || !strings.Contains(err.Error(), "500") {
		t.Errorf("error %v", err)
	}
	opt.Mirrors, opt.Ecosystems = []string{down.URL}, []string{"npm"}
	if _, err := Run(context.Background(), opt); err == nil {
		t.Errorf("all mirrors down: no error")
	}
	if _, err := os.Stat(opt.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a database was written: %v", err)
	}
}

// TestUpdateLocalMirror reads a local directory without a native index: the
// native layout is found by listing it.
func TestUpdateLocalMirror(t *testing.T) {
	ctx := context.Background()
	mirror := t.TempDir()
	for _, rel := range []string{"npm/all.zip", "alpine-secdb/v3.16/main.json", "nvd/CVE-2023-42366.json"} {
		data, err := os.ReadFile(filepath.Join(testMirror, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(mirror, filepath.FromSlash(rel))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(mirror, "nvd", "README"), []byte("not a feed"), 0o644)
	opt := Options{Mirrors: []string{"file://" + mirror}, Ecosystems: []string{"npm"}, Path: filepath.Join(t.TempDir(), "drydock.db"), KEV: Off}
	res, err := Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range res.Metadata.Sources {
		names = append(names, s.Name)
	}
	want := []string{"alpine-secdb/v3.16/main", "nvd/CVE-2023-42366.json", "osv/npm"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	res, err = Run(ctx, opt)
	if err != nil || !res.UpToDate {
		t.Errorf("second run: %+v, %v", res, err)
	}
	// A changed local file is picked up.
	os.WriteFile(filepath.Join(mirror, "npm", "all.zip"), zipOf(t, map[string]string{"X.json": `{"id": "X", "affected": [{"package": {"ecosystem": "npm", "name": "x"}, "versions": ["1"]}]}`}), 0o644)
	res, err = Run(ctx, opt)
	if err != nil || res.UpToDate || res.Metadata.Counts["npm"] != 1 {
		t.Errorf("after a change: %+v, %v", res, err)
	}
}

// TestUpdateNative fetches native sources named explicitly: an Alpine secdb
// base (with a branch that lacks community.json) and the KEV catalog.
func TestUpdateNative(t *testing.T) {
	ctx := context.Background()
	good := newMirrorServer(t, testMirror, false)
	mirror := t.TempDir()
	npm, _ := os.ReadFile(filepath.Join(testMirror, "npm", "all.zip"))
	os.MkdirAll(filepath.Join(mirror, "npm"), 0o755)
	os.WriteFile(filepath.Join(mirror, "npm", "all.zip"), npm, 0o644)
	res, err := Run(ctx, Options{
		Mirrors:    []string{mirror},
		Ecosystems: []string{"npm"},
		Native: []NativeSource{
			{Kind: NativeAlpineSecDB, URL: good.URL + "/alpine-secdb", Branches: []string{"v3.16"}},
			{Kind: NativeKEV, URL: filepath.Join(testMirror, "cisa-kev", "known_exploited_vulnerabilities.json")},
		},
		Path:   filepath.Join(t.TempDir(), "drydock.db"),
		Client: good.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string(nil), res.Warnings); diff != "" { // no community.json: no community repository, not a gap
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	if res.Metadata.Counts["Alpine:v3.16"] != 2172 || len(res.Metadata.Sources) != 3 {
		t.Errorf("metadata %+v", res.Metadata)
	}
	db := openTest(t, res.Path)
	if c, ok, _ := db.CVE(ctx, "CVE-2023-4911"); !ok || !c.KEV {
		t.Errorf("KEV entry missing: %+v", c)
	}
}

func TestUpdateOptionErrors(t *testing.T) {
	dir := t.TempDir()
	for i, opt := range []Options{
		{Mirrors: []string{"ftp://example.com"}},
		{Mirrors: []string{testMirror}, Ecosystems: []string{"../etc"}},
		{Mirrors: []string{testMirror}, Ecosystems: []string{"npm"}, Native: []NativeSource{{Kind: "bogus", URL: "x"}}},
		{Mirrors: []string{testMirror}, Ecosystems: []string{"npm"}, Native: []NativeSource{{Kind: NativeAlpineSecDB, URL: "x", Branches: []string{"../x"}}}},
		{Mirrors: []string{t.TempDir()}, Ecosystems: []string{"Debian"}}, // nothing to import
	} {
		opt.Path = filepath.Join(dir, fmt.Sprint(i), "drydock.db")
		opt.AlpineSecDB, opt.KEV = Off, Off // no origins in tests
		if _, err := Run(context.Background(), opt); err == nil {
			t.Errorf("options %d: no error", i)
		}
	}
}

func TestNativeJob(t *testing.T) {
	tests := []struct {
		rel  string
		name string
		ok   bool
	}{
		{"alpine-secdb/v3.16/main.json", "alpine-secdb/v3.16/main", true},
		{"alpine-secdb/edge/community.json", "alpine-secdb/edge/community", true},
		{"alpine-secdb/v3.16/testing.json", "", false},
		{"alpine-secdb/../x/main.json", "", false},
		{"/alpine-secdb/v3.16/main.json", "", false},
		{"cisa-kev/known_exploited_vulnerabilities.json", "cisa-kev", true},
		{"nvd/nvdcve-2.0-2024.json.gz", "nvd/nvdcve-2.0-2024.json.gz", true},
		{"nvd/sub/x.json", "", false},
		{"nvd/README", "", false},
		{"malware-hashes/full_sha256.txt", "malware-hashes/full_sha256.txt", true},
		{"malware-hashes/full.csv.gz", "malware-hashes/full.csv.gz", true},
		{"malware-hashes/README.md", "", false},
		{"malware-hashes/.txt", "", false},
		{"base-images/busybox.json", "base-images/busybox.json", true},
		{"base-images/.json", "", false},
		{"base-images/busybox.yaml", "", false},
	}
	for _, tt := range tests {
		j, ok := nativeJob(tt.rel)
		if ok != tt.ok || j.name != tt.name {
			t.Errorf("nativeJob(%q) = %q, %v; want %q, %v", tt.rel, j.name, ok, tt.name, tt.ok)
		}
	}
}

// TestStaleTempsRemoved: the temporary databases killed updates leave behind
// are removed by the next update (it holds the lock: none is being written).
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "drydock.db")
	stale := []string{path + ".tmp-123", path + ".tmp-456"}
	for _, p := range stale {
		if err := os.WriteFile(p, make([]byte, 4096), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	other := filepath.Join(dir, "unrelated.tmp-1")
	os.WriteFile(other, nil, 0o644)
	mirror := t.TempDir()
	data, err := os.ReadFile(filepath.Join(testMirror, "npm", "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(mirror, "npm"), 0o755)
	os.WriteFile(filepath.Join(mirror, "npm", "all.zip"), data, 0o644)
	if _, err := Run(context.Background(), Options{Mirrors: []string{mirror}, Ecosystems: []string{"npm"}, Path: path, KEV: Off, AlpineSecDB: Off}); err != nil {
		t.Fatal(err)
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s still there: %v", p, err)
		}
	}
	if _, err := os.Stat(other); err != nil {
		t.Errorf("an unrelated file was removed: %v", err)
	}
}

// TestUpdateHashLists imports hash lists of known-bad files from a
// mirror's malware-hashes/ folder and from --malware-hashes sources; a
// changed list rebuilds the database, and a list that cannot be read is a
// warning and a missing feed, never a silent gap.
func TestUpdateHashLists(t *testing.T) {
	ctx := context.Background()
	mirror := t.TempDir()
	npm, _ := os.ReadFile(filepath.Join(testMirror, "npm", "all.zip"))
	os.MkdirAll(filepath.Join(mirror, "npm"), 0o755)
	os.WriteFile(filepath.Join(mirror, "npm", "all.zip"), npm, 0o644)
	const eicar = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"
	os.MkdirAll(filepath.Join(mirror, "malware-hashes"), 0o755)
	os.WriteFile(filepath.Join(mirror, "malware-hashes", "list.txt"), []byte("# test list\n"+eicar+"\n"), 0o644)
	extra := filepath.Join(t.TempDir(), "bazaar.csv")
	os.WriteFile(extra, []byte("# \"first_seen_utc\",\"sha256_hash\",\"signature\"\n\"2024-01-01\", \""+strings.Repeat("ab", 32)+"\", \"Mirai\"\n"), 0o644)
	opt := Options{Mirrors: []string{mirror}, Ecosystems: []string{"npm"}, Path: filepath.Join(t.TempDir(), "drydock.db"), KEV: Off, AlpineSecDB: Off,
		Native: []NativeSource{{Kind: NativeMalwareHashes, URL: extra}}}
	res, err := Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Metadata.Hashes != 2 {
		t.Errorf("%d hashes imported, want 2; sources %+v", res.Metadata.Hashes, res.Metadata.Sources)
	}
	var names []string
	for _, s := range res.Metadata.Sources {
		names = append(names, s.Name)
	}
	if d := cmp.Diff([]string{"malware-hashes/bazaar.csv", "malware-hashes/list.txt", "osv/npm"}, names); d != "" {
		t.Errorf("sources (-want +got):\n%s", d)
	}
	db := openTest(t, res.Path)
	var sum [32]byte
	copy(sum[:], bytes.Repeat([]byte{0xab}, 32))
	if f, ok, err := db.KnownBad(ctx, sum); !ok || err != nil || f.Name != "Mirai" || f.List != "malware-hashes/bazaar.csv" {
		t.Errorf("KnownBad: %+v, %v, %v", f, ok, err)
	}
	key := vulndb.HashListsKey(res.Metadata)
	db.Close()

	if res, err := Run(ctx, opt); err != nil || !res.UpToDate {
		t.Errorf("second run: up to date %v, %v", res.UpToDate, err)
	}
	os.WriteFile(extra, []byte(strings.Repeat("cd", 32)+"\n"), 0o644)
	res, err = Run(ctx, opt)
	if err != nil || res.UpToDate || res.Metadata.Hashes != 2 || vulndb.HashListsKey(res.Metadata) == key {
		t.Errorf("after a change: up to date %v, %d hashes, key %q (was %q), %v", res.UpToDate, res.Metadata.Hashes, vulndb.HashListsKey(res.Metadata), key, err)
	}

	// An explicit list that is no list: a warning and a missing feed.
	os.WriteFile(extra, []byte("these are not hashes\n"), 0o644)
	res, err = Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	missing := slices.ContainsFunc(res.Missing, func(m vulndb.MissingSource) bool {
		return m.Name == "malware-hashes/bazaar.csv" && strings.Contains(m.Reason, "holds no SHA-256 hashes")
	})
	if res.Metadata.Hashes != 1 || !missing || len(res.Warnings) == 0 {
		t.Errorf("bad list: %d hashes, missing %+v, warnings %q", res.Metadata.Hashes, res.Missing, res.Warnings)
	}
}
