// Package pr opens a pull request (GitHub) or a merge request (GitLab) for a
// branch that was already pushed, through the provider's REST API with its
// maintained client library (google/go-github, gitlab-org/api/client-go).
//
// Open is idempotent: when an open pull/merge request for the same head and
// base exists, its title and description are updated instead of a second one
// being opened. Errors name the provider, the repository, the HTTP status and
// the API's own message, with a hint for the statuses users meet (401, 403,
// 404, 409, 422); the token never appears in them.
package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Providers Open knows.
const (
	GitHub = "github"
	GitLab = "gitlab"
)

// Description limits, in characters, of each provider. GitHub: 65536
// characters for a pull request body (GitHub's published OpenAPI description
// gives the body no maxLength; the figure is the one GitHub's validation is
// known to enforce, not measured here). GitLab: "Description of the merge
// request. Limited to 1,048,576 characters" (GitLab's merge requests API
// documentation, create MR).
const (
	GitHubBodyLimit = 65536
	GitLabBodyLimit = 1048576
)

// Request says which pull/merge request to open.
type Request struct {
	Provider   string // "github" | "gitlab"
	BaseURL    string // API base: "" = https://api.github.com/ or https://gitlab.com/api/v4/
	Token      string
	Repo       string // GitHub "owner/name"; GitLab project path "group/sub/name" or numeric ID
	Head, Base string // branch names
	Title      string
	Body       string   // Markdown (the fix table)
	Labels     []string // optional
}

// Opened is the pull/merge request Open opened or updated.
type Opened struct {
	URL    string
	Number int
	// Existing: an open pull/merge request for the same head and base
	// already existed and was updated.
	Existing bool
}

// Open opens the pull/merge request r describes, or updates the open one for
// the same head and base. The context bounds every API call.
func Open(ctx context.Context, r Request) (Opened, error) {
	if err := r.check(); err != nil {
		return Opened{}, err
	}
	var (
		o   Opened
		err error
	)
	switch r.Provider {
	case GitHub:
		o, err = openGitHub(ctx, r)
	case GitLab:
		o, err = openGitLab(ctx, r)
	}
	if err != nil {
		return Opened{}, redact(err, r.Token)
	}
	return o, nil
}

func (r Request) check() error {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"repository", r.Repo}, {"head branch", r.Head}, {"base branch", r.Base}, {"title", r.Title}, {"token", r.Token},
	} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	switch r.Provider {
	case GitHub, GitLab:
	default:
		return fmt.Errorf("opening a pull request: unknown provider %q (want %q or %q)", r.Provider, GitHub, GitLab)
	}
	if len(missing) > 0 {
		return fmt.Errorf("opening a %s on %s %s: missing %s", r.kind(), r.Provider, r.Repo, strings.Join(missing, ", "))
	}
	if r.Head == r.Base {
		return fmt.Errorf("opening a %s on %s %s: head and base are the same branch %q", r.kind(), r.Provider, r.Repo, r.Head)
	}
	return nil
}

func (r Request) kind() string {
	if r.Provider == GitLab {
		return "merge request"
	}
	return "pull request"
}

// APIError is an error answer of the provider's API.
type APIError struct {
	Provider string
	Repo     string
	Op       string // what was being done: "creating the pull request"
	Status   int    // HTTP status; 0 when no answer came
	Message  string // the API's message
	Hint     string // what the status usually means here
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s", e.Provider, e.Op, e.Repo)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, " (%s)", e.Hint)
	}
	return b.String()
}

// hint explains the statuses users meet when opening a pull/merge request.
func hint(provider string, status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "the token was refused: it is missing, mistyped, expired or revoked"
	case http.StatusForbidden:
		if provider == GitLab {
			return "the token is valid but may not do this: it needs the api scope and at least the Developer role on the project"
		}
		return "the token is valid but may not do this: it needs write access to pull requests (fine-grained: Pull requests read and write; classic: repo or public_repo), or a rate limit was hit"
	case http.StatusNotFound:
		return "the repository does not exist or this token cannot see it (private repositories answer 404 to tokens without access)"
	case http.StatusConflict:
		return "another open merge request already uses this source branch"
	case http.StatusUnprocessableEntity:
		if provider == GitLab {
			return "the request was refused as invalid: check that both branches exist"
		}
		return "the request was refused as invalid: the head branch may not be pushed, there may be no commits between base and head, or a pull request for it already exists"
	}
	return ""
}

// redact removes the token from an error's text, wherever a library or
// transport may have put it (a URL with credentials, an echoed header).
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return &redacted{msg: strings.ReplaceAll(err.Error(), token, "[token]"), err: err}
}

type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }

// Unwrap keeps errors.As working (an *APIError, context.DeadlineExceeded);
// the wrapped error's own text is not shown.
func (r *redacted) Unwrap() error { return r.err }

// truncateNote is appended to a body cut to the provider's limit.
const truncateNote = "\n\n---\n> **Note:** this description was truncated to fit %s's limit of %d characters (%d of %d characters shown). Run `drydock fix` locally for the full plan.\n"

// Truncate returns body cut to at most limit characters (runes), with a
// visible note saying so; a body within the limit is returned unchanged.
// The cut is made at the last line break before the limit when there is one,
// so a Markdown table is not cut mid-row.
func Truncate(body string, limit int, provider string) string {
	total := utf8.RuneCountInString(body)
	if total <= limit {
		return body
	}
	// The note's length depends on the kept count's digits: reserve for the
	// longest (limit's digits).
	reserve := utf8.RuneCountInString(fmt.Sprintf(truncateNote, provider, limit, limit, total))
	keep := limit - reserve
	if keep < 0 {
		keep = 0
	}
	cut := byteIndexOfRune(body, keep)
	kept := body[:cut]
	if i := strings.LastIndexByte(kept, '\n'); i > 0 {
		kept = kept[:i]
	}
	return kept + fmt.Sprintf(truncateNote, provider, limit, utf8.RuneCountInString(kept), total)
}

func byteIndexOfRune(s string, n int) int {
	i := 0
	for pos := range s {
		if i == n {
			return pos
		}
		i++
	}
	return len(s)
}

// contextErr prefers the context's error when the call failed because the
// context ended, so callers can test errors.Is(err, context.DeadlineExceeded).
func contextErr(ctx context.Context, provider, repo, op string, err error) error {
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		return fmt.Errorf("%s: %s %s: %w (%v)", provider, op, repo, ctx.Err(), err)
	}
	return fmt.Errorf("%s: %s %s: %w", provider, op, repo, err)
}
