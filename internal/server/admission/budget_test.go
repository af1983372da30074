package admission

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// hangingRegistry accepts connections and never answers.
func hangingRegistry(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	t.Cleanup(func() { close(done); l.Close() })
	return l.Addr().String()
}

// closedPort is an address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// slowStore answers after ctx is done, like a database that hangs.
type slowStore struct{ *store.Store }

func (s slowStore) ImagesByDigest(ctx context.Context, digest string) ([]store.DigestImage, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func (s slowStore) LoadResult(ctx context.Context, id int64) (*result.Result, error) {
	return s.Store.LoadResult(ctx, id)
}

func (s slowStore) OpenFindings(ctx context.Context, id int64) ([]finding.Finding, error) {
	return s.Store.OpenFindings(ctx, id)
}

// TestBudget: when the registry or the store is down or hangs, the answer
// comes within the budget, admitted (fail open) or denied (fail closed) as
// configured, and counted.
func TestBudget(t *testing.T) {
	e := newEnv(t)
	e.save(t, "registry.example/team/ok", passDigest, "LOW")
	const budget = 300 * time.Millisecond
	hang, closed := hangingRegistry(t), closedPort(t)
	for _, tc := range []struct {
		name     string
		tr       http.RoundTripper
		slow     bool
		image    string
		failOpen bool
		want     answer
		outcome  string
	}{
		{name: "registry hangs, fail closed", tr: redirect{hang}, image: "team/app:1.0",
			want:    answer{Code: 403, Decision: OutcomeFailClosed, Message: "no verdict for team/app:1.0|(fail closed)"},
			outcome: OutcomeFailClosed},
		{name: "registry hangs, fail open", tr: redirect{hang}, image: "team/app:1.0", failOpen: true,
			want:    answer{Allowed: true, Decision: OutcomeFailOpen, Warnings: "no verdict for team/app:1.0"},
			outcome: OutcomeFailOpen},
		{name: "registry down, fail closed", tr: redirect{closed}, image: "team/app:1.0",
			want:    answer{Code: 403, Decision: OutcomeFailClosed, Message: "no verdict for team/app:1.0|connection refused"},
			outcome: OutcomeFailClosed},
		{name: "registry down, fail open", tr: redirect{closed}, image: "team/app:1.0", failOpen: true,
			want:    answer{Allowed: true, Decision: OutcomeFailOpen, Warnings: "no verdict for team/app:1.0|connection refused"},
			outcome: OutcomeFailOpen},
		{name: "store hangs, fail closed", slow: true, image: passRef,
			want:    answer{Code: 403, Decision: OutcomeFailClosed, Message: "no verdict for " + passRef},
			outcome: OutcomeFailClosed},
		{name: "store hangs, fail open", slow: true, image: passRef, failOpen: true,
			want:    answer{Allowed: true, Decision: OutcomeFailOpen, Warnings: "no verdict for " + passRef},
			outcome: OutcomeFailOpen},
		{name: "the digest needs neither", tr: redirect{hang}, image: passRef,
			want: answer{Allowed: true, Decision: OutcomeAllowed}, outcome: OutcomeAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(t)
			cfg.Budget, cfg.FailOpen = budget, tc.failOpen
			var st Store = e.st
			if tc.slow {
				st = slowStore{e.st}
			}
			g, err := New(Options{Config: cfg, Store: st, Enqueue: e.enqueue, Transport: tc.tr})
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
			// Far more than the budget: the test is on the outcome, the
			// client deadline only keeps a broken gate from hanging it.
			client := &http.Client{Timeout: 30 * time.Second}
			obj := kinds[0].build(metav1.ObjectMeta{Name: "p"}, spec([]string{tc.image}, nil, nil))
			got := post(t, client, srv.URL, reviewOf(t, "b", admissionv1.Create, "prod", kinds[0].gvk, obj, nil, false))
			check(t, got.Response, tc.want)
			if n := testutil.ToFloat64(g.metrics.requests.WithLabelValues(endpointWebhook, tc.outcome)); n != 1 {
				t.Errorf("%v requests counted as %s, want 1", n, tc.outcome)
			}
		})
	}
}

// TestTLS serves the gate over TLS with a CA made here: an API server that
// trusts the CA (the webhook's caBundle) is answered, a client that does
// not is refused, and so is plain HTTP.
func TestTLS(t *testing.T) {
	e := newEnv(t)
	e.save(t, "registry.example/team/ok", passDigest, "LOW")
	g, err := New(Options{Config: config(t), Store: e.st, Enqueue: e.enqueue})
	if err != nil {
		t.Fatal(err)
	}
	closeWhenDone(t, g)
	mux := http.NewServeMux()
	for _, r := range g.Routes() {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	ca := testimage.MakeCA(t, t.TempDir())
	cert, err := tls.LoadX509KeyPair(ca.CertFile, ca.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	defer srv.Close()
	obj := kinds[0].build(metav1.ObjectMeta{Name: "p"}, spec([]string{passRef}, nil, nil))
	body := reviewOf(t, "tls", admissionv1.Create, "prod", kinds[0].gvk, obj, nil, false)

	trusting := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	got := post(t, trusting, srv.URL, body)
	check(t, got.Response, answer{Allowed: true, Decision: OutcomeAllowed})

	untrusting := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: nil}}}
	if _, err := untrusting.Post(srv.URL+ValidatePath, "application/json", strings.NewReader(string(body))); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the CA: err %v, want a certificate error", err)
	}

	plain := "http://" + strings.TrimPrefix(srv.URL, "https://") + ValidatePath
	resp, err := http.Post(plain, "application/json", strings.NewReader(string(body)))
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var review admissionv1.AdmissionReview
		if resp.StatusCode != http.StatusBadRequest || json.Unmarshal(b, &review) == nil {
			t.Errorf("plain HTTP: status %d, body %q; want 400 and no AdmissionReview", resp.StatusCode, b)
		}
	}
}
