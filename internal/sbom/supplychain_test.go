package sbom

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
)

// TestSupplyChainInSBOMs: every SBOM format carries what the verify stage
// found (on the image component / package), still validates against its
// schema, and reading it back does not turn the claim into a verification.
func TestSupplyChainInSBOMs(t *testing.T) {
	r := reporttest.Signed()
	const (
		signer  = "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main [https://token.actions.githubusercontent.com]"
		builder = "https://github.com/actions/runner/github-hosted"
	)
	spdx2, err := reporttest.CompileSchema("http://spdx.org/rdf/terms/2.3", map[string]string{"http://spdx.org/rdf/terms/2.3": "testdata/schema/spdx-2.3.schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	spdx3 := spdx3Schema(t)
	for _, tc := range []struct {
		name     string
		write    func(*bytes.Buffer) error
		validate func([]byte) error
	}{
		{"cyclonedx-1.6", func(b *bytes.Buffer) error { return WriteCycloneDXVersion(b, r, true, cdx.SpecVersion1_6) }, cdxSchemaOf(t, cdx.SpecVersion1_6).Validate},
		{"cyclonedx-1.7", func(b *bytes.Buffer) error { return WriteCycloneDXVersion(b, r, true, cdx.SpecVersion1_7) }, cdxSchemaOf(t, cdx.SpecVersion1_7).Validate},
		{"spdx-2.3", func(b *bytes.Buffer) error { return WriteSPDX(b, r) }, spdx2.Validate},
		{"spdx-3.0", func(b *bytes.Buffer) error { return WriteSPDX3(b, r) }, func(b []byte) error { return validateJSON(spdx3, b) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.write(&buf); err != nil {
				t.Fatal(err)
			}
			if err := tc.validate(buf.Bytes()); err != nil {
				t.Errorf("does not validate:\n%v", err)
			}
			out := buf.String()
			for _, want := range []string{PropSupplyChainState, PropSupplyChainDigest, r.SupplyChain.Digest, signer, builder, "https://slsa.dev/provenance/v1"} {
				if !strings.Contains(out, want) {
					t.Errorf("the document lacks %q", want)
				}
			}
			// The unsigned BuildKit provenance is in the JSON section, never
			// among the verified builders.
			if strings.Contains(out, PropSupplyChainBuilder+`", "value": "https://github.com/docker/buildkit`) ||
				strings.Contains(out, PropSupplyChainBuilder+"=https://github.com/docker/buildkit") {
				t.Error("an unverified builder is listed as verified")
			}
			got, err := Decode(context.Background(), bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if got.SupplyChain != nil {
				t.Errorf("decoded a supply chain %+v: an SBOM's claim is not a verification", got.SupplyChain)
			}
			if d := cmp.Diff(r.Normalized().Packages, got.Packages, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("packages (-want +got):\n%s", d)
			}
		})
	}
}

// TestSupplyChainFacts: the facts of a verify result, in order; none when
// verification did not run.
func TestSupplyChainFacts(t *testing.T) {
	if got := supplyChainFacts(nil); got != nil {
		t.Errorf("no verify stage: %v", got)
	}
	sc := reporttest.SignedChain("sha256:" + strings.Repeat("a", 64))
	raw, err := json.Marshal(sc)
	if err != nil {
		t.Fatal(err)
	}
	want := []prop{
		{PropSupplyChainState, report.SignatureVerified},
		{PropSupplyChainDigest, "sha256:" + strings.Repeat("a", 64)},
		{PropSupplyChainSigner, "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main [https://token.actions.githubusercontent.com]"},
		{PropSupplyChainPredicate, "https://slsa.dev/provenance/v1"},
		{PropSupplyChainBuilder, "https://github.com/actions/runner/github-hosted"},
		{PropSupplyChainSourceRepo, "git+https://github.com/example/shop@refs/heads/main"},
		{PropSupplyChain, string(raw)},
	}
	if d := cmp.Diff(want, supplyChainFacts(sc), cmp.AllowUnexported(prop{})); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}
