package pr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go/v2"
)

// gitlabClient builds the client for r: gitlab.com, or the self-managed
// instance at r.BaseURL (the client adds /api/v4/ when it is missing). The
// token goes in the PRIVATE-TOKEN header. Retries are off: a retried create
// could open a second merge request.
func gitlabClient(r Request) (*gitlab.Client, error) {
	opts := []gitlab.ClientOptionFunc{gitlab.WithoutRetries(), gitlab.WithHTTPClient(&http.Client{})}
	if r.BaseURL != "" {
		opts = append(opts, gitlab.WithBaseURL(r.BaseURL))
	}
	c, err := gitlab.NewClient(r.Token, opts...)
	if err != nil {
		return nil, fmt.Errorf("gitlab: API base URL %q: %w", r.BaseURL, err)
	}
	return c, nil
}

// gitlabProject is the project identifier: a numeric ID as a number, a path
// as a string (the client URL-encodes it: group%2Fsub%2Fname).
func gitlabProject(repo string) any {
	if id, err := strconv.ParseInt(repo, 10, 64); err == nil {
		return id
	}
	return strings.Trim(repo, "/")
}

func openGitLab(ctx context.Context, r Request) (Opened, error) {
	c, err := gitlabClient(r)
	if err != nil {
		return Opened{}, err
	}
	pid := gitlabProject(r.Repo)
	body := Truncate(r.Body, GitLabBodyLimit, "GitLab")
	fail := func(op string, err error) error { return gitlabError(ctx, r.Repo, op, err) }
	withCtx := gitlab.WithContext(ctx)

	open, _, err := c.MergeRequests.ListProjectMergeRequests(pid, &gitlab.ListProjectMergeRequestsOptions{
		State: gitlab.Ptr("opened"), SourceBranch: gitlab.Ptr(r.Head), TargetBranch: gitlab.Ptr(r.Base),
	}, withCtx)
	if err != nil {
		return Opened{}, fail("listing open merge requests of", err)
	}
	for _, m := range open {
		if m.SourceBranch != r.Head || m.TargetBranch != r.Base {
			continue
		}
		upd := &gitlab.UpdateMergeRequestOptions{Title: gitlab.Ptr(r.Title), Description: gitlab.Ptr(body)}
		if len(r.Labels) > 0 {
			// add_labels keeps labels people set by hand.
			upd.AddLabels = (*gitlab.LabelOptions)(&r.Labels)
		}
		mr, _, err := c.MergeRequests.UpdateMergeRequest(pid, m.IID, upd, withCtx)
		if err != nil {
			return Opened{}, fail(fmt.Sprintf("updating merge request !%d of", m.IID), err)
		}
		return Opened{URL: mr.WebURL, Number: int(mr.IID), Existing: true}, nil
	}
	opt := &gitlab.CreateMergeRequestOptions{
		Title: gitlab.Ptr(r.Title), Description: gitlab.Ptr(body),
		SourceBranch: gitlab.Ptr(r.Head), TargetBranch: gitlab.Ptr(r.Base),
	}
	if len(r.Labels) > 0 {
		opt.Labels = (*gitlab.LabelOptions)(&r.Labels)
	}
	mr, _, err := c.MergeRequests.CreateMergeRequest(pid, opt, withCtx)
	if err != nil {
		return Opened{}, fail("creating the merge request on", err)
	}
	return Opened{URL: mr.WebURL, Number: int(mr.IID), Existing: false}, nil
}

// gitlabError turns a client-go error into an *APIError. The client answers
// a 404 with its ErrNotFound sentinel (GitLab's message is dropped).
func gitlabError(ctx context.Context, repo, op string, err error) error {
	var er *gitlab.ErrorResponse
	if !errors.As(err, &er) {
		return contextErr(ctx, GitLab, repo, op, err)
	}
	status := er.StatusCode
	if status == 0 && er.Response != nil {
		status = er.Response.StatusCode
	}
	msg := er.Message
	if errors.Is(err, gitlab.ErrNotFound) && msg == "" {
		msg = "404 Not Found"
	}
	return &APIError{Provider: GitLab, Repo: repo, Op: op, Status: status, Message: msg, Hint: hint(GitLab, status)}
}
