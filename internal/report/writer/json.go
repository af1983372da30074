package writer

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/drydock-scan/drydock/internal/report"
)

// JSON writes the report as indented JSON in its canonical order: packages
// by ecosystem, name, version, path; findings by severity (highest first),
// package name and ID. The schema is docs/json-schema/drydock-report-v1.schema.json.
// ShowSuppressed does not apply: suppressed findings are kept, with their
// annotations, so that a saved report can be re-evaluated. The text is kept
// as it is; C1 and bidirectional controls are \u escapes (writeJSONDoc).
func JSON(w io.Writer, r *report.Report, _ Options) error {
	err := writeJSONDoc(w, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r.Normalized())
	})
	if err != nil {
		return fmt.Errorf("writing JSON report: %w", err)
	}
	return nil
}
