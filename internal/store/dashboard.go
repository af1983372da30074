package store

// The dashboard's reads: every image with its open findings counted for
// ranking, the open-findings trend, what the last advisory update brought,
// an image's whole finding history and tags, and exposure rows with the
// layer (and so the Dockerfile step) each affected package came from. Each
// is one or two queries whatever the fleet's size: the dashboard pages
// aggregate in Go, never per row.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// ImageRisk is one image with its open findings counted the ways the
// fleet overview ranks them.
type ImageRisk struct {
	ID         int64
	Repository string
	Digest     string
	Platform   string
	Tags       []string // live tags
	FirstSeen  time.Time
	LastSeen   time.Time
	ScannedAt  *time.Time // the last scan (nil: never completed)
	// Open findings by severity (every level present), known exploited,
	// with a fix, and critical or high with a fix.
	BySeverity   map[string]int
	Findings     int
	KEV          int
	Fixable      int
	FixableHigh  int
	CoverageGaps int // coverage entries of the last scan that are not complete
}

// ImageRisks returns every image with its open findings counted, in ID
// order.
func (s *Store) ImageRisks(ctx context.Context) ([]ImageRisk, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT i.id, i.repository, i.manifest_digest, i.platform, i.first_seen, i.last_seen, v.scanned_at,
		       COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM image_tags t WHERE t.image_id = i.id AND t.removed_at IS NULL), '{}'),
		       COALESCE(c.by_sev, '{}'), COALESCE(c.kev, 0), COALESCE(c.fixable, 0), COALESCE(c.fixable_high, 0),
		       COALESCE((SELECT count(*) FROM jsonb_array_elements(COALESCE(v.scan->'coverage', '[]')) g
		                 WHERE g->>'status' IS DISTINCT FROM $1), 0)
		FROM images i
		LEFT JOIN inventories v ON v.image_id = i.id
		LEFT JOIN (SELECT image_id, jsonb_object_agg(severity, n) AS by_sev, sum(kev) AS kev, sum(fixable) AS fixable,
		                  sum(fixable_high) AS fixable_high
		           FROM (SELECT image_id, severity, count(*) AS n, count(*) FILTER (WHERE kev) AS kev,
		                        count(*) FILTER (WHERE fixed_version <> '') AS fixable,
		                        count(*) FILTER (WHERE fixed_version <> '' AND severity IN ('CRITICAL', 'HIGH')) AS fixable_high
		                 FROM findings WHERE resolved_at IS NULL GROUP BY image_id, severity) per_sev
		           GROUP BY image_id) c ON c.image_id = i.id
		ORDER BY i.id`, vocab.CoverageComplete)
	if err != nil {
		return nil, fmt.Errorf("counting findings per image: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ImageRisk, error) {
		var m ImageRisk
		var bySev []byte
		if err := r.Scan(&m.ID, &m.Repository, &m.Digest, &m.Platform, &m.FirstSeen, &m.LastSeen, &m.ScannedAt, &m.Tags,
			&bySev, &m.KEV, &m.Fixable, &m.FixableHigh, &m.CoverageGaps); err != nil {
			return m, err
		}
		m.BySeverity = map[string]int{}
		for _, sev := range vocab.Severities() {
			m.BySeverity[sev] = 0
		}
		var counts map[string]int
		if err := json.Unmarshal(bySev, &counts); err != nil {
			return m, err
		}
		for sev, n := range counts {
			m.BySeverity[sev] += n
			m.Findings += n
		}
		return m, nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting findings per image: %w", err)
	}
	return out, nil
}

// TrendDay is one day (UTC) of the fleet's findings: how many were open at
// its end, how many were first seen and resolved during it, and how many
// new and resolved events the monitor recorded (re-matches after advisory
// updates).
type TrendDay struct {
	Day            time.Time
	Open           int
	FirstSeen      int
	Resolved       int
	EventsNew      int
	EventsResolved int
}

// Trend returns the last days days (UTC) up to and including the day of now.
func (s *Store) Trend(ctx context.Context, days int, now time.Time) ([]TrendDay, error) {
	if days <= 0 {
		days = 30
	}
	end := now.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	start := end.Add(-time.Duration(days) * 24 * time.Hour)
	out := make([]TrendDay, days)
	for i := range out {
		out[i].Day = start.Add(time.Duration(i) * 24 * time.Hour)
	}
	index := func(t time.Time) int { return int(t.Sub(start) / (24 * time.Hour)) }
	var openBefore int
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE first_seen < $1) - count(*) FILTER (WHERE resolved_at < $1)
			FROM findings`, start).Scan(&openBefore); err != nil {
			return fmt.Errorf("counting findings open before %s: %w", start.Format(time.DateOnly), err)
		}
		rows, err := tx.Query(ctx, `
			SELECT 'first', date_trunc('day', first_seen AT TIME ZONE 'UTC'), count(*) FROM findings
			  WHERE first_seen >= $1 AND first_seen < $2 GROUP BY 2
			UNION ALL
			SELECT 'resolved', date_trunc('day', resolved_at AT TIME ZONE 'UTC'), count(*) FROM findings
			  WHERE resolved_at >= $1 AND resolved_at < $2 GROUP BY 2
			UNION ALL
			SELECT kind, date_trunc('day', created_at AT TIME ZONE 'UTC'), count(*) FROM events
			  WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2`, start, end)
		if err != nil {
			return fmt.Errorf("counting findings per day: %w", err)
		}
		var what string
		var day time.Time
		var n int
		_, err = pgx.ForEachRow(rows, []any{&what, &day, &n}, func() error {
			i := index(time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC))
			if i < 0 || i >= len(out) {
				return nil
			}
			switch what {
			case "first":
				out[i].FirstSeen += n
			case "resolved":
				out[i].Resolved += n
			case EventFindingNew:
				out[i].EventsNew += n
			case EventFindingResolved:
				out[i].EventsResolved += n
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("counting findings per day: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	open := openBefore
	for i := range out {
		open += out[i].FirstSeen - out[i].Resolved
		out[i].Open = open
	}
	return out, nil
}

// NewSince is what the last advisory database the server applied brought:
// the findings it made new, and how many it resolved.
type NewSince struct {
	// Database is the last version applied (nil: the server never applied
	// one; scans still match against the workers' database).
	Database *DBVersion
	// New are the newest finding.new events of that application, at most
	// the limit asked for, newest first; Total counts them all.
	New      []Event
	Total    int
	Resolved int
	// StillOpen counts the Total findings that are still open.
	StillOpen int
}

// NewSinceLastUpdate returns what the last applied advisory database changed.
func (s *Store) NewSinceLastUpdate(ctx context.Context, limit int) (*NewSince, error) {
	out := &NewSince{}
	v, ok, err := s.LatestDB(ctx)
	if err != nil || !ok {
		return out, err
	}
	out.Database = &v
	err = s.pool.QueryRow(ctx, `
		SELECT count(*) FILTER (WHERE e.kind = $2), count(*) FILTER (WHERE e.kind = $3),
		       count(*) FILTER (WHERE e.kind = $2 AND EXISTS (SELECT 1 FROM findings f WHERE f.image_id = e.image_id
		                        AND f.finding_key = e.payload->'finding'->>'key' AND f.resolved_at IS NULL))
		FROM events e WHERE e.created_at >= $1`, v.AppliedAt, EventFindingNew, EventFindingResolved).
		Scan(&out.Total, &out.Resolved, &out.StillOpen)
	if err != nil {
		return nil, fmt.Errorf("counting the events of the last database update: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT id, payload FROM events WHERE created_at >= $1 AND kind = $2
		ORDER BY id DESC LIMIT $3`, v.AppliedAt, EventFindingNew, max(limit, 1))
	if err != nil {
		return nil, fmt.Errorf("reading the events of the last database update: %w", err)
	}
	out.New, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var id int64
		var raw []byte
		if err := r.Scan(&id, &raw); err != nil {
			return Event{}, err
		}
		return decodeEvent(id, raw)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the events of the last database update: %w", err)
	}
	return out, nil
}

// FindingRecord is one finding of an image, open or resolved, with when it
// was first and last seen.
type FindingRecord struct {
	Finding    finding.Finding
	FirstSeen  time.Time
	LastSeen   time.Time
	ResolvedAt *time.Time
}

// FindingHistory returns every finding an image ever had, open ones first,
// each group in key order.
func (s *Store) FindingHistory(ctx context.Context, imageID int64) ([]FindingRecord, error) {
	rows, err := s.pool.Query(ctx, `SELECT finding, first_seen, last_seen, resolved_at FROM findings WHERE image_id = $1
		ORDER BY resolved_at IS NOT NULL, finding_key`, imageID)
	if err != nil {
		return nil, fmt.Errorf("reading the findings of image %d: %w", imageID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FindingRecord, error) {
		var rec FindingRecord
		var raw []byte
		if err := r.Scan(&raw, &rec.FirstSeen, &rec.LastSeen, &rec.ResolvedAt); err != nil {
			return rec, err
		}
		return rec, json.Unmarshal(raw, &rec.Finding)
	})
	if err != nil {
		return nil, fmt.Errorf("reading the findings of image %d: %w", imageID, err)
	}
	return out, nil
}

// ImageRecord is an image's row: where it is and when it was seen.
type ImageRecord struct {
	ID          int64
	Repository  string
	Digest      string
	IndexDigest string
	Platform    string
	FirstSeen   time.Time
	LastSeen    time.Time
	ScannedAt   *time.Time
	Tags        []TagRecord
}

// TagRecord is one tag an image had.
type TagRecord struct {
	Tag       string
	FirstSeen time.Time
	LastSeen  time.Time
	RemovedAt *time.Time
}

// Image returns an image's row and every tag it had (live ones first);
// ErrNoImage if it is not stored.
func (s *Store) Image(ctx context.Context, id int64) (*ImageRecord, error) {
	m := &ImageRecord{ID: id}
	err := s.pool.QueryRow(ctx, `SELECT i.repository, i.manifest_digest, i.index_digest, i.platform, i.first_seen, i.last_seen, v.scanned_at
		FROM images i LEFT JOIN inventories v ON v.image_id = i.id WHERE i.id = $1`, id).
		Scan(&m.Repository, &m.Digest, &m.IndexDigest, &m.Platform, &m.FirstSeen, &m.LastSeen, &m.ScannedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("reading image %d: %w", id, ErrNoImage)
	}
	if err != nil {
		return nil, fmt.Errorf("reading image %d: %w", id, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT tag, first_seen, last_seen, removed_at FROM image_tags WHERE image_id = $1
		ORDER BY removed_at IS NOT NULL, tag`, id)
	if err != nil {
		return nil, fmt.Errorf("reading the tags of image %d: %w", id, err)
	}
	m.Tags, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TagRecord, error) {
		var t TagRecord
		err := r.Scan(&t.Tag, &t.FirstSeen, &t.LastSeen, &t.RemovedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of image %d: %w", id, err)
	}
	return m, nil
}

// ExposedImage names an image in exposure rows, with the image facts that
// say which Dockerfile step made each layer.
type ExposedImage struct {
	ID         int64
	Repository string
	Digest     string
	Tags       []string
	Layers     []inventory.Layer
	History    []inventory.History
}

// ExposedFinding is one open finding of an advisory in one image.
type ExposedFinding struct {
	Image   *ExposedImage
	Finding finding.Finding
}

// maxExposureRows bounds the rows of one exposure query.
const maxExposureRows = 10000

// ExposedFindings returns the open findings of an advisory ID or alias in
// every image (at most 10,000, by repository and digest), with the layers
// and history of each image.
func (s *Store) ExposedFindings(ctx context.Context, id string) ([]ExposedFinding, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT i.id, i.repository, i.manifest_digest,
		       COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM image_tags t WHERE t.image_id = i.id AND t.removed_at IS NULL), '{}'),
		       COALESCE(i.image->'layers', '[]'), COALESCE(i.image->'history', '[]'), f.finding
		FROM findings f JOIN images i ON i.id = f.image_id
		WHERE f.resolved_at IS NULL AND (f.advisory_id = $1 OR $1 = ANY (f.aliases))
		ORDER BY i.repository, i.manifest_digest, f.finding_key LIMIT $2`, id, maxExposureRows)
	if err != nil {
		return nil, fmt.Errorf("finding images exposed to %s: %w", id, err)
	}
	images := map[int64]*ExposedImage{}
	var out []ExposedFinding
	var imgID int64
	var repo, digest string
	var tags []string
	var layers, history, raw []byte
	_, err = pgx.ForEachRow(rows, []any{&imgID, &repo, &digest, &tags, &layers, &history, &raw}, func() error {
		img, err := exposedImage(images, imgID, repo, digest, tags, layers, history)
		if err != nil {
			return err
		}
		ef := ExposedFinding{Image: img}
		if err := json.Unmarshal(raw, &ef.Finding); err != nil {
			return fmt.Errorf("decoding a finding of image %d: %w", imgID, err)
		}
		out = append(out, ef)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding images exposed to %s: %w", id, err)
	}
	return out, nil
}

// exposedImage returns the image of an exposure row, decoding its layers
// and history the first time the image is seen (rows come by image).
func exposedImage(images map[int64]*ExposedImage, id int64, repo, digest string, tags []string, layers, history []byte) (*ExposedImage, error) {
	if img := images[id]; img != nil {
		return img, nil
	}
	img := &ExposedImage{ID: id, Repository: repo, Digest: digest, Tags: slices.Clone(tags)}
	if err := json.Unmarshal(layers, &img.Layers); err != nil {
		return nil, fmt.Errorf("decoding the layers of image %d: %w", id, err)
	}
	if err := json.Unmarshal(history, &img.History); err != nil {
		return nil, fmt.Errorf("decoding the history of image %d: %w", id, err)
	}
	images[id] = img
	return img, nil
}

// HeldPackage is one package in one image, with its open findings.
type HeldPackage struct {
	Image      *ExposedImage
	PackageID  string
	Ecosystem  string
	Name       string
	Version    string
	SourceName string
	PURL       string
	LayerIndex int
	Findings   []finding.Finding // open findings of this package, by key
}

// PackagesNamed returns every package named name (or built from a source
// package of that name), in any ecosystem, at version if it is not empty
// (at most 10,000, by repository and digest).
func (s *Store) PackagesNamed(ctx context.Context, name, version string) ([]HeldPackage, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT i.id, i.repository, i.manifest_digest,
		       COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM image_tags t WHERE t.image_id = i.id AND t.removed_at IS NULL), '{}'),
		       COALESCE(i.image->'layers', '[]'), COALESCE(i.image->'history', '[]'),
		       p.package_id, p.ecosystem, p.name, p.version, p.source_name, p.purl, p.layer_index,
		       COALESCE((SELECT jsonb_agg(f.finding ORDER BY f.finding_key) FROM findings f
		                 WHERE f.image_id = i.id AND f.package_id = p.package_id AND f.resolved_at IS NULL), '[]')
		FROM image_packages p JOIN images i ON i.id = p.image_id
		WHERE (p.name = $1 OR p.source_name = $1) AND ($2 = '' OR p.version = $2)
		ORDER BY i.repository, i.manifest_digest, p.package_id LIMIT $3`, name, version, maxExposureRows)
	if err != nil {
		return nil, fmt.Errorf("finding images holding %s: %w", name, err)
	}
	images := map[int64]*ExposedImage{}
	var out []HeldPackage
	var imgID int64
	var repo, digest string
	var tags []string
	var layers, history, fs []byte
	var p HeldPackage
	_, err = pgx.ForEachRow(rows, []any{&imgID, &repo, &digest, &tags, &layers, &history,
		&p.PackageID, &p.Ecosystem, &p.Name, &p.Version, &p.SourceName, &p.PURL, &p.LayerIndex, &fs}, func() error {
		img, err := exposedImage(images, imgID, repo, digest, tags, layers, history)
		if err != nil {
			return err
		}
		hp := p
		hp.Image, hp.Findings = img, nil
		if err := json.Unmarshal(fs, &hp.Findings); err != nil {
			return fmt.Errorf("decoding the findings of %s in image %d: %w", hp.PackageID, imgID, err)
		}
		out = append(out, hp)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding images holding %s: %w", name, err)
	}
	return out, nil
}
