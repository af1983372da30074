package writer

import (
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Where the advisory database could not cover what the scan found (an OS
// or ecosystem without advisories, a package database read in part, files
// not read), "no findings" does not mean "no vulnerabilities". Every human
// format says so, in the same words; complete coverage adds nothing.

// The words of the coverage warning.
const (
	gapHeadlineNothingFound = "No vulnerabilities found in what could be checked — but coverage is incomplete"
	gapHeadlineFindings     = "Coverage is incomplete — there may be more vulnerabilities than listed"
	gapPolicy               = "--policy builtin:complete-coverage"
	gapHint                 = "Use " + gapPolicy + " to fail the scan on any coverage gap."
)

// coverageGaps returns the coverage entries of r that are not complete, in
// the report's order.
func coverageGaps(r *report.Report) []report.Coverage {
	var out []report.Coverage
	for _, c := range r.Coverage {
		if !c.Complete() {
			out = append(out, c)
		}
	}
	return out
}

// gapHeadline opens the warning: nothingFound when no finding is listed.
func gapHeadline(nothingFound bool) string {
	if nothingFound {
		return gapHeadlineNothingFound
	}
	return gapHeadlineFindings
}

// gapFacts is "no-advisories, 88 packages".
func gapFacts(c *report.Coverage) string {
	return c.Status + ", " + plural(c.Packages, "package")
}

// gapReason is the first reason of a gap, with how many more there are, or
// what its status means when it has none.
func gapReason(c *report.Coverage) string {
	if len(c.Reasons) == 0 {
		switch c.Status {
		case vocab.CoverageNoAdvisories:
			return "the database has no advisories for " + c.Ecosystem
		case vocab.CoverageUnsupported:
			return "no advisory source exists for " + c.Ecosystem
		case vocab.CoveragePartial:
			return "a package database or file could not be read whole"
		}
		return "coverage is " + c.Status
	}
	reason := c.Reasons[0]
	if n := len(c.Reasons) - 1; n > 0 {
		reason += " (+" + strconv.Itoa(n) + " more)"
	}
	return reason
}

// gapReasons are all the reasons of a gap, or gapReason when it has none.
func gapReasons(c *report.Coverage) []string {
	if len(c.Reasons) == 0 {
		return []string{gapReason(c)}
	}
	return c.Reasons
}

// writeGaps writes the coverage warning of the table: a headline, one row
// per gap (ecosystem, status, packages, first reason) and the policy that
// fails on it. The reasons are not cut to the width: they are few, and what
// the warning is for.
func writeGaps(ew *errWriter, gaps []report.Coverage, nothingFound bool, opt Options) {
	ew.printf("\n%s\n\n", colorize(opt.Color, ansiBYellow, "WARNING: "+gapHeadline(nothingFound)+":"))
	t := &table{headers: []string{"ECOSYSTEM", "STATUS", "PACKAGES", "REASON"}}
	for i := range gaps {
		c := &gaps[i]
		t.add(cell{text: c.Ecosystem, style: ansiBold}, cell{text: c.Status, style: ansiYellow},
			cell{text: strconv.Itoa(c.Packages)}, cell{text: gapReason(c)})
	}
	t.render(ew, opt.Color, 0)
	ew.printf("\n%s\n", gapHint)
}

// mdGaps writes the coverage warning of the Markdown summary, as a GitHub
// alert (a plain quote where alerts are not rendered).
func mdGaps(ew *errWriter, gaps []report.Coverage, nothingFound bool) {
	var b strings.Builder
	b.WriteString("> [!WARNING]\n> **" + gapHeadline(nothingFound) + ":**\n>\n")
	for i := range gaps {
		c := &gaps[i]
		b.WriteString("> - **" + mdText(c.Ecosystem) + "**: " + mdText(gapFacts(c)) + " — " + mdText(gapReason(c)) + "\n")
	}
	b.WriteString(">\n> Use `" + gapPolicy + "` to fail the scan on any coverage gap.\n\n")
	ew.printf("%s", b.String())
}
