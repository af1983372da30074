package sbom

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
)

// packageFacts lists the drydock facts of p that both formats carry as
// name/value pairs. Locations are written as a path followed by its layer,
// so a layer always belongs to the path before it.
func packageFacts(p *inventory.Package) []prop {
	var out []prop
	add := func(name, value string) {
		if value != "" {
			out = append(out, prop{name, value})
		}
	}
	add(PropEcosystem, p.Ecosystem)
	add(PropFoundBy, p.FoundBy)
	add(PropSourceName, p.SourceName)
	add(PropSourceVersion, p.SourceVersion)
	add(PropArch, p.Arch)
	if p.Epoch != 0 {
		add(PropEpoch, strconv.Itoa(p.Epoch))
	}
	if p.Declared {
		add(PropDeclared, "true")
	}
	add(PropOwner, p.Owner)
	if p.Layer != nil {
		add(PropLayerIndex, strconv.Itoa(p.Layer.Index))
		add(PropLayerDiffID, p.Layer.DiffID)
	}
	for _, l := range p.Locations {
		out = append(out, prop{PropLocationPath, l.Path})
		add(PropLocationLayer, l.LayerDiffID)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Metadata)) {
		out = append(out, prop{PropMetadataPrefix + k, p.Metadata[k]})
	}
	return out
}

// reportImageFacts are the image's facts and the supply-chain facts of
// the report, as the image component (package) carries them.
func reportImageFacts(r *report.Report) []prop {
	return append(imageFacts(&r.Image), supplyChainFacts(r.SupplyChain)...)
}

// supplyChainFacts lists what the verify stage found, nil when it did not
// run: the state, the digest, each verified signer, provenance builder and
// source, attestation predicate, and the whole section as JSON.
func supplyChainFacts(sc *result.SupplyChain) []prop {
	if sc == nil {
		return nil
	}
	out := []prop{{PropSupplyChainState, report.SignatureState(sc)}, {PropSupplyChainDigest, sc.Digest}}
	seen := map[prop]bool{}
	add := func(name, value string) {
		if p := (prop{name, value}); value != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, s := range sc.Signatures {
		if s.Verified {
			v := s.Identity
			if s.Issuer != "" {
				v += " [" + s.Issuer + "]"
			}
			add(PropSupplyChainSigner, v)
		}
	}
	for _, a := range sc.Attestations {
		if a.Verified {
			add(PropSupplyChainPredicate, a.PredicateType)
		}
	}
	for _, p := range sc.Provenance {
		if p.Verified {
			add(PropSupplyChainBuilder, p.BuilderID)
			add(PropSupplyChainSourceRepo, p.SourceRepo)
		}
	}
	return append(out, prop{PropSupplyChain, mustJSON(sc)})
}

// imageFacts lists the drydock facts of the image. Layers, history and the
// runtime configuration are JSON values so that they decode losslessly.
func imageFacts(img *report.Image) []prop {
	var out []prop
	add := func(name, value string) {
		if value != "" {
			out = append(out, prop{name, value})
		}
	}
	add(PropImageReference, img.Reference)
	add(PropImageKind, img.Kind)
	add(PropImageName, img.Name)
	add(PropImageDigest, img.Digest)
	add(PropImageConfigDigest, img.ConfigDigest)
	for _, t := range img.RepoTags {
		add(PropImageRepoTag, t)
	}
	for _, d := range img.RepoDigests {
		add(PropImageRepoDigest, d)
	}
	add(PropImageOS, img.OS)
	add(PropImageArch, img.Arch)
	add(PropImageVariant, img.Variant)
	if !img.Created.IsZero() {
		add(PropImageCreated, img.Created.UTC().Format("2006-01-02T15:04:05.999999999Z"))
	}
	for _, l := range img.Layers {
		add(PropImageLayer, mustJSON(l))
	}
	for _, h := range img.History {
		add(PropImageHistory, mustJSON(h))
	}
	if c := mustJSON(img.Config); c != "{}" {
		add(PropImageConfig, c)
	}
	return out
}

// distroFacts lists the facts of the distro that the OS component's name,
// version and description do not already carry.
func distroFacts(d *inventory.Distro) []prop {
	var out []prop
	add := func(name, value string) {
		if value != "" {
			out = append(out, prop{name, value})
		}
	}
	add(PropDistroID, d.ID)
	add(PropDistroVersionID, d.VersionID)
	add(PropDistroRelease, d.Release)
	add(PropDistroCodename, d.Codename)
	add(PropDistroPrettyName, d.PrettyName)
	for _, l := range d.IDLike {
		add(PropDistroIDLike, l)
	}
	add(PropDistroSource, d.Source)
	return out
}

// mustJSON encodes values whose types cannot fail to encode (no channels,
// funcs or cyclic pointers).
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// facts is a decoded list of name/value pairs with lookup helpers.
type facts []prop

func (f facts) get(name string) string {
	for _, p := range f {
		if p.name == name {
			return p.value
		}
	}
	return ""
}

func (f facts) all(name string) []string {
	var out []string
	for _, p := range f {
		if p.name == name {
			out = append(out, p.value)
		}
	}
	return out
}

func (f facts) has(prefix string) bool {
	for _, p := range f {
		if strings.HasPrefix(p.name, prefix) {
			return true
		}
	}
	return false
}

// malwareFileFact is the value of a known-bad file's PropMalwareFile fact
// (an annotation of the image in both SPDX versions).
func malwareFileFact(m *report.Malware) string {
	v := fmt.Sprintf("%s %s sha256:%s layer %d", m.ID, m.Path, m.SHA256, m.LayerIndex)
	if m.DeletedInLayer != nil {
		v += fmt.Sprintf(" (deleted in layer %d, still in the image)", *m.DeletedInLayer)
	}
	return v
}

// malwareByPackage maps a package ID to the IDs of the malicious-package
// findings on it, in the report's order.
func malwareByPackage(r *report.Report) map[string][]string {
	out := map[string][]string{}
	for i := range r.Malware {
		if m := &r.Malware[i]; m.Package != nil {
			out[m.Package.ID] = append(out[m.Package.ID], m.ID)
		}
	}
	return out
}

// licenseRefComment says what a LicenseRef drydock declares is.
const licenseRefComment = "drydock: a licence SPDX has no id for, as package metadata names it"

// licenseRefOf is the LicenseRef an expression's licence id x holds (its
// part before " WITH "), "" when it is an SPDX id.
func licenseRefOf(x string) string {
	id, _, _ := strings.Cut(x, " WITH ")
	if strings.HasPrefix(id, "LicenseRef-") {
		return id
	}
	return ""
}

// licenseRefName is the licence as package metadata names it, read back
// from the LicenseRef internal/license made of it
// (LicenseRef-GPLv3-plus-with-exceptions is "GPLv3+ with exceptions").
func licenseRefName(ref string) string {
	return strings.ReplaceAll(strings.ReplaceAll(strings.TrimPrefix(ref, "LicenseRef-"), "-plus", "+"), "-", " ")
}
