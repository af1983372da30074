package writer

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// supplyChainVariants are the formats whose supply-chain section has a
// golden file (CycloneDX and SPDX do not carry it: docs/supply-chain.md).
var supplyChainVariants = []struct {
	name, format, ext string
	opt               Options
}{
	{"table", "table", "txt", Options{Width: 160}},
	{"table-color", "table", "ansi.txt", Options{Width: 120, Color: true}},
	{"json", "json", "json", Options{}},
	{"sarif", "sarif", "sarif", Options{}},
	{"html", "html", "html", Options{}},
	{"junit", "junit", "junit.xml", Options{}},
	{"markdown", "markdown", "md", Options{}},
	{"gitlab", "gitlab", "gitlab.json", Options{}},
}

func supplyChainFixtures() map[string]*report.Report {
	return map[string]*report.Report{"signed": reporttest.Signed(), "unsigned": reporttest.Unsigned()}
}

// TestSupplyChainGolden: the supply-chain section in every format that
// carries it, for a verified image (with a failed legacy signature and
// unsigned provenance listed too) and an unsigned one that was required to
// be signed. go test -update rewrites the files.
func TestSupplyChainGolden(t *testing.T) {
	for name, r := range supplyChainFixtures() {
		for _, v := range supplyChainVariants {
			t.Run(name+"/"+v.name, func(t *testing.T) {
				got := render(t, v.format, r, v.opt)
				path := filepath.Join("testdata", "golden", "supplychain-"+name+"."+v.ext)
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if diff := cmp.Diff(string(want), string(got)); diff != "" {
					t.Errorf("%s differs from the golden file (-want +got; go test -update rewrites it):\n%s", path, diff)
				}
			})
		}
	}
}

// TestSupplyChainInEveryFormat checks what each format must say, beyond
// the golden bytes: the answer, the signer, the reason an image failed.
func TestSupplyChainInEveryFormat(t *testing.T) {
	signed, unsigned := reporttest.Signed(), reporttest.Unsigned()
	const signer = "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main"
	for _, f := range []string{"table", "markdown", "html"} {
		s := string(render(t, f, signed, Options{Width: 200}))
		for _, want := range []string{"VERIFIED", signer, "transparency log index 151234567", "no configured key or identity verifies it",
			"https://github.com/actions/runner/github-hosted", "a hint, not proof"} {
			if !strings.Contains(s, want) {
				t.Errorf("%s of a signed image: no %q", f, want)
			}
		}
		u := string(render(t, f, unsigned, Options{Width: 200}))
		for _, want := range []string{"UNSIGNED", "no signature found for " + unsigned.Image.Digest, "exit code 4",
			"registry has no referrers API"} {
			if !strings.Contains(u, want) {
				t.Errorf("%s of an unsigned image: no %q", f, want)
			}
		}
	}

	// JSON: the section, the summary's answer; it matches the schema and
	// round-trips.
	schema := reportSchema(t)
	for name, r := range supplyChainFixtures() {
		doc := render(t, "json", r, Options{})
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s: JSON does not match the schema: %v", name, err)
		}
		var back report.Report
		if err := json.Unmarshal(doc, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r.Normalized(), &back); diff != "" {
			t.Errorf("%s: JSON does not round-trip (-want +got):\n%s", name, diff)
		}
	}
	if signed.Summary.Signature != "verified" || unsigned.Summary.Signature != "unsigned" {
		t.Errorf("summary.signature %q, %q", signed.Summary.Signature, unsigned.Summary.Signature)
	}
	// The schema rejects a section the model cannot hold.
	bad := strings.Replace(string(render(t, "json", signed, Options{})), `"verified": true,`, `"verified": "yes",`, 1)
	if err := schema.Validate([]byte(bad)); err == nil {
		t.Error("schema accepted supply_chain.verified as a string")
	}

	// SARIF: a gate:signature result at the image for the unsigned image,
	// none for the signed one; the section in run.properties.
	type sarifDoc struct {
		Runs []struct {
			Results []struct {
				RuleID  string                `json:"ruleId"`
				Level   string                `json:"level"`
				Message struct{ Text string } `json:"message"`
			} `json:"results"`
			Invocations []struct {
				Notifications []struct {
					Level   string
					Message struct{ Text string }
				} `json:"toolExecutionNotifications"`
			} `json:"invocations"`
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"runs"`
	}
	sigResults := func(r *report.Report) (n int, msg string, props map[string]json.RawMessage) {
		var d sarifDoc
		if err := json.Unmarshal(render(t, "sarif", r, Options{}), &d); err != nil {
			t.Fatal(err)
		}
		for _, res := range d.Runs[0].Results {
			if res.RuleID == "gate:signature" && res.Level == "error" {
				n++
				msg = res.Message.Text
			}
		}
		return n, msg, d.Runs[0].Properties
	}
	if n, msg, props := sigResults(unsigned); n != 1 || !strings.Contains(msg, "UNSIGNED") || string(props["signature"]) != `"unsigned"` {
		t.Errorf("unsigned SARIF: %d gate:signature results (%q), signature %s", n, msg, props["signature"])
	}
	if n, _, props := sigResults(signed); n != 0 || string(props["signature"]) != `"verified"` || len(props["supplyChain"]) == 0 {
		t.Errorf("signed SARIF: %d gate:signature results, properties %v", n, props)
	}
	// Unverified but not required: a warning notification, no result.
	notRequired := reporttest.Unsigned()
	notRequired.SupplyChain.Required, notRequired.Verdict = false, &report.Verdict{Pass: true}
	var d sarifDoc
	if err := json.Unmarshal(render(t, "sarif", notRequired, Options{}), &d); err != nil {
		t.Fatal(err)
	}
	warned := false
	for _, n := range d.Runs[0].Invocations[0].Notifications {
		warned = warned || (n.Level == "warning" && strings.HasPrefix(n.Message.Text, "Supply chain: UNSIGNED"))
	}
	if !warned {
		t.Errorf("unsigned, not required: no warning notification in %+v", d.Runs[0].Invocations[0].Notifications)
	}

	// JUnit: the signature case fails only when it was required.
	type junitDoc struct {
		Suites []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
				Skipped *struct{} `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	sigCase := func(r *report.Report) (failed, skipped bool) {
		var j junitDoc
		if err := xml.Unmarshal(render(t, "junit", r, Options{}), &j); err != nil {
			t.Fatal(err)
		}
		for _, s := range j.Suites {
			if s.Name == "supply-chain" {
				return s.Cases[0].Failure != nil, s.Cases[0].Skipped != nil
			}
		}
		t.Fatal("no supply-chain suite")
		return
	}
	if f, s := sigCase(unsigned); !f || s {
		t.Errorf("unsigned, required: failed %v skipped %v", f, s)
	}
	if f, s := sigCase(notRequired); f || !s {
		t.Errorf("unsigned, not required: failed %v skipped %v", f, s)
	}
	if f, s := sigCase(signed); f || s {
		t.Errorf("signed: failed %v skipped %v", f, s)
	}

	// GitLab: the answer in scan.messages.
	var gl glReport
	if err := json.Unmarshal(render(t, "gitlab", unsigned, Options{}), &gl); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, m := range gl.Scan.Messages {
		found = found || (m.Level == "warn" && strings.HasPrefix(m.Value, "supply chain: UNSIGNED"))
	}
	if !found {
		t.Errorf("GitLab messages %+v", gl.Scan.Messages)
	}
}

// TestSupplyChainHostileText: signer identities and errors come from the
// signatures, i.e. from whoever pushed them; the text writers show their
// control characters as escapes.
func TestSupplyChainHostileText(t *testing.T) {
	r := reporttest.Signed()
	r.SupplyChain.Signatures[1].Error = "bad\x1b[2J\x1b[Hall clear"
	r.SupplyChain.Signatures[0].Identity = "evil\u202e@example.com"
	r.SupplyChain.Verified = false // the JUnit failure lists every item
	for _, f := range []string{"table", "markdown", "html", "junit"} {
		s := string(render(t, f, r, Options{Width: 200}))
		if strings.ContainsAny(s, "\x1b\u202e") {
			t.Errorf("%s writes a control character from a signature", f)
		}
		if !strings.Contains(s, `x1b`) || !strings.Contains(s, `u202e@example.com`) {
			t.Errorf("%s does not show the escapes", f)
		}
	}
}

// TestSupplyChainTemplate: a --format template sees the section as
// .SupplyChain and the answer as .Summary.Signature.
func TestSupplyChainTemplate(t *testing.T) {
	const tpl = `{{.Summary.Signature}} {{.SupplyChain.Verified}} {{range .SupplyChain.Provenance}}{{if .Verified}}{{.BuilderID}}{{end}}{{end}}`
	got := string(render(t, "template", reporttest.Signed(), Options{Template: tpl}))
	if want := "verified true https://github.com/actions/runner/github-hosted"; got != want {
		t.Errorf("template gave %q, want %q", got, want)
	}
}
