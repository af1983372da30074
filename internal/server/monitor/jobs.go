package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// Queue is the River queue the monitor's jobs run in: a re-match never
// waits behind scans, and one process runs one at a time.
const Queue = "monitor"

// MaxAttempts bounds the retries of an apply or a full re-match (an image
// whose stored inventory cannot be read fails every attempt; the job is
// then parked with its errors).
const MaxAttempts = 5

// Options configure a Monitor.
type Options struct {
	Store *store.Store
	// DB is this worker's advisory database (nil and no DBPath: the
	// process only serves the API and queues jobs; AddWorkers then adds
	// none).
	DB vulndb.Reader
	// DBPath, if set, is the worker's database file, opened afresh for
	// every job instead of DB: a "drydock db update" that replaces the file
	// is seen by the next periodic check without restarting the worker (an
	// open handle keeps reading the file it opened).
	DBPath string
	MatchOptions
	// CheckEvery is how often the elected leader queues a check of the
	// worker's database against the last applied (default 5 minutes): a
	// newer one is applied.
	CheckEvery time.Duration
	// FullEvery is how often every image is re-matched (default 24 hours;
	// negative: never).
	FullEvery time.Duration
	// Timeout bounds one apply or full re-match job (default 1 hour). The
	// server's RescueStuckJobsAfter should exceed it.
	Timeout time.Duration
}

// Monitor holds the monitor's jobs and routes. Build it with New and wire
// it into the server with AddWorkers, Periodic, Queues and Routes.
type Monitor struct {
	opt   Options
	log   *slog.Logger
	river *river.Client[pgx.Tx] // insert-only: the API queues applies through it
}

// New returns a Monitor on opt.Store. It does not touch the database.
func New(opt Options) (*Monitor, error) {
	if opt.Store == nil {
		return nil, errors.New("monitor: no store")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	opt.Logger = opt.Logger.With("part", "monitor")
	if opt.CheckEvery <= 0 {
		opt.CheckEvery = 5 * time.Minute
	}
	if opt.FullEvery == 0 {
		opt.FullEvery = 24 * time.Hour
	}
	if opt.Timeout <= 0 {
		opt.Timeout = time.Hour
	}
	client, err := river.NewClient(riverpgxv5.New(opt.Store.Pool()), &river.Config{Logger: opt.Logger})
	if err != nil {
		return nil, fmt.Errorf("monitor: job queue: %w", err)
	}
	return &Monitor{opt: opt, log: opt.Logger, river: client}, nil
}

// ApplyArgs is the job that applies the worker's advisory database
// (Apply). OnlyIfNewer: the periodic check, a no-op when the database is
// the one last applied.
type ApplyArgs struct {
	OnlyIfNewer bool `json:"only_if_newer,omitempty"`
}

// Kind implements river.JobArgs.
func (ApplyArgs) Kind() string { return "drydock.monitor.apply" }

// InsertOpts implements river.JobArgsWithInsertOpts: one waits at a time.
func (ApplyArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: queue.Pending()}}
}

// RematchAllArgs is the job that re-matches every image (RematchAll).
type RematchAllArgs struct{}

// Kind implements river.JobArgs.
func (RematchAllArgs) Kind() string { return "drydock.monitor.rematch_all" }

// InsertOpts implements river.JobArgsWithInsertOpts: one waits at a time.
func (RematchAllArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts,
		UniqueOpts: river.UniqueOpts{ByState: queue.Pending()}}
}

// AddWorkers registers the monitor's jobs with a worker process (none
// without a database).
func (m *Monitor) AddWorkers(w *river.Workers) {
	if !m.hasDB() {
		return
	}
	river.AddWorker(w, &applyWorker{m: m})
	river.AddWorker(w, &rematchAllWorker{m: m})
}

// Queues is the monitor's River queue, for server.Options.Queues (none
// without a database: such a process runs no monitor job).
func (m *Monitor) Queues() map[string]river.QueueConfig {
	if !m.hasDB() {
		return nil
	}
	return map[string]river.QueueConfig{Queue: {MaxWorkers: 1}}
}

// Periodic returns the periodic jobs: the database check every CheckEvery
// (and when a leader is elected), the full re-match every FullEvery.
func (m *Monitor) Periodic() []*river.PeriodicJob {
	jobs := []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(m.opt.CheckEvery), func() (river.JobArgs, *river.InsertOpts) {
			return ApplyArgs{OnlyIfNewer: true}, nil
		}, &river.PeriodicJobOpts{ID: "drydock.monitor.check", RunOnStart: true}),
	}
	if m.opt.FullEvery > 0 {
		jobs = append(jobs, river.NewPeriodicJob(river.PeriodicInterval(m.opt.FullEvery), func() (river.JobArgs, *river.InsertOpts) {
			return RematchAllArgs{}, nil
		}, &river.PeriodicJobOpts{ID: "drydock.monitor.rematch_all"}))
	}
	return jobs
}

type applyWorker struct {
	river.WorkerDefaults[ApplyArgs]
	m *Monitor
}

func (w *applyWorker) Timeout(*river.Job[ApplyArgs]) time.Duration { return w.m.opt.Timeout }

func (w *applyWorker) Work(ctx context.Context, job *river.Job[ApplyArgs]) error {
	rep, err := w.m.Apply(ctx, job.Args.OnlyIfNewer)
	if err != nil {
		return err
	}
	if !rep.Skipped {
		w.m.log.Info("advisory database applied", "job", job.ID, "built_at", rep.DBBuiltAt, "images", rep.Images, "events", rep.Events)
	}
	if err := river.RecordOutput(ctx, rep); err != nil {
		return fmt.Errorf("recording the apply's report: %w", err)
	}
	return nil
}

func (m *Monitor) hasDB() bool { return m.opt.DB != nil || m.opt.DBPath != "" }

// database returns the worker's database: DBPath opened now, or DB. The
// function returned closes what was opened.
func (m *Monitor) database(ctx context.Context) (vulndb.Reader, func(), error) {
	if m.opt.DBPath == "" {
		if m.opt.DB == nil {
			return nil, nil, errors.New("monitor: this process has no advisory database")
		}
		return m.opt.DB, func() {}, nil
	}
	db, err := vulndb.Open(ctx, m.opt.DBPath)
	if err != nil {
		return nil, nil, fmt.Errorf("monitor: %w", err)
	}
	return db, func() {
		if err := db.Close(); err != nil {
			m.log.Warn("closing the advisory database", "err", err)
		}
	}, nil
}

// Apply applies this worker's database (see the function Apply).
func (m *Monitor) Apply(ctx context.Context, onlyIfNewer bool) (Report, error) {
	db, done, err := m.database(ctx)
	if err != nil {
		return Report{}, err
	}
	defer done()
	return Apply(ctx, m.opt.Store, db, m.opt.MatchOptions, onlyIfNewer)
}

// RematchAll re-matches every image with this worker's database (see the
// function RematchAll).
func (m *Monitor) RematchAll(ctx context.Context) (Report, error) {
	db, done, err := m.database(ctx)
	if err != nil {
		return Report{}, err
	}
	defer done()
	return RematchAll(ctx, m.opt.Store, db, m.opt.MatchOptions)
}

type rematchAllWorker struct {
	river.WorkerDefaults[RematchAllArgs]
	m *Monitor
}

func (w *rematchAllWorker) Timeout(*river.Job[RematchAllArgs]) time.Duration { return w.m.opt.Timeout }

func (w *rematchAllWorker) Work(ctx context.Context, job *river.Job[RematchAllArgs]) error {
	rep, err := w.m.RematchAll(ctx)
	if err != nil {
		return err
	}
	w.m.log.Info("every image re-matched", "job", job.ID, "images", rep.Images, "events", rep.Events)
	if err := river.RecordOutput(ctx, rep); err != nil {
		return fmt.Errorf("recording the re-match's report: %w", err)
	}
	return nil
}

// Routes are the monitor's API endpoints (documented in
// docs/server-api.yaml).
func (m *Monitor) Routes() []api.Route {
	return []api.Route{
		{Pattern: "POST /api/v1/db/apply", Handler: m.apply, Scope: api.Write},
		{Pattern: "GET /api/v1/db/versions", Handler: m.versions, Scope: api.Read},
		{Pattern: "GET /api/v1/events", Handler: m.events, Scope: api.Read},
	}
}

// Enqueue queues an apply of the worker's database (the ID of the one
// already waiting, if any).
func (m *Monitor) Enqueue(ctx context.Context) (int64, error) {
	res, err := m.river.Insert(ctx, ApplyArgs{}, nil)
	if err != nil {
		return 0, fmt.Errorf("queueing an advisory database apply: %w", err)
	}
	return res.Job.ID, nil
}

func (m *Monitor) apply(w http.ResponseWriter, r *http.Request) {
	id, err := m.Enqueue(r.Context())
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	api.WriteJSON(w, http.StatusAccepted, map[string]any{"job_id": id})
}

func (m *Monitor) versions(w http.ResponseWriter, r *http.Request) {
	vs, err := m.opt.Store.DBVersions(r.Context(), 100)
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if vs == nil {
		vs = []store.DBVersion{}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"versions": vs})
}

func (m *Monitor) events(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f store.EventFilter
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"after", &f.After}, {"image", &f.ImageID}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				api.WriteError(w, http.StatusBadRequest, "%s=%q is not a number", p.name, v)
				return
			}
			*p.dst = n
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			api.WriteError(w, http.StatusBadRequest, "limit=%q is not a positive number", v)
			return
		}
		f.Limit = n
	}
	evs, err := m.opt.Store.Events(r.Context(), f)
	if err != nil {
		api.WriteError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if evs == nil {
		evs = []store.Event{}
	}
	next := f.After
	if len(evs) > 0 {
		next = evs[len(evs)-1].ID
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"events": evs, "next_after": next})
}
