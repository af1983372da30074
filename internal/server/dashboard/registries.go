package dashboard

import (
	"net/http"
	"time"

	"github.com/drydock-scan/drydock/internal/store"
)

// The registries and policies page: the watched registries with their
// last poll and error, the advisory database versions applied, and the
// admission gate's recent decisions.

type registriesData struct {
	Registries []store.Registry
	Databases  []store.DBVersion
	Decisions  []store.Decision
	Counts     map[string]int // decisions per outcome, last 24 hours
	Outcome    string
}

func (d *Dashboard) registries(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	regs, err := d.opt.Store.Registries(ctx)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	dbs, err := d.opt.Store.DBVersions(ctx, 10)
	if err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	data := &registriesData{Registries: regs, Databases: dbs, Outcome: r.URL.Query().Get("outcome")}
	if data.Decisions, err = d.opt.Store.Decisions(ctx, store.DecisionFilter{Outcome: data.Outcome, Limit: 100}); err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	if data.Counts, err = d.opt.Store.DecisionCounts(ctx, p.Now.Add(-24*time.Hour)); err != nil {
		d.fail(w, r, http.StatusInternalServerError, err)
		return
	}
	p.Title, p.Nav, p.Data = "Registries and admission", "registries", data
	d.render(w, r, http.StatusOK, "registries", p)
}
