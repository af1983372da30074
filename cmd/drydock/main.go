// Command drydock scans container images: what is inside them (SBOM) and
// what is wrong with them (vulnerabilities, secrets, misconfigurations).
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// scanMemoryLimit is the soft memory limit of a one-shot scan. A scan's live
// heap is bounded by design (streamed layers, per-file and per-scan caps),
// but Go lets the heap grow to twice what is live before it collects; this
// limit makes it collect sooner instead, so a hostile image stays under
// 150 MB of RSS (docs/performance.md, "Hostile inputs"). It is soft: a scan
// that truly needs more gets it, at the cost of more frequent collections
// (the runtime caps their CPU at about half). GOMEMLIMIT, when set, wins.
const scanMemoryLimit = 100 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	limit := func() {
		if os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(scanMemoryLimit)
		}
	}
	code := runWith(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, limit)
	stop()
	os.Exit(code)
}
