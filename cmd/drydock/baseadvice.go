package main

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/baseimage"
	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// adviseBase fills res.BaseImage's findings and advice (--base-advice):
// every newer base of the same family in the index, scanned by drydock with
// the scan's own database, matching options and policy filters, and what
// it would leave and fix. A candidate that cannot be scanned is listed with
// unknown counts and the reason — never as clean.
//
// It returns the findings of each scanned candidate, after the policy's
// filters, by its advice's From line: the fix plan takes the chosen
// candidate's from there instead of scanning it again.
func adviseBase(ctx context.Context, e *env, cfg scan.Config, eng *policy.Engine, res *result.Result) (map[string][]finding.Finding, error) {
	return adviseBases(ctx, e, cfg, eng, res, false)
}

// adviseBaseWith is adviseBase; with other (--base-advice-other) it also
// lists the bases of the other repositories and tag families in the index
// (baseimage.OtherCandidates: another distribution, another variant),
// scanned the same way, after the same-family ones (which keep their
// order), ranked by what they leave: critical, then high, then total
// findings (then the most fixed, then by name), those whose scan noted a
// limit of what it saw after those whose scan did not; those that could
// not be scanned come last, by name, with the reason.
func adviseBaseWith(ctx context.Context, e *env, cfg scan.Config, eng *policy.Engine, res *result.Result, other bool) error {
	_, err := adviseBases(ctx, e, cfg, eng, res, other)
	return err
}

// adviseBases is adviseBaseWith, returning the candidates' findings as
// adviseBase does.
func adviseBases(ctx context.Context, e *env, cfg scan.Config, eng *policy.Engine, res *result.Result, other bool) (map[string][]finding.Finding, error) {
	b := res.BaseImage
	if b == nil || cfg.BaseImages == nil {
		return nil, nil
	}
	var base *baseimage.Entry
	for i := range cfg.BaseImages.Entries {
		en := &cfg.BaseImages.Entries[i]
		if en.Name() == b.Name && (b.ManifestDigest == "" || en.ManifestDigest == b.ManifestDigest) {
			base = en
			break
		}
	}
	current, baseKeys, _, err := counted(ctx, eng, res, func(f *finding.Finding) bool {
		return slices.ContainsFunc(f.Annotations, func(a finding.Annotation) bool { return a.Kind == vocab.AnnotationBaseImage })
	})
	if err != nil {
		return nil, err
	}
	b.Findings = &current
	scanned := map[string][]finding.Finding{}
	family := baseimage.Candidates(cfg.BaseImages, base)
	for _, c := range family {
		adv, _, found, err := adviseCandidate(ctx, e, cfg, eng, c, baseKeys)
		if err != nil {
			return nil, err
		}
		if adv.Scanned {
			scanned[adv.From] = found
		}
		b.Advice = append(b.Advice, adv)
	}
	var others []baseimage.Candidate
	if other {
		others = baseimage.OtherCandidates(cfg.BaseImages, base)
		var ranked []rankedAdvice
		for _, c := range others {
			adv, caveat, found, err := adviseCandidate(ctx, e, cfg, eng, c, baseKeys)
			if err != nil {
				return nil, err
			}
			if adv.Scanned {
				scanned[adv.From] = found
			}
			if adv.Scanned && c.Entry.Platform != "" && base.Platform != "" && c.Entry.Platform != base.Platform {
				adv.Note = joinNote(fmt.Sprintf("%s, not the base's %s", c.Entry.Platform, base.Platform), adv.Note)
			}
			ranked = append(ranked, rankedAdvice{adv, caveat})
		}
		slices.SortStableFunc(ranked, rankOther)
		for _, r := range ranked {
			b.Advice = append(b.Advice, r.adv)
		}
	}
	switch {
	case base == nil:
		b.Note = joinNote(b.Note, "no upgrade advice: the base is not an indexed image (drydock base add)")
	case len(family) == 0:
		b.Note = joinNote(b.Note, "no newer base of the same family in the index")
	}
	if other && base != nil && len(others) == 0 {
		b.Note = joinNote(b.Note, "no base of another family in the index that drydock can scan (drydock base add)")
	}
	return scanned, nil
}

// rankedAdvice is a scanned candidate and whether its scan noted a limit
// of what it could see (no OS package database…).
type rankedAdvice struct {
	adv    result.BaseAdvice
	caveat bool
}

// rankOther orders other-family candidates: scanned ones by what they
// leave (critical, high, total), then the most fixed, then by name — those
// whose scan noted a limit (busybox: no OS package database, so its few
// findings are not a clean bill) after those whose scan did not; the
// unscanned ones (counts unknown, never taken for clean) last, by name.
func rankOther(ra, rb rankedAdvice) int {
	a, b := ra.adv, rb.adv
	if a.Scanned != b.Scanned {
		if a.Scanned {
			return -1
		}
		return 1
	}
	if ra.caveat != rb.caveat {
		if rb.caveat {
			return -1
		}
		return 1
	}
	if a.Scanned {
		if c := cmp.Or(cmp.Compare(a.Leaves.Critical, b.Leaves.Critical), cmp.Compare(a.Leaves.High, b.Leaves.High),
			cmp.Compare(a.Leaves.Total, b.Leaves.Total), -cmp.Compare(a.Fixes, b.Fixes)); c != 0 {
			return c
		}
	}
	return strings.Compare(a.Name, b.Name)
}

// adviseCandidate scans one candidate base as drydock scans the image (the
// same database, matching options and policy filters; no secrets,
// misconfiguration or malware scanners) and says what it would leave and
// how many of the base's findings (baseKeys) it fixes. A candidate that
// cannot be scanned gets unknown counts and the reason; a scan that noted
// limits of what it saw (no OS package database, unreadable files) gives
// them in the note, and caveat is true: its counts are not a clean bill.
// found are the candidate's findings after the policy's filters.
// Only a cancelled context or a failing policy is an error.
func adviseCandidate(ctx context.Context, e *env, cfg scan.Config, eng *policy.Engine, c baseimage.Candidate, baseKeys map[string][]string) (adv result.BaseAdvice, caveat bool, found []finding.Finding, err error) {
	adv = result.BaseAdvice{Name: c.Entry.Repository + ":" + c.Tag, ManifestDigest: c.Entry.ManifestDigest, Bump: c.Bump, From: c.FromLine()}
	if c.Entry.Source == "" {
		adv.Note = "not scanned: the index has no reference to pull it from (add it with drydock base add)"
		return adv, false, nil, nil
	}
	cc := cfg
	cc.Reference, cc.BaseImages, cc.Progress, cc.Secrets, cc.Misconfig, cc.Malware = c.Entry.Source, nil, nil, nil, nil, nil
	cres, err := scan.Run(ctx, cc)
	if err != nil {
		if ctx.Err() != nil {
			return adv, false, nil, ctx.Err()
		}
		adv.Note = fmt.Sprintf("not scanned: %v", err)
		return adv, false, nil, nil
	}
	leaves, candKeys, found, err := counted(ctx, eng, cres, func(*finding.Finding) bool { return true })
	if err != nil {
		return adv, false, nil, err
	}
	keys := map[string]bool{}
	for _, ids := range candKeys {
		for _, k := range ids {
			keys[k] = true
		}
	}
	adv.Scanned, adv.Leaves = true, &leaves
	for _, ids := range baseKeys {
		if !slices.ContainsFunc(ids, func(k string) bool { return keys[k] }) {
			adv.Fixes++
		}
	}
	adv.Note = scanNotes(cres.Notes)
	e.log.Debug("base candidate scanned", "candidate", adv.Name, "bump", adv.Bump, "critical", leaves.Critical, "high", leaves.High, "total", leaves.Total, "fixes", adv.Fixes)
	return adv, len(cres.Notes) > 0, found, nil
}

// scanNotes says a candidate scan's notes (the first three, and how many
// more): the limits of what its counts cover.
func scanNotes(notes []inventory.Note) string {
	if len(notes) == 0 {
		return ""
	}
	var msgs []string
	for _, n := range notes[:min(3, len(notes))] {
		m := n.Message
		if n.Path != "" {
			m = n.Path + ": " + m
		}
		msgs = append(msgs, m)
	}
	out := "its scan: " + strings.Join(msgs, "; ")
	if len(notes) > 3 {
		out += fmt.Sprintf(" (and %d more notes)", len(notes)-3)
	}
	return out
}

// counted counts the findings of res that keep passes, after the policy's
// filters (severities, ignore files, VEX, --ignore-unfixed), on a copy: res
// itself is evaluated later, once, by finish. It also returns, per counted
// finding, its advisory ID and aliases with the package name: a base bump
// changes package IDs and vendor advisory IDs (ALSA-2023:5455 on 8,
// ALSA-2023:5453 on 9), not the CVEs they fix, so a finding is fixed when
// none of them is left. It returns the evaluated copy's findings too.
func counted(ctx context.Context, eng *policy.Engine, res *result.Result, keep func(*finding.Finding) bool) (result.BaseCounts, map[string][]string, []finding.Finding, error) {
	cp := *res
	cp.Findings = slices.Clone(res.Findings)
	for i := range cp.Findings {
		cp.Findings[i].Annotations = slices.Clone(cp.Findings[i].Annotations)
	}
	if _, err := eng.Evaluate(ctx, &cp); err != nil {
		return result.BaseCounts{}, nil, nil, fmt.Errorf("counting the base's findings: %w", err)
	}
	var n result.BaseCounts
	keys := map[string][]string{} // finding key → "<id or alias>@<package name>"
	for i := range cp.Findings {
		f := &cp.Findings[i]
		if f.Suppressed() || !keep(f) {
			continue
		}
		n.Total++
		switch f.Severity {
		case vocab.SevCritical:
			n.Critical++
		case vocab.SevHigh:
			n.High++
		}
		for _, id := range f.AllIDs() {
			keys[f.Key()] = append(keys[f.Key()], id+"@"+f.Package.Name)
		}
	}
	return n, keys, cp.Findings, nil
}

func joinNote(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}
