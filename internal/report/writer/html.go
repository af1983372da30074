package writer

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/compliance"
	"github.com/drydock-scan/drydock/internal/vocab"
)

//go:embed html.tmpl
var htmlFS embed.FS

type htmlCard struct {
	Label, Value, Class, Color string
}

type htmlSegment struct {
	X, W  int
	Color string
	Title string
}

type htmlBar struct {
	Y, TextY, TotalX int
	Label, Sub       string
	Total            int
	Segments         []htmlSegment
}

type htmlChart struct {
	Width, Height, LabelW, BarW int
	Bars                        []htmlBar
	Legend                      []htmlCard
}

type htmlPackage struct {
	Name, Version, Ecosystem, Path string
	Declared                       bool // read from a lockfile, not installed files
}

// htmlSecret is a secret with where it is and, when it does not count, why.
type htmlSecret struct {
	report.Secret
	Where, Status, Why string
}

// htmlMalware is a malware finding as the page lists it.
type htmlMalware struct {
	report.Malware
	Where, Layer, Title, URL string
	Why                      string // an ignore entry allowed it: whose and why
}

// htmlMisconfig is a misconfiguration and, when it does not count, why.
type htmlMisconfig struct {
	report.Misconfig
	Status, Why string
}

type htmlHistory struct {
	Step       int
	CreatedBy  string
	Layer      string
	Size       string
	Empty      bool
	Packages   []htmlPackage
	Findings   int
	WorstColor string
}

// htmlFinding is what the page's script renders; the JSON keys are short
// because every finding is embedded.
type htmlFinding struct {
	Severity   string   `json:"sev"`
	ID         string   `json:"id"`
	URL        string   `json:"url"`
	Aliases    []string `json:"aliases,omitempty"`
	KEV        bool     `json:"kev,omitempty"`
	Package    string   `json:"pkg"`
	Ecosystem  string   `json:"eco"`
	Installed  string   `json:"installed"`
	Fixed      string   `json:"fixed,omitempty"`
	Layer      int      `json:"layer"`
	Title      string   `json:"title,omitempty"`
	Status     string   `json:"status"`
	Suppressed bool     `json:"suppressed,omitempty"`
	Path       string   `json:"path,omitempty"`
	Declared   bool     `json:"declared,omitempty"`
	// Reach is the Go reachability status, ReachWhy its reason.
	Reach    string `json:"reach,omitempty"`
	ReachWhy string `json:"reachWhy,omitempty"`
}

// gapColor marks coverage gaps on the page.
const gapColor = "#ef6c00"

// htmlGap is a coverage gap as the page lists it.
type htmlGap struct {
	Ecosystem, Status string
	Packages          int
	Reason            string
	More              []string // the reasons after the first
}

type htmlView struct {
	Title     string
	Image     string
	Reference string
	Digest    string
	Distro    string
	Platform  string
	Created   string
	Tool      string
	SBOMMode  bool
	Cards     []htmlCard
	Verdict   *report.Verdict
	// Licence findings, active and suppressed or filtered (htmlLicenses).
	Licenses, SuppressedLicenses []htmlLicense
	// Malware that counts, and what ignore entries allowed (folded).
	Malware        []htmlMalware
	AllowedMalware []htmlMalware
	Chart          htmlChart
	History        []htmlHistory
	Findings       []htmlFinding
	Severities     []htmlCard
	Suppressed     int
	// Active secrets and misconfigurations, and those an ignore rule or
	// --severity took out of the count (listed apart, folded).
	Secrets              []htmlSecret
	SuppressedSecrets    []htmlSecret
	Misconfigs           []htmlMisconfig
	SuppressedMisconfigs []htmlMisconfig
	Notes                []string
	Packages             int
	// Coverage gaps (vuln mode) and the warning's headline.
	Gaps        []htmlGap
	GapHeadline string
	// Compliance is the --compliance report (shown after the policy).
	Compliance *compliance.Report
	// SupplyChain is the verify stage's section (shown before the policy).
	SupplyChain *htmlSupplyChain
}

// HTML writes one self-contained page (inline CSS and script, nothing
// fetched): summary cards, a chart of findings per layer, the image history
// with the packages each layer introduced, and a searchable, filterable,
// sortable findings table. Where coverage is incomplete, a warning opens the
// page. html/template escapes all text; control characters in it are shown
// as escapes too (printable).
func HTML(w io.Writer, r *report.Report, opt Options) error {
	r = printableReport(r.Normalized())
	t, err := template.New("html.tmpl").Funcs(template.FuncMap{
		"severityColor": severityHex,
		"lower":         strings.ToLower,
		"shortDigest":   shortDigest,
		"join":          strings.Join,
		"plural":        plural,
		"statusColor":   complianceColor,
		"scColor":       scStatusColor,
	}).ParseFS(htmlFS, "html.tmpl")
	if err != nil {
		return fmt.Errorf("parsing HTML template: %w", err)
	}
	if err := t.Execute(w, htmlViewOf(r, opt)); err != nil {
		return fmt.Errorf("writing HTML report: %w", err)
	}
	return nil
}

func htmlViewOf(r *report.Report, opt Options) *htmlView {
	v := &htmlView{
		Title:     "drydock report: " + r.ImageName(),
		Image:     r.ImageName(),
		Reference: r.Image.Reference,
		Digest:    r.Image.Digest,
		Created:   r.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"),
		Tool:      strings.TrimSpace(r.Tool.Name + " " + r.Tool.Version),
		SBOMMode:  mode(r, opt) == "sbom",
		Verdict:   r.Verdict,
		Packages:  len(r.Packages),
	}
	v.Compliance = r.Compliance
	v.SupplyChain = htmlSupplyChainOf(r.SupplyChain)
	for i := range r.Malware {
		m := &r.Malware[i]
		hm := htmlMalware{Malware: *m, Where: malwareWhere(m), Layer: malwareLayer(m), Title: malwareTitle(m)}
		if m.Kind == vocab.MalwarePackage {
			hm.URL = idURL(m.ID)
		}
		if m.Allowed() {
			hm.Why = whyNotCounted(m.Annotations)
			v.AllowedMalware = append(v.AllowedMalware, hm)
		} else {
			v.Malware = append(v.Malware, hm)
		}
	}
	for _, x := range r.Secrets {
		hs := htmlSecret{Secret: x, Where: secretWhere(&x), Status: suppressionStatus(x.Annotations), Why: whyNotCounted(x.Annotations)}
		if hs.Status != "" {
			v.SuppressedSecrets = append(v.SuppressedSecrets, hs)
		} else {
			v.Secrets = append(v.Secrets, hs)
		}
	}
	v.Licenses, v.SuppressedLicenses = htmlLicenses(r)
	for _, m := range r.Misconfigs {
		hm := htmlMisconfig{Misconfig: m, Status: suppressionStatus(m.Annotations), Why: whyNotCounted(m.Annotations)}
		if hm.Status != "" {
			v.SuppressedMisconfigs = append(v.SuppressedMisconfigs, hm)
		} else {
			v.Misconfigs = append(v.Misconfigs, hm)
		}
	}
	if r.Distro != nil {
		v.Distro = r.Distro.PrettyName
		if v.Distro == "" {
			v.Distro = strings.TrimSpace(r.Distro.ID + " " + r.Distro.VersionID)
		}
	}
	v.Platform = strings.Trim(r.Image.OS+"/"+r.Image.Arch, "/")
	if r.Image.Variant != "" {
		v.Platform += "/" + r.Image.Variant
	}
	for _, n := range r.Notes {
		s := n.Level + ": "
		if n.Path != "" {
			s += n.Path + ": "
		}
		v.Notes = append(v.Notes, s+n.Message)
	}

	bySev, _, suppressed := counts(r)
	v.Suppressed = suppressed
	if len(v.Malware) > 0 {
		v.Cards = append(v.Cards, htmlCard{Label: "Malware", Value: strconv.Itoa(len(v.Malware)), Class: "malware", Color: severityHex(vocab.SevCritical)})
	}
	for _, s := range vocab.Severities() {
		if s == vocab.SevNegligible && bySev[s] == 0 {
			continue
		}
		c := htmlCard{Label: s, Value: strconv.Itoa(bySev[s]), Class: "sev", Color: severityHex(s)}
		v.Severities = append(v.Severities, c)
		if !v.SBOMMode {
			v.Cards = append(v.Cards, c)
		}
	}
	v.Cards = append(v.Cards, htmlCard{Label: "Packages", Value: strconv.Itoa(len(r.Packages)), Class: "info"})
	if !v.SBOMMode {
		v.Cards = append(v.Cards,
			htmlCard{Label: "Secrets", Value: strconv.Itoa(len(v.Secrets)), Class: "info"},
			htmlCard{Label: "Misconfigurations", Value: strconv.Itoa(len(v.Misconfigs)), Class: "info"},
		)
		if k := kevCount(r); k > 0 {
			v.Cards = append(v.Cards, htmlCard{Label: "Known exploited", Value: strconv.Itoa(k), Class: "kev"})
		}
	}
	if gaps := coverageGaps(r); len(gaps) > 0 && !v.SBOMMode {
		for i := range gaps {
			c := &gaps[i]
			g := htmlGap{Ecosystem: c.Ecosystem, Status: c.Status, Packages: c.Packages, Reason: gapReasons(c)[0]}
			if len(c.Reasons) > 1 {
				g.More = c.Reasons[1:]
			}
			v.Gaps = append(v.Gaps, g)
		}
		v.GapHeadline = gapHeadline(len(visible(r, opt)) == 0)
		v.Cards = append(v.Cards, htmlCard{Label: "Coverage gaps", Value: strconv.Itoa(len(gaps)), Class: "gap", Color: gapColor})
	}
	if r.Verdict != nil {
		if r.Verdict.Pass {
			v.Cards = append(v.Cards, htmlCard{Label: "Policy", Value: "PASS", Class: "pass"})
		} else {
			v.Cards = append(v.Cards, htmlCard{Label: "Policy", Value: "FAIL", Class: "fail"})
		}
	}

	declared := declaredIDs(r)
	for _, f := range r.Findings {
		title := f.Title
		if title == "" {
			title = firstLine(f.Description)
		}
		reach, reachWhy := reachability(&f)
		v.Findings = append(v.Findings, htmlFinding{
			Severity: severityOf(f.Severity), ID: f.ID, URL: primaryURL(&f), Aliases: f.Aliases, KEV: f.KEV,
			Package: f.Package.Name, Ecosystem: f.Package.Ecosystem, Installed: f.InstalledVersion,
			Fixed: f.FixedVersion, Layer: f.Package.LayerIndex, Title: title, Status: statusText(&f),
			Suppressed: f.Suppressed(), Path: f.Package.Path, Declared: declared[f.Package.ID],
			Reach: reach, ReachWhy: reachWhy,
		})
	}
	if v.Findings == nil {
		v.Findings = []htmlFinding{}
	}
	v.Chart = htmlChartOf(r)
	v.History = htmlHistoryOf(r)
	return v
}

// htmlChartOf lays out one horizontal stacked bar per layer: the layer's
// unsuppressed findings by severity.
func htmlChartOf(r *report.Report) htmlChart {
	const width, labelW, rowH = 760, 210, 34
	barW := width - labelW - 60
	perLayer := map[int]map[string]int{}
	maxTotal := 0
	totals := map[int]int{}
	for _, f := range r.Findings {
		if f.Suppressed() {
			continue
		}
		i := f.Package.LayerIndex
		if perLayer[i] == nil {
			perLayer[i] = map[string]int{}
		}
		perLayer[i][severityOf(f.Severity)]++
		totals[i]++
		maxTotal = max(maxTotal, totals[i])
	}
	c := htmlChart{Width: width, LabelW: labelW, BarW: barW}
	for _, s := range vocab.Severities() {
		if s == vocab.SevNegligible {
			continue
		}
		c.Legend = append(c.Legend, htmlCard{Label: s, Color: severityHex(s)})
	}
	layers := r.Image.Layers
	if len(layers) == 0 {
		return c
	}
	for row, l := range layers {
		b := htmlBar{
			Y: row*rowH + 6, TextY: row*rowH + 6 + 14, Label: fmt.Sprintf("Layer %d", l.Index),
			Sub: truncate(strings.Join(strings.Fields(l.CreatedBy), " "), 34), Total: totals[l.Index],
		}
		x := labelW
		for _, s := range vocab.Severities() {
			n := perLayer[l.Index][s]
			if n == 0 {
				continue
			}
			wpx := max(n*barW/max(maxTotal, 1), 3)
			b.Segments = append(b.Segments, htmlSegment{X: x, W: wpx, Color: severityHex(s), Title: fmt.Sprintf("%s: %d", s, n)})
			x += wpx
		}
		b.TotalX = x + 6
		c.Bars = append(c.Bars, b)
	}
	c.Height = len(layers)*rowH + 8
	return c
}

// htmlHistoryOf lists the image history with what each layer introduced.
func htmlHistoryOf(r *report.Report) []htmlHistory {
	pkgs := map[int][]htmlPackage{}
	for _, p := range r.Packages {
		if p.Layer == nil {
			continue
		}
		pkgs[p.Layer.Index] = append(pkgs[p.Layer.Index], htmlPackage{Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem,
			Path: p.PrimaryPath(), Declared: p.Declared})
	}
	findings := map[int]int{}
	worst := map[int]string{}
	for _, f := range r.Findings {
		if f.Suppressed() {
			continue
		}
		findings[f.Package.LayerIndex]++
		if vocab.SeverityRank(f.Severity) > vocab.SeverityRank(worst[f.Package.LayerIndex]) || worst[f.Package.LayerIndex] == "" {
			worst[f.Package.LayerIndex] = f.Severity
		}
	}
	size := map[int]int64{}
	for _, l := range r.Image.Layers {
		size[l.Index] = l.Size
	}
	var out []htmlHistory
	add := func(step int, createdBy string, layer int, empty bool) {
		h := htmlHistory{Step: step, CreatedBy: strings.TrimSpace(createdBy), Empty: empty, Layer: "—"}
		if !empty && layer >= 0 {
			h.Layer = strconv.Itoa(layer)
			h.Size = humanSize(size[layer])
			h.Packages = pkgs[layer]
			h.Findings = findings[layer]
			if w := worst[layer]; w != "" {
				h.WorstColor = severityHex(w)
			}
		}
		out = append(out, h)
	}
	if len(r.Image.History) > 0 {
		for i, h := range r.Image.History {
			add(i+1, h.CreatedBy, h.LayerIndex, h.EmptyLayer || h.LayerIndex < 0)
		}
		return out
	}
	for i, l := range r.Image.Layers {
		add(i+1, l.CreatedBy, l.Index, false)
	}
	return out
}

// whyNotCounted says which annotation took a secret or misconfiguration
// out of the count: "example key (.drydockignore.yaml)".
func whyNotCounted(as []finding.Annotation) string {
	for _, kind := range []string{vocab.AnnotationSuppressed, vocab.AnnotationFiltered} {
		for _, a := range as {
			if a.Kind != kind {
				continue
			}
			why := a.Reason
			if a.Source != "" {
				why = strings.TrimSpace(why + " (" + a.Source + ")")
			}
			return why
		}
	}
	return ""
}

// plural is "1 secret", "2 secrets".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func humanSize(n int64) string {
	switch {
	case n <= 0:
		return ""
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1024*1024:
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	case n < 1024*1024*1024:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1024*1024))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1024*1024*1024))
}
