package main

import (
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/compliance"
	"github.com/drydock-scan/drydock/internal/result"
)

// complianceFlags: --compliance, Trivy's flag, with drydock's specs.
type complianceFlags struct {
	name string
	spec *compliance.Spec
}

func (c *complianceFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&c.name, "compliance", "", "compliance report: "+strings.Join(compliance.Names(), ", ")+
		" (docker-cis and pci-dss are short for the first and last), or @FILE for a spec of your own; turns on the scanners its controls need (docs/compliance.md)")
}

// prepare loads the spec and adds the scanners its checks need to
// --scanners, as Trivy does; the note says which were added.
func (c *complianceFlags) prepare(scanners *[]string) ([]inventory.Note, error) {
	if c.name == "" {
		return nil, nil
	}
	s, err := compliance.Load(c.name)
	if err != nil {
		return nil, usageErr("--compliance: %v", err)
	}
	c.spec = s
	var added []string
	for _, sc := range s.Scanners() {
		if !slices.ContainsFunc(*scanners, func(x string) bool { return strings.EqualFold(strings.TrimSpace(x), sc) }) {
			*scanners = append(*scanners, sc)
			added = append(added, sc)
		}
	}
	if len(added) == 0 {
		return nil, nil
	}
	return []inventory.Note{{Level: "info", Message: "--compliance " + s.ID + " turned on the scanners its controls need: " + strings.Join(added, ", ")}}, nil
}

// apply evaluates the spec on the scan's results into the report.
func (c *complianceFlags) apply(rep *report.Report, res *result.Result, dbMaxAge time.Duration) {
	if c.spec != nil {
		rep.Compliance = compliance.Evaluate(c.spec, res, compliance.Options{Now: time.Now(), DBMaxAge: dbMaxAge})
	}
}
