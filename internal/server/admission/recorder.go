package admission

// The record of the gate's decisions (store.Decision, for the dashboard),
// kept off the request path: an answer only offers its decision to a
// bounded queue without waiting; one goroutine writes the queue to the
// store in batches and prunes old decisions.

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drydock-scan/drydock/internal/store"
)

// Defaults of the recorder.
const (
	// DecisionQueueSize bounds the decisions waiting to be written: at 500
	// a second (a busy cluster), 20 s of a store that does not answer.
	DecisionQueueSize = 10000
	// DecisionBatch and DecisionFlushEvery: a batch is written when it
	// holds DecisionBatch decisions, or DecisionFlushEvery after the last
	// write, whichever comes first.
	DecisionBatch      = 500
	DecisionFlushEvery = 500 * time.Millisecond
	// DecisionRetention is how long decisions are kept; the recorder
	// deletes older ones every DecisionPruneEvery (every API process does:
	// the deletes are idempotent, and an hour's worth is small).
	DecisionRetention  = 30 * 24 * time.Hour
	DecisionPruneEvery = time.Hour
)

// Why a decision was not recorded (label "reason" of
// drydock_admission_decisions_dropped_total).
const (
	dropQueueFull  = "queue_full"  // the queue was full: the store is slower than the requests
	dropStoreError = "store_error" // the insert failed twice
	dropClosed     = "closed"      // answered after Close
)

// recorderOptions tune a recorder; zero values take the defaults above.
type recorderOptions struct {
	queue        int
	batch        int
	flushEvery   time.Duration
	retryWait    time.Duration // between a failed insert and its retry
	writeTimeout time.Duration // bounds one insert or prune
	firstPrune   time.Duration // after start: a server restarted more often than hourly still prunes
	pruneEvery   time.Duration
	retention    time.Duration
	warnEvery    time.Duration // at most one warning about dropped decisions per this
	now          func() time.Time
	log          *slog.Logger
	dropped      *prometheus.CounterVec
}

func (o *recorderOptions) defaults() {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.queue <= 0 {
		o.queue = DecisionQueueSize
	}
	if o.batch <= 0 {
		o.batch = DecisionBatch
	}
	def(&o.flushEvery, DecisionFlushEvery)
	def(&o.retryWait, time.Second)
	def(&o.writeTimeout, 10*time.Second)
	def(&o.firstPrune, time.Minute)
	def(&o.pruneEvery, DecisionPruneEvery)
	def(&o.retention, DecisionRetention)
	def(&o.warnEvery, time.Minute)
	if o.now == nil {
		o.now = time.Now
	}
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
}

// decisionStore is where decisions go: *store.Store (the gate's Store).
type decisionStore interface {
	RecordDecisions(ctx context.Context, ds []store.Decision) error
	PruneDecisions(ctx context.Context, before time.Time) (int64, error)
}

// recorder queues decisions and writes them from one goroutine, from
// newRecorder to close.
type recorder struct {
	st    decisionStore
	opt   recorderOptions
	queue chan store.Decision
	// dropped holds the counters of each reason, looked up once.
	dropped map[string]prometheus.Counter

	closed   atomic.Bool
	lastWarn atomic.Int64 // UnixNano of the last warning about drops
	unwarned atomic.Int64 // decisions dropped since that warning

	// ctx bounds the goroutine's writes; cancelled when close gives up.
	ctx       context.Context
	cancel    context.CancelFunc
	stop      chan struct{} // closed by close: flush and return
	done      chan struct{} // closed when the goroutine has returned
	closeOnce sync.Once
}

func newRecorder(st decisionStore, opt recorderOptions) *recorder {
	opt.defaults()
	// The recorder's own lifetime, not a request's: it starts here and ends
	// with close, whose context bounds the last flush.
	ctx, cancel := context.WithCancel(context.Background())
	r := &recorder{st: st, opt: opt, queue: make(chan store.Decision, opt.queue), dropped: map[string]prometheus.Counter{},
		ctx: ctx, cancel: cancel, stop: make(chan struct{}), done: make(chan struct{})}
	for _, reason := range []string{dropQueueFull, dropStoreError, dropClosed} {
		r.dropped[reason] = opt.dropped.WithLabelValues(reason)
	}
	go r.run()
	return r
}

// record offers d to the queue without waiting: on the request path, it
// costs one channel send that never blocks. A full queue drops d, counted
// and warned about.
func (r *recorder) record(d store.Decision) {
	if r.closed.Load() {
		r.drop(dropClosed, 1, nil)
		return
	}
	select {
	case r.queue <- d:
	default:
		r.drop(dropQueueFull, 1, nil)
	}
}

// drop counts n decisions lost for reason and warns, at most once per
// warnEvery, how many were lost since the last warning.
func (r *recorder) drop(reason string, n int, err error) {
	r.dropped[reason].Add(float64(n))
	total := r.unwarned.Add(int64(n))
	now := r.opt.now().UnixNano()
	last := r.lastWarn.Load()
	if last != 0 && now-last < int64(r.opt.warnEvery) {
		return
	}
	if !r.lastWarn.CompareAndSwap(last, now) {
		return // another request warns
	}
	r.unwarned.Add(-total)
	attrs := []any{"reason", reason, "dropped", total}
	if err != nil {
		attrs = append(attrs, "error", err)
	}
	r.opt.log.Warn("admission: decisions dropped, not recorded (see drydock_admission_decisions_dropped_total)", attrs...)
}

// run writes the queue in batches until stop, then flushes what is queued.
func (r *recorder) run() {
	defer close(r.done)
	flush := time.NewTicker(r.opt.flushEvery)
	defer flush.Stop()
	prune := time.NewTimer(r.opt.firstPrune)
	defer prune.Stop()
	batch := make([]store.Decision, 0, r.opt.batch)
	write := func() {
		if len(batch) > 0 {
			r.write(batch)
			clear(batch) // keep no strings alive until overwritten
			batch = batch[:0]
		}
	}
	for {
		select {
		case d := <-r.queue:
			if batch = append(batch, d); len(batch) >= r.opt.batch {
				write()
			}
		case <-flush.C:
			write()
		case <-prune.C:
			r.prune()
			prune.Reset(r.opt.pruneEvery)
		case <-r.stop:
			for {
				select {
				case d := <-r.queue:
					if batch = append(batch, d); len(batch) >= r.opt.batch {
						write()
					}
				default:
					write()
					return
				}
			}
		}
	}
}

// write inserts a batch, trying once more after retryWait; a batch that
// fails twice is dropped, counted and warned about.
func (r *recorder) write(batch []store.Decision) {
	try := func() error {
		ctx, cancel := context.WithTimeout(r.ctx, r.opt.writeTimeout)
		defer cancel()
		return r.st.RecordDecisions(ctx, batch)
	}
	err := try()
	if err == nil {
		return
	}
	if r.ctx.Err() == nil {
		select {
		case <-time.After(r.opt.retryWait):
			err = try()
		case <-r.ctx.Done():
		}
	}
	if err != nil {
		r.drop(dropStoreError, len(batch), err)
	}
}

// prune deletes the decisions older than the retention.
func (r *recorder) prune() {
	ctx, cancel := context.WithTimeout(r.ctx, r.opt.writeTimeout)
	defer cancel()
	n, err := r.st.PruneDecisions(ctx, r.opt.now().Add(-r.opt.retention))
	switch {
	case err != nil:
		r.opt.log.Warn("admission: pruning old decisions", "error", err)
	case n > 0:
		r.opt.log.Info("admission: old decisions pruned", "deleted", n, "retention", r.opt.retention)
	}
}

// close stops the recorder after writing what is queued, waiting until ctx
// is done at most; what could not be written then is dropped and counted.
// Decisions recorded after close are dropped and counted too: call it once
// the gate answers no more requests.
func (r *recorder) close(ctx context.Context) error {
	r.closeOnce.Do(func() {
		r.closed.Store(true)
		close(r.stop)
	})
	defer r.cancel()
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
	}
	r.cancel() // the insert in progress fails, and so do the rest: counted
	<-r.done
	return fmt.Errorf("admission: flushing the decisions: %w", ctx.Err())
}

// Close writes the decisions still queued to the store and stops recording,
// waiting until ctx is done at most (what is still queued then is dropped,
// and counted in drydock_admission_decisions_dropped_total). Call it once
// the HTTP server has stopped answering, and before the store is closed.
func (g *Gate) Close(ctx context.Context) error {
	return g.recorder.close(ctx)
}

// recordWebhook records the answer to an admission request.
func (g *Gate) recordWebhook(req *requestJSON, outcome, reason string, images []string) {
	g.recorder.record(store.Decision{
		DecidedAt: g.now(),
		Source:    store.DecisionWebhook,
		UID:       string(req.UID),
		Namespace: req.Namespace,
		Kind:      kindName(req.Kind),
		Name:      req.Name,
		Username:  req.UserInfo.Username,
		Operation: string(req.Operation),
		DryRun:    req.DryRun != nil && *req.DryRun,
		Outcome:   outcome,
		Reason:    clip(reason, 4000),
		Images:    images,
	})
}

// recordGatekeeper records the answer to a Gatekeeper provider request:
// one decision for its images, whose reason describes each verdict.
func (g *Gate) recordGatekeeper(outcome string, verdicts []imageVerdict) {
	images := make([]string, len(verdicts))
	var reason strings.Builder
	for i := range verdicts {
		images[i] = verdicts[i].Image
		if reason.Len() > 4000 {
			continue // clipped below anyway: spare describing a thousand images
		}
		if i > 0 {
			reason.WriteString("; ")
		}
		reason.WriteString(verdicts[i].describe())
	}
	g.recorder.record(store.Decision{
		DecidedAt: g.now(),
		Source:    store.DecisionGatekeeper,
		Outcome:   outcome,
		Reason:    clip(reason.String(), 4000),
		Images:    images,
	})
}

// imagesOf lists the images of verdicts, in order.
func imagesOf(verdicts []imageVerdict) []string {
	out := make([]string, len(verdicts))
	for i := range verdicts {
		out[i] = verdicts[i].Image
	}
	return out
}
