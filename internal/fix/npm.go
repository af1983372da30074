package fix

import (
	"fmt"
	"path"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// npmDepSections are the package.json (and lockfile package entry) members
// that declare dependencies with a range.
func npmDepSections() []string {
	return []string{"dependencies", "devDependencies", "optionalDependencies", "peerDependencies"}
}

// npmDependent is one range a package (or the project) declares for a
// dependency.
type npmDependent struct {
	By    string // lockfile key of the dependent ("" is the project)
	Range string
}

// npmLockBump edits an npm lockfile (package-lock.json or
// npm-shrinkwrap.json, lockfileVersion 1, 2 or 3) so that every copy of
// name at version from is at version to: "version", "resolved" (when it is
// the registry's tarball URL for from) and "integrity" (removed: the hash
// of the new tarball is not known offline; npm install writes it back). It
// returns the edited file, the number of copies changed, and the ranges the
// project and the other packages declare for name.
func npmLockBump(lock []byte, name, from, to string) ([]byte, int, []npmDependent, error) {
	root, err := parseJSONSpans(lock)
	if err != nil {
		return nil, 0, nil, err
	}
	if root.kind != '{' {
		return nil, 0, nil, fmt.Errorf("not a JSON object")
	}
	var ss []splice
	var deps []npmDependent
	changed := 0
	editEntry := func(e *jnode) {
		if e == nil || e.kind != '{' {
			return
		}
		v := e.get("version")
		if v == nil || v.kind != '"' || v.str != from {
			return
		}
		changed++
		ss = append(ss, splice{v.start, v.end, jsonString(to)})
		if r := e.get("resolved"); r != nil && r.kind == '"' {
			base := path.Base(name)
			old := "/-/" + base + "-" + from + ".tgz"
			if strings.HasSuffix(r.str, old) {
				ss = append(ss, splice{r.start, r.end, jsonString(strings.TrimSuffix(r.str, old) + "/-/" + base + "-" + to + ".tgz")})
			}
		}
		for i, m := range e.members {
			if m.key == "integrity" {
				ss = append(ss, removeMember(lock, e, i))
			}
		}
	}
	// lockfileVersion 2 and 3: "packages", keyed by install path.
	if pk := root.get("packages"); pk != nil && pk.kind == '{' {
		for _, m := range pk.members {
			if m.key == "node_modules/"+name || strings.HasSuffix(m.key, "/node_modules/"+name) {
				editEntry(m.val)
			}
			for _, sec := range npmDepSections() {
				if r := m.val.get(sec).get(name); r != nil && r.kind == '"' {
					deps = append(deps, npmDependent{By: m.key, Range: r.str})
				}
			}
		}
	}
	// lockfileVersion 1 (and 2's copy): "dependencies", nested.
	var walk func(n *jnode, at string, depth int)
	walk = func(n *jnode, at string, depth int) {
		d := n.get("dependencies")
		if d == nil || d.kind != '{' || depth > maxJSONDepth {
			return
		}
		for _, m := range d.members {
			key := at + "node_modules/" + m.key
			if m.key == name {
				editEntry(m.val)
			}
			if r := m.val.get("requires").get(name); r != nil && r.kind == '"' && root.get("packages") == nil {
				deps = append(deps, npmDependent{By: key, Range: r.str})
			}
			walk(m.val, key+"/", depth+1)
		}
	}
	walk(root, "", 0)
	out, err := applySplices(lock, ss)
	if err != nil {
		return nil, 0, nil, err
	}
	return out, changed, deps, nil
}

// npmSetRange sets the range the project declares for name in a
// package.json, or in a lockfile's root package entry (packages[""]) when
// lockRoot is set. It reports whether anything changed.
func npmSetRange(doc []byte, name, rng string, lockRoot bool) ([]byte, bool, error) {
	root, err := parseJSONSpans(doc)
	if err != nil {
		return nil, false, err
	}
	obj := root
	if lockRoot {
		obj = root.get("packages").get("")
	}
	var ss []splice
	for _, sec := range npmDepSections() {
		if r := obj.get(sec).get(name); r != nil && r.kind == '"' && r.str != rng {
			ss = append(ss, splice{r.start, r.end, jsonString(rng)})
		}
	}
	if len(ss) == 0 {
		return doc, false, nil
	}
	out, err := applySplices(doc, ss)
	return out, err == nil, err
}

// npmDeclared returns the range a package.json declares for name, or "".
func npmDeclared(pkgJSON []byte, name string) (string, error) {
	root, err := parseJSONSpans(pkgJSON)
	if err != nil {
		return "", err
	}
	for _, sec := range npmDepSections() {
		if r := root.get(sec).get(name); r != nil && r.kind == '"' {
			return r.str, nil
		}
	}
	return "", nil
}

// npmSatisfies reports whether version v is in the npm range rng. A range
// that is not a semver range (a URL, a tag, a path) is an error.
func npmSatisfies(rng, v string) (bool, error) {
	rng = strings.TrimSpace(rng)
	if rng == "" || rng == "latest" {
		return true, nil
	}
	if strings.ContainsAny(rng, ":/#") {
		return false, fmt.Errorf("%q is not a version range", rng)
	}
	c, err := semver.NewConstraint(rng)
	if err != nil {
		return false, fmt.Errorf("parsing the range %q: %w", rng, err)
	}
	sv, err := semver.StrictNewVersion(strings.TrimPrefix(v, "v"))
	if err != nil {
		return false, fmt.Errorf("parsing the version %q: %w", v, err)
	}
	return c.Check(sv), nil
}

// npmRangeFor is the range that replaces rng to admit to: the same
// operator for ^ and ~, else the exact version.
func npmRangeFor(rng, to string) string {
	switch {
	case strings.HasPrefix(rng, "^"):
		return "^" + to
	case strings.HasPrefix(rng, "~"):
		return "~" + to
	}
	return to
}
