package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/server/api/apitest"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// serve mounts the dashboard's routes as the server does.
func serve(t testing.TB, d *Dashboard) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for _, r := range d.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// noRedirect is a client that shows redirects instead of following them.
func noRedirect(srv *httptest.Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func get(t *testing.T, c *http.Client, u string, cookie string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: api.TokenCookie, Value: cookie})
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// rows returns the data rows of the table with this id.
func rows(t *testing.T, page, id string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<table class="data" id="` + id + `">.*?<tbody>(.*?)</tbody>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no table %q in the page", id)
	}
	return regexp.MustCompile(`(?s)<tr[ >].*?</tr>`).FindAllString(m[1], -1)
}

// TestPages: every page renders on a synthetic fleet, the tables sort,
// filter and page from the URL, and unknown images are 404s.
func TestPages(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	st := storetest.Open(t, store.Options{Now: clock.Now})
	ids := storetest.Fleet(t, st, storetest.FleetSpec{Images: 12, Repositories: 4, FindingsPerImage: 30, Days: 10,
		End: clock.Now(), Clock: clock, Seed: 1})
	d, err := New(Options{Store: st, Now: clock.Now, ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, d)
	c := srv.Client()

	resp, page := get(t, c, srv.URL+"/ui/", "")
	if resp.StatusCode != 200 {
		t.Fatalf("overview: %d\n%s", resp.StatusCode, page)
	}
	sum, err := st.Summary(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]int{"images": sum.Images, "repositories": sum.Repositories, "findings": sum.Findings,
		"kev": sum.KEVFindings, "fixable": sum.FixableFindings} {
		if !strings.Contains(page, fmt.Sprintf(`data-count="%s">%d<`, name, want)) {
			t.Errorf("overview does not show %s = %d", name, want)
		}
	}
	if got := len(rows(t, page, "images")); got != 12 {
		t.Errorf("overview lists %d images, want 12", got)
	}
	if !strings.Contains(page, `<svg class="chart"`) || !strings.Contains(page, "Open findings per day") {
		t.Error("overview has no trend chart")
	}
	// Ranked: the first row has the most KEV findings.
	risks, err := st.ImageRisks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	most := risks[0]
	for i := range risks {
		if riskCmp(&risks[i], &most) > 0 {
			most = risks[i]
		}
	}
	if first := rows(t, page, "images")[0]; !strings.Contains(first, fmt.Sprintf(`data-image-id="%d"`, most.ID)) {
		t.Errorf("first ranked row is not image %d (KEV %d, fixable high %d):\n%s", most.ID, most.KEV, most.FixableHigh, first)
	}

	// Filters and sorts come from the URL.
	_, page = get(t, c, srv.URL+"/ui/?q=app1&sort=image&dir=asc", "")
	for _, r := range rows(t, page, "images") {
		if !strings.Contains(r, "/app1<") && !strings.Contains(r, "app1</a>") {
			t.Errorf("filter q=app1 kept a row of another repository:\n%s", r)
		}
	}
	_, page = get(t, c, srv.URL+"/ui/?kev=1", "")
	for _, r := range rows(t, page, "images") {
		if strings.Contains(r, "No image matches") {
			continue
		}
		if !strings.Contains(r, `class="kev"`) {
			t.Errorf("kev=1 kept an image without a KEV finding:\n%s", r)
		}
	}

	// The image page: layers, findings sorted and filtered, history.
	resp, page = get(t, c, fmt.Sprintf("%s/ui/images/%d", srv.URL, ids[0]), "")
	if resp.StatusCode != 200 {
		t.Fatalf("image page: %d\n%s", resp.StatusCode, page)
	}
	if got := len(rows(t, page, "layers")); got != 3 {
		t.Errorf("image page lists %d layers, want 3", got)
	}
	open, err := st.OpenFindings(t.Context(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := len(rows(t, page, "findings")); got != len(open) {
		t.Errorf("image page lists %d findings, want the %d open", got, len(open))
	}
	_, page = get(t, c, fmt.Sprintf("%s/ui/images/%d?status=resolved", srv.URL, ids[0]), "")
	if got := len(rows(t, page, "findings")); got != 3 { // a tenth of 30 resolved by the second scan
		t.Errorf("resolved findings: %d rows, want 3", got)
	}
	_, page = get(t, c, fmt.Sprintf("%s/ui/images/%d?severity=CRITICAL", srv.URL, ids[0]), "")
	for _, r := range rows(t, page, "findings") {
		if !strings.Contains(r, "No finding matches") && !strings.Contains(r, ">CRITICAL<") {
			t.Errorf("severity=CRITICAL kept:\n%s", r)
		}
	}
	_, page = get(t, c, fmt.Sprintf("%s/ui/images/%d?sort=id&dir=asc", srv.URL, ids[0]), "")
	var got []string
	for _, r := range rows(t, page, "findings") {
		got = append(got, regexp.MustCompile(`data-finding="([^@"]*)`).FindStringSubmatch(r)[1])
	}
	for i := 1; i < len(got); i++ {
		if got[i-1] > got[i] {
			t.Errorf("sort=id&dir=asc: %s before %s", got[i-1], got[i])
		}
	}

	// Exposure: an advisory of the first image lists it with its layer step.
	adv := open[0].ID
	_, page = get(t, c, srv.URL+"/ui/exposure?q="+url.QueryEscape(adv), "")
	if !strings.Contains(page, fmt.Sprintf(`data-image-id="%d"`, ids[0])) {
		t.Errorf("exposure to %s does not list image %d", adv, ids[0])
	}
	if !strings.Contains(page, "<code class=\"step\">") {
		t.Errorf("exposure rows show no Dockerfile step")
	}
	_, page = get(t, c, srv.URL+"/ui/exposure?q="+url.QueryEscape(open[0].Package.Name+"@"+open[0].Package.Version), "")
	if strings.Contains(page, "Nothing in the fleet matches") {
		// The fleet's packages are findings only (no inventory): a package
		// search finds none, and says so.
		t.Log("package search: no inventory in the synthetic fleet")
	}

	for _, path := range []string{"/ui/registries", "/ui/assets/style.css", "/ui/assets/favicon.svg"} {
		if resp, body := get(t, c, srv.URL+path, ""); resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
	}
	for _, path := range []string{"/ui/images/999999", "/ui/images/x", "/ui/assets/nope.css"} {
		if resp, _ := get(t, c, srv.URL+path, ""); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", path, resp.StatusCode)
		}
	}
}

// TestLogin: with authentication on, a page without a token goes to the
// login page; a bad token is refused; a good one is kept in an HttpOnly,
// SameSite=Strict cookie and the browser goes back where it was going.
func TestLogin(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	_, secret, err := st.CreateToken(t.Context(), "alice", store.ScopeRead)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Store: st, Authenticate: func(ctx context.Context, s string) (string, error) {
		tok, err := st.Authenticate(ctx, s)
		return tok.Name, err
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, d)
	c := noRedirect(srv)

	resp, body := get(t, c, srv.URL+"/ui/exposure?q=CVE-1", "")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login?next="+url.QueryEscape("/ui/exposure?q=CVE-1") {
		t.Fatalf("no token: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if strings.Contains(body, "<table") || strings.Contains(body, "data-count") {
		t.Errorf("the redirect shows results:\n%s", body)
	}
	resp, _ = get(t, c, srv.URL+"/ui/", "ddk_bogus")
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "expired=1") {
		t.Errorf("bad cookie: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	post := func(token, next string) *http.Response {
		resp, err := c.PostForm(srv.URL+"/ui/login", url.Values{"token": {token}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post("ddk_wrong", "/ui/"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", resp.StatusCode)
	}
	resp = post(secret, "/ui/exposure?q=CVE-1")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/exposure?q=CVE-1" {
		t.Fatalf("login: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == api.TokenCookie {
			cookie = ck
		}
	}
	if cookie == nil || cookie.Value != secret || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie = %+v", cookie)
	}
	resp, body = get(t, c, srv.URL+"/ui/", secret)
	if resp.StatusCode != 200 || !strings.Contains(body, "<strong>alice</strong>") {
		t.Errorf("with the cookie: %d", resp.StatusCode)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/ui/"},
		{"/ui/images/3?status=all", "/ui/images/3?status=all"},
		{"//evil.example/ui/", "/ui/"},
		{"https://evil.example/ui/", "/ui/"},
		{"/api/v1/summary", "/ui/"},
		{"/ui/../api/v1/db/apply", "/ui/"},
		{"/ui", "/ui/"},
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRoutesDocumented(t *testing.T) {
	d, err := New(Options{Store: &store.Store{}})
	if err != nil {
		t.Fatal(err)
	}
	apitest.CheckDocumented(t, "dashboard", d.Routes())
}

// TestSuppressions: the server's ignore file marks a finding suppressed on
// the image page, with its reason and expiry; it still counts as open.
func TestSuppressions(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	ids := storetest.Fleet(t, st, storetest.FleetSpec{Images: 1, FindingsPerImage: 20, Seed: 3})
	open, err := st.OpenFindings(t.Context(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	target := open[0]
	ig, err := policy.ParseIgnoreFile("server.yaml", fmt.Appendf(nil,
		"ignores:\n  - id: %s\n    reason: not reachable from the entrypoint\n    expires: 2099-01-31\n", target.ID))
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Store: st, Suppress: &policy.Engine{Ignores: []*policy.IgnoreFile{ig}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, d)
	_, page := get(t, srv.Client(), fmt.Sprintf("%s/ui/images/%d", srv.URL, ids[0]), "")
	var suppressed []string
	for _, r := range rows(t, page, "findings") {
		if strings.Contains(r, `class="suppressed"`) {
			suppressed = append(suppressed, r)
		}
	}
	if len(suppressed) == 0 || !strings.Contains(page, `data-count="suppressed">`+fmt.Sprint(len(suppressed))+"<") {
		t.Fatalf("%d suppressed rows; the count says otherwise or there are none", len(suppressed))
	}
	for _, r := range suppressed {
		if !strings.Contains(r, target.ID) || !strings.Contains(r, "not reachable from the entrypoint") || !strings.Contains(r, "2099-01-31") {
			t.Errorf("suppressed row without its advisory, reason or expiry:\n%s", r)
		}
	}
	if got := len(rows(t, page, "findings")); got != len(open) {
		t.Errorf("%d rows, want all %d open findings (suppressed ones marked, not hidden)", got, len(open))
	}
}

// TestBaseLayers: an image scanned with a base-image index shows its base
// and which layers are the base's.
func TestBaseLayers(t *testing.T) {
	st := storetest.Open(t, store.Options{})
	res := &result.Result{Image: inventory.Image{Digest: "sha256:" + strings.Repeat("a", 64), Layers: []inventory.Layer{
		{Index: 0, DiffID: "sha256:" + strings.Repeat("1", 64), CreatedBy: "ADD rootfs /"},
		{Index: 1, DiffID: "sha256:" + strings.Repeat("2", 64), CreatedBy: "COPY app /app"}}},
		BaseImage: &result.BaseImage{Name: "busybox:1.37.0-musl", Layers: 1, Signal: "layer-chain"},
		Malware: []finding.Malware{{Kind: "package", ID: "MAL-2025-46969", Severity: "CRITICAL", Engine: "records",
			Package: &finding.PackageRef{ID: "npm/chalk", Name: "chalk", Version: "5.6.1", Ecosystem: "npm"}, LayerIndex: 1}}}
	saved, err := st.SaveScan(t.Context(), store.ImageKey{Repository: "registry.example/team/tool"}, res)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, d)
	_, page := get(t, srv.Client(), fmt.Sprintf("%s/ui/images/%d", srv.URL, saved.ImageID), "")
	layers := rows(t, page, "layers")
	if len(layers) != 2 || !strings.Contains(layers[0], `<span class="tag">base</span>`) || !strings.Contains(layers[1], "<td>own</td>") {
		t.Errorf("layers:\n%s", strings.Join(layers, "\n"))
	}
	if !strings.Contains(page, "busybox:1.37.0-musl") || !strings.Contains(page, "its first 1 layer(s)") {
		t.Error("the page does not name the base")
	}
	if m := rows(t, page, "malware"); len(m) != 1 || !strings.Contains(m[0], "MAL-2025-46969") || !strings.Contains(m[0], "chalk 5.6.1") {
		t.Errorf("malware rows: %v", m)
	}
}
