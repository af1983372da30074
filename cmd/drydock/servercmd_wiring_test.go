package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server"
	"github.com/drydock-scan/drydock/internal/server/admission"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// admissionConfigYAML is a small admission configuration: deny what fails
// the policy or is not scanned yet, images from 127.0.0.1 only.
const admissionConfigYAML = `apiVersion: drydock.dev/v1
kind: AdmissionConfig
budget: 2s
failurePolicy: closed
registries: ["127.0.0.1:*", "localhost:*"]
policies:
  default:
    policies: ["builtin:no-fixable-critical"]
default:
  policy: default
  unknown: deny
  failing: deny
`

func writeAdmissionConfig(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "admission.yaml")
	if err := os.WriteFile(path, []byte(admissionConfigYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// wiringStore is a migrated store on a throwaway database.
func wiringStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := openStore(t.Context(), storetest.NewDatabase(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

func testEnv() *env {
	var out bytes.Buffer
	return &env{stdout: &out, stderr: &out, log: slog.New(slog.DiscardHandler)}
}

// documentedRoutes reads every operation of docs/server-api.yaml, the
// parts' (x-drydock-part) included, with its scope.
func documentedRoutes(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../docs/server-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for path, ops := range doc.Paths {
		for method, op := range ops {
			scope, _ := op["x-drydock-scope"].(string)
			out[strings.ToUpper(method)+" "+path] = scope
		}
	}
	return out
}

// TestWiredRoutesDocumented: the server as `drydock server --workers 1
// --secret-key-file … --admission-config …` builds it serves exactly the
// routes docs/server-api.yaml documents — the core's and every part's
// (monitor, webhooks, registry watch, Harbor, admission) — each with its
// documented scope.
func TestWiredRoutesDocumented(t *testing.T) {
	st := wiringStore(t)
	box, err := secretbox.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	f := serverFlags{workers: 1, dbPath: testDB, scanTimeout: time.Minute, admissionConfig: writeAdmissionConfig(t)}
	srv, closeDB, err := f.build(t.Context(), testEnv(), true, st, box)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	served := map[string]string{}
	for _, r := range srv.Routes() {
		if _, dup := served[r.Pattern]; dup {
			t.Errorf("route %s served twice", r.Pattern)
		}
		// "{$}" (exactly this path) is how OpenAPI paths are anyway.
		served[strings.ReplaceAll(r.Pattern, "{$}", "")] = string(r.Scope)
	}
	if d := cmp.Diff(documentedRoutes(t), served); d != "" {
		t.Errorf("routes and scopes (-documented +served):\n%s", d)
	}
}

// TestServerWiring: which parts each kind of process gets. An API process
// serves routes and runs no job; a worker process runs the parts' jobs,
// periodic jobs and queues and serves no route; `server --workers N` both.
// Without the secret key the Harbor adapter is off (and the webhook
// dispatcher runs nowhere: it could not sign); without --admission-config
// the gate is off.
func TestServerWiring(t *testing.T) {
	st := wiringStore(t)
	box, err := secretbox.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	admissionFile := writeAdmissionConfig(t)
	type got struct {
		Routes      []string // path prefixes of the routes, by part
		AddWorkers  int
		Periodic    bool
		Queues      []string
		Collectors  bool
		DBFile      bool
		Record      bool
		LongestJob  time.Duration
		ScanSecrets bool
	}
	// The parts every API process serves: the monitor's, the webhooks', the
	// registry watch's and the dashboard's ("/ui" and "/{$}").
	core := []string{"/api/v1/db", "/api/v1/events", "/api/v1/registries", "/api/v1/webhooks", "/ui", "/{$}"}
	routes := func(more ...string) []string {
		out := append(slices.Clone(core), more...)
		sort.Strings(out)
		return out
	}
	for _, tc := range []struct {
		name      string
		api       bool
		workers   int
		key       bool
		admission bool
		want      got
	}{
		{"server, API only", true, 0, true, true, got{Routes: routes("/admission", "/gatekeeper", "/harbor"), Collectors: true, LongestJob: 10 * time.Minute}},
		{"server, no key, no gate", true, 0, false, false, got{Routes: routes(), LongestJob: 10 * time.Minute}},
		{"worker", false, 2, true, true, got{AddWorkers: 3, Periodic: true, Queues: []string{"monitor", "watch", "webhook"},
			DBFile: true, Record: true, LongestJob: 10 * time.Minute, ScanSecrets: true}},
		{"worker without key", false, 2, false, false, got{AddWorkers: 3, Periodic: true, Queues: []string{"monitor", "watch"},
			DBFile: true, Record: true, LongestJob: 10 * time.Minute, ScanSecrets: true}},
		{"server --workers 1", true, 1, true, true, got{Routes: routes("/admission", "/gatekeeper", "/harbor"), AddWorkers: 3, Periodic: true,
			Queues: []string{"monitor", "watch", "webhook"}, Collectors: true, DBFile: true, Record: true, LongestJob: 10 * time.Minute, ScanSecrets: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := serverFlags{workers: tc.workers, dbPath: testDB, scanTimeout: time.Minute}
			if tc.admission {
				f.admissionConfig = admissionFile
			}
			var b *secretbox.Box
			if tc.key {
				b = box
			}
			w, err := f.options(t.Context(), testEnv(), tc.api, st, b)
			if err != nil {
				t.Fatal(err)
			}
			defer w.closeDB()
			g := got{AddWorkers: len(w.opt.AddWorkers), Periodic: len(w.opt.Periodic) > 0, Collectors: len(w.opt.Collectors) > 0,
				DBFile: w.opt.DBFile != nil, Record: w.opt.RecordMatches != nil, LongestJob: w.opt.LongestJob, ScanSecrets: w.opt.Scan.Secrets != nil}
			prefixes := map[string]bool{}
			for _, r := range w.opt.Routes {
				_, path, _ := strings.Cut(r.Pattern, " ")
				parts := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 4)
				switch parts[0] {
				case "api":
					prefixes["/"+strings.Join(parts[:3], "/")] = true
				default:
					prefixes["/"+parts[0]] = true
				}
			}
			for p := range prefixes {
				g.Routes = append(g.Routes, p)
			}
			sort.Strings(g.Routes)
			for q := range w.opt.Queues {
				g.Queues = append(g.Queues, q)
			}
			sort.Strings(g.Queues)
			if d := cmp.Diff(tc.want, g); d != "" {
				t.Errorf("wiring (-want +got):\n%s", d)
			}
		})
	}
}

// TestPoolSize: the store's pools grow with the workers (a scan reads its
// layers in parallel), never below the default; a DSN that sizes its pool
// itself is obeyed.
func TestPoolSize(t *testing.T) {
	for _, tc := range []struct {
		dsn     string
		workers int
		want    int32
	}{
		{"postgres://h/db", 0, store.DefaultMaxConns()},
		{"postgres://h/db", 1, max(store.DefaultMaxConns(), int32(runtime.NumCPU()+16))},
		{"postgres://h/db", 64, max(store.DefaultMaxConns(), int32(64*runtime.NumCPU()+16))},
		{"postgres://h/db?pool_max_conns=5", 64, 0},
	} {
		if got := poolSize(tc.dsn, tc.workers); got != tc.want {
			t.Errorf("poolSize(%q, %d) = %d, want %d", tc.dsn, tc.workers, got, tc.want)
		}
	}
}

// TestScanPriorities: the scans the admission gate queues (priority 1) are
// fetched before the API's, the registry watch's and Harbor's (all through
// queue.ScanArgs' own options, priority 2): River fetches by priority first.
func TestScanPriorities(t *testing.T) {
	st := wiringStore(t)
	f := serverFlags{scanTimeout: time.Minute}
	srv, closeDB, err := f.build(t.Context(), testEnv(), true, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	if _, err := srv.Enqueue(t.Context(), server.ScanArgs{Reference: "registry.test/api:1"}); err != nil {
		t.Fatal(err)
	}
	if err := admission.EnqueueWith(srv.River())(t.Context(), queue.ScanArgs{Reference: "registry.test/gate:1"}); err != nil {
		t.Fatal(err)
	}
	rows, err := st.Pool().Query(t.Context(), "SELECT args->>'reference', priority FROM river_job ORDER BY priority, id")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	var order []string
	for rows.Next() {
		var ref string
		var prio int
		if err := rows.Scan(&ref, &prio); err != nil {
			t.Fatal(err)
		}
		got[ref] = prio
		order = append(order, ref)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(map[string]int{"registry.test/api:1": 2, "registry.test/gate:1": 1}, got); d != "" {
		t.Errorf("priorities (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"registry.test/gate:1", "registry.test/api:1"}, order); d != "" {
		t.Errorf("fetch order (-want +got):\n%s", d)
	}
}
