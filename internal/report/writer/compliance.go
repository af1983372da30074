package writer

import (
	"strconv"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/compliance"
)

// writeComplianceTable is the table of a scan run with --compliance: as
// Trivy's compliance summary, one row per control with its status and the
// number of results that failed it, then, for every control that is not
// PASS, what failed it or why a person must decide it. r is printable.
func writeComplianceTable(ew *errWriter, r *report.Report, opt Options) {
	c := r.Compliance
	ew.printf("Compliance: %s\n", c.Title)
	ew.printf("Controls: %d (PASS: %d, FAIL: %d, MANUAL: %d)\n\n", len(c.Controls), c.Summary.Pass, c.Summary.Fail, c.Summary.Manual)
	t := &table{headers: []string{"ID", "SEVERITY", "STATUS", "ISSUES", "CONTROL"}}
	for _, cr := range c.Controls {
		sev := cr.Severity
		if sev == "" {
			sev = "-"
		}
		issues := "-"
		if len(cr.Checks) > 0 {
			issues = strconv.Itoa(cr.Issues)
		}
		t.add(cell{text: cr.ID}, cell{text: sev, style: ansiSeverity(sev)},
			cell{text: cr.Status, style: complianceStyle(cr.Status)}, cell{text: issues}, cell{text: cr.Name})
	}
	t.render(ew, opt.Color, opt.Width)
	for _, cr := range c.Controls {
		if cr.Status == compliance.Pass {
			continue
		}
		ew.printf("\n%s %s %s\n", colorize(opt.Color, complianceStyle(cr.Status), "["+cr.Status+"]"), cr.ID, cr.Name)
		if cr.Reason != "" {
			ew.printf("  why manual: %s\n", cr.Reason)
		}
		for _, ch := range cr.Checks {
			if ch.Status != compliance.Fail {
				continue
			}
			ew.printf("  %s: %d\n", ch.Check, ch.Issues)
			for _, it := range ch.Items {
				if opt.Width > 0 {
					it = truncate(it, max(opt.Width-6, 40))
				}
				ew.printf("    - %s\n", it)
			}
		}
	}
}

func complianceStyle(status string) string {
	switch status {
	case compliance.Pass:
		return ansiGreen
	case compliance.Fail:
		return ansiBRed
	}
	return ansiYellow
}

// complianceColor is a status's colour on the HTML page (the page's --pass
// and --fail; html/template refuses var() in a style attribute).
func complianceColor(status string) string {
	switch status {
	case compliance.Pass:
		return "#2e7d32"
	case compliance.Fail:
		return "#c62828"
	}
	return "#ef6c00"
}
