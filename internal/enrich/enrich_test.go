package enrich

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// fixed is an enricher that returns what it is given.
type fixed struct {
	name string
	adds []Addition
	err  error
}

func (f fixed) Name() string { return f.name }
func (f fixed) Version() int { return 3 }
func (f fixed) Enrich(context.Context, *result.Result) ([]Addition, error) {
	return f.adds, f.err
}

func twoFindings() *result.Result {
	return &result.Result{Findings: []finding.Finding{
		{ID: "CVE-1", Package: finding.PackageRef{ID: "p1"}, Severity: vocab.SevHigh},
		{ID: "GHSA-2", Aliases: []string{"CVE-2"}, Package: finding.PackageRef{ID: "p2"}, Severity: vocab.SevLow},
	}}
}

func TestRunAppliesInOrder(t *testing.T) {
	res := twoFindings()
	before := twoFindings()
	a := fixed{name: "a", adds: []Addition{{Finding: "GHSA-2@p2", Annotation: finding.Annotation{Kind: vocab.AnnotationReachability, Status: "unreachable"}}}}
	b := fixed{name: "b", adds: []Addition{
		{Finding: "GHSA-2@p2", Annotation: finding.Annotation{Kind: vocab.AnnotationBaseImage, Source: "base:alpine"}},
		{Finding: "CVE-1@p1", Annotation: finding.Annotation{Kind: vocab.AnnotationKEV}},
	}}
	if err := Run(context.Background(), res, []Enricher{a, b}); err != nil {
		t.Fatal(err)
	}
	want := before
	want.Findings[0].Annotations = []finding.Annotation{{Kind: vocab.AnnotationKEV, Source: "b"}}
	want.Findings[1].Annotations = []finding.Annotation{
		{Kind: vocab.AnnotationReachability, Source: "a", Status: "unreachable"},
		{Kind: vocab.AnnotationBaseImage, Source: "base:alpine"},
	}
	want.Versions.Enrichers = []string{"a@3", "b@3"}
	if d := cmp.Diff(want, res); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		e    Enricher
		want string
	}{
		{"unknown finding", fixed{name: "x", adds: []Addition{{Finding: "CVE-9@p9", Annotation: finding.Annotation{Kind: "x"}}}}, `enricher x: annotation for unknown finding "CVE-9@p9"`},
		{"no kind", fixed{name: "x", adds: []Addition{{Finding: "CVE-1@p1"}}}, "enricher x: annotation without a kind"},
		{"enricher fails", fixed{name: "x", err: errors.New("boom")}, "enricher x: boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(context.Background(), twoFindings(), []Enricher{tt.e})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Run(ctx, twoFindings(), []Enricher{fixed{name: "x"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

type cveDB struct {
	vulndb.Reader
	cves map[string]vulndb.CVE
}

func (d cveDB) CVE(_ context.Context, id string) (vulndb.CVE, bool, error) {
	c, ok := d.cves[id]
	return c, ok, nil
}

func TestKEV(t *testing.T) {
	db := cveDB{cves: map[string]vulndb.CVE{
		"CVE-1": {ID: "CVE-1", KEV: true, KEVDateAdded: "2023-11-21", KEVDueDate: "2023-12-12", KEVRansomware: "Known"},
		"CVE-2": {ID: "CVE-2", NVDScore: 5}, // in NVD, not in KEV
	}}
	res := twoFindings()
	if err := Run(context.Background(), res, []Enricher{KEV{DB: db}}); err != nil {
		t.Fatal(err)
	}
	want := [][]finding.Annotation{
		{{Kind: vocab.AnnotationKEV, Source: "cisa-kev", Status: "known_ransomware_use",
			Reason: "CVE-1 is in the CISA KEV catalog, added 2023-11-21, remediation due 2023-12-12"}},
		nil,
	}
	for i := range res.Findings {
		if d := cmp.Diff(want[i], res.Findings[i].Annotations); d != "" {
			t.Errorf("finding %d annotations (-want +got):\n%s", i, d)
		}
	}
}
