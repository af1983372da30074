package fix

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/semver/v3"
)

// cargoLockBump edits a Cargo.lock so that crate name at version from is at
// version to: the version of its [[package]] entry, its checksum line
// removed (the new crate's checksum is not known offline; cargo writes it
// on the next build), and the "name from" references in other packages'
// dependencies (written with a version when several versions of the crate
// are locked). The file is edited line by line, as cargo writes it.
func cargoLockBump(lock []byte, name, from, to string) ([]byte, int, error) {
	var doc struct {
		Package []struct{ Name, Version string } `toml:"package"`
	}
	if _, err := toml.Decode(string(lock), &doc); err != nil {
		return nil, 0, err
	}
	lines := splitLines(lock)
	var out []string
	inPkg, match, verMatch := false, false, false
	changed := 0
	for _, raw := range lines {
		body := strings.TrimRight(raw, "\r\n")
		eol := raw[len(body):]
		t := strings.TrimSpace(body)
		switch {
		case strings.HasPrefix(t, "["):
			inPkg, match, verMatch = t == "[[package]]", false, false
		case inPkg && strings.HasPrefix(t, "name = "):
			match = tomlString(t, "name") == name
		case inPkg && match && strings.HasPrefix(t, "version = ") && tomlString(t, "version") == from:
			raw = "version = " + strconv.Quote(to) + eol
			changed++
			verMatch = true
		case inPkg && verMatch && strings.HasPrefix(t, "checksum = "):
			continue
		case inPkg && (t == strconv.Quote(name+" "+from) || t == strconv.Quote(name+" "+from)+","):
			// A dependency on this version, in a dependencies array.
			i := strings.Index(raw, strconv.Quote(name+" "+from))
			raw = raw[:i] + strconv.Quote(name+" "+to) + raw[i+len(strconv.Quote(name+" "+from)):]
		}
		out = append(out, raw)
	}
	res := []byte(strings.Join(out, ""))
	if _, err := toml.Decode(string(res), &doc); err != nil {
		return nil, 0, fmt.Errorf("the edited file would not parse (%v): edit it by hand", err)
	}
	return res, changed, nil
}

// tomlString reads the quoted value of a `key = "value"` line; "" when it
// is not one.
func tomlString(line, key string) string {
	v, ok := strings.CutPrefix(line, key+" = ")
	if !ok {
		return ""
	}
	s, err := strconv.Unquote(strings.TrimSpace(v))
	if err != nil {
		return ""
	}
	return s
}

// cargoRequirement returns the version requirement a Cargo.toml declares
// for crate name (in [dependencies], [dev-dependencies],
// [build-dependencies] and their target-specific forms), "" when it
// declares none.
func cargoRequirement(manifest []byte, name string) (string, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(manifest), &doc); err != nil {
		return "", err
	}
	find := func(tables map[string]any) string {
		for _, sec := range []string{"dependencies", "dev-dependencies", "build-dependencies"} {
			deps, _ := tables[sec].(map[string]any)
			switch d := deps[name].(type) {
			case string:
				return d
			case map[string]any:
				if v, ok := d["version"].(string); ok {
					return v
				}
			}
		}
		return ""
	}
	if r := find(doc); r != "" {
		return r, nil
	}
	targets, _ := doc["target"].(map[string]any)
	for _, t := range targets {
		if tt, ok := t.(map[string]any); ok {
			if r := find(tt); r != "" {
				return r, nil
			}
		}
	}
	return "", nil
}

// cargoSatisfies reports whether v meets a Cargo requirement: a bare
// version is a caret requirement ("1.6" is "^1.6").
func cargoSatisfies(req, v string) (bool, error) {
	var parts []string
	for _, p := range strings.Split(req, ",") {
		p = strings.TrimSpace(p)
		if p != "" && p[0] >= '0' && p[0] <= '9' {
			p = "^" + p
		}
		parts = append(parts, p)
	}
	c, err := semver.NewConstraint(strings.Join(parts, ", "))
	if err != nil {
		return false, fmt.Errorf("parsing the requirement %q: %w", req, err)
	}
	sv, err := semver.StrictNewVersion(v)
	if err != nil {
		return false, fmt.Errorf("parsing the version %q: %w", v, err)
	}
	return c.Check(sv), nil
}
