package gitfix

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/fix"
)

func gitCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Dev", "-c", "user.email=dev@example.com", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// repo makes a repository with app/requirements.txt committed on main.
func repo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	for p, c := range map[string]string{"app/requirements.txt": "pyyaml==5.3\n", "README": "shop\n", ".gitignore": "build/\n"} {
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitCLI(t, dir, "init", "-q")
	gitCLI(t, dir, "add", ".")
	gitCLI(t, dir, "commit", "-q", "-m", "init")
	return dir
}

func TestOpenRefusesDirty(t *testing.T) {
	for _, tt := range []struct {
		name  string
		dirty func(t *testing.T, dir string)
		file  string
	}{
		{"modified", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "README"), []byte("changed\n"), 0o644)
		}, "README"},
		{"untracked", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "app", "new.txt"), []byte("x"), 0o644)
		}, "app/new.txt"},
		{"staged", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "staged.txt"), []byte("x"), 0o644)
			gitCLI(t, dir, "add", "staged.txt")
		}, "staged.txt"},
		{"deleted", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "README"))
		}, "README"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := repo(t)
			tt.dirty(t, dir)
			_, err := Open(filepath.Join(dir, "app"))
			if !errors.Is(err, ErrDirty) || !strings.Contains(err.Error(), tt.file) {
				t.Errorf("Open = %v, want ErrDirty naming %s", err, tt.file)
			}
		})
	}
	// Ignored files do not make it dirty.
	dir := repo(t)
	os.MkdirAll(filepath.Join(dir, "build"), 0o755)
	os.WriteFile(filepath.Join(dir, "build", "out"), []byte("x"), 0o644)
	if _, err := Open(dir); err != nil {
		t.Errorf("ignored file: %v", err)
	}
	// Not a repository.
	if _, err := Open(t.TempDir()); err == nil {
		t.Error("Open accepted a directory outside any repository")
	}
}

func TestBranchCommitPush(t *testing.T) {
	dir := repo(t)
	remote := t.TempDir()
	gitCLI(t, remote, "init", "-q", "--bare")
	gitCLI(t, dir, "remote", "add", "origin", remote)
	gitCLI(t, dir, "config", "user.name", "Repo Dev")
	gitCLI(t, dir, "config", "user.email", "repo@shop.example")

	r, err := Open(filepath.Join(dir, "app"))
	if err != nil {
		t.Fatal(err)
	}
	start, _, err := r.Head()
	if err != nil || start != "main" {
		t.Fatalf("Head = %q, %v", start, err)
	}
	if err := r.NewBranch("drydock/fix-0123456789ab"); err != nil {
		t.Fatal(err)
	}
	if err := r.NewBranch("drydock/fix-0123456789ab"); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("second NewBranch = %v", err)
	}
	if err := r.NewBranch("bad..name"); err == nil {
		t.Error("NewBranch accepted bad..name")
	}
	before := []byte("pyyaml==5.3\n")
	h1, err := r.Commit(context.Background(), []fix.Edit{{Path: "requirements.txt", Before: before, After: []byte("pyyaml==5.4\n")}}, "fix: bump PyPI pyyaml from 5.3 to 5.4\n\nFixes PYSEC-2021-142.\n")
	if err != nil {
		t.Fatal(err)
	}
	// Paths leaving the tree are refused.
	for _, bad := range []string{"../outside.txt", "/etc/passwd"} {
		if _, err := r.Commit(context.Background(), []fix.Edit{{Path: bad, After: []byte("x")}}, "x"); err == nil {
			t.Errorf("Commit wrote %s", bad)
		}
	}
	// A symbolic link to a directory outside is refused too.
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "requirements.txt"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "app", "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(context.Background(), []fix.Edit{{Path: "link/requirements.txt", After: []byte("y\n")}}, "x"); err == nil || !strings.Contains(err.Error(), "leaves the work tree") {
		t.Errorf("Commit through a symbolic link = %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(outside, "requirements.txt")); string(b) != "x\n" {
		t.Errorf("the file outside was written: %q", b)
	}
	os.Remove(filepath.Join(dir, "app", "link"))

	if err := r.Checkout(start); err != nil {
		t.Fatal(err)
	}
	if got := gitCLI(t, dir, "log", "--format=%H %s", "main..drydock/fix-0123456789ab"); got != h1+" fix: bump PyPI pyyaml from 5.3 to 5.4" {
		t.Errorf("branch log %q", got)
	}
	if got := gitCLI(t, dir, "show", "drydock/fix-0123456789ab:app/requirements.txt"); got != "pyyaml==5.4" {
		t.Errorf("branch file %q", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "app", "requirements.txt")); string(b) != "pyyaml==5.3\n" {
		t.Errorf("main's file after the checkout: %q", b)
	}
	if got := gitCLI(t, dir, "log", "-1", "--format=%an <%ae>", h1); got != "Repo Dev <repo@shop.example>" {
		t.Errorf("author %q, want the repository's user", got)
	}
	if err := r.Push(context.Background(), "origin", "drydock/fix-0123456789ab", nil); err != nil {
		t.Fatal(err)
	}
	if got := gitCLI(t, remote, "rev-parse", "refs/heads/drydock/fix-0123456789ab"); got != h1 {
		t.Errorf("the remote's branch is at %s, want %s", got, h1)
	}
	if err := r.Push(context.Background(), "nope", "drydock/fix-0123456789ab", nil); err == nil {
		t.Error("Push to a remote that does not exist succeeded")
	}
	u, err := r.RemoteURL("origin")
	if diff := cmp.Diff(remote, u); diff != "" || err != nil {
		t.Errorf("RemoteURL = %q, %v", u, err)
	}
}
