package source

// Tests against the real CNCF distribution registry (Debian package
// docker-registry, binary /usr/bin/docker-registry), run on 127.0.0.1 with
// TLS from a CA made here and htpasswd basic auth.

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/crypto/bcrypt"
)

const (
	regUser = "alice"
	regPass = "correct horse battery staple"
)

// registryBinary finds docker-registry; without it the test is skipped
// locally but fails in CI.
func registryBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("docker-registry")
	if err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("docker-registry not installed (apt-get install docker-registry)")
		}
		t.Fatalf("docker-registry is required in CI: %v", err)
	}
	return p
}

// testCA is a CA and a server certificate for 127.0.0.1, as PEM files.
type testCA struct {
	caFile, certFile, keyFile string
	pool                      *x509.CertPool
}

func makeCA(t *testing.T, dir string) testCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "drydock test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	ca := testCA{
		caFile:   filepath.Join(dir, "ca.pem"),
		certFile: filepath.Join(dir, "server.pem"),
		keyFile:  filepath.Join(dir, "server-key.pem"),
		pool:     x509.NewCertPool(),
	}
	ca.pool.AddCert(caCert)
	writePEM(t, ca.caFile, "CERTIFICATE", caDER)
	writePEM(t, ca.certFile, "CERTIFICATE", srvDER)
	writePEM(t, ca.keyFile, "EC PRIVATE KEY", keyDER)
	return ca
}

func writePEM(t *testing.T, p, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry runs docker-registry with storage, config and (if ca is set)
// TLS and htpasswd auth under t.TempDir(), waits until /v2/ answers and
// kills it when the test ends. It returns "127.0.0.1:PORT".
func startRegistry(t *testing.T, bin string, ca *testCA) string {
	t.Helper()
	dir := t.TempDir()
	port := freePort(t)
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
http:
  addr: %s
  secret: drydock-test-secret
`, filepath.Join(dir, "storage"), host)
	if ca != nil {
		hash, err := bcrypt.GenerateFromPassword([]byte(regPass), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(regUser+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf(`  tls:
    certificate: %s
    key: %s
auth:
  htpasswd:
    realm: drydock-test
    path: %s
`, ca.certFile, ca.keyFile, htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	var logs bytes.Buffer
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("docker-registry output:\n%s", logs.String())
		}
	})

	// Wait for /v2/ to answer (401 with auth, 200 without).
	scheme, tr := "http", &http.Transport{}
	if ca != nil {
		scheme, tr = "https", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}}
	}
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(scheme + "://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return host
			}
		}
		select {
		case <-exited:
			t.Fatalf("docker-registry exited early:\n%s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s within 30s (last error %v):\n%s", host, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// trusting returns a transport that trusts the test CA.
func trusting(ca testCA) http.RoundTripper {
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: ca.pool}
	return tr
}

func TestRealRegistryTLSAuth(t *testing.T) {
	bin := registryBinary(t)
	ca := makeCA(t, t.TempDir())
	host := startRegistry(t, bin, &ca)
	tr := trusting(ca)

	idx, amd, arm := multiArch(t)
	ref := host + "/drydock/multi:1.0"
	push(t, ref, idx, nil, remote.WithAuth(&authn.Basic{Username: regUser, Password: regPass}), remote.WithTransport(tr))

	// Credentials from a Docker config file, through the default keychain.
	dockerCfg := t.TempDir()
	auth := base64.StdEncoding.EncodeToString([]byte(regUser + ":" + regPass))
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
		{name: "static keychain, default platform", keychain: staticKeychain{regUser, regPass}, wantArch: "amd64", want: digestOf(t, amd)},
		{name: "static keychain, arm64", keychain: staticKeychain{regUser, regPass}, platform: "linux/arm64", wantArch: "arm64", want: digestOf(t, arm)},
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
		_, err := Open(context.Background(), ref, Options{Keychain: staticKeychain{regUser, "wrong"}, Transport: tr})
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
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+ca.caFile, "SSL_CERT_DIR=/nonexistent", "DRYDOCK_CHILD_REF="+ref)
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
	bin := registryBinary(t)
	host := startRegistry(t, bin, nil)
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
