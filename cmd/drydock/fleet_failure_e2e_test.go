package main

// Failures in the middle of a scan (issue 14): a worker killed with
// SIGKILL, and PostgreSQL restarted. No job is lost, nothing is stored
// twice.

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// stallingProxy is a proxy in front of a registry that holds the first GET
// of one blob: it answers nothing until released (Release) or the client
// goes away; every other request, later GETs of that blob included, passes.
type stallingProxy struct {
	Host string

	blob     string
	stalled  chan struct{} // closed when the first GET of blob arrives
	released chan struct{}
	once     sync.Once
	mu       sync.Mutex
	gets     int
}

func startStallingProxy(t *testing.T, registryHost, blob string) *stallingProxy {
	t.Helper()
	target, err := url.Parse("http://" + registryHost)
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{blob: blob, stalled: make(chan struct{}), released: make(chan struct{})}
	rp := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/blobs/"+p.blob) {
			p.mu.Lock()
			p.gets++
			first := p.gets == 1
			p.mu.Unlock()
			if first {
				close(p.stalled)
				select {
				case <-p.released:
				case <-r.Context().Done():
					return
				}
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(p.Release) // before srv.Close: the stalled handler returns
	p.Host = strings.TrimPrefix(srv.URL, "http://")
	return p
}

// Release lets the stalled GET through.
func (p *stallingProxy) Release() { p.once.Do(func() { close(p.released) }) }

// waitStalled waits for the first GET of the blob.
func (p *stallingProxy) waitStalled(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case <-p.stalled:
	case <-time.After(timeout):
		t.Fatalf("no GET of blob %s within %s", p.blob, timeout)
	}
}

// slowImage is the Alpine layer and a layer of its own with lodash 4.17.15,
// whose blob the proxy stalls. It returns the image and that blob's digest.
func slowImage(t *testing.T, tag string) (fleetImage, string) {
	t.Helper()
	alpine := gunzipFile(t, layerFromArchive(t, alpineImage))
	img, err := testimage.Build(testimage.Config{Config: v1.Config{Cmd: []string{"/bin/sh"}}},
		testimage.Layer{Tar: alpine, CreatedBy: "ADD alpine-minirootfs-3.16.9 /"},
		testimage.Layer{Files: map[string][]byte{
			"app/id":                               []byte(tag),
			"app/node_modules/lodash/package.json": []byte(`{"name": "lodash", "version": "4.17.15"}`),
		}, CreatedBy: "COPY app /app"})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := ls[1].Digest()
	if err != nil {
		t.Fatal(err)
	}
	return fleetImage{repo: "slow/app", tag: tag, img: img, npm: "GHSA-35jh-r3h4-6jhm"}, d.String()
}

// checkStored asserts the store holds each image once, with the findings
// `drydock image` gives (read through the API), each finding once and no
// event twice.
func checkStored(t *testing.T, c apiClient, dsn, registryHost string, imgs []fleetImage) {
	t.Helper()
	ids := imageIDs(t, dsn)
	if len(ids) != len(imgs) {
		t.Errorf("%d images stored, want %d", len(ids), len(imgs))
	}
	cache := t.TempDir()
	for _, f := range imgs {
		d, err := f.img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		id, ok := ids[d.String()]
		if !ok {
			t.Errorf("%s (%s) not stored", f.ref(registryHost), d)
			continue
		}
		cli := cliFindings(t, cache, registryHost+"/"+f.repo+"@"+d.String())
		stored := c.report(id)
		if diff := cmp.Diff(cli.Normalized().Findings, stored.Normalized().Findings); diff != "" {
			t.Errorf("%s: server findings differ from drydock image (-cli +server):\n%s", f.ref(registryHost), diff)
		}
		if n := queryInt(t, dsn, "SELECT count(*) FROM findings WHERE image_id = $1", id); n != len(cli.Findings) || n == 0 {
			t.Errorf("%s: %d findings rows, want %d", f.ref(registryHost), n, len(cli.Findings))
		}
	}
	if n := queryInt(t, dsn, `SELECT count(*) FROM (SELECT 1 FROM events
		GROUP BY kind, image_id, advisory_id, package_id HAVING count(*) > 1) twice`); n != 0 {
		t.Errorf("%d events stored more than once", n)
	}
}

// TestWorkerKilledMidScan: a worker is killed (SIGKILL) while it reads a
// layer; the job stays "running" until River's rescuer, on the worker
// started after it, hands it back; it is scanned again and completes. The
// other jobs, queued behind it, complete too; each image is stored once,
// with the CLI's findings, each once.
func TestWorkerKilledMidScan(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits for River to rescue the killed worker's job")
	}
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{})
	dsn := storetest.NewDatabase(t)
	slow, blob := slowImage(t, "killed")
	imgs := append([]fleetImage{slow}, fleetImages(t, 1, 2)...)
	push(t, reg.Host, imgs)
	proxy := startStallingProxy(t, reg.Host, blob)

	c := newAPIClient(t, dsn)
	startDrydock(t, "server", "--postgres", dsn, "--listen", c.addr())
	c.waitReady(60 * time.Second)
	// One scan at a time, a short deadline: River rescues a job running
	// longer than the longer of them (plus as long again).
	workerArgs := []string{"worker", "--postgres", dsn, "--workers", "1", "--db", testDB, "--scan-timeout", "6s", "--monitor-timeout", "6s"}
	first := startDrydock(t, workerArgs...)
	killed := c.submit(slow.ref(proxy.Host), reg.Host+"/"+slow.repo, slow.tag)
	proxy.waitStalled(t, 60*time.Second)
	var others []int64
	for _, f := range imgs[1:] {
		others = append(others, c.submit(f.ref(proxy.Host), reg.Host+"/"+f.repo, f.tag))
	}
	first.kill(t)
	var j jobState
	if code := c.do("GET", "/api/v1/jobs/"+strconv.FormatInt(killed, 10), nil, &j); code != http.StatusOK || j.State != "running" {
		t.Fatalf("the killed worker's job: HTTP %d, %+v; want running", code, j)
	}
	start := time.Now()
	startDrydock(t, workerArgs...)
	states := c.waitJobs(append([]int64{killed}, others...), 100*time.Second)
	t.Logf("the killed worker's job completed %s after the second worker started; attempts %d, errors %v",
		time.Since(start).Round(time.Millisecond), states[killed].Attempt, states[killed].Errors)
	if states[killed].Attempt != 2 {
		t.Errorf("the killed worker's job ran %d times, want 2", states[killed].Attempt)
	}
	for _, id := range others {
		if states[id].Attempt != 1 {
			t.Errorf("job %d ran %d times, want once", id, states[id].Attempt)
		}
	}
	checkStored(t, c, dsn, reg.Host, imgs)
}

// TestPostgresRestartedMidScan: PostgreSQL (a private server, never the
// machine's shared one) is restarted while a worker reads a layer; the
// worker reconnects, the scan completes and is stored once, and a scan
// submitted after the restart completes too.
func TestPostgresRestartedMidScan(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a PostgreSQL server of its own")
	}
	pg := storetest.StartPrivate(t)
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{})
	slow, blob := slowImage(t, "restarted")
	later := fleetImages(t, 1, 1)
	imgs := append([]fleetImage{slow}, later...)
	push(t, reg.Host, imgs)
	proxy := startStallingProxy(t, reg.Host, blob)

	c := newAPIClient(t, pg.DSN)
	startDrydock(t, "server", "--postgres", pg.DSN, "--listen", c.addr())
	c.waitReady(60 * time.Second)
	worker := startDrydock(t, "worker", "--postgres", pg.DSN, "--workers", "1", "--db", testDB, "--scan-timeout", "2m")
	id := c.submit(slow.ref(proxy.Host), reg.Host+"/"+slow.repo, slow.tag)
	proxy.waitStalled(t, 60*time.Second)
	pg.Restart()
	proxy.Release()
	c.waitReady(60 * time.Second) // the API reconnected
	next := c.submit(later[0].ref(proxy.Host), reg.Host+"/"+later[0].repo, later[0].tag)
	states := c.waitJobs([]int64{id, next}, 100*time.Second)
	t.Logf("jobs after the restart: %+v", states)
	select {
	case <-worker.done:
		t.Fatalf("the worker exited: %v\n%s", worker.err, worker.out)
	default:
	}
	for id, j := range states {
		if j.Attempt != 1 {
			t.Errorf("job %d ran %d times (errors %v), want once: the worker's queries wait for the database to come back", id, j.Attempt, j.Errors)
		}
	}
	// The layers read while the database restarted were stored once it was
	// back (the scan submitted after it read none of them again).
	layers := layerDigests(t, imgs)
	want := map[string]int{}
	for _, diff := range layers {
		want[diff] = 1
	}
	walked := map[string]int{}
	worker.walked(walked)
	if d := cmp.Diff(want, walked); d != "" {
		t.Errorf("layers walked, by diff_id (-want +got):\n%s", d)
	}
	if n := queryInt(t, pg.DSN, "SELECT count(*) FROM layer_results"); n != len(layers) {
		t.Errorf("layer_results: %d rows, want %d", n, len(layers))
	}
	checkStored(t, c, pg.DSN, reg.Host, imgs)
}
