package pr

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// failure makes a fake answer an operation with an error.
type failure struct {
	status int
	body   any
	// undocumented: the description lists no such answer for the
	// operation (GitLab documents its error statuses once for the whole API),
	// so the answer is sent without the response-schema check.
	undocumented bool
}

// fakeGitHub is a GitHub REST API on loopback that checks every request
// against testdata/github-openapi-subset.json and answers with bodies that
// validate against the description's response schemas.
type fakeGitHub struct {
	t      testing.TB
	desc   *apiDesc
	prefix string // the API base path: "" for api.github.com, "/api/v3" for GHES
	token  string
	fail   map[string]failure // operationId → error answer
	rec    recorder
	srv    *httptest.Server

	mu     sync.Mutex
	pulls  []map[string]any
	labels map[int][]string
	block  chan struct{} // non-nil: requests wait for their context to end
}

func newFakeGitHub(t testing.TB, prefix, token string) *fakeGitHub {
	f := &fakeGitHub{t: t, desc: loadDesc(t, "testdata/github-openapi-subset.json", githubAuth),
		prefix: prefix, token: token, fail: map[string]failure{}, labels: map[int][]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		if _, _, _, problems := f.rec.snapshot(); len(problems) > 0 {
			t.Errorf("requests not as GitHub's API description says:\n%s", strings.Join(problems, "\n"))
		}
	})
	return f
}

func (f *fakeGitHub) answer(w http.ResponseWriter, op *operation, status int, v any) {
	if err := op.checkResponse(status, v); err != nil {
		f.rec.problem("fake server answer: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) serve(w http.ResponseWriter, r *http.Request) {
	if f.block != nil {
		<-r.Context().Done()
		return
	}
	body := readBody(r)
	op, problems := f.desc.check(r, f.prefix, body)
	id := "?"
	if op != nil {
		id = op.id
	}
	f.rec.add(id, r.URL.EscapedPath(), body, problems)
	if op == nil {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		// api.github.com answers a bad token with 401 on every operation;
		// the subset documents no 401, so this answer is not schema-checked.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}`))
		return
	}
	if fl, ok := f.fail[op.id]; ok {
		f.answer(w, op, fl.status, fl.body)
		return
	}
	_, vals := f.desc.match(r.Method, strings.TrimPrefix(r.URL.EscapedPath(), f.prefix))
	owner, repo := vals["owner"], vals["repo"]
	var req map[string]any
	_ = json.Unmarshal(body, &req)

	f.mu.Lock()
	defer f.mu.Unlock()
	switch op.id {
	case "pulls/list":
		q := r.URL.Query()
		out := []any{}
		for _, p := range f.pulls {
			head := p["head"].(map[string]any)
			if (q.Get("state") == "" || q.Get("state") == "all" || p["state"] == q.Get("state")) &&
				(q.Get("head") == "" || q.Get("head") == head["label"]) &&
				(q.Get("base") == "" || q.Get("base") == p["base"].(map[string]any)["ref"]) {
				out = append(out, p)
			}
		}
		f.answer(w, op, http.StatusOK, out)
	case "pulls/create":
		n := len(f.pulls) + 1
		p := githubPull(f.srv.URL, owner, repo, n, req)
		f.pulls = append(f.pulls, p)
		f.answer(w, op, http.StatusCreated, p)
	case "pulls/update":
		n := 0
		_, _ = fmt.Sscan(vals["pull_number"], &n)
		if n < 1 || n > len(f.pulls) {
			f.answer(w, op, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed", "documentation_url": "https://docs.github.com/rest"})
			return
		}
		p := f.pulls[n-1]
		for _, k := range []string{"title", "body", "state"} {
			if v, ok := req[k]; ok {
				p[k] = v
			}
		}
		f.answer(w, op, http.StatusOK, p)
	case "issues/add-labels":
		n := 0
		_, _ = fmt.Sscan(vals["issue_number"], &n)
		// The description allows {"labels": [...]} or a bare array.
		names, _ := req["labels"].([]any)
		if names == nil {
			_ = json.Unmarshal(body, &names)
		}
		for _, l := range names {
			s := fmt.Sprint(l)
			if !contains(f.labels[n], s) {
				f.labels[n] = append(f.labels[n], s)
			}
		}
		out := []any{}
		for i, l := range f.labels[n] {
			out = append(out, map[string]any{"id": i + 1, "node_id": fmt.Sprintf("LA_%d", i+1),
				"url":  fmt.Sprintf("%s/repos/%s/%s/labels/%s", f.srv.URL, owner, repo, l),
				"name": l, "description": nil, "color": "ededed", "default": false})
		}
		f.answer(w, op, http.StatusOK, out)
	}
}

func contains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

func githubUser(base, login string) map[string]any {
	u := base + "/users/" + login
	return map[string]any{
		"login": login, "id": 1, "node_id": "MDQ6VXNlcjE=", "avatar_url": base + "/avatars/" + login,
		"gravatar_id": "", "url": u, "html_url": base + "/" + login, "followers_url": u + "/followers",
		"following_url": u + "/following{/other_user}", "gists_url": u + "/gists{/gist_id}",
		"starred_url": u + "/starred{/owner}{/repo}", "subscriptions_url": u + "/subscriptions",
		"organizations_url": u + "/orgs", "repos_url": u + "/repos", "events_url": u + "/events{/privacy}",
		"received_events_url": u + "/received_events", "type": "User", "site_admin": false,
	}
}

func githubPull(base, owner, repo string, n int, req map[string]any) map[string]any {
	head, _ := req["head"].(string)
	baseRef, _ := req["base"].(string)
	var body any
	if b, ok := req["body"].(string); ok {
		body = b
	}
	return map[string]any{
		"url": fmt.Sprintf("%s/repos/%s/%s/pulls/%d", base, owner, repo, n),
		"id":  1000 + n, "node_id": fmt.Sprintf("PR_%d", n),
		"html_url": fmt.Sprintf("%s/%s/%s/pull/%d", base, owner, repo, n),
		"number":   n, "state": "open", "locked": false, "title": req["title"],
		"user": githubUser(base, owner), "body": body,
		"head":   map[string]any{"label": owner + ":" + head, "ref": head, "sha": strings.Repeat("a", 40)},
		"base":   map[string]any{"label": owner + ":" + baseRef, "ref": baseRef, "sha": strings.Repeat("b", 40)},
		"merged": false, "comments": 0, "commits": 1,
	}
}

// fakeGitLab is a GitLab REST API v4 on loopback that checks every request
// against testdata/gitlab-mr-description.json.
type fakeGitLab struct {
	t      testing.TB
	desc   *apiDesc
	prefix string // "/api/v4", or "/gitlab/api/v4" for an instance under a path
	token  string
	fail   map[string]failure
	rec    recorder
	srv    *httptest.Server

	mu  sync.Mutex
	mrs []map[string]any
}

func newFakeGitLab(t testing.TB, prefix, token string) *fakeGitLab {
	f := &fakeGitLab{t: t, desc: loadDesc(t, "testdata/gitlab-mr-description.json", gitlabAuth),
		prefix: prefix, token: token, fail: map[string]failure{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() {
		if _, _, _, problems := f.rec.snapshot(); len(problems) > 0 {
			t.Errorf("requests not as GitLab's API description says:\n%s", strings.Join(problems, "\n"))
		}
	})
	return f
}

func (f *fakeGitLab) answer(w http.ResponseWriter, op *operation, status int, v any) {
	if err := op.checkResponse(status, v); err != nil {
		f.rec.problem("fake server answer: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitLab) serve(w http.ResponseWriter, r *http.Request) {
	body := readBody(r)
	op, problems := f.desc.check(r, f.prefix, body)
	id := "?"
	if op != nil {
		id = op.id
	}
	f.rec.add(id, r.URL.EscapedPath(), body, problems)
	if op == nil {
		http.Error(w, `{"message":"404 Not Found"}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("PRIVATE-TOKEN") != f.token {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
		return
	}
	if fl, ok := f.fail[op.id]; ok {
		if fl.undocumented {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(fl.status)
			_ = json.NewEncoder(w).Encode(fl.body)
			return
		}
		f.answer(w, op, fl.status, fl.body)
		return
	}
	_, vals := f.desc.match(r.Method, strings.TrimPrefix(r.URL.EscapedPath(), f.prefix))
	project := vals["id"]
	var req map[string]any
	_ = json.Unmarshal(body, &req)

	f.mu.Lock()
	defer f.mu.Unlock()
	switch op.id {
	case "list-project-merge-requests":
		q := r.URL.Query()
		out := []any{}
		for _, m := range f.mrs {
			if (q.Get("state") == "" || q.Get("state") == "all" || m["state"] == q.Get("state")) &&
				(q.Get("source_branch") == "" || q.Get("source_branch") == m["source_branch"]) &&
				(q.Get("target_branch") == "" || q.Get("target_branch") == m["target_branch"]) {
				out = append(out, m)
			}
		}
		f.answer(w, op, http.StatusOK, out)
	case "create-mr":
		n := len(f.mrs) + 1
		m := map[string]any{
			"id": 500 + n, "iid": n, "project_id": 42, "title": req["title"], "description": req["description"],
			"state": "opened", "source_branch": req["source_branch"], "target_branch": req["target_branch"],
			"labels": splitLabels(req["labels"]), "web_url": fmt.Sprintf("%s/%s/-/merge_requests/%d", f.srv.URL, project, n),
		}
		f.mrs = append(f.mrs, m)
		f.answer(w, op, http.StatusCreated, m)
	case "update-mr":
		n := 0
		_, _ = fmt.Sscan(vals["merge_request_iid"], &n)
		if n < 1 || n > len(f.mrs) {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		m := f.mrs[n-1]
		for _, k := range []string{"title", "description"} {
			if v, ok := req[k]; ok {
				m[k] = v
			}
		}
		if add, ok := req["add_labels"]; ok {
			ls := m["labels"].([]string)
			for _, l := range splitLabels(add) {
				if !contains(ls, l) {
					ls = append(ls, l)
				}
			}
			m["labels"] = ls
		}
		f.answer(w, op, http.StatusOK, m)
	}
}

func splitLabels(v any) []string {
	s, _ := v.(string)
	out := []string{}
	for _, l := range strings.Split(s, ",") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}
