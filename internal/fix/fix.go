// Package fix turns a scan result into a fix plan: per finding the cheapest
// remedy — a base-image bump, an OS package upgrade to an exact version, a
// language dependency bump to the lowest fixed version, or "no fix: consider
// VEX" — and writes the remedies as edits of a source tree (the Dockerfile,
// the lockfiles and manifests it holds).
//
//	*result.Result (findings, base advice) ──► New ──► *Plan ──► Edit(tree) ──► one []Edit per remedy
//
// The package does no I/O beyond what its caller hands it: the plan is built
// from the result, a source tree is read by ReadTree, and the edits are plain
// bytes. Committing them is internal/fix/gitfix's work, opening a pull
// request internal/fix/pr's.
package fix

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/version"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Remedy kinds.
const (
	KindBase       = "base-image"
	KindOSPackage  = "os-package"
	KindDependency = "dependency"
)

// Plan is the fix plan of one scanned image.
type Plan struct {
	// Image is the scanned image's reference.
	Image string `json:"image"`
	// Remedies, cheapest first: the base bump, then OS packages, then
	// language dependencies, each sorted by package name.
	Remedies []Remedy `json:"remedies"`
	// NoFix lists the findings no remedy fixes: consider VEX (or wait).
	NoFix []NoFix `json:"no_fix,omitempty"`
	// Branch and Base are set when the plan was applied in a git work tree.
	Branch string `json:"branch,omitempty"`
	// PullRequest is the URL of the pull/merge request opened, if any.
	PullRequest string `json:"pull_request,omitempty"`
	// Notes say what the plan could not do (a finding whose fixed version
	// cannot be compared, a checker error).
	Notes []string `json:"notes,omitempty"`
}

// Remedy is one change that fixes a set of findings.
type Remedy struct {
	Kind string `json:"kind"`
	// Ecosystem is the package's (apk, dpkg, rpm, npm, PyPI, Go…); "" for
	// a base bump.
	Ecosystem string `json:"ecosystem,omitempty"`
	// Package is the package name; for a base bump the current base.
	Package string `json:"package"`
	From    string `json:"from"`
	To      string `json:"to"`
	// FromLine is the digest-pinned FROM line of a base bump.
	FromLine string `json:"from_line,omitempty"`
	// Advisories are the IDs of the findings fixed, sorted.
	Advisories []string `json:"advisories"`
	// Findings are the keys ("<id>@<package id>") of the findings fixed.
	Findings []string `json:"findings"`
	// Files are the files the remedy edits, relative to the source tree,
	// once edited (Edit).
	Files []string `json:"files,omitempty"`
	// Commit is the commit that applied it, when applied in a work tree.
	Commit string `json:"commit,omitempty"`
	// Applied is false when the source tree held nothing to edit for it
	// (Note says why): the remedy is still the one to make.
	Applied bool   `json:"applied"`
	Note    string `json:"note,omitempty"`
	// Upgrade is the OS package manager's line ("apk add …") of an OS
	// package remedy.
	Upgrade string `json:"upgrade,omitempty"`

	// Constraint is the declared constraint the target was checked
	// against, when one was found (Edit sets it).
	Constraint string `json:"constraint,omitempty"`
}

// NoFix is a finding without a remedy.
type NoFix struct {
	Finding string `json:"finding"` // "<id>@<package id>"
	ID      string `json:"id"`
	Package string `json:"package"`
	Version string `json:"version"`
	Reason  string `json:"reason"`
}

// Checker returns the findings the package pkgID of the result would have
// at version v: the plan's target versions are checked with it, so that a
// target that another advisory affects is raised to that advisory's fix.
// Nil: targets are not checked (a note says so).
type Checker func(ctx context.Context, pkgID, v string) ([]finding.Finding, error)

// Candidate is the base the image would move to, with the findings
// drydock's own scan of it gives (after the same filters).
type Candidate struct {
	Advice   result.BaseAdvice
	Findings []finding.Finding
}

// Options tune New.
type Options struct {
	// Base is the chosen base candidate (ChooseBase), nil for none.
	Base *Candidate
	// Check checks target versions; nil: not checked.
	Check Checker
}

// ChooseBase picks the advice's candidate that fixes the most of the
// image's base findings (ties: the first, which is the nearest bump); nil
// when none was scanned or none fixes anything.
func ChooseBase(b *result.BaseImage) *result.BaseAdvice {
	if b == nil {
		return nil
	}
	var best *result.BaseAdvice
	for i := range b.Advice {
		a := &b.Advice[i]
		if !a.Scanned || a.Fixes == 0 || a.From == "" {
			continue
		}
		if best == nil || a.Fixes > best.Fixes {
			best = a
		}
	}
	return best
}

// keys are a finding's advisory ID and aliases with the package name: a
// base bump changes package IDs and vendor advisory IDs, not the CVEs they
// fix (the same rule as the base advice's "fixes").
func keys(f *finding.Finding) []string {
	var out []string
	for _, id := range f.AllIDs() {
		out = append(out, id+"@"+f.Package.Name)
	}
	return out
}

func isBaseFinding(f *finding.Finding) bool {
	return slices.ContainsFunc(f.Annotations, func(a finding.Annotation) bool { return a.Kind == vocab.AnnotationBaseImage })
}

// New builds the plan for the active (not suppressed, not filtered)
// findings of res. Malware, secrets and misconfigurations are not its
// business.
func New(ctx context.Context, res *result.Result, opt Options) (*Plan, error) {
	p := &Plan{Image: res.Image.Reference, Remedies: []Remedy{}}
	var base *Remedy
	left := map[string][]*finding.Finding{} // key → the candidate's findings
	if opt.Base != nil {
		for i := range opt.Base.Findings {
			f := &opt.Base.Findings[i]
			if f.Suppressed() {
				continue
			}
			for _, k := range keys(f) {
				left[k] = append(left[k], f)
			}
		}
		cur := ""
		if res.BaseImage != nil {
			cur = res.BaseImage.Name
		}
		base = &Remedy{Kind: KindBase, Package: cur, From: cur, To: opt.Base.Advice.Name, FromLine: opt.Base.Advice.From}
	}
	type group struct {
		r   *Remedy
		cmp version.Comparator
		// pkgIDs are the inventory IDs of the package's findings.
		pkgIDs []string
	}
	groups := map[string]*group{} // ecosystem + name → remedy
	var order []string
	if opt.Check == nil {
		p.Notes = append(p.Notes, "target versions were not checked against the database")
	}
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Suppressed() {
			continue
		}
		eco := f.Package.Ecosystem
		isOS := vocab.IsOSEcosystem(eco)
		target, from := f.FixedVersion, f.InstalledVersion
		if base != nil && isBaseFinding(f) {
			var still []*finding.Finding
			for _, k := range keys(f) {
				still = append(still, left[k]...)
			}
			if len(still) == 0 {
				base.Advisories = append(base.Advisories, f.ID)
				base.Findings = append(base.Findings, f.Key())
				continue
			}
			// The candidate still has it: the package upgrade goes on top
			// of the new base, to the highest fix either needs.
			for _, s := range still {
				target = maxVersion(eco, target, s.FixedVersion)
			}
			// What the new base installs is what the upgrade starts from.
			from = still[0].InstalledVersion
		}
		if target == "" {
			reason := "no fixed version: consider VEX"
			if f.Status == vocab.StatusWontFix {
				reason = "the vendor will not fix it: consider VEX"
			}
			p.NoFix = append(p.NoFix, NoFix{Finding: f.Key(), ID: f.ID, Package: f.Package.Name, Version: f.InstalledVersion, Reason: reason})
			continue
		}
		c, err := version.For(eco)
		if err != nil {
			p.NoFix = append(p.NoFix, NoFix{Finding: f.Key(), ID: f.ID, Package: f.Package.Name, Version: f.InstalledVersion, Reason: fmt.Sprintf("no version comparator for %s", eco)})
			continue
		}
		gk := eco + "\x00" + f.Package.Name
		if isOS {
			gk += "\x00os"
		}
		g := groups[gk]
		if g == nil {
			kind := KindDependency
			if isOS {
				kind = KindOSPackage
			}
			g = &group{r: &Remedy{Kind: kind, Ecosystem: eco, Package: f.Package.Name, From: from, To: target}, cmp: c}
			groups[gk] = g
			order = append(order, gk)
		} else if d, err := c.Compare(target, g.r.To); err != nil {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: comparing fixed versions %q and %q: %v", f.Package.Name, target, g.r.To, err))
		} else if d > 0 {
			g.r.To = target
		}
		g.r.Advisories = append(g.r.Advisories, f.ID)
		g.r.Findings = append(g.r.Findings, f.Key())
		if !slices.Contains(g.pkgIDs, f.Package.ID) {
			g.pkgIDs = append(g.pkgIDs, f.Package.ID)
		}
	}
	if base != nil && len(base.Findings) > 0 {
		finishRemedy(base)
		p.Remedies = append(p.Remedies, *base)
	}
	slices.SortFunc(order, func(a, b string) int {
		ga, gb := groups[a].r, groups[b].r
		if oa, ob := ga.Kind == KindOSPackage, gb.Kind == KindOSPackage; oa != ob {
			if oa {
				return -1
			}
			return 1
		}
		if d := strings.Compare(ga.Package, gb.Package); d != 0 {
			return d
		}
		return strings.Compare(ga.Ecosystem, gb.Ecosystem)
	})
	for _, k := range order {
		g := groups[k]
		if opt.Check != nil {
			if err := raise(ctx, g.r, g.pkgIDs, g.cmp, opt.Check); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				p.Notes = append(p.Notes, fmt.Sprintf("%s %s: checking the target %s: %v", g.r.Ecosystem, g.r.Package, g.r.To, err))
			}
		}
		if g.r.Kind == KindOSPackage {
			g.r.Upgrade = UpgradeCommand(g.r.Ecosystem, []OSUpgrade{{Name: g.r.Package, Version: g.r.To}})
			if pm := packageManagers(g.r.Ecosystem); !slices.ContainsFunc(res.Packages, func(p inventory.Package) bool {
				return p.Ecosystem == g.r.Ecosystem && slices.Contains(pm, p.Name)
			}) {
				g.r.Note = joinNote(g.r.Note, fmt.Sprintf("the image's package database lists no %s: the upgrade line needs a package manager the image may not have (a base bump, or Copacetic with drydock image --format copa, patch it without one)", strings.Join(pm, ", ")))
			}
		}
		finishRemedy(g.r)
		p.Remedies = append(p.Remedies, *g.r)
	}
	slices.SortFunc(p.NoFix, func(a, b NoFix) int { return strings.Compare(a.Finding, b.Finding) })
	return p, nil
}

func finishRemedy(r *Remedy) {
	slices.Sort(r.Advisories)
	r.Advisories = slices.Compact(r.Advisories)
	slices.Sort(r.Findings)
	r.Findings = slices.Compact(r.Findings)
}

// raise checks the target with the checker: while some advisory affects
// it, the target moves to the highest fix those advisories give (at most
// 10 rounds). A target some advisory affects without a fix stays, with a
// note.
func raise(ctx context.Context, r *Remedy, pkgIDs []string, c version.Comparator, check Checker) error {
	for round := 0; round < 10; round++ {
		var next string
		var unfixed []string
		for _, id := range pkgIDs {
			fs, err := check(ctx, id, r.To)
			if err != nil {
				return err
			}
			for _, f := range fs {
				if f.Suppressed() {
					continue
				}
				if f.FixedVersion == "" {
					unfixed = append(unfixed, f.ID)
					continue
				}
				if next == "" {
					next = f.FixedVersion
				} else if d, err := c.Compare(f.FixedVersion, next); err == nil && d > 0 {
					next = f.FixedVersion
				}
			}
		}
		if next == "" {
			if len(unfixed) > 0 {
				slices.Sort(unfixed)
				r.Note = joinNote(r.Note, fmt.Sprintf("%s %s is still affected by %s (no fix)", r.Package, r.To, strings.Join(slices.Compact(unfixed), ", ")))
			}
			return nil
		}
		if d, err := c.Compare(next, r.To); err != nil || d <= 0 {
			return fmt.Errorf("the target's own advisories give no higher fix (%s)", next)
		}
		r.Note = joinNote(r.Note, fmt.Sprintf("raised from %s to %s: %s is affected by another advisory", r.To, next, r.To))
		r.To = next
	}
	return fmt.Errorf("still affected after 10 raises")
}

func maxVersion(eco, a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	c, err := version.For(eco)
	if err != nil {
		return a
	}
	if d, err := c.Compare(b, a); err == nil && d > 0 {
		return b
	}
	return a
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// packageManagers are the packages that provide the upgrade command of
// ecosystem eco.
func packageManagers(eco string) []string {
	switch eco {
	case vocab.EcoAPK:
		return []string{"apk-tools"}
	case vocab.EcoDpkg:
		return []string{"apt"}
	case vocab.EcoRPM:
		return []string{"dnf", "yum"}
	}
	return nil
}

// OSUpgrade is one OS package pinned to a version.
type OSUpgrade struct{ Name, Version string }

// UpgradeCommand is the shell command that upgrades the OS packages of
// ecosystem eco (apk, dpkg, rpm) to the exact versions given.
func UpgradeCommand(eco string, ups []OSUpgrade) string {
	var args []string
	for _, u := range ups {
		switch eco {
		case vocab.EcoRPM:
			args = append(args, shellQuote(u.Name+"-"+u.Version))
		default:
			args = append(args, shellQuote(u.Name+"="+u.Version))
		}
	}
	list := strings.Join(args, " ")
	switch eco {
	case vocab.EcoAPK:
		return "apk add --no-cache " + list
	case vocab.EcoDpkg:
		return "apt-get update && apt-get install -y --no-install-recommends --only-upgrade " + list + " && rm -rf /var/lib/apt/lists/*"
	case vocab.EcoRPM:
		return "dnf upgrade -y " + list + " && dnf clean all"
	}
	return ""
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
