// Package scan wires the stages that look at an image together:
//
//	source → walk (per layer, concurrent) → extract → inventory.Merge → match → enrich
//
// and returns a result.Result; policy and the report come after it, in the
// caller.
//
// It owns concurrency and the per-layer cache. It has no global state: a
// server can run many scans in one process.
package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/drydock-scan/drydock/internal/baseimage"
	"github.com/drydock-scan/drydock/internal/enrich"
	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/osrelease"
	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/malware"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/source"
	"github.com/drydock-scan/drydock/internal/vulndb"
	"github.com/drydock-scan/drydock/internal/walk"
)

// LayerCache stores per-layer results. Implementations must be safe for
// concurrent use by several goroutines and processes.
type LayerCache interface {
	Get(ctx context.Context, key string) (*inventory.LayerResult, bool)
	Put(ctx context.Context, key string, r *inventory.LayerResult) error
}

// LayerClaimer is implemented by a LayerCache shared by several scans (in
// this process or others) that can make one of them analyse a layer while
// the others wait: a scan claims a layer's key before it looks the key up,
// and releases it once the layer is stored (or the walk failed). A scan that
// waited then finds the layer in the cache, so a layer shared by images
// scanned at the same moment is read once. Claim blocks until the key is
// free or ctx is done (then it returns ctx's error); release never blocks
// for long and may be called once.
type LayerClaimer interface {
	Claim(ctx context.Context, key string) (release func(), err error)
}

// Config is everything one scan needs. The zero value of optional fields
// means "default".
type Config struct {
	Reference  string
	Source     source.Options
	Extractors []extract.Extractor // nil: DefaultExtractors()
	Parallel   int                 // layers walked at once; 0: number of CPUs
	TempDir    string
	Logger     *slog.Logger
	Cache      LayerCache    // nil: no cache
	DB         vulndb.Reader // nil: inventory only
	Match      match.Options

	// Secrets, if set, scans every text file of every layer (in the same
	// pass) and the image config for secrets.
	Secrets *secret.Scanner
	// Misconfig, if set, runs the image configuration checks on the image
	// and the merged inventory (its filesystem facts).
	Misconfig func(inventory.Image, *inventory.Inventory) []finding.Misconfig

	// Malware, if set, checks every layer's files for known-bad content in
	// the same pass (hash lists, EICAR, an optional engine). Malicious
	// packages are matched with Match.Malicious.
	Malware *malware.Scanner

	// Skip, if set, names the files and directories no layer walk reads
	// (--skip-dirs, --skip-files; see walk.Skipper). The result has a note
	// per pattern saying how many files it skipped.
	Skip *walk.Skipper

	// Budget bounds the temp space and the archive inflation of the whole
	// scan (zero fields: the defaults of extract.BudgetLimits).
	Budget extract.BudgetLimits

	// BaseImages, if set, is the base-image index the image is attributed
	// against (result.BaseImage; the base-image enricher then marks the
	// findings of the base's layers).
	BaseImages *baseimage.Index
	// SupplyChain is the verify stage's result for the image (nil when
	// verification did not run): kept in the result, and its verified
	// provenance is base-image evidence.
	SupplyChain *result.SupplyChain
	// Verify, if set, is the verify stage: Run calls it on the opened image
	// (the digest the reference resolved to, before any layer is read) and
	// keeps its answer as SupplyChain, so the scan is of exactly the digest
	// that was verified and base-image attribution sees the verified
	// provenance.
	Verify func(ctx context.Context, img *source.Image) (*result.SupplyChain, error)
	// Enrichers run, in order, after matching (only when DB is set); nil:
	// DefaultEnrichers(DB). An empty, non-nil list runs none.
	Enrichers []enrich.Enricher

	// Progress, if set, is called (from several goroutines, serialised by
	// the caller's own locking) as layers are read: bytes so far for one
	// layer, and done=true when the layer is finished.
	Progress func(ev Progress)
}

// Progress is one progress event.
type Progress struct {
	Layer  int   // layer index
	Layers int   // number of layers
	Bytes  int64 // bytes of the layer blob read so far
	Size   int64 // blob size if known, else 0
	Done   bool
	Cached bool
}

func (c *Config) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (c *Config) extractors() []extract.Extractor {
	if c.Extractors != nil {
		return c.Extractors
	}
	return DefaultExtractors()
}

// extractorsWithSecrets is the list every layer is walked with: the
// extractors, and the secret scanner when it is on.
func (c *Config) extractorsWithSecrets() []extract.Extractor {
	exts := c.extractors()
	if c.Secrets != nil {
		exts = append(slices.Clone(exts), c.Secrets)
	}
	return exts
}

// DefaultEnrichers is the enrichment stage's list, in order.
func DefaultEnrichers(db vulndb.Reader) []enrich.Enricher {
	return []enrich.Enricher{enrich.KEV{DB: db}, enrich.BaseImage{}, enrich.GoReachability{}}
}

// Run opens the image and scans it (see RunImage).
func Run(ctx context.Context, cfg Config) (*result.Result, error) {
	opt := cfg.Source
	if opt.TempDir == "" {
		opt.TempDir = cfg.TempDir
	}
	img, err := source.Open(ctx, cfg.Reference, opt)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	if cfg.Verify != nil {
		if cfg.SupplyChain, err = cfg.Verify(ctx, img); err != nil {
			return nil, err
		}
	}
	return RunImage(ctx, img, cfg)
}

// RunImage scans an already opened image: the inventory (with secrets and
// misconfigurations when configured), then matching and enrichment if a
// database is set. The result is a plain value; the caller applies the policy
// and builds the report from both.
func RunImage(ctx context.Context, img *source.Image, cfg Config) (*result.Result, error) {
	res := &result.Result{Image: ImageFacts(img), Scanners: []string{"sbom"}}
	inv, err := Inventory(ctx, img, cfg)
	if err != nil {
		return nil, err
	}
	res.Distro, res.Packages, res.Notes = inv.Distro, inv.Packages, inv.Notes
	// What the source stage says (an image found by falling back to
	// another image source) comes first.
	res.Notes = append(slices.Clone(img.Notes), res.Notes...)
	res.GoBinaries = inv.GoBinaries
	res.Versions.Extractors = cfg.layerKey(cfg.extractorsWithSecrets())
	if cfg.Malware != nil {
		res.Malware = malware.Findings(inv.Malware)
		match.SortMalware(res.Malware)
		res.Notes = append(res.Notes, cfg.Malware.Notes()...)
		res.AddScanner("malware")
	}
	if cfg.Secrets != nil {
		res.Secrets = append(cfg.Secrets.Findings(inv.Secrets), cfg.Secrets.ScanImage(res.Image)...)
		res.AddScanner("secret")
	}
	// The checks see the raw config (they redact their own evidence); the
	// result keeps only the redacted one.
	if cfg.Misconfig != nil {
		res.Misconfigs = cfg.Misconfig(res.Image, &inv)
		res.AddScanner("misconfig")
	}
	redactImage(res, cfg.Secrets)
	if cfg.BaseImages != nil {
		// On the layers just read: their diff_ids are verified (a layer
		// that does not hash to its config's diff_id failed the scan).
		var ev baseimage.Evidence
		if img.Manifest != nil {
			ev.Annotations = img.Manifest.Annotations
		}
		if img.V1 != nil {
			if raw, err := img.V1.RawConfigFile(); err == nil {
				bi, err := baseimage.ParseBuildInfo(raw)
				if err != nil {
					res.Notes = append(res.Notes, inventory.Note{Level: "info", Message: "base-image attribution ignored the build info: " + err.Error()})
				}
				ev.BuildInfo = bi
			}
		}
		if sc := cfg.SupplyChain; sc != nil {
			for _, p := range sc.Provenance {
				if p.Verified {
					ev.Provenance = append(ev.Provenance, p.Materials...)
				}
			}
		}
		res.BaseImage = baseimage.Detect(&res.Image, ev, cfg.BaseImages).Result()
	}
	res.SupplyChain = cfg.SupplyChain
	if cfg.DB != nil {
		if err := MatchAndEnrich(ctx, res, cfg.DB, cfg.Match, cfg.Enrichers); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// MatchAndEnrich matches the result's packages (Match), then runs the
// enrichers in order (nil: DefaultEnrichers). Image scans and SBOM re-scans
// both come through here.
func MatchAndEnrich(ctx context.Context, res *result.Result, db vulndb.Reader, opt match.Options, enrichers []enrich.Enricher) error {
	if err := Match(ctx, res, db, opt); err != nil {
		return err
	}
	if enrichers == nil {
		enrichers = DefaultEnrichers(db)
	}
	if err := enrich.Run(ctx, res, enrichers); err != nil {
		return fmt.Errorf("enriching findings: %w", err)
	}
	return nil
}

// Match matches the result's packages against db and stores the findings,
// the malicious packages (with opt.Malicious: they replace those of an
// earlier match; known-bad files are kept), the notes matching made and
// the database it used. It serves image scans and SBOM re-scans alike.
func Match(ctx context.Context, res *result.Result, db vulndb.Reader, opt match.Options) error {
	m := match.Matcher{DB: db, Opt: opt}
	inv := res.Inventory()
	out, err := m.Match(ctx, &inv)
	if err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	res.Findings = out.Findings
	if res.Findings == nil {
		res.Findings = []finding.Finding{}
	}
	if opt.Malicious {
		res.Malware = append(slices.DeleteFunc(res.Malware, func(m finding.Malware) bool { return m.Package != nil }), out.Malware...)
		match.SortMalware(res.Malware)
		res.AddScanner("malware")
	}
	res.Notes = append(res.Notes, out.Notes...)
	if res.Coverage, err = match.Coverage(ctx, db, &inv, opt); err != nil {
		return fmt.Errorf("matching: %w", err)
	}
	meta, err := db.Meta(ctx)
	if err != nil {
		return fmt.Errorf("reading database metadata: %w", err)
	}
	d := &result.Database{BuiltAt: meta.BuiltAt}
	for _, s := range meta.Sources {
		d.Sources = append(d.Sources, s.Name)
	}
	res.Database = d
	res.Versions.Matcher = match.Version
	if !opt.NoVulns {
		res.AddScanner("vuln")
	}
	return nil
}

// Inventory walks every layer once (concurrently), runs the extractors on
// the files they want and merges the per-layer results.
func Inventory(ctx context.Context, img *source.Image, cfg Config) (inventory.Inventory, error) {
	results, err := Layers(ctx, img, cfg.extractorsWithSecrets(), cfg)
	if err != nil {
		return inventory.Inventory{}, err
	}
	inv := inventory.Merge(results, inventory.MergeOptions{ResolveDistro: osrelease.Resolve})
	inv.Notes = append(inv.Notes, skipNotes(cfg.Skip, results)...)
	if inv.Distro == nil && !hasOSPackages(inv) {
		inv.Notes = append(inv.Notes, inventory.Note{Level: "info",
			Message: "no OS package database found (no os-release and no apk, dpkg or rpm database): only language packages are reported"})
	}
	inventory.Finalize(&inv)
	return inv, nil
}

func hasOSPackages(inv inventory.Inventory) bool {
	for i := range inv.Packages {
		if inventory.IsOS(inv.Packages[i].Ecosystem) {
			return true
		}
	}
	return false
}

// Layers returns the per-layer results, from the cache where possible.
func Layers(ctx context.Context, img *source.Image, exts []extract.Extractor, cfg Config) ([]inventory.LayerResult, error) {
	log := cfg.logger()
	par := cfg.Parallel
	if par <= 0 {
		par = runtime.NumCPU()
	}
	key := cfg.layerKey(exts)
	limits := cfg.Budget
	if limits.TempDir == "" {
		limits.TempDir = cfg.TempDir
	}
	budget := extract.NewBudget(limits) // shared by every layer of the scan
	results := make([]inventory.LayerResult, len(img.Layers))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(par)
	for i, l := range img.Layers {
		g.Go(func() error {
			ck := ""
			if cfg.Cache != nil && l.DiffID != "" {
				ck = l.DiffID + "|" + key
				release, err := claim(gctx, cfg.Cache, ck, log)
				if err != nil {
					return fmt.Errorf("layer %s: %w", layerName(l), err)
				}
				defer release()
				if r, ok := cfg.Cache.Get(gctx, ck); ok {
					r.Layer = l.Layer
					results[i] = *r
					if cfg.Progress != nil {
						cfg.Progress(Progress{Layer: l.Index, Layers: len(img.Layers), Size: l.Size, Bytes: l.Size, Done: true, Cached: true})
					}
					log.Debug("layer cache hit", "layer", l.Index, "diff_id", l.DiffID)
					return nil
				}
			}
			start := time.Now()
			r, cut, err := walkLayer(gctx, l, len(img.Layers), exts, cfg, budget)
			if err != nil {
				return err
			}
			log.Debug("layer walked", "layer", l.Index, "diff_id", l.DiffID, "files", len(r.Files), "took", time.Since(start))
			results[i] = *r
			// A layer the scan-wide budget cut depends on what the other
			// layers used: it is not the layer's result, and is not cached.
			if ck != "" && !cut {
				if err := cfg.Cache.Put(gctx, ck, r); err != nil {
					log.Warn("could not store layer in cache", "layer", l.DiffID, "err", err)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

// claim claims key when the cache is a LayerClaimer (see there). A claim
// that fails for another reason than ctx (the database went away) is
// logged and the layer is analysed unclaimed: at worst twice, never lost.
func claim(ctx context.Context, c LayerCache, key string, log *slog.Logger) (func(), error) {
	cl, ok := c.(LayerClaimer)
	if !ok {
		return func() {}, nil
	}
	release, err := cl.Claim(ctx, key)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for another scan analysing it: %w", ctx.Err())
		}
		log.Warn("could not claim layer; analysing it unclaimed", "key", key, "err", err)
		return func() {}, nil
	}
	return release, nil
}

// PipelineVersion is bumped when what a layer walk records changes for the
// same extractors (it is part of every per-layer cache key).
//
//	2: layers are verified against their diff_id before they are cached;
//	   entries written before that are not trusted.
//	3: path hashes are taken of a path's valid UTF-8 form
//	   (inventory.PathHash), as Merge compares paths.
const PipelineVersion = 3

// layerLinkCache bounds the captured content kept per layer for later
// hardlinks to the same file (rare in images; the walker's default of 64 MiB
// per layer weighs on memory once secret scanning captures most text files).
const layerLinkCache = 8 << 20

// layerKey names what a layer walk records: the extractors (ExtractorKey)
// and, when they are set, the malware check with its hash lists and engine
// and the skip patterns (a layer walked with skips lacks what they hid: it
// must never be served to a scan without them, nor the other way round).
func (c *Config) layerKey(exts []extract.Extractor) string {
	k := ExtractorKey(exts)
	if c.Malware != nil {
		k += "," + c.Malware.Key()
	}
	if sk := c.Skip.Key(); sk != "" {
		k += "," + sk
	}
	return k
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// skipNotes says, for each skip pattern, how many files it kept from
// every reader, over all layers: never silent, since a skipped file
// holding a vulnerable package would otherwise look clean. The notes are
// the scan's own (no extractor): the user asked for the skip, so it is not
// a coverage gap.
func skipNotes(s *walk.Skipper, layers []inventory.LayerResult) []inventory.Note {
	var notes []inventory.Note
	for _, r := range s.Rules() {
		files, inLayers, first := 0, 0, ""
		for _, l := range layers {
			for _, c := range l.SkippedBy {
				if c.Flag == r.Flag && c.Pattern == r.Pattern {
					if files == 0 {
						first = c.First
					}
					files += c.Files
					inLayers++
				}
			}
		}
		if files == 0 {
			notes = append(notes, inventory.Note{Level: "info",
				Message: fmt.Sprintf("--%s %q matched no file in the image", r.Flag, r.Pattern)})
			continue
		}
		notes = append(notes, inventory.Note{Level: "warning", Path: first,
			Message: fmt.Sprintf("--%s %q: %s in %s not read (not scanned for packages, secrets or malware)",
				r.Flag, r.Pattern, plural(files, "file"), plural(inLayers, "layer"))})
	}
	return notes
}

// ExtractorKey identifies a set of extractors and their versions; it is part
// of every per-layer cache key.
func ExtractorKey(exts []extract.Extractor) string {
	parts := make([]string, len(exts), len(exts)+1)
	for i, e := range exts {
		parts[i] = fmt.Sprintf("%s@%d", e.Name(), e.Version())
	}
	// What the walk records besides extractor output (whiteouts, facts,
	// path hashes) is versioned too.
	parts = append(parts, fmt.Sprintf("pipeline@%d", PipelineVersion))
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// progressReader reports bytes read, at most every 4 MiB.
type progressReader struct {
	r       io.Reader
	n, last int64
	fn      func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	if p.n-p.last >= 4<<20 {
		p.last = p.n
		p.fn(p.n)
	}
	return n, err
}

// layerWanter asks every extractor about each file, and records, from the
// tar header alone, the facts configuration checks need.
type layerWanter struct {
	exts   []extract.Extractor
	index  int
	facts  inventory.Facts
	hashes []uint64
}

// cacheDirs are package-manager caches worth reporting when left in an image.
var cacheDirs = [...]string{"/var/lib/apt/lists", "/var/cache/apt", "/var/cache/apk", "/var/cache/yum", "/var/cache/dnf", "/root/.cache/pip", "/root/.npm"}

func (w *layerWanter) Wants(path string, mode fs.FileMode, size int64) bool {
	w.hashes = append(w.hashes, inventory.PathHash(path))
	if mode&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
		w.facts.Setuid = append(w.facts.Setuid, inventory.FileFact{Path: path, Mode: uint32(mode), LayerIndex: w.index})
	}
	if mode.Perm()&0o002 != 0 && mode&fs.ModeSticky == 0 && !strings.HasPrefix(path, "/tmp/") && !strings.HasPrefix(path, "/var/tmp/") {
		w.facts.WorldWritable = append(w.facts.WorldWritable, inventory.FileFact{Path: path, Mode: uint32(mode), LayerIndex: w.index})
	}
	for _, d := range cacheDirs {
		if strings.HasPrefix(path, d+"/") {
			if w.facts.CacheBytes == nil {
				w.facts.CacheBytes = map[string]int64{}
			}
			w.facts.CacheBytes[d] += size
		}
	}
	for _, e := range w.exts {
		if e.Wants(path, mode, size) {
			return true
		}
	}
	return false
}

func layerName(l *source.Layer) string {
	if l.DiffID != "" {
		return fmt.Sprintf("%d (%s)", l.Index, l.DiffID)
	}
	return fmt.Sprint(l.Index)
}

// walkLayer reads one layer and runs the extractors on the files they want.
// cut reports that an extractor stopped on the scan-wide budget.
func walkLayer(ctx context.Context, l *source.Layer, total int, exts []extract.Extractor, cfg Config, budget *extract.Budget) (res *inventory.LayerResult, cut bool, err error) {
	rc, err := l.Open(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("opening layer %s: %w", layerName(l), err)
	}
	defer rc.Close()
	var r io.Reader = rc
	if cfg.Progress != nil {
		pr := &progressReader{r: rc, fn: func(n int64) {
			cfg.Progress(Progress{Layer: l.Index, Layers: total, Bytes: n, Size: l.Size})
		}}
		r = pr
		defer func() {
			cfg.Progress(Progress{Layer: l.Index, Layers: total, Bytes: pr.n, Size: l.Size, Done: true})
		}()
	}
	res = &inventory.LayerResult{Layer: l.Layer}
	fn := func(ctx context.Context, path string, mode fs.FileMode, f extract.File) error {
		in := &extract.Input{Path: path, Mode: mode, File: f, Layer: l.Layer, Budget: budget}
		for _, e := range exts {
			if !e.Wants(path, mode, f.Size()) {
				continue
			}
			inv, err := e.Extract(ctx, in)
			if errors.Is(err, extract.ErrNotApplicable) {
				continue
			}
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				cut = cut || errors.Is(err, extract.ErrBudget)
				inv.Notes = append(inv.Notes, inventory.Note{Level: "warning", Path: path, Layer: l.DiffID,
					Message: fmt.Sprintf("%s: %v", e.Name(), err)})
			}
			if len(inv.Packages) == 0 && inv.Distro == nil && len(inv.Notes) == 0 && len(inv.Hits) == 0 && len(inv.GoBinaries) == 0 {
				continue
			}
			res.Files = append(res.Files, inventory.FileResult{
				Path: path, Extractor: e.Name(), Packages: inv.Packages, Distro: inv.Distro, Notes: inv.Notes, Hits: inv.Hits,
				GoBinaries: inv.GoBinaries,
			})
		}
		return nil
	}
	lw := &layerWanter{exts: exts, index: l.Index}
	wopt := walk.Options{TempDir: cfg.TempDir, LinkCache: layerLinkCache, DiffID: l.DiffID, Budget: budget, Skip: cfg.Skip}
	var mal *malware.LayerScan
	if cfg.Malware != nil {
		mal = cfg.Malware.Layer(ctx, l.Layer)
		wopt.Tap = mal
	}
	// The uncompressed content is verified against the config's diff_id while
	// it streams: a layer that is not the one the config names is a scan
	// error, and only verified layers reach the cache (keyed by diff_id).
	wr, err := walk.Layer(ctx, r, lw, fn, wopt)
	if err != nil {
		if mal != nil {
			mal.Finish() // waits for the engine's sessions of the layer
		}
		return nil, false, fmt.Errorf("reading layer %s: %w", layerName(l), err)
	}
	if mal != nil {
		files, notes, complete, err := mal.Finish()
		if err != nil {
			return nil, false, fmt.Errorf("checking layer %s for malware: %w", layerName(l), err)
		}
		res.Files = append(res.Files, files...)
		res.Notes = append(res.Notes, notes...)
		// A layer the engine could not scan whole is not the layer's
		// result: it is not cached.
		cut = cut || !complete
	}
	res.Whiteouts = wr.Whiteouts
	res.OpaqueDirs = wr.OpaqueDirs
	res.Facts = lw.facts
	slices.Sort(lw.hashes)
	res.PathHashes = slices.Compact(lw.hashes)
	for _, c := range wr.SkippedBy {
		res.SkippedBy = append(res.SkippedBy, inventory.SkipCount(c))
	}
	for _, s := range wr.Skipped {
		res.Notes = append(res.Notes, inventory.Note{Level: "warning", Path: s.Path, Layer: l.DiffID, Message: "not read: " + s.Reason})
	}
	return res, cut, nil
}

// redactImage masks secrets in every string of the image facts the result
// carries (env, entrypoint, cmd, health check, labels, user, working
// directory, history, layers), in the created_by of the layers packages
// and secrets point at, whichever scanners run: the report, and the SBOM
// made from it, are often published (CI logs, code scanning) and must not
// leak what is in the image. The secret findings were made from the raw
// config before (they redact their own evidence).
func redactImage(res *result.Result, s *secret.Scanner) {
	m := secret.NewMasker(res.Image, redactors(s)...)
	res.Image = m.Image(res.Image)
	for i := range res.Packages {
		l := res.Packages[i].Layer
		if l == nil {
			continue
		}
		if cb, cm := m.Text(l.CreatedBy), m.Text(l.Comment); cb != l.CreatedBy || cm != l.Comment {
			c := *l
			c.CreatedBy, c.Comment = cb, cm
			res.Packages[i].Layer = &c
		}
	}
	for i := range res.Secrets {
		res.Secrets[i].CreatedBy = m.Text(res.Secrets[i].CreatedBy)
	}
}

// redactors are the rules the image facts are masked with: the scan's
// secret scanner (its custom rules), and always the built-in rules, also
// when the secret scanner is off or a configuration disabled some of them.
func redactors(s *secret.Scanner) []*secret.Scanner {
	var out []*secret.Scanner
	if s != nil {
		out = append(out, s)
	}
	if d, err := secret.Default(); err == nil && d != s {
		out = append(out, d)
	}
	return out
}

// ImageFacts is what the source stage learned about the image, as the
// result carries it (config and history not yet redacted).
func ImageFacts(img *source.Image) inventory.Image {
	out := inventory.Image{
		Reference:   img.Reference,
		Kind:        img.Kind,
		Name:        img.Name,
		Digest:      img.ManifestDigest,
		IndexDigest: img.IndexDigest,
		RepoTags:    img.RepoTags,
		RepoDigests: img.RepoDigests,
		OS:          img.OS,
		Arch:        img.Arch,
		Variant:     img.Variant,
		Layers:      []inventory.Layer{},
	}
	for _, l := range img.Layers {
		out.Layers = append(out.Layers, l.Layer)
	}
	if img.Manifest != nil {
		out.ConfigDigest = img.Manifest.Config.Digest.String()
	}
	if c := img.Config; c != nil {
		out.Created = c.Created.Time
		out.Config = inventory.ImageConfig{
			User:       c.Config.User,
			Env:        c.Config.Env,
			Entrypoint: c.Config.Entrypoint,
			Cmd:        c.Config.Cmd,
			WorkingDir: c.Config.WorkingDir,
			Labels:     c.Config.Labels,
		}
		for p := range c.Config.ExposedPorts {
			out.Config.ExposedPorts = append(out.Config.ExposedPorts, p)
		}
		slices.Sort(out.Config.ExposedPorts)
		if hc := c.Config.Healthcheck; hc != nil {
			out.Config.Healthcheck = hc.Test
		}
		li := 0
		for _, h := range c.History {
			e := inventory.History{Created: h.Created.Time, CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer, LayerIndex: -1}
			if !h.EmptyLayer {
				e.LayerIndex = li
				li++
			}
			out.History = append(out.History, e)
		}
	}
	return out
}
