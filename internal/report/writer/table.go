package writer

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// ANSI styles of the table.
const (
	ansiReset   = "\x1b[0m"
	ansiBold    = "\x1b[1m"
	ansiDim     = "\x1b[2m"
	ansiRed     = "\x1b[31m"
	ansiBRed    = "\x1b[1;31m"
	ansiYellow  = "\x1b[33m"
	ansiBYellow = "\x1b[1;33m"
	ansiBlue    = "\x1b[34m"
	ansiGreen   = "\x1b[32m"
	ansiCyan    = "\x1b[36m"
)

func ansiSeverity(sev string) string {
	switch sev {
	case vocab.SevCritical:
		return ansiBRed
	case vocab.SevHigh:
		return ansiRed
	case vocab.SevMedium:
		return ansiYellow
	case vocab.SevLow:
		return ansiBlue
	}
	return ansiDim
}

// cell is one table cell; style is an ANSI style used only with colour.
type cell struct{ text, style string }

// Widths of the version columns when the table fits a width: at most
// versionMax runes, and down to versionMin when the last column (the title)
// needs the room to reach lastWant runes. Longer versions (Go
// pseudo-versions, rpm module versions) are cut in the middle, keeping the
// release in front and the commit or build at the end.
const (
	versionMax = 24
	versionMin = 20
	lastWant   = 32
	lastMin    = 12
)

// table renders aligned columns separated by two spaces. The last column is
// not padded and is cut to fit width (when width > 0); so are the columns
// marked shrink, in the middle, to at most versionMax runes and, when the
// last column needs the room, down to versionMin.
type table struct {
	headers []string
	shrink  []int // indexes of the shrinkable (version) columns
	rows    [][]cell
}

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

// layout returns the width of every column but the last, and the width the
// last one is cut to (0: not cut).
func (t *table) layout(width int) (widths []int, last int) {
	n := len(t.headers)
	widths = make([]int, n)
	for i, h := range t.headers {
		widths[i] = utf8.RuneCountInString(h)
	}
	for _, row := range t.rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	if width <= 0 {
		return widths, 0
	}
	floor := map[int]int{}
	for _, i := range t.shrink {
		if widths[i] > versionMax {
			widths[i] = versionMax
		}
		floor[i] = max(versionMin, utf8.RuneCountInString(t.headers[i]))
	}
	used := func() int {
		u := 0
		for i := 0; i < n-1; i++ {
			u += widths[i] + 2
		}
		return u
	}
	// Give the last column up to lastWant runes, one rune at a time from
	// the widest shrinkable column.
	want := min(widths[n-1], lastWant)
	for width-used() < want {
		best := -1
		for _, i := range t.shrink {
			if widths[i] > floor[i] && (best < 0 || widths[i] > widths[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		widths[best]--
	}
	return widths, max(width-used(), lastMin)
}

func (t *table) render(ew *errWriter, color bool, width int) {
	n := len(t.headers)
	widths, last := t.layout(width)
	line := func(cells []cell, header bool) {
		var b strings.Builder
		for i, c := range cells {
			text := c.text
			switch {
			case i == n-1 && last > 0:
				text = truncate(text, last)
			case i < n-1:
				text = truncateMiddle(text, widths[i])
			}
			style := c.style
			if header {
				style = ansiBold
			}
			if color && style != "" && text != "" {
				b.WriteString(style + text + ansiReset)
			} else {
				b.WriteString(text)
			}
			if i < n-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(text)+2))
			}
		}
		ew.printf("%s\n", strings.TrimRight(b.String(), " "))
	}
	hdr := make([]cell, n)
	for i, h := range t.headers {
		hdr[i] = cell{text: h}
	}
	line(hdr, true)
	for _, row := range t.rows {
		line(row, false)
	}
}

// truncate cuts s to n runes, ending with "…" when cut.
func truncate(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	r := []rune(s)
	return strings.TrimRight(string(r[:n-1]), " ") + "…"
}

// truncateMiddle cuts s to n runes by replacing its middle with "…", so
// that both ends stay: "v0.0.0-20210921155107-089bfa567519" becomes
// "v0.0.0-2021…089bfa567519" at 24 runes.
func truncateMiddle(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	if n == 1 {
		return "…"
	}
	r := []rune(s)
	head := (n - 1) / 2
	tail := n - 1 - head
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// Table writes a human-readable report: a package list in sbom mode; in vuln
// mode a summary line, the findings grouped by package (or by layer) and
// sorted by severity, a warning of every coverage gap, then secrets,
// misconfigurations, the policy verdict and notes. Control characters in
// the data are shown as escapes (printable).
func Table(w io.Writer, r *report.Report, opt Options) error {
	r = printableReport(r.Normalized())
	ew := &errWriter{w: w}
	style := func(s string) string {
		if opt.Color {
			return s
		}
		return ""
	}
	heading := r.ImageName()
	if r.Distro != nil {
		d := r.Distro.PrettyName
		if d == "" {
			d = strings.TrimSpace(r.Distro.ID + " " + r.Distro.VersionID)
		}
		heading += " (" + d + ")"
	}
	if opt.Color {
		ew.printf("%s%s%s\n", ansiBold, heading, ansiReset)
	} else {
		ew.printf("%s\n", heading)
	}
	ew.printf("%s\n", strings.Repeat("=", min(max(utf8.RuneCountInString(heading), 10), 120)))
	writeBaseImage(ew, r)
	writeSupplyChain(ew, r, opt)

	if r.Compliance != nil { // --compliance: the controls are the report
		writeComplianceTable(ew, r, opt)
		writeVerdict(ew, r, opt)
		writeNotes(ew, r, opt)
		return wrapErr("table", ew.err)
	}
	if mode(r, opt) == "sbom" {
		ew.printf("Packages: %d\n\n", len(r.Packages))
		if len(r.Packages) > 0 {
			t := &table{headers: []string{"NAME", "VERSION", "TYPE", "LAYER", "PATH"}, shrink: []int{1}}
			for i := range r.Packages {
				p := &r.Packages[i]
				name := p.Name
				if p.Declared {
					name += lockfileSuffix
				}
				t.add(cell{text: name}, cell{text: p.Version}, cell{text: p.Ecosystem},
					cell{text: layerText(p.Layer)}, cell{text: p.PrimaryPath()})
			}
			t.render(ew, opt.Color, opt.Width)
		}
		writeNotes(ew, r, opt)
		return wrapErr("table", ew.err)
	}

	writeMalwareTable(ew, r, opt)

	bySev, total, suppressed := counts(r)
	var parts []string
	for _, s := range []string{vocab.SevCritical, vocab.SevHigh, vocab.SevMedium, vocab.SevLow} {
		parts = append(parts, colorize(opt.Color, ansiSeverity(s), s)+": "+strconv.Itoa(bySev[s]))
	}
	if bySev[vocab.SevNegligible] > 0 {
		parts = append(parts, "NEGLIGIBLE: "+strconv.Itoa(bySev[vocab.SevNegligible]))
	}
	parts = append(parts, "UNKNOWN: "+strconv.Itoa(bySev[vocab.SevUnknown]))
	ew.printf("Total: %d (%s)\n", total, strings.Join(parts, ", "))
	if suppressed > 0 {
		hint := " (shown below)"
		if !opt.ShowSuppressed {
			hint = " (use --show-suppressed to list them)"
		}
		ew.printf("Suppressed: %d%s\n", suppressed, hint)
	}
	if kev := kevCount(r); kev > 0 {
		ew.printf("%sKnown exploited (CISA KEV): %d%s\n", style(ansiBRed), kev, style(ansiReset))
	}

	findings := visible(r, opt)
	if line := reachabilityLine(counted(findings)); line != "" {
		ew.printf("%s\n", line)
	}
	declared := declaredIDs(r)
	if len(findings) > 0 {
		if opt.GroupBy == "layer" {
			writeFindingsByLayer(ew, r, findings, declared, opt)
		} else {
			ew.printf("\n")
			findingsTable(findings, declared).render(ew, opt.Color, opt.Width)
		}
	}
	// Where coverage is incomplete, "no vulnerabilities" is not the news.
	if gaps := coverageGaps(r); len(gaps) > 0 {
		writeGaps(ew, gaps, len(findings) == 0, opt)
	} else if len(findings) == 0 {
		ew.printf("\nNo vulnerabilities found.\n")
	}

	if secrets, active, suppressed := visibleSecrets(r, opt); active+suppressed > 0 {
		ew.printf("\nSecrets: %d%s\n", active, suppressedNote(suppressed, opt))
		showStatus := suppressed > 0 && opt.ShowSuppressed
		headers := []string{"SEVERITY", "RULE", "LOCATION", "LAYER", "MATCH"}
		if showStatus {
			headers = []string{"SEVERITY", "RULE", "LOCATION", "LAYER", "STATUS", "MATCH"}
		}
		t := &table{headers: headers}
		for _, s := range secrets {
			loc := s.Path
			if s.Line > 0 {
				loc += ":" + strconv.Itoa(s.Line)
			}
			if loc == "" {
				loc = s.Source
			}
			layer := secretLayer(&s)
			if s.DeletedInLayer != nil {
				layer += fmt.Sprintf(" (deleted in %d)", *s.DeletedInLayer)
			}
			sev := severityOf(s.Severity)
			cells := []cell{{text: sev, style: ansiSeverity(sev)}, {text: s.RuleID}, {text: loc}, {text: layer}}
			if showStatus {
				cells = append(cells, cell{text: suppressionStatus(s.Annotations), style: ansiDim})
			}
			t.add(append(cells, cell{text: s.Match})...)
		}
		if len(secrets) > 0 {
			ew.printf("\n")
			t.render(ew, opt.Color, opt.Width)
		}
	}
	if misconfigs, active, suppressed := visibleMisconfigs(r, opt); active+suppressed > 0 {
		ew.printf("\nMisconfigurations: %d%s\n", active, suppressedNote(suppressed, opt))
		showStatus := suppressed > 0 && opt.ShowSuppressed
		headers := []string{"ID", "SEVERITY", "CIS", "TITLE"}
		if showStatus {
			headers = []string{"ID", "SEVERITY", "CIS", "STATUS", "TITLE"}
		}
		t := &table{headers: headers}
		for _, m := range misconfigs {
			sev := severityOf(m.Severity)
			cells := []cell{{text: m.ID}, {text: sev, style: ansiSeverity(sev)}, {text: m.CIS}}
			if showStatus {
				cells = append(cells, cell{text: suppressionStatus(m.Annotations), style: ansiDim})
			}
			t.add(append(cells, cell{text: m.Title})...)
		}
		if len(misconfigs) > 0 {
			ew.printf("\n")
			t.render(ew, opt.Color, opt.Width)
		}
	}
	writeLicenseTable(ew, r, opt)
	writeVerdict(ew, r, opt)
	writeNotes(ew, r, opt)
	return wrapErr("table", ew.err)
}

// writeMalwareTable lists the malware first, above everything else: a
// malicious package or a known-bad file is not one risk among others.
func writeMalwareTable(ew *errWriter, r *report.Report, opt Options) {
	list, active, allowed := visibleMalware(r, opt)
	if active+allowed == 0 {
		return
	}
	ew.printf("%s%s\n", colorize(opt.Color, ansiBRed, fmt.Sprintf("MALWARE: %d", active)), allowedNote(allowed, opt))
	if len(list) == 0 {
		ew.printf("\n")
		return
	}
	showStatus := allowed > 0 && opt.ShowSuppressed
	headers := []string{"KIND", "ID", "WHERE", "LAYER", "FOUND BY", "TITLE"}
	if showStatus {
		headers = []string{"KIND", "ID", "WHERE", "LAYER", "FOUND BY", "STATUS", "TITLE"}
	}
	t := &table{headers: headers}
	for i := range list {
		m := &list[i]
		cells := []cell{{text: m.Kind}, {text: m.ID, style: ansiBRed}, {text: malwareWhere(m)}, {text: malwareLayer(m)}, {text: m.Engine}}
		if showStatus {
			status := ""
			if m.Allowed() {
				status = "allowed"
			}
			cells = append(cells, cell{text: status, style: ansiDim})
		}
		t.add(append(cells, cell{text: malwareTitle(m)})...)
	}
	ew.printf("\n")
	t.render(ew, opt.Color, opt.Width)
	ew.printf("\n")
}

// allowedNote tells how many malware findings ignore entries allowed.
func allowedNote(allowed int, opt Options) string {
	switch {
	case allowed == 0:
		return ""
	case opt.ShowSuppressed:
		return fmt.Sprintf(" (%d allowed by ignore entries, shown below)", allowed)
	}
	return fmt.Sprintf(" (%d allowed by ignore entries; use --show-suppressed to list them)", allowed)
}

// suppressedNote tells how many secrets or misconfigurations an ignore
// rule or --severity took out of the count, and where they are.
func suppressedNote(suppressed int, opt Options) string {
	switch {
	case suppressed == 0:
		return ""
	case opt.ShowSuppressed:
		return fmt.Sprintf(" (%d suppressed, shown below)", suppressed)
	}
	return fmt.Sprintf(" (%d suppressed; use --show-suppressed to list them)", suppressed)
}

func wrapErr(format string, err error) error {
	if err != nil {
		return fmt.Errorf("writing %s report: %w", format, err)
	}
	return nil
}

func colorize(on bool, style, s string) string {
	if !on || style == "" {
		return s
	}
	return style + s + ansiReset
}

func kevCount(r *report.Report) int {
	n := 0
	for i := range r.Findings {
		if r.Findings[i].KEV && !r.Findings[i].Suppressed() {
			n++
		}
	}
	return n
}

func layerText(l *inventory.Layer) string {
	if l == nil || l.Index < 0 {
		return "-"
	}
	return strconv.Itoa(l.Index)
}

// groupByPackage orders findings (already severity-sorted) into groups per
// package, the groups in order of their most severe finding.
func groupByPackage(fs []finding.Finding) [][]finding.Finding {
	idx := map[string]int{}
	var groups [][]finding.Finding
	for _, f := range fs {
		key := f.Package.ID + "\x00" + f.Package.Name
		i, ok := idx[key]
		if !ok {
			i = len(groups)
			idx[key] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], f)
	}
	return groups
}

// findingsTable lists findings grouped by package; declared holds the IDs
// of packages read from a lockfile, whose names are marked.
func findingsTable(fs []finding.Finding, declared map[string]bool) *table {
	t := &table{
		headers: []string{"PACKAGE", "INSTALLED", "FIXED", "VULNERABILITY", "SEVERITY", "STATUS", "LAYER", "TITLE"},
		shrink:  []int{1, 2},
	}
	for _, g := range groupByPackage(fs) {
		for i, f := range g {
			name := ""
			if i == 0 {
				name = f.Package.Name
				if declared[f.Package.ID] {
					name += lockfileSuffix
				}
			}
			id := cell{text: f.ID}
			if f.KEV {
				id = cell{text: f.ID + " [KEV]", style: ansiBRed}
			}
			if st, _ := reachability(&f); st != "" {
				id.text += " [" + st + "]"
			}
			sev := severityOf(f.Severity)
			title := f.Title
			if title == "" {
				title = firstLine(f.Description)
			}
			layer := "-"
			if f.Package.LayerIndex >= 0 {
				layer = strconv.Itoa(f.Package.LayerIndex)
			}
			status := statusText(&f)
			statusStyle := ""
			if f.Suppressed() {
				statusStyle = ansiDim
			} else if f.Status == vocab.StatusFixed {
				statusStyle = ansiGreen
			}
			t.add(cell{text: name, style: ansiCyan}, cell{text: f.InstalledVersion}, cell{text: f.FixedVersion, style: ansiGreen},
				id, cell{text: sev, style: ansiSeverity(sev)}, cell{text: status, style: statusStyle},
				cell{text: layer}, cell{text: title})
		}
	}
	return t
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func writeFindingsByLayer(ew *errWriter, r *report.Report, fs []finding.Finding, declared map[string]bool, opt Options) {
	byLayer := map[int][]finding.Finding{}
	for _, f := range fs {
		byLayer[f.Package.LayerIndex] = append(byLayer[f.Package.LayerIndex], f)
	}
	known := map[int]bool{}
	for _, l := range r.Image.Layers {
		known[l.Index] = true
		lf := byLayer[l.Index]
		if len(lf) == 0 {
			continue
		}
		created := l.CreatedBy
		if created == "" {
			created = l.Comment
		}
		ew.printf("\n%s\n", colorize(opt.Color, ansiBold, fmt.Sprintf("Layer %d  %s  (%d findings)", l.Index, shortDigest(l.DiffID), len(lf))))
		if created != "" {
			created = strings.Join(strings.Fields(created), " ")
			if opt.Width > 0 {
				created = truncate(created, max(opt.Width-14, 40))
			}
			ew.printf("  created by: %s\n", created)
		}
		ew.printf("\n")
		findingsTable(lf, declared).render(ew, opt.Color, opt.Width)
	}
	var rest []finding.Finding
	for _, f := range fs {
		if !known[f.Package.LayerIndex] {
			rest = append(rest, f)
		}
	}
	if len(rest) > 0 {
		ew.printf("\n%s\n\n", colorize(opt.Color, ansiBold, fmt.Sprintf("Unknown layer  (%d findings)", len(rest))))
		findingsTable(rest, declared).render(ew, opt.Color, opt.Width)
	}
}

// shortDigest shortens "sha256:abcdef…" to "sha256:abcdef123456".
func shortDigest(d string) string {
	algo, hex, ok := strings.Cut(d, ":")
	if !ok {
		return truncate(d, 19)
	}
	if len(hex) > 12 {
		hex = hex[:12]
	}
	return algo + ":" + hex
}

func writeVerdict(ew *errWriter, r *report.Report, opt Options) {
	v := r.Verdict
	if v == nil {
		return
	}
	if v.Pass {
		ew.printf("\nPolicy: %s (exit code %d)\n", colorize(opt.Color, ansiGreen+ansiBold, "PASS"), v.ExitCode)
	} else {
		ew.printf("\nPolicy: %s (exit code %d)\n", colorize(opt.Color, ansiBRed, "FAIL"), v.ExitCode)
	}
	rule := func(tag, style string, rr report.RuleResult) {
		ew.printf("  %s %s: %s\n", colorize(opt.Color, style, tag), rr.RuleID, rr.Message)
		if len(rr.Targets) > 0 {
			ew.printf("      targets: %s\n", strings.Join(rr.Targets, ", "))
		}
	}
	for _, f := range v.Failures {
		rule("[deny]", ansiRed, f)
	}
	for _, wr := range v.Warnings {
		rule("[warn]", ansiYellow, wr)
	}
	for _, e := range v.Expired {
		ew.printf("  %s %s\n", colorize(opt.Color, ansiYellow, "[expired]"), e)
	}
}

func writeNotes(ew *errWriter, r *report.Report, opt Options) {
	if len(r.Notes) == 0 {
		return
	}
	ew.printf("\nNotes:\n")
	for _, n := range r.Notes {
		where := ""
		if n.Path != "" {
			where = n.Path + ": "
		}
		ew.printf("  %s %s%s\n", colorize(opt.Color, ansiDim, n.Level+":"), where, n.Message)
	}
}

// writeBaseImage says which base the image is built on, how that was found,
// and (with --base-advice) what newer bases would leave and fix.
func writeBaseImage(ew *errWriter, r *report.Report) {
	b := r.BaseImage
	if b == nil {
		return
	}
	switch {
	case b.Name != "" && b.Layers > 0:
		ew.printf("Base image: %s (%s; its first %d layer(s))\n", b.Name, b.Signal, b.Layers)
	case b.Name != "":
		ew.printf("Base image: %s (%s)\n", b.Name, b.Signal)
	case b.Layers > 0:
		ew.printf("Base image: unidentified (%s; its first %d layer(s))\n", b.Signal, b.Layers)
	default:
		ew.printf("Base image: none found\n")
	}
	if b.Note != "" {
		ew.printf("  %s\n", b.Note)
	}
	if b.Findings != nil {
		ew.printf("  from the base: %d finding(s), %d critical, %d high\n", b.Findings.Total, b.Findings.Critical, b.Findings.High)
	}
	for _, a := range b.Advice {
		kind := a.Bump + " bump"
		if a.Bump == "other" {
			kind = "other base" // another distribution (--base-advice-other)
		}
		if !a.Scanned {
			ew.printf("  %s → %s: %s\n", kind, a.Name, a.Note)
			continue
		}
		note := ""
		if a.Note != "" {
			note = " (" + a.Note + ")"
		}
		ew.printf("  %s → %s leaves %d finding(s) (%d critical, %d high), fixes %d: %s%s\n",
			kind, a.Name, a.Leaves.Total, a.Leaves.Critical, a.Leaves.High, a.Fixes, a.From, note)
	}
	ew.printf("\n")
}
