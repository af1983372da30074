package writer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
)

// JSON writes the report as indented JSON in its canonical order: packages
// by ecosystem, name, version, path; findings by severity (highest first),
// package name and ID. The schema is docs/json-schema/drydock-report-v1.schema.json.
// ShowSuppressed does not apply: suppressed findings are kept, with their
// annotations, so that a saved report can be re-evaluated. The text is kept
// as it is; C1 and bidirectional controls are \u escapes (writeJSONDoc).
//
// The packages and findings, which grow with the image, are encoded one at
// a time straight to w: the report is never held as one document in memory
// (200,000 packages are ~150 MB of JSON). The bytes are those of encoding the
// whole report with json.Encoder and SetIndent("", "  ").
func JSON(w io.Writer, r *report.Report, _ Options) error {
	if err := writeJSONStream(w, r.Normalized()); err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}

// The top-level keys of the two arrays writeJSONStream streams, as they
// appear in the indented shell: at the top level, a key follows a newline
// and exactly two spaces, which no string can hold (JSON escapes
// newlines), so each marker is found once, at its key.
var (
	packagesMarker = []byte("\n  \"packages\": []")
	findingsMarker = []byte("\n  \"findings\": []")
)

// writeJSONStream writes n (normalised) as JSON's indented encoding does,
// streaming the packages and findings.
func writeJSONStream(w io.Writer, n *report.Report) error {
	shell := *n
	shell.Packages, shell.Findings = []inventory.Package{}, []finding.Finding{}
	var head bytes.Buffer
	if err := encodeIndented(&head, &shell, ""); err != nil {
		return err
	}
	doc := head.Bytes()
	pi := bytes.Index(doc, packagesMarker)
	fi := bytes.Index(doc, findingsMarker)
	if pi < 0 || fi < pi {
		return fmt.Errorf("report shell has no packages and findings arrays in order (%d, %d)", pi, fi)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	var elem bytes.Buffer
	// put writes one piece of the document, C1 and bidirectional controls
	// escaped. Every piece is whole JSON text, so no rune is split.
	put := func(b []byte) error {
		_, err := bw.Write(escapeJSONControls(b))
		return err
	}
	pieces := []struct {
		until int // end of the shell text before the array's "[]"
		items int
		enc   func(i int) error
	}{
		{pi + len(packagesMarker) - 1, len(n.Packages), func(i int) error { return encodeIndented(&elem, &n.Packages[i], "    ") }},
		{fi + len(findingsMarker) - 1, len(n.Findings), func(i int) error { return encodeIndented(&elem, &n.Findings[i], "    ") }},
	}
	from := 0
	for _, p := range pieces {
		// The shell up to and including the "[" of the empty array.
		if err := put(doc[from:p.until]); err != nil {
			return err
		}
		for i := range p.items {
			elem.Reset()
			if i > 0 {
				elem.WriteByte(',')
			}
			elem.WriteString("\n    ")
			if err := p.enc(i); err != nil {
				return err
			}
			if err := put(bytes.TrimSuffix(elem.Bytes(), []byte("\n"))); err != nil {
				return err
			}
		}
		from = p.until // the "]" of the shell's empty array
		if p.items > 0 {
			if err := put([]byte("\n  ")); err != nil {
				return err
			}
		}
	}
	if err := put(doc[from:]); err != nil {
		return err
	}
	return bw.Flush()
}

// encodeIndented appends v's indented JSON (HTML not escaped, a final
// newline) to b, every line after the first starting with prefix.
func encodeIndented(b *bytes.Buffer, v any, prefix string) error {
	enc := json.NewEncoder(b)
	enc.SetIndent(prefix, "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
