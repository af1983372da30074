package policy

import (
	"strconv"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/license"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// The types below are the values bound to CEL variables. Field names in CEL
// are the `cel` tags; the CEL type checker rejects unknown fields and
// mistyped comparisons when a policy is loaded.

// FindingInput is the CEL variable `finding`.
type FindingInput struct {
	ID               string       `cel:"id"`
	Key              string       `cel:"key"` // "<id>@<package id>"
	Aliases          []string     `cel:"aliases"`
	Severity         string       `cel:"severity"`
	VendorSeverity   string       `cel:"vendor_severity"`
	CVSSScore        float64      `cel:"cvss_score"` // highest score of any CVSS assessment, 0 if none
	Status           string       `cel:"status"`
	FixedVersion     string       `cel:"fixed_version"`
	InstalledVersion string       `cel:"installed_version"`
	KEV              bool         `cel:"kev"`
	Title            string       `cel:"title"`
	Published        time.Time    `cel:"published"`
	Package          PackageRefIn `cel:"package"`
	DataSource       string       `cel:"data_source"`
	VEXStatus        string       `cel:"vex_status"` // status of the VEX statement applied, "" if none
	// Reachability is the status of the Go reachability annotation
	// ("symbol-present", "package-imported", "module-only", "unknown"), ""
	// if none.
	Reachability string `cel:"reachability"`
	Suppressed   bool   `cel:"suppressed"`
	Filtered     bool   `cel:"filtered"`
}

// PackageRefIn is `finding.package`.
type PackageRefIn struct {
	ID         string `cel:"id"`
	Name       string `cel:"name"`
	Version    string `cel:"version"`
	Ecosystem  string `cel:"ecosystem"`
	PURL       string `cel:"purl"`
	SourceName string `cel:"source_name"`
	LayerIndex int    `cel:"layer_index"`
	Path       string `cel:"path"`
}

// PackageInput is the CEL variable `pkg` (CEL reserves the word package).
type PackageInput struct {
	ID         string            `cel:"id"`
	Name       string            `cel:"name"`
	Version    string            `cel:"version"`
	Ecosystem  string            `cel:"ecosystem"`
	PURL       string            `cel:"purl"`
	SourceName string            `cel:"source_name"`
	Arch       string            `cel:"arch"`
	Licenses   []string          `cel:"licenses"`
	LayerIndex int               `cel:"layer_index"` // -1 when unknown
	Path       string            `cel:"path"`
	Declared   bool              `cel:"declared"`
	FoundBy    string            `cel:"found_by"`
	Metadata   map[string]string `cel:"metadata"`
	// Vulnerabilities are the IDs of the package's findings that are neither
	// suppressed nor filtered.
	Vulnerabilities []string `cel:"vulnerabilities"`

	// LicenseExpression, LicenseIDs and LicenseCategories are the
	// licences read as SPDX (internal/license): "GPL-2.0-or-later AND
	// LicenseRef-BSD", each licence of it, and each one's category
	// (forbidden, restricted, reciprocal, notice, permissive, unencumbered,
	// unknown) in the same order.
	LicenseExpression string   `cel:"license_expression"`
	LicenseIDs        []string `cel:"license_ids"`
	LicenseCategories []string `cel:"license_categories"`
}

// ImageInput is the CEL variable `image`.
type ImageInput struct {
	Reference string      `cel:"reference"`
	Name      string      `cel:"name"`
	Digest    string      `cel:"digest"`
	RepoTags  []string    `cel:"repo_tags"`
	OS        string      `cel:"os"`
	Arch      string      `cel:"arch"`
	Created   time.Time   `cel:"created"`
	AgeDays   int         `cel:"age_days"` // -1 when the creation time is unknown
	Layers    int         `cel:"layers"`
	Config    ConfigInput `cel:"config"`
	Distro    DistroInput `cel:"distro"`
	// Signature, Attestations and Provenance are the verify stage's
	// result for the scanned digest (internal/policy/supplychain.go);
	// empty when verification did not run.
	Signature    SignatureInput     `cel:"signature"`
	Attestations []AttestationInput `cel:"attestations"`
	Provenance   []ProvenanceInput  `cel:"provenance"`
}

// ConfigInput is `image.config`.
type ConfigInput struct {
	User         string            `cel:"user"`
	Env          []string          `cel:"env"`
	Entrypoint   []string          `cel:"entrypoint"`
	Cmd          []string          `cel:"cmd"`
	WorkingDir   string            `cel:"working_dir"`
	ExposedPorts []string          `cel:"exposed_ports"`
	Labels       map[string]string `cel:"labels"`
	Healthcheck  []string          `cel:"healthcheck"`
}

// DistroInput is `image.distro`; all fields are "" when no OS was detected.
type DistroInput struct {
	ID         string `cel:"id"`
	VersionID  string `cel:"version_id"`
	Release    string `cel:"release"`
	PrettyName string `cel:"pretty_name"`
}

// CountsInput is the CEL variable `counts`: findings, secrets and
// misconfigurations that are neither suppressed nor filtered.
type CountsInput struct {
	Critical   int `cel:"critical"`
	High       int `cel:"high"`
	Medium     int `cel:"medium"`
	Low        int `cel:"low"`
	Negligible int `cel:"negligible"`
	Unknown    int `cel:"unknown"`
	Total      int `cel:"total"`
	Suppressed int `cel:"suppressed"` // findings suppressed or filtered
	KEV        int `cel:"kev"`
	Secrets    int `cel:"secrets"`
	Misconfigs int `cel:"misconfigs"`
	// Malware counts the malware findings no ignore entry allowed.
	Malware int `cel:"malware"`
	// CoverageGaps is len(coverage.gaps).
	CoverageGaps int `cel:"coverage_gaps"`
}

// CoverageInput is the CEL variable `coverage`: whether the advisory
// database covered everything the scan found.
type CoverageInput struct {
	// Complete is true when no ecosystem of the image lacks advisories,
	// lacks an advisory source, or was read in part. It is also true when
	// no vulnerability matching ran (an inventory-only scan has no coverage
	// to judge).
	Complete bool `cel:"complete"`
	// Gaps are the ecosystems that are not completely covered.
	Gaps []CoverageGapInput `cel:"gaps"`
}

// CoverageGapInput is one element of `coverage.gaps`.
type CoverageGapInput struct {
	Ecosystem  string   `cel:"ecosystem"`
	OS         bool     `cel:"os"`
	Status     string   `cel:"status"` // "partial", "no-advisories", "unsupported"
	Packages   int      `cel:"packages"`
	Advisories int      `cel:"advisories"`
	Reasons    []string `cel:"reasons"`
}

// SecretInput is the CEL variable `secret`.
type SecretInput struct {
	RuleID         string `cel:"rule_id"`
	Title          string `cel:"title"`
	Severity       string `cel:"severity"`
	Category       string `cel:"category"`
	Source         string `cel:"source"`
	Path           string `cel:"path"`
	Line           int    `cel:"line"`
	LayerIndex     int    `cel:"layer_index"`
	DeletedLater   bool   `cel:"deleted_later"`
	DeletedInLayer int    `cel:"deleted_in_layer"` // -1 when not deleted
	Suppressed     bool   `cel:"suppressed"`
	Filtered       bool   `cel:"filtered"`
}

// MisconfigInput is the CEL variable `misconfig`.
type MisconfigInput struct {
	ID         string   `cel:"id"`
	Title      string   `cel:"title"`
	Severity   string   `cel:"severity"`
	CIS        string   `cel:"cis"`
	Evidence   []string `cel:"evidence"`
	Suppressed bool     `cel:"suppressed"`
	Filtered   bool     `cel:"filtered"`
}

// MalwareInput is the CEL variable `malware`: a malicious package or a
// known-bad file.
type MalwareInput struct {
	Kind    string   `cel:"kind"` // "package" or "file"
	ID      string   `cel:"id"`
	Key     string   `cel:"key"` // "<id>@<package id>" or "<id>@<path>"
	Aliases []string `cel:"aliases"`
	Title   string   `cel:"title"`
	Engine  string   `cel:"engine"` // "malicious-package-record", "hash", "clamav"
	Source  string   `cel:"source"`
	// Package is the malicious package (all fields "" and layer_index -1
	// for a file).
	Package PackageRefIn `cel:"package"`
	// Path is the file's path, or the package's.
	Path           string `cel:"path"`
	SHA256         string `cel:"sha256"`
	Size           int    `cel:"size"`
	LayerIndex     int    `cel:"layer_index"`
	DeletedLater   bool   `cel:"deleted_later"`
	DeletedInLayer int    `cel:"deleted_in_layer"` // -1 when not deleted
	// Allowed: an ignore entry naming its ID allowed it.
	Allowed bool `cel:"allowed"`
}

func hasKind(as []finding.Annotation, kind string) bool {
	for _, a := range as {
		if a.Kind == kind {
			return true
		}
	}
	return false
}

// visible reports whether an item counts: neither suppressed nor filtered.
func visible(as []finding.Annotation) bool {
	return !hasKind(as, vocab.AnnotationSuppressed) && !hasKind(as, vocab.AnnotationFiltered)
}

func vexStatus(as []finding.Annotation) string {
	return annotationStatus(as, vocab.AnnotationVEX)
}

// annotationStatus is the Status of the last annotation of a kind, or "".
func annotationStatus(as []finding.Annotation, kind string) string {
	st := ""
	for _, a := range as {
		if a.Kind == kind {
			st = a.Status
		}
	}
	return st
}

func findingInput(f *finding.Finding) FindingInput {
	in := FindingInput{
		ID:               f.ID,
		Key:              f.Key(),
		Aliases:          nonNil(f.Aliases),
		Severity:         f.Severity,
		VendorSeverity:   f.VendorSeverity,
		Status:           f.Status,
		FixedVersion:     f.FixedVersion,
		InstalledVersion: f.InstalledVersion,
		KEV:              f.KEV,
		Title:            f.Title,
		Published:        f.Published,
		Package: PackageRefIn{
			ID:         f.Package.ID,
			Name:       f.Package.Name,
			Version:    f.Package.Version,
			Ecosystem:  f.Package.Ecosystem,
			PURL:       f.Package.PURL,
			SourceName: f.Package.SourceName,
			LayerIndex: f.Package.LayerIndex,
			Path:       f.Package.Path,
		},
		VEXStatus:    vexStatus(f.Annotations),
		Reachability: annotationStatus(f.Annotations, vocab.AnnotationReachability),
		Suppressed:   hasKind(f.Annotations, vocab.AnnotationSuppressed),
		Filtered:     hasKind(f.Annotations, vocab.AnnotationFiltered),
	}
	for _, c := range f.CVSS {
		in.CVSSScore = max(in.CVSSScore, c.Score)
	}
	if len(f.Evidence) > 0 {
		in.DataSource = f.Evidence[0].DataSource
	}
	return in
}

func packageInput(p *inventory.Package, vulns []string) PackageInput {
	in := PackageInput{
		ID:              p.ID,
		Name:            p.Name,
		Version:         p.Version,
		Ecosystem:       p.Ecosystem,
		PURL:            p.PURL,
		SourceName:      p.SourceName,
		Arch:            p.Arch,
		Licenses:        nonNil(p.Licenses),
		LayerIndex:      -1,
		Path:            p.PrimaryPath(),
		Declared:        p.Declared,
		FoundBy:         p.FoundBy,
		Metadata:        p.Metadata,
		Vulnerabilities: nonNil(vulns),
	}
	lic := license.Of(p.Licenses)
	in.LicenseExpression = lic.Expression
	in.LicenseIDs, in.LicenseCategories = []string{}, []string{}
	for _, l := range lic.Licenses {
		in.LicenseIDs = append(in.LicenseIDs, l.ID)
		in.LicenseCategories = append(in.LicenseCategories, string(l.Category))
	}
	if p.Layer != nil {
		in.LayerIndex = p.Layer.Index
	}
	if in.Metadata == nil {
		in.Metadata = map[string]string{}
	}
	return in
}

func imageInput(r *result.Result, now time.Time) ImageInput {
	img := &r.Image
	in := ImageInput{
		Reference: img.Reference,
		Name:      img.Name,
		Digest:    img.Digest,
		RepoTags:  nonNil(img.RepoTags),
		OS:        img.OS,
		Arch:      img.Arch,
		Created:   img.Created,
		AgeDays:   -1,
		Layers:    len(img.Layers),
		Config: ConfigInput{
			User:         img.Config.User,
			Env:          nonNil(img.Config.Env),
			Entrypoint:   nonNil(img.Config.Entrypoint),
			Cmd:          nonNil(img.Config.Cmd),
			WorkingDir:   img.Config.WorkingDir,
			ExposedPorts: nonNil(img.Config.ExposedPorts),
			Labels:       img.Config.Labels,
			Healthcheck:  nonNil(img.Config.Healthcheck),
		},
	}
	if in.Config.Labels == nil {
		in.Config.Labels = map[string]string{}
	}
	in.Signature = signatureInput(r.SupplyChain)
	in.Attestations = attestationInputs(r.SupplyChain)
	in.Provenance = provenanceInputs(r.SupplyChain)
	if !img.Created.IsZero() {
		in.AgeDays = max(0, int(now.Sub(img.Created).Hours()/24))
	}
	if d := r.Distro; d != nil {
		in.Distro = DistroInput{ID: d.ID, VersionID: d.VersionID, Release: d.Release, PrettyName: d.PrettyName}
	}
	return in
}

func coverageInput(r *result.Result) CoverageInput {
	in := CoverageInput{Complete: true, Gaps: []CoverageGapInput{}}
	for _, c := range r.CoverageGaps() {
		in.Complete = false
		in.Gaps = append(in.Gaps, CoverageGapInput{Ecosystem: c.Ecosystem, OS: c.OS, Status: c.Status,
			Packages: c.Packages, Advisories: c.Advisories, Reasons: nonNil(c.Reasons)})
	}
	return in
}

func secretInput(s *finding.Secret) SecretInput {
	in := SecretInput{
		RuleID:         s.RuleID,
		Title:          s.Title,
		Severity:       s.Severity,
		Category:       s.Category,
		Source:         s.Source,
		Path:           s.Path,
		Line:           s.Line,
		LayerIndex:     s.LayerIndex,
		DeletedInLayer: -1,
		Suppressed:     hasKind(s.Annotations, vocab.AnnotationSuppressed),
		Filtered:       hasKind(s.Annotations, vocab.AnnotationFiltered),
	}
	if s.DeletedInLayer != nil {
		in.DeletedLater = true
		in.DeletedInLayer = *s.DeletedInLayer
	}
	return in
}

func misconfigInput(m *finding.Misconfig) MisconfigInput {
	return MisconfigInput{
		ID:         m.ID,
		Title:      m.Title,
		Severity:   m.Severity,
		CIS:        m.CIS,
		Evidence:   nonNil(m.Evidence),
		Suppressed: hasKind(m.Annotations, vocab.AnnotationSuppressed),
		Filtered:   hasKind(m.Annotations, vocab.AnnotationFiltered),
	}
}

func malwareInput(m *finding.Malware) MalwareInput {
	in := MalwareInput{
		Kind:           m.Kind,
		ID:             m.ID,
		Key:            m.Key(),
		Aliases:        nonNil(m.Aliases),
		Title:          m.Title,
		Engine:         m.Engine,
		Source:         m.Source,
		Package:        PackageRefIn{LayerIndex: -1},
		Path:           m.Path,
		SHA256:         m.SHA256,
		Size:           int(m.Size),
		LayerIndex:     m.LayerIndex,
		DeletedInLayer: -1,
		Allowed:        !visible(m.Annotations),
	}
	if p := m.Package; p != nil {
		in.Package = PackageRefIn{ID: p.ID, Name: p.Name, Version: p.Version, Ecosystem: p.Ecosystem, PURL: p.PURL,
			SourceName: p.SourceName, LayerIndex: p.LayerIndex, Path: p.Path}
		in.Path = p.Path
	}
	if m.DeletedInLayer != nil {
		in.DeletedLater = true
		in.DeletedInLayer = *m.DeletedInLayer
	}
	return in
}

func countsInput(r *result.Result) CountsInput {
	var c CountsInput
	for i := range r.Findings {
		f := &r.Findings[i]
		if !visible(f.Annotations) {
			c.Suppressed++
			continue
		}
		c.Total++
		if f.KEV {
			c.KEV++
		}
		switch f.Severity {
		case vocab.SevCritical:
			c.Critical++
		case vocab.SevHigh:
			c.High++
		case vocab.SevMedium:
			c.Medium++
		case vocab.SevLow:
			c.Low++
		case vocab.SevNegligible:
			c.Negligible++
		default:
			c.Unknown++
		}
	}
	for i := range r.Secrets {
		if visible(r.Secrets[i].Annotations) {
			c.Secrets++
		}
	}
	for i := range r.Misconfigs {
		if visible(r.Misconfigs[i].Annotations) {
			c.Misconfigs++
		}
	}
	for i := range r.Malware {
		if visible(r.Malware[i].Annotations) {
			c.Malware++
		}
	}
	c.CoverageGaps = len(r.CoverageGaps())
	return c
}

// SecretKey is the target key of a secret in a verdict:
// "<rule id>@<path>:<line>", or "<rule id>@<source>" for secrets found in the
// image configuration or history.
func SecretKey(s *finding.Secret) string {
	loc := s.Path
	if loc == "" {
		loc = s.Source
	}
	if s.Line > 0 {
		loc += ":" + strconv.Itoa(s.Line)
	}
	return s.RuleID + "@" + loc
}

// findingFields returns the {{name}} values of a finding's messages; the
// other *Fields functions do the same for the other kinds.
func findingFields(in *FindingInput) map[string]string {
	return map[string]string{
		"id": in.ID, "key": in.Key, "aliases": strings.Join(in.Aliases, ", "),
		"severity": in.Severity, "vendor_severity": in.VendorSeverity,
		"cvss_score": strconv.FormatFloat(in.CVSSScore, 'f', -1, 64),
		"status":     in.Status, "fixed_version": in.FixedVersion,
		"installed_version": in.InstalledVersion, "version": in.InstalledVersion,
		"package": in.Package.Name, "purl": in.Package.PURL, "ecosystem": in.Package.Ecosystem,
		"path": in.Package.Path, "layer_index": strconv.Itoa(in.Package.LayerIndex),
		"title": in.Title, "data_source": in.DataSource, "reachability": in.Reachability,
	}
}

func packageFields(in *PackageInput) map[string]string {
	return map[string]string{
		"id": in.ID, "name": in.Name, "package": in.Name, "version": in.Version,
		"ecosystem": in.Ecosystem, "purl": in.PURL, "path": in.Path,
		"licenses": strings.Join(in.Licenses, ", "), "license_expression": in.LicenseExpression,
		"layer_index":     strconv.Itoa(in.LayerIndex),
		"vulnerabilities": strings.Join(in.Vulnerabilities, ", "),
	}
}

func imageFields(in *ImageInput) map[string]string {
	created := ""
	if !in.Created.IsZero() {
		created = in.Created.UTC().Format(time.RFC3339)
	}
	return map[string]string{
		"reference": in.Reference, "name": in.Name, "digest": in.Digest, "os": in.OS, "arch": in.Arch,
		"user": in.Config.User, "age_days": strconv.Itoa(in.AgeDays), "layers": strconv.Itoa(in.Layers),
		"created": created, "distro": strings.TrimSpace(in.Distro.ID + " " + in.Distro.VersionID),
		"signature_verified": strconv.FormatBool(in.Signature.Verified),
		"signer":             strings.Join(in.Signature.Identities, ", "),
	}
}

func secretFields(in *SecretInput) map[string]string {
	return map[string]string{
		"id": in.RuleID, "rule_id": in.RuleID, "title": in.Title, "severity": in.Severity,
		"category": in.Category, "source": in.Source, "path": in.Path, "line": strconv.Itoa(in.Line),
		"layer_index": strconv.Itoa(in.LayerIndex),
	}
}

func malwareFields(in *MalwareInput) map[string]string {
	return map[string]string{
		"id": in.ID, "key": in.Key, "kind": in.Kind, "title": in.Title, "engine": in.Engine, "source": in.Source,
		"package": in.Package.Name, "version": in.Package.Version, "purl": in.Package.PURL, "ecosystem": in.Package.Ecosystem,
		"path": in.Path, "sha256": in.SHA256, "layer_index": strconv.Itoa(in.LayerIndex),
		"aliases": strings.Join(in.Aliases, ", "),
	}
}

func misconfigFields(in *MisconfigInput) map[string]string {
	return map[string]string{
		"id": in.ID, "title": in.Title, "severity": in.Severity, "cis": in.CIS,
		"evidence": strings.Join(in.Evidence, "; "),
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
