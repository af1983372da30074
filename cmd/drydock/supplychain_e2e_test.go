package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/attest"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// Predicate types the test signs.
const (
	cosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"
	slsaV1Predicate     = "https://slsa.dev/provenance/v1"
)

// signAndAttach signs an in-toto statement about the image ref@digest with
// the PEM private key in privFile (a Sigstore v0.3 bundle, attest.Sign) and
// attaches it as a referrer (attest.Attach: on distribution 2.8, which has
// no referrers API, through the sha256-<hex> tag fallback).
func signAndAttach(t *testing.T, privFile, ref string, digest v1.Hash, predicateType string, predicate any) {
	t.Helper()
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	subject := tag.Context().Digest(digest.String())
	desc, err := remote.Head(subject)
	if err != nil {
		t.Fatalf("HEAD %s: %v", subject, err)
	}
	st, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"name": tag.Context().Name(), "digest": map[string]string{"sha256": digest.Hex}}},
		"predicateType": predicateType,
		"predicate":     predicate,
	})
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(privFile)
	if err != nil {
		t.Fatal(err)
	}
	key, err := attest.LoadPrivateKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := attest.Sign(context.Background(), st, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := attest.Attach(context.Background(), subject, *desc, bundle, predicateType, time.Now()); err != nil {
		t.Fatalf("attaching %s to %s: %v", predicateType, subject, err)
	}
}

// slsaPredicate is a SLSA v1 provenance predicate of a GitHub Actions
// build of example/shop.
func slsaPredicate() map[string]any {
	return map[string]any{
		"buildDefinition": map[string]any{
			"buildType": "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{"workflow": map[string]any{
				"ref": "refs/heads/main", "repository": "https://github.com/example/shop", "path": ".github/workflows/release.yml"}},
			"resolvedDependencies": []map[string]any{{"uri": "git+https://github.com/example/shop@refs/heads/main",
				"digest": map[string]string{"gitCommit": "3f2a9c1d5e7b9a0c2e4f6a8b0c1d3e5f7a9b1c3d"}}},
		},
		"runDetails": map[string]any{
			"builder":  map[string]any{"id": "https://github.com/actions/runner/github-hosted"},
			"metadata": map[string]any{"invocationId": "https://github.com/example/shop/actions/runs/4242/attempts/1"},
		},
	}
}

// readJSONReport reads a JSON report written with --format json=FILE.
func readJSONReport(t *testing.T, path string) *report.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := report.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestSupplyChainOnDistribution: drydock image --verify-key
// --require-signature on the real CNCF distribution 2.8 registry (no
// referrers API: the sha256-<hex> tag fallback is what is read), with a key
// generated in the test: a signed image passes and its report names the
// signer and the provenance; an unsigned image, and an image signed by
// another key, exit 4 with the scan done and the report saying why; a
// policy can require the builder of the verified provenance; the tag is
// resolved once and everything after is fetched by digest.
func TestSupplyChainOnDistribution(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	reg := testimage.StartRegistryWith(t, bin, testimage.RegistryOptions{AccessLog: true})
	host := reg.Host
	ref, digest := pushAlpine(t, host)
	priv, pub := keyFiles(t)
	signAndAttach(t, priv, ref, digest, cosignSignPredicate, map[string]any{})
	signAndAttach(t, priv, ref, digest, slsaV1Predicate, slsaPredicate())
	unsignedRef, unsignedDigest := pushAlpineVariant(t, host)
	dir := t.TempDir()

	t.Run("signed: verified, exit 0", func(t *testing.T) {
		before := len(reg.Requests())
		out := filepath.Join(dir, "signed.json")
		res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--verify-key", pub, "--require-signature",
			"--format", "table", "--format", "json="+out, ref)
		if res.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		t.Logf("table:\n%s", res.stdout)
		rep := readJSONReport(t, out)
		sc := rep.SupplyChain
		if sc == nil {
			t.Fatal("no supply_chain in the JSON report")
		}
		if !sc.Verified || !sc.Required || sc.Digest != digest.String() || rep.Summary.Signature != "verified" {
			t.Errorf("supply_chain verified %v required %v digest %s (want %s), summary %q", sc.Verified, sc.Required, sc.Digest, digest, rep.Summary.Signature)
		}
		// The verified digest is the scanned manifest's.
		if rep.Image.Digest != sc.Digest {
			t.Errorf("scanned %s, verified %s", rep.Image.Digest, sc.Digest)
		}
		var signer string
		for _, s := range sc.Signatures {
			if s.Verified && s.Kind == "sigstore-bundle" && s.Covers == digest.String() {
				signer = s.Identity
			}
		}
		if !strings.HasPrefix(signer, "key:") {
			t.Errorf("no verified bundle signature by a key: %+v", sc.Signatures)
		}
		// Distribution 2.8 has no referrers API: the report says the
		// signatures came from the sha256-<hex> tag, and says why.
		for _, s := range sc.Signatures {
			if s.Kind == "sigstore-bundle" && s.Source != "referrers-tag" {
				t.Errorf("signature %s found through %q, want referrers-tag (the registry has no referrers API)", s.Digest, s.Source)
			}
		}
		if !slices.ContainsFunc(sc.Problems, func(p string) bool { return strings.Contains(p, "referrers API") }) {
			t.Errorf("problems %q: none says the registry has no referrers API", sc.Problems)
		}
		if len(sc.Provenance) != 1 || !sc.Provenance[0].Verified || sc.Provenance[0].BuilderID != "https://github.com/actions/runner/github-hosted" ||
			sc.Provenance[0].SourceRepo != "https://github.com/example/shop" {
			t.Errorf("provenance %+v", sc.Provenance)
		}
		for _, want := range []string{"Supply chain: VERIFIED", "signed by " + signer, "builder https://github.com/actions/runner/github-hosted", "Policy: PASS"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("table: no %q", want)
			}
		}
		if len(rep.Packages) == 0 || len(rep.Findings) == 0 {
			t.Errorf("the scan did not run: %d packages, %d findings", len(rep.Packages), len(rep.Findings))
		}

		// Resolved once: the only request naming the tag is the source's
		// manifest GET; the verify stage and the scan use the digest (and
		// the signature tags, which are named after the digest).
		tagPath := "/v2/team/alpine/manifests/3.16.9"
		var byTag []string
		fallback := false
		for _, r := range reg.Requests()[before:] {
			// Distribution 2.8 has no referrers API: the signatures were
			// read from the sha256-<hex> fallback tag.
			// read from the sha256-<hex> fallback tag (resolved with a HEAD,
			// then read by the digest it gave).
			fallback = fallback || (r.Status == 200 && r.Path == "/v2/team/alpine/manifests/sha256-"+digest.Hex)
			if r.Path == tagPath {
				byTag = append(byTag, r.Method)
				continue
			}
			if m, ok := strings.CutPrefix(r.Path, "/v2/team/alpine/manifests/"); ok &&
				!strings.HasPrefix(m, "sha256:") && !strings.HasPrefix(m, "sha256-"+digest.Hex) {
				t.Errorf("%s %s: a manifest by neither the scanned digest nor its signature tags", r.Method, r.Path)
			}
		}
		if len(byTag) != 1 {
			t.Errorf("the tag was requested %d times (%v); want once", len(byTag), byTag)
		}
		if !fallback {
			t.Error("the sha256-<hex> fallback tag was never read")
		}
	})

	t.Run("signed, policy requires the builder", func(t *testing.T) {
		pol := func(builder string) string {
			p := filepath.Join(t.TempDir(), "supply.yaml")
			src := fmt.Sprintf(`apiVersion: drydock.dev/v1
kind: Policy
metadata: {name: builder}
rules:
  - id: trusted-builder
    action: deny
    on: image
    expr: '!image.provenance.exists(p, p.verified && p.builder_id == %q)'
    message: "{{reference}} not built by the trusted builder"
`, builder)
			if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}
		res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--verify-key", pub,
			"--policy", pol("https://github.com/actions/runner/github-hosted"), ref)
		if res.code != 0 {
			t.Errorf("the right builder: exit %d\n%s", res.code, res.stderr)
		}
		res = drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--verify-key", pub,
			"--policy", pol("https://ci.example.com/trusted"), ref)
		if res.code != 4 || !strings.Contains(res.stdout, "trusted-builder") {
			t.Errorf("another builder: exit %d (want 4)\n%s", res.code, res.stdout)
		}
	})

	t.Run("unsigned: exit 4, scanned, the report says why", func(t *testing.T) {
		out := filepath.Join(dir, "unsigned.json")
		res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--verify-key", pub, "--require-signature",
			"--format", "table", "--format", "json="+out, unsignedRef)
		if res.code != 4 {
			t.Fatalf("exit %d, want 4\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		for _, want := range []string{"Supply chain: UNSIGNED", "no signature found for " + unsignedDigest.String(), "gate:signature", "Policy: FAIL (exit code 4)"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("table: no %q in\n%s", want, res.stdout)
			}
		}
		rep := readJSONReport(t, out)
		if rep.SupplyChain == nil || rep.SupplyChain.Verified || rep.SupplyChain.Digest != unsignedDigest.String() ||
			rep.Summary.Signature != "unsigned" || rep.Verdict == nil || rep.Verdict.ExitCode != 4 {
			t.Errorf("JSON: supply_chain %+v, summary %q, verdict %+v", rep.SupplyChain, rep.Summary.Signature, rep.Verdict)
		}
		if len(rep.Packages) == 0 {
			t.Error("the scan did not run on the unsigned image")
		}
		// Without --require-signature the answer is reported, not gated.
		res = drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--verify-key", pub, unsignedRef)
		if res.code != 0 || !strings.Contains(res.stdout, "Supply chain: UNSIGNED") {
			t.Errorf("--verify-key alone: exit %d\n%s", res.code, res.stdout)
		}
	})

	t.Run("signed by another key: exit 4", func(t *testing.T) {
		_, otherPub := keyFiles(t)
		res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--verify-key", otherPub, "--require-signature", ref)
		if res.code != 4 || !strings.Contains(res.stdout, "Supply chain: NOT VERIFIED") {
			t.Errorf("exit %d, want 4\n%s", res.code, res.stdout)
		}
	})

	t.Run("keyless flags reach the verify stage", func(t *testing.T) {
		out, err := exec.Command("go", "mod", "download", "-json", "github.com/sigstore/sigstore-go").Output()
		var m struct{ Dir string }
		if err != nil || json.Unmarshal(out, &m) != nil || m.Dir == "" {
			t.Skipf("sigstore-go is not in the module cache (%v): no trusted root to read", err)
		}
		trustedRoot := filepath.Join(m.Dir, "pkg", "testing", "data", "trusted-roots", "public-good.json")
		const (
			issuer   = "https://token.actions.githubusercontent.com"
			identity = "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main"
		)
		keyless := []string{"--trusted-root", trustedRoot, "--verify-issuer", issuer, "--verify-identity", identity}
		// The image is signed with a key, not keylessly: the pinned
		// identity alone does not verify it.
		res := drydock(t, append(append([]string{"image", "--scanners", "vuln", "--db", testDB, "--require-signature"}, keyless...), ref)...)
		if res.code != 4 || !strings.Contains(res.stdout, "keyless") || !strings.Contains(res.stdout, identity) {
			t.Errorf("keyless only: exit %d (want 4), no keyless trust line\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		// With the key as well, either trust verifies: the key does.
		res = drydock(t, append(append([]string{"image", "--scanners", "vuln", "--db", testDB, "--require-signature", "--verify-key", pub}, keyless...), ref)...)
		if res.code != 0 || !strings.Contains(res.stdout, "Supply chain: VERIFIED") {
			t.Errorf("key and keyless: exit %d (want 0)\n%s\n%s", res.code, res.stdout, res.stderr)
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"--verify-key", filepath.Join(dir, "missing.pub")},
			{"--verify-identity", "https://github.com/example/shop/.github/workflows/release.yml@refs/heads/main"},
			{"--verify-issuer", "https://token.actions.githubusercontent.com"},
			{"--notation-trust-policy", pub},
		} {
			res := drydock(t, append(append([]string{"image", "--scanners", "vuln", "--db", testDB}, args...), ref)...)
			if res.code != 2 {
				t.Errorf("%v: exit %d, want 2\n%s", args, res.code, res.stderr)
			}
		}
	})
}

// TestRequireSignatureFromSettings: --require-signature and --verify-key
// are settings like every flag (drydock.yaml, $DRYDOCK_*).
func TestRequireSignatureFromSettings(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	host := testimage.StartRegistry(t, bin, nil)
	ref, _ := pushAlpine(t, host)
	_, pub := keyFiles(t)
	t.Setenv("DRYDOCK_REQUIRE_SIGNATURE", "true")
	t.Setenv("DRYDOCK_VERIFY_KEY", pub)
	res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, ref)
	if res.code != 4 || !strings.Contains(res.stdout, "Supply chain: UNSIGNED") {
		t.Errorf("exit %d, want 4\n%s\n%s", res.code, res.stdout, res.stderr)
	}
}

// TestVerifyLocalSources: an OCI layout is verified from its own
// directory (unsigned here: exit 4, the layout's manifest digest is the one
// reported); a docker archive holds no signatures, which the report says,
// and --require-signature fails on it rather than passing unchecked.
func TestVerifyLocalSources(t *testing.T) {
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{Tar: gunzipFile(t, layerFromArchive(t, alpineImage)), CreatedBy: "ADD alpine-minirootfs-3.16.9 /"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lay := filepath.Join(dir, "layout")
	if err := testimage.WriteOCILayout(lay, "3.16.9", img); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "alpine.tar")
	if err := testimage.WriteDockerArchive(archive, "alpine:3.16.9", img); err != nil {
		t.Fatal(err)
	}
	_, pub := keyFiles(t)
	for _, tc := range []struct{ ref, want string }{
		{"oci:" + lay, "no signature found for " + d.String()},
		{"docker-archive:" + archive, "holds no signatures or attestations"},
	} {
		out := filepath.Join(t.TempDir(), "r.json")
		res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--verify-key", pub, "--require-signature",
			"--format", "table", "--format", "json="+out, tc.ref)
		if res.code != 4 || !strings.Contains(res.stdout, tc.want) {
			t.Errorf("%s: exit %d (want 4), no %q in\n%s\n%s", tc.ref, res.code, tc.want, res.stdout, res.stderr)
			continue
		}
		rep := readJSONReport(t, out)
		if rep.SupplyChain == nil || rep.SupplyChain.Verified || len(rep.Packages) == 0 {
			t.Errorf("%s: supply_chain %+v, %d packages", tc.ref, rep.SupplyChain, len(rep.Packages))
		}
	}
}
