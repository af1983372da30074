package policy

import (
	"encoding/json"
	"fmt"
	"strings"
)

// OpenVEX (https://github.com/openvex/spec), v0.0.1 and v0.2.0: the
// vulnerability may be a string (v0.0.1) or an object, and products strings
// or objects.
type openVEXDoc struct {
	Context    string             `json:"@context"`
	ID         string             `json:"@id"`
	Timestamp  string             `json:"timestamp"`
	Statements []openVEXStatement `json:"statements"`
}

type openVEXStatement struct {
	Vulnerability   json.RawMessage   `json:"vulnerability"`
	Products        []json.RawMessage `json:"products"`
	Status          string            `json:"status"`
	Justification   string            `json:"justification"`
	ImpactStatement string            `json:"impact_statement"`
	ActionStatement string            `json:"action_statement"`
	StatusNotes     string            `json:"status_notes"`
	Timestamp       string            `json:"timestamp"`
	LastUpdated     string            `json:"last_updated"`
}

type openVEXVuln struct {
	ID      string   `json:"@id"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases"`
}

type openVEXComponent struct {
	ID          string `json:"@id"`
	Identifiers struct {
		PURL string `json:"purl"`
	} `json:"identifiers"`
	Subcomponents []json.RawMessage `json:"subcomponents"`
}

// purl returns the component's package URL: identifiers.purl, else an @id
// that is a package URL.
func (c *openVEXComponent) purl() string {
	if c.Identifiers.PURL != "" {
		return c.Identifiers.PURL
	}
	if strings.HasPrefix(c.ID, "pkg:") {
		return c.ID
	}
	return ""
}

func decodeOpenVEXComponent(raw json.RawMessage) (openVEXComponent, error) {
	var c openVEXComponent
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		c.ID = s
		return c, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("product: %w", err)
	}
	return c, nil
}

func parseOpenVEX(data []byte) (*VEX, error) {
	var doc openVEXDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing OpenVEX: %w", err)
	}
	if len(doc.Statements) == 0 {
		return nil, fmt.Errorf("OpenVEX document has no statements")
	}
	v := &VEX{Format: FormatOpenVEX}
	docTime := parseTime(doc.Timestamp)
	for i, st := range doc.Statements {
		where := fmt.Sprintf("statement %d", i+1)
		s := VEXStatement{Status: st.Status, Justification: st.Justification, Timestamp: docTime}
		switch st.Status {
		case VEXNotAffected, VEXFixed, VEXAffected, VEXUnderInvestigation:
		default:
			return nil, fmt.Errorf("%s: unknown status %q", where, st.Status)
		}
		s.Impact = st.ImpactStatement
		if s.Impact == "" {
			s.Impact = st.ActionStatement
		}
		if s.Impact == "" {
			s.Impact = st.StatusNotes
		}
		for _, t := range []string{st.Timestamp, st.LastUpdated} {
			if ts := parseTime(t); !ts.IsZero() {
				s.Timestamp = ts
			}
		}
		var name string
		if err := json.Unmarshal(st.Vulnerability, &name); err == nil {
			s.Vulnerabilities = []string{name}
		} else {
			var vu openVEXVuln
			if err := json.Unmarshal(st.Vulnerability, &vu); err != nil {
				return nil, fmt.Errorf("%s: vulnerability: %w", where, err)
			}
			for _, id := range append([]string{vu.Name, vu.ID}, vu.Aliases...) {
				if id != "" {
					s.Vulnerabilities = append(s.Vulnerabilities, id)
				}
			}
		}
		if len(s.Vulnerabilities) == 0 {
			return nil, fmt.Errorf("%s: no vulnerability", where)
		}
		if len(st.Products) == 0 {
			return nil, fmt.Errorf("%s: no products", where)
		}
		for _, raw := range st.Products {
			prod, err := decodeOpenVEXComponent(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", where, err)
			}
			parent := prod.purl()
			if parent == "" {
				parent = prod.ID
			}
			if len(prod.Subcomponents) == 0 {
				if prod.purl() != "" {
					s.Products = append(s.Products, VEXProduct{PURL: prod.purl()})
				}
				continue
			}
			for _, rawSub := range prod.Subcomponents {
				sub, err := decodeOpenVEXComponent(rawSub)
				if err != nil {
					return nil, fmt.Errorf("%s: sub%w", where, err)
				}
				if sub.purl() != "" {
					s.Products = append(s.Products, VEXProduct{PURL: sub.purl(), Parent: parent})
				}
			}
		}
		if len(s.Products) == 0 {
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s (%s): no product has a package URL; statement not applied", where, s.Vulnerabilities[0]))
			continue
		}
		v.Statements = append(v.Statements, s)
	}
	return v, nil
}
