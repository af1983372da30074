package writer

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/template"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// TemplateFuncs are the helpers templates can call, besides text/template's
// built-ins:
//
//	toJSON v              v as compact JSON
//	severityColor s       a hex colour for a severity ("#c62828" for CRITICAL…)
//	join sep list         strings.Join(list, sep)
//	upper s, lower s      case conversion
//	truncate n s          s cut to n characters, ending with "…"
//	escapeXML s           s with XML special characters escaped
//	escapeCSV s           s quoted for a CSV field when it needs to be
//	sortBySeverity fs     a copy of the findings, most severe first
//	visible fs            the findings that are not suppressed
//	suppressed f          whether a finding is suppressed
func TemplateFuncs() template.FuncMap {
	return template.FuncMap{
		"toJSON": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"severityColor": severityHex,
		"join": func(sep string, list []string) string {
			return strings.Join(list, sep)
		},
		"upper":    strings.ToUpper,
		"lower":    strings.ToLower,
		"truncate": func(n int, s string) string { return truncate(s, n) },
		"escapeXML": func(s string) (string, error) {
			var b bytes.Buffer
			err := xml.EscapeText(&b, []byte(s))
			return b.String(), err
		},
		"escapeCSV": escapeCSV,
		"sortBySeverity": func(fs []finding.Finding) []finding.Finding {
			out := slices.Clone(fs)
			slices.SortStableFunc(out, report.CompareFindings)
			return out
		},
		"visible": func(fs []finding.Finding) []finding.Finding {
			var out []finding.Finding
			for _, f := range fs {
				if !f.Suppressed() {
					out = append(out, f)
				}
			}
			return out
		},
		"suppressed": func(f finding.Finding) bool { return f.Suppressed() },
	}
}

func severityHex(s string) string {
	switch strings.ToUpper(s) {
	case vocab.SevCritical:
		return "#b71c1c"
	case vocab.SevHigh:
		return "#e65100"
	case vocab.SevMedium:
		return "#f9a825"
	case vocab.SevLow:
		return "#1565c0"
	case vocab.SevNegligible:
		return "#78909c"
	}
	return "#9e9e9e"
}

// escapeCSV quotes a CSV field (RFC 4180) when it holds a comma, quote or
// line break, and defuses spreadsheet formulas (a leading =, +, - or @).
func escapeCSV(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		s = "'" + s
	}
	if strings.ContainsAny(s, ",\"\r\n") {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

// Template executes opt.Template (text/template source; the caller reads
// "@file" arguments) over the normalised report: .Findings are sorted by
// severity, .Packages by ecosystem and name. See TemplateFuncs for helpers.
// The template sees the report's text printable: control characters shown
// as escapes ("\x1b", "\r", "\n"; descriptions keep their line feeds), so
// that no template prints what an image smuggled into a name or a path.
func Template(w io.Writer, r *report.Report, opt Options) error {
	if strings.TrimSpace(opt.Template) == "" {
		return errors.New("writing template report: no template given")
	}
	t, err := template.New("report").Option("missingkey=error").Funcs(TemplateFuncs()).Parse(opt.Template)
	if err != nil {
		return fmt.Errorf("parsing output template: %w", err)
	}
	if err := t.Execute(w, printableReport(r.Normalized())); err != nil {
		return fmt.Errorf("executing output template: %w", err)
	}
	return nil
}
