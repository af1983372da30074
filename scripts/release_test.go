// Package scripts_test tests the release build (make release), the
// verification gate that action.yml and the GitLab template run before
// drydock (verify-release.sh), and the template itself. Nothing here reaches
// the network: modules come from the local cache (GOPROXY=off), the
// action's downloads are replaced by local copies and the template's by a
// local HTTPS server.
package scripts_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"gopkg.in/yaml.v3"
)

// needTools skips when a tool is missing locally and fails under CI=true,
// where .ci/run provides every one of them.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing under CI=true: %v", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// writeKey writes a fresh ECDSA P-256 key pair (PKCS #8 and PKIX PEM).
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
	writeFile(t, priv, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	writeFile(t, pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644)
	return priv, pub
}

// signBlob is what openssl dgst -sha256 -sign writes (ASN.1 ECDSA).
func signBlob(t *testing.T, privPEM string, data []byte) []byte {
	t.Helper()
	b, err := os.ReadFile(privPEM)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.(*ecdsa.PrivateKey), sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func writeFile(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// copyDir hard-links the regular files of from into a new directory (the
// release binary is large); tampering goes through replaceFile.
func copyDir(t *testing.T, from string) string {
	t.Helper()
	to := t.TempDir()
	entries, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			if err := os.Link(filepath.Join(from, e.Name()), filepath.Join(to, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	return to
}

// tamper edits a copy of a signed release directory in one way.
type tamper func(t *testing.T, dir, bin string)

// replaceFile writes b to path through a new file, so a hard link to the
// old content (copyDir) is left alone.
func replaceFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".new"
	writeFile(t, tmp, b, 0o644)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// modifiedBinary appends a byte to the binary: SHA256SUMS no longer matches.
func modifiedBinary(t *testing.T, dir, bin string) {
	p := filepath.Join(dir, bin)
	replaceFile(t, p, append(readFile(t, p), '#'))
}

// modifiedSums replaces the binary and updates its SHA256SUMS line to
// match: the signature of SHA256SUMS no longer verifies.
func modifiedSums(t *testing.T, dir, bin string) {
	p := filepath.Join(dir, bin)
	old := readFile(t, p)
	repl := append(old, '#')
	replaceFile(t, p, repl)
	sums := filepath.Join(dir, "SHA256SUMS")
	updated := strings.Replace(string(readFile(t, sums)), sha256Hex(old), sha256Hex(repl), 1)
	replaceFile(t, sums, []byte(updated))
}

// otherKey re-signs SHA256SUMS with a key that is not the release key.
func otherKey(t *testing.T, dir, bin string) {
	priv, _ := writeKey(t, t.TempDir(), "other")
	replaceFile(t, filepath.Join(dir, "SHA256SUMS.sig"), signBlob(t, priv, readFile(t, filepath.Join(dir, "SHA256SUMS"))))
}

// unsigned removes the signature: an unsigned release.
func unsigned(t *testing.T, dir, bin string) {
	if err := os.Remove(filepath.Join(dir, "SHA256SUMS.sig")); err != nil {
		t.Fatal(err)
	}
}

// fakeDrydock is a stand-in release binary: when run, it records its
// arguments in the file named by $MARKER, so a test can tell whether it ran.
const fakeDrydock = "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$MARKER\"\n"

// TestVerifyRelease runs verify-release.sh on a stand-in binary with a
// SHA256SUMS signed by a test key (fast; TestRelease does the same on a real
// release).
func TestVerifyRelease(t *testing.T) {
	needTools(t, "bash", "sha256sum", "openssl")
	script, err := filepath.Abs("verify-release.sh")
	if err != nil {
		t.Fatal(err)
	}
	keys := t.TempDir()
	priv, pub := writeKey(t, keys, "release")
	const bin = "drydock_v1.0.0_linux_amd64"
	good := []byte(fakeDrydock)
	goodSum := sha256Hex(good)
	sums := goodSum + "  " + bin + "\n" + sha256Hex([]byte("tarball")) + "  " + bin + ".tar.gz\n"

	tests := []struct {
		name    string
		tamper  tamper
		sums    string // replaces SHA256SUMS (re-signed) when set
		args    func(dir string) []string
		wantRun bool
		msg     string // in the rejection's output, when set
	}{
		{name: "signed release", wantRun: true},
		{name: "signed release and the right pinned checksum", wantRun: true,
			args: func(string) []string { return []string{"--pubkey", pub, "--sha256", strings.ToUpper(goodSum)} }},
		{name: "modified binary", tamper: modifiedBinary},
		{name: "modified SHA256SUMS", tamper: modifiedSums},
		{name: "signature by another key", tamper: otherKey},
		{name: "unsigned release", tamper: unsigned},
		{name: "no public key", args: func(string) []string { return nil }},
		{name: "public key missing", args: func(dir string) []string { return []string{"--pubkey", filepath.Join(dir, "nope.pub")} }},
		{name: "private key given as the public key", args: func(string) []string { return []string{"--pubkey", priv} },
			msg: "cannot read " + priv + " as a PEM public key"},
		{name: "binary not in SHA256SUMS", sums: sha256Hex([]byte("x")) + "  other\n"},
		{name: "binary twice in SHA256SUMS", sums: sums + goodSum + " *" + bin + "\n"},
		{name: "wrong pinned checksum", args: func(string) []string { return []string{"--pubkey", pub, "--sha256", sha256Hex([]byte("x"))} }},
		{name: "short pinned checksum", args: func(string) []string { return []string{"--pubkey", pub, "--sha256", goodSum[:63]} }},
		{name: "pinned checksum with a second line", args: func(string) []string {
			return []string{"--pubkey", pub, "--sha256", goodSum + "\n" + goodSum}
		}},
		{name: "no signature check, pinned checksum", tamper: unsigned, wantRun: true,
			args: func(string) []string { return []string{"--no-signature", "--sha256", goodSum} }},
		{name: "no signature check, no pinned checksum", tamper: unsigned,
			args: func(string) []string { return []string{"--no-signature"} }},
		{name: "no signature check, modified binary", tamper: modifiedBinary,
			args: func(string) []string { return []string{"--no-signature", "--sha256", goodSum} }},
		{name: "missing file", tamper: func(t *testing.T, dir, bin string) { os.Remove(filepath.Join(dir, bin)) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// Downloaded files are not executable; the script sets the mode.
			writeFile(t, filepath.Join(dir, bin), good, 0o644)
			s := sums
			if tc.sums != "" {
				s = tc.sums
			}
			writeFile(t, filepath.Join(dir, "SHA256SUMS"), []byte(s), 0o644)
			writeFile(t, filepath.Join(dir, "SHA256SUMS.sig"), signBlob(t, priv, []byte(s)), 0o644)
			if tc.tamper != nil {
				tc.tamper(t, dir, bin)
			}
			opts := []string{"--pubkey", pub}
			if tc.args != nil {
				opts = tc.args(dir)
			}
			marker := filepath.Join(dir, "ran")
			cmd := exec.Command(script, append(append(opts, filepath.Join(dir, bin)), "image", "--format", "sarif", "alpine:3.20")...)
			cmd.Env = append(os.Environ(), "MARKER="+marker)
			out, err := cmd.CombinedOutput()
			ranArgs, statErr := os.ReadFile(marker)
			ran := statErr == nil

			if !tc.wantRun {
				if err == nil {
					t.Errorf("exit 0, want a rejection\n%s", out)
				}
				if ran {
					t.Errorf("the binary ran although it was rejected")
				}
				if _, err := os.Stat(filepath.Join(dir, bin)); !os.IsNotExist(err) {
					t.Errorf("rejected file still there (stat: %v); a later step could run it", err)
				}
				if !strings.Contains(string(out), tc.msg) {
					t.Errorf("rejection %q, want it to say %q", lastLines(out, 1), tc.msg)
				}
				t.Logf("rejected: %s", lastLines(out, 1))
				return
			}
			if err != nil {
				t.Fatalf("verify-release.sh: %v\n%s", err, out)
			}
			if diff := cmp.Diff("image\n--format\nsarif\nalpine:3.20\n", string(ranArgs)); diff != "" {
				t.Errorf("arguments the binary got (-want +got):\n%s", diff)
			}
		})
	}
}

// makeRelease runs make release for the host's linux target into dist.
func makeRelease(t *testing.T, root, dist, version, key string, extraEnv ...string) string {
	t.Helper()
	args := []string{"-C", root, "--no-print-directory", "release",
		"RELEASE_TARGETS=linux/" + runtime.GOARCH, "VERSION=" + version, "DIST=" + dist}
	if key != "" {
		args = append(args, "RELEASE_SIGNING_KEY="+key)
	}
	cmd := exec.Command("make", args...)
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
	cmd.Env = append(cmd.Env, extraEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make release: %v\n%s", err, out)
	}
	return string(out)
}

// listDir returns name → content of the regular files of dir.
func listDir(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.Type().IsRegular() {
			files[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
		}
	}
	return files
}

func keysOf(m map[string][]byte) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func opensslVerify(t *testing.T, pub, dir string) error {
	t.Helper()
	out, err := exec.Command("openssl", "dgst", "-sha256", "-verify", pub, "-signature",
		filepath.Join(dir, "SHA256SUMS.sig"), filepath.Join(dir, "SHA256SUMS")).CombinedOutput()
	if err == nil && !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl exit 0 without \"Verified OK\": %s", out)
	}
	return err
}

// TestRelease builds one signed release of the working tree with make
// release (the host's linux target) and checks it: its contents, that a
// second build is byte-identical, that verify-release.sh, action.yml and the
// GitLab template accept it and refuse it tampered with.
func TestRelease(t *testing.T) {
	if testing.Short() {
		t.Skip("builds drydock twice; skipped under -short")
	}
	needTools(t, "make", "git", "tar", "gzip", "sha256sum", "openssl", "bash", "curl", "sh")
	root := repoRoot(t)
	keys := t.TempDir()
	priv, pub := writeKey(t, keys, "release")
	const version = "v0.0.0-test"
	bin := "drydock_" + version + "_linux_" + runtime.GOARCH
	dist := t.TempDir()
	out := makeRelease(t, root, dist, version, priv)
	if strings.Contains(out, "UNSIGNED") {
		t.Errorf("a signed build says it is unsigned:\n%s", out)
	}

	t.Run("contents", func(t *testing.T) { checkContents(t, root, dist, version, bin) })
	t.Run("reproducible", func(t *testing.T) { checkReproducible(t, root, dist, version, priv, pub) })
	t.Run("verify-release.sh", func(t *testing.T) { checkVerifyReal(t, dist, bin, version, pub) })
	t.Run("action", func(t *testing.T) { checkAction(t, root, dist, version, bin, pub) })
	t.Run("gitlab", func(t *testing.T) { checkGitLab(t, root, dist, version, bin, pub) })
	t.Run("cosign", func(t *testing.T) { checkCosign(t, dist, version, bin, pub) })
}

// checkCosign: the cosign CLI verifies the release's Sigstore bundle and
// SHA256SUMS.sig with the key, offline, as docs/releases.md says, and
// refuses another key and a file that is not a subject. Skipped without
// cosign on PATH (measured with cosign v2.6.5, go install
// github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5).
func checkCosign(t *testing.T, dist, version, bin, pub string) {
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("cosign not on PATH")
	}
	root := filepath.Join(t.TempDir(), "empty_trusted_root.json")
	writeFile(t, root, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`), 0o644)
	_, otherPub := writeKey(t, t.TempDir(), "other")
	run := func(args ...string) error {
		cmd := exec.Command(cosign, args...)
		cmd.Dir = dist
		cmd.Env = append(os.Environ(), "TUF_ROOT="+t.TempDir(), "SIGSTORE_NO_CACHE=1")
		out, err := cmd.CombinedOutput()
		t.Logf("cosign %s: %v\n%s", args[0], err, lastLines(out, 1))
		return err
	}
	attestation := func(key, blob string) error {
		return run("verify-blob-attestation", "--new-bundle-format", "--bundle", "drydock_"+version+".intoto.sigstore.json",
			"--trusted-root", root, "--key", key, "--insecure-ignore-tlog", "--type", "https://slsa.dev/provenance/v1", blob)
	}
	if err := attestation(pub, bin); err != nil {
		t.Errorf("cosign does not verify the provenance bundle for %s", bin)
	}
	if err := attestation(otherPub, bin); err == nil {
		t.Errorf("cosign verified the bundle with another key")
	}
	if err := attestation(pub, "SHA256SUMS"); err == nil {
		t.Errorf("cosign verified a file that is not a subject")
	}
	if err := run("verify-blob", "--key", pub, "--signature", "SHA256SUMS.sig", "--insecure-ignore-tlog", "SHA256SUMS"); err != nil {
		t.Errorf("cosign verify-blob does not verify SHA256SUMS.sig")
	}
	if err := run("verify-blob", "--key", otherPub, "--signature", "SHA256SUMS.sig", "--insecure-ignore-tlog", "SHA256SUMS"); err == nil {
		t.Errorf("cosign verify-blob verified SHA256SUMS.sig with another key")
	}
}

func checkContents(t *testing.T, root, dist, version, bin string) {
	files := listDir(t, dist)
	prov, sbom := "drydock_"+version+".intoto.json", "drydock_"+version+".cdx.json"
	bundle := "drydock_" + version + ".intoto.sigstore.json"
	want := []string{"SHA256SUMS", "SHA256SUMS.sig", sbom, prov, bundle, bin, bin + ".tar.gz"}
	sort.Strings(want)
	if diff := cmp.Diff(want, keysOf(files)); diff != "" {
		t.Fatalf("release files (-want +got):\n%s", diff)
	}
	// SHA256SUMS: every file but the signatures, each with its digest.
	sums := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(files["SHA256SUMS"])), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("SHA256SUMS line %q", line)
		}
		sums[f[1]] = f[0]
	}
	for _, name := range []string{bin, bin + ".tar.gz", sbom, prov} {
		if sums[name] != sha256Hex(files[name]) {
			t.Errorf("SHA256SUMS: %s = %q, want %s", name, sums[name], sha256Hex(files[name]))
		}
	}
	if len(sums) != 4 {
		t.Errorf("SHA256SUMS lists %d files, want 4:\n%s", len(sums), files["SHA256SUMS"])
	}

	// The provenance: a valid in-toto Statement (the in-toto validator)
	// whose subjects are SHA256SUMS without the provenance itself.
	var st intoto.Statement
	if err := protojson.Unmarshal(files[prov], &st); err != nil {
		t.Fatalf("%s: %v", prov, err)
	}
	if err := st.Validate(); err != nil {
		t.Fatalf("%s: in-toto Statement.Validate: %v", prov, err)
	}
	if st.GetPredicateType() != "https://slsa.dev/provenance/v1" {
		t.Errorf("predicateType %q", st.GetPredicateType())
	}
	subjects := map[string]string{}
	for _, s := range st.GetSubject() {
		subjects[s.GetName()] = s.GetDigest()["sha256"]
	}
	wantSubjects := map[string]string{}
	for k, v := range sums {
		if k != prov {
			wantSubjects[k] = v
		}
	}
	if diff := cmp.Diff(wantSubjects, subjects); diff != "" {
		t.Errorf("provenance subjects vs SHA256SUMS (-want +got):\n%s", diff)
	}
	var p struct {
		Predicate struct {
			BuildDefinition struct {
				BuildType          string `json:"buildType"`
				ExternalParameters struct {
					Source  struct{ Repository, Commit string } `json:"source"`
					Version string                              `json:"version"`
				} `json:"externalParameters"`
				ResolvedDependencies []struct {
					Name   string            `json:"name"`
					URI    string            `json:"uri"`
					Digest map[string]string `json:"digest"`
				} `json:"resolvedDependencies"`
			} `json:"buildDefinition"`
			RunDetails struct {
				Builder struct {
					ID string `json:"id"`
				} `json:"builder"`
			} `json:"runDetails"`
		} `json:"predicate"`
	}
	if err := json.Unmarshal(files[prov], &p); err != nil {
		t.Fatal(err)
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	bd := p.Predicate.BuildDefinition
	if got := bd.ExternalParameters.Source.Commit; got != strings.TrimSpace(string(head)) || bd.ExternalParameters.Version != version {
		t.Errorf("externalParameters: commit %q version %q, want HEAD %s and %s", got, bd.ExternalParameters.Version, head, version)
	}
	if bd.BuildType == "" || p.Predicate.RunDetails.Builder.ID != "https://github.com/drydock-scan/drydock/blob/main/docs/releases.md#builder-make-release" {
		t.Errorf("buildType %q, builder.id %q", bd.BuildType, p.Predicate.RunDetails.Builder.ID)
	}
	deps := map[string]string{}
	for _, d := range bd.ResolvedDependencies {
		deps[d.Name] = d.URI + " " + d.Digest["sha256"]
	}
	goVersion, err := exec.Command("go", "env", "GOVERSION").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "pkg:generic/go@" + strings.TrimPrefix(strings.TrimSpace(string(goVersion)), "go") + " "; deps["go"] != want {
		t.Errorf("go toolchain dependency %q, want %q", deps["go"], want)
	}
	if !strings.HasSuffix(deps["go.sum"], " "+sha256Hex(readFile(t, filepath.Join(root, "go.sum")))) {
		t.Errorf("go.sum dependency %q, want the digest of %s/go.sum", deps["go.sum"], root)
	}

	// The SBOM: CycloneDX of the binary by drydock, dated by the commit.
	var bom struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Timestamp string `json:"timestamp"`
			Component struct{ Name, Version string }
		} `json:"metadata"`
		Components []struct{ Name, Version string } `json:"components"`
	}
	if err := json.Unmarshal(files[sbom], &bom); err != nil {
		t.Fatalf("%s: %v", sbom, err)
	}
	epoch, err := exec.Command("git", "-C", root, "log", "-1", "--format=%ct").Output()
	if err != nil {
		t.Fatal(err)
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(string(epoch)), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(secs, 0).UTC().Format("2006-01-02T15:04:05Z"); bom.Metadata.Timestamp != want {
		t.Errorf("SBOM timestamp %q, want the commit time %s", bom.Metadata.Timestamp, want)
	}
	if bom.BOMFormat != "CycloneDX" || bom.Metadata.Component.Name != "drydock" || bom.Metadata.Component.Version != version {
		t.Errorf("SBOM metadata: %+v", bom)
	}
	have := map[string]string{}
	for _, c := range bom.Components {
		have[c.Name] = c.Version
	}
	for name, want := range map[string]string{
		"github.com/drydock-scan/drydock":        version,
		"github.com/sigstore/sigstore-go":        "",
		"github.com/CycloneDX/cyclonedx-go":      "",
		"stdlib":                                 strings.TrimPrefix(strings.TrimSpace(string(goVersion)), "go"),
		"github.com/in-toto/attestation":         "",
		"github.com/google/go-containerregistry": "",
	} {
		got, ok := have[name]
		if !ok || (want != "" && got != want) {
			t.Errorf("SBOM component %s = %q (listed: %v), want %q", name, got, ok, want)
		}
	}
}

func checkReproducible(t *testing.T, root, dist, version, priv, pub string) {
	// The second build: GOAMD64=v3 in the environment (the Makefile pins
	// the level; without the pin the amd64 binaries would differ), and no
	// key, so it is unsigned, then signed with releasemeta sign directly.
	second := t.TempDir()
	out := makeRelease(t, root, second, version, "", "GOAMD64=v3")
	if !strings.Contains(out, "UNSIGNED RELEASE") {
		t.Errorf("make release without a key does not say the release is unsigned:\n%s", out)
	}
	a, b := listDir(t, dist), listDir(t, second)
	for _, name := range []string{"SHA256SUMS.sig", "drydock_" + version + ".intoto.sigstore.json"} {
		if _, ok := b[name]; ok {
			t.Errorf("unsigned build wrote %s", name)
		}
		delete(a, name)
	}
	if diff := cmp.Diff(keysOf(a), keysOf(b)); diff != "" {
		t.Fatalf("the two builds have different files (-first +second):\n%s", diff)
	}
	for name := range a {
		if !bytes.Equal(a[name], b[name]) {
			t.Errorf("%s differs between two builds of the same commit (or the source changed between them): %s vs %s",
				name, sha256Hex(a[name]), sha256Hex(b[name]))
		}
	}
	// Signatures are ECDSA, randomized: they are not compared, both must verify.
	cmd := exec.Command("go", "run", "./scripts/releasemeta", "sign", "-key", priv, "-sums", filepath.Join(second, "SHA256SUMS"),
		"-provenance", filepath.Join(second, "drydock_"+version+".intoto.json"),
		"-bundle", filepath.Join(second, "drydock_"+version+".intoto.sigstore.json"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("releasemeta sign: %v\n%s", err, out)
	}
	for _, d := range []string{dist, second} {
		if err := opensslVerify(t, pub, d); err != nil {
			t.Errorf("openssl: the signature of %s/SHA256SUMS does not verify: %v", d, err)
		}
		cmd := exec.Command("go", "run", "./scripts/releasemeta", "verify", "-dist", d, "-pubkey", pub, "-version", version)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOPROXY=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("releasemeta verify %s: %v\n%s", d, err, out)
		}
	}
}

// checkVerifyReal: verify-release.sh on the real release runs it; tampered
// copies are refused and deleted.
func checkVerifyReal(t *testing.T, dist, bin, version, pub string) {
	script, err := filepath.Abs("verify-release.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		tamper tamper
	}{
		{name: "signed release"},
		{name: "modified binary", tamper: modifiedBinary},
		{name: "modified SHA256SUMS", tamper: modifiedSums},
		{name: "signature by another key", tamper: otherKey},
		{name: "unsigned release", tamper: unsigned},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyDir(t, dist)
			if tc.tamper != nil {
				tc.tamper(t, dir, bin)
			}
			out, err := exec.Command(script, "--pubkey", pub, filepath.Join(dir, bin), "version").CombinedOutput()
			ran := strings.Contains(string(out), "drydock "+version+" (")
			if tc.tamper == nil {
				if err != nil || !ran {
					t.Fatalf("the signed release was not run: %v\n%s", err, out)
				}
				return
			}
			if err == nil || ran {
				t.Errorf("accepted or ran: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, bin)); !os.IsNotExist(err) {
				t.Errorf("the rejected binary is still there")
			}
		})
	}
}

// actionFile is the part of action.yml the tests read.
type actionFile struct {
	Inputs map[string]struct {
		Required bool   `yaml:"required"`
		Default  string `yaml:"default"`
	} `yaml:"inputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []struct {
			Name  string            `yaml:"name"`
			Shell string            `yaml:"shell"`
			Env   map[string]string `yaml:"env"`
			Run   string            `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// checkAction runs action.yml's step scripts, in order, the way a Linux
// runner would, with curl replaced by a copy from a local directory (no
// network).
func checkAction(t *testing.T, root, dist, version, bin, pub string) {
	var action actionFile
	if err := yaml.Unmarshal(readFile(t, filepath.Join(root, "action.yml")), &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if action.Runs.Using != "composite" || len(action.Runs.Steps) != 2 {
		t.Fatalf("action.yml: want a composite action with 2 steps (download, verify and run), got %q with %d", action.Runs.Using, len(action.Runs.Steps))
	}
	if !action.Inputs["version"].Required || action.Inputs["verify-signature"].Default != "true" {
		t.Errorf("version must be required and verify-signature default to true: %+v", action.Inputs)
	}
	if !strings.Contains(action.Runs.Steps[1].Run, `verify-release.sh" "${opts[@]}" "$DRYDOCK_BIN" image`) {
		t.Errorf("the second step must run drydock only through verify-release.sh:\n%s", action.Runs.Steps[1].Run)
	}
	pemText := string(readFile(t, pub))
	goodSum := sha256Hex(readFile(t, filepath.Join(dist, bin)))
	for _, tc := range []struct {
		name    string
		tamper  tamper
		inputs  map[string]string
		wantRun bool
	}{
		{name: "signed release, key as PEM text", inputs: map[string]string{"public-key": pemText}, wantRun: true},
		{name: "signed release, key as a path, checksum pinned", inputs: map[string]string{"public-key": pub, "sha256": goodSum}, wantRun: true},
		// The test key is not the pinned release/drydock-release.pub.
		{name: "signed by a key other than the pinned default", inputs: map[string]string{}},
		{name: "modified binary", tamper: modifiedBinary, inputs: map[string]string{"public-key": pub}},
		{name: "modified SHA256SUMS", tamper: modifiedSums, inputs: map[string]string{"public-key": pub}},
		{name: "signature by another key", tamper: otherKey, inputs: map[string]string{"public-key": pub}},
		{name: "unsigned release", tamper: unsigned, inputs: map[string]string{"public-key": pub}},
		{name: "wrong pinned checksum", inputs: map[string]string{"public-key": pub, "sha256": sha256Hex(nil)}},
		{name: "unsigned release accepted with verify-signature false and a pin", tamper: unsigned,
			inputs: map[string]string{"verify-signature": "false", "sha256": goodSum}, wantRun: true},
		{name: "verify-signature false without a pin", tamper: unsigned, inputs: map[string]string{"verify-signature": "false"}},
		{name: "verify-signature neither true nor false", inputs: map[string]string{"verify-signature": "no", "public-key": pub}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			server := copyDir(t, dist)
			if tc.tamper != nil {
				tc.tamper(t, server, bin)
			}
			shims := filepath.Join(dir, "bin")
			runnerTemp := filepath.Join(dir, "runner-temp")
			for _, d := range []string{shims, runnerTemp} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			// The "server": curl -o OUT URL copies the file named after the URL's last element.
			curl := "#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do case \"$1\" in -o) out=$2; shift 2 ;; --proto|--retry) shift 2 ;; -*) shift ;; *) url=$1; shift ;; esac; done\n" +
				"exec cp \"" + server + "/${url##*/}\" \"$out\"\n"
			writeFile(t, filepath.Join(shims, "curl"), []byte(curl), 0o755)
			githubEnv := filepath.Join(dir, "github-env")
			writeFile(t, githubEnv, nil, 0o644)
			inputs := map[string]string{"version": version, "args": "--help ignored:*"}
			for k, v := range action.Inputs {
				if _, ok := inputs[k]; !ok {
					inputs[k] = v.Default
				}
			}
			for k, v := range tc.inputs {
				inputs[k] = v
			}
			arch := map[string]string{"amd64": "X64", "arm64": "ARM64"}[runtime.GOARCH]
			base := append(os.Environ(),
				"PATH="+shims+string(os.PathListSeparator)+os.Getenv("PATH"),
				"RUNNER_OS=Linux", "RUNNER_ARCH="+arch, "RUNNER_TEMP="+runnerTemp,
				"GITHUB_ENV="+githubEnv, "GITHUB_ACTION_PATH="+root)

			var stepErr error
			var lastOut []byte
			for i, step := range action.Runs.Steps {
				if step.Shell != "bash" {
					t.Fatalf("step %d: shell %q, want bash", i, step.Shell)
				}
				env := append([]string(nil), base...)
				// What the runner does: ${{ inputs.x }} substituted, $GITHUB_ENV lines exported.
				for k, v := range step.Env {
					for name, val := range inputs {
						v = strings.ReplaceAll(v, "${{ inputs."+name+" }}", val)
					}
					if strings.Contains(v, "${{") {
						t.Fatalf("step %d: env %s=%q refers to an unknown input", i, k, v)
					}
					env = append(env, k+"="+v)
				}
				env = append(env, strings.Fields(string(readFile(t, githubEnv)))...)
				cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step.Run)
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				lastOut = out
				if err != nil {
					stepErr = err
					t.Logf("step %q failed: %v\n%s", step.Name, err, out)
					break
				}
			}
			// drydock image --help ran (the extra argument is ignored by cobra's help).
			ran := bytes.Contains(lastOut, []byte("drydock image IMAGE")) || bytes.Contains(lastOut, []byte("Usage:"))
			downloaded := filepath.Join(runnerTemp, "drydock-"+version, bin)
			if !tc.wantRun {
				if stepErr == nil || ran {
					t.Errorf("the action succeeded or ran drydock: %v\n%s", stepErr, lastOut)
				}
				if _, err := os.Stat(downloaded); !os.IsNotExist(err) {
					t.Errorf("the rejected binary is still at %s", downloaded)
				}
				return
			}
			if stepErr != nil || !ran {
				t.Fatalf("the action did not run drydock image: %v\n%s", stepErr, lastOut)
			}
		})
	}
}

// gitlabJob is the part of the GitLab template the test reads.
type gitlabJob struct {
	Image        string            `yaml:"image"`
	Variables    map[string]string `yaml:"variables"`
	BeforeScript []string          `yaml:"before_script"`
	Script       []string          `yaml:"script"`
	Artifacts    struct {
		When    string            `yaml:"when"`
		Reports map[string]string `yaml:"reports"`
	} `yaml:"artifacts"`
}

// checkGitLab runs the template's before_script and script lines with sh,
// as a runner would, against the release served by a local HTTPS server
// (real curl, a test CA): the real release verifies, updates its database
// from the repo's mirror, scans the repo's Alpine image and writes the
// container-scanning report; tampered releases are refused before drydock
// runs.
func checkGitLab(t *testing.T, root, dist, version, bin, pub string) {
	var tmpl map[string]gitlabJob
	if err := yaml.Unmarshal(readFile(t, filepath.Join(root, "ci/gitlab/drydock.gitlab-ci.yml")), &tmpl); err != nil {
		t.Fatalf("template: %v", err)
	}
	job, ok := tmpl["drydock-container-scanning"]
	if !ok || len(job.Script) == 0 {
		t.Fatalf("template: no drydock-container-scanning job with a script: %v", tmpl)
	}
	if job.Artifacts.Reports["container_scanning"] != "gl-container-scanning-report.json" || job.Artifacts.When != "always" {
		t.Errorf("artifacts: %+v, want reports: container_scanning: gl-container-scanning-report.json, when: always", job.Artifacts)
	}
	const ref = "0123456789abcdef0123456789abcdef01234567"
	for _, tc := range []struct {
		name    string
		tamper  tamper
		vars    map[string]string
		wantRun bool
	}{
		{name: "signed release, key from the pinned ref", wantRun: true},
		{name: "signed release, key as PEM text, checksum pinned", wantRun: true, vars: map[string]string{
			"DRYDOCK_PUBLIC_KEY": string(readFile(t, pub)), "DRYDOCK_SHA256": sha256Hex(readFile(t, filepath.Join(dist, bin)))}},
		{name: "modified binary", tamper: modifiedBinary},
		{name: "modified SHA256SUMS", tamper: modifiedSums},
		{name: "signature by another key", tamper: otherKey},
		{name: "unsigned release", tamper: unsigned},
		{name: "no DRYDOCK_REF", vars: map[string]string{"DRYDOCK_REF": ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served := copyDir(t, dist)
			if tc.tamper != nil {
				tc.tamper(t, served, bin)
			}
			mux := http.NewServeMux()
			mux.Handle("/releases/"+version+"/", http.StripPrefix("/releases/"+version, http.FileServer(http.Dir(served))))
			// The repository at the pinned ref: its verify script, and the
			// test key standing in for release/drydock-release.pub.
			mux.HandleFunc("/raw/"+ref+"/scripts/verify-release.sh", func(w http.ResponseWriter, r *http.Request) {
				http.ServeFile(w, r, filepath.Join(root, "scripts/verify-release.sh"))
			})
			mux.HandleFunc("/raw/"+ref+"/release/drydock-release.pub", func(w http.ResponseWriter, r *http.Request) {
				http.ServeFile(w, r, pub)
			})
			srv := httptest.NewTLSServer(mux)
			defer srv.Close()
			ca := filepath.Join(t.TempDir(), "ca.pem")
			writeFile(t, ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644)

			project := t.TempDir()
			ci := map[string]string{
				"CI_PROJECT_DIR": project, "CI_REGISTRY_IMAGE": "registry.example.com/group/app", "CI_COMMIT_SHA": ref,
				"CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "not-used",
			}
			vars := map[string]string{}
			for k, v := range job.Variables {
				vars[k] = os.Expand(v, func(name string) string { return ci[name] })
			}
			vars["DRYDOCK_VERSION"] = version
			vars["DRYDOCK_REF"] = ref
			vars["DRYDOCK_RELEASES_URL"] = srv.URL + "/releases"
			vars["DRYDOCK_REPO_RAW_URL"] = srv.URL + "/raw"
			vars["DRYDOCK_DB_UPDATE_ARGS"] = "--source " + filepath.Join(root, "testdata/mirror")
			vars["DRYDOCK_IMAGE"] = filepath.Join(root, "testdata/images/alpine-3.16.9.tar")
			// The default --severity HIGH,CRITICAL would leave the image's one
			// MEDIUM finding out of the report.
			vars["DRYDOCK_ARGS"] = "--severity MEDIUM,HIGH,CRITICAL"
			for k, v := range tc.vars {
				vars[k] = v
			}
			env := append(os.Environ(), "CURL_CA_BUNDLE="+ca)
			for k, v := range ci {
				env = append(env, k+"="+v)
			}
			for k, v := range vars {
				env = append(env, k+"="+v)
			}
			// The runner: every line in one shell, stopping at the first failure.
			script := strings.Join(append(append([]string(nil), job.BeforeScript...), job.Script...), "\n")
			cmd := exec.Command("sh", "-e", "-c", script)
			cmd.Dir = project
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			report := filepath.Join(project, "gl-container-scanning-report.json")
			if !tc.wantRun {
				if err == nil {
					t.Errorf("the job passed:\n%s", out)
				}
				if _, err := os.Stat(report); err == nil {
					t.Errorf("a rejected release wrote %s", report)
				}
				if _, err := os.Stat(filepath.Join(project, ".drydock-release", bin)); !os.IsNotExist(err) {
					t.Errorf("the rejected binary is still in the project dir")
				}
				t.Logf("rejected:\n%s", lastLines(out, 3))
				return
			}
			if err != nil {
				t.Fatalf("the job failed: %v\n%s", err, out)
			}
			var rep struct {
				Version string `json:"version"`
				Scan    struct {
					Scanner struct{ ID, Version string } `json:"scanner"`
					Status  string                       `json:"status"`
				} `json:"scan"`
				Vulnerabilities []struct {
					Identifiers []struct{ Value string } `json:"identifiers"`
				} `json:"vulnerabilities"`
			}
			if err := json.Unmarshal(readFile(t, report), &rep); err != nil {
				t.Fatalf("%s: %v", report, err)
			}
			var ids []string
			for _, v := range rep.Vulnerabilities {
				if len(v.Identifiers) > 0 {
					ids = append(ids, v.Identifiers[0].Value)
				}
			}
			if rep.Scan.Scanner.Version != version || rep.Scan.Status != "success" || !strings.Contains(strings.Join(ids, " "), "CVE-2023-42366") {
				t.Errorf("report: scanner %+v status %q ids %v, want the release %s, success and CVE-2023-42366", rep.Scan.Scanner, rep.Scan.Status, ids, version)
			}
		})
	}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
