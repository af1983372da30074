package reporttest

import (
	"time"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
)

// Signed returns the Alpine report (Alpine) of an image the verify stage
// checked: a verified keyless Sigstore bundle (GitHub Actions identity,
// transparency-log entry), a legacy cosign signature that no configured key
// verified, a verified SLSA v1 provenance attestation and an unsigned
// BuildKit provenance (a hint). The policy passed.
func Signed() *report.Report {
	r := Alpine()
	r.SupplyChain = SignedChain(r.Image.Digest)
	r.Summarise()
	return r
}

// SignedChain is the supply-chain section of Signed, for the digest d.
func SignedChain(d string) *result.SupplyChain {
	at := time.Date(2026, 1, 14, 9, 30, 0, 0, time.UTC)
	started, finished := time.Date(2026, 1, 14, 9, 21, 3, 0, time.UTC), time.Date(2026, 1, 14, 9, 28, 41, 0, time.UTC)
	idx := int64(151234567)
	const (
		workflow = "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main"
		actions  = "https://token.actions.githubusercontent.com"
	)
	return &result.SupplyChain{
		Digest:   d,
		Verified: true,
		Required: true,
		Trust:    []string{"keyless issuer=" + actions + " subject=" + workflow},
		Signatures: []result.Signature{
			{Kind: "sigstore-bundle", Source: "referrers", Digest: digest("bundle"), Covers: d, Verified: true,
				Identity: workflow, Issuer: actions, SignedAt: &at, TimeVerified: true, TlogIndex: &idx},
			{Kind: "cosign-legacy", Source: "cosign-tag", Digest: digest("legacy"), Covers: d,
				Identity: "key:sha256:0a0b0c0d", Error: "no configured key or identity verifies it"},
		},
		Attestations: []result.Attestation{
			{PredicateType: "https://slsa.dev/provenance/v1", Source: "referrers", Digest: digest("provenance"),
				Verified: true, Identity: workflow, Issuer: actions},
			{PredicateType: "https://slsa.dev/provenance/v0.2", Source: "buildkit", Digest: digest("buildkit")},
		},
		Provenance: []result.Provenance{
			{PredicateType: "https://slsa.dev/provenance/v1", Verified: true,
				BuilderID:    "https://github.com/actions/runner/github-hosted",
				BuildType:    "https://actions.github.io/buildtypes/workflow/v1",
				SourceRepo:   "git+https://github.com/example/shop@refs/heads/main",
				SourceDigest: "sha1:3f2a9c1d5e7b9a0c2e4f6a8b0c1d3e5f7a9b1c3d",
				InvocationID: "https://github.com/example/shop/actions/runs/4242/attempts/1",
				StartedOn:    &started, FinishedOn: &finished},
			{PredicateType: "https://slsa.dev/provenance/v0.2", BuilderID: "https://github.com/docker/buildkit",
				Materials: []string{"pkg:docker/alpine@3.16?digest=" + digest("alpine-base")}},
		},
	}
}

// Unsigned returns the Alpine report of an image the verify stage found no
// signature for, run with --require-signature: the verdict fails with the
// supply-chain exit code (4) and gate:signature, although the findings
// passed.
func Unsigned() *report.Report {
	r := Alpine()
	r.SupplyChain = &result.SupplyChain{
		Digest:   r.Image.Digest,
		Required: true,
		Trust:    []string{"key sha256:5d41402abc4b2a76"},
		Problems: []string{"registry has no referrers API (HTTP 404): read the sha256-<hex> tag instead"},
	}
	r.Verdict = &report.Verdict{ExitCode: 4, Failures: []report.RuleResult{{
		RuleID:  "gate:signature",
		Action:  "deny",
		Message: "no signature found for " + r.Image.Digest + " (--require-signature)",
		Targets: []string{r.Image.Digest},
	}}}
	r.Summarise()
	return r
}
