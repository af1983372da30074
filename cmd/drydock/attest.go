package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/attest"
	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// imageFormats are the formats of "drydock image": every scan format,
// cosign-vuln, which needs an image with a manifest digest (so not
// scan-sbom's), and copa, Copacetic's patch report for that image.
var imageFormats = append(slices.Clone(scanFormats), "cosign-vuln", "copa")

// checkCosignVulnOutputs refuses --format cosign-vuln without vulnerability
// matching before the scan, rather than after it.
func checkCosignVulnOutputs(outs []output, vuln bool) error {
	for _, o := range outs {
		if o.format == "cosign-vuln" && !vuln {
			return usageErr("--format cosign-vuln is a vulnerability scan record: it needs the vuln scanner (--scanners vuln,…)")
		}
	}
	return nil
}

// registryFlags are the flags of the commands that write to or read
// attestations from a registry.
type registryFlags struct {
	insecure bool
}

func (f *registryFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.insecure, "insecure-registry", false, "allow plain-HTTP registries and skip TLS verification")
}

// options are the go-containerregistry options: credentials from the Docker
// config (as the scan's), TLS verified unless --insecure-registry.
func (f *registryFlags) options(ctx context.Context) []remote.Option {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	if f.insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // asked for with --insecure-registry
	}
	return []remote.Option{
		remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(tr),
		remote.WithContext(ctx), remote.WithUserAgent("drydock"),
	}
}

func (f *registryFlags) nameOptions() []name.Option {
	if f.insecure {
		return []name.Option{name.Insecure}
	}
	return nil
}

func newAttestCmd(e *env) *cobra.Command {
	var sf sourceFlags
	var gf gateFlags
	var rf registryFlags
	var keyPath, reportPath, bundlePath string
	cmd := &cobra.Command{
		Use:   "attest IMAGE --key KEY.pem",
		Short: "Scan an image and attach a signed vulnerability attestation to it in its registry",
		Long: `Scan a registry image for vulnerabilities (or read a drydock JSON report of it with --report),
write the result as a cosign vulnerability scan record (https://cosign.sigstore.dev/attestation/vuln/v1)
in an in-toto Statement whose subject is the image's manifest digest, sign it as a DSSE envelope in a
Sigstore bundle v0.3 with an ECDSA P-256 key, and push the bundle to the image's repository as an OCI 1.1
referrer of the manifest (artifactType application/vnd.dev.sigstore.bundle.v0.3+json). On a registry
without the referrers API the sha256-<hex> tag index is kept up to date instead.

The policy flags (--severity, --policy, --ignore-file, --vex…) are evaluated and their verdict is
recorded in the attestation (predicate.scanner.result.verdict); attest exits 0 once it is attached.

Signing is offline: no Fulcio certificate, no Rekor entry, no timestamp. The key is an unencrypted PEM
("EC PRIVATE KEY" or "PRIVATE KEY"); "drydock verify-attestation IMAGE --key pub.pem" checks the result.
See docs/attestations.md.`,
		Example: `  openssl ecparam -name prime256v1 -genkey -noout -out drydock.key
  openssl ec -in drydock.key -pubout -out drydock.pub
  drydock attest --key drydock.key registry.example.com/team/app:1.2
  drydock image --format json -o report.json registry.example.com/team/app:1.2
  drydock attest --key drydock.key --report report.json registry.example.com/team/app:1.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer e.withTimeout(cmd)()
			ctx := cmd.Context()
			rf.insecure = sf.insecure // --insecure-registry is the scan's and the push's
			if keyPath == "" {
				return usageErr("--key is required: the ECDSA P-256 private key (PEM) to sign with")
			}
			key, err := readPrivateKey(keyPath)
			if err != nil {
				return err
			}
			ref, err := name.ParseReference(strings.TrimPrefix(args[0], "registry:"), rf.nameOptions()...)
			if err != nil {
				return usageErr("%q is not a registry image reference (drydock attest attaches the attestation in the registry): %v", args[0], err)
			}
			var rep *report.Report
			var started time.Time
			if reportPath != "" {
				if rep, err = readReport(reportPath); err != nil {
					return err
				}
				e.log.Warn("the saved report does not record when its scan started: the attestation's scanStartedOn is its created_at",
					"report", reportPath, "created_at", rep.CreatedAt.Format(time.RFC3339))
			} else {
				if rep, started, err = scanForAttestation(e, cmd, &sf, &gf, args[0]); err != nil {
					return err
				}
			}
			subject, desc, err := attestSubject(ctx, ref, rep, rf.options(ctx))
			if err != nil {
				return err
			}
			// The signed payload is exactly what --format cosign-vuln writes.
			var payload bytes.Buffer
			if err := writer.CosignVuln(&payload, rep, writer.Options{ScanStarted: started}); err != nil {
				return &exitError{code: policy.ExitScanError, err: err}
			}
			bundle, err := attest.Sign(ctx, payload.Bytes(), key)
			if err != nil {
				return err
			}
			if bundlePath != "" {
				if err := os.WriteFile(bundlePath, bundle, 0o644); err != nil {
					return fmt.Errorf("writing the bundle: %w", err)
				}
			}
			h, err := attest.Attach(ctx, subject, desc, bundle, writer.CosignVulnPredicateType, time.Now(), rf.options(ctx)...)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "attached %s@%s (signed vulnerability attestation, %d findings) to %s\n",
				subject.Context(), h, rep.Summary.Findings, subject)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "ECDSA P-256 private key to sign with (unencrypted PEM)")
	cmd.Flags().StringVar(&reportPath, "report", "", "attest this drydock JSON report of IMAGE instead of scanning it")
	cmd.Flags().StringVar(&bundlePath, "bundle", "", "also write the Sigstore bundle to this file")
	sf.add(cmd)
	gf.add(cmd)
	cmd.Flags().StringSliceVar(&gf.scanners, "scanners", []string{"vuln"}, "what to look for (comma-separated): vuln (required), secret, misconfig, malware")
	cmd.Flags().StringVar(&gf.secretConfig, "secret-config", "", "secret rules file (YAML)")
	return cmd
}

// scanForAttestation scans ref with vulnerability matching and the policy of
// the gate flags, and returns the report and when the scan started.
func scanForAttestation(e *env, cmd *cobra.Command, sf *sourceFlags, gf *gateFlags, ref string) (*report.Report, time.Time, error) {
	eng, err := gf.engine()
	if err != nil {
		return nil, time.Time{}, err
	}
	cfg := sf.config(e, ref)
	needDB, err := gf.applyScanners(&cfg)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !needDB || cfg.Match.NoVulns {
		return nil, time.Time{}, usageErr("drydock attest writes a vulnerability scan record: --scanners must include vuln")
	}
	if gf.licenses {
		return nil, time.Time{}, usageErr("drydock attest writes a vulnerability scan record: --scanners license is for drydock image")
	}
	db, err := gf.openDB(e, cmd)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer db.Close()
	cfg.DB = db
	cfg.Match.MatchDeclared, cfg.Match.MatchOwned = gf.matchDeclared, gf.matchOwned
	started := time.Now()
	res, err := scan.Run(cmd.Context(), cfg)
	e.endProgress()
	if err != nil {
		return nil, time.Time{}, err
	}
	logNotes(e, res)
	verdict, err := eng.Evaluate(cmd.Context(), res)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("evaluating policy: %w", err)
	}
	return newReport(res, verdict), started, nil
}

// attestSubject resolves ref in its registry and checks it is the image the
// report is about: the attestation's subject is the report's manifest
// digest, and it is attached to that manifest in ref's repository.
func attestSubject(ctx context.Context, ref name.Reference, rep *report.Report, opts []remote.Option) (name.Digest, v1.Descriptor, error) {
	if rep.Image.Kind != "registry" {
		return name.Digest{}, v1.Descriptor{}, &exitError{code: policy.ExitScanError, err: fmt.Errorf(
			"the report is of %s (%s), not of a registry image: drydock attest attaches the attestation to the image in its registry", rep.Image.Reference, rep.Image.Kind)}
	}
	want, err := v1.NewHash(rep.Image.Digest)
	if err != nil {
		return name.Digest{}, v1.Descriptor{}, &exitError{code: policy.ExitScanError, err: fmt.Errorf("the report of %s has no manifest digest: %w", rep.Image.Reference, err)}
	}
	if d, ok := ref.(name.Digest); ok && d.DigestStr() != want.String() && d.DigestStr() != rep.Image.IndexDigest {
		return name.Digest{}, v1.Descriptor{}, &exitError{code: policy.ExitScanError, err: fmt.Errorf(
			"the report is of %s, not of %s", rep.Image.Digest, ref)}
	}
	subject := ref.Context().Digest(want.String())
	desc, err := remote.Head(subject, opts...)
	if err != nil {
		return name.Digest{}, v1.Descriptor{}, &exitError{code: policy.ExitScanError, err: fmt.Errorf(
			"finding the scanned manifest %s in the registry: %w", subject, err)}
	}
	if _, isTag := ref.(name.Tag); isTag {
		// The tag must still name the scanned image (or the index it was
		// chosen from): an attestation of an image the tag no longer names
		// would be attached to nothing anyone deploys by that tag.
		now, err := remote.Head(ref, opts...)
		if err != nil {
			return name.Digest{}, v1.Descriptor{}, &exitError{code: policy.ExitScanError, err: fmt.Errorf("resolving %s: %w", ref, err)}
		}
		if now.Digest != want && now.Digest.String() != rep.Image.IndexDigest {
			return name.Digest{}, v1.Descriptor{}, &exitError{code: policy.ExitScanError, err: fmt.Errorf(
				"%s now names %s, but the report is of %s: scan it again", ref, now.Digest, want)}
		}
	}
	return subject, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, nil
}

func readPrivateKey(path string) (*ecdsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("reading --key: %v", err)
	}
	k, err := attest.LoadPrivateKey(b)
	if err != nil {
		return nil, usageErr("%s: %v", path, err)
	}
	return k, nil
}

func readPublicKey(path string) (*ecdsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageErr("reading --key: %v", err)
	}
	k, err := attest.LoadPublicKey(b)
	if err != nil {
		return nil, usageErr("%s: %v", path, err)
	}
	return k, nil
}

func readReport(path string) (*report.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr("reading --report: %v", err)
	}
	defer f.Close()
	r, err := report.ReadJSON(f)
	if err != nil {
		return nil, usageErr("%s: %v", path, err)
	}
	return r, nil
}

func newVerifyAttestationCmd(e *env) *cobra.Command {
	var rf registryFlags
	var keyPath, platform string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify-attestation IMAGE --key PUB.pem",
		Short: "Verify the signed vulnerability attestations attached to an image",
		Long: `Find the Sigstore bundles attached to IMAGE's manifest (the registry's referrers API, else the
sha256-<hex> tag index), verify each with sigstore-go against the public key (the DSSE signature, and
that the signed statement's subject is this manifest's digest), and print what the verified cosign
vulnerability attestations say. A tag of a multi-platform index is resolved to the --platform manifest,
as drydock image scans it.

Exits 0 when at least one attestation verifies, 1 when none does (none attached, or none signed by
the key), 3 when the registry cannot be read.`,
		Example: `  drydock verify-attestation --key drydock.pub registry.example.com/team/app:1.2
  drydock verify-attestation --key drydock.pub --json registry.example.com/team/app@sha256:…`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer e.withTimeout(cmd)()
			ctx := cmd.Context()
			if keyPath == "" {
				return usageErr("--key is required: the ECDSA P-256 public key (PEM) to verify with")
			}
			pub, err := readPublicKey(keyPath)
			if err != nil {
				return err
			}
			ref, err := name.ParseReference(strings.TrimPrefix(args[0], "registry:"), rf.nameOptions()...)
			if err != nil {
				return usageErr("%q is not a registry image reference: %v", args[0], err)
			}
			opts := rf.options(ctx)
			subject, err := manifestDigest(ref, platform, opts)
			if err != nil {
				return &exitError{code: policy.ExitScanError, err: err}
			}
			found, skipped, err := attest.Find(ctx, subject, opts...)
			for _, why := range skipped {
				e.log.Warn("referrer skipped", "why", why)
			}
			if errors.Is(err, attest.ErrNotFound) {
				return &exitError{code: policy.ExitFail, err: err}
			}
			if err != nil {
				return &exitError{code: policy.ExitScanError, err: err}
			}
			want, err := v1.NewHash(subject.DigestStr())
			if err != nil {
				return err
			}
			var verified []verifiedAttestation
			for _, r := range found {
				v, err := attest.Verify(r.Bundle, pub, want)
				if err != nil {
					e.log.Warn("attestation does not verify", "referrer", r.Manifest.String(), "err", err)
					continue
				}
				if v.PredicateType != writer.CosignVulnPredicateType {
					e.log.Info("skipping a verified attestation of another type", "referrer", r.Manifest.String(), "predicate_type", v.PredicateType)
					continue
				}
				var st writer.CosignVulnStatement
				if err := json.Unmarshal(v.Statement, &st); err != nil {
					e.log.Warn("verified attestation is not a cosign vulnerability record", "referrer", r.Manifest.String(), "err", err)
					continue
				}
				verified = append(verified, verifiedAttestation{Referrer: r.Manifest.String(), Statement: st})
			}
			if len(verified) == 0 {
				also := ""
				if len(skipped) > 0 {
					also = fmt.Sprintf(" (%d more listed referrer(s) skipped: %s)", len(skipped), strings.Join(skipped, "; "))
				}
				return &exitError{code: policy.ExitFail, err: fmt.Errorf(
					"%s: none of the %d attestation(s) found is a cosign vulnerability record signed by %s%s", subject, len(found), keyPath, also)}
			}
			if asJSON {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(verified)
			}
			printAttestations(e, subject, verified)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "ECDSA P-256 public key (PEM) the attestations must be signed with")
	cmd.Flags().StringVar(&platform, "platform", "", "platform of a multi-arch image: os/arch[/variant] (default linux/amd64)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the verified statements as JSON")
	rf.add(cmd)
	return cmd
}

// verifiedAttestation is one verified statement and the referrer it came
// from.
type verifiedAttestation struct {
	Referrer  string                     `json:"referrer"`
	Statement writer.CosignVulnStatement `json:"statement"`
}

// manifestDigest resolves ref to the digest of the image manifest drydock
// image would scan: a tag or digest of an index is resolved by platform.
func manifestDigest(ref name.Reference, platform string, opts []remote.Option) (name.Digest, error) {
	if platform != "" {
		p, err := v1.ParsePlatform(platform)
		if err != nil {
			return name.Digest{}, usageErr("--platform %q: %v", platform, err)
		}
		opts = append(opts, remote.WithPlatform(*p))
	}
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("resolving %s: %w", ref, err)
	}
	if !desc.MediaType.IsIndex() {
		return ref.Context().Digest(desc.Digest.String()), nil
	}
	img, err := desc.Image()
	if err != nil {
		return name.Digest{}, fmt.Errorf("choosing the platform manifest of %s: %w", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		return name.Digest{}, fmt.Errorf("choosing the platform manifest of %s: %w", ref, err)
	}
	return ref.Context().Digest(d.String()), nil
}

// printable drops control characters from text read from a registry, so
// that a signed but hostile statement cannot drive the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			return -1
		}
		return r
	}, s)
}

// printAttestations writes a summary of each verified attestation; image
// text is printed through the same sanitiser as the table.
func printAttestations(e *env, subject name.Digest, vs []verifiedAttestation) {
	fmt.Fprintf(e.stdout, "%s: %d verified vulnerability attestation(s)\n", subject, len(vs))
	for _, v := range vs {
		p := v.Statement.Predicate
		fmt.Fprintf(e.stdout, "\nreferrer %s\n", v.Referrer)
		fmt.Fprintf(e.stdout, "  scanner   %s (db %s)\n", printable(p.Scanner.URI), printable(p.Scanner.DB.Version))
		fmt.Fprintf(e.stdout, "  scanned   %s – %s\n", p.Metadata.ScanStartedOn.Format(time.RFC3339), p.Metadata.ScanFinishedOn.Format(time.RFC3339))
		if p.Invocation.URI != "" {
			fmt.Fprintf(e.stdout, "  run       %s\n", printable(p.Invocation.URI))
		}
		r := p.Scanner.Result
		if r == nil {
			fmt.Fprintf(e.stdout, "  result    none\n")
			continue
		}
		var sev []string
		for _, s := range vocab.Severities() {
			if n := r.Summary.BySeverity[s]; n > 0 {
				sev = append(sev, fmt.Sprintf("%s %d", s, n))
			}
		}
		if len(sev) == 0 {
			sev = []string{"none"}
		}
		fmt.Fprintf(e.stdout, "  findings  %d (%s), %d suppressed, %d packages\n", r.Summary.Findings, strings.Join(sev, ", "), r.Summary.Suppressed, r.Summary.Packages)
		if r.Summary.CoverageGaps > 0 {
			fmt.Fprintf(e.stdout, "  coverage  %d gap(s): findings may be missing\n", r.Summary.CoverageGaps)
		}
		if r.Verdict != nil {
			verdict := "pass"
			if !r.Verdict.Pass {
				verdict = fmt.Sprintf("fail (%d rule(s))", len(r.Verdict.Failures))
			}
			fmt.Fprintf(e.stdout, "  policy    %s\n", verdict)
		}
	}
}
