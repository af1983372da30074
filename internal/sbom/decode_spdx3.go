package sbom

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/report"
)

// spdx3Object is what decodeSPDX3 reads of a graph object: the properties
// of the classes drydock writes (spdx3Element) and the CreationInfo's.
type spdx3Object struct {
	spdx3Element
	ID          string   `json:"@id"`
	Created     string   `json:"created"`
	CreatedBy   []string `json:"createdBy"`
	SpecVersion string   `json:"specVersion"`
}

// decodeSPDX3 reads an SPDX 3.0 JSON-LD document in the compact form the
// SPDX 3.0.1 context gives (a "@graph" of objects with "type" and
// "spdxId", as drydock and the SPDX tools write it): the software_Package
// the document's Sbom has as root (or that a "describes" relationship names)
// is the image, a package of purpose "operatingSystem" the distro, every
// other software_Package a package (PURL from software_packageUrl or a
// packageUrl externalIdentifier, licence from its hasDeclaredLicense, else
// hasConcludedLicense, expression), drydock facts from Annotations. Other
// JSON-LD shapes (expanded, framed, nested objects in place of references)
// are refused with an error, never read as an empty SBOM.
func decodeSPDX3(ctx context.Context, data []byte) (*report.Report, error) {
	var doc struct {
		Context json.RawMessage   `json:"@context"`
		Graph   []json.RawMessage `json:"@graph"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decoding SPDX 3: %w", err)
	}
	if len(doc.Graph) == 0 {
		return nil, fmt.Errorf(`decoding SPDX 3: no "@graph" (only the compact JSON-LD form with a top-level @graph is read)`)
	}
	objs := make([]spdx3Object, 0, len(doc.Graph))
	for i, raw := range doc.Graph {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var o spdx3Object
		if err := json.Unmarshal(raw, &o); err != nil {
			return nil, fmt.Errorf("decoding SPDX 3: @graph object %d: %w", i, err)
		}
		if o.Type == "" {
			return nil, fmt.Errorf(`decoding SPDX 3: @graph object %d has no "type" (expanded JSON-LD is not read)`, i)
		}
		objs = append(objs, o)
	}

	d := newDecoder()
	byID := map[string]*spdx3Object{}
	annotations := map[string]facts{}
	declared, concluded := map[string]string{}, map[string]string{}
	var described []string
	for i := range objs {
		o := &objs[i]
		if o.SpdxID != "" {
			byID[o.SpdxID] = o
		}
		switch o.Type {
		case "CreationInfo":
			if t, err := time.Parse(time.RFC3339, o.Created); err == nil && d.r.CreatedAt.IsZero() {
				d.r.CreatedAt = t.UTC()
			}
		case "Annotation":
			if n, v, ok := strings.Cut(o.Statement, "="); ok && strings.HasPrefix(o.Statement, PropPrefix) {
				annotations[o.Subject] = append(annotations[o.Subject], prop{unescapeName(n), v})
			}
		case "Relationship":
			switch o.RelationshipType {
			case "hasDeclaredLicense":
				for _, to := range o.To {
					declared[o.From] = to
				}
			case "hasConcludedLicense":
				for _, to := range o.To {
					concluded[o.From] = to
				}
			case "describes":
				described = append(described, o.To...)
			}
		}
	}
	// The tool: the CreationInfo's Tool (createdUsing), else its agent.
	for i := range objs {
		if objs[i].Type == "Tool" && objs[i].Name != "" {
			d.r.Tool = splitToolName(objs[i].Name)
			break
		}
	}

	// The image: the root of the Sbom, else what the document describes.
	var roots []string
	for i := range objs {
		if objs[i].Type == "software_Sbom" {
			roots = append(roots, objs[i].RootElement...)
		}
	}
	roots = append(roots, described...)
	var image *spdx3Object
	for _, id := range roots {
		if o := byID[id]; o != nil && o.Type == "software_Package" &&
			(o.PrimaryPurpose == "container" || strings.HasPrefix(spdx3PURL(o), "pkg:oci/") || len(roots) == 1) {
			image = o
			break
		}
	}
	if image != nil {
		fs := annotations[image.SpdxID]
		d.own = fs.has(PropPrefix)
		if err := d.image(image.Name, image.PackageVersion, spdx3PURL(image), fs); err != nil {
			return nil, fmt.Errorf("decoding SPDX 3: %w", err)
		}
	}

	licenseOf := func(pkg string) []string {
		for _, m := range []map[string]string{declared, concluded} {
			l := byID[m[pkg]]
			if l == nil || l.LicenseExpression == "" {
				continue
			}
			expr := l.LicenseExpression
			// A LicenseRef alone is the licence as its text names it, as
			// SPDX 2.3's extracted licences are read.
			for _, c := range l.CustomIDToURI {
				if c.Key == expr {
					if t := byID[c.Value]; t != nil && t.LicenseText != "" && t.LicenseText != noAssertion {
						expr = t.LicenseText
					}
				}
			}
			return []string{expr}
		}
		return nil
	}
	for i := range objs {
		o := &objs[i]
		if o.Type != "software_Package" || o == image {
			continue
		}
		fs := annotations[o.SpdxID]
		if o.PrimaryPurpose == "operatingSystem" || fs.has("drydock:distro:") {
			d.distro(o.Name, o.PackageVersion, o.Description, fs)
			continue
		}
		if o.PrimaryPurpose == "container" {
			continue
		}
		raw := rawPackage{
			ref: o.SpdxID, name: o.Name, version: o.PackageVersion, purl: spdx3PURL(o),
			sourceInfo: o.SourceInfo, facts: fs, vendor: fs.get(PropVendor),
		}
		if ls := fs.all(PropLicense); len(ls) > 0 {
			raw.licenses = ls
		} else {
			raw.licenses = licenseOf(o.SpdxID)
		}
		d.add(raw)
	}
	return d.finish(), nil
}

// spdx3PURL is a package's PURL: software_packageUrl, else its packageUrl
// external identifier.
func spdx3PURL(o *spdx3Object) string {
	if o.PackageURL != "" {
		return o.PackageURL
	}
	for _, x := range o.ExternalIdentifier {
		if x.ExternalIdentifierType == "packageUrl" {
			return x.Identifier
		}
	}
	return ""
}
