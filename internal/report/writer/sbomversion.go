package writer

import (
	"io"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/sbom"
)

// sbomVersion returns the writer of an SBOM format named with its version:
// "cyclonedx-1.6" and "cyclonedx-1.7" (plain "cyclonedx" is 1.6),
// "spdx-2.3" and Trivy's "spdx-json" (both what plain "spdx" writes, SPDX
// 2.3 JSON), "spdx-3.0" and "spdx-json-3.0" (SPDX 3.0.1 JSON-LD). format is
// lower case and one of those names.
func sbomVersion(format string) Func {
	switch format {
	case "cyclonedx-1.6":
		return cycloneDXVersion(cdx.SpecVersion1_6)
	case "cyclonedx-1.7":
		return cycloneDXVersion(cdx.SpecVersion1_7)
	case "spdx-3.0", "spdx-json-3.0":
		return SPDX3
	}
	return SPDX
}

func cycloneDXVersion(v cdx.SpecVersion) Func {
	return func(w io.Writer, r *report.Report, opt Options) error {
		return writeJSONDoc(w, func(w io.Writer) error {
			return sbom.WriteCycloneDXVersion(w, r, mode(r, opt) == "vuln", v)
		})
	}
}

// SPDX3 writes an SPDX 3.0.1 JSON-LD SBOM (sbom.WriteSPDX3). C1 and
// bidirectional controls are \u escapes (writeJSONDoc).
func SPDX3(w io.Writer, r *report.Report, opt Options) error {
	return writeJSONDoc(w, func(w io.Writer) error { return sbom.WriteSPDX3(w, r) })
}
