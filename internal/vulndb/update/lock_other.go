//go:build !unix

package update

import (
	"errors"
	"io/fs"
	"os"
	"time"
)

// staleLock is the age after which a lock file left by a crashed update is
// taken over. A full update takes minutes.
const staleLock = 2 * time.Hour

// fileLock is an exclusively created lock file (no flock here): it is
// removed on release, and taken over when older than staleLock.
type fileLock struct {
	f *os.File
	p string
}

// tryLock takes the lock without waiting; nil, nil when another holds it.
func tryLock(p string) (*fileLock, error) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		if st, serr := os.Stat(p); serr == nil && time.Since(st.ModTime()) > staleLock {
			os.Remove(p)
			f, err = os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &fileLock{f: f, p: p}, nil
}

func (l *fileLock) describe(s string) { l.f.WriteAt([]byte(s+"\n"), 0) }

func (l *fileLock) release() {
	l.f.Close()
	os.Remove(l.p)
}
