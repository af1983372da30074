package fix

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

func fnd(id, eco, name, installed, fixed string, aliases ...string) finding.Finding {
	st := vocab.StatusFixed
	if fixed == "" {
		st = vocab.StatusAffected
	}
	return finding.Finding{ID: id, Aliases: aliases, Package: finding.PackageRef{ID: eco + "/" + name + "@" + installed, Name: name, Version: installed, Ecosystem: eco},
		InstalledVersion: installed, FixedVersion: fixed, Status: st}
}

func inBase(f finding.Finding) finding.Finding {
	f.Annotations = append(f.Annotations, finding.Annotation{Kind: vocab.AnnotationBaseImage, Status: "layer-chain"})
	return f
}

func suppressed(f finding.Finding) finding.Finding {
	f.Annotations = append(f.Annotations, finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: ".trivyignore"})
	return f
}

func TestChooseBase(t *testing.T) {
	b := &result.BaseImage{Name: "almalinux:9.0", Advice: []result.BaseAdvice{
		{Name: "almalinux:9.1", Bump: "minor", From: "FROM almalinux:9.1@sha256:1", Scanned: true, Fixes: 0},
		{Name: "almalinux:9.2", Bump: "minor", From: "FROM almalinux:9.2@sha256:2", Scanned: true, Fixes: 7},
		{Name: "almalinux:9.3", Bump: "minor", From: "FROM almalinux:9.3@sha256:3", Scanned: true, Fixes: 7},
		{Name: "almalinux:10.0", Bump: "major", From: "FROM almalinux:10.0@sha256:4", Scanned: false, Note: "not scanned"},
	}}
	if got := ChooseBase(b); got == nil || got.Name != "almalinux:9.2" {
		t.Errorf("ChooseBase = %+v, want almalinux:9.2 (the nearest of those fixing the most; never an unscanned one)", got)
	}
	b.Advice = b.Advice[:2]
	b.Advice[1].Fixes = 0
	if got := ChooseBase(b); got != nil {
		t.Errorf("ChooseBase = %+v, want nil when no candidate fixes anything", got)
	}
	if ChooseBase(nil) != nil {
		t.Error("ChooseBase(nil) is not nil")
	}
}

func TestNew(t *testing.T) {
	res := &result.Result{
		Image:     inventory.Image{Reference: "shop/app:1.0"},
		BaseImage: &result.BaseImage{Name: "alpine:3.16"},
		Packages:  []inventory.Package{{Name: "apk-tools", Version: "2.12.10-r1", Ecosystem: "apk"}},
		Findings: []finding.Finding{
			// Fixed by the new base (same CVE under the candidate: gone).
			inBase(fnd("CVE-2023-42366", "apk", "busybox", "1.35.0-r17", "1.35.0-r18")),
			// Still in the new base: an OS upgrade on top of it, to the
			// higher of the two fixes.
			inBase(fnd("CVE-2024-0001", "apk", "openssl", "3.0.8-r0", "3.0.12-r0")),
			// A language package of the base's, gone in the candidate: the
			// bump fixes it too.
			inBase(fnd("GHSA-c2qf-rxjj-qqgw", "npm", "semver", "5.7.1", "5.7.2")),
			// The image's own OS package.
			fnd("CVE-2024-0002", "apk", "curl", "8.1.0-r0", "8.4.0-r0"),
			// Two advisories of one npm package: one remedy, the higher fix.
			fnd("GHSA-p6mc-m468-83gw", "npm", "lodash", "4.17.15", "4.17.19"),
			fnd("GHSA-35jh-r3h4-6jhm", "npm", "lodash", "4.17.15", "4.17.21", "CVE-2021-23337"),
			// No fix at all.
			fnd("GHSA-xxxx-0000-0000", "npm", "left-pad", "1.0.0", ""),
			// Suppressed: not planned.
			suppressed(fnd("PYSEC-2020-96", "PyPI", "pyyaml", "5.3", "5.3.1")),
			// The checker raises it: 5.3.1 is affected by PYSEC-2021-142.
			fnd("PYSEC-2020-96", "PyPI", "PyYAML", "5.3", "5.3.1"),
		},
	}
	wontFix := fnd("CVE-2024-0003", "apk", "zlib", "1.2.12-r1", "")
	wontFix.Status = vocab.StatusWontFix
	res.Findings = append(res.Findings, wontFix)
	cand := &Candidate{
		Advice: result.BaseAdvice{Name: "alpine:3.16.9", From: "FROM alpine:3.16.9@sha256:abc", Scanned: true, Fixes: 1},
		Findings: []finding.Finding{
			fnd("CVE-2024-0001", "apk", "openssl", "3.0.10-r0", "3.0.13-r0"),
		},
	}
	check := func(_ context.Context, pkgID, v string) ([]finding.Finding, error) {
		if strings.HasPrefix(pkgID, "PyPI/PyYAML") && v == "5.3.1" {
			return []finding.Finding{fnd("PYSEC-2021-142", "PyPI", "PyYAML", v, "5.4")}, nil
		}
		return nil, nil
	}
	p, err := New(context.Background(), res, Options{Base: cand, Check: check})
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Kind, Eco, Pkg, From, To string
		Advisories               []string
		Upgrade, Note            string
	}
	var got []row
	for _, r := range p.Remedies {
		got = append(got, row{r.Kind, r.Ecosystem, r.Package, r.From, r.To, r.Advisories, r.Upgrade, r.Note})
	}
	want := []row{
		{KindBase, "", "alpine:3.16", "alpine:3.16", "alpine:3.16.9", []string{"CVE-2023-42366", "GHSA-c2qf-rxjj-qqgw"}, "", ""},
		{KindOSPackage, "apk", "curl", "8.1.0-r0", "8.4.0-r0", []string{"CVE-2024-0002"}, "apk add --no-cache 'curl=8.4.0-r0'", ""},
		{KindOSPackage, "apk", "openssl", "3.0.10-r0", "3.0.13-r0", []string{"CVE-2024-0001"}, "apk add --no-cache 'openssl=3.0.13-r0'", ""},
		{KindDependency, "PyPI", "PyYAML", "5.3", "5.4", []string{"PYSEC-2020-96"}, "", "raised from 5.3.1 to 5.4: 5.3.1 is affected by another advisory"},
		{KindDependency, "npm", "lodash", "4.17.15", "4.17.21", []string{"GHSA-35jh-r3h4-6jhm", "GHSA-p6mc-m468-83gw"}, "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("remedies (-want +got):\n%s", diff)
	}
	var noFix []string
	for _, n := range p.NoFix {
		noFix = append(noFix, n.ID+": "+n.Reason)
	}
	if diff := cmp.Diff([]string{"CVE-2024-0003: the vendor will not fix it: consider VEX", "GHSA-xxxx-0000-0000: no fixed version: consider VEX"}, noFix); diff != "" {
		t.Errorf("no fix (-want +got):\n%s", diff)
	}

	// An image without its package manager: the upgrade line is given
	// with a note, never silently.
	res.Packages = nil
	p, err = New(context.Background(), res, Options{Base: cand, Check: check})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range p.Remedies {
		if r.Kind == KindOSPackage && !strings.Contains(r.Note, "lists no apk-tools") {
			t.Errorf("%s: note %q does not say the image has no apk-tools", r.Package, r.Note)
		}
	}
	// Without a checker the plan says the targets were not checked.
	p, err = New(context.Background(), res, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "not checked") {
		t.Errorf("notes %q", p.Notes)
	}
	// A checker error is a note, never a silent pass.
	p, err = New(context.Background(), res, Options{Check: func(context.Context, string, string) ([]finding.Finding, error) {
		return nil, errors.New("database closed")
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "database closed") {
		t.Errorf("notes %q lack the checker's error", p.Notes)
	}
}

// TestEditTree: a plan applied to a tree — what is edited, and what is
// said when nothing can be.
func TestEditTree(t *testing.T) {
	root := t.TempDir()
	write := func(p, c string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("svc/package-lock.json", string(readIn(t, "lock-v1.json")))
	write("svc/package.json", `{"dependencies": {"mkdirp": "0.5.1"}}`)
	write("svc/node_modules/minimist/package.json", `{"name": "minimist", "version": "0.0.8"}`)
	write("requirements.txt", "six==1.16.0\n")
	write("Dockerfile", "FROM alpine:3.16\n")
	if err := os.Symlink("/etc/passwd", filepath.Join(root, "requirements-dev.txt")); err != nil {
		t.Fatal(err)
	}
	tree, err := ReadTree(context.Background(), root, "")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for p := range tree.Files {
		paths = append(paths, p)
	}
	if diff := cmp.Diff([]string{"Dockerfile", "requirements.txt", "svc/package-lock.json", "svc/package.json"}, sortedCopy(paths)); diff != "" {
		t.Errorf("files read (-want +got; never node_modules, never a symbolic link):\n%s", diff)
	}
	p := &Plan{Remedies: []Remedy{
		{Kind: KindDependency, Ecosystem: "npm", Package: "minimist", From: "0.0.8", To: "0.2.4"},
		{Kind: KindDependency, Ecosystem: "PyPI", Package: "pyyaml", From: "5.3", To: "5.4"},
		{Kind: KindDependency, Ecosystem: "NuGet", Package: "Newtonsoft.Json", From: "12.0.1", To: "13.0.1"},
		{Kind: KindOSPackage, Ecosystem: "apk", Package: "busybox", From: "1.35.0-r17", To: "1.35.0-r18"},
	}}
	edits := p.Edit(tree)
	type row struct {
		Applied bool
		Files   []string
		Note    string
		Edits   int
	}
	var got []row
	for i, r := range p.Remedies {
		got = append(got, row{r.Applied, r.Files, r.Note, len(edits[i])})
	}
	want := []row{
		{false, nil, "not edited: svc/package-lock.json: node_modules/mkdirp requires minimist@0.0.8, which excludes 0.2.4: bump it first; not applied: no file could be edited", 0},
		{false, nil, "not applied: no manifest in the source tree lists pyyaml 5.3", 0},
		{false, nil, "not applied: editing NuGet manifests is not implemented (npm, PyPI, Go, Maven, RubyGems and crates.io are)", 0},
		{true, []string{"Dockerfile"}, "", 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("edits (-want +got):\n%s", diff)
	}
	if got := string(tree.Files["Dockerfile"]); got != "FROM alpine:3.16\n# drydock fix: OS package upgrades\nRUN apk add --no-cache 'busybox=1.35.0-r18'\n" {
		t.Errorf("Dockerfile:\n%s", got)
	}
	// The Dockerfile must be inside the tree.
	if _, err := ReadTree(context.Background(), root, "../Dockerfile"); err == nil {
		t.Error("ReadTree accepted a Dockerfile outside the tree")
	}
	// Nor is it read through a symbolic link to a directory outside.
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "Dockerfile"), []byte("FROM alpine:3.16\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTree(context.Background(), root, "link/Dockerfile"); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("ReadTree through a link leaving the tree: %v, want a refusal", err)
	}
	if _, err := ReadTree(context.Background(), root, "svc/../Dockerfile"); err != nil {
		t.Errorf("ReadTree of a Dockerfile inside the tree: %v", err)
	}
}

// TestEditGoModUnparseable: a go.mod that does not parse is named in the
// remedy's note, not taken for one that does not list the module.
func TestEditGoModUnparseable(t *testing.T) {
	tree := &Tree{Files: map[string][]byte{"svc/go.mod": []byte("module x\nrequire (\n")}}
	p := &Plan{Remedies: []Remedy{{Kind: KindDependency, Ecosystem: "Go", Package: "golang.org/x/text", From: "v0.3.7", To: "v0.3.8"}}}
	edits := p.Edit(tree)
	r := p.Remedies[0]
	if r.Applied || len(edits[0]) != 0 {
		t.Errorf("applied %v with %d edits, want nothing applied", r.Applied, len(edits[0]))
	}
	if !strings.Contains(r.Note, "not edited: svc/go.mod: ") || !strings.Contains(r.Note, "not applied: no file could be edited") {
		t.Errorf("note %q does not name the unparseable go.mod", r.Note)
	}
}

// TestEditAlready: a source tree that already asks for the target (the
// image is older than it) is said so, not taken for one that does not list
// the package.
func TestEditAlready(t *testing.T) {
	tree := &Tree{Files: map[string][]byte{
		"requirements.txt": []byte("pyyaml==6.0.1\n"),
		"go.mod":           []byte("module x\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.8\n"),
	}}
	p := &Plan{Remedies: []Remedy{
		{Kind: KindDependency, Ecosystem: "PyPI", Package: "pyyaml", From: "5.3", To: "5.4"},
		{Kind: KindDependency, Ecosystem: "Go", Package: "golang.org/x/text", From: "v0.3.7", To: "v0.3.8"},
	}}
	p.Edit(tree)
	var got []string
	for _, r := range p.Remedies {
		got = append(got, r.Note)
	}
	want := []string{
		"not applied: the source tree already asks for pyyaml 5.4 or later (requirements.txt (==6.0.1)): rebuild the image",
		"not applied: the source tree already asks for golang.org/x/text v0.3.8 or later (go.mod (v0.3.8)): rebuild the image",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// TestUnifiedDiffLong: an edit of a few lines of a long lockfile gives
// hunks of those lines, not the whole file replaced.
func TestUnifiedDiffLong(t *testing.T) {
	var before, after strings.Builder
	for i := 1; i <= 30000; i++ {
		fmt.Fprintf(&before, "line %d\n", i)
		switch i {
		case 100:
			after.WriteString("line 100 changed\n")
		case 29000:
			after.WriteString("line 29000 changed\n")
		default:
			fmt.Fprintf(&after, "line %d\n", i)
		}
	}
	got := UnifiedDiff(Edit{Path: "package-lock.json", Before: []byte(before.String()), After: []byte(after.String())})
	want := `--- a/package-lock.json
+++ b/package-lock.json
@@ -97,7 +97,7 @@
 line 97
 line 98
 line 99
-line 100
+line 100 changed
 line 101
 line 102
 line 103
@@ -28997,7 +28997,7 @@
 line 28997
 line 28998
 line 28999
-line 29000
+line 29000 changed
 line 29001
 line 29002
 line 29003
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diff (-want +got):\n%s", diff)
	}
}
