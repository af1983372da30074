package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/go-github/v81/github"
)

// githubClient builds the client for r: api.github.com, or the GitHub
// Enterprise Server API at r.BaseURL (go-github adds /api/v3/ to a bare host).
func githubClient(r Request) (*github.Client, error) {
	c := github.NewClient(&http.Client{}).WithAuthToken(r.Token)
	if r.BaseURL == "" {
		return c, nil
	}
	c, err := c.WithEnterpriseURLs(r.BaseURL, r.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("github: API base URL %q: %w", r.BaseURL, err)
	}
	return c, nil
}

func splitRepo(repo string) (owner, name string, err error) {
	owner, name, ok := strings.Cut(repo, "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("github: repository %q: want owner/name", repo)
	}
	return owner, name, nil
}

func openGitHub(ctx context.Context, r Request) (Opened, error) {
	owner, name, err := splitRepo(r.Repo)
	if err != nil {
		return Opened{}, err
	}
	c, err := githubClient(r)
	if err != nil {
		return Opened{}, err
	}
	body := Truncate(r.Body, GitHubBodyLimit, "GitHub")
	fail := func(op string, err error) error { return githubError(ctx, r.Repo, op, err) }

	// pulls/list filters by head as "owner:branch" (same-repository branch).
	open, _, err := c.PullRequests.List(ctx, owner, name, &github.PullRequestListOptions{
		State: "open", Head: owner + ":" + r.Head, Base: r.Base,
	})
	if err != nil {
		return Opened{}, fail("listing open pull requests of", err)
	}
	var pr *github.PullRequest
	existing := false
	for _, p := range open {
		if p.GetHead().GetRef() == r.Head && p.GetBase().GetRef() == r.Base {
			pr, existing = p, true
			break
		}
	}
	if existing {
		pr, _, err = c.PullRequests.Edit(ctx, owner, name, pr.GetNumber(), &github.PullRequest{
			Title: github.Ptr(r.Title), Body: github.Ptr(body),
		})
		if err != nil {
			return Opened{}, fail("updating the pull request of", err)
		}
	} else {
		pr, _, err = c.PullRequests.Create(ctx, owner, name, &github.NewPullRequest{
			Title: github.Ptr(r.Title), Head: github.Ptr(r.Head), Base: github.Ptr(r.Base), Body: github.Ptr(body),
		})
		if err != nil {
			return Opened{}, fail("creating the pull request on", err)
		}
	}
	if len(r.Labels) > 0 {
		// Adding labels already on the pull request is a no-op: re-runs are safe.
		if _, _, err := c.Issues.AddLabelsToIssue(ctx, owner, name, pr.GetNumber(), r.Labels); err != nil {
			return Opened{}, fail(fmt.Sprintf("labelling pull request #%d of", pr.GetNumber()), err)
		}
	}
	return Opened{URL: pr.GetHTMLURL(), Number: pr.GetNumber(), Existing: existing}, nil
}

// githubError turns a go-github error into an *APIError with the status and
// GitHub's message (and its per-field validation messages).
func githubError(ctx context.Context, repo, op string, err error) error {
	var (
		er   *github.ErrorResponse
		rl   *github.RateLimitError
		abus *github.AbuseRateLimitError
		resp *http.Response
		msg  string
	)
	switch {
	case errors.As(err, &rl):
		resp, msg = rl.Response, rl.Message
	case errors.As(err, &abus):
		resp, msg = abus.Response, abus.Message
	case errors.As(err, &er):
		resp, msg = er.Response, er.Message
		var details []string
		for _, e := range er.Errors {
			switch {
			case e.Message != "":
				details = append(details, e.Message)
			case e.Field != "":
				details = append(details, fmt.Sprintf("%s %s: %s", e.Resource, e.Field, e.Code))
			}
		}
		if len(details) > 0 {
			msg += ": " + strings.Join(details, "; ")
		}
	default:
		return contextErr(ctx, GitHub, repo, op, err)
	}
	status := 0
	if resp != nil {
		status = resp.StatusCode
	}
	return &APIError{Provider: GitHub, Repo: repo, Op: op, Status: status, Message: msg, Hint: hint(GitHub, status)}
}
