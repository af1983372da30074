// Package result holds the plain values that pass between drydock's stages
// after the inventory: what a scan found (Result) and what the policy decided
// about it (Verdict).
//
//	scan.Run ──► Result ──► scan.Match ──► enrich.Run ──► policy ──► Verdict ──► report.New(Result, Verdict)
//
// A Result is built by the scan (or decoded from an SBOM), gains findings in
// matching and annotations in enrichment and policy, and is encoded once, at
// the end, by package report. It serialises losslessly (JSON), so a server can
// store it and re-match its packages later without pulling the image again.
package result

import (
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Result is what one scan found.
type Result struct {
	// Image is what the source stage learned about the image (config and
	// history redacted of secrets).
	Image      inventory.Image     `json:"image"`
	Distro     *inventory.Distro   `json:"distro,omitempty"`
	Packages   []inventory.Package `json:"packages"`
	Notes      []inventory.Note    `json:"notes,omitempty"`
	Malware    []finding.Malware   `json:"malware,omitempty"` // scanner "malware": never vulnerabilities, listed first
	Findings   []finding.Finding   `json:"findings,omitempty"`
	Secrets    []finding.Secret    `json:"secrets,omitempty"`
	Misconfigs []finding.Misconfig `json:"misconfigurations,omitempty"`
	// Licenses are the packages whose licence is forbidden, restricted or
	// reciprocal (scanner "license", internal/license).
	Licenses []finding.License `json:"licenses,omitempty"`
	// Scanners that ran: "sbom" (the inventory), "vuln", "secret",
	// "misconfig", "malware", "license".
	Scanners []string `json:"scanners,omitempty"`
	// Database is the advisory database the findings were matched against
	// (nil when no matching ran).
	Database *Database `json:"database,omitempty"`
	// Coverage says, per advisory ecosystem, whether the database could
	// cover what was found (set by matching).
	Coverage []Coverage `json:"coverage,omitempty"`
	// BaseImage is the base image the image was built on, when a
	// base-image index was given (internal/baseimage); nil otherwise.
	BaseImage *BaseImage `json:"base_image,omitempty"`
	// SupplyChain is the verify stage's result (signatures, attestations,
	// provenance of the scanned digest), when verification ran; nil
	// otherwise.
	SupplyChain *SupplyChain `json:"supply_chain,omitempty"`
	// GoBinaries are the function tables of the Go executables, compacted
	// (inventory.GoSymbols): what Go reachability reads. Not in the report.
	GoBinaries []inventory.GoBinary `json:"go_binaries,omitempty"`
	// Versions of the code that produced the result: with the database's
	// built-at time, they tell whether a stored result is stale.
	Versions Versions `json:"versions"`
}

// Inventory returns the result's inventory (distro, packages, notes, Go
// executables' functions): what matching and enrichment read.
func (r *Result) Inventory() inventory.Inventory {
	return inventory.Inventory{Distro: r.Distro, Packages: r.Packages, Notes: r.Notes, GoBinaries: r.GoBinaries}
}

// HasScanner reports whether s ran.
func (r *Result) HasScanner(s string) bool {
	for _, x := range r.Scanners {
		if x == s {
			return true
		}
	}
	return false
}

// AddScanner records that s ran (once).
func (r *Result) AddScanner(s string) {
	if !r.HasScanner(s) {
		r.Scanners = append(r.Scanners, s)
	}
}

// Versions identifies the code that produced a result.
type Versions struct {
	// Extractors is the per-layer cache key part naming every extractor and
	// its version ("lang/npm@2,os/apk@1,…,pipeline@1").
	Extractors string `json:"extractors,omitempty"`
	// Matcher is match.Version when matching ran, else 0.
	Matcher int `json:"matcher,omitempty"`
	// Enrichers are the enrichers that ran, in order, as "name@version".
	Enrichers []string `json:"enrichers,omitempty"`
}

// Verdict is the policy stage's decision.
type Verdict struct {
	Pass     bool         `json:"pass"`
	ExitCode int          `json:"exit_code"`
	Failures []RuleResult `json:"failures,omitempty"`
	Warnings []RuleResult `json:"warnings,omitempty"`
	// Expired lists ignore rules or policy rules whose expiry has passed.
	Expired []string `json:"expired,omitempty"`
}

// RuleResult is one rule that fired.
type RuleResult struct {
	RuleID  string `json:"rule_id"`
	Action  string `json:"action"` // "deny", "warn"
	Message string `json:"message"`
	// Targets are the finding IDs ("<vuln id>@<package id>"), package IDs,
	// secret/misconfig IDs or "image" that the rule fired on.
	Targets []string `json:"targets,omitempty"`
}

// Database describes the advisory database used.
type Database struct {
	Path    string    `json:"path,omitempty"`
	BuiltAt time.Time `json:"built_at"`
	Sources []string  `json:"sources,omitempty"`
}

// Coverage is how well the advisory database covers one advisory ecosystem
// of the scanned image: a scan never says "no vulnerabilities" about
// packages it could not look up.
type Coverage struct {
	// Ecosystem is the advisory ecosystem ("Alpine:v3.16", "Debian:12",
	// "npm"). For an operating system without one it names the system
	// ("alpine edge", "centos 7").
	Ecosystem string `json:"ecosystem"`
	// OS is set for the operating system's packages.
	OS bool `json:"os,omitempty"`
	// Packages is the number of packages matched (or that would have been)
	// against the ecosystem.
	Packages int `json:"packages"`
	// Advisories is the number of advisory records the database holds for
	// the ecosystem.
	Advisories int `json:"advisories"`
	// Status is one of the vocab.Coverage* states.
	Status string `json:"status"`
	// Reasons say why the status is not complete.
	Reasons []string `json:"reasons,omitempty"`
}

// Complete reports whether c is complete coverage.
func (c *Coverage) Complete() bool { return c.Status == vocab.CoverageComplete }

// CoverageGaps returns the coverage entries that are not complete.
func (r *Result) CoverageGaps() []Coverage {
	var out []Coverage
	for _, c := range r.Coverage {
		if !c.Complete() {
			out = append(out, c)
		}
	}
	return out
}

// BaseImage says which base image an image was built on, how that was found
// (Signal: "layer-chain" — its verified layers start with the base's —,
// "annotation", "history" — a guess —, or "none"), and how many of its first
// layers are the base's: findings in those layers come from the base.
type BaseImage struct {
	// Name is the base's most specific name (repository:tag), "" when
	// unidentified.
	Name           string `json:"name,omitempty"`
	ManifestDigest string `json:"manifest_digest,omitempty"`
	Layers         int    `json:"layers"`
	Signal         string `json:"signal"`
	// Hierarchy lists the indexed bases the layers start with, innermost
	// first (debian:12-slim, then python:3.12-slim).
	Hierarchy []string `json:"hierarchy,omitempty"`
	// Annotation is the base the image's OCI annotations name.
	Annotation string `json:"annotation,omitempty"`
	Note       string `json:"note,omitempty"`
	// Findings counts the image's findings in the base's layers (after the
	// policy's filters), when upgrade advice was asked for.
	Findings *BaseCounts `json:"findings,omitempty"`
	// Advice lists newer bases of the same family, nearest first within
	// each bump, with what each would leave (drydock's own scan of it).
	Advice []BaseAdvice `json:"advice,omitempty"`
}

// BaseCounts counts findings (not suppressed) by weight.
type BaseCounts struct {
	Critical int `json:"critical"`
	High     int `json:"high"`
	Total    int `json:"total"`
}

// BaseAdvice is one candidate base: what moving to it would leave and fix.
type BaseAdvice struct {
	Name           string `json:"name"`
	ManifestDigest string `json:"manifest_digest,omitempty"`
	Bump           string `json:"bump"` // patch, minor, major
	// From is the Dockerfile line that pins it by digest.
	From string `json:"from"`
	// Scanned is false when drydock could not scan the candidate (no
	// source to pull it from, or the scan failed: Note says which); its
	// counts are then unknown, never zero.
	Scanned bool        `json:"scanned"`
	Leaves  *BaseCounts `json:"leaves,omitempty"`
	// Fixes counts the image's base findings the candidate no longer has.
	Fixes int    `json:"fixes,omitempty"`
	Note  string `json:"note,omitempty"`
}
