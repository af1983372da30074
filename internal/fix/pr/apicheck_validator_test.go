package pr

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDescriptionCatchesWrongRequests: the check the fake servers make is
// not a rubber stamp. Each wrong request is refused with the reason; the
// right ones pass.
func TestDescriptionCatchesWrongRequests(t *testing.T) {
	gh := loadDesc(t, "testdata/github-openapi-subset.json", githubAuth)
	gl := loadDesc(t, "testdata/gitlab-mr-description.json", gitlabAuth)
	ghHeaders := map[string]string{"Authorization": "Bearer x", "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"}
	glHeaders := map[string]string{"PRIVATE-TOKEN": "x", "Content-Type": "application/json"}
	for _, tc := range []struct {
		name         string
		desc         *apiDesc
		method, path string
		headers      map[string]string
		body         string
		wantOp       string
		want         string // a problem containing this; "" = no problem
	}{
		{name: "github create ok", desc: gh, method: "POST", path: "/repos/o/r/pulls", headers: ghHeaders,
			body: `{"title":"t","head":"h","base":"main","body":"b"}`, wantOp: "pulls/create"},
		{name: "github create without head", desc: gh, method: "POST", path: "/repos/o/r/pulls", headers: ghHeaders,
			body: `{"title":"t","base":"main"}`, wantOp: "pulls/create", want: "missing property 'head'"},
		{name: "github create head not a string", desc: gh, method: "POST", path: "/repos/o/r/pulls", headers: ghHeaders,
			body: `{"title":"t","head":7,"base":"main"}`, wantOp: "pulls/create", want: "got number, want string"},
		{name: "github create without body", desc: gh, method: "POST", path: "/repos/o/r/pulls", headers: ghHeaders,
			wantOp: "pulls/create", want: "request body required"},
		{name: "github create form-encoded", desc: gh, method: "POST", path: "/repos/o/r/pulls",
			headers: map[string]string{"Authorization": "Bearer x", "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/x-www-form-urlencoded"},
			body:    `{"head":"h","base":"main"}`, wantOp: "pulls/create", want: "want application/json"},
		{name: "github no token", desc: gh, method: "GET", path: "/repos/o/r/pulls",
			headers: map[string]string{"X-GitHub-Api-Version": "2022-11-28"}, wantOp: "pulls/list", want: "Authorization header"},
		{name: "github basic auth", desc: gh, method: "GET", path: "/repos/o/r/pulls",
			headers: map[string]string{"Authorization": "Basic eDp5", "X-GitHub-Api-Version": "2022-11-28"}, wantOp: "pulls/list", want: "Authorization header"},
		{name: "github other API version", desc: gh, method: "GET", path: "/repos/o/r/pulls",
			headers: map[string]string{"Authorization": "token x", "X-GitHub-Api-Version": "2026-03-10"}, wantOp: "pulls/list", want: "X-GitHub-Api-Version"},
		{name: "github list ok", desc: gh, method: "GET", path: "/repos/o/r/pulls?state=open&head=o:h&base=main", headers: ghHeaders, wantOp: "pulls/list"},
		{name: "github list bad state", desc: gh, method: "GET", path: "/repos/o/r/pulls?state=opened", headers: ghHeaders, wantOp: "pulls/list", want: "state=\"opened\""},
		{name: "github list unknown parameter", desc: gh, method: "GET", path: "/repos/o/r/pulls?source_branch=h", headers: ghHeaders, wantOp: "pulls/list", want: "source_branch is not in the description"},
		{name: "github update with PUT", desc: gh, method: "PUT", path: "/repos/o/r/pulls/1", headers: ghHeaders, body: `{"body":"b"}`, want: "no such operation"},
		{name: "github update number not integer", desc: gh, method: "PATCH", path: "/repos/o/r/pulls/one", headers: ghHeaders, body: `{"body":"b"}`, wantOp: "pulls/update", want: "is not an integer"},
		{name: "github update bad state", desc: gh, method: "PATCH", path: "/repos/o/r/pulls/1", headers: ghHeaders, body: `{"state":"merged"}`, wantOp: "pulls/update", want: "pulls/update: request body"},
		{name: "github labels bare array ok", desc: gh, method: "POST", path: "/repos/o/r/issues/1/labels", headers: ghHeaders, body: `["a","b"]`, wantOp: "issues/add-labels"},
		{name: "github labels wrong shape", desc: gh, method: "POST", path: "/repos/o/r/issues/1/labels", headers: ghHeaders, body: `{"labels":"a,b"}`, wantOp: "issues/add-labels", want: "issues/add-labels: request body"},
		{name: "github list takes no body", desc: gh, method: "GET", path: "/repos/o/r/pulls", headers: ghHeaders, body: `{}`, wantOp: "pulls/list", want: "takes no request body"},

		{name: "gitlab create ok", desc: gl, method: "POST", path: "/projects/group%2Fsub%2Fname/merge_requests", headers: glHeaders,
			body: `{"source_branch":"h","target_branch":"main","title":"t","description":"d","labels":"a,b"}`, wantOp: "create-mr"},
		{name: "gitlab create with bearer ok", desc: gl, method: "POST", path: "/projects/42/merge_requests",
			headers: map[string]string{"Authorization": "Bearer x", "Content-Type": "application/json"},
			body:    `{"source_branch":"h","target_branch":"main","title":"t"}`, wantOp: "create-mr"},
		{name: "gitlab create without title", desc: gl, method: "POST", path: "/projects/42/merge_requests", headers: glHeaders,
			body: `{"source_branch":"h","target_branch":"main"}`, wantOp: "create-mr", want: "missing property 'title'"},
		{name: "gitlab create labels as array", desc: gl, method: "POST", path: "/projects/42/merge_requests", headers: glHeaders,
			body: `{"source_branch":"h","target_branch":"main","title":"t","labels":["a"]}`, wantOp: "create-mr", want: "want string"},
		{name: "gitlab create GitHub field names", desc: gl, method: "POST", path: "/projects/42/merge_requests", headers: glHeaders,
			body: `{"head":"h","base":"main","title":"t"}`, wantOp: "create-mr", want: "missing properties 'source_branch', 'target_branch'"},
		{name: "gitlab description too long", desc: gl, method: "POST", path: "/projects/42/merge_requests", headers: glHeaders,
			body: `{"source_branch":"h","target_branch":"main","title":"t","description":"` + strings.Repeat("x", GitLabBodyLimit+1) + `"}`, wantOp: "create-mr", want: "maxLength"},
		{name: "gitlab path not encoded", desc: gl, method: "POST", path: "/projects/group/sub/name/merge_requests", headers: glHeaders,
			body: `{"source_branch":"h","target_branch":"main","title":"t"}`, want: "no such operation"},
		{name: "gitlab no token", desc: gl, method: "GET", path: "/projects/42/merge_requests?state=opened", wantOp: "list-project-merge-requests", want: "no PRIVATE-TOKEN"},
		{name: "gitlab list GitHub state", desc: gl, method: "GET", path: "/projects/42/merge_requests?state=open", headers: glHeaders, wantOp: "list-project-merge-requests", want: "state=\"open\""},
		{name: "gitlab update with PATCH", desc: gl, method: "PATCH", path: "/projects/42/merge_requests/1", headers: glHeaders, body: `{"title":"t"}`, want: "no such operation"},
		{name: "gitlab update empty", desc: gl, method: "PUT", path: "/projects/42/merge_requests/1", headers: glHeaders, body: `{}`, wantOp: "update-mr", want: "minProperties"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body *strings.Reader
			body = strings.NewReader(tc.body)
			r := httptest.NewRequest(tc.method, "http://api.test"+tc.path, body)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			op, problems := tc.desc.check(r, "", []byte(tc.body))
			gotOp := ""
			if op != nil {
				gotOp = op.id
			}
			if d := cmp.Diff(tc.wantOp, gotOp); d != "" {
				t.Errorf("operation (-want +got):\n%s", d)
			}
			if tc.want == "" {
				if len(problems) > 0 {
					t.Errorf("a right request refused: %q", problems)
				}
				return
			}
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p, tc.want)
			}
			if !found {
				t.Errorf("problems %q: none says %q", problems, tc.want)
			}
		})
	}
}

// TestResponseCheckCatchesWrongAnswers: the fake's own answers are checked
// too; an answer missing a required field or with a wrong type is refused.
func TestResponseCheckCatchesWrongAnswers(t *testing.T) {
	gh := loadDesc(t, "testdata/github-openapi-subset.json", githubAuth)
	op, _ := gh.match(http.MethodPost, "/repos/o/r/pulls")
	good := githubPull("http://api.test", "o", "r", 1, map[string]any{"title": "t", "head": "h", "base": "main", "body": "b"})
	if err := op.checkResponse(201, good); err != nil {
		t.Fatalf("a right answer refused: %v", err)
	}
	noNumber := githubPull("http://api.test", "o", "r", 1, map[string]any{"title": "t", "head": "h", "base": "main"})
	delete(noNumber, "number")
	stringNumber := githubPull("http://api.test", "o", "r", 1, map[string]any{"title": "t", "head": "h", "base": "main"})
	stringNumber["number"] = "1"
	for name, v := range map[string]any{"missing number": noNumber, "number as string": stringNumber} {
		if err := op.checkResponse(201, v); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := op.checkResponse(200, good); err == nil {
		t.Error("undocumented status 200 for pulls/create accepted")
	}
	gl := loadDesc(t, "testdata/gitlab-mr-description.json", gitlabAuth)
	mop, _ := gl.match(http.MethodPost, "/projects/42/merge_requests")
	if err := mop.checkResponse(201, map[string]any{"id": 1, "iid": "1", "project_id": 42, "title": "t", "state": "opened",
		"source_branch": "h", "target_branch": "main", "web_url": "http://x/1"}); err == nil {
		t.Error("gitlab: iid as a string accepted")
	}
}

// TestFakeServerReportsWrongRequests: a wrong request sent to the running
// fake server is recorded as a problem (which fails the test using it).
func TestFakeServerReportsWrongRequests(t *testing.T) {
	f := newFakeGitHub(t, ghes, ghToken)
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+"/api/v3/repos/octo/app/pulls", strings.NewReader(`{"title":"t","base":"main"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ghToken)
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, _, _, problems := f.rec.snapshot()
	if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), "missing property 'head'") {
		t.Errorf("problems %q: the missing head was not reported", problems)
	}
	// This test wants the problem: clear it so the fake's cleanup passes.
	f.rec.mu.Lock()
	f.rec.problems = nil
	f.rec.mu.Unlock()
}
