package admission

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestFreshness: the store's answer for a digest is kept for LookupTTL,
// and a verdict holds while the image's findings do not change: a scan
// stored after a "scan pending" answer, and a re-scan that resolves the
// failing finding, are seen once LookupTTL has passed.
func TestFreshness(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	cfg := config(t)
	g, err := New(Options{Config: cfg, Store: e.st, Enqueue: e.enqueue, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	closeWhenDone(t, g)
	mux := http.NewServeMux()
	for _, r := range g.Routes() {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	img := "registry.example/team/fresh@" + fakeDigest("fresh")
	ask := func() *admissionv1.AdmissionResponse {
		obj := kinds[0].build(metav1.ObjectMeta{Name: "p"}, spec([]string{img}, nil, nil))
		return post(t, srv.Client(), srv.URL, reviewOf(t, "f", admissionv1.Create, "prod", kinds[0].gvk, obj, nil, false)).Response
	}
	pending := answer{Code: 403, Decision: OutcomeDenied, Message: "scan pending for " + img}
	failing := answer{Code: 403, Decision: OutcomeDenied, Message: "image " + img + " fails|rule no-critical"}

	check(t, ask(), pending)
	e.save(t, "registry.example/team/fresh", fakeDigest("fresh"), "CRITICAL")
	check(t, ask(), pending) // within LookupTTL
	advance(DefaultLookupTTL)
	check(t, ask(), failing)

	// A re-scan resolves the critical finding (the store's clock is its
	// own: the finding's resolution is later than its last sighting).
	time.Sleep(10 * time.Millisecond)
	e.save(t, "registry.example/team/fresh", fakeDigest("fresh"), "LOW")
	check(t, ask(), failing) // within LookupTTL
	advance(DefaultLookupTTL)
	check(t, ask(), answer{Allowed: true, Decision: OutcomeAllowed})
}

// TestRegistries: with an allow-list, an image from another registry fails
// without a registry request or a queued scan; listed registries are
// judged as usual.
func TestRegistries(t *testing.T) {
	e := newEnv(t)
	e.save(t, "registry.example/team/ok", passDigest, "LOW")
	cfg := config(t)
	cfg.Registries = []string{"registry.example", "*.corp.example"}
	hang := hangingRegistry(t)
	_, srv := e.gate(t, cfg, redirect{hang})
	for _, tc := range []struct {
		image string
		want  answer
	}{
		{passRef, answer{Allowed: true, Decision: OutcomeAllowed}},
		{"nginx:1.27", answer{Code: 403, Decision: OutcomeDenied,
			Message: "image nginx:1.27 fails policy \"default\": rule admission:registry: registry index.docker.io is not one of the allowed registries (registry.example, *.corp.example)"}},
		{"10.0.0.1:5000/x@" + passDigest, answer{Code: 403, Decision: OutcomeDenied, Message: "rule admission:registry: registry 10.0.0.1:5000 is not"}},
	} {
		t.Run(tc.image, func(t *testing.T) {
			obj := kinds[0].build(metav1.ObjectMeta{Name: "p"}, spec([]string{tc.image}, nil, nil))
			check(t, post(t, srv.Client(), srv.URL, reviewOf(t, "r", admissionv1.Create, "prod", kinds[0].gvk, obj, nil, false)).Response, tc.want)
		})
	}
	if jobs := e.jobs(t); len(jobs) != 0 {
		t.Errorf("jobs %v, want none", jobs)
	}
}

// TestBadRequests: what is not an AdmissionReview gets HTTP 400; an object
// that does not decode as its kind is denied, saying why (never admitted
// unread).
func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	g, srv := e.gate(t, config(t), nil)
	for _, tc := range []struct{ name, body string }{
		{"not JSON", "nope"},
		{"not a review", `{"apiVersion":"v1","kind":"Pod"}`},
		{"no request", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := srv.Client().Post(srv.URL+ValidatePath, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status %d, want 400", resp.StatusCode)
			}
		})
	}
	body := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","version":"v1","kind":"Deployment"},
		"operation":"CREATE","namespace":"prod","object":{"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":"nginx"}}}}}}`
	got := post(t, srv.Client(), srv.URL, []byte(body))
	check(t, got.Response, answer{Code: 400, Decision: OutcomeDenied, Message: "drydock: decoding the apps/v1 Deployment"})
	if n := testutil.ToFloat64(g.metrics.requests.WithLabelValues(endpointWebhook, OutcomeBadRequest)); n != 3 {
		t.Errorf("%v bad requests counted, want 3", n)
	}
}
