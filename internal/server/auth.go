package server

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
)

// API tokens: every route but the public ones needs
// "Authorization: Bearer ddk_…" with a token of the route's scope (write
// implies read). Tokens are created with "drydock token create" and kept
// hashed in the store (see store.Token); Options.NoAuth turns checking off.

// realm names the server in authentication challenges.
const realm = `Bearer realm="drydock"`

// checkScopes refuses routes whose scope is not one of api's: a route
// must never become public by a typo.
func checkScopes(routes []api.Route) error {
	for _, r := range routes {
		switch r.Scope {
		case api.Public, api.Read, api.Write:
		default:
			return fmt.Errorf("server: route %q has scope %q (public, read or write)", r.Pattern, r.Scope)
		}
	}
	return nil
}

// guard serves h to requests whose token allows scope.
func (s *Server) guard(scope api.Scope, h http.Handler) http.Handler {
	if scope == api.Public || s.opt.NoAuth {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.authorize(w, r, scope) {
			h.ServeHTTP(w, r)
		}
	})
}

// guardByMethod serves h (a mounted handler) to requests whose token
// allows read for GET and HEAD, write for any other method.
func (s *Server) guardByMethod(h http.Handler) http.Handler {
	if s.opt.NoAuth {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scope := api.Write
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			scope = api.Read
		}
		if s.authorize(w, r, scope) {
			h.ServeHTTP(w, r)
		}
	})
}

// authorize checks r's token against scope; when it does not pass, it
// writes the answer (RFC 6750: 401 with a challenge when the token is
// missing or invalid, 403 when its scope is too narrow) and returns false.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, scope api.Scope) bool {
	secret, ok := api.Token(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", realm)
		writeError(w, http.StatusUnauthorized, "an API token is required (Authorization: Bearer <token>; see drydock token create)")
		return false
	}
	tok, err := s.opt.Store.Authenticate(r.Context(), secret)
	if errors.Is(err, store.ErrInvalidToken) {
		w.Header().Set("WWW-Authenticate", realm+`, error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "the API token is not valid (unknown, revoked or malformed)")
		return false
	}
	if err != nil {
		s.log.Error("checking an API token", "err", err)
		writeError(w, http.StatusServiceUnavailable, "cannot check the API token now: %v", err)
		return false
	}
	if !tok.Allows(string(scope)) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`%s, error="insufficient_scope", scope=%q`, realm, scope))
		writeError(w, http.StatusForbidden, "token %q has scope %s; this needs %s", tok.Name, tok.Scope, scope)
		return false
	}
	return true
}
