package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TokenPrefix starts every API token, so that a secret scanner (drydock's
// own, GitHub's) recognises a leaked one.
const TokenPrefix = "ddk_"

// The scopes a token can have. Write implies read.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// tokenBytes is the entropy of a token.
const tokenBytes = 32

// lastUsedPrecision bounds how often a token's last use is written: a busy
// client must not turn every read into a write.
const lastUsedPrecision = time.Minute

var (
	// ErrInvalidToken is returned for a token that is malformed, unknown or
	// revoked.
	ErrInvalidToken = errors.New("invalid API token")
	// ErrNoToken is returned when revoking an ID that names no token.
	ErrNoToken = errors.New("no such API token")
)

// Token is an API token as stored: everything but the token itself, which
// is shown once, when it is created, and kept only as its SHA-256.
//
// SHA-256 and not bcrypt or argon2: those make guessing a low-entropy
// password slow; a token is 256 random bits, which no one can guess at any
// speed, and a slow hash would cost every API request tens of milliseconds
// of CPU and prevent looking the token up by its hash.
type Token struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Scope      string     `json:"scope"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Allows reports whether the token's scope covers scope (write implies read).
func (t Token) Allows(scope string) bool {
	return t.Scope == ScopeWrite || t.Scope == scope
}

// ValidScope reports whether s is a scope a token can have.
func ValidScope(s string) bool { return s == ScopeRead || s == ScopeWrite }

func hashToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// CreateToken creates a token named name with scope and returns it with
// its secret: "ddk_" and 43 base64url characters. The secret is not stored
// and cannot be shown again.
func (s *Store) CreateToken(ctx context.Context, name, scope string) (Token, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Token{}, "", errors.New("creating an API token: a name is required")
	}
	if !ValidScope(scope) {
		return Token{}, "", fmt.Errorf("creating an API token: unknown scope %q (read or write)", scope)
	}
	raw := make([]byte, tokenBytes)
	if _, err := rand.Read(raw); err != nil {
		return Token{}, "", fmt.Errorf("creating an API token: %w", err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	t := Token{Name: name, Scope: scope, CreatedAt: s.now().UTC()}
	err := s.pool.QueryRow(ctx,
		"INSERT INTO api_tokens (name, scope, hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
		t.Name, t.Scope, hashToken(secret), t.CreatedAt).Scan(&t.ID)
	if err != nil {
		return Token{}, "", fmt.Errorf("creating an API token: %w", err)
	}
	return t, secret, nil
}

const tokenColumns = "id, name, scope, created_at, last_used_at, revoked_at"

func scanToken(r pgx.Row) (Token, error) {
	var t Token
	err := r.Scan(&t.ID, &t.Name, &t.Scope, &t.CreatedAt, &t.LastUsedAt, &t.RevokedAt)
	return t, err
}

// Tokens lists every token, revoked ones included, in ID order.
func (s *Store) Tokens(ctx context.Context) ([]Token, error) {
	rows, err := s.pool.Query(ctx, "SELECT "+tokenColumns+" FROM api_tokens ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("listing API tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Token, error) { return scanToken(r) })
	if err != nil {
		return nil, fmt.Errorf("listing API tokens: %w", err)
	}
	return out, nil
}

// ActiveTokens counts the tokens not revoked.
func (s *Store) ActiveTokens(ctx context.Context) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL").Scan(&n); err != nil {
		return 0, fmt.Errorf("counting API tokens: %w", err)
	}
	return n, nil
}

// RevokeToken revokes token id (revoking it again changes nothing); it
// returns the token. ErrNoToken if there is none.
func (s *Store) RevokeToken(ctx context.Context, id int64) (Token, error) {
	t, err := scanToken(s.pool.QueryRow(ctx,
		"UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING "+tokenColumns,
		id, s.now().UTC()))
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, fmt.Errorf("revoking API token %d: %w", id, ErrNoToken)
	}
	if err != nil {
		return Token{}, fmt.Errorf("revoking API token %d: %w", id, err)
	}
	return t, nil
}

// Authenticate returns the live token whose secret is given, and records
// its use (to the minute). ErrInvalidToken if it is malformed, unknown or
// revoked. The lookup is by hash: its timing says nothing about the secret.
func (s *Store) Authenticate(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) != len(TokenPrefix)+base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return Token{}, ErrInvalidToken
	}
	t, err := scanToken(s.pool.QueryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE hash = $1", hashToken(secret)))
	if errors.Is(err, pgx.ErrNoRows) {
		return Token{}, ErrInvalidToken
	}
	if err != nil {
		return Token{}, fmt.Errorf("checking an API token: %w", err)
	}
	if t.RevokedAt != nil {
		return Token{}, ErrInvalidToken
	}
	now := s.now().UTC()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= lastUsedPrecision {
		if _, err := s.pool.Exec(ctx, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", t.ID, now); err != nil {
			return Token{}, fmt.Errorf("recording the use of API token %d: %w", t.ID, err)
		}
		t.LastUsedAt = &now
	}
	return t, nil
}
