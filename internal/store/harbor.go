package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// HarborScan is a scan request the Harbor scanner adapter accepted.
type HarborScan struct {
	// ID is what Harbor polls the report with.
	ID string
	// JobID is the scan job queued for it.
	JobID int64
	// Repository and Digest name the image in the store once scanned.
	Repository string
	Digest     string
	// Artifact is the request's artifact as Harbor sent it (JSON).
	Artifact  json.RawMessage
	CreatedAt time.Time
}

// AddHarborScan records a scan request inside tx (the transaction that
// queues its job), and deletes the requests older than keep.
func (s *Store) AddHarborScan(ctx context.Context, tx pgx.Tx, h HarborScan, keep time.Duration) error {
	now := s.now()
	if _, err := tx.Exec(ctx, `
		INSERT INTO harbor_scans (id, job_id, repository, digest, artifact, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		h.ID, h.JobID, h.Repository, h.Digest, h.Artifact, now); err != nil {
		return fmt.Errorf("recording Harbor scan request %s: %w", h.ID, err)
	}
	if keep > 0 {
		if _, err := tx.Exec(ctx, "DELETE FROM harbor_scans WHERE created_at < $1", now.Add(-keep)); err != nil {
			return fmt.Errorf("deleting old Harbor scan requests: %w", err)
		}
	}
	return nil
}

// HarborScan returns the scan request with id; false if there is none.
func (s *Store) HarborScan(ctx context.Context, id string) (HarborScan, bool, error) {
	h := HarborScan{ID: id}
	err := s.pool.QueryRow(ctx,
		"SELECT job_id, repository, digest, artifact, created_at FROM harbor_scans WHERE id = $1", id).
		Scan(&h.JobID, &h.Repository, &h.Digest, &h.Artifact, &h.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return HarborScan{}, false, nil
	}
	if err != nil {
		return HarborScan{}, false, fmt.Errorf("reading Harbor scan request %s: %w", id, err)
	}
	return h, true, nil
}

// ImageByDigest returns the ID of the image stored under repository with
// the manifest digest; false if it is not stored.
func (s *Store) ImageByDigest(ctx context.Context, repository, digest string) (int64, bool, error) {
	var id int64
	err := s.pool.QueryRow(ctx,
		"SELECT id FROM images WHERE repository = $1 AND manifest_digest = $2", repository, digest).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("looking up image %s@%s: %w", repository, digest, err)
	}
	return id, true, nil
}

// LatestDBBuiltAt returns when the newest advisory database the store knows
// of was built: the newest the server applied (db_versions) or, if none
// was, the newest any stored scan matched against (as the fleet summary
// says). False if neither is known.
func (s *Store) LatestDBBuiltAt(ctx context.Context) (time.Time, bool, error) {
	var at *time.Time
	err := s.pool.QueryRow(ctx, `
		SELECT COALESCE(
		    (SELECT max(built_at) FROM db_versions),
		    (SELECT max((scan->'database'->>'built_at')::timestamptz) FROM inventories))`).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("reading the advisory database's date: %w", err)
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return at.UTC(), true, nil
}
