package vulndb

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"
)

// osvRecord is the subset of the OSV schema (1.0–1.7) that is imported.
type osvRecord struct {
	ID               string          `json:"id"`
	Modified         string          `json:"modified"`
	Published        string          `json:"published"`
	Withdrawn        string          `json:"withdrawn"`
	Aliases          []string        `json:"aliases"`
	Related          []string        `json:"related"`
	Upstream         []string        `json:"upstream"`
	Summary          string          `json:"summary"`
	Details          string          `json:"details"`
	Severity         []osvSeverity   `json:"severity"`
	Affected         []osvAffected   `json:"affected"`
	References       []osvReference  `json:"references"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type osvSeverity struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type osvReference struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type osvAffected struct {
	Package struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
		PURL      string `json:"purl"`
	} `json:"package"`
	Severity          []osvSeverity   `json:"severity"`
	Ranges            []osvRange      `json:"ranges"`
	Versions          []string        `json:"versions"`
	EcosystemSpecific json.RawMessage `json:"ecosystem_specific"`
	DatabaseSpecific  json.RawMessage `json:"database_specific"`
}

type osvRange struct {
	Type   string  `json:"type"`
	Events []Event `json:"events"`
}

// vendorPrefix matches the Red Hat family summary prefix ("Important: glibc
// security update"), used by AlmaLinux, Rocky and Red Hat OSV records.
var vendorPrefix = regexp.MustCompile(`^(Critical|Important|Moderate|Low):\s`)

// ParseOSV converts one OSV JSON record into one Advisory per (ecosystem,
// package), sorted by ecosystem then package. A withdrawn record yields no
// advisories and withdrawn = true. GIT ranges are dropped; an affected entry
// left without ranges and versions is dropped too. source is stored in
// Advisory.Source.
func ParseOSV(data []byte, source string) (advs []Advisory, withdrawn bool, err error) {
	var rec osvRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return nil, false, fmt.Errorf("decoding OSV record: %w", err)
	}
	if strings.TrimSpace(rec.ID) == "" {
		return nil, false, errors.New("OSV record has no id")
	}
	if rec.Withdrawn != "" {
		return nil, true, nil
	}
	published, err := parseOSVTime(rec.Published)
	if err != nil {
		return nil, false, fmt.Errorf("record %s: published: %w", rec.ID, err)
	}
	modified, err := parseOSVTime(rec.Modified)
	if err != nil {
		return nil, false, fmt.Errorf("record %s: modified: %w", rec.ID, err)
	}

	base := Advisory{
		Class:      osvClass(&rec),
		ID:         rec.ID,
		Aliases:    osvAliases(&rec),
		Summary:    rec.Summary,
		Details:    truncateUTF8(rec.Details, MaxDetails),
		Published:  published,
		Modified:   modified,
		References: osvReferences(rec.References),
		Source:     source,
	}
	var recVendor string
	if m := vendorPrefix.FindStringSubmatch(rec.Summary); m != nil {
		recVendor = m[1]
	}
	recSev, sevVendor := osvSeverities(rec.Severity)
	if recVendor == "" {
		recVendor = sevVendor
	}
	recStatus := statusFrom(rec.DatabaseSpecific)

	byPkg := map[[2]string]int{}
	for i := range rec.Affected {
		a := &rec.Affected[i]
		eco, name := a.Package.Ecosystem, a.Package.Name
		if eco == "" || name == "" {
			continue
		}
		var ranges []Range
		for _, r := range a.Ranges {
			if (r.Type == "ECOSYSTEM" || r.Type == "SEMVER") && len(r.Events) > 0 {
				ranges = append(ranges, Range{Type: r.Type, Events: slices.Clone(r.Events)})
			}
		}
		if len(ranges) == 0 && len(a.Versions) == 0 {
			continue
		}
		key := [2]string{eco, name}
		idx, seen := byPkg[key]
		if !seen {
			adv := base
			adv.Aliases = slices.Clone(base.Aliases)
			adv.References = slices.Clone(base.References)
			adv.Ecosystem = eco
			adv.Package = name
			adv.PURL = a.Package.PURL
			adv.Severity = slices.Clone(recSev)
			adv.VendorSeverity = recVendor
			adv.Status = recStatus
			advs = append(advs, adv)
			idx = len(advs) - 1
			byPkg[key] = idx
		}
		adv := &advs[idx]
		adv.Ranges = append(adv.Ranges, ranges...)
		adv.Versions = append(adv.Versions, a.Versions...)
		affSev, affVendor := osvSeverities(a.Severity)
		adv.Severity = appendUniqueSev(adv.Severity, affSev...)
		if v := affectedVendorSeverity(a.EcosystemSpecific); v != "" {
			adv.VendorSeverity = v
		} else if affVendor != "" {
			adv.VendorSeverity = affVendor
		}
		if s := statusFrom(a.EcosystemSpecific, a.DatabaseSpecific); s != "" {
			adv.Status = s
		}
		if adv.EcosystemSpecific == nil {
			adv.EcosystemSpecific = compactJSON(a.EcosystemSpecific)
		} else {
			adv.EcosystemSpecific = joinImports(adv.EcosystemSpecific, a.EcosystemSpecific)
		}
		if adv.PURL == "" {
			adv.PURL = a.Package.PURL
		}
	}
	for i := range advs {
		advs[i].Versions = sortedUnique(advs[i].Versions)
	}
	slices.SortFunc(advs, func(a, b Advisory) int {
		return cmp.Or(cmp.Compare(a.Ecosystem, b.Ecosystem), cmp.Compare(a.Package, b.Package))
	})
	return advs, false, nil
}

// osvClass tells a malicious-package record from a vulnerability: OpenSSF's
// records have MAL- IDs and list where each report came from in
// database_specific["malicious-packages-origins"].
func osvClass(rec *osvRecord) string {
	if strings.HasPrefix(rec.ID, "MAL-") {
		return ClassMalicious
	}
	if _, ok := jsonObject(rec.DatabaseSpecific)["malicious-packages-origins"]; ok {
		return ClassMalicious
	}
	return ""
}

// parseOSVTime accepts RFC 3339 with or without fractional seconds and, to be
// lenient with hand-converted data, a bare date or a time without zone (UTC).
func parseOSVTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid time %q", s)
}

// osvAliases is aliases ∪ upstream, plus the CVE ids of related when the
// record has no CVE id of its own (AlmaLinux, Rocky and Ubuntu put the CVEs
// there; for Go or GHSA records "related" are different vulnerabilities).
func osvAliases(rec *osvRecord) []string {
	var out []string
	hasCVE := strings.HasPrefix(rec.ID, "CVE-")
	for _, list := range [][]string{rec.Aliases, rec.Upstream} {
		for _, a := range list {
			a = strings.TrimSpace(a)
			if a == "" || a == rec.ID {
				continue
			}
			hasCVE = hasCVE || strings.HasPrefix(a, "CVE-")
			out = append(out, a)
		}
	}
	if !hasCVE {
		for _, a := range rec.Related {
			a = strings.TrimSpace(a)
			if strings.HasPrefix(a, "CVE-") && a != rec.ID {
				out = append(out, a)
			}
		}
	}
	return sortedUnique(out)
}

func osvReferences(refs []osvReference) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range refs {
		if r.URL == "" || seen[r.URL] {
			continue
		}
		seen[r.URL] = true
		out = append(out, r.URL)
		if len(out) == MaxReferences {
			break
		}
	}
	return out
}

// osvSeverities keeps the CVSS entries and returns a vendor rating found in
// the list (Ubuntu publishes {"type":"Ubuntu","score":"medium"}).
func osvSeverities(in []osvSeverity) (scores []Severity, vendor string) {
	for _, s := range in {
		switch s.Type {
		case "CVSS_V2", "CVSS_V3", "CVSS_V4":
			if s.Score != "" {
				scores = appendUniqueSev(scores, Severity{Type: s.Type, Score: s.Score})
			}
		case "Ubuntu":
			if vendor == "" {
				vendor = vendorWord(s.Score)
			}
		}
	}
	return scores, vendor
}

func appendUniqueSev(dst []Severity, add ...Severity) []Severity {
	for _, s := range add {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}

// affectedVendorSeverity reads the vendor rating from ecosystem_specific:
// Debian's "urgency" and Ubuntu's "ubuntu_priority".
func affectedVendorSeverity(raw json.RawMessage) string {
	m := jsonObject(raw)
	for _, k := range []string{"urgency", "ubuntu_priority", "priority", "severity"} {
		if s, ok := m[k].(string); ok {
			if v := vendorWord(s); v != "" {
				return v
			}
		}
	}
	return ""
}

// vendorWord cleans a vendor rating; placeholders mean "none".
func vendorWord(s string) string {
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "", "not yet assigned", "untriaged", "unknown", "none", "n/a":
		return ""
	}
	// Debian marks some urgencies with a trailing "*" or "**".
	return strings.TrimRight(s, "*")
}

// statusFrom finds a fix status in vendor-specific objects. Keys "status",
// "fix_status", "fix_state" and "state" are read; values naming a decision not
// to fix map to "wont_fix", values naming an open issue to "unfixed".
func statusFrom(raws ...json.RawMessage) string {
	for _, raw := range raws {
		m := jsonObject(raw)
		for _, k := range []string{"fix_status", "fix_state", "status", "state"} {
			s, ok := m[k].(string)
			if !ok {
				continue
			}
			switch norm := strings.NewReplacer(" ", "_", "-", "_", "'", "").Replace(strings.ToLower(strings.TrimSpace(s))); norm {
			case "wont_fix", "will_not_fix", "wontfix", "ignored", "out_of_support_scope", "end_of_life":
				return "wont_fix"
			case "unfixed", "affected", "open", "fix_deferred", "deferred", "no_fix", "needs_triage", "under_investigation", "pending":
				return "unfixed"
			}
		}
	}
	return ""
}

func jsonObject(raw json.RawMessage) map[string]any {
	if len(raw) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// joinImports adds the "imports" of another affected entry of the same
// package to es (the Go database lists the vulnerable packages and symbols
// there, and a record may give different ones per version range, e.g.
// GO-2023-1497): the union, without duplicates, so that Go reachability
// errs towards "present". Anything else of es is kept as it is.
func joinImports(es, other json.RawMessage) json.RawMessage {
	var a, b map[string]json.RawMessage
	if json.Unmarshal(es, &a) != nil || json.Unmarshal(other, &b) != nil || len(b["imports"]) == 0 {
		return es
	}
	var ai, bi []json.RawMessage
	if json.Unmarshal(a["imports"], &ai) != nil && len(a["imports"]) > 0 || json.Unmarshal(b["imports"], &bi) != nil {
		return es
	}
	seen := map[string]bool{}
	var out []json.RawMessage
	for _, imp := range append(ai, bi...) {
		c := compactJSON(imp)
		if c == nil || seen[string(c)] {
			continue
		}
		seen[string(c)] = true
		out = append(out, c)
	}
	joined, err := json.Marshal(out)
	if err != nil {
		return es
	}
	a["imports"] = joined
	res, err := json.Marshal(a)
	if err != nil {
		return es
	}
	return res
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return nil
	}
	switch buf.String() {
	case "null", "{}", "[]":
		return nil
	}
	return buf.Bytes()
}

func sortedUnique(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// OSVStats counts what an OSV zip held.
type OSVStats struct {
	Records    int // records imported (not withdrawn, at least one package)
	Withdrawn  int // withdrawn records skipped
	NoPackage  int // records with no usable affected package (e.g. GIT only)
	Advisories int // (ecosystem, package) advisories produced
}

// maxRecordSize bounds one uncompressed OSV record (the largest real ones are
// a few MB); a larger entry is treated as corrupt.
const maxRecordSize = 64 << 20

// ReadOSVZip streams the records of an OSV all.zip, calling fn with the
// advisories of each record. name identifies the zip in errors (its URL or
// path); source is stored in Advisory.Source.
func ReadOSVZip(ctx context.Context, r io.ReaderAt, size int64, name, source string, fn func([]Advisory) error) (OSVStats, error) {
	var st OSVStats
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return st, fmt.Errorf("reading OSV zip %q: %w", name, err)
	}
	files := slices.Clone(zr.File)
	slices.SortFunc(files, func(a, b *zip.File) int { return cmp.Compare(a.Name, b.Name) })
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if f.FileInfo().IsDir() || !strings.EqualFold(path.Ext(f.Name), ".json") {
			continue
		}
		if f.UncompressedSize64 > maxRecordSize {
			return st, fmt.Errorf("reading OSV zip %q: entry %q: %d bytes is too large", name, f.Name, f.UncompressedSize64)
		}
		data, err := readZipFile(f)
		if err != nil {
			return st, fmt.Errorf("reading OSV zip %q: entry %q: %w", name, f.Name, err)
		}
		advs, withdrawn, err := ParseOSV(data, source)
		if err != nil {
			return st, fmt.Errorf("reading OSV zip %q: entry %q: %w", name, f.Name, err)
		}
		switch {
		case withdrawn:
			st.Withdrawn++
			continue
		case len(advs) == 0:
			st.NoPackage++
			continue
		}
		st.Records++
		st.Advisories += len(advs)
		if err := fn(advs); err != nil {
			return st, err
		}
	}
	return st, nil
}

func readZipFile(f *zip.File) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxRecordSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRecordSize {
		return nil, fmt.Errorf("more than %d bytes", maxRecordSize)
	}
	return data, nil
}
