// Package depcheck holds drydock's dependency rules and the check that
// enforces them (the test in this package runs it on the whole module).
//
// The rules keep the stages in their order — a lower stage never imports a
// higher one — and keep network code out of everything that parses image
// content or matches it: a hostile image can never make a parser or the
// matcher talk to the network, and the server can link the matcher without
// a registry client.
package depcheck

import (
	"fmt"
	"slices"
	"strings"
)

// Module is the module path the rules are written relative to.
const Module = "github.com/drydock-scan/drydock"

// Network lists the packages that do network I/O. (Bare "net" comes in
// through net/textproto header parsing and uuid, which do none here.)
func Network() []string {
	return []string{
		"net/http", "net/rpc", "net/smtp", "crypto/tls",
		"github.com/google/go-containerregistry/pkg/v1/remote",
		"github.com/google/go-containerregistry/pkg/v1/remote/transport",
	}
}

// Rule forbids a set of packages (and, for module packages, everything
// below them) to the packages it applies to. Paths inside the module are
// written without the module prefix: "internal/match".
type Rule struct {
	// Applies: the packages (and their sub-packages) the rule is for.
	Applies []string
	// Except: packages under Applies the rule is not for.
	Except []string
	// Forbid: packages that must not be in their transitive dependencies.
	Forbid []string
	// Why is said when the rule is broken.
	Why string
}

// Rules are drydock's dependency rules.
func Rules() []Rule {
	pure := []string{
		"internal/vocab", "internal/finding", "internal/inventory", "internal/distro", "internal/result",
		"internal/extract", "internal/walk", "internal/version", "internal/vulndb", "internal/match",
		"internal/enrich", "internal/policy", "internal/report", "internal/sbom", "internal/secret",
		"internal/misconfig", "internal/cache", "internal/malware", "internal/verify/provenance",
	}
	higher := []string{"internal/report", "internal/scan", "internal/policy", "cmd", "internal/sbom"}
	return []Rule{
		{Applies: pure, Except: []string{"internal/vulndb/update", "internal/malware/clamd"}, Forbid: Network(),
			Why: "parsers, matching, policy and reports do no network I/O: only source, the database updater and the malware engine's client may"},
		{Applies: []string{"internal/malware"}, Forbid: append([]string{"internal/source", "internal/match", "internal/enrich", "internal/extract", "internal/walk"}, higher...),
			Why: "the malware checks are a consumer of the layer walk (a walk.Tap), below the scan that wires them"},
		{Applies: []string{"internal/vocab"}, Forbid: []string{"internal"},
			Why: "the shared vocabulary is a leaf"},
		{Applies: []string{"internal/finding", "internal/inventory"}, Forbid: allBut("internal/vocab"),
			Why: "the models import only the vocabulary"},
		{Applies: []string{"internal/result"}, Forbid: allBut("internal/vocab", "internal/finding", "internal/inventory"),
			Why: "the result holds the models and nothing else"},
		{Applies: []string{"internal/extract", "internal/walk", "internal/inventory", "internal/version", "internal/distro"},
			Forbid: append([]string{"internal/match", "internal/vulndb", "internal/enrich", "internal/result", "internal/source", "internal/secret", "internal/misconfig"}, higher...),
			Why:    "the inventory stages come before matching and know nothing of it"},
		{Applies: []string{"internal/walk"}, Forbid: []string{"internal/extract/"},
			Why: "the walker knows tar, not package formats"},
		{Applies: []string{"internal/match", "internal/vulndb"}, Forbid: append([]string{"internal/extract", "internal/walk", "internal/source", "internal/enrich"}, higher...),
			Why: "matching reads an inventory and the database, not images, and comes before enrichment, policy and the report"},
		{Applies: []string{"internal/enrich"}, Forbid: append([]string{"internal/extract", "internal/walk", "internal/source", "internal/match"}, higher...),
			Why: "enrichers add to a result; they come before policy and the report"},
		{Applies: []string{"internal/policy"}, Forbid: []string{"internal/report", "internal/scan", "cmd", "internal/match", "internal/vulndb", "internal/source", "internal/walk", "internal/extract", "internal/sbom"},
			Why: "policy decides on a result, before the report exists"},
		{Applies: []string{"internal/report", "internal/sbom"}, Forbid: []string{"internal/scan", "cmd", "internal/policy", "internal/match", "internal/vulndb", "internal/source", "internal/walk", "internal/extract"},
			Why: "the report encodes a result and a verdict; it never drives a stage"},
		{Applies: []string{"internal/scan"}, Forbid: []string{"internal/report", "internal/policy", "cmd", "internal/sbom"},
			Why: "the scan returns a plain result; policy and the report come after it"},
		{Applies: []string{"internal/verify"}, Forbid: append([]string{"internal/source", "internal/walk", "internal/extract", "internal/match", "internal/vulndb", "internal/enrich"}, higher...),
			Why: "the verify stage takes a digest and registry options and returns a result.SupplyChain, before the scan; the command wires it"},
		{Applies: []string{"internal/fix"}, Forbid: append([]string{"internal/source", "internal/walk", "internal/extract", "internal/match", "internal/vulndb", "internal/enrich", "internal/verify", "internal/store"}, higher...),
			Why: "the fix plan is computed from a result (the command scans and checks versions against the database, then hands the plan its answers); the report carries the plan"},
		{Applies: []string{"internal/store"}, Forbid: []string{"internal/scan", "internal/server", "internal/report", "internal/policy", "cmd", "internal/source", "internal/walk", "internal/extract", "internal/match"},
			Why: "the store keeps results; it does not produce them"},
		{Applies: []string{"internal"}, Except: []string{"internal/server"}, Forbid: []string{"internal/server"},
			Why: "the server is a caller of the library, like the command"},
		{Applies: []string{"internal"}, Forbid: []string{"cmd"},
			Why: "nothing imports the command"},
	}
}

// allBut returns "internal" minus the given packages: every module package
// is forbidden except those (and the importing package itself, see Check).
func allBut(allowed ...string) []string {
	return append([]string{"internal"}, prefixed("!", allowed)...)
}

func prefixed(p string, s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = p + x
	}
	return out
}

// Violation is one broken rule.
type Violation struct {
	Package, Dep, Why string
}

func (v Violation) String() string {
	return fmt.Sprintf("%s depends on %s: %s", v.Package, v.Dep, v.Why)
}

// Check applies rules to a dependency graph: each package's import path
// (full) and its transitive dependencies (full paths, as `go list -deps`
// gives them).
func Check(graph map[string][]string, rules []Rule) []Violation {
	var out []Violation
	pkgs := make([]string, 0, len(graph))
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	for _, pkg := range pkgs {
		rel, ok := relative(pkg)
		if !ok {
			continue
		}
		for _, r := range rules {
			if !under(rel, r.Applies) || under(rel, r.Except) {
				continue
			}
			for _, dep := range graph[pkg] {
				if dep == pkg {
					continue
				}
				if forbidden(rel, dep, r.Forbid) {
					out = append(out, Violation{Package: rel, Dep: dep, Why: r.Why})
				}
			}
		}
	}
	return out
}

// forbidden reports whether dep is forbidden to pkg (module-relative) by
// list: entries are module-relative paths (matched with their
// sub-packages; a trailing "/" means sub-packages only), standard or
// third-party paths (matched exactly or with sub-packages), and "!path"
// exceptions.
func forbidden(pkg, dep string, list []string) bool {
	depRel, inModule := relative(dep)
	if inModule && (depRel == pkg || strings.HasPrefix(depRel, pkg+"/")) {
		return false // a package's own sub-packages are its business
	}
	hit := false
	for _, f := range list {
		if ex, ok := strings.CutPrefix(f, "!"); ok {
			if inModule && (depRel == ex || strings.HasPrefix(depRel, ex+"/")) {
				return false
			}
			continue
		}
		target, path := dep, f
		if isModulePath(f) {
			if !inModule {
				continue
			}
			target = depRel
		}
		if strings.HasSuffix(path, "/") {
			if strings.HasPrefix(target, path) {
				hit = true
			}
		} else if target == path || strings.HasPrefix(target, path+"/") {
			hit = true
		}
	}
	return hit
}

func isModulePath(p string) bool {
	return p == "internal" || p == "cmd" || p == "bench" ||
		strings.HasPrefix(p, "internal/") || strings.HasPrefix(p, "cmd/") || strings.HasPrefix(p, "bench/")
}

func relative(p string) (string, bool) {
	if rel, ok := strings.CutPrefix(p, Module+"/"); ok {
		return rel, true
	}
	return "", false
}

func under(p string, roots []string) bool {
	for _, r := range roots {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}
