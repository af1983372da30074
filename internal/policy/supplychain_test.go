package policy

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
)

const scannedDigest = "sha256:" + "5e" + "1f0c3d2b4a69788766554433221100ffeeddccbbaa99887766554433221100ff"

// signedChain is a verify result as the verify stage writes it for an
// image built by GitHub Actions and signed keyless: one verified
// Sigstore bundle, a verified SLSA v1 provenance attestation, and an
// unsigned BuildKit provenance (a hint) naming another builder.
func signedChain() *result.SupplyChain {
	at := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	idx := int64(151_234_567)
	return &result.SupplyChain{
		Digest:   scannedDigest,
		Verified: true,
		Trust:    []string{"keyless issuer=https://token.actions.githubusercontent.com subject=https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main"},
		Signatures: []result.Signature{
			{Kind: "sigstore-bundle", Source: "referrers", Digest: "sha256:" + repeat("b1", 32), Covers: scannedDigest, Verified: true,
				Identity: "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main",
				Issuer:   "https://token.actions.githubusercontent.com", SignedAt: &at, TimeVerified: true, TlogIndex: &idx},
			{Kind: "cosign-legacy", Source: "cosign-tag", Digest: "sha256:" + repeat("c2", 32), Covers: scannedDigest,
				Identity: "key:sha256:0a0b", Error: "no configured key verifies it"},
		},
		Attestations: []result.Attestation{
			{PredicateType: "https://slsa.dev/provenance/v1", Source: "referrers", Verified: true,
				Identity: "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main",
				Issuer:   "https://token.actions.githubusercontent.com"},
			{PredicateType: "https://slsa.dev/provenance/v0.2", Source: "buildkit"},
		},
		Provenance: []result.Provenance{
			{PredicateType: "https://slsa.dev/provenance/v1", Verified: true,
				BuilderID:  "https://github.com/actions/runner/github-hosted",
				BuildType:  "https://actions.github.io/buildtypes/workflow/v1",
				SourceRepo: "git+https://github.com/example/shop@refs/heads/main", SourceDigest: "sha1:" + repeat("d4", 20)},
			{PredicateType: "https://slsa.dev/provenance/v0.2", BuilderID: "https://github.com/docker/buildkit",
				SourceRepo: "https://github.com/someone/else"},
		},
	}
}

// TestSupplyChainVariables: every supply-chain variable carries what the
// verify stage found, a policy can require a builder, a source repository
// and a predicate type, and a deny rule reading them fails with
// ExitUnverified, not ExitFail.
func TestSupplyChainVariables(t *testing.T) {
	const src = `apiVersion: drydock.dev/v1
kind: Policy
metadata: {name: supply-chain}
rules:
  - id: signature-fields
    action: warn
    on: image
    expr: >-
      image.signature.checked && image.signature.verified && !image.signature.required &&
      image.signature.identities == ["https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main"] &&
      image.signature.issuers == ["https://token.actions.githubusercontent.com"] &&
      image.signature.kinds == ["sigstore-bundle"] && image.signature.found == 2 &&
      image.signature.digest == image.digest && size(image.signature.problems) == 0
    message: "{{signature_verified}} {{signer}}"
  - id: attestation-fields
    action: warn
    on: image
    expr: >-
      image.attestations.exists(a, a.verified && a.predicate_type == "https://slsa.dev/provenance/v1" &&
        a.issuer == "https://token.actions.githubusercontent.com" && a.source == "referrers") &&
      image.attestations.exists(a, !a.verified && a.source == "buildkit")
  - id: provenance-fields
    action: warn
    on: image
    expr: >-
      image.provenance.exists(p, p.verified && p.builder_id == "https://github.com/actions/runner/github-hosted" &&
        p.build_type.endsWith("/workflow/v1") && p.source_repo.startsWith("git+https://github.com/example/shop") &&
        p.source_digest.startsWith("sha1:") && size(p.materials) == 0 && p.invocation_id == "")
  - id: require-builder
    action: deny
    on: image
    expr: >-
      !image.provenance.exists(p, p.verified && p.builder_id == "https://github.com/actions/runner/github-hosted")
    message: image not built by the trusted builder
  - id: require-source
    action: deny
    on: image
    expr: >-
      !image.provenance.exists(p, p.verified && p.source_repo.startsWith("git+https://github.com/example/shop@"))
    message: image not built from example/shop
  - id: require-sbom
    action: deny
    on: image
    expr: >-
      !image.attestations.exists(a, a.verified && a.predicate_type == "https://spdx.dev/Document")
    message: no signed SBOM
`
	p, err := ParsePolicy("supply.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Rules {
		if !r.SupplyChain {
			t.Errorf("rule %q reads the supply chain; SupplyChain is false", r.ID)
		}
	}
	res := almaAppReport().Result()
	res.Image.Digest = scannedDigest
	res.SupplyChain = signedChain()
	got, err := (&Engine{Policies: []*Policy{p}, Now: fixedNow}).Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	img := []string{"image"}
	want := &report.Verdict{Pass: false, ExitCode: ExitUnverified,
		Failures: []report.RuleResult{{RuleID: "require-sbom", Action: ActionDeny, Message: "no signed SBOM", Targets: img}},
		Warnings: []report.RuleResult{
			{RuleID: "signature-fields", Action: ActionWarn,
				Message: "true https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main", Targets: img},
			{RuleID: "attestation-fields", Action: ActionWarn, Message: `rule "attestation-fields" matched`, Targets: img},
			{RuleID: "provenance-fields", Action: ActionWarn, Message: `rule "provenance-fields" matched`, Targets: img},
		}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}

	// Only the unsigned BuildKit provenance names a builder: the hint is
	// never proof, so the builder and source rules fail.
	res = almaAppReport().Result()
	sc := signedChain()
	sc.Provenance[0].Verified = false
	sc.Provenance[0].BuilderID = "https://github.com/docker/buildkit"
	res.SupplyChain = sc
	got, err = (&Engine{Policies: []*Policy{p}, Now: fixedNow}).Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, f := range got.Failures {
		failed = append(failed, f.RuleID)
	}
	if diff := cmp.Diff([]string{"require-builder", "require-source", "require-sbom"}, failed); diff != "" || got.ExitCode != ExitUnverified {
		t.Errorf("unverified provenance: exit %d, failures (-want +got):\n%s", got.ExitCode, diff)
	}

	// Without a verify result the variables are empty, not errors.
	res = almaAppReport().Result()
	got, err = (&Engine{Policies: []*Policy{p}, Now: fixedNow}).Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Failures) != 3 || len(got.Warnings) != 0 || got.ExitCode != ExitUnverified {
		t.Errorf("no verify result: %+v", got)
	}
}

// TestSupplyChainRuleDetection: only rules that read image.signature,
// image.attestations or image.provenance are supply-chain rules, wherever
// the read is (a macro, a finding rule).
func TestSupplyChainRuleDetection(t *testing.T) {
	const src = `apiVersion: drydock.dev/v1
kind: Policy
metadata: {name: detect}
rules:
  - {id: age, action: deny, on: image, expr: image.age_days > 30}
  - {id: sig, action: deny, on: image, expr: "!image.signature.verified"}
  - {id: in-macro, action: deny, on: finding, expr: "finding.kev && image.provenance.all(p, !p.verified)"}
  - {id: labels, action: deny, on: image, expr: "'signature' in image.config.labels"}
`
	p, err := ParsePolicy("detect.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range p.Rules {
		got[r.ID] = r.SupplyChain
	}
	want := map[string]bool{"age": false, "sig": true, "in-macro": true, "labels": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SupplyChain (-want +got):\n%s", diff)
	}
}

// TestSignatureGate: --require-signature (or a result whose verify stage
// was asked to require one) fails with ExitUnverified, naming why, even
// when every finding passes and whatever --exit-code says; a verified
// signature passes it.
func TestSignatureGate(t *testing.T) {
	unsigned := &result.SupplyChain{Digest: scannedDigest, Required: true,
		Problems: []string{"registry has no referrers API: read the sha256-<hex> tag instead"}}
	failing := signedChain()
	failing.Verified, failing.Required = false, true
	failing.Signatures = failing.Signatures[1:]
	tests := []struct {
		name    string
		sc      *result.SupplyChain
		gate    Gate
		want    *report.Verdict
		wantMsg string
	}{
		{name: "verified, required", sc: func() *result.SupplyChain { s := signedChain(); s.Required = true; return s }(),
			gate: Gate{RequireSignature: true}, want: &report.Verdict{Pass: true}},
		{name: "verified, not required", sc: signedChain(), want: &report.Verdict{Pass: true}},
		{name: "unverified, not required", sc: &result.SupplyChain{Digest: scannedDigest}, want: &report.Verdict{Pass: true}},
		{name: "unsigned, required by the result", sc: unsigned, want: &report.Verdict{ExitCode: ExitUnverified,
			Failures: []report.RuleResult{{RuleID: GateSignature, Action: ActionDeny, Targets: []string{scannedDigest},
				Message: "no signature found for " + scannedDigest + "; problems: registry has no referrers API: read the sha256-<hex> tag instead (--require-signature)"}}}},
		{name: "signature fails, --exit-code 9", sc: failing, gate: Gate{RequireSignature: true, ExitCode: 9},
			want: &report.Verdict{ExitCode: ExitUnverified, Failures: []report.RuleResult{{RuleID: GateSeverity, Action: ActionDeny,
				Message: "2 vulnerabilities of any severity remain (--exit-code 9)",
				Targets: []string{"CVE-2023-42366@apk/busybox@1.35.0-r17", "CVE-2023-42366@apk/ssl_client@1.35.0-r17"}},
				{RuleID: GateSignature, Action: ActionDeny,
					Targets: []string{scannedDigest},
					Message: "none of the 1 signature(s) of " + scannedDigest + " verified (cosign-legacy: no configured key verifies it) (--require-signature)"}}}},
		{name: "no verify result, gate on", gate: Gate{RequireSignature: true}, want: &report.Verdict{ExitCode: ExitUnverified,
			Failures: []report.RuleResult{{RuleID: GateSignature, Action: ActionDeny, Targets: []string{"image"},
				Message: "no signature was verified: the verify stage did not run (--require-signature)"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := alpineReport().Result()
			res.SupplyChain = tt.sc
			got, err := (&Engine{Gate: tt.gate, Now: fixedNow}).Evaluate(context.Background(), res)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict (-want +got):\n%s", diff)
			}
		})
	}

	// With failing findings too, the supply chain's exit code wins.
	res := alpineReport().Result()
	res.SupplyChain = unsigned
	got, err := (&Engine{Gate: Gate{ExitCode: 1}, Now: fixedNow}).Evaluate(context.Background(), res)
	if err != nil {
		t.Fatal(err)
	}
	if got.ExitCode != ExitUnverified || len(got.Failures) != 2 || got.Failures[0].RuleID != GateSeverity || got.Failures[1].RuleID != GateSignature {
		t.Errorf("findings and signature fail: %+v", got)
	}
}

// TestSupplyChainOnSavedReport: a saved JSON report keeps its supply-chain
// section, so drydock policy test on it gives the same verdict.
func TestSupplyChainOnSavedReport(t *testing.T) {
	res := alpineReport().Result()
	res.SupplyChain = &result.SupplyChain{Digest: scannedDigest, Required: true}
	rep := report.New(res, nil, report.Tool{Name: "drydock", Version: "test"}, testNow)
	if rep.Summary.Signature != report.SignatureUnsigned {
		t.Errorf("summary signature %q", rep.Summary.Signature)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(rep); err != nil {
		t.Fatal(err)
	}
	got, err := policyOnSaved(context.Background(), "builtin:kev", &buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.Pass || got.ExitCode != ExitUnverified || len(got.Failures) != 1 || got.Failures[0].RuleID != GateSignature {
		t.Errorf("saved unsigned report: %+v", got)
	}
}
