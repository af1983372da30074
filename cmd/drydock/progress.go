package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/dustin/go-humanize"

	"github.com/drydock-scan/drydock/internal/scan"
)

// layerProgress draws one status line on a terminal while layers are read.
type layerProgress struct {
	mu     sync.Mutex
	w      io.Writer
	bytes  map[int]int64
	done   int
	cached int
	total  int
}

func newLayerProgress(w io.Writer) *layerProgress {
	return &layerProgress{w: w, bytes: map[int]int64{}}
}

func (p *layerProgress) update(ev scan.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total = ev.Layers
	p.bytes[ev.Layer] = ev.Bytes
	if ev.Done {
		p.done++
		if ev.Cached {
			p.cached++
		}
	}
	var sum int64
	for _, b := range p.bytes {
		sum += b
	}
	fmt.Fprintf(p.w, "\r\033[Klayers %d/%d read (%d from cache), %s", p.done, p.total, p.cached, humanize.IBytes(uint64(sum)))
}

// finish clears the status line.
func (p *layerProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.total > 0 {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
