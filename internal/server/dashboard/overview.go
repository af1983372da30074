package dashboard

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// The fleet overview: what the last advisory update brought, the fleet's
// counts, the trend, images and repositories ranked by risk, the most
// widespread advisories, and the images drydock could not fully check.

// riskCmp orders images by risk, lowest first: known exploited findings,
// then fixable critical and high ones, then critical, high, and all open
// findings.
func riskCmp(a, b *store.ImageRisk) int {
	return cmp.Or(cmp.Compare(a.KEV, b.KEV), cmp.Compare(a.FixableHigh, b.FixableHigh),
		cmp.Compare(a.BySeverity[vocab.SevCritical], b.BySeverity[vocab.SevCritical]),
		cmp.Compare(a.BySeverity[vocab.SevHigh], b.BySeverity[vocab.SevHigh]),
		cmp.Compare(a.Findings, b.Findings), cmp.Compare(b.ID, a.ID))
}

// imageRow is a row of the ranked images table.
type imageRow struct {
	*store.ImageRisk
	Rank  int
	Other int // medium and below
}

// repoRow is a repository with its images' open findings summed.
type repoRow struct {
	Repository string
	Images     int
	store.ImageRisk
}

type overviewData struct {
	Summary  *store.Summary
	NewSince *store.NewSince
	Trend    *chart
	Images   []imageRow
	Headers  []header
	Pager    pager
	Repos    []repoRow
	Filtered bool
	Severity string
}

func (d *Dashboard) overview(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	sum, err := d.opt.Store.Summary(ctx)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	risks, err := d.opt.Store.ImageRisks(ctx)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	news, err := d.opt.Store.NewSinceLastUpdate(ctx, 20)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	trend, err := d.opt.Store.Trend(ctx, 30, p.Now)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	q := r.URL.Query()
	data := &overviewData{Summary: sum, NewSince: news, Trend: trendChart(trend)}

	// Ranked by risk first: the rank is the row's place in the fleet,
	// whatever the table is then sorted or filtered by.
	ptrs := make([]*store.ImageRisk, len(risks))
	for i := range risks {
		ptrs[i] = &risks[i]
	}
	slices.SortStableFunc(ptrs, func(a, b *store.ImageRisk) int { return riskCmp(b, a) })
	repos := map[string]*repoRow{}
	var rows []imageRow
	text, sev := strings.TrimSpace(q.Get("q")), strings.ToUpper(q.Get("severity"))
	if !vocab.IsSeverity(sev) {
		sev = ""
	}
	data.Severity = sev
	for i, m := range ptrs {
		rr := repos[m.Repository]
		if rr == nil {
			rr = &repoRow{Repository: m.Repository, ImageRisk: store.ImageRisk{BySeverity: map[string]int{}}}
			repos[m.Repository] = rr
		}
		rr.Images++
		rr.KEV += m.KEV
		rr.FixableHigh += m.FixableHigh
		rr.Fixable += m.Fixable
		rr.Findings += m.Findings
		rr.CoverageGaps += m.CoverageGaps
		for s, n := range m.BySeverity {
			rr.BySeverity[s] += n
		}
		row := imageRow{ImageRisk: m, Rank: i + 1,
			Other: m.Findings - m.BySeverity[vocab.SevCritical] - m.BySeverity[vocab.SevHigh]}
		if !contains(text, append([]string{m.Repository, m.Digest}, m.Tags...)...) ||
			sev != "" && m.BySeverity[sev] == 0 ||
			checkedQ(q, "kev") && m.KEV == 0 ||
			checkedQ(q, "fixable") && m.Fixable == 0 ||
			checkedQ(q, "gaps") && m.CoverageGaps == 0 {
			data.Filtered = true
			continue
		}
		rows = append(rows, row)
	}
	st := readState(q, "", "risk", false, 50)
	cols := []column[imageRow]{
		{Key: "risk", Label: "Rank", Cmp: func(a, b imageRow) int { return cmp.Compare(a.Rank, b.Rank) }, Num: true},
		{Key: "image", Label: "Image", Cmp: func(a, b imageRow) int {
			return cmp.Or(strings.Compare(a.Repository, b.Repository), strings.Compare(a.Digest, b.Digest))
		}},
		{Key: "kev", Label: "Known exploited", Cmp: func(a, b imageRow) int { return cmp.Compare(a.KEV, b.KEV) }, Desc: true, Num: true},
		{Key: "fixhigh", Label: "Fixable critical/high", Cmp: func(a, b imageRow) int { return cmp.Compare(a.FixableHigh, b.FixableHigh) }, Desc: true, Num: true},
		{Key: "critical", Label: "Critical", Cmp: sevCmp(vocab.SevCritical), Desc: true, Num: true},
		{Key: "high", Label: "High", Cmp: sevCmp(vocab.SevHigh), Desc: true, Num: true},
		{Key: "other", Label: "Medium and below", Cmp: func(a, b imageRow) int { return cmp.Compare(a.Other, b.Other) }, Desc: true, Num: true},
		{Key: "fixable", Label: "With a fix", Cmp: func(a, b imageRow) int { return cmp.Compare(a.Fixable, b.Fixable) }, Desc: true, Num: true},
		{Key: "gaps", Label: "Coverage", Cmp: func(a, b imageRow) int { return cmp.Compare(a.CoverageGaps, b.CoverageGaps) }, Desc: true},
		{Key: "scanned", Label: "Last scanned", Cmp: func(a, b imageRow) int {
			return cmp.Compare(a.LastSeen.UnixNano(), b.LastSeen.UnixNano())
		}, Desc: true},
	}
	data.Headers = sortRows(rows, &st, cols)
	data.Images, data.Pager = paginate(rows, st)

	for _, rr := range repos {
		data.Repos = append(data.Repos, *rr)
	}
	slices.SortFunc(data.Repos, func(a, b repoRow) int {
		return cmp.Or(riskCmp(&b.ImageRisk, &a.ImageRisk), strings.Compare(a.Repository, b.Repository))
	})
	data.Repos = data.Repos[:min(len(data.Repos), 20)]
	p.Title, p.Nav, p.Data = "Fleet overview", "overview", data
	d.render(w, r, http.StatusOK, "overview", p)
}

func sevCmp(sev string) func(a, b imageRow) int {
	return func(a, b imageRow) int { return cmp.Compare(a.BySeverity[sev], b.BySeverity[sev]) }
}

func checkedQ(q map[string][]string, k string) bool {
	v := ""
	if vs := q[k]; len(vs) > 0 {
		v = vs[0]
	}
	return v != "" && v != "0" && v != "false"
}
