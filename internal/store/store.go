// Package store keeps scan results in PostgreSQL for the drydock server:
// images and their tags, the per-layer results (analysed once per extractor
// set across the whole fleet), every image's inventory, a package → image
// reverse index, findings with their history (first seen, last seen,
// resolved) and events.
//
// It is a library with no global state: any number of API and worker
// processes share one database. Schema changes are versioned migrations
// embedded in the binary (goose), applied under a PostgreSQL advisory lock so
// that processes starting together migrate once.
package store

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a handle on the database. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// claims holds the connections of layer claims (see Claim), apart from
	// pool so that claims held during walks never starve the queries the
	// walks need.
	claims *pgxpool.Pool
	now    func() time.Time
}

// Options tune Open.
type Options struct {
	// Now returns the current time (default time.Now); tests fix it.
	Now func() time.Time
	// MaxConns bounds each of the store's two pools: the queries', and the
	// layer claims' (one connection per layer being analysed). Set it to at
	// least the scans run at once × the layers each reads at once. 0: the
	// DSN's pool_max_conns, else DefaultMaxConns.
	MaxConns int32
}

// Open connects to the database at dsn ("postgres://user@host:5432/db").
// It does not migrate: call Migrate.
func Open(ctx context.Context, dsn string, opt Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parsing database address: %w", err)
	}
	setMaxConns(cfg, dsn, opt.MaxConns)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.ConnConfig.Host, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connecting to %s:%d/%s: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	claims, err := newClaimPool(ctx, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return &Store{pool: pool, claims: claims, now: now}, nil
}

// Close closes the connections.
func (s *Store) Close() {
	s.pool.Close()
	s.claims.Close()
}

// Pool is the connection pool (for the job queue, which shares the database).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// migrationLock is the advisory lock key the migrations run under.
const migrationLock = 0x64727964 // "dryd"

// Migrate brings the schema to the version this binary knows, then runs
// the other migrations given (the job queue's), all under one advisory lock:
// processes starting together wait for each other. A database newer than the
// binary is an error.
func (s *Store) Migrate(ctx context.Context, others ...func(context.Context) error) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return fmt.Errorf("migrating: taking the migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)
	if err := s.migrate(ctx); err != nil {
		return err
	}
	for _, m := range others {
		if err := m(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, mustSub(migrations, "migrations"))
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil && !errors.Is(err, goose.ErrVersionNotFound) {
		return fmt.Errorf("migrating: reading the schema version: %w", err)
	}
	srcs := p.ListSources()
	if latest := srcs[len(srcs)-1].Version; current > latest {
		return fmt.Errorf("migrating: the database schema is version %d, newer than this drydock (%d): upgrade drydock", current, latest)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	return nil
}

// SchemaVersion returns the applied schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.pool.QueryRow(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied").Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("reading the schema version: %w", err)
	}
	return v, nil
}

// Get implements scan.LayerCache: the stored result of a layer analysed by
// any process before, with the same extractor set.
func (s *Store) Get(ctx context.Context, key string) (*inventory.LayerResult, bool) {
	var raw []byte
	// A read only: a base layer shared by a thousand images is read by every
	// worker at once, and a counter here would serialise them on one row.
	// A lost connection (the database restarted) is tried again: a miss
	// would have the layer analysed again.
	err := retryConn(ctx, func() error {
		return s.pool.QueryRow(ctx, "SELECT result FROM layer_results WHERE cache_key = $1", key).Scan(&raw)
	})
	if err != nil {
		return nil, false
	}
	var r inventory.LayerResult
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, false
	}
	return &r, true
}

// Put implements scan.LayerCache. The first result stored for a key wins;
// a layer analysed by two workers at once is stored once.
func (s *Store) Put(ctx context.Context, key string, r *inventory.LayerResult) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encoding layer result: %w", err)
	}
	err = retryConn(ctx, func() error {
		_, err := s.pool.Exec(ctx,
			`INSERT INTO layer_results (cache_key, diff_id, result, analysed_at) VALUES ($1, $2, $3, $4)
			 ON CONFLICT (cache_key) DO NOTHING`, key, r.Layer.DiffID, raw, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("storing layer %s: %w", r.Layer.DiffID, err)
	}
	return nil
}

// LayerResults returns the number of per-layer results stored.
func (s *Store) LayerResults(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM layer_results").Scan(&n); err != nil {
		return 0, fmt.Errorf("counting layer results: %w", err)
	}
	return n, nil
}

// ImageKey names an image in the store.
type ImageKey struct {
	Repository string // "registry.example.com/team/app"; "" for local sources
	Tags       []string
}

// Saved is what SaveScan changed.
type Saved struct {
	ImageID int64
	// New are the keys of findings the image did not have open before;
	// Resolved those it had and no longer has. Sorted.
	New, Resolved []string
}

// SaveScan stores one scan of one image, in one transaction: the image and
// its tags (a tag now on this digest is marked removed from the repository's
// other images), its layers, its inventory and the reverse index, and its
// findings — new ones get first_seen, known ones last_seen, missing ones
// resolved_at.
func (s *Store) SaveScan(ctx context.Context, key ImageKey, res *result.Result) (Saved, error) {
	now := s.now().UTC()
	var out Saved
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := upsertImage(ctx, tx, key.Repository, res, now)
		if err != nil {
			return err
		}
		out.ImageID = id
		if err := saveTags(ctx, tx, id, key, now); err != nil {
			return err
		}
		if err := saveLayers(ctx, tx, id, res.Image.Layers); err != nil {
			return err
		}
		if err := saveInventory(ctx, tx, id, res, now); err != nil {
			return err
		}
		out.New, out.Resolved, err = saveFindings(ctx, tx, id, res.Findings, now)
		return err
	})
	if err != nil {
		return Saved{}, fmt.Errorf("saving scan of %s@%s: %w", key.Repository, res.Image.Digest, err)
	}
	return out, nil
}

func upsertImage(ctx context.Context, tx pgx.Tx, repo string, res *result.Result, now time.Time) (int64, error) {
	digest := res.Image.Digest
	if digest == "" {
		return 0, errors.New("the image has no manifest digest")
	}
	img, err := json.Marshal(res.Image)
	if err != nil {
		return 0, fmt.Errorf("encoding image: %w", err)
	}
	platform := res.Image.OS + "/" + res.Image.Arch
	if res.Image.Variant != "" {
		platform += "/" + res.Image.Variant
	}
	var id int64
	err = tx.QueryRow(ctx, `
		INSERT INTO images (repository, manifest_digest, index_digest, platform, config_digest, image, first_seen, last_seen)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
		ON CONFLICT (repository, manifest_digest) DO UPDATE
		SET index_digest = EXCLUDED.index_digest, platform = EXCLUDED.platform,
		    config_digest = EXCLUDED.config_digest, image = EXCLUDED.image, last_seen = EXCLUDED.last_seen
		RETURNING id`,
		repo, digest, res.Image.IndexDigest, platform, res.Image.ConfigDigest, img, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("storing image: %w", err)
	}
	return id, nil
}

func saveTags(ctx context.Context, tx pgx.Tx, id int64, key ImageKey, now time.Time) error {
	for _, tag := range key.Tags {
		if _, err := tx.Exec(ctx, `
			INSERT INTO image_tags (image_id, tag, first_seen, last_seen) VALUES ($1, $2, $3, $3)
			ON CONFLICT (image_id, tag) DO UPDATE SET last_seen = EXCLUDED.last_seen, removed_at = NULL`,
			id, tag, now); err != nil {
			return fmt.Errorf("storing tag %s: %w", tag, err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE image_tags SET removed_at = $4
			WHERE tag = $2 AND removed_at IS NULL AND image_id <> $1
			  AND image_id IN (SELECT id FROM images WHERE repository = $3)`,
			id, tag, key.Repository, now); err != nil {
			return fmt.Errorf("moving tag %s: %w", tag, err)
		}
	}
	return nil
}

func saveLayers(ctx context.Context, tx pgx.Tx, id int64, layers []inventory.Layer) error {
	if _, err := tx.Exec(ctx, "DELETE FROM image_layers WHERE image_id = $1", id); err != nil {
		return fmt.Errorf("storing layers: %w", err)
	}
	rows := make([][]any, len(layers))
	for i, l := range layers {
		rows[i] = []any{id, l.Index, l.DiffID, l.Digest}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"image_layers"}, []string{"image_id", "position", "diff_id", "digest"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("storing layers: %w", err)
	}
	return nil
}

func saveInventory(ctx context.Context, tx pgx.Tx, id int64, res *result.Result, now time.Time) error {
	inv := res.Inventory()
	raw, err := json.Marshal(inv)
	if err != nil {
		return fmt.Errorf("encoding inventory: %w", err)
	}
	vers, err := json.Marshal(res.Versions)
	if err != nil {
		return fmt.Errorf("encoding versions: %w", err)
	}
	sc, err := json.Marshal(scanFacts{Scanners: res.Scanners, Database: res.Database, Coverage: res.Coverage, Secrets: res.Secrets,
		Misconfigs: res.Misconfigs, BaseImage: res.BaseImage, Malware: res.Malware})
	if err != nil {
		return fmt.Errorf("encoding scan facts: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO inventories (image_id, inventory, versions, scan, scanned_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (image_id) DO UPDATE SET inventory = EXCLUDED.inventory, versions = EXCLUDED.versions,
		    scan = EXCLUDED.scan, scanned_at = EXCLUDED.scanned_at`,
		id, raw, vers, sc, now); err != nil {
		return fmt.Errorf("storing inventory: %w", err)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM image_packages WHERE image_id = $1", id); err != nil {
		return fmt.Errorf("indexing packages: %w", err)
	}
	rows := make([][]any, 0, len(inv.Packages))
	for i := range inv.Packages {
		p := &inv.Packages[i]
		li := -1
		if p.Layer != nil {
			li = p.Layer.Index
		}
		rows = append(rows, []any{id, p.ID, p.Ecosystem, p.Name, p.Version, p.SourceName, p.PURL, li})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"image_packages"},
		[]string{"image_id", "package_id", "ecosystem", "name", "version", "source_name", "purl", "layer_index"},
		pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("indexing packages: %w", err)
	}
	return nil
}

// saveFindings records the image's current findings and returns which keys
// are new and which were resolved.
func saveFindings(ctx context.Context, tx pgx.Tx, id int64, fs []finding.Finding, now time.Time) (added, resolved []string, err error) {
	open := map[string]bool{}
	rows, err := tx.Query(ctx, "SELECT finding_key FROM findings WHERE image_id = $1 AND resolved_at IS NULL", id)
	if err != nil {
		return nil, nil, fmt.Errorf("reading findings: %w", err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("reading findings: %w", err)
		}
		open[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("reading findings: %w", err)
	}
	current := map[string]bool{}
	for i := range fs {
		f := &fs[i]
		k := f.Key()
		if current[k] {
			continue
		}
		current[k] = true
		raw, err := json.Marshal(f)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding finding %s: %w", k, err)
		}
		aliases := f.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO findings (image_id, finding_key, advisory_id, aliases, package_id, severity, fixed_version, kev, finding, first_seen, last_seen)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
			ON CONFLICT (image_id, finding_key) DO UPDATE
			SET aliases = EXCLUDED.aliases, severity = EXCLUDED.severity, fixed_version = EXCLUDED.fixed_version,
			    kev = EXCLUDED.kev, finding = EXCLUDED.finding, last_seen = EXCLUDED.last_seen, resolved_at = NULL`,
			id, k, f.ID, aliases, f.Package.ID, f.Severity, f.FixedVersion, f.KEV, raw, now); err != nil {
			return nil, nil, fmt.Errorf("storing finding %s: %w", k, err)
		}
		if !open[k] {
			added = append(added, k)
		}
	}
	for k := range open {
		if !current[k] {
			resolved = append(resolved, k)
		}
	}
	if len(resolved) > 0 {
		if _, err := tx.Exec(ctx,
			"UPDATE findings SET resolved_at = $3 WHERE image_id = $1 AND finding_key = ANY($2) AND resolved_at IS NULL",
			id, resolved, now); err != nil {
			return nil, nil, fmt.Errorf("resolving findings: %w", err)
		}
	}
	slices.Sort(added)
	slices.Sort(resolved)
	return added, resolved, nil
}

// Exposure is one image (with its live tags) affected by an advisory or
// holding a package.
type Exposure struct {
	ImageID    int64    `json:"image_id"`
	Repository string   `json:"repository"`
	Digest     string   `json:"digest"`
	Tags       []string `json:"tags"`
	// Packages are the affected package IDs in the image.
	Packages []string `json:"packages"`
}

// Exposed returns every image with an open finding for id, an advisory ID
// or any of its aliases (a CVE finds the vendor advisories citing it).
func (s *Store) Exposed(ctx context.Context, id string) ([]Exposure, error) {
	return s.exposures(ctx, `
		SELECT i.id, i.repository, i.manifest_digest,
		       COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM image_tags t WHERE t.image_id = i.id AND t.removed_at IS NULL), '{}'),
		       array_agg(DISTINCT f.package_id ORDER BY f.package_id)
		FROM findings f JOIN images i ON i.id = f.image_id
		WHERE f.resolved_at IS NULL AND (f.advisory_id = $1 OR $1 = ANY (f.aliases))
		GROUP BY i.id ORDER BY i.repository, i.manifest_digest`, id)
}

// WithPackage returns every image holding a package of ecosystem and name
// (as installed, or as the source package of an OS package), at version if
// it is not empty.
func (s *Store) WithPackage(ctx context.Context, ecosystem, name, version string) ([]Exposure, error) {
	return s.exposures(ctx, `
		SELECT i.id, i.repository, i.manifest_digest,
		       COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM image_tags t WHERE t.image_id = i.id AND t.removed_at IS NULL), '{}'),
		       array_agg(DISTINCT p.package_id ORDER BY p.package_id)
		FROM image_packages p JOIN images i ON i.id = p.image_id
		WHERE p.ecosystem = $1 AND (p.name = $2 OR p.source_name = $2) AND ($3 = '' OR p.version = $3)
		GROUP BY i.id ORDER BY i.repository, i.manifest_digest`, ecosystem, name, version)
}

func (s *Store) exposures(ctx context.Context, q string, args ...any) ([]Exposure, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("querying images: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Exposure, error) {
		var e Exposure
		err := r.Scan(&e.ImageID, &e.Repository, &e.Digest, &e.Tags, &e.Packages)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("querying images: %w", err)
	}
	return out, nil
}

// scanFacts is what a scan knew besides the inventory and the findings.
type scanFacts struct {
	Scanners   []string            `json:"scanners,omitempty"`
	Database   *result.Database    `json:"database,omitempty"`
	Coverage   []result.Coverage   `json:"coverage,omitempty"`
	Secrets    []finding.Secret    `json:"secrets,omitempty"`
	Misconfigs []finding.Misconfig `json:"misconfigurations,omitempty"`
	BaseImage  *result.BaseImage   `json:"base_image,omitempty"`
	// Malware is what the scan's malware checks found (malicious packages,
	// known-bad files): kept with the scan, never a finding row.
	Malware []finding.Malware `json:"malware,omitempty"`
}

// LoadResult returns what re-matching an image needs: its image facts and
// its inventory, as stored by its last scan, with the secrets,
// misconfigurations, coverage and database of that scan — and no findings
// (see OpenFindings).
func (s *Store) LoadResult(ctx context.Context, imageID int64) (*result.Result, error) {
	var img, inv, vers, sc []byte
	err := s.pool.QueryRow(ctx, `
		SELECT i.image, v.inventory, v.versions, v.scan FROM images i JOIN inventories v ON v.image_id = i.id WHERE i.id = $1`,
		imageID).Scan(&img, &inv, &vers, &sc)
	if err != nil {
		return nil, fmt.Errorf("loading image %d: %w", imageID, err)
	}
	res := &result.Result{Scanners: []string{"sbom"}}
	var iv inventory.Inventory
	if err := json.Unmarshal(img, &res.Image); err != nil {
		return nil, fmt.Errorf("decoding image %d: %w", imageID, err)
	}
	if err := json.Unmarshal(inv, &iv); err != nil {
		return nil, fmt.Errorf("decoding inventory of image %d: %w", imageID, err)
	}
	if err := json.Unmarshal(vers, &res.Versions); err != nil {
		return nil, fmt.Errorf("decoding versions of image %d: %w", imageID, err)
	}
	var facts scanFacts
	if err := json.Unmarshal(sc, &facts); err != nil {
		return nil, fmt.Errorf("decoding the last scan of image %d: %w", imageID, err)
	}
	res.Distro, res.Packages, res.Notes = iv.Distro, iv.Packages, iv.Notes
	res.GoBinaries = iv.GoBinaries // Go reachability re-reads them
	res.Database, res.Coverage, res.Secrets, res.Misconfigs = facts.Database, facts.Coverage, facts.Secrets, facts.Misconfigs
	res.BaseImage, res.Malware = facts.BaseImage, facts.Malware
	if len(facts.Scanners) > 0 {
		res.Scanners = facts.Scanners
	}
	return res, nil
}

// OpenFindings returns the open findings of an image, in the canonical
// order of their keys.
func (s *Store) OpenFindings(ctx context.Context, imageID int64) ([]finding.Finding, error) {
	rows, err := s.pool.Query(ctx,
		"SELECT finding FROM findings WHERE image_id = $1 AND resolved_at IS NULL ORDER BY finding_key", imageID)
	if err != nil {
		return nil, fmt.Errorf("reading findings of image %d: %w", imageID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (finding.Finding, error) {
		var raw []byte
		var f finding.Finding
		if err := r.Scan(&raw); err != nil {
			return f, err
		}
		return f, json.Unmarshal(raw, &f)
	})
	if err != nil {
		return nil, fmt.Errorf("reading findings of image %d: %w", imageID, err)
	}
	return out, nil
}

func mustSub(f embed.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		// The directory is embedded at build time: fs.Sub cannot fail on it.
		panic(err)
	}
	return sub
}

// ImageExists reports whether an image ID is in the store.
func (s *Store) ImageExists(ctx context.Context, id int64) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM images WHERE id = $1)", id).Scan(&ok); err != nil {
		return false, fmt.Errorf("looking up image %d: %w", id, err)
	}
	return ok, nil
}
