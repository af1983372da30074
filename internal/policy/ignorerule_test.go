package policy

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// goResult has Go findings of each reachability, and a Debian one.
func goResult() *result.Result {
	goFinding := func(id, status string) finding.Finding {
		f := finding.Finding{ID: id, Severity: vocab.SevHigh, Status: vocab.StatusFixed, FixedVersion: "0.3.8",
			Package: finding.PackageRef{ID: "text", Name: "golang.org/x/text", Ecosystem: vocab.EcoGo, Path: "/app/server"}}
		if status != "" {
			f.Annotations = []finding.Annotation{{Kind: vocab.AnnotationReachability, Source: "go-reachability", Status: status, Reason: "…"}}
		}
		return f
	}
	return &result.Result{Findings: []finding.Finding{
		goFinding("GO-2021-0113", vocab.ReachabilitySymbolPresent),
		goFinding("GO-2022-1059", vocab.ReachabilityPackageImported),
		goFinding("GO-2020-0015", vocab.ReachabilityModuleOnly),
		goFinding("GO-UNKNOWN", vocab.ReachabilityUnknown),
		goFinding("GO-NONE", ""),
		{ID: "CVE-1", Severity: vocab.SevHigh, Package: finding.PackageRef{ID: "deb", Name: "libc6", Ecosystem: vocab.EcoDpkg},
			Annotations: []finding.Annotation{{Kind: vocab.AnnotationReachability, Status: vocab.ReachabilityPackageImported}}},
	}}
}

// TestIgnoreGoPackageImported: the built-in policy suppresses the Go
// findings whose package, but none of whose vulnerable symbols, is present
// — before the gate counts — and nothing else.
func TestIgnoreGoPackageImported(t *testing.T) {
	r := goResult()
	e := &Engine{Gate: Gate{FailOn: vocab.SevHigh}, Policies: []*Policy{mustPolicy(t, BuiltinPrefix+"ignore-go-package-imported")}, Now: fixedNow}
	v, err := e.Evaluate(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	var suppressed []string
	for _, f := range r.Findings {
		if f.Suppressed() {
			suppressed = append(suppressed, f.ID)
		}
	}
	if diff := cmp.Diff([]string{"GO-2022-1059"}, suppressed); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	want := finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: "builtin:ignore-go-package-imported#go-package-imported",
		Reason: "none of the vulnerable symbols of GO-2022-1059 is present in /app/server (the package is): Go reachability package-imported"}
	if got := r.Findings[1].Annotations[1]; got != want {
		t.Errorf("annotation = %+v, want %+v", got, want)
	}
	if v.Pass || len(v.Failures) != 1 || len(v.Failures[0].Targets) != 5 || strings.Contains(strings.Join(v.Failures[0].Targets, " "), "GO-2022-1059") {
		t.Errorf("verdict = %+v, want the gate failing on the five findings left", v)
	}
}

func TestIgnoreRules(t *testing.T) {
	policy := func(rules string) *Policy {
		t.Helper()
		p, err := ParsePolicy("p.yaml", []byte("apiVersion: drydock.dev/v1\nkind: Policy\nmetadata: {name: p}\nrules:\n"+rules))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Run("expired", func(t *testing.T) {
		r := goResult()
		v, err := (&Engine{Policies: []*Policy{policy(`  - {id: old, action: ignore, on: finding, expr: "true", expires: 2020-01-01}` + "\n")}, Now: fixedNow}).Evaluate(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Findings {
			if f.Suppressed() {
				t.Errorf("%s suppressed by an expired rule", f.ID)
			}
		}
		if len(v.Expired) != 1 {
			t.Errorf("expired = %v, want the rule", v.Expired)
		}
	})
	t.Run("a rule that fails suppresses nothing", func(t *testing.T) {
		r := goResult()
		v, err := (&Engine{Policies: []*Policy{policy(`  - {id: broken, action: ignore, on: finding, expr: 'image.config.labels["x"] == "y"'}` + "\n")}, Now: fixedNow}).Evaluate(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Findings {
			if f.Suppressed() {
				t.Errorf("%s suppressed by a failing rule", f.ID)
			}
		}
		if len(v.Warnings) != len(r.Findings) || !strings.Contains(v.Warnings[0].Message, "the finding is not ignored") || !v.Pass {
			t.Errorf("verdict = %+v, want a warning per finding", v)
		}
	})
	t.Run("before the deny rules", func(t *testing.T) {
		r := goResult()
		v, err := (&Engine{Policies: []*Policy{policy(`  - {id: all-go, action: ignore, on: finding, expr: 'finding.package.ecosystem == "Go"'}
  - {id: deny, action: deny, on: finding, expr: "true", message: "{{id}}"}
`)}, Now: fixedNow}).Evaluate(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if len(v.Failures) != 1 || v.Failures[0].Message != "CVE-1" {
			t.Errorf("failures = %+v, want CVE-1 alone", v.Failures)
		}
	})
	t.Run("findings only", func(t *testing.T) {
		_, err := ParsePolicy("p.yaml", []byte("apiVersion: drydock.dev/v1\nkind: Policy\nmetadata: {name: p}\nrules:\n  - {id: x, action: ignore, on: package, expr: \"true\"}\n"))
		if err == nil || !strings.Contains(err.Error(), "action ignore is for findings (on: finding)") {
			t.Errorf("error = %v", err)
		}
	})
}
