package monitor

import (
	"context"
	"fmt"

	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// ScanRecorder keeps what a scan's match looked up, so that the monitor
// knows which images a new database changes without matching the image
// again first. Optional: an image scanned without it is re-matched once by
// the next apply.
//
//	rec := monitor.NewScanRecorder(db, matchOptions)
//	cfg.DB = rec.DB()                     // scan.Run matches through it
//	res, _ := scan.Run(ctx, cfg)
//	saved, _ := st.SaveScan(ctx, key, res)
//	err := rec.Save(ctx, st, saved.ImageID, res)
type ScanRecorder struct {
	rec *recorder
	opt MatchOptions
}

// NewScanRecorder wraps db for one scan. opt must be the scan's match
// options and enrichers.
func NewScanRecorder(db vulndb.Reader, opt MatchOptions) *ScanRecorder {
	return &ScanRecorder{rec: newRecorder(db), opt: opt}
}

// DB is the database the scan must match against (scan.Config.DB).
func (s *ScanRecorder) DB() vulndb.Reader { return s.rec }

// Save records the lookups of the scan res, stored as image imageID.
func (s *ScanRecorder) Save(ctx context.Context, st *store.Store, imageID int64, res *result.Result) error {
	if res.Database == nil {
		return fmt.Errorf("recording the lookups of image %d: the scan did not match", imageID)
	}
	keys, err := s.rec.keysFor(ctx, res.Distro)
	if err != nil {
		return fmt.Errorf("recording the lookups of image %d: %w", imageID, err)
	}
	return st.SaveMatchKeys(ctx, imageID, &store.Rematched{Database: res.Database, Keys: keys, Versions: s.opt.versions(s.rec)})
}
