package source

// Tests against the real CNCF distribution registry (Debian package
// docker-registry, binary /usr/bin/docker-registry), run on 127.0.0.1 with
// TLS from a CA made here and htpasswd basic auth.

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/testimage"
)

// trusting returns a transport that trusts the test CA.
func trusting(ca testimage.TestCA) http.RoundTripper {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: ca.Pool}
	return tr
}

func TestRealRegistryTLSAuth(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	ca := testimage.MakeCA(t, t.TempDir())
	host := testimage.StartRegistry(t, bin, &ca)
	tr := trusting(ca)

	idx, amd, arm := multiArch(t)
	ref := host + "/drydock/multi:1.0"
	push(t, ref, idx, nil, remote.WithAuth(&authn.Basic{Username: testimage.RegistryUser, Password: testimage.RegistryPassword}), remote.WithTransport(tr))

	// Credentials from a Docker config file, through the default keychain.
	dockerCfg := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(testimage.RegistryUser + ":" + testimage.RegistryPassword))
	if err := os.WriteFile(filepath.Join(dockerCfg, "config.json"), []byte(`{"auths":{"`+host+`":{"auth":"`+auth+`"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_CONFIG", dockerCfg)

	tests := []struct {
		name     string
		keychain authn.Keychain
		platform string
		wantArch string
		want     string
	}{
		{name: "static keychain, default platform", keychain: staticKeychain{testimage.RegistryUser, testimage.RegistryPassword}, wantArch: "amd64", want: digestOf(t, amd)},
		{name: "static keychain, arm64", keychain: staticKeychain{testimage.RegistryUser, testimage.RegistryPassword}, platform: "linux/arm64", wantArch: "arm64", want: digestOf(t, arm)},
		{name: "docker config, default platform", wantArch: "amd64", want: digestOf(t, amd)},
		{name: "docker config, arm64", platform: "linux/arm64/v8", wantArch: "arm64", want: digestOf(t, arm)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := Open(context.Background(), ref, Options{Keychain: tt.keychain, Transport: tr, Platform: tt.platform})
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Arch != tt.wantArch || img.ManifestDigest != tt.want {
				t.Errorf("arch %q digest %s; want %q %s", img.Arch, img.ManifestDigest, tt.wantArch, tt.want)
			}
			if img.RepoDigests[0] != host+"/drydock/multi@"+digestOf(t, idx) {
				t.Errorf("RepoDigests %v", img.RepoDigests)
			}
			for _, l := range img.Layers {
				files, _, err := walkLayer(t, l)
				if err != nil {
					t.Fatalf("layer %d: %v", l.Index, err)
				}
				if l.Index == 0 && files["/etc/arch"] != tt.wantArch {
					t.Errorf("/etc/arch = %q", files["/etc/arch"])
				}
			}
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		_, err := Open(context.Background(), ref, Options{Keychain: staticKeychain{testimage.RegistryUser, "wrong"}, Transport: tr})
		want := `pulling "` + ref + `": access denied (HTTP 401)`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want an error containing %q", err, want)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		t.Setenv("DOCKER_CONFIG", t.TempDir())
		_, err := Open(context.Background(), ref, Options{Transport: tr})
		if err == nil || !strings.Contains(err.Error(), "HTTP 401") {
			t.Errorf("got %v, want HTTP 401", err)
		}
	})
	t.Run("unknown tag", func(t *testing.T) {
		_, err := Open(context.Background(), host+"/drydock/multi:2.0", Options{Transport: tr})
		if err == nil || !strings.Contains(err.Error(), "not found in the registry (HTTP 404)") {
			t.Errorf("got %v, want HTTP 404", err)
		}
	})
	t.Run("untrusted CA", func(t *testing.T) {
		_, err := Open(context.Background(), ref, Options{})
		if err == nil || !strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
			t.Errorf("got %v, want a certificate error", err)
		}
	})
	t.Run("insecure skips verification", func(t *testing.T) {
		img, err := Open(context.Background(), ref, Options{Insecure: true})
		if err != nil {
			t.Fatal(err)
		}
		if img.Arch != "amd64" {
			t.Errorf("arch %q", img.Arch)
		}
	})
	t.Run("SSL_CERT_FILE", func(t *testing.T) {
		// Go reads SSL_CERT_FILE once per process, so check the default
		// transport in a child process of this test binary.
		cmd := exec.Command(os.Args[0], "-test.run=^TestSSLCertFileChild$", "-test.v")
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+ca.CAFile, "SSL_CERT_DIR=/nonexistent", "DRYDOCK_CHILD_REF="+ref)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestSSLCertFileChild") {
			t.Errorf("child with SSL_CERT_FILE failed: %v\n%s", err, out)
		}
	})
}

// TestSSLCertFileChild runs only as the child of the SSL_CERT_FILE test:
// with no Transport option, the system roots come from SSL_CERT_FILE.
func TestSSLCertFileChild(t *testing.T) {
	ref := os.Getenv("DRYDOCK_CHILD_REF")
	if ref == "" {
		t.Skip("run by TestRealRegistryTLSAuth")
	}
	img, err := Open(context.Background(), ref, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if img.Arch != "amd64" {
		t.Errorf("arch %q", img.Arch)
	}
}

func TestRealRegistryPlainHTTP(t *testing.T) {
	bin := testimage.RegistryBinary(t)
	host := testimage.StartRegistry(t, bin, nil)
	idx, _, arm := multiArch(t)
	ref := host + "/plain/multi:1"
	push(t, ref, idx, nil)
	img, err := Open(context.Background(), "registry:"+ref, Options{Insecure: true, Platform: "linux/arm64", Keychain: authn.NewMultiKeychain()})
	if err != nil {
		t.Fatal(err)
	}
	if img.ManifestDigest != digestOf(t, arm) {
		t.Errorf("digest %s, want %s", img.ManifestDigest, digestOf(t, arm))
	}
	files, _, err := walkLayer(t, img.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	if files["/etc/arch"] != "arm64" {
		t.Errorf("/etc/arch = %q", files["/etc/arch"])
	}
}
