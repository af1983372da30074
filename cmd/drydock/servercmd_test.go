package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key,
// and returns their paths and a pool trusting the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "drydock test"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// serveInProcess runs `drydock ARGS…` in this process until the test ends
// (a cancelled context: the graceful shutdown) and returns what it logged
// then.
func serveInProcess(t *testing.T, args ...string) func() (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, append([]string{"--cache-dir", t.TempDir()}, args...), nil, &out, &errb) }()
	var code int
	stopped := false
	stop := func() (int, string) {
		if !stopped {
			cancel()
			code = <-done
			stopped = true
		}
		return code, errb.String()
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitFor polls url with client until it answers.
func waitFor(t *testing.T, client *http.Client, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s does not answer: %v", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServerTLS: with --tls-cert and --tls-key the API is served over
// HTTPS only; auth is on by default, and a server started with no token
// says how to create one.
func TestServerTLS(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	certFile, keyFile, pool := selfSigned(t)
	addr := freeAddr(t)
	stop := serveInProcess(t, "server", "--postgres", dsn, "--listen", addr, "--tls-cert", certFile, "--tls-key", keyFile)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	base := "https://" + addr
	waitFor(t, client, base+"/healthz")

	token := apiToken(t, dsn, "read")
	for _, tc := range []struct {
		path, token string
		want        int
	}{
		{"/healthz", "", 200},
		{"/api/v1/summary", "", 401},
		{"/api/v1/summary", token, 200},
		{"/metrics", token, 200},
	} {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET %s over TLS: %v", tc.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s (token %v): %d, want %d", tc.path, tc.token != "", resp.StatusCode, tc.want)
		}
		if resp.TLS == nil {
			t.Errorf("GET %s: not over TLS", tc.path)
		}
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: %d, want 400", resp.StatusCode)
		}
	}
	// A client that does not trust the certificate fails the handshake.
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("an untrusted self-signed certificate was accepted")
	}
	code, log := stop()
	if code != 0 {
		t.Errorf("server exit %d:\n%s", code, log)
	}
	if !strings.Contains(log, "no API token exists") || !strings.Contains(log, "drydock token create") {
		t.Errorf("the server did not say how to create the first token:\n%s", log)
	}
	if !strings.Contains(log, "url=https://") {
		t.Errorf("the server did not log its https URL:\n%s", log)
	}
}

// TestServerUsageErrors: bad TLS, auth and settings arguments are usage
// errors, given before anything is started.
func TestServerUsageErrors(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("postgres: x\nlistn: 1.2.3.4:5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"server", "--postgres", "x", "--tls-cert", certFile}, "--tls-cert and --tls-key go together"},
		{[]string{"server", "--postgres", "x", "--tls-key", keyFile}, "--tls-cert and --tls-key go together"},
		{[]string{"server", "--postgres", "x", "--tls-cert", keyFile, "--tls-key", keyFile}, "loading the TLS certificate"},
		{[]string{"server", "--config", bad}, "unknown setting listn"},
		{[]string{"server", "--postgres", "x", "--secret-key-file", keyFile}, "secretbox"},
		{[]string{"server"}, "--postgres"},
		{[]string{"token", "create", "--postgres", "x", "--name", "n", "--scope", "admin"}, "--scope must be read or write"},
		{[]string{"token", "create", "--postgres", "x"}, "--name is required"},
		{[]string{"token", "revoke", "--postgres", "x", "one"}, "is not a number"},
	} {
		res := drydock(t, tc.args...)
		if res.code != policy.ExitUsage || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("drydock %v: exit %d, stderr %q; want %d and %q", tc.args, res.code, res.stderr, policy.ExitUsage, tc.want)
		}
	}
}

// TestTokenCommands: create prints the token once on stdout; list shows
// every token without it; revoke ends it.
func TestTokenCommands(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	read := apiToken(t, dsn, "read")
	write := apiToken(t, dsn, "write")
	list := drydock(t, "token", "list", "--postgres", dsn)
	if list.code != 0 {
		t.Fatal(list.stderr)
	}
	if strings.Contains(list.stdout, read) || strings.Contains(list.stdout, write) || strings.Contains(list.stdout, "ddk_") {
		t.Errorf("token list shows a token:\n%s", list.stdout)
	}
	rows := func(out string) [][]string {
		var r [][]string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(l)
			// ID, NAME, SCOPE, and whether it was used and revoked.
			r = append(r, []string{f[0], f[1], f[2], f[len(f)-2], f[len(f)-1]})
		}
		return r
	}
	// The header's last two words are "USED REVOKED" (of "LAST USED").
	want := [][]string{{"ID", "NAME", "SCOPE", "USED", "REVOKED"}, {"1", "e2e-read", "read", "-", "-"}, {"2", "e2e-write", "write", "-", "-"}}
	if d := cmp.Diff(want, rows(list.stdout)); d != "" {
		t.Errorf("token list (-want +got):\n%s", d)
	}
	if res := drydock(t, "token", "revoke", "--postgres", dsn, "1"); res.code != 0 || !strings.Contains(res.stderr, `revoked API token 1 "e2e-read"`) {
		t.Errorf("revoke: exit %d %s", res.code, res.stderr)
	}
	if res := drydock(t, "token", "revoke", "--postgres", dsn, "9"); res.code != policy.ExitUsage || !strings.Contains(res.stderr, "no API token 9") {
		t.Errorf("revoke of an unknown token: exit %d %s", res.code, res.stderr)
	}
	// The address from the config file shared with the server (the token
	// commands read only postgres from it).
	cfg := filepath.Join(t.TempDir(), "drydock.yaml")
	if err := os.WriteFile(cfg, []byte("postgres: "+dsn+"\nworkers: 4\nlisten: 127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	list = drydock(t, "token", "list", "--config", cfg)
	got := rows(list.stdout)
	if len(got) != 3 || got[1][4] == "-" || got[2][4] != "-" {
		t.Errorf("after revoking token 1:\n%s", list.stdout)
	}
}

// serverCmdOf is the server command in drydock's command tree (settings
// need the tree: --config is the root's, file keys are checked against
// every command's flags).
func serverCmdOf(t *testing.T, e *env) *cobra.Command {
	t.Helper()
	cmd, _, err := newRoot(e).Find([]string{"server"})
	if err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestServerSettings: every flag of the server commands also comes from
// $DRYDOCK_<FLAG> and from the --config file; the command line wins over
// the environment, which wins over the file.
func TestServerSettings(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "drydock.yaml")
	if err := os.WriteFile(cfg, []byte(`
postgres: postgres://file@db/drydock
listen: 0.0.0.0:9000
workers: 3
scan-timeout: 2m
no-auth: true
secret-key-file: /etc/drydock/key
`), 0o644); err != nil {
		t.Fatal(err)
	}
	type got struct {
		Postgres, Listen, ScanTimeout, NoAuth, Workers, SecretKeyFile string
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want got
	}{
		{"defaults", nil, nil, got{"", "127.0.0.1:8080", "10m0s", "false", "0", ""}},
		{"file", []string{"--config", cfg}, nil, got{"postgres://file@db/drydock", "0.0.0.0:9000", "2m0s", "true", "3", "/etc/drydock/key"}},
		{"file from the environment", nil, map[string]string{"DRYDOCK_CONFIG": cfg}, got{"postgres://file@db/drydock", "0.0.0.0:9000", "2m0s", "true", "3", "/etc/drydock/key"}},
		{"environment over file", []string{"--config", cfg},
			map[string]string{"DRYDOCK_POSTGRES": "postgres://env@db/d", "DRYDOCK_SCAN_TIMEOUT": "5m", "DRYDOCK_NO_AUTH": "false"},
			got{"postgres://env@db/d", "0.0.0.0:9000", "5m0s", "false", "3", "/etc/drydock/key"}},
		{"flags over both", []string{"--config", cfg, "--postgres", "postgres://flag@db/d", "--workers", "1", "--listen", "127.0.0.1:1"},
			map[string]string{"DRYDOCK_POSTGRES": "postgres://env@db/d", "DRYDOCK_WORKERS": "7"},
			got{"postgres://flag@db/d", "127.0.0.1:1", "2m0s", "true", "1", "/etc/drydock/key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"DRYDOCK_CONFIG", "DRYDOCK_POSTGRES", "DRYDOCK_SCAN_TIMEOUT", "DRYDOCK_NO_AUTH", "DRYDOCK_WORKERS", "DRYDOCK_LISTEN", "DRYDOCK_SECRET_KEY_FILE"} {
				t.Setenv(k, tc.env[k])
			}
			e := &env{}
			cmd := serverCmdOf(t, e)
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := applySettings(e, cmd); err != nil {
				t.Fatal(err)
			}
			v := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
			g := got{v("postgres"), v("listen"), v("scan-timeout"), v("no-auth"), v("workers"), v("secret-key-file")}
			if d := cmp.Diff(tc.want, g); d != "" {
				t.Errorf("settings (-want +got):\n%s", d)
			}
		})
	}
	// A bad value names where it came from.
	t.Setenv("DRYDOCK_WORKERS", "many")
	e := &env{}
	cmd := serverCmdOf(t, e)
	if err := applySettings(e, cmd); err == nil || !strings.Contains(err.Error(), "$DRYDOCK_WORKERS") {
		t.Errorf("a bad $DRYDOCK_WORKERS: %v", err)
	}
}
