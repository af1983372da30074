package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/drydock-scan/drydock/internal/store"
)

// closeWhenDone closes g when the test ends (before its database is
// dropped), failing the test if the decisions could not be flushed.
func closeWhenDone(t testing.TB, g *Gate) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Close(ctx); err != nil {
			t.Error(err)
		}
	})
}

// reviewBy is reviewOf with the object's name and the requesting user
// set, as the API server sends them.
func reviewBy(t *testing.T, user, uid string, op admissionv1.Operation, ns, name string, gvk metav1.GroupVersionKind, obj any, dryRun bool) []byte {
	t.Helper()
	var raw runtime.RawExtension
	if obj != nil {
		b, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		raw.Raw = b
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: reviewV1, Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: types.UID("uid-" + uid), Kind: gvk, Namespace: ns, Name: name, Operation: op,
			UserInfo: authenticationv1.UserInfo{Username: user, Groups: []string{"system:authenticated"}}, Object: raw, DryRun: &dryRun},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDecisionsRecorded: every answer of the webhook (cold, from the
// precomputed all-pass answer, not gated, a dry run, a real review) and of
// the Gatekeeper provider ends up in the store with who asked, what and
// why; a request that is no AdmissionReview has nothing to record. The
// first decision is written by the periodic flush, the rest by Close.
func TestDecisionsRecorded(t *testing.T) {
	e := newEnv(t)
	e.save(t, "registry.example/team/ok", passDigest, "LOW")
	e.save(t, "registry.example/team/vulnerable", failDigest, "CRITICAL")
	e.save(t, "index.docker.io/securesystemsengineering/charlie-image", charlieDigest, "CRITICAL")
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	g, err := New(Options{Config: config(t), Store: e.st, Enqueue: e.enqueue, Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for _, r := range g.Routes() {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	closeWhenDone(t, g)
	ctx := t.Context()

	deploy := metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	pod := kinds[0].gvk
	build := func(k int, images ...string) any {
		return kinds[k].build(metav1.ObjectMeta{Name: "web"}, spec(images, nil, nil))
	}
	post(t, srv.Client(), srv.URL, reviewBy(t, "alice", "1", admissionv1.Create, "prod", "web", deploy, build(1, passRef), false))
	// Written within the flush period, without Close.
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := e.st.Decisions(ctx, store.DecisionFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d decisions stored %v after the first answer, want 1", len(ds), DecisionFlushEvery)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The same images again: answered from the precomputed answer.
	post(t, srv.Client(), srv.URL, reviewBy(t, "alice", "2", admissionv1.Create, "prod", "web", deploy, build(1, passRef), false))
	post(t, srv.Client(), srv.URL, reviewBy(t, "bob", "3", admissionv1.Create, "prod", "", pod, build(0, passRef, failRef), false))
	unknown := "registry.example/team/new@" + fakeDigest("recorded")
	post(t, srv.Client(), srv.URL, reviewBy(t, "carol", "4", admissionv1.Create, "prod", "dry", pod, build(0, unknown), true))
	post(t, srv.Client(), srv.URL, reviewBy(t, "dave", "5", admissionv1.Delete, "prod", "old", pod, nil, false))
	body, err := os.ReadFile(filepath.Join("testdata", "connaisseur-02_pod.json"))
	if err != nil {
		t.Fatal(err)
	}
	post(t, srv.Client(), srv.URL, body)
	gk := fmt.Sprintf(`{"apiVersion":%q,"kind":%q,"request":{"keys":[%q,%q]}}`, ProviderAPIVersion, KindProviderReq, passRef, failRef)
	if resp, err := srv.Client().Post(srv.URL+GatekeeperPath, "application/json", strings.NewReader(gk)); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("gatekeeper: %v %v", resp, err)
	}
	if resp, err := srv.Client().Post(srv.URL+ValidatePath, "application/json", strings.NewReader(`{"kind":"Nonsense"}`)); err != nil || resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad request: %v %v", resp, err)
	}
	if err := g.Close(ctx); err != nil {
		t.Fatal(err)
	}

	charlie := "securesystemsengineering/charlie-image@" + charlieDigest
	passed := `image ` + passRef + ` passes policy "default"`
	failed := `image ` + failRef + ` fails policy "default": rule no-critical: critical vulnerability CVE-2024-0001 in openssl 3.0.1`
	want := []store.Decision{ // newest first: all at the same instant, so by ID
		{Source: store.DecisionGatekeeper, Outcome: OutcomeAllowed, Reason: passed + "; " + failed, Images: []string{passRef, failRef}},
		{Source: store.DecisionWebhook, UID: "0c3331b6-1812-11ea-b3fc-02897404852e", Namespace: "test-connaisseur", Kind: "v1 Pod",
			Username: "system:serviceaccount:kube-system:replicaset-controller", Operation: "CREATE", Outcome: OutcomeDenied,
			Reason: `image ` + charlie + ` fails policy "default": rule no-critical: critical vulnerability CVE-2024-0001 in openssl 3.0.1`,
			Images: []string{charlie}},
		{Source: store.DecisionWebhook, UID: "uid-5", Namespace: "prod", Kind: "v1 Pod", Name: "old", Username: "dave", Operation: "DELETE",
			Outcome: OutcomeAllowed, Reason: "operation DELETE is not gated", Images: []string{}},
		{Source: store.DecisionWebhook, UID: "uid-4", Namespace: "prod", Kind: "v1 Pod", Name: "dry", Username: "carol", Operation: "CREATE",
			DryRun: true, Outcome: OutcomeDenied, Reason: "scan pending for " + unknown + ": not scanned yet (dry run: no scan queued)",
			Images: []string{unknown}},
		{Source: store.DecisionWebhook, UID: "uid-3", Namespace: "prod", Kind: "v1 Pod", Username: "bob", Operation: "CREATE",
			Outcome: OutcomeDenied, Reason: failed, Images: []string{passRef, failRef}},
		{Source: store.DecisionWebhook, UID: "uid-2", Namespace: "prod", Kind: "apps/v1 Deployment", Name: "web", Username: "alice",
			Operation: "CREATE", Outcome: OutcomeAllowed, Reason: passed, Images: []string{passRef}},
		{Source: store.DecisionWebhook, UID: "uid-1", Namespace: "prod", Kind: "apps/v1 Deployment", Name: "web", Username: "alice",
			Operation: "CREATE", Outcome: OutcomeAllowed, Reason: passed, Images: []string{passRef}},
	}
	for i := range want {
		want[i].DecidedAt = at
	}
	got, err := e.st.Decisions(ctx, store.DecisionFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(store.Decision{}, "ID")); diff != "" {
		t.Errorf("decisions (-want +got):\n%s", diff)
	}
	if n := testutil.CollectAndCount(g.metrics.decisionsDropped); n != 3 {
		t.Errorf("%d drop reasons exported, want 3 (each from zero)", n)
	}
	for _, reason := range []string{dropQueueFull, dropStoreError, dropClosed} {
		if n := testutil.ToFloat64(g.metrics.decisionsDropped.WithLabelValues(reason)); n != 0 {
			t.Errorf("%v decisions dropped for %s, want 0", n, reason)
		}
	}
	// Answered after Close: not recorded, and counted so.
	post(t, srv.Client(), srv.URL, reviewBy(t, "erin", "6", admissionv1.Create, "prod", "web", deploy, build(1, passRef), false))
	if n := testutil.ToFloat64(g.metrics.decisionsDropped.WithLabelValues(dropClosed)); n != 1 {
		t.Errorf("%v decisions dropped after Close, want 1", n)
	}
}

// fakeDecisions is a decision store whose inserts wait for release (when
// set) and fail while fail > 0.
type fakeDecisions struct {
	mu       sync.Mutex
	got      []string // the UIDs written, in order
	batches  int
	fail     int
	entered  chan struct{} // receives on every insert, when set
	release  chan struct{} // inserts wait for it (or ctx), when set
	pruned   []time.Time
	prunedCh chan struct{}
}

func (f *fakeDecisions) RecordDecisions(ctx context.Context, ds []store.Decision) error {
	if f.entered != nil {
		f.entered <- struct{}{}
	}
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return errors.New("database on fire")
	}
	f.batches++
	for _, d := range ds {
		f.got = append(f.got, d.UID)
	}
	return nil
}

func (f *fakeDecisions) PruneDecisions(ctx context.Context, before time.Time) (int64, error) {
	f.mu.Lock()
	f.pruned = append(f.pruned, before)
	f.mu.Unlock()
	if f.prunedCh != nil {
		f.prunedCh <- struct{}{}
	}
	return 0, nil
}

func (f *fakeDecisions) written() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string{}, f.got...)
}

// lockedBuffer is a log destination safe for concurrent writes and reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.FieldsFunc(b.buf.String(), func(r rune) bool { return r == '\n' })
}

// testRecorder is a recorder on st with opt, its clock, logs and drop
// counters, closed when the test ends.
type testRecorder struct {
	*recorder
	logs    *lockedBuffer
	dropped *prometheus.CounterVec
	mu      sync.Mutex
	now     time.Time
}

func newTestRecorder(t *testing.T, st decisionStore, opt recorderOptions) *testRecorder {
	t.Helper()
	tr := &testRecorder{logs: &lockedBuffer{}, dropped: newMetrics().decisionsDropped, now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	opt.log = slog.New(slog.NewTextHandler(tr.logs, nil))
	opt.dropped = tr.dropped
	opt.now = func() time.Time { tr.mu.Lock(); defer tr.mu.Unlock(); return tr.now }
	tr.recorder = newRecorder(st, opt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = tr.close(ctx)
	})
	return tr
}

func (tr *testRecorder) advance(d time.Duration) {
	tr.mu.Lock()
	tr.now = tr.now.Add(d)
	tr.mu.Unlock()
}

func (tr *testRecorder) droppedFor(reason string) float64 {
	return testutil.ToFloat64(tr.dropped.WithLabelValues(reason))
}

func decision(uid string) store.Decision {
	return store.Decision{Source: store.DecisionWebhook, UID: uid, Outcome: OutcomeAllowed}
}

func receiveWithin(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("no %s within 10 s", what)
	}
}

// TestRecorderQueueFull: while the store hangs, answers do not wait: the
// queue fills, what it has no room for is dropped, counted and warned
// about at most once a minute; once the store answers, what was queued is
// written.
func TestRecorderQueueFull(t *testing.T) {
	f := &fakeDecisions{entered: make(chan struct{}, 10), release: make(chan struct{})}
	r := newTestRecorder(t, f, recorderOptions{queue: 2, batch: 1, flushEvery: time.Hour})
	r.record(decision("1"))
	receiveWithin(t, f.entered, "insert") // the goroutine holds "1", waiting on the store
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, uid := range []string{"2", "3", "4", "5", "6"} {
			r.record(decision(uid))
		}
	}()
	receiveWithin(t, done, "return from record while the store hangs")
	if n := r.droppedFor(dropQueueFull); n != 3 {
		t.Errorf("%v dropped with the queue full, want 3", n)
	}
	if logs := r.logs.lines(); len(logs) != 1 || !strings.Contains(logs[0], "reason=queue_full dropped=1") {
		t.Errorf("logs %q, want one warning for the first drop", logs)
	}
	r.advance(time.Minute)
	r.record(decision("7"))
	if logs := r.logs.lines(); len(logs) != 2 || !strings.Contains(logs[1], "reason=queue_full dropped=3") {
		t.Errorf("logs %q, want a second warning a minute later, counting the drops since the first", logs)
	}
	close(f.release)
	if err := r.close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1", "2", "3"}, f.written()); diff != "" {
		t.Errorf("written (-want +got):\n%s", diff)
	}
	if n := r.droppedFor(dropQueueFull); n != 4 {
		t.Errorf("%v dropped with the queue full, want 4", n)
	}
}

// TestRecorderClose: Close writes what is queued before the period is up;
// what the store does not take before Close's deadline is dropped and
// counted.
func TestRecorderClose(t *testing.T) {
	t.Run("flushes", func(t *testing.T) {
		f := &fakeDecisions{}
		r := newTestRecorder(t, f, recorderOptions{batch: 2, flushEvery: time.Hour})
		for _, uid := range []string{"1", "2", "3", "4", "5"} {
			r.record(decision(uid))
		}
		if err := r.close(t.Context()); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"1", "2", "3", "4", "5"}, f.written()); diff != "" {
			t.Errorf("written (-want +got):\n%s", diff)
		}
		if f.batches != 3 {
			t.Errorf("%d batches, want 3 of at most 2", f.batches)
		}
		r.record(decision("6"))
		if n := r.droppedFor(dropClosed); n != 1 {
			t.Errorf("%v dropped after close, want 1", n)
		}
		if err := r.close(t.Context()); err != nil {
			t.Errorf("closing twice: %v", err)
		}
	})
	t.Run("gives up at the deadline", func(t *testing.T) {
		f := &fakeDecisions{release: make(chan struct{})} // never released
		r := newTestRecorder(t, f, recorderOptions{batch: 2, flushEvery: time.Hour, retryWait: time.Millisecond})
		for _, uid := range []string{"1", "2", "3"} {
			r.record(decision(uid))
		}
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := r.close(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("close: %v, want the deadline", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("close took %v", d)
		}
		if n := r.droppedFor(dropStoreError); n != 3 {
			t.Errorf("%v dropped, want the 3 queued", n)
		}
	})
}

// TestRecorderRetry: a failed insert is tried once more; a batch that
// fails twice is dropped, counted and warned about with the error.
func TestRecorderRetry(t *testing.T) {
	f := &fakeDecisions{fail: 1}
	r := newTestRecorder(t, f, recorderOptions{batch: 2, flushEvery: time.Hour, retryWait: time.Millisecond})
	r.record(decision("1"))
	r.record(decision("2")) // a full batch: written now
	if err := r.close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"1", "2"}, f.written()); diff != "" {
		t.Errorf("written after one failure (-want +got):\n%s", diff)
	}

	f = &fakeDecisions{fail: 2}
	r = newTestRecorder(t, f, recorderOptions{batch: 2, flushEvery: time.Hour, retryWait: time.Millisecond})
	for _, uid := range []string{"1", "2", "3"} {
		r.record(decision(uid))
	}
	if err := r.close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"3"}, f.written()); diff != "" {
		t.Errorf("written after two failures (-want +got):\n%s", diff)
	}
	if n := r.droppedFor(dropStoreError); n != 2 {
		t.Errorf("%v dropped, want the batch of 2", n)
	}
	if logs := r.logs.lines(); len(logs) != 1 || !strings.Contains(logs[0], "reason=store_error dropped=2") || !strings.Contains(logs[0], "database on fire") {
		t.Errorf("logs %q, want one warning with the error", logs)
	}
}

// TestRecorderPrunes: decisions older than the retention are deleted soon
// after start, then every period.
func TestRecorderPrunes(t *testing.T) {
	f := &fakeDecisions{prunedCh: make(chan struct{}, 10)}
	r := newTestRecorder(t, f, recorderOptions{firstPrune: time.Millisecond, pruneEvery: 20 * time.Millisecond})
	receiveWithin(t, f.prunedCh, "prune")
	receiveWithin(t, f.prunedCh, "second prune")
	if err := r.close(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if want := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC); !f.pruned[0].Equal(want) {
		t.Errorf("pruned before %v, want %v (30 days)", f.pruned[0], want)
	}
}
