package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// daemon starts this test binary as `drydock ARGS…` in the background; it is
// stopped with SIGTERM (a graceful shutdown) when the test ends, and must
// exit 0.
func daemon(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--cache-dir", t.TempDir()}, args...)...)
	cmd.Env = append(os.Environ(), "DRYDOCK_E2E_AS_CLI=1")
	var errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &errb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("drydock %s: %v\n%s", args[0], err, errb.String())
			}
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("drydock %s did not stop on SIGTERM\n%s", args[0], errb.String())
		}
	})
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// apiToken creates an API token of scope on the database at dsn with
// "drydock token create" and returns it.
func apiToken(t *testing.T, dsn, scope string) string {
	t.Helper()
	res := drydock(t, "token", "create", "--postgres", dsn, "--name", "e2e-"+scope, "--scope", scope)
	tok := strings.TrimSpace(res.stdout)
	if res.code != 0 || !strings.HasPrefix(tok, "ddk_") || strings.Contains(tok, "\n") {
		t.Fatalf("drydock token create: exit %d, stdout %q\n%s", res.code, res.stdout, res.stderr)
	}
	return tok
}

// bearer sends requests with an API token.
type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

// TestServerAndWorkerProcesses: one API process and one worker process on one
// PostgreSQL database; a scan submitted over HTTP (with a token made by
// "drydock token create") is run by the worker and its stored report has the
// findings `drydock image` gives for the same image.
func TestServerAndWorkerProcesses(t *testing.T) {
	dsn := storetest.NewDatabase(t)
	addr := freeAddr(t)
	token := apiToken(t, dsn, "write")
	client := &http.Client{Transport: bearer{token: token, base: http.DefaultTransport}}
	daemon(t, "server", "--postgres", dsn, "--listen", addr, "--allow-local")
	daemon(t, "worker", "--postgres", dsn, "--workers", "2", "--db", testDB)
	base := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(base + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not become ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	body := strings.NewReader(`{"reference": "docker-archive:` + alpineImage + `", "repository": "registry.test/alpine", "tags": ["3.16.9"]}`)
	resp, err := client.Post(base+"/api/v1/scans", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	var sub struct {
		JobID int64 `json:"job_id"`
	}
	json.NewDecoder(resp.Body).Decode(&sub)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || sub.JobID == 0 {
		t.Fatalf("submit: %d, job %d", resp.StatusCode, sub.JobID)
	}
	for {
		var j struct {
			State  string   `json:"state"`
			Errors []string `json:"errors"`
		}
		resp, err := client.Get(fmt.Sprintf("%s/api/v1/jobs/%d", base, sub.JobID))
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&j)
		resp.Body.Close()
		if j.State == "completed" {
			break
		}
		if j.State == "discarded" || time.Now().After(deadline) {
			t.Fatalf("job %d: %s %v", sub.JobID, j.State, j.Errors)
		}
		time.Sleep(200 * time.Millisecond)
	}
	resp, err = client.Get(base + "/api/v1/images/1/report?format=json")
	if err != nil {
		t.Fatal(err)
	}
	var stored report.Report
	err = json.NewDecoder(resp.Body).Decode(&stored)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	cli, res := scanJSON(t, alpineImage)
	if res.code != 0 {
		t.Fatal(res.stderr)
	}
	if d := cmp.Diff(cli.Normalized().Findings, stored.Normalized().Findings); d != "" {
		t.Errorf("server findings differ from drydock image (-cli +server):\n%s", d)
	}
	if len(stored.Findings) != 2 {
		t.Errorf("stored findings: %d, want 2", len(stored.Findings))
	}
}
