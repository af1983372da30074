// Package server is drydock's long-running side: an HTTP API and workers that
// share one PostgreSQL database, the store (package store) and the job queue
// (River). Both are stateless; run any number of each, on any machines.
//
//	drydock server ──► POST /api/v1/scans ──► river_job (PostgreSQL) ──► drydock worker ──► scan.Run ──► store
//	       ▲                                                                                             │
//	       └───────────── GET reports, exposure, jobs ◄──────────────────────────────────────────────────┘
//
// The scan is the library the CLI uses, with the store as the fleet-wide
// layer cache: a layer shared by a thousand images is analysed once.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/server/monitor"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// Options configure a Server.
type Options struct {
	Store *store.Store
	// DB is the advisory database workers match against (nil and no DBFile:
	// the API only serves what is stored, and workers refuse to start).
	DB vulndb.Reader
	// DBFile, if set, is used instead of DB: each scan acquires the file's
	// current database, so a `drydock db update` is seen by the next scan.
	DBFile *DBFile
	// RecordMatches, if set, records what each scan's match looked up
	// (monitor.NewScanRecorder), so the monitor knows which images a new
	// database changes. It must be the monitor's match options, and Scan's.
	RecordMatches *monitor.MatchOptions
	// Workers is the number of scans this process runs at once (0: this
	// process only serves the API and queues jobs).
	Workers int
	// Scan is the base configuration of every scan (extractors, secrets,
	// source options); Reference, Cache and DB are set per job.
	Scan scan.Config
	// ScanTimeout bounds one scan job (default 10 minutes).
	ScanTimeout time.Duration
	// LongestJob is the longest timeout of the jobs AddWorkers registers
	// (the monitor's apply: an hour by default). River rescues a job that
	// has been running longer than one client-wide duration, whatever its
	// kind, so that duration must exceed every kind's timeout, or a long
	// apply would be handed to a second worker while the first still runs.
	LongestJob time.Duration
	// AllowLocal lets scan requests name local paths (docker-archive:,
	// oci:, dir:). Off by default: an API caller must not read the server's
	// files.
	AllowLocal bool
	// NoAuth serves every route without an API token. Off by default:
	// routes need a token of their scope (see auth.go).
	NoAuth bool
	Logger *slog.Logger
	// Tool is the producer written into reports.
	ToolVersion string
	// Suppress annotates the findings of every report the API serves with
	// the server's ignore files and VEX documents (drydock server
	// --ignore-file, --vex), as the CLI's: suppressed findings stay in the
	// report, marked with the reason and expiry. Nil: none.
	Suppress *policy.Engine
	// RetryPolicy decides when a failed scan is tried again (default:
	// River's exponential back-off); tests shorten it.
	RetryPolicy river.ClientRetryPolicy

	// The server's other parts, each listed explicitly by the command that
	// builds the server: AddWorkers registers job kinds beyond the scan
	// with this process's workers (the monitor, the registry watch, webhook
	// deliveries); Periodic jobs are queued by the one leader River elects
	// among all worker processes; Routes are added to the API's; Mounts serve handlers under a path prefix
	// (the Harbor adapter).
	AddWorkers []func(*river.Workers)
	Periodic   []*river.PeriodicJob
	Routes     []api.Route
	Mounts     []Mount
	// Queues are River queues beyond the default one (the scans'), for
	// parts whose jobs must not wait behind scans (the registry watch's polls).
	Queues map[string]river.QueueConfig
	// Secrets opens the credentials sealed in scan jobs (ScanArgs.Credentials);
	// nil: a job with credentials fails with queue.ErrNoKey.
	Secrets *secretbox.Box
	// Collectors are the parts' Prometheus metrics (the admission gate's),
	// served with the server's own on GET /metrics.
	Collectors []prometheus.Collector
}

// Mount serves Handler for every path under Prefix ("/harbor/"); the
// handler sees the whole path.
type Mount struct {
	Prefix  string
	Handler http.Handler
}

// Server is the API and, with Workers > 0, a worker.
type Server struct {
	opt     Options
	river   *river.Client[pgx.Tx]
	log     *slog.Logger
	metrics *metrics
}

// Migrate brings the store's and the job queue's schemas up to date.
// Processes starting together migrate once (one advisory lock covers both).
func Migrate(ctx context.Context, st *store.Store) error {
	return st.Migrate(ctx, queue.Migrate(st.Pool()))
}

// New returns a server on opt.Store. Call Start to run its workers (if any)
// and Stop to finish.
func New(opt Options) (*Server, error) {
	if opt.Store == nil {
		return nil, errors.New("server: no store")
	}
	if err := checkScopes(opt.Routes); err != nil {
		return nil, err
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.ScanTimeout <= 0 {
		opt.ScanTimeout = 10 * time.Minute
	}
	longest := max(opt.ScanTimeout, opt.LongestJob)
	cfg := &river.Config{
		Logger:      opt.Logger,
		MaxAttempts: queue.MaxScanAttempts,
		// A worker killed mid-job leaves its job running; River hands it to
		// another worker once it has been running this long. The setting is
		// client-wide (River has no per-kind rescue), so it is the longest
		// job's own deadline — the monitor's apply (LongestJob), when wired —
		// and as long again (at most a minute) for its worker to wind it
		// up: shorter, and an apply still running would be rescued and run
		// twice at once. The price: a scan whose worker was killed waits
		// that long to be taken up again (a live worker's scan ends at its
		// own deadline and is retried at once).
		RescueStuckJobsAfter: longest + min(longest, time.Minute),
		JobTimeout:           opt.ScanTimeout,
		RetryPolicy:          opt.RetryPolicy,
	}
	if opt.Workers > 0 {
		if opt.DB == nil && opt.DBFile == nil {
			return nil, errors.New("server: workers need an advisory database")
		}
		workers := river.NewWorkers()
		river.AddWorker(workers, &scanWorker{store: opt.Store, db: opt.DB, dbFile: opt.DBFile, record: opt.RecordMatches,
			log: opt.Logger, base: opt.Scan, timeout: opt.ScanTimeout, box: opt.Secrets})
		for _, add := range opt.AddWorkers {
			add(workers)
		}
		cfg.PeriodicJobs = opt.Periodic
		cfg.Workers = workers
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: opt.Workers}}
		maps.Copy(cfg.Queues, opt.Queues)
	}
	client, err := river.NewClient(riverpgxv5.New(opt.Store.Pool()), cfg)
	if err != nil {
		return nil, fmt.Errorf("server: job queue: %w", err)
	}
	m, err := newMetrics(opt.ToolVersion, opt.Collectors)
	if err != nil {
		return nil, err
	}
	return &Server{opt: opt, river: client, log: opt.Logger, metrics: m}, nil
}

// River is the job queue's client: other parts insert their jobs with it
// (InsertTx inside their own transactions, for an outbox).
func (s *Server) River() *river.Client[pgx.Tx] { return s.river }

// Start runs the workers (a no-op for an API-only server).
func (s *Server) Start(ctx context.Context) error {
	if s.opt.Workers == 0 {
		return nil
	}
	if err := s.river.Start(ctx); err != nil {
		return fmt.Errorf("starting workers: %w", err)
	}
	return nil
}

// Stop finishes the jobs in flight (until ctx is done, then cancels them:
// River gives cancelled jobs back to the queue) and stops the workers.
func (s *Server) Stop(ctx context.Context) error {
	if s.opt.Workers == 0 {
		return nil
	}
	if err := s.river.Stop(ctx); err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return s.river.StopAndCancel(context.WithoutCancel(ctx))
		}
		return fmt.Errorf("stopping workers: %w", err)
	}
	return nil
}

// Enqueue queues a scan and returns its job ID (the ID of the job already
// queued for the same arguments, if one is waiting or running).
func (s *Server) Enqueue(ctx context.Context, args ScanArgs) (int64, error) {
	res, err := s.river.Insert(ctx, args, nil)
	if err != nil {
		return 0, fmt.Errorf("queueing a scan of %s: %w", args.Reference, err)
	}
	return res.Job.ID, nil
}
