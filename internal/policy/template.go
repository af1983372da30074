package policy

import (
	"fmt"
	"slices"
	"strings"
)

// tmplPart is literal text or, when field is set, a {{field}} placeholder.
type tmplPart struct {
	text  string
	field string
}

// parseTemplate splits a message into literal text and {{field}}
// placeholders, rejecting unknown fields and unclosed braces.
func parseTemplate(msg string, known []string) ([]tmplPart, error) {
	var parts []tmplPart
	rest := msg
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				parts = append(parts, tmplPart{text: rest})
			}
			return parts, nil
		}
		if i > 0 {
			parts = append(parts, tmplPart{text: rest[:i]})
		}
		j := strings.Index(rest[i+2:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ in %q", msg)
		}
		name := strings.TrimSpace(rest[i+2 : i+2+j])
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("unknown field {{%s}} (have %s)", name, strings.Join(known, ", "))
		}
		parts = append(parts, tmplPart{field: name})
		rest = rest[i+2+j+2:]
	}
}

func renderTemplate(parts []tmplPart, fields map[string]string) string {
	var b strings.Builder
	for _, p := range parts {
		if p.field != "" {
			b.WriteString(fields[p.field])
		} else {
			b.WriteString(p.text)
		}
	}
	return b.String()
}

// fieldNames lists the {{field}} names a message of rule kind may use.
func fieldNames(kind string) []string {
	var m map[string]string
	switch kind {
	case OnFinding:
		m = findingFields(&FindingInput{})
	case OnPackage:
		m = packageFields(&PackageInput{})
	case OnImage:
		m = imageFields(&ImageInput{})
	case OnSecret:
		m = secretFields(&SecretInput{})
	case OnMisconfig:
		m = misconfigFields(&MisconfigInput{})
	case OnMalware:
		m = malwareFields(&MalwareInput{})
	case OnLicense:
		m = licenseFields(&LicenseInput{})
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
