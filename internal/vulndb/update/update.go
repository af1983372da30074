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
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/vulndb"
)

// DefaultMirror is the public OSV bucket.
const DefaultMirror = "https://osv-vulnerabilities.storage.googleapis.com"

// The publishers' own locations of the native feeds, fetched when no mirror
// carries them (see Options.AlpineSecDB and Options.KEV).
const (
	// DefaultAlpineSecDB is the Alpine secdb: an index page listing the
	// branches, and <branch>/main.json, <branch>/community.json.
	DefaultAlpineSecDB = "https://secdb.alpinelinux.org"
	// DefaultKEV is the CISA Known Exploited Vulnerabilities catalog.
	DefaultKEV = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
)

// Off, as Options.AlpineSecDB or Options.KEV, turns that feed's origin off.
const Off = "none"

// DefaultLockWait is how long Run waits for another update of the same
// database to finish.
const DefaultLockWait = 30 * time.Minute

// Native source kinds.
const (
	NativeAlpineSecDB = "alpine-secdb"
	NativeKEV         = "cisa-kev"
	NativeNVD         = "nvd"
	// NativeMalwareHashes is a list of known-bad file hashes (any form
	// vulndb.ParseHashList reads); a mirror carries them as
	// malware-hashes/<name>.txt, .csv or .gz.
	NativeMalwareHashes = "malware-hashes"
	// NativeBaseImages is a table of published base images (JSON records
	// of diff_ids, manifest digest and tags, as internal/baseimage reads
	// them) shipped with the database; a mirror carries them as
	// base-images/<name>.json.
	NativeBaseImages = "base-images"
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
	return []string{"v3.12", "v3.13", "v3.14", "v3.15", "v3.16", "v3.17", "v3.18", "v3.19", "v3.20", "v3.21", "v3.22", "v3.23", "v3.24", "edge"}
}

// NativeSource is a non-OSV feed fetched from its own location (rather than
// from a mirror's native layout).
type NativeSource struct {
	// Kind is NativeAlpineSecDB, NativeKEV, NativeNVD or
	// NativeMalwareHashes.
	Kind string
	// URL is an http(s) URL or a local path. For NativeAlpineSecDB it is the
	// secdb base, holding <branch>/main.json and <branch>/community.json; for
	// the others it is the file itself.
	URL string
	// Branches are the Alpine branches to fetch ("v3.16", "edge");
	// default: the branches the base lists (its index page over http, its
	// subdirectories locally), or DefaultAlpineBranches if it lists none.
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
	// Native are extra non-OSV sources. They replace a mirror's file of the
	// same name, and a kind of feed they name is not fetched from its origin.
	Native []NativeSource
	// AlpineSecDB is the origin of the Alpine secdb: an http(s) base or a
	// directory holding <branch>/main.json and <branch>/community.json. When
	// empty, DefaultAlpineSecDB is used if neither the mirrors nor Native
	// carry the secdb; when set, it is used in any case (its files replace a
	// mirror's). Off turns the origin off.
	AlpineSecDB string
	// AlpineBranches are the branches fetched from AlpineSecDB; default: the
	// branches it lists (see NativeSource.Branches).
	AlpineBranches []string
	// KEV is the origin of the CISA KEV catalog, a URL or a file, with the
	// same rules as AlpineSecDB; default DefaultKEV.
	KEV string
	// LockWait is how long Run waits for another update of the same
	// database (holding the lock file Path+".lock") to finish; default
	// DefaultLockWait; negative: fail at once.
	LockWait time.Duration
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
	// publishes or a feed whose origin failed, each naming the URL. Run does
	// not log them itself.
	Warnings []string
	// Missing are the feeds the database lacks (also in
	// Metadata.Missing).
	Missing []vulndb.MissingSource
}

// fetchJob is one file to fetch.
type fetchJob struct {
	name   string   // vulndb.SourceInfo.Name
	kind   string   // "osv" or a Native kind
	branch string   // Alpine branch
	eco    string   // the advisory ecosystem (or prefix) the file fills, "" for KEV and NVD
	locs   []string // candidate URLs or local paths, in order
	// origin marks a file fetched from one place of its own (an origin or
	// Options.Native) rather than from the mirrors: failing to fetch or
	// import it is a warning, and the feed is then missing.
	origin bool
}

// fetched is a job's outcome.
type fetched struct {
	job       fetchJob
	file      string // local file to import
	info      vulndb.SourceInfo
	notFound  bool
	reason    string // why notFound: "not found (404 Not Found)"
	cacheMeta string // cache metadata file to drop if the import fails
}

// attempt is one location tried for a file and why it did not serve it.
type attempt struct {
	loc, reason string
}

func (a attempt) String() string { return a.loc + ": " + a.reason }

func joinAttempts(tries []attempt) string {
	parts := make([]string, len(tries))
	for i, a := range tries {
		parts[i] = a.String()
	}
	return strings.Join(parts, "; ")
}

// fetchError is a file that no mirror served because of errors.
type fetchError struct {
	name  string
	tries []attempt
	errs  []error
}

func (e *fetchError) Error() string {
	return fmt.Sprintf("fetching %s: every mirror failed: %s", e.name, joinAttempts(e.tries))
}

func (e *fetchError) Unwrap() []error { return e.errs }

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
	// missing are the feeds that will not be in the database.
	missing []vulndb.MissingSource
	// failures say, one line per feed, what was tried and why it failed:
	// the error when nothing at all could be fetched.
	failures []string
}

// missingFeed records a feed the database will lack.
func (u *updater) missingFeed(m vulndb.MissingSource) {
	u.missing = append(u.missing, m)
	line := m.Name + ": "
	if m.URL != "" && !strings.Contains(m.Reason, m.URL) {
		line += m.URL + ": "
	}
	u.failures = append(u.failures, line+m.Reason)
}

// Run fetches the sources and builds a new database at opt.Path. OSV files
// and the native files the mirrors list are tried on every mirror in order:
// a 404 on all of them is a warning ("not published by any mirror"), other
// errors move on to the next mirror, and a file that no mirror could serve
// fails the update. Native feeds that no mirror carries are fetched from
// their origins (Options.AlpineSecDB, Options.KEV): a failure there is a
// warning naming the URL, and the feed is recorded as missing in the
// metadata. Downloads are conditional (ETag / Last-Modified); when every
// source is unchanged (same file from the same place) and the database
// exists and reads whole, it is left as it is and the result says
// UpToDate. Any failure leaves the existing database untouched. One update
// of a database runs at a time: Run waits (Options.LockWait) for the lock
// file next to it.
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
	if opt.LockWait == 0 {
		opt.LockWait = DefaultLockWait
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

	unlock, err := u.lock(ctx)
	if err != nil {
		return res, err
	}
	defer unlock()
	u.removeStaleTemps()

	jobs, err := u.jobs(ctx)
	if err != nil {
		return res, err
	}
	var (
		got          []fetched
		notPublished []fetchJob
	)
	for _, j := range jobs {
		f, tries, err := u.fetch(ctx, j)
		if cerr := ctx.Err(); cerr != nil {
			return res, fmt.Errorf("updating vulnerability database: %w", cerr)
		}
		switch {
		case err != nil && !j.origin:
			return res, err
		case f.notFound && j.kind == NativeAlpineSecDB && strings.HasSuffix(j.name, "/community"):
			// Old branches have no community repository (v3.2): its absence
			// is not a gap.
			u.log.Debug("no Alpine secdb community file for this branch", "branch", j.branch, "url", tries[len(tries)-1].loc)
		case err != nil, f.notFound && j.origin:
			last := tries[len(tries)-1]
			u.warn(fmt.Sprintf("%s: %s", j.name, joinAttempts(tries)))
			u.missingFeed(vulndb.MissingSource{Name: j.name, Ecosystem: j.eco, URL: last.loc, Reason: last.reason})
		case f.notFound:
			notPublished = append(notPublished, j)
			u.failures = append(u.failures, j.name+": "+joinAttempts(tries))
		default:
			got = append(got, f)
		}
	}
	secdb := slices.ContainsFunc(got, func(f fetched) bool { return f.job.kind == NativeAlpineSecDB })
	for _, j := range notPublished {
		if j.kind == "osv" && j.eco == "Alpine" && secdb {
			// Not a gap: the Alpine advisories come from the secdb.
			u.log.Debug("OSV Alpine not published by any mirror; Alpine advisories come from the Alpine secdb")
			continue
		}
		u.warn(fmt.Sprintf("%s: not published by any mirror", j.name))
		locs := make([]string, len(j.locs))
		for i, l := range j.locs {
			locs[i] = displayLoc(l)
		}
		u.missing = append(u.missing, vulndb.MissingSource{Name: j.name, Ecosystem: j.eco, URL: strings.Join(locs, ", "), Reason: "not published by any mirror"})
	}
	if len(got) == 0 {
		slices.Sort(u.failures)
		return res, fmt.Errorf("updating vulnerability database: no source could be fetched:\n  %s", strings.Join(u.failures, "\n  "))
	}

	switch old, err := vulndb.Status(ctx, opt.Path); {
	case err == nil && sameSources(old, got, u.missing):
		res.UpToDate = true
		res.Metadata = old
		res.Missing = old.Missing
		u.progress("%s is up to date", opt.Path)
		return res, nil
	case err != nil && !errors.Is(err, vulndb.ErrNoDatabase):
		u.log.Warn("the existing database cannot be read whole: rebuilding it", "path", opt.Path, "err", err)
	}

	b, err := vulndb.NewBuilder(opt.Path)
	if err != nil {
		return res, err
	}
	b.SetNow(opt.Now)
	for _, f := range got {
		err := u.importOne(ctx, b, f)
		if err == nil {
			continue
		}
		if f.cacheMeta != "" {
			// Do not reuse a bad download through a 304 next time.
			os.Remove(f.cacheMeta)
		}
		if f.job.origin && f.job.kind != "osv" && ctx.Err() == nil {
			// The importers of native feeds parse the whole file before
			// adding anything: a bad file leaves the builder as it was.
			u.warn(fmt.Sprintf("%s: %v", f.job.name, err))
			u.missing = append(u.missing, vulndb.MissingSource{Name: f.job.name, Ecosystem: f.job.eco, URL: f.info.URL, Reason: err.Error()})
			continue
		}
		b.Abort()
		return res, err
	}
	for _, m := range u.missing {
		b.AddMissing(m)
	}
	meta, err := b.Commit(ctx)
	if err != nil {
		return res, err
	}
	res.Metadata = meta
	res.Missing = meta.Missing
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

// displayLoc is a location as messages and the metadata show it: a URL,
// or an absolute path.
func displayLoc(loc string) string {
	if isURL(loc) {
		return loc
	}
	if abs, err := filepath.Abs(strings.TrimPrefix(loc, "file://")); err == nil {
		return abs
	}
	return loc
}

func isURL(loc string) bool {
	return strings.HasPrefix(loc, "http://") || strings.HasPrefix(loc, "https://")
}

// jobs lists the files to fetch: the OSV zips, the native files found in the
// mirrors, the explicit native sources (which replace a mirror's file of
// the same name), then the origins of the native feeds nothing else carries.
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
		add(fetchJob{name: "osv/" + eco, kind: "osv", eco: eco, locs: onMirrors(eco + "/all.zip")})
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
			js, err := u.alpineJobs(ctx, n.URL, n.Branches)
			if err != nil {
				return nil, err
			}
			for _, j := range js {
				add(j)
			}
		case NativeKEV:
			add(fetchJob{name: "cisa-kev", kind: NativeKEV, locs: []string{n.URL}, origin: true})
		case NativeNVD:
			add(fetchJob{name: "nvd/" + path.Base(filepath.ToSlash(n.URL)), kind: NativeNVD, locs: []string{n.URL}, origin: true})
		case NativeMalwareHashes:
			add(fetchJob{name: vulndb.HashListPrefix + path.Base(filepath.ToSlash(n.URL)), kind: NativeMalwareHashes, locs: []string{n.URL}, origin: true})
		case NativeBaseImages:
			add(fetchJob{name: vulndb.BaseImagePrefix + path.Base(filepath.ToSlash(n.URL)), kind: NativeBaseImages, locs: []string{n.URL}, origin: true})
		default:
			return nil, fmt.Errorf("native source %q: unknown kind %q", n.URL, n.Kind)
		}
	}
	carried := func(kind string) bool {
		return slices.ContainsFunc(jobs, func(j fetchJob) bool { return j.kind == kind })
	}
	switch origin := u.opt.AlpineSecDB; {
	case origin == Off:
		if !carried(NativeAlpineSecDB) {
			u.missingFeed(vulndb.MissingSource{Name: NativeAlpineSecDB, Ecosystem: "Alpine", Reason: "turned off"})
		}
	case origin != "" || !carried(NativeAlpineSecDB):
		if origin == "" {
			origin = DefaultAlpineSecDB
		}
		js, err := u.alpineJobs(ctx, origin, u.opt.AlpineBranches)
		if err != nil {
			return nil, err
		}
		for _, j := range js {
			add(j)
		}
	}
	switch origin := u.opt.KEV; {
	case origin == Off:
		if !carried(NativeKEV) {
			u.missingFeed(vulndb.MissingSource{Name: "cisa-kev", Reason: "turned off"})
		}
	case origin != "" || !carried(NativeKEV):
		if origin == "" {
			origin = DefaultKEV
		}
		add(fetchJob{name: "cisa-kev", kind: NativeKEV, locs: []string{origin}, origin: true})
	}
	return jobs, nil
}

// alpineJobs lists the secdb files of an Alpine secdb base: main and
// community of each branch. Without branches, the base's own list is used
// (see listAlpineBranches). A base that cannot be listed at all is a
// missing feed, not an error.
func (u *updater) alpineJobs(ctx context.Context, base string, branches []string) ([]fetchJob, error) {
	for _, br := range branches {
		if !vulndb.ValidAlpineBranch(br) {
			return nil, fmt.Errorf("alpine secdb: invalid branch %q", br)
		}
	}
	if len(branches) == 0 {
		var (
			loc string
			err error
		)
		branches, loc, err = u.listAlpineBranches(ctx, base)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return nil, fmt.Errorf("listing the Alpine secdb branches: %w", cerr)
			}
			u.warn(fmt.Sprintf("%s: listing the branches: %s: %v", NativeAlpineSecDB, loc, err))
			u.missingFeed(vulndb.MissingSource{Name: NativeAlpineSecDB, Ecosystem: "Alpine", URL: loc, Reason: err.Error()})
			return nil, nil
		}
	}
	var jobs []fetchJob
	for _, br := range branches {
		for _, repo := range []string{"main", "community"} {
			jobs = append(jobs, fetchJob{name: "alpine-secdb/" + br + "/" + repo, kind: NativeAlpineSecDB, branch: br,
				eco: "Alpine:" + br, locs: []string{joinLoc(base, br+"/"+repo+".json")}, origin: true})
		}
	}
	return jobs, nil
}

// alpineBranchLink finds the branch directories in an index page, as
// secdb.alpinelinux.org serves it (<a href="v3.16/">v3.16/</a>).
var alpineBranchLink = regexp.MustCompile(`href\s*=\s*"(?:\./)?(v[0-9]+\.[0-9]+|edge)/?"`)

// listAlpineBranches returns the branches an Alpine secdb base holds: the
// branch links of its index page over http, its branch subdirectories
// locally. A base that answers but lists none (no index page) gives
// DefaultAlpineBranches; one that cannot be reached gives an error, with
// the location tried.
func (u *updater) listAlpineBranches(ctx context.Context, base string) ([]string, string, error) {
	var found []string
	if isURL(base) {
		loc := strings.TrimRight(base, "/") + "/"
		data, status, err := u.getSmall(ctx, loc)
		if err != nil {
			return nil, loc, unwrapURLError(err)
		}
		if status == http.StatusOK {
			for _, m := range alpineBranchLink.FindAllSubmatch(data, -1) {
				found = append(found, string(m[1]))
			}
		} else {
			u.log.Debug("no Alpine secdb index page: using the default branches", "url", loc, "status", status)
		}
	} else {
		dir := strings.TrimPrefix(base, "file://")
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, displayLoc(dir), err
		}
		for _, e := range entries {
			if e.IsDir() && vulndb.ValidAlpineBranch(e.Name()) {
				found = append(found, e.Name())
			}
		}
	}
	if len(found) == 0 {
		return DefaultAlpineBranches(), "", nil
	}
	slices.SortFunc(found, compareAlpineBranches)
	return slices.Compact(found), "", nil
}

// compareAlpineBranches orders v3.9 before v3.10, and edge last.
func compareAlpineBranches(a, b string) int {
	num := func(br string) (int, int, bool) {
		maj, minor, ok := strings.Cut(strings.TrimPrefix(br, "v"), ".")
		x, err1 := strconv.Atoi(maj)
		y, err2 := strconv.Atoi(minor)
		return x, y, ok && err1 == nil && err2 == nil
	}
	ax, ay, aok := num(a)
	bx, by, bok := num(b)
	switch {
	case aok && bok:
		return cmp.Or(cmp.Compare(ax, bx), cmp.Compare(ay, by))
	case aok:
		return -1
	case bok:
		return 1
	}
	return cmp.Compare(a, b)
}

// unwrapURLError drops the "Get "URL": " prefix of a client error: the
// messages here name the URL themselves.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
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
		return fetchJob{name: "alpine-secdb/" + parts[1] + "/" + strings.TrimSuffix(parts[2], ".json"), kind: NativeAlpineSecDB,
			branch: parts[1], eco: "Alpine:" + parts[1]}, true
	case rel == "cisa-kev/known_exploited_vulnerabilities.json":
		return fetchJob{name: "cisa-kev", kind: NativeKEV}, true
	case len(parts) == 2 && parts[0] == NativeNVD && (strings.HasSuffix(parts[1], ".json") || strings.HasSuffix(parts[1], ".json.gz")):
		return fetchJob{name: "nvd/" + parts[1], kind: NativeNVD}, true
	case len(parts) == 2 && parts[0] == NativeMalwareHashes && hashListFile(parts[1]):
		return fetchJob{name: vulndb.HashListPrefix + parts[1], kind: NativeMalwareHashes}, true
	case len(parts) == 2 && parts[0] == NativeBaseImages && strings.HasSuffix(parts[1], ".json") && len(parts[1]) > len(".json"):
		return fetchJob{name: vulndb.BaseImagePrefix + parts[1], kind: NativeBaseImages}, true
	}
	return fetchJob{}, false
}

// hashListFile reports whether a mirror's malware-hashes/ file name is a
// hash list.
func hashListFile(name string) bool {
	for _, ext := range []string{".txt", ".csv", ".txt.gz", ".csv.gz"} {
		if strings.HasSuffix(name, ext) && len(name) > len(ext) {
			return true
		}
	}
	return false
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
	for _, pattern := range []string{"alpine-secdb/*/main.json", "alpine-secdb/*/community.json", "cisa-kev/known_exploited_vulnerabilities.json", "nvd/*.json", "nvd/*.json.gz",
		"malware-hashes/*.txt", "malware-hashes/*.csv", "malware-hashes/*.gz"} {
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

// fetch gets one file from the first location that has it. It returns
// every location tried before, with the reason it did not serve the file.
// A file no location has is notFound; one that some location failed to
// serve is an error. An origin file that fails over http is taken from the
// download cache if an earlier run fetched it (with a warning).
func (u *updater) fetch(ctx context.Context, j fetchJob) (fetched, []attempt, error) {
	var (
		tries []attempt
		errs  []error
	)
	for i, loc := range j.locs {
		if err := ctx.Err(); err != nil {
			return fetched{}, tries, err
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
			tries = append(tries, attempt{displayLoc(loc), err.Error()})
			errs = append(errs, fmt.Errorf("%s: %w", loc, err))
			if i < len(j.locs)-1 {
				u.log.Warn("fetch failed, trying the next mirror", "source", j.name, "location", loc, "err", err)
			}
		case f.notFound:
			tries = append(tries, attempt{displayLoc(loc), f.reason})
		default:
			return f, tries, nil
		}
	}
	if len(errs) == 0 {
		return fetched{job: j, notFound: true}, tries, nil
	}
	if j.origin && len(j.locs) == 1 && isURL(j.locs[0]) && ctx.Err() == nil {
		if f, ok := u.cached(j, j.locs[0]); ok {
			u.warn(fmt.Sprintf("%s: %s; using the copy downloaded at %s", j.name, joinAttempts(tries), f.info.FetchedAt.Format(time.RFC3339)))
			return f, tries, nil
		}
	}
	return fetched{}, tries, &fetchError{name: j.name, tries: tries, errs: errs}
}

// cached returns the earlier download of loc kept in the cache directory.
func (u *updater) cached(j fetchJob, loc string) (fetched, bool) {
	file, metaPath := u.cachePaths(loc)
	cm, ok := readCacheMeta(metaPath)
	if !ok || cm.URL != loc {
		return fetched{}, false
	}
	if _, err := os.Stat(file); err != nil {
		return fetched{}, false
	}
	info := vulndb.SourceInfo{Name: j.name, URL: loc, ETag: cm.ETag, LastModified: cm.LastModified, Digest: cm.Digest, FetchedAt: cm.FetchedAt}
	return fetched{job: j, file: file, info: info, cacheMeta: metaPath}, true
}

func (u *updater) fetchLocal(j fetchJob, p string) (fetched, error) {
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return fetched{notFound: true, reason: "no such file"}, nil
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
		return fetched{}, err
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
		return fetched{}, unwrapURLError(err)
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
		return fetched{notFound: true, reason: "not found (" + resp.Status + ")"}, nil
	case resp.StatusCode != http.StatusOK:
		return fetched{}, errors.New(resp.Status)
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
		return fetched{}, fmt.Errorf("downloading: %w", unwrapURLError(err))
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		os.Remove(tmp.Name())
		return fetched{}, fmt.Errorf("storing the download: %w", err)
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
// existing database was built from — the same content from the same
// place — and the same feeds are missing. A database built from another
// mirror is not "up to date" for this one, even with identical files.
func sameSources(old vulndb.Metadata, got []fetched, missing []vulndb.MissingSource) bool {
	type src struct{ name, url, digest string }
	a := make([]src, 0, len(old.Sources))
	for _, s := range old.Sources {
		a = append(a, src{s.Name, s.URL, s.Digest})
	}
	b := make([]src, 0, len(got))
	for _, f := range got {
		b = append(b, src{f.info.Name, f.info.URL, f.info.Digest})
	}
	less := func(x, y src) int {
		return cmp.Or(cmp.Compare(x.name, y.name), cmp.Compare(x.url, y.url), cmp.Compare(x.digest, y.digest))
	}
	slices.SortFunc(a, less)
	slices.SortFunc(b, less)
	if !slices.Equal(a, b) {
		return false
	}
	names := func(ms []vulndb.MissingSource) []string {
		out := make([]string, 0, len(ms))
		for _, m := range ms {
			out = append(out, m.Name)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(names(old.Missing), names(missing))
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
	case NativeMalwareHashes:
		st, err := b.ImportHashList(fh, name, f.info)
		if err != nil {
			return err
		}
		u.progress("%s: %d known-bad file hashes (%d lines without a SHA-256 skipped)", f.info.Name, st.Hashes, st.Skipped)
		if st.Skipped > 0 {
			u.warn(fmt.Sprintf("%s: %d lines without a SHA-256 hash were skipped", f.info.Name, st.Skipped))
		}
	case NativeBaseImages:
		n, err := b.ImportBaseImages(fh, name, f.info)
		if err != nil {
			return err
		}
		u.progress("%s: %d published base images", f.info.Name, n)
	default:
		return fmt.Errorf("internal error: unknown source kind %q", f.job.kind)
	}
	return nil
}

// removeStaleTemps deletes the temporary databases that updates killed
// before their rename left behind ("drydock.db.tmp-*"): with the lock held
// no other update is writing one.
func (u *updater) removeStaleTemps() {
	stale, err := filepath.Glob(u.opt.Path + ".tmp-*")
	if err != nil {
		return
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			u.warn(fmt.Sprintf("could not remove the temporary database %s left by an interrupted update: %v", p, err))
		}
	}
}
