package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// The fleet views: image listings with filters, the fleet summary, and the
// counts the server's metrics show.

// ImageSummary is one image in a listing, with its open findings counted.
type ImageSummary struct {
	ID         int64          `json:"id"`
	Repository string         `json:"repository"`
	Digest     string         `json:"digest"`
	Tags       []string       `json:"tags"`
	LastSeen   time.Time      `json:"last_seen"`
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"by_severity"`
	KEV        int            `json:"kev"`
	Fixable    int            `json:"fixable"`
}

// ImageFilter narrows ListImages; zero fields do not filter.
type ImageFilter struct {
	Repository string // exact repository
	Severity   string // images with at least one open finding of this severity
	KEV        bool   // images with an open KEV finding
	Fixable    bool   // images with an open finding that has a fix
	// BaseImageID: images built on this image — whose layer list starts
	// with all of its layers — other than the image itself (under any
	// repository).
	BaseImageID int64
	// Advisory: images with an open finding for this advisory ID or alias.
	Advisory string
	Limit    int   // default 100, at most 1000
	AfterID  int64 // paging: images with a larger ID
}

// ListImages lists images with their open findings counted, in ID order.
func (s *Store) ListImages(ctx context.Context, f ImageFilter) ([]ImageSummary, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	rows, err := s.pool.Query(ctx, `
		SELECT i.id, i.repository, i.manifest_digest, i.last_seen,
		       COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM image_tags t WHERE t.image_id = i.id AND t.removed_at IS NULL), '{}'),
		       COALESCE((SELECT jsonb_object_agg(sev, n) FROM (SELECT severity AS sev, count(*) AS n FROM findings
		                 WHERE image_id = i.id AND resolved_at IS NULL GROUP BY severity) c), '{}'),
		       (SELECT count(*) FILTER (WHERE kev) FROM findings WHERE image_id = i.id AND resolved_at IS NULL),
		       (SELECT count(*) FILTER (WHERE fixed_version <> '') FROM findings WHERE image_id = i.id AND resolved_at IS NULL)
		FROM images i
		WHERE i.id > $1
		  AND ($2 = '' OR i.repository = $2)
		  AND ($3 = '' OR EXISTS (SELECT 1 FROM findings f WHERE f.image_id = i.id AND f.resolved_at IS NULL AND f.severity = $3))
		  AND (NOT $4 OR EXISTS (SELECT 1 FROM findings f WHERE f.image_id = i.id AND f.resolved_at IS NULL AND f.kev))
		  AND (NOT $5 OR EXISTS (SELECT 1 FROM findings f WHERE f.image_id = i.id AND f.resolved_at IS NULL AND f.fixed_version <> ''))
		  AND ($7 = 0 OR (
		       i.manifest_digest <> (SELECT manifest_digest FROM images WHERE id = $7)
		       AND i.id IN (SELECT l.image_id FROM image_layers b
		                    JOIN image_layers l ON l.position = b.position AND l.diff_id = b.diff_id
		                    WHERE b.image_id = $7 GROUP BY l.image_id
		                    HAVING count(*) = (SELECT count(*) FROM image_layers WHERE image_id = $7))))
		  AND ($8 = '' OR EXISTS (SELECT 1 FROM findings f WHERE f.image_id = i.id AND f.resolved_at IS NULL
		                          AND (f.advisory_id = $8 OR $8 = ANY (f.aliases))))
		ORDER BY i.id LIMIT $6`,
		f.AfterID, f.Repository, f.Severity, f.KEV, f.Fixable, limit, f.BaseImageID, f.Advisory)
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ImageSummary, error) {
		var m ImageSummary
		var bySev []byte
		if err := r.Scan(&m.ID, &m.Repository, &m.Digest, &m.LastSeen, &m.Tags, &bySev, &m.KEV, &m.Fixable); err != nil {
			return m, err
		}
		if err := json.Unmarshal(bySev, &m.BySeverity); err != nil {
			return m, err
		}
		for _, n := range m.BySeverity {
			m.Findings += n
		}
		return m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	return out, nil
}

// ErrNoImage is returned when an image looked up is not in the store.
var ErrNoImage = errors.New("no such image")

// ImageWithDigest returns the ID of an image with this manifest digest (the
// first stored, if it is in several repositories); ErrNoImage if none.
func (s *Store) ImageWithDigest(ctx context.Context, digest string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, "SELECT id FROM images WHERE manifest_digest = $1 ORDER BY id LIMIT 1", digest).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("looking up image %s: %w", digest, ErrNoImage)
	}
	if err != nil {
		return 0, fmt.Errorf("looking up image %s: %w", digest, err)
	}
	return id, nil
}

// Summary is the state of the whole fleet: what GET /api/v1/summary shows.
// Findings are the open ones.
type Summary struct {
	Images       int `json:"images"`
	Repositories int `json:"repositories"`
	// Findings counts open findings, by severity (every level present,
	// zero or not), known exploited and with a fix.
	Findings        int            `json:"findings"`
	BySeverity      map[string]int `json:"by_severity"`
	KEVFindings     int            `json:"kev_findings"`
	FixableFindings int            `json:"fixable_findings"`
	// Images with at least one open finding that is critical, known
	// exploited, fixable.
	ImagesWithCritical int `json:"images_with_critical"`
	ImagesWithKEV      int `json:"images_with_kev"`
	ImagesWithFixable  int `json:"images_with_fixable"`
	// TopAdvisories are the ten advisories open in the most images.
	TopAdvisories []AdvisoryCount `json:"top_advisories"`
	// CoverageGapImages counts the images whose last scan could not look
	// every package up (see result.Coverage); CoverageGaps lists the first
	// MaxCoverageGaps of them by ID.
	CoverageGapImages int           `json:"coverage_gap_images"`
	CoverageGaps      []CoverageGap `json:"coverage_gaps"`
	// Database is the newest advisory database: the last one applied by
	// the server (db_versions) or, if none was, the newest any stored scan
	// matched against. Nil when nothing was ever matched.
	Database *SummaryDatabase `json:"database"`
	// ImagesOnOlderDatabase counts images last matched against a database
	// built before Database.
	ImagesOnOlderDatabase int `json:"images_on_older_database"`
}

// AdvisoryCount is one advisory and how widely it is open.
type AdvisoryCount struct {
	ID       string   `json:"id"`
	Aliases  []string `json:"aliases"`
	Severity string   `json:"severity"` // the highest among its findings
	KEV      bool     `json:"kev"`
	Images   int      `json:"images"`
	Findings int      `json:"findings"`
}

// CoverageGap is an image whose last scan had coverage gaps.
type CoverageGap struct {
	ImageID    int64             `json:"image_id"`
	Repository string            `json:"repository"`
	Digest     string            `json:"digest"`
	Gaps       []result.Coverage `json:"gaps"`
}

// SummaryDatabase is an advisory database version.
type SummaryDatabase struct {
	BuiltAt time.Time `json:"built_at"`
	// AppliedAt is when the server applied it (absent when the database
	// is only known from the scans that used it).
	AppliedAt *time.Time      `json:"applied_at,omitempty"`
	Sources   json.RawMessage `json:"sources,omitempty"`
}

// MaxCoverageGaps bounds Summary.CoverageGaps (CoverageGapImages counts them all).
const MaxCoverageGaps = 100

// severityRankSQL ranks a severity as vocab.SeverityRank does.
const severityRankSQL = `CASE severity WHEN 'CRITICAL' THEN 5 WHEN 'HIGH' THEN 4 WHEN 'MEDIUM' THEN 3
	WHEN 'LOW' THEN 2 WHEN 'NEGLIGIBLE' THEN 1 ELSE 0 END`

// Summary returns the state of the fleet. It reads one consistent snapshot
// (a repeatable-read transaction).
func (s *Store) Summary(ctx context.Context) (*Summary, error) {
	out := &Summary{BySeverity: map[string]int{}, TopAdvisories: []AdvisoryCount{}, CoverageGaps: []CoverageGap{}}
	for _, sev := range vocab.Severities() {
		out.BySeverity[sev] = 0
	}
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT count(*), count(DISTINCT repository) FROM images").Scan(&out.Images, &out.Repositories); err != nil {
			return fmt.Errorf("counting images: %w", err)
		}
		if err := summaryFindings(ctx, tx, out); err != nil {
			return err
		}
		if err := summaryAdvisories(ctx, tx, out); err != nil {
			return err
		}
		if err := summaryCoverage(ctx, tx, out); err != nil {
			return err
		}
		return summaryDatabase(ctx, tx, out)
	})
	if err != nil {
		return nil, fmt.Errorf("summarising the fleet: %w", err)
	}
	return out, nil
}

func summaryFindings(ctx context.Context, tx pgx.Tx, out *Summary) error {
	rows, err := tx.Query(ctx, `
		SELECT severity, count(*), count(*) FILTER (WHERE kev), count(*) FILTER (WHERE fixed_version <> '')
		FROM findings WHERE resolved_at IS NULL GROUP BY severity`)
	if err != nil {
		return fmt.Errorf("counting findings: %w", err)
	}
	var sev string
	var n, kev, fixable int
	_, err = pgx.ForEachRow(rows, []any{&sev, &n, &kev, &fixable}, func() error {
		out.BySeverity[sev] += n
		out.Findings += n
		out.KEVFindings += kev
		out.FixableFindings += fixable
		return nil
	})
	if err != nil {
		return fmt.Errorf("counting findings: %w", err)
	}
	err = tx.QueryRow(ctx, `
		SELECT count(DISTINCT image_id) FILTER (WHERE severity = 'CRITICAL'),
		       count(DISTINCT image_id) FILTER (WHERE kev),
		       count(DISTINCT image_id) FILTER (WHERE fixed_version <> '')
		FROM findings WHERE resolved_at IS NULL`).Scan(&out.ImagesWithCritical, &out.ImagesWithKEV, &out.ImagesWithFixable)
	if err != nil {
		return fmt.Errorf("counting affected images: %w", err)
	}
	return nil
}

func summaryAdvisories(ctx context.Context, tx pgx.Tx, out *Summary) error {
	rows, err := tx.Query(ctx, `
		SELECT g.advisory_id,
		       COALESCE((SELECT a.aliases FROM findings a WHERE a.advisory_id = g.advisory_id AND a.resolved_at IS NULL
		                 ORDER BY cardinality(a.aliases) DESC LIMIT 1), '{}'),
		       g.rank, g.kev, g.images, g.findings
		FROM (SELECT advisory_id, max(`+severityRankSQL+`) AS rank, bool_or(kev) AS kev,
		             count(DISTINCT image_id) AS images, count(*) AS findings
		      FROM findings WHERE resolved_at IS NULL GROUP BY advisory_id) g
		ORDER BY g.images DESC, g.findings DESC, g.advisory_id LIMIT 10`)
	if err != nil {
		return fmt.Errorf("ranking advisories: %w", err)
	}
	top, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AdvisoryCount, error) {
		var a AdvisoryCount
		var rank int
		err := r.Scan(&a.ID, &a.Aliases, &rank, &a.KEV, &a.Images, &a.Findings)
		a.Severity = vocab.SevUnknown
		for _, sev := range vocab.Severities() {
			if vocab.SeverityRank(sev) == rank && rank > 0 {
				a.Severity = sev
			}
		}
		return a, err
	})
	if err != nil {
		return fmt.Errorf("ranking advisories: %w", err)
	}
	out.TopAdvisories = append(out.TopAdvisories, top...)
	return nil
}

func summaryCoverage(ctx context.Context, tx pgx.Tx, out *Summary) error {
	rows, err := tx.Query(ctx, `
		SELECT i.id, i.repository, i.manifest_digest, g.gaps, count(*) OVER ()
		FROM images i JOIN inventories v ON v.image_id = i.id,
		     LATERAL (SELECT jsonb_agg(c) AS gaps FROM jsonb_array_elements(COALESCE(v.scan->'coverage', '[]')) c
		              WHERE c->>'status' IS DISTINCT FROM $1) g
		WHERE g.gaps IS NOT NULL
		ORDER BY i.id LIMIT $2`, vocab.CoverageComplete, MaxCoverageGaps)
	if err != nil {
		return fmt.Errorf("listing coverage gaps: %w", err)
	}
	gaps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CoverageGap, error) {
		var g CoverageGap
		var raw []byte
		if err := r.Scan(&g.ImageID, &g.Repository, &g.Digest, &raw, &out.CoverageGapImages); err != nil {
			return g, err
		}
		return g, json.Unmarshal(raw, &g.Gaps)
	})
	if err != nil {
		return fmt.Errorf("listing coverage gaps: %w", err)
	}
	out.CoverageGaps = append(out.CoverageGaps, gaps...)
	return nil
}

func summaryDatabase(ctx context.Context, tx pgx.Tx, out *Summary) error {
	var db SummaryDatabase
	var applied time.Time
	var sources []byte
	err := tx.QueryRow(ctx, "SELECT built_at, applied_at, sources FROM db_versions ORDER BY built_at DESC, id DESC LIMIT 1").
		Scan(&db.BuiltAt, &applied, &sources)
	switch {
	case err == nil:
		db.AppliedAt, db.Sources = &applied, sources
	case errors.Is(err, pgx.ErrNoRows):
		// Never applied by the server: the newest database a scan used.
		var built *time.Time
		err := tx.QueryRow(ctx, `
			SELECT scan->'database'->'sources', (scan->'database'->>'built_at')::timestamptz FROM inventories
			WHERE scan->'database'->>'built_at' IS NOT NULL
			ORDER BY (scan->'database'->>'built_at')::timestamptz DESC LIMIT 1`).Scan(&sources, &built)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading the newest database of the scans: %w", err)
		}
		db.BuiltAt, db.Sources = *built, sources
	default:
		return fmt.Errorf("reading the newest database version: %w", err)
	}
	db.BuiltAt = db.BuiltAt.UTC()
	out.Database = &db
	err = tx.QueryRow(ctx, `
		SELECT count(*) FROM inventories
		WHERE scan->'database'->>'built_at' IS NULL OR (scan->'database'->>'built_at')::timestamptz < $1`,
		db.BuiltAt).Scan(&out.ImagesOnOlderDatabase)
	if err != nil {
		return fmt.Errorf("counting images on older databases: %w", err)
	}
	return nil
}

// Counts are the store's sizes, for the server's metrics.
type Counts struct {
	Images       int
	Repositories int
	LayerResults int
	// OpenFindings by severity (every level present).
	OpenFindings map[string]int
}

// Counts returns the store's sizes.
func (s *Store) Counts(ctx context.Context) (Counts, error) {
	c := Counts{OpenFindings: map[string]int{}}
	for _, sev := range vocab.Severities() {
		c.OpenFindings[sev] = 0
	}
	err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM images), (SELECT count(DISTINCT repository) FROM images),
		(SELECT count(*) FROM layer_results)`).Scan(&c.Images, &c.Repositories, &c.LayerResults)
	if err != nil {
		return Counts{}, fmt.Errorf("counting images and layers: %w", err)
	}
	rows, err := s.pool.Query(ctx, "SELECT severity, count(*) FROM findings WHERE resolved_at IS NULL GROUP BY severity")
	if err != nil {
		return Counts{}, fmt.Errorf("counting findings: %w", err)
	}
	var sev string
	var n int
	if _, err := pgx.ForEachRow(rows, []any{&sev, &n}, func() error { c.OpenFindings[sev] += n; return nil }); err != nil {
		return Counts{}, fmt.Errorf("counting findings: %w", err)
	}
	return c, nil
}
