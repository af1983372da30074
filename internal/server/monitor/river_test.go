package monitor

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server/webhook"
	"github.com/drydock-scan/drydock/internal/store"
)

// flaky is a webhook receiver that answers 500 to the first two requests
// of every idempotency key, then 200, checking every signature.
type flaky struct {
	secret []byte
	mu     sync.Mutex
	seen   map[string][]int
	bad    int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get(webhook.HeaderIdempotency)
	f.mu.Lock()
	defer f.mu.Unlock()
	if !webhook.Verify(f.secret, body, r.Header.Get(webhook.HeaderSignature)) {
		f.bad++
	}
	status := http.StatusOK
	if len(f.seen[key]) < 2 {
		status = http.StatusInternalServerError
	}
	f.seen[key] = append(f.seen[key], status)
	w.WriteHeader(status)
}

func (f *flaky) accepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.seen {
		if slices.Contains(s, http.StatusOK) {
			n++
		}
	}
	return n
}

// The must-show through the job queue, as the server runs it: the apply is
// queued by POST /api/v1/db/apply and run by a River worker, the events go
// out through the webhook outbox's periodic dispatcher to a receiver that
// answers 500 twice per key: each of the 5 events is accepted exactly once
// per idempotency key, signed. A second apply queues no event and no
// delivery.
func TestApplyJobDeliversWebhooks(t *testing.T) {
	st := openStore(t)
	reg := startRegistry(t)
	f := buildFleet(t, reg)
	v1, v2 := dbV1(t), dbV2(t)
	scanFleet(t, st, v1, f, true)
	// The scans recorded their lookups: applying their database re-matches
	// nothing.
	rep, err := Apply(t.Context(), st, v1, MatchOptions{}, false)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images != 0 || rep.Keys != 20 {
		t.Errorf("applying the scans' database: %+v, want 20 lookups and no image re-matched", rep)
	}
	requests := reg.requests.Load()

	box, err := secretbox.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	recv := &flaky{secret: []byte("0123456789abcdef-secret"), seen: map[string][]int{}}
	hookSrv := httptest.NewServer(recv)
	t.Cleanup(hookSrv.Close)

	mon, err := New(Options{Store: st, DB: v2, CheckEvery: time.Hour, FullEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := webhook.New(webhook.Options{Store: st, Secrets: box, Interval: 200 * time.Millisecond,
		Backoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	mon.AddWorkers(workers)
	hooks.AddWorkers(workers)
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}}
	maps.Copy(queues, mon.Queues())
	maps.Copy(queues, hooks.Queues())
	client, err := river.NewClient(riverpgxv5.New(st.Pool()), &river.Config{
		Workers: workers, Queues: queues, PeriodicJobs: append(mon.Periodic(), hooks.Periodic()...),
		FetchPollInterval: 50 * time.Millisecond, FetchCooldown: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := client.Stop(ctx); err != nil {
			t.Errorf("stopping workers: %v", err)
		}
	})

	mux := http.NewServeMux()
	for _, r := range append(mon.Routes(), hooks.Routes()...) {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	apiSrv := httptest.NewServer(mux)
	t.Cleanup(apiSrv.Close)
	post(t, apiSrv.URL+"/api/v1/webhooks", webhook.RegisterRequest{URL: hookSrv.URL, Secret: string(recv.secret)}, http.StatusCreated)

	// The periodic check (RunOnStart) may apply v2 before the request
	// does: either way v2 is applied once, and the request's job finds it
	// applied.
	waitJob(t, client, post(t, apiSrv.URL+"/api/v1/db/apply", nil, http.StatusAccepted))
	deadline := time.Now().Add(30 * time.Second)
	for recv.accepted() < 5 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	evs, err := st.Events(t.Context(), store.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{}
	for _, e := range evs {
		want[e.IdempotencyKey] = []int{500, 500, 200}
	}
	if len(want) != 5 {
		t.Errorf("%d events, want 5", len(want))
	}
	// Another apply: no new event, no delivery.
	waitJob(t, client, post(t, apiSrv.URL+"/api/v1/db/apply", nil, http.StatusAccepted))
	time.Sleep(500 * time.Millisecond) // two dispatch intervals
	recv.mu.Lock()
	if d := cmp.Diff(want, recv.seen); d != "" {
		t.Errorf("answers per idempotency key (-want +got):\n%s", d)
	}
	if recv.bad != 0 {
		t.Errorf("%d requests whose signature does not verify", recv.bad)
	}
	recv.mu.Unlock()
	after, err := st.Events(t.Context(), store.EventFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(evs) {
		t.Errorf("%d events after applying v2 again, want %d", len(after), len(evs))
	}
	if got := reg.requests.Load() - requests; got != 0 {
		t.Errorf("%d registry requests while applying, want 0", got)
	}

	// The events API pages and filters.
	var page struct {
		Events    []store.Event `json:"events"`
		NextAfter int64         `json:"next_after"`
	}
	getJSON(t, apiSrv.URL+"/api/v1/events?limit=3", &page)
	if len(page.Events) != 3 || page.NextAfter != page.Events[2].ID {
		t.Fatalf("first page: %+v", page)
	}
	first := page.Events
	getJSON(t, apiSrv.URL+"/api/v1/events?after="+itoa(page.NextAfter), &page)
	if len(page.Events) != 2 {
		t.Errorf("second page: %d events, want 2", len(page.Events))
	}
	getJSON(t, apiSrv.URL+"/api/v1/events?image="+itoa(first[0].Image.ID), &page)
	if len(page.Events) != 1 || page.Events[0].ID != first[0].ID {
		t.Errorf("events of image %d: %+v", first[0].Image.ID, page.Events)
	}
	var versions struct{ Versions []store.DBVersion }
	getJSON(t, apiSrv.URL+"/api/v1/db/versions", &versions)
	if len(versions.Versions) != 2 || !versions.Versions[0].BuiltAt.Equal(v2Time) || versions.Versions[0].Completed == nil {
		t.Errorf("versions: %+v", versions.Versions)
	}
	for _, bad := range []string{"after=x", "limit=0", "image=-1"} {
		resp, err := http.Get(apiSrv.URL + "/api/v1/events?" + bad)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("events?%s: %d, want 400", bad, resp.StatusCode)
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func post(t *testing.T, url string, body any, want int) int64 {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	resp, err := http.Post(url, "application/json", rd)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("POST %s: %d %s, want %d", url, resp.StatusCode, b, want)
	}
	var out struct {
		JobID int64 `json:"job_id"`
	}
	_ = json.Unmarshal(b, &out)
	return out.JobID
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// waitJob waits for a job to complete, failing on any other final state.
func waitJob(t *testing.T, c *river.Client[pgx.Tx], id int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		j, err := c.JobGet(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch j.State {
		case rivertype.JobStateCompleted:
			return
		case rivertype.JobStateDiscarded, rivertype.JobStateCancelled, rivertype.JobStateRetryable:
			t.Fatalf("job %d: %s: %v", id, j.State, j.Errors)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %d not completed in time", id)
}
