// Package browsertest drives Debian's headless Chromium for the tests of
// drydock's web pages, through chromedp.
//
// A test gets one browser of its own from New, closed when the test ends.
// The browser may talk only to the server under test: every request of every
// target (tab, frame, worker, and the favicon that the browser itself asks
// for) is intercepted, one to any other origin is blocked before it is sent,
// and the test fails at its end with the list of them. That is how a page
// proves that it loads nothing from elsewhere. Connections that no request
// precedes (Chromium's own lookups, the preconnect of a navigation or of a
// <link rel=preconnect>) are stopped by Chromium's resolver, which knows no
// host but the server's.
//
// The helpers wait for what they need (an element, the load of the page that
// a click or a key opens) up to Browser.Timeout, and fail the test with the
// action, the selector and the page's URL when something goes wrong, so a
// test reads as the steps a person would take.
package browsertest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

const (
	// DefaultTimeout is the time each action may take: long enough for a
	// loaded 2-core CI machine, short enough that a missing element fails
	// the test well before go test's own timeout.
	DefaultTimeout = 30 * time.Second

	// WindowWidth and WindowHeight are the browser window's size, a laptop
	// screen: the dashboard must fit one, and screenshots are comparable.
	WindowWidth, WindowHeight = 1366, 900
)

// Browser is one headless Chromium with one tab, bound to a test. Its methods
// are for the test's own goroutine, as testing.T's Fatal is.
type Browser struct {
	// Timeout bounds each action; New sets DefaultTimeout. A test may
	// change it between actions.
	Timeout time.Duration

	t      testing.TB
	origin string          // the allowed origin, from originOf
	ctx    context.Context // the tab; it outlives t.Context so cleanup can still ask the page

	mu       sync.Mutex
	requests []Request
	seen     map[Request]bool
}

// Request is one request that a page of the browser made, or one connection
// that a page asked for.
type Request struct {
	URL string
	// Kind is Chrome's resource type ("Document", "Image", "Script",
	// "Other" for the favicon, ...), "WebSocket", or the rel of a <link>
	// ("preconnect", "dns-prefetch") that opens a connection with no
	// request that could be intercepted.
	Kind string
}

func (r Request) String() string { return r.Kind + " " + r.URL }

// New starts Chromium for t and opens a blank tab. allowedOrigin is the
// server under test, as a URL (httptest.Server.URL will do): its scheme, host
// and port are the only origin the pages may reach; data:, about: and blob:
// URLs never touch the network and are always allowed.
//
// Without Chromium the test is skipped, or fails where CI=true, since CI
// must run these tests.
func New(t testing.TB, allowedOrigin string) *Browser {
	t.Helper()
	exe := lookChromium(t)
	origin, err := originOf(allowedOrigin)
	if err != nil {
		t.Fatalf("browsertest: allowed origin %q: %v", allowedOrigin, err)
	}
	b := &Browser{Timeout: DefaultTimeout, t: t, origin: origin, seen: map[Request]bool{}}

	// These flags, and not chromedp.DefaultExecAllocatorOptions: the
	// defaults add Puppeteer's list (enable-automation, disable-extensions,
	// disable-dev-shm-usage, metrics-recording-only, password-store=basic,
	// enable-features=NetworkService...), none of which a test here needs;
	// of them, only the ones that keep the browser quiet offline
	// (no-first-run, disable-background-networking, disable-sync) are
	// kept, with the brief's own list. chromedp's Headless and
	// DisableGPU helpers are not used either, because they add mute-audio
	// and enable-unsafe-swiftshader. chromedp itself adds
	// --remote-debugging-pipe (no port is opened) and about:blank; Debian's
	// /usr/bin/chromium wrapper adds the flags of /etc/chromium.d.
	//
	// host-resolver-rules is the one flag that keeps the machine offline
	// where Fetch cannot: Chromium resolves accounts.google.com and
	// clients2.google.com at start despite disable-background-networking,
	// and it opens a TCP connection to the origin of a navigation, or of a
	// <link rel=preconnect>, before (or without) any request that Fetch
	// could block. Every host but the allowed one (IP literals included)
	// now fails to resolve inside Chromium, so nothing is sent.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(
		// The browser must outlive t.Context, which ends before the
		// cleanup that reads the last page and closes the browser.
		context.WithoutCancel(t.Context()),
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // root in CI, where the sandbox cannot start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()), // a fresh profile: no cookies or cache from another test
		chromedp.WindowSize(WindowWidth, WindowHeight),
		chromedp.Flag("host-resolver-rules", resolverRules(origin)),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(b.onTabEvent))
	b.ctx = ctx

	// The first action starts the browser and binds its life to the
	// context it gets, so it cannot carry the timeout: wait for it here.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err = <-started:
	case <-time.After(b.Timeout):
		err = fmt.Errorf("no answer within %v", b.Timeout)
	}
	if err == nil {
		err = b.intercept()
	}
	if err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("browsertest: starting %s: %v", exe, err)
	}

	t.Cleanup(func() {
		b.scanHints()
		closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := chromedp.Cancel(closeCtx); err != nil && !errors.Is(err, context.Canceled) {
			t.Logf("browsertest: closing the browser: %v", err)
		}
		cancel()
		cancelTab()
		cancelAlloc() // waits for the process, so the profile directory can go
		if foreign := b.Foreign(); len(foreign) > 0 {
			var lines []string
			for _, r := range foreign {
				lines = append(lines, "  "+r.String())
			}
			t.Errorf("browsertest: %d request(s) to origins other than %s (blocked; the page must not make them):\n%s",
				len(foreign), b.origin, strings.Join(lines, "\n"))
		}
	})
	return b
}

// lookChromium finds the browser as writer_test's TestHTMLInBrowser does.
func lookChromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("browsertest: chromium is not installed (apt-get install chromium)")
	}
	t.Skip("browsertest: chromium is not installed (apt-get install chromium)")
	return ""
}

// intercept pauses every request of every target at the browser level
// (Fetch on the browser session, not on a tab), before it is sent: one to
// another origin fails with BlockedByClient, the rest go on. The tab's
// Network events (onTabEvent) see the same requests; this also sees other
// tabs, out-of-process frames, workers and the browser's favicon request.
func (b *Browser) intercept() error {
	paused := chromedp.BrowserEvents(b.ctx, fetch.RequestPaused) // subscribe before enabling
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	if _, err := chromedp.CallBrowser(ctx, fetch.Enable, fetch.EnableParams{}); err != nil {
		return fmt.Errorf("intercepting requests: %w", err)
	}
	go func() {
		// The loop ends when the tab's context does, at cleanup. An error
		// from the browser means the request is gone (its frame closed, or
		// the browser is closing): the record is what the check needs.
		for ev, err := range paused {
			if err != nil {
				return
			}
			b.record(ev.Request.URL+ev.Request.URLFragment, string(ev.ResourceType))
			if allowed(b.origin, ev.Request.URL) {
				_, _ = chromedp.CallBrowser(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			} else {
				_, _ = chromedp.CallBrowser(b.ctx, fetch.FailRequest, fetch.FailRequestParams{
					RequestID: ev.RequestID, ErrorReason: network.ErrorReasonBlockedByClient,
				})
			}
		}
	}()
	return nil
}

// onTabEvent runs in chromedp's read loop for the tab: it must only record.
func (b *Browser) onTabEvent(ev any) {
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.record(ev.Request.URL+ev.Request.URLFragment, string(ev.Type))
	case *network.EventWebSocketCreated:
		// Fetch cannot pause a WebSocket handshake: it is reported here,
		// and the resolver rule stops one to another host.
		b.record(ev.URL, "WebSocket")
	}
}

func (b *Browser) record(url, kind string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// The tab and the interception usually both see a request: keep one
	// entry per URL and kind.
	r := Request{URL: url, Kind: kind}
	if !b.seen[r] {
		b.seen[r] = true
		b.requests = append(b.requests, r)
	}
}

// Requests returns every distinct request the browser made so far, in the
// order first seen, allowed or not. Chromium asks for /favicon.ico of each
// page's origin, so it is there too.
func (b *Browser) Requests() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]Request(nil), b.requests...)
}

// Foreign returns the requests to an origin other than the allowed one: the
// ones the test fails for at its end.
func (b *Browser) Foreign() []Request {
	var out []Request
	for _, r := range b.Requests() {
		if !allowed(b.origin, r.URL) {
			out = append(out, r)
		}
	}
	return out
}

// hintsJS lists the <link>s that make Chromium open a connection without a
// request (so neither Fetch nor the Network events see them).
const hintsJS = `Array.from(document.querySelectorAll('link[rel]'))
	.filter(l => /(^|\s)(preconnect|dns-prefetch)(\s|$)/i.test(l.rel))
	.map(l => [l.rel.toLowerCase(), l.href])`

// scanHints records the connection hints of the page now shown, so that the
// test fails for them although the resolver rule stopped the connection. It
// runs after each page load that a helper waits for and at cleanup, and it
// is best effort: a page that is going away has no hints to give.
func (b *Browser) scanHints() {
	ctx, cancel := context.WithTimeout(b.ctx, min(b.Timeout, 5*time.Second))
	defer cancel()
	hints, err := chromedp.Run(ctx, chromedp.Evaluate[[][]string](hintsJS))
	if err != nil {
		return
	}
	for _, h := range hints {
		if len(h) == 2 && h[1] != "" {
			b.record(h[1], h[0])
		}
	}
}

// do runs one action under the timeout and fails the test with what was
// asked and where if it does not succeed.
func do[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.Timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("gave up after %v: %w", b.Timeout, err)
		}
		b.t.Fatalf("browsertest: %s on %s: %v", what, b.location(), err)
	}
	return v
}

// location is the page's URL for a failure message; the page may be stuck,
// so it gets a few seconds of its own.
func (b *Browser) location() string {
	ctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
	defer cancel()
	u, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(a page that does not answer)"
	}
	return u
}

// Navigate opens url (a path such as "/images" is taken on the allowed
// origin), waits for its load event, and returns how long the page took from
// the start of the navigation to the end of its load event, as the browser
// measured it (the Navigation Timing entry), or the wall time of the call
// where the browser has no such entry. A move to a #fragment of the same
// document loads nothing and returns the document's own time.
func (b *Browser) Navigate(url string) time.Duration {
	b.t.Helper()
	if strings.HasPrefix(url, "/") && !strings.HasPrefix(url, "//") {
		url = b.origin + url
	}
	what := fmt.Sprintf("Navigate(%q)", url)
	if !allowed(b.origin, url) {
		what += fmt.Sprintf(" (not on the allowed origin %s, so blocked)", b.origin)
	}
	start := time.Now()
	do(b, what, chromedp.Navigate(url))
	wall := time.Since(start)
	b.scanHints()

	// loadEventEnd is set just after the load event that Navigate waited
	// for: poll for it briefly.
	ctx, cancel := context.WithTimeout(b.ctx, min(b.Timeout, 5*time.Second))
	defer cancel()
	ms, err := chromedp.Run(ctx, chromedp.Poll[float64](
		`(() => { const e = performance.getEntriesByType('navigation')[0];
			return e && e.loadEventEnd > 0 ? e.loadEventEnd - e.startTime : 0 })()`,
		chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(2*time.Second)))
	if err != nil || ms <= 0 {
		return wall
	}
	return time.Duration(ms * float64(time.Millisecond))
}

// URL returns the address of the page shown now.
func (b *Browser) URL() string {
	b.t.Helper()
	return do(b, "URL()", chromedp.Location())
}

// HTML returns the document's markup as the browser holds it now, after its
// scripts ran (without the doctype).
func (b *Browser) HTML() string {
	b.t.Helper()
	return do(b, "HTML()", chromedp.Evaluate[string](`document.documentElement.outerHTML`))
}

// Text returns the rendered text (innerText) of the first element that
// matches the CSS selector, waiting for one to appear.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	return do(b, fmt.Sprintf("Text(%q)", selector), chromedp.Text(chromedp.CSS(selector)))
}

// Texts returns the rendered text of every element that matches the CSS
// selector now, in document order; it does not wait, as none is an answer.
func (b *Browser) Texts(selector string) []string {
	b.t.Helper()
	return do(b, fmt.Sprintf("Texts(%q)", selector), chromedp.Evaluate[[]string](
		fmt.Sprintf(`Array.from(document.querySelectorAll(%s), e => e.innerText)`, jsString(selector))))
}

// Outer returns the markup (outerHTML) of every element that matches the
// CSS selector now, in document order: what Texts does not show, such as
// attributes. It does not wait.
func (b *Browser) Outer(selector string) []string {
	b.t.Helper()
	return do(b, fmt.Sprintf("Outer(%q)", selector), chromedp.Evaluate[[]string](
		fmt.Sprintf(`Array.from(document.querySelectorAll(%s), e => e.outerHTML)`, jsString(selector))))
}

// Count returns how many elements match the CSS selector now.
func (b *Browser) Count(selector string) int {
	b.t.Helper()
	return do(b, fmt.Sprintf("Count(%q)", selector), chromedp.Evaluate[int](
		fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(selector))))
}

// Click clicks the first element that matches the CSS selector, as a mouse
// would, once it is visible. It does not wait for a page that the click may
// load: use ClickAndWait for a link or a submit button.
func (b *Browser) Click(selector string) {
	b.t.Helper()
	do(b, fmt.Sprintf("Click(%q)", selector), chromedp.Click(chromedp.CSS(selector)))
}

// ClickAndWait clicks like Click and waits for the page the click loads.
func (b *Browser) ClickAndWait(selector string) {
	b.t.Helper()
	b.andWait(fmt.Sprintf("ClickAndWait(%q)", selector), chromedp.Click(chromedp.CSS(selector)))
}

// andWait runs a that must load a page, and waits for the load.
func (b *Browser) andWait(what string, a chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	do(b, what+" (waiting for the page it loads)", func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.RunResponse(ctx, a)
		return chromedp.Void{}, err
	})
	b.scanHints()
}

// SetValue sets the value of the form field that matches the CSS selector
// and fires its input and change events, as typing and leaving it would.
func (b *Browser) SetValue(selector, value string) {
	b.t.Helper()
	do(b, fmt.Sprintf("SetValue(%q, %q)", selector, value), chromedp.SetValue(chromedp.CSS(selector), value))
}

// submitJS submits the form of the element the selector names (the form
// itself, a field or a submit button) as pressing its button would:
// requestSubmit runs the validation and the submit handlers that
// form.submit() skips. An invalid form is an error here rather than a wait
// for a page that never comes.
const submitJS = `(() => {
	const sel = %s, el = document.querySelector(sel);
	if (!el) throw new Error('no element matches ' + sel);
	const form = el instanceof HTMLFormElement ? el : el.form;
	if (!form) throw new Error(sel + ' is not in a form');
	if (!form.checkValidity()) {
		const bad = Array.from(form.elements).filter(e => e.willValidate && !e.checkValidity());
		throw new Error('the form is not valid: ' + bad.map(e => (e.name || e.id) + ': ' + e.validationMessage).join('; '));
	}
	form.requestSubmit(el.type === 'submit' ? el : undefined);
})()`

// Submit submits the form of the element that matches the CSS selector (the
// form, one of its fields, or its submit button, whose name and value are
// then sent) and waits for the page it loads.
func (b *Browser) Submit(selector string) {
	b.t.Helper()
	b.andWait(fmt.Sprintf("Submit(%q)", selector), chromedp.Steps(
		chromedp.WaitReady(chromedp.CSS(selector)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(submitJS, jsString(selector))),
	))
}

// Key presses key in the focused element: a key name of the DOM ("Tab",
// "Enter", "Escape", "ArrowDown", "Backspace", ...) or "Space", with modifiers as
// "Shift+Tab" or "Control+a", or else text, typed one character at a time.
// It does not wait for a page the key may load: use KeyAndWait.
func (b *Browser) Key(key string) {
	b.t.Helper()
	do(b, fmt.Sprintf("Key(%q)", key), keyAction(key))
}

// KeyAndWait presses key like Key and waits for the page it loads, as Enter
// on a link does.
func (b *Browser) KeyAndWait(key string) {
	b.t.Helper()
	b.andWait(fmt.Sprintf("KeyAndWait(%q)", key), keyAction(key))
}

// keyAction reads key as Key documents it.
func keyAction(key string) chromedp.Action[chromedp.Void] {
	var mods []chromedp.Modifier
	if parts := strings.Split(key, "+"); len(parts) > 1 {
		for _, p := range parts[:len(parts)-1] {
			m, ok := modifier(p)
			if !ok {
				mods = nil // not a combination, such as "a+b": text
				break
			}
			mods = append(mods, m)
		}
		if mods != nil {
			key = parts[len(parts)-1]
		}
	}
	if key == "Space" { // the DOM names it " "
		key = " "
	}
	if utf8.RuneCountInString(key) > 1 {
		// A named key: the rune chromedp's kb package encodes it as. Several
		// runes can share a name ('\r' and '\n' are Enter): take the lowest,
		// so the same events are sent every time.
		found := rune(-1)
		for r, k := range kb.Keys {
			if k.Key == key && (found < 0 || r < found) {
				found = r
			}
		}
		if found >= 0 {
			key = string(found)
		}
	}
	return chromedp.KeyEvent(key, chromedp.KeyModifiers(mods...))
}

func modifier(name string) (chromedp.Modifier, bool) {
	switch name {
	case "Shift":
		return chromedp.ModifierShift, true
	case "Control", "Ctrl":
		return chromedp.ModifierCtrl, true
	case "Alt":
		return chromedp.ModifierAlt, true
	case "Meta":
		return chromedp.ModifierMeta, true
	}
	return 0, false
}

// focusedJS describes document.activeElement for Focused.
const focusedJS = `(() => {
	const e = document.activeElement;
	if (!e || e === document.body) return 'body';
	let s = e.tagName.toLowerCase();
	if (e.id) s += '#' + e.id;
	const text = (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().replace(/\s+/g, ' ');
	if (text) s += ' ' + JSON.stringify(text.length > 60 ? text.slice(0, 60) + '…' : text);
	return s;
})()`

// Focused describes the element that has the keyboard focus: its tag, #id
// if it has one, and its text (or value, or aria-label) in quotes, such as
// `a#findings "Findings"` or `input#q "alpine"`; "body" when nothing has the
// focus. A test walking a page with Tab compares it.
func (b *Browser) Focused() string {
	b.t.Helper()
	return do(b, "Focused()", chromedp.Evaluate[string](focusedJS))
}

// SetCookie sets a cookie for the allowed origin, path /, HttpOnly as a
// server sets a session token: call it before Navigate to be signed in.
func (b *Browser) SetCookie(name, value string) {
	b.t.Helper()
	do(b, fmt.Sprintf("SetCookie(%q)", name), chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.SetCookie, network.SetCookieParams{
			Name: name, Value: value, URL: b.origin + "/", Path: "/", HTTPOnly: new(true),
		})
		return err
	}))
}

// Screenshot writes a PNG of the whole page (not only the window) to
// name.png in t.ArtifactDir(), which go test keeps with -artifacts, logs
// its path and returns it.
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	data := do(b, fmt.Sprintf("Screenshot(%q)", name), func(ctx context.Context, t *chromedp.Target) ([]byte, error) {
		m, err := cdp.Call(ctx, t, page.GetLayoutMetrics, cdp.Empty{})
		if err != nil {
			return nil, err
		}
		w, h := float64(WindowWidth), float64(WindowHeight)
		if v := m.CSSLayoutViewport; v != nil {
			w, h = float64(v.ClientWidth), float64(v.ClientHeight)
		}
		if c := m.CSSContentSize; c != nil {
			w, h = max(w, math.Ceil(c.Width)), max(h, math.Ceil(c.Height))
		}
		r, err := cdp.Call(ctx, t, page.CaptureScreenshot, page.CaptureScreenshotParams{
			Format:                page.CaptureScreenshotFormatPng,
			Clip:                  &page.Viewport{Width: w, Height: h, Scale: 1},
			CaptureBeyondViewport: new(true),
		})
		return r.Data, err
	})
	path := filepath.Join(b.t.ArtifactDir(), fileName(name)+".png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.t.Fatalf("browsertest: Screenshot(%q): %v", name, err)
	}
	b.t.Logf("browsertest: screenshot of %s: %s", b.location(), path)
	return path
}

// fileName keeps name to characters that are safe in a file name.
func fileName(name string) string {
	name = strings.TrimSuffix(name, ".png")
	s := strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, name)
	if s == "" {
		s = "screenshot"
	}
	return s
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s) // a string always encodes
	return string(q)
}
