package enrich

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// goBinary is a Go executable at path holding the given functions
// ("<import path>.<symbol>", split at the last dot before the symbol's
// receiver, given as {path, symbol}).
func goBinary(path, goos string, funcs ...[2]string) inventory.GoBinary {
	var b inventory.GoSymbolsBuilder
	for _, f := range funcs {
		recv, base, ok := strings.Cut(f[1], ".")
		if !ok {
			recv, base = "", f[1]
		}
		b.Add(f[0], recv, base)
	}
	return inventory.GoBinary{Path: path, GoSymbols: b.Build(goos, "amd64")}
}

func goFinding(id, pkgID, module, path, es string) finding.Finding {
	f := finding.Finding{ID: id, Package: finding.PackageRef{ID: pkgID, Name: module, Ecosystem: vocab.EcoGo, Path: path},
		Evidence: []finding.Evidence{{Advisory: id, Ecosystem: "Go"}}}
	if es != "" {
		f.Evidence[0].EcosystemSpecific = json.RawMessage(es)
	}
	return f
}

func TestGoReachability(t *testing.T) {
	const app, old, sbom = "/app/server", "/app/old", "/app/from-sbom"
	text := `{"imports":[{"path":"golang.org/x/text/language","symbols":["MatchStrings","MustParse","Parse","ParseAcceptLanguage"]}]}`
	text1059 := `{"imports":[{"path":"golang.org/x/text/language","symbols":["MatchStrings","ParseAcceptLanguage"]}]}`
	unicode := `{"imports":[{"path":"golang.org/x/text/encoding/unicode","symbols":["bomOverride.Transform"]},{"path":"golang.org/x/text/transform","symbols":["String"]}]}`
	res := &result.Result{
		Packages: []inventory.Package{
			{ID: "text", Name: "golang.org/x/text", Ecosystem: vocab.EcoGo},
			{ID: "new", Name: "github.com/new/mod", Ecosystem: vocab.EcoGo, Metadata: map[string]string{"replaces": "github.com/old/mod@v1.0.0"}},
		},
		GoBinaries: []inventory.GoBinary{
			goBinary(app, "linux",
				[2]string{"golang.org/x/text/language", "MustParse"}, [2]string{"golang.org/x/text/language", "Parse"},
				[2]string{"golang.org/x/text/language", "Tag.String"}, [2]string{"net/http", "Serve"},
				[2]string{"github.com/old/mod/x", "Do"}, [2]string{"runtime", "main"}),
			{Path: old, GoSymbols: inventory.GoSymbols{Unknown: "built with go1.17.13, whose function table (before Go 1.18) is not read"}},
		},
		Findings: []finding.Finding{
			goFinding("GO-2021-0113", "text", "golang.org/x/text", app, text),
			goFinding("GO-2022-1059", "text", "golang.org/x/text", app, text1059),
			goFinding("GO-2020-0015", "text", "golang.org/x/text", app, unicode),
			goFinding("GO-NO-IMPORTS", "text", "golang.org/x/text", app, ""),
			goFinding("GO-WINDOWS", "stdlib", "stdlib", app, `{"imports":[{"path":"net/http","goos":["windows"],"symbols":["Serve"]}]}`),
			goFinding("GO-WHOLE-PACKAGE", "stdlib", "stdlib", app, `{"imports":[{"path":"net/http"}]}`),
			goFinding("GO-REPLACED", "new", "github.com/new/mod", app, `{"imports":[{"path":"github.com/new/mod/x","symbols":["Do"]}]}`),
			goFinding("GO-OLD", "stdlib-old", "stdlib", old, text),
			goFinding("GO-SBOM", "text-sbom", "golang.org/x/text", sbom, text),
			goFinding("GO-BAD-JSON", "text", "golang.org/x/text", app, `{"imports":{"path":1}}`),
			goFinding("GO-NO-PATH", "text-nopath", "golang.org/x/text", "", text),
			{ID: "CVE-1", Package: finding.PackageRef{ID: "deb", Ecosystem: vocab.EcoDpkg}},
		},
	}
	adds, err := GoReachability{}.Enrich(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]string{}
	for _, a := range adds {
		if a.Annotation.Kind != vocab.AnnotationReachability {
			t.Errorf("%s: kind %q", a.Finding, a.Annotation.Kind)
		}
		if strings.Contains(strings.ToLower(a.Annotation.Reason), "reachab") {
			t.Errorf("%s: the reason says reachable: %q (the words are \"present in the binary\")", a.Finding, a.Annotation.Reason)
		}
		reason := a.Annotation.Reason
		if before, _, ok := strings.Cut(reason, " could not be read: "); ok {
			reason = before + " could not be read: …" // the decoder's words
		}
		got[a.Finding] = [2]string{a.Annotation.Status, reason}
	}
	want := map[string][2]string{
		"GO-2021-0113@text":       {vocab.ReachabilitySymbolPresent, "vulnerable symbols present in the binary: language.MustParse, language.Parse"},
		"GO-2022-1059@text":       {vocab.ReachabilityPackageImported, "golang.org/x/text/language present in the binary, none of the vulnerable symbols (language.MatchStrings, language.ParseAcceptLanguage)"},
		"GO-2020-0015@text":       {vocab.ReachabilityModuleOnly, "none of the vulnerable packages (golang.org/x/text/encoding/unicode, golang.org/x/text/transform) is present in the binary; only the module is"},
		"GO-NO-IMPORTS@text":      {vocab.ReachabilityModuleOnly, "the advisory lists no vulnerable package or symbol: only the module is known to be present in the binary"},
		"GO-WINDOWS@stdlib":       {vocab.ReachabilityModuleOnly, "the advisory's packages are vulnerable on windows only; the binary is built for linux/amd64: no vulnerable package is present"},
		"GO-WHOLE-PACKAGE@stdlib": {vocab.ReachabilitySymbolPresent, "vulnerable symbols present in the binary: net/http (every function of the package is affected)"},
		"GO-REPLACED@new":         {vocab.ReachabilitySymbolPresent, "vulnerable symbols present in the binary: x.Do"},
		"GO-OLD@stdlib-old":       {vocab.ReachabilityUnknown, "built with go1.17.13, whose function table (before Go 1.18) is not read"},
		"GO-SBOM@text-sbom":       {vocab.ReachabilityUnknown, "no function table of /app/from-sbom in this result (an SBOM, or a result stored without it)"},
		"GO-NO-PATH@text-nopath":  {vocab.ReachabilityUnknown, "the package was not read from an executable: no function table to look in"},
		"GO-BAD-JSON@text":        {vocab.ReachabilityUnknown, "the advisory's ecosystem_specific of GO-BAD-JSON could not be read: …"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
}

// TestGoReachabilityInRun: the enricher's annotations land on the findings.
func TestGoReachabilityInRun(t *testing.T) {
	res := &result.Result{
		GoBinaries: []inventory.GoBinary{goBinary("/app", "linux", [2]string{"golang.org/x/text/language", "Parse"})},
		Findings:   []finding.Finding{goFinding("GO-2021-0113", "text", "golang.org/x/text", "/app", `{"imports":[{"path":"golang.org/x/text/language","symbols":["Parse"]}]}`)},
	}
	if err := Run(context.Background(), res, []Enricher{GoReachability{}}); err != nil {
		t.Fatal(err)
	}
	want := []finding.Annotation{{Kind: vocab.AnnotationReachability, Source: "go-reachability", Status: vocab.ReachabilitySymbolPresent,
		Reason: "vulnerable symbols present in the binary: language.Parse"}}
	if diff := cmp.Diff(want, res.Findings[0].Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"go-reachability@1"}, res.Versions.Enrichers); diff != "" {
		t.Errorf("enrichers (-want +got):\n%s", diff)
	}
}
