package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/riverqueue/river"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// openStore gives the test a migrated store (the store's schema and the
// job queue's) on a database of its own.
func openStore(t *testing.T) *store.Store {
	t.Helper()
	return storetest.Open(t, store.Options{})
}

func box(t *testing.T) *secretbox.Box {
	t.Helper()
	b, err := secretbox.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// storeImage stores a scanned image holding packages, with no findings.
func storeImage(t *testing.T, st *store.Store, digest string, pkgs ...string) int64 {
	t.Helper()
	res := &result.Result{Image: inventory.Image{Digest: digest, OS: "linux", Arch: "amd64"}, Findings: []finding.Finding{}}
	for _, p := range pkgs {
		res.Packages = append(res.Packages, inventory.Package{ID: p, Name: p, Version: "1.0", Ecosystem: "npm"})
	}
	saved, err := st.SaveScan(t.Context(), store.ImageKey{Repository: "registry.test/app", Tags: []string{"1"}}, res)
	if err != nil {
		t.Fatal(err)
	}
	return saved.ImageID
}

// setFindings re-matches the image to findings (one per package named),
// which writes an event per change.
func setFindings(t *testing.T, st *store.Store, id int64, pkgs ...string) store.RematchOutcome {
	t.Helper()
	out, err := st.RematchImage(t.Context(), id, func(context.Context, *result.Result) (*store.Rematched, error) {
		var fs []finding.Finding
		for _, p := range pkgs {
			fs = append(fs, finding.Finding{ID: "CVE-2099-" + p, Package: finding.PackageRef{ID: p, Name: p, Version: "1.0", Ecosystem: "npm"},
				InstalledVersion: "1.0", Severity: "HIGH", Status: "affected"})
		}
		return &store.Rematched{Findings: fs, Database: &result.Database{BuiltAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}, Versions: "test"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// receiver is a webhook endpoint that answers 500 to the first fails
// deliveries of each idempotency key, then 200, and records everything.
type receiver struct {
	secret []byte
	fails  int

	mu   sync.Mutex
	seen map[string][]int // idempotency key → statuses answered
	bad  []string         // problems with requests
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get(HeaderIdempotency)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !Verify(rc.secret, body, r.Header.Get(HeaderSignature)) {
		rc.bad = append(rc.bad, "signature does not verify for "+key)
	}
	var ev store.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		rc.bad = append(rc.bad, "body: "+err.Error())
	}
	if ev.IdempotencyKey != key || ev.Kind != r.Header.Get(HeaderEvent) || r.Header.Get(HeaderDelivery) == "" {
		rc.bad = append(rc.bad, fmt.Sprintf("headers %v do not match the event %s %s", r.Header, ev.Kind, ev.IdempotencyKey))
	}
	status := http.StatusOK
	if len(rc.seen[key]) < rc.fails {
		status = http.StatusInternalServerError
	}
	rc.seen[key] = append(rc.seen[key], status)
	w.WriteHeader(status)
}

// api serves the webhook routes.
func serveAPI(t *testing.T, w *Webhooks) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for _, r := range w.Routes() {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, method, url string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// dispatchUntil runs Dispatch until done says so (at most 50 times).
func dispatchUntil(t *testing.T, w *Webhooks, done func() bool) {
	t.Helper()
	for range 50 {
		if _, err := w.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		if done() {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("deliveries not done after 50 dispatches")
}

// A receiver that answers 500 twice sees every event's idempotency key
// answered 200 exactly once, every request signed; a webhook that wants
// only resolved findings gets none of the new ones; dispatching again sends
// nothing.
func TestDeliveredOnceAfterFailures(t *testing.T) {
	st := openStore(t)
	w, err := New(Options{Store: st, Secrets: box(t), Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAPI(t, w)
	rc := &receiver{secret: []byte("a-very-secret-signing-key"), fails: 2, seen: map[string][]int{}}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	code, body := call(t, "POST", srv.URL+"/api/v1/webhooks", RegisterRequest{URL: hook.URL, Secret: string(rc.secret)})
	if code != http.StatusCreated {
		t.Fatalf("registering: %d %s", code, body)
	}
	code, body = call(t, "POST", srv.URL+"/api/v1/webhooks", RegisterRequest{URL: hook.URL + "/resolved", Secret: string(rc.secret), Kinds: []string{store.EventFindingResolved}})
	if code != http.StatusCreated {
		t.Fatalf("registering: %d %s", code, body)
	}
	var resolvedOnly store.Webhook
	if err := json.Unmarshal(body, &resolvedOnly); err != nil {
		t.Fatal(err)
	}

	id := storeImage(t, st, "sha256:"+strings.Repeat("a", 64), "left-pad", "lodash")
	out := setFindings(t, st, id, "left-pad", "lodash")
	if len(out.Events) != 2 {
		t.Fatalf("events: %+v, want 2", out.Events)
	}
	dispatchUntil(t, w, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.seen) == 2 && len(rc.seen[out.Events[0].IdempotencyKey]) == 3 && len(rc.seen[out.Events[1].IdempotencyKey]) == 3
	})
	if _, err := w.Dispatch(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{}
	for _, ev := range out.Events {
		want[ev.IdempotencyKey] = []int{500, 500, 200}
	}
	rc.mu.Lock()
	if d := cmp.Diff(want, rc.seen); d != "" {
		t.Errorf("answers per idempotency key (-want +got):\n%s", d)
	}
	if len(rc.bad) > 0 {
		t.Errorf("bad requests: %v", rc.bad)
	}
	rc.mu.Unlock()

	// The deliveries API shows them delivered after 3 attempts; the
	// resolved-only webhook has none.
	code, body = call(t, "GET", srv.URL+"/api/v1/webhooks/1/deliveries", nil)
	if code != http.StatusOK {
		t.Fatalf("deliveries: %d %s", code, body)
	}
	var got struct{ Deliveries []store.Delivery }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, d := range got.Deliveries {
		states = append(states, fmt.Sprintf("%s/%d/%d", d.State, d.Attempts, d.LastStatus))
	}
	if d := cmp.Diff([]string{"delivered/3/200", "delivered/3/200"}, states); d != "" {
		t.Errorf("deliveries (-want +got):\n%s", d)
	}
	ds, err := st.Deliveries(t.Context(), resolvedOnly.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 0 {
		t.Errorf("the resolved-only webhook has deliveries %+v", ds)
	}

	// Resolving one finding is delivered to both webhooks.
	out = setFindings(t, st, id, "lodash")
	if len(out.Events) != 1 || out.Events[0].Kind != store.EventFindingResolved {
		t.Fatalf("events: %+v, want one finding.resolved", out.Events)
	}
	key := out.Events[0].IdempotencyKey
	dispatchUntil(t, w, func() bool {
		rc.mu.Lock()
		defer rc.mu.Unlock()
		return len(rc.seen[key]) == 4
	})
	rc.mu.Lock()
	if d := cmp.Diff([]int{500, 500, 200, 200}, rc.seen[key]); d != "" {
		// Two webhooks, one key: the receiver fails the first two
		// requests, whichever webhook they came for, then each
		// webhook's delivery succeeds once.
		t.Errorf("answers for the resolved event (-want +got):\n%s", d)
	}
	rc.mu.Unlock()
}

// A receiver that always fails gets MaxAttempts attempts, then the
// delivery is failed with its last status and error.
func TestDeliveryFailsAfterMaxAttempts(t *testing.T) {
	st := openStore(t)
	b := box(t)
	w, err := New(Options{Store: st, Secrets: b, MaxAttempts: 3, Backoff: time.Millisecond, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rc := &receiver{secret: []byte("another-secret-key!"), fails: 1000, seen: map[string][]int{}}
	hook := httptest.NewServer(rc)
	t.Cleanup(hook.Close)
	sealed, err := b.Seal(rc.secret)
	if err != nil {
		t.Fatal(err)
	}
	h, err := st.AddWebhook(t.Context(), hook.URL, sealed, nil)
	if err != nil {
		t.Fatal(err)
	}
	setFindings(t, st, storeImage(t, st, "sha256:"+strings.Repeat("b", 64), "x"), "x")
	var ds []store.Delivery
	dispatchUntil(t, w, func() bool {
		ds, err = st.Deliveries(t.Context(), h.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(ds) == 1 && ds[0].State == store.DeliveryFailed
	})
	got := fmt.Sprintf("%s/%d/%d/%s", ds[0].State, ds[0].Attempts, ds[0].LastStatus, ds[0].LastError)
	if want := "failed/3/500/the receiver answered 500 Internal Server Error"; got != want {
		t.Errorf("delivery = %s, want %s", got, want)
	}
	for _, statuses := range rc.seen {
		if len(statuses) != 3 {
			t.Errorf("receiver saw %d attempts, want 3", len(statuses))
		}
	}
}

// A delivery claimed by a dispatcher that died is claimed again when its
// lease ends, as another attempt: at least once.
func TestLeaseExpires(t *testing.T) {
	st := openStore(t)
	b := box(t)
	sealed, err := b.Seal([]byte("0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddWebhook(t.Context(), "http://127.0.0.1:1/hook", sealed, nil); err != nil {
		t.Fatal(err)
	}
	setFindings(t, st, storeImage(t, st, "sha256:"+strings.Repeat("c", 64), "y"), "y")
	first, err := st.ClaimDeliveries(t.Context(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	again, err := st.ClaimDeliveries(t.Context(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The dispatcher dies; its lease ends (moved to the past rather than
	// waited for).
	if _, err := st.Pool().Exec(t.Context(), "UPDATE webhook_deliveries SET claimed_until = now() - interval '1 second'"); err != nil {
		t.Fatal(err)
	}
	later, err := st.ClaimDeliveries(t.Context(), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	got := []int{len(first), len(again), len(later)}
	if d := cmp.Diff([]int{1, 0, 1}, got); d != "" {
		t.Fatalf("claims (-want +got):\n%s", d)
	}
	if later[0].Attempts != 2 || later[0].Event.Finding.ID != "CVE-2099-y" {
		t.Errorf("claimed again: attempts %d, event %+v", later[0].Attempts, later[0].Event)
	}
}

func TestAPI(t *testing.T) {
	st := openStore(t)
	w, err := New(Options{Store: st, Secrets: box(t)})
	if err != nil {
		t.Fatal(err)
	}
	srv := serveAPI(t, w)
	noKey, err := New(Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	noKeySrv := serveAPI(t, noKey)
	const secret = "do-not-leak-this-secret"
	tests := []struct {
		name   string
		srv    *httptest.Server
		method string
		path   string
		body   any
		want   int
		has    string // in the answer
	}{
		{"register", srv, "POST", "/api/v1/webhooks", RegisterRequest{URL: "https://hooks.example.com/drydock", Secret: secret}, 201, `"id": 1`},
		{"register with kinds", srv, "POST", "/api/v1/webhooks", RegisterRequest{URL: "http://10.0.0.1/x", Secret: secret, Kinds: []string{"finding.new"}}, 201, `"finding.new"`},
		{"not a URL", srv, "POST", "/api/v1/webhooks", RegisterRequest{URL: "hooks.example.com", Secret: secret}, 400, "absolute http or https"},
		{"file URL", srv, "POST", "/api/v1/webhooks", RegisterRequest{URL: "file:///etc/passwd", Secret: secret}, 400, "absolute http or https"},
		{"credentials in URL", srv, "POST", "/api/v1/webhooks", RegisterRequest{URL: "https://u:p@hooks.example.com/", Secret: secret}, 400, "credentials in the URL"},
		{"short secret", srv, "POST", "/api/v1/webhooks", RegisterRequest{URL: "https://hooks.example.com/", Secret: "short"}, 400, "at least 16"},
		{"unknown kind", srv, "POST", "/api/v1/webhooks", RegisterRequest{URL: "https://hooks.example.com/", Secret: secret, Kinds: []string{"image.pushed"}}, 400, "unknown event kind"},
		{"unknown field", srv, "POST", "/api/v1/webhooks", map[string]string{"url": "https://hooks.example.com/", "secret": secret, "x": "y"}, 400, "unknown field"},
		{"no server key", noKeySrv, "POST", "/api/v1/webhooks", RegisterRequest{URL: "https://hooks.example.com/", Secret: secret}, 503, "no secret key"},
		{"list", srv, "GET", "/api/v1/webhooks", nil, 200, "https://hooks.example.com/drydock"},
		{"deliveries", srv, "GET", "/api/v1/webhooks/1/deliveries", nil, 200, `"deliveries": []`},
		{"deliveries of none", srv, "GET", "/api/v1/webhooks/99/deliveries", nil, 404, "no webhook 99"},
		{"delete", srv, "DELETE", "/api/v1/webhooks/1", nil, 204, ""},
		{"delete again", srv, "DELETE", "/api/v1/webhooks/1", nil, 404, "no webhook 1"},
		{"delete not a number", srv, "DELETE", "/api/v1/webhooks/x", nil, 400, "not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := call(t, tt.method, tt.srv.URL+tt.path, tt.body)
			if code != tt.want || !strings.Contains(string(body), tt.has) {
				t.Errorf("%s %s: %d %s, want %d with %q", tt.method, tt.path, code, body, tt.want, tt.has)
			}
			if strings.Contains(string(body), secret) {
				t.Errorf("%s %s: the answer holds the secret: %s", tt.method, tt.path, body)
			}
		})
	}
	hooks, err := st.Webhooks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 1 || strings.Contains(hooks[0].SealedSecret, secret) || !strings.HasPrefix(hooks[0].SealedSecret, "v1:") {
		t.Errorf("stored webhooks: %+v, want one with a sealed secret", hooks)
	}
}

func TestSignature(t *testing.T) {
	body := []byte(`{"kind":"finding.new"}`)
	// HMAC-SHA256("key", body), computed with: printf '%s' '{"kind":"finding.new"}' | openssl dgst -sha256 -hmac key
	sig := Sign([]byte("key"), body)
	tests := []struct {
		name   string
		secret string
		body   []byte
		header string
		want   bool
	}{
		{"good", "key", body, sig, true},
		{"other secret", "other", body, sig, false},
		{"other body", "key", []byte(`{"kind":"finding.resolved"}`), sig, false},
		{"no prefix", "key", body, strings.TrimPrefix(sig, "sha256="), false},
		{"empty", "key", body, "", false},
	}
	for _, tt := range tests {
		if got := Verify([]byte(tt.secret), tt.body, tt.header); got != tt.want {
			t.Errorf("%s: Verify = %v, want %v", tt.name, got, tt.want)
		}
	}
	if want := "sha256=36bdc10ce404211f0ed6d39753cdb652319da0913d1329a5817ac372667d9201"; sig != want {
		t.Errorf("Sign = %q, want %q (openssl's)", sig, want)
	}
}

// A process without the secret key runs no dispatcher and works no webhook
// queue (it could not sign); one with the key does.
func TestDispatcherNeedsTheKey(t *testing.T) {
	st := openStore(t)
	for _, tt := range []struct {
		name   string
		box    *secretbox.Box
		queues int
	}{{"no key", nil, 0}, {"key", box(t), 1}} {
		w, err := New(Options{Store: st, Secrets: tt.box})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(w.Queues()); got != tt.queues {
			t.Errorf("%s: %d queues, want %d", tt.name, got, tt.queues)
		}
		ws := river.NewWorkers()
		w.AddWorkers(ws)
		// A second registration of the same kind panics only if the first
		// one happened.
		registered := func() (ok bool) {
			defer func() { ok = recover() != nil }()
			river.AddWorker(ws, &dispatchWorker{w: w})
			return false
		}()
		if registered != (tt.queues == 1) {
			t.Errorf("%s: dispatcher registered = %v, want %v", tt.name, registered, tt.queues == 1)
		}
	}
}
