package main

import (
	"context"
	"fmt"
	"slices"

	"github.com/drydock-scan/drydock/internal/baseimage"
	"github.com/drydock-scan/drydock/internal/finding"
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
func adviseBase(ctx context.Context, e *env, cfg scan.Config, eng *policy.Engine, res *result.Result) error {
	b := res.BaseImage
	if b == nil || cfg.BaseImages == nil {
		return nil
	}
	var base *baseimage.Entry
	for i := range cfg.BaseImages.Entries {
		en := &cfg.BaseImages.Entries[i]
		if en.Name() == b.Name && (b.ManifestDigest == "" || en.ManifestDigest == b.ManifestDigest) {
			base = en
			break
		}
	}
	current, baseKeys, err := counted(ctx, eng, res, func(f *finding.Finding) bool {
		return slices.ContainsFunc(f.Annotations, func(a finding.Annotation) bool { return a.Kind == vocab.AnnotationBaseImage })
	})
	if err != nil {
		return err
	}
	b.Findings = &current
	for _, c := range baseimage.Candidates(cfg.BaseImages, base) {
		adv := result.BaseAdvice{Name: c.Entry.Repository + ":" + c.Tag, ManifestDigest: c.Entry.ManifestDigest, Bump: c.Bump, From: c.FromLine()}
		if c.Entry.Source == "" {
			adv.Note = "not scanned: the index has no reference to pull it from (add it with drydock base add)"
			b.Advice = append(b.Advice, adv)
			continue
		}
		cc := cfg
		cc.Reference, cc.BaseImages, cc.Progress, cc.Secrets, cc.Misconfig, cc.Malware = c.Entry.Source, nil, nil, nil, nil, nil
		cres, err := scan.Run(ctx, cc)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			adv.Note = fmt.Sprintf("not scanned: %v", err)
			b.Advice = append(b.Advice, adv)
			continue
		}
		leaves, candKeys, err := counted(ctx, eng, cres, func(*finding.Finding) bool { return true })
		if err != nil {
			return err
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
		e.log.Debug("base candidate scanned", "candidate", adv.Name, "critical", leaves.Critical, "high", leaves.High, "total", leaves.Total, "fixes", adv.Fixes)
		b.Advice = append(b.Advice, adv)
	}
	switch {
	case base == nil:
		b.Note = joinNote(b.Note, "no upgrade advice: the base is not an indexed image (drydock base add)")
	case len(b.Advice) == 0:
		b.Note = joinNote(b.Note, "no newer base of the same family in the index")
	}
	return nil
}

// counted counts the findings of res that keep passes, after the policy's
// filters (severities, ignore files, VEX, --ignore-unfixed), on a copy: res
// itself is evaluated later, once, by finish. It also returns, per counted
// finding, its advisory ID and aliases with the package name: a base bump
// changes package IDs and vendor advisory IDs (ALSA-2023:5455 on 8,
// ALSA-2023:5453 on 9), not the CVEs they fix, so a finding is fixed when
// none of them is left.
func counted(ctx context.Context, eng *policy.Engine, res *result.Result, keep func(*finding.Finding) bool) (result.BaseCounts, map[string][]string, error) {
	cp := *res
	cp.Findings = slices.Clone(res.Findings)
	for i := range cp.Findings {
		cp.Findings[i].Annotations = slices.Clone(cp.Findings[i].Annotations)
	}
	if _, err := eng.Evaluate(ctx, &cp); err != nil {
		return result.BaseCounts{}, nil, fmt.Errorf("counting the base's findings: %w", err)
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
	return n, keys, nil
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}
