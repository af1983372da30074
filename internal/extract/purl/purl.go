// Package purl builds Package URLs and stable package IDs for extractors.
//
// It is a thin layer over github.com/package-url/packageurl-go that fixes the
// details every extractor would otherwise repeat: qualifiers with empty values
// are dropped, qualifier keys are sorted, and the package ID is derived the
// same way everywhere.
package purl

import (
	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// PURL types used by drydock's extractors, as fixed by the PURL spec (the
// packageurl-go equivalents are variables, not constants).
const (
	TypeApk      = vocab.PURLTypeAPK
	TypeDebian   = vocab.PURLTypeDeb
	TypeRPM      = vocab.PURLTypeRPM
	TypeGolang   = vocab.PURLTypeGolang
	TypeNPM      = vocab.PURLTypeNPM
	TypePyPI     = vocab.PURLTypePyPI
	TypeMaven    = vocab.PURLTypeMaven
	TypeGem      = vocab.PURLTypeGem
	TypeCargo    = vocab.PURLTypeCargo
	TypeNuGet    = vocab.PURLTypeNuGet
	TypeComposer = vocab.PURLTypeComposer
)

// Qualifier is one key=value PURL qualifier. A qualifier whose Value is empty
// is left out of the PURL (the spec treats it as absent).
type Qualifier struct {
	Key   string
	Value string
}

// Build returns the canonical string form of a PURL. namespace, version and
// subpath may be empty. Qualifiers with an empty value are dropped and the
// rest are sorted by key, so the result does not depend on argument order.
func Build(typ, namespace, name, version string, quals ...Qualifier) string {
	return BuildWithSubpath(typ, namespace, name, version, "", quals...)
}

// BuildWithSubpath is Build with a PURL subpath (e.g. a file inside a jar).
func BuildWithSubpath(typ, namespace, name, version, subpath string, quals ...Qualifier) string {
	var qq packageurl.Qualifiers
	for _, q := range quals {
		if q.Key == "" || q.Value == "" {
			continue
		}
		qq = append(qq, packageurl.Qualifier{Key: q.Key, Value: q.Value})
	}
	// Qualifiers.String sorts by key; ToString encodes every component.
	return packageurl.NewPackageURL(typ, namespace, name, version, qq, subpath).ToString()
}

// PackageID is the ID inventory.Merge gives a package whose Ecosystem, Name,
// Version, Arch and Locations are set (see inventory.StableID): the same
// package at the same path gets the same ID in every run and every layer.
func PackageID(p *inventory.Package) string {
	return inventory.StableID(p)
}
