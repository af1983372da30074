package npm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/extract"
)

const (
	// maxLockLine bounds one line of a Yarn or pnpm lockfile: real lines
	// are short (an integrity hash is the longest, under 200 bytes).
	maxLockLine = 1 << 20
	// maxYAMLEntry bounds the bytes of one entry of a YAML lockfile (a
	// Yarn 2+ entry, one entry of pnpm's "packages", "snapshots" or
	// "importers") decoded at once. The largest real ones, a monorepo's
	// root importer, are a few hundred KB.
	maxYAMLEntry = 2 << 20
)

// The YAML lockfiles (Yarn 2+, pnpm) are read line by line, one entry at a
// time, never whole: their entries are the keys of a block mapping (the
// document's, or a top-level key's such as pnpm's "packages"), each on a
// line of its own at the mapping's indentation, its fields on the more
// indented lines below. Each entry's lines are decoded with yaml.v3 on
// their own, so that an entry means what it meant when the document was
// decoded whole, and memory follows one entry, not the file. What does not
// fit that shape (a flow mapping spread over lines at column 0) fails to
// decode as an entry and is reported, never silently dropped.

// lockLines reads a lockfile's lines with one line of look-ahead.
type lockLines struct {
	lr     *extract.LineReader
	peeked bool
	line   extract.Line
}

func newLockLines(ctx context.Context, open opener) (*lockLines, func() error, error) {
	rc, err := open()
	if err != nil {
		return nil, nil, err
	}
	return &lockLines{lr: extract.NewLineReader(ctx, rc, maxLockLine)}, rc.Close, nil
}

// next returns the next line.
func (l *lockLines) next() (extract.Line, bool) {
	if l.peeked {
		l.peeked = false
		return l.line, true
	}
	if !l.lr.Next() {
		return extract.Line{}, false
	}
	l.line = l.lr.Line()
	return l.line, true
}

// unread makes next return the line it returned last again.
func (l *lockLines) unread() { l.peeked = true }

// err is what stopped the lines early (nil at the end of the file).
func (l *lockLines) err() error { return l.lr.Err() }

// indent is the number of spaces a line begins with; -1 for a line that is
// blank or only a comment, which belongs to no entry.
func indent(s string) int {
	t := strings.TrimLeft(s, " ")
	if t == "" || t[0] == '#' || strings.TrimSpace(t) == "" {
		return -1
	}
	return len(s) - len(t)
}

// entry is the lines of one mapping entry, kept for decoding.
type entry struct {
	start int // the first line's number
	buf   bytes.Buffer
	over  bool // longer than maxYAMLEntry: not kept
}

// block reads the lines of an entry whose first line was just read (at
// indentation ind): that line and every following line more indented, or
// blank. It stops before the first line at ind or less, which next
// returns. The lines are kept in e, unless e is nil (an entry skipped).
func (l *lockLines) block(first extract.Line, ind int, e *entry) {
	if e != nil {
		e.start = first.N
		e.buf.Reset()
		e.over = false
		e.add(first.Text)
	}
	for {
		line, ok := l.next()
		if !ok {
			return
		}
		if i := indent(line.Text); i >= 0 && i <= ind {
			l.unread()
			return
		}
		if e != nil {
			e.add(line.Text)
		}
	}
}

func (e *entry) add(s string) {
	if e.over {
		return
	}
	if e.buf.Len()+len(s)+1 > maxYAMLEntry {
		e.over = true
		e.buf.Reset()
		return
	}
	e.buf.WriteString(s)
	e.buf.WriteByte('\n')
}

// yamlErrs gathers the errors of entries decoded one at a time as one
// decoding of the whole document would have given them: the type errors
// in one *yaml.TypeError, the line numbers those of the file.
type yamlErrs struct {
	typeErrs []string
	other    []error
}

// lineNo finds yaml.v3's line numbers in its messages.
var lineNo = regexp.MustCompile(`\bline (\d+)`)

// shift turns the line numbers of a message about an entry into the
// file's.
func shift(msg string, start int) string {
	return lineNo.ReplaceAllStringFunc(msg, func(m string) string {
		n, err := strconv.Atoi(m[len("line "):])
		if err != nil {
			return m
		}
		return "line " + strconv.Itoa(n+start-1)
	})
}

// decode decodes entry e into v, recording its errors. It reports whether
// anything was decoded (a type error keeps the rest of the entry).
func (y *yamlErrs) decode(e *entry, v any) bool {
	if e.over {
		y.other = append(y.other, fmt.Errorf("line %d: entry longer than %d bytes skipped", e.start, maxYAMLEntry))
		return false
	}
	err := yaml.Unmarshal(e.buf.Bytes(), v)
	if err == nil {
		return true
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, m := range te.Errors {
			y.typeErrs = append(y.typeErrs, shift(m, e.start))
		}
		return true
	}
	y.other = append(y.other, errors.New(shift(err.Error(), e.start)))
	return false
}

// add records an error that is not yaml's.
func (y *yamlErrs) add(err error) {
	if err != nil {
		y.other = append(y.other, err)
	}
}

// err is the errors recorded: the syntax errors (and others) first, then
// the type errors together.
func (y *yamlErrs) err() error {
	errs := y.other
	if len(y.typeErrs) > 0 {
		errs = append(errs, &yaml.TypeError{Errors: y.typeErrs})
	}
	return errors.Join(errs...)
}

// strayError describes the indented lines found outside any entry (before
// the first key at column 0): n of them, the first at line first. They
// would be a document indented whole, which is not read.
func strayError(n, first int) error {
	if n == 0 {
		return nil
	}
	return fmt.Errorf("line %d: %d indented lines outside any entry skipped", first, n)
}

// topKey returns the key of a line at column 0 ("packages:" → "packages")
// and what follows its colon, trimmed.
func topKey(s string) (key, rest string) {
	k, r, ok := strings.Cut(s, ":")
	if !ok {
		return "", s
	}
	return unquote(strings.TrimSpace(strings.Trim(k, "'"))), strings.TrimSpace(r)
}

// cutError is the error of a lockfile whose entries past maxLockEntries
// were not read.
func cutError(what string) error {
	if what == "" {
		return fmt.Errorf("stopped after %d entries, the limit for one file: the rest is not read", maxLockEntries)
	}
	return fmt.Errorf("stopped after %d entries of %q, the limit for one file: the rest of them is not read", maxLockEntries, what)
}
