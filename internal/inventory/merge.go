package inventory

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// FileResult is what one extractor produced from one file of one layer.
type FileResult struct {
	Path      string       `json:"path"`
	Extractor string       `json:"extractor"`
	Packages  []Package    `json:"packages,omitempty"`
	Distro    *Distro      `json:"distro,omitempty"`
	Notes     []Note       `json:"notes,omitempty"`
	Hits      []SecretHit  `json:"hits,omitempty"`
	Malware   []MalwareHit `json:"malware,omitempty"`
	// GoBinaries: the function table of a Go executable (see GoSymbols).
	GoBinaries []GoBinary `json:"go_binaries,omitempty"`
}

// LayerResult is the per-layer unit of work and of caching: everything the
// walker and the extractors learned from one layer, independent of the
// layers around it.
type LayerResult struct {
	Layer      Layer        `json:"layer"`
	Whiteouts  []string     `json:"whiteouts,omitempty"`
	OpaqueDirs []string     `json:"opaque_dirs,omitempty"`
	Files      []FileResult `json:"files,omitempty"`
	Notes      []Note       `json:"notes,omitempty"`
	// Facts gathered from this layer's tar headers.
	Facts Facts `json:"facts,omitzero"`
	// PathHashes holds PathHash of every regular file in the layer, sorted:
	// enough to tell that an upper layer replaced a lower layer's file
	// without keeping the file tree.
	PathHashes []uint64 `json:"path_hashes,omitempty"`
	// SkippedBy counts the files of the layer that --skip-dirs and
	// --skip-files patterns passed over unread (only patterns that skipped
	// something), so that the scan can say what it did not look at.
	SkippedBy []SkipCount `json:"skipped_by,omitempty"`
}

// SkipCount is how many files of a layer one skip pattern passed over,
// and the first of them.
type SkipCount struct {
	Flag    string `json:"flag"` // "skip-dirs" or "skip-files"
	Pattern string `json:"pattern"`
	Files   int    `json:"files"`
	First   string `json:"first"`
}

// PathHash is a 64-bit FNV-1a hash of ValidUTF8(p): the walker hashes the
// paths as the tar has them, Merge compares them with paths it made valid
// (see WithValidUTF8), and a path read from the cache is valid already.
func PathHash(p string) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(p); {
		if c := p[i]; c < utf8.RuneSelf {
			h = (h ^ uint64(c)) * prime
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(p[i:])
		b := p[i : i+size]
		if r == utf8.RuneError && size == 1 {
			b = string(utf8.RuneError)
		}
		for j := 0; j < len(b); j++ {
			h = (h ^ uint64(b[j])) * prime
		}
		i += size
	}
	return h
}

// MergeOptions tunes Merge.
type MergeOptions struct {
	// ResolveDistro picks one distro among the candidates found in the final
	// filesystem (nil: the first, in layer order from the top).
	ResolveDistro func([]Distro) *Distro
}

type fileKey struct{ path, extractor string }

type liveFile struct {
	res   FileResult
	layer int
	// origin maps the identity of each package that a lower layer
	// introduced (the file was replaced by an identical package) to that
	// layer's index; every other package was introduced by layer. Most
	// files are never replaced: they have no map.
	origin map[string]int
}

// originOf returns the layer that introduced the package of identity id,
// and whether the file holds it.
func (lf *liveFile) originOf(id string, ids map[string]bool) (int, bool) {
	if o, ok := lf.origin[id]; ok {
		return o, true
	}
	return lf.layer, ids[id]
}

// Merge applies the layers in order (whiteouts, opaque directories, files
// replaced by upper layers) and returns the inventory of the final
// filesystem. Each package's Layer is the layer that introduced it: the
// lowest layer from which that package stayed present, unchanged, in its file
// up to the top. IDs are assigned deterministically.
//
// Every string of layers is first made valid UTF-8 (WithValidUTF8; layers
// are not modified), so that a layer read from the cache and the same layer
// walked again give the same inventory. A package without a name is left
// out, with a warning.
func Merge(layers []LayerResult, opt MergeOptions) Inventory {
	valid := make([]LayerResult, len(layers))
	for i := range layers {
		valid[i] = layers[i].WithValidUTF8()
	}
	layers = valid
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
			lf := &liveFile{res: fr, layer: li}
			if prev != nil && len(prev.res.Packages) > 0 {
				ids := make(map[string]bool, len(prev.res.Packages))
				for i := range prev.res.Packages {
					ids[identity(&prev.res.Packages[i])] = true
				}
				for i := range fr.Packages {
					id := identity(&fr.Packages[i])
					if o, ok := prev.originOf(id, ids); ok {
						if lf.origin == nil {
							lf.origin = map[string]int{}
						}
						lf.origin[id] = o
					}
				}
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
	// Files a layer walk could not read are reported whatever the upper
	// layers did with them: secrets are looked for in every layer.
	for li := range layers {
		for _, n := range layers[li].Notes {
			if n.Extractor == "" {
				n.Extractor = "walk"
			}
			inv.Notes = append(inv.Notes, n)
		}
	}
	type distroAt struct {
		d     Distro
		layer int
	}
	var distros []distroAt
	fileLists := map[string][]string{}  // dpkg package name → files
	copyrights := map[string][]string{} // dpkg package name → licences of its copyright file
	layerOf := make([]*Layer, len(layers))
	for _, k := range keys {
		lf := live[k]
		for _, n := range lf.res.Notes {
			if n.Extractor == "" {
				n.Extractor = k.extractor
			}
			inv.Notes = append(inv.Notes, n)
		}
		if lf.res.Distro != nil {
			distros = append(distros, distroAt{*lf.res.Distro, lf.layer})
		}
		inv.GoBinaries = append(inv.GoBinaries, lf.res.GoBinaries...)
		nameless := 0
		for _, p := range lf.res.Packages {
			if p.Name == "" {
				nameless++
				continue
			}
			if p.Metadata[MetaKind] == KindFileList {
				fileLists[p.Ecosystem+"\x00"+p.Name] = append(fileLists[p.Ecosystem+"\x00"+p.Name], p.Files...)
				continue
			}
			if p.Metadata[MetaKind] == KindCopyright {
				copyrights[p.Ecosystem+"\x00"+p.Name] = p.Licenses
				continue
			}
			origin := lf.layer
			if lf.origin != nil {
				if o, ok := lf.origin[identity(&p)]; ok {
					origin = o
				}
			}
			if layerOf[origin] == nil {
				l := layers[origin].Layer
				layerOf[origin] = &l
			}
			// One Layer per layer, shared by its packages (they are
			// never changed in place: a change makes a copy).
			p.Layer = layerOf[origin]
			inv.Packages = append(inv.Packages, p)
		}
		if nameless > 0 {
			inv.Notes = append(inv.Notes, namelessNote(k, layers[lf.layer].Layer.DiffID, nameless))
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
		if len(p.Licenses) == 0 {
			// A package without a copyright file of its own has its doc
			// directory as a symlink to one of a package of the same source
			// (Debian Policy 12.5), usually the one named like the source.
			if ls, ok := copyrights[p.Ecosystem+"\x00"+p.Name]; ok {
				p.Licenses = ls
			} else if ls, ok := copyrights[p.Ecosystem+"\x00"+p.SourceName]; ok && p.SourceName != "" {
				p.Licenses = ls
			}
		}
		p.ID = StableID(p)
	}
	inv.Sort()
	assignOwners(&inv)
	inv.Secrets = placeSecrets(layers)
	inv.Malware = placeMalware(layers)
	inv.Facts = mergeFacts(layers)
	return inv
}

// removedIn returns the index of the first layer above li that deletes or
// replaces path, or -1.
func removedIn(layers []LayerResult, li int, path string) int {
	h := PathHash(path)
	for j := li + 1; j < len(layers); j++ {
		u := &layers[j]
		if hidden(path, u.Whiteouts, false) || hidden(path, u.OpaqueDirs, true) {
			return j
		}
		if _, ok := slices.BinarySearch(u.PathHashes, h); ok {
			return j
		}
	}
	return -1
}

// placeSecrets reports every secret of every layer: a secret in a file that a
// later layer deleted or replaced is still in the image.
func placeSecrets(layers []LayerResult) []Secret {
	var out []Secret
	for li := range layers {
		for _, fr := range layers[li].Files {
			if len(fr.Hits) == 0 {
				continue
			}
			del := removedIn(layers, li, fr.Path)
			for _, h := range fr.Hits {
				s := Secret{SecretHit: h, Path: fr.Path, Layer: layers[li].Layer}
				if del >= 0 {
					d := layers[del].Layer.Index
					s.DeletedInLayer = &d
				}
				out = append(out, s)
			}
		}
	}
	return out
}

// placeMalware reports every known-bad file of every layer, as secrets: a
// file that a later layer deleted or replaced is still in the image.
func placeMalware(layers []LayerResult) []Malware {
	var out []Malware
	for li := range layers {
		for _, fr := range layers[li].Files {
			if len(fr.Malware) == 0 {
				continue
			}
			del := removedIn(layers, li, fr.Path)
			for _, h := range fr.Malware {
				m := Malware{MalwareHit: h, Path: fr.Path, Layer: layers[li].Layer}
				if del >= 0 {
					d := layers[del].Layer.Index
					m.DeletedInLayer = &d
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// mergeFacts keeps the facts of files still present in the final filesystem.
func mergeFacts(layers []LayerResult) Facts {
	var f Facts
	for li := range layers {
		lf := &layers[li].Facts
		for _, x := range lf.Setuid {
			if removedIn(layers, li, x.Path) < 0 {
				f.Setuid = append(f.Setuid, x)
			}
		}
		for _, x := range lf.WorldWritable {
			if removedIn(layers, li, x.Path) < 0 {
				f.WorldWritable = append(f.WorldWritable, x)
			}
		}
		for dir, n := range lf.CacheBytes {
			gone := false
			for j := li + 1; j < len(layers); j++ {
				if hidden(dir, layers[j].Whiteouts, false) || hidden(dir, layers[j].OpaqueDirs, false) || anyBelow(dir, layers[j].Whiteouts) {
					gone = true
					break
				}
			}
			if gone {
				continue
			}
			if f.CacheBytes == nil {
				f.CacheBytes = map[string]int64{}
			}
			f.CacheBytes[dir] += n
		}
	}
	return f
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

// anyBelow reports whether one of paths is inside dir (an upper layer's
// "rm -rf dir/*" whites out each entry, not the directory).
func anyBelow(dir string, paths []string) bool {
	for _, p := range paths {
		if strings.HasPrefix(p, dir+"/") {
			return true
		}
	}
	return false
}

// namelessNote is the warning for packages without a name that Merge left
// out of the inventory.
func namelessNote(k fileKey, layer string, n int) Note {
	what := "1 package"
	if n > 1 {
		what = fmt.Sprintf("%d packages", n)
	}
	return Note{Level: "warning", Path: k.path, Layer: layer, Extractor: k.extractor,
		Message: what + " without a name left out"}
}
