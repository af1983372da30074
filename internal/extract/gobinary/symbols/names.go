package symbols

import (
	"cmp"
	"net/url"
	"slices"
	"strings"
)

// Symbol is a function as govulncheck's binary mode names it: the import
// path of its package and its name there, a method prefixed with its
// receiver type ("Parse", "Tag.String", "bomOverride.Transform").
type Symbol struct {
	Pkg  string `json:"pkg,omitempty"`
	Name string `json:"name,omitempty"`
}

// Symbols returns the functions and inlined calls of the table as
// govulncheck v1.9.0 extracts them from a binary (golang.org/x/vuln
// internal/buildinfo.ExtractPackagesAndSymbols), sorted by package and
// name, without duplicates.
func (t *Table) Symbols() []Symbol {
	var out []Symbol
	t.EachSymbol(func(pkg, recv, base string) {
		name := base
		if recv != "" {
			name = recv + "." + base
		}
		out = append(out, Symbol{Pkg: strings.Clone(pkg), Name: strings.Clone(name)})
	})
	slices.SortFunc(out, func(a, b Symbol) int { return cmp.Or(cmp.Compare(a.Pkg, b.Pkg), cmp.Compare(a.Name, b.Name)) })
	return slices.Compact(out)
}

// EachSymbol calls fn with every function and inlined call split the way
// govulncheck splits it: the package path (unescaped: "gopkg.in/yaml.v3",
// written "gopkg.in/yaml%2ev3" in the binary), the receiver type of a
// method without "(*" and ")", and the base name. The strings may be
// substrings of the name table (see Each). A name that is both a function
// and an inlined call may be given twice.
//
// govulncheck splits names with debug/gosym's Sym methods (PackageName,
// ReceiverName, BaseName). It gives the functions of the table the table's
// Go version — since Go 1.20 names starting "go:" or "type:" belong to no
// package, before that "go." or "type." — but inlined calls a Sym without a
// version, which takes the old rule; EachSymbol does the same, so that the
// sets compare equal.
func (t *Table) EachSymbol(fn func(pkg, recv, base string)) {
	t.Each(func(name string, isFunc, isInlined bool) {
		if isFunc {
			pkg, recv, base := splitName(name, t.v120)
			fn(pkg, recv, base)
		}
		if isInlined && (!isFunc || t.v120) {
			pkg, recv, base := splitName(name, false)
			fn(pkg, recv, base)
		}
	})
}

// splitName splits a function name into package path, receiver and base
// name, following debug/gosym (Sym.PackageName, ReceiverName, BaseName)
// with govulncheck's receiver clean-up. colon selects the Go 1.20 rule for
// names of no package ("go:…", "type:…"), else the older one ("go.…",
// "type.…"). Malformed names (the image is not trusted) never panic: parts
// that cannot be found are empty.
func splitName(name string, colon bool) (pkg, recv, base string) {
	noInst := withoutInst(name)

	// Package: up to the first dot after the last slash.
	reserved := strings.HasPrefix(noInst, "go.") || strings.HasPrefix(noInst, "type.")
	if colon {
		reserved = strings.HasPrefix(noInst, "go:") || strings.HasPrefix(noInst, "type:")
	}
	pathEnd := max(strings.LastIndex(noInst, "/"), 0)
	if !reserved {
		if i := strings.Index(noInst[pathEnd:], "."); i >= 0 {
			pkg = noInst[:pathEnd+i]
		}
	}

	// Receiver: between the first and the last dot after the last slash.
	if l, r := strings.Index(noInst[pathEnd:], "."), strings.LastIndex(noInst[pathEnd:], "."); l >= 0 && r >= 0 && l != r && pathEnd <= len(name) {
		r = strings.LastIndex(name[pathEnd:], ".")
		if lo, hi := pathEnd+l+1, pathEnd+r; lo <= hi && hi <= len(name) {
			recv = name[lo:hi]
		}
	}

	// Base: after the last dot, the one after the brackets if the
	// brackets come first.
	base = name
	if i := strings.LastIndex(noInst, "."); i >= 0 {
		if name != noInst {
			if brack := strings.Index(name, "["); i > brack {
				i = strings.LastIndex(name, ".")
			}
		}
		base = name[i+1:]
	}

	if strings.HasPrefix(recv, "(*") {
		recv = strings.Trim(recv, "(*)")
	}
	if strings.Contains(pkg, "%") {
		if u, err := url.PathUnescape(pkg); err == nil {
			pkg = u
		}
	}
	return pkg, recv, base
}

// withoutInst removes everything from the first "[" to the last "]" (the
// type arguments of a generic instantiation), so that dots and slashes
// inside them are not taken for separators.
func withoutInst(name string) string {
	start := strings.Index(name, "[")
	if start < 0 {
		return name
	}
	end := strings.LastIndex(name, "]")
	if end < start {
		return name
	}
	return name[:start] + name[end+1:]
}
