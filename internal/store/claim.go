package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultMaxConns is the size of each pool when neither Options.MaxConns
// nor the DSN's pool_max_conns set it: room for a few scans reading a few
// layers each (pgx's own default, max(4, CPUs), would make a worker's
// parallel layers queue for connections).
func DefaultMaxConns() int32 { return int32(max(16, 4*runtime.NumCPU())) }

// setMaxConns sizes cfg's pool: n if set, else the DSN's pool_max_conns,
// else DefaultMaxConns.
func setMaxConns(cfg *pgxpool.Config, dsn string, n int32) {
	switch {
	case n > 0:
		cfg.MaxConns = n
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns()
	}
}

// newClaimPool is the pool of claim connections: cfg's database and size;
// cancelling a claim's wait cancels the query on the server (a cancel
// request) rather than only dropping the socket, so that a cancelled waiter
// leaves the lock's queue at once.
func newClaimPool(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	c := cfg.Copy()
	c.ConnConfig.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 5 * time.Second}
	}
	p, err := pgxpool.NewWithConfig(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", cfg.ConnConfig.Host, err)
	}
	return p, nil
}

// claimLockID is the advisory lock key of a layer cache key: the first 8
// bytes of its SHA-256. Two keys sharing one (never seen) would only make
// one scan wait for the other.
func claimLockID(key string) int64 {
	h := sha256.Sum256([]byte("drydock layer " + key))
	return int64(binary.BigEndian.Uint64(h[:8]))
}

// Claim implements scan.LayerClaimer across every process on the database:
// a session-level advisory lock on the key, held on a connection of its
// own until release. A second claim of the key (here or in another
// process) waits until the first is released — or until its holder's
// connection closes: a worker killed mid-walk leaves no claim behind.
// Cancelling ctx ends the wait with ctx's error.
func (s *Store) Claim(ctx context.Context, key string) (release func(), err error) {
	c, err := s.claims.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("claiming layer: getting a connection: %w", err)
	}
	id := claimLockID(key)
	if _, err := c.Exec(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
		// The lock may have been granted as the wait was cancelled: the
		// session, and any lock it holds, goes with the connection.
		closeConn(c)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("claiming layer: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { unlockClaim(c, id) }) }, nil
}

// unlockClaim releases a claim and gives its connection back to the pool;
// a connection that cannot say it unlocked (the database restarted, the
// network went away) is closed instead, which releases the lock as well.
func unlockClaim(c *pgxpool.Conn, id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var unlocked bool
	if err := c.QueryRow(ctx, "SELECT pg_advisory_unlock($1)", id).Scan(&unlocked); err != nil || !unlocked {
		closeConn(c)
		return
	}
	c.Release()
}

// closeConn takes c out of its pool and closes it.
func closeConn(c *pgxpool.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.Hijack().Close(ctx)
}
