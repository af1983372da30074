package writer

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/drydock-scan/drydock/internal/report"
)

// What a report holds comes from the image: package names, file paths,
// build steps, os-release names, lockfile contents. A hostile image puts
// control sequences there (clear the screen and print a fake all-clear,
// write the clipboard with OSC 52, move the cursor over a finding) that a
// terminal, a CI log viewer or a pager would act on. The text writers
// (table, Markdown, HTML, JUnit, template) therefore render a copy of the
// report in which every such character is shown as an escape instead:
// ESC as \x1b, CR as \r, LF as \n, NEL as \u0085, a byte that is not UTF-8
// as \x9b. The data writers (JSON, SARIF, CycloneDX, SPDX, GitHub) keep
// the bytes: JSON escapes the C0 controls itself, and a saved report must
// be the scan.

// printable returns s with every character a terminal would act on
// written as a visible escape: the C0 controls and DEL (\t, \n, \r, else
// \xNN), the C1 controls and the bidirectional embeddings, overrides and
// isolates and the line and paragraph separators (\uNNNN), and each byte
// that does not start valid UTF-8 (\xNN). With multiline, LF and TAB are
// kept: for text of several lines (a description), shown as such. A string
// with nothing to escape is returned as it is.
func printable(s string, multiline bool) string {
	i := strings.IndexFunc(s, func(r rune) bool { return r == utf8.RuneError || needsEscape(r, multiline) })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !needsEscape(r, multiline):
			b.WriteString(s[i : i+size])
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// needsEscape reports whether printable writes r as an escape.
func needsEscape(r rune, multiline bool) bool {
	switch {
	case r == '\n' || r == '\t':
		return !multiline
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// multilineField reports whether a struct field holds text of several
// lines, whose line feeds printableReport keeps: descriptions, which come
// from the advisory database, not the image. Every writer that prints one
// on a single line cuts it at its first line (firstLine).
func multilineField(name string) bool { return name == "Description" }

// printableReport returns a copy of r in which every string, at any depth
// (fields, slices, map keys and values), is printable: what the text
// writers render. r is not modified; the copy shares with r whatever
// needed no change.
func printableReport(r *report.Report) *report.Report {
	v, changed := printableValue(reflect.ValueOf(r).Elem(), false)
	if !changed {
		return r
	}
	out := v.Interface().(report.Report)
	return &out
}

// printableValue returns v with every string in it printable, and whether
// anything changed. Nothing is modified in place: a changed struct, slice,
// array, map or pointer target is a copy.
func printableValue(v reflect.Value, multiline bool) (reflect.Value, bool) {
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		p := printable(s, multiline)
		if p == s {
			return v, false
		}
		out := reflect.New(v.Type()).Elem()
		out.SetString(p)
		return out, true
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		e, changed := printableValue(v.Elem(), multiline)
		if !changed {
			return v, false
		}
		if v.Kind() == reflect.Interface {
			out := reflect.New(v.Type()).Elem()
			out.Set(e)
			return out, true
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(e)
		return out, true
	case reflect.Struct:
		var out reflect.Value
		t := v.Type()
		for i := range v.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			nf, changed := printableValue(v.Field(i), multilineField(f.Name))
			if !changed {
				continue
			}
			if !out.IsValid() {
				out = reflect.New(t).Elem()
				out.Set(v)
			}
			out.Field(i).Set(nf)
		}
		if !out.IsValid() {
			return v, false
		}
		return out, true
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return v, false // bytes ([]byte, json.RawMessage) are not text
		}
		var out reflect.Value
		for i := range v.Len() {
			e, changed := printableValue(v.Index(i), multiline)
			if !changed {
				continue
			}
			if !out.IsValid() {
				if v.Kind() == reflect.Slice {
					out = reflect.MakeSlice(v.Type(), v.Len(), v.Len())
					reflect.Copy(out, v)
				} else {
					out = reflect.New(v.Type()).Elem()
					out.Set(v)
				}
			}
			out.Index(i).Set(e)
		}
		if !out.IsValid() {
			return v, false
		}
		return out, true
	case reflect.Map:
		if v.IsNil() {
			return v, false
		}
		keys := v.MapKeys()
		changed := false
		for _, k := range keys {
			_, kc := printableValue(k, multiline)
			_, ec := printableValue(v.MapIndex(k), multiline)
			if kc || ec {
				changed = true
				break
			}
		}
		if !changed {
			return v, false
		}
		// Of two keys that become one, the one that sorts last keeps its
		// value, whatever the map's order.
		if v.Type().Key().Kind() == reflect.String {
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		}
		out := reflect.MakeMapWithSize(v.Type(), len(keys))
		for _, k := range keys {
			nk, _ := printableValue(k, multiline)
			ne, _ := printableValue(v.MapIndex(k), multiline)
			out.SetMapIndex(nk, ne)
		}
		return out, true
	}
	return v, false
}

// writeJSONDoc writes the JSON document encode makes with the C1 controls
// and the bidirectional controls in its strings written as \uNNNN escapes:
// the same JSON (a string may escape any character), but one that a
// terminal showing it (cat report.json) cannot act on. encoding/json
// escapes the C0 controls and U+2028/U+2029 itself, and never writes any of
// these characters outside a string.
func writeJSONDoc(w io.Writer, encode func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := encode(&buf); err != nil {
		return err
	}
	_, err := w.Write(escapeJSONControls(buf.Bytes()))
	return err
}

// escapeJSONControls is the escaping of writeJSONDoc.
func escapeJSONControls(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r < 0x80 || !needsEscape(r, true) {
			if out != nil {
				out = append(out, b[i:i+size]...)
			}
			i += size
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(b)+32), b[:i]...)
		}
		out = fmt.Appendf(out, `\u%04x`, r)
		i += size
	}
	if out == nil {
		return b
	}
	return out
}
