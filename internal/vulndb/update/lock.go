package update

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// lockPoll is how often a waiting update tries the lock again.
const lockPoll = 200 * time.Millisecond

// lockPath is the lock file of a database: beside it, so that every
// process updating the same file meets the same lock.
func lockPath(db string) string { return db + ".lock" }

// lock takes the database's update lock, waiting up to opt.LockWait for
// another update to finish. The lock is held through the whole update —
// fetching (the download cache is shared too), the "up to date" check and
// the build — so that two updates never interleave and one never reports
// the other's result as its own. It returns the function that releases it.
func (u *updater) lock(ctx context.Context) (func(), error) {
	p := lockPath(u.opt.Path)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("creating database directory for %q: %w", p, err)
	}
	start := time.Now()
	announced := false
	for {
		l, err := tryLock(p)
		if err != nil {
			return nil, fmt.Errorf("taking the update lock %q: %w", p, err)
		}
		if l != nil {
			l.describe(fmt.Sprintf("pid %d, started %s", os.Getpid(), time.Now().UTC().Format(time.RFC3339)))
			return l.release, nil
		}
		holder := lockHolder(p)
		waited := time.Since(start)
		if u.opt.LockWait < 0 || waited >= u.opt.LockWait {
			msg := fmt.Sprintf("another update of %s is running (%s, lock file %s)", u.opt.Path, holder, p)
			if u.opt.LockWait > 0 {
				msg += fmt.Sprintf("; gave up after waiting %s", u.opt.LockWait)
			}
			return nil, fmt.Errorf("updating vulnerability database: %s", msg)
		}
		if !announced {
			announced = true
			u.progress("waiting for another update of %s to finish (%s)", u.opt.Path, holder)
			u.log.Info("waiting for another update of the database to finish", "path", u.opt.Path, "holder", holder, "lock", p)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for another update of %s: %w", u.opt.Path, ctx.Err())
		case <-time.After(min(lockPoll, u.opt.LockWait-waited)):
		}
	}
}

// lockHolder reads who holds the lock, as the holder described itself.
func lockHolder(p string) string {
	data, err := os.ReadFile(p)
	if s := strings.TrimSpace(string(data)); err == nil && s != "" && len(s) < 200 {
		return s
	}
	return "holder unknown"
}
