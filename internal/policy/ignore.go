package policy

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/package-url/packageurl-go"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// IgnoreFile is a parsed ignore file: drydock's YAML format
// (.drydockignore.yaml), Trivy's .trivyignore.yaml (trivyignore.go) or a
// .trivyignore-style text file.
type IgnoreFile struct {
	Source  string
	Entries []IgnoreEntry
}

// IgnoreEntry is one ignore rule. It matches a finding when every criterion
// it gives matches: ID (the finding's ID or one of its aliases), Packages
// (any of them) and Paths (any of them, against the package's path). It
// matches a secret by rule ID and/or path, and a misconfiguration by ID. A
// malware finding is allowed only by an entry that names its ID (or an
// alias: a MAL- record's GHSA, a file's "sha256:<hex>"); the entry's
// packages and paths, if any, narrow it further.
type IgnoreEntry struct {
	ID       string
	Packages []string // package URLs (with or without version) or plain names
	Paths    []string // globs: * and ? within a path element, ** across elements
	Reason   string
	Expires  string // as written, "" for never
	Line     int    // line in the file

	source   string      // the file, for annotations
	kinds    ignoreKinds // 0: every kind; a Trivy file's section: one (trivyignore.go)
	expires  expiry
	purls    []*packageurl.PackageURL // parsed Packages, nil for plain names
	pathExps []*regexp.Regexp
}

type ignoreDoc struct {
	APIVersion string           `yaml:"apiVersion"`
	Kind       string           `yaml:"kind"`
	Ignores    []ignoreEntryDoc `yaml:"ignores"`
}

type ignoreEntryDoc struct {
	ID        string   `yaml:"id"`
	Packages  []string `yaml:"packages"`
	Paths     []string `yaml:"paths"`
	Reason    string   `yaml:"reason"`
	Statement string   `yaml:"statement"`
	Expires   string   `yaml:"expires"`
}

// KindIgnoreFile is the optional kind of a YAML ignore file.
const KindIgnoreFile = "IgnoreFile"

// idPattern is what an advisory, secret-rule or check ID looks like.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/+-]*$`)

// LoadIgnoreFile reads an ignore file. Files named *.yaml or *.yml are
// YAML; other files are YAML when they hold a YAML mapping and a
// .trivyignore-style list of IDs otherwise.
func LoadIgnoreFile(path string) (*IgnoreFile, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading ignore file: %w", err)
	}
	return ParseIgnoreFile(path, data)
}

// ParseIgnoreFile parses an ignore file; name is used to choose the format
// by extension and in errors and annotations.
func ParseIgnoreFile(name string, data []byte) (*IgnoreFile, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("ignore file %q: not UTF-8 text", name)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	ext := strings.ToLower(filepath.Ext(name))
	if ext == ".yaml" || ext == ".yml" || looksLikeYAMLMapping(data) {
		if isTrivyIgnoreYAML(data) {
			return parseTrivyIgnoreYAML(name, data)
		}
		return parseIgnoreYAML(name, data)
	}
	return parseIgnoreText(name, data)
}

func looksLikeYAMLMapping(data []byte) bool {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		// Not valid YAML: a text file, unless it clearly tries to be a
		// mapping (then the YAML parser's error is the useful one).
		return bytes.HasPrefix(bytes.TrimSpace(data), []byte("ignores:"))
	}
	return n.Kind == yaml.DocumentNode && len(n.Content) == 1 && n.Content[0].Kind == yaml.MappingNode
}

func parseIgnoreYAML(name string, data []byte) (*IgnoreFile, error) {
	f := &IgnoreFile{Source: name}
	if len(bytes.TrimSpace(data)) == 0 {
		return f, nil
	}
	var doc ignoreDoc
	root, err := decodeStrict(name, data, &doc)
	if err != nil {
		return nil, err
	}
	if doc.APIVersion != "" && doc.APIVersion != APIVersion {
		return nil, fmt.Errorf("%s: apiVersion is %q, want %q", name, doc.APIVersion, APIVersion)
	}
	if doc.Kind != "" && doc.Kind != KindIgnoreFile {
		return nil, fmt.Errorf("%s: kind is %q, want %q", name, doc.Kind, KindIgnoreFile)
	}
	items := seqItems(root, "ignores")
	for i, d := range doc.Ignores {
		pos := position{1, 1}
		if i < len(items) {
			pos = position{items[i].Line, items[i].Column}
		}
		e := IgnoreEntry{ID: strings.TrimSpace(d.ID), Packages: d.Packages, Paths: d.Paths,
			Reason: strings.TrimSpace(d.Reason), Expires: d.Expires, Line: pos.line, source: name}
		if st := strings.TrimSpace(d.Statement); st != "" {
			if e.Reason != "" {
				e.Reason += ": " + st
			} else {
				e.Reason = st
			}
		}
		if err := e.compile(); err != nil {
			return nil, &posError{file: name, pos: pos, msg: err.Error()}
		}
		f.Entries = append(f.Entries, e)
	}
	return f, nil
}

// parseIgnoreText parses the .trivyignore format: one ID per line, "#"
// comments, and an optional "exp:YYYY-MM-DD" field before or after the ID.
// The comment lines just above an entry are its reason.
func parseIgnoreText(name string, data []byte) (*IgnoreFile, error) {
	f := &IgnoreFile{Source: name}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), maxFileSize)
	var comment []string
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			comment = nil
			continue
		case strings.HasPrefix(line, "#"):
			comment = append(comment, strings.TrimSpace(strings.TrimPrefix(line, "#")))
			continue
		}
		e := IgnoreEntry{Line: ln, Reason: strings.TrimSpace(strings.Join(comment, " ")), source: name}
		comment = nil
		fields := strings.Fields(line)
		for i, fl := range fields {
			switch {
			case strings.HasPrefix(fl, "#"):
				if c := strings.TrimSpace(strings.TrimPrefix(strings.Join(fields[i:], " "), "#")); c != "" {
					e.Reason = c
				}
			case strings.HasPrefix(fl, "exp:"):
				if e.Expires != "" {
					return nil, &posError{file: name, pos: position{ln, 1}, msg: "more than one exp: field"}
				}
				e.Expires = strings.TrimPrefix(fl, "exp:")
				continue
			case e.ID == "":
				e.ID = fl
				continue
			default:
				return nil, &posError{file: name, pos: position{ln, 1}, msg: fmt.Sprintf("unexpected %q after %q (one ID per line)", fl, e.ID)}
			}
			break
		}
		if e.ID == "" {
			return nil, &posError{file: name, pos: position{ln, 1}, msg: "missing ID"}
		}
		if err := e.compile(); err != nil {
			return nil, &posError{file: name, pos: position{ln, 1}, msg: err.Error()}
		}
		f.Entries = append(f.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading ignore file %q: %w", name, err)
	}
	return f, nil
}

// compile validates the entry and prepares its matchers.
func (e *IgnoreEntry) compile() error {
	if e.ID == "" && len(e.Packages) == 0 && len(e.Paths) == 0 {
		return fmt.Errorf("ignore entry needs an id, packages or paths")
	}
	// A licence entry's id may be an expression ("MIT AND GPL-2.0-or-later")
	// or a licence as metadata wrote it ("GPLv3+"): matched, never parsed.
	if e.ID != "" && !idPattern.MatchString(e.ID) && (e.kinds != ignoreLicenses || strings.ContainsAny(e.ID, "\n\r")) {
		return fmt.Errorf("invalid id %q", e.ID)
	}
	exp, err := parseExpiry(e.Expires)
	if err != nil {
		return err
	}
	e.expires = exp
	e.purls = make([]*packageurl.PackageURL, len(e.Packages))
	for i, p := range e.Packages {
		p = strings.TrimSpace(p)
		e.Packages[i] = p
		switch {
		case p == "":
			return fmt.Errorf("empty package")
		case strings.HasPrefix(p, "pkg:"):
			u, err := parsePURL(p)
			if err != nil {
				return fmt.Errorf("invalid package URL %q: %w", p, err)
			}
			e.purls[i] = u
		}
	}
	for _, g := range e.Paths {
		re, err := globRegexp(g)
		if err != nil {
			return err
		}
		e.pathExps = append(e.pathExps, re)
	}
	return nil
}

// globRegexp compiles a path glob: "**" matches any characters including
// "/", "*" any characters except "/", "?" one character except "/".
func globRegexp(glob string) (*regexp.Regexp, error) {
	if strings.TrimSpace(glob) == "" {
		return nil, fmt.Errorf("empty path glob")
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(glob); {
		switch {
		case strings.HasPrefix(glob[i:], "**"):
			b.WriteString(".*")
			i += 2
		case glob[i] == '*':
			b.WriteString("[^/]*")
			i++
		case glob[i] == '?':
			b.WriteString("[^/]")
			i++
		default:
			_, sz := utf8.DecodeRuneInString(glob[i:])
			b.WriteString(regexp.QuoteMeta(glob[i : i+sz]))
			i += sz
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("invalid path glob %q: %w", glob, err)
	}
	return re, nil
}

func (e *IgnoreEntry) describe() string {
	var parts []string
	if e.ID != "" {
		parts = append(parts, e.ID)
	}
	if len(e.Packages) > 0 {
		parts = append(parts, "packages "+strings.Join(e.Packages, ", "))
	}
	if len(e.Paths) > 0 {
		parts = append(parts, "paths "+strings.Join(e.Paths, ", "))
	}
	return strings.Join(parts, " in ")
}

func (e *IgnoreEntry) idMatches(ids ...string) bool {
	if e.ID == "" {
		return true
	}
	for _, id := range ids {
		if strings.EqualFold(id, e.ID) {
			return true
		}
	}
	return false
}

func (e *IgnoreEntry) pathMatches(p string) bool {
	if len(e.pathExps) == 0 {
		return true
	}
	for _, re := range e.pathExps {
		if re.MatchString(p) {
			return true
		}
	}
	return false
}

// AnnotationIgnoredInPart is the annotation an ignore entry leaves on a
// finding when it names one CVE of a finding that carries several (a vendor
// advisory): {"kind": "ignored-in-part", "source": "<file>", "status":
// "ignored (CVE-2023-4911)", "reason": …, "expires": …}. The finding still
// counts until entries cover every one of its CVEs.
const AnnotationIgnoredInPart = vocab.AnnotationIgnoredInPart

// matchFinding reports whether the entry suppresses f: every criterion it
// gives matches (the ID is f's ID or one of its aliases).
//
// An entry that names one CVE of a finding that carries several (ALSA-2023:5453
// fixes CVE-2023-4911, -4527, -4806 and -4813) suppresses it only together
// with the entries applied before it (recorded on f as
// AnnotationIgnoredInPart annotations) once they name every one of its CVEs;
// until then it records its CVE on f and reports false. Expired entries are
// never applied, so they never count.
func (e *IgnoreEntry) matchFinding(f *finding.Finding, purls purlCache) bool {
	if !e.applies(ignoreVulns) || !e.idMatches(f.AllIDs()...) || !e.pathMatches(f.Package.Path) || !e.packageMatches(f, purls) {
		return false
	}
	if e.ID == "" {
		return true
	}
	cves := cveIDs(f)
	covered := coveredCVEs(namedIDs([]string{e.ID}, f), cves)
	if covered == nil {
		return true
	}
	for _, a := range f.Annotations {
		if a.Kind == AnnotationIgnoredInPart {
			covered = append(covered, partIDs(a.Status)...)
		}
	}
	all := true
	for _, id := range cves {
		all = all && slices.Contains(covered, id)
	}
	if all {
		return true
	}
	f.Annotations = addAnnotation(f.Annotations, finding.Annotation{Kind: AnnotationIgnoredInPart, Source: e.source,
		Status: inPart("ignored", []string{strings.ToUpper(e.ID)}), Reason: e.Reason, Expires: e.Expires})
	return false
}

func (e *IgnoreEntry) packageMatches(f *finding.Finding, purls purlCache) bool {
	if len(e.Packages) == 0 {
		return true
	}
	pkg := purls.get(f.Package.PURL)
	for i, want := range e.Packages {
		if e.purls[i] != nil {
			if purlMatches(e.purls[i], pkg) {
				return true
			}
		} else if want == f.Package.Name {
			return true
		}
	}
	return false
}

func (e *IgnoreEntry) matchSecret(s *finding.Secret) bool {
	return e.applies(ignoreSecrets) && len(e.Packages) == 0 && e.idMatches(s.RuleID) && e.pathMatches(s.Path)
}

// matchMalware reports whether the entry allows m: it must name m's ID or
// an alias; packages (for a malicious package) and paths (the package's
// path or the file's) narrow it.
func (e *IgnoreEntry) matchMalware(m *finding.Malware, purls purlCache) bool {
	if e.ID == "" || !e.applies(ignoreVulns) || !e.idMatches(m.AllIDs()...) {
		return false
	}
	if m.Package == nil {
		return len(e.Packages) == 0 && e.pathMatches(m.Path)
	}
	f := finding.Finding{Package: *m.Package}
	return e.pathMatches(m.Package.Path) && e.packageMatches(&f, purls)
}

func (e *IgnoreEntry) matchMisconfig(m *finding.Misconfig) bool {
	return e.applies(ignoreMisconfigs) && e.ID != "" && len(e.Packages) == 0 && len(e.Paths) == 0 && e.idMatches(m.ID)
}
