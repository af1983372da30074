package fix

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/drydock-scan/drydock/internal/version"
)

// pep503 normalises a Python distribution name (PEP 503).
func pep503(n string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(strings.TrimSpace(n)) {
		if r == '-' || r == '_' || r == '.' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('-')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// reqLine matches a requirement: name, optional extras, the specifiers up
// to a marker (;), a comment or an option (--hash).
func reqLine() *regexp.Regexp {
	return regexp.MustCompile(`^(\s*)([A-Za-z0-9][A-Za-z0-9._-]*)(\s*\[[^\]]*\])?(\s*)([^;#]*?)(\s*(?:;[^#]*?)?)(\s*(?:--|#).*)?$`)
}

// pyClause is one specifier clause ("<2", ">=1.0").
type pyClause struct{ op, v string }

func parsePySpec(spec string) ([]pyClause, error) {
	var out []pyClause
	for _, c := range strings.Split(spec, ",") {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		op := ""
		for _, o := range []string{"===", "==", "!=", "~=", ">=", "<=", ">", "<"} {
			if strings.HasPrefix(c, o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, fmt.Errorf("specifier %q has no operator", c)
		}
		v := strings.TrimSpace(c[len(op):])
		if v == "" {
			return nil, fmt.Errorf("specifier %q has no version", c)
		}
		out = append(out, pyClause{op, v})
	}
	return out, nil
}

// pySatisfies reports whether v satisfies every clause.
func pySatisfies(cs []pyClause, v string) (bool, error) {
	c := version.PEP440()
	for _, cl := range cs {
		if strings.HasSuffix(cl.v, ".*") {
			prefix := strings.TrimSuffix(cl.v, "*")
			in := strings.HasPrefix(v+".", prefix)
			if (cl.op == "==" && !in) || (cl.op == "!=" && in) {
				return false, nil
			}
			if cl.op != "==" && cl.op != "!=" {
				return false, fmt.Errorf("a wildcard with %s", cl.op)
			}
			continue
		}
		if cl.op == "===" {
			if v != cl.v {
				return false, nil
			}
			continue
		}
		d, err := c.Compare(v, cl.v)
		if err != nil {
			return false, err
		}
		ok, plain := compareOp(cl.op, d)
		switch {
		case plain:
		case cl.op == "~=":
			// ~=X.Y(.Z): >= X.Y(.Z) and the same release prefix minus its last part.
			parts := strings.Split(cl.v, ".")
			if len(parts) < 2 {
				return false, fmt.Errorf("~=%s needs two release parts", cl.v)
			}
			prefix := strings.Join(parts[:len(parts)-1], ".") + "."
			ok = d >= 0 && strings.HasPrefix(v+".", prefix)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// requirementsBump edits a pip requirements file so that name resolves to
// version to: a pin (==from) is replaced by ==to; a range that admits to
// gets its lower bound raised to >=to (its other clauses kept); a range
// that excludes to is an error naming it, as is a hash-pinned line (the new
// hashes are not known offline). It returns the file, the number of lines
// changed and the declared constraints.
func requirementsBump(req []byte, name, to string) ([]byte, int, []string, error) {
	want := pep503(name)
	re := reqLine()
	lines := splitLines(req)
	changed := 0
	var constraints []string
	for i := 0; i < len(lines); i++ {
		raw := lines[i]
		body := strings.TrimRight(raw, "\r\n")
		eol := raw[len(body):]
		// A requirement continued over lines (pip joins lines ending in a
		// backslash): read whole, never edited.
		first, joined := i, body
		for strings.HasSuffix(joined, "\\") && i+1 < len(lines) {
			i++
			joined = strings.TrimSuffix(joined, "\\") + " " + strings.TrimSpace(strings.TrimRight(lines[i], "\r\n"))
		}
		t := strings.TrimSpace(joined)
		if t == "" || strings.HasPrefix(t, "#") || strings.HasPrefix(t, "-") {
			continue
		}
		m := re.FindStringSubmatch(strings.TrimSuffix(joined, "\\"))
		if m == nil || pep503(m[2]) != want {
			continue
		}
		spec := strings.TrimSpace(m[5])
		constraints = append(constraints, spec)
		if strings.Contains(m[7], "--hash") {
			return nil, 0, constraints, fmt.Errorf("line %d pins %s by hash: the hashes of %s are not known offline", first+1, m[2], to)
		}
		if first != i {
			return nil, 0, constraints, fmt.Errorf("line %d: the requirement on %s spans lines %d-%d: edit it by hand", first+1, m[2], first+1, i+1)
		}
		cs, err := parsePySpec(spec)
		if err != nil {
			return nil, 0, constraints, fmt.Errorf("line %d: %w", i+1, err)
		}
		var kept []string
		pinned, already := false, false
		for _, c := range cs {
			switch c.op {
			case "==", "===":
				if !strings.HasSuffix(c.v, ".*") {
					pinned = true
					if d, err := version.PEP440().Compare(c.v, to); err == nil && d >= 0 {
						already = true // pinned at or above the target: not a downgrade
					}
					continue
				}
			case ">=", ">":
				continue
			}
			kept = append(kept, c.op+c.v)
		}
		if already {
			continue
		}
		if !pinned {
			var upper []pyClause
			for _, c := range cs {
				if c.op != ">=" && c.op != ">" {
					upper = append(upper, c)
				}
			}
			if ok, err := pySatisfies(upper, to); err != nil {
				return nil, 0, constraints, fmt.Errorf("line %d: %w", i+1, err)
			} else if !ok {
				return nil, 0, constraints, fmt.Errorf("line %d: the constraint %q excludes the fix %s: widen it by hand", i+1, spec, to)
			}
		}
		lower := ">=" + to
		if pinned {
			lower = "==" + to
		}
		newSpec := strings.Join(append([]string{lower}, kept...), ",")
		sep := m[4]
		if spec == "" {
			sep = ""
		}
		lines[i] = m[1] + m[2] + m[3] + sep + newSpec + m[6] + m[7] + eol
		changed++
	}
	return []byte(strings.Join(lines, "")), changed, constraints, nil
}
