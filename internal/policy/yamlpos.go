package policy

import (
	"bytes"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// position is a 1-based line and column (in characters) in a source file.
type position struct{ line, col int }

// scalarMap maps character offsets in a YAML scalar's value back to the
// file. YAML folding, quoting and block indentation change the text, so the
// value is aligned with the raw bytes character by character: matching
// characters advance both sides; whitespace (indentation, line folds) and
// short escape sequences in the raw text are skipped.
type scalarMap struct {
	data  []byte
	node  *yaml.Node
	value []rune
	pos   []position // one per rune of value
}

// maxEscapeSkip bounds how many non-space raw characters may be skipped to
// realign after an escape sequence such as \u00e9.
const maxEscapeSkip = 10

func newScalarMap(data []byte, n *yaml.Node) *scalarMap {
	m := &scalarMap{data: data, node: n, value: []rune(n.Value)}
	m.pos = make([]position, len(m.value))
	start, ok := offsetOf(data, n.Line, n.Column)
	if !ok {
		for i := range m.pos {
			m.pos[i] = position{n.Line, n.Column}
		}
		return m
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// Skip the block header ("|", ">-", "|2"…) and its line break.
		for start < len(data) && data[start] != '\n' {
			start++
		}
		if start < len(data) {
			start++
		}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		start++
	}
	line, col := lineCol(data, start, n.Line, startOfLine(data, n.Line))
	raw := start
	for i, v := range m.value {
		// Find v in the raw text from raw on.
		r, cur, found := raw, position{line, col}, false
		rl, rc := line, col
		skipped := 0
		for r < len(data) {
			c, sz := utf8.DecodeRune(data[r:])
			if c == v {
				found = true
				cur = position{rl, rc}
				r += sz
				if c == '\n' {
					rl, rc = rl+1, 1
				} else {
					rc++
				}
				break
			}
			if !unicode.IsSpace(c) {
				skipped++
				if skipped > maxEscapeSkip {
					break
				}
			}
			r += sz
			if c == '\n' {
				rl++
				rc = 1
			} else {
				rc++
			}
		}
		if found {
			m.pos[i] = cur
			raw, line, col = r, rl, rc
		} else {
			m.pos[i] = position{line, col}
		}
	}
	return m
}

// at maps a CEL location (1-based line, 0-based column within the
// expression) to the file position.
func (m *scalarMap) at(celLine, celCol int) position {
	off := 0
	line := 1
	for off < len(m.value) && line < celLine {
		if m.value[off] == '\n' {
			line++
		}
		off++
	}
	off += celCol
	switch {
	case len(m.pos) == 0:
		return position{m.node.Line, m.node.Column}
	case off < 0:
		off = 0
	case off >= len(m.pos):
		// Just past the end (e.g. a syntax error at end of input).
		last := m.pos[len(m.pos)-1]
		if m.value[len(m.value)-1] != '\n' {
			last.col++
		}
		return last
	}
	return m.pos[off]
}

// startOfLine returns the byte offset where 1-based line begins, or -1.
func startOfLine(data []byte, line int) int {
	if line < 1 {
		return -1
	}
	off := 0
	for l := 1; l < line; l++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return -1
		}
		off += i + 1
	}
	return off
}

// offsetOf converts a 1-based line and character column to a byte offset.
func offsetOf(data []byte, line, col int) (int, bool) {
	off := startOfLine(data, line)
	if off < 0 {
		return 0, false
	}
	for c := 1; c < col; c++ {
		if off >= len(data) || data[off] == '\n' {
			return 0, false
		}
		_, sz := utf8.DecodeRune(data[off:])
		off += sz
	}
	return off, true
}

// lineCol returns the line and column of byte offset target, counting from a
// known line whose first byte is at lineStart.
func lineCol(data []byte, target, line, lineStart int) (int, int) {
	col := 1
	for off := lineStart; off < target && off < len(data); {
		c, sz := utf8.DecodeRune(data[off:])
		off += sz
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
