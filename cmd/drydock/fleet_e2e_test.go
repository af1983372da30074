package main

// The fleet's must-show tests (issue 14): API and worker processes on one
// PostgreSQL scan images pushed to a real docker-registry; every distinct
// layer is analysed once (counted in the store, in the workers' logs and by
// the registry's blob GETs), every image's findings equal `drydock image`'s;
// a worker killed mid-scan and a database restarted mid-scan lose nothing.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/jackc/pgx/v5"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a drydock server or worker process started by startDrydock.
type proc struct {
	name   string
	cmd    *exec.Cmd
	out    *lockedBuffer
	done   chan struct{}
	err    error // set when done is closed
	killed bool
}

// startDrydock starts this test binary as `drydock --debug ARGS…` in the
// background. When the test ends it is stopped with SIGTERM and must exit
// 0 (a graceful shutdown), unless the test killed it.
func startDrydock(t *testing.T, args ...string) *proc {
	t.Helper()
	p := &proc{name: args[0], out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(os.Args[0], append([]string{"--cache-dir", t.TempDir(), "--debug"}, args...)...)
	p.cmd.Env = append(os.Environ(), "DRYDOCK_E2E_AS_CLI=1")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		if p.killed {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
			if p.err != nil {
				t.Errorf("drydock %s: %v\n%s", p.name, p.err, p.out)
			}
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			t.Errorf("drydock %s did not stop on SIGTERM\n%s", p.name, p.out)
		}
		if t.Failed() && testing.Verbose() {
			t.Logf("drydock %s output:\n%s", p.name, p.out)
		}
	})
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.killed = true
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.done
}

// walkedLine is the debug log line of a layer a scan read.
var walkedLine = regexp.MustCompile(`msg="layer walked".* diff_id=(sha256:[0-9a-f]{64})`)

// walked counts the layers a worker read (not from the store), by diff_id.
func (p *proc) walked(into map[string]int) {
	for _, m := range walkedLine.FindAllStringSubmatch(p.out.String(), -1) {
		into[m[1]]++
	}
}

// apiClient talks to a drydock server's API with a token (apiToken).
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

// newAPIClient makes a write token on the database at dsn and a client of
// a server to be started on a free address (c.addr()).
func newAPIClient(t *testing.T, dsn string) apiClient {
	t.Helper()
	return apiClient{t: t, base: "http://" + freeAddr(t), token: apiToken(t, dsn, "write")}
}

// addr is the server's listen address.
func (c apiClient) addr() string { return strings.TrimPrefix(c.base, "http://") }

func (c apiClient) do(method, path string, body any, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp.StatusCode
}

// waitReady polls /readyz until the server answers 200.
func (c apiClient) waitReady(timeout time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(c.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the server did not become ready within %s: %v", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// submit queues a scan and returns its job ID.
func (c apiClient) submit(ref, repo string, tags ...string) int64 {
	c.t.Helper()
	var sub struct {
		JobID int64 `json:"job_id"`
	}
	code := c.do("POST", "/api/v1/scans", map[string]any{"reference": ref, "repository": repo, "tags": tags}, &sub)
	if code != http.StatusAccepted || sub.JobID == 0 {
		c.t.Fatalf("submitting %s: HTTP %d, job %d", ref, code, sub.JobID)
	}
	return sub.JobID
}

// jobState is GET /api/v1/jobs/{id}.
type jobState struct {
	State   string   `json:"state"`
	Attempt int      `json:"attempt"`
	Errors  []string `json:"errors"`
}

// waitJobs polls the jobs until every one is completed; a job parked
// (discarded, cancelled) or the deadline fails the test.
func (c apiClient) waitJobs(ids []int64, timeout time.Duration) map[int64]jobState {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	out := map[int64]jobState{}
	for {
		for _, id := range ids {
			if out[id].State == "completed" {
				continue
			}
			var j jobState
			if code := c.do("GET", fmt.Sprintf("/api/v1/jobs/%d", id), nil, &j); code != http.StatusOK {
				c.t.Fatalf("job %d: HTTP %d", id, code)
			}
			if j.State == "discarded" || j.State == "cancelled" {
				c.t.Fatalf("job %d: %s %v", id, j.State, j.Errors)
			}
			out[id] = j
		}
		pending := 0
		for _, j := range out {
			if j.State != "completed" {
				pending++
			}
		}
		if pending == 0 {
			return out
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%d of %d jobs not completed after %s: %v", pending, len(ids), timeout, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// report returns an image's stored JSON report.
func (c apiClient) report(id int64) *report.Report {
	c.t.Helper()
	var rep report.Report
	if code := c.do("GET", fmt.Sprintf("/api/v1/images/%d/report?format=json", id), nil, &rep); code != http.StatusOK {
		c.t.Fatalf("report of image %d: HTTP %d", id, code)
	}
	return &rep
}

// fleetImage is one image the fleet test pushes.
type fleetImage struct {
	repo, tag string
	img       v1.Image
	npm       string // the advisory its app layer's package has, or ""
}

func (f fleetImage) ref(host string) string { return host + "/" + f.repo + ":" + f.tag }

// fleetImages builds bases × apps images: every one shares the Alpine
// minirootfs layer; each base adds a layer of its own; each app a layer of
// its own, a third of them with lodash 4.17.15 (GHSA-35jh-r3h4-6jhm in the
// test database), a third with minimist 1.2.0 (GHSA-xvch-5gv4-984h), a third
// with a fixed lodash.
func fleetImages(t *testing.T, bases, apps int) []fleetImage {
	t.Helper()
	alpine := gunzipFile(t, layerFromArchive(t, alpineImage))
	var out []fleetImage
	for b := range bases {
		base := testimage.Layer{Files: map[string][]byte{"etc/fleet-base": fmt.Appendf(nil, "base %d\n", b)}, CreatedBy: fmt.Sprintf("RUN echo base %d > /etc/fleet-base", b)}
		for a := range apps {
			pkg, version, adv := "lodash", "4.17.21", ""
			switch a % 3 {
			case 0:
				pkg, version, adv = "lodash", "4.17.15", "GHSA-35jh-r3h4-6jhm"
			case 1:
				pkg, version, adv = "minimist", "1.2.0", "GHSA-xvch-5gv4-984h"
			}
			app := testimage.Layer{Files: map[string][]byte{
				"app/id": fmt.Appendf(nil, "base %d app %d\n", b, a),
				"app/node_modules/" + pkg + "/package.json": fmt.Appendf(nil, `{"name": %q, "version": %q}`, pkg, version),
			}, CreatedBy: fmt.Sprintf("COPY app%d /app", a)}
			img, err := testimage.Build(testimage.Config{Config: v1.Config{Cmd: []string{"/bin/sh"}}},
				testimage.Layer{Tar: alpine, CreatedBy: "ADD alpine-minirootfs-3.16.9 /"}, base, app)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fleetImage{repo: fmt.Sprintf("fleet/base%d", b), tag: fmt.Sprintf("app%d", a), img: img, npm: adv})
		}
	}
	return out
}

// push writes the images to the registry at host.
func push(t *testing.T, host string, imgs []fleetImage) {
	t.Helper()
	for _, f := range imgs {
		tag, err := name.NewTag(f.ref(host))
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(tag, f.img); err != nil {
			t.Fatalf("pushing %s: %v", tag, err)
		}
	}
}

// layerDigests maps every distinct layer's blob digest to its diff_id.
func layerDigests(t *testing.T, imgs []fleetImage) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range imgs {
		ls, err := f.img.Layers()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls {
			d, err := l.Digest()
			if err != nil {
				t.Fatal(err)
			}
			diff, err := l.DiffID()
			if err != nil {
				t.Fatal(err)
			}
			out[d.String()] = diff.String()
		}
	}
	return out
}

// blobGets counts the registry's GETs of each blob (by digest) among reqs.
func blobGets(reqs []testimage.Request) map[string]int {
	out := map[string]int{}
	for _, r := range reqs {
		if r.Method != http.MethodGet {
			continue
		}
		if i := strings.LastIndex(r.Path, "/blobs/"); i >= 0 {
			out[r.Path[i+len("/blobs/"):]]++
		}
	}
	return out
}

// waitBlobGets returns the blob GETs logged after the first skip requests,
// once there are at least want of them (or after 10 seconds).
func waitBlobGets(t *testing.T, reg *testimage.Registry, skip, want int) map[string]int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		gets := blobGets(reg.Requests()[skip:])
		if sum(gets) >= want || time.Now().After(deadline) {
			return gets
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// peakConnections samples the connections to the database at dsn (every
// 100ms, from a connection of its own, not counted) until the returned
// function is called; that returns the largest count seen.
func peakConnections(t *testing.T, dsn string) func() int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cancel) // if the test ends first
	done := make(chan int, 1)
	go func() {
		defer conn.Close(context.Background())
		peak := 0
		for {
			var n int
			if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").Scan(&n); err == nil {
				peak = max(peak, n)
			}
			select {
			case <-ctx.Done():
				done <- peak
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() int {
		cancel()
		return <-done
	}
}

// queryInt runs a query returning one number on the database at dsn.
func queryInt(t *testing.T, dsn, q string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// imageIDs maps manifest digests to the store's image IDs.
func imageIDs(t *testing.T, dsn string) map[string]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT manifest_digest, id FROM images")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for rows.Next() {
		var (
			d  string
			id int64
		)
		if err := rows.Scan(&d, &id); err != nil {
			t.Fatal(err)
		}
		out[d] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// cliFindings runs `drydock image` on ref in this process, with a layer
// cache of its own (shared by the calls given the same dir).
func cliFindings(t *testing.T, cacheDir, ref string) *report.Report {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--cache-dir", cacheDir, "image", "--db", testDB, "--format", "json", ref}, nil, &out, &errb)
	if code != 0 && code != 1 {
		t.Fatalf("drydock image %s: exit %d\n%s", ref, code, errb.String())
	}
	var rep report.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("drydock image %s: %v\n%s", ref, err, errb.String())
	}
	return &rep
}

// TestFleetLayersAnalysedOnce: 1 API process and 3 worker processes (2
// scans at once each) scan 50 images pushed to a real docker-registry (5
// bases × 10 apps, 56 distinct layers). Every distinct layer is analysed
// exactly once: one row in layer_results, one "layer walked" in all the
// workers' logs together, one GET of its blob at the registry. Every
// image's stored findings equal `drydock image` on the same digest.
func TestFleetLayersAnalysedOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the fleet test runs 4 processes and 50 scans")
	}
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{AccessLog: true})
	dsn := storetest.NewDatabase(t)
	imgs := fleetImages(t, 5, 10)
	layers := layerDigests(t, imgs)
	if len(layers) != 1+5+50 {
		t.Fatalf("%d distinct layers built, want 56", len(layers))
	}
	push(t, reg.Host, imgs)
	pushed := len(reg.Requests())

	c := newAPIClient(t, dsn)
	startDrydock(t, "server", "--postgres", dsn, "--listen", c.addr())
	c.waitReady(60 * time.Second)
	var workers []*proc
	for range 3 {
		workers = append(workers, startDrydock(t, "worker", "--postgres", dsn, "--workers", "2", "--db", testDB))
	}
	var jobs []int64
	for _, f := range imgs {
		jobs = append(jobs, c.submit(f.ref(reg.Host), reg.Host+"/"+f.repo, f.tag))
	}
	start := time.Now()
	peak := peakConnections(t, dsn)
	states := c.waitJobs(jobs, 90*time.Second)
	t.Logf("50 scans by 3 workers: %s; at most %d connections to the database", time.Since(start).Round(time.Millisecond), peak())
	for id, j := range states {
		if j.Attempt != 1 {
			t.Errorf("job %d took %d attempts, want 1 (errors %v)", id, j.Attempt, j.Errors)
		}
	}

	// The store: one result per distinct layer.
	if n := queryInt(t, dsn, "SELECT count(*) FROM layer_results"); n != len(layers) {
		t.Errorf("layer_results: %d rows, want %d", n, len(layers))
	}
	if n := queryInt(t, dsn, "SELECT count(DISTINCT diff_id) FROM layer_results"); n != len(layers) {
		t.Errorf("layer_results: %d distinct diff_ids, want %d", n, len(layers))
	}
	// The workers: each layer walked once by one of them.
	walked := map[string]int{}
	for _, w := range workers {
		w.walked(walked)
	}
	wantOnce := map[string]int{}
	for _, diff := range layers {
		wantOnce[diff] = 1
	}
	if d := cmp.Diff(wantOnce, walked); d != "" {
		t.Errorf("layers walked by the workers, by diff_id (-want +got):\n%s", d)
	}
	// The registry: each layer blob fetched once; each config once (no
	// scan ran twice). HEADs are not counted. The registry logs a request
	// once its handler returns, which may be just after the client has read
	// the whole body: wait for the lines the scans must have caused.
	gets := waitBlobGets(t, reg, pushed, len(layers)+len(imgs))
	layerGets := map[string]int{}
	for d := range layers {
		layerGets[d] = gets[d]
	}
	wantGets := map[string]int{}
	for d := range layers {
		wantGets[d] = 1
	}
	if d := cmp.Diff(wantGets, layerGets); d != "" {
		t.Errorf("registry GETs per layer blob (-want +got):\n%s", d)
	}
	configs := map[string]int{}
	for _, f := range imgs {
		cd, err := f.img.ConfigName()
		if err != nil {
			t.Fatal(err)
		}
		configs[cd.String()] = 1
	}
	otherGets := maps.Clone(gets)
	maps.DeleteFunc(otherGets, func(d string, _ int) bool { _, ok := layers[d]; return ok })
	if d := cmp.Diff(configs, otherGets); d != "" {
		t.Errorf("registry GETs of the other blobs, want each image config once (-want +got):\n%s", d)
	}
	t.Logf("%d distinct layers: %d layer_results rows, %d walks, %d layer blob GETs; %d config GETs",
		len(layers), queryInt(t, dsn, "SELECT count(*) FROM layer_results"), sum(walked), sum(layerGets), sum(otherGets))

	// Every image's findings equal the CLI's on the same digest.
	ids := imageIDs(t, dsn)
	if len(ids) != len(imgs) {
		t.Fatalf("%d images stored, want %d", len(ids), len(imgs))
	}
	cache := t.TempDir()
	withNPM := 0
	for _, f := range imgs {
		d, err := f.img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		id, ok := ids[d.String()]
		if !ok {
			t.Errorf("%s (%s) not stored", f.ref(reg.Host), d)
			continue
		}
		stored := c.report(id)
		cli := cliFindings(t, cache, reg.Host+"/"+f.repo+"@"+d.String())
		if diff := cmp.Diff(cli.Normalized().Findings, stored.Normalized().Findings); diff != "" {
			t.Errorf("%s: server findings differ from drydock image (-cli +server):\n%s", f.ref(reg.Host), diff)
		}
		want := []string{"busybox CVE-2023-42366", "ssl_client CVE-2023-42366"}
		if f.npm != "" {
			withNPM++
			want = append(want, map[string]string{"GHSA-35jh-r3h4-6jhm": "lodash", "GHSA-xvch-5gv4-984h": "minimist"}[f.npm]+" "+f.npm)
			slices.Sort(want)
		}
		if got := pairs(stored); !slices.Equal(got, want) {
			t.Errorf("%s: findings %v, want %v", f.ref(reg.Host), got, want)
		}
	}
	if withNPM != 35 {
		t.Errorf("%d images with an npm finding, want 35", withNPM)
	}
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
