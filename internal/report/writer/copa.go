package writer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/version"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// CopaAPIVersion is the apiVersion of Copacetic's update manifest that the
// "copa" format writes (project-copacetic/copacetic pkg/types/v1alpha2).
const CopaAPIVersion = "v1alpha2"

// copaClassOS is the class Copacetic gives OS package updates (its Trivy
// parser copies Trivy's result class, "os-pkgs").
const copaClassOS = "os-pkgs"

// ErrNoDistro is returned by Copa for an image whose OS distribution was
// not detected: Copacetic picks its package manager from metadata.os.type,
// so a manifest without one could not be applied.
var ErrNoDistro = errors.New("no OS distribution was detected in the image: Copacetic patches OS packages only")

// CopaManifest is Copacetic's UpdateManifest v1alpha2, the file `copa patch
// --scanner native --report FILE` reads. The field names and JSON keys are
// those of copacetic pkg/types/v1alpha2/types.go.
type CopaManifest struct {
	APIVersion  string       `json:"apiVersion"`
	Metadata    CopaMetadata `json:"metadata"`
	OSUpdates   []CopaUpdate `json:"osupdates"`
	LangUpdates []CopaUpdate `json:"langupdates"`
}

// CopaMetadata is the manifest's metadata: the image's OS and platform.
type CopaMetadata struct {
	OS     CopaOS     `json:"os"`
	Config CopaConfig `json:"config"`
}

// CopaOS is the distribution: its os-release ID ("almalinux", "alpine",
// "debian"…, the values Copacetic maps to a package manager) and version.
type CopaOS struct {
	Type    string `json:"type"`
	Version string `json:"version"`
}

// CopaConfig is the image's platform.
type CopaConfig struct {
	Arch    string `json:"arch"`
	Variant string `json:"variant,omitempty"`
}

// CopaUpdate is one package to update.
type CopaUpdate struct {
	Name             string `json:"name"`
	InstalledVersion string `json:"installedVersion"`
	FixedVersion     string `json:"fixedVersion"`
	VulnerabilityID  string `json:"vulnerabilityID"`
	Type             string `json:"type"`
	Class            string `json:"class"`
}

// Copa writes Copacetic's patch report: one OS update per package that has
// an active finding with a fixed version, to the highest fixed version any
// of them needs (VulnerabilityID is the advisory that needs it). Language
// packages are left out (langupdates is empty): Copacetic updates them only
// from Trivy's own reports, and a bump there is a rebuild, not a patch.
// Suppressed findings (VEX, ignore rules, --ignore-unfixed, --severity) are
// left out unless ShowSuppressed: a patch should fix what the report counts.
func Copa(w io.Writer, r *report.Report, opt Options) error {
	m, err := CopaReport(r, opt)
	if err != nil {
		return err
	}
	return writeJSONDoc(w, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
}

// CopaReport builds the manifest Copa writes.
func CopaReport(r *report.Report, opt Options) (*CopaManifest, error) {
	if r.Distro == nil || r.Distro.ID == "" {
		return nil, fmt.Errorf("writing copa: %w", ErrNoDistro)
	}
	r = r.Normalized()
	byName := map[string]*CopaUpdate{}
	for _, f := range visible(r, opt) {
		if !vocab.IsOSEcosystem(f.Package.Ecosystem) || f.FixedVersion == "" {
			continue
		}
		u := byName[f.Package.Name]
		if u == nil {
			byName[f.Package.Name] = &CopaUpdate{
				Name: f.Package.Name, InstalledVersion: f.InstalledVersion, FixedVersion: f.FixedVersion,
				VulnerabilityID: f.ID, Type: copaPackageType(f.Package.Ecosystem), Class: copaClassOS,
			}
			continue
		}
		cmp, err := version.For(f.Package.Ecosystem)
		if err != nil {
			return nil, fmt.Errorf("writing copa: %w", err)
		}
		c, err := cmp.Compare(f.FixedVersion, u.FixedVersion)
		if err != nil {
			return nil, fmt.Errorf("writing copa: comparing the fixed versions of %s: %w", f.Package.Name, err)
		}
		// Ties keep the first advisory in the report's order.
		if c > 0 {
			u.FixedVersion, u.VulnerabilityID = f.FixedVersion, f.ID
		}
	}
	m := &CopaManifest{
		APIVersion: CopaAPIVersion,
		Metadata: CopaMetadata{
			OS:     CopaOS{Type: r.Distro.ID, Version: r.Distro.VersionID},
			Config: CopaConfig{Arch: r.Image.Arch, Variant: r.Image.Variant},
		},
		OSUpdates:   make([]CopaUpdate, 0, len(byName)),
		LangUpdates: []CopaUpdate{},
	}
	for _, u := range byName {
		m.OSUpdates = append(m.OSUpdates, *u)
	}
	sort.Slice(m.OSUpdates, func(i, j int) bool { return m.OSUpdates[i].Name < m.OSUpdates[j].Name })
	return m, nil
}

// copaPackageType is the package format of an OS ecosystem, as Copacetic's
// own examples write it ("deb", "rpm", "apk").
func copaPackageType(eco string) string {
	if eco == vocab.EcoDpkg {
		return "deb"
	}
	return eco
}
