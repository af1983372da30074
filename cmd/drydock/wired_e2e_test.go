package main

// The wired server end to end: one `drydock server` (API, Harbor adapter,
// admission gate) and one `drydock worker` (scans, registry watch, monitor,
// webhook deliveries) on one PostgreSQL, against a real docker-registry.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/server/webhook"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// writeE2EDB writes an advisory database built at builtAt, replacing the
// file at path as "drydock db update" does. With critical, busybox (every
// image built on the Alpine 3.16.9 minirootfs) has a fixable critical
// advisory, CVE-2099-0001.
func writeE2EDB(t *testing.T, path string, builtAt time.Time, critical bool) {
	t.Helper()
	b, err := vulndb.NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	b.SetNow(func() time.Time { return builtAt })
	advs := []vulndb.Advisory{{ID: "CVE-2099-0100", Ecosystem: "Alpine:v3.16", Package: "no-such-package", Source: "test",
		Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1.0-r0"}}}}}}
	if critical {
		advs = append(advs, vulndb.Advisory{ID: "CVE-2099-0001", Ecosystem: "Alpine:v3.16", Package: "busybox", Source: "test",
			Ranges: []vulndb.Range{{Type: "ECOSYSTEM", Events: []vulndb.Event{{Introduced: "0"}, {Fixed: "1.35.0-r99"}}}}})
		b.AddCVE(vulndb.CVE{ID: "CVE-2099-0001", NVDSeverity: "CRITICAL", NVDScore: 9.8, NVDVersion: "3.1",
			NVDVector: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"})
	}
	b.AddSource(vulndb.SourceInfo{Name: "test", Records: len(advs)})
	if err := b.Add(advs...); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// receiver is a webhook receiver that keeps every delivery whose signature
// verifies, and counts the others.
type receiver struct {
	secret []byte
	mu     sync.Mutex
	events []map[string]any
	forged int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !webhook.Verify(r.secret, body, req.Header.Get(webhook.HeaderSignature)) {
		r.forged++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var ev map[string]any
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.events = append(r.events, ev)
}

func (r *receiver) snapshot() ([]map[string]any, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.events...), r.forged
}

// admissionReview is an AdmissionReview of a pod running image.
func admissionReview(uid, image string) map[string]any {
	return map[string]any{
		"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
		"request": map[string]any{
			"uid": uid, "kind": map[string]any{"group": "", "version": "v1", "kind": "Pod"},
			"resource":  map[string]any{"group": "", "version": "v1", "resource": "pods"},
			"namespace": "default", "operation": "CREATE",
			"object": map[string]any{"apiVersion": "v1", "kind": "Pod",
				"metadata": map[string]any{"name": "p", "namespace": "default"},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": image}}}},
		},
	}
}

type admissionAnswer struct {
	Response struct {
		UID     string `json:"uid"`
		Allowed bool   `json:"allowed"`
		Status  *struct {
			Message string `json:"message"`
		} `json:"status"`
	} `json:"response"`
}

func (a admissionAnswer) message() string {
	if a.Response.Status == nil {
		return ""
	}
	return a.Response.Status.Message
}

// until polls cond every 200 ms until it holds, or fails the test after
// timeout with what last.
func until(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s (last: %s)", what, timeout, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestWiredServerEndToEnd: `drydock server --secret-key-file … --admission-config …`
// and `drydock worker --secret-key-file … --db FILE` on one PostgreSQL and a
// real docker-registry. A registry registered through the API is polled and
// its image scanned; a webhook registered through the API receives the
// event, signed, of the finding a rebuilt advisory database adds once it is
// applied through the API; the Harbor adapter answers; the admission gate
// admits the scanned image before the new database and denies it after
// (fixable critical), and for a digest never seen answers "scan pending",
// queues the scan, and once the worker has run it gives the verdict.
func TestWiredServerEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: runs a server, a worker and a docker-registry")
	}
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{})
	imgs := fleetImages(t, 1, 2) // fleet/base0:app0 (watched) and fleet/base0:app1 (not)
	watched, other := imgs[0], imgs[1]
	other.repo = "other/app"
	push(t, reg.Host, []fleetImage{watched, other})
	digestOf := func(f fleetImage) string {
		d, err := f.img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	// The registry answers: the pushed digests are what it serves.
	for _, f := range []fleetImage{watched, other} {
		ref, err := name.ParseReference(f.ref(reg.Host))
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Head(ref)
		if err != nil || desc.Digest.String() != digestOf(f) {
			t.Fatalf("%s: %v %v", f.ref(reg.Host), desc, err)
		}
	}

	dir := t.TempDir()
	dbPath := filepath.Join(dir, "drydock.db")
	v1 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	v2 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	writeE2EDB(t, dbPath, v1, false)
	keyFile := filepath.Join(dir, "secret.key")
	if err := os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	admissionFile := filepath.Join(dir, "admission.yaml")
	if err := os.WriteFile(admissionFile, []byte(admissionConfigYAML+"lookupTTL: 100ms\nverdictTTL: 100ms\nresolveTTL: 100ms\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	dsn := storetest.NewDatabase(t)
	c := newAPIClient(t, dsn)
	start := time.Now()
	startDrydock(t, "server", "--postgres", dsn, "--listen", c.addr(), "--secret-key-file", keyFile, "--admission-config", admissionFile)
	startDrydock(t, "worker", "--postgres", dsn, "--workers", "2", "--db", dbPath, "--secret-key-file", keyFile)
	c.waitReady(60 * time.Second)

	// Harbor's metadata.
	var meta struct {
		Scanner struct {
			Name string `json:"name"`
		} `json:"scanner"`
	}
	if code := c.do("GET", "/harbor/api/v1/metadata", nil, &meta); code != http.StatusOK || meta.Scanner.Name == "" {
		t.Fatalf("GET /harbor/api/v1/metadata: HTTP %d, %+v", code, meta)
	}

	// The webhook receiver.
	rcv := &receiver{secret: []byte("a webhook secret of some length")}
	hook := httptest.NewServer(rcv)
	t.Cleanup(hook.Close)
	if code := c.do("POST", "/api/v1/webhooks", map[string]any{"url": hook.URL, "secret": string(rcv.secret), "kinds": []string{"finding.new"}}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/webhooks: HTTP %d", code)
	}

	// The registry watch: the watched repository's image gets scanned.
	if code := c.do("POST", "/api/v1/registries", map[string]any{"name": "e2e", "host": "http://" + reg.Host,
		"repositories": []string{watched.repo}, "interval": "1h"}, nil); code != http.StatusCreated {
		t.Fatalf("POST /api/v1/registries: HTTP %d", code)
	}
	type image struct {
		ID         int64    `json:"id"`
		Repository string   `json:"repository"`
		Digest     string   `json:"digest"`
		Tags       []string `json:"tags"`
		Findings   int      `json:"findings"`
	}
	images := func() map[string]image {
		var list struct {
			Images []image `json:"images"`
		}
		if code := c.do("GET", "/api/v1/images", nil, &list); code != http.StatusOK {
			t.Fatalf("GET /api/v1/images: HTTP %d", code)
		}
		out := map[string]image{}
		for _, im := range list.Images {
			out[im.Digest] = im
		}
		return out
	}
	until(t, 40*time.Second, "the watched image scanned", func() (bool, string) {
		im, ok := images()[digestOf(watched)]
		return ok, fmt.Sprint(im)
	})
	t.Logf("watched image scanned %s after start", time.Since(start).Round(time.Millisecond))

	admit := func(uid, image string) admissionAnswer {
		t.Helper()
		var a admissionAnswer
		if code := c.do("POST", "/admission/validate", admissionReview(uid, image), &a); code != http.StatusOK || a.Response.UID != uid {
			t.Fatalf("POST /admission/validate %s: HTTP %d, %+v", image, code, a)
		}
		return a
	}
	watchedRef := reg.Host + "/" + watched.repo + "@" + digestOf(watched)
	if a := admit("before", watchedRef); !a.Response.Allowed {
		t.Errorf("%s before the new database: denied: %s", watchedRef, a.message())
	}

	// A new database: busybox gets a fixable critical advisory.
	writeE2EDB(t, dbPath, v2, true)
	var applied struct {
		JobID int64 `json:"job_id"`
	}
	if code := c.do("POST", "/api/v1/db/apply", nil, &applied); code != http.StatusAccepted || applied.JobID == 0 {
		t.Fatalf("POST /api/v1/db/apply: HTTP %d, %+v", code, applied)
	}
	until(t, 40*time.Second, "the finding.new event delivered, signed", func() (bool, string) {
		evs, forged := rcv.snapshot()
		if forged > 0 {
			t.Fatalf("%d deliveries with a bad signature", forged)
		}
		for _, ev := range evs {
			f, _ := ev["finding"].(map[string]any)
			im, _ := ev["image"].(map[string]any)
			if ev["kind"] == "finding.new" && f["id"] == "CVE-2099-0001" && im["digest"] == digestOf(watched) {
				return true, ""
			}
		}
		return false, fmt.Sprint(evs)
	})
	until(t, 20*time.Second, "the gate denies the image after the new database", func() (bool, string) {
		a := admit("after", watchedRef)
		return !a.Response.Allowed && strings.Contains(a.message(), "CVE-2099-0001"), a.message()
	})

	// A digest never seen: "scan pending" (and a scan queued), then, once the
	// worker has scanned it, the verdict.
	otherRef := reg.Host + "/" + other.repo + "@" + digestOf(other)
	a := admit("unknown", otherRef)
	if a.Response.Allowed || !strings.Contains(a.message(), "scan pending") {
		t.Errorf("%s never scanned: allowed %v, %q; want denied, scan pending", otherRef, a.Response.Allowed, a.message())
	}
	until(t, 40*time.Second, "the gate's verdict once the worker has scanned the image", func() (bool, string) {
		a := admit("scanned", otherRef)
		return !a.Response.Allowed && strings.Contains(a.message(), "CVE-2099-0001"), a.message()
	})
	if im, ok := images()[digestOf(other)]; !ok || im.Findings == 0 {
		t.Errorf("the image the gate queued: stored %v, %+v", ok, im)
	}
	t.Logf("end to end in %s", time.Since(start).Round(time.Millisecond))
}
