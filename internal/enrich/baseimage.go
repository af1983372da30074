package enrich

import (
	"context"
	"strconv"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// BaseImage marks the findings of the packages that the image's base image
// brought (res.BaseImage, set by the scan when a base-image index was
// given): a finding in one of the base's layers gets a base-image
// annotation naming the base and how it was found. Without res.BaseImage,
// or with no base layers, it adds nothing: every finding is the image's own.
type BaseImage struct{}

// Name implements Enricher.
func (BaseImage) Name() string { return "base-image" }

// Version implements Enricher.
func (BaseImage) Version() int { return 1 }

// Enrich implements Enricher.
func (BaseImage) Enrich(ctx context.Context, res *result.Result) ([]Addition, error) {
	b := res.BaseImage
	if b == nil || b.Layers <= 0 {
		return nil, nil
	}
	name := b.Name
	if name == "" {
		name = "unidentified base"
	}
	var out []Addition
	for i := range res.Findings {
		f := &res.Findings[i]
		if l := f.Package.LayerIndex; l >= 0 && l < b.Layers {
			out = append(out, Addition{Finding: f.Key(), Annotation: finding.Annotation{
				Kind: vocab.AnnotationBaseImage, Status: b.Signal, Reason: "in layer " + strconv.Itoa(l) + " of the base image " + name}})
		}
	}
	return out, nil
}
