package policy

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// CSAF 2.0 (https://docs.oasis-open.org/csaf/csaf/v2.0/), profile csaf_vex
// (other profiles with product_status are read the same way).
type csafDoc struct {
	Document struct {
		Category    string `json:"category"`
		CSAFVersion string `json:"csaf_version"`
		Tracking    struct {
			ID                 string `json:"id"`
			CurrentReleaseDate string `json:"current_release_date"`
		} `json:"tracking"`
	} `json:"document"`
	ProductTree struct {
		Branches         []csafBranch      `json:"branches"`
		FullProductNames []csafProductName `json:"full_product_names"`
		Relationships    []struct {
			Category         string          `json:"category"`
			FullProductName  csafProductName `json:"full_product_name"`
			ProductReference string          `json:"product_reference"`
			RelatesToProduct string          `json:"relates_to_product_reference"`
		} `json:"relationships"`
		ProductGroups []struct {
			GroupID    string   `json:"group_id"`
			ProductIDs []string `json:"product_ids"`
		} `json:"product_groups"`
	} `json:"product_tree"`
	Vulnerabilities []csafVuln `json:"vulnerabilities"`
}

type csafBranch struct {
	Category string           `json:"category"`
	Name     string           `json:"name"`
	Branches []csafBranch     `json:"branches"`
	Product  *csafProductName `json:"product"`
}

type csafProductName struct {
	Name      string `json:"name"`
	ProductID string `json:"product_id"`
	Helper    *struct {
		PURL  string   `json:"purl"`
		PURLs []string `json:"purls"` // CSAF 2.1
	} `json:"product_identification_helper"`
}

type csafProductRefs struct {
	ProductIDs []string `json:"product_ids"`
	GroupIDs   []string `json:"group_ids"`
}

type csafVuln struct {
	CVE string `json:"cve"`
	IDs []struct {
		SystemName string `json:"system_name"`
		Text       string `json:"text"`
	} `json:"ids"`
	ProductStatus map[string][]string `json:"product_status"`
	Flags         []struct {
		Label string `json:"label"`
		Date  string `json:"date"`
		csafProductRefs
	} `json:"flags"`
	Threats []struct {
		Category string `json:"category"`
		Details  string `json:"details"`
		csafProductRefs
	} `json:"threats"`
}

// csafStatus maps a product_status key to a VEX status ("" to skip).
func csafStatus(key string) string {
	switch key {
	case "known_not_affected":
		return VEXNotAffected
	case "fixed", "first_fixed":
		return VEXFixed
	case "known_affected", "first_affected", "last_affected":
		return VEXAffected
	case "under_investigation":
		return VEXUnderInvestigation
	}
	return "" // recommended
}

func (p *csafProductName) purls() []string {
	if p.Helper == nil {
		return nil
	}
	var out []string
	if p.Helper.PURL != "" {
		out = append(out, p.Helper.PURL)
	}
	return append(out, p.Helper.PURLs...)
}

func parseCSAF(data []byte) (*VEX, error) {
	var doc csafDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parsing CSAF: %w", err)
	}
	if !strings.HasPrefix(doc.Document.CSAFVersion, "2.") {
		return nil, fmt.Errorf("csaf_version is %q, want 2.x", doc.Document.CSAFVersion)
	}
	if len(doc.Vulnerabilities) == 0 {
		return nil, fmt.Errorf("CSAF document has no vulnerabilities")
	}
	// product_id → products (package URL and, for relationships, parent).
	products := map[string][]VEXProduct{}
	addName := func(p *csafProductName) {
		for _, u := range p.purls() {
			products[p.ProductID] = append(products[p.ProductID], VEXProduct{PURL: u})
		}
	}
	var walk func(bs []csafBranch, depth int)
	walk = func(bs []csafBranch, depth int) {
		if depth > 64 {
			return
		}
		for i := range bs {
			if bs[i].Product != nil {
				addName(bs[i].Product)
			}
			walk(bs[i].Branches, depth+1)
		}
	}
	walk(doc.ProductTree.Branches, 0)
	for i := range doc.ProductTree.FullProductNames {
		addName(&doc.ProductTree.FullProductNames[i])
	}
	for _, rel := range doc.ProductTree.Relationships {
		parent := rel.RelatesToProduct
		if ps := products[rel.RelatesToProduct]; len(ps) > 0 {
			parent = ps[0].PURL
		}
		id := rel.FullProductName.ProductID
		for _, c := range products[rel.ProductReference] {
			products[id] = append(products[id], VEXProduct{PURL: c.PURL, Parent: parent})
		}
		for _, u := range rel.FullProductName.purls() {
			products[id] = append(products[id], VEXProduct{PURL: u, Parent: parent})
		}
	}
	groups := map[string][]string{}
	for _, g := range doc.ProductTree.ProductGroups {
		groups[g.GroupID] = g.ProductIDs
	}
	expand := func(r csafProductRefs) []string {
		ids := slices.Clone(r.ProductIDs)
		for _, g := range r.GroupIDs {
			ids = append(ids, groups[g]...)
		}
		return ids
	}

	docTime := parseTime(doc.Document.Tracking.CurrentReleaseDate)
	v := &VEX{Format: FormatCSAF}
	statusKeys := []string{"known_not_affected", "fixed", "first_fixed", "known_affected",
		"first_affected", "last_affected", "under_investigation"}
	for i, vu := range doc.Vulnerabilities {
		ids := []string{}
		if vu.CVE != "" {
			ids = append(ids, vu.CVE)
		}
		for _, id := range vu.IDs {
			if id.Text != "" {
				ids = append(ids, id.Text)
			}
		}
		where := fmt.Sprintf("vulnerability %d", i+1)
		if len(ids) == 0 {
			return nil, fmt.Errorf("%s: no cve or ids", where)
		}
		where += " (" + ids[0] + ")"
		for _, key := range statusKeys {
			pids := vu.ProductStatus[key]
			if len(pids) == 0 {
				continue
			}
			for _, pid := range pids {
				s := VEXStatement{Vulnerabilities: ids, Status: csafStatus(key), Timestamp: docTime}
				for _, fl := range vu.Flags {
					if slices.Contains(expand(fl.csafProductRefs), pid) {
						s.Justification = fl.Label
					}
				}
				for _, th := range vu.Threats {
					if th.Category == "impact" && slices.Contains(expand(th.csafProductRefs), pid) {
						s.Impact = th.Details
					}
				}
				s.Products = products[pid]
				if len(s.Products) == 0 {
					v.Warnings = append(v.Warnings, fmt.Sprintf("%s: product %q has no package URL; statement not applied", where, pid))
					continue
				}
				v.Statements = append(v.Statements, s)
			}
		}
	}
	return v, nil
}
