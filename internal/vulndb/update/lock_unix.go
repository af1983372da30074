//go:build unix

package update

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// fileLock is an flock(2) lock on the lock file. The kernel drops it when
// the process dies, so a crashed update never leaves a stale lock; the
// file itself stays (removing it would let two processes lock two files).
type fileLock struct{ f *os.File }

// tryLock takes the lock without waiting; nil, nil when another holds it.
func tryLock(p string) (*fileLock, error) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("flock: %w", err)
	}
	return &fileLock{f: f}, nil
}

// describe writes who holds the lock, for those waiting on it.
func (l *fileLock) describe(s string) {
	if err := l.f.Truncate(0); err == nil {
		l.f.WriteAt([]byte(s+"\n"), 0)
	}
}

func (l *fileLock) release() {
	l.f.Truncate(0)
	syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}
