// Package monitor is the server's continuous monitoring: when the advisory
// database changes, it finds the images whose findings may change and
// re-matches only those, from their stored inventories — no image is pulled
// again — writing one event per finding that appeared or went away.
//
//	apply (River job: on demand, or periodic when a worker's database is newer)
//	  ├─ every lookup the stored matches made (image_match_keys), answered
//	  │  again by the new database and fingerprinted
//	  ├─ images with a lookup that answers differently, or never matched by
//	  │  the monitor, or scanned again since, or matched by other code
//	  └─ per image, one transaction: scan.MatchAndEnrich on the stored
//	     inventory (the CLI's library), findings saved as a scan saves them,
//	     an event per new or resolved finding with a deterministic
//	     idempotency key, its webhook deliveries (the outbox), the new keys
//
// What an image's match depended on is recorded by wrapping the database
// in a recorder while it matches: the keys are exactly the lookups the
// matcher made. A periodic full re-match of every image is the safety net;
// it writes events only where findings really changed.
//
// The package does not import the server: the command wires it in with
// server.Options{AddWorkers: m.AddWorkers, Periodic: m.Periodic(),
// Queues: m.Queues(), Routes: m.Routes()}.
package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/drydock-scan/drydock/internal/enrich"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// MatchOptions is what decides an image's findings besides its inventory
// and the database: it must be the scan workers' (scan.Config.Match and
// Enrichers), so that a re-match gives the findings a scan would.
type MatchOptions struct {
	Match match.Options
	// Enrichers returns the enrichers to run on db (nil:
	// scan.DefaultEnrichers). It is given the database to use so that
	// their lookups are recorded too.
	Enrichers func(db vulndb.Reader) []enrich.Enricher
	// Parallel is the number of images re-matched at once (default 4: a
	// re-match mostly waits for its commit, and concurrent commits share a
	// flush).
	Parallel int
	Logger   *slog.Logger
}

func (o *MatchOptions) enrichers(db vulndb.Reader) []enrich.Enricher {
	if o.Enrichers != nil {
		return o.Enrichers(db)
	}
	return scan.DefaultEnrichers(db)
}

func (o *MatchOptions) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// versions names the code and options that decide findings: a stored match
// made by other ones is stale.
func (o *MatchOptions) versions(db vulndb.Reader) string {
	var b strings.Builder
	fmt.Fprintf(&b, "matcher@%d", match.Version)
	for _, e := range o.enrichers(db) {
		fmt.Fprintf(&b, ",%s@%d", e.Name(), e.Version())
	}
	fmt.Fprintf(&b, ";declared=%t,owned=%t", o.Match.MatchDeclared, o.Match.MatchOwned)
	return b.String()
}

// ErrOlderDB is returned (wrapped) by Apply when the database is older than
// one already applied: applying it would turn the clock back (findings
// re-opened, fixes forgotten). The worker's database needs "drydock db
// update".
var ErrOlderDB = errors.New("the advisory database is older than the one applied")

// Report says what Apply or RematchAll did.
type Report struct {
	DBBuiltAt time.Time `json:"db_built_at"`
	// Skipped is set when Apply with onlyIfNewer found the database
	// already applied, or older than the one applied (Reason says which).
	Skipped bool   `json:"skipped,omitempty"`
	Reason  string `json:"reason,omitempty"`
	// Keys is the number of distinct lookups answered again.
	Keys int `json:"keys"`
	// Images is the number of images re-matched; New, Resolved and Events
	// count what changed.
	Images   int `json:"images"`
	New      int `json:"new"`
	Resolved int `json:"resolved"`
	Events   int `json:"events"`
}

// Apply brings the stored findings up to date with db: it records the
// database version, re-matches the images whose lookups now answer
// differently (and those whose match is unknown or stale), and writes their
// events. It is safe to run again, at once or after a crash: what is done
// is found done. With onlyIfNewer, a database already applied completely
// is left alone (the periodic check).
func Apply(ctx context.Context, st *store.Store, db vulndb.Reader, opt MatchOptions, onlyIfNewer bool) (Report, error) {
	meta, err := db.Meta(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("applying the advisory database: reading its metadata: %w", err)
	}
	rep := Report{DBBuiltAt: meta.BuiltAt.UTC()}
	latest, ok, err := st.LatestDB(ctx)
	if err != nil {
		return rep, fmt.Errorf("applying the advisory database: %w", err)
	}
	if ok && meta.BuiltAt.Before(latest.BuiltAt) {
		err := fmt.Errorf("applying the advisory database built at %s: %w (built at %s): run \"drydock db update\" on this worker",
			meta.BuiltAt.UTC().Format(time.RFC3339), ErrOlderDB, latest.BuiltAt.UTC().Format(time.RFC3339))
		if onlyIfNewer {
			// The periodic check landed on a worker behind the others: not
			// a failure of the check, but said.
			opt.logger().Warn("this worker's advisory database is older than the one applied", "err", err)
			rep.Skipped, rep.Reason = true, err.Error()
			return rep, nil
		}
		return rep, err
	}
	if onlyIfNewer && ok && meta.BuiltAt.Equal(latest.BuiltAt) && latest.Completed != nil {
		rep.Skipped, rep.Reason = true, "already applied"
		return rep, nil
	}
	var sources []string
	for _, s := range meta.Sources {
		sources = append(sources, s.Name)
	}
	if err := st.BeginDB(ctx, meta.BuiltAt, sources); err != nil {
		return rep, fmt.Errorf("applying the advisory database: %w", err)
	}
	keys, err := st.MatchKeys(ctx)
	if err != nil {
		return rep, fmt.Errorf("applying the advisory database: %w", err)
	}
	for i := range keys {
		if keys[i].Fingerprint, err = fingerprint(ctx, db, meta, keys[i]); err != nil {
			return rep, fmt.Errorf("applying the advisory database: %w", err)
		}
	}
	rep.Keys = len(keys)
	ids, err := st.StaleImages(ctx, keys, opt.versions(db))
	if err != nil {
		return rep, fmt.Errorf("applying the advisory database: %w", err)
	}
	opt.logger().Info("applying the advisory database", "built_at", rep.DBBuiltAt, "keys", len(keys), "images", len(ids))
	if err := rematch(ctx, st, db, opt, ids, &rep); err != nil {
		return rep, fmt.Errorf("applying the advisory database: %w", err)
	}
	dbFacts := &result.Database{BuiltAt: meta.BuiltAt, Sources: sources}
	if _, err := st.MarkCurrent(ctx, dbFacts, opt.versions(db), keys); err != nil {
		return rep, fmt.Errorf("applying the advisory database: %w", err)
	}
	if err := st.CompleteDB(ctx, meta.BuiltAt, rep.Images, rep.Events); err != nil {
		return rep, fmt.Errorf("applying the advisory database: %w", err)
	}
	return rep, nil
}

// RematchAll re-matches every stored image with db: the safety net behind
// Apply. It writes events only where findings changed, so it writes none
// when nothing did. A database older than the one applied is refused, as
// by Apply.
func RematchAll(ctx context.Context, st *store.Store, db vulndb.Reader, opt MatchOptions) (Report, error) {
	meta, err := db.Meta(ctx)
	if err != nil {
		return Report{}, fmt.Errorf("re-matching every image: reading the database metadata: %w", err)
	}
	rep := Report{DBBuiltAt: meta.BuiltAt.UTC()}
	latest, ok, err := st.LatestDB(ctx)
	if err != nil {
		return rep, fmt.Errorf("re-matching every image: %w", err)
	}
	if ok && meta.BuiltAt.Before(latest.BuiltAt) {
		return rep, fmt.Errorf("re-matching every image with the database built at %s: %w (built at %s): run \"drydock db update\" on this worker",
			meta.BuiltAt.UTC().Format(time.RFC3339), ErrOlderDB, latest.BuiltAt.UTC().Format(time.RFC3339))
	}
	ids, err := st.ImageIDs(ctx)
	if err != nil {
		return rep, fmt.Errorf("re-matching every image: %w", err)
	}
	if err := rematch(ctx, st, db, opt, ids, &rep); err != nil {
		return rep, fmt.Errorf("re-matching every image: %w", err)
	}
	return rep, nil
}

// maxChangedRetries bounds the re-matches of an image that keeps being
// scanned again while it is matched.
const maxChangedRetries = 3

// rematch re-matches the images, opt.Parallel at once. Every image is tried
// even when some fail; the failures are returned together (the job is
// retried, and finds the images done so far done).
func rematch(ctx context.Context, st *store.Store, db vulndb.Reader, opt MatchOptions, ids []int64, rep *Report) error {
	par := opt.Parallel
	if par <= 0 {
		par = 4
	}
	log := opt.logger()
	versions := opt.versions(db)
	var (
		mu   sync.Mutex
		errs []error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(par)
	for _, id := range ids {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			out, err := rematchOne(gctx, st, db, opt, versions, id)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				// Deleted since it was listed: nothing to match.
				log.Info("image gone before its re-match", "image", id)
			case err != nil:
				errs = append(errs, err)
			default:
				rep.Images++
				rep.New += len(out.New)
				rep.Resolved += len(out.Resolved)
				rep.Events += len(out.Events)
				if len(out.New)+len(out.Resolved) > 0 {
					log.Info("image re-matched", "image", id, "new", len(out.New), "resolved", len(out.Resolved), "events", len(out.Events))
				}
			}
			return nil
		})
	}
	_ = g.Wait() // the goroutines return nil: errors are collected
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func rematchOne(ctx context.Context, st *store.Store, db vulndb.Reader, opt MatchOptions, versions string, id int64) (store.RematchOutcome, error) {
	fn := func(ctx context.Context, res *result.Result) (*store.Rematched, error) {
		return matchStored(ctx, res, db, opt, versions)
	}
	for range maxChangedRetries {
		out, err := st.RematchImage(ctx, id, fn)
		if errors.Is(err, store.ErrImageChanged) {
			continue
		}
		return out, err
	}
	return store.RematchOutcome{}, fmt.Errorf("re-matching image %d: %w %d times in a row", id, store.ErrImageChanged, maxChangedRetries)
}

// matchStored matches a stored result as a scan would (scan.MatchAndEnrich),
// through a recorder that keeps what the match looked up.
func matchStored(ctx context.Context, res *result.Result, db vulndb.Reader, opt MatchOptions, versions string) (*store.Rematched, error) {
	rec := newRecorder(db)
	res.Findings = nil
	res.Versions.Enrichers = nil
	if err := scan.MatchAndEnrich(ctx, res, rec, opt.Match, opt.enrichers(rec)); err != nil {
		return nil, err
	}
	keys, err := rec.keysFor(ctx, res.Distro)
	if err != nil {
		return nil, err
	}
	return &store.Rematched{Findings: res.Findings, Database: res.Database, Coverage: res.Coverage, Keys: keys, Versions: versions,
		Malware: res.Malware, MalwareMatched: opt.Match.Malicious}, nil
}
