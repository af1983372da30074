package policy

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Trivy's .trivyignore.yaml, as Trivy writes it: the ignored findings by
// kind, each entry an id and/or purls and paths, with a statement and an
// expiry date:
//
//	vulnerabilities:
//	  - id: CVE-2023-3817
//	    purls: ["pkg:deb/debian/libssl1.1"]
//	    statement: Accept the risk
//	    expired_at: 2024-09-01
//	misconfigurations: [...]
//	secrets:
//	  - id: aws-access-key-id
//	    paths: ["foo/bar/aws.secret"]
//	licenses: [...]
//
// Each section's entries apply to that kind of result only (an entry with
// only paths under secrets never hides a vulnerability of a package in that
// path). vulnerabilities entries also allow malware that they name by ID (a
// malicious-package record is an OSV record like an advisory). Trivy's paths
// are relative to the image root; drydock's are absolute, so a relative path
// is read from "/". licenses entries apply to licence findings (scanner
// license): their id names a licence (matchLicense).

// ignoreKinds restricts an ignore entry to kinds of result: zero for every
// kind (drydock's own formats, where the ID says what it is), else the
// section of a Trivy file it came from.
type ignoreKinds uint8

const (
	ignoreVulns      ignoreKinds = 1 << iota // vulnerabilities (and malware named by ID)
	ignoreMisconfigs                         // misconfigurations
	ignoreSecrets                            // secrets
	ignoreLicenses                           // licenses
)

// applies reports whether e may match a result of kind k.
func (e *IgnoreEntry) applies(k ignoreKinds) bool { return e.kinds == 0 || e.kinds&k != 0 }

type trivyIgnoreDoc struct {
	Vulnerabilities   []trivyIgnoreEntry `yaml:"vulnerabilities"`
	Misconfigurations []trivyIgnoreEntry `yaml:"misconfigurations"`
	Secrets           []trivyIgnoreEntry `yaml:"secrets"`
	Licenses          []trivyIgnoreEntry `yaml:"licenses"`
}

type trivyIgnoreEntry struct {
	ID        string   `yaml:"id"`
	Paths     []string `yaml:"paths"`
	PURLs     []string `yaml:"purls"`
	Statement string   `yaml:"statement"`
	// ExpiredAt is a YAML date (2024-09-01): decoded into a string it
	// keeps its text.
	ExpiredAt string `yaml:"expired_at"`
}

var trivyIgnoreSections = []string{"vulnerabilities", "misconfigurations", "secrets", "licenses"}

// isTrivyIgnoreYAML reports whether data is a YAML mapping whose keys are
// all sections of Trivy's ignore file (and there is at least one).
func isTrivyIgnoreYAML(data []byte) bool {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil || n.Kind != yaml.DocumentNode || len(n.Content) != 1 {
		return false
	}
	m := n.Content[0]
	if m.Kind != yaml.MappingNode || len(m.Content) == 0 {
		return false
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if !slices.Contains(trivyIgnoreSections, m.Content[i].Value) {
			return false
		}
	}
	return true
}

// parseTrivyIgnoreYAML reads Trivy's .trivyignore.yaml into drydock's
// entries, each limited to its section's kind of result.
func parseTrivyIgnoreYAML(name string, data []byte) (*IgnoreFile, error) {
	f := &IgnoreFile{Source: name}
	var doc trivyIgnoreDoc
	root, err := decodeStrict(name, bytes.TrimSpace(data), &doc)
	if err != nil {
		return nil, err
	}
	for _, sec := range []struct {
		key     string
		kinds   ignoreKinds
		entries []trivyIgnoreEntry
	}{
		{"vulnerabilities", ignoreVulns, doc.Vulnerabilities},
		{"misconfigurations", ignoreMisconfigs, doc.Misconfigurations},
		{"secrets", ignoreSecrets, doc.Secrets},
		{"licenses", ignoreLicenses, doc.Licenses},
	} {
		items := seqItems(root, sec.key)
		for i, d := range sec.entries {
			pos := position{1, 1}
			if i < len(items) {
				pos = position{items[i].Line, items[i].Column}
			}
			fail := func(format string, args ...any) error {
				return &posError{file: name, pos: pos, msg: sec.key + ": " + fmt.Sprintf(format, args...)}
			}
			if d.ID == "" && len(d.PURLs) == 0 && len(d.Paths) == 0 {
				return nil, fail("an entry needs an id, purls or paths")
			}
			if len(d.PURLs) > 0 && sec.kinds != ignoreVulns {
				return nil, fail("purls apply to vulnerabilities only (as in Trivy)")
			}
			e := IgnoreEntry{ID: strings.TrimSpace(d.ID), Packages: d.PURLs, Reason: strings.TrimSpace(d.Statement),
				Expires: strings.TrimSpace(d.ExpiredAt), Line: pos.line, source: name, kinds: sec.kinds}
			for _, p := range d.Paths {
				if p = strings.TrimSpace(p); p != "" && !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "**") {
					p = "/" + strings.TrimPrefix(p, "./")
				}
				e.Paths = append(e.Paths, p)
			}
			for _, p := range e.Packages {
				if !strings.HasPrefix(strings.TrimSpace(p), "pkg:") {
					return nil, fail("%q is not a package URL (purls take pkg:TYPE/…)", p)
				}
			}
			if err := e.compile(); err != nil {
				return nil, fail("%v", err)
			}
			f.Entries = append(f.Entries, e)
		}
	}
	return f, nil
}
