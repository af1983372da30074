package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
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
	// Claims come in bursts (a scan's layers): idle claim connections are
	// closed after a minute rather than pgx's 30, to give PostgreSQL's
	// connection slots back.
	c.MaxConnIdleTime = min(c.MaxConnIdleTime, time.Minute)
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
	id := claimLockID(key)
	var c *pgxpool.Conn
	err = retryConn(ctx, func() error {
		var err error
		if c, err = s.claims.Acquire(ctx); err != nil {
			return fmt.Errorf("getting a connection: %w", err)
		}
		if _, err := c.Exec(ctx, "SELECT pg_advisory_lock($1)", id); err != nil {
			// The lock may have been granted as the wait was cancelled:
			// the session, and any lock it holds, goes with the connection.
			closeConn(c)
			return err
		}
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("claiming layer: %w", err)
	}
	var once sync.Once
	return func() { once.Do(func() { unlockClaim(c, id) }) }, nil
}

// retryConn runs f again while it fails for want of a connection (the
// database restarting, a connection it closed), for about 6 seconds with
// back-off; any other error, success or ctx ends it.
func retryConn(ctx context.Context, f func() error) error {
	wait := 100 * time.Millisecond
	for try := 1; ; try++ {
		err := f()
		if err == nil || try == 7 || !isConnError(err) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// isConnError reports whether err is the connection's rather than the
// statement's: no answer from the server, or the server closing the
// session (class 08, admin or crash shutdown, starting up).
func isConnError(err error) bool {
	if errors.Is(err, pgx.ErrNoRows) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || pgconn.SafeToRetry(err) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || isNetError(err)
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
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
