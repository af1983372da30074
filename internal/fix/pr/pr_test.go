package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

const (
	ghToken = "ghp_TESTTOKEN0123456789abcdefSECRET"
	glToken = "glpat-TESTTOKEN0123456789SECRET"
)

func githubRequest(base string) Request {
	return Request{Provider: GitHub, BaseURL: base, Token: ghToken, Repo: "octo/app",
		Head: "drydock/fix-cves", Base: "main", Title: "drydock: fix 3 vulnerabilities",
		Body: "| package | from | to |\n|---|---|---|\n| openssl | 3.0.1 | 3.0.13 |\n", Labels: []string{"security", "drydock"}}
}

func gitlabRequest(base, repo string) Request {
	return Request{Provider: GitLab, BaseURL: base, Token: glToken, Repo: repo,
		Head: "drydock/fix-cves", Base: "main", Title: "drydock: fix 3 vulnerabilities",
		Body: "| package | from | to |\n|---|---|---|\n| openssl | 3.0.1 | 3.0.13 |\n", Labels: []string{"security", "drydock"}}
}

// ghes is the GitHub Enterprise Server layout: the API under /api/v3/.
// httptest's host is not api.*, so go-github adds /api/v3/ to the bare URL.
const ghes = "/api/v3"

func TestGitHubCreateThenUpdate(t *testing.T) {
	f := newFakeGitHub(t, ghes, ghToken)
	ctx := context.Background()
	r := githubRequest(f.srv.URL)

	got, err := Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	want := Opened{URL: f.srv.URL + "/octo/app/pull/1", Number: 1}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("first run (-want +got):\n%s", d)
	}

	r.Body = "updated table\n"
	got, err = Open(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	want.Existing = true
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("second run (-want +got):\n%s", d)
	}

	calls, bodies, paths, _ := f.rec.snapshot()
	wantCalls := []string{"pulls/list", "pulls/create", "issues/add-labels", "pulls/list", "pulls/update", "issues/add-labels"}
	if d := cmp.Diff(wantCalls, calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	wantBodies := []any{
		nil,
		map[string]any{"title": r.Title, "head": r.Head, "base": r.Base, "body": githubRequest("").Body},
		[]any{"security", "drydock"},
		nil,
		map[string]any{"title": r.Title, "body": "updated table\n"},
		[]any{"security", "drydock"},
	}
	if d := cmp.Diff(wantBodies, bodies); d != "" {
		t.Errorf("request bodies (-want +got):\n%s", d)
	}
	if d := cmp.Diff("/api/v3/repos/octo/app/pulls/1", paths[4]); d != "" {
		t.Errorf("update path (-want +got):\n%s", d)
	}
	if len(f.pulls) != 1 || f.pulls[0]["body"] != "updated table\n" {
		t.Errorf("fake holds %d pull requests, first body %q; want one, updated", len(f.pulls), f.pulls[0]["body"])
	}
	if d := cmp.Diff([]string{"security", "drydock"}, f.labels[1]); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
}

func TestGitLabCreateThenUpdate(t *testing.T) {
	for _, tc := range []struct {
		name, repo, wantPath string
	}{
		{"nested path", "group/sub/name", "/api/v4/projects/group%2Fsub%2Fname/merge_requests"},
		{"numeric ID", "42", "/api/v4/projects/42/merge_requests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeGitLab(t, "/api/v4", glToken)
			ctx := context.Background()
			r := gitlabRequest(f.srv.URL, tc.repo)
			got, err := Open(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			want := Opened{URL: fmt.Sprintf("%s/%s/-/merge_requests/1", f.srv.URL, tc.repo), Number: 1}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("first run (-want +got):\n%s", d)
			}
			r.Body = "updated table\n"
			got, err = Open(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			want.Existing = true
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("second run (-want +got):\n%s", d)
			}
			calls, bodies, paths, _ := f.rec.snapshot()
			wantCalls := []string{"list-project-merge-requests", "create-mr", "list-project-merge-requests", "update-mr"}
			if d := cmp.Diff(wantCalls, calls); d != "" {
				t.Errorf("calls (-want +got):\n%s", d)
			}
			wantBodies := []any{
				nil,
				map[string]any{"title": r.Title, "description": gitlabRequest("", "").Body, "source_branch": r.Head, "target_branch": r.Base, "labels": "security,drydock"},
				nil,
				map[string]any{"title": r.Title, "description": "updated table\n", "add_labels": "security,drydock"},
			}
			if d := cmp.Diff(wantBodies, bodies); d != "" {
				t.Errorf("request bodies (-want +got):\n%s", d)
			}
			wantPaths := []string{tc.wantPath, tc.wantPath, tc.wantPath, tc.wantPath + "/1"}
			if d := cmp.Diff(wantPaths, paths); d != "" {
				t.Errorf("escaped paths (-want +got):\n%s", d)
			}
			if len(f.mrs) != 1 {
				t.Errorf("fake holds %d merge requests, want 1", len(f.mrs))
			}
		})
	}
}

func TestBaseURLs(t *testing.T) {
	for _, tc := range []struct {
		name, base, want string
	}{
		{"github.com", "", "https://api.github.com/"},
		{"enterprise bare host", "https://ghe.example.com", "https://ghe.example.com/api/v3/"},
		{"enterprise full", "https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := githubClient(Request{BaseURL: tc.base, Token: ghToken})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, c.BaseURL.String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	for _, tc := range []struct {
		name, base, want string
	}{
		{"gitlab.com", "", "https://gitlab.com/api/v4/"},
		{"self-managed", "https://git.example.com", "https://git.example.com/api/v4/"},
		{"self-managed under a path", "https://example.com/gitlab/api/v4", "https://example.com/gitlab/api/v4/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := gitlabClient(Request{BaseURL: tc.base, Token: glToken})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, c.BaseURL().String()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestSelfManagedGitLabUnderPath: an instance served under /gitlab, its
// base URL given without /api/v4.
func TestSelfManagedGitLabUnderPath(t *testing.T) {
	f := newFakeGitLab(t, "/gitlab/api/v4", glToken)
	got, err := Open(context.Background(), gitlabRequest(f.srv.URL+"/gitlab", "group/app"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(Opened{URL: f.srv.URL + "/group/app/-/merge_requests/1", Number: 1}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestAPIErrors(t *testing.T) {
	validation := map[string]any{
		"message":           "Validation Failed",
		"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
		"errors":            []any{map[string]any{"resource": "PullRequest", "code": "custom", "message": "No commits between main and drydock/fix-cves"}},
	}
	for _, tc := range []struct {
		name     string
		provider string
		failOp   string
		fail     failure
		token    string // "" = the right one
		want     APIError
	}{
		{name: "github 422", provider: GitHub, failOp: "pulls/create", fail: failure{status: 422, body: validation},
			want: APIError{Provider: GitHub, Repo: "octo/app", Op: "creating the pull request on", Status: 422,
				Message: "Validation Failed: No commits between main and drydock/fix-cves", Hint: hint(GitHub, 422)}},
		{name: "github 403", provider: GitHub, failOp: "pulls/create",
			fail: failure{status: 403, body: map[string]any{"message": "Resource not accessible by personal access token", "documentation_url": "https://docs.github.com/rest"}},
			want: APIError{Provider: GitHub, Repo: "octo/app", Op: "creating the pull request on", Status: 403,
				Message: "Resource not accessible by personal access token", Hint: hint(GitHub, 403)}},
		{name: "github 404", provider: GitHub, failOp: "issues/add-labels",
			fail: failure{status: 404, body: map[string]any{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue", "status": "404"}},
			want: APIError{Provider: GitHub, Repo: "octo/app", Op: "labelling pull request #1 of", Status: 404,
				Message: "Not Found", Hint: hint(GitHub, 404)}},
		{name: "github 401", provider: GitHub, token: "ghp_WRONGTOKEN_SECRET_999",
			want: APIError{Provider: GitHub, Repo: "octo/app", Op: "listing open pull requests of", Status: 401,
				Message: "Bad credentials", Hint: hint(GitHub, 401)}},
		{name: "gitlab 401", provider: GitLab, token: "glpat-WRONGTOKEN_SECRET_999",
			want: APIError{Provider: GitLab, Repo: "group/sub/name", Op: "listing open merge requests of", Status: 401,
				Message: "{message: 401 Unauthorized}", Hint: hint(GitLab, 401)}},
		{name: "gitlab 403", provider: GitLab, failOp: "create-mr",
			fail: failure{status: 403, body: map[string]any{"error": "insufficient_scope", "error_description": "The request requires higher privileges than provided by the access token.", "scope": "api"}, undocumented: true},
			want: APIError{Provider: GitLab, Repo: "group/sub/name", Op: "creating the merge request on", Status: 403,
				Message: "{error: insufficient_scope}, {error_description: The request requires higher privileges than provided by the access token.}, {scope: api}", Hint: hint(GitLab, 403)}},
		{name: "gitlab 404", provider: GitLab, failOp: "list-project-merge-requests",
			fail: failure{status: 404, body: map[string]any{"message": "404 Project Not Found"}, undocumented: true},
			want: APIError{Provider: GitLab, Repo: "group/sub/name", Op: "listing open merge requests of", Status: 404,
				// client-go answers every 404 with its ErrNotFound sentinel:
				// GitLab's own message ("404 Project Not Found") is not kept.
				Message: "Not Found", Hint: hint(GitLab, 404)}},
		{name: "gitlab 409", provider: GitLab, failOp: "create-mr",
			fail: failure{status: 409, body: map[string]any{"message": []any{"Another open merge request already exists for this source branch: !7"}}},
			want: APIError{Provider: GitLab, Repo: "group/sub/name", Op: "creating the merge request on", Status: 409,
				Message: "{message: [Another open merge request already exists for this source branch: !7]}", Hint: hint(GitLab, 409)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r Request
			switch tc.provider {
			case GitHub:
				f := newFakeGitHub(t, ghes, ghToken)
				if tc.failOp != "" {
					f.fail[tc.failOp] = tc.fail
				}
				r = githubRequest(f.srv.URL)
			case GitLab:
				f := newFakeGitLab(t, "/api/v4", glToken)
				if tc.failOp != "" {
					f.fail[tc.failOp] = tc.fail
				}
				r = gitlabRequest(f.srv.URL, "group/sub/name")
			}
			if tc.token != "" {
				r.Token = tc.token
			}
			_, err := Open(context.Background(), r)
			var got *APIError
			if !errors.As(err, &got) {
				t.Fatalf("error %v (%T) is not an *APIError", err, err)
			}
			if d := cmp.Diff(tc.want, *got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
			msg := err.Error()
			for _, s := range []string{tc.provider, tc.want.Repo, fmt.Sprintf("HTTP %d", tc.want.Status), tc.want.Hint} {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not say %q", msg, s)
				}
			}
			if strings.Contains(msg, r.Token) || strings.Contains(msg, "SECRET") {
				t.Errorf("error %q shows the token", msg)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	err := redact(fmt.Errorf("wrapping: %w", context.Canceled), "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("empty token: %v lost its cause", err)
	}
	err = redact(fmt.Errorf("Get https://x:%s@host/: %w", ghToken, context.DeadlineExceeded), ghToken)
	if strings.Contains(err.Error(), ghToken) {
		t.Errorf("token shown: %v", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v lost its cause", err)
	}
	if d := cmp.Diff("Get https://x:[token]@host/: context deadline exceeded", err.Error()); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestTimeout(t *testing.T) {
	f := newFakeGitHub(t, ghes, ghToken)
	f.block = make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Open(ctx, githubRequest(f.srv.URL))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("took %v after a 100ms deadline", el)
	}
	if !strings.Contains(err.Error(), "octo/app") {
		t.Errorf("error %q does not name the repository", err)
	}

	g := newFakeGitLab(t, "/api/v4", glToken)
	g.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ctx2, cancel2 := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel2()
	_, err = Open(ctx2, gitlabRequest(g.srv.URL, "group/app"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("gitlab: error %v, want context.DeadlineExceeded", err)
	}
}

func TestRequestChecks(t *testing.T) {
	ok := githubRequest("http://127.0.0.1:1")
	for _, tc := range []struct {
		name string
		edit func(*Request)
		want string
	}{
		{"unknown provider", func(r *Request) { r.Provider = "bitbucket" }, `opening a pull request: unknown provider "bitbucket" (want "github" or "gitlab")`},
		{"missing fields", func(r *Request) { r.Head, r.Token = "", "" }, "opening a pull request on github octo/app: missing head branch, token"},
		{"same branch", func(r *Request) { r.Head = "main" }, `opening a pull request on github octo/app: head and base are the same branch "main"`},
		{"bad github repo", func(r *Request) { r.Repo = "group/sub/name" }, `github: repository "group/sub/name": want owner/name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ok
			tc.edit(&r)
			_, err := Open(context.Background(), r)
			if err == nil {
				t.Fatal("no error")
			}
			if d := cmp.Diff(tc.want, err.Error()); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	row := "| pkg | CVE-2024-0001 | 1.0 | 1.1 |\n"
	long := strings.Repeat(row, 3000) // 108000 characters
	for _, tc := range []struct {
		name      string
		body      string
		limit     int
		unchanged bool
	}{
		{"short", "small table\n", 100, true},
		{"exactly the limit", strings.Repeat("x", 100), 100, true},
		{"long table", long, GitHubBodyLimit, false},
		{"multi-byte", strings.Repeat("é漢字\n", 40000), GitHubBodyLimit, false},
		{"one long line", strings.Repeat("y", 70000), GitHubBodyLimit, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Truncate(tc.body, tc.limit, "GitHub")
			if tc.unchanged {
				if d := cmp.Diff(tc.body, got); d != "" {
					t.Errorf("(-want +got):\n%s", d)
				}
				return
			}
			if n := utf8.RuneCountInString(got); n > tc.limit {
				t.Errorf("%d characters, limit %d", n, tc.limit)
			}
			if !utf8.ValidString(got) {
				t.Error("cut inside a character")
			}
			if !strings.Contains(got, fmt.Sprintf("truncated to fit GitHub's limit of %d characters", tc.limit)) {
				t.Errorf("no visible note in %q", got[len(got)-300:])
			}
			kept, _, _ := strings.Cut(got, "\n\n---\n> **Note:**")
			if !strings.HasPrefix(tc.body, kept) {
				t.Error("kept text is not a prefix of the body")
			}
			if strings.Contains(tc.body, "\n") && !strings.HasPrefix(tc.body[len(kept):], "\n") {
				t.Error("not cut at a line break")
			}
			wantNote := fmt.Sprintf("(%d of %d characters shown)", utf8.RuneCountInString(kept), utf8.RuneCountInString(tc.body))
			if !strings.Contains(got, wantNote) {
				t.Errorf("note does not say %s", wantNote)
			}
		})
	}
}

// TestLongBodyOnTheWire: the body GitHub receives is within its limit and
// says it was cut.
func TestLongBodyOnTheWire(t *testing.T) {
	f := newFakeGitHub(t, ghes, ghToken)
	r := githubRequest(f.srv.URL)
	r.Body = strings.Repeat("| pkg | CVE-2024-0001 | 1.0 | 1.1 |\n", 3000)
	if _, err := Open(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	_, bodies, _, _ := f.rec.snapshot()
	sent, _ := bodies[1].(map[string]any)["body"].(string)
	if n := utf8.RuneCountInString(sent); n > GitHubBodyLimit || !strings.Contains(sent, "truncated") {
		t.Errorf("sent %d characters, note present: %v", n, strings.Contains(sent, "truncated"))
	}
}

// FuzzTruncate: whatever the body, the result fits the limit, is valid UTF-8
// when the body is, and is the body itself when it fits.
func FuzzTruncate(f *testing.F) {
	f.Add(strings.Repeat("| a | b |\n", 50), 300)
	f.Add("é漢字\n", 2)
	f.Add("", 0)
	f.Fuzz(func(t *testing.T, body string, limit int) {
		if limit < 0 || limit > 1<<20 {
			t.Skip()
		}
		got := Truncate(body, limit, "GitHub")
		n := utf8.RuneCountInString(body)
		if n <= limit {
			if got != body {
				t.Fatalf("a body within the limit was changed")
			}
			return
		}
		minNote := utf8.RuneCountInString(fmt.Sprintf(truncateNote, "GitHub", limit, limit, n))
		if limit >= minNote && utf8.RuneCountInString(got) > limit {
			t.Fatalf("%d characters, limit %d", utf8.RuneCountInString(got), limit)
		}
		if utf8.ValidString(body) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 from valid input")
		}
		if !strings.Contains(got, "truncated to fit") {
			t.Fatalf("no note")
		}
	})
}
