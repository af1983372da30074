package webhook

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
)

// Routes are the webhook endpoints (documented in docs/server-api.yaml).
func (w *Webhooks) Routes() []api.Route {
	return []api.Route{
		{Pattern: "POST /api/v1/webhooks", Handler: w.register, Scope: api.Write},
		{Pattern: "GET /api/v1/webhooks", Handler: w.list, Scope: api.Read},
		{Pattern: "DELETE /api/v1/webhooks/{id}", Handler: w.delete, Scope: api.Write},
		{Pattern: "GET /api/v1/webhooks/{id}/deliveries", Handler: w.deliveries, Scope: api.Read},
	}
}

// RegisterRequest is the body of POST /api/v1/webhooks.
type RegisterRequest struct {
	URL string `json:"url"`
	// Secret keys the signature of every delivery; it is stored sealed
	// and never returned.
	Secret string `json:"secret"`
	// Kinds are the event kinds to deliver (empty: all).
	Kinds []string `json:"kinds,omitempty"`
}

// minSecret is the shortest secret accepted.
const minSecret = 16

func (w *Webhooks) register(rw http.ResponseWriter, r *http.Request) {
	var req RegisterRequest
	if err := api.DecodeJSON(rw, r, 64<<10, &req); err != nil {
		api.WriteError(rw, http.StatusBadRequest, "%v", err)
		return
	}
	if err := validURL(req.URL); err != nil {
		api.WriteError(rw, http.StatusBadRequest, "%v", err)
		return
	}
	if len(req.Secret) < minSecret {
		api.WriteError(rw, http.StatusBadRequest, "secret must be at least %d characters", minSecret)
		return
	}
	for _, k := range req.Kinds {
		if !slices.Contains(store.EventKinds(), k) {
			api.WriteError(rw, http.StatusBadRequest, "unknown event kind %q (known: %v)", k, store.EventKinds())
			return
		}
	}
	if w.opt.Secrets == nil {
		api.WriteError(rw, http.StatusServiceUnavailable, "the server has no secret key (--secret-key-file or its environment variable): webhook secrets cannot be stored")
		return
	}
	sealed, err := w.opt.Secrets.Seal([]byte(req.Secret))
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	hook, err := w.opt.Store.AddWebhook(r.Context(), req.URL, sealed, req.Kinds)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	rw.Header().Set("Location", "/api/v1/webhooks/"+strconv.FormatInt(hook.ID, 10))
	api.WriteJSON(rw, http.StatusCreated, hook)
}

func (w *Webhooks) list(rw http.ResponseWriter, r *http.Request) {
	hooks, err := w.opt.Store.Webhooks(r.Context())
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	if hooks == nil {
		hooks = []store.Webhook{}
	}
	api.WriteJSON(rw, http.StatusOK, map[string]any{"webhooks": hooks})
}

func webhookID(rw http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		api.WriteError(rw, http.StatusBadRequest, "webhook id %q is not a number", r.PathValue("id"))
		return 0, false
	}
	return id, true
}

func (w *Webhooks) delete(rw http.ResponseWriter, r *http.Request) {
	id, ok := webhookID(rw, r)
	if !ok {
		return
	}
	found, err := w.opt.Store.DeleteWebhook(r.Context(), id)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	if !found {
		api.WriteError(rw, http.StatusNotFound, "no webhook %d", id)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Webhooks) deliveries(rw http.ResponseWriter, r *http.Request) {
	id, ok := webhookID(rw, r)
	if !ok {
		return
	}
	found, err := w.opt.Store.WebhookExists(r.Context(), id)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	if !found {
		api.WriteError(rw, http.StatusNotFound, "no webhook %d", id)
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			api.WriteError(rw, http.StatusBadRequest, "limit=%q is not a positive number", v)
			return
		}
		limit = n
	}
	ds, err := w.opt.Store.Deliveries(r.Context(), id, limit)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, "%v", err)
		return
	}
	if ds == nil {
		ds = []store.Delivery{}
	}
	api.WriteJSON(rw, http.StatusOK, map[string]any{"deliveries": ds})
}
