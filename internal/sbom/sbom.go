// Package sbom encodes drydock reports as CycloneDX 1.6 and 1.7 JSON, SPDX
// 2.3 JSON and SPDX 3.0.1 JSON-LD, and decodes CycloneDX (1.2–1.7), SPDX
// (2.2/2.3) JSON and SPDX 3.0 JSON-LD documents — drydock's
// own, Syft's or Trivy's — back into a report that can be matched again.
//
// drydock facts that the formats have no field for are kept as CycloneDX
// properties and SPDX package annotations named "drydock:…" (see the Prop
// constants), so that drydock → SBOM → Decode gives back the same packages.
package sbom

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	packageurl "github.com/package-url/packageurl-go"

	"github.com/drydock-scan/drydock/internal/report"
)

// InformationURI is drydock's home page, used where a format wants a URL for
// the producing tool.
const InformationURI = "https://github.com/drydock-scan/drydock"

// Property (CycloneDX) and annotation (SPDX) names for drydock facts.
const (
	PropPrefix = "drydock:"

	// Package facts.
	PropEcosystem         = "drydock:ecosystem"
	PropFoundBy           = "drydock:found_by"
	PropSourceName        = "drydock:source_name"
	PropSourceVersion     = "drydock:source_version"
	PropArch              = "drydock:arch"
	PropEpoch             = "drydock:epoch"
	PropDeclared          = "drydock:declared"
	PropOwner             = "drydock:owner"
	PropVendor            = "drydock:vendor"
	PropName              = "drydock:name"
	PropLicense           = "drydock:license"
	PropLayerIndex        = "drydock:layer:index"
	PropLayerDiffID       = "drydock:layer:diff_id"
	PropLocationPath      = "drydock:location:path"
	PropLocationLayer     = "drydock:location:layer_diff_id"
	PropMetadataPrefix    = "drydock:metadata:"
	PropPackageID         = "drydock:package_id"
	PropImageReference    = "drydock:image:reference"
	PropImageKind         = "drydock:image:kind"
	PropImageName         = "drydock:image:name"
	PropImageDigest       = "drydock:image:digest"
	PropImageConfigDigest = "drydock:image:config_digest"
	PropImageRepoTag      = "drydock:image:repo_tag"
	PropImageRepoDigest   = "drydock:image:repo_digest"
	PropImageOS           = "drydock:image:os"
	PropImageArch         = "drydock:image:architecture"
	PropImageVariant      = "drydock:image:variant"
	PropImageCreated      = "drydock:image:created"
	// PropImageLayer, PropImageHistory and PropImageConfig hold JSON: one
	// inventory.Layer or report.History per property, in order, and the
	// report.ImageConfig.
	PropImageLayer   = "drydock:image:layer"
	PropImageHistory = "drydock:image:history"
	PropImageConfig  = "drydock:image:config"

	// Distro facts (on the operating-system component / package).
	PropDistroID         = "drydock:distro:id"
	PropDistroVersionID  = "drydock:distro:version_id"
	PropDistroRelease    = "drydock:distro:release"
	PropDistroCodename   = "drydock:distro:codename"
	PropDistroPrettyName = "drydock:distro:pretty_name"
	PropDistroIDLike     = "drydock:distro:id_like"
	PropDistroSource     = "drydock:distro:source"

	// Vulnerability facts.
	PropKEV            = "drydock:kev"
	PropFixedVersion   = "drydock:fixed_version"
	PropStatus         = "drydock:status"
	PropSeveritySource = "drydock:severity_source"
	PropVendorSeverity = "drydock:vendor_severity"
	PropTitle          = "drydock:title"

	// Malware facts: of a malware entry (CycloneDX) or, as
	// "drydock:malware=<id>" (a malicious package) and
	// "drydock:malware:file=<id> <path> sha256:<hex> layer <n>" (a known-bad
	// file, on the image), SPDX annotations.
	PropMalware               = "drydock:malware"
	PropMalwareFile           = "drydock:malware:file"
	PropMalwareKind           = "drydock:malware:kind"
	PropMalwareEngine         = "drydock:malware:engine"
	PropMalwarePath           = "drydock:malware:path"
	PropMalwareSHA256         = "drydock:malware:sha256"
	PropMalwareDeletedInLayer = "drydock:malware:deleted_in_layer"

	// Supply-chain facts (on the image): what the verify stage found
	// (docs/supply-chain.md). Written, never read back: an SBOM's claim
	// that a signature was verified is not a verification, so scan-sbom
	// leaves the supply chain unchecked.
	PropSupplyChain           = "drydock:supply_chain"           // the whole section, JSON
	PropSupplyChainState      = "drydock:supply_chain:state"     // verified, unverified, unsigned
	PropSupplyChainDigest     = "drydock:supply_chain:digest"    // the verified (and scanned) digest
	PropSupplyChainSigner     = "drydock:supply_chain:signer"    // a verified signer: identity [issuer]
	PropSupplyChainBuilder    = "drydock:supply_chain:builder"   // a verified provenance's builder id
	PropSupplyChainSourceRepo = "drydock:supply_chain:source"    // a verified provenance's source repository
	PropSupplyChainPredicate  = "drydock:supply_chain:predicate" // a verified attestation's predicate type
)

// prop is one name=value fact, in the order it is written.
type prop struct{ name, value string }

// imagePURL returns the pkg:oci PURL of the image, or "" when the registry
// name or the digest is unknown.
func imagePURL(img *report.Image) string {
	repo := repositoryOf(img.Name)
	if repo == "" || img.Digest == "" {
		return ""
	}
	name := strings.ToLower(repo[strings.LastIndex(repo, "/")+1:])
	q := packageurl.Qualifiers{}
	if img.Arch != "" {
		q = append(q, packageurl.Qualifier{Key: "arch", Value: img.Arch})
	}
	q = append(q, packageurl.Qualifier{Key: "repository_url", Value: strings.ToLower(repo)})
	if tag := tagOf(img); tag != "" {
		q = append(q, packageurl.Qualifier{Key: "tag", Value: tag})
	}
	return packageurl.NewPackageURL("oci", "", name, img.Digest, q, "").ToString()
}

// repositoryOf strips a tag or digest from an image name.
func repositoryOf(name string) string {
	if i := strings.Index(name, "@"); i >= 0 {
		name = name[:i]
	}
	if i := strings.LastIndex(name, ":"); i > strings.LastIndex(name, "/") {
		name = name[:i]
	}
	return name
}

// tagOf returns the tag of the first repo tag, if any.
func tagOf(img *report.Image) string {
	for _, t := range append(append([]string{}, img.RepoTags...), img.Reference) {
		if i := strings.LastIndex(t, ":"); i > strings.LastIndex(t, "/") && !strings.Contains(t, "@") {
			return t[i+1:]
		}
	}
	return ""
}

// docUUID derives a stable UUID for a document from what identifies the
// scan, so that the same report always encodes to the same bytes.
func docUUID(r *report.Report, kind string) uuid.UUID {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%s\x00%s\x00%d",
		kind, r.Tool.Name, r.Tool.Version, r.Image.Reference, r.Image.Digest,
		r.CreatedAt.UTC().Format(time.RFC3339Nano), len(r.Packages))
	for i := range r.Packages {
		fmt.Fprintf(h, "\x00%s", r.Packages[i].ID)
	}
	return uuid.NewSHA1(uuid.NameSpaceURL, h.Sum(nil))
}

// toolName is "name-version" as SPDX creators and annotators want it.
func toolName(t report.Tool) string {
	name := t.Name
	if name == "" {
		name = "drydock"
	}
	if t.Version == "" {
		return name
	}
	return name + "-" + t.Version
}

// timestamp formats t as the UTC RFC 3339 second-precision form both formats
// accept.
func timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
