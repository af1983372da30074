package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The test binary is also the load generator of the benchmarks, run in a
// second process (as the API server is): $DRYDOCK_ADMISSION_LOADGEN set.
const loadgenEnv = "DRYDOCK_ADMISSION_LOADGEN"

func TestMain(m *testing.M) {
	if os.Getenv(loadgenEnv) != "" {
		os.Exit(loadgen())
	}
	os.Exit(m.Run())
}

// loadStats is what the load generator reports.
type loadStats struct {
	Requests  int                `json:"requests"`
	Errors    int                `json:"errors"`
	Outcomes  map[string]int     `json:"outcomes"`
	Seconds   float64            `json:"seconds"`
	Latencies map[string]float64 `json:"latencies_ms"` // p50, p90, p99, max
}

// loadgen POSTs the AdmissionReview in $LOADGEN_BODY to $LOADGEN_URL,
// $LOADGEN_REQUESTS times from $LOADGEN_CONCURRENCY goroutines at once,
// and prints loadStats as JSON. With $LOADGEN_CPUPROFILE set it writes its
// CPU profile there.
func loadgen() int {
	if p := os.Getenv("LOADGEN_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 2
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			return 2
		}
		defer pprof.StopCPUProfile()
	}
	url := os.Getenv("LOADGEN_URL")
	n, _ := strconv.Atoi(os.Getenv("LOADGEN_REQUESTS"))
	conc, _ := strconv.Atoi(os.Getenv("LOADGEN_CONCURRENCY"))
	body, err := os.ReadFile(os.Getenv("LOADGEN_BODY"))
	if err != nil || n <= 0 || conc <= 0 {
		fmt.Fprintln(os.Stderr, "loadgen: bad arguments", err)
		return 2
	}
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConns: conc, MaxIdleConnsPerHost: conc}}
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var mu sync.Mutex
	st := loadStats{Requests: n, Outcomes: map[string]int{}}
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The client's own cost kept small (it shares the cores): the
			// answer read into a reused buffer and decoded into the two
			// fields checked.
			var got bytes.Buffer
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				// A *bytes.Reader: the request has a Content-Length.
				resp, err := client.Post(url, "application/json", bytes.NewReader(body))
				// Only what the benchmark checks (the API server decodes more).
				var review struct {
					Response *struct {
						Allowed          bool `json:"allowed"`
						AuditAnnotations struct {
							Decision string `json:"decision"`
						} `json:"auditAnnotations"`
					} `json:"response"`
				}
				if err == nil {
					got.Reset()
					_, err = got.ReadFrom(resp.Body)
					resp.Body.Close()
					if err == nil {
						err = json.Unmarshal(got.Bytes(), &review)
					}
				}
				lat[i] = time.Since(t0)
				mu.Lock()
				if err != nil || review.Response == nil {
					st.Errors++
				} else {
					st.Outcomes[review.Response.AuditAnnotations.Decision]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	st.Seconds = time.Since(start).Seconds()
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	st.Latencies = map[string]float64{"p50": ms(lat[n*50/100]), "p90": ms(lat[n*90/100]), "p99": ms(lat[n*99/100]), "max": ms(lat[n-1])}
	if err := json.NewEncoder(os.Stdout).Encode(st); err != nil {
		return 1
	}
	return 0
}

// runLoad runs the load generator in a second process against url.
func runLoad(b *testing.B, url string, body []byte, requests, concurrency int) loadStats {
	b.Helper()
	f := filepath.Join(b.TempDir(), "review.json")
	if err := os.WriteFile(f, body, 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), loadgenEnv+"=1", "LOADGEN_URL="+url, "LOADGEN_BODY="+f,
		"LOADGEN_REQUESTS="+strconv.Itoa(requests), "LOADGEN_CONCURRENCY="+strconv.Itoa(concurrency))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("load generator: %v\n%s", err, stderr.String())
	}
	var st loadStats
	if err := json.Unmarshal(out, &st); err != nil {
		b.Fatalf("load generator output %q: %v", out, err)
	}
	return st
}

// BenchmarkWebhookConcurrent: 200 concurrent admission requests from a
// second process on loopback, for a Deployment of three images by digest
// whose verdicts are warm (each request: three store lookups, three
// cached verdicts). Run with -benchtime=1x: one iteration is 10,000
// requests. Reports the latency percentiles of the requests.
//
//	go test -run '^$' -bench BenchmarkWebhookConcurrent -benchtime=1x ./internal/server/admission/
func BenchmarkWebhookConcurrent(b *testing.B) {
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(ServingGCPercent)) // as the API process runs
	}
	e := newEnv(b)
	imgs := []string{passRef, "registry.example/team/b@" + fakeDigest("b"), "registry.example/team/c@" + fakeDigest("c")}
	for _, r := range imgs {
		e.save(b, "registry.example/team/x", r[len(r)-71:], "LOW", "MEDIUM")
	}
	cfg := config(b)
	g, srv := e.gate(b, cfg, nil)
	body := reviewOf(b, "bench", admissionv1.Create, "prod", kinds[1].gvk,
		kinds[1].build(metav1.ObjectMeta{Name: "app"}, spec(imgs, nil, nil)), nil, false)
	// Warm the verdicts.
	if resp := g.decideAll(context.Background(), imgs, "default", false); resp[0].Status != StatusPass {
		b.Fatalf("warm-up: %+v", resp)
	}
	var st loadStats
	for b.Loop() {
		st = runLoad(b, srv.URL+ValidatePath, body, 10000, 200)
	}
	if st.Errors > 0 || st.Outcomes[OutcomeAllowed] != st.Requests {
		b.Fatalf("%d errors, outcomes %v", st.Errors, st.Outcomes)
	}
	for _, p := range []string{"p50", "p90", "p99", "max"} {
		b.ReportMetric(st.Latencies[p], p+"-ms")
	}
	b.ReportMetric(float64(st.Requests)/st.Seconds, "req/s")
}

// BenchmarkWebhookRegistryDown: the same load for an image by tag whose
// registry accepts connections and never answers, with the default 2.5 s
// budget, failing closed: every answer must be the fail-closed denial, and
// the latencies show it comes within the budget.
//
//	go test -run '^$' -bench BenchmarkWebhookRegistryDown -benchtime=1x ./internal/server/admission/
func BenchmarkWebhookRegistryDown(b *testing.B) {
	e := newEnv(b)
	cfg := config(b)
	cfg.Budget = DefaultBudget
	g, _ := e.gate(b, cfg, redirect{hangingRegistry(b)})
	// The server's own time per answer, from the handler's start to its
	// end (what the budget bounds), beside the client's.
	var mu sync.Mutex
	var served []time.Duration
	mux := http.NewServeMux()
	for _, r := range g.Routes() {
		mux.HandleFunc(r.Pattern, func(w http.ResponseWriter, req *http.Request) {
			t0 := time.Now()
			r.Handler(w, req)
			mu.Lock()
			served = append(served, time.Since(t0))
			mu.Unlock()
		})
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	body := reviewOf(b, "bench", admissionv1.Create, "prod", kinds[1].gvk,
		kinds[1].build(metav1.ObjectMeta{Name: "app"}, spec([]string{"team/app:1.0", "team/sidecar:2.0"}, nil, nil)), nil, false)
	var st loadStats
	for b.Loop() {
		st = runLoad(b, srv.URL+ValidatePath, body, 1000, 200)
	}
	if st.Errors > 0 || st.Outcomes[OutcomeFailClosed] != st.Requests {
		b.Fatalf("%d errors, outcomes %v", st.Errors, st.Outcomes)
	}
	for _, p := range []string{"p50", "p99", "max"} {
		b.ReportMetric(st.Latencies[p], p+"-ms")
	}
	slices.Sort(served)
	b.ReportMetric(float64(served[len(served)-1].Microseconds())/1000, "server-max-ms")
}

// BenchmarkValidateWarm: one admission request at a time, in process (no
// network), for the Deployment of BenchmarkWebhookConcurrent: the CPU cost
// of an answer with warm caches.
func BenchmarkValidateWarm(b *testing.B) {
	e := newEnv(b)
	imgs := []string{passRef, "registry.example/team/b@" + fakeDigest("b"), "registry.example/team/c@" + fakeDigest("c")}
	for _, r := range imgs {
		e.save(b, "registry.example/team/x", r[len(r)-71:], "LOW", "MEDIUM")
	}
	g, _ := e.gate(b, config(b), nil)
	body := reviewOf(b, "bench", admissionv1.Create, "prod", kinds[1].gvk,
		kinds[1].build(metav1.ObjectMeta{Name: "app"}, spec(imgs, nil, nil)), nil, false)
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		g.validate(w, httptest.NewRequest(http.MethodPost, ValidatePath, bytes.NewReader(body)))
		if w.Code != http.StatusOK || !bytes.Contains(w.Body.Bytes(), []byte(`"allowed":true`)) {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkWebhookConcurrentWrk is BenchmarkWebhookConcurrent with wrk
// (Debian's package; a C load generator, closed loop like ours) as the
// second process: 200 connections for 10 s. The Go load generator spends
// a good share of the 2 cores on its own goroutines, JSON decoding and
// garbage collection, and that shows in the latencies it measures; wrk
// costs the machine less, so the server's own latency shows. Skipped
// when wrk is not installed (apt-get install wrk).
//
//	go test -run '^$' -bench BenchmarkWebhookConcurrentWrk -benchtime=1x ./internal/server/admission/
func BenchmarkWebhookConcurrentWrk(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Skip("wrk is not installed (apt-get install wrk)")
	}
	// As an API-only drydock server process runs (cmd/drydock), unless
	// $GOGC says otherwise.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(ServingGCPercent))
	}
	e := newEnv(b)
	imgs := []string{passRef, "registry.example/team/b@" + fakeDigest("b"), "registry.example/team/c@" + fakeDigest("c")}
	for _, r := range imgs {
		e.save(b, "registry.example/team/x", r[len(r)-71:], "LOW", "MEDIUM")
	}
	g, srv := e.gate(b, config(b), nil)
	body := reviewOf(b, "bench", admissionv1.Create, "prod", kinds[1].gvk,
		kinds[1].build(metav1.ObjectMeta{Name: "app"}, spec(imgs, nil, nil)), nil, false)
	if resp := g.decideAll(context.Background(), imgs, "default", false); resp[0].Status != StatusPass {
		b.Fatalf("warm-up: %+v", resp)
	}
	// The script posts the review and counts the answers that are not an
	// admission ("allowed":true): every one must be.
	script := filepath.Join(b.TempDir(), "post.lua")
	lua := fmt.Sprintf(`wrk.method = "POST"
wrk.body = %q
wrk.headers["Content-Type"] = "application/json"
local bad = 0
response = function(status, headers, body)
  if status ~= 200 or not string.find(body, '"allowed":true', 1, true) then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("DRYDOCK requests=%%d errors=%%d bad=%%d p50=%%.3f p90=%%.3f p99=%%.3f max=%%.3f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout,
    bad, latency:percentile(50)/1000, latency:percentile(90)/1000, latency:percentile(99)/1000, latency.max/1000))
end
`, body)
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		b.Fatal(err)
	}
	var out []byte
	for b.Loop() {
		cmd := exec.Command(wrk, "-t2", "-c200", "-d10s", "--timeout", "10s", "-s", script, srv.URL+ValidatePath)
		if out, err = cmd.CombinedOutput(); err != nil {
			b.Fatalf("wrk: %v\n%s", err, out)
		}
	}
	var requests, errs, bad int
	var p50, p90, p99, mx float64
	i := bytes.Index(out, []byte("DRYDOCK "))
	if i < 0 {
		b.Fatalf("wrk printed no summary:\n%s", out)
	}
	if _, err := fmt.Sscanf(string(out[i:]), "DRYDOCK requests=%d errors=%d bad=%d p50=%f p90=%f p99=%f max=%f",
		&requests, &errs, &bad, &p50, &p90, &p99, &mx); err != nil {
		b.Fatalf("wrk summary: %v\n%s", err, out)
	}
	// wrk's response callback sees every answer (its threads run the
	// script), but its summary counts only the thread that ran done; the
	// errors are counted for all.
	if errs > 0 || bad > 0 {
		b.Fatalf("%d errors, %d answers not an admission\n%s", errs, bad, out)
	}
	b.ReportMetric(p50, "p50-ms")
	b.ReportMetric(p90, "p90-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(mx, "max-ms")
	b.ReportMetric(float64(requests)/10, "req/s")
}
