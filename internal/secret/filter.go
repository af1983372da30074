package secret

import (
	"math"
	"regexp"
	"strings"
)

// entropy is the Shannon entropy of s in bits per byte.
func entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c == 0 {
			continue
		}
		p := float64(c) / n
		h -= p * math.Log2(p)
	}
	return h
}

// placeholderParts mark a value as a placeholder for every rule, wherever
// they occur in it (compared in lower case). Random tokens contain none of
// them in practice: the shortest, "xxxx", has a chance of about 1 in 14
// million per position in a base62 string.
var placeholderParts = [...]string{
	"example", "xxxx", "dummy", "placeholder", "changeme", "change_me", "change-me",
	"${", "{{", "<", ">", "****", "redacted", "your_", "your-", "yourkey", "yourtoken",
	"yoursecret", "_here", "-here", "0000000000", "1234567890", "0123456789", "abcdefghij",
}

// genericWords are whole values that generic (keyword = value) rules ignore:
// documentation and sample configurations use them as stand-ins.
var genericWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "secret": true, "changeit": true, "example": true,
	"dummy": true, "test": true, "testing": true, "foo": true, "bar": true, "foobar": true, "baz": true,
	"admin": true, "root": true, "user": true, "username": true, "guest": true, "default": true,
	"none": true, "null": true, "nil": true, "true": true, "false": true, "yes": true, "no": true,
	"empty": true, "token": true, "apikey": true, "api_key": true, "key": true, "value": true,
	"string": true, "str": true, "hidden": true, "mypassword": true, "mysecret": true, "secretpassword": true,
	"pwd": true, "pw": true, "s3cr3t": true, "123456": true, "12345678": true, "qwerty": true,
	"letmein": true, "tiger": true, "scott": true, "required": true, "optional": true, "undefined": true,
	"disabled": true, "enabled": true, "unset": true, "notset": true, "not-set": true, "not_set": true,
}

// genericParts are substrings that mark a generic rule's value as a stand-in.
var genericParts = [...]string{"test", "sample", "fake", "password", "passwd", "secret", "insert", "replace", "todo", "fixme", "://"}

var (
	// reIdentifier matches words, identifiers and dotted or kebab names
	// ("Authentication", "PASSWORD_FILE", "self.password", "db-pass"): what
	// follows "password:" in prose and code far more often than a password.
	reIdentifier = regexp.MustCompile(`^[A-Za-z_.\-]+$`)
	// reReference matches qualified names in code: "exports2.TOKEN",
	// "ed25519.Ed25519PrivateKey", "$config->{db}".
	reReference = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*(?:\.[A-Za-z_$][A-Za-z0-9_$]*)+$`)
	// reVersionLike matches version numbers and dates.
	reVersionLike = regexp.MustCompile(`^v?[0-9][0-9.\-:+~]*$`)
)

// isPlaceholder reports whether a secret value is a known stand-in rather
// than a credential. Generic rules get the stricter checks.
func isPlaceholder(v string, generic bool) bool {
	lv := strings.ToLower(v)
	for _, p := range placeholderParts {
		if strings.Contains(lv, p) {
			return true
		}
	}
	if lowVariety(v) {
		return true
	}
	if !generic {
		return false
	}
	if genericWords[strings.Trim(lv, `"'`)] {
		return true
	}
	for _, p := range genericParts {
		if strings.Contains(lv, p) {
			return true
		}
	}
	switch v[0] {
	case '$', '%', '@', '{', '[', '(', '&', '*', '#', '/', '\\', '!', '~', '.', '+', '=', '?', '|', ':', '-':
		// Variable references, templates, paths, flags, operators.
		return true
	}
	if strings.ContainsAny(v, "()") || strings.Contains(v, "::") || strings.Contains(v, "->") {
		return true
	}
	if choices := strings.Split(v, "|"); len(choices) > 1 {
		// A list of allowed values in documentation: "true|false".
		all := true
		for _, c := range choices {
			all = all && reIdentifier.MatchString(c)
		}
		if all {
			return true
		}
	}
	return reIdentifier.MatchString(v) || reReference.MatchString(v) || reVersionLike.MatchString(v)
}

// ignoredNameSuffixes end variable names that hold metadata about a secret
// rather than the secret: "private_key_id", "password_file", "token_url",
// "secret_name", "password_min_length".
var ignoredNameSuffixes = [...]string{
	"id", "ids", "file", "path", "dir", "name", "type", "url", "uri", "length", "len", "size",
	"field", "label", "prompt", "pattern", "regex", "policy", "header", "param", "env", "var",
	"version", "algorithm", "mode", "format", "location", "provider", "enabled", "required",
	"expiry", "expires", "ttl", "timeout", "endpoint", "count", "hint",
}

// ignoredName reports whether an assigned variable's name says it holds
// metadata about a secret (compared in lower case, after a separator or
// camel-case boundary is not required: "tokenUrl" and "token_url" both end
// in "url").
func ignoredName(name []byte) bool {
	n := strings.ToLower(strings.Trim(string(name), `"'`))
	for _, suf := range ignoredNameSuffixes {
		if strings.HasSuffix(n, suf) {
			return true
		}
	}
	return false
}

// lowVariety reports whether v (8 bytes or more) uses at most 3 distinct
// bytes: "aaaaaaaa", "--------", "12121212".
func lowVariety(v string) bool {
	if len(v) < 8 {
		return false
	}
	var seen [256]bool
	n := 0
	for i := 0; i < len(v); i++ {
		if !seen[v[i]] {
			seen[v[i]] = true
			n++
			if n > 3 {
				return false
			}
		}
	}
	return true
}
