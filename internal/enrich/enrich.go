// Package enrich is the stage between matching and policy: an explicit,
// ordered list of enrichers, each adding evidence to findings as annotations.
//
//	match ──► enrich.Run(enrichers…) ──► policy
//
// An enricher never rewrites a finding. It reads the scan result and returns
// Additions, one annotation for one finding; Run applies them, in the order
// of the list, so an enricher cannot change what matching said (the ID, the
// package, the fixed version, the severity) — only add to it. Later
// enrichers (Go reachability, base-image membership, malware, exploit data)
// go in the list the caller passes; there is no registry and no init().
package enrich

import (
	"context"
	"fmt"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
)

// Enricher adds evidence to the findings of a scan result.
type Enricher interface {
	// Name is unique and stable, e.g. "kev".
	Name() string
	// Version is bumped whenever the additions for the same result change.
	Version() int
	// Enrich returns what it adds. res must be treated as read-only.
	Enrich(ctx context.Context, res *result.Result) ([]Addition, error)
}

// Addition is one annotation for one finding.
type Addition struct {
	// Finding is the finding's Key() ("<id>@<package id>").
	Finding    string
	Annotation finding.Annotation
}

// Run runs the enrichers in order and applies their additions to
// res.Findings. An annotation without a Source gets the enricher's name; an
// addition for a finding that does not exist is an error (an enricher bug,
// never silently dropped). The enrichers that ran are recorded in
// res.Versions.Enrichers as "name@version".
func Run(ctx context.Context, res *result.Result, enrichers []Enricher) error {
	index := make(map[string]int, len(res.Findings))
	for i := range res.Findings {
		index[res.Findings[i].Key()] = i
	}
	for _, e := range enrichers {
		if err := ctx.Err(); err != nil {
			return err
		}
		adds, err := e.Enrich(ctx, res)
		if err != nil {
			return fmt.Errorf("enricher %s: %w", e.Name(), err)
		}
		for _, a := range adds {
			i, ok := index[a.Finding]
			if !ok {
				return fmt.Errorf("enricher %s: annotation for unknown finding %q", e.Name(), a.Finding)
			}
			if a.Annotation.Kind == "" {
				return fmt.Errorf("enricher %s: annotation without a kind for %q", e.Name(), a.Finding)
			}
			if a.Annotation.Source == "" {
				a.Annotation.Source = e.Name()
			}
			f := &res.Findings[i]
			f.Annotations = append(f.Annotations, a.Annotation)
		}
		res.Versions.Enrichers = append(res.Versions.Enrichers, fmt.Sprintf("%s@%d", e.Name(), e.Version()))
	}
	return nil
}
