package npm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// manifest is the part of package.json drydock reads.
type manifest struct {
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	License  json.RawMessage `json:"license"`
	Licenses json.RawMessage `json:"licenses"`
}

// parseManifest reads one package.json. Files without a name or version (a
// "type": "module" marker, an unpublished application) yield no package.
func (e *Extractor) parseManifest(data []byte, in *extract.Input) ([]inventory.Package, error) {
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Name == "" || m.Version == "" {
		return nil, nil
	}
	if !validName(m.Name) {
		return nil, fmt.Errorf("package name %q is not valid", truncate(m.Name))
	}
	lic := parseLicenses(m.License)
	if len(lic) == 0 {
		lic = parseLicenses(m.Licenses)
	}
	p := e.newPackage(in, m.Name, m.Version, lic)
	if !inNodeModules(in.Path) {
		p.Metadata = map[string]string{"root": "true"}
	}
	return []inventory.Package{p}, nil
}

// parseLicenses reads the "license" or "licenses" field in any of the forms
// found in the wild: "MIT", {"type": "MIT", "url": …}, or an array of either.
// Unrecognised shapes are ignored: a licence is not worth losing the package.
func parseLicenses(raw json.RawMessage) []string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	var out []string
	add := func(s string) {
		if s != "" {
			out = append(out, s)
		}
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			add(s)
		}
	case '{':
		var o struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(raw, &o) == nil {
			add(o.Type)
		}
	case '[':
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) == nil {
			for _, it := range items {
				it = bytes.TrimSpace(it)
				if len(it) > 0 && it[0] != '[' { // no nested arrays
					out = append(out, parseLicenses(it)...)
				}
			}
		}
	}
	return out
}

// jsonPartial reports whether a json.Unmarshal error left usable partial
// results: a type mismatch in one field, with the rest decoded.
func jsonPartial(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// missingError describes lockfile entries skipped for lack of a version.
func missingError(n int) error {
	if n == 0 {
		return nil
	}
	if n == 1 {
		return errors.New("1 entry without a version skipped")
	}
	return fmt.Errorf("%d entries without a version skipped", n)
}
