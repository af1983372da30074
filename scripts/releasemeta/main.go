// Command releasemeta writes and signs the metadata of a drydock release
// (make release; docs/releases.md). It is a maintainer tool, not part of
// the drydock CLI:
//
//	releasemeta sbom       -in RAW.cdx.json -out drydock_V.cdx.json -version V -epoch N
//	releasemeta provenance -dist DIST -out drydock_V.intoto.json -version V -epoch N -commit SHA ... FILE...
//	releasemeta sign       -key KEY.pem -sums DIST/SHA256SUMS -provenance P -bundle B
//	releasemeta verify     -dist DIST -pubkey drydock-release.pub -version V
//
// sbom makes drydock's own CycloneDX output of the release binaries
// reproducible: the timestamp becomes SOURCE_DATE_EPOCH, the scanned
// directory (a temporary path) becomes the release as metadata.component,
// the main module's "(devel)" becomes the version, and the serial number is
// derived from the content. provenance writes an in-toto Statement v1 with a
// SLSA provenance v1 predicate whose subjects are the given files, with no
// field that changes between two builds of the same commit. sign writes
// SHA256SUMS.sig (ASN.1 ECDSA P-256 over SHA-256, what `openssl dgst -sha256
// -verify` checks) and a Sigstore bundle (DSSE) of the provenance with
// internal/attest. ECDSA signatures are randomized: the two signature files
// differ between builds, everything else does not. verify checks all of it
// offline with a public key.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/uuid"
	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/drydock-scan/drydock/internal/attest"
)

const (
	// PredicateType is SLSA provenance v1.
	PredicateType = "https://slsa.dev/provenance/v1"
	// BuildType names this build (make release), documented in docs/releases.md.
	BuildType = "https://github.com/drydock-scan/drydock/blob/main/docs/releases.md#make-release-v1"
	// MainModule is drydock's Go module path.
	MainModule = "github.com/drydock-scan/drydock"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "releasemeta: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: releasemeta sbom|provenance|sign|verify [flags]")
	}
	switch args[0] {
	case "sbom":
		return runSBOM(args[1:])
	case "provenance":
		return runProvenance(args[1:])
	case "sign":
		return runSign(ctx, args[1:])
	case "verify":
		return runVerify(args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q: want sbom, provenance, sign or verify", args[0])
}

// --- SBOM ----------------------------------------------------------------

func runSBOM(args []string) error {
	fs := flag.NewFlagSet("sbom", flag.ContinueOnError)
	in := fs.String("in", "", "CycloneDX JSON written by drydock sbom --format cyclonedx dir:DIR")
	out := fs.String("out", "", "output file")
	version := fs.String("version", "", "release version")
	epoch := fs.Int64("epoch", -1, "SOURCE_DATE_EPOCH (seconds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" || *out == "" || *version == "" || *epoch < 0 {
		return errors.New("sbom: -in, -out, -version and -epoch are required")
	}
	raw, err := os.ReadFile(*in)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *in, err)
	}
	norm, err := NormalizeSBOM(raw, *version, time.Unix(*epoch, 0))
	if err != nil {
		return fmt.Errorf("%s: %w", *in, err)
	}
	return os.WriteFile(*out, norm, 0o644)
}

// NormalizeSBOM rewrites drydock's CycloneDX output of the release directory
// into the release's SBOM: the fields that depend on when and where the scan
// ran are replaced by ones that depend on the release only.
func NormalizeSBOM(raw []byte, version string, created time.Time) ([]byte, error) {
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(raw), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		return nil, fmt.Errorf("decoding CycloneDX: %w", err)
	}
	if bom.Metadata == nil || bom.Metadata.Component == nil {
		return nil, errors.New("decoding CycloneDX: no metadata.component (not drydock sbom output?)")
	}
	if bom.Components == nil || len(*bom.Components) == 0 {
		return nil, errors.New("the SBOM lists no components: drydock found no Go module in the release binaries")
	}
	oldRef := bom.Metadata.Component.BOMRef
	release := cdx.Component{
		BOMRef:     "pkg:golang/" + MainModule + "@" + version,
		Type:       cdx.ComponentTypeApplication,
		Name:       "drydock",
		Version:    version,
		PackageURL: "pkg:golang/" + MainModule + "@" + version,
		ExternalReferences: &[]cdx.ExternalReference{{
			Type: cdx.ERTypeVCS, URL: "https://" + MainModule,
		}},
	}
	bom.Metadata.Component = &release
	bom.Metadata.Timestamp = created.UTC().Format("2006-01-02T15:04:05Z")
	mains := 0
	for i := range *bom.Components {
		c := &(*bom.Components)[i]
		if c.Name == MainModule && c.Version == "(devel)" {
			// -buildvcs=false leaves the main module unversioned in the binary.
			c.Version = version
			c.PackageURL = "pkg:golang/" + MainModule + "@" + version
			mains++
		}
	}
	if mains == 0 {
		return nil, fmt.Errorf("no %s (devel) component: the SBOM does not describe drydock's release binaries", MainModule)
	}
	if bom.Dependencies != nil {
		for i := range *bom.Dependencies {
			if d := &(*bom.Dependencies)[i]; d.Ref == oldRef {
				d.Ref = release.BOMRef
			}
		}
	}
	// The serial number drydock derives includes the scan time: derive it
	// from the content instead.
	bom.SerialNumber = ""
	unserialized, err := encodeBOM(&bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, unserialized).String()
	return encodeBOM(&bom)
}

func encodeBOM(bom *cdx.BOM) ([]byte, error) {
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).SetPretty(true).SetEscapeHTML(false)
	if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
		return nil, fmt.Errorf("encoding CycloneDX: %w", err)
	}
	return buf.Bytes(), nil
}

// --- provenance ----------------------------------------------------------

// Statement is an in-toto Statement v1, written with encoding/json so the
// bytes are stable (protojson adds random whitespace on purpose).
type Statement struct {
	Type          string       `json:"_type"`
	Subject       []Descriptor `json:"subject"`
	PredicateType string       `json:"predicateType"`
	Predicate     Provenance   `json:"predicate"`
}

// Descriptor is an in-toto ResourceDescriptor.
type Descriptor struct {
	Name        string            `json:"name,omitempty"`
	URI         string            `json:"uri,omitempty"`
	Digest      map[string]string `json:"digest,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Provenance is the SLSA provenance v1 predicate.
type Provenance struct {
	BuildDefinition struct {
		BuildType            string         `json:"buildType"`
		ExternalParameters   map[string]any `json:"externalParameters"`
		InternalParameters   map[string]any `json:"internalParameters,omitempty"`
		ResolvedDependencies []Descriptor   `json:"resolvedDependencies,omitempty"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
	} `json:"runDetails"`
}

// ProvenanceInput is what the provenance records about one build.
type ProvenanceInput struct {
	Dist, Version, Commit, Repo, BuilderID, GoVersion string
	GoSum, GoMod                                      string // files whose sha256 is recorded
	Epoch                                             int64
	Targets                                           []string
	InternalParameters                                map[string]any
	Files                                             []string // subjects, names in Dist
}

func runProvenance(args []string) error {
	fs := flag.NewFlagSet("provenance", flag.ContinueOnError)
	var in ProvenanceInput
	out := fs.String("out", "", "output file")
	targets := fs.String("targets", "", "release targets, space-separated os/arch")
	ldflags := fs.String("ldflags", "", "the -ldflags of the build (recorded as an internal parameter)")
	fs.StringVar(&in.Dist, "dist", "", "directory holding the files")
	fs.StringVar(&in.Version, "version", "", "release version")
	fs.StringVar(&in.Commit, "commit", "", "git commit the release is built from (40 hex digits)")
	fs.StringVar(&in.Repo, "repo", "https://"+MainModule, "source repository URL")
	fs.StringVar(&in.BuilderID, "builder-id", "", "builder.id (a URI naming who or what ran make release)")
	fs.StringVar(&in.GoVersion, "go-version", "", "go env GOVERSION of the toolchain that built the binaries")
	fs.StringVar(&in.GoSum, "gosum", "go.sum", "go.sum of the build")
	fs.StringVar(&in.GoMod, "gomod", "go.mod", "go.mod of the build")
	fs.Int64Var(&in.Epoch, "epoch", -1, "SOURCE_DATE_EPOCH (seconds)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return errors.New("provenance: -out is required")
	}
	in.Targets = strings.Fields(*targets)
	in.Files = fs.Args()
	in.InternalParameters = map[string]any{
		"env":             map[string]string{"CGO_ENABLED": "0", "GOAMD64": "v1", "GOARM64": "v8.0"},
		"flags":           []string{"-trimpath", "-buildvcs=false", "-ldflags=" + *ldflags},
		"sourceDateEpoch": strconv.FormatInt(in.Epoch, 10),
	}
	b, err := BuildProvenance(in)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, b, 0o644)
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", path, err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// BuildProvenance returns the Statement as indented JSON, validated with the
// in-toto and SLSA validators before it is returned.
func BuildProvenance(in ProvenanceInput) ([]byte, error) {
	switch {
	case in.Dist == "" || in.Version == "" || in.BuilderID == "" || in.GoVersion == "" || in.Repo == "":
		return nil, errors.New("provenance: -dist, -version, -builder-id, -go-version and -repo are required")
	case !isHex(in.Commit, 40):
		return nil, fmt.Errorf("provenance: commit %q is not 40 hex digits (a git checkout is needed, or set RELEASE_COMMIT)", in.Commit)
	case in.Epoch < 0:
		return nil, errors.New("provenance: -epoch is required")
	case len(in.Files) == 0:
		return nil, errors.New("provenance: no subject files")
	}
	st := Statement{Type: intoto.StatementTypeUri, PredicateType: PredicateType}
	files := append([]string(nil), in.Files...)
	sort.Strings(files)
	for _, f := range files {
		if f != filepath.Base(f) {
			return nil, fmt.Errorf("provenance: subject %q: want a file name in -dist", f)
		}
		sum, err := fileSHA256(filepath.Join(in.Dist, f))
		if err != nil {
			return nil, err
		}
		st.Subject = append(st.Subject, Descriptor{Name: f, Digest: map[string]string{"sha256": sum}})
	}
	src := "git+" + in.Repo + "@" + in.Commit
	p := &st.Predicate
	p.BuildDefinition.BuildType = BuildType
	p.BuildDefinition.ExternalParameters = map[string]any{
		"source":  map[string]string{"repository": in.Repo, "commit": in.Commit},
		"version": in.Version,
		"targets": in.Targets,
	}
	p.BuildDefinition.InternalParameters = in.InternalParameters
	deps := []Descriptor{{URI: src, Digest: map[string]string{"gitCommit": in.Commit}}}
	for _, f := range []string{in.GoMod, in.GoSum} {
		sum, err := fileSHA256(f)
		if err != nil {
			return nil, err
		}
		deps = append(deps, Descriptor{Name: filepath.Base(f), URI: src + "#" + filepath.Base(f), Digest: map[string]string{"sha256": sum}})
	}
	deps = append(deps, Descriptor{Name: "go", URI: "pkg:generic/go@" + strings.TrimPrefix(in.GoVersion, "go"),
		Annotations: map[string]string{"goversion": in.GoVersion}})
	p.BuildDefinition.ResolvedDependencies = deps
	p.RunDetails.Builder.ID = in.BuilderID

	b, err := json.MarshalIndent(&st, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding the provenance: %w", err)
	}
	b = append(b, '\n')
	if _, err := ValidateProvenance(b); err != nil {
		return nil, err
	}
	return b, nil
}

// ValidateProvenance parses a Statement with the in-toto protos and checks it
// with their validators (Statement, then the SLSA v1 predicate).
func ValidateProvenance(b []byte) (*intoto.Statement, error) {
	var st intoto.Statement
	if err := protojson.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decoding the provenance as an in-toto Statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("the provenance is not a valid in-toto Statement: %w", err)
	}
	if st.GetPredicateType() != PredicateType {
		return nil, fmt.Errorf("the provenance has predicateType %q, want %q", st.GetPredicateType(), PredicateType)
	}
	pj, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return nil, fmt.Errorf("re-encoding the predicate: %w", err)
	}
	var prov slsa.Provenance
	if err := protojson.Unmarshal(pj, &prov); err != nil {
		return nil, fmt.Errorf("decoding the SLSA provenance predicate: %w", err)
	}
	if err := prov.Validate(); err != nil {
		return nil, fmt.Errorf("the SLSA provenance predicate is not valid: %w", err)
	}
	return &st, nil
}

// --- signing -------------------------------------------------------------

func runSign(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	keyFile := fs.String("key", "", "ECDSA P-256 private key, PEM")
	sums := fs.String("sums", "", "the SHA256SUMS file; the signature goes to SUMS.sig")
	provenance := fs.String("provenance", "", "the provenance Statement to sign as a Sigstore bundle")
	bundleOut := fs.String("bundle", "", "where to write the Sigstore bundle")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *keyFile == "" || *sums == "" || *provenance == "" || *bundleOut == "" {
		return errors.New("sign: -key, -sums, -provenance and -bundle are required")
	}
	pemBytes, err := os.ReadFile(*keyFile)
	if err != nil {
		return fmt.Errorf("reading the signing key %s: %w", *keyFile, err)
	}
	key, err := attest.LoadPrivateKey(pemBytes)
	if err != nil {
		return fmt.Errorf("%s: %w", *keyFile, err)
	}
	sumsBytes, err := os.ReadFile(*sums)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *sums, err)
	}
	sig, err := SignBlob(key, sumsBytes)
	if err != nil {
		return err
	}
	stmt, err := os.ReadFile(*provenance)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *provenance, err)
	}
	if _, err := ValidateProvenance(stmt); err != nil {
		return fmt.Errorf("%s: %w", *provenance, err)
	}
	bundle, err := attest.Sign(ctx, stmt, key)
	if err != nil {
		return fmt.Errorf("signing %s: %w", *provenance, err)
	}
	if err := os.WriteFile(*sums+".sig", sig, 0o644); err != nil {
		return fmt.Errorf("writing %s.sig: %w", *sums, err)
	}
	return os.WriteFile(*bundleOut, bundle, 0o644)
}

// SignBlob is what `openssl dgst -sha256 -sign KEY` writes: an ASN.1 DER
// ECDSA signature over SHA-256(data).
func SignBlob(key *ecdsa.PrivateKey, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, key, sum[:])
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return sig, nil
}

// --- verification --------------------------------------------------------

// ParseSums reads SHA256SUMS ("<hex>  <name>" lines) into name → hex.
func ParseSums(b []byte) (map[string]string, error) {
	sums := map[string]string{}
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		// "<hex>  <name>" (text mode) or "<hex> *<name>" (binary mode).
		ok := len(line) > 66 && line[64] == ' ' && (line[65] == ' ' || line[65] == '*')
		var hexSum, name string
		if ok {
			hexSum, name = line[:64], line[66:]
		}
		if !ok || !isHex(hexSum, 64) || name != filepath.Base(name) || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("SHA256SUMS line %d: %q is not \"<sha256>  <name>\"", i+1, line)
		}
		if _, dup := sums[name]; dup {
			return nil, fmt.Errorf("SHA256SUMS line %d: %s listed twice", i+1, name)
		}
		sums[name] = hexSum
	}
	return sums, nil
}

func runVerify(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	dist := fs.String("dist", "", "release directory")
	pubFile := fs.String("pubkey", "", "release public key, PEM")
	version := fs.String("version", "", "release version (names the provenance files)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dist == "" || *pubFile == "" || *version == "" {
		return errors.New("verify: -dist, -pubkey and -version are required")
	}
	pemBytes, err := os.ReadFile(*pubFile)
	if err != nil {
		return fmt.Errorf("reading %s: %w", *pubFile, err)
	}
	pub, err := attest.LoadPublicKey(pemBytes)
	if err != nil {
		return fmt.Errorf("%s: %w", *pubFile, err)
	}
	n, err := VerifyRelease(*dist, *version, pub)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "OK: SHA256SUMS signature, %d files, provenance bundle and subjects\n", n)
	return nil
}

// VerifyRelease checks a release directory with the public key: the
// signature of SHA256SUMS, every listed file against it, the Sigstore
// bundle of the provenance, that the bundle signs the provenance file
// byte for byte, and that the provenance subjects are the files of
// SHA256SUMS other than the provenance itself. It returns the number of
// files checked.
func VerifyRelease(dist, version string, pub *ecdsa.PublicKey) (int, error) {
	sumsPath := filepath.Join(dist, "SHA256SUMS")
	sumsBytes, err := os.ReadFile(sumsPath)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", sumsPath, err)
	}
	sig, err := os.ReadFile(sumsPath + ".sig")
	if err != nil {
		return 0, fmt.Errorf("reading %s.sig (an unsigned release?): %w", sumsPath, err)
	}
	digest := sha256.Sum256(sumsBytes)
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		return 0, fmt.Errorf("%s.sig: the signature does not verify with the public key", sumsPath)
	}
	sums, err := ParseSums(sumsBytes)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", sumsPath, err)
	}
	for name, want := range sums {
		got, err := fileSHA256(filepath.Join(dist, name))
		if err != nil {
			return 0, err
		}
		if got != want {
			return 0, fmt.Errorf("%s: sha256 %s, SHA256SUMS says %s", name, got, want)
		}
	}
	provName := "drydock_" + version + ".intoto.json"
	provWant, ok := sums[provName]
	if !ok {
		return 0, fmt.Errorf("SHA256SUMS does not list the provenance %s", provName)
	}
	bundlePath := filepath.Join(dist, "drydock_"+version+".intoto.sigstore.json")
	bundle, err := os.ReadFile(bundlePath)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", bundlePath, err)
	}
	prov, err := os.ReadFile(filepath.Join(dist, provName))
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", provName, err)
	}
	st, err := ValidateProvenance(prov)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", provName, err)
	}
	if len(st.GetSubject()) == 0 || st.GetSubject()[0].GetDigest()["sha256"] == "" {
		return 0, fmt.Errorf("%s: no sha256 subject", provName)
	}
	// attest.Verify checks the DSSE signature and that the Statement names
	// the digest given; any subject will do, the full set is compared below.
	first := st.GetSubject()[0].GetDigest()["sha256"]
	v, err := attest.Verify(bundle, pub, v1.Hash{Algorithm: "sha256", Hex: first})
	if err != nil {
		return 0, fmt.Errorf("%s: %w", bundlePath, err)
	}
	if !bytes.Equal(v.Statement, prov) {
		return 0, fmt.Errorf("%s signs a different Statement than %s (sha256 %s)", bundlePath, provName, provWant)
	}
	subjects := map[string]string{}
	for _, s := range st.GetSubject() {
		subjects[s.GetName()] = s.GetDigest()["sha256"]
	}
	want := map[string]string{}
	for name, sum := range sums {
		if name != provName {
			want[name] = sum
		}
	}
	if !maps.Equal(subjects, want) {
		return 0, fmt.Errorf("%s: the subjects %v are not the files of SHA256SUMS %v", provName, subjects, want)
	}
	return len(sums), nil
}
