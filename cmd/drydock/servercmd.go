package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/riverqueue/river"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/baseimage"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server"
	"github.com/drydock-scan/drydock/internal/server/admission"
	"github.com/drydock-scan/drydock/internal/server/dashboard"
	"github.com/drydock-scan/drydock/internal/server/harbor"
	"github.com/drydock-scan/drydock/internal/server/monitor"
	"github.com/drydock-scan/drydock/internal/server/watch"
	"github.com/drydock-scan/drydock/internal/server/webhook"
	"github.com/drydock-scan/drydock/internal/store"
)

// secretKeyEnv holds the secret key itself (--secret-key-file names a file
// holding it).
const secretKeyEnv = "DRYDOCK_SECRET_KEY"

// serverFlags are shared by `drydock server` and `drydock worker`. Every
// flag can also be set by $DRYDOCK_<FLAG> and by the --config file (see
// applySettings).
type serverFlags struct {
	postgres    string
	listen      string
	workers     int
	dbPath      string
	allowLocal  bool
	scanTimeout time.Duration
	// monitorTimeout bounds an apply or full re-match (0: defaultMonitorTimeout).
	monitorTimeout time.Duration
	grace          time.Duration
	noAuth         bool
	tlsCert        string
	tlsKey         string
	secretKeyFile  string
	// admissionConfig is the admission gate's configuration file ("": no
	// gate).
	admissionConfig string
	// ignoreFiles and vex suppress findings in the reports and pages the
	// API serves (accepted risks, VEX statements), as the CLI's flags.
	ignoreFiles, vex []string
	// baseIndex is the base-image index the workers attribute images to.
	baseIndex string
}

func (f *serverFlags) add(cmd *cobra.Command, api bool, defaultWorkers int) {
	fl := cmd.Flags()
	addPostgresFlag(cmd, &f.postgres)
	fl.IntVar(&f.workers, "workers", defaultWorkers, "scans run at once by this process (0: none)")
	fl.StringVar(&f.dbPath, "db", "", "vulnerability database file the workers match against (default in the cache dir)")
	fl.DurationVar(&f.scanTimeout, "scan-timeout", 10*time.Minute, "deadline of one scan job")
	fl.DurationVar(&f.monitorTimeout, "monitor-timeout", defaultMonitorTimeout, "deadline of one apply (or daily full re-match) of the advisory database; a killed worker's jobs are taken up again once they have run the longer of this and --scan-timeout, plus up to a minute")
	fl.DurationVar(&f.grace, "shutdown-grace", 30*time.Second, "on SIGINT/SIGTERM, how long in-flight scans may finish before they are cancelled and handed back to the queue")
	fl.StringVar(&f.baseIndex, "base-index", "", "base-image index the scans attribute images to (drydock base add/import; read at start)")
	fl.StringVar(&f.secretKeyFile, "secret-key-file", "", "file holding the key that seals stored credentials: 32 bytes as 64 hex digits or base64 (or the key itself in $"+secretKeyEnv+")")
	if api {
		fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the HTTP API")
		fl.BoolVar(&f.allowLocal, "allow-local", false, "let API callers scan the server's own files (docker-archive:, oci:, dir:); for testing only")
		fl.BoolVar(&f.noAuth, "no-auth", false, "serve the API without API tokens (anyone who reaches it can queue scans and read every result)")
		fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
		fl.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
		fl.StringArrayVar(&f.ignoreFiles, "ignore-file", nil, "ignore file with accepted risks (ids, packages, paths, reason, expiry), applied to the reports and dashboard pages served; repeatable")
		fl.StringArrayVar(&f.vex, "vex", nil, "VEX document (OpenVEX, CycloneDX or CSAF) applied to the reports and dashboard pages served; repeatable")
		fl.StringVar(&f.admissionConfig, "admission-config", "", "serve the deploy gate (Kubernetes admission webhook and Gatekeeper provider) with this configuration file (see docs/admission.md)")
	}
}

func addPostgresFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "postgres", "", "PostgreSQL address, e.g. postgres://drydock@db:5432/drydock ($DRYDOCK_POSTGRES)")
}

// openStore connects to PostgreSQL and migrates the schema, with pools
// sized for workers scans at once (poolSize).
func openStore(ctx context.Context, dsn string, workers int) (*store.Store, error) {
	if dsn == "" {
		return nil, usageErr("--postgres (or $DRYDOCK_POSTGRES, or postgres: in --config) is required")
	}
	st, err := store.Open(ctx, dsn, store.Options{MaxConns: poolSize(dsn, workers)})
	if err != nil {
		return nil, &exitError{code: policy.ExitScanError, err: err}
	}
	if err := server.Migrate(ctx, st); err != nil {
		st.Close()
		return nil, &exitError{code: policy.ExitScanError, err: err}
	}
	return st, nil
}

// poolSize is the size of each of the store's pools for a process running
// workers scans at once: a scan reads its layers in parallel (up to one per
// CPU, each holding a connection while it claims or stores a layer), plus
// headroom for the rest of the process (the monitor's 4 re-matches at once,
// webhook senders, registry polls, River's own queries, API requests). Never
// below store.DefaultMaxConns; 0 (the DSN's pool_max_conns, or the default)
// when the DSN sets it.
func poolSize(dsn string, workers int) int32 {
	if strings.Contains(dsn, "pool_max_conns") {
		return 0
	}
	return max(store.DefaultMaxConns(), int32(workers*runtime.NumCPU()+16))
}

// run starts the store, migrates it, and serves the API and/or runs workers
// until ctx is done; then it shuts down gracefully.
func (f *serverFlags) run(ctx context.Context, e *env, api bool) error {
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageErr("--tls-cert and --tls-key go together")
	}
	if api && f.workers == 0 && os.Getenv("GOGC") == "" {
		// An API-only process keeps a small heap (tens of MB) and answers
		// admission requests within a latency budget: fewer collections
		// cut the tail (docs/performance.md, "Admission webhook"). Not
		// for processes that scan, whose heap is the scan's.
		debug.SetGCPercent(admission.ServingGCPercent)
	}
	var tlsConfig *tls.Config
	if f.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return usageErr("loading the TLS certificate: %v", err)
		}
		tlsConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	// The key that seals stored credentials: the scan jobs' here; the
	// registry watch's and the Harbor adapter's once they are wired.
	box, err := secretbox.Load(f.secretKeyFile, secretKeyEnv)
	if err != nil {
		return usageErr("%v", err)
	}
	if box != nil {
		e.log.Info("secret key loaded", "key_id", box.KeyID())
	}
	st, err := openStore(ctx, f.postgres, f.workers)
	if err != nil {
		return err
	}
	defer st.Close()
	if api {
		if err := warnAuth(ctx, e, st, f.noAuth); err != nil {
			return err
		}
	}
	srv, closeDB, err := f.build(ctx, e, api, st, box)
	if err != nil {
		return err
	}
	defer closeDB()
	if err := srv.Start(ctx); err != nil {
		return err
	}
	var httpSrv *http.Server
	errc := make(chan error, 1)
	if api {
		ln, err := net.Listen("tcp", f.listen)
		if err != nil {
			return fmt.Errorf("listening on %s: %w", f.listen, err)
		}
		httpSrv = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, TLSConfig: tlsConfig,
			ErrorLog: slog.NewLogLogger(e.log.Handler(), slog.LevelWarn)}
		scheme := "http"
		if tlsConfig != nil {
			scheme = "https"
		}
		e.log.Info("drydock server listening", "url", scheme+"://"+ln.Addr().String(), "workers", f.workers, "auth", !f.noAuth)
		go func() {
			if tlsConfig != nil {
				errc <- httpSrv.ServeTLS(ln, "", "")
				return
			}
			errc <- httpSrv.Serve(ln)
		}()
	} else {
		e.log.Info("drydock worker started", "workers", f.workers)
	}
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serving: %w", err)
		}
	}
	e.log.Info("shutting down", "grace", f.grace)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.grace)
	defer cancel()
	if httpSrv != nil {
		_ = httpSrv.Shutdown(sctx)
	}
	return srv.Stop(sctx)
}

// defaultMonitorTimeout bounds one apply or full re-match of the monitor
// (--monitor-timeout); the server's rescue of stuck jobs waits longer than
// this (server.Options.LongestJob), so it is also how long a killed
// worker's scan waits to be taken up again: the default scan timeout's 10
// minutes. An apply re-matches 1,000 changed images in about 8 s
// (docs/performance.md), and one cut by its deadline keeps what it did: the
// next apply finishes it.
const defaultMonitorTimeout = 10 * time.Minute

// wiring is the server's options as the command builds them, and the
// advisory database to close when the server is done.
type wiring struct {
	opt     server.Options
	closeDB func()
	// srv is set once the server is built: the admission gate queues its
	// scans with the server's River client, which exists only then (no
	// request is served before).
	srv *server.Server
}

// options wires the server's parts, as the command runs them: an API
// process (api) gets every part's routes, a process with workers every
// part's jobs, periodic jobs and queues; `server --workers N` both.
//
//   - the scan workers, matching against the database file followed across
//     `drydock db update` (server.DBFile), recording their lookups for the
//     monitor (monitor.NewScanRecorder)
//   - the monitor (re-matching on a new database; events)
//   - webhooks (delivering events; the secret key to register or sign)
//   - the registry watch
//   - the Harbor adapter (needs the secret key: off, and said so, without)
//   - the admission gate and its metrics, with --admission-config
func (f *serverFlags) options(ctx context.Context, e *env, api bool, st *store.Store, box *secretbox.Box) (w *wiring, err error) {
	w = &wiring{closeDB: func() {}}
	defer func() {
		if err != nil {
			w.closeDB()
		}
	}()
	monTimeout := cmp.Or(f.monitorTimeout, defaultMonitorTimeout)
	// River rescues a running job by one client-wide age, whatever its kind
	// (server.Options.LongestJob): the longest job's deadline. A registry
	// poll (5 minutes by default) is kept under it, so that a short
	// --scan-timeout and --monitor-timeout never get a live poll rescued.
	opt := server.Options{Store: st, Workers: f.workers, AllowLocal: f.allowLocal, ScanTimeout: f.scanTimeout,
		Logger: e.log, ToolVersion: toolVersion(), NoAuth: f.noAuth, Secrets: box, LongestJob: monTimeout}
	pollTimeout := min(5*time.Minute, max(f.scanTimeout, monTimeout))
	monOpt := monitor.Options{Store: st, Timeout: monTimeout}
	if f.workers > 0 {
		path := f.dbPath
		if path == "" {
			root, err := e.cacheRoot()
			if err != nil {
				return nil, err
			}
			path = dbPathIn(root)
		}
		db, err := server.OpenDBFile(ctx, path)
		if err != nil {
			return nil, &exitError{code: policy.ExitScanError, err: fmt.Errorf("%w (run \"drydock db update\")", err)}
		}
		w.closeDB = func() { db.Close() }
		opt.DBFile = db
		monOpt.DBPath = path
		// The CLI's default scanners: vulnerabilities and secrets.
		sec, err := secret.New(nil)
		if err != nil {
			return nil, err
		}
		opt.Scan = scan.Config{Secrets: sec}
		// Malicious-package records are matched, as by the CLI's default
		// scanners: without this a MAL- record would be dropped (it is no
		// vulnerability), never reported. File hashes and the engine are
		// the CLI's only, for now.
		opt.Scan.Match.Malicious = true
		if f.baseIndex != "" {
			if _, err := os.Stat(f.baseIndex); err != nil {
				return nil, usageErr("--base-index: %v", err)
			}
			if opt.Scan.BaseImages, err = baseimage.Load(f.baseIndex); err != nil {
				return nil, &exitError{code: policy.ExitScanError, err: err}
			}
		}
	}
	// The match options of the scans, the monitor's re-matches and the
	// scans' recorded lookups: one value, so all three give the same
	// findings (the scans' enrichers are the default, as the monitor's).
	matchOpt := monitor.MatchOptions{Match: opt.Scan.Match, Logger: e.log}
	monOpt.MatchOptions = matchOpt
	if f.workers > 0 {
		opt.RecordMatches = &matchOpt
	}
	mon, err := monitor.New(monOpt)
	if err != nil {
		return nil, err
	}
	hooks, err := webhook.New(webhook.Options{Store: st, Secrets: box, Logger: e.log})
	if err != nil {
		return nil, err
	}
	wat, err := watch.New(watch.Options{Store: st, Secrets: box, Logger: e.log, PollTimeout: pollTimeout})
	if err != nil {
		return nil, err
	}
	if f.workers > 0 {
		opt.AddWorkers = []func(*river.Workers){mon.AddWorkers, hooks.AddWorkers, wat.AddWorkers}
		opt.Periodic = slices.Concat(mon.Periodic(), hooks.Periodic(), wat.Periodic())
		opt.Queues = map[string]river.QueueConfig{}
		for _, q := range []map[string]river.QueueConfig{mon.Queues(), hooks.Queues(), wat.Queues()} {
			maps.Copy(opt.Queues, q)
		}
	}
	if api {
		opt.Routes = slices.Concat(mon.Routes(), hooks.Routes(), wat.Routes())
		if box != nil {
			adapter, err := harbor.New(harbor.Options{Store: st, Secrets: box, ToolVersion: opt.ToolVersion, Logger: e.log})
			if err != nil {
				return nil, err
			}
			opt.Routes = append(opt.Routes, adapter.Routes()...)
		} else {
			e.log.Warn("the Harbor scanner adapter is off: it needs the secret key (--secret-key-file or $" + secretKeyEnv + ") to keep the registry credentials Harbor sends")
		}
		// The server's accepted risks and VEX statements: read once at start
		// (a bad file stops the server, never silently suppresses nothing).
		if len(f.ignoreFiles)+len(f.vex) > 0 {
			g := gateFlags{ignoreFiles: f.ignoreFiles, vex: f.vex}
			eng, err := g.engine()
			if err != nil {
				return nil, err
			}
			opt.Suppress = eng
		}
		// The dashboard: any valid token may read it (write implies read).
		var checkToken dashboard.Authenticator
		if !f.noAuth {
			checkToken = func(ctx context.Context, secret string) (string, error) {
				tok, err := st.Authenticate(ctx, secret)
				return tok.Name, err
			}
		}
		dash, err := dashboard.New(dashboard.Options{Store: st, Authenticate: checkToken, Suppress: opt.Suppress, ToolVersion: opt.ToolVersion, Logger: e.log})
		if err != nil {
			return nil, err
		}
		opt.Routes = append(opt.Routes, dash.Routes()...)
		if f.admissionConfig != "" {
			cfg, err := admission.LoadConfig(ctx, f.admissionConfig)
			if err != nil {
				return nil, usageErr("--admission-config: %v", err)
			}
			gate, err := admission.New(admission.Options{Config: cfg, Store: st, Keychain: authn.DefaultKeychain, Logger: e.log,
				Enqueue: func(ctx context.Context, args queue.ScanArgs) error {
					return admission.EnqueueWith(w.srv.River())(ctx, args)
				}})
			if err != nil {
				return nil, err
			}
			// Flush the gate's queued decisions after the server has stopped
			// answering and before the store closes (run defers closeDB after
			// st.Close, so it runs after srv.Stop and before st.Close).
			closeRest := w.closeDB
			w.closeDB = func() {
				cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				if err := gate.Close(cctx); err != nil {
					e.log.Warn("admission: not every decision was recorded", "error", err)
				}
				closeRest()
			}
			opt.Routes = append(opt.Routes, gate.Routes()...)
			opt.Collectors = append(opt.Collectors, gate.Collectors()...)
			e.log.Info("admission gate on", "config", f.admissionConfig)
		}
	}
	w.opt = opt
	return w, nil
}

// build returns the server the command runs (see options) and the function
// that closes its advisory database.
func (f *serverFlags) build(ctx context.Context, e *env, api bool, st *store.Store, box *secretbox.Box) (*server.Server, func(), error) {
	w, err := f.options(ctx, e, api, st, box)
	if err != nil {
		return nil, nil, err
	}
	if w.srv, err = server.New(w.opt); err != nil {
		w.closeDB()
		return nil, nil, err
	}
	return w.srv, w.closeDB, nil
}

// warnAuth says, on start, when the API is open to anyone, or closed to
// everyone because no token exists yet (and how to create one: tokens are
// never created behind the operator's back).
func warnAuth(ctx context.Context, e *env, st *store.Store, noAuth bool) error {
	if noAuth {
		e.log.Warn("API authentication is off (--no-auth): anyone who reaches the API can queue scans and read every result")
		return nil
	}
	n, err := st.ActiveTokens(ctx)
	if err != nil {
		return &exitError{code: policy.ExitScanError, err: err}
	}
	if n == 0 {
		e.log.Warn("no API token exists: every request but /healthz and /readyz is refused with 401 until one is created with: " +
			"drydock token create --postgres <address> --name <name> --scope write")
	}
	return nil
}

func newServerCmd(e *env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the HTTP API (and, with --workers, scan workers) on a PostgreSQL store",
		Long: `Serve drydock's HTTP API on a PostgreSQL store shared by any number of server and worker
processes: submit scans, read any image's report in any format, ask where the fleet is exposed to an
advisory or a package. See docs/server.md.

Every request but /healthz and /readyz needs an API token ("Authorization: Bearer ddk_…"): create
one with "drydock token create". Every flag can also be set by $DRYDOCK_<FLAG> (--scan-timeout:
$DRYDOCK_SCAN_TIMEOUT) or in the --config file; the command line wins, then the environment.`,
		Example: `  drydock server --postgres postgres://drydock@127.0.0.1:5432/drydock --workers 2
  drydock token create --postgres postgres://drydock@127.0.0.1:5432/drydock --name ci --scope write
  drydock worker --postgres postgres://drydock@127.0.0.1:5432/drydock --workers 4
  drydock server --config /etc/drydock/server.yaml --tls-cert server.crt --tls-key server.key`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return f.run(cmd.Context(), e, true)
		},
	}
	f.add(cmd, true, 0)
	return cmd
}

func newWorkerCmd(e *env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run scan workers on a PostgreSQL store (no API)",
		Long: `Run scan workers on a PostgreSQL store shared with "drydock server". Every flag can also be set by
$DRYDOCK_<FLAG> or in the --config file; the command line wins, then the environment.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.workers <= 0 {
				return usageErr("--workers must be at least 1")
			}
			return f.run(cmd.Context(), e, false)
		},
	}
	f.add(cmd, false, 2)
	return cmd
}

func newTokenCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the API tokens of drydock server",
		Long: `API tokens let clients call drydock server's API: "Authorization: Bearer ddk_…". A read token
reads results; a write token also queues scans and changes configuration. The store keeps only each
token's SHA-256: a token is shown once, when it is created.`,
	}
	for _, sub := range []*cobra.Command{newTokenCreateCmd(e), newTokenListCmd(e), newTokenRevokeCmd(e)} {
		// Only the store's address comes from the server's settings: a
		// $DRYDOCK_NAME meant for something else must not name a token.
		sub.Annotations = map[string]string{settingsOnly: "postgres"}
		cmd.AddCommand(sub)
	}
	return cmd
}

func newTokenCreateCmd(e *env) *cobra.Command {
	var postgres, name, scope string
	cmd := &cobra.Command{
		Use:     "create",
		Short:   "Create an API token and print it (once) on standard output",
		Example: `  TOKEN=$(drydock token create --postgres postgres://drydock@127.0.0.1:5432/drydock --name ci --scope write)`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if name == "" {
				return usageErr("--name is required")
			}
			if !store.ValidScope(scope) {
				return usageErr("--scope must be read or write, not %q", scope)
			}
			st, err := openStore(cmd.Context(), postgres, 0)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, secret, err := st.CreateToken(cmd.Context(), name, scope)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, secret)
			fmt.Fprintf(e.stderr, "created API token %d %q with scope %s: store it now, it cannot be shown again\n", tok.ID, tok.Name, tok.Scope)
			return nil
		},
	}
	addPostgresFlag(cmd, &postgres)
	cmd.Flags().StringVar(&name, "name", "", "what the token is for (shown by token list)")
	cmd.Flags().StringVar(&scope, "scope", store.ScopeRead, "read (results) or write (also queue scans and change configuration)")
	return cmd
}

func newTokenListCmd(e *env) *cobra.Command {
	var postgres string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the API tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := openStore(cmd.Context(), postgres, 0)
			if err != nil {
				return err
			}
			defer st.Close()
			toks, err := st.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			rows := [][]string{{"ID", "NAME", "SCOPE", "CREATED", "LAST USED", "REVOKED"}}
			when := func(t *time.Time) string {
				if t == nil {
					return "-"
				}
				return t.UTC().Format(time.RFC3339)
			}
			for _, t := range toks {
				rows = append(rows, []string{fmt.Sprint(t.ID), t.Name, t.Scope, when(&t.CreatedAt), when(t.LastUsedAt), when(t.RevokedAt)})
			}
			w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			for _, r := range rows {
				fmt.Fprintln(w, strings.Join(r, "\t"))
			}
			return w.Flush()
		},
	}
	addPostgresFlag(cmd, &postgres)
	return cmd
}

func newTokenRevokeCmd(e *env) *cobra.Command {
	var postgres string
	cmd := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token: requests with it are refused from now on",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErr("token ID %q is not a number (see drydock token list)", args[0])
			}
			st, err := openStore(cmd.Context(), postgres, 0)
			if err != nil {
				return err
			}
			defer st.Close()
			tok, err := st.RevokeToken(cmd.Context(), id)
			if errors.Is(err, store.ErrNoToken) {
				return usageErr("no API token %d (see drydock token list)", id)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stderr, "revoked API token %d %q\n", tok.ID, tok.Name)
			return nil
		},
	}
	addPostgresFlag(cmd, &postgres)
	return cmd
}
