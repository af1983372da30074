package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Route is one endpoint of the API (see package api).
type Route = api.Route

// Routes lists the API's endpoints, each documented in docs/server-api.yaml
// (a test keeps the two in step).
func (s *Server) Routes() []Route {
	own := []Route{
		{Pattern: "GET /healthz", Handler: s.healthy, Scope: api.Public},
		{Pattern: "GET /readyz", Handler: s.ready, Scope: api.Public},
		{Pattern: "POST /api/v1/scans", Handler: s.submitScan, Scope: api.Write},
		{Pattern: "GET /api/v1/jobs/{id}", Handler: s.job, Scope: api.Read},
		{Pattern: "GET /api/v1/images", Handler: s.listImages, Scope: api.Read},
		{Pattern: "GET /api/v1/images/{id}/report", Handler: s.imageReport, Scope: api.Read},
		{Pattern: "GET /api/v1/exposure", Handler: s.exposure, Scope: api.Read},
		{Pattern: "GET /api/v1/summary", Handler: s.summary, Scope: api.Read},
		// Read, not public: the metrics tell how many critical findings
		// the fleet has. Prometheus sends the token (authorization:
		// credentials_file in its scrape config).
		{Pattern: "GET /metrics", Handler: s.serveMetrics, Scope: api.Read},
	}
	return append(own, s.opt.Routes...)
}

// Handler returns the HTTP API. Every route, the parts' included, is
// counted in the metrics and needs a token of its scope (unless NoAuth);
// a mounted handler needs read for GET and HEAD, write otherwise.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	for _, r := range s.Routes() {
		mux.Handle(r.Pattern, s.metrics.instrument(r.Pattern, s.guard(r.Scope, r.Handler)))
	}
	for _, m := range s.opt.Mounts {
		mux.Handle(m.Prefix, s.metrics.instrument(m.Prefix, s.guardByMethod(m.Handler)))
	}
	return mux
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	s.metrics.serve(w, r, s.opt.Store, s.log)
}

func (s *Server) summary(w http.ResponseWriter, r *http.Request) {
	sum, err := s.opt.Store.Summary(r.Context())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, sum)
}

func (s *Server) healthy(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if err := s.opt.Store.Pool().Ping(r.Context()); err != nil {
		writeError(w, http.StatusServiceUnavailable, "database unavailable: %v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// scanRequest is the body of POST /api/v1/scans.
type scanRequest struct {
	Reference  string   `json:"reference"`
	Repository string   `json:"repository,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Platform   string   `json:"platform,omitempty"`
}

func (s *Server) submitScan(w http.ResponseWriter, r *http.Request) {
	var req scanRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "reading the request: %v", err)
		return
	}
	ref := strings.TrimSpace(req.Reference)
	if ref == "" {
		writeError(w, http.StatusBadRequest, "reference is required")
		return
	}
	if !s.opt.AllowLocal && isLocal(ref) {
		writeError(w, http.StatusBadRequest, "reference %q names a local file or the host's container engine: this server scans registry images only", ref)
		return
	}
	id, err := s.Enqueue(r.Context(), ScanArgs{Reference: ref, Repository: req.Repository, Tags: req.Tags, Platform: req.Platform})
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/jobs/%d", id))
	writeJSON(w, http.StatusAccepted, map[string]any{"job_id": id, "status_url": fmt.Sprintf("/api/v1/jobs/%d", id)})
}

// isLocal reports whether ref names the server's own files or its host's
// container engine.
func isLocal(ref string) bool {
	// docker: and podman: read the server host's container engine.
	for _, p := range []string{"docker-archive:", "oci:", "oci-archive:", "dir:", "docker:", "podman:", "containerd:"} {
		if strings.HasPrefix(ref, p) {
			return true
		}
	}
	return strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ".") || strings.HasPrefix(ref, "~")
}

// jobStatus is the body of GET /api/v1/jobs/{id}.
type jobStatus struct {
	ID          int64      `json:"id"`
	State       string     `json:"state"` // available, running, retryable, completed, discarded, cancelled…
	Attempt     int        `json:"attempt"`
	MaxAttempts int        `json:"max_attempts"`
	Args        ScanArgs   `json:"args"`
	Errors      []string   `json:"errors,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	FinalizedAt *time.Time `json:"finalized_at,omitempty"`
}

func (s *Server) job(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "job id %q is not a number", r.PathValue("id"))
		return
	}
	row, err := s.river.JobGet(r.Context(), id)
	if errors.Is(err, river.ErrNotFound) || (err == nil && row.Kind != (ScanArgs{}).Kind()) {
		writeError(w, http.StatusNotFound, "no job %d", id)
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "reading job %d: %v", id, err)
		return
	}
	st := jobStatus{ID: row.ID, State: string(row.State), Attempt: row.Attempt, MaxAttempts: row.MaxAttempts,
		CreatedAt: row.CreatedAt, FinalizedAt: row.FinalizedAt}
	if err := json.Unmarshal(row.EncodedArgs, &st.Args); err != nil {
		writeError(w, http.StatusInternalServerError, "decoding job %d: %v", id, err)
		return
	}
	for _, e := range row.Errors {
		st.Errors = append(st.Errors, e.Error)
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.ImageFilter{Repository: q.Get("repository"), Severity: strings.ToUpper(q.Get("severity")),
		Advisory: q.Get("advisory")}
	if f.Severity != "" && !vocab.IsSeverity(f.Severity) {
		writeError(w, http.StatusBadRequest, "unknown severity %q", q.Get("severity"))
		return
	}
	for name, dst := range map[string]*bool{"kev": &f.KEV, "fixable": &f.Fixable} {
		if v := q.Get(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				writeError(w, http.StatusBadRequest, "%s=%q is not true or false", name, v)
				return
			}
			*dst = b
		}
	}
	if v := q.Get("base"); v != "" {
		id, code, err := s.baseImage(r, v)
		if err != nil {
			writeError(w, code, "base=%q: %v", v, err)
			return
		}
		f.BaseImageID = id
	}
	if v := q.Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "after=%q is not a number", v)
			return
		}
		f.AfterID = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			writeError(w, http.StatusBadRequest, "limit=%q is not a positive number", v)
			return
		}
		f.Limit = n
	}
	imgs, err := s.opt.Store.ListImages(r.Context(), f)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if imgs == nil {
		imgs = []store.ImageSummary{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"images": imgs})
}

// baseImage resolves the base= filter, an image ID or a manifest digest;
// on error it gives the status to answer with.
func (s *Server) baseImage(r *http.Request, v string) (int64, int, error) {
	if strings.HasPrefix(v, "sha256:") {
		id, err := s.opt.Store.ImageWithDigest(r.Context(), v)
		if errors.Is(err, store.ErrNoImage) {
			return 0, http.StatusBadRequest, errors.New("no image with this manifest digest")
		}
		if err != nil {
			return 0, http.StatusInternalServerError, err
		}
		return id, 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, http.StatusBadRequest, errors.New("give an image ID or a manifest digest (sha256:…)")
	}
	ok, err := s.opt.Store.ImageExists(r.Context(), id)
	if err != nil {
		return 0, http.StatusInternalServerError, err
	}
	if !ok {
		return 0, http.StatusBadRequest, fmt.Errorf("no image %d", id)
	}
	return id, 0, nil
}

// reportType is the content type of a report format the report endpoint
// serves, or "".
func reportType(format string) string {
	switch format {
	case "json":
		return "application/json"
	case "sarif":
		return "application/sarif+json"
	case "cyclonedx", "cyclonedx-1.6", "cyclonedx-1.7":
		return "application/vnd.cyclonedx+json"
	case "spdx", "spdx-json", "spdx-2.3":
		return "application/spdx+json"
	case "spdx-3.0", "spdx-json-3.0":
		// SPDX 3 JSON-LD (spdx.org/rdf/3.0.1/spdx-context.jsonld).
		return "application/ld+json"
	case "gitlab":
		// gl-container-scanning-report.json
		return "application/json"
	case "table":
		return "text/plain; charset=utf-8"
	case "markdown":
		return "text/markdown; charset=utf-8"
	case "html":
		return "text/html; charset=utf-8"
	case "junit":
		return "application/xml"
	case "cosign-vuln":
		// An in-toto Statement, to sign with cosign attest --type vuln.
		return "application/vnd.in-toto+json"
	}
	return ""
}

func (s *Server) imageReport(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "image id %q is not a number", r.PathValue("id"))
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	ctype := reportType(format)
	if ctype == "" {
		writeError(w, http.StatusBadRequest, "unknown format %q", format)
		return
	}
	if ok, err := s.opt.Store.ImageExists(r.Context(), id); err != nil || !ok {
		if err != nil {
			writeError(w, http.StatusInternalServerError, "%v", err)
			return
		}
		writeError(w, http.StatusNotFound, "no image %d", id)
		return
	}
	res, err := s.opt.Store.LoadResult(r.Context(), id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if res.Findings, err = s.opt.Store.OpenFindings(r.Context(), id); err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	var verdict *result.Verdict
	if s.opt.Suppress != nil {
		if verdict, err = s.opt.Suppress.Evaluate(r.Context(), res); err != nil {
			writeError(w, http.StatusInternalServerError, "applying the server's ignore files and VEX: %v", err)
			return
		}
	}
	rep := report.New(res, verdict, report.Tool{Name: "drydock", Version: s.opt.ToolVersion}, time.Now())
	if format == "cosign-vuln" {
		// The statement can be refused (an image stored without its
		// manifest digest, or scanned without vulnerability matching): it is
		// built before anything is sent, so the refusal is a 422, not a
		// truncated 200. It is small (findings only).
		var buf bytes.Buffer
		if err := writer.Write(&buf, format, rep, writer.Options{Mode: "vuln"}); err != nil {
			writeError(w, http.StatusUnprocessableEntity, "%v", err)
			return
		}
		w.Header().Set("Content-Type", ctype)
		_, _ = w.Write(buf.Bytes())
		return
	}
	w.Header().Set("Content-Type", ctype)
	if err := writer.Write(w, format, rep, writer.Options{Mode: "vuln"}); err != nil {
		s.log.Error("writing report", "image", id, "format", format, "err", err)
	}
}

func (s *Server) exposure(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var (
		exp []store.Exposure
		err error
	)
	switch {
	case q.Get("id") != "":
		exp, err = s.opt.Store.Exposed(r.Context(), q.Get("id"))
	case q.Get("ecosystem") != "" && q.Get("name") != "":
		exp, err = s.opt.Store.WithPackage(r.Context(), q.Get("ecosystem"), q.Get("name"), q.Get("version"))
	default:
		writeError(w, http.StatusBadRequest, "give id=<advisory or CVE> or ecosystem=&name=[&version=]")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if exp == nil {
		exp = []store.Exposure{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"images": exp})
}

func writeJSON(w http.ResponseWriter, code int, v any) { api.WriteJSON(w, code, v) }

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	api.WriteError(w, code, format, args...)
}
