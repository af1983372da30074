// Package harbor lets a Harbor registry use drydock as its scanner: it
// serves the Harbor pluggable scanner API v1.2
// (github.com/goharbor/pluggable-scanner-spec) under a path prefix of the
// drydock server.
//
//	Harbor ──POST /scan──► adapter ──INSERT job + harbor_scans row──► PostgreSQL ◄── drydock worker (scan.Run)
//	   │                                                                   │
//	   └──GET /scan/{id}/report (302 + Refresh-After until done)──► store: inventory + open findings
//
// A scan request queues the server's own scan job (queue.ScanArgs) with the
// registry credentials Harbor sends sealed (package secretbox); the report is
// built from what the store holds for the image, like every other report of
// the server: the vulnerability report (v1.0 and v1.1 media types), the SBOM
// report (SPDX or CycloneDX, wrapped as the spec says) and drydock's own JSON
// report as the "raw" report.
//
// The package does not import the server: the command adds Routes to
// server.Options.Routes.
package harbor

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// DefaultPrefix is where the adapter is served when Options.Prefix is
// empty: Harbor's registration endpoint is then http://<drydock>/harbor.
const DefaultPrefix = "/harbor"

// Options configure the adapter.
type Options struct {
	// Store is the server's store (and job queue).
	Store *store.Store
	// Secrets seals the registry credentials Harbor sends with each scan
	// request: the job's arguments are stored in PostgreSQL and must not
	// hold them in clear. Required: Harbor always sends credentials.
	Secrets *secretbox.Box
	// Prefix is the path the API is served under (default DefaultPrefix):
	// "/harbor" serves GET /harbor/api/v1/metadata and so on.
	Prefix string
	// ToolVersion is drydock's version, named in the metadata and reports.
	ToolVersion string
	// DB, if set, is the advisory database this process's workers match
	// against; the metadata gives its build time. Without it, the newest
	// database the store knows of.
	DB vulndb.Reader
	// RefreshAfter is how long Harbor is told to wait before asking again
	// for a report that is not ready (default 5 seconds).
	RefreshAfter time.Duration
	// Retention is how long a scan request ID can be polled (default 7
	// days); Harbor treats an unknown ID as a failed scan and asks again.
	Retention time.Duration
	Logger    *slog.Logger
	// Now returns the time reports are generated at (default time.Now).
	Now func() time.Time
}

// Adapter serves the Harbor scanner API.
type Adapter struct {
	opt   Options
	river *river.Client[pgx.Tx]
	log   *slog.Logger
}

// New returns the adapter. It queues jobs with an insert-only River client
// on the store's database (the server's workers run them).
func New(opt Options) (*Adapter, error) {
	if opt.Store == nil {
		return nil, errors.New("harbor adapter: no store")
	}
	if opt.Secrets == nil {
		return nil, errors.New("harbor adapter: no secret key: the registry credentials Harbor sends with every scan request could not be kept")
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	if !strings.HasPrefix(opt.Prefix, "/") || strings.HasSuffix(opt.Prefix, "/") || strings.ContainsAny(opt.Prefix, "{} ") {
		return nil, fmt.Errorf("harbor adapter: prefix %q must start with / and not end with one", opt.Prefix)
	}
	if opt.RefreshAfter <= 0 {
		opt.RefreshAfter = 5 * time.Second
	}
	if opt.Retention <= 0 {
		opt.Retention = 7 * 24 * time.Hour
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	client, err := river.NewClient(riverpgxv5.New(opt.Store.Pool()), &river.Config{Logger: opt.Logger})
	if err != nil {
		return nil, fmt.Errorf("harbor adapter: job queue: %w", err)
	}
	return &Adapter{opt: opt, river: client, log: opt.Logger.With("part", "harbor")}, nil
}

// Routes are the adapter's endpoints, for server.Options.Routes.
func (a *Adapter) Routes() []api.Route {
	p := a.opt.Prefix
	return []api.Route{
		{Pattern: "GET " + p + "/api/v1/metadata", Handler: a.metadata, Scope: api.Read},
		{Pattern: "POST " + p + "/api/v1/scan", Handler: a.scan, Scope: api.Write},
		{Pattern: "GET " + p + "/api/v1/scan/{scan_request_id}/report", Handler: a.report, Scope: api.Read},
	}
}

func (a *Adapter) scanner() Scanner {
	return Scanner{Name: "drydock", Vendor: "drydock", Version: a.opt.ToolVersion}
}

// consumes are the artifact media types drydock scans.
func consumes() []string { return []string{OCIManifestMIME, DockerManifestMIME} }

// produces are the report media types of each capability.
func produces(capability string) []string {
	switch capability {
	case CapabilityVulnerability:
		return []string{VulnReportMIME, VulnReportMIME10, RawReportMIME}
	case CapabilitySBOM:
		return []string{SBOMReportMIME}
	}
	return nil
}

func sbomMediaTypes() []string { return []string{SPDXMIME, CycloneDXMIME} }

func (a *Adapter) metadata(w http.ResponseWriter, r *http.Request) {
	md := Metadata{
		Scanner: a.scanner(),
		Capabilities: []Capability{
			{Type: CapabilityVulnerability, ConsumesMIMETypes: consumes(), ProducesMIMETypes: produces(CapabilityVulnerability)},
			{Type: CapabilitySBOM, ConsumesMIMETypes: consumes(), ProducesMIMETypes: produces(CapabilitySBOM),
				AdditionalAttributes: map[string]any{"sbom_media_types": sbomMediaTypes()}},
		},
		Properties: map[string]string{PropScannerType: "os-package-vulnerability"},
	}
	if at, ok := a.dbBuiltAt(r.Context()); ok {
		md.Properties[PropDBUpdatedAt] = at.UTC().Format(time.RFC3339)
	}
	ctype := MetadataMIME
	if accepts(r.Header.Get("Accept"), metadataMIME10) && !accepts(r.Header.Get("Accept"), MetadataMIME) {
		ctype = metadataMIME10
	}
	writeJSON(w, http.StatusOK, ctype, md)
}

// dbBuiltAt is when the advisory database was built, if known. An error is
// logged: the metadata then lacks the property rather than failing.
func (a *Adapter) dbBuiltAt(ctx context.Context) (time.Time, bool) {
	if a.opt.DB != nil {
		m, err := a.opt.DB.Meta(ctx)
		if err == nil {
			return m.BuiltAt, true
		}
		a.log.Warn("reading the advisory database's metadata", "err", err)
	}
	at, ok, err := a.opt.Store.LatestDBBuiltAt(ctx)
	if err != nil {
		a.log.Warn("reading the advisory database's date from the store", "err", err)
		return time.Time{}, false
	}
	return at, ok
}

// requestError is a refused request: its status and message.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func refuse(code int, format string, args ...any) *requestError {
	return &requestError{code: code, msg: fmt.Sprintf(format, args...)}
}

// job is what a valid scan request queues.
type job struct {
	args     queue.ScanArgs
	repo     string // the image's repository in the store
	artifact Artifact
}

// validate checks a scan request per the spec and returns the job to queue:
// 422 for a field that is missing or malformed, 501 for what drydock cannot
// scan or produce.
func (a *Adapter) validate(req *ScanRequest) (*job, *requestError) {
	raw := req.Registry.URL
	schemeless := raw != "" && !strings.Contains(raw, "://")
	if schemeless {
		// The spec's own example sends "harbor-harbor-registry:5000": a bare
		// host[:port], whose scheme go-containerregistry then chooses (HTTPS,
		// plain HTTP for localhost and private addresses).
		if !isRegistryHost(raw) {
			return nil, refuse(http.StatusUnprocessableEntity, "invalid registry.url %q: want the registry's base URL, http(s)://host[:port]", raw)
		}
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	switch {
	case req.Registry.URL == "":
		return nil, refuse(http.StatusUnprocessableEntity, "missing registry.url")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return nil, refuse(http.StatusUnprocessableEntity, "invalid registry.url %q: want the registry's base URL, http(s)://host[:port]", req.Registry.URL)
	case strings.Trim(u.Path, "/") != "":
		return nil, refuse(http.StatusUnprocessableEntity, "invalid registry.url %q: the Docker Registry v2 API is served at the root, a path is not supported", req.Registry.URL)
	}
	art := req.Artifact
	switch {
	case art.Repository == "":
		return nil, refuse(http.StatusUnprocessableEntity, "missing artifact.repository")
	case art.Digest == "":
		return nil, refuse(http.StatusUnprocessableEntity, "missing artifact.digest")
	case art.MIMEType != "" && !slices.Contains(consumes(), art.MIMEType):
		return nil, refuse(http.StatusNotImplemented, "artifact.mime_type %q is not scanned by drydock (it scans %s)", art.MIMEType, strings.Join(consumes(), ", "))
	}
	repo := u.Host + "/" + art.Repository
	ref, err := name.NewDigest(repo+"@"+art.Digest, name.StrictValidation)
	if err != nil {
		return nil, refuse(http.StatusUnprocessableEntity, "invalid artifact: %v", err)
	}
	if art.Tag != "" {
		if _, err := name.NewTag(repo+":"+art.Tag, name.StrictValidation); err != nil {
			return nil, refuse(http.StatusUnprocessableEntity, "invalid artifact.tag: %v", err)
		}
	}
	for i, c := range req.EnabledCapabilities {
		if c.Type != CapabilityVulnerability && c.Type != CapabilitySBOM {
			return nil, refuse(http.StatusUnprocessableEntity, "enabled_capabilities[%d].type %q: want %q or %q", i, c.Type, CapabilityVulnerability, CapabilitySBOM)
		}
		for _, m := range c.ProducesMIMETypes {
			if !slices.Contains(produces(c.Type), m) {
				return nil, refuse(http.StatusNotImplemented, "enabled_capabilities[%d]: drydock does not produce %q for %s (it produces %s)", i, m, c.Type, strings.Join(produces(c.Type), ", "))
			}
		}
		if c.Parameters != nil {
			for _, m := range c.Parameters.SBOMMediaTypes {
				if !slices.Contains(sbomMediaTypes(), m) {
					return nil, refuse(http.StatusUnprocessableEntity, "enabled_capabilities[%d].parameters.sbom_media_types: %q is not one of %s", i, m, strings.Join(sbomMediaTypes(), ", "))
				}
			}
		}
	}
	creds, err := parseAuthorization(req.Registry.Authorization)
	if err != nil {
		return nil, refuse(http.StatusUnprocessableEntity, "registry.authorization: %v", err)
	}
	j := &job{repo: ref.Context().Name(), artifact: art}
	j.args = queue.ScanArgs{
		Reference:  ref.String(),
		Repository: j.repo,
		// Harbor's core is often reached over plain HTTP inside its
		// deployment: the URL says which.
		Insecure: u.Scheme == "http" && !schemeless,
	}
	if art.Tag != "" {
		j.args.Tags = []string{art.Tag}
	}
	if creds != nil {
		sealed, err := queue.SealCredentials(a.opt.Secrets, *creds)
		if err != nil {
			return nil, refuse(http.StatusInternalServerError, "sealing the registry credentials: %v", err)
		}
		j.args.Credentials = sealed
	}
	return j, nil
}

// isRegistryHost reports whether s looks like a registry's host[:port]
// as Docker tells one from a path: lower-case, with a dot or a port, or
// "localhost".
func isRegistryHost(s string) bool {
	host, port, hasPort := strings.Cut(s, ":")
	if hasPort {
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return false
		}
	}
	if host == "" || strings.HasPrefix(host, ".") || strings.HasPrefix(host, "-") || strings.HasSuffix(host, ".") {
		return false
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return hasPort || strings.Contains(host, ".") || host == "localhost"
}

// parseAuthorization reads the Authorization header value Harbor sends for
// the registry: "Basic base64(user:password)" (Harbor's robot account). A
// bearer token is refused: a scan job carries a login (queue.Credentials),
// and a short-lived token would expire in the queue anyway. Empty: no
// credentials.
func parseAuthorization(v string) (*queue.Credentials, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	scheme, rest, _ := strings.Cut(v, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToLower(strings.TrimSuffix(scheme, ":")) {
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, errors.New("Basic credentials are not base64")
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		if !ok || user == "" {
			return nil, errors.New("Basic credentials are not user:password")
		}
		return &queue.Credentials{Username: user, Password: pass}, nil
	case "bearer":
		return nil, errors.New("a Bearer token is not supported: give drydock a login (Harbor sends its robot account as Basic)")
	}
	return nil, errors.New("want \"Basic <base64 user:password>\"")
}

func (a *Adapter) scan(w http.ResponseWriter, r *http.Request) {
	var req ScanRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "reading the scan request: %v", err)
		return
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "reading the scan request: more than one JSON value")
		return
	}
	j, rerr := a.validate(&req)
	if rerr != nil {
		writeError(w, rerr.code, "%s", rerr.msg)
		return
	}
	id, jobID, err := a.enqueue(r.Context(), j)
	if err != nil {
		a.log.Error("queueing a Harbor scan", "repository", j.repo, "digest", j.artifact.Digest, "err", err)
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	a.log.Info("Harbor scan request queued", "id", id, "job", jobID, "repository", j.repo, "digest", j.artifact.Digest)
	writeJSON(w, http.StatusAccepted, ScanResponseMIME, ScanResponse{ID: id})
}

// enqueue queues the scan job and records the request in one transaction.
func (a *Adapter) enqueue(ctx context.Context, j *job) (id string, jobID int64, err error) {
	art, err := json.Marshal(j.artifact)
	if err != nil {
		return "", 0, fmt.Errorf("encoding the artifact: %w", err)
	}
	tx, err := a.opt.Store.Pool().Begin(ctx)
	if err != nil {
		return "", 0, fmt.Errorf("queueing a scan of %s: %w", j.args.Reference, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	res, err := a.river.InsertTx(ctx, tx, j.args, nil)
	if err != nil {
		return "", 0, fmt.Errorf("queueing a scan of %s: %w", j.args.Reference, err)
	}
	id = uuid.NewString()
	h := store.HarborScan{ID: id, JobID: res.Job.ID, Repository: j.repo, Digest: j.artifact.Digest, Artifact: art}
	if err := a.opt.Store.AddHarborScan(ctx, tx, h, a.opt.Retention); err != nil {
		return "", 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return "", 0, fmt.Errorf("queueing a scan of %s: %w", j.args.Reference, err)
	}
	return id, res.Job.ID, nil
}

// reportKinds are the report media types served, in the order a wildcard
// Accept prefers them.
func reportKinds() []string {
	return []string{VulnReportMIME10, VulnReportMIME, SBOMReportMIME, RawReportMIME}
}

// negotiate picks the report media type from an Accept header: the first
// listed that drydock produces. No Accept (or only wildcards) is the v1.0
// vulnerability report, as the spec says for backward compatibility.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return VulnReportMIME10, true
	}
	wildcard := false
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "*/*" || mt == "application/*" {
			wildcard = true
			continue
		}
		for _, k := range reportKinds() {
			kt, kp, _ := mime.ParseMediaType(k)
			if mt == kt && params["version"] == kp["version"] {
				return k, true
			}
		}
	}
	if wildcard {
		return VulnReportMIME10, true
	}
	return "", false
}

// accepts reports whether the Accept header lists the media type want
// (with the same version).
func accepts(accept, want string) bool {
	wt, wp, _ := mime.ParseMediaType(want)
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == wt && params["version"] == wp["version"] {
			return true
		}
	}
	return false
}

func (a *Adapter) report(w http.ResponseWriter, r *http.Request) {
	kind, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		writeError(w, http.StatusNotImplemented, "drydock does not produce %q: it produces %s", r.Header.Get("Accept"),
			strings.Join(append(produces(CapabilityVulnerability), produces(CapabilitySBOM)...), ", "))
		return
	}
	var sbomType string
	if kind == SBOMReportMIME {
		// A client that does not escape the query's "+" sends
		// "application/spdx json": media types have no spaces.
		sbomType = strings.ReplaceAll(r.URL.Query().Get("sbom_media_type"), " ", "+")
		if !slices.Contains(sbomMediaTypes(), sbomType) {
			writeError(w, http.StatusBadRequest, "an SBOM report needs ?sbom_media_type= one of %s (got %q)", strings.Join(sbomMediaTypes(), ", "), sbomType)
			return
		}
	}
	ctx := r.Context()
	id := r.PathValue("scan_request_id")
	h, ok, err := a.opt.Store.HarborScan(ctx, id)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if !ok {
		writeError(w, http.StatusNotFound, "no scan request %q (unknown, or older than %s)", id, a.opt.Retention)
		return
	}
	var art Artifact
	if err := json.Unmarshal(h.Artifact, &art); err != nil {
		writeError(w, http.StatusInternalServerError, "decoding scan request %s: %v", id, err)
		return
	}
	row, err := a.river.JobGet(ctx, h.JobID)
	jobGone := errors.Is(err, river.ErrNotFound)
	if err != nil && !jobGone {
		writeError(w, http.StatusInternalServerError, "reading the job of scan request %s: %v", id, err)
		return
	}
	if !jobGone {
		switch row.State {
		case rivertype.JobStateCompleted:
		case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
			writeError(w, http.StatusInternalServerError, "scanning %s@%s failed: %s", h.Repository, h.Digest, jobFailure(row))
			return
		default:
			w.Header().Set("Refresh-After", strconv.Itoa(int(max(1, a.opt.RefreshAfter.Round(time.Second)/time.Second))))
			w.WriteHeader(http.StatusFound)
			return
		}
	}
	imageID, ok, err := a.opt.Store.ImageByDigest(ctx, h.Repository, h.Digest)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if !ok {
		if jobGone {
			// The queue dropped the job and no result was stored: ask Harbor
			// to scan again.
			writeError(w, http.StatusNotFound, "scan request %q: its job is gone and %s@%s is not stored", id, h.Repository, h.Digest)
			return
		}
		writeError(w, http.StatusInternalServerError, "scan job %d of %s@%s completed but stored no result", h.JobID, h.Repository, h.Digest)
		return
	}
	rep, err := a.load(ctx, imageID)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	switch kind {
	case VulnReportMIME, VulnReportMIME10:
		writeJSON(w, http.StatusOK, kind, vulnerabilityReport(rep, art, a.scanner(), imageID))
	case SBOMReportMIME:
		out, err := a.sbomReport(rep, art, sbomType)
		if err != nil {
			writeError(w, http.StatusInternalServerError, "%v", err)
			return
		}
		writeJSON(w, http.StatusOK, kind, out)
	case RawReportMIME:
		var buf bytes.Buffer
		if err := writer.JSON(&buf, rep, writer.Options{Mode: "vuln"}); err != nil {
			writeError(w, http.StatusInternalServerError, "%v", err)
			return
		}
		w.Header().Set("Content-Type", RawReportMIME)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(buf.Bytes())
	}
}

// jobFailure says why a job was given up: its last recorded error.
func jobFailure(row *rivertype.JobRow) string {
	if n := len(row.Errors); n > 0 {
		return fmt.Sprintf("%s after %d attempt(s): %s", row.State, row.Attempt, row.Errors[n-1].Error)
	}
	return fmt.Sprintf("%s after %d attempt(s)", row.State, row.Attempt)
}

// load builds the report of a stored image: its inventory and its open
// findings, as the server's own report endpoint does.
func (a *Adapter) load(ctx context.Context, imageID int64) (*report.Report, error) {
	res, err := a.opt.Store.LoadResult(ctx, imageID)
	if err != nil {
		return nil, err
	}
	if res.Findings, err = a.opt.Store.OpenFindings(ctx, imageID); err != nil {
		return nil, err
	}
	return report.New(res, nil, report.Tool{Name: "drydock", Version: a.opt.ToolVersion}, a.opt.Now()).Normalized(), nil
}

// sbomReport wraps drydock's SPDX or CycloneDX document of the image.
func (a *Adapter) sbomReport(rep *report.Report, art Artifact, mediaType string) (*SBOMReport, error) {
	var buf bytes.Buffer
	var err error
	switch mediaType {
	case SPDXMIME:
		err = writer.SPDX(&buf, rep, writer.Options{Mode: "sbom"})
	case CycloneDXMIME:
		err = writer.CycloneDX(&buf, rep, writer.Options{Mode: "sbom"})
	}
	if err != nil {
		return nil, fmt.Errorf("writing the %s SBOM: %w", mediaType, err)
	}
	return &SBOMReport{
		GeneratedAt: rep.CreatedAt,
		Artifact:    art,
		Scanner:     a.scanner(),
		MediaType:   mediaType,
		SBOM:        bytes.TrimSpace(buf.Bytes()),
	}, nil
}

func writeJSON(w http.ResponseWriter, code int, ctype string, v any) {
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// writeError writes the spec's ErrorResponse.
func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, ErrorMIME, ErrorResponse{Error: ErrorBody{Message: fmt.Sprintf(format, args...)}})
}
