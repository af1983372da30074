package npm

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// berryMarker finds the __metadata block that Yarn 2+ ("berry") writes and
// Yarn 1 never does.
var berryMarker = regexp.MustCompile(`(?m)^__metadata:`)

// parseYarnLock reads yarn.lock in either the Yarn 1 format or the Yarn 2+
// YAML format.
func (e *Extractor) parseYarnLock(data []byte, in *extract.Input) ([]inventory.Package, error) {
	if berryMarker.Match(data) {
		return e.parseYarnBerry(data, in)
	}
	return e.parseYarnV1(data, in)
}

// yarnSkipProtocols are resolutions that are not packages from a registry:
// the project itself, local directories, patched copies of another entry.
var yarnSkipProtocols = map[string]bool{
	"workspace": true, "patch": true, "link": true, "portal": true, "file": true, "exec": true,
}

// parseYarnV1 reads the Yarn 1 format:
//
//	"@types/ms@0.7.31", "@types/ms@^0.7.0":
//	  version "0.7.31"
//	  resolved "https://…"
//
// It is not YAML, so it is read line by line. Malformed entries are skipped
// and counted; the rest is kept.
func (e *Extractor) parseYarnV1(data []byte, in *extract.Input) ([]inventory.Package, error) {
	d := newDeclared(e, in)
	var (
		bad      []string // why entries were skipped
		name     string   // current entry's package name
		skip     bool     // current entry is not a registry package
		inEntry  bool
		hasVer   bool
		lineNo   int
		entryLNo int
	)
	finish := func() {
		if inEntry && !skip && !hasVer {
			bad = append(bad, fmt.Sprintf("line %d: entry %q has no version", entryLNo, name))
		}
		inEntry, skip, hasVer, name = false, false, false, ""
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxLockfileSize)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if trimmed == line { // no indentation: an entry header
			finish()
			if !strings.HasSuffix(line, ":") {
				bad = append(bad, fmt.Sprintf("line %d: unexpected %q", lineNo, truncate(line)))
				continue
			}
			n, protocol, ok := parseYarnDescriptor(line[:len(line)-1])
			if !ok {
				bad = append(bad, fmt.Sprintf("line %d: bad entry header %q", lineNo, truncate(line)))
				continue
			}
			inEntry, entryLNo, name = true, lineNo, n
			skip = yarnSkipProtocols[protocol]
			continue
		}
		if !inEntry || line[0] != ' ' || strings.HasPrefix(line, "   ") {
			continue // a nested block (dependencies:) or stray indentation
		}
		key, value, _ := strings.Cut(trimmed, " ")
		if key != "version" && key != `"version"` {
			continue
		}
		if hasVer {
			continue
		}
		v := unquote(strings.TrimSpace(value))
		if v == "" {
			continue
		}
		hasVer = true
		if !skip {
			d.add(name, v, nil, false, false)
		}
	}
	finish()
	var err error
	if serr := sc.Err(); serr != nil {
		err = fmt.Errorf("line %d: %w", lineNo+1, serr)
	}
	return d.pkgs, errors.Join(err, badError(bad), d.nameError())
}

// parseYarnDescriptor reads the first descriptor of an entry header such as
// `"@types/ms@0.7.31", "@types/ms@^0.7.0"` or `string-width-cjs@npm:string-width@^4.2.0`
// and returns the real package name and the range's protocol ("npm" for an
// alias, "file" for a local directory, "" for a plain semver range).
func parseYarnDescriptor(header string) (name, protocol string, ok bool) {
	first, _, _ := strings.Cut(header, ",")
	first = unquote(strings.TrimSpace(first))
	name, rng, ok := splitNameVersion(first)
	if !ok {
		return "", "", false
	}
	if p, rest, found := strings.Cut(rng, ":"); found && isProtocol(p) {
		protocol = p
		if p == "npm" {
			// An alias to another package: name@npm:real-name@range.
			if real, _, ok := splitNameVersion(rest); ok && strings.Contains(rest[1:], "@") {
				name = real
			}
		}
	}
	return name, protocol, true
}

// isProtocol reports whether s looks like a range protocol ("npm", "file",
// "git+https"), not part of a URL or version.
func isProtocol(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '+') {
			return false
		}
	}
	return true
}

// berryEntry is one Yarn 2+ lockfile entry.
type berryEntry struct {
	Version    string `yaml:"version"`
	Resolution string `yaml:"resolution"`
}

// parseYarnBerry reads the Yarn 2+ format, which is YAML:
//
//	"@types/ms@npm:0.7.31":
//	  version: 0.7.31
//	  resolution: "@types/ms@npm:0.7.31"
func (e *Extractor) parseYarnBerry(data []byte, in *extract.Input) ([]inventory.Package, error) {
	var lock map[string]berryEntry
	yerr := yaml.Unmarshal(data, &lock)
	var te *yaml.TypeError
	if yerr != nil && !errors.As(yerr, &te) {
		return nil, yerr
	}
	d := newDeclared(e, in)
	var bad []string
	for _, key := range sortedKeys(lock) {
		if key == "__metadata" {
			continue
		}
		ent := lock[key]
		res := ent.Resolution
		if res == "" {
			res, _, _ = strings.Cut(key, ",")
			res = strings.TrimSpace(res)
		}
		name, ref, ok := splitNameVersion(res)
		if !ok {
			bad = append(bad, fmt.Sprintf("entry %q: bad resolution %q", truncate(key), truncate(res)))
			continue
		}
		if p, _, found := strings.Cut(ref, ":"); found && yarnSkipProtocols[p] {
			continue
		}
		if ent.Version == "" {
			bad = append(bad, fmt.Sprintf("entry %q has no version", truncate(key)))
			continue
		}
		d.add(name, ent.Version, nil, false, false)
	}
	if te != nil {
		return d.pkgs, errors.Join(yerr, badError(bad), d.nameError())
	}
	return d.pkgs, errors.Join(badError(bad), d.nameError())
}

// badError summarises skipped entries: the first few reasons and a count.
func badError(bad []string) error {
	const show = 3
	switch {
	case len(bad) == 0:
		return nil
	case len(bad) <= show:
		return errors.New(strings.Join(bad, "; "))
	}
	return fmt.Errorf("%s; and %d more malformed entries", strings.Join(bad[:show], "; "), len(bad)-show)
}

// unquote strips one pair of double quotes, honouring escapes when it can.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
