package store

// The registry watch's tables: registries and the tags seen in them.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ErrNoRegistry is returned when a registry asked for by ID does not exist.
var ErrNoRegistry = errors.New("no such registry")

// ErrRegistryExists is returned when a registry of the same name exists.
var ErrRegistryExists = errors.New("a registry of that name exists")

// Registry is a registry the watch polls.
type Registry struct {
	ID       int64
	Name     string
	Host     string // "registry.example.com[:port]"
	Insecure bool   // plain HTTP, or TLS unverified
	// Repositories are names or path.Match globs ("team/*"); empty: every
	// repository of the registry's catalog.
	Repositories []string
	// Credentials are sealed (package secretbox); "" for none. They are
	// never returned by the API.
	Credentials  string
	Interval     time.Duration // whole seconds, at least one
	CreatedAt    time.Time
	LastPolledAt *time.Time // when the last poll started
	LastError    string     // what the last poll could not do
}

const registryColumns = `id, name, host, insecure, repositories, credentials, interval_seconds, created_at, last_polled_at, last_error`

func scanRegistry(row pgx.CollectableRow) (Registry, error) {
	var r Registry
	var secs int
	err := row.Scan(&r.ID, &r.Name, &r.Host, &r.Insecure, &r.Repositories, &r.Credentials, &secs, &r.CreatedAt, &r.LastPolledAt, &r.LastError)
	r.Interval = time.Duration(secs) * time.Second
	return r, err
}

// AddRegistry stores a registry and returns it with its ID. A registry of
// the same name is ErrRegistryExists.
func (s *Store) AddRegistry(ctx context.Context, r Registry) (Registry, error) {
	secs := int(r.Interval / time.Second)
	if secs < 1 {
		return Registry{}, fmt.Errorf("adding registry %s: interval %v is under a second", r.Name, r.Interval)
	}
	repos := r.Repositories
	if repos == nil {
		repos = []string{}
	}
	rows, err := s.pool.Query(ctx, `
		INSERT INTO registries (name, host, insecure, repositories, credentials, interval_seconds, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+registryColumns,
		r.Name, r.Host, r.Insecure, repos, r.Credentials, secs, s.now().UTC())
	if err != nil {
		return Registry{}, fmt.Errorf("adding registry %s: %w", r.Name, err)
	}
	out, err := pgx.CollectExactlyOneRow(rows, scanRegistry)
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23505" {
			return Registry{}, fmt.Errorf("adding registry %s: %w", r.Name, ErrRegistryExists)
		}
		return Registry{}, fmt.Errorf("adding registry %s: %w", r.Name, err)
	}
	return out, nil
}

// Registries lists the registries in ID order.
func (s *Store) Registries(ctx context.Context) ([]Registry, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+registryColumns+" FROM registries ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("listing registries: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanRegistry)
	if err != nil {
		return nil, fmt.Errorf("listing registries: %w", err)
	}
	return out, nil
}

// GetRegistry returns one registry, or an error matching ErrNoRegistry.
func (s *Store) GetRegistry(ctx context.Context, id int64) (Registry, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+registryColumns+" FROM registries WHERE id = $1", id)
	if err != nil {
		return Registry{}, fmt.Errorf("reading registry %d: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRegistry)
	if errors.Is(err, pgx.ErrNoRows) {
		return Registry{}, fmt.Errorf("registry %d: %w", id, ErrNoRegistry)
	}
	if err != nil {
		return Registry{}, fmt.Errorf("reading registry %d: %w", id, err)
	}
	return r, nil
}

// DeleteRegistry removes a registry and the state of its tags (the images
// scanned from it stay). A missing registry is ErrNoRegistry.
func (s *Store) DeleteRegistry(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, "DELETE FROM registries WHERE id = $1", id)
	if err != nil {
		return fmt.Errorf("deleting registry %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("registry %d: %w", id, ErrNoRegistry)
	}
	return nil
}

// DueRegistries returns the IDs of the registries never polled or whose
// interval has elapsed since their last poll started, or will within slack
// (half the period of the caller's checks: a registry is then polled every
// interval to within that much, rather than up to a period late).
func (s *Store) DueRegistries(ctx context.Context, slack time.Duration) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id FROM registries
		WHERE last_polled_at IS NULL OR last_polled_at + make_interval(secs => interval_seconds) <= $1
		ORDER BY id`, s.now().UTC().Add(slack))
	if err != nil {
		return nil, fmt.Errorf("listing registries due a poll: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("listing registries due a poll: %w", err)
	}
	return ids, nil
}

// StartPoll records that a poll of registry id starts now and returns the
// registry. A missing registry is ErrNoRegistry.
func (s *Store) StartPoll(ctx context.Context, id int64) (Registry, error) {
	rows, err := s.pool.Query(ctx, "UPDATE registries SET last_polled_at = $2 WHERE id = $1 RETURNING "+registryColumns, id, s.now().UTC())
	if err != nil {
		return Registry{}, fmt.Errorf("starting a poll of registry %d: %w", id, err)
	}
	r, err := pgx.CollectExactlyOneRow(rows, scanRegistry)
	if errors.Is(err, pgx.ErrNoRows) {
		return Registry{}, fmt.Errorf("registry %d: %w", id, ErrNoRegistry)
	}
	if err != nil {
		return Registry{}, fmt.Errorf("starting a poll of registry %d: %w", id, err)
	}
	return r, nil
}

// FinishPoll records what the last poll of registry id could not do ("":
// it did everything).
func (s *Store) FinishPoll(ctx context.Context, id int64, lastError string) error {
	if _, err := s.pool.Exec(ctx, "UPDATE registries SET last_error = $2 WHERE id = $1", id, lastError); err != nil {
		return fmt.Errorf("recording the poll of registry %d: %w", id, err)
	}
	return nil
}

// WatchedTag is the state of one tag the watch has seen.
type WatchedTag struct {
	Repository string     `json:"repository"`
	Tag        string     `json:"tag"`
	Digest     string     `json:"digest"`
	FirstSeen  time.Time  `json:"first_seen"`
	LastSeen   time.Time  `json:"last_seen"`
	ChangedAt  time.Time  `json:"changed_at"`
	RemovedAt  *time.Time `json:"removed_at,omitempty"`
}

// WatchedTags returns the tags seen in a registry (in one repository if
// repository is not ""), removed ones included, by repository and tag.
func (s *Store) WatchedTags(ctx context.Context, registryID int64, repository string) ([]WatchedTag, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT repository, tag, digest, first_seen, last_seen, changed_at, removed_at FROM watched_tags
		WHERE registry_id = $1 AND ($2 = '' OR repository = $2) ORDER BY repository, tag`, registryID, repository)
	if err != nil {
		return nil, fmt.Errorf("reading the tags of registry %d: %w", registryID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (WatchedTag, error) {
		var t WatchedTag
		err := r.Scan(&t.Repository, &t.Tag, &t.Digest, &t.FirstSeen, &t.LastSeen, &t.ChangedAt, &t.RemovedAt)
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the tags of registry %d: %w", registryID, err)
	}
	return out, nil
}

// TagPoll is what one poll found in one repository.
type TagPoll struct {
	RegistryID int64
	Repository string // in the registry: "team/app"
	// ImageRepository is the repository the images are stored under
	// (images.repository): "registry.example.com/team/app".
	ImageRepository string
	// Seen maps every tag listed to the digest it points to.
	Seen map[string]string
	// Removed are tags seen before and no longer listed.
	Removed []string
	// Listed are all the tags the registry listed (those that could not be
	// resolved included): every other live tag of the repository's stored
	// images is marked removed — the deleted ones, and any a scan stored
	// after its tag was deleted.
	Listed []string
}

// ApplyTagPoll records a poll of one repository in one transaction: the
// tags seen (new ones with first_seen, moved or restored ones with
// changed_at), the tags removed (in watched_tags), the tags of the
// repository's stored images that were not listed (in image_tags), then runs
// inTx (which queues the scans in the same transaction: either the new state
// and its scans are stored, or neither).
func (s *Store) ApplyTagPoll(ctx context.Context, p TagPoll, inTx func(context.Context, pgx.Tx) error) error {
	now := s.now().UTC()
	tags := make([]string, 0, len(p.Seen))
	digests := make([]string, 0, len(p.Seen))
	for t, d := range p.Seen {
		tags = append(tags, t)
		digests = append(digests, d)
	}
	removed := p.Removed
	if removed == nil {
		removed = []string{}
	}
	listed := p.Listed
	if listed == nil {
		listed = []string{}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if len(tags) > 0 {
			if _, err := tx.Exec(ctx, `
				INSERT INTO watched_tags (registry_id, repository, tag, digest, first_seen, last_seen, changed_at)
				SELECT $1, $2, t, d, $5, $5, $5 FROM unnest($3::text[], $4::text[]) AS x(t, d)
				ON CONFLICT (registry_id, repository, tag) DO UPDATE SET
				    changed_at = CASE WHEN watched_tags.digest <> EXCLUDED.digest OR watched_tags.removed_at IS NOT NULL
				                      THEN EXCLUDED.changed_at ELSE watched_tags.changed_at END,
				    digest = EXCLUDED.digest, last_seen = EXCLUDED.last_seen, removed_at = NULL`,
				p.RegistryID, p.Repository, tags, digests, now); err != nil {
				return fmt.Errorf("recording tags: %w", err)
			}
		}
		if len(removed) > 0 {
			if _, err := tx.Exec(ctx, `
				UPDATE watched_tags SET removed_at = $4
				WHERE registry_id = $1 AND repository = $2 AND tag = ANY($3) AND removed_at IS NULL`,
				p.RegistryID, p.Repository, removed, now); err != nil {
				return fmt.Errorf("recording removed tags: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `
			UPDATE image_tags SET removed_at = $3
			WHERE removed_at IS NULL AND NOT (tag = ANY($2))
			  AND image_id IN (SELECT id FROM images WHERE repository = $1)`,
			p.ImageRepository, listed, now); err != nil {
			return fmt.Errorf("marking removed tags of %s: %w", p.ImageRepository, err)
		}
		if inTx != nil {
			return inTx(ctx, tx)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording the poll of %s: %w", p.ImageRepository, err)
	}
	return nil
}
