// Package secret finds credentials in image files and in the image
// configuration: cloud keys, API tokens, private keys, passwords in
// connection strings and configuration files.
//
// The scanner is an extract.Extractor ("secret/rules") offered every regular
// text file of every layer. A rule is a Go RE2 regular expression guarded by
// keywords: one Aho–Corasick pass over the file finds every keyword, and a
// rule's regex runs only on the lines where one of its keywords occurred. A
// secret is never returned whole: SecretHit.Match holds a redacted excerpt.
//
// The rules, the allow lists and the paths skipped are documented in
// docs/secrets.md.
package secret

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// Rule is one secret detection rule. The same fields are used for built-in
// rules and for custom rules in the configuration file.
type Rule struct {
	// ID is stable and unique, e.g. "aws-access-key-id".
	ID       string `yaml:"id" json:"id"`
	Title    string `yaml:"title" json:"title"`
	Severity string `yaml:"severity" json:"severity"` // CRITICAL, HIGH, MEDIUM or LOW
	// Category groups rules by provider ("AWS", "GitHub") or kind ("generic").
	Category string `yaml:"category" json:"category,omitempty"`
	// Keywords (matched case-insensitively) gate the regex: it runs only on
	// lines holding one of them. A rule without keywords runs on every file.
	Keywords []string `yaml:"keywords" json:"keywords,omitempty"`
	// Regex is a Go RE2 expression. The capture group named "secret" is the
	// part redacted and checked; without one, the whole match is the secret.
	// An optional group named "name" holds the variable name of an
	// assignment: names of metadata about a secret (…_id, …_file, …_path,
	// …_url, …_length, see ignoredNameSuffixes) are not secrets.
	Regex string `yaml:"regex" json:"regex"`
	// Entropy is the minimum Shannon entropy, in bits per byte, of the secret.
	Entropy float64 `yaml:"entropy" json:"entropy,omitempty"`
	// Paths, if set, limit the rule to files whose absolute path matches one
	// of these regexes.
	Paths []string `yaml:"paths" json:"paths,omitempty"`
	// Allow lists known non-secrets for this rule.
	Allow []Allow `yaml:"allow" json:"allow,omitempty"`
	// Multiline rules may match across lines (private key blocks): the regex
	// runs from the keyword's line over the next 32 KiB instead of on one line.
	Multiline bool `yaml:"multiline" json:"multiline,omitempty"`
	// Anchor makes the regex run once per keyword, anchored, instead of over
	// the keyword's line: much faster, and the same matches when the rule's
	// matches always start there. "keyword": the match starts at the
	// keyword, which must follow a character that is not a letter, digit
	// or underscore (like \b: for token formats with a literal prefix).
	// "name": the match starts at the character before the variable name
	// (letters, digits, "_", ".", "-") holding the keyword, or at the line
	// start (for "name = value" rules). Empty: the regex runs over the line.
	Anchor string `yaml:"anchor" json:"anchor,omitempty"`
	// Generic rules match by context (a name, then a value) rather than by a
	// token format: any other rule matching the same bytes wins over them,
	// and their values get the stricter placeholder checks (words,
	// identifiers, variable references and paths are not secrets).
	Generic bool `yaml:"generic" json:"generic,omitempty"`
}

// Allow marks matches that are not secrets. Every field that is set must
// match (an empty Allow matches nothing).
type Allow struct {
	Description string `yaml:"description" json:"description,omitempty"`
	// Secret is a regex on the secret (the "secret" group).
	Secret string `yaml:"secret" json:"secret,omitempty"`
	// Match is a regex on the whole text the rule matched.
	Match string `yaml:"match" json:"match,omitempty"`
	// Path is a regex on the file's absolute path.
	Path string `yaml:"path" json:"path,omitempty"`
}

// Anchors of a rule.
const (
	AnchorKeyword = "keyword"
	AnchorName    = "name"
)

// Severities a rule may have.
var severities = map[string]bool{vocab.SevCritical: true, vocab.SevHigh: true, vocab.SevMedium: true, vocab.SevLow: true}

// compiledRule is a Rule ready to run.
type compiledRule struct {
	Rule
	index     int // position in the scanner's list: earlier wins ties
	re        *regexp.Regexp
	secretIdx int // submatch index of the "secret" group, 0 for the whole match
	nameIdx   int // submatch index of the "name" group, -1 if none
	// anchored is re anchored at the start of the text, for rules with an
	// Anchor (nil otherwise).
	anchored *regexp.Regexp
	paths    []*regexp.Regexp
	allow    []compiledAllow
	generic  bool
	// context marks the rules that find a secret by its context in the
	// image configuration (NameRuleID, FlagRuleID, URLRuleID): any content
	// rule wins over them.
	context bool
}

type compiledAllow struct {
	secret, match, path *regexp.Regexp
}

// pathOnly reports whether the allow rule looks at the path alone, so that a
// matching file need not be read at all.
func (a *compiledAllow) pathOnly() bool {
	return a.path != nil && a.secret == nil && a.match == nil
}

// matches reports whether the allow rule covers a finding.
func (a *compiledAllow) matches(path, secret, whole string) bool {
	if a.path == nil && a.secret == nil && a.match == nil {
		return false
	}
	if a.path != nil && !a.path.MatchString(path) {
		return false
	}
	if a.secret != nil && !a.secret.MatchString(secret) {
		return false
	}
	if a.match != nil && !a.match.MatchString(whole) {
		return false
	}
	return true
}

func compileAllow(a Allow) (compiledAllow, error) {
	var c compiledAllow
	var err error
	if a.Secret != "" {
		if c.secret, err = regexp.Compile(a.Secret); err != nil {
			return c, fmt.Errorf("invalid secret regex: %w", err)
		}
	}
	if a.Match != "" {
		if c.match, err = regexp.Compile(a.Match); err != nil {
			return c, fmt.Errorf("invalid match regex: %w", err)
		}
	}
	if a.Path != "" {
		if c.path, err = regexp.Compile(a.Path); err != nil {
			return c, fmt.Errorf("invalid path regex: %w", err)
		}
	}
	if c.secret == nil && c.match == nil && c.path == nil {
		return c, fmt.Errorf("allow rule %q sets none of secret, match, path", a.Description)
	}
	return c, nil
}

// compile checks and compiles one rule. Errors name the rule.
func compile(r Rule, index int) (*compiledRule, error) {
	wrap := func(format string, args ...any) error {
		return fmt.Errorf("secret rule %q: "+format, append([]any{r.ID}, args...)...)
	}
	if r.ID == "" {
		return nil, fmt.Errorf("secret rule %d (%q): missing id", index, r.Title)
	}
	if r.Regex == "" {
		return nil, wrap("missing regex")
	}
	if !severities[r.Severity] {
		return nil, wrap("invalid severity %q (want CRITICAL, HIGH, MEDIUM or LOW)", r.Severity)
	}
	if r.Title == "" {
		r.Title = r.ID
	}
	re, err := regexp.Compile(r.Regex)
	if err != nil {
		return nil, wrap("invalid regex: %w", err)
	}
	c := &compiledRule{Rule: r, index: index, re: re, secretIdx: re.SubexpIndex("secret"), generic: r.Generic}
	if c.secretIdx < 0 {
		c.secretIdx = 0
	}
	c.nameIdx = re.SubexpIndex("name")
	switch r.Anchor {
	case "":
	case AnchorKeyword, AnchorName:
		if r.Multiline || len(r.Keywords) == 0 {
			return nil, wrap("anchor %q needs keywords and a rule that is not multiline", r.Anchor)
		}
		// Same groups, same numbering: the wrapper group is non-capturing.
		if c.anchored, err = regexp.Compile(`^(?:` + r.Regex + `)`); err != nil {
			return nil, wrap("invalid regex: %w", err)
		}
	default:
		return nil, wrap("invalid anchor %q (want %q, %q or none)", r.Anchor, AnchorKeyword, AnchorName)
	}
	kws := make([]string, 0, len(r.Keywords))
	for _, k := range r.Keywords {
		if k == "" {
			return nil, wrap("empty keyword")
		}
		kws = append(kws, strings.ToLower(k))
	}
	c.Keywords = kws
	for _, p := range r.Paths {
		pre, err := regexp.Compile(p)
		if err != nil {
			return nil, wrap("invalid path regex: %w", err)
		}
		c.paths = append(c.paths, pre)
	}
	for i, a := range r.Allow {
		ca, err := compileAllow(a)
		if err != nil {
			return nil, wrap("allow %d: %w", i, err)
		}
		c.allow = append(c.allow, ca)
	}
	if r.Entropy < 0 || r.Entropy > 8 {
		return nil, wrap("entropy %v out of range 0..8", r.Entropy)
	}
	return c, nil
}

// appliesTo reports whether the rule runs on a file at path.
func (c *compiledRule) appliesTo(path string) bool {
	if len(c.paths) > 0 {
		ok := false
		for _, p := range c.paths {
			if p.MatchString(path) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for i := range c.allow {
		if c.allow[i].pathOnly() && c.allow[i].path.MatchString(path) {
			return false
		}
	}
	return true
}
