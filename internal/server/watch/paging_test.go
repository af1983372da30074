package watch_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/server/watch"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// linking serves go-containerregistry's in-process registry with paged
// listings: it asks the registry for the whole tag list or catalog, cuts
// the page n= and last= ask for, and sends the Link header link makes from
// the last name of a full page, the way paging registries do
// (distribution's catalog, Harbor's tag lists). It counts the listing
// requests by path.
type linking struct {
	next  http.Handler
	link  func(r *http.Request, last string) string
	mu    sync.Mutex
	lists map[string]int
}

func (l *linking) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	listing := strings.HasSuffix(r.URL.Path, "/tags/list") || r.URL.Path == "/v2/_catalog"
	if !listing {
		l.next.ServeHTTP(w, r)
		return
	}
	l.mu.Lock()
	l.lists[r.URL.Path]++
	l.mu.Unlock()
	whole := r.Clone(r.Context())
	whole.URL.RawQuery = ""
	rec := httptest.NewRecorder()
	l.next.ServeHTTP(rec, whole)
	if rec.Code != http.StatusOK {
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	var page struct {
		Name  string   `json:"name,omitempty"`
		Tags  []string `json:"tags,omitempty"`
		Repos []string `json:"repositories,omitempty"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	names := page.Tags
	if r.URL.Path == "/v2/_catalog" {
		names = page.Repos
	}
	slices.Sort(names)
	if last := r.URL.Query().Get("last"); last != "" {
		i, _ := slices.BinarySearch(names, last)
		for i < len(names) && names[i] <= last {
			i++
		}
		names = names[i:]
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && n < len(names) {
		names = names[:n]
		w.Header().Set("Link", l.link(r, names[n-1]))
	}
	if r.URL.Path == "/v2/_catalog" {
		page.Repos = names
	} else {
		page.Tags = names
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

// TestPagingFollowsLink: tag lists and the catalog are read page by page
// (n=2) as the registry's Link headers say; a Link to another host or to
// the same page is an error recorded on the registry, never a request sent
// elsewhere or a loop.
func TestPagingFollowsLink(t *testing.T) {
	st := openStore(t)
	for _, tc := range []struct {
		name      string
		link      func(r *http.Request, last string) string
		want      watch.Result
		wantLists map[string]int
		wantErr   string
	}{
		{
			name: "relative link",
			link: func(r *http.Request, last string) string {
				return fmt.Sprintf(`<%s?last=%s&n=2>; rel="next"`, r.URL.Path, last)
			},
			want: watch.Result{Repositories: 3, Tags: 7, Queued: 7},
			// a: 5 tags in pages of 2 → 3 requests; the catalog: 3 repositories → 2.
			wantLists: map[string]int{"/v2/_catalog": 2, "/v2/a/tags/list": 3, "/v2/b/tags/list": 1, "/v2/c/tags/list": 1},
		},
		{
			name: "absolute link with other parameters",
			link: func(r *http.Request, last string) string {
				return fmt.Sprintf(`<http://%s%s?n=2&last=%s>; rel="next", <http://%s/help>; rel="help"`, r.Host, r.URL.Path, last, r.Host)
			},
			want:      watch.Result{Repositories: 3, Tags: 7, Queued: 7},
			wantLists: map[string]int{"/v2/_catalog": 2, "/v2/a/tags/list": 3, "/v2/b/tags/list": 1, "/v2/c/tags/list": 1},
		},
		{
			name: "link to another host",
			link: func(r *http.Request, last string) string {
				return fmt.Sprintf(`<http://elsewhere.example%s?last=%s&n=2>; rel="next"`, r.URL.Path, last)
			},
			wantLists: map[string]int{"/v2/_catalog": 1},
			wantErr:   "on another host",
		},
		{
			name:      "link to the same page",
			link:      func(r *http.Request, last string) string { return "<" + r.URL.String() + `>; rel="next"` },
			wantLists: map[string]int{"/v2/_catalog": 1},
			wantErr:   "the same page",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &linking{next: registry.New(registry.Logger(log.New(io.Discard, "", 0))), link: tc.link, lists: map[string]int{}}
			srv := httptest.NewServer(l)
			t.Cleanup(srv.Close)
			host := strings.TrimPrefix(srv.URL, "http://")
			for i, rt := range []string{"a:1", "a:2", "a:3", "a:4", "a:5", "b:x", "c:y"} {
				img, err := testimage.Build(testimage.Config{}, testimage.Layer{Files: map[string][]byte{"f": []byte(fmt.Sprint(i))}})
				if err != nil {
					t.Fatal(err)
				}
				ref, err := name.NewTag(host + "/" + rt)
				if err != nil {
					t.Fatal(err)
				}
				if err := remote.Write(ref, img); err != nil {
					t.Fatal(err)
				}
			}
			l.mu.Lock()
			clear(l.lists)
			l.mu.Unlock()
			w, err := watch.New(watch.Options{Store: st, PageSize: 2})
			if err != nil {
				t.Fatal(err)
			}
			reg, err := st.AddRegistry(t.Context(), store.Registry{Name: tc.name, Host: host, Interval: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			res, err := w.Poll(t.Context(), reg.ID)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one containing %q", err, tc.wantErr)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, res); d != "" {
				t.Errorf("poll (-want +got):\n%s", d)
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			if d := cmp.Diff(tc.wantLists, l.lists); d != "" {
				t.Errorf("listing requests (-want +got):\n%s", d)
			}
		})
	}
}

// TestAPI: registrations are checked, credentials are refused without a
// key, names are unique, and missing registries are 404.
func TestAPI(t *testing.T) {
	st := openStore(t)
	keyed, err := watch.New(watch.Options{Store: st, Secrets: newBox(t), MinInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	keyless, err := watch.New(watch.Options{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	withKey, noKey := newAPI(t, keyed), newAPI(t, keyless)
	creds := map[string]string{"username": "u", "password": "p"}
	for _, tc := range []struct {
		name string
		api  *apiClient
		body any
		code int
		want string // in the response
	}{
		{"minimal", withKey, map[string]any{"name": "hub", "host": "registry.example.com"}, 201, `"interval": "15m0s"`},
		{"http means insecure", withKey, map[string]any{"name": "plain", "host": "http://10.0.0.5:5000/", "repositories": []string{"team/*", "/lib/"}, "interval": "1m"}, 201, `"insecure": true`},
		{"credentials", withKey, map[string]any{"name": "priv", "host": "r.example.com", "credentials": creds}, 201, `"has_credentials": true`},
		{"same name", withKey, map[string]any{"name": "hub", "host": "other.example.com"}, 409, "exists"},
		{"credentials without a key", noKey, map[string]any{"name": "nokey", "host": "r.example.com", "credentials": creds}, 400, "no secret key is configured"},
		{"credentials without a username", withKey, map[string]any{"name": "nouser", "host": "r.example.com", "credentials": map[string]string{"password": "p"}}, 400, "username is required"},
		{"no name", withKey, map[string]any{"host": "r.example.com"}, 400, "name is required"},
		{"no host", withKey, map[string]any{"name": "x"}, 400, "host"},
		{"host with a path", withKey, map[string]any{"name": "x", "host": "r.example.com/team"}, 400, "host"},
		{"bad glob", withKey, map[string]any{"name": "x", "host": "r.example.com", "repositories": []string{"team/["}}, 400, "not a valid glob"},
		{"bad interval", withKey, map[string]any{"name": "x", "host": "r.example.com", "interval": "soon"}, 400, "interval"},
		{"interval too short", withKey, map[string]any{"name": "x", "host": "r.example.com", "interval": "5s"}, 400, "shorter than this server allows"},
		{"unknown field", withKey, map[string]any{"name": "x", "host": "r.example.com", "password": "p"}, 400, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := string(tc.api.do(t, "POST", "/api/v1/registries", tc.body, tc.code))
			if !strings.Contains(out, tc.want) {
				t.Errorf("response %s, want %q in it", out, tc.want)
			}
		})
	}

	var list struct {
		Registries []watch.View `json:"registries"`
	}
	if err := json.Unmarshal(withKey.do(t, "GET", "/api/v1/registries", nil, 200), &list); err != nil {
		t.Fatal(err)
	}
	type brief struct {
		Name, Host   string
		Insecure     bool
		Repositories []string
		Interval     string
		Creds        bool
	}
	var got []brief
	for _, v := range list.Registries {
		got = append(got, brief{v.Name, v.Host, v.Insecure, v.Repositories, v.Interval, v.HasCredentials})
	}
	want := []brief{
		{"hub", "registry.example.com", false, []string{}, "15m0s", false},
		{"plain", "10.0.0.5:5000", true, []string{"team/*", "lib"}, "1m0s", false},
		{"priv", "r.example.com", false, []string{}, "15m0s", true},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("registries (-want +got):\n%s", d)
	}

	id := fmt.Sprint(list.Registries[0].ID)
	var poll1, poll2 struct {
		JobID int64 `json:"job_id"`
	}
	if err := json.Unmarshal(withKey.do(t, "POST", "/api/v1/registries/"+id+"/poll", nil, 202), &poll1); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(withKey.do(t, "POST", "/api/v1/registries/"+id+"/poll", nil, 202), &poll2); err != nil {
		t.Fatal(err)
	}
	if poll1.JobID == 0 || poll1.JobID != poll2.JobID {
		t.Errorf("poll now twice: jobs %d and %d, want one job (a registry is not polled twice at once)", poll1.JobID, poll2.JobID)
	}
	withKey.do(t, "GET", "/api/v1/registries/"+id+"/tags", nil, 200)
	withKey.do(t, "DELETE", "/api/v1/registries/"+id, nil, 204)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/registries/" + id}, {"DELETE", "/api/v1/registries/" + id},
		{"POST", "/api/v1/registries/" + id + "/poll"}, {"GET", "/api/v1/registries/" + id + "/tags"},
	} {
		withKey.do(t, c.method, c.path, nil, 404)
	}
	withKey.do(t, "GET", "/api/v1/registries/x", nil, 400)
	// A poll job of a deleted registry completes without doing anything.
	if _, err := keyed.Poll(t.Context(), list.Registries[0].ID); err == nil || !strings.Contains(err.Error(), "no such registry") {
		t.Errorf("polling a deleted registry: %v", err)
	}
}
