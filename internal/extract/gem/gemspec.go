package gem

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var (
	// specBlock finds "Gem::Specification.new do |s|" and the block variable.
	specBlock = regexp.MustCompile(`Gem::Specification\.new\s*(?:do\s*\|\s*(\w+)\s*\||\{\s*\|\s*(\w+)\s*\|)`)
	// assignment finds "  s.name = …" lines; the right-hand side is group 3.
	assignment = regexp.MustCompile(`(?m)^[ \t]*(\w+)\.(name|version|platform|licenses|license)[ \t]*=[ \t]*(.*)$`)
	// stringLiteral matches the Ruby string literals RubyGems writes:
	// "…" (current), '…', and %q{…} / %q<…> / %q(…) / %q[…] (RubyGems 1.x).
	stringLiteral = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|%q\{([^}]*)\}|%q<([^>]*)>|%q\(([^)]*)\)|%q\[([^\]]*)\]`)
	// stub is the "# stub: name version platform require_paths" line RubyGems
	// writes at the top of an installed gemspec.
	stub = regexp.MustCompile(`(?m)^# stub: (\S+) (\S+) (\S+)`)
)

// gemspec holds the fields read from a gemspec.
type gemspec struct {
	name, version, platform string
	licenses                []string
}

// parseGemspec reads a generated gemspec. The assignments are taken from the
// Gem::Specification block's variable when one is found; the "# stub:" line
// fills in name, version and platform when the assignments are not literals.
func (e *Extractor) parseGemspec(data []byte, in *extract.Input, defaultGem bool) (inventory.Package, error) {
	spec := readGemspec(string(data))
	if spec.name == "" {
		return inventory.Package{}, errors.New("no gem name")
	}
	if spec.version == "" {
		// Last resort: the file name is <name>-<version>[-<platform>].gemspec.
		base := strings.TrimSuffix(path.Base(in.Path), ".gemspec")
		if v, ok := strings.CutPrefix(base, spec.name+"-"); ok {
			if spec.platform != "" {
				v = strings.TrimSuffix(v, "-"+spec.platform)
			}
			spec.version = v
		}
	}
	if spec.version == "" {
		return inventory.Package{}, fmt.Errorf("no version for gem %q", spec.name)
	}
	p := e.newPackage(in, spec.name, spec.version)
	p.Licenses = spec.licenses
	meta := map[string]string{}
	if spec.platform != "" && spec.platform != "ruby" {
		meta["platform"] = spec.platform
	}
	if defaultGem {
		meta["default_gem"] = "true"
	}
	if len(meta) > 0 {
		p.Metadata = meta
	}
	return p, nil
}

func readGemspec(src string) gemspec {
	var spec gemspec
	blockVar := ""
	if m := specBlock.FindStringSubmatch(src); m != nil {
		blockVar = m[1] + m[2]
	}
	for _, m := range assignment.FindAllStringSubmatch(src, -1) {
		if blockVar != "" && m[1] != blockVar {
			continue
		}
		lits := literals(m[3])
		switch m[2] {
		case "name":
			if spec.name == "" && len(lits) > 0 {
				spec.name = lits[0]
			}
		case "version":
			if spec.version == "" && len(lits) > 0 {
				spec.version = lits[0]
			}
		case "platform":
			if spec.platform == "" && len(lits) > 0 {
				spec.platform = lits[0]
			}
		case "licenses", "license":
			if spec.licenses == nil {
				for _, l := range lits {
					if l != "" {
						spec.licenses = append(spec.licenses, l)
					}
				}
			}
		}
	}
	if m := stub.FindStringSubmatch(src); m != nil {
		if spec.name == "" {
			spec.name = m[1]
		}
		if spec.version == "" && spec.name == m[1] {
			spec.version = m[2]
		}
		if spec.platform == "" && spec.name == m[1] {
			spec.platform = m[3]
		}
	}
	return spec
}

// literals returns the string literals in a Ruby expression, in order.
func literals(expr string) []string {
	var out []string
	for _, m := range stringLiteral.FindAllStringSubmatch(expr, -1) {
		switch {
		case strings.HasPrefix(m[0], `"`):
			out = append(out, unescape(m[1]))
		case strings.HasPrefix(m[0], `'`):
			out = append(out, unescape(m[2]))
		default:
			out = append(out, m[3]+m[4]+m[5]+m[6])
		}
	}
	return out
}

// unescape resolves the backslash escapes RubyGems may write in a name or
// licence (\" \' \\ \#); other escapes are kept as written.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"'\#`, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
