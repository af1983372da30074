package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
)

// FileResult is what one extractor produced from one file of one layer.
type FileResult struct {
	Path      string    `json:"path"`
	Extractor string    `json:"extractor"`
	Packages  []Package `json:"packages,omitempty"`
	Distro    *Distro   `json:"distro,omitempty"`
	Notes     []Note    `json:"notes,omitempty"`
}

// LayerResult is the per-layer unit of work and of caching: everything the
// walker and the extractors learned from one layer, independent of the
// layers around it.
type LayerResult struct {
	Layer      Layer        `json:"layer"`
	Whiteouts  []string     `json:"whiteouts,omitempty"`
	OpaqueDirs []string     `json:"opaque_dirs,omitempty"`
	Files      []FileResult `json:"files,omitempty"`
	// Removed lists files of this layer that exist as regular files but were
	// not captured; kept only for paths that matter to secrets (see walk).
	Notes []Note `json:"notes,omitempty"`
}

// MergeOptions tunes Merge.
type MergeOptions struct {
	// ResolveDistro picks one distro among the candidates found in the final
	// filesystem (nil: the first, in layer order from the top).
	ResolveDistro func([]Distro) *Distro
}

type fileKey struct{ path, extractor string }

type liveFile struct {
	res    FileResult
	layer  int
	origin map[string]int // package identity → index of the layer that introduced it
}

// Merge applies the layers in order (whiteouts, opaque directories, files
// replaced by upper layers) and returns the inventory of the final
// filesystem. Each package's Layer is the layer that introduced it: the
// lowest layer from which that package stayed present, unchanged, in its file
// up to the top. IDs are assigned deterministically.
func Merge(layers []LayerResult, opt MergeOptions) Inventory {
	live := map[fileKey]*liveFile{}
	for li := range layers {
		lr := &layers[li]
		// Whiteouts and opaque dirs hide lower layers' files.
		for key := range live {
			if live[key].layer < li && (hidden(key.path, lr.Whiteouts, false) || hidden(key.path, lr.OpaqueDirs, true)) {
				delete(live, key)
			}
		}
		for _, fr := range lr.Files {
			key := fileKey{fr.Path, fr.Extractor}
			prev := live[key]
			lf := &liveFile{res: fr, layer: li, origin: map[string]int{}}
			for _, p := range fr.Packages {
				id := identity(&p)
				if prev != nil {
					if o, ok := prev.origin[id]; ok {
						lf.origin[id] = o
						continue
					}
				}
				lf.origin[id] = li
			}
			live[key] = lf
		}
	}

	keys := make([]fileKey, 0, len(live))
	for k := range live {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b fileKey) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return strings.Compare(a.extractor, b.extractor)
	})

	var inv Inventory
	type distroAt struct {
		d     Distro
		layer int
	}
	var distros []distroAt
	fileLists := map[string][]string{} // dpkg package name → files
	for _, k := range keys {
		lf := live[k]
		inv.Notes = append(inv.Notes, lf.res.Notes...)
		if lf.res.Distro != nil {
			distros = append(distros, distroAt{*lf.res.Distro, lf.layer})
		}
		for _, p := range lf.res.Packages {
			if p.Metadata["kind"] == "filelist" {
				fileLists[p.Ecosystem+"\x00"+p.Name] = append(fileLists[p.Ecosystem+"\x00"+p.Name], p.Files...)
				continue
			}
			origin := lf.origin[identity(&p)]
			l := layers[origin].Layer
			p.Layer = &l
			inv.Packages = append(inv.Packages, p)
		}
	}
	// Later layers' distro files win; Resolve gets them top-first.
	slices.SortStableFunc(distros, func(a, b distroAt) int { return b.layer - a.layer })
	if len(distros) > 0 {
		cands := make([]Distro, len(distros))
		for i := range distros {
			cands[i] = distros[i].d
		}
		if opt.ResolveDistro != nil {
			inv.Distro = opt.ResolveDistro(cands)
		} else {
			inv.Distro = &cands[0]
		}
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if files, ok := fileLists[p.Ecosystem+"\x00"+p.Name]; ok && len(p.Files) == 0 {
			p.Files = files
		}
		p.ID = StableID(p)
	}
	inv.Sort()
	assignOwners(&inv)
	return inv
}

// hidden reports whether path is removed by one of dirs: exactly (whiteout)
// or below it.
func hidden(path string, dirs []string, onlyBelow bool) bool {
	for _, d := range dirs {
		if !onlyBelow && path == d {
			return true
		}
		if d == "/" || strings.HasPrefix(path, d+"/") {
			return true
		}
	}
	return false
}

// identity is what makes a package "the same" across versions of one file.
func identity(p *Package) string {
	return p.Ecosystem + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.Arch + "\x00" + p.Metadata["nested_path"]
}

// StableID derives a package's ID from what identifies it, so IDs are the
// same across runs and machines.
func StableID(p *Package) string {
	h := sha256.New()
	for _, s := range []string{p.Ecosystem, p.Name, p.Version, p.Arch, p.PrimaryPath(), p.Metadata["nested_path"]} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// assignOwners marks language packages whose file belongs to an OS package.
func assignOwners(inv *Inventory) {
	owners := map[string]string{}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if !IsOS(p.Ecosystem) {
			continue
		}
		for _, f := range p.Files {
			if _, ok := owners[f]; !ok {
				owners[f] = p.ID
			}
		}
	}
	if len(owners) == 0 {
		return
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if IsOS(p.Ecosystem) || p.Owner != "" {
			continue
		}
		if o, ok := owners[p.PrimaryPath()]; ok {
			p.Owner = o
		}
	}
}

// Finalize adds facts known only once the whole image is merged: the distro
// qualifier and namespace of OS package PURLs.
func Finalize(inv *Inventory) {
	if inv.Distro == nil {
		return
	}
	for i := range inv.Packages {
		p := &inv.Packages[i]
		if !IsOS(p.Ecosystem) || p.PURL == "" {
			continue
		}
		p.PURL = withDistro(p.PURL, inv.Distro)
	}
}
