package npm

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// packageLock is package-lock.json / npm-shrinkwrap.json. Version 1 has only
// the nested "dependencies" tree; version 2 has both; version 3 only the flat
// "packages" map keyed by install path ("node_modules/a/node_modules/b").
type packageLock struct {
	LockfileVersion int                       `json:"lockfileVersion"`
	Packages        map[string]lockPackage    `json:"packages"`
	Dependencies    map[string]lockDependency `json:"dependencies"`
}

type lockPackage struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	Dev      bool            `json:"dev"`
	Optional bool            `json:"optional"`
	Link     bool            `json:"link"`
	License  json.RawMessage `json:"license"`
}

type lockDependency struct {
	Version      string                    `json:"version"`
	Dev          bool                      `json:"dev"`
	Optional     bool                      `json:"optional"`
	Dependencies map[string]lockDependency `json:"dependencies"`
}

// parsePackageLock reads an npm lockfile. The root project (the "" key of
// "packages" in lockfile v2 and v3: the project itself, not a dependency;
// its package.json is read on its own) and links to local directories are
// skipped. Entries without a version, or without a valid name, are skipped
// and reported.
func (e *Extractor) parsePackageLock(data []byte, in *extract.Input) ([]inventory.Package, error) {
	var lock packageLock
	jerr := json.Unmarshal(data, &lock)
	if jerr != nil && !jsonPartial(jerr) {
		return nil, jerr
	}
	d := newDeclared(e, in)
	missing := 0
	if len(lock.Packages) > 0 {
		for _, key := range sortedKeys(lock.Packages) {
			if key == "" {
				continue
			}
			p := lock.Packages[key]
			if p.Link {
				continue
			}
			name := p.Name
			i := strings.LastIndex(key, "node_modules/")
			if name == "" && i >= 0 {
				name = key[i+len("node_modules/"):]
			}
			if i < 0 && (name == "" || p.Version == "") {
				// Workspace members ("packages/a") may lack a name or
				// version; installed dependencies may not.
				continue
			}
			if p.Version == "" {
				missing++
				continue
			}
			d.add(name, p.Version, parseLicenses(p.License), p.Dev, p.Optional)
		}
	} else {
		missing = walkDependencies(d, lock.Dependencies)
	}
	return d.pkgs, errors.Join(jerr, missingError(missing), d.nameError())
}

// walkDependencies adds a lockfile v1 dependency tree and returns the number
// of entries without a version.
func walkDependencies(d *declared, deps map[string]lockDependency) int {
	missing := 0
	for _, name := range sortedKeys(deps) {
		dep := deps[name]
		version := dep.Version
		switch {
		case version == "":
			missing++
		case strings.HasPrefix(version, "file:"):
			// A local directory or tarball, not a registry package.
		case strings.HasPrefix(version, "npm:"):
			// An alias: "npm:real-name@1.2.3".
			if n, v, ok := splitNameVersion(version[len("npm:"):]); ok && v != "" {
				d.add(n, v, nil, dep.Dev, dep.Optional)
			} else {
				missing++
			}
		default:
			d.add(name, version, nil, dep.Dev, dep.Optional)
		}
		missing += walkDependencies(d, dep.Dependencies)
	}
	return missing
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
