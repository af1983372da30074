package testimage

// A real CNCF distribution registry (Debian package docker-registry) for
// tests, on 127.0.0.1, with TLS from a CA made here and htpasswd basic auth.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Credentials of the registries StartRegistry runs with auth.
const (
	RegistryUser     = "alice"
	RegistryPassword = "correct horse battery staple"
)

// RegistryBinary finds docker-registry; without it the test is skipped
// locally but fails in CI.
func RegistryBinary(t testing.TB) string {
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

// TestCA is a CA and a server certificate for 127.0.0.1, as PEM files.
type TestCA struct {
	CAFile, CertFile, KeyFile string
	Pool                      *x509.CertPool
}

func MakeCA(t testing.TB, dir string) TestCA {
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
	ca := TestCA{
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "server.pem"),
		KeyFile:  filepath.Join(dir, "server-key.pem"),
		Pool:     x509.NewCertPool(),
	}
	ca.Pool.AddCert(caCert)
	writePEM(t, ca.CAFile, "CERTIFICATE", caDER)
	writePEM(t, ca.CertFile, "CERTIFICATE", srvDER)
	writePEM(t, ca.KeyFile, "EC PRIVATE KEY", keyDER)
	return ca
}

func writePEM(t testing.TB, p, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort asks the kernel for a free port on 127.0.0.1.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// StartRegistry runs docker-registry with storage, config and (if ca is set)
// TLS and htpasswd auth under t.TempDir(), waits until /v2/ answers and
// kills it when the test ends. It returns "127.0.0.1:PORT".
func StartRegistry(t testing.TB, bin string, ca *TestCA) string {
	t.Helper()
	return StartRegistryWith(t, bin, RegistryOptions{CA: ca}).Host
}

// StartRegistryWith is StartRegistry with options (see RegistryOptions).
func StartRegistryWith(t testing.TB, bin string, opt RegistryOptions) *Registry {
	t.Helper()
	ca := opt.CA
	dir := t.TempDir()
	port := freePort(t)
	host := fmt.Sprintf("127.0.0.1:%d", port)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
  accesslog:
    disabled: %t
storage:
  delete:
    enabled: %t
  filesystem:
    rootdirectory: %s
http:
  addr: %s
  secret: drydock-test-secret
`, !opt.AccessLog, opt.Delete, filepath.Join(dir, "storage"), host)
	if ca != nil {
		hash, err := bcrypt.GenerateFromPassword([]byte(RegistryPassword), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		htpasswd := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(htpasswd, []byte(RegistryUser+":"+string(hash)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg += fmt.Sprintf(`  tls:
    certificate: %s
    key: %s
auth:
  htpasswd:
    realm: drydock-test
    path: %s
`, ca.CertFile, ca.KeyFile, htpasswd)
	}
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// The registry writes its access log (when on) to stdout, the rest to
	// stderr.
	var logs bytes.Buffer
	reg := &Registry{Host: host, access: &lockedBuffer{}}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout, cmd.Stderr = reg.access, &logs
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
		scheme, tr = "https", &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}
	}
	client := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(scheme + "://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return reg
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
