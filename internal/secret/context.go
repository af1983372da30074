package secret

import (
	"cmp"
	"path"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// Rules that find a secret by where it stands in a command or assignment
// rather than by its format. They run on the image configuration and
// history only (see configFinds), after the content rules, and report only
// what no content rule matched.
const (
	// FlagRuleID reports the value of a secret-looking command-line option
	// (--password X, --token=X, --api-key X), of a password option of a
	// known command (sshpass -p, mongosh -p, docker login -p, redis-cli -a,
	// mysql -pX) and the password of curl -u user:password.
	FlagRuleID = "secret-command-argument"
	// URLRuleID reports the password of a user:password@ in a URL of any
	// scheme.
	URLRuleID = "secret-url-password"
)

// contextRules are the rules that find a secret by its context, built by New
// after the configured rules (they lose every tie).
type contextRules struct {
	name, flag, url *compiledRule
}

func newContextRules(n int) contextRules {
	rule := func(id, title string, index int) *compiledRule {
		return &compiledRule{Rule: Rule{ID: id, Title: title, Severity: vocab.SevHigh, Category: "config"}, index: index, context: true}
	}
	return contextRules{
		name: rule(NameRuleID, "Secret-looking variable with a value", n),
		flag: rule(FlagRuleID, "Secret passed as a command-line argument", n+1),
		url:  rule(URLRuleID, "Password in a URL", n+2),
	}
}

// isSecretFlag reports whether a command-line option (without its dashes)
// takes a secret: its name is a secret name (IsSecretName: password, token,
// api-key, db-pass…) and does not merely switch a feature.
func isSecretFlag(name string) bool {
	// Options that switch something rather than take a secret: --no-auth,
	// --with-token (reads stdin), --skip-tls-key.
	l := strings.ToLower(name)
	for _, p := range [...]string{"no-", "with-", "without-", "skip-", "disable-", "enable-", "use-", "allow-", "ignore-", "require-", "show-", "print-"} {
		if strings.HasPrefix(l, p) {
			return false
		}
	}
	return IsSecretName(name)
}

// flagValueIgnored reports whether what follows a secret option is not a
// secret: what nameValueIgnored ignores, another option, a @file reference,
// a key=value list (--secret id=npm,src=…).
func flagValueIgnored(v string) bool {
	if nameValueIgnored(v) {
		return true
	}
	v = strings.Trim(v, `"'`)
	switch v[0] {
	case '-', '@':
		return true
	}
	if k, _, ok := strings.Cut(v, "="); ok && k != "" && strings.ToLower(k) == k && isVarName(k) {
		return true
	}
	return false
}

// isFileName reports whether v names a file by its extension: key.pem,
// client.key, creds.json.
func isFileName(v string) bool {
	switch strings.ToLower(path.Ext(v)) {
	case ".pem", ".key", ".crt", ".cer", ".der", ".csr", ".p12", ".pfx", ".jks", ".keystore", ".pub", ".gpg", ".asc",
		".json", ".yaml", ".yml", ".toml", ".xml", ".ini", ".conf", ".cfg", ".env", ".properties", ".txt", ".sh":
		return true
	}
	return false
}

// isAuthScheme reports whether v names an authentication method (--auth
// basic) rather than a credential.
func isAuthScheme(v string) bool {
	switch strings.ToLower(v) {
	case "basic", "digest", "bearer", "ntlm", "negotiate", "kerberos", "oauth", "oauth2", "oidc", "anonymous", "md5", "scram-sha-256", "trust", "peer", "ident":
		return true
	}
	return false
}

// isVarName reports whether s is a variable or label name: letters, digits,
// "_", "." and "-", not starting with a digit or punctuation.
func isVarName(s string) bool {
	if s == "" || !(s[0] == '_' || 'a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// cmdContext is what the commands of one shell segment (up to ;, &&, | or
// a newline) tell about their short options.
type cmdContext uint8

const (
	ctxSSHPass  cmdContext = 1 << iota // sshpass -p PASS, -pPASS
	ctxMySQL                           // mysql -pPASS (-p PASS is a database name)
	ctxMongo                           // mongosh -p PASS
	ctxRedis                           // redis-cli -a PASS
	ctxRegistry                        // docker, podman, helm… (with ctxLogin: -p PASS)
	ctxLogin                           // a "login" word
	ctxCurl                            // curl -u user:PASS, --user user:PASS
)

// commandContext returns what a word of a command line, as a command name,
// says about the short options that follow.
func commandContext(word string) cmdContext {
	if i := strings.LastIndexByte(word, '/'); i >= 0 {
		word = word[i+1:]
	}
	switch strings.ToLower(word) {
	case "sshpass":
		return ctxSSHPass
	case "mysql", "mysqldump", "mysqladmin", "mysqlimport", "mysqlcheck", "mysqlshow", "mysqlpump", "mariadb", "mariadb-dump", "mariadb-admin":
		return ctxMySQL
	case "mongo", "mongosh", "mongodump", "mongorestore", "mongoexport", "mongoimport", "mongostat", "mongotop":
		return ctxMongo
	case "redis-cli", "valkey-cli", "keydb-cli":
		return ctxRedis
	case "docker", "podman", "nerdctl", "buildah", "skopeo", "helm", "oras", "crane", "regctl", "cosign", "notation":
		return ctxRegistry
	case "login":
		return ctxLogin
	case "curl":
		return ctxCurl
	}
	return 0
}

// pendingKind is what the next word of a command line is to an option just
// read.
type pendingKind uint8

const (
	pendNone     pendingKind = iota
	pendValue                // the option's value is the secret
	pendUserinfo             // user:secret
)

// maxScriptDepth bounds how deep quoted scripts are read as command lines
// ("sh -c 'curl -u a:b …'" is one level).
const maxScriptDepth = 2

// argScan reads command lines (a created_by, an argv, an env or label value)
// word by word and records the values of secret options and assignments.
// It is a single forward pass: linear in the text.
type argScan struct {
	s       *Scanner
	text    string
	out     []found
	ctx     cmdContext
	pending pendingKind
	flagAt  int // start of the option whose value is pending
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' }

func isSeparator(c byte) bool {
	return c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '`'
}

// endQuote returns the index after the quote closing the one at i, or hi.
func endQuote(t string, i, hi int) int {
	q := t[i]
	for j := i + 1; j < hi; j++ {
		switch {
		case q == '"' && t[j] == '\\':
			j++
		case t[j] == q:
			return j + 1
		}
	}
	return hi
}

// unquote returns the span inside the quotes when t[lo:hi] is one quoted
// string.
func unquote(t string, lo, hi int) (int, int) {
	if hi-lo >= 2 && (t[lo] == '"' || t[lo] == '\'') && t[hi-1] == t[lo] {
		return lo + 1, hi - 1
	}
	return lo, hi
}

// words reads t[lo:hi] as a shell command line: blank-separated words with
// quotes; ;, &, |, newlines and parentheses end a command. Brackets and
// commas around quoted words (the JSON arrays of CMD ["a", "b"] in a
// created_by) separate words too.
func (a *argScan) words(lo, hi, depth int) {
	t := a.text
	for i := lo; i < hi; {
		c := t[i]
		switch {
		case c == '\\' && i+1 < hi && t[i+1] == '\n': // a continued line
			i += 2
			continue
		case isBlank(c) || c == '[' || c == ']' || c == ',':
			i++
			continue
		case isSeparator(c):
			a.ctx, a.pending = 0, pendNone
			i++
			continue
		}
		start := i
	word:
		for i < hi {
			switch c := t[i]; {
			case c == '"' || c == '\'':
				i = endQuote(t, i, hi)
				if i < hi && (t[i] == ',' || t[i] == ']') {
					break word
				}
			case isBlank(c) || isSeparator(c):
				break word
			default:
				i++
			}
		}
		a.word(start, i, depth, false)
	}
}

// word reads one word t[lo:hi] of a command line, or an argv element
// (elem).
func (a *argScan) word(lo, hi, depth int, elem bool) {
	t := a.text
	is, ie := unquote(t, lo, hi)
	if is == ie || t[is:ie] == "\\" {
		return
	}
	if a.pending != pendNone {
		kind := a.pending
		a.pending = pendNone
		a.value(a.s.ctxRules.flag, kind, a.flagAt, is, ie)
		return
	}
	inner := t[is:ie]
	if (elem || is > lo) && strings.ContainsAny(inner, " \t\n") {
		// An argv element or a quoted word with blanks: an option or
		// assignment with its whole value ("--password=two words"), else a
		// script (sh -c '…', a CMD-SHELL health check) with its own
		// commands.
		if !a.option(is, ie) && depth < maxScriptDepth {
			ctx := a.ctx
			a.ctx = 0
			a.words(is, ie, depth+1)
			a.ctx, a.pending = ctx, pendNone
		}
		return
	}
	a.ctx |= commandContext(inner)
	a.option(is, ie)
}

// option reads a word that may be an option or an assignment; it reports
// whether it was a secret one (whether or not its value is a secret).
func (a *argScan) option(lo, hi int) bool {
	t := a.text
	w := t[lo:hi]
	flag := a.s.ctxRules.flag
	if len(w) < 2 || w[0] != '-' {
		name, _, ok := strings.Cut(w, "=")
		if ok && isVarName(name) && IsSecretName(name) {
			a.value(a.s.ctxRules.name, pendValue, lo, lo+len(name)+1, hi)
			return true
		}
		return false
	}
	// Short options of known commands, value attached or next.
	if w[1] != '-' {
		switch o := w[1]; {
		case o == 'p' && len(w) > 2 && a.ctx&(ctxSSHPass|ctxMySQL) != 0:
			a.value(flag, pendValue, lo, lo+2, hi)
			return true
		case o == 'p' && len(w) == 2 && (a.ctx&(ctxSSHPass|ctxMongo) != 0 || a.ctx&ctxRegistry != 0 && a.ctx&ctxLogin != 0),
			o == 'a' && len(w) == 2 && a.ctx&ctxRedis != 0:
			a.pending, a.flagAt = pendValue, lo
			return true
		case (o == 'u' || o == 'U') && a.ctx&ctxCurl != 0:
			if len(w) > 2 {
				a.value(flag, pendUserinfo, lo, lo+2, hi)
			} else {
				a.pending, a.flagAt = pendUserinfo, lo
			}
			return true
		}
	}
	dashes := 1
	if w[1] == '-' {
		dashes = 2
	}
	name, _, hasValue := strings.Cut(w[dashes:], "=")
	vs := lo + dashes + len(name) + 1
	kind := pendValue
	switch {
	case !isVarName(name):
		return false
	case isSecretFlag(name):
	case a.ctx&ctxCurl != 0 && (name == "user" || name == "proxy-user"):
		kind = pendUserinfo
	default:
		return false
	}
	if hasValue {
		a.value(flag, kind, lo, vs, hi)
	} else {
		a.pending, a.flagAt = kind, lo
	}
	return true
}

// value records t[vs:ve], the value of the option or assignment at from,
// unless it is no secret.
func (a *argScan) value(r *compiledRule, kind pendingKind, from, vs, ve int) {
	t := a.text
	vs, ve = unquote(t, vs, ve)
	if kind == pendUserinfo {
		i := strings.IndexByte(t[vs:ve], ':')
		if i < 0 {
			return // no password: curl asks for it
		}
		vs += i + 1
	}
	if vs >= ve {
		return
	}
	if r == a.s.ctxRules.name && nameValueIgnored(t[vs:ve]) || r != a.s.ctxRules.name && flagValueIgnored(t[vs:ve]) {
		return
	}
	a.out = append(a.out, found{rule: r, start: from, end: ve, sStart: vs, sEnd: ve})
}

// scanText runs the content rules over a short text (one config entry or
// command) in one window.
func (s *Scanner) scanText(text string, active []bool) []found {
	if active == nil || text == "" {
		return nil
	}
	return s.scan("", []byte(text), active)
}

// urlFinds returns the passwords of the URLs in text: scheme://user:pass@,
// for any scheme. Each "://" is read from the scheme before it to the first
// character that cannot be in the user information after it: linear in
// text.
func (s *Scanner) urlFinds(text string) []found {
	var out []found
	for off := 0; ; {
		i := strings.Index(text[off:], "://")
		if i < 0 {
			return out
		}
		i += off
		off = i + 3
		start := i
		for start > 0 && isSchemeChar(text[start-1]) {
			start--
		}
		if start == i || !isLetter(text[start]) || start > 0 && isWordChar(text[start-1]) {
			continue
		}
		colon, at := -1, -1
	userinfo:
		for j := off; j < len(text); j++ {
			switch c := text[j]; {
			case c == '@':
				at = j
				break userinfo
			case c == ':' && colon < 0:
				colon = j
			case c <= ' ' || c == '/' || c == '\'' || c == '"' || c == '<' || c == '>' || c == '@':
				break userinfo
			}
		}
		if colon < 0 || at < 0 || at == colon+1 || nameValueIgnored(text[colon+1:at]) {
			continue
		}
		out = append(out, found{rule: s.ctxRules.url, start: start, end: at + 1, sStart: colon + 1, sEnd: at})
	}
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

func isSchemeChar(c byte) bool {
	return isLetter(c) || '0' <= c && c <= '9' || c == '+' || c == '.' || c == '-'
}

// configFinds returns the secrets of one configuration text (an env entry,
// a label's "key=value", a created_by or comment, an argv joined by
// spaces): the content rules' matches, the values of the secret-looking
// assignments in pairs, the secret options and assignments of the command
// lines in words (read as argv elements if argv) and URL passwords. Sorted
// and not overlapping: of overlapping matches the content rule's is kept
// (see resolveUnion), stretched over all of them so that masking it hides
// every byte any rule took for a secret.
func (s *Scanner) configFinds(active []bool, text string, pairs []pair, words []span, argv bool) []found {
	if text == "" {
		return nil
	}
	a := argScan{s: s, text: text}
	for _, p := range pairs {
		if p.valueStart >= 0 && IsSecretName(p.name) {
			a.value(s.ctxRules.name, pendValue, p.nameStart, p.valueStart, p.valueEnd)
		}
	}
	for _, w := range words {
		if argv {
			a.word(w.lo, w.hi, 0, true)
		} else {
			a.words(w.lo, w.hi, 0)
		}
	}
	fs := append(s.scanText(text, active), a.out...)
	return resolveUnion(append(fs, s.urlFinds(text)...))
}

// resolveUnion is resolve for matches of the content and context rules
// together: where matches overlap, a content rule's is kept over a context
// rule's (then as resolve keeps), and its secret becomes the union of the
// group's.
func resolveUnion(fs []found) []found {
	slices.SortFunc(fs, func(a, b found) int {
		if c := cmp.Compare(a.sStart, b.sStart); c != 0 {
			return c
		}
		return cmp.Compare(a.rule.index, b.rule.index)
	})
	out := fs[:0]
	for _, f := range fs {
		n := len(out)
		if n == 0 || f.sStart >= out[n-1].sEnd {
			out = append(out, f)
			continue
		}
		last := &out[n-1]
		union := found{start: min(last.start, f.start), end: max(last.end, f.end), sStart: last.sStart, sEnd: max(last.sEnd, f.sEnd)}
		union.rule = last.rule
		if last.rule.context != f.rule.context && !f.rule.context || last.rule.context == f.rule.context && better(f, *last) {
			union.rule = f.rule
		}
		*last = union
	}
	return out
}
