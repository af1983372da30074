package store

// Webhooks and their delivery outbox. Deliveries are inserted with their
// event (insertEvent), in its transaction; a dispatcher claims the due ones,
// posts them and records the outcome here.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Webhook is a registered receiver of events. Its secret is kept sealed and
// never leaves the store through the API.
type Webhook struct {
	ID        int64     `json:"id"`
	URL       string    `json:"url"`
	Kinds     []string  `json:"kinds"` // empty: every kind
	CreatedAt time.Time `json:"created_at"`
	// SealedSecret is the signing secret sealed with the server's key.
	SealedSecret string `json:"-"`
}

// AddWebhook registers a webhook.
func (s *Store) AddWebhook(ctx context.Context, url, sealedSecret string, kinds []string) (Webhook, error) {
	if kinds == nil {
		kinds = []string{}
	}
	w := Webhook{URL: url, Kinds: kinds, SealedSecret: sealedSecret, CreatedAt: s.now().UTC()}
	if err := s.pool.QueryRow(ctx, "INSERT INTO webhooks (url, secret, kinds, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
		url, sealedSecret, kinds, w.CreatedAt).Scan(&w.ID); err != nil {
		return Webhook{}, fmt.Errorf("registering webhook: %w", err)
	}
	return w, nil
}

// Webhooks lists the webhooks in ID order.
func (s *Store) Webhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.pool.Query(ctx, "SELECT id, url, kinds, created_at, secret FROM webhooks ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Webhook, error) {
		var w Webhook
		err := r.Scan(&w.ID, &w.URL, &w.Kinds, &w.CreatedAt, &w.SealedSecret)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("listing webhooks: %w", err)
	}
	return out, nil
}

// DeleteWebhook removes a webhook and its deliveries; false if there was
// none.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM webhooks WHERE id = $1", id)
	if err != nil {
		return false, fmt.Errorf("deleting webhook %d: %w", id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one event to post to one webhook.
type Delivery struct {
	ID        int64  `json:"id"`
	EventID   int64  `json:"event_id"`
	WebhookID int64  `json:"webhook_id"`
	State     string `json:"state"`
	// Attempts counts the claims: an attempt by a worker that died counts.
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LastStatus    int        `json:"last_status,omitempty"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`

	// Set by ClaimDeliveries only: what to post, and where.
	Event        Event  `json:"-"`
	URL          string `json:"-"`
	SealedSecret string `json:"-"`
}

// ClaimDeliveries takes up to limit pending deliveries that are due, for
// lease: no other dispatcher takes them until the lease ends (a dispatcher
// that dies mid-request leaves them to the next). Each claim counts as an
// attempt.
func (s *Store) ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]Delivery, error) {
	now := time.Now().UTC()
	rows, err := s.pool.Query(ctx, `
		WITH due AS (
		    SELECT id FROM webhook_deliveries
		    WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1)
		    ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
		UPDATE webhook_deliveries d SET claimed_until = $3, attempts = d.attempts + 1
		FROM due, events e, webhooks w
		WHERE d.id = due.id AND e.id = d.event_id AND w.id = d.webhook_id
		RETURNING d.id, d.event_id, d.webhook_id, d.state, d.attempts, d.next_attempt_at, d.last_status, d.last_error,
		          d.created_at, e.payload, w.url, w.secret`,
		now, limit, now.Add(lease))
	if err != nil {
		return nil, fmt.Errorf("claiming webhook deliveries: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		var payload []byte
		if err := r.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.State, &d.Attempts, &d.NextAttemptAt, &d.LastStatus,
			&d.LastError, &d.CreatedAt, &payload, &d.URL, &d.SealedSecret); err != nil {
			return d, err
		}
		ev, err := decodeEvent(d.EventID, payload)
		d.Event = ev
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming webhook deliveries: %w", err)
	}
	return out, nil
}

// DeliveryDone records a delivery the receiver accepted (status 2xx).
func (s *Store) DeliveryDone(ctx context.Context, id int64, status int) error {
	now := time.Now().UTC()
	if _, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET state = 'delivered', last_status = $2, last_error = '',
		delivered_at = $3, claimed_until = NULL WHERE id = $1`, id, status, now); err != nil {
		return fmt.Errorf("recording delivery %d: %w", id, err)
	}
	return nil
}

// DeliveryFailed records a failed attempt: the delivery is tried again at
// next, or, when final, marked failed for good.
func (s *Store) DeliveryFailed(ctx context.Context, id int64, status int, reason string, next time.Time, final bool) error {
	state := DeliveryPending
	if final {
		state = DeliveryFailed
	}
	if _, err := s.pool.Exec(ctx, `UPDATE webhook_deliveries SET state = $2, last_status = $3, last_error = $4,
		next_attempt_at = $5, claimed_until = NULL WHERE id = $1`, id, state, status, reason, next.UTC()); err != nil {
		return fmt.Errorf("recording delivery %d: %w", id, err)
	}
	return nil
}

// Deliveries returns a webhook's deliveries, newest first.
func (s *Store) Deliveries(ctx context.Context, webhookID int64, limit int) ([]Delivery, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT id, event_id, webhook_id, state, attempts, next_attempt_at, last_status, last_error,
		created_at, delivered_at FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`, webhookID, min(limit, 1000))
	if err != nil {
		return nil, fmt.Errorf("reading deliveries of webhook %d: %w", webhookID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := r.Scan(&d.ID, &d.EventID, &d.WebhookID, &d.State, &d.Attempts, &d.NextAttemptAt, &d.LastStatus, &d.LastError,
			&d.CreatedAt, &d.DeliveredAt)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading deliveries of webhook %d: %w", webhookID, err)
	}
	return out, nil
}

// WebhookExists reports whether a webhook ID is registered.
func (s *Store) WebhookExists(ctx context.Context, id int64) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = $1)", id).Scan(&ok)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("looking up webhook %d: %w", id, err)
	}
	return ok, nil
}
