package match

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/distro"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/version"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// FilesEcosystem names the coverage entry of files the layer walker could
// not read (too large, a hardlink to content not captured): they were not
// looked at by any extractor or secret rule.
const FilesEcosystem = "image files"

// MalwareChecks names the coverage entry of files the malware checks did
// not look at (over the size bound; not scanned by an engine that failed):
// the notes of the extractors named "malware/…".
const MalwareChecks = "malware checks"

// maxReasons bounds the reasons kept per coverage entry.
const maxReasons = 20

// Coverage reports, per advisory ecosystem, whether db can cover the
// packages of inv that matching (with opt) looks up, and whether inv's
// package databases were read whole. It is what lets a report say
// "no advisories for Debian 12 in this database" instead of "no
// vulnerabilities".
func Coverage(ctx context.Context, db vulndb.Reader, inv *inventory.Inventory, opt Options) ([]result.Coverage, error) {
	meta, err := db.Meta(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading database metadata: %w", err)
	}
	distroEco := distro.AdvisoryEcosystem(inv.Distro)
	osKey := distroEco
	if osKey == "" {
		osKey = osName(inv.Distro)
	}
	entries := map[string]*result.Coverage{}
	get := func(key string, os bool) *result.Coverage {
		e, ok := entries[key]
		if !ok {
			e = &result.Coverage{Ecosystem: key, OS: os}
			entries[key] = e
		}
		return e
	}
	byExtractor := map[string]string{} // extractor → the ecosystem of its packages
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if p.FoundBy != "" {
			byExtractor[p.FoundBy] = p.Ecosystem
		}
		if !p.Matchable() || (p.Declared && !opt.MatchDeclared) || (p.Owner != "" && !opt.MatchOwned) {
			continue
		}
		if inventory.IsOS(p.Ecosystem) {
			get(osKey, true).Packages++
			continue
		}
		q, ok := queryFor(p, distroEco)
		if !ok {
			continue
		}
		get(q.ecosystem, false).Packages++
	}
	// Warnings of the extractors: a package database or file read in part.
	partial := map[string]bool{}
	for _, n := range inv.Notes {
		if n.Level != "warning" || n.Extractor == "" {
			continue
		}
		var e *result.Coverage
		switch {
		case strings.HasPrefix(n.Extractor, "os/"):
			e = get(osKey, true)
		case n.Extractor == "walk":
			e = get(FilesEcosystem, false)
		case strings.HasPrefix(n.Extractor, "malware/"):
			e = get(MalwareChecks, false)
		default:
			eco := byExtractor[n.Extractor]
			if eco == "" || inventory.IsOS(eco) {
				eco = n.Extractor
			}
			e = get(eco, false)
		}
		partial[e.Ecosystem] = true
		reason := n.Message
		if n.Path != "" {
			reason = n.Path + ": " + reason
		}
		addReason(e, reason)
	}
	// The enrichment feeds: without the KEV catalog no finding can be marked
	// known-exploited (and a policy on KEV passes blind).
	for _, m := range meta.Missing {
		if m.Name == "cisa-kev" {
			e := get("cisa-kev", false)
			addReason(e, "known-exploited (KEV) marks are missing from this database: "+m.Reason)
			partial[e.Ecosystem] = true
		}
	}
	out := make([]result.Coverage, 0, len(entries))
	for _, e := range entries {
		switch {
		case e.Ecosystem == FilesEcosystem || e.Ecosystem == MalwareChecks || e.Ecosystem == "cisa-kev":
			e.Status = vocab.CoveragePartial
		case e.OS:
			coverOS(e, inv.Distro, distroEco, meta)
		default:
			coverLanguage(e, meta)
		}
		if missingFeeds(e, meta.Missing) && e.Status == vocab.CoverageComplete {
			partial[e.Ecosystem] = true
		}
		if e.Status == vocab.CoverageComplete && partial[e.Ecosystem] {
			e.Status = vocab.CoveragePartial
		}
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b result.Coverage) int {
		if a.OS != b.OS {
			if a.OS {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Ecosystem, b.Ecosystem)
	})
	return out, nil
}

func coverOS(e *result.Coverage, d *inventory.Distro, distroEco string, meta vulndb.Metadata) {
	if distroEco == "" {
		e.Status = vocab.CoverageUnsupported
		switch {
		case d == nil:
			e.Reasons = append([]string{"OS packages found but no distribution was detected: they cannot be matched"}, e.Reasons...)
		default:
			e.Reasons = append([]string{fmt.Sprintf("no advisory source for %s: its OS packages were not matched", osName(d))}, e.Reasons...)
		}
		return
	}
	ecos := []string{distroEco}
	if distro.AdvisoryEcosystemIsPrefix(d) {
		ecos = extendingEcosystems(distroEco, meta.Counts)
	}
	for _, eco := range ecos {
		e.Advisories += meta.Counts[eco]
	}
	if e.Advisories == 0 {
		e.Status = vocab.CoverageNoAdvisories
		e.Reasons = append([]string{fmt.Sprintf("the database has no advisories for %s (%s): run \"drydock db update\" with a source that has them", distroEco, osName(d))}, e.Reasons...)
		return
	}
	e.Status = vocab.CoverageComplete
}

func coverLanguage(e *result.Coverage, meta vulndb.Metadata) {
	if _, err := version.For(e.Ecosystem); err != nil {
		e.Status = vocab.CoverageUnsupported
		e.Reasons = append([]string{fmt.Sprintf("no version comparator for %s: its packages were not matched", e.Ecosystem)}, e.Reasons...)
		return
	}
	e.Advisories = meta.Counts[e.Ecosystem]
	if e.Advisories == 0 {
		e.Status = vocab.CoverageNoAdvisories
		e.Reasons = append([]string{fmt.Sprintf("the database has no advisories for %s: run \"drydock db update\" with a source that has them", e.Ecosystem)}, e.Reasons...)
		return
	}
	e.Status = vocab.CoverageComplete
}

// missingFeeds adds a reason for every advisory feed of e's ecosystem the
// last database update could not get (an Alpine secdb branch that failed to
// download while OSV's Alpine records came through) and reports whether there
// was one.
func missingFeeds(e *result.Coverage, missing []vulndb.MissingSource) bool {
	found := false
	for _, m := range missing {
		if m.Ecosystem == "" || e.OS && e.Status == vocab.CoverageUnsupported {
			continue
		}
		if m.Ecosystem == e.Ecosystem || strings.HasPrefix(e.Ecosystem, m.Ecosystem+":") {
			where := m.Name
			if m.URL != "" {
				where += " (" + m.URL + ")"
			}
			addReason(e, fmt.Sprintf("the advisory feed %s is missing from this database: %s", where, m.Reason))
			found = true
		}
	}
	return found
}

func addReason(e *result.Coverage, r string) {
	switch {
	case len(e.Reasons) < maxReasons:
		e.Reasons = append(e.Reasons, r)
	case len(e.Reasons) == maxReasons:
		e.Reasons = append(e.Reasons, "… more in the notes")
	}
}

// osName names a distribution for people: "alpine edge", "debian 12".
func osName(d *inventory.Distro) string {
	if d == nil {
		return "unknown distribution"
	}
	v := d.VersionID
	if r := distro.Release(d); r != "" && (v == "" || r == "edge") {
		v = r
	}
	return strings.TrimSpace(d.ID + " " + v)
}
