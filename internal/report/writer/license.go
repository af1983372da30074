package writer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
)

// writeLicenseTable lists the licence findings (scanner "license"): the
// package, its layer, the licence as SPDX and as its metadata wrote it,
// Trivy's category and severity.
func writeLicenseTable(ew *errWriter, r *report.Report, opt Options) {
	list, active, suppressed := visibleLicenses(r, opt)
	if active+suppressed == 0 {
		return
	}
	ew.printf("\nLicences: %d%s\n", active, suppressedNote(suppressed, opt))
	showStatus := suppressed > 0 && opt.ShowSuppressed
	headers := []string{"SEVERITY", "CATEGORY", "PACKAGE", "LAYER", "LICENSE (SPDX)", "ORIGINAL"}
	if showStatus {
		headers = []string{"SEVERITY", "CATEGORY", "PACKAGE", "LAYER", "STATUS", "LICENSE (SPDX)", "ORIGINAL"}
	}
	t := &table{headers: headers}
	for i := range list {
		l := &list[i]
		sev := severityOf(l.Severity)
		cells := []cell{{text: sev, style: ansiSeverity(sev)}, {text: l.Category},
			{text: strings.TrimSpace(l.Package.Name + " " + l.Package.Version)}, {text: licenseLayer(l)}}
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

// visibleLicenses returns the licence findings a writer lists (all of them
// with ShowSuppressed, else the active ones, most severe first) and how many
// are active and suppressed or filtered.
func visibleLicenses(r *report.Report, opt Options) (list []report.License, active, suppressed int) {
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
	slices.SortStableFunc(list, finding.CompareLicense)
	return list, active, suppressed
}

// licenseLayer is the layer that added a licence finding's package, "-"
// when unknown.
func licenseLayer(l *report.License) string {
	if l.Package.LayerIndex >= 0 {
		return strconv.Itoa(l.Package.LayerIndex)
	}
	return "-"
}

// licenseRuleID is the SARIF rule of a licence category: one rule per
// category (forbidden, restricted, reciprocal), as Trivy groups them.
func licenseRuleID(category string) string { return "license-" + category }

// licenseRule describes a licence category for SARIF.
func licenseRule(l *report.License) *sarif.ReportingDescriptor {
	sev := severityOf(l.Severity)
	what := map[string]string{
		"forbidden":  "a licence in the forbidden category (e.g. AGPL, non-commercial): shipping the package is usually not allowed",
		"restricted": "a licence in the restricted category (e.g. GPL, LGPL): shipping the package brings obligations such as offering the source",
		"reciprocal": "a licence in the reciprocal category (e.g. MPL, EPL): changes to the package's own files must be shared",
	}[l.Category]
	if what == "" {
		what = "a licence in the " + l.Category + " category"
	}
	short := "Package under a " + l.Category + " licence"
	d := &sarif.ReportingDescriptor{
		ID:               licenseRuleID(l.Category),
		Name:             ptr("License" + strings.ToUpper(l.Category[:min(1, len(l.Category))]) + l.Category[min(1, len(l.Category)):]),
		ShortDescription: text(short),
		FullDescription:  text("The package's declared licence holds " + what + "."),
		Help: &sarif.MultiformatMessageString{
			Text: ptr(short + ": check that the licence allows how the image is distributed, or replace the package. " +
				"The category is Trivy's grouping of SPDX licences (docs/licenses.md)."),
			Markdown: ptr("**" + mdText(short) + "**\n\nThe package's declared licence holds " + mdText(what) +
				".\n\nCheck that the licence allows how the image is distributed, or replace the package."),
		},
		Properties: sarif.Properties{"tags": []string{"license", l.Category, sev}, "precision": "high"},
	}
	return d
}

// sarifLicenseResult is the SARIF result of one licence finding, on the
// package's file (or the image) with its rule at index idx. Licence
// findings carry no security-severity: they are not vulnerabilities, and
// GitHub ranks only security results by it.
func sarifLicenseResult(r *report.Report, l *report.License, idx int) *sarif.Result {
	sev := severityOf(l.Severity)
	uri := imageURI(r)
	if l.Package.Path != "" {
		uri = sarifURI(l.Package.Path)
	}
	loc := sarifLocation(uri, 1)
	msg := fmt.Sprintf("%s %s is under %s (%s: %s)", l.Package.Name, l.Package.Version, l.Expression,
		l.Category, strings.Join(l.Licenses, ", "))
	if l.Original != "" && l.Original != l.Expression {
		msg += "\nAs its metadata writes it: " + l.Original
	}
	res := &sarif.Result{
		RuleID:              ptr(licenseRuleID(l.Category)),
		RuleIndex:           ptr(uint(idx)),
		Level:               ptr(sarifLevel(sev)),
		Message:             sarif.Message{Text: ptr(msg)},
		Locations:           []*sarif.Location{loc},
		PartialFingerprints: map[string]any{fingerprintKey: fingerprint("license", l.Key(), l.Expression)},
	}
	props := sarif.Properties{"severity": sev, "category": l.Category, "expression": l.Expression,
		"licenses": l.Licenses, "layerIndex": l.Package.LayerIndex}
	if l.Package.PURL != "" {
		props["purl"] = l.Package.PURL
	}
	res.Properties = props
	if finding.Suppressed(l.Annotations) {
		res.Suppressions = []*sarif.Suppression{suppressionOf(l.Annotations, l.Key(), loc)}
	}
	return res
}

// writeMarkdownLicenses is the Markdown "Licences" section.
func writeMarkdownLicenses(ew *errWriter, r *report.Report, opt Options) {
	list, _, _ := visibleLicenses(r, opt)
	if len(list) == 0 {
		return
	}
	ew.printf("### Licences\n\n| Severity | Category | Package | Layer | Licence (SPDX) |\n| --- | --- | --- | --- | --- |\n")
	for i, l := range list {
		if i == markdownTop {
			ew.printf("\n_…and %d more. See the full report._\n", len(list)-markdownTop)
			break
		}
		ew.printf("| %s | %s | %s%s | %s | %s |\n", sevBadge(severityOf(l.Severity)), mdText(l.Category),
			mdText(strings.TrimSpace(l.Package.Name+" "+l.Package.Version)), mdStatus(l.Annotations),
			licenseLayer(&l), mdCode(l.Expression))
	}
	ew.printf("\n")
}

// htmlLicense is a licence finding in the HTML report and, when it does not
// count, why.
type htmlLicense struct {
	report.License
	Severity, Layer, Status, Why string
}

// htmlLicenses splits the licence findings into the active ones and those
// an ignore rule or --severity took out of the count, most severe first.
func htmlLicenses(r *report.Report) (active, suppressed []htmlLicense) {
	list := slices.Clone(r.Licenses)
	slices.SortStableFunc(list, finding.CompareLicense)
	for i := range list {
		l := &list[i]
		h := htmlLicense{License: *l, Severity: severityOf(l.Severity), Layer: licenseLayer(l),
			Status: suppressionStatus(l.Annotations), Why: whyNotCounted(l.Annotations)}
		if h.Status != "" {
			suppressed = append(suppressed, h)
		} else {
			active = append(active, h)
		}
	}
	return active, suppressed
}
