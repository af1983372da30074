package walk

import (
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Skipper holds Trivy's --skip-dirs and --skip-files patterns. A skipped
// file is never read: its content is not captured, not shown to the Tap,
// and its path is not offered to the Wanter (no extractor, no secret rule,
// no malware check sees it). A skipped directory's entries, at any depth,
// are skipped alike. Whiteouts are still recorded: they are not files of
// the image, and the files they delete in lower layers are under the same
// paths, so skipped there too.
//
// Patterns follow Trivy (pkg/fanal/utils.SkipPath): cleaned, the leading
// "/" dropped, then matched with the doublestar library against the
// entry's path without its leading "/": "*" matches within one path
// element, "**" any number of directories ("**/node_modules",
// "/usr/lib/**/*.jar"). Unlike Trivy's tar walker, a directory is skipped
// whether or not the layer has an entry for the directory itself: every
// ancestor of an entry is matched (a layer may list /app/x without /app).
//
// A Skipper is immutable and may be shared by the layers walked at once.
type Skipper struct {
	rules []SkipRule
}

// SkipRule is one pattern, as given, and the flag it came from.
type SkipRule struct {
	// Flag is "skip-dirs" or "skip-files".
	Flag    string
	Pattern string
	clean   string
}

// SkipCount is how many files of a layer one pattern skipped (regular
// files, hardlinks and symlinks; directory entries are not counted), and
// the first of them in tar order.
type SkipCount struct {
	Flag    string
	Pattern string
	Files   int
	First   string
}

// NewSkipper checks and compiles the patterns; nil when there are none. A
// pattern doublestar cannot parse is an error (Trivy ignores it, which
// would scan what the user meant to skip without a word).
func NewSkipper(dirs, files []string) (*Skipper, error) {
	s := &Skipper{}
	add := func(flag string, pats []string) error {
		for _, p := range pats {
			if strings.TrimSpace(p) == "" {
				return fmt.Errorf("--%s: empty pattern", flag)
			}
			c := strings.TrimLeft(path.Clean(p), "/")
			if c == "" || c == "." {
				return fmt.Errorf("--%s %q: the pattern names the image root, which would skip every file", flag, p)
			}
			if !doublestar.ValidatePattern(c) {
				return fmt.Errorf("--%s %q: not a valid glob pattern", flag, p)
			}
			s.rules = append(s.rules, SkipRule{Flag: flag, Pattern: p, clean: c})
		}
		return nil
	}
	if err := add("skip-dirs", dirs); err != nil {
		return nil, err
	}
	if err := add("skip-files", files); err != nil {
		return nil, err
	}
	if len(s.rules) == 0 {
		return nil, nil
	}
	return s, nil
}

// Rules returns the patterns in the order given, directories first.
func (s *Skipper) Rules() []SkipRule {
	if s == nil {
		return nil
	}
	return s.rules
}

// Key identifies the patterns for the per-layer cache: a layer walked
// with skips is not the same result as one walked without them. Order
// matters (the first matching pattern is the one a file is counted
// against), so it is kept; "" when there are none.
func (s *Skipper) Key() string {
	if s == nil {
		return ""
	}
	parts := make([]string, len(s.rules))
	for i, r := range s.rules {
		parts[i] = r.Flag + "=" + strconv.Quote(r.clean)
	}
	return strings.Join(parts, ",")
}

// dirMemoMax bounds the directories whose decision a layer walk
// remembers; past it the memo starts again (tar entries come grouped by
// directory, so a small memo serves nearly every lookup).
const dirMemoMax = 4096

// skipState is one layer's use of a Skipper: the memo of directory
// decisions and the counts.
type skipState struct {
	s      *Skipper
	dirs   map[string]int // dir → index of the rule skipping it, -1 for none
	counts []SkipCount    // by rule index
}

func newSkipState(s *Skipper) *skipState {
	if s == nil {
		return nil
	}
	st := &skipState{s: s, dirs: map[string]int{}, counts: make([]SkipCount, len(s.rules))}
	for i, r := range s.rules {
		st.counts[i] = SkipCount{Flag: r.Flag, Pattern: r.Pattern}
	}
	return st
}

// dirRule returns the index of the --skip-dirs rule skipping dir (an
// absolute cleaned path) or one of its ancestors, or -1.
func (st *skipState) dirRule(dir string) int {
	if dir == "/" || dir == "." || dir == "" {
		return -1
	}
	if i, ok := st.dirs[dir]; ok {
		return i
	}
	i := st.dirRule(path.Dir(dir))
	if i < 0 {
		rel := dir[1:]
		for j, r := range st.s.rules {
			if r.Flag == "skip-dirs" && doublestar.MatchUnvalidated(r.clean, rel) {
				i = j
				break
			}
		}
	}
	if len(st.dirs) >= dirMemoMax {
		clear(st.dirs)
	}
	st.dirs[dir] = i
	return i
}

// rule returns the index of the rule skipping the entry at p, or -1. A
// directory entry is skipped when it or an ancestor matches --skip-dirs;
// any other entry when an ancestor does or --skip-files matches it.
func (st *skipState) rule(p string, isDir bool) int {
	if st == nil {
		return -1
	}
	if isDir {
		return st.dirRule(p)
	}
	if i := st.dirRule(path.Dir(p)); i >= 0 {
		return i
	}
	rel := strings.TrimPrefix(p, "/")
	for j, r := range st.s.rules {
		if r.Flag == "skip-files" && doublestar.MatchUnvalidated(r.clean, rel) {
			return j
		}
	}
	return -1
}

// skip reports whether the file at p is skipped, and counts it.
func (st *skipState) skip(p string) bool {
	i := st.rule(p, false)
	if i < 0 {
		return false
	}
	c := &st.counts[i]
	if c.Files == 0 {
		c.First = p
	}
	c.Files++
	return true
}

// result returns the counts of the patterns that skipped something.
func (st *skipState) result() []SkipCount {
	if st == nil {
		return nil
	}
	var out []SkipCount
	for _, c := range st.counts {
		if c.Files > 0 {
			out = append(out, c)
		}
	}
	return out
}
