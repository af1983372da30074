package npm

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// pnpmLock is pnpm-lock.yaml. Package keys differ by lockfile version:
//
//	5.x: /@types/ms/0.7.31, /foo/1.0.0_react@17.0.2 (peer suffix after "_")
//	6.x: /@types/ms@0.7.31, /foo@1.0.0(react@17.0.2)
//	9.x: @types/ms@0.7.31 (peers only in "snapshots" keys)
//
// 5.x and 6.x mark dev-only packages with "dev: true"; 9.x does not, so dev
// is derived from the importers' devDependencies and the snapshot graph.
type pnpmLock struct {
	LockfileVersion string                  `yaml:"lockfileVersion"`
	Importers       map[string]pnpmImporter `yaml:"importers"`
	Packages        map[string]pnpmPackage  `yaml:"packages"`
	// Snapshots are the "snapshots" entries' dependencies, as snapshot
	// keys (pnpmSnapshotKey): what pnpmReach walks, kept compact.
	Snapshots map[string][]string
}

type pnpmPackage struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
	Dev     *bool  `yaml:"dev"`
}

type pnpmImporter struct {
	Dependencies         map[string]pnpmDepRecord `yaml:"dependencies"`
	OptionalDependencies map[string]pnpmDepRecord `yaml:"optionalDependencies"`
	DevDependencies      map[string]pnpmDepRecord `yaml:"devDependencies"`
}

// pnpmDepRecord is an importer's dependency: a bare version in 5.x,
// {specifier, version} in 6.x and 9.x.
type pnpmDepRecord struct {
	Version string `yaml:"version"`
}

// UnmarshalYAML accepts both forms.
func (r *pnpmDepRecord) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		r.Version = n.Value
		return nil
	}
	type plain pnpmDepRecord
	return n.Decode((*plain)(r))
}

type pnpmSnapshot struct {
	Dependencies         map[string]string `yaml:"dependencies"`
	OptionalDependencies map[string]string `yaml:"optionalDependencies"`
}

// parsePnpmLock reads pnpm-lock.yaml line by line (see lockLines): the
// entries of "importers", "packages" and "snapshots" one at a time, at
// most maxLockEntries of each; the other top-level keys are skipped unread
// but for lockfileVersion.
func (e *Extractor) parsePnpmLock(ctx context.Context, open opener, in *extract.Input) ([]inventory.Package, error) {
	l, closeFile, err := newLockLines(ctx, open)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	lock, ye, cut := readPnpmLock(l)
	yerr := errors.Join(l.err(), ye.err())
	if lock.LockfileVersion == "" {
		return nil, errors.Join(yerr, errors.New("no lockfileVersion"), cut)
	}
	major := pnpmMajor(lock.LockfileVersion)
	var devOnly map[string]bool
	if major >= 9 {
		devOnly = pnpmDevOnly(&lock)
	}
	d := newDeclared(e, in)
	var bad []string
	for _, key := range sortedKeys(lock.Packages) {
		p := lock.Packages[key]
		name, version := pnpmParseKey(key, major)
		if p.Name != "" {
			name = p.Name
		}
		if p.Version != "" {
			version = p.Version
		}
		if strings.HasPrefix(version, "file:") || strings.HasPrefix(version, "link:") {
			continue // a local directory, not a published package
		}
		if version == "" || strings.ContainsAny(version, ":/") {
			// Tarball, git and directory dependencies carry name and version
			// fields; without them there is no version to report.
			bad = append(bad, fmt.Sprintf("package %q has no version", truncate(key)))
			continue
		}
		dev := p.Dev != nil && *p.Dev
		if major >= 9 {
			dev = devOnly[key]
		}
		d.add(name, version, nil, dev, false)
	}
	return d.pkgs, errors.Join(yerr, badError(bad), d.nameError(), cut)
}

// readPnpmLock reads the parts of pnpm-lock.yaml that parsePnpmLock uses.
// cut is non-nil when a section had more than maxLockEntries entries.
func readPnpmLock(l *lockLines) (lock pnpmLock, ye yamlErrs, cut error) {
	var (
		ent            entry
		stray, strayAt int
	)
	for {
		line, ok := l.next()
		if !ok {
			ye.add(strayError(stray, strayAt))
			return lock, ye, cut
		}
		if ind := indent(line.Text); ind != 0 {
			if ind > 0 { // stray indentation
				if stray++; stray == 1 {
					strayAt = line.N
				}
			}
			continue // or blank, or a comment
		}
		key, rest := topKey(line.Text)
		switch key {
		case "lockfileVersion":
			l.block(line, 0, &ent)
			var v struct {
				LockfileVersion string `yaml:"lockfileVersion"`
			}
			if ye.decode(&ent, &v) {
				lock.LockfileVersion = v.LockfileVersion
			}
		case "importers":
			if lock.Importers == nil {
				lock.Importers = map[string]pnpmImporter{}
			}
			cut = errors.Join(cut, pnpmSection(l, &ye, line, rest, put(lock.Importers)))
		case "packages":
			if lock.Packages == nil {
				lock.Packages = map[string]pnpmPackage{}
			}
			cut = errors.Join(cut, pnpmSection(l, &ye, line, rest, put(lock.Packages)))
		case "snapshots":
			if lock.Snapshots == nil {
				lock.Snapshots = map[string][]string{}
			}
			cut = errors.Join(cut, pnpmSection(l, &ye, line, rest, func(k string, snap pnpmSnapshot) {
				deps := make([]string, 0, len(snap.Dependencies)+len(snap.OptionalDependencies))
				for name, ref := range snap.Dependencies {
					deps = append(deps, pnpmSnapshotKey(name, ref))
				}
				for name, ref := range snap.OptionalDependencies {
					deps = append(deps, pnpmSnapshotKey(name, ref))
				}
				lock.Snapshots[k] = deps
			}))
		default:
			l.block(line, 0, nil)
		}
	}
}

// put stores entries in m.
func put[V any](m map[string]V) func(string, V) {
	return func(k string, v V) { m[k] = v }
}

// pnpmSection reads the top-level key whose line is head, giving each of
// its entries to put: its
// entries one at a time when they are a block mapping below it, or its
// value at once when it is on the same line ("packages: {}"). At most
// maxLockEntries entries are kept; past them it returns an error and
// skips the rest of the section.
func pnpmSection[V any](l *lockLines, ye *yamlErrs, head extract.Line, rest string, put func(string, V)) error {
	var ent entry
	entries := 0
	key, _ := topKey(head.Text)
	if rest != "" && rest[0] != '#' {
		l.block(head, 0, &ent)
		var v map[string]map[string]V
		if ye.decode(&ent, &v) {
			for _, section := range v {
				for _, k := range sortedKeys(section) {
					if entries >= maxLockEntries {
						return cutError(key)
					}
					entries++
					put(k, section[k])
				}
			}
		}
		return nil
	}
	child := -1 // the entries' indentation
	for {
		line, ok := l.next()
		if !ok {
			return nil
		}
		ind := indent(line.Text)
		if ind < 0 {
			continue
		}
		if ind == 0 {
			l.unread()
			return nil
		}
		if child < 0 {
			child = ind
		}
		if entries >= maxLockEntries {
			l.block(line, 0, nil) // the rest of the section
			return cutError(key)
		}
		entries++
		l.block(line, ind, &ent)
		var v map[string]V
		if ye.decode(&ent, &v) {
			for k, x := range v {
				put(k, x)
			}
		}
	}
}

// pnpmMajor returns the major lockfile version: "5.4" → 5, "6.0" → 6, "9.0" → 9.
func pnpmMajor(v string) int {
	major, _, _ := strings.Cut(strings.TrimSpace(v), ".")
	n, err := strconv.Atoi(major)
	if err != nil {
		return 0
	}
	return n
}

// pnpmParseKey splits a "packages" key into name and version.
func pnpmParseKey(key string, major int) (name, version string) {
	if major > 0 && major < 6 {
		// /name/version or /@scope/name/version, possibly behind a registry
		// host ("registry.example.com/foo/1.0.0"), peers after "_".
		segs := strings.Split(strings.TrimPrefix(key, "/"), "/")
		if len(segs) < 2 {
			return "", ""
		}
		version, _, _ = strings.Cut(segs[len(segs)-1], "_")
		name = segs[len(segs)-2]
		if len(segs) >= 3 && strings.HasPrefix(segs[len(segs)-3], "@") {
			name = segs[len(segs)-3] + "/" + name
		}
		return name, version
	}
	// 6.x: /name@version(peers); 9.x: name@version(peers).
	k := strings.TrimPrefix(key, "/")
	name, version, ok := splitNameVersion(k)
	if !ok {
		return "", ""
	}
	version, _, _ = strings.Cut(version, "(")
	return name, version
}

// pnpmDevOnly returns the package keys (9.x "packages" keys, without peer
// suffixes) reachable only from importers' devDependencies.
func pnpmDevOnly(lock *pnpmLock) map[string]bool {
	var prodRoots, devRoots []string
	for _, imp := range lock.Importers {
		for name, dep := range imp.Dependencies {
			prodRoots = append(prodRoots, pnpmSnapshotKey(name, dep.Version))
		}
		for name, dep := range imp.OptionalDependencies {
			prodRoots = append(prodRoots, pnpmSnapshotKey(name, dep.Version))
		}
		for name, dep := range imp.DevDependencies {
			devRoots = append(devRoots, pnpmSnapshotKey(name, dep.Version))
		}
	}
	prod := pnpmReach(lock, prodRoots)
	dev := pnpmReach(lock, devRoots)
	out := map[string]bool{}
	for k := range dev {
		if !prod[k] {
			out[k] = true
		}
	}
	return out
}

// pnpmSnapshotKey turns a dependency reference into a snapshot key. The
// reference is a version ("1.0.0(react@18.2.0)") or, for aliases, a full key
// ("string-width@4.2.3").
func pnpmSnapshotKey(name, ref string) string {
	bare, _, _ := strings.Cut(ref, "(")
	if strings.Contains(strings.TrimPrefix(bare, "@"), "@") {
		return ref
	}
	return name + "@" + ref
}

// pnpmReach walks the snapshot graph from roots and returns the "packages"
// keys (peer suffix removed) it reaches.
func pnpmReach(lock *pnpmLock, roots []string) map[string]bool {
	seen := map[string]bool{}
	reached := map[string]bool{}
	stack := roots
	for len(stack) > 0 {
		k := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[k] {
			continue
		}
		seen[k] = true
		pkgKey, _, _ := strings.Cut(k, "(")
		// Peer suffixes contain "(" only after the version; a scoped name
		// never does, so cutting at the first "(" is safe.
		reached[pkgKey] = true
		stack = append(stack, lock.Snapshots[k]...)
	}
	return reached
}
