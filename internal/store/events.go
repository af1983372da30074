package store

// Continuous monitoring's side of the store: what each image's last match
// looked up in the advisory database (match keys with a fingerprint of each
// answer), re-matching one image in one transaction (findings, events and
// their webhook deliveries), the events themselves and the database
// versions applied.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
)

// Event kinds.
const (
	// EventFindingNew: an advisory now affects an image.
	EventFindingNew = "finding.new"
	// EventFindingResolved: an advisory no longer affects an image.
	EventFindingResolved = "finding.resolved"
	// EventMalwareNew: a malicious-package record (or a known-bad file
	// list entry) now names something in an image.
	EventMalwareNew = "malware.new"
	// EventMalwareResolved: it no longer does (a record withdrawn).
	EventMalwareResolved = "malware.resolved"
)

// EventKinds lists every event kind (webhooks filter on them).
func EventKinds() []string {
	return []string{EventFindingNew, EventFindingResolved, EventMalwareNew, EventMalwareResolved}
}

// Event is one change for one image. Its JSON is the body of a webhook
// delivery and an item of GET /api/v1/events.
type Event struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	// IdempotencyKey is the same for the same change however many times it
	// is computed (a retried job, a database applied twice): receivers
	// dedupe on it.
	IdempotencyKey string    `json:"idempotency_key"`
	CreatedAt      time.Time `json:"created_at"`
	// Message says it for people: "CVE-X now affects image Y (tags …)
	// since the advisory database of <date>".
	Message  string        `json:"message"`
	Image    EventImage    `json:"image"`
	Finding  EventFinding  `json:"finding"`
	Database EventDatabase `json:"database"`
}

// EventImage names the image of an event.
type EventImage struct {
	ID         int64    `json:"id"`
	Repository string   `json:"repository"`
	Digest     string   `json:"digest"`
	Tags       []string `json:"tags"`
}

// EventFinding is the finding an event is about.
type EventFinding struct {
	Key              string   `json:"key"` // "<advisory id>@<package id>"
	ID               string   `json:"id"`
	Aliases          []string `json:"aliases,omitempty"`
	Severity         string   `json:"severity"`
	KEV              bool     `json:"kev,omitempty"`
	FixedVersion     string   `json:"fixed_version,omitempty"`
	InstalledVersion string   `json:"installed_version"`
	Title            string   `json:"title,omitempty"`
	Package          struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		Version   string `json:"version"`
		Ecosystem string `json:"ecosystem"`
		PURL      string `json:"purl,omitempty"`
	} `json:"package"`
}

// EventDatabase is the advisory database under which the change was seen.
type EventDatabase struct {
	BuiltAt time.Time `json:"built_at"`
}

// MatchKey is one lookup a match made in the advisory database, with the
// SHA-256 of the answer it got. Kinds: "advisories" (Ecosystem, Name: a
// package), "cve" (Name: a CVE id), "ecosystems" (Ecosystem: a prefix).
type MatchKey struct {
	Kind        string
	Ecosystem   string
	Name        string
	Fingerprint []byte
}

// Match kinds.
const (
	KeyAdvisories = "advisories"
	KeyCVE        = "cve"
	KeyEcosystems = "ecosystems"
)

// Rematched is what matching an image's stored inventory again produced.
type Rematched struct {
	Findings []finding.Finding
	Database *result.Database // the database matched against (BuiltAt set)
	Coverage []result.Coverage
	// Keys are every lookup the match made; they replace the image's.
	Keys []MatchKey
	// Versions names the matching code (matcher and enrichers): a stored
	// match by other code is stale.
	Versions string
	// Malware is the image's malware after the match (its file hits kept,
	// its malicious packages matched again), when MalwareMatched: the
	// match looked for malicious packages. Otherwise the stored malware is
	// kept as it is (a match that did not look must not resolve it).
	Malware        []finding.Malware
	MalwareMatched bool
}

// RematchOutcome is what RematchImage changed.
type RematchOutcome struct {
	ImageID       int64
	New, Resolved []string // finding keys, sorted
	Events        []Event  // the events inserted (none when they already existed)
}

// ErrImageChanged is returned (wrapped) by RematchImage when the image was
// scanned again while it was being matched: match it again.
var ErrImageChanged = errors.New("the image was scanned again while it was re-matched")

// RematchImage re-matches one image from its stored inventory: match
// receives the image's stored result (LoadResult) and returns the new
// findings, then in one transaction — with the image's row locked, so that
// scans and other re-matches of it wait — the findings are saved as SaveScan
// saves them (first_seen, last_seen, resolved_at), one event is written per
// new and per resolved finding (with its webhook deliveries), and the
// image's match keys and state are replaced. A transaction that fails
// leaves nothing behind, and one run again finds nothing to change: a
// retried job is a no-op. A match that gives exactly the stored findings,
// lookups and state writes nothing (last_seen is that of the last scan or
// re-match that changed something): the periodic full re-match of a fleet
// where nothing changed only reads.
func (s *Store) RematchImage(ctx context.Context, imageID int64, match func(context.Context, *result.Result) (*Rematched, error)) (RematchOutcome, error) {
	out := RematchOutcome{ImageID: imageID}
	var scannedAt time.Time
	if err := s.pool.QueryRow(ctx, "SELECT scanned_at FROM inventories WHERE image_id = $1", imageID).Scan(&scannedAt); err != nil {
		return out, fmt.Errorf("re-matching image %d: reading its inventory: %w", imageID, err)
	}
	res, err := s.LoadResult(ctx, imageID)
	if err != nil {
		return out, fmt.Errorf("re-matching image %d: %w", imageID, err)
	}
	beforeMalware := slices.Clone(res.Malware)
	m, err := match(ctx, res)
	if err != nil {
		return out, fmt.Errorf("re-matching image %d: %w", imageID, err)
	}
	if m.Database == nil {
		return out, fmt.Errorf("re-matching image %d: the match names no database", imageID)
	}
	if same, err := s.matchUnchanged(ctx, imageID, scannedAt, m); err != nil || same {
		if err != nil {
			return out, fmt.Errorf("re-matching image %d: %w", imageID, err)
		}
		return out, nil
	}
	now := s.now().UTC()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		img := EventImage{ID: imageID}
		if err := tx.QueryRow(ctx, "SELECT repository, manifest_digest FROM images WHERE id = $1 FOR UPDATE", imageID).
			Scan(&img.Repository, &img.Digest); err != nil {
			return fmt.Errorf("locking the image: %w", err)
		}
		var scannedNow time.Time
		if err := tx.QueryRow(ctx, "SELECT scanned_at FROM inventories WHERE image_id = $1", imageID).Scan(&scannedNow); err != nil {
			return fmt.Errorf("reading its inventory: %w", err)
		}
		if !scannedNow.Equal(scannedAt) {
			return ErrImageChanged
		}
		if err := tx.QueryRow(ctx, `SELECT COALESCE(array_agg(tag ORDER BY tag), '{}') FROM image_tags
			WHERE image_id = $1 AND removed_at IS NULL`, imageID).Scan(&img.Tags); err != nil {
			return fmt.Errorf("reading tags: %w", err)
		}
		before, err := openFindings(ctx, tx, imageID)
		if err != nil {
			return err
		}
		out.New, out.Resolved, err = saveFindings(ctx, tx, imageID, m.Findings, now)
		if err != nil {
			return err
		}
		current := make(map[string]*finding.Finding, len(m.Findings))
		for i := range m.Findings {
			current[m.Findings[i].Key()] = &m.Findings[i]
		}
		var evs []Event
		for _, k := range out.New {
			evs = append(evs, newEvent(EventFindingNew, img, current[k], m.Database.BuiltAt, now))
		}
		for _, k := range out.Resolved {
			evs = append(evs, newEvent(EventFindingResolved, img, before[k], m.Database.BuiltAt, now))
		}
		if m.MalwareMatched {
			was := map[string]*finding.Malware{}
			for i := range beforeMalware {
				was[beforeMalware[i].Key()] = &beforeMalware[i]
			}
			is := map[string]bool{}
			for i := range m.Malware {
				mw := &m.Malware[i]
				is[mw.Key()] = true
				if was[mw.Key()] == nil {
					evs = append(evs, malwareEvent(EventMalwareNew, img, mw, m.Database.BuiltAt, now))
				}
			}
			for k, mw := range was {
				if !is[k] {
					evs = append(evs, malwareEvent(EventMalwareResolved, img, mw, m.Database.BuiltAt, now))
				}
			}
		}
		for i := range evs {
			ok, err := insertEvent(ctx, tx, &evs[i])
			if err != nil {
				return err
			}
			if ok {
				out.Events = append(out.Events, evs[i])
			}
		}
		if err := saveMatch(ctx, tx, imageID, scannedAt, m, now); err != nil {
			return err
		}
		return saveMatchFacts(ctx, tx, imageID, m)
	})
	if err != nil {
		return RematchOutcome{ImageID: imageID}, fmt.Errorf("re-matching image %d: %w", imageID, err)
	}
	return out, nil
}

// openFindings returns the image's open findings by key.
func openFindings(ctx context.Context, tx pgx.Tx, imageID int64) (map[string]*finding.Finding, error) {
	rows, err := tx.Query(ctx, "SELECT finding_key, finding FROM findings WHERE image_id = $1 AND resolved_at IS NULL", imageID)
	if err != nil {
		return nil, fmt.Errorf("reading findings: %w", err)
	}
	defer rows.Close()
	out := map[string]*finding.Finding{}
	for rows.Next() {
		var k string
		var raw []byte
		if err := rows.Scan(&k, &raw); err != nil {
			return nil, fmt.Errorf("reading findings: %w", err)
		}
		f := &finding.Finding{}
		if err := json.Unmarshal(raw, f); err != nil {
			return nil, fmt.Errorf("decoding finding %s: %w", k, err)
		}
		out[k] = f
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading findings: %w", err)
	}
	return out, nil
}

// newEvent describes one changed finding. Its idempotency key is derived
// from the kind, the image, the finding and the database: the same change
// under the same database is the same event, however often it is computed.
// malwareEvent is the event of a malware finding appearing in or leaving
// an image: its finding is the malware's ID and package (or file path),
// CRITICAL, as every malware finding.
func malwareEvent(kind string, img EventImage, mw *finding.Malware, dbBuiltAt, now time.Time) Event {
	f := &finding.Finding{ID: mw.ID, Aliases: mw.Aliases, Severity: mw.Severity, Title: mw.Title}
	if mw.Package != nil {
		f.Package = *mw.Package
		f.InstalledVersion = mw.Package.Version
	} else {
		f.Package = finding.PackageRef{ID: mw.Path, Name: mw.Path}
	}
	ev := newEvent(kind, img, f, dbBuiltAt, now)
	ev.Finding.Key = mw.Key()
	what := f.Package.Name + " " + f.InstalledVersion
	if mw.Package == nil {
		what = "the file " + mw.Path
	}
	name := img.Repository + "@" + img.Digest
	if kind == EventMalwareNew {
		ev.Message = fmt.Sprintf("MALWARE: %s names %s in %s (tags %s) since the database of %s", mw.ID, what, name,
			strings.Join(img.Tags, ", "), dbBuiltAt.UTC().Format("2006-01-02 15:04 UTC"))
	} else {
		ev.Message = fmt.Sprintf("%s no longer names %s in %s since the database of %s", mw.ID, what, name,
			dbBuiltAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	return ev
}

func newEvent(kind string, img EventImage, f *finding.Finding, dbBuiltAt, now time.Time) Event {
	ev := Event{Kind: kind, CreatedAt: now, Image: img, Database: EventDatabase{BuiltAt: dbBuiltAt.UTC()}}
	ev.Finding.Key = f.Key()
	ev.Finding.ID, ev.Finding.Aliases, ev.Finding.Severity, ev.Finding.KEV = f.ID, f.Aliases, f.Severity, f.KEV
	ev.Finding.FixedVersion, ev.Finding.InstalledVersion, ev.Finding.Title = f.FixedVersion, f.InstalledVersion, f.Title
	ev.Finding.Package.ID, ev.Finding.Package.Name, ev.Finding.Package.Version = f.Package.ID, f.Package.Name, f.Package.Version
	ev.Finding.Package.Ecosystem, ev.Finding.Package.PURL = f.Package.Ecosystem, f.Package.PURL
	sum := sha256.Sum256([]byte(strings.Join([]string{kind, img.Repository, img.Digest, f.Key(),
		dbBuiltAt.UTC().Format(time.RFC3339Nano)}, "\x00")))
	ev.IdempotencyKey = "evt_" + hex.EncodeToString(sum[:16])
	name := img.Repository + "@" + img.Digest
	if img.Repository == "" {
		name = img.Digest
	}
	tags := ""
	if len(img.Tags) > 0 {
		tags = " (tags " + strings.Join(img.Tags, ", ") + ")"
	}
	pkg := f.Package.Name + " " + f.InstalledVersion
	date := dbBuiltAt.UTC().Format("2006-01-02 15:04 UTC")
	switch kind {
	case EventFindingNew:
		ev.Message = fmt.Sprintf("%s (%s) now affects %s%s through %s since the advisory database of %s",
			f.ID, f.Severity, name, tags, pkg, date)
	default:
		ev.Message = fmt.Sprintf("%s is resolved in %s%s (%s) since the advisory database of %s",
			f.ID, name, tags, pkg, date)
	}
	return ev
}

// insertEvent inserts ev (setting its ID) and one delivery for every webhook
// that wants its kind, in tx. An event whose idempotency key is already
// stored is not inserted again: false.
func insertEvent(ctx context.Context, tx pgx.Tx, ev *Event) (bool, error) {
	payload, err := json.Marshal(ev)
	if err != nil {
		return false, fmt.Errorf("encoding event: %w", err)
	}
	err = tx.QueryRow(ctx, `
		INSERT INTO events (kind, image_id, advisory_id, package_id, payload, idempotency_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
		ev.Kind, ev.Image.ID, ev.Finding.ID, ev.Finding.Package.ID, payload, ev.IdempotencyKey, ev.CreatedAt).Scan(&ev.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storing event %s: %w", ev.IdempotencyKey, err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO webhook_deliveries (event_id, webhook_id, next_attempt_at, created_at)
		SELECT $1, w.id, $3, $3 FROM webhooks w WHERE cardinality(w.kinds) = 0 OR $2 = ANY (w.kinds)
		ON CONFLICT (event_id, webhook_id) DO NOTHING`, ev.ID, ev.Kind, ev.CreatedAt); err != nil {
		return false, fmt.Errorf("queueing deliveries of event %s: %w", ev.IdempotencyKey, err)
	}
	return true, nil
}

// saveMatch replaces the image's match keys and state.
func saveMatch(ctx context.Context, tx pgx.Tx, imageID int64, scannedAt time.Time, m *Rematched, now time.Time) error {
	if _, err := tx.Exec(ctx, "DELETE FROM image_match_keys WHERE image_id = $1", imageID); err != nil {
		return fmt.Errorf("storing match keys: %w", err)
	}
	keys := slices.Clone(m.Keys)
	slices.SortFunc(keys, func(a, b MatchKey) int {
		return strings.Compare(a.Kind+"\x00"+a.Ecosystem+"\x00"+a.Name, b.Kind+"\x00"+b.Ecosystem+"\x00"+b.Name)
	})
	keys = slices.CompactFunc(keys, func(a, b MatchKey) bool {
		return a.Kind == b.Kind && a.Ecosystem == b.Ecosystem && a.Name == b.Name
	})
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{imageID, k.Kind, k.Ecosystem, k.Name, k.Fingerprint}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"image_match_keys"},
		[]string{"image_id", "kind", "ecosystem", "name", "fingerprint"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("storing match keys: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO image_match_state (image_id, scanned_at, versions, db_built_at, matched_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (image_id) DO UPDATE SET scanned_at = EXCLUDED.scanned_at, versions = EXCLUDED.versions,
		    db_built_at = EXCLUDED.db_built_at, matched_at = EXCLUDED.matched_at`,
		imageID, scannedAt, m.Versions, m.Database.BuiltAt, now); err != nil {
		return fmt.Errorf("storing match state: %w", err)
	}
	return nil
}

// saveMatchFacts records the database and coverage of a re-match in the
// image's scan facts.
func saveMatchFacts(ctx context.Context, tx pgx.Tx, imageID int64, m *Rematched) error {
	db, err := json.Marshal(m.Database)
	if err != nil {
		return fmt.Errorf("encoding database: %w", err)
	}
	cov, err := json.Marshal(m.Coverage)
	if err != nil {
		return fmt.Errorf("encoding coverage: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE inventories SET scan = jsonb_set(jsonb_set(scan, '{database}', $2::jsonb), '{coverage}', $3::jsonb)
		WHERE image_id = $1`, imageID, db, cov); err != nil {
		return fmt.Errorf("storing the match's database: %w", err)
	}
	if m.MalwareMatched {
		mal, err := json.Marshal(m.Malware)
		if err != nil {
			return fmt.Errorf("encoding malware: %w", err)
		}
		if m.Malware == nil {
			mal = []byte("[]")
		}
		if _, err := tx.Exec(ctx, `UPDATE inventories SET scan = jsonb_set(scan, '{malware}', $2::jsonb) WHERE image_id = $1`,
			imageID, mal); err != nil {
			return fmt.Errorf("storing the match's malware: %w", err)
		}
	}
	return nil
}

// MatchKeys returns every distinct lookup the stored matches made (without
// fingerprints).
func (s *Store) MatchKeys(ctx context.Context) ([]MatchKey, error) {
	rows, err := s.pool.Query(ctx, "SELECT DISTINCT kind, ecosystem, name FROM image_match_keys ORDER BY 1, 2, 3")
	if err != nil {
		return nil, fmt.Errorf("reading match keys: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MatchKey, error) {
		var k MatchKey
		err := r.Scan(&k.Kind, &k.Ecosystem, &k.Name)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading match keys: %w", err)
	}
	return out, nil
}

// StaleImages returns the images whose stored match no longer holds, in ID
// order: those with a lookup whose fingerprint differs from current (the
// answers of the new database), and those never matched by the monitor, or
// scanned again since, or matched by other matching code (versions).
func (s *Store) StaleImages(ctx context.Context, current []MatchKey, versions string) ([]int64, error) {
	kinds, ecos, names, fps := keyArrays(current)
	rows, err := s.pool.Query(ctx, `
		SELECT k.image_id FROM image_match_keys k
		JOIN unnest($1::text[], $2::text[], $3::text[], $4::bytea[]) AS c(kind, ecosystem, name, fp)
		  ON c.kind = k.kind AND c.ecosystem = k.ecosystem AND c.name = k.name
		WHERE c.fp <> k.fingerprint
		UNION
		SELECT v.image_id FROM inventories v LEFT JOIN image_match_state m ON m.image_id = v.image_id
		WHERE m.image_id IS NULL OR m.scanned_at <> v.scanned_at OR m.versions <> $5
		ORDER BY 1`, kinds, ecos, names, fps, versions)
	if err != nil {
		return nil, fmt.Errorf("finding the images to re-match: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("finding the images to re-match: %w", err)
	}
	return ids, nil
}

// ImageIDs returns every image with an inventory, in ID order.
func (s *Store) ImageIDs(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, "SELECT image_id FROM inventories ORDER BY image_id")
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("listing images: %w", err)
	}
	return ids, nil
}

// DBVersion is an advisory database version the monitor applied.
type DBVersion struct {
	BuiltAt   time.Time  `json:"built_at"`
	Sources   []string   `json:"sources"`
	AppliedAt time.Time  `json:"applied_at"`
	Completed *time.Time `json:"completed_at,omitempty"`
	// ImagesRematched and Events count what the last application did.
	ImagesRematched int `json:"images_rematched"`
	Events          int `json:"events"`
}

// LatestDB returns the newest database version recorded (begun or
// completed); ok is false when none is.
func (s *Store) LatestDB(ctx context.Context) (v DBVersion, ok bool, err error) {
	vs, err := s.DBVersions(ctx, 1)
	if err != nil || len(vs) == 0 {
		return DBVersion{}, false, err
	}
	return vs[0], true, nil
}

// DBVersions returns the database versions recorded, newest first.
func (s *Store) DBVersions(ctx context.Context, limit int) ([]DBVersion, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT built_at, sources, applied_at, completed_at, images_rematched, events
		FROM db_versions ORDER BY built_at DESC LIMIT $1`, min(limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("reading database versions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (DBVersion, error) {
		var v DBVersion
		var src []byte
		if err := r.Scan(&v.BuiltAt, &src, &v.AppliedAt, &v.Completed, &v.ImagesRematched, &v.Events); err != nil {
			return v, err
		}
		return v, json.Unmarshal(src, &v.Sources)
	})
	if err != nil {
		return nil, fmt.Errorf("reading database versions: %w", err)
	}
	return out, nil
}

// BeginDB records that the database built at builtAt is being applied (a
// version applied again is the same row, marked not completed).
func (s *Store) BeginDB(ctx context.Context, builtAt time.Time, sources []string) error {
	if sources == nil {
		sources = []string{}
	}
	src, err := json.Marshal(sources)
	if err != nil {
		return fmt.Errorf("encoding sources: %w", err)
	}
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO db_versions (built_at, sources, applied_at) VALUES ($1, $2, $3)
		ON CONFLICT (built_at) DO UPDATE SET sources = EXCLUDED.sources, applied_at = EXCLUDED.applied_at, completed_at = NULL`,
		builtAt.UTC(), src, s.now().UTC()); err != nil {
		return fmt.Errorf("recording database version %s: %w", builtAt.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// CompleteDB records that applying the database built at builtAt finished.
func (s *Store) CompleteDB(ctx context.Context, builtAt time.Time, images, events int) error {
	if _, err := s.pool.Exec(ctx, `UPDATE db_versions SET completed_at = $2, images_rematched = $3, events = $4 WHERE built_at = $1`,
		builtAt.UTC(), s.now().UTC(), images, events); err != nil {
		return fmt.Errorf("recording database version %s: %w", builtAt.UTC().Format(time.RFC3339), err)
	}
	return nil
}

// EventFilter narrows Events; zero fields do not filter.
type EventFilter struct {
	After   int64 // events with a larger ID (paging)
	ImageID int64
	Limit   int // default 100, at most 1000
}

// Events returns events in ID order.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT id, payload FROM events
		WHERE id > $1 AND ($2 = 0 OR image_id = $2) ORDER BY id LIMIT $3`, f.After, f.ImageID, min(limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var id int64
		var raw []byte
		if err := r.Scan(&id, &raw); err != nil {
			return Event{}, err
		}
		return decodeEvent(id, raw)
	})
	if err != nil {
		return nil, fmt.Errorf("reading events: %w", err)
	}
	return out, nil
}

func decodeEvent(id int64, raw []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(raw, &ev); err != nil {
		return ev, fmt.Errorf("decoding event %d: %w", id, err)
	}
	ev.ID = id
	return ev, nil
}

// MarkCurrent records that the stored matches made by versions, of the
// inventories they read, hold under the database db when each of their
// lookups answers as current says (the fingerprints of db's answers): their
// state and scan facts then name db, so that they do not count as matched
// against an older database. It returns how many it marked.
func (s *Store) MarkCurrent(ctx context.Context, db *result.Database, versions string, current []MatchKey) (int, error) {
	raw, err := json.Marshal(db)
	if err != nil {
		return 0, fmt.Errorf("encoding database: %w", err)
	}
	kinds, ecos, names, fps := keyArrays(current)
	tag, err := s.pool.Exec(ctx, `
		WITH c AS (SELECT * FROM unnest($4::text[], $5::text[], $6::text[], $7::bytea[]) AS c(kind, ecosystem, name, fp)),
		cur AS (
		    UPDATE image_match_state m SET db_built_at = $1
		    FROM inventories v
		    WHERE v.image_id = m.image_id AND m.scanned_at = v.scanned_at AND m.versions = $3 AND m.db_built_at <> $1
		      AND NOT EXISTS (
		          SELECT 1 FROM image_match_keys k
		          LEFT JOIN c ON c.kind = k.kind AND c.ecosystem = k.ecosystem AND c.name = k.name
		          WHERE k.image_id = m.image_id AND (c.fp IS NULL OR c.fp <> k.fingerprint))
		    RETURNING m.image_id)
		UPDATE inventories v SET scan = jsonb_set(v.scan, '{database}', $2::jsonb) FROM cur WHERE v.image_id = cur.image_id`,
		db.BuiltAt, raw, versions, kinds, ecos, names, fps)
	if err != nil {
		return 0, fmt.Errorf("recording the database of unchanged images: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func keyArrays(keys []MatchKey) (kinds, ecos, names []string, fps [][]byte) {
	kinds = make([]string, len(keys))
	ecos = make([]string, len(keys))
	names = make([]string, len(keys))
	fps = make([][]byte, len(keys))
	for i, k := range keys {
		kinds[i], ecos[i], names[i], fps[i] = k.Kind, k.Ecosystem, k.Name, k.Fingerprint
	}
	return kinds, ecos, names, fps
}

// SaveMatchKeys records what the match of a scan just stored (SaveScan)
// looked up, so that the next apply re-matches the image only if those
// lookups answer differently. The keys are taken to belong to the image's
// current inventory. m.Findings are not used (SaveScan stored them).
func (s *Store) SaveMatchKeys(ctx context.Context, imageID int64, m *Rematched) error {
	if m.Database == nil {
		return fmt.Errorf("recording the lookups of image %d: the match names no database", imageID)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var scannedAt time.Time
		if err := tx.QueryRow(ctx, "SELECT scanned_at FROM inventories WHERE image_id = $1 FOR UPDATE", imageID).Scan(&scannedAt); err != nil {
			return fmt.Errorf("reading its inventory: %w", err)
		}
		return saveMatch(ctx, tx, imageID, scannedAt, m, s.now().UTC())
	})
	if err != nil {
		return fmt.Errorf("recording the lookups of image %d: %w", imageID, err)
	}
	return nil
}

// matchUnchanged reports whether m is what is stored for the image already:
// the same open findings (compared as JSON), the same lookups with the same
// fingerprints, and a state for the same inventory, code and database.
func (s *Store) matchUnchanged(ctx context.Context, imageID int64, scannedAt time.Time, m *Rematched) (bool, error) {
	var st struct {
		scannedAt, dbBuiltAt time.Time
		versions             string
	}
	err := s.pool.QueryRow(ctx, "SELECT scanned_at, versions, db_built_at FROM image_match_state WHERE image_id = $1", imageID).
		Scan(&st.scannedAt, &st.versions, &st.dbBuiltAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the match state: %w", err)
	}
	if !st.scannedAt.Equal(scannedAt) || st.versions != m.Versions || !st.dbBuiltAt.Equal(m.Database.BuiltAt) {
		return false, nil
	}
	stored, err := s.OpenFindings(ctx, imageID)
	if err != nil {
		return false, err
	}
	if len(stored) != len(m.Findings) {
		return false, nil
	}
	byKey := make(map[string][]byte, len(stored))
	for i := range stored {
		raw, err := json.Marshal(&stored[i])
		if err != nil {
			return false, fmt.Errorf("encoding finding: %w", err)
		}
		byKey[stored[i].Key()] = raw
	}
	for i := range m.Findings {
		raw, err := json.Marshal(&m.Findings[i])
		if err != nil {
			return false, fmt.Errorf("encoding finding: %w", err)
		}
		if old, ok := byKey[m.Findings[i].Key()]; !ok || !bytes.Equal(old, raw) {
			return false, nil
		}
	}
	rows, err := s.pool.Query(ctx, "SELECT kind, ecosystem, name, fingerprint FROM image_match_keys WHERE image_id = $1", imageID)
	if err != nil {
		return false, fmt.Errorf("reading match keys: %w", err)
	}
	storedKeys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (MatchKey, error) {
		var k MatchKey
		err := r.Scan(&k.Kind, &k.Ecosystem, &k.Name, &k.Fingerprint)
		return k, err
	})
	if err != nil {
		return false, fmt.Errorf("reading match keys: %w", err)
	}
	have := make(map[[3]string][]byte, len(storedKeys))
	for _, k := range storedKeys {
		have[[3]string{k.Kind, k.Ecosystem, k.Name}] = k.Fingerprint
	}
	want := map[[3]string]bool{}
	for _, k := range m.Keys {
		id := [3]string{k.Kind, k.Ecosystem, k.Name}
		want[id] = true
		if fp, ok := have[id]; !ok || !bytes.Equal(fp, k.Fingerprint) {
			return false, nil
		}
	}
	return len(want) == len(have), nil
}
