package vulndb

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	apkversion "github.com/knqyf263/go-apk-version"
)

// secdbFile is Alpine's secdb JSON (secdb.alpinelinux.org/<branch>/<repo>.json).
type secdbFile struct {
	DistroVersion string `json:"distroversion"`
	RepoName      string `json:"reponame"`
	Packages      []struct {
		Pkg struct {
			Name     string              `json:"name"`
			Secfixes map[string][]string `json:"secfixes"`
		} `json:"pkg"`
	} `json:"packages"`
}

// SecDBStats counts what a secdb file held.
type SecDBStats struct {
	Packages    int // origin packages with at least one fix
	Advisories  int // (id, package) advisories produced
	NotAffected int // (id, package) pairs under fixed version "0": never affected, not stored
}

var alpineBranch = regexp.MustCompile(`^(v[0-9]+\.[0-9]+|edge)$`)

// ValidAlpineBranch reports whether branch names an Alpine secdb branch:
// "v<major>.<minor>" or "edge".
func ValidAlpineBranch(branch string) bool { return alpineBranch.MatchString(branch) }

// maxNativeSize bounds a native JSON file read whole (secdb, KEV, single NVD
// records); real files are a few MB.
const maxNativeSize = 256 << 20

// ParseAlpineSecDB reads one Alpine secdb file. Each (id, origin package)
// becomes an Advisory in ecosystem "Alpine:<branch>" ("Alpine:v3.16",
// "Alpine:edge") with the range introduced "0", fixed <version>. Ids keep
// only their first token ("CVE-2017-2616 (+ regression fix)" →
// "CVE-2017-2616"). A fixed version "0" means the package was never affected:
// such pairs are counted, not stored. When one id is listed under several
// versions of a package, the highest version is the fix. branch is used when
// the file does not name its distroversion; name identifies the file in
// errors.
func ParseAlpineSecDB(r io.Reader, name, branch string) ([]Advisory, SecDBStats, error) {
	var st SecDBStats
	var f secdbFile
	data, err := io.ReadAll(io.LimitReader(r, maxNativeSize+1))
	if err != nil {
		return nil, st, fmt.Errorf("reading Alpine secdb %q: %w", name, err)
	}
	if len(data) > maxNativeSize {
		return nil, st, fmt.Errorf("reading Alpine secdb %q: larger than %d bytes", name, maxNativeSize)
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, st, fmt.Errorf("decoding Alpine secdb %q: %w", name, err)
	}
	ver := f.DistroVersion
	if ver == "" {
		ver = branch
	}
	if !alpineBranch.MatchString(ver) {
		return nil, st, fmt.Errorf("decoding Alpine secdb %q: unexpected distroversion %q", name, ver)
	}
	repo := f.RepoName
	if repo == "" {
		repo = "main"
	}
	eco := "Alpine:" + ver
	source := "alpine-secdb/" + ver + "/" + repo

	type key struct{ id, pkg string }
	fixed := map[key]string{}
	for _, p := range f.Packages {
		pkg := strings.TrimSpace(p.Pkg.Name)
		if pkg == "" || len(p.Pkg.Secfixes) == 0 {
			continue
		}
		st.Packages++
		for v, ids := range p.Pkg.Secfixes {
			v = strings.TrimSpace(v)
			for _, id := range ids {
				fields := strings.Fields(id)
				if len(fields) == 0 || v == "" {
					continue
				}
				k := key{fields[0], pkg}
				if v == "0" {
					st.NotAffected++
					continue
				}
				if old, ok := fixed[k]; !ok || apkLess(old, v) {
					fixed[k] = v
				}
			}
		}
	}
	advs := make([]Advisory, 0, len(fixed))
	for k, v := range fixed {
		adv := Advisory{
			ID:        k.id,
			Ecosystem: eco,
			Package:   k.pkg,
			Ranges:    []Range{{Type: "ECOSYSTEM", Events: []Event{{Introduced: "0"}, {Fixed: v}}}},
			Source:    source,
		}
		if strings.HasPrefix(k.id, "CVE-") {
			adv.References = []string{"https://security.alpinelinux.org/vuln/" + k.id}
		}
		advs = append(advs, adv)
	}
	slices.SortFunc(advs, func(a, b Advisory) int {
		return cmp.Or(cmp.Compare(a.Package, b.Package), cmp.Compare(a.ID, b.ID))
	})
	st.Advisories = len(advs)
	return advs, st, nil
}

// apkLess orders apk versions, falling back to string order for versions the
// apk rules cannot parse (so the choice stays deterministic).
func apkLess(a, b string) bool {
	va, errA := apkversion.NewVersion(a)
	vb, errB := apkversion.NewVersion(b)
	if errA != nil || errB != nil {
		return a < b
	}
	return va.LessThan(vb)
}
