package extract

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
)

// Line is one line of a text file.
type Line struct {
	// N is the line's number, counted from 1.
	N int
	// Text is the line without its "\n" or "\r\n".
	Text string
}

// ctxEvery is how many lines a LineReader reads between two looks at its
// context.
const ctxEvery = 4096

// LineReader reads a text file line by line for the line-oriented package
// databases (apk's installed, dpkg's status and *.list files), numbering the
// lines and refusing a line longer than a limit, so that a hostile file
// without newlines cannot make a parser hold it whole.
//
// Use it like bufio.Scanner:
//
//	lr := extract.NewLineReader(ctx, r, maxLine)
//	for lr.Next() {
//		l := lr.Line()
//		…
//	}
//	if err := lr.Err(); err != nil { … }
type LineReader struct {
	ctx  context.Context
	br   *bufio.Reader
	max  int
	line Line
	err  error
	done bool
	long []byte // a line longer than br's buffer, gathered
}

// NewLineReader returns a reader of r's lines, each at most maxLine bytes.
// It looks at ctx every 4096 lines.
func NewLineReader(ctx context.Context, r io.Reader, maxLine int) *LineReader {
	return &LineReader{ctx: ctx, br: bufio.NewReaderSize(r, 64<<10), max: maxLine}
}

// Next advances to the next line. It returns false at the end of the input
// (a final empty line, after the last "\n", is not a line) and when reading
// stops on an error, which Err then returns.
func (lr *LineReader) Next() bool {
	if lr.done {
		return false
	}
	n := lr.line.N + 1
	if n%ctxEvery == 0 {
		if err := lr.ctx.Err(); err != nil {
			lr.done, lr.err = true, err
			return false
		}
	}
	text, err := lr.readLine()
	switch {
	case errors.Is(err, io.EOF):
		lr.done = true
		return false
	case err != nil:
		lr.done, lr.err = true, fmt.Errorf("line %d: %w", n, err)
		return false
	}
	lr.line = Line{N: n, Text: text}
	return true
}

// Line returns the line Next advanced to.
func (lr *LineReader) Line() Line { return lr.line }

// Err returns what stopped Next: nil at the end of the input, the context's
// error as it is (not wrapped) when the context ended, or an error naming the
// line ("line 7: line longer than 1048576 bytes", or a read error).
func (lr *LineReader) Err() error { return lr.err }

// readLine returns the next line without its "\n" or "\r\n", or io.EOF. A
// line that fits the reader's
// buffer is copied once; a longer one is gathered in lr.long (reused), and
// refused as soon as it is over the limit.
func (lr *LineReader) readLine() (string, error) {
	chunk, err := lr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		lr.long = append(lr.long[:0], chunk...)
		for err == bufio.ErrBufferFull {
			if len(lr.long) > lr.max+2 { // + "\r\n"
				return "", fmt.Errorf("line longer than %d bytes", lr.max)
			}
			chunk, err = lr.br.ReadSlice('\n')
			lr.long = append(lr.long, chunk...)
		}
		chunk = lr.long
	}
	if err != nil && err != io.EOF {
		return "", err
	}
	if err == io.EOF && len(chunk) > 0 {
		err = nil // a last line without "\n": a line; the next read says EOF
	}
	// As bufio.Reader.ReadLine: drop "\n" or "\r\n"; then a lone "\r".
	chunk = bytes.TrimSuffix(chunk, []byte("\n"))
	if err == nil {
		chunk = bytes.TrimSuffix(chunk, []byte("\r"))
	}
	if len(chunk) > lr.max {
		return "", fmt.Errorf("line longer than %d bytes", lr.max)
	}
	chunk = bytes.TrimSuffix(chunk, []byte("\r"))
	if len(lr.long) > 64<<10 {
		lr.long = nil // do not keep a large buffer for the short lines after it
	}
	return string(chunk), err
}

// StanzaReader reads a file of stanzas separated by blank lines, the shape of
// dpkg's status file (deb822 control data) and of apk's installed database:
// each stanza is the run of lines between two separators, numbered as in the
// file. What a line inside a stanza means is left to the parser.
//
//	sr := extract.NewStanzaReader(ctx, r, maxLine)
//	for sr.Next() {
//		for _, l := range sr.Stanza() { … }
//	}
//	if err := sr.Err(); err != nil { … }
//
// A stanza is held whole in memory: at most MaxStanza bytes. A parser
// whose stanzas can be long (a dpkg Description) is better off reading
// lines (NewLineReader) and keeping only what it uses.
//
// When reading stops early (a line too long, a stanza too long, a read
// error, the context ended), the lines of the stanza read until then are
// still returned, as a last, partial stanza; the next call to Next returns
// false and Err says why.
type StanzaReader struct {
	// Separator reports whether a line separates stanzas. Nil means only
	// the empty line does; deb822 also counts lines of white space.
	Separator func(line string) bool
	// MaxStanza bounds the bytes of one stanza (its lines' text); 0 means
	// DefaultMaxStanza.
	MaxStanza int

	lines  *LineReader
	stanza []Line
	size   int
	err    error
}

// DefaultMaxStanza is StanzaReader's default bound on one stanza.
const DefaultMaxStanza = 16 << 20

// NewStanzaReader returns a reader of r's stanzas, whose lines are at most
// maxLine bytes. It looks at ctx every 4096 lines.
func NewStanzaReader(ctx context.Context, r io.Reader, maxLine int) *StanzaReader {
	return &StanzaReader{lines: NewLineReader(ctx, r, maxLine)}
}

// Next advances to the next stanza of at least one line. It returns false
// at the end of the input or when reading stops on an error (see Err).
func (sr *StanzaReader) Next() bool {
	sr.stanza, sr.size = sr.stanza[:0], 0
	if sr.err != nil {
		return false
	}
	limit := sr.MaxStanza
	if limit <= 0 {
		limit = DefaultMaxStanza
	}
	for sr.lines.Next() {
		l := sr.lines.Line()
		if sr.isSeparator(l.Text) {
			if len(sr.stanza) > 0 {
				return true
			}
			continue
		}
		if sr.size += len(l.Text); sr.size > limit {
			sr.err = fmt.Errorf("line %d: stanza of line %d longer than %d bytes", l.N, sr.stanza[0].N, limit)
			return true
		}
		sr.stanza = append(sr.stanza, l)
	}
	return len(sr.stanza) > 0
}

func (sr *StanzaReader) isSeparator(line string) bool {
	if sr.Separator == nil {
		return line == ""
	}
	return sr.Separator(line)
}

// Stanza returns the lines of the stanza Next advanced to, without the
// separators. The slice is reused by the next call to Next.
func (sr *StanzaReader) Stanza() []Line { return sr.stanza }

// Err returns what stopped Next, as LineReader.Err does, or that a stanza
// was too long.
func (sr *StanzaReader) Err() error {
	if sr.err != nil {
		return sr.err
	}
	return sr.lines.Err()
}
