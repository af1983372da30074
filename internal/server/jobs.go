package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server/monitor"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// ScanArgs is the job that scans one image (see package queue).
type ScanArgs = queue.ScanArgs

// scanWorker runs ScanArgs jobs with the scan library the CLI uses: same
// inventory, same findings, the store as the fleet-wide layer cache.
type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	store  *store.Store
	db     vulndb.Reader
	dbFile *DBFile
	// record, if set, records each scan's lookups for the monitor (see
	// monitor.NewScanRecorder): its options must be the scans'.
	record  *monitor.MatchOptions
	log     *slog.Logger
	base    scan.Config
	timeout time.Duration
	box     *secretbox.Box
}

// Timeout implements river.Worker: a scan gets its own deadline.
func (w *scanWorker) Timeout(*river.Job[ScanArgs]) time.Duration { return w.timeout }

// Work implements river.Worker.
func (w *scanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	cfg := w.base
	cfg.Reference = job.Args.Reference
	cfg.Source.Platform = job.Args.Platform
	cfg.Cache = w.store
	cfg.Logger = w.log.With("job", job.ID, "reference", job.Args.Reference)
	db := w.db
	if w.dbFile != nil {
		d, release, err := w.dbFile.Acquire(ctx)
		if d == nil {
			return fmt.Errorf("scanning %s: %w", job.Args.Reference, err)
		}
		defer release()
		if err != nil {
			// The file was replaced by one that cannot be opened: the scan
			// goes on with the database open, and the operator is told.
			cfg.Logger.Error("reopening the advisory database", "err", err)
		}
		db = d
	}
	var rec *monitor.ScanRecorder
	if w.record != nil {
		rec = monitor.NewScanRecorder(db, *w.record)
		db = rec.DB()
	}
	cfg.DB = db
	cfg.Source.Insecure = cfg.Source.Insecure || job.Args.Insecure
	if job.Args.Credentials != "" {
		kc, err := job.Args.Keychain(w.box, cfg.Source.Keychain)
		if err != nil {
			// Credentials that cannot be opened now never will be: no retry.
			return river.JobCancel(fmt.Errorf("scanning %s: %w", job.Args.Reference, err))
		}
		cfg.Source.Keychain = kc
	}
	res, err := scan.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("scanning %s: %w", job.Args.Reference, err)
	}
	repo := job.Args.Repository
	if repo == "" {
		repo = res.Image.Name
	}
	saved, err := w.store.SaveScan(ctx, store.ImageKey{Repository: repo, Tags: job.Args.Tags}, res)
	if err != nil {
		return err
	}
	if rec != nil {
		if err := rec.Save(ctx, w.store, saved.ImageID, res); err != nil {
			// The scan is stored; without its lookups the next apply
			// re-matches the image once. Retrying would scan it again.
			cfg.Logger.Error("recording the scan's lookups for the monitor (the next database apply re-matches the image)", "image", saved.ImageID, "err", err)
		}
	}
	cfg.Logger.Info("scan stored", "image", saved.ImageID, "findings", len(res.Findings), "new", len(saved.New), "resolved", len(saved.Resolved))
	return nil
}
