// Package watch is the server's registry watch: registries registered through
// the API (every repository of the catalog, or a list of names and globs),
// polled on an interval; every tag pushed or moved is queued for a scan
// (queue.ScanArgs), every tag deleted is marked removed.
//
//	leader: tick (River periodic job, every Options.Tick)
//	   └─► one poll job per registry due (unique by registry: never two at once)
//	          catalog (paged) ─► tags of each repository (paged) ─► HEAD each tag
//	          ─► compare with watched_tags ─► in one transaction: the new state,
//	             the removed tags (watched_tags and image_tags), the scans queued
//
// Polls run in their own River queue (Queue) so that they never wait
// behind scans, and each registry is its own job so that a slow registry
// does not hold the others up. Credentials are sealed with the server's key
// (package secretbox) and given to the scans sealed; the API never returns
// them.
//
// The package does not import the server: the command wires it in with
// server.Options{AddWorkers: w.AddWorkers, Periodic: w.Periodic(),
// Queues: w.Queues(), Routes: w.Routes(), Secrets: box}.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/store"
)

// Queue is the River queue the watch's jobs run in.
const Queue = "watch"

// Options configure a Watch.
type Options struct {
	Store *store.Store
	// Secrets seals the credentials given with a registry and opens them
	// to poll it. Nil: registries can be registered without credentials
	// only.
	Secrets *secretbox.Box
	Logger  *slog.Logger
	// Transport is the HTTP transport for registries (default
	// remote.DefaultTransport, with the system's TLS roots). An
	// *http.Transport is cloned: TLS verification is turned off for
	// registries registered as insecure, and ResponseHeaderTimeout is set.
	Transport http.RoundTripper
	// Tick is how often the elected leader looks for registries due a
	// poll (default 5s). A registry is polled every Interval, to within
	// half a tick.
	Tick time.Duration
	// MinInterval is the shortest interval the API accepts (default 30s).
	MinInterval time.Duration
	// PageSize is the n of catalog and tag-list requests (default 100).
	PageSize int
	// Heads is the number of tags resolved at once in one poll (default 4).
	Heads int
	// Pollers is the number of registries this process polls at once
	// (default 2): the MaxWorkers of Queue.
	Pollers int
	// PollTimeout bounds one poll of one registry (default 5 minutes). Keep
	// it under the server's RescueStuckJobsAfter (its scan timeout plus up
	// to a minute): a poll running longer is taken for a dead worker's.
	PollTimeout time.Duration
}

// Watch polls registries. Build it with New and wire it into the server
// with AddWorkers, Periodic, Queues and Routes.
type Watch struct {
	opt   Options
	log   *slog.Logger
	river *river.Client[pgx.Tx] // insert-only: polls and scans are queued through it
}

// New returns a Watch on opt.Store. It does not touch the database.
func New(opt Options) (*Watch, error) {
	if opt.Store == nil {
		return nil, errors.New("watch: no store")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Tick <= 0 {
		opt.Tick = 5 * time.Second
	}
	if opt.MinInterval <= 0 {
		opt.MinInterval = 30 * time.Second
	}
	if opt.PageSize <= 0 {
		opt.PageSize = 100
	}
	if opt.Heads <= 0 {
		opt.Heads = 4
	}
	if opt.Pollers <= 0 {
		opt.Pollers = 2
	}
	if opt.PollTimeout <= 0 {
		opt.PollTimeout = 5 * time.Minute
	}
	client, err := river.NewClient(riverpgxv5.New(opt.Store.Pool()), &river.Config{Logger: opt.Logger})
	if err != nil {
		return nil, fmt.Errorf("watch: job queue: %w", err)
	}
	return &Watch{opt: opt, log: opt.Logger.With("part", "watch"), river: client}, nil
}

// TickArgs is the periodic job that queues a poll of every registry due one.
type TickArgs struct{}

// Kind implements river.JobArgs.
func (TickArgs) Kind() string { return "drydock.watch.tick" }

// InsertOpts implements river.JobArgsWithInsertOpts: at most one tick waits.
func (TickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: queue.Pending()}}
}

// PollArgs is the job that polls one registry.
type PollArgs struct {
	RegistryID int64 `json:"registry_id"`
}

// Kind implements river.JobArgs.
func (PollArgs) Kind() string { return "drydock.watch.poll" }

// InsertOpts implements river.JobArgsWithInsertOpts: a registry is never
// polled twice at once. A failed poll is not retried: the next interval
// polls again, and the error is recorded on the registry (last_error) and
// on the job.
func (PollArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: queue.Pending()}}
}

// AddWorkers registers the tick and poll workers (server.Options.AddWorkers).
func (w *Watch) AddWorkers(ws *river.Workers) {
	river.AddWorker(ws, &tickWorker{w: w})
	river.AddWorker(ws, &pollWorker{w: w})
}

// Periodic returns the tick, queued by the elected leader every Tick
// (server.Options.Periodic).
func (w *Watch) Periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(w.opt.Tick),
		func() (river.JobArgs, *river.InsertOpts) { return TickArgs{}, nil },
		&river.PeriodicJobOpts{ID: TickArgs{}.Kind(), RunOnStart: true})}
}

// Queues returns the watch's queue (server.Options.Queues).
func (w *Watch) Queues() map[string]river.QueueConfig {
	return map[string]river.QueueConfig{Queue: {MaxWorkers: w.opt.Pollers}}
}

type tickWorker struct {
	river.WorkerDefaults[TickArgs]
	w *Watch
}

// Work implements river.Worker.
func (t *tickWorker) Work(ctx context.Context, job *river.Job[TickArgs]) error {
	ids, err := t.w.opt.Store.DueRegistries(ctx, t.w.opt.Tick/2)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range ids {
		if _, err := t.w.river.Insert(ctx, PollArgs{RegistryID: id}, nil); err != nil {
			errs = append(errs, fmt.Errorf("queueing a poll of registry %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

type pollWorker struct {
	river.WorkerDefaults[PollArgs]
	w *Watch
}

// Timeout implements river.Worker.
func (p *pollWorker) Timeout(*river.Job[PollArgs]) time.Duration { return p.w.opt.PollTimeout }

// Work implements river.Worker.
func (p *pollWorker) Work(ctx context.Context, job *river.Job[PollArgs]) error {
	_, err := p.w.Poll(ctx, job.Args.RegistryID)
	if errors.Is(err, store.ErrNoRegistry) {
		p.w.log.Info("registry deleted before its poll", "registry", job.Args.RegistryID)
		return nil
	}
	return err
}

// QueuePoll queues a poll of registry id now and returns the job's ID (the
// ID of the poll already waiting or running, if there is one).
func (w *Watch) QueuePoll(ctx context.Context, id int64) (int64, error) {
	res, err := w.river.Insert(ctx, PollArgs{RegistryID: id}, nil)
	if err != nil {
		return 0, fmt.Errorf("queueing a poll of registry %d: %w", id, err)
	}
	return res.Job.ID, nil
}
