package secret

import (
	"bytes"
	"slices"
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
// secret of all that overlaps the excerpt is redacted.
func excerpt(data []byte, anchor int, f found, all []found) string {
	lineStart := bytes.LastIndexByte(data[:anchor], '\n') + 1
	lineEnd := len(data)
	if i := bytes.IndexByte(data[anchor:], '\n'); i >= 0 {
		lineEnd = anchor + i
	}
	from := max(lineStart, anchor-excerptBefore)
	to := min(lineEnd, from+excerptLen)
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

// redactRange returns data[from:to] with every secret of fs in it masked.
func redactRange(data []byte, from, to int, fs []found) string {
	type cut struct{ lo, hi, keep int }
	var cuts []cut
	for _, x := range fs {
		if x.sStart >= to || x.sEnd <= from {
			continue
		}
		lo, hi := max(x.sStart, from), min(x.sEnd, to)
		keep := 0
		if lo == x.sStart && x.sEnd-x.sStart >= minKeep {
			keep = min(keepPrefix, hi-lo)
		}
		cuts = append(cuts, cut{lo, hi, keep})
	}
	slices.SortFunc(cuts, func(a, b cut) int { return a.lo - b.lo })
	var b strings.Builder
	pos := from
	for _, c := range cuts {
		if c.hi <= pos {
			continue
		}
		if c.lo > pos {
			b.Write(data[pos:c.lo])
			pos = c.lo
		}
		if c.lo == pos && c.keep > 0 {
			b.Write(data[pos : pos+c.keep])
		}
		b.WriteString(mask)
		pos = c.hi
	}
	if pos < to {
		b.Write(data[pos:to])
	}
	out := clean(b.String())
	for _, x := range fs {
		if x.sStart >= to || x.sEnd <= from {
			continue
		}
		out = scrub(out, string(data[x.sStart:x.sEnd]))
	}
	return out
}
