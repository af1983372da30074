// Package license turns the licence strings package metadata carries (RPM
// "GPLv2+ and BSD", apk "MIT BSD GPL2+", Debian DEP-5 "GPL-2+", npm/PyPI
// SPDX ids) into SPDX licence expressions, and groups licences into the
// categories Trivy uses (forbidden, restricted, reciprocal, notice,
// permissive, unencumbered), which come from Google's licenseclassifier.
//
// It never guesses a licence: a string it cannot map stays visible as a
// LicenseRef- built from the original, with a note, and the original string
// is always kept next to the expression.
package license

import (
	"regexp"
	"slices"
	"strings"

	"github.com/github/go-spdx/v2/spdxexp"
	"github.com/github/go-spdx/v2/spdxexp/spdxlicenses"
)

// Licence is one licence of an expression: an SPDX id (with its "WITH"
// exception, if any, as Trivy counts it: one licence) or a LicenseRef-.
type Licence struct {
	// ID as it appears in the expression: "GPL-2.0-or-later",
	// "GPL-3.0-or-later WITH GCC-exception-3.1", "LicenseRef-BSD".
	ID string `json:"id"`
	// SPDX is true when ID is on the SPDX licence list.
	SPDX     bool     `json:"spdx"`
	Category Category `json:"category"`
}

// Normalized is a licence string (or a package's licence strings) and its
// SPDX reading.
type Normalized struct {
	// Original is the string as the metadata wrote it; a package's several
	// strings are joined with "; ".
	Original string `json:"original"`
	// Expression is an SPDX licence expression; "" only when Original is
	// empty.
	Expression string    `json:"expression,omitempty"`
	Licenses   []Licence `json:"licenses,omitempty"`
	// SPDX is true when every licence of the expression is on the SPDX
	// list (no LicenseRef-).
	SPDX bool `json:"spdx"`
	// Notes say what was read in a way that needs a human's eye: an
	// ambiguous name, a list whose operator was not written.
	Notes []string `json:"notes,omitempty"`
}

// Of normalises a package's licence strings: each alone, then joined with
// AND (a package whose metadata names several licences is under all of
// them: Debian copyright files list one per group of files).
func Of(ls []string) Normalized {
	var parts []Normalized
	for _, l := range ls {
		if strings.TrimSpace(l) != "" {
			parts = append(parts, Normalize(l))
		}
	}
	switch len(parts) {
	case 0:
		return Normalized{}
	case 1:
		return parts[0]
	}
	out := Normalized{SPDX: true}
	var origs, exprs []string
	seen := map[string]bool{}
	for _, p := range parts {
		origs = append(origs, p.Original)
		if seen[p.Expression] {
			continue
		}
		seen[p.Expression] = true
		if len(p.Licenses) == 1 && slices.ContainsFunc(out.Licenses, func(l Licence) bool { return l.ID == p.Licenses[0].ID }) {
			continue
		}
		e := p.Expression
		if len(p.Licenses) > 1 {
			e = "(" + e + ")"
		}
		exprs = append(exprs, e)
		out.SPDX = out.SPDX && p.SPDX
		out.Notes = append(out.Notes, p.Notes...)
		out.Licenses = appendLicences(out.Licenses, p.Licenses...)
	}
	out.Original = strings.Join(origs, "; ")
	if len(exprs) == 1 {
		out.Expression = strings.TrimSuffix(strings.TrimPrefix(exprs[0], "("), ")")
	} else {
		out.Expression = strings.Join(exprs, " AND ")
	}
	return out
}

// appendLicences adds the licences not yet in ls.
func appendLicences(ls []Licence, add ...Licence) []Licence {
	for _, a := range add {
		dup := false
		for _, l := range ls {
			if l.ID == a.ID {
				dup = true
				break
			}
		}
		if !dup {
			ls = append(ls, a)
		}
	}
	return ls
}

// Normalize reads one licence string.
func Normalize(s string) Normalized {
	out := Normalized{Original: s}
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return out
	}
	// The whole string first: some names hold commas or operator words
	// ("Apache License, Version 2.0").
	toks := tokenize(s)
	if _, named := alias(s); named || len(toks) == 1 && toks[0].kind == tokTerm {
		if t, ok := resolveTerm(s); ok {
			out.add(t)
			out.Expression = t.ID
			return out.finish()
		}
	}
	expr, ok := out.expression(toks)
	if ok {
		if valid, _ := spdxexp.ValidateLicenses([]string{expr}); valid {
			out.Expression = expr
			return out.finish()
		}
	}
	// Unbalanced parentheses, an operator without operands: the string is
	// kept whole rather than read half-way.
	out.Licenses, out.Notes = nil, nil
	t := unknown(s)
	out.add(t)
	out.Expression = t.ID
	out.Notes = append(out.Notes, "not a licence expression drydock can read: kept as one LicenseRef")
	return out.finish()
}

func (n *Normalized) finish() Normalized {
	n.SPDX = len(n.Licenses) > 0
	for _, l := range n.Licenses {
		n.SPDX = n.SPDX && l.SPDX
	}
	return *n
}

// term is one resolved licence with the note its reading needs.
type term struct {
	Licence
	note string
}

func (n *Normalized) add(t term) {
	n.Licenses = appendLicences(n.Licenses, t.Licence)
	if t.note != "" {
		n.Notes = append(n.Notes, t.note)
	}
}

// token kinds.
const (
	tokTerm = iota
	tokAnd
	tokOr
	tokOpen
	tokClose
	tokComma
)

type token struct {
	kind int
	text string
}

// tokenize splits a licence string into parentheses, commas, AND/OR
// operators (in any case, and RPM's "&"/"|") and terms: the runs of other
// words, "WITH" included.
func tokenize(s string) []token {
	var toks []token
	var words []string
	flush := func() {
		if len(words) > 0 {
			toks = append(toks, token{kind: tokTerm, text: strings.Join(words, " ")})
			words = nil
		}
	}
	for _, f := range strings.Fields(s) {
		for f != "" {
			switch f[0] {
			case '(', ')', ',':
				flush()
				kind := tokComma
				switch f[0] {
				case '(':
					kind = tokOpen
				case ')':
					kind = tokClose
				}
				toks = append(toks, token{kind: kind, text: f[:1]})
				f = f[1:]
				continue
			}
			i := strings.IndexAny(f, "(),")
			w := f
			if i >= 0 {
				w, f = f[:i], f[i:]
			} else {
				f = ""
			}
			switch strings.ToLower(w) {
			case "and", "&", "&&":
				flush()
				toks = append(toks, token{kind: tokAnd, text: "AND"})
			case "or", "|", "||":
				flush()
				toks = append(toks, token{kind: tokOr, text: "OR"})
			default:
				words = append(words, w)
			}
		}
	}
	flush()
	return toks
}

// expression renders tokens as an SPDX expression, resolving each term.
// Commas (Debian DEP-5: "GPL-2+ or Artistic, and BSD-3-clause") bind
// loosest: each comma-separated group is parenthesised and joined by the
// operator after the comma, AND when none is written.
func (n *Normalized) expression(toks []token) (string, bool) {
	var groups [][]token
	var joins []string
	depth, start := 0, 0
	for i, t := range toks {
		switch t.kind {
		case tokOpen:
			depth++
		case tokClose:
			depth--
		case tokComma:
			if depth == 0 {
				groups = append(groups, toks[start:i])
				start = i + 1
				op := "AND"
				if start < len(toks) && (toks[start].kind == tokAnd || toks[start].kind == tokOr) {
					op = toks[start].text
					start++
				}
				joins = append(joins, op)
			}
		}
	}
	groups = append(groups, toks[start:])
	var b strings.Builder
	for i, g := range groups {
		if len(g) == 0 {
			// A trailing or doubled comma separates nothing.
			if i > 0 && i == len(groups)-1 {
				continue
			}
			return "", false
		}
		if i > 0 {
			b.WriteString(" " + joins[i-1] + " ")
		}
		wrap := len(groups) > 1 && hasOperator(g)
		if wrap {
			b.WriteByte('(')
		}
		for j, t := range g {
			if j > 0 && t.kind != tokClose && g[j-1].kind != tokOpen {
				b.WriteByte(' ')
			}
			switch t.kind {
			case tokTerm:
				r := n.resolve(t.text)
				b.WriteString(r)
			case tokComma:
				return "", false
			default:
				b.WriteString(t.text)
			}
		}
		if wrap {
			b.WriteByte(')')
		}
	}
	return b.String(), true
}

func hasOperator(toks []token) bool {
	for _, t := range toks {
		if t.kind == tokAnd || t.kind == tokOr {
			return true
		}
	}
	return false
}

// resolve reads one term of an expression and returns what replaces it.
func (n *Normalized) resolve(s string) string {
	if t, ok := resolveTerm(s); ok {
		n.add(t)
		return t.ID
	}
	// apk's older "MIT BSD GPL2+": licences separated by spaces, without
	// an operator. Read as AND when every word is a licence.
	if words := strings.Fields(s); len(words) > 1 {
		var ts []term
		for _, w := range words {
			t, ok := resolveTerm(w)
			if !ok {
				ts = nil
				break
			}
			ts = append(ts, t)
		}
		if ts != nil {
			ids := make([]string, len(ts))
			for i, t := range ts {
				n.add(t)
				ids[i] = t.ID
			}
			n.Notes = append(n.Notes, "licences listed without an operator ("+s+"): read as AND")
			return "(" + strings.Join(ids, " AND ") + ")"
		}
	}
	t := unknown(s)
	n.add(t)
	return t.ID
}

var (
	// gnuRE matches the GNU licences in the spellings RPM, apk, Debian
	// DEP-5 and package metadata use: "GPLv2+", "GPL2", "GPL-2+",
	// "LGPLv2.1+", "GPL-2.0-or-later", "GPL v3 or later", "AGPLv3".
	gnuRE = regexp.MustCompile(`(?i)^(A|L|LIB)?GPL[ -]?V?(\d(?:\.\d)?)?(\+| or later|-or-later|\+? only|-only)?$`)
	// gfdlRE matches the GFDL as Debian writes it ("GFDL-1.3+",
	// "GFDL-NIV-1.3": no invariant sections).
	gfdlRE = regexp.MustCompile(`(?i)^GFDL-(NIV-)?(1\.[123])(\+|-or-later|-only)?$`)
	// withRE splits "<licence> with <exception>".
	withRE = regexp.MustCompile(`(?i)^(.+?) with (.+)$`)
	// refUnsafe is what a LicenseRef id may not hold (SPDX idstring).
	refUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)
)

// resolveTerm reads one licence (possibly "X with Y"). ok is false when the
// term is not recognised.
func resolveTerm(s string) (term, bool) {
	if m := withRE.FindStringSubmatch(s); m != nil {
		base, ok := resolveTerm(m[1])
		if !ok || !base.SPDX {
			return term{}, false
		}
		if exc, note, ok := exception(base.ID, m[2]); ok {
			base.ID += " WITH " + exc
			base.note = note
			return base, true
		}
		// Fedora's "GPLv2+ with exceptions" names no exception: the
		// licence is kept as a reference to the original, grouped with its
		// base licence (an exception only adds permissions).
		ref := unknown(s)
		ref.Category = base.Category
		ref.note = "exception not named in " + `"` + s + `"` + ": " + ref.ID + " is " + base.ID + " with an unnamed exception"
		return ref, true
	}
	if a, ok := alias(s); ok {
		return a, true
	}
	if id, ok := gnu(s); ok {
		return known(id, ""), true
	}
	if m := gfdlRE.FindStringSubmatch(s); m != nil {
		id := "GFDL-" + m[2]
		if m[1] != "" {
			id += "-no-invariants"
		}
		if m[3] == "+" || strings.EqualFold(m[3], "-or-later") {
			id += "-or-later"
		} else {
			id += "-only"
		}
		if ok, id := spdxlicenses.IsActiveLicense(id); ok {
			return known(id, ""), true
		}
	}
	if ok, id := spdxlicenses.IsActiveLicense(s); ok {
		return known(id, ""), true
	}
	// "MPL-1.1+", "Apache-2.0+": SPDX's own "or later" operator.
	if base, ok := strings.CutSuffix(s, "+"); ok {
		if ok, id := spdxlicenses.IsActiveLicense(base); ok {
			return known(id+"+", ""), true
		}
	}
	if ok, id := spdxlicenses.IsDeprecatedLicense(s); ok {
		return known(id, "deprecated SPDX id "+id), true
	}
	if strings.HasPrefix(strings.ToLower(s), "licenseref-") && !refUnsafe.MatchString(s) {
		id := "LicenseRef-" + s[len("LicenseRef-"):] // the prefix in SPDX's case
		return term{Licence: Licence{ID: id, Category: CategoryOf(id)}}, true
	}
	return term{}, false
}

// exception finds the SPDX exception id for the name written after "with"
// ("GCC-exception-3.1", "Texinfo exception", "Bison exception",
// "Linux-syscall-note exception"). Autoconf's and Bison's exceptions have
// one version per GPL version: the one of the base licence's GPL is taken.
func exception(base, name string) (id, note string, ok bool) {
	name = strings.TrimSpace(name)
	short := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(name, " exception"), " Exception"))
	for _, c := range []string{name, short, short + "-exception", strings.ReplaceAll(short, " ", "-") + "-exception"} {
		if ok, id := spdxlicenses.IsException(c); ok {
			return id, "", true
		}
	}
	gpl3, gpl2 := strings.HasPrefix(base, "GPL-3.0"), strings.HasPrefix(base, "GPL-2.0")
	switch strings.ToLower(short) {
	case "autoconf":
		if gpl3 {
			return "Autoconf-exception-3.0", "", true
		}
		if gpl2 {
			return "Autoconf-exception-2.0", "", true
		}
	case "bison":
		if gpl3 {
			return "Bison-exception-2.2", "", true
		}
	}
	return "", "", false
}

// known makes the term for an id resolveTerm produced.
func known(id, note string) term {
	spdx := !strings.HasPrefix(id, "LicenseRef-")
	return term{Licence: Licence{ID: id, SPDX: spdx, Category: CategoryOf(id)}, note: note}
}

// unknown keeps a string that names no known licence as a LicenseRef.
func unknown(s string) term {
	id := strings.ReplaceAll(s, "+", "-plus")
	id = strings.Trim(refUnsafe.ReplaceAllString(id, "-"), "-.")
	if id == "" {
		id = "unknown"
	}
	return term{Licence: Licence{ID: "LicenseRef-" + id, Category: Unknown}}
}

// gnu maps the GNU licence spellings to SPDX ids. A version with neither
// "+" nor "only" is read as "only", as SPDX reads its deprecated "GPL-2.0";
// a GPL with no version at all names no single licence and is left to the
// alias table.
func gnu(s string) (string, bool) {
	m := gnuRE.FindStringSubmatch(s)
	if m == nil || m[2] == "" {
		return "", false
	}
	family := map[string]string{"": "GPL", "a": "AGPL", "l": "LGPL", "lib": "LGPL"}[strings.ToLower(m[1])]
	v := m[2]
	if !strings.Contains(v, ".") {
		v += ".0"
	}
	suffix := "-only"
	if m[3] != "" && !strings.Contains(strings.ToLower(m[3]), "only") {
		suffix = "-or-later"
	}
	if ok, id := spdxlicenses.IsActiveLicense(family + "-" + v + suffix); ok {
		return id, true
	}
	return "", false
}

// alias maps common names that are not SPDX ids (Fedora's old short names,
// Debian DEP-5 names, what npm/PyPI/gem authors write) to an SPDX id or a
// LicenseRef with a note. Keys are lower case, single-spaced.
func alias(s string) (term, bool) {
	id, note, ok := aliasID(s)
	if !ok {
		return term{}, false
	}
	return known(id, note), true
}

func aliasID(s string) (id, note string, ok bool) {
	switch strings.ToLower(s) {
	case "asl 2.0", "asl-2.0", "apache 2.0", "apache-2", "apache 2", "apache2", "apache2.0", "apache license 2.0",
		"apache license, version 2.0", "apache license version 2.0", "apache software license 2.0", "apache software license":
		return "Apache-2.0", "", true
	case "asl 1.1", "apache 1.1":
		return "Apache-1.1", "", true
	case "mit license", "the mit license", "mit/x11", "mit-style", "expat", "expat license":
		// Debian's "Expat" and the common "MIT/X11" name the MIT licence
		// text SPDX calls MIT.
		return "MIT", "", true
	case "isc license":
		return "ISC", "", true
	case "bsd", "bsd license", "bsd-style", "bsd-like":
		return "LicenseRef-BSD", `"` + s + `" does not say which BSD licence (2-, 3- or 4-clause): kept as LicenseRef-BSD`, true
	case "bsd with advertising":
		return "BSD-4-Clause", "", true
	case "public domain", "public-domain", "publicdomain", "pd", "suse-public-domain":
		return "LicenseRef-Public-Domain", "", true
	case "gpl":
		return "LicenseRef-GPL", `"` + s + `" names no GPL version: kept as LicenseRef-GPL`, true
	case "gpl+":
		// Fedora's "GPL+": any version of the GPL.
		return "GPL-1.0-or-later", "", true
	case "lgpl":
		return "LicenseRef-LGPL", `"` + s + `" names no LGPL version: kept as LicenseRef-LGPL`, true
	case "gfdl":
		return "LicenseRef-GFDL", `"` + s + `" names no GFDL version: kept as LicenseRef-GFDL`, true
	case "artistic", "artistic 1.0", "artistic-1":
		return "Artistic-1.0", "", true
	case "artistic 2.0", "artistic-2", "artistic2":
		return "Artistic-2.0", "", true
	case "mpl":
		return "LicenseRef-MPL", `"` + s + `" names no MPL version: kept as LicenseRef-MPL`, true
	case "mplv1.1", "mpl 1.1":
		return "MPL-1.1", "", true
	case "mplv2.0", "mpl 2.0", "mpl2", "mpl-2":
		return "MPL-2.0", "", true
	case "boost", "boost software license":
		return "BSL-1.0", "", true
	case "zlib license", "zlib/libpng":
		return "Zlib", "", true
	case "psf", "python software foundation license":
		return "PSF-2.0", "", true
	case "cc0", "cc0 1.0":
		return "CC0-1.0", "", true
	case "unlicense", "the unlicense":
		return "Unlicense", "", true
	case "openldap":
		return "OLDAP-2.8", "", true
	case "inner-net":
		// glibc's resolver licence, which SPDX lists as Inner-Net-2.0.
		return "Inner-Net-2.0", "", true
	case "epl-1", "epl 1.0":
		return "EPL-1.0", "", true
	case "epl 2.0":
		return "EPL-2.0", "", true
	}
	return "", "", false
}
