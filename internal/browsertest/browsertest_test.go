package browsertest

import (
	"fmt"
	"html"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// site is a small stand-in for the dashboard: a table, a form with a label,
// a link first in the tab order, a button that changes the page without
// loading another, and a body taller than the window.
func site() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		token := "none"
		if c, err := r.Cookie("drydock_token"); err == nil {
			token = c.Value
		}
		fmt.Fprintf(w, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Images</title></head><body>
<nav><a id="findings" href="/findings">Findings</a></nav>
<h1>Images</h1>
<p id="token">token: %s</p>
<table><thead><tr><th>Image</th><th>Findings</th></tr></thead><tbody>
<tr><td>alpine:3.20</td><td>0</td></tr>
<tr><td>debian:12</td><td>7</td></tr>
<tr><td>node:22</td><td>31</td></tr>
</tbody></table>
<form action="/search" method="get">
<label for="q">Image name</label> <input id="q" name="q" required>
<button type="submit">Search</button>
</form>
<button id="toggle" type="button" onclick="document.getElementById('state').textContent = 'on'">Toggle</button>
<span id="state">off</span>
<div style="height: 1500px"></div>
<p id="end">end</p>
</body></html>`, html.EscapeString(token))
	})
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>Search</title><h1 id="result">results for %s</h1>`,
			html.EscapeString(r.FormValue("q")))
	})
	mux.HandleFunc("GET /findings", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>Findings</title><h1>Findings</h1><a id="back" href="/">Back</a>`)
	})
	return mux
}

// TestWalk takes the main flow of a page the way its tests will: signed in
// by cookie, read the table, click, Tab and Enter through a link, fill and
// submit the form, take a screenshot; nothing leaves the origin.
func TestWalk(t *testing.T) {
	srv := httptest.NewServer(site())
	defer srv.Close()
	b := New(t, srv.URL)
	b.Timeout = 10 * time.Second // a failure here should not take minutes

	b.SetCookie("drydock_token", "s3cret")
	if d := b.Navigate("/"); d <= 0 || d > b.Timeout {
		t.Errorf("Navigate took %v, want a positive time under the timeout", d)
	}
	if got, want := b.URL(), srv.URL+"/"; got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	if got := b.Text("#token"); got != "token: s3cret" {
		t.Errorf("the server saw the cookie as %q, want %q", got, "token: s3cret")
	}
	if got := b.Count("tbody tr"); got != 3 {
		t.Errorf("Count(tbody tr) = %d, want 3", got)
	}
	if got := b.Count(".missing"); got != 0 {
		t.Errorf("Count(.missing) = %d, want 0", got)
	}
	if diff := cmp.Diff([]string{"alpine:3.20", "debian:12", "node:22"}, b.Texts("tbody td:first-child")); diff != "" {
		t.Errorf("Texts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`<a id="findings" href="/findings">Findings</a>`}, b.Outer("nav a")); diff != "" {
		t.Errorf("Outer (-want +got):\n%s", diff)
	}
	if got := b.Texts(".missing"); len(got) != 0 {
		t.Errorf("Texts(.missing) = %q, want none", got)
	}

	// The keyboard, from the top of a page just loaded: the link comes
	// first, the search field next.
	b.Key("Tab")
	if got, want := b.Focused(), `a#findings "Findings"`; got != want {
		t.Errorf("after Tab, Focused() = %s, want %s", got, want)
	}
	b.Key("Tab")
	if got, want := b.Focused(), "input#q"; got != want {
		t.Errorf("after a second Tab, Focused() = %s, want %s", got, want)
	}
	b.Key("Shift+Tab")
	if got, want := b.Focused(), `a#findings "Findings"`; got != want {
		t.Errorf("after Shift+Tab, Focused() = %s, want %s", got, want)
	}
	b.KeyAndWait("Enter")
	if got, want := b.URL(), srv.URL+"/findings"; got != want {
		t.Errorf("Enter on the link led to %q, want %q", got, want)
	}
	if got := b.Text("h1"); got != "Findings" {
		t.Errorf("h1 = %q, want Findings", got)
	}
	b.ClickAndWait("#back")
	if got, want := b.URL(), srv.URL+"/"; got != want {
		t.Errorf("the back link led to %q, want %q", got, want)
	}

	b.Click("#toggle")
	if got := b.Text("#state"); got != "on" {
		t.Errorf("after the click, #state = %q, want on", got)
	}

	shot := b.Screenshot("images page")
	if filepath.Dir(shot) != t.ArtifactDir() || filepath.Base(shot) != "images_page.png" {
		t.Errorf("screenshot written to %s, want images_page.png in %s", shot, t.ArtifactDir())
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(f)
	f.Close()
	if err != nil {
		t.Fatalf("the screenshot is not a PNG: %v", err)
	}
	if cfg.Width != WindowWidth || cfg.Height < 1500 {
		t.Errorf("screenshot is %dx%d, want the whole page: %d wide, 1500 or more high", cfg.Width, cfg.Height, WindowWidth)
	}

	b.SetValue("#q", "alpine")
	b.Submit("#q")
	if got, want := b.URL(), srv.URL+"/search?q=alpine"; got != want {
		t.Errorf("the form led to %q, want %q", got, want)
	}
	if got := b.Text("#result"); got != "results for alpine" {
		t.Errorf("#result = %q", got)
	}
	if h := b.HTML(); !strings.Contains(h, `<h1 id="result">results for alpine</h1>`) {
		t.Errorf("HTML() lacks the result:\n%s", h)
	}

	if f := b.Foreign(); len(f) != 0 {
		t.Errorf("Foreign() = %v, want none", f)
	}
	var docs []string
	for _, r := range b.Requests() {
		if r.Kind == "Document" {
			docs = append(docs, strings.TrimPrefix(r.URL, srv.URL))
		}
	}
	if diff := cmp.Diff([]string{"/", "/findings", "/search?q=alpine"}, docs); diff != "" {
		t.Errorf("documents requested (-want +got):\n%s", diff)
	}
}

// recorder is a testing.TB that keeps the kit's Errorf, Fatalf and Skip to
// itself, so a test can check what the kit reports. Fatalf and Skip end the
// goroutine as testing's do; run such calls with run.
type recorder struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, s)
}

func (r *recorder) Errorf(format string, args ...any) {
	r.add("error: " + fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.add("fatal: " + fmt.Sprintf(format, args...))
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) {
	r.add("skip: " + fmt.Sprint(args...))
	runtime.Goexit()
}

// run calls f on a goroutine of its own, which a Fatalf or Skip may end, and
// returns the messages recorded meanwhile.
func (r *recorder) run(f func()) []string {
	r.mu.Lock()
	n := len(r.msgs)
	r.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
	return r.messages()[n:]
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// TestForeignRequests shows that a page that reaches another origin fails
// its test and that nothing is sent: an image on TEST-NET (never routable),
// an image on another server of this machine (which must see no request),
// and a preconnect hint (a connection without a request, which must not
// happen either).
func TestForeignRequests(t *testing.T) {
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
	}))
	defer other.Close()
	// The hint names a server of this machine by a host other than the
	// allowed one: the resolver rule must keep Chromium from connecting.
	var hintedConns atomic.Int32
	hinted := httptest.NewUnstartedServer(http.NotFoundHandler())
	hinted.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			hintedConns.Add(1)
		}
	}
	hinted.Start()
	defer hinted.Close()
	hintURL := strings.Replace(hinted.URL, "127.0.0.1", "localhost", 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>leaky</title>
<link rel="preconnect" href="%s">
<img src="http://192.0.2.1/x.png" alt="">
<img src="%s/y.png" alt="">
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="">
<p>page</p>`, hintURL, other.URL)
	}))
	defer srv.Close()

	wantForeign := []Request{
		{URL: "http://192.0.2.1/x.png", Kind: "Image"},
		{URL: other.URL + "/y.png", Kind: "Image"},
		{URL: hintURL + "/", Kind: "preconnect"},
	}
	sortRequests := func(rs []Request) []Request {
		return slices.SortedFunc(slices.Values(rs), func(a, b Request) int { return strings.Compare(a.URL, b.URL) })
	}

	rec := &recorder{TB: t}
	// Registered first, so it runs after the browser's own cleanup.
	t.Cleanup(func() {
		msgs := rec.messages()
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], "error: browsertest: 3 request(s) to origins other than "+srv.URL) {
			t.Fatalf("at the end the kit reported %q, want one error for the 3 requests", msgs)
		}
		for _, r := range wantForeign {
			if !strings.Contains(msgs[0], r.String()) {
				t.Errorf("the report lacks %s:\n%s", r, msgs[0])
			}
		}
		if strings.Contains(msgs[0], "data:") || strings.Contains(msgs[0], srv.URL+"/") {
			t.Errorf("the report names allowed URLs:\n%s", msgs[0])
		}
	})
	msgs := rec.run(func() {
		b := New(rec, srv.URL)
		b.Navigate(srv.URL)
		if diff := cmp.Diff(sortRequests(wantForeign), sortRequests(b.Foreign())); diff != "" {
			t.Errorf("Foreign() (-want +got):\n%s", diff)
		}
		if !slices.Contains(b.Requests(), Request{URL: srv.URL + "/", Kind: "Document"}) {
			t.Errorf("Requests() lacks the page itself: %v", b.Requests())
		}
	})
	if len(msgs) != 0 {
		t.Fatalf("the walk failed: %q", msgs)
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other server got %d request(s): the foreign image was not blocked", n)
	}
	if n := hintedConns.Load(); n != 0 {
		t.Errorf("the hinted server got %d connection(s): the resolver rule did not hold", n)
	}
}

// TestFailures shows that a failing action stops the test with the action,
// its selector and the page it was on, and does not wait longer than the
// timeout.
func TestFailures(t *testing.T) {
	srv := httptest.NewServer(site())
	defer srv.Close()
	// Another origin on this machine, never one off it.
	other := httptest.NewServer(site())
	defer other.Close()
	rec := &recorder{TB: t}
	t.Cleanup(func() {
		// The blocked navigation below is a foreign request, reported last.
		msgs := rec.messages()
		if last := msgs[len(msgs)-1]; !strings.Contains(last, "Document "+other.URL+"/") {
			t.Errorf("the blocked navigation is not reported at the end: %q", last)
		}
	})
	var b *Browser
	if msgs := rec.run(func() {
		b = New(rec, srv.URL)
		b.Timeout = time.Second
		b.Navigate("/")
	}); len(msgs) != 0 {
		t.Fatalf("the start failed: %q", msgs)
	}
	for _, tc := range []struct {
		name string
		do   func()
		want string
	}{
		{"missing element", func() { b.Click("#missing") },
			`fatal: browsertest: Click("#missing") on ` + srv.URL + `/: gave up after 1s`},
		{"bad selector", func() { b.Count("td[") },
			`fatal: browsertest: Count("td[") on ` + srv.URL + `/: `},
		{"click that loads nothing", func() { b.ClickAndWait("#toggle") },
			`fatal: browsertest: ClickAndWait("#toggle") (waiting for the page it loads) on ` + srv.URL + `/: gave up after 1s`},
		{"invalid form", func() { b.Submit("#q") },
			`fatal: browsertest: Submit("#q") (waiting for the page it loads) on ` + srv.URL + `/: `},
		{"foreign page", func() { b.Navigate(other.URL + "/") },
			`fatal: browsertest: Navigate("` + other.URL + `/") (not on the allowed origin ` + srv.URL + `, so blocked) on `},
	} {
		start := time.Now()
		msgs := rec.run(tc.do)
		if len(msgs) != 1 || !strings.HasPrefix(msgs[0], tc.want) {
			t.Errorf("%s: the kit reported %q, want one message starting %q", tc.name, msgs, tc.want)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %v with a timeout of 1s", tc.name, d)
		}
	}
	if msgs := rec.messages(); !strings.Contains(strings.Join(msgs, "\n"), "the form is not valid: q: ") {
		t.Errorf("the invalid form's message does not say which field: %q", msgs)
	}
}

// TestNoChromium shows the choice between skipping and failing when the
// browser is missing.
func TestNoChromium(t *testing.T) {
	for _, tc := range []struct {
		ci, want string
	}{
		{"true", "fatal: browsertest: chromium is not installed (apt-get install chromium)"},
		{"", "skip: browsertest: chromium is not installed (apt-get install chromium)"},
		{"false", "skip: browsertest: chromium is not installed (apt-get install chromium)"},
	} {
		t.Run("CI="+tc.ci, func(t *testing.T) {
			t.Setenv("PATH", t.TempDir())
			t.Setenv("CI", tc.ci)
			rec := &recorder{TB: t}
			msgs := rec.run(func() { New(rec, "http://127.0.0.1:1") })
			if diff := cmp.Diff([]string{tc.want}, msgs); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	const origin = "http://127.0.0.1:8080"
	for _, tc := range []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8080/", true},
		{"http://127.0.0.1:8080/images?q=a#top", true},
		{"HTTP://127.0.0.1:8080/x", true},
		{"http://127.0.0.1:8081/", false},
		{"http://localhost:8080/", false},
		{"https://127.0.0.1:8080/", false},
		{"http://192.0.2.1/x.png", false},
		{"ws://127.0.0.1:8080/live", false},
		{"//127.0.0.1:8080/x", false},
		{"data:image/png;base64,AAAA", true},
		{"about:blank", true},
		{"blob:http://127.0.0.1:8080/0b3d", true},
		{"chrome-error://chromewebdata/", false},
		{"%%", false},
	} {
		if got := allowed(origin, tc.url); got != tc.want {
			t.Errorf("allowed(%q) = %v, want %v", tc.url, got, tc.want)
		}
	}
}

func TestOriginOf(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://127.0.0.1:8080/dashboard/", "http://127.0.0.1:8080"},
		{"http://Example.COM:80/", "http://example.com"},
		{"https://example.com:443", "https://example.com"},
		{"https://example.com:8443", "https://example.com:8443"},
		{"http://[::1]:8080/", "http://[::1]:8080"},
		{"file:///tmp/report.html", "file://"},
		{"", "error"},
		{"127.0.0.1:8080", "error"},
		{"http:///x", "error"},
		{"ftp://example.com/", "error"},
	} {
		got, err := originOf(tc.in)
		if err != nil {
			got = "error"
		}
		if got != tc.want {
			t.Errorf("originOf(%q) = %q (%v), want %q", tc.in, got, err, tc.want)
		}
	}
}
