package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// DigestImage is one stored image a deploy-time gate found by digest: what
// it needs to know whether a verdict it computed before still holds.
type DigestImage struct {
	ID             int64
	Repository     string
	ManifestDigest string
	IndexDigest    string
	Platform       string
	ScannedAt      time.Time
	// Changed is the last time the image's inventory or findings changed
	// (a scan, or a re-match that opened or resolved a finding): a verdict
	// computed from an older state is stale.
	Changed time.Time
	// DBVersion is the newest advisory database version the store knows
	// (db_versions.id, 0 if none).
	DBVersion int64
}

// ImagesByDigest returns the stored images whose manifest digest or index
// digest is digest: one per manifest digest (of the repositories holding it,
// the most recently scanned: the same digest is the same content), in
// manifest digest order. An index digest gives one image per platform
// scanned. None: the digest was never scanned.
func (s *Store) ImagesByDigest(ctx context.Context, digest string) ([]DigestImage, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT ON (i.manifest_digest)
		       i.id, i.repository, i.manifest_digest, i.index_digest, i.platform, v.scanned_at,
		       GREATEST(v.scanned_at, COALESCE((SELECT max(GREATEST(f.last_seen, COALESCE(f.resolved_at, f.last_seen)))
		                                        FROM findings f WHERE f.image_id = i.id), v.scanned_at)),
		       COALESCE((SELECT max(d.id) FROM db_versions d), 0)
		FROM images i JOIN inventories v ON v.image_id = i.id
		WHERE i.manifest_digest = $1 OR (i.index_digest = $1 AND $1 <> '')
		ORDER BY i.manifest_digest, v.scanned_at DESC, i.id`, digest)
	if err != nil {
		return nil, fmt.Errorf("looking up images by digest %s: %w", digest, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DigestImage, error) {
		var d DigestImage
		err := r.Scan(&d.ID, &d.Repository, &d.ManifestDigest, &d.IndexDigest, &d.Platform, &d.ScannedAt, &d.Changed, &d.DBVersion)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("looking up images by digest %s: %w", digest, err)
	}
	return out, nil
}
