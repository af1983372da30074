package extract_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
)

func TestLineReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []extract.Line
		wantErr string
	}{
		{name: "empty", in: ""},
		{name: "one newline", in: "\n", want: []extract.Line{{N: 1, Text: ""}}},
		{
			name: "CRLF, blank lines, last line without newline",
			in:   "a\r\n\r\nb\n\nc",
			want: []extract.Line{{1, "a"}, {2, ""}, {3, "b"}, {4, ""}, {5, "c"}},
		},
		{name: "lone CR at the end", in: "a\n\r", want: []extract.Line{{1, "a"}, {2, ""}}},
		{
			name:    "line too long",
			in:      "a\n" + strings.Repeat("x", 11) + "\nb\n",
			want:    []extract.Line{{1, "a"}},
			wantErr: "line 2: line longer than 10 bytes",
		},
		{name: "at the limit", in: strings.Repeat("x", 10), want: []extract.Line{{1, strings.Repeat("x", 10)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := extract.NewLineReader(context.Background(), strings.NewReader(tt.in), 10)
			var got []extract.Line
			for lr.Next() {
				got = append(got, lr.Line())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			gotErr := ""
			if err := lr.Err(); err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("Err() = %q, want %q", gotErr, tt.wantErr)
			}
			if lr.Next() {
				t.Error("Next after the end returned true")
			}
		})
	}
}

func TestLineReaderCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	lr := extract.NewLineReader(ctx, strings.NewReader(strings.Repeat("a\n", 5000)), 10)
	n := 0
	for lr.Next() {
		n++
	}
	if n != 4095 || !errors.Is(lr.Err(), context.Canceled) {
		t.Errorf("read %d lines, Err() = %v; want 4095 lines, context.Canceled", n, lr.Err())
	}
}

type failingReader struct{ data string }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestStanzaReader(t *testing.T) {
	stanzas := func(sr *extract.StanzaReader) [][]extract.Line {
		var out [][]extract.Line
		for sr.Next() {
			out = append(out, append([]extract.Line(nil), sr.Stanza()...))
		}
		return out
	}
	const in = "\n\nA: 1\nB: 2\n\n\n \nC: 3\n\t\nD: 4"

	sr := extract.NewStanzaReader(context.Background(), strings.NewReader(in), 100)
	want := [][]extract.Line{{{3, "A: 1"}, {4, "B: 2"}}, {{7, " "}, {8, "C: 3"}, {9, "\t"}, {10, "D: 4"}}}
	if diff := cmp.Diff(want, stanzas(sr)); diff != "" || sr.Err() != nil {
		t.Errorf("empty-line separator: err %v, stanzas (-want +got):\n%s", sr.Err(), diff)
	}

	sr = extract.NewStanzaReader(context.Background(), strings.NewReader(in), 100)
	sr.Separator = func(l string) bool { return strings.TrimSpace(l) == "" }
	want = [][]extract.Line{{{3, "A: 1"}, {4, "B: 2"}}, {{8, "C: 3"}}, {{10, "D: 4"}}}
	if diff := cmp.Diff(want, stanzas(sr)); diff != "" || sr.Err() != nil {
		t.Errorf("white-space separator: err %v, stanzas (-want +got):\n%s", sr.Err(), diff)
	}

	// A stanza cut by an error is returned as far as it was read.
	sr = extract.NewStanzaReader(context.Background(), &failingReader{data: "A: 1\n\nB: 2\nC: 3\n"}, 100)
	want = [][]extract.Line{{{1, "A: 1"}}, {{3, "B: 2"}, {4, "C: 3"}}}
	if diff := cmp.Diff(want, stanzas(sr)); diff != "" {
		t.Errorf("read error: stanzas (-want +got):\n%s", diff)
	}
	if err := sr.Err(); err == nil || err.Error() != "line 5: disk on fire" {
		t.Errorf("Err() = %v, want line 5: disk on fire", err)
	}
}

// shortFile is a File whose Size is smaller than what Open yields.
type shortFile struct{ *extract.MemFile }

func (shortFile) Size() int64 { return 1 }

func TestReadAll(t *testing.T) {
	data, err := extract.ReadAll(extract.NewMemFile([]byte("0123456789")), 10)
	if string(data) != "0123456789" || err != nil {
		t.Errorf("ReadAll at the limit = %q, %v", data, err)
	}
	for _, tc := range []struct {
		f       extract.File
		wantErr string
	}{
		{extract.NewMemFile([]byte("0123456789")), "file is 10 bytes, over the 9 byte limit"},
		{shortFile{extract.NewMemFile([]byte("0123456789"))}, "file is over the 9 byte limit"},
	} {
		data, err := extract.ReadAll(tc.f, 9)
		if data != nil || err == nil || err.Error() != tc.wantErr || !errors.Is(err, extract.ErrTooLarge) {
			t.Errorf("ReadAll = %q, %v; want an error %q wrapping ErrTooLarge", data, err, tc.wantErr)
		}
	}
	if _, err := extract.ReadAll(errFile{}, 9); err == nil || err.Error() != "cannot open" {
		t.Errorf("ReadAll of a file that cannot be opened: error %v", err)
	}
}

type errFile struct{ extract.File }

func (errFile) Size() int64                  { return 0 }
func (errFile) Open() (io.ReadCloser, error) { return nil, errors.New("cannot open") }

// TestLineReaderLongLines: lines longer than the reader's 64 KiB buffer are
// gathered whole (CRLF and a last line without newline too), and one over
// the limit stops reading.
func TestLineReaderLongLines(t *testing.T) {
	a, b := strings.Repeat("a", 100<<10), strings.Repeat("b", 150<<10)
	tests := []struct {
		name    string
		in      string
		want    []extract.Line
		wantErr string
	}{
		{name: "LF", in: a + "\n" + b + "\nc\n", want: []extract.Line{{1, a}, {2, b}, {3, "c"}}},
		{name: "CRLF, last line without newline", in: a + "\r\n" + b, want: []extract.Line{{1, a}, {2, b}}},
		{name: "at the limit with CRLF", in: b + "\r\n", want: []extract.Line{{1, b}}},
		{name: "over the limit", in: a + "\n" + b + "b\nc\n", want: []extract.Line{{1, a}}, wantErr: "line 2: line longer than 153600 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lr := extract.NewLineReader(context.Background(), strings.NewReader(tt.in), 150<<10)
			var got []extract.Line
			for lr.Next() {
				got = append(got, lr.Line())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			gotErr := ""
			if err := lr.Err(); err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("Err() = %q, want %q", gotErr, tt.wantErr)
			}
		})
	}
}

// TestStanzaReaderMaxStanza: a stanza is held whole, so its size is bounded;
// the part read is returned and Err says why reading stopped.
func TestStanzaReaderMaxStanza(t *testing.T) {
	sr := extract.NewStanzaReader(context.Background(), strings.NewReader("A: 1\n\nB: 2\nC: 3\nD: 4\n\nE: 5\n"), 100)
	sr.MaxStanza = 9
	var got [][]extract.Line
	for sr.Next() {
		got = append(got, append([]extract.Line(nil), sr.Stanza()...))
	}
	want := [][]extract.Line{{{1, "A: 1"}}, {{3, "B: 2"}, {4, "C: 3"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stanzas (-want +got):\n%s", diff)
	}
	if err := sr.Err(); err == nil || err.Error() != "line 5: stanza of line 3 longer than 9 bytes" {
		t.Errorf("Err() = %v", err)
	}
}

func TestErrors(t *testing.T) {
	var e extract.Errors
	if e.Join(nil) != nil {
		t.Error("no errors: Join != nil")
	}
	for i := range 25 {
		e.Add(fmt.Errorf("e%d", i))
	}
	e.Add(nil)
	err := e.Join(context.Canceled)
	want := strings.Join([]string{"e0", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "e11", "e12", "e13", "e14", "e15", "e16", "e17", "e18", "e19", "and 5 more errors", "context canceled"}, "\n")
	if diff := cmp.Diff(want, err.Error()); diff != "" || !errors.Is(err, context.Canceled) || e.Len() != 25 {
		t.Errorf("Join (-want +got):\n%s\nLen %d", diff, e.Len())
	}
}
