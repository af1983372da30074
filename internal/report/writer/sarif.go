package writer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/sbom"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// sarifBaseID is the uriBaseId of artifact locations: paths are relative to
// the image's root filesystem.
const sarifBaseID = "ROOTPATH"

// fingerprintKey names drydock's partial fingerprint.
const fingerprintKey = "drydockFindingHash/v1"

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(sev string) string {
	switch sev {
	case vocab.SevCritical, vocab.SevHigh:
		return "error"
	case vocab.SevMedium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the rule property GitHub code scanning turns into a
// security severity (over 9.0 critical, 7.0–8.9 high, 4.0–6.9 medium, 3.9
// or less low); a rule without it shows only the SARIF level
// (error/warning/note), like a code-quality finding. Every rule gets one:
// the CVSS score when there is one, else a score typical of the level.
// UNKNOWN gets "0.0", the bottom of the 0.0–10.0 range GitHub documents
// (and Trivy's value for it): the alert shows as a low security alert,
// ranked below every assessed one, and keeps its "UNKNOWN" tag; a higher
// value would invent a severity no source gave.
func securitySeverity(sev string, cvss float64) string {
	if cvss > 0 {
		return strconv.FormatFloat(cvss, 'f', 1, 64)
	}
	switch sev {
	case vocab.SevCritical:
		return "9.5"
	case vocab.SevHigh:
		return "8.0"
	case vocab.SevMedium:
		return "5.5"
	case vocab.SevLow:
		return "2.0"
	case vocab.SevNegligible:
		return "0.5"
	}
	return "0.0"
}

// sarifURI turns an absolute image path into a relative URI reference
// (GitHub rejects absolute paths), each segment percent-escaped.
func sarifURI(path string) string {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for i, s := range segs {
		// A colon in the first segment would read as a URI scheme.
		segs[i] = strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
	}
	return strings.Join(segs, "/")
}

// imageURI is the location of findings that have no file: the image's
// repository name as a relative path.
func imageURI(r *report.Report) string {
	name := r.Image.Name
	if name == "" {
		name = r.ImageName()
	}
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	if name == "" {
		return "image"
	}
	return sarifURI(name)
}

func ptr[T any](v T) *T { return &v }

func sarifLocation(uri string, line int) *sarif.Location {
	if line < 1 {
		line = 1
	}
	return &sarif.Location{PhysicalLocation: &sarif.PhysicalLocation{
		ArtifactLocation: &sarif.ArtifactLocation{URI: ptr(uri), URIBaseId: ptr(sarifBaseID)},
		Region:           &sarif.Region{StartLine: ptr(line), StartColumn: ptr(1), EndLine: ptr(line), EndColumn: ptr(1)},
	}}
}

func text(s string) *sarif.MultiformatMessageString {
	return &sarif.MultiformatMessageString{Text: ptr(s)}
}

func fingerprint(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

// SARIF writes SARIF 2.1.0 for GitHub code scanning and other viewers: one
// rule per vulnerability ID, secret rule and misconfiguration; one result
// per finding located at the package's file (relative to ROOTPATH, the image
// root), with a stable partial fingerprint; the policy verdict in
// run.properties and invocation.executionSuccessful; the advisory coverage
// in run.properties ("coverage", "coverageGaps") and each coverage gap as a
// warning notification of the invocation (toolExecutionNotifications, SARIF
// 2.1.0 §3.20.21: a runtime condition of the tool, not a result in the
// image; "warning", not "error", which §3.20.21 makes mean that the run
// failed). The supply-chain section is in run.properties ("supplyChain",
// "signature"); an image without the verified signature that was required
// is a result of rule gate:signature, and an unverified one that was not
// required a warning notification (sarifSupplyChain).
func SARIF(w io.Writer, r *report.Report, opt Options) error {
	r = r.Normalized()
	tool := r.Tool
	if tool.Name == "" {
		tool.Name = "drydock"
	}
	driver := &sarif.ToolComponent{
		Name:           tool.Name,
		FullName:       ptr(tool.Name + " container image scanner"),
		InformationURI: ptr(sbom.InformationURI),
		Rules:          []*sarif.ReportingDescriptor{},
	}
	if tool.Version != "" {
		driver.Version = ptr(tool.Version)
		driver.SemanticVersion = ptr(strings.TrimPrefix(tool.Version, "v"))
	}
	run := &sarif.Run{
		Tool:               sarif.Tool{Driver: driver},
		Results:            []*sarif.Result{},
		OriginalUriBaseIDs: map[string]*sarif.ArtifactLocation{sarifBaseID: {URI: ptr("file:///")}},
	}
	ruleIndex := map[string]int{}
	rule := func(id string, mk func() *sarif.ReportingDescriptor) int {
		if i, ok := ruleIndex[id]; ok {
			return i
		}
		ruleIndex[id] = len(driver.Rules)
		driver.Rules = append(driver.Rules, mk())
		return ruleIndex[id]
	}

	// Malware first: a malicious package or a known-bad file.
	malware, _, _ := visibleMalware(r, opt)
	for i := range malware {
		m := &malware[i]
		idx := rule(m.ID, func() *sarif.ReportingDescriptor { return malwareRule(m) })
		uri := imageURI(r)
		if p := malwarePath(m); p != "" {
			uri = sarifURI(p)
		}
		loc := sarifLocation(uri, 1)
		res := &sarif.Result{
			RuleID:              ptr(m.ID),
			RuleIndex:           ptr(uint(idx)),
			Level:               ptr("error"),
			Message:             sarif.Message{Text: ptr(malwareMessage(m))},
			Locations:           []*sarif.Location{loc},
			PartialFingerprints: map[string]any{fingerprintKey: fingerprint("malware", m.Key(), m.SHA256)},
		}
		props := sarif.Properties{"severity": finding.MalwareSeverity, "kind": m.Kind, "engine": m.Engine, "layerIndex": m.LayerIndex,
			"security-severity": "10.0"}
		if m.SHA256 != "" {
			props["sha256"] = m.SHA256
		}
		if m.DeletedInLayer != nil {
			props["deletedInLayer"] = *m.DeletedInLayer
		}
		if m.Package != nil && m.Package.PURL != "" {
			props["purl"] = m.Package.PURL
		}
		res.Properties = props
		if m.Allowed() {
			res.Suppressions = []*sarif.Suppression{suppressionOf(m.Annotations, "malware:"+m.Key(), loc)}
		}
		run.Results = append(run.Results, res)
	}

	findings := visible(r, opt)
	// Group the packages each vulnerability affects, for the rule's help.
	byID := map[string][]finding.Finding{}
	for _, f := range findings {
		byID[f.ID] = append(byID[f.ID], f)
	}
	for _, f := range findings {
		sev := severityOf(f.Severity)
		idx := rule(f.ID, func() *sarif.ReportingDescriptor { return vulnRule(f, byID[f.ID]) })
		res := &sarif.Result{
			RuleID:    ptr(f.ID),
			RuleIndex: ptr(uint(idx)),
			Level:     ptr(sarifLevel(sev)),
			Message:   sarif.Message{Text: ptr(vulnMessage(&f))},
		}
		uri := imageURI(r)
		if f.Package.Path != "" {
			uri = sarifURI(f.Package.Path)
		}
		loc := sarifLocation(uri, 1)
		res.Locations = []*sarif.Location{loc}
		res.PartialFingerprints = map[string]any{fingerprintKey: fingerprint(f.ID, f.Package.PURL, f.Package.Path, f.Package.Name, f.InstalledVersion)}
		props := sarif.Properties{
			"severity":         sev,
			"packageName":      f.Package.Name,
			"installedVersion": f.InstalledVersion,
			"layerIndex":       f.Package.LayerIndex,
		}
		props["security-severity"] = securitySeverity(sev, maxCVSS(&f))
		if f.FixedVersion != "" {
			props["fixedVersion"] = f.FixedVersion
		}
		if f.Package.PURL != "" {
			props["purl"] = f.Package.PURL
		}
		if f.KEV {
			props["kev"] = true
		}
		res.Properties = props
		if f.Suppressed() {
			res.Suppressions = []*sarif.Suppression{suppression(&f, loc)}
		}
		run.Results = append(run.Results, res)
	}

	secrets, _, _ := visibleSecrets(r, opt)
	for _, s := range secrets {
		sev := severityOf(s.Severity)
		idx := rule(s.RuleID, func() *sarif.ReportingDescriptor {
			d := &sarif.ReportingDescriptor{
				ID:               s.RuleID,
				Name:             ptr("Secret"),
				ShortDescription: text(s.Title),
				FullDescription:  text(s.Title),
				Help: &sarif.MultiformatMessageString{
					Text:     ptr("Secret " + s.Title + ": remove it from the image (and from every layer) and rotate it."),
					Markdown: ptr("**Secret: " + mdText(s.Title) + "**\n\nRemove it from the image — from every layer, since a later deletion does not remove it from earlier ones — and rotate it."),
				},
				Properties: sarif.Properties{"tags": []string{"secret", "security", sev}, "precision": "high"},
			}
			d.Properties["security-severity"] = securitySeverity(sev, 0)
			return d
		})
		uri := imageURI(r)
		if s.Path != "" {
			uri = sarifURI(s.Path)
		}
		msg := fmt.Sprintf("%s (%s) in %s", s.Title, s.RuleID, secretWhere(&s))
		if s.Match != "" {
			msg += "\nMatch: " + s.Match
		}
		loc := sarifLocation(uri, s.Line)
		fp := fingerprint(s.RuleID, s.Source, s.Path, strconv.Itoa(s.Line), s.Match)
		res := &sarif.Result{
			RuleID:              ptr(s.RuleID),
			RuleIndex:           ptr(uint(idx)),
			Level:               ptr(sarifLevel(sev)),
			Message:             sarif.Message{Text: ptr(msg)},
			Locations:           []*sarif.Location{loc},
			PartialFingerprints: map[string]any{fingerprintKey: fp},
		}
		res.Properties = sarif.Properties{"severity": sev, "layerIndex": s.LayerIndex, "source": s.Source}
		if finding.Suppressed(s.Annotations) {
			res.Suppressions = []*sarif.Suppression{suppressionOf(s.Annotations, "secret:"+fp, loc)}
		}
		run.Results = append(run.Results, res)
	}

	misconfigs, _, _ := visibleMisconfigs(r, opt)
	for _, m := range misconfigs {
		sev := severityOf(m.Severity)
		idx := rule(m.ID, func() *sarif.ReportingDescriptor {
			help := m.Title
			if m.Fix != "" {
				help += "\nFix: " + m.Fix
			}
			md := "**" + mdText(m.Title) + "**"
			if m.Description != "" {
				md += "\n\n" + m.Description
			}
			if m.Fix != "" {
				md += "\n\n**Fix:** " + m.Fix
			}
			if m.CIS != "" {
				md += "\n\nCIS Docker Benchmark " + m.CIS
			}
			full := m.Description
			if full == "" {
				full = m.Title
			}
			d := &sarif.ReportingDescriptor{
				ID:               m.ID,
				Name:             ptr("Misconfiguration"),
				ShortDescription: text(m.Title),
				FullDescription:  text(full),
				Help:             &sarif.MultiformatMessageString{Text: ptr(help), Markdown: ptr(md)},
				Properties:       sarif.Properties{"tags": []string{"misconfiguration", "security", sev}, "precision": "very-high"},
			}
			d.Properties["security-severity"] = securitySeverity(sev, 0)
			return d
		})
		msg := m.Title
		if len(m.Evidence) > 0 {
			msg += "\nEvidence: " + strings.Join(m.Evidence, "; ")
		}
		loc := sarifLocation(imageURI(r), 1)
		fp := fingerprint(m.ID, r.Image.Name)
		res := &sarif.Result{
			RuleID:              ptr(m.ID),
			RuleIndex:           ptr(uint(idx)),
			Level:               ptr(sarifLevel(sev)),
			Message:             sarif.Message{Text: ptr(msg)},
			Locations:           []*sarif.Location{loc},
			PartialFingerprints: map[string]any{fingerprintKey: fp},
		}
		res.Properties = sarif.Properties{"severity": sev}
		if finding.Suppressed(m.Annotations) {
			res.Suppressions = []*sarif.Suppression{suppressionOf(m.Annotations, "misconfiguration:"+fp, loc)}
		}
		run.Results = append(run.Results, res)
	}

	// Licence findings: one rule per licence category.
	licenses, _, _ := visibleLicenses(r, opt)
	for i := range licenses {
		l := &licenses[i]
		idx := rule(licenseRuleID(l.Category), func() *sarif.ReportingDescriptor { return licenseRule(l) })
		run.Results = append(run.Results, sarifLicenseResult(r, l, idx))
	}

	// The policy verdict.
	inv := &sarif.Invocation{ExecutionSuccessful: ptr(true)}
	props := sarif.Properties{
		"imageName":      r.ImageName(),
		"imageReference": r.Image.Reference,
	}
	if r.Image.Digest != "" {
		props["imageDigest"] = r.Image.Digest
	}
	if r.Distro != nil {
		props["distro"] = strings.TrimSpace(r.Distro.ID + " " + r.Distro.VersionID)
	}
	if len(r.Coverage) > 0 {
		gaps := coverageGaps(r)
		props["coverage"] = r.Coverage
		props["coverageGaps"] = len(gaps)
		if len(gaps) > 0 {
			driver.Notifications = []*sarif.ReportingDescriptor{coverageGapDescriptor()}
		}
		for i := range gaps {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, coverageGapNotification(&gaps[i]))
		}
	}
	if sc := r.SupplyChain; sc != nil {
		props["supplyChain"] = sc
		props["signature"] = report.SignatureState(sc)
	}
	sarifSupplyChain(r, run, inv, rule)
	if v := r.Verdict; v != nil {
		inv.ExecutionSuccessful = ptr(v.Pass)
		inv.ExitCode = ptr(v.ExitCode)
		for _, f := range v.Failures {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, &sarif.Notification{
				Level: "error", Message: &sarif.Message{Text: ptr("policy " + f.RuleID + ": " + f.Message)},
			})
		}
		for _, wr := range v.Warnings {
			inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, &sarif.Notification{
				Level: "warning", Message: &sarif.Message{Text: ptr("policy " + wr.RuleID + ": " + wr.Message)},
			})
		}
		props["verdict"] = v
	}
	run.Invocations = []*sarif.Invocation{inv}
	run.Properties = props

	rep, err := sarif.New(sarif.Version210)
	if err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	rep.AddRun(run)
	err = writeJSONDoc(w, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(rep)
	})
	if err != nil {
		return fmt.Errorf("writing SARIF report: %w", err)
	}
	return nil
}

// malwarePath is the file a malware finding points at: the known-bad file,
// or the file a malicious package was read from.
func malwarePath(m *report.Malware) string {
	if m.Package != nil {
		return m.Package.Path
	}
	return m.Path
}

// malwareRule describes a malware ID.
func malwareRule(m *report.Malware) *sarif.ReportingDescriptor {
	name, what := "KnownBadFile", "Known-bad file"
	if m.Kind == vocab.MalwarePackage {
		name, what = "MaliciousPackage", "Malicious package"
	}
	title := malwareTitle(m)
	full := m.Description
	if full == "" {
		full = title
	}
	link := idURL(m.ID)
	if m.Kind == vocab.MalwareFile {
		link = sbom.InformationURI + "/blob/main/docs/malware.md"
	}
	for _, ref := range m.References {
		if u, ok := webURL(ref); ok {
			link = u
			break
		}
	}
	help := what + " " + m.ID + ": remove it from the image (from every layer: a later deletion does not remove it from earlier ones) " +
		"and treat every system that ran the image as compromised."
	md := "**" + what + ": " + mdText(m.ID) + "**\n\n" + mdText(title) +
		"\n\nRemove it from the image — from every layer, since a later deletion does not remove it from earlier ones — " +
		"and treat every system that ran the image as compromised."
	if len(m.Aliases) > 0 {
		help += "\nAliases: " + strings.Join(m.Aliases, ", ")
		md += "\n\nAliases: " + mdText(strings.Join(m.Aliases, ", "))
	}
	return &sarif.ReportingDescriptor{
		ID:               m.ID,
		Name:             ptr(name),
		ShortDescription: text(title),
		FullDescription:  text(full),
		HelpURI:          ptr(link),
		Help:             &sarif.MultiformatMessageString{Text: ptr(help), Markdown: ptr(md)},
		Properties: sarif.Properties{"tags": []string{"malware", "security", finding.MalwareSeverity}, "precision": "very-high",
			"security-severity": "10.0"},
	}
}

func malwareMessage(m *report.Malware) string {
	var b strings.Builder
	if m.Package != nil {
		fmt.Fprintf(&b, "Malicious package: %s %s (%s)\nRecord: %s\n", m.Package.Name, m.Package.Version, m.Package.Ecosystem, m.ID)
		if m.Range != "" {
			fmt.Fprintf(&b, "Matched: %s\n", m.Range)
		}
	} else {
		fmt.Fprintf(&b, "Known-bad file: %s\nDetection: %s (%s)\nSHA-256: %s\n", m.Path, m.ID, m.Engine, m.SHA256)
	}
	fmt.Fprintf(&b, "Layer: %s", malwareLayer(m))
	if m.DeletedInLayer != nil {
		b.WriteString(", still in the image")
	}
	return b.String()
}

// secretPlace is the file and line of a secret, or the part of the image
// config it is in ("the image env").
func secretPlace(s *report.Secret) string {
	where := s.Path
	if s.Line > 0 {
		where += ":" + strconv.Itoa(s.Line)
	}
	if where == "" {
		where = "the image " + strings.TrimPrefix(s.Source, "config-")
	}
	return where
}

// secretWhere is secretPlace with the layer that added the secret.
func secretWhere(s *report.Secret) string {
	where := secretPlace(s)
	switch layer := secretLayer(s); {
	case s.LayerIndex >= 0:
		where += fmt.Sprintf(" (layer %d)", s.LayerIndex)
	case layer != "history":
		where += " (" + layer + ")"
	}
	if s.DeletedInLayer != nil {
		where += fmt.Sprintf(", deleted in layer %d but still readable in the image", *s.DeletedInLayer)
	}
	return where
}

// secretLayer names where a secret was added: its layer's index, or for
// secrets outside every layer "image config" (environment, labels) or
// "history" (a build step that made no layer, such as ARG or ENV).
func secretLayer(s *report.Secret) string {
	switch {
	case s.LayerIndex >= 0:
		return strconv.Itoa(s.LayerIndex)
	case s.Source == "history":
		return "history"
	}
	return "image config"
}

// vulnRule describes a vulnerability ID; fs are its findings (every affected
// package).
func vulnRule(f finding.Finding, fs []finding.Finding) *sarif.ReportingDescriptor {
	sev, cvss := vocab.SevUnknown, 0.0
	for i := range fs {
		if vocab.SeverityRank(fs[i].Severity) > vocab.SeverityRank(sev) {
			sev = severityOf(fs[i].Severity)
		}
		cvss = max(cvss, maxCVSS(&fs[i]))
	}
	short := f.Title
	if short == "" {
		short = f.ID
	}
	full := f.Description
	if full == "" {
		full = short
	}
	link := primaryURL(&f)
	var tb, mb strings.Builder
	fmt.Fprintf(&tb, "Vulnerability %s\nSeverity: %s\n", f.ID, sev)
	if len(f.Aliases) > 0 {
		fmt.Fprintf(&tb, "Aliases: %s\n", strings.Join(f.Aliases, ", "))
	}
	fmt.Fprintf(&mb, "**Vulnerability %s**\n", mdText(f.ID))
	if len(f.Aliases) > 0 {
		fmt.Fprintf(&mb, "\nAliases: %s\n", mdText(strings.Join(f.Aliases, ", ")))
	}
	if f.KEV {
		tb.WriteString("Known to be exploited (CISA KEV)\n")
		mb.WriteString("\n**Known to be exploited (CISA KEV)**\n")
	}
	mb.WriteString("\n| Severity | Package | Installed Version | Fixed Version | Link |\n| --- | --- | --- | --- | --- |\n")
	for i := range fs {
		x := &fs[i]
		fixed := x.FixedVersion
		if fixed == "" {
			fixed = "(none)"
		}
		fmt.Fprintf(&tb, "Package: %s %s, fixed in %s\n", x.Package.Name, x.InstalledVersion, fixed)
		fmt.Fprintf(&mb, "| %s | %s | %s | %s | [%s](%s) |\n", severityOf(x.Severity), mdText(x.Package.Name),
			mdText(x.InstalledVersion), mdText(fixed), mdText(x.ID), mdURL(link))
	}
	fmt.Fprintf(&tb, "Link: %s", link)
	if f.Description != "" {
		fmt.Fprintf(&mb, "\n%s\n", f.Description)
	}
	name := "LanguagePackageVulnerability"
	if inventory.IsOS(f.Package.Ecosystem) {
		name = "OSPackageVulnerability"
	}
	tags := []string{"vulnerability", "security", sev}
	if f.KEV {
		tags = append(tags, "kev")
	}
	d := &sarif.ReportingDescriptor{
		ID:               f.ID,
		Name:             ptr(name),
		ShortDescription: text(short),
		FullDescription:  text(full),
		HelpURI:          ptr(link),
		Help:             &sarif.MultiformatMessageString{Text: ptr(tb.String()), Markdown: ptr(mb.String())},
		Properties:       sarif.Properties{"tags": tags, "precision": "very-high"},
	}
	d.Properties["security-severity"] = securitySeverity(sev, cvss)
	return d
}

func vulnMessage(f *finding.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Package: %s\nInstalled Version: %s\nVulnerability: %s\nSeverity: %s\n",
		f.Package.Name, f.InstalledVersion, f.ID, severityOf(f.Severity))
	if f.FixedVersion != "" {
		fmt.Fprintf(&b, "Fixed Version: %s\n", f.FixedVersion)
	} else {
		fmt.Fprintf(&b, "Fixed Version: none (%s)\n", f.Status)
	}
	if f.KEV {
		b.WriteString("Known exploited: yes (CISA KEV)\n")
	}
	fmt.Fprintf(&b, "Link: [%s](%s)", f.ID, primaryURL(f))
	return b.String()
}

// suppression records why a finding is suppressed (VEX or ignore rule).
func suppression(f *finding.Finding, loc *sarif.Location) *sarif.Suppression {
	return suppressionOf(f.Annotations, f.Key(), loc)
}

// suppressionOf records why annotations suppress their subject (a VEX
// statement, an ignore rule, --ignore-unfixed or --severity); key is the
// subject's stable key, from which the suppression's GUID is derived.
func suppressionOf(as []finding.Annotation, key string, loc *sarif.Location) *sarif.Suppression {
	just := "suppressed"
	pick := func(kinds ...string) bool {
		for _, a := range as {
			if !slices.Contains(kinds, a.Kind) {
				continue
			}
			parts := []string{a.Kind}
			if a.Status != "" {
				parts = append(parts, a.Status)
			}
			if a.Reason != "" {
				parts = append(parts, a.Reason)
			}
			if a.Source != "" {
				parts = append(parts, "("+a.Source+")")
			}
			just = strings.Join(parts, ": ")
			return true
		}
		return false
	}
	if !pick(vocab.AnnotationVEX, vocab.AnnotationSuppressed) {
		pick(vocab.AnnotationFiltered)
	}
	return &sarif.Suppression{
		Kind:          "external",
		Status:        ptr("accepted"),
		Location:      loc,
		Guid:          ptr(uuid.NewSHA1(uuid.NameSpaceOID, []byte(key)).String()),
		Justification: ptr(just),
	}
}

// coverageGapID names the notification descriptor of coverage gaps; it is
// the first (index 0) of driver.notifications.
const coverageGapID = "coverage-gap"

func coverageGapDescriptor() *sarif.ReportingDescriptor {
	return &sarif.ReportingDescriptor{
		ID:               coverageGapID,
		Name:             ptr("IncompleteAdvisoryCoverage"),
		ShortDescription: text("Incomplete advisory coverage: findings may be missing"),
		FullDescription: text("The advisory database could not cover everything the scan found: an operating system or " +
			"ecosystem without advisories, a package database read in part, files not read. No result does not mean no " +
			"vulnerability there."),
		DefaultConfiguration: &sarif.ReportingConfiguration{Level: "warning"},
		HelpURI:              ptr(sbom.InformationURI + "/blob/main/docs/coverage.md"),
		Help: &sarif.MultiformatMessageString{
			Text:     ptr(gapHint),
			Markdown: ptr("Use `" + gapPolicy + "` to fail the scan on any coverage gap."),
		},
	}
}

// coverageGapNotification reports one coverage gap, with the whole entry in
// its properties.
func coverageGapNotification(c *report.Coverage) *sarif.Notification {
	n := &sarif.Notification{
		Level:      "warning",
		Descriptor: &sarif.ReportingDescriptorReference{Id: ptr(coverageGapID), Index: ptr(uint(0))},
		Message: &sarif.Message{Text: ptr(fmt.Sprintf("Incomplete advisory coverage of %s (%s): %s",
			c.Ecosystem, gapFacts(c), gapReason(c)))},
	}
	n.Properties = sarif.Properties{
		"ecosystem": c.Ecosystem, "os": c.OS, "status": c.Status, "packages": c.Packages,
		"advisories": c.Advisories, "reasons": gapReasons(c),
	}
	return n
}
