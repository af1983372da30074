package extract

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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
	case errors.Is(err, io.EOF) && text == "":
		lr.done = true
		return false
	case errors.Is(err, io.EOF):
		lr.done = true // a last line without "\n": return it, then stop
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

// readLine returns the next line without its "\n" or "\r\n". A final line
// without a newline is returned with io.EOF.
func (lr *LineReader) readLine() (string, error) {
	var sb strings.Builder
	for {
		chunk, isPrefix, err := lr.br.ReadLine()
		sb.Write(chunk)
		if sb.Len() > lr.max {
			return "", fmt.Errorf("line longer than %d bytes", lr.max)
		}
		if err != nil {
			return strings.TrimSuffix(sb.String(), "\r"), err
		}
		if !isPrefix {
			return strings.TrimSuffix(sb.String(), "\r"), nil
		}
	}
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
// When reading stops early (a line too long, a read error, the context
// ended), the lines of the stanza read until then are still returned, as a
// last, partial stanza; the next call to Next returns false and Err says why.
type StanzaReader struct {
	// Separator reports whether a line separates stanzas. Nil means only
	// the empty line does; deb822 also counts lines of white space.
	Separator func(line string) bool

	lines  *LineReader
	stanza []Line
}

// NewStanzaReader returns a reader of r's stanzas, whose lines are at most
// maxLine bytes. It looks at ctx every 4096 lines.
func NewStanzaReader(ctx context.Context, r io.Reader, maxLine int) *StanzaReader {
	return &StanzaReader{lines: NewLineReader(ctx, r, maxLine)}
}

// Next advances to the next stanza of at least one line. It returns false
// at the end of the input or when reading stops on an error (see Err).
func (sr *StanzaReader) Next() bool {
	sr.stanza = sr.stanza[:0]
	for sr.lines.Next() {
		l := sr.lines.Line()
		if sr.isSeparator(l.Text) {
			if len(sr.stanza) > 0 {
				return true
			}
			continue
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

// Err returns what stopped Next, as LineReader.Err does.
func (sr *StanzaReader) Err() error { return sr.lines.Err() }
