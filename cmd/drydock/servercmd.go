package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// secretKeyEnv holds the secret key itself (--secret-key-file names a file
// holding it).
const secretKeyEnv = "DRYDOCK_SECRET_KEY"

// serverFlags are shared by `drydock server` and `drydock worker`. Every
// flag can also be set by $DRYDOCK_<FLAG> and by the --config file (see
// applySettings).
type serverFlags struct {
	postgres      string
	listen        string
	workers       int
	dbPath        string
	allowLocal    bool
	scanTimeout   time.Duration
	grace         time.Duration
	noAuth        bool
	tlsCert       string
	tlsKey        string
	secretKeyFile string
}

func (f *serverFlags) add(cmd *cobra.Command, api bool, defaultWorkers int) {
	fl := cmd.Flags()
	addConfigFlag(cmd)
	addPostgresFlag(cmd, &f.postgres)
	fl.IntVar(&f.workers, "workers", defaultWorkers, "scans run at once by this process (0: none)")
	fl.StringVar(&f.dbPath, "db", "", "vulnerability database file the workers match against (default in the cache dir)")
	fl.DurationVar(&f.scanTimeout, "scan-timeout", 10*time.Minute, "deadline of one scan job")
	fl.DurationVar(&f.grace, "shutdown-grace", 30*time.Second, "on SIGINT/SIGTERM, how long in-flight scans may finish before they are cancelled and handed back to the queue")
	fl.StringVar(&f.secretKeyFile, "secret-key-file", "", "file holding the key that seals stored credentials: 32 bytes as 64 hex digits or base64 (or the key itself in $"+secretKeyEnv+")")
	if api {
		fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the HTTP API")
		fl.BoolVar(&f.allowLocal, "allow-local", false, "let API callers scan the server's own files (docker-archive:, oci:, dir:); for testing only")
		fl.BoolVar(&f.noAuth, "no-auth", false, "serve the API without API tokens (anyone who reaches it can queue scans and read every result)")
		fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM; with --tls-key)")
		fl.StringVar(&f.tlsKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	}
}

func addConfigFlag(cmd *cobra.Command) {
	cmd.Flags().String("config", "", "YAML file of flag values, by flag name (postgres: …, workers: 4); flags and $DRYDOCK_* take precedence ($DRYDOCK_CONFIG)")
}

func addPostgresFlag(cmd *cobra.Command, dst *string) {
	cmd.Flags().StringVar(dst, "postgres", "", "PostgreSQL address, e.g. postgres://drydock@db:5432/drydock ($DRYDOCK_POSTGRES)")
}

// envName is the environment variable of a flag: --scan-timeout is
// $DRYDOCK_SCAN_TIMEOUT.
func envName(flag string) string {
	return "DRYDOCK_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// settingKeys are the keys a config file may hold: the flags of the server
// and worker commands (one file serves both, and the token commands, which
// read only postgres from it).
func settingKeys(e *env) map[string]bool {
	keys := map[string]bool{}
	for _, c := range []*cobra.Command{newServerCmd(e), newWorkerCmd(e)} {
		c.Flags().VisitAll(func(f *pflag.Flag) { keys[f.Name] = true })
	}
	delete(keys, "config")
	return keys
}

// applySettings sets every flag of cmd (or only those named in only, if
// any) not given on the command line from $DRYDOCK_<FLAG>, else from the
// --config file ($DRYDOCK_CONFIG): flag > environment > file > default. A
// key of the file that is no flag of the server or worker command is an
// error (a typo must not be ignored).
func applySettings(e *env, cmd *cobra.Command, only ...string) error {
	fl := cmd.Flags()
	path, _ := fl.GetString("config")
	if !fl.Changed("config") {
		path = os.Getenv(envName("config"))
	}
	file := map[string]any{}
	if path != "" {
		raw, err := os.ReadFile(path)
		if err != nil {
			return usageErr("reading the config file: %v", err)
		}
		if err := yaml.Unmarshal(raw, &file); err != nil {
			return usageErr("%s: %v", path, err)
		}
		known := settingKeys(e)
		var unknown []string
		for k := range file {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return usageErr("%s: unknown setting %s (settings are the flags of drydock server and worker, by name)", path, strings.Join(unknown, ", "))
		}
	}
	var errs []error
	fl.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "config" || f.Name == "help" || (len(only) > 0 && !slices.Contains(only, f.Name)) {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok && v != "" {
			if err := fl.Set(f.Name, v); err != nil {
				errs = append(errs, usageErr("$%s: %v", envName(f.Name), err))
			}
			return
		}
		v, ok := file[f.Name]
		if !ok || v == nil {
			return
		}
		switch v.(type) {
		case map[string]any, []any:
			errs = append(errs, usageErr("%s: %s must be a single value", path, f.Name))
			return
		}
		if err := fl.Set(f.Name, fmt.Sprint(v)); err != nil {
			errs = append(errs, usageErr("%s: %s: %v", path, f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// openStore connects to PostgreSQL and migrates the schema.
func openStore(ctx context.Context, dsn string) (*store.Store, error) {
	if dsn == "" {
		return nil, usageErr("--postgres (or $DRYDOCK_POSTGRES, or postgres: in --config) is required")
	}
	st, err := store.Open(ctx, dsn, store.Options{})
	if err != nil {
		return nil, &exitError{code: policy.ExitScanError, err: err}
	}
	if err := server.Migrate(ctx, st); err != nil {
		st.Close()
		return nil, &exitError{code: policy.ExitScanError, err: err}
	}
	return st, nil
}

// run starts the store, migrates it, and serves the API and/or runs workers
// until ctx is done; then it shuts down gracefully.
func (f *serverFlags) run(ctx context.Context, e *env, api bool) error {
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageErr("--tls-cert and --tls-key go together")
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
	st, err := openStore(ctx, f.postgres)
	if err != nil {
		return err
	}
	defer st.Close()
	opt := server.Options{Store: st, Workers: f.workers, AllowLocal: f.allowLocal, ScanTimeout: f.scanTimeout,
		Logger: e.log, ToolVersion: toolVersion(), NoAuth: f.noAuth, Secrets: box}
	if f.workers > 0 {
		path := f.dbPath
		if path == "" {
			root, err := e.cacheRoot()
			if err != nil {
				return err
			}
			path = dbPathIn(root)
		}
		db, err := vulndb.Open(ctx, path)
		if err != nil {
			return &exitError{code: policy.ExitScanError, err: fmt.Errorf("opening vulnerability database %s (run \"drydock db update\"): %w", path, err)}
		}
		defer db.Close()
		opt.DB = db
		// The CLI's default scanners: vulnerabilities and secrets.
		sec, err := secret.New(nil)
		if err != nil {
			return err
		}
		opt.Scan = scan.Config{Secrets: sec}
	}
	if api {
		if err := warnAuth(ctx, e, st, f.noAuth); err != nil {
			return err
		}
	}
	srv, err := server.New(opt)
	if err != nil {
		return err
	}
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
			if err := applySettings(e, cmd); err != nil {
				return err
			}
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
			if err := applySettings(e, cmd); err != nil {
				return err
			}
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
	cmd.AddCommand(newTokenCreateCmd(e), newTokenListCmd(e), newTokenRevokeCmd(e))
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
			if err := applySettings(e, cmd, "postgres"); err != nil {
				return err
			}
			if name == "" {
				return usageErr("--name is required")
			}
			if !store.ValidScope(scope) {
				return usageErr("--scope must be read or write, not %q", scope)
			}
			st, err := openStore(cmd.Context(), postgres)
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
	addConfigFlag(cmd)
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
			if err := applySettings(e, cmd, "postgres"); err != nil {
				return err
			}
			st, err := openStore(cmd.Context(), postgres)
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
	addConfigFlag(cmd)
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
			if err := applySettings(e, cmd, "postgres"); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return usageErr("token ID %q is not a number (see drydock token list)", args[0])
			}
			st, err := openStore(cmd.Context(), postgres)
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
	addConfigFlag(cmd)
	addPostgresFlag(cmd, &postgres)
	return cmd
}
