package update

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/vulndb"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

// repoMirror is the repository's own test mirror (OSV zips of AlmaLinux,
// Go, Maven, PyPI, RubyGems, npm; no drydock-native.json).
const repoMirror = "../../../testdata/mirror"

// The hosts of the real origins, as the defaults name them.
const (
	osvHost   = "osv-vulnerabilities.storage.googleapis.com"
	secdbHost = "secdb.alpinelinux.org"
	kevHost   = "www.cisa.gov"
	kevPath   = "/sites/default/files/feeds/known_exploited_vulnerabilities.json"
)

// origins stands in for the real origins of the feeds on one local server:
// a client made by client() sends the requests for the OSV bucket, the
// Alpine secdb and the CISA KEV feed there (by Host), and refuses every
// other host, so nothing leaves the machine. Each origin is laid out as the
// real one: the bucket serves <Ecosystem>/all.zip and nothing else, the
// secdb an index page of branch links and <branch>/{main,community}.json,
// CISA the one KEV file.
type origins struct {
	srv      *httptest.Server
	osvDir   string // OSV bucket layout
	secdbDir string // <branch>/{main,community}.json
	kevFile  string

	mu        sync.Mutex
	requested []string       // the original URLs asked for
	status    map[string]int // original URL → status to answer instead
	down      map[string]bool
}

// newOrigins starts the stand-ins. They serve the shared data's secdb and
// KEV files: a test that reads them is skipped when the shared data is
// absent (see sharedData), unless withData is false.
func newOrigins(t *testing.T, withData bool) *origins {
	t.Helper()
	o := &origins{osvDir: repoMirror, status: map[string]int{}, down: map[string]bool{}}
	if withData {
		o.secdbDir = sharedData(t, "native/alpine-secdb")
		o.kevFile = sharedData(t, "native/cisa-kev/known_exploited_vulnerabilities.json")
	}
	o.srv = httptest.NewServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

var osvZipPath = regexp.MustCompile(`^/[^/]+/all\.zip$`)

func (o *origins) serve(w http.ResponseWriter, r *http.Request) {
	orig := "https://" + r.Host + r.URL.EscapedPath()
	o.mu.Lock()
	code := o.status[orig]
	o.mu.Unlock()
	if code != 0 {
		http.Error(w, http.StatusText(code), code)
		return
	}
	switch r.Host {
	case osvHost:
		if !osvZipPath.MatchString(r.URL.Path) {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, filepath.Join(o.osvDir, filepath.FromSlash(path.Clean(r.URL.Path))))
	case secdbHost:
		if r.URL.Path == "/" {
			o.secdbIndex(w)
			return
		}
		http.ServeFile(w, r, filepath.Join(o.secdbDir, filepath.FromSlash(path.Clean(r.URL.Path))))
	case kevHost:
		if r.URL.Path != kevPath {
			http.NotFound(w, r)
			return
		}
		http.ServeFile(w, r, o.kevFile)
	default:
		http.Error(w, "unknown host "+r.Host, http.StatusBadGateway)
	}
}

// secdbIndex writes a directory index page like the secdb's: one link per
// branch directory, plus files that are not branches.
func (o *origins) secdbIndex(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	if err := vulndbtest.WriteSecDBIndex(w, o.secdbDir); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

func (o *origins) setStatus(url string, code int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if code == 0 {
		delete(o.status, url)
	} else {
		o.status[url] = code
	}
}

func (o *origins) setDown(host string, down bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down[host] = down
}

func (o *origins) asked() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := slices.Clone(o.requested)
	o.requested = nil
	return out
}

func (o *origins) client() *http.Client {
	return &http.Client{Transport: roundTripper(func(req *http.Request) (*http.Response, error) {
		host := req.URL.Host
		if host != osvHost && host != secdbHost && host != kevHost {
			return nil, fmt.Errorf("test tried to reach %s: tests stay offline", req.URL)
		}
		o.mu.Lock()
		o.requested = append(o.requested, req.URL.String())
		down := o.down[host]
		o.mu.Unlock()
		if down {
			return nil, fmt.Errorf("dial tcp: lookup %s: no such host", host)
		}
		r := req.Clone(req.Context())
		r.URL.Scheme, r.URL.Host, r.Host = "http", o.srv.Listener.Addr().String(), host
		return http.DefaultTransport.RoundTrip(r)
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// secdbBranches are the branches of the shared secdb data.
func secdbBranches(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	slices.SortFunc(out, compareAlpineBranches)
	return out
}

// npmOnlyMirror is a local mirror holding the npm archive and no native
// feed.
func npmOnlyMirror(t *testing.T) string {
	t.Helper()
	mirror := t.TempDir()
	data, err := os.ReadFile(filepath.Join(testMirror, "npm", "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(mirror, "npm"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mirror, "npm", "all.zip"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return mirror
}

func sourceNames(meta vulndb.Metadata) []string {
	var out []string
	for _, s := range meta.Sources {
		out = append(out, s.Name)
	}
	return out
}

func missingNames(ms []vulndb.MissingSource) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

// TestUpdateDefaultOrigins: a plain update (no mirror, no native source
// named) fetches the OSV bucket, the Alpine secdb and the CISA KEV catalog
// from their real URLs, here answered by local stand-ins. An HTTP mirror
// without drydock-native.json (the OSV bucket has none) used to give a
// database without any of the native feeds.
func TestUpdateDefaultOrigins(t *testing.T) {
	ctx := context.Background()
	o := newOrigins(t, true)
	dir := t.TempDir()
	res, err := Run(ctx, Options{Path: filepath.Join(dir, "drydock.db"), Client: o.client()})
	if err != nil {
		t.Fatal(err)
	}
	asked := o.asked()
	for _, want := range []string{
		"https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip",
		"https://osv-vulnerabilities.storage.googleapis.com/Rocky%20Linux/all.zip",
		"https://secdb.alpinelinux.org/",
		"https://secdb.alpinelinux.org/v3.16/main.json",
		"https://secdb.alpinelinux.org/edge/community.json",
		"https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json",
	} {
		if !slices.Contains(asked, want) {
			t.Errorf("%s was not requested; requested:\n%s", want, strings.Join(asked, "\n"))
		}
	}

	// Every secdb file of every branch (v3.2 has no community repository).
	var wantSources []string
	for _, br := range secdbBranches(t, o.secdbDir) {
		for _, repo := range []string{"community", "main"} {
			if _, err := os.Stat(filepath.Join(o.secdbDir, br, repo+".json")); err == nil {
				wantSources = append(wantSources, "alpine-secdb/"+br+"/"+repo)
			}
		}
	}
	if len(wantSources) != 41 {
		t.Errorf("%d secdb files in the shared data, want 41", len(wantSources))
	}
	wantSources = append(wantSources, "cisa-kev", "osv/AlmaLinux", "osv/Go", "osv/Maven", "osv/PyPI", "osv/RubyGems", "osv/npm")
	slices.Sort(wantSources)
	if diff := cmp.Diff(wantSources, sourceNames(res.Metadata)); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	for _, s := range res.Metadata.Sources {
		if s.Name == "alpine-secdb/v3.16/main" && s.URL != "https://secdb.alpinelinux.org/v3.16/main.json" ||
			s.Name == "cisa-kev" && s.URL != DefaultKEV {
			t.Errorf("source %s from %s", s.Name, s.URL)
		}
	}
	// The ecosystems the test bucket lacks are missing; Alpine is not (the
	// secdb has it), and no warning says it was skipped.
	unpublished := []string{"Chainguard", "Debian", "NuGet", "Packagist", "Red Hat", "Rocky Linux", "SUSE", "Ubuntu", "Wolfi", "crates.io", "openSUSE"}
	var wantMissing, wantWarnings []string
	for _, eco := range unpublished {
		wantMissing = append(wantMissing, "osv/"+eco)
	}
	for _, eco := range DefaultEcosystems() {
		if slices.Contains(unpublished, eco) {
			wantWarnings = append(wantWarnings, "osv/"+eco+": not published by any mirror")
		}
	}
	if diff := cmp.Diff(wantMissing, missingNames(res.Metadata.Missing)); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantWarnings, res.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}

	// What a scan then finds: the busybox secdb advisory of the Alpine
	// 3.16 fixture, and the KEV mark of Looney Tunables.
	db := openTest(t, res.Path)
	busybox, err := db.Advisories(ctx, "Alpine:v3.16", "busybox")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(busybox, func(a vulndb.Advisory) bool { return a.ID == "CVE-2023-42366" })
	if i < 0 || busybox[i].Ranges[0].Events[1].Fixed != "1.35.0-r18" {
		t.Errorf("busybox CVE-2023-42366 (fixed 1.35.0-r18) missing: %v", ids(busybox))
	}
	for _, id := range []string{"CVE-2023-4911", "CVE-2021-44228"} {
		if c, ok, err := db.CVE(ctx, id); err != nil || !ok || !c.KEV {
			t.Errorf("%s: KEV not marked: %+v, %v, %v", id, c, ok, err)
		}
	}
}

// TestUpdateOriginFailures: a native origin that fails is a warning naming
// the URL and the reason, the database is built without the feed and says
// so in its metadata; a later failure of an origin that was fetched before
// falls back to the cached copy.
func TestUpdateOriginFailures(t *testing.T) {
	ctx := context.Background()
	o := newOrigins(t, true)
	dir := t.TempDir()
	opt := Options{Path: filepath.Join(dir, "drydock.db"), Client: o.client(), Ecosystems: []string{"npm"}, AlpineBranches: []string{"v3.16"}}
	const mainURL = "https://secdb.alpinelinux.org/v3.16/main.json"

	// 1. No cache yet: the failing feeds are missing.
	o.setStatus(mainURL, http.StatusServiceUnavailable)
	o.setDown(kevHost, true)
	res, err := Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	wantWarnings := []string{
		"alpine-secdb/v3.16/main: " + mainURL + ": 503 Service Unavailable",
		"cisa-kev: " + DefaultKEV + ": dial tcp: lookup www.cisa.gov: no such host",
	}
	if diff := cmp.Diff(wantWarnings, res.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
	wantMissing := []vulndb.MissingSource{
		{Name: "alpine-secdb/v3.16/main", Ecosystem: "Alpine:v3.16", URL: mainURL, Reason: "503 Service Unavailable"},
		{Name: "cisa-kev", URL: DefaultKEV, Reason: "dial tcp: lookup www.cisa.gov: no such host"},
	}
	if diff := cmp.Diff(wantMissing, res.Missing); diff != "" {
		t.Errorf("result missing (-want +got):\n%s", diff)
	}
	st, err := vulndb.Status(ctx, opt.Path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantMissing, st.Missing); diff != "" {
		t.Errorf("status missing (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"alpine-secdb/v3.16/community", "osv/npm"}, sourceNames(st)); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}

	// 2. The origins are back: the feeds are in, nothing is missing.
	o.setStatus(mainURL, 0)
	o.setDown(kevHost, false)
	res, err = Run(ctx, opt)
	if err != nil || res.UpToDate || len(res.Warnings) != 0 || len(res.Missing) != 0 {
		t.Fatalf("origins back: %+v, %v", res, err)
	}

	// 3. They fail again: the copies downloaded in 2 are used, with a
	// warning, and the database stays as it was.
	o.setStatus(mainURL, http.StatusBadGateway)
	o.setDown(kevHost, true)
	res, err = Run(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !res.UpToDate || len(res.Missing) != 0 || len(res.Warnings) != 2 ||
		!strings.HasPrefix(res.Warnings[0], "alpine-secdb/v3.16/main: "+mainURL+": 502 Bad Gateway; using the copy downloaded at ") ||
		!strings.HasPrefix(res.Warnings[1], "cisa-kev: "+DefaultKEV+": dial tcp: lookup www.cisa.gov: no such host; using the copy downloaded at ") {
		t.Errorf("origins down with a cache: up to date %v, missing %v, warnings:\n%s", res.UpToDate, res.Missing, strings.Join(res.Warnings, "\n"))
	}
	db := openTest(t, opt.Path)
	if c, ok, _ := db.CVE(ctx, "CVE-2023-4911"); !ok || !c.KEV {
		t.Errorf("KEV lost: %+v", c)
	}
}

// TestUpdateOriginsOverridden: each origin is an option; Off turns one off
// (and the database says it lacks it); a mirror that carries a feed is used
// instead of its origin.
func TestUpdateOriginsOverridden(t *testing.T) {
	ctx := context.Background()
	kev := newMirrorServer(t, testMirror, false)
	dir := t.TempDir()
	mirror := npmOnlyMirror(t)
	res, err := Run(ctx, Options{
		Mirrors:     []string{mirror},
		Ecosystems:  []string{"npm"},
		Path:        filepath.Join(dir, "a.db"),
		AlpineSecDB: "file://" + filepath.Join(repoMirror, "alpine-secdb"), // a directory: its branch subdirectories
		KEV:         kev.URL + "/cisa-kev/known_exploited_vulnerabilities.json",
		Client:      kev.Client(),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"alpine-secdb/v3.16/community", "alpine-secdb/v3.16/main", "cisa-kev", "osv/npm"}
	if diff := cmp.Diff(want, sourceNames(res.Metadata)); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if len(res.Warnings) != 0 || len(res.Missing) != 0 {
		t.Errorf("warnings %v, missing %v", res.Warnings, res.Missing)
	}

	// Off: nothing fetched (a client that refuses everything proves it).
	offline := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		return nil, fmt.Errorf("test tried to reach %s", r.URL)
	})}
	res, err = Run(ctx, Options{
		Mirrors: []string{mirror}, Ecosystems: []string{"npm"}, Path: filepath.Join(dir, "b.db"),
		AlpineSecDB: Off, KEV: Off, Client: offline,
	})
	if err != nil {
		t.Fatal(err)
	}
	wantMissing := []vulndb.MissingSource{
		{Name: "alpine-secdb", Ecosystem: "Alpine", Reason: "turned off"},
		{Name: "cisa-kev", Reason: "turned off"},
	}
	if diff := cmp.Diff(wantMissing, res.Metadata.Missing); diff != "" {
		t.Errorf("missing (-want +got):\n%s", diff)
	}

	// A local mirror with native files: they are used, the origins are not
	// asked (the offline client would fail them).
	res, err = Run(ctx, Options{Mirrors: []string{testMirror}, Ecosystems: []string{"npm"}, Path: filepath.Join(dir, "c.db"), Client: offline})
	if err != nil || len(res.Warnings) != 0 || len(res.Missing) != 0 {
		t.Errorf("mirror with native files: warnings %v, missing %v, %v", res.Warnings, res.Missing, err)
	}
}

// TestUpdateAlpineNotSkipped: with the Alpine secdb imported, the absence of
// an OSV Alpine archive on the mirror is not reported as Alpine being
// skipped (it was logged "ecosystems not published by any mirror
// (skipped) ecosystems=Alpine, …" while the secdb was being imported).
// Without the secdb it still is.
func TestUpdateAlpineNotSkipped(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		alpine       string
		wantWarnings []string
		wantMissing  []string
	}{
		{"secdb from the mirror", "", nil, nil},
		{"no secdb", Off, []string{"osv/Alpine: not published by any mirror"}, []string{"alpine-secdb", "osv/Alpine"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mirror := testMirror
			if tt.alpine == Off {
				mirror = npmOnlyMirror(t)
			}
			res, err := Run(ctx, Options{Mirrors: []string{mirror}, Ecosystems: []string{"Alpine", "npm"},
				Path: filepath.Join(t.TempDir(), "drydock.db"), AlpineSecDB: tt.alpine, KEV: Off})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantWarnings, res.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			var got []string
			for _, n := range missingNames(res.Missing) {
				if n != "cisa-kev" {
					got = append(got, n)
				}
			}
			if diff := cmp.Diff(tt.wantMissing, got); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
		})
	}
}

// TestUpdateNoSourceError: when nothing can be fetched, the error names
// every source, where it was looked for and why it failed.
func TestUpdateNoSourceError(t *testing.T) {
	o := newOrigins(t, false)
	o.setDown(secdbHost, true)
	o.setStatus(DefaultKEV, http.StatusForbidden)
	empty := t.TempDir()
	_, err := Run(context.Background(), Options{
		Mirrors:    []string{empty},
		Ecosystems: []string{"npm", "Go"},
		Path:       filepath.Join(t.TempDir(), "drydock.db"),
		Client:     o.client(),
	})
	if err == nil {
		t.Fatal("no error")
	}
	want := "updating vulnerability database: no source could be fetched:\n" +
		"  alpine-secdb: https://secdb.alpinelinux.org/: dial tcp: lookup secdb.alpinelinux.org: no such host\n" +
		"  cisa-kev: " + DefaultKEV + ": 403 Forbidden\n" +
		"  osv/Go: " + filepath.Join(empty, "Go", "all.zip") + ": no such file\n" +
		"  osv/npm: " + filepath.Join(empty, "npm", "all.zip") + ": no such file"
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

// TestUpdateOtherMirrorNotUpToDate: a database built from mirror A is not
// "up to date" for an update from mirror B, even when B serves the same
// files: the database is rebuilt and says where its data came from.
func TestUpdateOtherMirrorNotUpToDate(t *testing.T) {
	ctx := context.Background()
	a := newMirrorServer(t, testMirror, false)
	b := newMirrorServer(t, testMirror, false)
	path := filepath.Join(t.TempDir(), "drydock.db")
	run := func(m *mirrorServer) Result {
		t.Helper()
		res, err := Run(ctx, Options{Mirrors: []string{m.URL}, Ecosystems: []string{"npm"}, Path: path, Client: m.Client()})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	run(a)
	res := run(b)
	if res.UpToDate {
		t.Errorf("up to date for mirror %s, but the database came from %s", b.URL, a.URL)
	}
	for _, s := range res.Metadata.Sources {
		if !strings.HasPrefix(s.URL, b.URL+"/") {
			t.Errorf("source %s from %s, want mirror %s", s.Name, s.URL, b.URL)
		}
	}
	if res := run(b); !res.UpToDate {
		t.Errorf("same mirror again: not up to date")
	}
}

// blockingMirror serves testMirror, holding every request for npm/all.zip
// until release is called (at the latest when the test ends).
func blockingMirror(t *testing.T) (srv *httptest.Server, entered <-chan struct{}, release func()) {
	in := make(chan struct{}, 1)
	rel := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(rel) }) }
	files := http.FileServer(http.Dir(testMirror))
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/npm/all.zip" {
			select {
			case in <- struct{}{}:
			default:
			}
			<-rel
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(release) // before Close, which waits for the handlers
	return srv, in, release
}

// TestUpdateConcurrent: two updates of one database do not interleave. The
// second waits for the first (it sends no request while the first holds
// the lock), then rebuilds from its own mirror; with no wait allowed it
// fails, saying who holds the lock.
func TestUpdateConcurrent(t *testing.T) {
	ctx := context.Background()
	srvA, enteredA, releaseA := blockingMirror(t)
	b := newMirrorServer(t, testMirror, false)
	path := filepath.Join(t.TempDir(), "drydock.db")
	opt := func(url string, c *http.Client) Options {
		return Options{Mirrors: []string{url}, Ecosystems: []string{"npm"}, Path: path, Client: c}
	}

	type outcome struct {
		res Result
		err error
	}
	doneA := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, opt(srvA.URL, srvA.Client()))
		doneA <- outcome{res, err}
	}()
	select {
	case <-enteredA:
	case <-time.After(20 * time.Second):
		t.Fatal("update A never fetched")
	}

	// A holds the lock: with no wait allowed, B fails and says so.
	noWait := opt(b.URL, b.Client())
	noWait.LockWait = -1
	_, err := Run(ctx, noWait)
	if err == nil || !strings.Contains(err.Error(), "another update of "+path+" is running") ||
		!strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(err.Error(), path+".lock") {
		t.Errorf("no wait: %v", err)
	}

	// B waits: no request reaches its mirror while A runs.
	doneB := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, opt(b.URL, b.Client()))
		doneB <- outcome{res, err}
	}()
	time.Sleep(500 * time.Millisecond)
	if n := b.count("/npm/all.zip") + b.count("/drydock-native.json"); n != 0 {
		t.Errorf("update B sent %d requests while A held the lock", n)
	}
	select {
	case o := <-doneB:
		t.Fatalf("update B finished while A held the lock: up to date %v, %v", o.res.UpToDate, o.err)
	default:
	}
	releaseA()
	a, bo := <-doneA, <-doneB
	if a.err != nil || bo.err != nil {
		t.Fatalf("A: %v, B: %v", a.err, bo.err)
	}
	if bo.res.UpToDate {
		t.Errorf("B reported up to date with A's database")
	}
	for name, o := range map[string]struct {
		res  Result
		base string
	}{"A": {a.res, srvA.URL}, "B": {bo.res, b.URL}} {
		for _, s := range o.res.Metadata.Sources {
			if !strings.HasPrefix(s.URL, o.base+"/") {
				t.Errorf("update %s: source %s from %s, want its own mirror %s", name, s.Name, s.URL, o.base)
			}
		}
	}
	st, err := vulndb.Status(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(bo.res.Metadata, st); diff != "" {
		t.Errorf("database is not B's (-B +db):\n%s", diff)
	}

	// A cancelled wait says what it was waiting for.
	srvC, enteredC, releaseC := blockingMirror(t)
	doneC := make(chan error, 1)
	go func() { _, err := Run(ctx, opt(srvC.URL, srvC.Client())); doneC <- err }()
	<-enteredC
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = Run(cctx, opt(b.URL, b.Client()))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for another update of "+path) {
		t.Errorf("cancelled wait: %v", err)
	}
	releaseC()
	if err := <-doneC; err != nil {
		t.Error(err)
	}
}
