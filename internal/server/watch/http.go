package watch

import (
	"errors"
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
)

// Routes returns the watch's endpoints (server.Options.Routes), each
// documented in docs/server-api.yaml.
func (w *Watch) Routes() []api.Route {
	return []api.Route{
		{Pattern: "POST /api/v1/registries", Handler: w.register, Scope: api.Write},
		{Pattern: "GET /api/v1/registries", Handler: w.list, Scope: api.Read},
		{Pattern: "GET /api/v1/registries/{id}", Handler: w.get, Scope: api.Read},
		{Pattern: "DELETE /api/v1/registries/{id}", Handler: w.delete, Scope: api.Write},
		{Pattern: "POST /api/v1/registries/{id}/poll", Handler: w.pollNow, Scope: api.Write},
		{Pattern: "GET /api/v1/registries/{id}/tags", Handler: w.tags, Scope: api.Read},
	}
}

// RegisterRequest is the body of POST /api/v1/registries.
type RegisterRequest struct {
	Name string `json:"name"`
	// Host is "registry.example.com[:port]"; "https://" is allowed,
	// "http://" means Insecure.
	Host     string `json:"host"`
	Insecure bool   `json:"insecure,omitempty"`
	// Repositories are names or globs (path.Match: "team/*"); empty:
	// every repository of the registry's catalog.
	Repositories []string           `json:"repositories,omitempty"`
	Credentials  *queue.Credentials `json:"credentials,omitempty"`
	// Interval is a Go duration ("15m", default 15m).
	Interval string `json:"interval,omitempty"`
}

// View is a registry as the API shows it: never its credentials.
type View struct {
	ID              int64      `json:"id"`
	Name            string     `json:"name"`
	Host            string     `json:"host"`
	Insecure        bool       `json:"insecure"`
	Repositories    []string   `json:"repositories"`
	Interval        string     `json:"interval"`
	IntervalSeconds int64      `json:"interval_seconds"`
	HasCredentials  bool       `json:"has_credentials"`
	CreatedAt       time.Time  `json:"created_at"`
	LastPolledAt    *time.Time `json:"last_polled_at,omitempty"`
	LastError       string     `json:"last_error,omitempty"`
}

func view(r store.Registry) View {
	repos := r.Repositories
	if repos == nil {
		repos = []string{}
	}
	return View{ID: r.ID, Name: r.Name, Host: r.Host, Insecure: r.Insecure, Repositories: repos,
		Interval: r.Interval.String(), IntervalSeconds: int64(r.Interval / time.Second), HasCredentials: r.Credentials != "",
		CreatedAt: r.CreatedAt, LastPolledAt: r.LastPolledAt, LastError: r.LastError}
}

// defaultInterval is the interval of a registry registered without one.
const defaultInterval = 15 * time.Minute

// parse checks a registration and returns the registry to store (its
// credentials still in clear: the caller seals them).
func (w *Watch) parse(req RegisterRequest) (store.Registry, error) {
	r := store.Registry{Name: strings.TrimSpace(req.Name), Insecure: req.Insecure, Interval: defaultInterval}
	if r.Name == "" || len(r.Name) > 200 {
		return r, errors.New("name is required (at most 200 characters)")
	}
	host := strings.TrimSpace(req.Host)
	if h, ok := strings.CutPrefix(host, "http://"); ok {
		host, r.Insecure = h, true
	} else if h, ok := strings.CutPrefix(host, "https://"); ok {
		host = h
	}
	host = strings.TrimSuffix(host, "/")
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return r, fmt.Errorf("host %q: want registry.example.com[:port]", req.Host)
	}
	if _, err := name.NewRegistry(host, name.StrictValidation); err != nil {
		return r, fmt.Errorf("host %q: %w", req.Host, err)
	}
	r.Host = host
	for _, p := range req.Repositories {
		p = strings.Trim(strings.TrimSpace(p), "/")
		if p == "" {
			return r, errors.New("repositories: an empty name")
		}
		if _, err := path.Match(p, ""); err != nil {
			return r, fmt.Errorf("repositories: %q is not a valid glob: %w", p, err)
		}
		r.Repositories = append(r.Repositories, p)
	}
	if req.Interval != "" {
		d, err := time.ParseDuration(req.Interval)
		if err != nil {
			return r, fmt.Errorf("interval %q: %w", req.Interval, err)
		}
		if d < w.opt.MinInterval {
			return r, fmt.Errorf("interval %v is shorter than this server allows (%v)", d, w.opt.MinInterval)
		}
		r.Interval = d.Round(time.Second)
	}
	return r, nil
}

func (w *Watch) register(rw http.ResponseWriter, req *http.Request) {
	var body RegisterRequest
	if err := api.DecodeJSON(rw, req, 1<<16, &body); err != nil {
		api.WriteError(rw, http.StatusBadRequest, "%v", err)
		return
	}
	reg, err := w.parse(body)
	if err != nil {
		api.WriteError(rw, http.StatusBadRequest, "%v", err)
		return
	}
	if c := body.Credentials; c != nil {
		if c.Username == "" {
			api.WriteError(rw, http.StatusBadRequest, "credentials: username is required")
			return
		}
		if w.opt.Secrets == nil {
			api.WriteError(rw, http.StatusBadRequest, "credentials refused: %v (give the server a secret key to register a registry with credentials)", queue.ErrNoKey)
			return
		}
		if reg.Credentials, err = queue.SealCredentials(w.opt.Secrets, *c); err != nil {
			api.WriteError(rw, http.StatusInternalServerError, "sealing the credentials: %v", err)
			return
		}
	}
	saved, err := w.opt.Store.AddRegistry(req.Context(), reg)
	if errors.Is(err, store.ErrRegistryExists) {
		api.WriteError(rw, http.StatusConflict, "%v", err)
		return
	}
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	w.log.Info("registry registered", "registry", saved.ID, "name", saved.Name, "host", saved.Host,
		"repositories", saved.Repositories, "interval", saved.Interval, "credentials", saved.Credentials != "")
	rw.Header().Set("Location", fmt.Sprintf("/api/v1/registries/%d", saved.ID))
	api.WriteJSON(rw, http.StatusCreated, view(saved))
}

func (w *Watch) list(rw http.ResponseWriter, req *http.Request) {
	regs, err := w.opt.Store.Registries(req.Context())
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	out := make([]View, 0, len(regs))
	for _, r := range regs {
		out = append(out, view(r))
	}
	api.WriteJSON(rw, http.StatusOK, map[string]any{"registries": out})
}

// registryID reads {id}; false when it wrote an error.
func registryID(rw http.ResponseWriter, req *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(req.PathValue("id"), 10, 64)
	if err != nil {
		api.WriteError(rw, http.StatusBadRequest, "registry id %q is not a number", req.PathValue("id"))
		return 0, false
	}
	return id, true
}

// writeStoreError answers a store error: 404 for a missing registry.
func writeStoreError(rw http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNoRegistry) {
		api.WriteError(rw, http.StatusNotFound, "%v", err)
		return
	}
	api.WriteError(rw, http.StatusInternalServerError, "%v", err)
}

func (w *Watch) get(rw http.ResponseWriter, req *http.Request) {
	id, ok := registryID(rw, req)
	if !ok {
		return
	}
	r, err := w.opt.Store.GetRegistry(req.Context(), id)
	if err != nil {
		writeStoreError(rw, err)
		return
	}
	api.WriteJSON(rw, http.StatusOK, view(r))
}

func (w *Watch) delete(rw http.ResponseWriter, req *http.Request) {
	id, ok := registryID(rw, req)
	if !ok {
		return
	}
	if err := w.opt.Store.DeleteRegistry(req.Context(), id); err != nil {
		writeStoreError(rw, err)
		return
	}
	w.log.Info("registry deleted", "registry", id)
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Watch) pollNow(rw http.ResponseWriter, req *http.Request) {
	id, ok := registryID(rw, req)
	if !ok {
		return
	}
	if _, err := w.opt.Store.GetRegistry(req.Context(), id); err != nil {
		writeStoreError(rw, err)
		return
	}
	job, err := w.QueuePoll(req.Context(), id)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	api.WriteJSON(rw, http.StatusAccepted, map[string]any{"job_id": job})
}

func (w *Watch) tags(rw http.ResponseWriter, req *http.Request) {
	id, ok := registryID(rw, req)
	if !ok {
		return
	}
	if _, err := w.opt.Store.GetRegistry(req.Context(), id); err != nil {
		writeStoreError(rw, err)
		return
	}
	tags, err := w.opt.Store.WatchedTags(req.Context(), id, req.URL.Query().Get("repository"))
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	if tags == nil {
		tags = []store.WatchedTag{}
	}
	api.WriteJSON(rw, http.StatusOK, map[string]any{"tags": tags})
}
