// Package dashboard is drydock server's web UI: server-rendered HTML pages
// on the store — the fleet overview ranked by risk, "where are we exposed",
// an image's page, the watched registries and the admission decisions.
//
// The pages are plain HTML with embedded CSS and no script: every table is
// sorted, filtered and paged by the server from the URL's query, so a link
// is the view (shareable, restorable, printable), every control is a form
// element or a link (keyboard-navigable), and no request ever leaves the
// page (no CDN, no remote font: the assets are embedded in the binary).
// Charts are SVG drawn on the server, each with a table of its numbers.
//
// With authentication on, a page needs an API token: the login page keeps
// it in an HttpOnly, SameSite=Strict cookie (api.TokenCookie) that the
// server also accepts for read-only API requests (report downloads).
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
)

//go:embed templates/*.html assets/*
var files embed.FS

// Authenticator checks an API token; it returns the token's name, and an
// error wrapping store.ErrInvalidToken for a token that is not valid.
type Authenticator func(ctx context.Context, secret string) (name string, err error)

// Options configure the dashboard.
type Options struct {
	Store *store.Store
	// Authenticate checks the tokens of the login page and the cookie; nil
	// turns authentication off (drydock server --no-auth).
	Authenticate Authenticator
	// Suppress marks the findings the server's ignore files and VEX
	// documents suppress (drydock server --ignore-file, --vex), with their
	// reasons and expiry, on the image pages; nil: none.
	Suppress    *policy.Engine
	ToolVersion string
	Logger      *slog.Logger
	// Now returns the current time (default time.Now).
	Now func() time.Time
}

// Dashboard serves the pages.
type Dashboard struct {
	opt   Options
	log   *slog.Logger
	pages map[string]*template.Template
	now   func() time.Time
}

// The pages, each a template of templates/ executed with layout.html.
var pageNames = []string{"overview", "image", "exposure", "registries", "login", "error"}

// New parses the templates.
func New(opt Options) (*Dashboard, error) {
	if opt.Store == nil {
		return nil, errors.New("dashboard: no store")
	}
	d := &Dashboard{opt: opt, log: opt.Logger, now: opt.Now, pages: map[string]*template.Template{}}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.now == nil {
		d.now = time.Now
	}
	for _, name := range pageNames {
		t, err := template.New("layout.html").Funcs(funcs()).ParseFS(files, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard: parsing the %s page: %w", name, err)
		}
		d.pages[name] = t
	}
	return d, nil
}

// Routes are the dashboard's pages and assets. They are public as far as
// the server's guard goes: each page checks the token itself, to send a
// browser without one to the login page instead of answering 401.
func (d *Dashboard) Routes() []api.Route {
	return []api.Route{
		{Pattern: "GET /{$}", Handler: d.root, Scope: api.Public},
		{Pattern: "GET /ui/{$}", Handler: d.guard(d.overview), Scope: api.Public},
		{Pattern: "GET /ui/images/{id}", Handler: d.guard(d.image), Scope: api.Public},
		{Pattern: "GET /ui/exposure", Handler: d.guard(d.exposure), Scope: api.Public},
		{Pattern: "GET /ui/registries", Handler: d.guard(d.registries), Scope: api.Public},
		{Pattern: "GET /ui/login", Handler: d.loginPage, Scope: api.Public},
		{Pattern: "POST /ui/login", Handler: d.login, Scope: api.Public},
		{Pattern: "POST /ui/logout", Handler: d.logout, Scope: api.Public},
		{Pattern: "GET /ui/assets/{name}", Handler: d.asset, Scope: api.Public},
	}
}

func (d *Dashboard) root(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

// page is what every page's template gets besides its own data.
type page struct {
	Title   string
	Nav     string // the navigation entry to mark current
	Auth    bool   // authentication is on: show the logout button
	User    string // the token's name
	Version string
	Now     time.Time
	URL     *url.URL
	Data    any
}

// guard serves h to requests with a valid token (or all, when
// authentication is off); others are sent to the login page.
func (d *Dashboard) guard(h func(http.ResponseWriter, *http.Request, *page)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := &page{Version: d.opt.ToolVersion, Now: d.now(), URL: r.URL, Auth: d.opt.Authenticate != nil}
		if d.opt.Authenticate != nil {
			secret, ok := api.Token(r)
			if !ok {
				http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			name, err := d.opt.Authenticate(r.Context(), secret)
			if errors.Is(err, store.ErrInvalidToken) {
				clearCookie(w, r)
				http.Redirect(w, r, "/ui/login?expired=1&next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			if err != nil {
				d.fail(w, r, http.StatusServiceUnavailable, fmt.Errorf("cannot check the API token now: %w", err))
				return
			}
			p.User = name
		}
		h(w, r, p)
	}
}

// render writes a page; the HTML is built in memory first so that a
// template error becomes an error page, not half a page.
func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var buf strings.Builder
	if err := d.pages[name].Execute(&buf, p); err != nil {
		d.log.Error("rendering a dashboard page", "page", name, "url", r.URL.String(), "err", err)
		http.Error(w, "drydock: rendering the page failed: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Nothing but the server itself: no inline script at all, styles only
	// from the embedded stylesheet (and the SVG charts' attributes).
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(buf.String()))
}

// fail renders the error page.
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, status int, err error) {
	if status >= 500 {
		d.log.Error("dashboard", "url", r.URL.String(), "err", err)
	}
	d.render(w, r, status, "error", &page{Title: http.StatusText(status), Version: d.opt.ToolVersion, Now: d.now(), URL: r.URL,
		Auth: d.opt.Authenticate != nil, Data: map[string]any{"Status": status, "Message": err.Error()}})
}

// asset serves the embedded stylesheet.
func (d *Dashboard) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := fs.ReadFile(files, "assets/"+name)
	if err != nil || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	default:
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// loginPage asks for an API token.
func (d *Dashboard) loginPage(w http.ResponseWriter, r *http.Request) {
	if d.opt.Authenticate == nil {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	msg := ""
	if r.URL.Query().Get("expired") != "" {
		msg = "The token kept by this browser is no longer valid (revoked or unknown): give another."
	}
	d.render(w, r, http.StatusOK, "login", &page{Title: "Sign in", Version: d.opt.ToolVersion, Now: d.now(), URL: r.URL, Auth: false,
		Data: map[string]any{"Next": safeNext(r.URL.Query().Get("next")), "Error": msg}})
}

// login checks the token given and keeps it in the cookie.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	if d.opt.Authenticate == nil {
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		d.fail(w, r, http.StatusBadRequest, fmt.Errorf("reading the form: %w", err))
		return
	}
	next := safeNext(r.PostForm.Get("next"))
	secret := strings.TrimSpace(r.PostForm.Get("token"))
	again := func(status int, msg string) {
		d.render(w, r, status, "login", &page{Title: "Sign in", Version: d.opt.ToolVersion, Now: d.now(), URL: r.URL,
			Data: map[string]any{"Next": next, "Error": msg}})
	}
	if secret == "" {
		again(http.StatusBadRequest, "Give an API token (drydock token create --scope read).")
		return
	}
	if _, err := d.opt.Authenticate(r.Context(), secret); err != nil {
		if errors.Is(err, store.ErrInvalidToken) {
			again(http.StatusUnauthorized, "This token is not valid (unknown, revoked or mistyped).")
			return
		}
		d.fail(w, r, http.StatusServiceUnavailable, fmt.Errorf("cannot check the API token now: %w", err))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: api.TokenCookie, Value: secret, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int((12 * time.Hour).Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	clearCookie(w, r)
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: api.TokenCookie, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// safeNext keeps a post-login destination on the dashboard (never another
// site: "//evil.example" or "https://…" become the overview).
func safeNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || next == "" || u.IsAbs() || u.Host != "" || strings.HasPrefix(next, "//") {
		return "/ui/"
	}
	if p := path.Clean(u.Path); p != u.Path || !strings.HasPrefix(p, "/ui/") {
		return "/ui/"
	}
	return u.RequestURI()
}
