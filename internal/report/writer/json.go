package writer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"

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
	// The packages are not cloned (Normalized would copy every one):
	// they are written in canonical order through a sorted index.
	shell := *r
	shell.Packages = nil
	n := shell.Normalized()
	if err := writeJSONStream(w, n, r.Packages, canonicalOrder(r.Packages)); err != nil {
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

// canonicalOrder returns the indexes of pkgs in the order Normalized sorts
// them (stable: equal packages keep their order).
func canonicalOrder(pkgs []inventory.Package) []int32 {
	order := make([]int32, len(pkgs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(a, b int32) int { return inventory.ComparePackages(pkgs[a], pkgs[b]) })
	return order
}

// writeJSONStream writes n (normalised, its packages left out) with the
// packages pkgs in the given order, as JSON's indented encoding of the
// whole report does, streaming the packages and findings.
func writeJSONStream(w io.Writer, n *report.Report, pkgs []inventory.Package, order []int32) error {
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
		{pi + len(packagesMarker) - 1, len(order), func(i int) error {
			p := pkgs[order[i]] // a copy: Normalized's nil locations are []
			if p.Locations == nil {
				p.Locations = []inventory.Location{}
			}
			return encodeIndented(&elem, &p, "    ")
		}},
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
