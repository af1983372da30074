// Package match turns an inventory and advisories into findings, following
// each ecosystem's and each vendor's semantics.
package match

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/distro"
	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/version"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/vulndb"
	"github.com/drydock-scan/drydock/internal/vulndb/cvss"
)

// Version of the matcher: bump when the findings for the same inventory and
// database change.
//
// 2: a version listed by an OSV record takes the fix of the range that
// contains it; Go fixed versions carry the "v" of the installed version.
// 3: malicious-package records (MAL-) are malware, never vulnerabilities;
// a vulnerability record that one of them aliases (its GHSA) goes with it.
const Version = 3

// Options tune matching.
type Options struct {
	// MatchDeclared also matches packages read from lockfiles.
	MatchDeclared bool
	// MatchOwned also matches language packages that belong to an OS package
	// (by default the distro's advisories cover them, as the vendor may
	// backport fixes without changing the language package's version).
	MatchOwned bool
	// Malicious reports the malicious-package records that match (OpenSSF
	// MAL- records, see vulndb.Advisory.Malicious) as Result.Malware. Off,
	// they are left out: such a record is never a vulnerability.
	Malicious bool
	// NoVulns leaves the vulnerabilities out (Result.Findings stays empty):
	// a scan for malware only.
	NoVulns bool
}

// Matcher matches packages against a vulnerability database.
type Matcher struct {
	DB  vulndb.Reader
	Opt Options
}

// extendingEcosystems returns prefix itself and every ecosystem in counts
// that extends it ("Red Hat:enterprise_linux:9::baseos",
// "SUSE:Linux Enterprise Server 15 SP5-LTSS"), sorted.
func extendingEcosystems(prefix string, counts map[string]int) []string {
	out := []string{prefix}
	for eco := range counts {
		if eco != prefix && (strings.HasPrefix(eco, prefix+":") || strings.HasPrefix(eco, prefix+"-")) {
			out = append(out, eco)
		}
	}
	slices.Sort(out[1:])
	return out
}

// query is one database lookup for one package.
type query struct {
	ecosystem string // advisory ecosystem incl. release
	name      string
	version   string
	matchedBy string
}

// Result is the output of Match.
type Result struct {
	Findings []finding.Finding
	// Malware are the malicious packages (with Options.Malicious).
	Malware []finding.Malware
	Notes   []inventory.Note
}

// Match returns one finding per (package, vulnerability).
func (m *Matcher) Match(ctx context.Context, inv *inventory.Inventory) (Result, error) {
	var res Result
	distroEco := ""
	if inv.Distro != nil {
		distroEco = distro.AdvisoryEcosystem(inv.Distro)
	}
	hasOS := false
	for i := range inv.Packages {
		if inventory.IsOS(inv.Packages[i].Ecosystem) {
			hasOS = true
			break
		}
	}
	if hasOS && distroEco == "" {
		d := "unknown"
		if inv.Distro != nil {
			d = inv.Distro.ID + " " + inv.Distro.VersionID
		}
		res.Notes = append(res.Notes, inventory.Note{Level: "warning",
			Message: fmt.Sprintf("OS packages found but the distribution (%s) has no advisory source: OS packages were not matched", d)})
	}
	// Red Hat and SUSE publish under several ecosystems per release (per
	// repository or module): query every ecosystem the database holds that
	// extends the distro's.
	var distroEcos []string
	if distroEco != "" {
		distroEcos = []string{distroEco}
		if distro.AdvisoryEcosystemIsPrefix(inv.Distro) {
			meta, err := m.DB.Meta(ctx)
			if err != nil {
				return res, fmt.Errorf("reading database metadata: %w", err)
			}
			distroEcos = extendingEcosystems(distroEco, meta.Counts)
		}
	}
	cveCache := map[string]*vulndb.CVE{}
	scores := map[string]float64{} // CVSS vector → base score; NaN: unparseable
	for i := range inv.Packages {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		p := &inv.Packages[i]
		if !p.Matchable() || (p.Declared && !m.Opt.MatchDeclared) {
			continue
		}
		if p.Owner != "" && !m.Opt.MatchOwned {
			continue
		}
		q, ok := queryFor(p, distroEco)
		if !ok {
			continue
		}
		cmp, err := version.For(q.ecosystem)
		if err != nil {
			res.Notes = append(res.Notes, inventory.Note{Level: "warning", Path: p.PrimaryPath(),
				Message: fmt.Sprintf("no version comparator for %s: %s %s not matched", q.ecosystem, p.Name, p.Version)})
			continue
		}
		ecos := []string{q.ecosystem}
		if inventory.IsOS(p.Ecosystem) {
			ecos = distroEcos
		}
		var advs []vulndb.Advisory
		for _, eco := range ecos {
			a, err := m.DB.Advisories(ctx, eco, q.name)
			if err != nil {
				return res, fmt.Errorf("looking up %s %q: %w", eco, q.name, err)
			}
			advs = append(advs, a...)
		}
		var (
			found     []finding.Finding
			malicious []finding.Malware
		)
		for _, adv := range advs {
			if adv.Malicious() && !m.Opt.Malicious || !adv.Malicious() && m.Opt.NoVulns {
				continue
			}
			hit, ok, err := affected(cmp, &adv, q.version)
			if err != nil {
				res.Notes = append(res.Notes, inventory.Note{Level: "warning", Path: p.PrimaryPath(),
					Message: fmt.Sprintf("comparing %s %s with %s: %v", p.Name, q.version, adv.ID, err)})
				continue
			}
			if !ok {
				continue
			}
			if adv.Malicious() {
				malicious = append(malicious, maliciousPackage(p, &adv, hit))
				continue
			}
			f, err := m.newFinding(ctx, p, &adv, q, cmp.Name(), hit, cveCache, scores)
			if err != nil {
				return res, err
			}
			found = append(found, f)
		}
		res.Findings = append(res.Findings, mergeAliases(withoutMalicious(found, malicious))...)
		res.Malware = append(res.Malware, malicious...)
	}
	SortFindings(res.Findings)
	SortMalware(res.Malware)
	return res, nil
}

// maliciousPackage is the malware finding of a package that a
// malicious-package record names.
func maliciousPackage(p *inventory.Package, adv *vulndb.Advisory, h hit) finding.Malware {
	ref := refOf(p)
	return finding.Malware{
		Kind:        vocab.MalwarePackage,
		ID:          adv.ID,
		Aliases:     slices.Clone(adv.Aliases),
		Title:       adv.Summary,
		Description: adv.Details,
		References:  adv.References,
		Severity:    finding.MalwareSeverity,
		Engine:      vocab.EngineRecord,
		Source:      adv.Source,
		Package:     &ref,
		Range:       h.rangeText,
		LayerIndex:  ref.LayerIndex,
		LayerDiffID: ref.LayerDiffID,
	}
}

// withoutMalicious drops the vulnerability findings that a malicious
// record matched for the same package already stands for: GitHub publishes
// the malware in a package as a GHSA, which the MAL- record aliases; it is
// reported once, as malware.
func withoutMalicious(fs []finding.Finding, mal []finding.Malware) []finding.Finding {
	if len(mal) == 0 {
		return fs
	}
	ids := map[string]bool{}
	for i := range mal {
		for _, id := range mal[i].AllIDs() {
			ids[id] = true
		}
	}
	return slices.DeleteFunc(fs, func(f finding.Finding) bool {
		return slices.ContainsFunc(f.AllIDs(), func(id string) bool { return ids[id] })
	})
}

// SortMalware orders malware findings (finding.CompareMalware).
func SortMalware(ms []finding.Malware) {
	slices.SortStableFunc(ms, finding.CompareMalware)
}

// queryFor decides which advisory ecosystem and name a package is matched by.
func queryFor(p *inventory.Package, distroEco string) (query, bool) {
	switch p.Ecosystem {
	case inventory.EcoAPK:
		// Alpine publishes by origin (source) package.
		name, by := p.Name, "binary-package"
		if p.SourceName != "" {
			name, by = p.SourceName, "source-package"
		}
		return query{distroEco, name, p.Version, by}, distroEco != ""
	case inventory.EcoDpkg:
		// Debian and Ubuntu publish by source package and source version.
		name, ver, by := p.Name, p.Version, "binary-package"
		if p.SourceName != "" {
			name, by = p.SourceName, "source-package"
			if p.SourceVersion != "" {
				ver = p.SourceVersion
			}
		}
		return query{distroEco, name, ver, by}, distroEco != ""
	case inventory.EcoRPM:
		// Red Hat family OSV data lists binary package names.
		ver := p.Version
		if p.Epoch > 0 {
			ver = strconv.Itoa(p.Epoch) + ":" + ver
		}
		return query{distroEco, p.Name, ver, "binary-package"}, distroEco != ""
	case "":
		return query{}, false
	}
	name := p.Name
	ver := p.Version
	if p.Ecosystem == inventory.EcoGo {
		if ver == "" || ver == "(devel)" {
			return query{}, false
		}
		if p.Name == "stdlib" {
			ver = strings.TrimPrefix(version.GoToolchainToSemver(ver), "v")
		}
	}
	if ver == "" {
		return query{}, false
	}
	return query{p.Ecosystem, name, ver, "name"}, true
}

// hit describes how an advisory matched.
type hit struct {
	rangeText string
	fixed     string
}

// affected evaluates an advisory's ranges and versions for v, per the OSV
// schema's evaluation rules: v is affected when a range contains it or the
// versions list holds it. A listed version still takes the fix (and range
// text) of the range that contains it; when no range does, the smallest fix
// above v, if any.
func affected(c version.Comparator, adv *vulndb.Advisory, v string) (hit, bool, error) {
	listed := slices.Contains(adv.Versions, v)
	var firstErr error
	for _, r := range adv.Ranges {
		cmpFn, ok := rangeComparator(c, r.Type)
		if !ok {
			continue
		}
		h, ok, err := inRange(cmpFn, r.Events, v)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if ok {
			return h, true, nil
		}
	}
	if listed {
		return hit{rangeText: "version " + v + " listed", fixed: nextFix(c, adv.Ranges, v)}, true, nil
	}
	return hit{}, false, firstErr
}

// rangeComparator returns the comparison for an OSV range type: SEMVER
// ranges compare as semantic versions whatever the ecosystem, ECOSYSTEM
// ranges with the ecosystem's comparator; other types (GIT) are not
// evaluated.
func rangeComparator(c version.Comparator, typ string) (func(a, b string) (int, error), bool) {
	switch typ {
	case "SEMVER":
		return version.SemVer().Compare, true
	case "ECOSYSTEM":
		return c.Compare, true
	}
	return nil, false
}

// nextFix returns the smallest "fixed" event above v in ranges, or "".
// Events that cannot be compared are skipped.
func nextFix(c version.Comparator, ranges []vulndb.Range, v string) string {
	best := ""
	var bestCmp func(a, b string) (int, error)
	for _, r := range ranges {
		cmpFn, ok := rangeComparator(c, r.Type)
		if !ok {
			continue
		}
		for _, e := range r.Events {
			if e.Fixed == "" {
				continue
			}
			if above, err := cmpFn(e.Fixed, v); err != nil || above <= 0 {
				continue
			}
			if best != "" {
				if d, err := bestCmp(e.Fixed, best); err != nil || d >= 0 {
					continue
				}
			}
			best, bestCmp = e.Fixed, cmpFn
		}
	}
	return best
}

func inRange(cmp func(a, b string) (int, error), events []vulndb.Event, v string) (hit, bool, error) {
	// ge reports v >= bound (introduced "0" is the lowest version).
	ge := func(bound string) (bool, error) {
		if bound == "0" {
			return true, nil
		}
		c, err := cmp(v, bound)
		return c >= 0, err
	}
	type interval struct{ lo, fixed, last string }
	var (
		ivs    []interval
		cur    *interval
		limits []string
	)
	for _, e := range events {
		switch {
		case e.Introduced != "":
			ivs = append(ivs, interval{lo: e.Introduced})
			cur = &ivs[len(ivs)-1]
		case e.Fixed != "":
			if cur == nil {
				ivs = append(ivs, interval{lo: "0"})
				cur = &ivs[len(ivs)-1]
			}
			cur.fixed = e.Fixed
			cur = nil
		case e.LastAffected != "":
			if cur == nil {
				ivs = append(ivs, interval{lo: "0"})
				cur = &ivs[len(ivs)-1]
			}
			cur.last = e.LastAffected
			cur = nil
		case e.Limit != "":
			limits = append(limits, e.Limit)
		}
	}
	for _, lim := range limits {
		if lim == "*" {
			continue
		}
		c, err := cmp(v, lim)
		if err != nil {
			return hit{}, false, err
		}
		if c >= 0 {
			return hit{}, false, nil
		}
	}
	for _, iv := range ivs {
		ok, err := ge(iv.lo)
		if err != nil {
			return hit{}, false, err
		}
		if !ok {
			continue
		}
		text := ">=" + iv.lo
		switch {
		case iv.fixed != "":
			c, err := cmp(v, iv.fixed)
			if err != nil {
				return hit{}, false, err
			}
			if c >= 0 {
				continue
			}
			return hit{rangeText: text + ", <" + iv.fixed, fixed: iv.fixed}, true, nil
		case iv.last != "":
			c, err := cmp(v, iv.last)
			if err != nil {
				return hit{}, false, err
			}
			if c > 0 {
				continue
			}
			return hit{rangeText: text + ", <=" + iv.last}, true, nil
		default:
			return hit{rangeText: text}, true, nil
		}
	}
	return hit{}, false, nil
}

func (m *Matcher) newFinding(ctx context.Context, p *inventory.Package, adv *vulndb.Advisory, q query, comparator string, h hit, cveCache map[string]*vulndb.CVE, scores map[string]float64) (finding.Finding, error) {
	f := finding.Finding{
		ID:               adv.ID,
		Aliases:          slices.Clone(adv.Aliases),
		Package:          refOf(p),
		InstalledVersion: p.Version,
		FixedVersion:     fixedLikeInstalled(p, h.fixed),
		Title:            adv.Summary,
		Description:      adv.Details,
		References:       adv.References,
		Published:        adv.Published,
		Modified:         adv.Modified,
		VendorSeverity:   adv.VendorSeverity,
		Evidence: []finding.Evidence{{
			Advisory:          adv.ID,
			Ecosystem:         q.ecosystem,
			MatchedName:       q.name,
			MatchedBy:         q.matchedBy,
			Range:             h.rangeText,
			Comparator:        comparator,
			DataSource:        adv.Source,
			DataSourceDate:    adv.Modified,
			EcosystemSpecific: adv.EcosystemSpecific,
		}},
	}
	switch {
	case adv.Status == "wont_fix":
		f.Status = vocab.StatusWontFix
	case h.fixed != "":
		f.Status = vocab.StatusFixed
	default:
		f.Status = vocab.StatusAffected
	}
	for _, s := range adv.Severity {
		score, ok := scores[s.Score]
		if !ok {
			sc, _, err := cvss.BaseScore(s.Score)
			if err != nil {
				sc = math.NaN()
			}
			scores[s.Score], score = sc, sc
		}
		if math.IsNaN(score) {
			continue
		}
		f.CVSS = append(f.CVSS, finding.CVSS{Version: cvssVersion(s), Vector: s.Score, Score: score, Source: "osv"})
	}
	// CVE enrichment: NVD and KEV.
	var nvd *vulndb.CVE
	for _, id := range f.AllIDs() {
		if !strings.HasPrefix(id, "CVE-") {
			continue
		}
		c, ok := cveCache[id]
		if !ok {
			got, found, err := m.DB.CVE(ctx, id)
			if err != nil {
				return f, fmt.Errorf("looking up %s: %w", id, err)
			}
			if found {
				c = &got
			}
			cveCache[id] = c
		}
		if c == nil {
			continue
		}
		if c.KEV {
			f.KEV = true
		}
		if nvd == nil && c.NVDVector != "" {
			nvd = c
		}
	}
	if nvd != nil {
		f.CVSS = append(f.CVSS, finding.CVSS{Version: nvd.NVDVersion, Vector: nvd.NVDVector, Score: nvd.NVDScore, Source: "nvd"})
	}
	f.Severity, f.SeveritySource = severity(adv.VendorSeverity, f.CVSS, nvd)
	return f, nil
}

// fixedLikeInstalled writes a fixed version the way the installed version
// is written: Go module versions carry a "v" ("v0.3.5") that the Go
// vulnerability database leaves out of its SEMVER events ("0.3.7").
func fixedLikeInstalled(p *inventory.Package, fixed string) string {
	if fixed != "" && p.Ecosystem == inventory.EcoGo && strings.HasPrefix(p.Version, "v") && !strings.HasPrefix(fixed, "v") {
		return "v" + fixed
	}
	return fixed
}

func cvssVersion(s vulndb.Severity) string {
	switch {
	case strings.HasPrefix(s.Score, "CVSS:3.1"):
		return "3.1"
	case strings.HasPrefix(s.Score, "CVSS:3.0"):
		return "3.0"
	case strings.HasPrefix(s.Score, "CVSS:4.0"):
		return "4.0"
	case s.Type == "CVSS_V2":
		return "2.0"
	}
	return s.Type
}

// severity chooses vendor severity first, then CVSS from the record, then NVD.
func severity(vendor string, scores []finding.CVSS, nvd *vulndb.CVE) (sev, source string) {
	if s := vocab.NormalizeSeverity(vendor); s != vocab.SevUnknown {
		return s, "vendor"
	}
	for _, c := range scores {
		if c.Source == "osv" {
			return vocab.SeverityFromScore(c.Score), "osv-cvss"
		}
	}
	if nvd != nil {
		if s := vocab.NormalizeSeverity(nvd.NVDSeverity); s != vocab.SevUnknown {
			return s, "nvd"
		}
		return vocab.SeverityFromScore(nvd.NVDScore), "nvd"
	}
	return vocab.SevUnknown, "none"
}

func refOf(p *inventory.Package) finding.PackageRef {
	r := finding.PackageRef{
		ID: p.ID, Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
		SourceName: p.SourceName, Path: p.PrimaryPath(), Owner: p.Owner, LayerIndex: -1,
	}
	if p.Layer != nil {
		r.LayerIndex = p.Layer.Index
		r.LayerDiffID = p.Layer.DiffID
	}
	return r
}

// mergeAliases folds findings of one package that describe the same flaw
// (sharing an ID or alias) into one.
func mergeAliases(fs []finding.Finding) []finding.Finding {
	if len(fs) < 2 {
		return fs
	}
	parent := make([]int, len(fs))
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	// Two records are the same flaw when one's ID is the other's ID or
	// alias (a GHSA aliasing a CVE record). Sharing only an alias is not
	// enough: two vendor errata (ALSA-2023:5453 and a later ALSA) may both
	// cite one CVE and are distinct advisories with distinct fixes.
	primary := map[string]int{}
	for i := range fs {
		if j, ok := primary[fs[i].ID]; ok {
			parent[find(i)] = find(j)
		} else {
			primary[fs[i].ID] = i
		}
	}
	for i := range fs {
		for _, id := range fs[i].Aliases {
			if j, ok := primary[id]; ok {
				parent[find(i)] = find(j)
			}
		}
	}
	groups := map[int][]int{}
	var roots []int
	for i := range fs {
		r := find(i)
		if _, ok := groups[r]; !ok {
			roots = append(roots, r)
		}
		groups[r] = append(groups[r], i)
	}
	out := make([]finding.Finding, 0, len(roots))
	for _, r := range roots {
		idx := groups[r]
		// Primary: the highest-severity record; ties broken by ID.
		slices.SortFunc(idx, func(a, b int) int {
			if d := vocab.SeverityRank(fs[b].Severity) - vocab.SeverityRank(fs[a].Severity); d != 0 {
				return d
			}
			return strings.Compare(fs[a].ID, fs[b].ID)
		})
		f := fs[idx[0]]
		ids := map[string]bool{}
		for _, i := range idx {
			for _, id := range fs[i].AllIDs() {
				ids[id] = true
			}
			if i == idx[0] {
				continue
			}
			f.Evidence = append(f.Evidence, fs[i].Evidence...)
			f.KEV = f.KEV || fs[i].KEV
			if f.FixedVersion == "" {
				f.FixedVersion = fs[i].FixedVersion
				if f.FixedVersion != "" && f.Status == vocab.StatusAffected {
					f.Status = vocab.StatusFixed
				}
			}
		}
		delete(ids, f.ID)
		f.Aliases = f.Aliases[:0]
		for id := range ids {
			f.Aliases = append(f.Aliases, id)
		}
		slices.Sort(f.Aliases)
		out = append(out, f)
	}
	return out
}

// SortFindings orders findings by severity (highest first), package, ID.
func SortFindings(fs []finding.Finding) {
	slices.SortStableFunc(fs, func(a, b finding.Finding) int {
		if d := vocab.SeverityRank(b.Severity) - vocab.SeverityRank(a.Severity); d != 0 {
			return d
		}
		if c := strings.Compare(a.Package.Name, b.Package.Name); c != 0 {
			return c
		}
		if c := strings.Compare(a.Package.ID, b.Package.ID); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}
