package npm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10_000

// syntaxChecker checks that a stream holds exactly one JSON value (and
// white space), as json.Valid does for a document in memory, reading it a
// byte at a time: it allocates nothing per token, and memory does not
// follow the document.
type syntaxChecker struct {
	r     *bufio.Reader
	off   int64
	depth int
}

// validJSON reports an error unless r holds exactly one JSON value.
func validJSON(r io.Reader) error {
	c := &syntaxChecker{r: bufio.NewReaderSize(r, 64<<10)}
	b, err := c.skipSpace()
	if err != nil {
		return err
	}
	if err := c.value(b); err != nil {
		return err
	}
	if b, err := c.skipSpace(); !errors.Is(err, io.ErrUnexpectedEOF) {
		if err != nil {
			return err
		}
		return c.errorf("invalid character %q after top-level value", b)
	}
	return nil
}

func (c *syntaxChecker) errorf(format string, a ...any) error {
	return fmt.Errorf("invalid JSON at byte %d: %s", c.off, fmt.Sprintf(format, a...))
}

// next returns the next byte; the end of the input is io.ErrUnexpectedEOF.
func (c *syntaxChecker) next() (byte, error) {
	b, err := c.r.ReadByte()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, io.ErrUnexpectedEOF
		}
		return 0, err
	}
	c.off++
	return b, nil
}

func (c *syntaxChecker) back() {
	_ = c.r.UnreadByte() // after a ReadByte: cannot fail
	c.off--
}

func (c *syntaxChecker) skipSpace() (byte, error) {
	for {
		b, err := c.next()
		if err != nil {
			return 0, err
		}
		switch b {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return b, nil
	}
}

// value checks the value that begins with b.
func (c *syntaxChecker) value(b byte) error {
	switch {
	case b == '{' || b == '[':
		return c.container(b)
	case b == '"':
		return c.str()
	case b == '-' || '0' <= b && b <= '9':
		return c.number(b)
	case b == 't':
		return c.literal("rue")
	case b == 'f':
		return c.literal("alse")
	case b == 'n':
		return c.literal("ull")
	}
	return c.errorf("invalid character %q looking for beginning of value", b)
}

func (c *syntaxChecker) container(open byte) error {
	if c.depth++; c.depth > maxJSONDepth {
		return c.errorf("exceeded max depth")
	}
	defer func() { c.depth-- }()
	end := byte(']')
	if open == '{' {
		end = '}'
	}
	b, err := c.skipSpace()
	if err != nil {
		return err
	}
	if b == end {
		return nil
	}
	for {
		if open == '{' {
			if b != '"' {
				return c.errorf("invalid character %q looking for beginning of object key string", b)
			}
			if err := c.str(); err != nil {
				return err
			}
			if b, err = c.skipSpace(); err != nil {
				return err
			}
			if b != ':' {
				return c.errorf("invalid character %q after object key", b)
			}
			if b, err = c.skipSpace(); err != nil {
				return err
			}
		}
		if err := c.value(b); err != nil {
			return err
		}
		if b, err = c.skipSpace(); err != nil {
			return err
		}
		switch b {
		case end:
			return nil
		case ',':
			if b, err = c.skipSpace(); err != nil {
				return err
			}
		default:
			return c.errorf("invalid character %q after %s element", b, map[byte]string{'{': "object", '[': "array"}[open])
		}
	}
}

// str checks a string after its opening quote.
func (c *syntaxChecker) str() error {
	for {
		b, err := c.next()
		if err != nil {
			return err
		}
		switch {
		case b == '"':
			return nil
		case b < 0x20:
			return c.errorf("invalid character %q in string literal", b)
		case b == '\\':
			e, err := c.next()
			if err != nil {
				return err
			}
			switch e {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for range 4 {
					h, err := c.next()
					if err != nil {
						return err
					}
					if !('0' <= h && h <= '9' || 'a' <= h && h <= 'f' || 'A' <= h && h <= 'F') {
						return c.errorf("invalid character %q in \\u hexadecimal character escape", h)
					}
				}
			default:
				return c.errorf("invalid character %q in string escape code", e)
			}
		}
	}
}

// digits reads a run of digits, leaving the byte after it unread; the run
// may be empty unless atLeastOne.
func (c *syntaxChecker) digits(atLeastOne bool) error {
	n := 0
	for {
		b, err := c.next()
		if errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return err
		}
		if b < '0' || b > '9' {
			c.back()
			break
		}
		n++
	}
	if atLeastOne && n == 0 {
		return c.errorf("invalid number: a digit expected")
	}
	return nil
}

// peek returns the next byte without taking it; ok is false at the end.
func (c *syntaxChecker) peek() (byte, bool, error) {
	b, err := c.next()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	c.back()
	return b, true, nil
}

func (c *syntaxChecker) number(first byte) error {
	if first == '-' {
		b, err := c.next()
		if err != nil {
			return err
		}
		if b < '0' || b > '9' {
			return c.errorf("invalid character %q in numeric literal", b)
		}
		first = b
	}
	if first != '0' {
		if err := c.digits(false); err != nil {
			return err
		}
	}
	b, ok, err := c.peek()
	if err != nil || !ok {
		return err
	}
	if b == '.' {
		c.next()
		if err := c.digits(true); err != nil {
			return err
		}
		if b, ok, err = c.peek(); err != nil || !ok {
			return err
		}
	}
	if b == 'e' || b == 'E' {
		c.next()
		if s, ok, err := c.peek(); err != nil {
			return err
		} else if ok && (s == '+' || s == '-') {
			c.next()
		}
		return c.digits(true)
	}
	return nil
}

func (c *syntaxChecker) literal(rest string) error {
	for i := range len(rest) {
		b, err := c.next()
		if err != nil {
			return err
		}
		if b != rest[i] {
			return c.errorf("invalid character %q in literal", b)
		}
	}
	return nil
}
