package enrich

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func TestBaseImage(t *testing.T) {
	res := &result.Result{Findings: []finding.Finding{
		{ID: "CVE-1", Package: finding.PackageRef{ID: "a", LayerIndex: 0}},
		{ID: "CVE-2", Package: finding.PackageRef{ID: "b", LayerIndex: 1}},
		{ID: "CVE-3", Package: finding.PackageRef{ID: "c", LayerIndex: 2}},
		{ID: "CVE-4", Package: finding.PackageRef{ID: "d", LayerIndex: -1}},
	}}
	for _, tc := range []struct {
		name string
		base *result.BaseImage
		want []string // findings marked
	}{
		{"no attribution", nil, nil},
		{"no base layers", &result.BaseImage{Signal: "none"}, nil},
		{"two base layers", &result.BaseImage{Name: "debian:12-slim", Layers: 2, Signal: "layer-chain"}, []string{"CVE-1@a", "CVE-2@b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res.BaseImage = tc.base
			adds, err := BaseImage{}.Enrich(t.Context(), res)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range adds {
				if a.Annotation.Kind != vocab.AnnotationBaseImage || a.Annotation.Status != tc.base.Signal {
					t.Errorf("annotation %+v", a.Annotation)
				}
				got = append(got, a.Finding)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
