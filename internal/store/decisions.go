package store

// The admission gate's decisions: every answer of its webhook and of its
// Gatekeeper provider, recorded in batches by the gate and listed by the
// dashboard.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sources of a Decision.
const (
	DecisionWebhook    = "webhook"    // the Kubernetes validating admission webhook
	DecisionGatekeeper = "gatekeeper" // the Gatekeeper external data provider
)

// Decision is one answer of the admission gate.
type Decision struct {
	ID        int64     `json:"id"`
	DecidedAt time.Time `json:"decided_at"`
	Source    string    `json:"source"` // DecisionWebhook or DecisionGatekeeper
	// UID is the AdmissionRequest's uid ("" for Gatekeeper, whose provider
	// requests carry only images: Namespace, Kind, Name, Username and
	// Operation are "" too).
	UID       string `json:"uid"`
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"` // "apps/v1 Deployment"
	Name      string `json:"name"` // "" when the request does not name the object
	Username  string `json:"username"`
	Operation string `json:"operation"` // CREATE, UPDATE, DELETE, CONNECT
	DryRun    bool   `json:"dry_run"`
	// Outcome is one of the gate's outcomes (admission.Outcome*: allowed,
	// warned, denied, fail_open, fail_closed). A Gatekeeper answer is
	// "allowed" when every image got a verdict, even a failing one: the
	// constraint, not the provider, denies.
	Outcome string   `json:"outcome"`
	Reason  string   `json:"reason"` // as in the audit annotation: the images and the rules they fail
	Images  []string `json:"images"` // the images judged, in order
}

// DecisionFilter selects the decisions Decisions lists.
type DecisionFilter struct {
	Outcome   string // "" for every outcome
	Namespace string // "" for every namespace
	// Limit is the most decisions listed: 0 for DefaultDecisionLimit, at
	// most MaxDecisionLimit.
	Limit int
	// BeforeID pages on: only decisions listed after decision BeforeID
	// (the last of the previous page) are listed. 0 for the newest.
	BeforeID int64
}

// Limits of DecisionFilter.Limit.
const (
	DefaultDecisionLimit = 100
	MaxDecisionLimit     = 1000
)

// RecordDecisions stores decisions in one statement (a COPY): all of them
// or none. A zero DecidedAt is stored as now. Text is stored without NUL
// bytes and invalid UTF-8, which PostgreSQL refuses: a request holding them
// must not cost the rest of its batch.
func (s *Store) RecordDecisions(ctx context.Context, ds []Decision) error {
	if len(ds) == 0 {
		return nil
	}
	now := s.now().UTC()
	rows := make([][]any, len(ds))
	for i, d := range ds {
		if d.Source != DecisionWebhook && d.Source != DecisionGatekeeper {
			return fmt.Errorf("recording admission decisions: decision %d: source %q is neither %q nor %q", i, d.Source, DecisionWebhook, DecisionGatekeeper)
		}
		if d.Outcome == "" {
			return fmt.Errorf("recording admission decisions: decision %d has no outcome", i)
		}
		at := d.DecidedAt.UTC()
		if d.DecidedAt.IsZero() {
			at = now
		}
		images := make([]string, len(d.Images))
		for j, img := range d.Images {
			images[j] = cleanText(img)
		}
		rows[i] = []any{at, d.Source, cleanText(d.UID), cleanText(d.Namespace), cleanText(d.Kind), cleanText(d.Name),
			cleanText(d.Username), cleanText(d.Operation), d.DryRun, cleanText(d.Outcome), cleanText(d.Reason), images}
	}
	_, err := s.pool.CopyFrom(ctx, pgx.Identifier{"admission_decisions"},
		[]string{"decided_at", "source", "uid", "namespace", "kind", "name", "username", "operation", "dry_run", "outcome", "reason", "images"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("recording %d admission decisions: %w", len(ds), err)
	}
	return nil
}

// cleanText is s as PostgreSQL's text takes it: valid UTF-8 without NUL.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

const decisionColumns = `id, decided_at, source, uid, namespace, kind, name, username, operation, dry_run, outcome, reason, images`

func scanDecision(row pgx.CollectableRow) (Decision, error) {
	var d Decision
	err := row.Scan(&d.ID, &d.DecidedAt, &d.Source, &d.UID, &d.Namespace, &d.Kind, &d.Name, &d.Username,
		&d.Operation, &d.DryRun, &d.Outcome, &d.Reason, &d.Images)
	return d, err
}

// Decisions lists the decisions f selects, newest first (by DecidedAt, then
// ID). A BeforeID whose decision has been pruned lists nothing: every
// older decision was pruned with it.
func (s *Store) Decisions(ctx context.Context, f DecisionFilter) ([]Decision, error) {
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = DefaultDecisionLimit
	case limit > MaxDecisionLimit:
		limit = MaxDecisionLimit
	}
	// The conditions are written only when set, rather than as
	// "$1 = '' OR outcome = $1": a prepared statement's generic plan could
	// not use the outcome index for the latter.
	var where []string
	args := []any{limit}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.Outcome != "" {
		where = append(where, "outcome = "+arg(f.Outcome))
	}
	if f.Namespace != "" {
		where = append(where, "namespace = "+arg(f.Namespace))
	}
	if f.BeforeID > 0 {
		where = append(where, "(decided_at, id) < (SELECT decided_at, id FROM admission_decisions WHERE id = "+arg(f.BeforeID)+")")
	}
	q := "SELECT " + decisionColumns + " FROM admission_decisions"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY decided_at DESC, id DESC LIMIT $1"
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("listing admission decisions: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanDecision)
	if err != nil {
		return nil, fmt.Errorf("listing admission decisions: %w", err)
	}
	return out, nil
}

// DecisionCounts counts the decisions since a time (inclusive) by outcome;
// outcomes with none are absent.
func (s *Store) DecisionCounts(ctx context.Context, since time.Time) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, "SELECT outcome, count(*) FROM admission_decisions WHERE decided_at >= $1 GROUP BY outcome", since.UTC())
	if err != nil {
		return nil, fmt.Errorf("counting admission decisions: %w", err)
	}
	out := map[string]int{}
	var outcome string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&outcome, &n}, func() error {
		out[outcome] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("counting admission decisions: %w", err)
	}
	return out, nil
}

// PruneDecisions deletes the decisions made before a time and returns how
// many it deleted.
func (s *Store) PruneDecisions(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM admission_decisions WHERE decided_at < $1", before.UTC())
	if err != nil {
		return 0, fmt.Errorf("pruning admission decisions: %w", err)
	}
	return tag.RowsAffected(), nil
}
