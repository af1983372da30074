package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/server"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// serverFlags are shared by `drydock server` and `drydock worker`.
type serverFlags struct {
	postgres    string
	listen      string
	workers     int
	dbPath      string
	allowLocal  bool
	scanTimeout time.Duration
	grace       time.Duration
}

func (f *serverFlags) add(cmd *cobra.Command, api bool, defaultWorkers int) {
	fl := cmd.Flags()
	fl.StringVar(&f.postgres, "postgres", os.Getenv("DRYDOCK_POSTGRES"), "PostgreSQL address, e.g. postgres://drydock@db:5432/drydock ($DRYDOCK_POSTGRES)")
	fl.IntVar(&f.workers, "workers", defaultWorkers, "scans run at once by this process (0: none)")
	fl.StringVar(&f.dbPath, "db", "", "vulnerability database file the workers match against (default in the cache dir)")
	fl.DurationVar(&f.scanTimeout, "scan-timeout", 10*time.Minute, "deadline of one scan job")
	fl.DurationVar(&f.grace, "shutdown-grace", 30*time.Second, "on SIGINT/SIGTERM, how long in-flight scans may finish before they are cancelled and handed back to the queue")
	if api {
		fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the HTTP API")
		fl.BoolVar(&f.allowLocal, "allow-local", false, "let API callers scan the server's own files (docker-archive:, oci:, dir:); for testing only")
	}
}

// run starts the store, migrates it, and serves the API and/or runs workers
// until ctx is done; then it shuts down gracefully.
func (f *serverFlags) run(ctx context.Context, e *env, api bool) error {
	if f.postgres == "" {
		return usageErr("--postgres (or $DRYDOCK_POSTGRES) is required")
	}
	st, err := store.Open(ctx, f.postgres, store.Options{})
	if err != nil {
		return &exitError{code: policy.ExitScanError, err: err}
	}
	defer st.Close()
	if err := server.Migrate(ctx, st); err != nil {
		return &exitError{code: policy.ExitScanError, err: err}
	}
	opt := server.Options{Store: st, Workers: f.workers, AllowLocal: f.allowLocal, ScanTimeout: f.scanTimeout,
		Logger: e.log, ToolVersion: toolVersion()}
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
		httpSrv = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
		e.log.Info("drydock server listening", "address", ln.Addr().String(), "workers", f.workers)
		go func() { errc <- httpSrv.Serve(ln) }()
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

func newServerCmd(e *env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the HTTP API (and, with --workers, scan workers) on a PostgreSQL store",
		Long: `Serve drydock's HTTP API on a PostgreSQL store shared by any number of server and worker
processes: submit scans, read any image's report in any format, ask where the fleet is exposed to an
advisory or a package. See docs/server.md.`,
		Example: `  drydock server --postgres postgres://drydock@127.0.0.1:5432/drydock --workers 2
  drydock worker --postgres postgres://drydock@127.0.0.1:5432/drydock --workers 4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return f.run(cmd.Context(), e, true) },
	}
	f.add(cmd, true, 0)
	return cmd
}

func newWorkerCmd(e *env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run scan workers on a PostgreSQL store (no API)",
		Args:  cobra.NoArgs,
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
