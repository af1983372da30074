package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drydock-scan/drydock/internal/attest"
	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// keyFiles writes a fresh ECDSA P-256 key pair as PEM files (private key
// SEC 1, public key PKIX) and returns their paths.
func keyFiles(t *testing.T) (priv, pub string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	priv, pub = filepath.Join(dir, "drydock.key"), filepath.Join(dir, "drydock.pub")
	if err := os.WriteFile(priv, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return priv, pub
}

// pushAlpine pushes the Alpine 3.16.9 test image to host/team/alpine:3.16.9
// and returns the tag and the manifest digest.
func pushAlpine(t *testing.T, host string) (string, v1.Hash) {
	t.Helper()
	img, err := testimage.Build(testimage.Config{Config: v1.Config{Cmd: []string{"/bin/sh"}}},
		testimage.Layer{Tar: gunzipFile(t, layerFromArchive(t, alpineImage)), CreatedBy: "ADD alpine-minirootfs-3.16.9 /"})
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/team/alpine:3.16.9"
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref, d
}

// httpGet is a plain GET, for what the test checks without
// go-containerregistry.
func httpGet(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", string(types.OCIImageIndex))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// TestAttestOnDistribution: the whole flow on the real CNCF distribution
// 2.8 registry, which has no referrers API, so the sha256-<hex> tag
// fallback is what is exercised: drydock image --format cosign-vuln,
// drydock attest (scanning, then from a saved report), drydock
// verify-attestation with the right key, another key, and against a
// tampered bundle.
func TestAttestOnDistribution(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	host := testimage.StartRegistry(t, bin, nil)
	ref, digest := pushAlpine(t, host)
	priv, pub := keyFiles(t)

	t.Run("image --format cosign-vuln", func(t *testing.T) {
		res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--format", "cosign-vuln", ref)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		var st writer.CosignVulnStatement
		if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
			t.Fatal(err)
		}
		want := []writer.StatementSubject{{Name: host + "/team/alpine", Digest: map[string]string{"sha256": digest.Hex}}}
		if diff := cmp.Diff(want, st.Subject); diff != "" {
			t.Errorf("subject (-want +got):\n%s", diff)
		}
		if got := pairs(st.Predicate.Scanner.Result); strings.Join(got, ";") != "busybox CVE-2023-42366;ssl_client CVE-2023-42366" {
			t.Errorf("findings in the result: %v", got)
		}
		m := st.Predicate.Metadata
		if m.ScanStartedOn.IsZero() || m.ScanFinishedOn.Before(m.ScanStartedOn) || time.Since(m.ScanStartedOn) > 10*time.Minute {
			t.Errorf("scan times %v – %v", m.ScanStartedOn, m.ScanFinishedOn)
		}
	})
	t.Run("image --format cosign-vuln without the vuln scanner", func(t *testing.T) {
		res := drydock(t, "image", "--scanners", "secret", "--format", "cosign-vuln", ref)
		if res.code != 2 || !strings.Contains(res.stderr, "needs the vuln scanner") {
			t.Errorf("exit %d, stderr %q; want 2 and the reason", res.code, res.stderr)
		}
	})

	res := drydock(t, "attest", "--key", priv, "--db", testDB, ref)
	if res.code != 0 {
		t.Fatalf("attest: exit %d: %s", res.code, res.stderr)
	}
	base := "http://" + host + "/v2/team/alpine"
	if code, _, body := httpGet(t, base+"/referrers/"+digest.String()); code != http.StatusNotFound {
		t.Fatalf("distribution answered the referrers API: HTTP %d %.200s", code, body)
	}
	code, _, body := httpGet(t, base+"/manifests/sha256-"+digest.Hex)
	if code != http.StatusOK {
		t.Fatalf("no sha256-<hex> fallback tag after attest: HTTP %d %s", code, body)
	}
	idx, err := v1.ParseIndexManifest(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(idx.Manifests) != 1 || idx.Manifests[0].ArtifactType != attest.BundleMediaType {
		t.Fatalf("fallback index %s", body)
	}
	if !strings.Contains(res.stdout, "attached "+host+"/team/alpine@"+idx.Manifests[0].Digest.String()) {
		t.Errorf("attest said %q; the index lists %s", res.stdout, idx.Manifests[0].Digest)
	}

	t.Run("verify-attestation", func(t *testing.T) {
		res := drydock(t, "verify-attestation", "--key", pub, ref)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		t.Logf("drydock verify-attestation:\n%s", res.stdout)
		for _, want := range []string{"1 verified vulnerability attestation", "findings  2 (", "pkg:github/drydock-scan/drydock@"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("no %q in:\n%s", want, res.stdout)
			}
		}
	})
	t.Run("verify-attestation --json", func(t *testing.T) {
		res := drydock(t, "verify-attestation", "--json", "--key", pub, host+"/team/alpine@"+digest.String())
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		var vs []verifiedAttestation
		if err := json.Unmarshal([]byte(res.stdout), &vs); err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 || vs[0].Statement.Subject[0].Digest["sha256"] != digest.Hex || vs[0].Statement.Predicate.Scanner.Result.Summary.Findings != 2 {
			t.Errorf("verified %+v", vs)
		}
	})
	t.Run("another key", func(t *testing.T) {
		_, otherPub := keyFiles(t)
		res := drydock(t, "verify-attestation", "--key", otherPub, ref)
		if res.code != 1 || !strings.Contains(res.stderr, "none of the 1 attestation(s)") {
			t.Errorf("exit %d, stderr %q; want 1", res.code, res.stderr)
		}
	})
	t.Run("from a saved report", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.json")
		if res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--format", "json", "-o", out, ref); res.code != 0 {
			t.Fatalf("image: exit %d: %s", res.code, res.stderr)
		}
		res := drydock(t, "attest", "--key", priv, "--report", out, ref)
		if res.code != 0 || !strings.Contains(res.stderr, "scanStartedOn is its created_at") {
			t.Fatalf("attest --report: exit %d: %s", res.code, res.stderr)
		}
		res = drydock(t, "verify-attestation", "--key", pub, ref)
		if res.code != 0 || !strings.Contains(res.stdout, "2 verified vulnerability attestation") {
			t.Errorf("exit %d: %s\n%s", res.code, res.stdout, res.stderr)
		}
	})
	t.Run("a report of another image", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "report.json")
		if res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--format", "json", "-o", out, ref); res.code != 0 {
			t.Fatalf("image: exit %d: %s", res.code, res.stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		other := strings.Repeat("0", 64)
		if err := os.WriteFile(out, []byte(strings.ReplaceAll(string(b), digest.Hex, other)), 0o644); err != nil {
			t.Fatal(err)
		}
		res := drydock(t, "attest", "--key", priv, "--report", out, ref)
		if res.code != 3 || !strings.Contains(res.stderr, "sha256:"+other) {
			t.Errorf("exit %d, stderr %q; want 3 naming the report's digest", res.code, res.stderr)
		}
	})
	t.Run("not a registry image", func(t *testing.T) {
		res := drydock(t, "attest", "--key", priv, "--db", testDB, "dir:"+t.TempDir())
		if res.code != 2 || !strings.Contains(res.stderr, "not a registry image reference") {
			t.Errorf("exit %d, stderr %q; want 2", res.code, res.stderr)
		}
	})
	t.Run("a tampered bundle", func(t *testing.T) {
		// A second image whose only attestation has one byte of its signed
		// statement changed, pushed as drydock attest would.
		tref, tdigest := pushAlpineVariant(t, host)
		bundlePath := filepath.Join(t.TempDir(), "bundle.json")
		if res := drydock(t, "attest", "--key", priv, "--db", testDB, "--bundle", bundlePath, tref); res.code != 0 {
			t.Fatalf("attest: exit %d: %s", res.code, res.stderr)
		}
		if res := drydock(t, "verify-attestation", "--key", pub, tref); res.code != 0 {
			t.Fatalf("the untampered attestation: exit %d: %s", res.code, res.stderr)
		}
		good, err := os.ReadFile(bundlePath)
		if err != nil {
			t.Fatal(err)
		}
		bad := tamper(t, good)
		subject, err := name.NewDigest(host + "/team/alpine-variant@" + tdigest.String())
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(subject)
		if err != nil {
			t.Fatal(err)
		}
		hBad, err := attest.Attach(context.Background(), subject, *desc, bad, writer.CosignVulnPredicateType, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		fallback := subject.Context().Tag("sha256-" + tdigest.Hex)
		idx, err := remote.Index(fallback)
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil || len(im.Manifests) != 2 {
			t.Fatalf("fallback index: %v, %v", im, err)
		}
		res := drydock(t, "verify-attestation", "--key", pub, tref)
		if res.code != 0 || !strings.Contains(res.stdout, "1 verified") || !strings.Contains(res.stderr, "attestation does not verify") {
			t.Errorf("one good, one tampered: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
		// The fallback index rewritten to list the tampered one only.
		only := *im
		only.Manifests = nil
		for _, d := range im.Manifests {
			if d.Digest == hBad {
				only.Manifests = append(only.Manifests, d)
			}
		}
		raw, err := json.Marshal(only)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Put(fallback, rawIndex(raw)); err != nil {
			t.Fatal(err)
		}
		res = drydock(t, "verify-attestation", "--key", pub, tref)
		if res.code != 1 || !strings.Contains(res.stderr, "none of the 1 attestation(s)") {
			t.Errorf("only a tampered attestation: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
		}
	})
}

// rawIndex is an image index as a remote.Taggable.
type rawIndex []byte

func (r rawIndex) RawManifest() ([]byte, error)        { return r, nil }
func (r rawIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }

// pushAlpineVariant pushes another image (Alpine and one more file) to
// host/team/alpine-variant:1.
func pushAlpineVariant(t *testing.T, host string) (string, v1.Hash) {
	t.Helper()
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{Tar: gunzipFile(t, layerFromArchive(t, alpineImage)), CreatedBy: "ADD alpine-minirootfs-3.16.9 /"},
		testimage.Layer{Files: map[string][]byte{"etc/variant": []byte("1")}, CreatedBy: "RUN echo 1 > /etc/variant"})
	if err != nil {
		t.Fatal(err)
	}
	ref := host + "/team/alpine-variant:1"
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return ref, d
}

// tamper changes one byte of the statement signed in a bundle: the count of
// findings in the summary.
func tamper(t *testing.T, bundle []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(bundle, &m); err != nil {
		t.Fatal(err)
	}
	env := m["dsseEnvelope"].(map[string]any)
	payload, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(payload), `"findings": 2,`)
	if i < 0 {
		t.Fatalf("no findings count in %.300s", payload)
	}
	payload[i+len(`"findings": `)] = '0'
	env["payload"] = base64.StdEncoding.EncodeToString(payload)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAttestReferrersAPI: the same attestation on go-containerregistry's
// in-process registry with the referrers API on: it is listed by
// GET /v2/<name>/referrers/<digest>, no fallback tag is written, and
// verify-attestation finds it.
func TestAttestReferrersAPI(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ref, digest := pushAlpine(t, host)
	priv, pub := keyFiles(t)
	if res := drydock(t, "attest", "--key", priv, "--db", testDB, ref); res.code != 0 {
		t.Fatalf("attest: exit %d: %s", res.code, res.stderr)
	}
	code, hdr, body := httpGet(t, srv.URL+"/v2/team/alpine/referrers/"+digest.String())
	if code != http.StatusOK || hdr.Get("Content-Type") != string(types.OCIImageIndex) {
		t.Fatalf("referrers API: HTTP %d %s", code, hdr.Get("Content-Type"))
	}
	idx, err := v1.ParseIndexManifest(strings.NewReader(string(body)))
	if err != nil || len(idx.Manifests) != 1 || idx.Manifests[0].Annotations[attest.AnnotationPredicateType] != writer.CosignVulnPredicateType {
		t.Fatalf("referrers %s (%v)", body, err)
	}
	if code, _, _ := httpGet(t, srv.URL+"/v2/team/alpine/manifests/sha256-"+digest.Hex); code != http.StatusNotFound {
		t.Errorf("a fallback tag was written (HTTP %d) on a registry with the referrers API", code)
	}
	res := drydock(t, "verify-attestation", "--key", pub, ref)
	if res.code != 0 || !strings.Contains(res.stdout, "1 verified vulnerability attestation") {
		t.Errorf("verify-attestation: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
}

// TestCosignVulnRefusesSourcesWithoutDigest: drydock image --format
// cosign-vuln of a root filesystem or a docker save archive fails (exit 3)
// naming why, rather than writing a Statement with an invented subject.
func TestCosignVulnRefusesSourcesWithoutDigest(t *testing.T) {
	rootfs := t.TempDir()
	if err := os.MkdirAll(filepath.Join(rootfs, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(rootfs, "etc", "os-release"), []byte("ID=alpine\nVERSION_ID=3.16.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ref, want string }{
		{"dir:" + rootfs, "an unpacked root filesystem"},
		{alpineImage, "a docker save archive"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			res := drydock(t, "image", "--scanners", "vuln", "--db", testDB, "--format", "cosign-vuln", tc.ref)
			if res.code != 3 || !strings.Contains(res.stderr, tc.want) || !strings.Contains(res.stderr, "no manifest digest") || res.stdout != "" {
				t.Errorf("exit %d, stdout %.100q, stderr %q; want 3, nothing written and the reason", res.code, res.stdout, res.stderr)
			}
		})
	}
}
