package writer

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// markdownTop is how many findings the Markdown summary lists.
const markdownTop = 10

// Markdown writes a summary for a pull-request comment: the verdict, counts
// by severity, a warning of every coverage gap, the most severe findings,
// secrets and misconfigurations. Text from the report is inert: control
// characters shown as escapes (printable), Markdown and HTML escaped
// (mdText, mdCode), links only to http(s) URLs (primaryURL).
func Markdown(w io.Writer, r *report.Report, opt Options) error {
	r = printableReport(r.Normalized())
	ew := &errWriter{w: w}
	ew.printf("## drydock scan: %s\n\n", mdCode(r.ImageName()))
	var facts []string
	if r.Distro != nil {
		d := r.Distro.PrettyName
		if d == "" {
			d = strings.TrimSpace(r.Distro.ID + " " + r.Distro.VersionID)
		}
		facts = append(facts, "**OS:** "+mdText(d))
	}
	if r.Image.Digest != "" {
		facts = append(facts, "**Digest:** "+mdCode(shortDigest(r.Image.Digest)))
	}
	facts = append(facts, "**Packages:** "+itoa(len(r.Packages)))
	ew.printf("%s\n\n", strings.Join(facts, " · "))

	if v := r.Verdict; v != nil {
		if v.Pass {
			ew.printf("**Policy: ✅ PASS**")
		} else {
			ew.printf("**Policy: ❌ FAIL** (exit code %d)", v.ExitCode)
		}
		ew.printf("\n\n")
		for _, f := range v.Failures {
			ew.printf("- ❌ %s: %s\n", mdCode(f.RuleID), mdText(f.Message))
		}
		for _, wr := range v.Warnings {
			ew.printf("- ⚠️ %s: %s\n", mdCode(wr.RuleID), mdText(wr.Message))
		}
		for _, e := range v.Expired {
			ew.printf("- ⏰ expired: %s\n", mdText(e))
		}
		if len(v.Failures)+len(v.Warnings)+len(v.Expired) > 0 {
			ew.printf("\n")
		}
	}
	writeSupplyChainMarkdown(ew, r)
	if mode(r, opt) == "sbom" {
		return wrapErr("Markdown", ew.err)
	}

	// Malware first, every one of it: a malicious package or a known-bad
	// file is not one risk among others.
	if list, active, allowed := visibleMalware(r, opt); active+allowed > 0 {
		note := ""
		if allowed > 0 {
			note = " (" + itoa(allowed) + " allowed by ignore entries)"
		}
		ew.printf("### ☣️ Malware: %d%s\n\n", active, note)
		if len(list) > 0 {
			ew.printf("| Kind | ID | Where | Layer | Found by | Title |\n| --- | --- | --- | --- | --- | --- |\n")
			for i := range list {
				m := &list[i]
				id := mdText(m.ID)
				if m.Kind == vocab.MalwarePackage {
					id = "[" + id + "](" + mdURL(idURL(m.ID)) + ")"
				}
				if m.Allowed() {
					id += " _(allowed)_"
				}
				ew.printf("| %s | %s | %s | %s | %s | %s |\n", m.Kind, id, mdCode(malwareWhere(m)), mdText(malwareLayer(m)),
					mdText(m.Engine), mdText(malwareTitle(m)))
			}
			ew.printf("\n")
		}
	}

	bySev, total, suppressed := counts(r)
	ew.printf("| Severity | Count |\n| --- | ---: |\n")
	for _, s := range vocab.Severities() {
		if s == vocab.SevNegligible && bySev[s] == 0 {
			continue
		}
		ew.printf("| %s | %d |\n", sevBadge(s), bySev[s])
	}
	ew.printf("| **Total** | **%d** |\n\n", total)
	var extra []string
	if kev := kevCount(r); kev > 0 {
		extra = append(extra, "🔥 **"+itoa(kev)+" known exploited** (CISA KEV)")
	}
	if suppressed > 0 {
		extra = append(extra, itoa(suppressed)+" suppressed (VEX or ignore rules)")
	}
	secrets, activeSecrets, suppressedSecrets := visibleSecrets(r, opt)
	if activeSecrets+suppressedSecrets > 0 {
		extra = append(extra, "🔑 "+itoa(activeSecrets)+" secrets"+mdSuppressed(suppressedSecrets))
	}
	misconfigs, activeMisconfigs, suppressedMisconfigs := visibleMisconfigs(r, opt)
	if activeMisconfigs+suppressedMisconfigs > 0 {
		extra = append(extra, "⚙️ "+itoa(activeMisconfigs)+" misconfigurations"+mdSuppressed(suppressedMisconfigs))
	}
	if _, activeLicenses, suppressedLicenses := visibleLicenses(r, opt); activeLicenses+suppressedLicenses > 0 {
		extra = append(extra, "📜 "+plural(activeLicenses, "licence finding")+mdSuppressed(suppressedLicenses))
	}
	if len(extra) > 0 {
		ew.printf("%s\n\n", strings.Join(extra, " · "))
	}

	fs := visible(r, opt)
	declared := declaredIDs(r)
	// A review reads from the top: the coverage warning comes before the
	// findings.
	gaps := coverageGaps(r)
	if len(gaps) > 0 {
		mdGaps(ew, gaps, len(fs) == 0)
	}
	if len(fs) > 0 {
		ew.printf("### Top findings\n\n")
		ew.printf("| Severity | Vulnerability | Package | Installed | Fixed | Title |\n| --- | --- | --- | --- | --- | --- |\n")
		for i, f := range fs {
			if i == markdownTop {
				break
			}
			id := "[" + mdText(f.ID) + "](" + mdURL(primaryURL(&f)) + ")"
			if f.KEV {
				id += " 🔥"
			}
			if f.Suppressed() {
				id += " _(suppressed)_"
			}
			fixed := mdText(f.FixedVersion)
			if fixed == "" {
				fixed = "—"
			}
			title := f.Title
			if title == "" {
				title = firstLine(f.Description)
			}
			pkg := mdText(f.Package.Name)
			if declared[f.Package.ID] {
				pkg += " _(lockfile)_"
			}
			ew.printf("| %s | %s | %s | %s | %s | %s |\n", sevBadge(severityOf(f.Severity)), id,
				pkg, mdText(f.InstalledVersion), fixed, mdText(truncate(title, 80)))
		}
		if len(fs) > markdownTop {
			ew.printf("\n_…and %d more. See the full report._\n", len(fs)-markdownTop)
		}
		ew.printf("\n")
	} else if len(gaps) == 0 {
		ew.printf("No vulnerabilities found. 🎉\n\n")
	}
	if len(secrets) > 0 {
		ew.printf("### Secrets\n\n| Severity | Rule | Location | Layer |\n| --- | --- | --- | --- |\n")
		for _, s := range secrets {
			where := secretPlace(&s)
			layer := secretLayer(&s)
			if s.DeletedInLayer != nil {
				layer += " (deleted in " + itoa(*s.DeletedInLayer) + ")"
			}
			ew.printf("| %s | %s%s | %s | %s |\n", sevBadge(severityOf(s.Severity)), mdCode(s.RuleID),
				mdStatus(s.Annotations), mdText(where), mdText(layer))
		}
		ew.printf("\n")
	}
	if len(misconfigs) > 0 {
		ew.printf("### Misconfigurations\n\n| Severity | ID | Title | Fix |\n| --- | --- | --- | --- |\n")
		for _, m := range misconfigs {
			ew.printf("| %s | %s%s | %s | %s |\n", sevBadge(severityOf(m.Severity)), mdCode(m.ID),
				mdStatus(m.Annotations), mdText(m.Title), mdText(m.Fix))
		}
		ew.printf("\n")
	}
	writeMarkdownLicenses(ew, r, opt)
	ew.printf("<sub>%s %s · %s</sub>\n", mdText(r.Tool.Name), mdText(r.Tool.Version), r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	return wrapErr("Markdown", ew.err)
}

// mdText escapes s for Markdown text on one line (a table cell, a list
// item, the text of a link): whitespace runs become one space; the
// characters that start Markdown syntax (\ ` * [ ] | ~, and _ unless it is
// inside a word, where CommonMark never reads it as emphasis: ssl_client)
// are backslash-escaped, so that text cannot open a code span, emphasis, a
// link or an image, nor end a table cell; and < > & are HTML entities, so
// that no raw HTML (GitHub renders some) and no autolink comes through. s
// is printable already: it has no control characters.
func mdText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if !strings.ContainsAny(s, "\\`*_[]|~<>&") {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch r {
		case '_':
			if i > 0 && i < len(rs)-1 && isWordRune(rs[i-1]) && isWordRune(rs[i+1]) {
				b.WriteRune(r)
				continue
			}
			b.WriteString(`\_`)
		case '\\', '`', '*', '[', ']', '|', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isWordRune reports whether r is a letter or a digit: an underscore
// between two of them is inside a word.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// mdCode writes an identifier (an image name, a rule ID) as a Markdown
// code span, in which nothing is markup. Text that would not read the same
// in one (a backtick would end it; a pipe ends a table cell even there; <,
// > and & are shown as they are, which no one can tell from escaped
// markup) is written as escaped text instead (mdText).
func mdCode(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	switch {
	case s == "":
		return ""
	case strings.ContainsAny(s, "`|<>&"):
		return mdText(s)
	}
	return "`" + s + "`"
}

// mdURL makes a URL (an http(s) one: primaryURL) safe as a Markdown link
// destination in a table cell: the characters that would end the
// destination, the link or the cell are percent-encoded.
func mdURL(u string) string {
	if !strings.ContainsAny(u, "()<>|`\\\" ") {
		return u
	}
	var b strings.Builder
	for _, r := range u {
		switch r {
		case '(', ')', '<', '>', '|', '`', '\\', '"', ' ':
			fmt.Fprintf(&b, "%%%02X", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdSuppressed tells how many of a kind an ignore rule or --severity took
// out of the count.
func mdSuppressed(n int) string {
	if n == 0 {
		return ""
	}
	return " (" + itoa(n) + " suppressed)"
}

// mdStatus marks a listed secret or misconfiguration that does not count.
func mdStatus(as []finding.Annotation) string {
	if st := suppressionStatus(as); st != "" {
		return " _(" + st + ")_"
	}
	return ""
}

func sevBadge(s string) string {
	switch s {
	case vocab.SevCritical:
		return "🟥 CRITICAL"
	case vocab.SevHigh:
		return "🟧 HIGH"
	case vocab.SevMedium:
		return "🟨 MEDIUM"
	case vocab.SevLow:
		return "🟦 LOW"
	case vocab.SevNegligible:
		return "⬜ NEGLIGIBLE"
	}
	return "⬜ UNKNOWN"
}

func itoa(n int) string { return strconv.Itoa(n) }
