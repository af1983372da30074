package npm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// parseYarnLock reads yarn.lock in either the Yarn 1 format or the Yarn 2+
// YAML format, line by line: it is read twice, first to tell the format
// (Yarn 2+, "berry", writes a __metadata block at column 0 that Yarn 1
// never does), then to read its entries.
func (e *Extractor) parseYarnLock(ctx context.Context, open opener, in *extract.Input) ([]inventory.Package, error) {
	berry, err := isBerry(ctx, open)
	if err != nil {
		return nil, err
	}
	l, closeFile, err := newLockLines(ctx, open)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	if berry {
		return e.parseYarnBerry(l, in)
	}
	return e.parseYarnV1(l, in)
}

// isBerry reports whether a line begins with "__metadata:". A line too
// long ends the search: the parse that follows stops there too, and says
// so.
func isBerry(ctx context.Context, open opener) (bool, error) {
	rc, err := open()
	if err != nil {
		return false, err
	}
	defer rc.Close()
	lr := extract.NewLineReader(ctx, rc, maxLockLine)
	for lr.Next() {
		if strings.HasPrefix(lr.Line().Text, "__metadata:") {
			return true, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return false, nil
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
func (e *Extractor) parseYarnV1(l *lockLines, in *extract.Input) ([]inventory.Package, error) {
	d := newDeclared(e, in)
	var (
		bad      []string // why entries were skipped
		name     string   // current entry's package name
		skip     bool     // current entry is not a registry package
		inEntry  bool
		hasVer   bool
		entryLNo int
		entries  int
		cut      error
	)
	finish := func() {
		if inEntry && !skip && !hasVer {
			bad = append(bad, fmt.Sprintf("line %d: entry %q has no version", entryLNo, name))
		}
		inEntry, skip, hasVer, name = false, false, false, ""
	}
	for {
		l1, ok := l.next()
		if !ok {
			break
		}
		lineNo := l1.N
		line := strings.TrimRight(l1.Text, " \t\r")
		trimmed := strings.TrimLeft(line, " \t")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if trimmed == line { // no indentation: an entry header
			finish()
			if entries >= maxLockEntries {
				cut = cutError("")
				break
			}
			entries++
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
	return d.pkgs, errors.Join(l.err(), badError(bad), d.nameError(), cut)
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
//
// Its entries are the document's keys, each read and decoded on its own
// (see lockLines).
func (e *Extractor) parseYarnBerry(l *lockLines, in *extract.Input) ([]inventory.Package, error) {
	d := newDeclared(e, in)
	var (
		bad     []string
		ye      yamlErrs
		ent     entry
		entries int
		cut     error
		stray   int
		strayAt int
	)
	for {
		line, ok := l.next()
		if !ok {
			break
		}
		if ind := indent(line.Text); ind != 0 {
			if ind > 0 { // stray indentation
				if stray++; stray == 1 {
					strayAt = line.N
				}
			}
			continue // or blank, or a comment
		}
		if strings.HasPrefix(line.Text, "__metadata:") {
			l.block(line, 0, nil)
			continue
		}
		if entries >= maxLockEntries {
			cut = cutError("")
			break
		}
		entries++
		l.block(line, 0, &ent)
		var lock map[string]berryEntry
		if !ye.decode(&ent, &lock) {
			continue
		}
		for _, key := range sortedKeys(lock) {
			if key == "__metadata" {
				continue
			}
			bad = berryAdd(d, bad, key, lock[key])
		}
	}
	return d.pkgs, errors.Join(l.err(), strayError(stray, strayAt), ye.err(), badError(bad), d.nameError(), cut)
}

// berryAdd adds one Yarn 2+ entry, or the reason it is skipped to bad.
func berryAdd(d *declared, bad []string, key string, ent berryEntry) []string {
	res := ent.Resolution
	if res == "" {
		res, _, _ = strings.Cut(key, ",")
		res = strings.TrimSpace(res)
	}
	name, ref, ok := splitNameVersion(res)
	if !ok {
		return append(bad, fmt.Sprintf("entry %q: bad resolution %q", truncate(key), truncate(res)))
	}
	if p, _, found := strings.Cut(ref, ":"); found && yarnSkipProtocols[p] {
		return bad
	}
	if ent.Version == "" {
		return append(bad, fmt.Sprintf("entry %q has no version", truncate(key)))
	}
	d.add(name, ent.Version, nil, false, false)
	return bad
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
