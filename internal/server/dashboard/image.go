package dashboard

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// The image page: where the image is (repository, tags, digests), its
// layers with the Dockerfile step of each, its findings (open and
// resolved, with when), secrets and misconfigurations, what its last scan
// could not check, and its reports in every format.

// layerRow is a layer with what it brought.
type layerRow struct {
	inventory.Layer
	Packages int
	Findings int
}

// findingRow is one finding as the table shows it.
type findingRow struct {
	store.FindingRecord
	Layer      string // "#2" or ""
	Step       string // the Dockerfile step of that layer
	Suppressed bool
	Notes      []finding.Annotation // suppressions, VEX statements and other annotations
}

// historyRow is a change of the image's findings: those first seen, or
// resolved, at one time (a scan or a re-match).
type historyRow struct {
	At       time.Time
	What     string // "first seen" or "resolved"
	Findings []finding.Finding
}

type imageData struct {
	Image      *store.ImageRecord
	Result     *result.Result
	Layers     []layerRow
	Findings   []findingRow
	Headers    []header
	Pager      pager
	Open       int
	Resolved   int
	BySeverity map[string]int
	KEV        int
	Fixable    int
	Gaps       []result.Coverage
	History    []historyRow
	Status     string // the findings filter: open, resolved, all
	// Suppressed counts the open findings the server's ignore files or
	// VEX suppress (they count in Open, as in the fleet's counts).
	Suppressed  int
	Suppressing bool
	Formats     []format
}

// format is a report download.
type format struct{ Name, Label string }

// formats are the report endpoint's formats, SBOMs included.
var formats = []format{{"json", "JSON"}, {"table", "Table (text)"}, {"html", "HTML"}, {"sarif", "SARIF"},
	{"cyclonedx", "CycloneDX SBOM + VEX"}, {"spdx", "SPDX SBOM"}, {"markdown", "Markdown"}, {"junit", "JUnit XML"},
	{"cosign-vuln", "cosign vuln attestation"}}

func (d *Dashboard) image(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		d.fail(w, r, http.StatusNotFound, fmt.Errorf("no image %q", r.PathValue("id")))
		return
	}
	img, err := d.opt.Store.Image(ctx, id)
	if errors.Is(err, store.ErrNoImage) {
		d.fail(w, r, http.StatusNotFound, fmt.Errorf("no image %d in the store", id))
		return
	}
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	res, err := d.opt.Store.LoadResult(ctx, id)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	hist, err := d.opt.Store.FindingHistory(ctx, id)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if d.opt.Suppress != nil {
		// The server's ignore files and VEX annotate every finding the
		// image ever had (open or resolved), as the CLI's --ignore-file.
		res.Findings = make([]finding.Finding, len(hist))
		for i := range hist {
			res.Findings[i] = hist[i].Finding
		}
		if _, err := d.opt.Suppress.Evaluate(ctx, res); err != nil {
			d.fail(w, r, http.StatusInternalServerError, fmt.Errorf("applying the server's ignore files and VEX: %w", err))
			return
		}
		for i := range hist {
			hist[i].Finding.Annotations = res.Findings[i].Annotations
		}
		res.Findings = nil
	}
	data := &imageData{Image: img, Result: res, BySeverity: map[string]int{}, Formats: formats, Suppressing: d.opt.Suppress != nil}
	for _, c := range res.Coverage {
		if !c.Complete() {
			data.Gaps = append(data.Gaps, c)
		}
	}
	layers := make([]layerRow, len(res.Image.Layers))
	for i, l := range res.Image.Layers {
		layers[i].Layer = l
	}
	for _, pk := range res.Packages {
		if pk.Layer != nil && pk.Layer.Index >= 0 && pk.Layer.Index < len(layers) {
			layers[pk.Layer.Index].Packages++
		}
	}
	q := r.URL.Query()
	data.Status = q.Get("status")
	if data.Status != "resolved" && data.Status != "all" {
		data.Status = "open"
	}
	text, sev := strings.TrimSpace(q.Get("q")), strings.ToUpper(q.Get("severity"))
	type change struct {
		at   time.Time
		what string
		f    *finding.Finding
	}
	var changes []change
	var rows []findingRow
	for _, rec := range hist {
		f := &rec.Finding
		open := rec.ResolvedAt == nil
		if open && f.Suppressed() {
			data.Suppressed++
		}
		if open {
			data.Open++
			data.BySeverity[f.Severity]++
			if f.KEV {
				data.KEV++
			}
			if f.FixedVersion != "" {
				data.Fixable++
			}
			if i := f.Package.LayerIndex; i >= 0 && i < len(layers) {
				layers[i].Findings++
			}
			changes = append(changes, change{rec.FirstSeen, "first seen", f})
		} else {
			data.Resolved++
			changes = append(changes, change{rec.FirstSeen, "first seen", f}, change{*rec.ResolvedAt, "resolved", f})
		}
		if data.Status == "open" && !open || data.Status == "resolved" && open {
			continue
		}
		if !contains(text, append([]string{f.ID, f.Package.Name, f.Package.Version, f.FixedVersion, f.Title}, f.Aliases...)...) ||
			sev != "" && f.Severity != sev ||
			checkedQ(q, "kev") && !f.KEV ||
			checkedQ(q, "fixable") && f.FixedVersion == "" {
			continue
		}
		row := findingRow{FindingRecord: rec, Suppressed: f.Suppressed()}
		if i := f.Package.LayerIndex; i >= 0 && i < len(layers) {
			row.Layer, row.Step = fmt.Sprintf("#%d", i), layers[i].CreatedBy
		}
		for _, a := range f.Annotations {
			if a.Kind != vocab.AnnotationKEV {
				row.Notes = append(row.Notes, a)
			}
		}
		rows = append(rows, row)
	}
	data.Layers = layers
	// History: the changes grouped by time and kind, newest first, at most
	// 100 groups.
	slices.SortStableFunc(changes, func(a, b change) int { return cmp.Or(b.at.Compare(a.at), strings.Compare(a.what, b.what)) })
	for _, c := range changes {
		if n := len(data.History); n > 0 && data.History[n-1].At.Equal(c.at) && data.History[n-1].What == c.what {
			data.History[n-1].Findings = append(data.History[n-1].Findings, *c.f)
			continue
		}
		if len(data.History) == 100 {
			break
		}
		data.History = append(data.History, historyRow{At: c.at, What: c.what, Findings: []finding.Finding{*c.f}})
	}

	// Default order: known exploited first, then severity, then ID.
	st := readState(q, "", "severity", true, 100)
	cols := []column[findingRow]{
		{Key: "severity", Label: "Severity", Cmp: func(a, b findingRow) int {
			return cmp.Or(cmp.Compare(boolInt(a.Finding.KEV), boolInt(b.Finding.KEV)), bySeverity(a.Finding.Severity, b.Finding.Severity),
				strings.Compare(b.Finding.ID, a.Finding.ID))
		}, Desc: true},
		{Key: "id", Label: "Advisory", Cmp: func(a, b findingRow) int { return strings.Compare(a.Finding.ID, b.Finding.ID) }},
		{Key: "package", Label: "Package", Cmp: func(a, b findingRow) int {
			return cmp.Or(strings.Compare(a.Finding.Package.Name, b.Finding.Package.Name), strings.Compare(a.Finding.ID, b.Finding.ID))
		}},
		{Key: "installed", Label: "Installed"},
		{Key: "fixed", Label: "Fixed in", Cmp: func(a, b findingRow) int {
			return cmp.Or(cmp.Compare(boolInt(a.Finding.FixedVersion != ""), boolInt(b.Finding.FixedVersion != "")),
				strings.Compare(a.Finding.FixedVersion, b.Finding.FixedVersion))
		}, Desc: true},
		{Key: "layer", Label: "Layer", Cmp: func(a, b findingRow) int {
			return cmp.Compare(a.Finding.Package.LayerIndex, b.Finding.Package.LayerIndex)
		}},
		{Key: "seen", Label: "First seen", Cmp: func(a, b findingRow) int { return byTime(a.FirstSeen, b.FirstSeen) }, Desc: true},
		{Key: "status", Label: "Status"},
	}
	data.Headers = sortRows(rows, &st, cols)
	data.Findings, data.Pager = paginate(rows, st)
	p.Title, p.Nav, p.Data = img.Repository+"@sha256:"+shortHex(img.Digest), "overview", data
	d.render(w, r, http.StatusOK, "image", p)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
