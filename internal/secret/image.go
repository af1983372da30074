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
)

// Sources of a finding.Secret.
const (
	SourceFile        = "file"
	SourceEnv         = "config-env"
	SourceLabel       = "config-label"
	SourceEntrypoint  = "config-entrypoint"
	SourceCmd         = "config-cmd"
	SourceHealthcheck = "config-healthcheck"
	SourceHistory     = "history"
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
	// *_PUBLIC_KEY, *_KEY_ID, gpg's --recv-key, and the shell's PWD/OLDPWD.
	reNotSecretName = regexp.MustCompile(`(?i)GPG|PGP|PUBLIC|PUB_KEY|FINGERPRINT|KEY[_\-]?ID|KEYSERVER|KEYRING|RECV[_\-]?KEY|^(?:OLD)?PWD$`)
	// reBuildArgs is the "|N k=v …" prefix with which docker and BuildKit
	// record the build arguments a RUN step used.
	reBuildArgs = regexp.MustCompile(`^\|(\d+)\s+`)
)

// IsSecretName reports whether an environment variable, build argument or
// label name says it holds a secret.
func IsSecretName(name string) bool {
	return reSecretName.MatchString(name) && !reNotSecretName.MatchString(name)
}

// nameValueIgnored reports whether the value of a secret-looking name (or
// option) is not a secret: empty, short, a placeholder, a variable
// reference or command substitution, a path or file name, an
// authentication method.
func nameValueIgnored(v string) bool {
	v = strings.Trim(v, `"'`)
	if len(v) < 4 || isPlaceholder(v, false) || genericWords[strings.ToLower(v)] || isFileName(v) || isAuthScheme(v) {
		return true
	}
	switch v[0] {
	case '$', '/', '{', '%', '<', '~', '.', '`':
		return true
	}
	return false
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

// ScanImage finds secrets in every string of the image configuration and
// history: environment variables (Source "config-env"), labels, keys and
// values ("config-label"), the entrypoint and command ("config-entrypoint",
// "config-cmd", read as one command line), the health check
// ("config-healthcheck") and each history step's created_by and comment
// ("history": also the ENV and ARG steps and the "|N NAME=value" build
// arguments of RUN steps). Content rules run on each text; where they match
// nothing, NameRuleID reports a secret-looking name with a value, FlagRuleID
// a secret option's value (--password X, curl -u user:X) and URLRuleID a
// URL's password. Everything is redacted; config entries have LayerIndex -1.
func (s *Scanner) ScanImage(img inventory.Image) []finding.Secret {
	active := s.activeRules("")
	var out []finding.Secret
	memo := map[textKey][]finding.Secret{} // history repeats created_by
	s.eachConfigText(img, func(t configText) {
		k := textKey{t.source, t.text}
		found, ok := memo[k]
		if !ok {
			found = s.findings(t, t.finds(s, active))
			memo[k] = found
		}
		for _, f := range found {
			f.LayerIndex = t.layer
			out = append(out, f)
		}
	})
	return out
}

// configText is one string (or argv) of the image configuration to scan.
type configText struct {
	source string
	text   string
	pairs  []pair
	words  []span // where command lines are read
	argv   bool   // words are argv elements
	// elems are the argv's sources: text[elems[i].lo:elems[i].hi] came
	// from elemSource[i] (Entrypoint or Cmd).
	elemSource []string
	layer      int
}

func (t *configText) finds(s *Scanner, active []bool) []found {
	return s.configFinds(active, t.text, t.pairs, t.words, t.argv)
}

// parts returns the spans of text that come from one source each: the
// entrypoint's and the command's elements of an argv, or all of text.
func (t *configText) parts() []span {
	if t.elemSource == nil {
		return []span{{0, len(t.text)}}
	}
	var out []span
	for i, w := range t.words {
		if i > 0 && t.elemSource[i] == t.elemSource[i-1] {
			out[len(out)-1].hi = w.hi
			continue
		}
		out = append(out, w)
	}
	return out
}

// sourceAt returns the source of the text at offset off.
func (t *configText) sourceAt(off int) string {
	for i, w := range t.words {
		if t.elemSource != nil && off < w.hi {
			return t.elemSource[i]
		}
	}
	return t.source
}

// eachConfigText calls fn for every string of the configuration that may
// hold a secret, in report order.
func (s *Scanner) eachConfigText(img inventory.Image, fn func(configText)) {
	for _, e := range img.Config.Env {
		fn(envText(e))
	}
	for _, k := range slices.Sorted(maps.Keys(img.Config.Labels)) {
		fn(labelText(k, img.Config.Labels[k]))
	}
	if t, ok := argvText(SourceCmd, img.Config.Entrypoint, img.Config.Cmd); ok {
		fn(t)
	}
	if t, ok := argvText(SourceHealthcheck, img.Config.Healthcheck); ok {
		fn(t)
	}
	for _, h := range img.History {
		if h.CreatedBy != "" {
			fn(historyText(h.CreatedBy, h.LayerIndex))
		}
		if h.Comment != "" {
			fn(historyText(h.Comment, h.LayerIndex))
		}
	}
}

// envText is an env entry "NAME=value": the value is the name's, and a
// command line.
func envText(e string) configText {
	name, _, ok := strings.Cut(e, "=")
	t := configText{source: SourceEnv, text: e, layer: -1}
	if ok {
		t.pairs = []pair{{name: name, valueStart: len(name) + 1, valueEnd: len(e)}}
		t.words = []span{{len(name) + 1, len(e)}}
	}
	return t
}

// labelText is a label as "key=value".
func labelText(k, v string) configText {
	text := k + "=" + v
	return configText{
		source: SourceLabel, text: text, layer: -1,
		pairs: []pair{{name: k, valueStart: len(k) + 1, valueEnd: len(text)}},
		words: []span{{len(k) + 1, len(text)}},
	}
}

// historyText is a created_by or a comment.
func historyText(text string, layer int) configText {
	return configText{source: SourceHistory, text: text, pairs: historyPairs(text), words: []span{{0, len(text)}}, layer: layer}
}

// argvText joins argvs (the entrypoint, then the command: the process the
// image runs) by spaces; source is the last one's. ok is false when all are
// empty.
func argvText(source string, argvs ...[]string) (configText, bool) {
	t := configText{source: source, argv: true, layer: -1}
	var b strings.Builder
	for i, args := range argvs {
		src := source
		if len(argvs) == 2 && i == 0 {
			src = SourceEntrypoint
		}
		for _, a := range args {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			t.words = append(t.words, span{b.Len(), b.Len() + len(a)})
			t.elemSource = append(t.elemSource, src)
			b.WriteString(a)
		}
	}
	t.text = b.String()
	return t, len(t.words) > 0
}

// findings turns the secrets found in one configuration text into report
// secrets: one per match (overlaps resolved), with the redacted excerpt and,
// for history, the redacted created_by.
func (s *Scanner) findings(t configText, fs []found) []finding.Secret {
	if len(fs) == 0 {
		return nil
	}
	data := []byte(t.text)
	createdBy := ""
	if t.source == SourceHistory {
		createdBy = truncate(redactRange(data, 0, len(data), fs), maxCreatedBy)
	}
	// An excerpt masks the secrets it overlaps; the same secret may stand
	// unmatched elsewhere in it (KEY=value where value repeats the key).
	secrets := make([]string, len(fs))
	for i, f := range fs {
		secrets[i] = t.text[f.sStart:f.sEnd]
	}
	scrubbed := scrubber(secrets)
	var out []finding.Secret
	for _, p := range t.parts() {
		// The excerpts of an argv's part (the entrypoint, the command) show
		// that part only.
		for _, f := range fs {
			if f.sStart >= p.hi || f.sEnd <= p.lo {
				continue
			}
			out = append(out, finding.Secret{
				RuleID: f.rule.ID, Title: f.rule.Title, Severity: f.rule.Severity, Category: f.rule.Category,
				Source: t.sourceAt(p.lo), Match: scrubbed(excerptIn(data, p.lo, p.hi, max(f.sStart, p.lo), f, fs)),
				LayerIndex: t.layer, CreatedBy: createdBy,
			})
		}
	}
	return out
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

// RedactCommand returns a created_by, a comment or any command line with
// every secret masked: what the rules find, secret-looking NAME=value
// assignments, secret options (--password X) and URL passwords.
func (s *Scanner) RedactCommand(text string) string {
	t := historyText(text, -1)
	return maskText(text, 0, len(text), t.finds(s, s.activeRules("")), nil)
}

// RedactEnv returns env ("NAME=value" entries) with the values of
// secret-looking names and every secret the rules find masked, for showing
// the image configuration in a report. Scan the original with ScanImage.
func (s *Scanner) RedactEnv(env []string) []string {
	if env == nil {
		return nil
	}
	active := s.activeRules("")
	out := make([]string, len(env))
	for i, e := range env {
		t := envText(e)
		out[i] = maskText(e, 0, len(e), t.finds(s, active), nil)
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
