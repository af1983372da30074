package sbom

import (
	"strconv"
	"strings"

	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// ecosystemOf maps a PURL type to the inventory ecosystem, or "".
func ecosystemOf(purlType string) string { return vocab.EcosystemOfPURLType(purlType) }

// purlFacts is what a package URL tells about a package.
type purlFacts struct {
	ecosystem     string
	name          string // full name in the ecosystem's convention
	version       string
	arch          string
	epoch         int
	sourceName    string
	sourceVersion string
	distroID      string
	distroVersion string
}

// parsePURL reads a package URL. ok is false when s is not a PURL.
func parsePURL(s string) (purlFacts, bool) {
	p, err := packageurl.FromString(s)
	if err != nil || p.Type == "" || p.Name == "" {
		return purlFacts{}, false
	}
	f := purlFacts{ecosystem: ecosystemOf(p.Type), version: p.Version, name: p.Name}
	switch f.ecosystem {
	case inventory.EcoMaven:
		if p.Namespace != "" {
			f.name = p.Namespace + ":" + p.Name
		}
	case inventory.EcoNPM, inventory.EcoGo, inventory.EcoPackagist:
		if p.Namespace != "" {
			f.name = p.Namespace + "/" + p.Name
		}
	}
	q := p.Qualifiers.Map()
	f.arch = q["arch"]
	if e, err := strconv.Atoi(q["epoch"]); err == nil && e > 0 {
		f.epoch = e
	}
	if d := q["distro"]; d != "" {
		f.distroID, f.distroVersion = splitDistro(d)
		if f.distroID == "" && inventory.IsOS(f.ecosystem) {
			f.distroID = strings.ToLower(p.Namespace)
		}
	}
	if up := q["upstream"]; up != "" {
		f.sourceName, f.sourceVersion = splitUpstream(up, f.ecosystem)
	}
	return f, true
}

// splitDistro splits a distro qualifier: "alpine-3.16.9" → ("alpine",
// "3.16.9"); "opensuse-leap-15.4" → ("opensuse-leap", "15.4"); "3.16.9" →
// ("", "3.16.9"); "bookworm" → ("bookworm", "").
func splitDistro(d string) (id, version string) {
	for i := len(d) - 2; i >= 0; i-- {
		if d[i] == '-' && d[i+1] >= '0' && d[i+1] <= '9' {
			return strings.ToLower(d[:i]), d[i+1:]
		}
	}
	if d != "" && d[0] >= '0' && d[0] <= '9' {
		return "", d
	}
	return strings.ToLower(d), ""
}

// splitUpstream reads the upstream (source package) qualifier: "busybox",
// "util-linux@2.38.1-5" (deb), or "glibc-2.34-28.el9_0.src.rpm" (rpm).
func splitUpstream(up, eco string) (name, version string) {
	if eco == inventory.EcoRPM {
		if base, ok := strings.CutSuffix(up, ".src.rpm"); ok {
			// name-version-release: the last two dash-separated fields.
			if r := strings.LastIndex(base, "-"); r > 0 {
				if v := strings.LastIndex(base[:r], "-"); v > 0 {
					return base[:v], base[v+1:]
				}
			}
			return base, ""
		}
	}
	if n, v, ok := strings.Cut(up, "@"); ok {
		return n, v
	}
	// Syft writes deb upstream versions as "name (version)".
	if n, v, ok := strings.Cut(up, " ("); ok && strings.HasSuffix(v, ")") {
		return n, strings.TrimSuffix(v, ")")
	}
	return up, ""
}
