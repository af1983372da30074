package enrich

import (
	"context"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// BaseImage marks where each finding's package came from, when the scan
// attributed the image to a base (res.BaseImage, set when a base-image
// index was given): a finding in one of the base's layers gets a base-image
// annotation naming the base and how it was found, a finding in one of the
// image's own layers an own-layer annotation; both name the layer and the
// Dockerfile step (the history's created_by) that made it. Without
// res.BaseImage it adds nothing.
type BaseImage struct{}

// Name implements Enricher.
func (BaseImage) Name() string { return "base-image" }

// Version implements Enricher.
func (BaseImage) Version() int { return 2 }

// Enrich implements Enricher.
func (BaseImage) Enrich(ctx context.Context, res *result.Result) ([]Addition, error) {
	b := res.BaseImage
	if b == nil {
		return nil, nil
	}
	name := b.Name
	if name == "" {
		name = "unidentified base"
	}
	steps := map[int]string{}
	for _, h := range res.Image.History {
		if !h.EmptyLayer && h.LayerIndex >= 0 {
			steps[h.LayerIndex] = StepOf(h.CreatedBy)
		}
	}
	var out []Addition
	for i := range res.Findings {
		f := &res.Findings[i]
		l := f.Package.LayerIndex
		if l < 0 {
			continue
		}
		where := "in layer " + strconv.Itoa(l)
		if s := steps[l]; s != "" {
			where += " (" + s + ")"
		}
		a := finding.Annotation{Kind: vocab.AnnotationOwnLayer, Status: "own", Reason: where + ", the image's own"}
		if l < b.Layers {
			a = finding.Annotation{Kind: vocab.AnnotationBaseImage, Status: b.Signal, Reason: where + " of the base image " + name}
		}
		out = append(out, Addition{Finding: f.Key(), Annotation: a})
	}
	return out, nil
}

// StepOf shortens a history created_by to the Dockerfile step a person
// wrote: the shell prefixes of the classic builder dropped, spaces
// collapsed, at most 100 characters.
func StepOf(createdBy string) string {
	s := strings.Join(strings.Fields(createdBy), " ")
	for _, p := range []string{"/bin/sh -c #(nop) ", "/bin/sh -c "} {
		if rest, ok := strings.CutPrefix(s, p); ok {
			s = rest
			if p == "/bin/sh -c " {
				s = "RUN " + s
			}
			break
		}
	}
	s = strings.TrimSuffix(s, " # buildkit")
	if r := []rune(s); len(r) > 100 {
		s = string(r[:99]) + "…"
	}
	return s
}
