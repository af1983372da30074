package main

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// cli runs this test binary as the drydock command in a new process with
// the given extra environment.
func cli(t *testing.T, env []string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--cache-dir", t.TempDir()}, args...)...)
	cmd.Env = append(append(os.Environ(), "DRYDOCK_E2E_AS_CLI=1"), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return cliRun{code, out.String(), errb.String()}
}

// TestRegistryPull: `drydock sbom HOST/REPO:TAG` against the real CNCF
// distribution registry with TLS (a CA trusted through SSL_CERT_FILE) and
// basic auth (from a Docker config file), for both platforms of a
// multi-arch index.
func TestRegistryPull(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	ca := testimage.MakeCA(t, t.TempDir())
	host := testimage.StartRegistry(t, bin, &ca)

	base := gunzipFile(t, layerFromArchive(t, alpineImage))
	var idx v1.ImageIndex = empty.Index
	for _, arch := range []string{"amd64", "arm64"} {
		img, err := testimage.Build(testimage.Config{Arch: arch, Config: v1.Config{Cmd: []string{"/bin/sh"}}},
			testimage.Layer{Tar: base, CreatedBy: "ADD alpine-minirootfs-3.16.9 /"},
			testimage.Layer{Files: map[string][]byte{"etc/arch": []byte(arch)}, CreatedBy: "RUN echo " + arch + " > /etc/arch"})
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	ref := host + "/team/alpine:3.16.9"
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: ca.Pool}
	if err := remote.WriteIndex(tag, idx, remote.WithTransport(tr),
		remote.WithAuth(&authn.Basic{Username: testimage.RegistryUser, Password: testimage.RegistryPassword})); err != nil {
		t.Fatalf("pushing the index: %v", err)
	}

	dockerConfig := func(pass string) string {
		dir := t.TempDir()
		auth := base64.StdEncoding.EncodeToString([]byte(testimage.RegistryUser + ":" + pass))
		if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	env := []string{"DOCKER_CONFIG=" + dockerConfig(testimage.RegistryPassword), "SSL_CERT_FILE=" + ca.CAFile, "SSL_CERT_DIR=/nonexistent"}

	for _, tc := range []struct{ platform, arch string }{{"", "amd64"}, {"linux/arm64", "arm64"}} {
		t.Run("platform "+tc.arch, func(t *testing.T) {
			args := []string{"sbom", "--format", "json", ref}
			if tc.platform != "" {
				args = append([]string{"sbom", "--platform", tc.platform, "--format", "json"}, ref)
			}
			res := cli(t, env, args...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			var rep report.Report
			if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Image.Kind != "registry" || rep.Image.Arch != tc.arch || len(rep.Packages) != 14 || len(rep.Image.Layers) != 2 {
				t.Errorf("kind %q arch %q, %d packages, %d layers; want registry %s, 14, 2",
					rep.Image.Kind, rep.Image.Arch, len(rep.Packages), len(rep.Image.Layers), tc.arch)
			}
		})
	}
	t.Run("vulnerabilities", func(t *testing.T) {
		res := cli(t, env, "image", "--scanners", "vuln", "--db", testDB, "--format", "json", ref)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		if got := pairs(&rep); strings.Join(got, ";") != "busybox CVE-2023-42366;ssl_client CVE-2023-42366" {
			t.Errorf("findings %v", got)
		}
	})
	t.Run("wrong password", func(t *testing.T) {
		bad := []string{"DOCKER_CONFIG=" + dockerConfig("wrong"), "SSL_CERT_FILE=" + ca.CAFile, "SSL_CERT_DIR=/nonexistent"}
		res := cli(t, bad, "sbom", ref)
		if res.code != 3 || !strings.Contains(res.stderr, "401") || !strings.Contains(res.stderr, ref) {
			t.Errorf("exit %d, stderr %q; want 3 and an HTTP 401 naming the reference", res.code, res.stderr)
		}
	})
	t.Run("untrusted CA", func(t *testing.T) {
		res := cli(t, []string{"DOCKER_CONFIG=" + dockerConfig(testimage.RegistryPassword), "SSL_CERT_DIR=/nonexistent", "SSL_CERT_FILE=/nonexistent"}, "sbom", ref)
		if res.code != 3 || !strings.Contains(res.stderr, "certificate") {
			t.Errorf("exit %d, stderr %q; want 3 and a certificate error", res.code, res.stderr)
		}
	})
}
