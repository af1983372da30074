// Package gitfix applies a fix plan in a git work tree with go-git: a new
// branch from HEAD, one commit per remedy, and a push to a remote. It
// refuses a dirty work tree, and it never writes outside it.
package gitfix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/transport"

	"github.com/drydock-scan/drydock/internal/fix"
)

// ErrDirty is wrapped by Open's error for a work tree with uncommitted
// changes.
var ErrDirty = errors.New("the work tree has uncommitted changes")

// Repo is the git work tree that holds a source tree.
type Repo struct {
	repo *git.Repository
	wt   *git.Worktree
	// root is the work tree's root; sub the source tree's path in it
	// (slash-separated, "" for the root).
	root, sub string
}

// Open opens the git work tree that holds dir (dir or a parent of it) and
// checks that it is clean: no modified, staged, deleted or untracked file
// (ignored files do not count).
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("opening the git work tree of %s: %w", dir, err)
	}
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("opening the git work tree of %s: %w", dir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("opening the git work tree of %s: %w", dir, err)
	}
	root := wt.Filesystem.Root()
	rootReal, err1 := filepath.EvalSymlinks(root)
	absReal, err2 := filepath.EvalSymlinks(abs)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("opening the git work tree of %s: %w", dir, err)
	}
	sub, err := filepath.Rel(rootReal, absReal)
	if err != nil || sub == ".." || strings.HasPrefix(sub, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s is not inside the work tree %s", dir, root)
	}
	if sub == "." {
		sub = ""
	}
	r := &Repo{repo: repo, wt: wt, root: rootReal, sub: filepath.ToSlash(sub)}
	st, err := wt.Status()
	if err != nil {
		return nil, fmt.Errorf("reading the status of %s: %w", root, err)
	}
	if !st.IsClean() {
		var dirty []string
		for p, s := range st {
			if s.Staging != git.Unmodified || s.Worktree != git.Unmodified {
				dirty = append(dirty, p)
			}
		}
		slices.Sort(dirty)
		if len(dirty) > 5 {
			dirty = append(dirty[:5], fmt.Sprintf("and %d more", len(dirty)-5))
		}
		return nil, fmt.Errorf("%s: %w (%s): commit or stash them first", root, ErrDirty, strings.Join(dirty, ", "))
	}
	return r, nil
}

// Root is the work tree's root directory.
func (r *Repo) Root() string { return r.root }

// Head returns the current branch's short name ("" when HEAD is detached)
// and commit.
func (r *Repo) Head() (branch, commit string, err error) {
	h, err := r.repo.Head()
	if err != nil {
		return "", "", fmt.Errorf("reading HEAD: %w", err)
	}
	if h.Name().IsBranch() {
		branch = h.Name().Short()
	}
	return branch, h.Hash().String(), nil
}

// NewBranch creates branch name at HEAD and checks it out; an existing
// branch of that name is an error.
func (r *Repo) NewBranch(name string) error {
	ref := plumbing.NewBranchReferenceName(name)
	if err := ref.Validate(); err != nil {
		return fmt.Errorf("branch name %q: %w", name, err)
	}
	if _, err := r.repo.Reference(ref, false); err == nil {
		return fmt.Errorf("the branch %s exists already: pass --branch with another name, or delete it", name)
	}
	if err := r.wt.Checkout(&git.CheckoutOptions{Branch: ref, Create: true, Keep: true}); err != nil {
		return fmt.Errorf("creating the branch %s: %w", name, err)
	}
	return nil
}

// Checkout switches back to branch (the one the fix started from).
func (r *Repo) Checkout(branch string) error {
	if err := r.wt.Checkout(&git.CheckoutOptions{Branch: plumbing.NewBranchReferenceName(branch)}); err != nil {
		return fmt.Errorf("checking out %s: %w", branch, err)
	}
	return nil
}

// signature is the author of the commits: the repository's (or the
// user's) user.name and user.email, else drydock's.
func (r *Repo) signature() *object.Signature {
	s := &object.Signature{Name: "drydock", Email: "drydock@localhost", When: time.Now()}
	for _, scope := range []config.Scope{config.LocalScope, config.GlobalScope} {
		c, err := r.repo.ConfigScoped(scope)
		if err != nil {
			continue
		}
		if c.User.Name != "" && c.User.Email != "" {
			s.Name, s.Email = c.User.Name, c.User.Email
			return s
		}
	}
	return s
}

// Commit writes the edits (paths relative to the source tree) and commits
// them with msg; it returns the commit's hash.
func (r *Repo) Commit(ctx context.Context, edits []fix.Edit, msg string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	for _, e := range edits {
		rel := e.Path
		if r.sub != "" {
			rel = r.sub + "/" + e.Path
		}
		p, err := r.inside(rel)
		if err != nil {
			return "", err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return "", fmt.Errorf("writing %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("writing %s: not a regular file", p)
		}
		if err := os.WriteFile(p, e.After, fi.Mode().Perm()); err != nil {
			return "", fmt.Errorf("writing %s: %w", p, err)
		}
		if _, err := r.wt.Add(rel); err != nil {
			return "", fmt.Errorf("staging %s: %w", rel, err)
		}
	}
	sig := r.signature()
	h, err := r.wt.Commit(msg, &git.CommitOptions{Author: sig, Committer: sig})
	if err != nil {
		return "", fmt.Errorf("committing: %w", err)
	}
	return h.String(), nil
}

// inside resolves rel under the work tree's root, refusing a path that
// leaves it (by "..", or through a symbolic link in a parent directory).
func (r *Repo) inside(rel string) (string, error) {
	if !filepathLocal(rel) {
		return "", fmt.Errorf("refusing to write %q: not a path inside the work tree", rel)
	}
	p := filepath.Join(r.root, filepath.FromSlash(rel))
	dir, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return "", fmt.Errorf("writing %s: %w", p, err)
	}
	if d, err := filepath.Rel(r.root, dir); err != nil || d == ".." || strings.HasPrefix(d, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("refusing to write %s: its directory leaves the work tree", p)
	}
	return p, nil
}

func filepathLocal(rel string) bool {
	return rel != "" && filepath.IsLocal(filepath.FromSlash(rel))
}

// Push pushes branch to the remote named remote (its branch of the same
// name), with auth when given (nil: the remote's own, e.g. a local path).
func (r *Repo) Push(ctx context.Context, remote, branch string, auth transport.AuthMethod) error {
	spec := config.RefSpec("refs/heads/" + branch + ":refs/heads/" + branch)
	err := r.repo.PushContext(ctx, &git.PushOptions{RemoteName: remote, RefSpecs: []config.RefSpec{spec}, Auth: auth})
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		return fmt.Errorf("pushing %s to %s: %w", branch, remote, err)
	}
	return nil
}

// RemoteURL returns the first URL of remote.
func (r *Repo) RemoteURL(remote string) (string, error) {
	rm, err := r.repo.Remote(remote)
	if err != nil {
		return "", fmt.Errorf("remote %q: %w", remote, err)
	}
	if urls := rm.Config().URLs; len(urls) > 0 {
		return urls[0], nil
	}
	return "", fmt.Errorf("remote %q has no URL", remote)
}
