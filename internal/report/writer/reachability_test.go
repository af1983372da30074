package writer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// TestReachabilityShown: the table marks each Go finding with its
// reachability and counts them; the HTML page carries it as a badge whose
// tooltip is the reason. A suppressed finding is not counted.
func TestReachabilityShown(t *testing.T) {
	r := reporttest.Debian()
	goFinding := func(id, status, reason string, suppressed bool) finding.Finding {
		f := finding.Finding{ID: id, Severity: vocab.SevHigh, Status: vocab.StatusFixed, InstalledVersion: "v0.3.5", FixedVersion: "0.3.8",
			Package:     finding.PackageRef{ID: "xtext", Name: "golang.org/x/text", Ecosystem: vocab.EcoGo, Path: "/app/server", LayerIndex: 0},
			Evidence:    []finding.Evidence{{Advisory: id, Ecosystem: "Go"}},
			Annotations: []finding.Annotation{{Kind: vocab.AnnotationReachability, Source: "go-reachability", Status: status, Reason: reason}}}
		if suppressed {
			f.Annotations = append(f.Annotations, finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: "builtin:ignore-go-package-imported#go-package-imported"})
		}
		return f
	}
	r.Findings = append(r.Findings,
		goFinding("GO-2021-0113", vocab.ReachabilitySymbolPresent, "vulnerable symbols present in the binary: language.MustParse", false),
		goFinding("GO-2022-1059", vocab.ReachabilityPackageImported, "golang.org/x/text/language present in the binary, none of the vulnerable symbols (language.MatchStrings)", false),
		goFinding("GO-2020-0015", vocab.ReachabilityModuleOnly, "none of the vulnerable packages (golang.org/x/text/transform) is present in the binary; only the module is", true),
	)
	r.Summarise()

	var table bytes.Buffer
	if err := Table(&table, r, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"GO-2021-0113 [symbol-present]", "GO-2022-1059 [package-imported]",
		"Go code in the binaries: symbol-present 1, package-imported 1, module-only 0, unknown 0 (what the binary holds, not what it calls)",
	} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if strings.Contains(table.String(), "GO-2020-0015") {
		t.Error("table lists a suppressed finding without --show-suppressed")
	}
	var shown bytes.Buffer
	if err := Table(&shown, r, Options{ShowSuppressed: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(shown.String(), "GO-2020-0015 [module-only]") {
		t.Errorf("--show-suppressed table lacks the module-only finding:\n%s", shown.String())
	}

	var page bytes.Buffer
	if err := HTML(&page, r, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"reach":"package-imported","reachWhy":"golang.org/x/text/language present in the binary, none of the vulnerable symbols (language.MatchStrings)"`,
		`"reach":"symbol-present"`, `badge reach `,
	} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
}
