package update

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/vulndb"
)

// DefaultMirror is the public OSV bucket.
const DefaultMirror = "https://osv-vulnerabilities.storage.googleapis.com"

// Native source kinds.
const (
	NativeAlpineSecDB = "alpine-secdb"
	NativeKEV         = "cisa-kev"
	NativeNVD         = "nvd"
)

// NativeIndexFile is the optional file at a mirror's base that lists the
// native files it carries (see doc.go).
const NativeIndexFile = "drydock-native.json"

// DefaultEcosystems are the OSV ecosystems fetched when Options does
// not name any: distributions first, then languages.
func DefaultEcosystems() []string {
	return []string{
		"Alpine", "Debian", "Ubuntu", "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE", "openSUSE", "Wolfi", "Chainguard",
		"Go", "npm", "PyPI", "Maven", "RubyGems", "crates.io", "Packagist", "NuGet",
	}
}

// DefaultAlpineBranches are the secdb branches fetched from an Alpine secdb
// base that names none.
func DefaultAlpineBranches() []string {
	return []string{"v3.12", "v3.13", "v3.14", "v3.15", "v3.16", "v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "v3.22", "edge"}
}

// NativeSource is a non-OSV feed fetched from its own location (rather than
// from a mirror's native layout).
type NativeSource struct {
	// Kind is NativeAlpineSecDB, NativeKEV or NativeNVD.
	Kind string
	// URL is an http(s) URL or a local path. For NativeAlpineSecDB it is the
	// secdb base, holding <branch>/main.json and <branch>/community.json; for
	// the others it is the file itself.
	URL string
	// Branches are the Alpine branches to fetch ("v3.16", "edge");
	// default DefaultAlpineBranches.
	Branches []string
}

// Options configure Run.
type Options struct {
	// Mirrors are base URLs or local directories in the OSV bucket layout,
	// tried in order for each file; default DefaultMirror.
	Mirrors []string
	// Ecosystems are the OSV ecosystem directories to fetch; default
	// DefaultEcosystems.
	Ecosystems []string
	// Native are extra non-OSV sources.
	Native []NativeSource
	// Client is the HTTP client; default a client with a 30 minute timeout.
	Client *http.Client
	// Progress receives human-readable progress lines; nil for none (the
	// caller decides, e.g. only when stderr is a terminal).
	Progress io.Writer
	Logger   *slog.Logger
	// Path is the database file; default vulndb.DefaultPath().
	Path string
	// CacheDir keeps downloaded files for conditional re-fetching; default
	// "downloads" next to Path.
	CacheDir string
	// Now returns the current time; default time.Now.
	Now func() time.Time
}

// Result reports what Run did.
type Result struct {
	Path string
	// UpToDate is true when every source was unchanged and the existing
	// database was kept as it is.
	UpToDate bool
	Metadata vulndb.Metadata
	// Downloaded counts files transferred over HTTP; NotModified files
	// answered with 304 Not Modified. Local mirror files count in neither.
	Downloaded  int
	NotModified int
	// Warnings are non-fatal problems, e.g. an ecosystem no mirror
	// publishes. Run does not log them itself.
	Warnings []string
}

// fetchJob is one file to fetch.
type fetchJob struct {
	name   string   // vulndb.SourceInfo.Name
	kind   string   // "osv" or a Native kind
	branch string   // Alpine branch
	locs   []string // candidate URLs or local paths, in order
}

// fetched is a job's outcome.
type fetched struct {
	job       fetchJob
	file      string // local file to import
	info      vulndb.SourceInfo
	notFound  bool
	cacheMeta string // cache metadata file to drop if the import fails
}

// cacheMeta is stored next to a cached download.
type cacheMeta struct {
	URL          string    `json:"url"`
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Digest       string    `json:"digest"`
	FetchedAt    time.Time `json:"fetched_at"`
}

type updater struct {
	opt    Options
	log    *slog.Logger
	client *http.Client
	res    *Result
}

// Run fetches the sources and builds a new database at opt.Path. Each file
// is tried on every mirror in order: a 404 on all of them is a warning ("not
// published by any mirror"), other errors move on to the next mirror, and
// only a file that no mirror could serve fails the update. Downloads are
// conditional (ETag / Last-Modified); when every source is unchanged and the
// database exists, it is left as it is and the result says UpToDate. Any
// failure leaves the existing database untouched.
func Run(ctx context.Context, opt Options) (Result, error) {
	var res Result
	if opt.Path == "" {
		p, err := vulndb.DefaultPath()
		if err != nil {
			return res, err
		}
		opt.Path = p
	}
	res.Path = opt.Path
	if opt.CacheDir == "" {
		opt.CacheDir = filepath.Join(filepath.Dir(opt.Path), "downloads")
	}
	if len(opt.Mirrors) == 0 {
		opt.Mirrors = []string{DefaultMirror}
	}
	if opt.Ecosystems == nil {
		opt.Ecosystems = DefaultEcosystems()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	u := &updater{opt: opt, log: opt.Logger, client: opt.Client, res: &res}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.client == nil {
		u.client = &http.Client{Timeout: 30 * time.Minute}
	}
	for _, m := range opt.Mirrors {
		if _, _, err := mirrorKind(m); err != nil {
			return res, err
		}
	}

	jobs, err := u.jobs(ctx)
	if err != nil {
		return res, err
	}
	var got []fetched
	for _, j := range jobs {
		f, err := u.fetch(ctx, j)
		if err != nil {
			return res, err
		}
		if f.notFound {
			u.warn(fmt.Sprintf("%s: not published by any mirror", j.name))
			continue
		}
		got = append(got, f)
	}
	if len(got) == 0 {
		return res, errors.New("updating vulnerability database: no source could be fetched")
	}

	if old, err := vulndb.Status(ctx, opt.Path); err == nil && sameSources(old.Sources, got) {
		res.UpToDate = true
		res.Metadata = old
		u.progress("%s is up to date", opt.Path)
		return res, nil
	}

	b, err := vulndb.NewBuilder(opt.Path)
	if err != nil {
		return res, err
	}
	b.SetNow(opt.Now)
	for _, f := range got {
		if err := u.importOne(ctx, b, f); err != nil {
			b.Abort()
			if f.cacheMeta != "" {
				// Do not reuse a bad download through a 304 next time.
				os.Remove(f.cacheMeta)
			}
			return res, err
		}
	}
	meta, err := b.Commit(ctx)
	if err != nil {
		return res, err
	}
	res.Metadata = meta
	total := 0
	for _, n := range meta.Counts {
		total += n
	}
	u.progress("built %s: %d advisories in %d ecosystems", opt.Path, total, len(meta.Counts))
	return res, nil
}

// warn records a non-fatal problem. It is returned in Result.Warnings
// for the caller to report, not logged here (that would report it twice).
func (u *updater) warn(msg string) {
	u.res.Warnings = append(u.res.Warnings, msg)
}

func (u *updater) progress(format string, args ...any) {
	if u.opt.Progress != nil {
		fmt.Fprintf(u.opt.Progress, format+"\n", args...)
	}
}

// mirrorKind tells a local directory from an http(s) base.
func mirrorKind(m string) (local bool, base string, err error) {
	switch {
	case strings.HasPrefix(m, "http://"), strings.HasPrefix(m, "https://"):
		return false, strings.TrimRight(m, "/"), nil
	case strings.HasPrefix(m, "file://"):
		return true, strings.TrimPrefix(m, "file://"), nil
	case strings.Contains(m, "://"):
		return false, "", fmt.Errorf("mirror %q: only http(s) URLs and local directories are supported", m)
	}
	return true, m, nil
}

// mirrorLoc places a slash-separated relative path under a mirror.
func mirrorLoc(m, rel string) string {
	local, base, _ := mirrorKind(m)
	if local {
		return filepath.Join(base, filepath.FromSlash(rel))
	}
	parts := strings.Split(rel, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return base + "/" + strings.Join(parts, "/")
}

func isURL(loc string) bool {
	return strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://")
}

// jobs lists the files to fetch: the OSV zips, the native files found in the
// mirrors, then the explicit native sources (which replace a mirror's file
// of the same name).
func (u *updater) jobs(ctx context.Context) ([]fetchJob, error) {
	var jobs []fetchJob
	seen := map[string]int{}
	add := func(j fetchJob) {
		if i, ok := seen[j.name]; ok {
			jobs[i] = j
			return
		}
		seen[j.name] = len(jobs)
		jobs = append(jobs, j)
	}
	onMirrors := func(rel string) []string {
		var locs []string
		for _, m := range u.opt.Mirrors {
			locs = append(locs, mirrorLoc(m, rel))
		}
		return locs
	}
	for _, eco := range u.opt.Ecosystems {
		if eco == "" || strings.ContainsAny(eco, "/\\") || eco == "." || eco == ".." {
			return nil, fmt.Errorf("invalid ecosystem %q", eco)
		}
		add(fetchJob{name: "osv/" + eco, kind: "osv", locs: onMirrors(eco + "/all.zip")})
	}
	rels, err := u.nativeIndex(ctx)
	if err != nil {
		return nil, err
	}
	for _, rel := range rels {
		j, ok := nativeJob(rel)
		if !ok {
			u.warn(fmt.Sprintf("native index: ignoring %q", rel))
			continue
		}
		j.locs = onMirrors(rel)
		add(j)
	}
	for _, n := range u.opt.Native {
		switch n.Kind {
		case NativeAlpineSecDB:
			branches := n.Branches
			if len(branches) == 0 {
				branches = DefaultAlpineBranches()
			}
			for _, br := range branches {
				if !vulndb.ValidAlpineBranch(br) {
					return nil, fmt.Errorf("alpine secdb: invalid branch %q", br)
				}
				for _, repo := range []string{"main", "community"} {
					add(fetchJob{name: "alpine-secdb/" + br + "/" + repo, kind: NativeAlpineSecDB, branch: br,
						locs: []string{joinLoc(n.URL, br+"/"+repo+".json")}})
				}
			}
		case NativeKEV:
			add(fetchJob{name: "cisa-kev", kind: NativeKEV, locs: []string{n.URL}})
		case NativeNVD:
			add(fetchJob{name: "nvd/" + path.Base(filepath.ToSlash(n.URL)), kind: NativeNVD, locs: []string{n.URL}})
		default:
			return nil, fmt.Errorf("native source %q: unknown kind %q", n.URL, n.Kind)
		}
	}
	return jobs, nil
}

func joinLoc(base, rel string) string {
	if isURL(base) {
		return strings.TrimRight(base, "/") + "/" + rel
	}
	return filepath.Join(strings.TrimPrefix(base, "file://"), filepath.FromSlash(rel))
}

// nativeJob maps a path of the native layout to a job.
func nativeJob(rel string) (fetchJob, bool) {
	if path.IsAbs(rel) || strings.Contains(rel, "\\") || path.Clean(rel) != rel || strings.HasPrefix(rel, "../") {
		return fetchJob{}, false
	}
	parts := strings.Split(rel, "/")
	switch {
	case len(parts) == 3 && parts[0] == NativeAlpineSecDB && vulndb.ValidAlpineBranch(parts[1]) &&
		(parts[2] == "main.json" || parts[2] == "community.json"):
		return fetchJob{name: "alpine-secdb/" + parts[1] + "/" + strings.TrimSuffix(parts[2], ".json"), kind: NativeAlpineSecDB, branch: parts[1]}, true
	case rel == "cisa-kev/known_exploited_vulnerabilities.json":
		return fetchJob{name: "cisa-kev", kind: NativeKEV}, true
	case len(parts) == 2 && parts[0] == NativeNVD && (strings.HasSuffix(parts[1], ".json") || strings.HasSuffix(parts[1], ".json.gz")):
		return fetchJob{name: "nvd/" + parts[1], kind: NativeNVD}, true
	}
	return fetchJob{}, false
}

// nativeIndex returns the native files of the first mirror that has any: its
// drydock-native.json, or for a local directory without one, the files found
// in the native layout.
func (u *updater) nativeIndex(ctx context.Context) ([]string, error) {
	for _, m := range u.opt.Mirrors {
		local, base, _ := mirrorKind(m)
		var data []byte
		if local {
			p := filepath.Join(base, NativeIndexFile)
			d, err := os.ReadFile(p)
			switch {
			case err == nil:
				data = d
			case errors.Is(err, fs.ErrNotExist):
				rels, err := scanNative(base)
				if err != nil {
					return nil, err
				}
				if len(rels) > 0 {
					return rels, nil
				}
				continue
			default:
				return nil, fmt.Errorf("reading native index %q: %w", p, err)
			}
		} else {
			d, status, err := u.getSmall(ctx, base+"/"+NativeIndexFile)
			if err != nil || status != http.StatusOK {
				// Optional: a mirror without native feeds answers 404 (GCS
				// may answer 403); anything else is noted, not fatal.
				if err != nil || (status != http.StatusNotFound && status != http.StatusForbidden) {
					u.log.Debug("native index not available", "mirror", m, "status", status, "err", err)
				}
				continue
			}
			data = d
		}
		var idx struct {
			Files []string `json:"files"`
		}
		if err := json.Unmarshal(data, &idx); err != nil {
			return nil, fmt.Errorf("decoding native index of mirror %q: %w", m, err)
		}
		return idx.Files, nil
	}
	return nil, nil
}

// scanNative lists the native files in a local mirror directory.
func scanNative(base string) ([]string, error) {
	var rels []string
	for _, pattern := range []string{"alpine-secdb/*/main.json", "alpine-secdb/*/community.json", "cisa-kev/known_exploited_vulnerabilities.json", "nvd/*.json", "nvd/*.json.gz"} {
		matches, err := filepath.Glob(filepath.Join(base, filepath.FromSlash(pattern)))
		if err != nil {
			return nil, fmt.Errorf("listing %q: %w", base, err)
		}
		for _, m := range matches {
			rel, err := filepath.Rel(base, m)
			if err != nil {
				continue
			}
			rel = filepath.ToSlash(rel)
			if _, ok := nativeJob(rel); ok {
				rels = append(rels, rel)
			}
		}
	}
	slices.Sort(rels)
	return slices.Compact(rels), nil
}

func (u *updater) getSmall(ctx context.Context, loc string) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", "drydock")
	resp, err := u.client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode, nil
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	return data, resp.StatusCode, err
}

// fetch gets one file from the first location that has it.
func (u *updater) fetch(ctx context.Context, j fetchJob) (fetched, error) {
	var errs []error
	for _, loc := range j.locs {
		if err := ctx.Err(); err != nil {
			return fetched{}, err
		}
		var (
			f   fetched
			err error
		)
		if isURL(loc) {
			f, err = u.fetchHTTP(ctx, j, loc)
		} else {
			f, err = u.fetchLocal(j, loc)
		}
		switch {
		case err != nil:
			u.log.Warn("fetch failed, trying the next mirror", "source", j.name, "location", loc, "err", err)
			errs = append(errs, err)
		case f.notFound:
		default:
			return f, nil
		}
	}
	if len(errs) == 0 {
		return fetched{job: j, notFound: true}, nil
	}
	return fetched{}, fmt.Errorf("fetching %s: every mirror failed: %w", j.name, errors.Join(errs...))
}

func (u *updater) fetchLocal(j fetchJob, p string) (fetched, error) {
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fetched{notFound: true}, nil
	}
	if err != nil {
		return fetched{}, fmt.Errorf("reading %q: %w", p, err)
	}
	if st.IsDir() {
		return fetched{}, fmt.Errorf("reading %q: is a directory", p)
	}
	digest, err := fileDigest(p)
	if err != nil {
		return fetched{}, err
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	u.progress("%s: %s", j.name, abs)
	return fetched{job: j, file: p, info: vulndb.SourceInfo{
		Name:         j.name,
		URL:          abs,
		LastModified: st.ModTime().UTC().Format(http.TimeFormat),
		FetchedAt:    u.opt.Now().UTC().Truncate(time.Second),
		Digest:       digest,
	}}, nil
}

func fileDigest(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("reading %q: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %q: %w", p, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// cachePaths names the cached download of a URL and its metadata file.
func (u *updater) cachePaths(loc string) (file, meta string) {
	sum := sha256.Sum256([]byte(loc))
	base := path.Base(loc)
	if unesc, err := url.PathUnescape(base); err == nil {
		base = unesc
	}
	base = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' || r == ':' {
			return '_'
		}
		return r
	}, base)
	file = filepath.Join(u.opt.CacheDir, hex.EncodeToString(sum[:8])+"-"+base)
	return file, file + ".meta.json"
}

func readCacheMeta(p string) (cacheMeta, bool) {
	data, err := os.ReadFile(p)
	if err != nil {
		return cacheMeta{}, false
	}
	var m cacheMeta
	if json.Unmarshal(data, &m) != nil {
		return cacheMeta{}, false
	}
	return m, true
}

func (u *updater) fetchHTTP(ctx context.Context, j fetchJob, loc string) (fetched, error) {
	file, metaPath := u.cachePaths(loc)
	cm, haveMeta := readCacheMeta(metaPath)
	if haveMeta && cm.URL == loc {
		if _, err := os.Stat(file); err != nil {
			haveMeta = false
		}
	} else {
		haveMeta = false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	if err != nil {
		return fetched{}, fmt.Errorf("fetching %s: %w", loc, err)
	}
	req.Header.Set("User-Agent", "drydock")
	if haveMeta {
		if cm.ETag != "" {
			req.Header.Set("If-None-Match", cm.ETag)
		}
		if cm.LastModified != "" {
			req.Header.Set("If-Modified-Since", cm.LastModified)
		}
	}
	resp, err := u.client.Do(req)
	if err != nil {
		return fetched{}, fmt.Errorf("fetching %s: %w", loc, err)
	}
	defer resp.Body.Close()
	info := vulndb.SourceInfo{Name: j.name, URL: loc}
	switch {
	case resp.StatusCode == http.StatusNotModified && haveMeta:
		u.res.NotModified++
		u.progress("%s: not modified", j.name)
		info.ETag, info.LastModified, info.Digest, info.FetchedAt = cm.ETag, cm.LastModified, cm.Digest, cm.FetchedAt
		return fetched{job: j, file: file, info: info, cacheMeta: metaPath}, nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return fetched{notFound: true}, nil
	case resp.StatusCode != http.StatusOK:
		return fetched{}, fmt.Errorf("fetching %s: %s", loc, resp.Status)
	}
	u.progress("%s: downloading %s", j.name, loc)
	if err := os.MkdirAll(u.opt.CacheDir, 0o755); err != nil {
		return fetched{}, fmt.Errorf("creating download cache %q: %w", u.opt.CacheDir, err)
	}
	tmp, err := os.CreateTemp(u.opt.CacheDir, filepath.Base(file)+".part-*")
	if err != nil {
		return fetched{}, fmt.Errorf("creating download file in %q: %w", u.opt.CacheDir, err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(tmp, h), resp.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fetched{}, fmt.Errorf("downloading %s: %w", loc, err)
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return fetched{}, fmt.Errorf("storing download of %s: %w", loc, err)
	}
	cm = cacheMeta{
		URL:          loc,
		ETag:         resp.Header.Get("ETag"),
		LastModified: resp.Header.Get("Last-Modified"),
		Digest:       "sha256:" + hex.EncodeToString(h.Sum(nil)),
		FetchedAt:    u.opt.Now().UTC().Truncate(time.Second),
	}
	data, err := json.Marshal(cm)
	if err != nil {
		return fetched{}, err
	}
	if err := os.WriteFile(metaPath, data, 0o644); err != nil {
		return fetched{}, fmt.Errorf("writing %q: %w", metaPath, err)
	}
	u.res.Downloaded++
	info.ETag, info.LastModified, info.Digest, info.FetchedAt = cm.ETag, cm.LastModified, cm.Digest, cm.FetchedAt
	return fetched{job: j, file: file, info: info, cacheMeta: metaPath}, nil
}

// sameSources reports whether the fetched files are exactly those the
// existing database was built from.
func sameSources(old []vulndb.SourceInfo, got []fetched) bool {
	if len(old) != len(got) {
		return false
	}
	type nd struct{ name, digest string }
	a := make([]nd, 0, len(old))
	for _, s := range old {
		a = append(a, nd{s.Name, s.Digest})
	}
	b := make([]nd, 0, len(got))
	for _, f := range got {
		b = append(b, nd{f.info.Name, f.info.Digest})
	}
	less := func(x, y nd) int { return cmp.Or(cmp.Compare(x.name, y.name), cmp.Compare(x.digest, y.digest)) }
	slices.SortFunc(a, less)
	slices.SortFunc(b, less)
	return slices.Equal(a, b)
}

// importOne imports one fetched file into the builder.
func (u *updater) importOne(ctx context.Context, b *vulndb.Builder, f fetched) error {
	name := f.info.URL
	if name == "" {
		name = f.file
	}
	fh, err := os.Open(f.file)
	if err != nil {
		return fmt.Errorf("opening %q: %w", f.file, err)
	}
	defer fh.Close()
	switch f.job.kind {
	case "osv":
		st, err := fh.Stat()
		if err != nil {
			return fmt.Errorf("reading %q: %w", f.file, err)
		}
		s, err := b.ImportOSVZip(ctx, fh, st.Size(), name, f.info)
		if err != nil {
			return err
		}
		u.progress("%s: %d records, %d advisories (%d withdrawn skipped)", f.info.Name, s.Records, s.Advisories, s.Withdrawn)
	case NativeAlpineSecDB:
		s, err := b.ImportAlpineSecDB(fh, name, f.job.branch, f.info)
		if err != nil {
			return err
		}
		u.progress("%s: %d advisories (%d never-affected entries skipped)", f.info.Name, s.Advisories, s.NotAffected)
	case NativeKEV:
		n, err := b.ImportKEV(fh, name, f.info)
		if err != nil {
			return err
		}
		u.progress("%s: %d known exploited CVEs", f.info.Name, n)
	case NativeNVD:
		n, err := b.ImportNVD(fh, name, f.info)
		if err != nil {
			return err
		}
		u.progress("%s: %d CVEs", f.info.Name, n)
	default:
		return fmt.Errorf("internal error: unknown source kind %q", f.job.kind)
	}
	return nil
}
