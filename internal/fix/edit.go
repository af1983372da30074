package fix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/vocab"
)

// maxTreeFile bounds each file ReadTree reads.
const maxTreeFile = 32 << 20

// Tree is the part of a source tree the plan edits: its Dockerfile and its
// manifests and lockfiles, by slash path relative to the root.
type Tree struct {
	// Dockerfile is the Dockerfile's path, "" when there is none.
	Dockerfile string
	Files      map[string][]byte
}

// Edit is one file's change.
type Edit struct {
	Path          string
	Before, After []byte
}

// wanted reports whether ReadTree keeps a file of this name.
func wanted(base string) bool {
	switch base {
	case "package-lock.json", "npm-shrinkwrap.json", "package.json", "go.mod", "Gemfile.lock", "Cargo.lock", "Cargo.toml", "pom.xml":
		return true
	}
	return strings.HasPrefix(base, "requirements") && strings.HasSuffix(base, ".txt")
}

// skippedDir reports whether ReadTree stays out of a directory: version
// control, installed dependencies.
func skippedDir(base string) bool {
	switch base {
	case ".git", "node_modules", "vendor", ".venv", "venv", "__pycache__", "target":
		return true
	}
	return false
}

// ReadTree reads the manifests and lockfiles under root, and the
// Dockerfile (dockerfile, relative to root; "" for root/Dockerfile when it
// exists). Symbolic links are not followed: an edit is never written
// outside the tree.
func ReadTree(ctx context.Context, root, dockerfile string) (*Tree, error) {
	t := &Tree{Files: map[string][]byte{}}
	read := func(rel string) error {
		p := filepath.Join(root, filepath.FromSlash(rel))
		fi, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("reading %s: not a regular file (a symbolic link is not followed)", p)
		}
		if fi.Size() > maxTreeFile {
			return fmt.Errorf("reading %s: larger than %d bytes", p, maxTreeFile)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		t.Files[rel] = b
		return nil
	}
	err := fs.WalkDir(os.DirFS(root), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", filepath.Join(root, p), err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && skippedDir(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && wanted(d.Name()) {
			return read(p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if dockerfile == "" {
		if fi, err := os.Lstat(filepath.Join(root, "Dockerfile")); err == nil && fi.Mode().IsRegular() {
			dockerfile = "Dockerfile"
		}
	}
	if dockerfile != "" {
		rel := path.Clean(filepath.ToSlash(dockerfile))
		if !fs.ValidPath(rel) {
			return nil, fmt.Errorf("the Dockerfile %q is not a path inside %s", dockerfile, root)
		}
		// Its directory must not leave the tree through a symbolic link.
		rootReal, err1 := filepath.EvalSymlinks(root)
		dirReal, err2 := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(path.Dir(rel))))
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("reading the Dockerfile %s: %w", dockerfile, err)
		}
		if d, err := filepath.Rel(rootReal, dirReal); err != nil || !filepath.IsLocal(d) && d != "." {
			return nil, fmt.Errorf("the Dockerfile %q is not a path inside %s (a symbolic link is not followed)", dockerfile, root)
		}
		if err := read(rel); err != nil {
			return nil, err
		}
		t.Dockerfile = rel
	}
	return t, nil
}

// paths returns the tree's files whose base name passes keep, sorted.
func (t *Tree) paths(keep func(base string) bool) []string {
	var out []string
	for p := range t.Files {
		if p != t.Dockerfile && keep(path.Base(p)) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Edit applies the plan's remedies to the tree, in order, and returns each
// remedy's edits (the tree holds the result afterwards). A remedy the tree
// has nothing to edit for stays in the plan with Applied false and a note.
func (p *Plan) Edit(t *Tree) [][]Edit {
	out := make([][]Edit, len(p.Remedies))
	osDone := map[string][]OSUpgrade{} // ecosystem → upgrades written so far
	for i := range p.Remedies {
		r := &p.Remedies[i]
		r.Files, r.Applied = nil, false
		var edits []Edit
		var err error
		switch r.Kind {
		case KindBase:
			edits, err = t.editDockerfile(func(b []byte) ([]byte, error) { return BumpBase(b, r.From, r.FromLine) })
		case KindOSPackage:
			ups := append(osDone[r.Ecosystem], OSUpgrade{Name: r.Package, Version: r.To})
			edits, err = t.editDockerfile(func(b []byte) ([]byte, error) { return SetOSUpgrades(b, r.Ecosystem, ups) })
			if err == nil {
				osDone[r.Ecosystem] = ups
			}
		case KindDependency:
			edits, err = t.editDependency(r)
		}
		if err != nil {
			r.Note = joinNote(r.Note, "not applied: "+err.Error())
			continue
		}
		for _, e := range edits {
			t.Files[e.Path] = e.After
			r.Files = append(r.Files, e.Path)
		}
		slices.Sort(r.Files)
		r.Applied = len(edits) > 0
		out[i] = edits
	}
	return out
}

func (t *Tree) editDockerfile(f func([]byte) ([]byte, error)) ([]Edit, error) {
	if t.Dockerfile == "" {
		return nil, fmt.Errorf("no Dockerfile in the source tree (--dockerfile)")
	}
	before := t.Files[t.Dockerfile]
	after, err := f(before)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Dockerfile, err)
	}
	if string(after) == string(before) {
		return nil, fmt.Errorf("%s already has it", t.Dockerfile)
	}
	return []Edit{{Path: t.Dockerfile, Before: before, After: after}}, nil
}

// editDependency bumps a language dependency in every lockfile and
// manifest of the tree that lists it.
func (t *Tree) editDependency(r *Remedy) ([]Edit, error) {
	var edits []Edit
	var skipped []string
	// already lists the files that declare the package at or above the
	// target already (the image is older than its source tree).
	var already []string
	add := func(p string, after []byte) {
		if string(after) != string(t.Files[p]) {
			edits = append(edits, Edit{Path: p, Before: t.Files[p], After: after})
		}
	}
	switch r.Ecosystem {
	case vocab.EcoNPM:
		for _, lp := range t.paths(func(b string) bool { return b == "package-lock.json" || b == "npm-shrinkwrap.json" }) {
			lock, n, deps, err := npmLockBump(t.Files[lp], r.Package, r.From, r.To)
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", lp, err))
				continue
			}
			if n == 0 {
				continue
			}
			pj := path.Join(path.Dir(lp), "package.json")
			var blocked []string
			newRange := ""
			for _, d := range deps {
				ok, err := npmSatisfies(d.Range, r.To)
				if err != nil {
					blocked = append(blocked, fmt.Sprintf("%s declares %s@%s: %v", orProject(d.By), r.Package, d.Range, err))
					continue
				}
				if d.By == "" {
					r.Constraint = d.Range
					if !ok {
						newRange = npmRangeFor(d.Range, r.To)
					}
					continue
				}
				if !ok {
					blocked = append(blocked, fmt.Sprintf("%s requires %s@%s, which excludes %s: bump it first", d.By, r.Package, d.Range, r.To))
				}
			}
			if len(blocked) > 0 {
				skipped = append(skipped, lp+": "+strings.Join(blocked, "; "))
				continue
			}
			if newRange != "" {
				var err error
				if lock, _, err = npmSetRange(lock, r.Package, newRange, true); err != nil {
					skipped = append(skipped, fmt.Sprintf("%s: %v", lp, err))
					continue
				}
				if b, ok := t.Files[pj]; ok {
					nb, _, err := npmSetRange(b, r.Package, newRange, false)
					if err != nil {
						skipped = append(skipped, fmt.Sprintf("%s: %v", pj, err))
						continue
					}
					add(pj, nb)
				}
				r.Note = joinNote(r.Note, fmt.Sprintf("the declared range %s excludes %s: raised to %s", r.Constraint, r.To, newRange))
			} else if b, ok := t.Files[pj]; ok && r.Constraint == "" {
				if rng, err := npmDeclared(b, r.Package); err == nil && rng != "" {
					r.Constraint = rng
				}
			}
			add(lp, lock)
			r.Note = joinNote(r.Note, "the lockfile's integrity hash of the new version is removed (not known offline): npm install writes it")
		}
	case vocab.EcoPyPI:
		for _, rp := range t.paths(func(b string) bool { return strings.HasPrefix(b, "requirements") && strings.HasSuffix(b, ".txt") }) {
			out, n, cons, err := requirementsBump(t.Files[rp], r.Package, r.To)
			if len(cons) > 0 && r.Constraint == "" {
				r.Constraint = cons[0]
			}
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", rp, err))
				continue
			}
			if n > 0 {
				add(rp, out)
			} else if len(cons) > 0 {
				already = append(already, fmt.Sprintf("%s (%s)", rp, strings.Join(cons, ", ")))
			}
		}
	case vocab.EcoGo:
		if r.Package == "stdlib" {
			// The standard library comes with the toolchain: go.mod's
			// toolchain line asks for the fixed release.
			for _, gp := range t.paths(func(b string) bool { return b == "go.mod" }) {
				out, cur, err := goModToolchain(t.Files[gp], gp, r.To)
				if err != nil {
					skipped = append(skipped, fmt.Sprintf("%s: %v", gp, err))
					continue
				}
				r.Constraint = cur
				if string(out) == string(t.Files[gp]) {
					already = append(already, fmt.Sprintf("%s (%s)", gp, cur))
				}
				add(gp, out)
			}
			if len(edits) > 0 {
				r.Note = joinNote(r.Note, "the toolchain line is followed where go.mod chooses the toolchain (GOTOOLCHAIN=auto); a build image pinned to an older Go (FROM golang:…) must move too")
			}
			break
		}
		for _, gp := range t.paths(func(b string) bool { return b == "go.mod" }) {
			if ok, err := goModRequires(t.Files[gp], gp, r.Package); err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", gp, err))
				continue
			} else if !ok {
				continue
			}
			out, cur, err := goModBump(t.Files[gp], gp, r.Package, r.To)
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", gp, err))
				continue
			}
			r.Constraint = cur
			if string(out) == string(t.Files[gp]) {
				already = append(already, fmt.Sprintf("%s (%s)", gp, cur))
				continue
			}
			add(gp, out)
			r.Note = joinNote(r.Note, "go.sum is not edited (the new version's hashes are not known offline): run go mod download "+r.Package)
		}
	case vocab.EcoRubyGems:
		for _, gp := range t.paths(func(b string) bool { return b == "Gemfile.lock" }) {
			out, n, cons, err := gemLockBump(t.Files[gp], r.Package, r.From, r.To)
			if len(cons) > 0 && r.Constraint == "" {
				r.Constraint = cons[0]
			}
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", gp, err))
				continue
			}
			if n > 0 {
				add(gp, out)
				r.Note = joinNote(r.Note, "the CHECKSUMS entry of the old version is removed (the new one is not known offline): bundle lock writes it")
			}
		}
	case vocab.EcoCrates:
		for _, cp := range t.paths(func(b string) bool { return b == "Cargo.lock" }) {
			if mp := path.Join(path.Dir(cp), "Cargo.toml"); t.Files[mp] != nil {
				req, err := cargoRequirement(t.Files[mp], r.Package)
				if err != nil {
					skipped = append(skipped, fmt.Sprintf("%s: %v", mp, err))
					continue
				}
				if req != "" {
					r.Constraint = req
					if ok, err := cargoSatisfies(req, r.To); err != nil || !ok {
						skipped = append(skipped, fmt.Sprintf("%s requires %s %q, which excludes %s: edit it by hand", mp, r.Package, req, r.To))
						continue
					}
				}
			}
			out, n, err := cargoLockBump(t.Files[cp], r.Package, r.From, r.To)
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", cp, err))
				continue
			}
			if n > 0 {
				add(cp, out)
				r.Note = joinNote(r.Note, "the checksum of the new version is removed (not known offline): cargo writes it")
			}
		}
	case vocab.EcoMaven:
		for _, pp := range t.paths(func(b string) bool { return b == "pom.xml" }) {
			out, n, cons, err := pomBump(t.Files[pp], r.Package, r.To)
			if cons != "" && r.Constraint == "" {
				r.Constraint = cons
			}
			if err != nil {
				skipped = append(skipped, fmt.Sprintf("%s: %v", pp, err))
				continue
			}
			if n == 0 && cons != "" {
				already = append(already, fmt.Sprintf("%s (%s)", pp, cons))
			}
			if n > 0 {
				add(pp, out)
				if strings.HasPrefix(cons, "${") {
					r.Note = joinNote(r.Note, fmt.Sprintf("the property %s is raised: every dependency that uses it moves too", cons))
				}
			}
		}
	default:
		return nil, fmt.Errorf("editing %s manifests is not implemented (npm, PyPI, Go, Maven, RubyGems and crates.io are)", r.Ecosystem)
	}
	if len(skipped) > 0 {
		r.Note = joinNote(r.Note, "not edited: "+strings.Join(skipped, "; "))
	}
	if len(edits) == 0 {
		if len(skipped) > 0 {
			return nil, fmt.Errorf("no file could be edited")
		}
		if len(already) > 0 {
			return nil, fmt.Errorf("the source tree already asks for %s %s or later (%s): rebuild the image", r.Package, r.To, strings.Join(already, "; "))
		}
		return nil, fmt.Errorf("no manifest in the source tree lists %s %s", r.Package, r.From)
	}
	return edits, nil
}

func orProject(by string) string {
	if by == "" {
		return "the project"
	}
	return by
}

// compareOp says whether a version that compares d (-1, 0, 1) to a
// constraint's version satisfies the plain comparison op ("=" and "==" are
// equality); plain is false for an operator it does not know (a range
// operator such as ~= or ~>, which the caller handles), and ok is then true.
func compareOp(op string, d int) (ok, plain bool) {
	switch op {
	case "=", "==":
		return d == 0, true
	case "!=":
		return d != 0, true
	case ">=":
		return d >= 0, true
	case "<=":
		return d <= 0, true
	case ">":
		return d > 0, true
	case "<":
		return d < 0, true
	}
	return true, false
}
