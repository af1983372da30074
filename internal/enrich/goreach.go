package enrich

import (
	"context"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// GoReachability says, of each finding on a Go module, whether the
// vulnerable code is present in the Go executable the module was found in:
// it compares the advisory's vulnerable packages and symbols (the Go
// database's affected[].ecosystem_specific.imports) with the packages and
// functions the executable holds (result.GoBinaries, read from its pclntab
// during the layer walk, inlined functions included). The annotation's
// Status is one of the vocab.Reachability* words, its Reason says what was
// found.
//
// The classes are govulncheck's binary mode's (golang.org/x/vuln
// internal/vulncheck/binary.go): a vulnerable symbol in the binary
// ("Symbol Results"), a vulnerable package but none of its symbols
// ("Package Results"), only the module ("Module Results"). An import with
// no symbols makes every function of its package vulnerable; imports for
// other platforms (goos, goarch) than the executable's are left out, as
// govulncheck does. Present is not reachable: no calls are followed.
type GoReachability struct{}

// Name implements Enricher.
func (GoReachability) Name() string { return "go-reachability" }

// Version implements Enricher.
func (GoReachability) Version() int { return 1 }

// maxListed is how many symbols or packages a reason names.
const maxListed = 5

// goImport is one entry of a Go advisory's ecosystem_specific.imports.
type goImport struct {
	Path    string   `json:"path"`
	GOOS    []string `json:"goos"`
	GOARCH  []string `json:"goarch"`
	Symbols []string `json:"symbols"`
}

// Enrich implements Enricher.
func (GoReachability) Enrich(ctx context.Context, res *result.Result) ([]Addition, error) {
	bins := make(map[string]*inventory.GoSymbols, len(res.GoBinaries))
	for i := range res.GoBinaries {
		bins[res.GoBinaries[i].Path] = &res.GoBinaries[i].GoSymbols
	}
	pkgs := map[string]*inventory.Package{}
	for i := range res.Packages {
		if res.Packages[i].Ecosystem == vocab.EcoGo {
			pkgs[res.Packages[i].ID] = &res.Packages[i]
		}
	}
	var out []Addition
	for i := range res.Findings {
		f := &res.Findings[i]
		if f.Package.Ecosystem != vocab.EcoGo {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		status, reason := classify(f, pkgs[f.Package.ID], bins[f.Package.Path])
		out = append(out, Addition{Finding: f.Key(), Annotation: finding.Annotation{
			Kind: vocab.AnnotationReachability, Status: status, Reason: reason}})
	}
	return out, nil
}

// classify compares one finding's advisory with the executable's functions.
func classify(f *finding.Finding, pkg *inventory.Package, bin *inventory.GoSymbols) (status, reason string) {
	if bin == nil {
		if f.Package.Path == "" {
			return vocab.ReachabilityUnknown, "the package was not read from an executable: no function table to look in"
		}
		return vocab.ReachabilityUnknown, fmt.Sprintf("no function table of %s in this result (an SBOM, or a result stored without it)", f.Package.Path)
	}
	if bin.Unknown != "" {
		return vocab.ReachabilityUnknown, bin.Unknown
	}
	imports, err := advisoryImports(f)
	if err != nil {
		return vocab.ReachabilityUnknown, err.Error()
	}
	if len(imports) == 0 {
		return vocab.ReachabilityModuleOnly, "the advisory lists no vulnerable package or symbol: only the module is known to be present in the binary"
	}
	var apply []goImport
	var platforms []string
	for _, imp := range imports {
		if matchesPlatform(bin.GOOS, imp.GOOS) && matchesPlatform(bin.GOARCH, imp.GOARCH) {
			apply = append(apply, imp)
		} else {
			platforms = append(platforms, strings.Join(append(slices.Clone(imp.GOOS), imp.GOARCH...), "/"))
		}
	}
	if len(apply) == 0 {
		return vocab.ReachabilityModuleOnly, fmt.Sprintf("the advisory's packages are vulnerable on %s only; the binary is built for %s/%s: no vulnerable package is present",
			list(slices.Compact(platforms)), bin.GOOS, bin.GOARCH)
	}
	local := binaryPath(pkg)
	var present, imported, absent []string
	for _, imp := range apply {
		p := local(imp.Path)
		if !bin.HasPackage(p) {
			absent = append(absent, imp.Path)
			continue
		}
		imported = append(imported, imp.Path)
		if len(imp.Symbols) == 0 {
			present = append(present, imp.Path+" (every function of the package is affected)")
			continue
		}
		for _, s := range imp.Symbols {
			if bin.HasSymbol(p, s) {
				present = append(present, path.Base(imp.Path)+"."+s)
			}
		}
	}
	present, imported, absent = uniq(present), uniq(imported), uniq(absent)
	switch {
	case len(present) > 0:
		return vocab.ReachabilitySymbolPresent, "vulnerable symbols present in the binary: " + list(present)
	case len(imported) > 0:
		return vocab.ReachabilityPackageImported, fmt.Sprintf("%s present in the binary, none of the vulnerable symbols (%s)",
			list(imported), list(symbolsOf(apply, imported)))
	}
	return vocab.ReachabilityModuleOnly, fmt.Sprintf("none of the vulnerable packages (%s) is present in the binary; only the module is", list(absent))
}

// advisoryImports joins the Go imports of the finding's evidence (aliases
// of one flaw from several records are one finding).
func advisoryImports(f *finding.Finding) ([]goImport, error) {
	var out []goImport
	for _, e := range f.Evidence {
		if len(e.EcosystemSpecific) == 0 {
			continue
		}
		var es struct {
			Imports []goImport `json:"imports"`
		}
		if err := json.Unmarshal(e.EcosystemSpecific, &es); err != nil {
			return nil, fmt.Errorf("the advisory's ecosystem_specific of %s could not be read: %v", e.Advisory, err)
		}
		out = append(out, es.Imports...)
	}
	return out, nil
}

// matchesPlatform: an empty list, or an unknown platform, matches any.
func matchesPlatform(s string, list []string) bool {
	return s == "" || len(list) == 0 || slices.Contains(list, s)
}

// binaryPath maps an advisory's import path to the one the executable holds
// it under: replaced code keeps the import paths of the module it replaces
// (Metadata "replaces": "<original path>@<version>"), while the finding is
// on the replacement.
func binaryPath(pkg *inventory.Package) func(string) string {
	if pkg == nil || pkg.Metadata["replaces"] == "" || pkg.Metadata["local_replace"] == "true" {
		return func(p string) string { return p }
	}
	orig, _, _ := strings.Cut(pkg.Metadata["replaces"], "@")
	mod := pkg.Name
	return func(p string) string {
		if p == mod || strings.HasPrefix(p, mod+"/") {
			return orig + strings.TrimPrefix(p, mod)
		}
		return p
	}
}

// symbolsOf lists the vulnerable symbols of the given packages.
func symbolsOf(imports []goImport, pkgs []string) []string {
	var out []string
	for _, imp := range imports {
		if slices.Contains(pkgs, imp.Path) {
			for _, s := range imp.Symbols {
				out = append(out, path.Base(imp.Path)+"."+s)
			}
		}
	}
	return uniq(out)
}

func uniq(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// list joins at most maxListed items, saying how many more there are.
func list(s []string) string {
	if len(s) <= maxListed {
		return strings.Join(s, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(s[:maxListed], ", "), len(s)-maxListed)
}
