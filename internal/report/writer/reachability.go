package writer

import (
	"fmt"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// reachability returns the status and reason of a finding's Go
// reachability annotation (the last one), or "" when it has none.
func reachability(f *finding.Finding) (status, reason string) {
	for _, a := range f.Annotations {
		if a.Kind == vocab.AnnotationReachability {
			status, reason = a.Status, a.Reason
		}
	}
	return status, reason
}

// reachabilityLine counts the Go reachability of the findings, for the
// summary: "" when none has any.
func reachabilityLine(fs []finding.Finding) string {
	n := map[string]int{}
	any := false
	for i := range fs {
		if st, _ := reachability(&fs[i]); st != "" {
			n[st]++
			any = true
		}
	}
	if !any {
		return ""
	}
	var parts []string
	for _, st := range []string{vocab.ReachabilitySymbolPresent, vocab.ReachabilityPackageImported, vocab.ReachabilityModuleOnly, vocab.ReachabilityUnknown} {
		parts = append(parts, fmt.Sprintf("%s %d", st, n[st]))
	}
	return "Go code in the binaries: " + strings.Join(parts, ", ") + " (what the binary holds, not what it calls)"
}

// counted keeps the findings that are neither suppressed nor filtered.
func counted(fs []finding.Finding) []finding.Finding {
	var out []finding.Finding
	for i := range fs {
		if !fs[i].Suppressed() {
			out = append(out, fs[i])
		}
	}
	return out
}
