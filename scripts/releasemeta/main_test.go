package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// rawSBOM is the shape of drydock sbom --format cyclonedx dir:DIR output,
// with the fields that depend on the run (time, directory, serial).
func rawSBOM(dir, ts, serial string) []byte {
	return []byte(`{
  "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:` + serial + `",
  "version": 1,
  "metadata": {
    "timestamp": "` + ts + `",
    "tools": {"components": [{"type": "application", "name": "drydock", "version": "v1.0.0"}]},
    "component": {"bom-ref": "image:` + dir + `", "type": "container", "name": "` + dir + `",
      "properties": [{"name": "drydock:image:reference", "value": "dir:` + dir + `"}]}
  },
  "components": [
    {"bom-ref": "a1", "type": "application", "name": "github.com/drydock-scan/drydock", "version": "(devel)",
     "purl": "pkg:golang/github.com/drydock-scan/drydock",
     "properties": [{"name": "drydock:location:path", "value": "/drydock_v1.0.0_linux_amd64"}]},
    {"bom-ref": "a2", "type": "library", "name": "stdlib", "version": "1.26.8", "purl": "pkg:golang/stdlib@1.26.8"}
  ],
  "dependencies": [{"ref": "image:` + dir + `", "dependsOn": ["a1", "a2"]}, {"ref": "a1"}, {"ref": "a2"}]
}`)
}

func TestNormalizeSBOM(t *testing.T) {
	created := time.Unix(1700000000, 0)
	first, err := NormalizeSBOM(rawSBOM("/tmp/a/root", "2026-12-03T06:01:19Z", "8d9199c2-44d0-5e57-920b-80f8f790ca99"), "v1.0.0", created)
	if err != nil {
		t.Fatal(err)
	}
	// Another directory, time and serial: the same release SBOM.
	second, err := NormalizeSBOM(rawSBOM("/var/b/root", "2027-01-01T00:00:00Z", "00000000-44d0-5e57-920b-80f8f790ca99"), "v1.0.0", created)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(first), string(second)); diff != "" {
		t.Errorf("the SBOM depends on where and when drydock ran (-first +second):\n%s", diff)
	}
	for _, dir := range []string{"/tmp/a/root", "(devel)", "2026-12-03"} {
		if bytes.Contains(first, []byte(dir)) {
			t.Errorf("normalised SBOM still holds %q:\n%s", dir, first)
		}
	}
	var got struct {
		SerialNumber string `json:"serialNumber"`
		Metadata     struct {
			Timestamp string `json:"timestamp"`
			Component struct {
				BOMRef              string `json:"bom-ref"`
				Name, Version, Purl string
			} `json:"component"`
		} `json:"metadata"`
		Components []struct {
			Name, Version, Purl string
		} `json:"components"`
		Dependencies []struct {
			Ref string `json:"ref"`
		} `json:"dependencies"`
	}
	if err := json.Unmarshal(first, &got); err != nil {
		t.Fatal(err)
	}
	if got.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("timestamp %q, want SOURCE_DATE_EPOCH 1700000000 = 2023-11-14T22:13:20Z", got.Metadata.Timestamp)
	}
	if got.Metadata.Component.Name != "drydock" || got.Metadata.Component.Version != "v1.0.0" ||
		got.Metadata.Component.Purl != "pkg:golang/github.com/drydock-scan/drydock@v1.0.0" {
		t.Errorf("metadata.component = %+v, want the drydock v1.0.0 release", got.Metadata.Component)
	}
	if got.Components[0].Version != "v1.0.0" || got.Components[0].Purl != "pkg:golang/github.com/drydock-scan/drydock@v1.0.0" {
		t.Errorf("main module component = %+v, want version v1.0.0", got.Components[0])
	}
	if got.Dependencies[0].Ref != got.Metadata.Component.BOMRef {
		t.Errorf("the first dependency refers to %q, want the release %q", got.Dependencies[0].Ref, got.Metadata.Component.BOMRef)
	}
	if !strings.HasPrefix(got.SerialNumber, "urn:uuid:") || strings.Contains(got.SerialNumber, "8d9199c2") {
		t.Errorf("serial %q: want one derived from the content", got.SerialNumber)
	}
	// Another version: another serial number.
	other, err := NormalizeSBOM(rawSBOM("/tmp/a/root", "2026-12-03T06:01:19Z", "8d9199c2-44d0-5e57-920b-80f8f790ca99"), "v1.0.1", created)
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		SerialNumber string `json:"serialNumber"`
	}
	if err := json.Unmarshal(other, &o); err != nil {
		t.Fatal(err)
	}
	if o.SerialNumber == got.SerialNumber {
		t.Errorf("two versions share serial %s", o.SerialNumber)
	}
}

func TestNormalizeSBOMRejects(t *testing.T) {
	for name, raw := range map[string]string{
		"not JSON":          "{",
		"no metadata":       `{"bomFormat":"CycloneDX","specVersion":"1.6","components":[{"name":"x"}]}`,
		"no components":     `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"i","name":"d"}}}`,
		"no drydock module": `{"bomFormat":"CycloneDX","specVersion":"1.6","metadata":{"component":{"bom-ref":"i","name":"d"}},"components":[{"type":"library","name":"stdlib","version":"1.26.8"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			if out, err := NormalizeSBOM([]byte(raw), "v1.0.0", time.Unix(0, 0)); err == nil {
				t.Errorf("accepted:\n%s", out)
			}
		})
	}
}

// fakeDist writes release-like files and go.mod/go.sum, returning the input
// of BuildProvenance.
func fakeDist(t *testing.T) ProvenanceInput {
	t.Helper()
	dir := t.TempDir()
	dist := filepath.Join(dir, "dist")
	if err := os.Mkdir(dist, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []string{"drydock_v1.0.0_linux_amd64", "drydock_v1.0.0_linux_amd64.tar.gz", "drydock_v1.0.0.cdx.json"}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dist, f), []byte("content of "+f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte(f+" content\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return ProvenanceInput{
		Dist: dist, Version: "v1.0.0", Commit: strings.Repeat("ab", 20), Repo: "https://github.com/drydock-scan/drydock",
		BuilderID: "https://example.com/builder", GoVersion: "go1.26.8",
		GoSum: filepath.Join(dir, "go.sum"), GoMod: filepath.Join(dir, "go.mod"), Epoch: 1700000000,
		Targets: []string{"linux/amd64"}, Files: files,
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestBuildProvenance(t *testing.T) {
	in := fakeDist(t)
	b, err := BuildProvenance(in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := BuildProvenance(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, again) {
		t.Errorf("two provenance statements of the same build differ:\n%s\n%s", b, again)
	}
	// The in-toto validator, directly.
	var st intoto.Statement
	if err := protojson.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("in-toto Statement.Validate: %v\n%s", err, b)
	}
	var subjects []string
	for _, s := range st.GetSubject() {
		subjects = append(subjects, s.GetName()+" "+s.GetDigest()["sha256"])
	}
	var want []string
	for _, f := range []string{"drydock_v1.0.0.cdx.json", "drydock_v1.0.0_linux_amd64", "drydock_v1.0.0_linux_amd64.tar.gz"} {
		want = append(want, f+" "+sha256Hex([]byte("content of "+f)))
	}
	if diff := cmp.Diff(want, subjects); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}
	var p Statement
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.PredicateType != "https://slsa.dev/provenance/v1" || p.Predicate.RunDetails.Builder.ID != "https://example.com/builder" ||
		p.Predicate.BuildDefinition.BuildType != BuildType {
		t.Errorf("predicate type, builder or build type wrong:\n%s", b)
	}
	src := p.Predicate.BuildDefinition.ExternalParameters["source"].(map[string]any)
	if src["commit"] != in.Commit || src["repository"] != in.Repo {
		t.Errorf("externalParameters.source = %v", src)
	}
	deps := map[string]Descriptor{}
	for _, d := range p.Predicate.BuildDefinition.ResolvedDependencies {
		deps[d.Name] = d
	}
	if got := deps["go.sum"].Digest["sha256"]; got != sha256Hex([]byte("go.sum content\n")) {
		t.Errorf("go.sum digest %q", got)
	}
	if got := deps["go"].URI; got != "pkg:generic/go@1.26.8" {
		t.Errorf("go toolchain %q", got)
	}
	if got := p.Predicate.BuildDefinition.ResolvedDependencies[0].Digest["gitCommit"]; got != in.Commit {
		t.Errorf("source dependency commit %q", got)
	}
}

func TestBuildProvenanceRejects(t *testing.T) {
	for name, mod := range map[string]func(*ProvenanceInput){
		"no commit":       func(in *ProvenanceInput) { in.Commit = "" },
		"short commit":    func(in *ProvenanceInput) { in.Commit = "abc" },
		"no builder":      func(in *ProvenanceInput) { in.BuilderID = "" },
		"missing file":    func(in *ProvenanceInput) { in.Files = append(in.Files, "nope") },
		"path as subject": func(in *ProvenanceInput) { in.Files = []string{"../go.sum"} },
		"no subjects":     func(in *ProvenanceInput) { in.Files = nil },
		"no go.sum":       func(in *ProvenanceInput) { in.GoSum += ".missing" },
	} {
		t.Run(name, func(t *testing.T) {
			in := fakeDist(t)
			mod(&in)
			if b, err := BuildProvenance(in); err == nil {
				t.Errorf("accepted:\n%s", b)
			}
		})
	}
}

func TestValidateProvenanceRejects(t *testing.T) {
	good, err := BuildProvenance(fakeDist(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string][2]string{
		"statement type":  {`"https://in-toto.io/Statement/v1"`, `"https://in-toto.io/Statement/v9"`},
		"predicate type":  {`"https://slsa.dev/provenance/v1"`, `"https://slsa.dev/provenance/v0.2"`},
		"no builder id":   {`"id": "https://example.com/builder"`, `"id": ""`},
		"no build type":   {`"buildType": "` + BuildType + `"`, `"buildType": ""`},
		"bad digest size": {`"sha256": "`, `"sha256": "00`},
	} {
		t.Run(name, func(t *testing.T) {
			bad := bytes.Replace(good, []byte(edit[0]), []byte(edit[1]), 1)
			if bytes.Equal(bad, good) {
				t.Fatalf("edit %q not applied", edit[0])
			}
			if _, err := ValidateProvenance(bad); err == nil {
				t.Errorf("accepted:\n%s", bad)
			}
		})
	}
}

func writeKey(t *testing.T, dir, name string) (priv, pub string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	priv, pub = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// signedDist is a release directory as make release leaves it, signed.
func signedDist(t *testing.T, priv string) string {
	t.Helper()
	in := fakeDist(t)
	prov, err := BuildProvenance(in)
	if err != nil {
		t.Fatal(err)
	}
	provName := "drydock_v1.0.0.intoto.json"
	if err := os.WriteFile(filepath.Join(in.Dist, provName), prov, 0o644); err != nil {
		t.Fatal(err)
	}
	var sums strings.Builder
	for _, f := range append(append([]string(nil), in.Files...), provName) {
		b, err := os.ReadFile(filepath.Join(in.Dist, f))
		if err != nil {
			t.Fatal(err)
		}
		sums.WriteString(sha256Hex(b) + "  " + f + "\n")
	}
	if err := os.WriteFile(filepath.Join(in.Dist, "SHA256SUMS"), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"sign", "-key", priv, "-sums", filepath.Join(in.Dist, "SHA256SUMS"),
		"-provenance", filepath.Join(in.Dist, provName), "-bundle", filepath.Join(in.Dist, "drydock_v1.0.0.intoto.sigstore.json")}, nil); err != nil {
		t.Fatal(err)
	}
	return in.Dist
}

func TestSignAndVerify(t *testing.T) {
	keys := t.TempDir()
	priv, pub := writeKey(t, keys, "release")
	_, otherPub := writeKey(t, keys, "other")
	verify := func(dist, pubFile string) error {
		var out bytes.Buffer
		return run(context.Background(), []string{"verify", "-dist", dist, "-pubkey", pubFile, "-version", "v1.0.0"}, &out)
	}
	dist := signedDist(t, priv)
	if err := verify(dist, pub); err != nil {
		t.Fatalf("the signed release does not verify: %v", err)
	}
	// The signature is what openssl checks (and what the Action runs).
	if _, err := exec.LookPath("openssl"); err == nil {
		cmd := exec.Command("openssl", "dgst", "-sha256", "-verify", pub, "-signature",
			filepath.Join(dist, "SHA256SUMS.sig"), filepath.Join(dist, "SHA256SUMS"))
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "Verified OK") {
			t.Errorf("openssl dgst -verify: %v\n%s", err, out)
		}
	} else if os.Getenv("CI") == "true" {
		t.Errorf("openssl missing under CI=true")
	}
	if err := verify(dist, otherPub); err == nil {
		t.Errorf("verified with another key")
	}

	for name, tamper := range map[string]func(dist string){
		"modified binary": func(dist string) { appendTo(t, filepath.Join(dist, "drydock_v1.0.0_linux_amd64"), "#") },
		// A replaced binary with its line in SHA256SUMS updated to match.
		"modified SHA256SUMS": func(dist string) {
			bin := filepath.Join(dist, "drydock_v1.0.0_linux_amd64")
			old, _ := os.ReadFile(bin)
			appendTo(t, bin, "#")
			replaceIn(t, filepath.Join(dist, "SHA256SUMS"), sha256Hex(old), sha256Hex(append(old, '#')))
		},
		"no signature": func(dist string) { removeFile(t, filepath.Join(dist, "SHA256SUMS.sig")) },
		"no bundle":    func(dist string) { removeFile(t, filepath.Join(dist, "drydock_v1.0.0.intoto.sigstore.json")) },
		"bundle of another key": func(dist string) {
			otherPriv, _ := writeKey(t, t.TempDir(), "k")
			other := signedDist(t, otherPriv)
			copyFile(t, filepath.Join(other, "drydock_v1.0.0.intoto.sigstore.json"), filepath.Join(dist, "drydock_v1.0.0.intoto.sigstore.json"))
		},
		// The provenance and SHA256SUMS rewritten consistently and SHA256SUMS
		// re-signed: the bundle still signs the old provenance.
		"provenance replaced": func(dist string) {
			p := filepath.Join(dist, "drydock_v1.0.0.intoto.json")
			replaceIn(t, p, "https://example.com/builder", "https://example.com/other")
			b, _ := os.ReadFile(p)
			sums, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
			lines := strings.Split(strings.TrimSpace(string(sums)), "\n")
			lines[len(lines)-1] = sha256Hex(b) + "  drydock_v1.0.0.intoto.json"
			writeFile(t, filepath.Join(dist, "SHA256SUMS"), strings.Join(lines, "\n")+"\n")
			resign(t, priv, dist)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dist := signedDist(t, priv)
			tamper(dist)
			if err := verify(dist, pub); err == nil {
				t.Errorf("a release with %s verifies", name)
			} else {
				t.Logf("rejected: %v", err)
			}
		})
	}
}

func resign(t *testing.T, priv, dist string) {
	t.Helper()
	if err := run(context.Background(), []string{"sign", "-key", priv, "-sums", filepath.Join(dist, "SHA256SUMS"),
		"-provenance", filepath.Join(dist, "drydock_v1.0.0.intoto.json"), "-bundle", filepath.Join(t.TempDir(), "unused.json")}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSignRejectsBadKey(t *testing.T) {
	dist := signedDist(t, func() string { p, _ := writeKey(t, t.TempDir(), "k"); return p }())
	rsaKey := filepath.Join(t.TempDir(), "k.pem")
	writeFile(t, rsaKey, "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n")
	for name, key := range map[string]string{"missing key": filepath.Join(dist, "nope.pem"), "not ECDSA": rsaKey} {
		t.Run(name, func(t *testing.T) {
			err := run(context.Background(), []string{"sign", "-key", key, "-sums", filepath.Join(dist, "SHA256SUMS"),
				"-provenance", filepath.Join(dist, "drydock_v1.0.0.intoto.json"), "-bundle", filepath.Join(t.TempDir(), "b.json")}, nil)
			if err == nil {
				t.Errorf("signed with %s", name)
			}
		})
	}
}

func TestParseSums(t *testing.T) {
	h := strings.Repeat("0", 64)
	for name, tc := range map[string]struct {
		in   string
		want map[string]string
	}{
		"two lines":   {in: h + "  a\n" + h + " *b\n", want: map[string]string{"a": h, "b": h}},
		"one space":   {in: h + " a\n"},
		"short hash":  {in: h[:63] + "  a\n"},
		"path":        {in: h + "  ../a\n"},
		"duplicate":   {in: h + "  a\n" + h + "  a\n"},
		"empty line":  {in: h + "  a\n\n"},
		"no filename": {in: h + "  \n"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ParseSums([]byte(tc.in))
			if tc.want == nil {
				if err == nil {
					t.Errorf("accepted: %v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(b)+s)
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, strings.Replace(string(b), old, new, 1))
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func removeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, string(b))
}
