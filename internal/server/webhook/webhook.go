// Package webhook delivers the server's events (package store: finding.new,
// finding.resolved) to registered webhooks, at least once, through an
// outbox:
//
//	event inserted ──same transaction──► webhook_deliveries (one per webhook wanting its kind)
//	dispatch (River job, periodic) ──claim due deliveries (SKIP LOCKED, leased)──► POST
//	   2xx: delivered · otherwise: next attempt after an exponential back-off,
//	   failed for good after MaxAttempts (the last status and error kept)
//
// The outbox is a table rather than one River job per delivery inserted
// with InsertTx: any code that writes an event in the store gets its
// deliveries in the same statement, without holding a job-queue client, and
// the deliveries (state, attempts, last error) are plain rows the API lists.
// River still runs the dispatcher, on whichever worker its leader picks.
//
// Each POST carries the event as JSON and these headers:
//
//	Content-Type: application/json
//	X-Drydock-Event: finding.new
//	X-Drydock-Delivery: <delivery id>
//	Idempotency-Key: <the event's idempotency key>
//	X-Drydock-Signature: sha256=<hex HMAC-SHA256 of the body, keyed with the webhook's secret>
//
// A receiver verifies the signature over the raw body (Verify) and dedupes
// on Idempotency-Key: a delivery whose answer was lost is sent again.
//
// The package does not import the server: the command wires it in with
// server.Options{AddWorkers: w.AddWorkers, Periodic: w.Periodic(),
// Queues: w.Queues(), Routes: w.Routes()}.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"golang.org/x/sync/errgroup"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/store"
)

// Header names of a delivery.
const (
	HeaderSignature   = "X-Drydock-Signature"
	HeaderEvent       = "X-Drydock-Event"
	HeaderDelivery    = "X-Drydock-Delivery"
	HeaderIdempotency = "Idempotency-Key"
)

// Queue is the River queue of the dispatcher.
const Queue = "webhook"

// Options configure Webhooks.
type Options struct {
	Store *store.Store
	// Secrets seals the webhooks' signing secrets at rest and opens them
	// to sign. Nil: webhooks cannot be registered and this process
	// delivers nothing (New logs a warning).
	Secrets *secretbox.Box
	// Client posts the deliveries (default: a client that follows no
	// redirect). Its Timeout is overridden by RequestTimeout.
	Client *http.Client
	Logger *slog.Logger
	// Interval is how often the elected leader queues a dispatch (default
	// 5s): an event is posted within about one interval.
	Interval time.Duration
	// MaxAttempts bounds the attempts of one delivery (default 10); then it
	// is marked failed.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt (default 10s),
	// doubled after each further one up to MaxBackoff (default 1 hour).
	Backoff, MaxBackoff time.Duration
	// RequestTimeout bounds one POST (default 10s).
	RequestTimeout time.Duration
	// Senders is the number of deliveries posted at once (default 4).
	Senders int
}

// Webhooks registers webhooks (Routes) and delivers events (Dispatch).
type Webhooks struct {
	opt Options
	log *slog.Logger
	hc  *http.Client
}

// New returns Webhooks on opt.Store. It does not touch the database.
func New(opt Options) (*Webhooks, error) {
	if opt.Store == nil {
		return nil, errors.New("webhook: no store")
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Interval <= 0 {
		opt.Interval = 5 * time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 10
	}
	if opt.Backoff <= 0 {
		opt.Backoff = 10 * time.Second
	}
	if opt.MaxBackoff <= 0 {
		opt.MaxBackoff = time.Hour
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = 10 * time.Second
	}
	if opt.Senders <= 0 {
		opt.Senders = 4
	}
	hc := &http.Client{}
	if opt.Client != nil {
		c := *opt.Client
		hc = &c
	}
	hc.Timeout = opt.RequestTimeout
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	w := &Webhooks{opt: opt, log: opt.Logger.With("part", "webhook"), hc: hc}
	if opt.Secrets == nil {
		w.log.Warn("no secret key: webhooks cannot be registered, and this process delivers no event (another with the key will)")
	}
	return w, nil
}

// Sign returns the X-Drydock-Signature of body: "sha256=" and the hex
// HMAC-SHA256 of body keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is body's signature with secret (compared
// in constant time).
func Verify(secret, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// Stats counts what a dispatch did.
type Stats struct {
	Delivered int `json:"delivered"`
	Retrying  int `json:"retrying"`
	Failed    int `json:"failed"`
}

// Dispatch posts every delivery that is due, claiming Senders at a time
// (all of a claim are posted at once, so the lease — twice the request
// timeout and 30 s — covers each), until none is left (or ctx ends).
func (w *Webhooks) Dispatch(ctx context.Context) (Stats, error) {
	var st Stats
	lease := 2*w.opt.RequestTimeout + 30*time.Second
	for {
		ds, err := w.opt.Store.ClaimDeliveries(ctx, w.opt.Senders, lease)
		if err != nil {
			return st, err
		}
		if len(ds) == 0 {
			return st, nil
		}
		outcomes := make([]outcome, len(ds))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(w.opt.Senders)
		for i := range ds {
			g.Go(func() error {
				outcomes[i] = w.send(gctx, &ds[i])
				return nil
			})
		}
		_ = g.Wait() // send returns its failure in the outcome
		for i := range ds {
			if err := w.record(ctx, &ds[i], outcomes[i], &st); err != nil {
				return st, err
			}
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
	}
}

// outcome is what one POST got.
type outcome struct {
	status int
	err    error
}

func (w *Webhooks) send(ctx context.Context, d *store.Delivery) outcome {
	if w.opt.Secrets == nil {
		return outcome{err: errors.New("the server has no secret key to open the webhook's secret")}
	}
	secret, err := w.opt.Secrets.Open(d.SealedSecret)
	if err != nil {
		return outcome{err: fmt.Errorf("opening the webhook's secret: %w", err)}
	}
	body, err := json.Marshal(d.Event)
	if err != nil {
		return outcome{err: fmt.Errorf("encoding event %d: %w", d.EventID, err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return outcome{err: fmt.Errorf("building the request: %w", err)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "drydock-webhook")
	req.Header.Set(HeaderEvent, d.Event.Kind)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	req.Header.Set(HeaderIdempotency, d.Event.IdempotencyKey)
	req.Header.Set(HeaderSignature, Sign(secret, body))
	resp, err := w.hc.Do(req)
	if err != nil {
		return outcome{err: fmt.Errorf("posting event %d: %w", d.EventID, err)}
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return outcome{status: resp.StatusCode, err: fmt.Errorf("the receiver answered %s", resp.Status)}
	}
	return outcome{status: resp.StatusCode}
}

// backoff is the wait after the attempt-th failed attempt.
func (w *Webhooks) backoff(attempt int) time.Duration {
	d := w.opt.Backoff
	for i := 1; i < attempt && d < w.opt.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, w.opt.MaxBackoff)
}

func (w *Webhooks) record(ctx context.Context, d *store.Delivery, o outcome, st *Stats) error {
	if o.err == nil {
		st.Delivered++
		return w.opt.Store.DeliveryDone(ctx, d.ID, o.status)
	}
	final := d.Attempts >= w.opt.MaxAttempts
	if final {
		st.Failed++
		w.log.Warn("webhook delivery failed for good", "delivery", d.ID, "webhook", d.WebhookID, "event", d.EventID,
			"attempts", d.Attempts, "err", o.err)
	} else {
		st.Retrying++
	}
	reason := o.err.Error()
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	return w.opt.Store.DeliveryFailed(ctx, d.ID, o.status, reason, time.Now().Add(w.backoff(d.Attempts)), final)
}

// DispatchArgs is the job that runs Dispatch.
type DispatchArgs struct{}

// Kind implements river.JobArgs.
func (DispatchArgs) Kind() string { return "drydock.webhook.dispatch" }

// InsertOpts implements river.JobArgsWithInsertOpts: one waits at a time;
// a failed dispatch is not retried (the next interval runs another).
func (DispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: queue.Pending()}}
}

type dispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	w *Webhooks
}

func (d *dispatchWorker) Work(ctx context.Context, job *river.Job[DispatchArgs]) error {
	st, err := d.w.Dispatch(ctx)
	if st != (Stats{}) {
		d.w.log.Info("webhook deliveries", "job", job.ID, "delivered", st.Delivered, "retrying", st.Retrying, "failed", st.Failed)
	}
	if err != nil {
		return fmt.Errorf("dispatching webhook deliveries: %w", err)
	}
	return nil
}

// AddWorkers registers the dispatcher with a worker process. A process
// without the secret key cannot sign, so it runs no dispatcher (and works
// no webhook queue): the deliveries wait, pending, for a process that has
// the key.
func (w *Webhooks) AddWorkers(ws *river.Workers) {
	if w.opt.Secrets == nil {
		return
	}
	river.AddWorker(ws, &dispatchWorker{w: w})
}

// Queues is the dispatcher's River queue, for server.Options.Queues (none
// without the secret key).
func (w *Webhooks) Queues() map[string]river.QueueConfig {
	if w.opt.Secrets == nil {
		return nil
	}
	return map[string]river.QueueConfig{Queue: {MaxWorkers: 1}}
}

// Periodic returns the dispatcher's periodic job (every Interval).
func (w *Webhooks) Periodic() []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(w.opt.Interval),
		func() (river.JobArgs, *river.InsertOpts) { return DispatchArgs{}, nil },
		&river.PeriodicJobOpts{ID: "drydock.webhook.dispatch", RunOnStart: true})}
}

// validURL accepts absolute http and https URLs.
func validURL(raw string) error {
	req, err := http.NewRequest(http.MethodPost, raw, nil)
	if err != nil {
		return fmt.Errorf("url %q: %w", raw, err)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" || req.URL.Host == "" {
		return fmt.Errorf("url %q: an absolute http or https URL is needed", raw)
	}
	if req.URL.User != nil {
		return fmt.Errorf("url %q: credentials in the URL are refused (sign with the secret instead)", strings.ReplaceAll(raw, req.URL.User.String()+"@", ""))
	}
	return nil
}
