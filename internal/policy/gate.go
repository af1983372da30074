package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// Exit codes of drydock commands that produce a verdict.
const (
	ExitOK        = 0 // clean, or the policy passed
	ExitFail      = 1 // a deny rule or the gate failed (replaced by --exit-code N)
	ExitUsage     = 2 // bad flags or arguments
	ExitScanError = 3 // the scan itself failed: image unreadable, database missing…
)

// Gate rule IDs in a verdict.
const (
	GateSeverity = "gate:severity"
	GateFailOn   = "gate:fail-on"
	// GateMalware fails on any malware finding that no ignore entry
	// allowed by ID: always on, whatever the other flags.
	GateMalware = "gate:malware"
)

// Annotation sources written by the gate.
const (
	SourceSeverityFlag      = "--severity"
	SourceIgnoreUnfixedFlag = "--ignore-unfixed"
)

// Gate holds the command-line gate flags.
type Gate struct {
	// Severities (--severity) selects the severities that are shown and
	// counted. Findings, secrets and misconfigurations of other severities
	// stay in the report with a "filtered" annotation. Empty selects all.
	// Items may be comma-separated lists; case does not matter.
	Severities []string
	// IgnoreUnfixed (--ignore-unfixed) suppresses findings that have no
	// fixed version.
	IgnoreUnfixed bool
	// ExitCode (--exit-code N): when non-zero, any finding, secret or
	// misconfiguration that is neither suppressed nor filtered fails the
	// gate (rule "gate:severity"), and every failure exits with N instead of
	// ExitFail — except a supply-chain failure, which exits ExitUnverified.
	ExitCode int
	// FailOn (--fail-on SEVERITY) fails (rule "gate:fail-on") when any
	// finding, secret or misconfiguration at or above this severity is
	// neither suppressed nor filtered.
	FailOn string
	// RequireSignature (--require-signature) fails (rule
	// "gate:signature", exit ExitUnverified) unless the verify stage
	// verified a signature of the scanned digest. A result whose
	// supply-chain section says Required fails the same way without it.
	RequireSignature bool
}

// normalized validates the gate and returns the selected severities (nil for
// all) and the fail-on severity, upper-cased.
func (g *Gate) normalized() (selected []string, failOn string, err error) {
	for _, item := range g.Severities {
		for _, s := range strings.Split(item, ",") {
			s = strings.ToUpper(strings.TrimSpace(s))
			if s == "" {
				continue
			}
			if !slices.Contains(vocab.Severities()[:], s) {
				return nil, "", fmt.Errorf("unknown severity %q (want one of %s)", s, strings.Join(vocab.Severities()[:], ", "))
			}
			if !slices.Contains(selected, s) {
				selected = append(selected, s)
			}
		}
	}
	if g.FailOn != "" {
		failOn = strings.ToUpper(strings.TrimSpace(g.FailOn))
		if !slices.Contains(vocab.Severities()[:], failOn) {
			return nil, "", fmt.Errorf("unknown --fail-on severity %q (want one of %s)", g.FailOn, strings.Join(vocab.Severities()[:], ", "))
		}
	}
	if g.ExitCode < 0 || g.ExitCode > 255 {
		return nil, "", fmt.Errorf("--exit-code %d out of range 0-255", g.ExitCode)
	}
	return selected, failOn, nil
}

// Validate reports whether the gate flags are valid.
func (g *Gate) Validate() error {
	_, _, err := g.normalized()
	return err
}
