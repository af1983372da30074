package enrich

import (
	"context"
	"fmt"
	"strings"

	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// KEV annotates findings whose CVE is in the CISA Known Exploited
// Vulnerabilities catalog with the catalog's facts: when it was added, the
// remediation due date for US federal agencies, and whether it is known to be
// used in ransomware campaigns. (Matching already sets Finding.KEV; this adds
// the evidence behind the flag.)
type KEV struct {
	DB vulndb.Reader
}

// Name implements Enricher.
func (KEV) Name() string { return "kev" }

// Version implements Enricher.
func (KEV) Version() int { return 1 }

// Enrich implements Enricher.
func (k KEV) Enrich(ctx context.Context, res *result.Result) ([]Addition, error) {
	var out []Addition
	seen := map[string]*vulndb.CVE{}
	for i := range res.Findings {
		f := &res.Findings[i]
		for _, id := range f.AllIDs() {
			if !strings.HasPrefix(id, "CVE-") {
				continue
			}
			c, ok := seen[id]
			if !ok {
				got, found, err := k.DB.CVE(ctx, id)
				if err != nil {
					return nil, fmt.Errorf("looking up %s: %w", id, err)
				}
				if found && got.KEV {
					c = &got
				}
				seen[id] = c
			}
			if c == nil {
				continue
			}
			a := Addition{Finding: f.Key()}
			a.Annotation.Kind = vocab.AnnotationKEV
			a.Annotation.Source = "cisa-kev"
			a.Annotation.Reason = kevReason(c)
			if c.KEVRansomware == "Known" {
				a.Annotation.Status = "known_ransomware_use"
			}
			out = append(out, a)
			break // one annotation per finding, from its first KEV-listed CVE
		}
	}
	return out, nil
}

func kevReason(c *vulndb.CVE) string {
	var b strings.Builder
	b.WriteString(c.ID + " is in the CISA KEV catalog")
	if c.KEVDateAdded != "" {
		b.WriteString(", added " + c.KEVDateAdded)
	}
	if c.KEVDueDate != "" {
		b.WriteString(", remediation due " + c.KEVDueDate)
	}
	return b.String()
}
