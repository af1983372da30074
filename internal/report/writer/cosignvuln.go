package writer

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/report"
)

// The in-toto and cosign identifiers of the "cosign-vuln" format.
const (
	// InTotoStatementV1 is the Statement's _type (in-toto attestation
	// spec/v1/statement.md).
	InTotoStatementV1 = "https://in-toto.io/Statement/v1"
	// CosignVulnPredicateType is the predicateType of cosign's vulnerability
	// scan record (sigstore/cosign specs/COSIGN_VULN_ATTESTATION_SPEC.md).
	CosignVulnPredicateType = "https://cosign.sigstore.dev/attestation/vuln/v1"
	// InTotoPayloadType is the DSSE payloadType of an in-toto Statement.
	InTotoPayloadType = "application/vnd.in-toto+json"
)

// ErrNoManifestDigest is returned by CosignVuln for an image without a
// manifest digest a registry would serve (an unpacked root filesystem, an
// SBOM, a docker save archive): the Statement's subject would have to be
// invented.
var ErrNoManifestDigest = errors.New("the image has no manifest digest to be the attestation's subject")

// CosignVulnStatement is an in-toto Statement v1 whose predicate is a cosign
// vulnerability scan record. The field names are the specs' own: _type,
// subject[]{name, digest}, predicateType, predicate.
type CosignVulnStatement struct {
	Type          string              `json:"_type"`
	Subject       []StatementSubject  `json:"subject"`
	PredicateType string              `json:"predicateType"`
	Predicate     CosignVulnPredicate `json:"predicate"`
}

// StatementSubject is an in-toto ResourceDescriptor with the two fields a
// subject uses: the image repository and its manifest digest ({"sha256": hex}).
type StatementSubject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// CosignVulnPredicate is the predicate of
// https://cosign.sigstore.dev/attestation/vuln/v1.
type CosignVulnPredicate struct {
	Invocation VulnInvocation `json:"invocation"`
	Scanner    VulnScanner    `json:"scanner"`
	Metadata   VulnMetadata   `json:"metadata"`
}

// VulnInvocation says where the scan ran: the CI run when one is recognised
// (GitHub Actions, GitLab CI), else empty strings, as the spec's optional
// fields allow. Parameters is always an empty list: a command line can hold
// credentials and paths, and what the scan looked at is in the result.
type VulnInvocation struct {
	Parameters []string `json:"parameters"`
	URI        string   `json:"uri"`
	EventID    string   `json:"event_id"`
	BuilderID  string   `json:"builder.id"`
}

// VulnScanner identifies drydock and its advisory database; Result is the
// whole drydock JSON report (docs/json-schema/drydock-report-v1.schema.json).
type VulnScanner struct {
	URI     string         `json:"uri"`
	Version string         `json:"version"`
	DB      VulnDB         `json:"db"`
	Result  *report.Report `json:"result"`
}

// VulnDB is the advisory database: drydock builds it locally from the
// sources listed in result.database.sources, so it has no single upstream
// URI; Version is the database's built-at time (RFC 3339, UTC).
type VulnDB struct {
	URI     string `json:"uri"`
	Version string `json:"version"`
}

// VulnMetadata holds the two required timestamps.
type VulnMetadata struct {
	ScanStartedOn  time.Time `json:"scanStartedOn"`
	ScanFinishedOn time.Time `json:"scanFinishedOn"`
}

// CosignVuln writes the report as an in-toto Statement v1 carrying a cosign
// vulnerability scan record, ready to be signed (drydock attest) or passed to
// "cosign attest --type vuln" (which reads the predicate).
//
// The subject is the scanned image: its repository name and its manifest
// digest. An image without a manifest digest a registry would serve (dir:,
// a root filesystem, an SBOM, a docker save archive, whose manifest drydock
// synthesises) is refused with ErrNoManifestDigest rather than given an
// invented subject. A report without vulnerability matching is refused too:
// an attestation that says "no vulnerabilities" for a scan that never looked
// would be a lie a policy engine believes.
//
// metadata.scanFinishedOn is the report's created_at; scanStartedOn is
// Options.ScanStarted, or created_at when it is zero (a saved report does
// not record when its scan started).
func CosignVuln(w io.Writer, r *report.Report, opt Options) error {
	st, err := NewCosignVulnStatement(r, opt)
	if err != nil {
		return err
	}
	err = writeJSONDoc(w, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(st)
	})
	if err != nil {
		return fmt.Errorf("writing cosign-vuln statement: %w", err)
	}
	return nil
}

// NewCosignVulnStatement builds the Statement CosignVuln writes.
func NewCosignVulnStatement(r *report.Report, opt Options) (*CosignVulnStatement, error) {
	subject, err := statementSubject(&r.Image)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(r.Scanners, "vuln") || r.Database == nil {
		return nil, fmt.Errorf("cosign-vuln: the report of %s has no vulnerability matching (scanners %v): run the scan with --scanners vuln",
			r.Image.Reference, r.Scanners)
	}
	finished := r.CreatedAt.UTC()
	started := opt.ScanStarted.UTC().Truncate(time.Second)
	if opt.ScanStarted.IsZero() || started.After(finished) {
		started = finished
	}
	version := r.Tool.Version
	if version == "" {
		version = "dev"
	}
	return &CosignVulnStatement{
		Type:          InTotoStatementV1,
		Subject:       []StatementSubject{subject},
		PredicateType: CosignVulnPredicateType,
		Predicate: CosignVulnPredicate{
			Invocation: invocation(getenv(opt)),
			Scanner: VulnScanner{
				URI:     "pkg:github/drydock-scan/drydock@" + version,
				Version: version,
				DB:      VulnDB{Version: r.Database.BuiltAt.UTC().Format(time.RFC3339)},
				Result:  r.Normalized(),
			},
			Metadata: VulnMetadata{ScanStartedOn: started, ScanFinishedOn: finished},
		},
	}, nil
}

// statementSubject is the image's repository and manifest digest.
func statementSubject(img *report.Image) (StatementSubject, error) {
	switch img.Kind {
	case "registry", "oci-layout", "oci-archive":
	default:
		return StatementSubject{}, fmt.Errorf("cosign-vuln: %s (%s): %w; scan the image from its registry (or an OCI layout) instead",
			img.Reference, kindWords(img.Kind), ErrNoManifestDigest)
	}
	alg, hex, ok := strings.Cut(img.Digest, ":")
	if !ok || alg != "sha256" || len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
		return StatementSubject{}, fmt.Errorf("cosign-vuln: %s: manifest digest %q: %w", img.Reference, img.Digest, ErrNoManifestDigest)
	}
	name := img.Name
	if name == "" {
		name = img.Reference
	}
	return StatementSubject{Name: name, Digest: map[string]string{"sha256": hex}}, nil
}

func kindWords(kind string) string {
	switch kind {
	case "dir":
		return "an unpacked root filesystem"
	case "sbom":
		return "an SBOM"
	case "docker-archive":
		return "a docker save archive, whose manifest drydock synthesises"
	case "":
		return "unknown source"
	}
	return kind
}

// invocation describes the CI run the scan ran in, when it is one drydock
// recognises.
func invocation(getenv func(string) string) VulnInvocation {
	inv := VulnInvocation{Parameters: []string{}}
	switch {
	case getenv("GITHUB_ACTIONS") == "true" || getenv("GITHUB_RUN_ID") != "":
		server := getenv("GITHUB_SERVER_URL")
		if server == "" {
			server = "https://github.com"
		}
		if repo, run := getenv("GITHUB_REPOSITORY"), getenv("GITHUB_RUN_ID"); repo != "" && run != "" {
			inv.URI = server + "/" + repo + "/actions/runs/" + run
		}
		inv.EventID = getenv("GITHUB_RUN_ID")
		inv.BuilderID = "GitHub Actions"
	case getenv("GITLAB_CI") == "true":
		inv.URI = getenv("CI_JOB_URL")
		inv.EventID = getenv("CI_JOB_ID")
		inv.BuilderID = "GitLab CI"
	}
	return inv
}
