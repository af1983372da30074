package watch_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server/watch"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// openStore gives the test a migrated store (the store's schema and the
// job queue's) on a database of its own.
func openStore(t testing.TB) *store.Store {
	t.Helper()
	return storetest.Open(t, store.Options{})
}

func newBox(t testing.TB) *secretbox.Box {
	t.Helper()
	box, err := secretbox.New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// reg is a real docker-registry with TLS, basic auth and deletes enabled.
type reg struct {
	*testimage.Registry
	tr   *http.Transport
	auth authn.Authenticator
}

func startRegistry(t testing.TB) *reg {
	t.Helper()
	bin := testimage.RegistryBinary(t)
	ca := testimage.MakeCA(t, t.TempDir())
	r := testimage.StartRegistryWith(t, bin, testimage.RegistryOptions{CA: &ca, AccessLog: true, Delete: true})
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: ca.Pool}
	return &reg{Registry: r, tr: tr, auth: &authn.Basic{Username: testimage.RegistryUser, Password: testimage.RegistryPassword}}
}

// push pushes a small image with one file of content and returns its digest.
func (r *reg) push(t testing.TB, repoTag, content string) string {
	t.Helper()
	img, err := testimage.Build(testimage.Config{}, testimage.Layer{Files: map[string][]byte{"etc/content": []byte(content)}})
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithTransport(r.tr), remote.WithAuth(r.auth)); err != nil {
		t.Fatalf("pushing %s: %v", repoTag, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

// tagAs points repoTag at the image digest of repo (a push of the manifest).
func (r *reg) tagAs(t testing.TB, repoTag string, digest string) {
	t.Helper()
	tag, err := name.NewTag(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(tag.Context().Digest(digest), remote.WithTransport(r.tr), remote.WithAuth(r.auth))
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Tag(tag, desc, remote.WithTransport(r.tr), remote.WithAuth(r.auth)); err != nil {
		t.Fatal(err)
	}
}

// deleteManifest deletes a manifest by digest (and so every tag on it).
func (r *reg) deleteManifest(t *testing.T, repo, digest string) {
	t.Helper()
	d, err := name.NewDigest(r.Host + "/" + repo + "@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(d, remote.WithTransport(r.tr), remote.WithAuth(r.auth)); err != nil {
		t.Fatalf("deleting %s: %v", d, err)
	}
}

// count counts the requests the registry logged for method and path.
func (r *reg) count(method, path string) int {
	n := 0
	for _, q := range r.Requests() {
		if q.Method == method && q.Path == path {
			n++
		}
	}
	return n
}

type apiClient struct {
	url string
}

func newAPI(t *testing.T, w *watch.Watch) *apiClient {
	t.Helper()
	mux := http.NewServeMux()
	for _, r := range w.Routes() {
		mux.HandleFunc(r.Pattern, r.Handler)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &apiClient{url: srv.URL}
}

func (a *apiClient) do(t *testing.T, method, path string, body any, want int) []byte {
	t.Helper()
	var rd bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd.Reset(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, a.url+path, &rd)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, buf.String())
	}
	return buf.Bytes()
}

// queuedScan is a scan job as the tests compare them.
type queuedScan struct {
	Reference   string
	Repository  string
	Tags        []string
	Credentials string
}

// scans returns the scan jobs queued, in ID order, from created (inclusive).
func scans(t *testing.T, st *store.Store, since int64) ([]queuedScan, int64) {
	t.Helper()
	rows, err := st.Pool().Query(t.Context(), "SELECT id, args FROM river_job WHERE kind = $1 AND id >= $2 ORDER BY id", queue.ScanArgs{}.Kind(), since)
	if err != nil {
		t.Fatal(err)
	}
	var out []queuedScan
	last := since
	for rows.Next() {
		var id int64
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			t.Fatal(err)
		}
		var a queue.ScanArgs
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		out = append(out, queuedScan{Reference: a.Reference, Repository: a.Repository, Tags: a.Tags, Credentials: a.Credentials})
		last = id + 1
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(out, func(a, b queuedScan) int { return strings.Compare(a.Reference, b.Reference) })
	return out, last
}

// TestPoll: a registry behind basic auth registered through the API with
// credentials (kept sealed: neither the row nor the API holds the
// password), its catalog read in pages of 2, every tag queued for a scan
// (one scan per digest, with every tag on it, and the sealed credentials);
// a second poll queues nothing; a pushed tag and a moved tag are queued, a
// deleted tag and the tag of an emptied repository are marked removed, in
// watched_tags and in image_tags of the stored image.
func TestPoll(t *testing.T) {
	st := openStore(t)
	r := startRegistry(t)
	box := newBox(t)
	h := r.Host

	app1 := r.push(t, "team/app:v1", "app 1")
	app2 := r.push(t, "team/app:v2", "app 2")
	r.tagAs(t, "team/app:latest", app2)
	lib := r.push(t, "team/lib:1.0", "lib 1.0")
	svc := r.push(t, "team/svc:main", "svc")
	x := r.push(t, "other/x:a", "x")
	y := r.push(t, "other/y:b", "y")

	w, err := watch.New(watch.Options{Store: st, Secrets: box, Transport: r.tr, PageSize: 2, MinInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	api := newAPI(t, w)
	var created watch.View
	body := map[string]any{"name": "test", "host": "https://" + h, "interval": "1h",
		"credentials": map[string]string{"username": testimage.RegistryUser, "password": testimage.RegistryPassword}}
	raw := api.do(t, "POST", "/api/v1/registries", body, http.StatusCreated)
	if err := json.Unmarshal(raw, &created); err != nil {
		t.Fatal(err)
	}
	if !created.HasCredentials || created.Host != h || created.IntervalSeconds != 3600 {
		t.Errorf("registered %+v", created)
	}

	t.Run("credentials sealed", func(t *testing.T) {
		var sealed string
		if err := st.Pool().QueryRow(t.Context(), "SELECT credentials FROM registries WHERE id = $1", created.ID).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		var row string
		if err := st.Pool().QueryRow(t.Context(), "SELECT row_to_json(r)::text FROM registries r WHERE id = $1", created.ID).Scan(&row); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(row, testimage.RegistryPassword) || strings.Contains(row, "horse") || !strings.HasPrefix(sealed, "v1:") {
			t.Errorf("the row holds the password in clear: %s", row)
		}
		c, err := queue.OpenCredentials(box, sealed)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(queue.Credentials{Username: testimage.RegistryUser, Password: testimage.RegistryPassword}, c); d != "" {
			t.Errorf("opened (-want +got):\n%s", d)
		}
		for _, p := range []string{"/api/v1/registries", "/api/v1/registries/" + itoa(created.ID)} {
			out := string(api.do(t, "GET", p, nil, http.StatusOK))
			if strings.Contains(out, "horse") || strings.Contains(out, sealed) || strings.Contains(out, `"credentials"`) || !strings.Contains(out, `"has_credentials": true`) {
				t.Errorf("GET %s shows the credentials: %s", p, out)
			}
		}
	})

	// A stored image of team/app tagged v1 (as a scan would have stored it),
	// whose tag must be marked removed when v1 is deleted, and "ghost", a tag
	// the registry does not have (stored by a scan that finished after its
	// tag was deleted): the first poll marks it removed.
	saved, err := st.SaveScan(t.Context(), store.ImageKey{Repository: h + "/team/app", Tags: []string{"ghost", "v1"}},
		&result.Result{Image: inventory.Image{Digest: app1}})
	if err != nil {
		t.Fatal(err)
	}

	catalogBefore := r.count("GET", "/v2/_catalog")
	res, err := w.Poll(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(watch.Result{Repositories: 5, Tags: 7, Queued: 6}, res); d != "" {
		t.Errorf("first poll (-want +got):\n%s", d)
	}
	// 5 repositories in pages of 2: 3 requests, each following the Link of the one before.
	if n := r.count("GET", "/v2/_catalog") - catalogBefore; n != 3 {
		t.Errorf("%d catalog requests, want 3 (5 repositories, n=2)", n)
	}
	if d := cmp.Diff([]string{"v1"}, liveImageTags(t, st, saved.ImageID)); d != "" {
		t.Errorf("live tags of the stored image after the first poll (-want +got):\n%s", d)
	}
	sealed := registryCredentials(t, st, created.ID)
	got, next := scans(t, st, 0)
	want := []queuedScan{
		{Reference: h + "/other/x@" + x, Repository: h + "/other/x", Tags: []string{"a"}},
		{Reference: h + "/other/y@" + y, Repository: h + "/other/y", Tags: []string{"b"}},
		{Reference: h + "/team/app@" + app1, Repository: h + "/team/app", Tags: []string{"v1"}},
		{Reference: h + "/team/app@" + app2, Repository: h + "/team/app", Tags: []string{"latest", "v2"}},
		{Reference: h + "/team/lib@" + lib, Repository: h + "/team/lib", Tags: []string{"1.0"}},
		{Reference: h + "/team/svc@" + svc, Repository: h + "/team/svc", Tags: []string{"main"}},
	}
	for i := range want {
		want[i].Credentials = sealed
	}
	slices.SortFunc(want, func(a, b queuedScan) int { return strings.Compare(a.Reference, b.Reference) })
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("scans queued by the first poll (-want +got):\n%s", d)
	}

	res, err = w.Poll(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(watch.Result{Repositories: 5, Tags: 7}, res); d != "" {
		t.Errorf("second poll, nothing changed (-want +got):\n%s", d)
	}
	if got, _ := scans(t, st, next); len(got) != 0 {
		t.Errorf("the second poll queued %v", got)
	}

	app3 := r.push(t, "team/app:v3", "app 3")
	lib2 := r.push(t, "team/lib:1.0", "lib 1.0, rebuilt")
	r.deleteManifest(t, "team/app", app1)
	r.deleteManifest(t, "other/y", y)

	res, err = w.Poll(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(watch.Result{Repositories: 5, Tags: 6, Queued: 2, Removed: 2}, res); d != "" {
		t.Errorf("third poll (-want +got):\n%s", d)
	}
	got, _ = scans(t, st, next)
	want = []queuedScan{
		{Reference: h + "/team/app@" + app3, Repository: h + "/team/app", Tags: []string{"v3"}, Credentials: sealed},
		{Reference: h + "/team/lib@" + lib2, Repository: h + "/team/lib", Tags: []string{"1.0"}, Credentials: sealed},
	}
	slices.SortFunc(want, func(a, b queuedScan) int { return strings.Compare(a.Reference, b.Reference) })
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("scans queued after a push and a move (-want +got):\n%s", d)
	}

	var tags struct {
		Tags []store.WatchedTag `json:"tags"`
	}
	if err := json.Unmarshal(api.do(t, "GET", "/api/v1/registries/"+itoa(created.ID)+"/tags", nil, http.StatusOK), &tags); err != nil {
		t.Fatal(err)
	}
	type state struct {
		Tag, Digest string
		Removed     bool
	}
	var states []state
	for _, tg := range tags.Tags {
		states = append(states, state{tg.Repository + ":" + tg.Tag, tg.Digest, tg.RemovedAt != nil})
	}
	wantStates := []state{
		{"other/x:a", x, false}, {"other/y:b", y, true},
		{"team/app:latest", app2, false}, {"team/app:v1", app1, true}, {"team/app:v2", app2, false}, {"team/app:v3", app3, false},
		{"team/lib:1.0", lib2, false}, {"team/svc:main", svc, false},
	}
	if d := cmp.Diff(wantStates, states); d != "" {
		t.Errorf("watched tags (-want +got):\n%s", d)
	}
	if tags := liveImageTags(t, st, saved.ImageID); len(tags) != 0 {
		t.Errorf("image_tags: the deleted tag v1 of the stored image is not marked removed (live: %v)", tags)
	}
	var lastError string
	if err := st.Pool().QueryRow(t.Context(), "SELECT last_error FROM registries WHERE id = $1", created.ID).Scan(&lastError); err != nil {
		t.Fatal(err)
	}
	if lastError != "" {
		t.Errorf("last_error %q after a poll that did everything", lastError)
	}
}

// liveImageTags returns the tags of a stored image not marked removed.
func liveImageTags(t *testing.T, st *store.Store, imageID int64) []string {
	t.Helper()
	var tags []string
	if err := st.Pool().QueryRow(t.Context(), `SELECT COALESCE(array_agg(tag ORDER BY tag), '{}') FROM image_tags
		WHERE image_id = $1 AND removed_at IS NULL`, imageID).Scan(&tags); err != nil {
		t.Fatal(err)
	}
	return tags
}

func registryCredentials(t *testing.T, st *store.Store, id int64) string {
	t.Helper()
	var sealed string
	if err := st.Pool().QueryRow(t.Context(), "SELECT credentials FROM registries WHERE id = $1", id).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	return sealed
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPollErrors: what a poll cannot do is recorded on the registry and
// returned, never skipped: wrong credentials, no key for sealed
// credentials, a repository that refuses the listing.
func TestPollErrors(t *testing.T) {
	st := openStore(t)
	r := startRegistry(t)
	r.push(t, "team/app:v1", "app 1")
	box := newBox(t)
	seal := func(pass string) string {
		s, err := queue.SealCredentials(box, queue.Credentials{Username: testimage.RegistryUser, Password: pass})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	otherBox, err := secretbox.New(bytes.Repeat([]byte{8}, 32))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		secrets     *secretbox.Box
		credentials string
		repos       []string
		want        string
	}{
		{"wrong password", box, seal("wrong"), nil, "UNAUTHORIZED"},
		{"no credentials", box, "", []string{"team/app"}, "UNAUTHORIZED"},
		{"no key", nil, seal(testimage.RegistryPassword), nil, "no secret key is configured"},
		{"another key", otherBox, seal(testimage.RegistryPassword), nil, "wrong key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := watch.New(watch.Options{Store: st, Secrets: tc.secrets, Transport: r.tr})
			if err != nil {
				t.Fatal(err)
			}
			reg, err := st.AddRegistry(t.Context(), store.Registry{Name: tc.name, Host: r.Host, Repositories: tc.repos, Credentials: tc.credentials, Interval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			_, perr := w.Poll(t.Context(), reg.ID)
			if perr == nil || !strings.Contains(perr.Error(), tc.want) {
				t.Fatalf("poll error %v, want one containing %q", perr, tc.want)
			}
			got, err := st.GetRegistry(t.Context(), reg.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.LastError != perr.Error() {
				t.Errorf("last_error %q, want the poll's error %q", got.LastError, perr)
			}
			if got.LastPolledAt == nil {
				t.Error("last_polled_at not set")
			}
		})
	}
}

// TestThroughRiver: the watch wired into River as the server wires it (the
// leader's tick, one poll job per registry due): a tag pushed after the
// watch started is queued for a scan by the first poll that starts after the
// push, and polls follow one another every interval.
func TestThroughRiver(t *testing.T) {
	st := openStore(t)
	r := startRegistry(t)
	box := newBox(t)
	r.push(t, "team/app:v1", "app 1")
	w, err := watch.New(watch.Options{Store: st, Secrets: box, Transport: r.tr, Tick: time.Second, MinInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	w.AddWorkers(workers)
	client, err := river.NewClient(riverpgxv5.New(st.Pool()), &river.Config{Workers: workers, Queues: w.Queues(), PeriodicJobs: w.Periodic()})
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
			t.Errorf("stopping River: %v", err)
		}
	})
	sealed, err := queue.SealCredentials(box, queue.Credentials{Username: testimage.RegistryUser, Password: testimage.RegistryPassword})
	if err != nil {
		t.Fatal(err)
	}
	const interval = 3 * time.Second
	reg, err := st.AddRegistry(t.Context(), store.Registry{Name: "r", Host: r.Host, Repositories: []string{"team/*"}, Credentials: sealed, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	waitScan := func(ref string) time.Time {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			var created time.Time
			err := st.Pool().QueryRow(t.Context(), "SELECT created_at FROM river_job WHERE kind = $1 AND args->>'reference' = $2",
				queue.ScanArgs{}.Kind(), ref).Scan(&created)
			if err == nil {
				return created
			}
			if err != pgx.ErrNoRows {
				t.Fatal(err)
			}
			if time.Now().After(deadline) {
				g, _ := st.GetRegistry(t.Context(), reg.ID)
				t.Fatalf("no scan of %s queued within 60s (registry: last polled %v, last error %q)", ref, g.LastPolledAt, g.LastError)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	v1 := r.Host + "/team/app@" + digestOf(t, r, "team/app:v1")
	waitScan(v1)

	pushed := time.Now()
	v2 := r.Host + "/team/app@" + r.push(t, "team/app:v2", "app 2")
	queued := waitScan(v2)

	// No poll that started after the push finished without queueing the
	// scan: the first poll to see the tag queued it (a poll already running
	// at the push may have, too).
	var missed int
	if err := st.Pool().QueryRow(t.Context(), `SELECT count(*) FROM river_job
		WHERE kind = $1 AND attempted_at > $2 AND finalized_at < $3`, watch.PollArgs{}.Kind(), pushed, queued).Scan(&missed); err != nil {
		t.Fatal(err)
	}
	if missed != 0 {
		t.Errorf("%d polls started after the push at %v and finished before the scan was queued at %v", missed, pushed, queued)
	}
	t.Logf("tag pushed → scan queued: %v (interval %v, tick 1s)", queued.Sub(pushed).Round(time.Millisecond), interval)
}

func digestOf(t *testing.T, r *reg, repoTag string) string {
	t.Helper()
	ref, err := name.NewTag(r.Host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(ref, remote.WithTransport(r.tr), remote.WithAuth(r.auth))
	if err != nil {
		t.Fatal(err)
	}
	return d.Digest.String()
}
