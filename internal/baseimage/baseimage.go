// Package baseimage tells which published or private base image an image
// was built on, and which of its layers are the base's (issue 18).
//
// The evidence, strongest first, and the one that decided is recorded:
//
//  1. the layer chain: the image's diff_ids start with every diff_id of an
//     indexed base (compared as OCI chain IDs; the longest base wins, so
//     python:slim is found over the debian:slim it is built on, and both are
//     reported as the hierarchy);
//  2. the OCI annotations org.opencontainers.image.base.name / .base.digest
//     (set by BuildKit and most builders) naming a base the index knows, or
//     at least naming one;
//  3. the history: the layers up to the last CMD/ENTRYPOINT step that comes
//     before the application's own layers (a guess: "unidentified" base).
//
// The diff_ids compared are the ones the scan verified while it read the
// layers (a layer whose content does not hash to its config's diff_id is a
// scan error since issue 13), so a forged config cannot borrow a popular
// base's identity: attribution runs on the scanned result only.
//
// The index is built from manifests and configs only (no layer is read):
// `drydock base add` for private bases, and tables of published bases.
package baseimage

import (
	"cmp"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
)

// Entry is one base image: its layers and the names it is published as.
type Entry struct {
	// Repository is the image's repository: "busybox",
	// "registry.example.com/team/base".
	Repository string `json:"repository"`
	// Tags are the tags it had when indexed, most specific first
	// ("1.37.0-musl" before "1.37-musl").
	Tags           []string  `json:"tags,omitempty"`
	ManifestDigest string    `json:"manifest_digest,omitempty"`
	ConfigDigest   string    `json:"config_digest,omitempty"`
	DiffIDs        []string  `json:"diff_ids"`
	Created        time.Time `json:"created,omitzero"`
	Platform       string    `json:"platform,omitempty"`
	// Source is a reference drydock can scan the base at (for upgrade
	// advice): a registry reference, oci:DIR… "" when unknown.
	Source string `json:"source,omitempty"`
	// Origin says where the entry came from ("drydock base add", a table).
	Origin string `json:"origin,omitempty"`
	// CreatedBy are the steps of the base's history (config history
	// created_by), to tell apart bases with the same layers but different
	// configs (a republished tag).
	CreatedBy []string `json:"created_by,omitempty"`
}

// Name is repository:most-specific-tag, or repository@digest.
func (e *Entry) Name() string {
	if len(e.Tags) > 0 {
		return e.Repository + ":" + e.Tags[0]
	}
	if e.ManifestDigest != "" {
		return e.Repository + "@" + e.ManifestDigest
	}
	return e.Repository
}

// Index is a set of base images.
type Index struct {
	Entries []Entry `json:"entries"`
}

// Load reads an index file; a missing file is an empty index.
func Load(path string) (*Index, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Index{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the base-image index: %w", err)
	}
	var ix Index
	if err := json.Unmarshal(raw, &ix); err != nil {
		return nil, fmt.Errorf("reading the base-image index %s: %w", path, err)
	}
	for i := range ix.Entries {
		if err := ix.Entries[i].check(); err != nil {
			return nil, fmt.Errorf("reading the base-image index %s: entry %d: %w", path, i, err)
		}
	}
	return &ix, nil
}

// Save writes the index atomically (a temporary file renamed over it).
func (ix *Index) Save(path string) error {
	raw, err := json.MarshalIndent(ix, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the base-image index: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("writing the base-image index: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".bases-*.json")
	if err != nil {
		return fmt.Errorf("writing the base-image index: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(raw, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the base-image index: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the base-image index: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the base-image index: %w", err)
	}
	return nil
}

func (e *Entry) check() error {
	if e.Repository == "" {
		return errors.New("no repository")
	}
	if len(e.DiffIDs) == 0 {
		return fmt.Errorf("%s: no layers", e.Repository)
	}
	for _, d := range e.DiffIDs {
		if !validDigest(d) {
			return fmt.Errorf("%s: %q is not a sha256 diff_id", e.Repository, d)
		}
	}
	return nil
}

func validDigest(d string) bool {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hexPart) != 64 {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

// Add adds or updates entries: an entry with the same repository and
// layers as one already indexed replaces it, its tags merged.
func (ix *Index) Add(es ...Entry) error {
	for _, e := range es {
		if err := e.check(); err != nil {
			return err
		}
		i := slices.IndexFunc(ix.Entries, func(o Entry) bool {
			return o.Repository == e.Repository && slices.Equal(o.DiffIDs, e.DiffIDs) &&
				(o.ManifestDigest == e.ManifestDigest || o.ManifestDigest == "" || e.ManifestDigest == "")
		})
		if i < 0 {
			ix.Entries = append(ix.Entries, e)
			continue
		}
		ix.Entries[i] = merge(ix.Entries[i], e)
	}
	return nil
}

// merge is old updated by e: e's fields where it has them, the tags of
// both, and old's where e has none (a table imported after "base add" keeps
// the Source that advice scans).
func merge(old, e Entry) Entry {
	out := old
	out.Tags = SortTags(dedupe(append(slices.Clone(e.Tags), old.Tags...)))
	for _, f := range []struct {
		dst *string
		v   string
	}{{&out.ManifestDigest, e.ManifestDigest}, {&out.ConfigDigest, e.ConfigDigest},
		{&out.Platform, e.Platform}, {&out.Source, e.Source}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if !e.Created.IsZero() {
		out.Created = e.Created
	}
	if len(e.CreatedBy) > 0 {
		out.CreatedBy = e.CreatedBy
	}
	if e.Origin != "" && !strings.Contains(out.Origin, e.Origin) {
		out.Origin = strings.TrimPrefix(out.Origin+"; "+e.Origin, "; ")
	}
	return out
}

func dedupe(s []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range s {
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// SortTags orders tags most specific first: more version parts first
// ("1.37.0-musl" before "1.37-musl" before "1-musl"), then longer, then
// alphabetically; floating names ("latest", "musl", "stable") last.
func SortTags(tags []string) []string {
	out := slices.Clone(tags)
	slices.SortStableFunc(out, func(a, b string) int {
		return cmp.Or(-cmp.Compare(specificity(a), specificity(b)), -cmp.Compare(len(a), len(b)), strings.Compare(a, b))
	})
	return out
}

// specificity counts the version parts of a tag's leading version
// ("1.37.0-musl": 3; "latest": 0).
func specificity(tag string) int {
	v, _, _ := strings.Cut(tag, "-")
	n := 0
	for _, part := range strings.Split(v, ".") {
		if part == "" || strings.Trim(part, "0123456789") != "" {
			return n
		}
		n++
	}
	return n
}

// ChainIDs returns the OCI chain IDs of a list of diff_ids: the chain ID
// of the first layer is its diff_id; of each next one,
// sha256(previous chain ID + " " + diff_id).
func ChainIDs(diffIDs []string) []string {
	out := make([]string, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		sum := sha256.Sum256([]byte(out[i-1] + " " + d))
		out[i] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return out
}

// Signals of an attribution: what decided it, strongest first.
const (
	// SignalProvenance: verified SLSA provenance (resolvedDependencies /
	// materials) names the base by digest, and its layers are the image's.
	SignalProvenance = "provenance"
	// SignalAnnotation: org.opencontainers.image.base.name/.digest. With a
	// digest the index knows and whose layers are the image's, it decides;
	// naming a base the index does not know, it is a claim.
	SignalAnnotation = "annotation"
	// SignalBuildInfo: BuildKit's build info in the config
	// (moby.buildkit.buildinfo.v1) pins the base's digest.
	SignalBuildInfo = "buildinfo"
	// SignalLayerChain: the image's layers start with the base's, verified.
	SignalLayerChain = "layer-chain"
	// SignalHistory: the last CMD/ENTRYPOINT before the image's own layers (a guess).
	SignalHistory = "history"
	// SignalNone: no base found: every layer counts as the image's own.
	SignalNone = "none"
)

// EmptyTarDiffID is the diff_id of an empty tar (1024 zero bytes). Some
// builders (classic Docker for metadata steps, some Kaniko and Buildah
// versions) write such a layer where others write none, so the same base
// is published with and without them; the second layer-chain variant
// compares the chains without these layers.
const EmptyTarDiffID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

// Evidence is what an image says about its base besides its layers. Each
// piece is only a claim until the index confirms it: a base it names is the
// attribution only when that base's layers are the image's first layers (the
// diff_ids the scan verified), so a forged claim never hides findings.
type Evidence struct {
	// Annotations are the manifest's (or the config's labels).
	Annotations map[string]string
	// Provenance are the resolved dependencies (materials) of VERIFIED
	// provenance, as result.Provenance.Materials holds them: a URI with a
	// sha256 digest ("pkg:docker/alpine@3.20?digest=sha256:…").
	Provenance []string
	// BuildInfo are the sources of BuildKit's build info (ParseBuildInfo).
	BuildInfo []BuildSource
}

// BuildSource is one source of BuildKit's build info.
type BuildSource struct {
	Type string `json:"type"` // docker-image, git, http
	Ref  string `json:"ref"`
	Pin  string `json:"pin"`
}

// BuildInfoField is the image-config key BuildKit 0.10 wrote its build
// info under (base64 JSON; read from moby/buildkit util/buildinfo, where the
// constant ImageConfigField has this value; BuildKit 0.11 moved it into the
// provenance attestation).
const BuildInfoField = "moby.buildkit.buildinfo.v1"

// ParseBuildInfo reads the docker-image sources of BuildKit's build info
// from a raw image config; none when the config has no build info.
func ParseBuildInfo(rawConfig []byte) ([]BuildSource, error) {
	var cfg map[string]json.RawMessage
	if err := json.Unmarshal(rawConfig, &cfg); err != nil {
		return nil, fmt.Errorf("reading the image config for build info: %w", err)
	}
	raw, ok := cfg[BuildInfoField]
	if !ok {
		return nil, nil
	}
	var b64 string
	if err := json.Unmarshal(raw, &b64); err != nil {
		return nil, fmt.Errorf("reading %s: not a string: %w", BuildInfoField, err)
	}
	dec, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", BuildInfoField, err)
	}
	var bi struct {
		Sources []BuildSource `json:"sources"`
	}
	if err := json.Unmarshal(dec, &bi); err != nil {
		return nil, fmt.Errorf("reading %s: %w", BuildInfoField, err)
	}
	var out []BuildSource
	for _, s := range bi.Sources {
		if s.Type == "docker-image" {
			out = append(out, s)
		}
	}
	return out, nil
}

// Attribution is what Detect found.
type Attribution struct {
	// Base is the base image found (nil when unidentified).
	Base *Entry `json:"base,omitempty"`
	// Name is the base's most specific name (repository:tag).
	Name string `json:"name,omitempty"`
	// Layers is how many of the image's first layers are the base's (0:
	// none known).
	Layers int    `json:"layers"`
	Signal string `json:"signal"`
	// Hierarchy lists every indexed base the image's layers start with,
	// from the innermost (debian:slim) to the base itself (python:slim).
	Hierarchy []string `json:"hierarchy,omitempty"`
	// Annotation is the base the image's annotations name, when they do.
	Annotation string `json:"annotation,omitempty"`
	// Note says what a person should know (a guess, a disagreement).
	Note string `json:"note,omitempty"`
}

// Result is the attribution as the scan result keeps it.
func (a Attribution) Result() *result.BaseImage {
	out := &result.BaseImage{Name: a.Name, Layers: a.Layers, Signal: a.Signal, Hierarchy: a.Hierarchy, Annotation: a.Annotation, Note: a.Note}
	if a.Base != nil {
		out.ManifestDigest = a.Base.ManifestDigest
	}
	return out
}

// Annotations of the OCI image spec naming the base image.
const (
	AnnotationBaseName   = "org.opencontainers.image.base.name"
	AnnotationBaseDigest = "org.opencontainers.image.base.digest"
)

// claim is a base named by one kind of evidence.
type claim struct {
	signal, what string // what: how the note names the evidence
	name, digest string
}

func (c claim) String() string {
	if c.digest == "" {
		return c.name
	}
	return strings.TrimSpace(c.name + "@" + c.digest)
}

// claims lists the bases the evidence names, strongest first.
func (ev Evidence) claims() []claim {
	var out []claim
	for _, m := range ev.Provenance {
		if d := findDigest(m); d != "" {
			out = append(out, claim{SignalProvenance, "the verified provenance", materialName(m), d})
		}
	}
	if n, d := ev.Annotations[AnnotationBaseName], ev.Annotations[AnnotationBaseDigest]; n != "" || d != "" {
		out = append(out, claim{SignalAnnotation, "the image's annotations", n, d})
	}
	for _, s := range ev.BuildInfo {
		if s.Pin != "" || s.Ref != "" {
			name, _, _ := strings.Cut(s.Ref, "@")
			out = append(out, claim{SignalBuildInfo, "the build info", name, s.Pin})
		}
	}
	return out
}

// findDigest returns the first "sha256:<64 hex>" in s.
func findDigest(s string) string {
	for i := strings.Index(s, "sha256:"); i >= 0; {
		if d := s[i:]; len(d) >= 71 && validDigest(d[:71]) {
			return d[:71]
		}
		j := strings.Index(s[i+1:], "sha256:")
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return ""
}

// materialName is the image name of a material URI: "pkg:docker/alpine@3.20?…"
// → "alpine:3.20"; "docker-image://docker.io/library/alpine:3.20@sha256:…" →
// "docker.io/library/alpine:3.20".
func materialName(m string) string {
	if rest, ok := strings.CutPrefix(m, "pkg:docker/"); ok {
		rest, _, _ = strings.Cut(rest, "?")
		rest, _, _ = strings.Cut(rest, "#")
		name, ver, _ := strings.Cut(rest, "@")
		if ver != "" && !strings.HasPrefix(ver, "sha256:") {
			return name + ":" + ver
		}
		return name
	}
	m = strings.TrimPrefix(m, "docker-image://")
	name, _, _ := strings.Cut(m, "@")
	return name
}

// chainMatch lists the entries of ix whose layers the image's start with,
// and for each how many of the image's layers are the base's. Plain chain
// IDs first; only when none matches, the chains without empty-tar layers
// (variant true).
func chainMatch(diffIDs []string, ix *Index) (found []*Entry, layers map[*Entry]int, variant bool) {
	layers = map[*Entry]int{}
	chain := ChainIDs(diffIDs)
	for i := range ix.Entries {
		e := &ix.Entries[i]
		n := len(e.DiffIDs)
		// A base is a strict prefix: an image that is exactly an indexed
		// base is that base, not built on it.
		if n >= len(chain) || n == 0 {
			continue
		}
		if ChainIDs(e.DiffIDs)[n-1] == chain[n-1] {
			found = append(found, e)
			layers[e] = n
		}
	}
	if len(found) > 0 {
		return found, layers, false
	}
	// The variant: drop the empty-tar layers on both sides; pos maps the
	// filtered image layers back to the image's.
	var kept []string
	var pos []int
	for i, d := range diffIDs {
		if d != EmptyTarDiffID {
			kept = append(kept, d)
			pos = append(pos, i)
		}
	}
	kchain := ChainIDs(kept)
	for i := range ix.Entries {
		e := &ix.Entries[i]
		var be []string
		for _, d := range e.DiffIDs {
			if d != EmptyTarDiffID {
				be = append(be, d)
			}
		}
		n := len(be)
		if n == 0 || n >= len(kchain) || len(be) == len(e.DiffIDs) && len(kept) == len(diffIDs) {
			continue // nothing to drop on either side: the plain comparison said no
		}
		if ChainIDs(be)[n-1] == kchain[n-1] {
			found = append(found, e)
			layers[e] = pos[n-1] + 1
		}
	}
	return found, layers, len(found) > 0
}

// Detect attributes img to a base of ix, from its verified layers and the
// evidence, strongest signal first (see the package doc and Signal*).
func Detect(img *inventory.Image, ev Evidence, ix *Index) Attribution {
	var diffIDs []string
	for _, l := range img.Layers {
		diffIDs = append(diffIDs, l.DiffID)
	}
	found, layers, variant := chainMatch(diffIDs, ix)
	claims := ev.claims()
	annotated := ""
	for _, c := range claims {
		if c.signal == SignalAnnotation {
			annotated = c.String()
		}
	}
	var notes []string
	if variant {
		notes = append(notes, "matched without the empty layers (a builder that writes empty-tar layers for metadata steps)")
	}
	if len(found) > 0 {
		// Innermost first; the base is the outermost (most layers). Among
		// bases with the same layers (one layer republished with another
		// config): the one a claim names by digest, the one whose history
		// the image's starts with, then one added with "drydock base add"
		// (it can be scanned), then the newest.
		steps := historySteps(img)
		slices.SortStableFunc(found, func(a, b *Entry) int {
			return cmp.Or(cmp.Compare(layers[a], layers[b]),
				cmp.Compare(boolInt(historyPrefix(a.CreatedBy, steps)), boolInt(historyPrefix(b.CreatedBy, steps))),
				cmp.Compare(boolInt(a.Source != ""), boolInt(b.Source != "")),
				a.Created.Compare(b.Created))
		})
		base, signal := found[len(found)-1], SignalLayerChain
		// A claim decides when it names, by digest, an entry among the
		// matched ones with the most layers (a claim naming an inner base
		// of the hierarchy, or another base, does not).
		outer := layers[base]
		for _, c := range claims {
			if i := slices.IndexFunc(found, func(e *Entry) bool {
				return c.digest != "" && e.ManifestDigest == c.digest && layers[e] == outer
			}); i >= 0 {
				base, signal = found[i], c.signal
				break
			}
		}
		for _, c := range claims {
			if c.digest != "" && c.digest != base.ManifestDigest && !slices.ContainsFunc(found, func(e *Entry) bool { return e.ManifestDigest == c.digest }) {
				notes = append(notes, fmt.Sprintf("%s name %s, but its layers are %s's", c.what, c, base.Name()))
			}
		}
		at := Attribution{Base: base, Name: base.Name(), Layers: layers[base], Signal: signal, Annotation: annotated}
		for _, e := range found {
			if name := e.Name(); !slices.Contains(at.Hierarchy, name) {
				at.Hierarchy = append(at.Hierarchy, name)
			}
		}
		at.Note = strings.Join(notes, "; ")
		return at
	}
	for _, c := range claims {
		if c.name == "" && c.digest == "" {
			continue
		}
		// A claim naming an indexed base whose layers are not the image's:
		// flagged, never trusted (the image's layers count as its own).
		if e := ix.byDigest(c.digest); e != nil {
			notes = append(notes, fmt.Sprintf("%s name %s (%s), but the image's layers do not start with its layers: the claim is not trusted", c.what, c, e.Name()))
			continue
		}
		at := Attribution{Name: c.String(), Signal: c.signal, Annotation: annotated}
		notes = append(notes, fmt.Sprintf("the base named by %s is not in the base-image index: its layers are not known", c.what))
		if n := historyBase(img); n > 0 {
			at.Layers = n
			notes = append(notes, fmt.Sprintf("the history puts the base at the first %d layer(s)", n))
		}
		at.Note = strings.Join(notes, "; ")
		return at
	}
	if n := historyBase(img); n > 0 {
		notes = append(notes, fmt.Sprintf("unidentified base: by the image's history, its first %d layer(s) precede the last CMD/ENTRYPOINT of a base", n))
		return Attribution{Layers: n, Signal: SignalHistory, Annotation: annotated, Note: strings.Join(notes, "; ")}
	}
	notes = append(notes, "no base image found (a squashed or single-stage image): every layer counts as the image's own")
	return Attribution{Signal: SignalNone, Annotation: annotated, Note: strings.Join(notes, "; ")}
}

// byDigest is the entry with manifest digest d, nil if none (or d is "").
func (ix *Index) byDigest(d string) *Entry {
	if d == "" {
		return nil
	}
	for i := range ix.Entries {
		if ix.Entries[i].ManifestDigest == d {
			return &ix.Entries[i]
		}
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// historySteps are the created_by of an image's history.
func historySteps(img *inventory.Image) []string {
	out := make([]string, len(img.History))
	for i, h := range img.History {
		out[i] = h.CreatedBy
	}
	return out
}

// historyPrefix reports whether steps start with base (a known, non-empty
// history).
func historyPrefix(base, steps []string) bool {
	return len(base) > 0 && len(base) <= len(steps) && slices.Equal(base, steps[:len(base)])
}

// historyBase guesses the base's layer count from the history: a base ends
// with its CMD or ENTRYPOINT (an empty-layer step); the layers made before
// the last such step that is followed by layer-making steps are the base's.
// 0 when the history says nothing.
func historyBase(img *inventory.Image) int {
	lastCmd, layersBefore, layers := -1, 0, 0
	for i, h := range img.History {
		if !h.EmptyLayer {
			layers++
			continue
		}
		step := strings.ToUpper(h.CreatedBy)
		if strings.Contains(step, "CMD [") || strings.Contains(step, "CMD ") && strings.Contains(step, "#(NOP)") ||
			strings.Contains(step, "ENTRYPOINT") {
			lastCmd, layersBefore = i, layers
		}
	}
	if lastCmd < 0 || layersBefore == 0 || layersBefore >= layers {
		return 0
	}
	return layersBefore
}

// Record is one row of a table of published bases (diff_id, manifest,
// tags), as the docker-library histories are tabulated.
type Record struct {
	DiffID         string    `json:"diff_id"`
	DiffIDs        []string  `json:"diff_ids"`
	ManifestDigest string    `json:"manifest_digest"`
	ConfigDigest   string    `json:"config_digest"`
	Created        time.Time `json:"config_created"`
	Tags           []string  `json:"tags_when_first_seen"`
	CreatedBy      string    `json:"created_by"`
}

// ImportTable reads a table of published base images — a JSON object with
// "records", each a (diff_id or diff_ids, manifest_digest, config_digest,
// config_created, tags_when_first_seen) — into entries. Tags are
// "repository:tag"; an entry is made per record.
func ImportTable(r io.Reader, origin string) ([]Entry, error) {
	var doc struct {
		Records []Record `json:"records"`
	}
	dec := json.NewDecoder(io.LimitReader(r, 64<<20))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading the base-image table %s: %w", origin, err)
	}
	var out []Entry
	for i, rec := range doc.Records {
		ids := rec.DiffIDs
		if len(ids) == 0 && rec.DiffID != "" {
			ids = []string{rec.DiffID}
		}
		e := Entry{DiffIDs: ids, ManifestDigest: rec.ManifestDigest, ConfigDigest: rec.ConfigDigest, Created: rec.Created, Origin: origin}
		if rec.CreatedBy != "" {
			e.CreatedBy = []string{rec.CreatedBy}
		}
		for _, t := range rec.Tags {
			repo, tag, ok := strings.Cut(t, ":")
			if !ok {
				return nil, fmt.Errorf("reading the base-image table %s: record %d: tag %q has no repository", origin, i, t)
			}
			if e.Repository == "" {
				e.Repository = repo
			}
			if repo == e.Repository {
				e.Tags = append(e.Tags, tag)
			}
		}
		e.Tags = SortTags(dedupe(e.Tags))
		if err := e.check(); err != nil {
			return nil, fmt.Errorf("reading the base-image table %s: record %d: %w", origin, i, err)
		}
		out = append(out, e)
	}
	return out, nil
}

// Bumps of a candidate base, from the version in its tag.
const (
	BumpPatch = "patch"
	BumpMinor = "minor"
	BumpMajor = "major"
	// BumpOther is a base of another repository or tag family (another
	// distribution, another variant), listed only when asked for.
	BumpOther = "other"
)

// Candidate is a newer base of the same family than the image's, or (with
// BumpOther) a base of another family.
type Candidate struct {
	Entry *Entry
	Tag   string // the candidate's most specific tag
	Bump  string
}

// tagVersion splits a tag into its leading dotted version and the rest
// (its family): "1.37.0-musl" → [1 37 0], "-musl". ok is false for tags
// without a version ("latest", "musl").
func tagVersion(tag string) (v []int, family string, ok bool) {
	i := 0
	for i < len(tag) && (tag[i] >= '0' && tag[i] <= '9' || tag[i] == '.') {
		i++
	}
	ver := strings.TrimSuffix(tag[:i], ".")
	if ver == "" {
		return nil, "", false
	}
	for _, p := range strings.Split(ver, ".") {
		n := 0
		for _, c := range p {
			n = n*10 + int(c-'0')
		}
		v = append(v, n)
	}
	return v, tag[len(ver):], true
}

// Candidates lists the newer versions of base in ix: same repository, same
// family (the tag's suffix: "-musl"), a higher version in the most
// specific tag; one per version (preferring an entry drydock can scan,
// then the newest), nearest first within each bump (patch, minor, major).
func Candidates(ix *Index, base *Entry) []Candidate {
	if base == nil || len(base.Tags) == 0 {
		return nil
	}
	bv, family, ok := tagVersion(base.Tags[0])
	if !ok {
		return nil
	}
	best := map[string]Candidate{}
	for i := range ix.Entries {
		e := &ix.Entries[i]
		if e.Repository != base.Repository || len(e.Tags) == 0 {
			continue
		}
		v, fam, ok := tagVersion(e.Tags[0])
		if !ok || fam != family || len(v) != len(bv) || slices.Compare(v, bv) <= 0 {
			continue
		}
		bump := BumpPatch
		switch {
		case v[0] != bv[0]:
			bump = BumpMajor
		case len(v) > 1 && v[1] != bv[1]:
			bump = BumpMinor
		}
		c := Candidate{Entry: e, Tag: e.Tags[0], Bump: bump}
		old, seen := best[c.Tag]
		if !seen || (e.Source != "") && old.Entry.Source == "" ||
			(e.Source != "") == (old.Entry.Source != "") && e.Created.After(old.Entry.Created) {
			best[c.Tag] = c
		}
	}
	var out []Candidate
	for _, c := range best {
		out = append(out, c)
	}
	rank := map[string]int{BumpPatch: 0, BumpMinor: 1, BumpMajor: 2}
	slices.SortFunc(out, func(a, b Candidate) int {
		av, _, _ := tagVersion(a.Tag)
		bv, _, _ := tagVersion(b.Tag)
		return cmp.Or(cmp.Compare(rank[a.Bump], rank[b.Bump]), slices.Compare(av, bv))
	})
	return out
}

// OtherCandidates lists the indexed bases outside base's family, for advice
// that looks beyond it: one per repository and tag family (the most
// specific tag's suffix), the highest version there among the entries
// drydock can scan (with a Source; for the same version, the base's
// platform first, then the newest, then the lowest manifest digest). It
// never lists base itself or an entry with its manifest or layers, an entry
// of base's family (same repository and suffix; the whole repository when
// base's tag has no version), nor a base on base's layer chain (an ancestor
// or a base built on it: the image's hierarchy, not another distribution).
// Entries whose tags have no version ("latest") are not listed: there is no
// newest to choose. The order is by name; the caller ranks them by what
// drydock's scans of them leave. nil when base is nil.
func OtherCandidates(ix *Index, base *Entry) []Candidate {
	if ix == nil || base == nil {
		return nil
	}
	family, versioned := "", false
	if len(base.Tags) > 0 {
		_, family, versioned = tagVersion(base.Tags[0])
	}
	type pick struct {
		c Candidate
		v []int
	}
	best := map[string]pick{} // repository + "\x00" + family → its best entry
	for i := range ix.Entries {
		e := &ix.Entries[i]
		if e.Source == "" || len(e.Tags) == 0 || e == base || sameImage(e, base) || related(e, base) {
			continue
		}
		v, fam, ok := tagVersion(e.Tags[0])
		if !ok || e.Repository == base.Repository && (!versioned || fam == family) {
			continue
		}
		key := e.Repository + "\x00" + fam
		old, seen := best[key]
		if !seen || newerOther(e, v, old.c.Entry, old.v, base.Platform) {
			best[key] = pick{Candidate{Entry: e, Tag: e.Tags[0], Bump: BumpOther}, v}
		}
	}
	out := make([]Candidate, 0, len(best))
	for _, p := range best {
		out = append(out, p.c)
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		return cmp.Or(strings.Compare(a.Entry.Repository, b.Entry.Repository), strings.Compare(a.Tag, b.Tag))
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

// newerOther reports whether e (version v) is a better pick than old (ov)
// for its family: a higher version; for the same version, the platform of
// the image's base, then the newest, then the lowest manifest digest (so
// that the index's order does not matter).
func newerOther(e *Entry, v []int, old *Entry, ov []int, platform string) bool {
	if c := slices.Compare(v, ov); c != 0 {
		return c > 0
	}
	if ep, op := e.Platform == platform, old.Platform == platform; ep != op {
		return ep
	}
	if !e.Created.Equal(old.Created) {
		return e.Created.After(old.Created)
	}
	return e.ManifestDigest < old.ManifestDigest
}

// sameImage reports whether a and b have the same manifest.
func sameImage(a, b *Entry) bool {
	return a.ManifestDigest != "" && a.ManifestDigest == b.ManifestDigest
}

// related reports whether a and b have the same layers or one is built on
// the other: the layers of one start with all the layers of the other.
func related(a, b *Entry) bool {
	if len(a.DiffIDs) == 0 || len(b.DiffIDs) == 0 {
		return false
	}
	short, long := a.DiffIDs, b.DiffIDs
	if len(short) > len(long) {
		short, long = long, short
	}
	return slices.Equal(short, long[:len(short)])
}

// FromLine is the Dockerfile line that pins a candidate by digest.
func (c Candidate) FromLine() string {
	line := "FROM " + c.Entry.Repository + ":" + c.Tag
	if c.Entry.ManifestDigest != "" {
		line += "@" + c.Entry.ManifestDigest
	}
	return line
}
