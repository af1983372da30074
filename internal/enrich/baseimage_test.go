package enrich

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
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
	res.Image.History = []inventory.History{
		{CreatedBy: "/bin/sh -c #(nop) ADD file:3b1c2ed in / ", LayerIndex: 0},
		{CreatedBy: `/bin/sh -c #(nop)  CMD ["bash"]`, EmptyLayer: true, LayerIndex: -1},
		{CreatedBy: "/bin/sh -c apt-get update && apt-get install -y curl", LayerIndex: 1},
		{CreatedBy: "COPY app /app # buildkit", LayerIndex: 2},
	}
	base := func(status, reason string) finding.Annotation {
		return finding.Annotation{Kind: vocab.AnnotationBaseImage, Status: status, Reason: reason}
	}
	own := func(reason string) finding.Annotation {
		return finding.Annotation{Kind: vocab.AnnotationOwnLayer, Status: "own", Reason: reason}
	}
	for _, tc := range []struct {
		name string
		base *result.BaseImage
		want []Addition
	}{
		{"no attribution", nil, nil},
		{"no base layers: every layer the image's own",
			&result.BaseImage{Signal: "none"},
			[]Addition{
				{Finding: "CVE-1@a", Annotation: own("in layer 0 (ADD file:3b1c2ed in /), the image's own")},
				{Finding: "CVE-2@b", Annotation: own("in layer 1 (RUN apt-get update && apt-get install -y curl), the image's own")},
				{Finding: "CVE-3@c", Annotation: own("in layer 2 (COPY app /app), the image's own")},
			}},
		{"two base layers",
			&result.BaseImage{Name: "debian:12-slim", Layers: 2, Signal: "layer-chain"},
			[]Addition{
				{Finding: "CVE-1@a", Annotation: base("layer-chain", "in layer 0 (ADD file:3b1c2ed in /) of the base image debian:12-slim")},
				{Finding: "CVE-2@b", Annotation: base("layer-chain", "in layer 1 (RUN apt-get update && apt-get install -y curl) of the base image debian:12-slim")},
				{Finding: "CVE-3@c", Annotation: own("in layer 2 (COPY app /app), the image's own")},
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res.BaseImage = tc.base
			got, err := BaseImage{}.Enrich(t.Context(), res)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestStepOf(t *testing.T) {
	for in, want := range map[string]string{
		"/bin/sh -c #(nop) ADD file:3b1c2ed in / ": "ADD file:3b1c2ed in /",
		"/bin/sh -c apk add --no-cache curl":       "RUN apk add --no-cache curl",
		"RUN /bin/sh -c apk add curl # buildkit":   "RUN /bin/sh -c apk add curl",
		"":                                         "",
		strings.Repeat("x", 150):                   strings.Repeat("x", 99) + "…",
	} {
		if got := StepOf(in); got != want {
			t.Errorf("StepOf(%q) = %q, want %q", in, got, want)
		}
	}
}
