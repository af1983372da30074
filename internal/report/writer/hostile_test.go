package writer

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// hostile is what a hostile image puts in a package name, a file path or a
// title to take over the terminal or the page that shows the report: clear
// the screen and print a fake all-clear, write the clipboard (OSC 52), run
// script in a Markdown or HTML view, break a Markdown table or code span.
const hostile = "\x1b[2J\x1b[H✅ No vulnerabilities found\r\n" + "\x1b]52;c;ZXZpbA==\x07" + "<img src=x onerror=alert(1)>" + "|" + "`"

// hostileMore adds C1 controls (NEL, the 8-bit CSI), a bidi override and a
// byte that is not UTF-8 (a bare 8-bit CSI to a Latin-1 terminal).
const hostileMore = "\u0085\u009b31mred\u202eevil\x9b2J"

// rawControls are substrings no text output may carry from the data.
var rawControls = []string{"\x1b[2J", "\x1b[H", "\x1b]52", "\x07", "\r", "\u0085", "\u009b", "\u202e", "\x9b"}

// ownSGR matches the colour escapes the table writes itself.
var ownSGR = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// assertNoInjection fails if out carries a raw control sequence, a line the
// data started, or (in Markdown and HTML) a raw HTML tag from the data.
func assertNoInjection(t *testing.T, name string, out []byte, markup bool) {
	t.Helper()
	s := ownSGR.ReplaceAllString(string(out), "")
	for _, c := range rawControls {
		if strings.Contains(s, c) {
			t.Errorf("%s: output carries the raw %q", name, c)
		}
	}
	if strings.Contains(s, "\x1b") {
		t.Errorf("%s: output carries a raw ESC that is not the writer's own colour", name)
	}
	if regexp.MustCompile(`(?m)^(✅ No vulnerabilities found|\\x1b\]52|\x1b\]52|<img)`).MatchString(s) {
		t.Errorf("%s: the data started a line of its own:\n%s", name, s)
	}
	if markup && strings.Contains(s, "<img src=x") {
		t.Errorf("%s: raw HTML from the data passed through", name)
	}
}

// hostileReport is the AlmaLinux fixture with hostile strings where an image
// controls them: a package name and path (and its finding's), a finding
// title, a secret path, the distro name, a build step, a note, a coverage
// reason and a policy message.
func hostileReport() *report.Report {
	r := reporttest.AlmaLinux()
	for i := range r.Packages {
		if r.Packages[i].Name == "glibc" {
			r.Packages[i].Name += hostile + hostileMore
			r.Packages[i].Locations[0].Path += hostile
		}
	}
	for i := range r.Findings {
		if r.Findings[i].Package.Name == "glibc" {
			r.Findings[i].Package.Name += hostile + hostileMore
			r.Findings[i].Package.Path += hostile
			r.Findings[i].Title = hostile + hostileMore
			r.Findings[i].References = []string{"javascript:alert(document.domain)//" + hostile}
		}
	}
	r.Secrets[0].Path = "/app/" + hostile + hostileMore
	r.Distro.PrettyName += hostile
	r.Image.Layers[2].CreatedBy += hostile
	r.Image.History[3].CreatedBy += hostile
	r.Notes[0].Path += hostile
	r.Notes[0].Message += hostile
	r.Verdict.Failures[1].Message += hostile
	r.Coverage = []report.Coverage{{Ecosystem: "npm", Packages: 2, Status: "partial", Reasons: []string{"/app/" + hostile + ": not read"}}}
	r.Summarise()
	return r
}

// textOutputs are the outputs a person reads in a terminal, a CI log or a
// rendered page.
var textOutputs = []struct {
	name, format string
	opt          Options
	markup       bool
}{
	{"table", "table", Options{Width: 160}, false},
	{"table-color", "table", Options{Color: true}, false},
	{"table-layer", "table", Options{GroupBy: "layer", ShowSuppressed: true}, false},
	{"table-sbom", "table", Options{Mode: "sbom"}, false},
	{"markdown", "markdown", Options{ShowSuppressed: true}, true},
	{"html", "html", Options{}, true},
	{"junit", "junit", Options{}, false},
	{"template-csv", "template", Options{}, false},
	{"template-text", "template", Options{Template: "{{.Image.Reference}} {{range .Packages}}{{.Name}} {{.PrimaryPath}}\n{{end}}" +
		"{{range .Findings}}{{.Package.Name}} {{.Package.Path}} {{.Title}}\n{{end}}{{range .Secrets}}{{.Path}}\n{{end}}" +
		"{{range .Coverage}}{{.Ecosystem}} {{join \"; \" .Reasons}}\n{{end}}{{range .Notes}}{{.Path}} {{.Message}}\n{{end}}"}, false},
}

func TestHostileStringsAreEscaped(t *testing.T) {
	r := hostileReport()
	for _, o := range textOutputs {
		t.Run(o.name, func(t *testing.T) {
			out := render(t, o.format, r, o.opt)
			assertNoInjection(t, o.name, out, o.markup)
			if !bytes.Contains(out, []byte(`\x1b]52;c;ZXZpbA==\x07`)) && !bytes.Contains(out, []byte(`\\x1b\]52;c;ZXZpbA==\\x07`)) {
				t.Errorf("%s does not show the escapes (want \\x1b]52;c;ZXZpbA==\\x07 visible)", o.name)
			}
			if o.markup && bytes.Contains(out, []byte("javascript:")) {
				t.Errorf("%s links to a javascript: URL", o.name)
			}
		})
	}

	// What the table shows: the escapes, visibly, on one line.
	table := string(render(t, "table", r, Options{}))
	wantName := `glibc\x1b[2J\x1b[H✅ No vulnerabilities found\r\n\x1b]52;c;ZXZpbA==\x07<img src=x onerror=alert(1)>|` + "`" +
		`\u0085\u009b31mred\u202eevil\x9b2J`
	if row := tableRow(t, table, wantName); !strings.Contains(row, "ALSA-2023:5453 [KEV]") {
		t.Errorf("the glibc row is %q", row)
	}
	if !strings.Contains(string(render(t, "table", r, Options{Mode: "sbom"})), wantName+"  2.34-28.el9_0") {
		t.Error("the sbom table does not show the escaped name")
	}

	// Markdown: the cell is one cell, its text inert.
	md := string(render(t, "markdown", r, Options{}))
	wantCell := `glibc\\x1b\[2J\\x1b\[H✅ No vulnerabilities found\\r\\n\\x1b\]52;c;ZXZpbA==\\x07&lt;img src=x onerror=alert(1)&gt;\|` + "\\`" +
		`\\u0085\\u009b31mred\\u202eevil\\x9b2J`
	var row string
	for _, line := range strings.Split(md, "\n") {
		if strings.Contains(line, "ALSA-2023:5453") && strings.HasPrefix(line, "| ") {
			row = line
		}
	}
	cells := mdCells(row)
	if len(cells) != 6 || cells[2] != wantCell {
		t.Errorf("the glibc row has %d cells %q, want 6 with package cell\n%s", len(cells), cells, wantCell)
	}
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| ") && !strings.HasPrefix(line, "| --") {
			if n := len(mdCells(line)); n != 6 && n != 4 && n != 2 {
				t.Errorf("Markdown row with %d cells: %q", n, line)
			}
		}
	}

	// JUnit is still XML, with the escapes visible.
	junit := render(t, "junit", r, Options{})
	if err := xml.Unmarshal(junit, new(junitSuites)); err != nil {
		t.Errorf("JUnit is not XML: %v", err)
	}
	if !bytes.Contains(junit, []byte(`glibc\x1b[2J\x1b[H✅ No vulnerabilities found\r\n\x1b]52;c;ZXZpbA==\x07&lt;img`)) {
		t.Errorf("JUnit does not show the escaped name:\n%s", junit)
	}

	// The data formats keep the text (as JSON holds it: valid UTF-8): a
	// saved report is the scan.
	var back report.Report
	if err := json.Unmarshal(render(t, "json", r, Options{}), &back); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range back.Packages {
		names[p.Name] = true
	}
	if !names[inventory.ValidUTF8("glibc"+hostile+hostileMore)] {
		t.Error("the JSON report does not keep the package name as it is")
	}
	if bytes.Contains(render(t, "sarif", r, Options{}), []byte("javascript:")) {
		t.Error("SARIF links to a javascript: URL")
	}
	// They escape the C1 and bidirectional controls JSON would let through
	// raw (encoding/json escapes the C0 ones): same JSON, inert in a terminal.
	for _, format := range []string{"json", "sarif", "cyclonedx", "spdx", "github"} {
		out := render(t, format, r, Options{Getenv: fakeEnv})
		for _, c := range rawControls {
			if bytes.Contains(out, []byte(c)) {
				t.Errorf("%s carries the raw %q", format, c)
			}
		}
		if !json.Valid(out) {
			t.Errorf("%s is not JSON", format)
		}
	}
	if !bytes.Contains(render(t, "json", r, Options{}), []byte(`glibc\u001b[2J\u001b[H✅ No vulnerabilities found\r\n\u001b]52;c;ZXZpbA==\u0007<img src=x onerror=alert(1)>|`+"`"+`\u0085\u009b31mred\u202eevil\ufffd2J"`)) {
		t.Error("the JSON report does not write the package name with \\u escapes")
	}
}

// mdCells splits a Markdown table row on the pipes that are not escaped.
func mdCells(row string) []string {
	row = strings.TrimSpace(row)
	var cells []string
	var cur strings.Builder
	escaped := false
	for _, r := range row {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	cells = append(cells, strings.TrimSpace(cur.String()))
	if len(cells) >= 2 {
		cells = cells[1 : len(cells)-1]
	}
	return cells
}

// makeHostile appends hostile to every string in v, at any depth: fields,
// slice elements, map keys and values. Descriptions, the one field that is
// text of several lines, get it without the line feed.
func makeHostile(v reflect.Value, field string) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			if field == "Description" {
				v.SetString(v.String() + strings.ReplaceAll(hostile, "\n", "") + hostileMore)
			} else {
				v.SetString(v.String() + hostile + hostileMore)
			}
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			makeHostile(v.Elem(), field)
		}
	case reflect.Struct:
		if v.Type().PkgPath() == "time" {
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				makeHostile(v.Field(i), v.Type().Field(i).Name)
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			makeHostile(v.Index(i), field)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		out := reflect.MakeMap(v.Type())
		for _, k := range keys {
			nk := reflect.New(k.Type()).Elem()
			nk.Set(k)
			makeHostile(nk, field)
			ne := reflect.New(v.Type().Elem()).Elem()
			ne.Set(v.MapIndex(k))
			makeHostile(ne, field)
			out.SetMapIndex(nk, ne)
		}
		v.Set(out)
	}
}

// TestEveryStringIsEscaped: with hostile text in every string of the
// report, at any depth, no text output carries a raw control sequence.
func TestEveryStringIsEscaped(t *testing.T) {
	for name, mk := range map[string]func() *report.Report{
		"almalinux": reporttest.AlmaLinux, "corners": cornerReport, "alpine-edge": reporttest.AlpineEdge, "debian": reporttest.Debian,
	} {
		r := mk()
		makeHostile(reflect.ValueOf(r).Elem(), "")
		before, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range textOutputs {
			t.Run(name+"/"+o.name, func(t *testing.T) {
				assertNoInjection(t, o.name, render(t, o.format, r, o.opt), o.markup)
			})
		}
		// Escaping works on a copy: the report is as it was.
		if after, _ := json.Marshal(r); !bytes.Equal(before, after) {
			t.Errorf("%s: escaping modified the report", name)
		}
	}
}
