package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// ScanArgs is the job that scans one image and stores the result.
type ScanArgs struct {
	// Reference is what scan.Run opens: a registry reference, or (only when
	// the server allows local sources) a path.
	Reference string `json:"reference"`
	// Repository and Tags name the image in the store; empty Repository is
	// derived from the reference.
	Repository string   `json:"repository,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Platform   string   `json:"platform,omitempty"`
}

// Kind implements river.JobArgs.
func (ScanArgs) Kind() string { return "drydock.scan" }

// InsertOpts implements river.JobArgsWithInsertOpts: a scan of the same
// reference that is already waiting or running is not queued twice.
func (ScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		MaxAttempts: maxScanAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateRetryable, rivertype.JobStateScheduled}},
	}
}

// maxScanAttempts bounds the retries of a scan: an image that fails this
// often (a hostile layer, a registry that refuses it) is parked ("discarded"
// in River's words) with its errors recorded, and every other job goes on.
const maxScanAttempts = 3

// scanWorker runs ScanArgs jobs with the scan library the CLI uses: same
// inventory, same findings, the store as the fleet-wide layer cache.
type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	store   *store.Store
	db      vulndb.Reader
	log     *slog.Logger
	base    scan.Config
	timeout time.Duration
}

// Timeout implements river.Worker: a scan gets its own deadline.
func (w *scanWorker) Timeout(*river.Job[ScanArgs]) time.Duration { return w.timeout }

// Work implements river.Worker.
func (w *scanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	cfg := w.base
	cfg.Reference = job.Args.Reference
	cfg.Source.Platform = job.Args.Platform
	cfg.Cache = w.store
	cfg.DB = w.db
	cfg.Logger = w.log.With("job", job.ID, "reference", job.Args.Reference)
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
	cfg.Logger.Info("scan stored", "image", saved.ImageID, "findings", len(res.Findings), "new", len(saved.New), "resolved", len(saved.Resolved))
	return nil
}
