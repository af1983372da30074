package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// TestCosignVerifiesDrydockAttestation: the cosign CLI verifies drydock
// attest's referrer on the real distribution 2.8 registry (tag fallback)
// with the public key, offline (an empty trusted root, no transparency log),
// and refuses another key. Run with cosign on PATH (measured with cosign
// v2.6.5, built with go install github.com/sigstore/cosign/v2/cmd/cosign@v2.6.5);
// without it the test is skipped. DRYDOCK_INTEROP_HOST=127.0.0.1:PORT runs
// it against another plain-HTTP registry instead (e.g. one with the
// referrers API).
func TestCosignVerifiesDrydockAttestation(t *testing.T) {
	cosign, err := exec.LookPath("cosign")
	if err != nil {
		t.Skip("cosign not on PATH")
	}
	host := os.Getenv("DRYDOCK_INTEROP_HOST")
	if host == "" {
		bin := testimage.RegistryBinary(t)
		host = testimage.StartRegistry(t, bin, nil)
	}
	ref, digest := pushAlpine(t, host)
	priv, pub := keyFiles(t)
	if res := drydock(t, "attest", "--key", priv, "--db", testDB, ref); res.code != 0 {
		t.Fatalf("attest: exit %d: %s", res.code, res.stderr)
	}
	// An empty trusted root: no Fulcio, Rekor, CT log or TSA is trusted, so
	// only the key can make the bundle verify (and cosign needs no network).
	root := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(root, []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot+json;version=0.1","tlogs":[],"certificateAuthorities":[],"ctlogs":[],"timestampAuthorities":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	verify := func(key string) (int, string, string) {
		cmd := exec.Command(cosign, "verify-attestation", "--new-bundle-format", "--trusted-root", root, "--key", key,
			"--insecure-ignore-tlog", "--insecure-ignore-sct", "--offline", "--allow-insecure-registry", "--allow-http-registry",
			"--type", "https://cosign.sigstore.dev/attestation/vuln/v1", host+"/team/alpine@"+digest.String())
		cmd.Env = append(cmd.Environ(), "TUF_ROOT="+t.TempDir(), "SIGSTORE_NO_CACHE=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}
	code, out, errs := verify(pub)
	t.Logf("cosign verify-attestation: exit %d\nstdout: %.600s\nstderr: %s", code, out, errs)
	if code != 0 {
		t.Fatal("cosign did not verify drydock's attestation")
	}
	// cosign prints the verified DSSE envelope: its payload is drydock's
	// Statement about the pushed manifest.
	var env struct{ PayloadType, Payload string }
	if err := json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &env); err != nil {
		t.Fatalf("cosign output: %v", err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var st writer.CosignVulnStatement
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	if env.PayloadType != "application/vnd.in-toto+json" || st.PredicateType != writer.CosignVulnPredicateType ||
		st.Subject[0].Digest["sha256"] != digest.Hex || st.Predicate.Scanner.Result.Summary.Findings != 2 {
		t.Errorf("cosign verified %s %s about %v", env.PayloadType, st.PredicateType, st.Subject)
	}
	_, otherPub := keyFiles(t)
	if code, _, errs := verify(otherPub); code == 0 {
		t.Errorf("cosign verified with another key: %s", errs)
	}
}
