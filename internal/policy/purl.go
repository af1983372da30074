package policy

import (
	"strings"

	"github.com/package-url/packageurl-go"
)

// parsePURL parses a package URL.
func parsePURL(s string) (*packageurl.PackageURL, error) {
	p, err := packageurl.FromString(s)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// purlMatches reports whether the package URL pkg is selected by the
// pattern want: type, namespace and name must be equal (ignoring case); the
// version and subpath must be equal when want gives them; every qualifier
// want gives must be present in pkg with the same value, and pkg's other
// qualifiers are ignored.
func purlMatches(want, pkg *packageurl.PackageURL) bool {
	if want == nil || pkg == nil {
		return false
	}
	if !strings.EqualFold(want.Type, pkg.Type) ||
		!strings.EqualFold(want.Namespace, pkg.Namespace) ||
		!strings.EqualFold(want.Name, pkg.Name) {
		return false
	}
	if want.Version != "" && want.Version != pkg.Version {
		return false
	}
	if want.Subpath != "" && want.Subpath != pkg.Subpath {
		return false
	}
	have := pkg.Qualifiers.Map()
	for _, q := range want.Qualifiers {
		if v, ok := have[q.Key]; !ok || v != q.Value {
			return false
		}
	}
	return true
}

// purlCache parses each package URL once per evaluation.
type purlCache map[string]*packageurl.PackageURL

func (c purlCache) get(s string) *packageurl.PackageURL {
	if s == "" {
		return nil
	}
	if p, ok := c[s]; ok {
		return p
	}
	p, err := parsePURL(s)
	if err != nil {
		p = nil
	}
	c[s] = p
	return p
}
