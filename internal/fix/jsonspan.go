package fix

import (
	"encoding/json"
	"fmt"
)

// A jnode is a JSON value with its byte span in the document, so that an
// edit replaces exactly the bytes of one value and keeps the rest of the
// file (its indentation, its key order) as the tool that wrote it left it.
type jnode struct {
	kind       byte // '{', '[', '"', 'n' (number), 'l' (literal)
	start, end int  // [start, end) of the value
	str        string
	members    []jmember // objects
	items      []*jnode  // arrays
}

type jmember struct {
	key      string
	keyStart int
	val      *jnode
}

// get returns the member value named key, or nil.
func (n *jnode) get(key string) *jnode {
	if n == nil || n.kind != '{' {
		return nil
	}
	for _, m := range n.members {
		if m.key == key {
			return m.val
		}
	}
	return nil
}

const maxJSONDepth = 200

type jparser struct {
	b   []byte
	pos int
}

// parseJSONSpans parses b (one JSON value) into jnodes.
func parseJSONSpans(b []byte) (*jnode, error) {
	p := &jparser{b: b}
	n, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.ws()
	if p.pos != len(b) {
		return nil, fmt.Errorf("offset %d: data after the JSON value", p.pos)
	}
	return n, nil
}

func (p *jparser) errf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

func (p *jparser) ws() {
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (*jnode, error) {
	if depth > maxJSONDepth {
		return nil, p.errf("nested deeper than %d", maxJSONDepth)
	}
	p.ws()
	if p.pos >= len(p.b) {
		return nil, p.errf("unexpected end of JSON")
	}
	start := p.pos
	switch c := p.b[p.pos]; {
	case c == '{':
		n := &jnode{kind: '{', start: start}
		p.pos++
		p.ws()
		if p.pos < len(p.b) && p.b[p.pos] == '}' {
			p.pos++
			n.end = p.pos
			return n, nil
		}
		for {
			p.ws()
			ks := p.pos
			if p.pos >= len(p.b) || p.b[p.pos] != '"' {
				return nil, p.errf("expected a string key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.pos >= len(p.b) || p.b[p.pos] != ':' {
				return nil, p.errf("expected ':'")
			}
			p.pos++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, jmember{key: k.str, keyStart: ks, val: v})
			p.ws()
			if p.pos >= len(p.b) {
				return nil, p.errf("unexpected end of JSON in an object")
			}
			if p.b[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.b[p.pos] == '}' {
				p.pos++
				n.end = p.pos
				return n, nil
			}
			return nil, p.errf("expected ',' or '}'")
		}
	case c == '[':
		n := &jnode{kind: '[', start: start}
		p.pos++
		p.ws()
		if p.pos < len(p.b) && p.b[p.pos] == ']' {
			p.pos++
			n.end = p.pos
			return n, nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
			p.ws()
			if p.pos >= len(p.b) {
				return nil, p.errf("unexpected end of JSON in an array")
			}
			if p.b[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.b[p.pos] == ']' {
				p.pos++
				n.end = p.pos
				return n, nil
			}
			return nil, p.errf("expected ',' or ']'")
		}
	case c == '"':
		return p.str()
	default:
		for p.pos < len(p.b) {
			c := p.b[p.pos]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			p.pos++
		}
		raw := p.b[start:p.pos]
		var v any
		if len(raw) == 0 || json.Unmarshal(raw, &v) != nil {
			return nil, fmt.Errorf("offset %d: invalid JSON value %.20q", start, raw)
		}
		kind := byte('l')
		if _, ok := v.(float64); ok {
			kind = 'n'
		}
		return &jnode{kind: kind, start: start, end: p.pos}, nil
	}
}

func (p *jparser) str() (*jnode, error) {
	start := p.pos
	p.pos++ // the opening quote
	for p.pos < len(p.b) {
		switch p.b[p.pos] {
		case '\\':
			p.pos += 2
			continue
		case '"':
			p.pos++
			var s string
			if err := json.Unmarshal(p.b[start:p.pos], &s); err != nil {
				return nil, fmt.Errorf("offset %d: invalid JSON string: %v", start, err)
			}
			return &jnode{kind: '"', start: start, end: p.pos, str: s}, nil
		}
		p.pos++
	}
	p.pos = len(p.b)
	return nil, p.errf("unterminated string")
}

// splice is one replacement of bytes [start, end) by text.
type splice struct {
	start, end int
	text       string
}

// applySplices applies non-overlapping splices to b.
func applySplices(b []byte, ss []splice) ([]byte, error) {
	sortSplices(ss)
	var out []byte
	at := 0
	for _, s := range ss {
		if s.start < at || s.end < s.start || s.end > len(b) {
			return nil, fmt.Errorf("overlapping edits at offset %d", s.start)
		}
		out = append(out, b[at:s.start]...)
		out = append(out, s.text...)
		at = s.end
	}
	return append(out, b[at:]...), nil
}

func sortSplices(ss []splice) {
	for i := 1; i < len(ss); i++ {
		for j := i; j > 0 && ss[j].start < ss[j-1].start; j-- {
			ss[j], ss[j-1] = ss[j-1], ss[j]
		}
	}
}

// jsonString encodes s as a JSON string the way npm writes it (no HTML
// escaping).
func jsonString(s string) string {
	b, _ := json.Marshal(s) // a string always encodes
	return string(b)
}

// removeMember returns the splice that deletes member i of obj with its
// separating comma and the whitespace before it.
func removeMember(b []byte, obj *jnode, i int) splice {
	m := obj.members[i]
	if i+1 < len(obj.members) {
		// "key": value, ⏎ next → next
		return splice{start: m.keyStart, end: obj.members[i+1].keyStart}
	}
	if i > 0 {
		// prev ⏎ , "key": value → prev
		return splice{start: obj.members[i-1].val.end, end: m.val.end}
	}
	// The only member: leave the braces.
	return splice{start: obj.start + 1, end: obj.end - 1}
}
