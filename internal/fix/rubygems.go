package fix

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/drydock-scan/drydock/internal/version"
)

// gemSpecLine matches a Gemfile.lock spec or dependency line: indentation,
// name, and the parenthesised version or requirement.
func gemSpecLine() *regexp.Regexp {
	return regexp.MustCompile(`^( +)([A-Za-z0-9][A-Za-z0-9._-]*)(?: \(([^)]*)\))?(!?)(\s.*)?$`)
}

// gemSatisfies reports whether v meets a RubyGems requirement list
// ("~> 2.2, >= 2.2.3"); "" is any version.
func gemSatisfies(req, v string) (bool, error) {
	c := version.Gem()
	for _, part := range strings.Split(req, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		op, ver := "=", part
		for _, o := range []string{"~>", ">=", "<=", "!=", ">", "<", "="} {
			if strings.HasPrefix(part, o) {
				op, ver = o, strings.TrimSpace(part[len(o):])
				break
			}
		}
		d, err := c.Compare(v, ver)
		if err != nil {
			return false, err
		}
		ok, plain := compareOp(op, d)
		switch {
		case plain:
		case op == "~>":
			// ~> 2.2 is >= 2.2, < 3; ~> 2.2.3 is >= 2.2.3, < 2.3.
			segs := strings.Split(ver, ".")
			upper := segs[0]
			if len(segs) > 1 {
				segs = segs[:len(segs)-1]
				var n int
				if _, err := fmt.Sscanf(segs[len(segs)-1], "%d", &n); err != nil {
					return false, fmt.Errorf("~> %s: %w", ver, err)
				}
				segs[len(segs)-1] = fmt.Sprint(n + 1)
				upper = strings.Join(segs, ".")
			} else {
				var n int
				if _, err := fmt.Sscanf(upper, "%d", &n); err != nil {
					return false, fmt.Errorf("~> %s: %w", ver, err)
				}
				upper = fmt.Sprint(n + 1)
			}
			u, err := c.Compare(v, upper)
			if err != nil {
				return false, err
			}
			ok = d >= 0 && u < 0
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// gemLockBump edits a Gemfile.lock so that gem name at version from is at
// version to: its spec line (any platform variant), and its CHECKSUMS line
// removed (the new gem's checksum is not known offline; bundle lock writes
// it). The requirements other gems and the DEPENDENCIES section declare
// must admit to, or the file is left alone with an error naming them.
func gemLockBump(lock []byte, name, from, to string) ([]byte, int, []string, error) {
	re := gemSpecLine()
	lines := splitLines(lock)
	section := ""
	changed := 0
	var constraints, blocked []string
	var out []string
	for _, raw := range lines {
		body := strings.TrimRight(raw, "\r\n")
		eol := raw[len(body):]
		if body != "" && body[0] != ' ' {
			section = strings.TrimSpace(body)
			out = append(out, raw)
			continue
		}
		m := re.FindStringSubmatch(body)
		if m == nil || m[2] != name {
			out = append(out, raw)
			continue
		}
		indent, ver := len(m[1]), m[3]
		switch {
		case section == "CHECKSUMS" && indent == 2:
			if v, _, _ := strings.Cut(ver, "-"); v == from || ver == from {
				continue // dropped
			}
		case section == "DEPENDENCIES" && indent == 2:
			constraints = append(constraints, ver)
			if ok, err := gemSatisfies(ver, to); err != nil || !ok {
				blocked = append(blocked, fmt.Sprintf("the Gemfile requires %s (%s)", name, ver))
			}
		case indent == 4 && (section == "GEM" || section == "PATH" || section == "GIT"):
			v, platform, _ := strings.Cut(ver, "-")
			if v == from {
				nv := to
				if platform != "" {
					nv += "-" + platform
				}
				raw = m[1] + m[2] + " (" + nv + ")" + m[4] + m[5] + eol
				changed++
			}
		case indent == 6:
			if ok, err := gemSatisfies(ver, to); err != nil || !ok {
				blocked = append(blocked, fmt.Sprintf("a gem requires %s (%s)", name, ver))
			}
		}
		out = append(out, raw)
	}
	if len(blocked) > 0 && changed > 0 {
		return nil, 0, constraints, fmt.Errorf("the requirements exclude %s (%s): bump them first", to, strings.Join(blocked, "; "))
	}
	return []byte(strings.Join(out, "")), changed, constraints, nil
}
