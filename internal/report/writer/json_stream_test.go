package writer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
)

// wholeJSON is the JSON writer as it was before it streamed: the whole
// report encoded at once. The streamed bytes must be the same.
func wholeJSON(t *testing.T, r *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	err := writeJSONDoc(&buf, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r.Normalized())
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// manyPackages is a report of n packages and n/2 findings.
func manyPackages(n int) *report.Report {
	r := &report.Report{Tool: report.Tool{Name: "drydock", Version: "test"}}
	for i := range n {
		name := fmt.Sprintf("p%06d", i)
		r.Packages = append(r.Packages, inventory.Package{ID: fmt.Sprintf("%016x", i), Name: name, Version: "1.0.0",
			Ecosystem: inventory.EcoNPM, PURL: "pkg:npm/" + name + "@1.0.0", Licenses: []string{"MIT"},
			Locations: []inventory.Location{{Path: "/app/node_modules/" + name + "/package.json", LayerDiffID: "sha256:aa"}}})
		if i%2 == 0 {
			r.Findings = append(r.Findings, finding.Finding{ID: fmt.Sprintf("CVE-2026-%05d", i), Package: finding.PackageRef{Name: name}, Severity: "HIGH", Title: "<script>\u0085"})
		}
	}
	return r
}

func TestJSONStreamsTheSameBytes(t *testing.T) {
	corner := cornerReport()
	// Strings that look like the shell's markers, and controls that
	// writeJSONDoc escapes, inside the streamed elements and the shell.
	corner.Notes = append(corner.Notes, inventory.Note{Level: "warning", Message: "\n  \"packages\": []\n  \"findings\": []\u0085\u202e"})
	if len(corner.Packages) > 0 {
		corner.Packages[0].Metadata = map[string]string{"packages": "[]", "x": "\u009b31m<b>&"}
	}
	empty := &report.Report{}
	cases := map[string]*report.Report{"empty": empty, "corners": corner, "many": manyPackages(2000), "hostile": hostileReport()}
	for name, r := range fixtures() {
		cases[name] = r
	}
	for name, r := range cases {
		t.Run(name, func(t *testing.T) {
			var got bytes.Buffer
			if err := JSON(&got, r, Options{}); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(wholeJSON(t, r)), got.String()); diff != "" {
				t.Errorf("streamed JSON differs from the whole document (-whole +streamed):\n%s", diff)
			}
		})
	}
}

// chunkRecorder records the largest single Write.
type chunkRecorder struct {
	n, largest int
}

func (c *chunkRecorder) Write(b []byte) (int, error) {
	c.n += len(b)
	c.largest = max(c.largest, len(b))
	return len(b), nil
}

// The report is written in pieces as it is encoded, never handed to the
// writer (nor held) as one document: 20,000 packages are ~8 MB of JSON.
func TestJSONIsWrittenInPieces(t *testing.T) {
	var c chunkRecorder
	if err := JSON(&c, manyPackages(20_000), Options{}); err != nil {
		t.Fatal(err)
	}
	if c.n < 4<<20 {
		t.Fatalf("wrote %d bytes, want a report of several MB", c.n)
	}
	if c.largest > 128<<10 {
		t.Errorf("largest write is %d bytes of %d: the report was buffered whole", c.largest, c.n)
	}
}
