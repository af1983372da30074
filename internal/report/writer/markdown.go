package writer

import (
	"io"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// markdownTop is how many findings the Markdown summary lists.
const markdownTop = 10

// Markdown writes a summary for a pull-request comment: the verdict, counts
// by severity, the most severe findings, secrets and misconfigurations.
func Markdown(w io.Writer, r *report.Report, opt Options) error {
	r = r.Normalized()
	ew := &errWriter{w: w}
	name := r.ImageName()
	ew.printf("## drydock scan: `%s`\n\n", strings.ReplaceAll(name, "`", "'"))
	var facts []string
	if r.Distro != nil {
		d := r.Distro.PrettyName
		if d == "" {
			d = strings.TrimSpace(r.Distro.ID + " " + r.Distro.VersionID)
		}
		facts = append(facts, "**OS:** "+mdCell(d))
	}
	if r.Image.Digest != "" {
		facts = append(facts, "**Digest:** `"+shortDigest(r.Image.Digest)+"`")
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
			ew.printf("- ❌ `%s`: %s\n", f.RuleID, mdCell(f.Message))
		}
		for _, wr := range v.Warnings {
			ew.printf("- ⚠️ `%s`: %s\n", wr.RuleID, mdCell(wr.Message))
		}
		for _, e := range v.Expired {
			ew.printf("- ⏰ expired: %s\n", mdCell(e))
		}
		if len(v.Failures)+len(v.Warnings)+len(v.Expired) > 0 {
			ew.printf("\n")
		}
	}
	if mode(r, opt) == "sbom" {
		return wrapErr("Markdown", ew.err)
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
	if len(extra) > 0 {
		ew.printf("%s\n\n", strings.Join(extra, " · "))
	}

	fs := visible(r, opt)
	declared := declaredIDs(r)
	if len(fs) > 0 {
		ew.printf("### Top findings\n\n")
		ew.printf("| Severity | Vulnerability | Package | Installed | Fixed | Title |\n| --- | --- | --- | --- | --- | --- |\n")
		for i, f := range fs {
			if i == markdownTop {
				break
			}
			id := "[" + f.ID + "](" + primaryURL(&f) + ")"
			if f.KEV {
				id += " 🔥"
			}
			if f.Suppressed() {
				id += " _(suppressed)_"
			}
			fixed := f.FixedVersion
			if fixed == "" {
				fixed = "—"
			}
			title := f.Title
			if title == "" {
				title = firstLine(f.Description)
			}
			pkg := mdCell(f.Package.Name)
			if declared[f.Package.ID] {
				pkg += " _(lockfile)_"
			}
			ew.printf("| %s | %s | %s | %s | %s | %s |\n", sevBadge(severityOf(f.Severity)), id,
				pkg, mdCell(f.InstalledVersion), mdCell(fixed), mdCell(truncate(title, 80)))
		}
		if len(fs) > markdownTop {
			ew.printf("\n_…and %d more. See the full report._\n", len(fs)-markdownTop)
		}
		ew.printf("\n")
	} else {
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
			ew.printf("| %s | `%s`%s | %s | %s |\n", sevBadge(severityOf(s.Severity)), s.RuleID,
				mdStatus(s.Annotations), mdCell(where), mdCell(layer))
		}
		ew.printf("\n")
	}
	if len(misconfigs) > 0 {
		ew.printf("### Misconfigurations\n\n| Severity | ID | Title | Fix |\n| --- | --- | --- | --- |\n")
		for _, m := range misconfigs {
			ew.printf("| %s | `%s`%s | %s | %s |\n", sevBadge(severityOf(m.Severity)), m.ID,
				mdStatus(m.Annotations), mdCell(m.Title), mdCell(m.Fix))
		}
		ew.printf("\n")
	}
	ew.printf("<sub>%s %s · %s</sub>\n", r.Tool.Name, r.Tool.Version, r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"))
	return wrapErr("Markdown", ew.err)
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
