package gem

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// specLine is a locked gem in a specs: block, as Bundler's own lockfile
// parser reads it: four spaces, the name, and "(version[-platform])".
var specLine = regexp.MustCompile(`^    ([^\s(]+) \(([^-)]*)(?:-([^)]*))?\)$`)

// lockSources are the sections whose specs: blocks list locked gems, and
// the Metadata["source"] each gives (none for the rubygems.org GEM section).
var lockSources = map[string]string{
	"GEM":           "",
	"GIT":           "git",
	"PATH":          "path",
	"PLUGIN SOURCE": "plugin",
}

// parseLockfile reads the specs: blocks of a Gemfile.lock:
//
//	GEM
//	  remote: https://rubygems.org/
//	  specs:
//	    nokogiri (1.13.10-x86_64-linux)
//	      racc (~> 1.4)
//
// Deeper lines (a gem's own requirements) are skipped. A gem locked for
// several platforms is reported once, with the platforms in
// Metadata["platform"]. Malformed lines are skipped and reported.
func (e *Extractor) parseLockfile(data []byte, in *extract.Input) ([]inventory.Package, error) {
	type entry struct {
		pkg       inventory.Package
		platforms []string
	}
	var (
		entries  []*entry
		index    = map[string]*entry{}
		bad      []string
		section  string
		isSource bool
		inSpecs  bool
		lineNo   int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxLockfileSize)
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] != ' ' {
			section = strings.TrimSpace(line)
			_, isSource = lockSources[section]
			inSpecs = false
			continue
		}
		if !isSource {
			continue
		}
		if !strings.HasPrefix(line, "    ") { // two-space keys: remote:, revision:, specs:
			inSpecs = strings.TrimSpace(line) == "specs:"
			continue
		}
		if !inSpecs || strings.HasPrefix(line, "     ") {
			continue // a dependency of the gem above
		}
		m := specLine.FindStringSubmatch(line)
		if m == nil || m[2] == "" {
			bad = append(bad, fmt.Sprintf("line %d: unexpected %q", lineNo, truncate(line)))
			continue
		}
		name, version, platform := m[1], m[2], m[3]
		key := name + "@" + version
		ent, ok := index[key]
		if !ok {
			p := e.newPackage(in, name, version)
			p.Declared = true
			if src := lockSources[section]; src != "" {
				p.Metadata = map[string]string{"source": src}
			}
			ent = &entry{pkg: p}
			index[key] = ent
			entries = append(entries, ent)
		}
		if platform != "" && !slices.Contains(ent.platforms, platform) {
			ent.platforms = append(ent.platforms, platform)
		}
	}
	var pkgs []inventory.Package
	for _, ent := range entries {
		if len(ent.platforms) > 0 {
			slices.Sort(ent.platforms)
			if ent.pkg.Metadata == nil {
				ent.pkg.Metadata = map[string]string{}
			}
			ent.pkg.Metadata["platform"] = strings.Join(ent.platforms, ",")
		}
		pkgs = append(pkgs, ent.pkg)
	}
	var err error
	if serr := sc.Err(); serr != nil {
		err = fmt.Errorf("line %d: %w", lineNo+1, serr)
	}
	return pkgs, errors.Join(err, badError(bad))
}

// badError summarises skipped lines: the first few and a count.
func badError(bad []string) error {
	const show = 3
	switch {
	case len(bad) == 0:
		return nil
	case len(bad) <= show:
		return errors.New(strings.Join(bad, "; "))
	}
	return fmt.Errorf("%s; and %d more malformed lines", strings.Join(bad[:show], "; "), len(bad)-show)
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}
