package version

import (
	"strings"

	pep440 "github.com/aquasecurity/go-pep440-version"
)

type pep440Comparator struct{}

// PEP440 returns the comparator for Python package versions (PEP 440, as
// pypa/packaging orders them): epochs "1!", pre-releases (a/b/rc and their
// spellings), post-releases, dev releases, local versions "+…", and trailing
// zeros ignored (1.0 == 1.0.0). Used for "PyPI".
func PEP440() Comparator { return pep440Comparator{} }

func (pep440Comparator) Name() string { return "pep440" }

func (c pep440Comparator) Compare(a, b string) (int, error) {
	// github.com/aquasecurity/go-pep440-version (via aquasecurity/go-version's
	// part package, whose Uint64.Compare panics on an unexpected part type).
	return guard(c.Name(), a, b, func() (int, error) {
		va, err := parsePEP440(a)
		if err != nil {
			return 0, err
		}
		vb, err := parsePEP440(b)
		if err != nil {
			return 0, err
		}
		return sign(va.Compare(vb)), nil
	})
}

func parsePEP440(v string) (pep440.Version, error) {
	const name = "pep440"
	if err := checkCommon(name, v); err != nil {
		return pep440.Version{}, err
	}
	// PEP 440 normalises '-' and '_' in the local version label to '.', but
	// the library splits the label on '.' only, so "1.0+ubuntu-1" and
	// "1.0+ubuntu.1" would differ.
	norm := v
	if pub, local, ok := strings.Cut(v, "+"); ok {
		norm = pub + "+" + strings.NewReplacer("-", ".", "_", ".").Replace(local)
	}
	pv, err := pep440.Parse(norm)
	if err != nil {
		return pep440.Version{}, invalid(name, v, err.Error())
	}
	return pv, nil
}
