// Package api holds what the server's parts (the monitor, the registry
// watch, the Harbor adapter, webhooks) share with the server without
// importing it: a route, its scope, and the JSON helpers every handler uses.
package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Scope is what an API token must allow for a route.
type Scope string

const (
	// Public routes need no token (health, readiness).
	Public Scope = "public"
	// Read routes show results.
	Read Scope = "read"
	// Write routes change state: queue scans, register registries and
	// webhooks, apply a database.
	Write Scope = "write"
)

// Route is one endpoint: Pattern is "METHOD /path/{param}" as
// net/http.ServeMux reads it. Every route is documented in
// docs/server-api.yaml (a test keeps the two in step).
type Route struct {
	Pattern string
	Handler http.HandlerFunc
	Scope   Scope
}

// TokenCookie is the cookie the dashboard keeps the API token in after
// its login page: the server accepts it, like the Authorization header, for
// reads (GET and HEAD) only, so that a page can link to report downloads
// while no cross-site form can use it to change anything (it is also
// SameSite=Strict and HttpOnly).
const TokenCookie = "drydock_token"

// Token returns the request's API token: "Authorization: Bearer …" or,
// for GET and HEAD, the TokenCookie.
func Token(r *http.Request) (string, bool) {
	if scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		tok = strings.TrimSpace(tok)
		return tok, tok != ""
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return "", false
	}
	c, err := r.Cookie(TokenCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	return c.Value, true
}

// WriteJSON writes v as indented JSON with the status code.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError writes {"error": "..."} with the status code.
func WriteError(w http.ResponseWriter, code int, format string, args ...any) {
	WriteJSON(w, code, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// DecodeJSON reads a JSON request body of at most limit bytes into v,
// refusing unknown fields.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("reading the request: %w", err)
	}
	return nil
}
