package testimage

import (
	"bufio"
	"bytes"
	"regexp"
	"strconv"
	"sync"
)

// RegistryOptions configure StartRegistryWith.
type RegistryOptions struct {
	// CA, if set, serves TLS with its certificate and requires htpasswd
	// basic auth (RegistryUser, RegistryPassword).
	CA *TestCA
	// AccessLog records every request the registry answers (Requests).
	AccessLog bool
	// Delete lets clients delete manifests (storage: delete: enabled).
	Delete bool
}

// Registry is a docker-registry process started by StartRegistryWith.
type Registry struct {
	// Host is "127.0.0.1:PORT".
	Host   string
	access *lockedBuffer
}

// Request is one line of the registry's access log.
type Request struct {
	Method string
	Path   string // without the query
	Status int
}

// accessLine matches the request and status of a combined-log line:
// 127.0.0.1 - - [date] "GET /v2/x/blobs/sha256:… HTTP/1.1" 200 1234 "" "agent".
var accessLine = regexp.MustCompile(`"([A-Z]+) ([^ ?"]+)[^ "]* HTTP/[0-9.]+" ([0-9]{3}) `)

// Requests returns the requests the registry logged so far, in order
// (none unless it was started with AccessLog). The registry writes a line
// once it has sent the response.
func (r *Registry) Requests() []Request {
	var out []Request
	sc := bufio.NewScanner(bytes.NewReader(r.access.Bytes()))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		m := accessLine.FindSubmatch(sc.Bytes())
		if m == nil {
			continue
		}
		code, _ := strconv.Atoi(string(m[3]))
		out = append(out, Request{Method: string(m[1]), Path: string(m[2]), Status: code})
	}
	return out
}

// lockedBuffer is a bytes.Buffer written by the registry's output copier
// and read by the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Bytes returns a copy of what was written.
func (b *lockedBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}
