package vulndb

import (
	"encoding/json"
	"slices"
	"time"
)

// On-disk layout (bbolt), see doc.go:
//
//	meta/schema            → decimal SchemaVersion
//	meta/metadata          → JSON Metadata
//	records/<id>           → zstd(JSON storedRecord): the parts of an advisory
//	                         shared by all its packages
//	packages/<ecosystem>/<NormalizeName(name)>
//	                       → zstd(JSON []storedEntry), sorted by id
//	cves/<CVE id>          → JSON CVE
//	hashes/<32-byte SHA-256> → JSON storedHash: a known-bad file (only when
//	                         hash lists were imported)
const (
	bucketMeta     = "meta"
	bucketRecords  = "records"
	bucketPackages = "packages"
	bucketCVEs     = "cves"
	bucketHashes   = "hashes"
	keySchema      = "schema"
	keyMetadata    = "metadata"
)

// storedRecord is the per-record part of an advisory, stored once however
// many packages it affects.
type storedRecord struct {
	ID         string    `json:"id"`
	Aliases    []string  `json:"a,omitempty"`
	Summary    string    `json:"s,omitempty"`
	Details    string    `json:"d,omitempty"`
	Published  time.Time `json:"p,omitzero"`
	Modified   time.Time `json:"m,omitzero"`
	References []string  `json:"r,omitempty"`
}

// storedEntry is the per-package part of an advisory.
type storedEntry struct {
	ID                string          `json:"id"`
	Package           string          `json:"n"`
	PURL              string          `json:"u,omitempty"`
	Ranges            []Range         `json:"r,omitempty"`
	Versions          []string        `json:"v,omitempty"`
	Severity          []Severity      `json:"s,omitempty"`
	VendorSeverity    string          `json:"vs,omitempty"`
	Status            string          `json:"st,omitempty"`
	Source            string          `json:"src,omitempty"`
	EcosystemSpecific json.RawMessage `json:"es,omitempty"`
	Class             string          `json:"c,omitempty"`
}

func splitAdvisory(a *Advisory) (storedRecord, storedEntry) {
	return storedRecord{
			ID:         a.ID,
			Aliases:    a.Aliases,
			Summary:    a.Summary,
			Details:    a.Details,
			Published:  a.Published,
			Modified:   a.Modified,
			References: a.References,
		}, storedEntry{
			ID:                a.ID,
			Package:           a.Package,
			PURL:              a.PURL,
			Ranges:            a.Ranges,
			Versions:          a.Versions,
			Severity:          a.Severity,
			VendorSeverity:    a.VendorSeverity,
			Status:            a.Status,
			Source:            a.Source,
			EcosystemSpecific: a.EcosystemSpecific,
			Class:             a.Class,
		}
}

func joinAdvisory(eco string, r *storedRecord, e *storedEntry) Advisory {
	return Advisory{
		ID:                e.ID,
		Aliases:           slices.Clone(r.Aliases),
		Summary:           r.Summary,
		Details:           r.Details,
		Published:         r.Published,
		Modified:          r.Modified,
		Ecosystem:         eco,
		Package:           e.Package,
		PURL:              e.PURL,
		Ranges:            e.Ranges,
		Versions:          e.Versions,
		Severity:          e.Severity,
		VendorSeverity:    e.VendorSeverity,
		Status:            e.Status,
		References:        slices.Clone(r.References),
		Source:            e.Source,
		EcosystemSpecific: e.EcosystemSpecific,
		Class:             e.Class,
	}
}
