package secret

import (
	"bytes"
	"sort"
	"strings"
	"unicode/utf8"
)

// Redaction.
const (
	// mask replaces the hidden part of a secret.
	mask = "*****"
	// keepPrefix characters of a secret stay visible, so that a reader can
	// tell which token it is ("ghp_*****")…
	keepPrefix = 4
	// …but only when the secret is at least minKeep long: shorter ones
	// (passwords) are masked whole.
	minKeep = 12
	// excerptBefore and excerptLen bound the excerpt around a match.
	excerptBefore = 40
	excerptLen    = 120
	// maxScrub distinct secrets of a text are looked for wherever else they
	// occur in it (see scrubber); a text with more has the others masked
	// where they were found only. It bounds the cost of a hostile input
	// made of secrets.
	maxScrub = 1024
)

// Redact returns secret with all but its first 4 characters replaced by
// "*****"; secrets shorter than 12 characters are masked whole.
func Redact(secret string) string {
	if len(secret) < minKeep {
		return mask
	}
	return secret[:keepPrefix] + mask
}

// excerpt returns the redacted text around f: its line (the line of anchor),
// at most excerptLen bytes starting excerptBefore bytes before anchor. Every
// secret of all (sorted, not overlapping) that overlaps the excerpt is
// redacted. Only the excerpt's bytes are looked at: a long line costs no
// more than a short one.
func excerpt(data []byte, anchor int, f found, all []found) string {
	return excerptIn(data, 0, len(data), anchor, f, all)
}

// excerptIn is excerpt within data[lo:hi] (lo <= anchor < hi).
func excerptIn(data []byte, lo, hi, anchor int, f found, all []found) string {
	from := max(lo, anchor-excerptBefore)
	if i := bytes.LastIndexByte(data[from:anchor], '\n'); i >= 0 {
		from += i + 1
	}
	to := min(hi, from+excerptLen)
	if i := bytes.IndexByte(data[anchor:to], '\n'); i >= 0 {
		to = anchor + i
	}
	return scrub(redactRange(data, from, to, all), string(data[f.sStart:f.sEnd]))
}

// scrub removes every whole occurrence of secret from s; if redacting makes
// the secret appear again, s is dropped.
func scrub(s, secret string) string {
	if len(secret) <= keepPrefix || !strings.Contains(s, secret) {
		return s
	}
	s = strings.ReplaceAll(s, secret, Redact(secret))
	if strings.Contains(s, secret) {
		return ""
	}
	return s
}

// clean makes an excerpt printable: valid UTF-8, tabs and other control
// characters as spaces, trimmed.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}

// redactRange returns data[from:to] with every secret of fs (sorted, not
// overlapping) in it masked, made printable (see clean).
func redactRange(data []byte, from, to int, fs []found) string {
	out, secrets := maskRange(data, from, to, fs)
	return scrubAll(clean(out), secrets)
}

// maskRange returns data[from:to] with every secret of fs (sorted, not
// overlapping) in it masked, and those secrets. A secret that starts in the
// range and is at least minKeep long keeps its first keepPrefix bytes.
// Only the secrets overlapping the range are visited.
func maskRange[T ~string | ~[]byte](data T, from, to int, fs []found) (string, []string) {
	i := sort.Search(len(fs), func(i int) bool { return fs[i].sEnd > from })
	if i == len(fs) || fs[i].sStart >= to {
		return string(data[from:to]), nil
	}
	var b strings.Builder
	b.Grow(to - from)
	var secrets []string
	pos := from
	for ; i < len(fs) && fs[i].sStart < to; i++ {
		x := fs[i]
		lo, hi := max(x.sStart, pos), min(x.sEnd, to)
		if hi <= lo {
			continue
		}
		b.WriteString(string(data[pos:lo]))
		if lo == x.sStart && x.sEnd-x.sStart >= minKeep {
			b.WriteString(string(data[lo : lo+min(keepPrefix, hi-lo)]))
		}
		b.WriteString(mask)
		pos = hi
		secrets = append(secrets, string(data[x.sStart:x.sEnd]))
	}
	b.WriteString(string(data[pos:to]))
	return b.String(), secrets
}

// scrubAll is scrub for several secrets, in one pass over s however many
// there are: every whole occurrence is redacted, and s is dropped ("") if a
// secret is still in it after that.
func scrubAll(s string, secrets []string) string {
	return scrubber(secrets)(s)
}

// scrubber returns scrubAll for secrets (the first maxScrub distinct ones),
// to apply to many strings.
func scrubber(secrets []string) func(string) string {
	var pairs []string
	seen := map[string]bool{}
	for _, x := range secrets {
		if len(pairs) == 2*maxScrub {
			break
		}
		if len(x) > keepPrefix && !seen[x] {
			seen[x] = true
			pairs = append(pairs, x, Redact(x))
		}
	}
	switch len(pairs) {
	case 0:
		return func(s string) string { return s }
	case 2:
		return func(s string) string { return scrub(s, pairs[0]) }
	}
	r := strings.NewReplacer(pairs...)
	return func(s string) string {
		out := r.Replace(s)
		if r.Replace(out) != out {
			return ""
		}
		return out
	}
}
