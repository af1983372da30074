package secret

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"io/fs"
	"slices"

	aho "github.com/petar-dambovaliev/aho-corasick"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

// Name is the extractor's name.
const Name = "secret/rules"

// Engine limits.
const (
	// sniffLen is how much of a file is searched for a NUL byte: a file with
	// one is binary and skipped.
	sniffLen = 8 << 10
	// window is how much of a file is scanned at once; windows overlap by
	// overlap bytes on each side so that a match near a boundary is seen
	// whole, together with its keyword, by the window it starts in.
	window  = 1 << 20
	overlap = 64 << 10
	// A line-local rule's regex runs on the keyword's line, clipped to
	// keywordBack bytes before and keywordFwd bytes after the keyword.
	keywordBack = 512
	keywordFwd  = 4 << 10
	// A multiline rule's regex runs from the keyword's line start over
	// multilineFwd bytes.
	multilineFwd = 32 << 10
)

// Scanner finds secrets. It is safe for concurrent use and implements
// extract.Extractor.
type Scanner struct {
	rules     []*compiledRule
	ac        *aho.AhoCorasick // nil when no rule has keywords
	kwRules   [][]int          // keyword index → rule indices
	noKeyword []int            // rules run on every file
	allow     []compiledAllow  // global allow rules
	maxSize   int64
	version   int
	ctxRules  contextRules // the image configuration's context rules
}

var _ extract.Extractor = (*Scanner)(nil)

// Name implements extract.Extractor.
func (*Scanner) Name() string { return Name }

// Version implements extract.Extractor. It is RulesVersion with the built-in
// rules and a value derived from the configuration otherwise, so that a
// per-layer cache never serves results of other rules.
func (s *Scanner) Version() int { return s.version }

// Rules returns the IDs of the rules in effect, in priority order.
func (s *Scanner) Rules() []string {
	ids := make([]string, len(s.rules))
	for i, r := range s.rules {
		ids[i] = r.ID
	}
	return ids
}

// Wants implements extract.Extractor: every regular, non-empty file up to
// the size limit, except noise (see skipPath) and paths a global allow rule
// excludes.
func (s *Scanner) Wants(path string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size <= 0 || size > s.maxSize || skipPath(path) {
		return false
	}
	for i := range s.allow {
		if s.allow[i].pathOnly() && s.allow[i].path.MatchString(path) {
			return false
		}
	}
	return true
}

// Extract implements extract.Extractor: it returns the secrets found in the
// file as Hits (no packages). A binary file (a NUL byte in its first 8 KiB)
// gives extract.ErrNotApplicable. At most the size limit is read, one
// window at a time.
func (s *Scanner) Extract(ctx context.Context, in *extract.Input) (inventory.Inventory, error) {
	size := min(in.File.Size(), s.maxSize)
	if size <= 0 {
		return inventory.Inventory{}, nil
	}
	active := s.activeRules(in.Path)
	if active == nil {
		return inventory.Inventory{}, nil
	}
	buf := make([]byte, min(size, window+2*overlap))
	var hits []inventory.SecretHit
	line := 1 // line number at the start of the current window
	for start := int64(0); start < size; start += window {
		if err := ctx.Err(); err != nil {
			return inventory.Inventory{}, err
		}
		lo := max(0, start-overlap)
		hi := min(size, start+window+overlap)
		data := buf[:hi-lo]
		if n, err := in.File.ReadAt(data, lo); n < len(data) {
			if err == nil {
				err = io.ErrUnexpectedEOF
			}
			return inventory.Inventory{Hits: hits}, fmt.Errorf("reading %q: %w", in.Path, err)
		}
		if start == 0 && bytes.IndexByte(data[:min(len(data), sniffLen)], 0) >= 0 {
			return inventory.Inventory{}, extract.ErrNotApplicable
		}
		// Matches are kept by the window they start in.
		from, to := int(start-lo), int(min(size, start+window)-lo)
		found := s.scan(in.Path, data, active)
		hits = append(hits, s.hitsOf(data, found, from, to, line)...)
		if start+window < size {
			next := start + window - overlap // the next window's lo
			line += bytes.Count(data[:next-lo], []byte{'\n'})
		}
	}
	return inventory.Inventory{Hits: hits}, nil
}

// activeRules returns, for each rule, whether it runs on a file at path; nil
// if none does.
func (s *Scanner) activeRules(path string) []bool {
	active := make([]bool, len(s.rules))
	some := false
	_, thirdParty := thirdPartyRest(path)
	for i, r := range s.rules {
		active[i] = r.appliesTo(path) && !(thirdParty && r.generic)
		some = some || active[i]
	}
	if !some {
		return nil
	}
	return active
}

// found is one accepted regex match, offsets into the scanned data.
type found struct {
	rule         *compiledRule
	start, end   int // the whole match
	sStart, sEnd int // the secret
}

type span struct{ lo, hi int }

// scan runs the active rules over data and returns the accepted matches
// sorted by secret offset, overlaps resolved.
func (s *Scanner) scan(path string, data []byte, active []bool) []found {
	spans := make([][]span, len(s.rules))
	if s.ac != nil {
		it := s.ac.IterOverlappingByte(data)
		for m := it.Next(); m != nil; m = it.Next() {
			for _, ri := range s.kwRules[m.Pattern()] {
				if !active[ri] {
					continue
				}
				r, sp := s.rules[ri], spans[ri]
				n := len(sp)
				if r.anchored != nil {
					// One anchored attempt per keyword (or per variable
					// name holding keywords).
					var lo, hi int
					if r.Anchor == AnchorName {
						lo, hi = nameAround(data, m.Start(), m.End())
					} else {
						if m.Start() > 0 && isWordChar(data[m.Start()-1]) {
							continue
						}
						_, hi = around(data, m.Start(), m.End(), false)
						lo = m.Start()
					}
					if n == 0 || sp[n-1].lo != lo {
						spans[ri] = append(sp, span{lo, hi})
					}
					continue
				}
				if n > 0 && m.Start() >= sp[n-1].lo && m.End() <= sp[n-1].hi {
					continue // already covered
				}
				lo, hi := around(data, m.Start(), m.End(), r.Multiline)
				if n > 0 && lo <= sp[n-1].hi {
					sp[n-1].lo = min(sp[n-1].lo, lo)
					sp[n-1].hi = max(sp[n-1].hi, hi)
				} else {
					sp = append(sp, span{lo, hi})
				}
				spans[ri] = sp
			}
		}
	}
	for _, ri := range s.noKeyword {
		if active[ri] {
			spans[ri] = []span{{0, len(data)}}
		}
	}
	var out []found
	for ri, sps := range spans {
		r := s.rules[ri]
		for _, sp := range sps {
			var ms [][]int
			if r.anchored != nil {
				if m := r.anchored.FindSubmatchIndex(data[sp.lo:sp.hi]); m != nil {
					ms = [][]int{m}
				}
			} else {
				ms = r.re.FindAllSubmatchIndex(data[sp.lo:sp.hi], -1)
			}
			for _, m := range ms {
				ss, se := m[2*r.secretIdx], m[2*r.secretIdx+1]
				if ss < 0 || se <= ss {
					continue
				}
				f := found{rule: r, start: m[0] + sp.lo, end: m[1] + sp.lo, sStart: ss + sp.lo, sEnd: se + sp.lo}
				if r.generic && f.sEnd < len(data) && data[f.sEnd] == '(' {
					continue // a function call: password = get_password()
				}
				if r.nameIdx > 0 && m[2*r.nameIdx] >= 0 && ignoredName(data[m[2*r.nameIdx]+sp.lo:m[2*r.nameIdx+1]+sp.lo]) {
					continue
				}
				if s.accept(r, path, string(data[f.sStart:f.sEnd]), data[f.start:f.end]) {
					out = append(out, f)
				}
			}
		}
	}
	return resolve(out)
}

// around returns the region a rule's regex runs on for a keyword at
// [ks, ke): its line (clipped), or for multiline rules the keyword's line
// start and what follows.
func around(data []byte, ks, ke int, multiline bool) (int, int) {
	back := max(0, ks-keywordBack)
	lo := back
	if i := bytes.LastIndexByte(data[back:ks], '\n'); i >= 0 {
		lo = back + i + 1
	}
	if multiline {
		return lo, min(len(data), ke+multilineFwd)
	}
	fwd := min(len(data), ke+keywordFwd)
	hi := fwd
	if i := bytes.IndexByte(data[ke:fwd], '\n'); i >= 0 {
		hi = ke + i
	}
	return lo, hi
}

// nameAround returns where an assignment rule is tried for a keyword at
// [ks, ke): from the character before the variable name holding the keyword
// (or the line start) to the end of the line, clipped like around. A
// regex starting with NamePrefix that matches with this keyword in its name
// matches leftmost exactly there (AnchorName).
func nameAround(data []byte, ks, ke int) (int, int) {
	lineLo, hi := around(data, ks, ke, false)
	lo := ks
	for lo > lineLo && isNameChar(data[lo-1]) {
		lo--
	}
	if lo > lineLo {
		lo-- // the boundary character
	}
	return lo, hi
}

func isWordChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_'
}

func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-'
}

// accept applies the entropy floor, the placeholder checks and the allow
// rules to one match.
func (s *Scanner) accept(r *compiledRule, path, secret string, whole []byte) bool {
	if r.Entropy > 0 && entropy(secret) < r.Entropy {
		return false
	}
	if isPlaceholder(secret, r.generic) {
		return false
	}
	w := string(whole)
	for i := range r.allow {
		if r.allow[i].matches(path, secret, w) {
			return false
		}
	}
	for i := range s.allow {
		if s.allow[i].matches(path, secret, w) {
			return false
		}
	}
	return true
}

// resolve sorts matches by position and, where two secrets overlap, keeps
// one: a specific rule over a generic one, then the earlier rule.
func resolve(fs []found) []found {
	slices.SortFunc(fs, func(a, b found) int {
		if c := cmp.Compare(a.sStart, b.sStart); c != 0 {
			return c
		}
		return cmp.Compare(a.rule.index, b.rule.index)
	})
	out := fs[:0]
	for _, f := range fs {
		if n := len(out); n > 0 && f.sStart < out[n-1].sEnd {
			if better(f, out[n-1]) {
				out[n-1] = f
			}
			continue
		}
		out = append(out, f)
	}
	return out
}

func better(a, b found) bool {
	if a.rule.generic != b.rule.generic {
		return !a.rule.generic
	}
	return a.rule.index < b.rule.index
}

// hitsOf turns the matches starting in [from, to) into redacted hits.
// lineAt0 is the line number of data[0].
func (s *Scanner) hitsOf(data []byte, fs []found, from, to, lineAt0 int) []inventory.SecretHit {
	var hits []inventory.SecretHit
	line, counted := lineAt0, 0
	for _, f := range fs {
		if f.start < from || f.start >= to {
			continue
		}
		anchor := f.sStart
		if bytes.IndexByte(data[f.start:f.sStart], '\n') >= 0 {
			anchor = f.start // the secret starts on a later line (a PEM body)
		}
		if anchor < counted { // matches are sorted by secret, not by anchor
			line, counted = lineAt0, 0
		}
		line += bytes.Count(data[counted:anchor], []byte{'\n'})
		counted = anchor
		hits = append(hits, inventory.SecretHit{
			RuleID:   f.rule.ID,
			Title:    f.rule.Title,
			Severity: f.rule.Severity,
			Category: f.rule.Category,
			Line:     line,
			Match:    excerpt(data, anchor, f, fs),
		})
	}
	return hits
}
