package writer

import (
	"slices"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
)

// writeLicenseTable lists the licence findings (scanner "license"): the
// package, its layer, the licence as SPDX and as its metadata wrote it,
// Trivy's category and severity.
func writeLicenseTable(ew *errWriter, r *report.Report, opt Options) {
	var list []report.License
	active, suppressed := 0, 0
	for _, l := range r.Licenses {
		if finding.Suppressed(l.Annotations) {
			suppressed++
			if !opt.ShowSuppressed {
				continue
			}
		} else {
			active++
		}
		list = append(list, l)
	}
	if active+suppressed == 0 {
		return
	}
	slices.SortStableFunc(list, finding.CompareLicense)
	ew.printf("\nLicences: %d%s\n", active, suppressedNote(suppressed, opt))
	showStatus := suppressed > 0 && opt.ShowSuppressed
	headers := []string{"SEVERITY", "CATEGORY", "PACKAGE", "LAYER", "LICENSE (SPDX)", "ORIGINAL"}
	if showStatus {
		headers = []string{"SEVERITY", "CATEGORY", "PACKAGE", "LAYER", "STATUS", "LICENSE (SPDX)", "ORIGINAL"}
	}
	t := &table{headers: headers}
	for _, l := range list {
		sev := severityOf(l.Severity)
		layer := "-"
		if l.Package.LayerIndex >= 0 {
			layer = strconv.Itoa(l.Package.LayerIndex)
		}
		cells := []cell{{text: sev, style: ansiSeverity(sev)}, {text: l.Category},
			{text: strings.TrimSpace(l.Package.Name + " " + l.Package.Version)}, {text: layer}}
		if showStatus {
			cells = append(cells, cell{text: suppressionStatus(l.Annotations), style: ansiDim})
		}
		t.add(append(cells, cell{text: l.Expression}, cell{text: l.Original})...)
	}
	if len(list) > 0 {
		ew.printf("\n")
		t.render(ew, opt.Color, opt.Width)
	}
}
