package inventory

import (
	"github.com/package-url/packageurl-go"
)

// withDistro sets the distro qualifier (e.g. "alpine-3.16.9") and, for deb
// and rpm, the namespace from the distro ID when the extractor could not
// know it.
func withDistro(s string, d *Distro) string {
	pu, err := packageurl.FromString(s)
	if err != nil {
		return s
	}
	if d.ID != "" && (pu.Namespace == "" || (pu.Type == packageurl.TypeDebian && pu.Namespace == "debian" && d.ID != "debian")) {
		pu.Namespace = d.ID
	}
	distro := d.ID
	if d.VersionID != "" {
		distro += "-" + d.VersionID
	}
	q := pu.Qualifiers.Map()
	if _, ok := q["distro"]; !ok && distro != "" {
		q["distro"] = distro
		pu.Qualifiers = packageurl.QualifiersFromMap(q)
	}
	return pu.ToString()
}
