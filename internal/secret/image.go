package secret

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Sources of a finding.Secret.
const (
	SourceFile    = "file"
	SourceEnv     = "config-env"
	SourceLabel   = "config-label"
	SourceHistory = "history"
)

// NameRuleID is the rule that reports a value given to a secret-looking
// variable name (DB_PASSWORD=…, NPM_TOKEN=…) in the image configuration or
// history, when no content rule matched the value.
const NameRuleID = "secret-variable-name"

// maxCreatedBy bounds the (redacted) created_by kept in a finding.Secret.
const maxCreatedBy = 300

var (
	// reSecretName matches variable names that say they hold a secret.
	reSecretName = regexp.MustCompile(`(?i)(?:^|[_.\-])(?:PASSWORD|PASSWD|PASSPHRASE|PASS|PWD|TOKEN|SECRET|KEY|APIKEY|CREDENTIALS?|AUTH)$`)
	// reNotSecretName matches names that end like a secret but name public
	// material: GPG_KEY (a key fingerprint in the official language images),
	// *_PUBLIC_KEY, *_KEY_ID, and the shell's PWD/OLDPWD.
	reNotSecretName = regexp.MustCompile(`(?i)GPG|PGP|PUBLIC|PUB_KEY|FINGERPRINT|KEY_?ID|KEYSERVER|KEYRING|^(?:OLD)?PWD$`)
	// reBuildArgs is the "|N k=v …" prefix with which docker and BuildKit
	// record the build arguments a RUN step used.
	reBuildArgs = regexp.MustCompile(`^\|(\d+)\s+`)
)

// IsSecretName reports whether an environment variable, build argument or
// label name says it holds a secret.
func IsSecretName(name string) bool {
	return reSecretName.MatchString(name) && !reNotSecretName.MatchString(name)
}

// nameValueIgnored reports whether the value of a secret-looking name is not
// a secret: empty, short, a placeholder, a variable reference or a path.
func nameValueIgnored(v string) bool {
	v = strings.Trim(v, `"'`)
	if len(v) < 4 || isPlaceholder(v, false) || genericWords[strings.ToLower(v)] {
		return true
	}
	switch v[0] {
	case '$', '/', '{', '%', '<', '~', '.':
		return true
	}
	return false
}

func (s *Scanner) nameRule() *compiledRule {
	return &compiledRule{
		Rule: Rule{
			ID: NameRuleID, Title: "Secret-looking variable with a value", Severity: vocab.SevHigh, Category: "config",
		},
		index: len(s.rules),
	}
}

// ScanImage scans the image configuration with the built-in rules: see
// Scanner.ScanImage.
func ScanImage(img inventory.Image) []finding.Secret {
	s, err := Default()
	if err != nil {
		return nil // the built-in rules compile: TestBuiltinCompiles
	}
	return s.ScanImage(img)
}

// ScanImage finds secrets in the image configuration: environment variables
// (Source "config-env"), labels ("config-label") and the history's
// created_by ("history": ENV and ARG steps and the "|N NAME=value" build
// arguments of RUN steps). Content rules run on each "NAME=value" and
// created_by text; NameRuleID reports a secret-looking name with a value no
// content rule matched. Everything is redacted; config entries have
// LayerIndex -1.
func (s *Scanner) ScanImage(img inventory.Image) []finding.Secret {
	active := s.activeRules("")
	nr := s.nameRule()
	var out []finding.Secret
	add := func(source, text string, pairs []pair, layer int) {
		_, secrets := s.entry(active, nr, source, text, pairs, layer)
		out = append(out, secrets...)
	}
	for _, e := range img.Config.Env {
		name, _, ok := strings.Cut(e, "=")
		p := pair{name: name, nameStart: 0, valueStart: -1}
		if ok {
			p.valueStart, p.valueEnd = len(name)+1, len(e)
		}
		add(SourceEnv, e, []pair{p}, -1)
	}
	for _, k := range slices.Sorted(maps.Keys(img.Config.Labels)) {
		text := k + "=" + img.Config.Labels[k]
		add(SourceLabel, text, []pair{{name: k, valueStart: len(k) + 1, valueEnd: len(text)}}, -1)
	}
	for _, h := range img.History {
		if h.CreatedBy == "" {
			continue
		}
		add(SourceHistory, h.CreatedBy, historyPairs(h.CreatedBy), h.LayerIndex)
	}
	return out
}

// entry scans one config entry or created_by text, whose assignments are
// pairs, and returns what was found and the report secrets.
func (s *Scanner) entry(active []bool, nr *compiledRule, source, text string, pairs []pair, layer int) ([]found, []finding.Secret) {
	fs := s.scanText(text, active)
	for _, p := range pairs {
		if p.valueStart < 0 || !IsSecretName(p.name) || nameValueIgnored(text[p.valueStart:p.valueEnd]) {
			continue
		}
		if overlapsAny(fs, p.valueStart, p.valueEnd) {
			continue
		}
		fs = append(fs, found{rule: nr, start: p.nameStart, end: p.valueEnd, sStart: p.valueStart, sEnd: p.valueEnd})
	}
	fs = resolve(fs)
	createdBy := ""
	if source == SourceHistory && len(fs) > 0 {
		createdBy = truncate(redactRange([]byte(text), 0, len(text), fs), maxCreatedBy)
	}
	data := []byte(text)
	var out []finding.Secret
	for _, f := range fs {
		out = append(out, finding.Secret{
			RuleID: f.rule.ID, Title: f.rule.Title, Severity: f.rule.Severity, Category: f.rule.Category,
			Source: source, Match: excerpt(data, f.sStart, f, fs), LayerIndex: layer, CreatedBy: createdBy,
		})
	}
	return fs, out
}

// scanText scans a short text (one config entry or command) in one window.
func (s *Scanner) scanText(text string, active []bool) []found {
	if active == nil || text == "" {
		return nil
	}
	return s.scan("", []byte(text), active)
}

func overlapsAny(fs []found, lo, hi int) bool {
	for _, f := range fs {
		if f.sStart < hi && f.sEnd > lo {
			return true
		}
	}
	return false
}

// pair is a NAME=value assignment found in a text, by offsets.
type pair struct {
	name                 string
	nameStart            int
	valueStart, valueEnd int // valueStart -1: no value
}

// historyPairs returns the variables a created_by assigns: "ENV k=v …",
// "ENV k v" (legacy form), "ARG k=v", and the "|N k=v …" build arguments of
// RUN steps, in the forms written by the classic builder
// ("/bin/sh -c #(nop)  ENV …") and BuildKit ("ENV …", "RUN |1 k=v … # buildkit").
func historyPairs(text string) []pair {
	pos := 0
	skip := func(prefix string) bool {
		rest := strings.TrimLeft(text[pos:], " \t")
		if strings.HasPrefix(rest, prefix) {
			pos = len(text) - len(rest) + len(prefix)
			return true
		}
		return false
	}
	skip("/bin/sh -c ")
	skip("#(nop) ")
	skip("RUN ")
	rest := text[pos:]
	if m := reBuildArgs.FindStringSubmatchIndex(rest); m != nil {
		n, err := strconv.Atoi(rest[m[2]:m[3]])
		if err != nil {
			return nil
		}
		return assignments(text, pos+m[1], n)
	}
	switch {
	case skip("ENV "):
		rest = strings.TrimLeft(text[pos:], " \t")
		pos = len(text) - len(rest)
		first, _, _ := strings.Cut(rest, " ")
		if !strings.Contains(first, "=") {
			// Legacy "ENV name value with spaces".
			name, value, ok := strings.Cut(rest, " ")
			if !ok {
				return nil
			}
			vs := pos + len(name) + 1 + (len(value) - len(strings.TrimLeft(value, " \t")))
			return []pair{{name: name, nameStart: pos, valueStart: vs, valueEnd: len(text)}}
		}
		return assignments(text, pos, -1)
	case skip("ARG "):
		return assignments(text, pos, -1)
	}
	return nil
}

// assignments reads up to n (all if n < 0) space-separated k=v words of text
// from offset pos; a value may be quoted.
func assignments(text string, pos, n int) []pair {
	var out []pair
	for pos < len(text) && (n < 0 || len(out) < n) {
		for pos < len(text) && (text[pos] == ' ' || text[pos] == '\t') {
			pos++
		}
		start := pos
		for pos < len(text) && text[pos] != '=' && text[pos] != ' ' {
			pos++
		}
		if pos >= len(text) || text[pos] != '=' {
			if n < 0 && pos > start { // ARG name without a default
				continue
			}
			break
		}
		p := pair{name: text[start:pos], nameStart: start}
		pos++
		vs := pos
		if pos < len(text) && (text[pos] == '"' || text[pos] == '\'') {
			q := text[pos]
			if i := strings.IndexByte(text[pos+1:], q); i >= 0 {
				p.valueStart, p.valueEnd = pos+1, pos+1+i
				pos += i + 2
				out = append(out, p)
				continue
			}
		}
		for pos < len(text) && text[pos] != ' ' && text[pos] != '\t' {
			pos++
		}
		p.valueStart, p.valueEnd = vs, pos
		out = append(out, p)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// RedactCommand returns a created_by (or any command) with every secret the
// rules or a secret-looking NAME=value find in it masked.
func (s *Scanner) RedactCommand(text string) string {
	active := s.activeRules("")
	fs := s.scanText(text, active)
	nr := s.nameRule()
	for _, p := range historyPairs(text) {
		if p.valueStart < 0 || !IsSecretName(p.name) || nameValueIgnored(text[p.valueStart:p.valueEnd]) || overlapsAny(fs, p.valueStart, p.valueEnd) {
			continue
		}
		fs = append(fs, found{rule: nr, start: p.nameStart, end: p.valueEnd, sStart: p.valueStart, sEnd: p.valueEnd})
	}
	if len(fs) == 0 {
		return text
	}
	return redactRange([]byte(text), 0, len(text), resolve(fs))
}

// RedactEnv returns env ("NAME=value" entries) with the values of
// secret-looking names and every secret the rules find masked, for showing
// the image configuration in a report. Scan the original with ScanImage.
func (s *Scanner) RedactEnv(env []string) []string {
	if env == nil {
		return nil
	}
	out := make([]string, len(env))
	for i, e := range env {
		name, value, ok := strings.Cut(e, "=")
		if ok && IsSecretName(name) && !nameValueIgnored(value) {
			out[i] = name + "=" + Redact(value)
			continue
		}
		out[i] = s.RedactCommand(e)
	}
	return out
}

// RedactEnv is Scanner.RedactEnv with the built-in rules; if they cannot
// be compiled every value is masked.
func RedactEnv(env []string) []string {
	s, err := Default()
	if err != nil {
		out := make([]string, len(env))
		for i, e := range env {
			name, _, _ := strings.Cut(e, "=")
			out[i] = name + "=" + mask
		}
		return out
	}
	return s.RedactEnv(env)
}

// Findings converts placed file secrets to the report model (Source
// "file"), with the layer's created_by redacted, sorted by path, line, rule
// and layer.
func Findings(secrets []inventory.Secret) []finding.Secret {
	s, err := Default()
	if err != nil {
		s = nil
	}
	return s.Findings(secrets)
}

// Findings is the package-level Findings with this scanner's rules used to
// redact created_by. A nil scanner drops created_by.
func (s *Scanner) Findings(secrets []inventory.Secret) []finding.Secret {
	if len(secrets) == 0 {
		return nil
	}
	out := make([]finding.Secret, 0, len(secrets))
	redacted := map[string]string{}
	for _, x := range secrets {
		rs := finding.Secret{
			RuleID: x.RuleID, Title: x.Title, Severity: x.Severity, Category: x.Category,
			Source: SourceFile, Path: x.Path, Line: x.Line, Match: x.Match,
			LayerIndex: x.Layer.Index, LayerDiffID: x.Layer.DiffID, DeletedInLayer: x.DeletedInLayer,
		}
		if s != nil && x.Layer.CreatedBy != "" {
			cb, ok := redacted[x.Layer.CreatedBy]
			if !ok {
				cb = truncate(s.RedactCommand(x.Layer.CreatedBy), maxCreatedBy)
				redacted[x.Layer.CreatedBy] = cb
			}
			rs.CreatedBy = cb
		}
		out = append(out, rs)
	}
	slices.SortStableFunc(out, func(a, b finding.Secret) int {
		if c := cmp.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Line, b.Line); c != 0 {
			return c
		}
		if c := cmp.Compare(a.RuleID, b.RuleID); c != 0 {
			return c
		}
		return cmp.Compare(a.LayerIndex, b.LayerIndex)
	})
	return out
}
