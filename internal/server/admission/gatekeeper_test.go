package admission

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Gatekeeper's own types, as its documentation gives them
// (testdata/README.md): the contract is that Gatekeeper decodes what the
// provider answers into these.
type gkProviderResponse struct {
	APIVersion string     `json:"apiVersion,omitempty"`
	Kind       string     `json:"kind,omitempty"`
	Response   gkResponse `json:"response,omitempty"`
}

type gkResponse struct {
	Idempotent  bool     `json:"idempotent,omitempty"`
	Items       []gkItem `json:"items,omitempty"`
	SystemError string   `json:"systemError,omitempty"`
}

type gkItem struct {
	Key   string `json:"key,omitempty"`
	Value any    `json:"value,omitempty"`
	Error string `json:"error,omitempty"`
}

func decodeStrict(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", data, err)
	}
}

// TestGatekeeperContract: the documented example responses decode into
// Gatekeeper's types (so the types above are right), and so does every
// answer of the provider: one item per key, in order, with the key echoed,
// a verdict value or a per-key error, and a system error for a request
// that is not a ProviderRequest.
func TestGatekeeperContract(t *testing.T) {
	for _, f := range []string{"gatekeeper-provider-response-assign.json", "gatekeeper-provider-response-assignmetadata.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		var r gkProviderResponse
		decodeStrict(t, data, &r)
		if r.APIVersion != ProviderAPIVersion || r.Kind != KindProviderResp || len(r.Response.Items) != 1 {
			t.Errorf("%s: %+v", f, r)
		}
	}

	e := newEnv(t)
	e.startRegistry(t, "library/nginx:latest")
	e.save(t, "registry.example/team/ok", passDigest, "LOW")
	e.save(t, "registry.example/team/vulnerable", failDigest, "CRITICAL")
	e.save(t, "index.docker.io/library/nginx", e.digests["library/nginx:latest"])
	_, srv := e.gate(t, config(t), nil)
	unknown := "registry.example/team/new@" + fakeDigest("gatekeeper")

	call := func(body string) (int, []byte) {
		resp, err := srv.Client().Post(srv.URL+GatekeeperPath, "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(resp.Body); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, buf.Bytes()
	}
	req := map[string]any{"apiVersion": "externaldata.gatekeeper.sh/v1beta1", "kind": "ProviderRequest",
		"request": map[string]any{"keys": []string{passRef, failRef, unknown, "nginx", "NOT A REFERENCE"}}}
	reqJSON, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	code, body := call(string(reqJSON))
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var gk gkProviderResponse
	decodeStrict(t, body, &gk)
	type item struct{ Key, Verdict, Digest, Policy, Failures, Error string }
	var got []item
	for _, it := range gk.Response.Items {
		x := item{Key: it.Key, Error: it.Error}
		if m, ok := it.Value.(map[string]any); ok {
			x.Verdict, _ = m["verdict"].(string)
			x.Digest, _ = m["digest"].(string)
			x.Policy, _ = m["policy"].(string)
			if fs, ok := m["failures"].([]any); ok && len(fs) > 0 {
				x.Failures, _ = fs[0].(string)
			}
		}
		got = append(got, x)
	}
	want := []item{
		{Key: passRef, Verdict: "pass", Digest: passDigest, Policy: "default"},
		{Key: failRef, Verdict: "fail", Digest: failDigest, Policy: "default", Failures: "no-critical: critical vulnerability CVE-2024-0001 in openssl 3.0.1"},
		{Key: unknown, Verdict: "pending", Digest: fakeDigest("gatekeeper"), Policy: "default"},
		{Key: "nginx", Verdict: "pass", Digest: e.digests["library/nginx:latest"], Policy: "default"},
		{Key: "NOT A REFERENCE", Error: `drydock: no verdict for NOT A REFERENCE: parsing image reference: could not parse reference: NOT A REFERENCE`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if gk.APIVersion != ProviderAPIVersion || gk.Kind != KindProviderResp || !gk.Response.Idempotent || gk.Response.SystemError != "" {
		t.Errorf("envelope %s %s idempotent %v system error %q", gk.APIVersion, gk.Kind, gk.Response.Idempotent, gk.Response.SystemError)
	}
	if jobs := e.jobs(t); len(jobs) != 1 {
		t.Errorf("jobs %v, want the unknown image's scan", jobs)
	}

	for _, bad := range []string{`{"apiVersion":"v1","kind":"ProviderRequest","request":{"keys":["a"]}}`, `not json`} {
		code, body := call(bad)
		var r gkProviderResponse
		decodeStrict(t, body, &r)
		if code != http.StatusBadRequest || r.Response.SystemError == "" || len(r.Response.Items) != 0 {
			t.Errorf("%s: status %d, %s; want 400 with a system error", bad, code, body)
		}
	}
}
