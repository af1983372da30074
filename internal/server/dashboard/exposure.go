package dashboard

import (
	"cmp"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/drydock-scan/drydock/internal/store"
)

// "Where are we exposed?": a CVE or advisory ID, a package name or
// name@version → every image and tag affected, with the layer and
// Dockerfile step that brought the package in and the fixed version.

// advisoryID looks like an advisory or CVE ID: CVE-2023-4911,
// GHSA-xxxx-xxxx-xxxx, ALSA-2023:5453, GO-2021-0113, DSA-5514-1, RUSTSEC-…
var advisoryID = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*-[0-9A-Za-z][0-9A-Za-z:._-]*$`)

// exposureRow is one affected package in one image.
type exposureRow struct {
	Image     *store.ExposedImage
	Package   string
	Ecosystem string
	Version   string
	Layer     string // "#2"
	Step      string // its Dockerfile step
	Advisory  string
	Severity  string
	KEV       bool
	Fixed     string
	LayerIdx  int
}

type exposureData struct {
	Query   string
	Kind    string // "advisory", "package" or ""
	Rows    []exposureRow
	Headers []header
	Pager   pager
	Images  int
	Tags    int
	Note    string
}

func (d *Dashboard) exposure(w http.ResponseWriter, r *http.Request, p *page) {
	ctx := r.Context()
	q := r.URL.Query()
	data := &exposureData{Query: strings.TrimSpace(q.Get("q"))}
	p.Title, p.Nav, p.Data = "Where are we exposed?", "exposure", data
	if data.Query == "" {
		d.render(w, r, http.StatusOK, "exposure", p)
		return
	}
	var rows []exposureRow
	name, version, isPkg := strings.Cut(data.Query, "@")
	// "@" can start a scoped npm name (@babel/core@7.0.0).
	if strings.HasPrefix(data.Query, "@") {
		if i := strings.LastIndex(data.Query, "@"); i > 0 {
			name, version, isPkg = data.Query[:i], data.Query[i+1:], true
		} else {
			name, version, isPkg = data.Query, "", false
		}
	}
	if !isPkg && advisoryID.MatchString(data.Query) && q.Get("kind") != "package" {
		found, err := d.opt.Store.ExposedFindings(ctx, data.Query)
		if err != nil {
			d.fail(w, r, http.StatusInternalServerError, err)
			return
		}
		data.Kind = "advisory"
		for _, ef := range found {
			f := &ef.Finding
			row := exposureRow{Image: ef.Image, Package: f.Package.Name, Ecosystem: f.Package.Ecosystem, Version: f.InstalledVersion,
				Advisory: f.ID, Severity: f.Severity, KEV: f.KEV, Fixed: f.FixedVersion, LayerIdx: f.Package.LayerIndex}
			row.Layer, row.Step = layerStep(ef.Image, f.Package.LayerIndex)
			rows = append(rows, row)
		}
	}
	if data.Kind == "" {
		if !isPkg {
			name = data.Query
		}
		held, err := d.opt.Store.PackagesNamed(ctx, name, version)
		if err != nil {
			d.fail(w, r, http.StatusInternalServerError, err)
			return
		}
		data.Kind = "package"
		for _, hp := range held {
			row := exposureRow{Image: hp.Image, Package: hp.Name, Ecosystem: hp.Ecosystem, Version: hp.Version, LayerIdx: hp.LayerIndex}
			row.Layer, row.Step = layerStep(hp.Image, hp.LayerIndex)
			if len(hp.Findings) == 0 {
				rows = append(rows, row)
				continue
			}
			// One row per open finding of the package: each has its fix.
			for _, f := range hp.Findings {
				fr := row
				fr.Advisory, fr.Severity, fr.KEV, fr.Fixed = f.ID, f.Severity, f.KEV, f.FixedVersion
				rows = append(rows, fr)
			}
		}
	}
	images, tags := map[int64]bool{}, 0
	for _, row := range rows {
		if !images[row.Image.ID] {
			images[row.Image.ID] = true
			tags += len(row.Image.Tags)
		}
	}
	data.Images, data.Tags = len(images), tags
	st := readState(q, "", "image", false, 100)
	cols := []column[exposureRow]{
		{Key: "image", Label: "Image", Cmp: func(a, b exposureRow) int {
			return cmp.Or(strings.Compare(a.Image.Repository, b.Image.Repository), strings.Compare(a.Image.Digest, b.Image.Digest))
		}},
		{Key: "package", Label: "Package", Cmp: func(a, b exposureRow) int {
			return cmp.Or(strings.Compare(a.Package, b.Package), strings.Compare(a.Version, b.Version))
		}},
		{Key: "installed", Label: "Installed"},
		{Key: "advisory", Label: "Advisory", Cmp: func(a, b exposureRow) int { return strings.Compare(a.Advisory, b.Advisory) }},
		{Key: "severity", Label: "Severity", Cmp: func(a, b exposureRow) int {
			return cmp.Or(cmp.Compare(boolInt(a.KEV), boolInt(b.KEV)), bySeverity(a.Severity, b.Severity))
		}, Desc: true},
		{Key: "fixed", Label: "Fixed in", Cmp: func(a, b exposureRow) int { return strings.Compare(a.Fixed, b.Fixed) }},
		{Key: "layer", Label: "Layer and Dockerfile step", Cmp: func(a, b exposureRow) int { return cmp.Compare(a.LayerIdx, b.LayerIdx) }},
	}
	data.Headers = sortRows(rows, &st, cols)
	data.Rows, data.Pager = paginate(rows, st)
	if len(rows) >= 10000 {
		data.Note = "Only the first 10,000 rows are shown: narrow the search (name@version)."
	}
	d.render(w, r, http.StatusOK, "exposure", p)
}

// layerStep names a layer of an image and the Dockerfile step that made it.
func layerStep(img *store.ExposedImage, i int) (string, string) {
	if i < 0 {
		return "", ""
	}
	layer := fmt.Sprintf("#%d", i)
	if i < len(img.Layers) && img.Layers[i].CreatedBy != "" {
		return layer, img.Layers[i].CreatedBy
	}
	for _, h := range img.History {
		if h.LayerIndex == i {
			return layer, h.CreatedBy
		}
	}
	return layer, ""
}
