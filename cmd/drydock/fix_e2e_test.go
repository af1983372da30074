package main

// drydock fix (issue 18): a test repository — a Dockerfile FROM the real
// AlmaLinux 9.0 micro base (9.3 indexed as its newer base), a
// package-lock.json with lodash 4.17.20 and minimist 1.2.5, a
// requirements.txt with PyYAML 5.3 and urllib3 1.26.4, a go.mod requiring
// golang.org/x/text v0.3.5, a Gemfile.lock with rack 2.2.8 and a pom.xml
// with log4j-core 2.14.1 (through a property) — is built
// into an image, scanned, and fixed; the image rebuilt from the fix
// branch's files is scanned again: the findings the applied remedies
// target are gone, and there is no new one.

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"golang.org/x/mod/modfile"

	"github.com/drydock-scan/drydock/internal/fix"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/reporttest"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// fixRepoFiles is the test repository.
func fixRepoFiles() map[string]string {
	return map[string]string{
		"Dockerfile": "# the shop's API\nFROM almalinux:9.0 AS runtime\nCOPY app /app\nUSER 1000\nCMD [\"/app/server\"]\n",
		"app/package.json": `{
  "name": "shop",
  "version": "1.0.0",
  "dependencies": {
    "lodash": "^4.17.20",
    "minimist": "1.2.5"
  }
}
`,
		"app/package-lock.json": `{
  "name": "shop",
  "version": "1.0.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "shop",
      "version": "1.0.0",
      "dependencies": {
        "lodash": "^4.17.20",
        "minimist": "1.2.5"
      }
    },
    "node_modules/lodash": {
      "version": "4.17.20",
      "resolved": "https://registry.npmjs.org/lodash/-/lodash-4.17.20.tgz",
      "integrity": "sha512-PlhdFcillOINfeV7Ni6oF1TAEayyZBoZ8bcshTHqOYJYlrqzRK5hagpagky5o4HfCzzd1TRkXPMFq6cKk9rGmA=="
    },
    "node_modules/minimist": {
      "version": "1.2.5",
      "resolved": "https://registry.npmjs.org/minimist/-/minimist-1.2.5.tgz",
      "integrity": "sha512-FM9nNUYrRBAELZQT3xeZQ7fmMOBg6nWNmJKTcgsJeaLstP/UODVpGsr5OhXhhXg6f+qtJ8uiZ+PUxkDWcgIXLw==",
      "license": "MIT"
    }
  }
}
`,
		"app/requirements.txt": "# pinned by pip-compile\nPyYAML==5.3\nurllib3==1.26.4  # via requests\nsix==1.16.0\n",
		"app/go.mod":           "module example.com/shop\n\ngo 1.22\n\nrequire golang.org/x/text v0.3.5\n",
		"app/pom.xml": `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>example.shop</groupId>
  <artifactId>shop-jobs</artifactId>
  <version>1.0.0</version>
  <properties>
    <log4j2.version>2.14.1</log4j2.version>
  </properties>
  <dependencies>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>${log4j2.version}</version>
    </dependency>
  </dependencies>
</project>
`,
		"app/Gemfile.lock": "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.8)\n    rack-test (2.1.0)\n      rack (>= 1.3)\n\nPLATFORMS\n  ruby\n\nDEPENDENCIES\n  rack (~> 2.2)\n  rack-test\n\nBUNDLED WITH\n   2.5.6\n",
	}
}

// gitIn runs git in dir.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=Shop Dev", "-c", "user.email=dev@shop.example", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fixRepo writes the test repository and commits it on main.
func fixRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range fixRepoFiles() {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, dir, "init", "-q")
	gitIn(t, dir, "add", ".")
	gitIn(t, dir, "commit", "-q", "-m", "the shop")
	return dir
}

// branchFiles reads the test repository's files as branch has them.
func branchFiles(t *testing.T, dir, branch string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for p := range fixRepoFiles() {
		out[p] = gitIn(t, dir, "show", branch+":"+p)
	}
	return out
}

// goBuildInfoELF is a minimal arm64 ELF executable whose .go.buildinfo
// section holds the build information the Go toolchain writes (the
// go1.18+ layout: magic, pointer size, flags with inline strings, the Go
// version and the module information between its 16-byte sentinels),
// listing the main module and deps. It stands for `go build` of the
// repository's go.mod: the test builds no Go program (no module download).
func goBuildInfoELF(t *testing.T, goVersion, mainPath string, deps [][2]string) []byte {
	t.Helper()
	var mod strings.Builder
	fmt.Fprintf(&mod, "path\t%s\nmod\t%s\t(devel)\t\n", mainPath, mainPath)
	for _, d := range deps {
		fmt.Fprintf(&mod, "dep\t%s\t%s\t\n", d[0], d[1])
	}
	fmt.Fprintf(&mod, "build\t-compiler=gc\nbuild\tGOOS=linux\nbuild\tGOARCH=arm64\n")
	modinfo := "0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6" + mod.String() + "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"
	data := append([]byte("\xff Go buildinf:"), 8, 2)
	data = append(data, make([]byte, 16)...)
	data = binary.AppendUvarint(data, uint64(len(goVersion)))
	data = append(data, goVersion...)
	data = binary.AppendUvarint(data, uint64(len(modinfo)))
	data = append(data, modinfo...)
	for len(data)%16 != 0 {
		data = append(data, 0)
	}
	const dataOff, vaddr = 0x1000, 0x401000
	shstr := []byte("\x00.go.buildinfo\x00.shstrtab\x00")
	shstrOff := dataOff + len(data)
	shOff := (shstrOff + len(shstr) + 7) &^ 7
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_AARCH64), Version: uint32(elf.EV_CURRENT), Entry: vaddr,
		Phoff: 64, Shoff: uint64(shOff), Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64, Shnum: 3, Shstrndx: 2,
	}
	copy(hdr.Ident[:], "\x7fELF")
	hdr.Ident[elf.EI_CLASS], hdr.Ident[elf.EI_DATA], hdr.Ident[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(binary.Write(&b, le, hdr))
	must(binary.Write(&b, le, elf.Prog64{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: dataOff, Vaddr: vaddr, Paddr: vaddr,
		Filesz: uint64(len(data)), Memsz: uint64(len(data)), Align: 0x1000}))
	b.Write(make([]byte, dataOff-b.Len()))
	b.Write(data)
	b.Write(shstr)
	b.Write(make([]byte, shOff-b.Len()))
	must(binary.Write(&b, le, elf.Section64{}))
	must(binary.Write(&b, le, elf.Section64{Name: 1, Type: uint32(elf.SHT_PROGBITS), Flags: uint64(elf.SHF_ALLOC | elf.SHF_WRITE), Addr: vaddr, Off: dataOff, Size: uint64(len(data)), Addralign: 16}))
	must(binary.Write(&b, le, elf.Section64{Name: 15, Type: uint32(elf.SHT_STRTAB), Off: uint64(shstrOff), Size: uint64(len(shstr)), Addralign: 1}))
	return b.Bytes()
}

// fixAppLayer "builds" the application from the repository's files as the
// Dockerfile's COPY and the package managers would leave it: the lockfiles
// and manifests under /app, npm's node_modules from package-lock.json (npm
// ci), the pinned requirements installed in site-packages (pip install
// -r), and the Go program built against go.mod's requirements.
func fixAppLayer(t *testing.T, files map[string]string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for p, c := range files {
		if strings.HasPrefix(p, "app/") {
			out[p] = []byte(c)
		}
	}
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	if err := json.Unmarshal([]byte(files["app/package-lock.json"]), &lock); err != nil {
		t.Fatal(err)
	}
	for k, p := range lock.Packages {
		if name, ok := strings.CutPrefix(k, "node_modules/"); ok {
			out["app/"+k+"/package.json"] = fmt.Appendf(nil, `{"name": %q, "version": %q}`, name, p.Version)
		}
	}
	for _, l := range strings.Split(files["app/requirements.txt"], "\n") {
		l, _, _ = strings.Cut(l, "#")
		name, ver, ok := strings.Cut(strings.TrimSpace(l), "==")
		if !ok {
			continue
		}
		out["usr/lib/python3.9/site-packages/"+name+"-"+ver+".dist-info/METADATA"] = fmt.Appendf(nil, "Metadata-Version: 2.1\nName: %s\nVersion: %s\n\n", name, ver)
	}
	for _, l := range strings.Split(files["app/Gemfile.lock"], "\n") {
		// bundle install: the specs (4 spaces in) as installed gemspecs.
		if rest, ok := strings.CutPrefix(l, "    "); ok && !strings.HasPrefix(rest, " ") {
			name, ver, _ := strings.Cut(rest, " (")
			ver = strings.TrimSuffix(ver, ")")
			out["usr/local/bundle/specifications/"+name+"-"+ver+".gemspec"] = fmt.Appendf(nil,
				"Gem::Specification.new do |s|\n  s.name = %q.freeze\n  s.version = %q\nend\n", name, ver)
		}
	}
	// mvn package: the dependency's jar, at the version the pom's property
	// gives.
	if m := regexp.MustCompile(`<log4j2.version>([^<]+)</log4j2.version>`).FindStringSubmatch(files["app/pom.xml"]); m != nil {
		out["app/lib/log4j-core-"+m[1]+".jar"] = langZip(t, pomProperties("org.apache.logging.log4j", "log4j-core", m[1]), classFile("org/apache/logging/log4j/core/Logger.class"))
	}
	mf, err := modfile.Parse("go.mod", []byte(files["app/go.mod"]), nil)
	if err != nil {
		t.Fatal(err)
	}
	var deps [][2]string
	for _, r := range mf.Require {
		deps = append(deps, [2]string{r.Mod.Path, r.Mod.Version})
	}
	out["app/server"] = goBuildInfoELF(t, "go1.26.8", mf.Module.Mod.Path, deps)
	return out
}

// fixImage is base plus the application layer.
func fixImage(t *testing.T, base v1.Image, files map[string]string) v1.Image {
	t.Helper()
	app := fixAppLayer(t, files)
	tarb, err := testimage.TarOf(app)
	if err != nil {
		t.Fatal(err)
	}
	// TarOf writes 0644 files: the Go program must be executable.
	tarb = chmodTar(t, tarb, "app/server", 0o755)
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarb)), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.Append(base, mutate.Addendum{Layer: layer, History: v1.History{CreatedBy: "COPY app /app # buildkit"}})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// fixPairs lists "package id" of every active finding.
func fixPairs(rep *report.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if !f.Suppressed() {
			out = append(out, f.Package.Name+" "+f.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestFixE2E(t *testing.T) {
	cache := t.TempDir()
	scanIn := func(ref string) *report.Report {
		t.Helper()
		res := drydockIn(t, cache, "image", "--db", testDB, "--format", "json", "--scanners", "vuln", ref)
		if res.code != 0 && res.code != 1 {
			t.Fatalf("drydock image %s: exit %d\n%s", ref, res.code, res.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("drydock image %s: %v\n%s", ref, err, res.stderr)
		}
		return &rep
	}
	// The bases: AlmaLinux 9.0 and 9.3 micro, indexed.
	bases := map[string]v1.Image{
		"9.0": almaMicroImage(t, "9.0", "Packages"),
		"9.3": almaMicroImage(t, "9.3", "rpmdb.sqlite"),
	}
	byDigest := map[string]v1.Image{}
	for rel, img := range bases {
		ref := ociLayout(t, "almalinux:"+rel, img)
		if res := drydockIn(t, cache, "base", "add", ref); res.code != 0 {
			t.Fatalf("base add almalinux:%s: exit %d\n%s", rel, res.code, res.stderr)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		byDigest[d.String()] = img
	}

	src := fixRepo(t)
	appRef := ociLayout(t, "shop/app:1.0", fixImage(t, bases["9.0"], fixRepoFiles()))
	before := scanIn(appRef)
	beforePairs := fixPairs(before)
	for _, want := range []string{"lodash GHSA-35jh-r3h4-6jhm", "minimist GHSA-xvch-5gv4-984h", "pyyaml PYSEC-2020-96", "pyyaml PYSEC-2021-142", "urllib3 PYSEC-2021-108", "golang.org/x/text GO-2021-0113", "golang.org/x/text GO-2022-1059", "rack GHSA-22f2-v57c-j9cx", "org.apache.logging.log4j:log4j-core GHSA-jfh8-c2jp-5v3q", "org.apache.logging.log4j:log4j-core GHSA-p6xc-xr62-6r2g"} {
		if !slices.Contains(beforePairs, want) {
			t.Fatalf("the app image lacks the finding %q; it has %v", want, beforePairs)
		}
	}
	fixArgs := func(more ...string) []string {
		return append([]string{"fix", "--db", testDB, "--source-dir", src}, append(more, appRef)...)
	}

	// A dirty work tree is refused, before any scan.
	if err := os.WriteFile(filepath.Join(src, "notes.txt"), []byte("wip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := drydockIn(t, cache, fixArgs()...); res.code != 3 || !strings.Contains(res.stderr, "uncommitted changes") || !strings.Contains(res.stderr, "notes.txt") {
		t.Errorf("dirty work tree: exit %d, stderr %q; want 3 naming notes.txt", res.code, res.stderr)
	}
	if err := os.Remove(filepath.Join(src, "notes.txt")); err != nil {
		t.Fatal(err)
	}

	// --dry-run prints the plan and the diff and writes nothing.
	dry := drydockIn(t, cache, fixArgs("--dry-run")...)
	if dry.code != 0 {
		t.Fatalf("fix --dry-run: exit %d\n%s", dry.code, dry.stderr)
	}
	for _, want := range []string{"+FROM almalinux:9.3@sha256:", "-    \"minimist\": \"1.2.5\"", "+    \"minimist\": \"1.2.6\"", "+PyYAML==5.4", "+require golang.org/x/text v0.39.0", "--- a/app/package-lock.json"} {
		if !strings.Contains(dry.stdout, want) {
			t.Errorf("--dry-run output lacks %q:\n%s", want, dry.stdout)
		}
	}
	t.Logf("drydock fix --dry-run:\n%s", dry.stdout)
	if got := gitIn(t, src, "branch", "--list"); strings.TrimSpace(got) != "* main" {
		t.Errorf("--dry-run made branches: %q", got)
	}

	// The fix.
	res := drydockIn(t, cache, fixArgs("--format", "json")...)
	if res.code != 0 {
		t.Fatalf("fix: exit %d\n%s", res.code, res.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("fix --format json: %v\n%s", err, res.stdout)
	}
	const schemaID = "https://github.com/drydock-scan/drydock/docs/json-schema/drydock-report-v1.schema.json"
	schema, err := reporttest.CompileSchema(schemaID, map[string]string{schemaID: "../../docs/json-schema/drydock-report-v1.schema.json"})
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate([]byte(res.stdout)); err != nil {
		t.Errorf("the fix report does not match the JSON schema: %v", err)
	}
	plan := rep.Fix
	if plan == nil || plan.Branch == "" {
		t.Fatalf("no fix section or branch: %s", res.stdout)
	}
	if !strings.HasPrefix(plan.Branch, "drydock/fix-") || len(plan.Branch) != len("drydock/fix-")+12 {
		t.Errorf("branch %q, want drydock/fix-<12 hex digits>", plan.Branch)
	}
	if got := strings.TrimSpace(gitIn(t, src, "rev-parse", "--abbrev-ref", "HEAD")); got != "main" {
		t.Errorf("the work tree is on %s after the fix, want main", got)
	}
	if st := gitIn(t, src, "status", "--porcelain"); st != "" {
		t.Errorf("the work tree is dirty after the fix:\n%s", st)
	}

	// The remedies the plan must make, in order, with their targets.
	type row struct{ Kind, Package, From, To string }
	var got []row
	for _, r := range plan.Remedies {
		if r.Kind != fix.KindOSPackage {
			got = append(got, row{r.Kind, r.Package, r.From, r.To})
		}
	}
	want := []row{
		{"base-image", "almalinux:9.0", "almalinux:9.0", "almalinux:9.3"},
		{"dependency", "golang.org/x/text", "v0.3.5", "v0.39.0"}, // GO-2026-5970 is fixed in v0.39.0
		{"dependency", "lodash", "4.17.20", "4.17.21"},
		{"dependency", "minimist", "1.2.5", "1.2.6"},
		{"dependency", "org.apache.logging.log4j:log4j-core", "2.14.1", "2.17.0"},
		{"dependency", "pyyaml", "5.3", "5.4"},
		{"dependency", "rack", "2.2.8", "2.2.8.1"},
		{"dependency", "urllib3", "1.26.4", "1.26.18"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("remedies other than OS packages (-want +got):\n%s", diff)
	}

	// One commit per applied remedy, newest last, each naming its
	// advisories.
	log := strings.Split(strings.TrimSpace(gitIn(t, src, "log", "--reverse", "--format=%H", "main.."+plan.Branch)), "\n")
	var commits []string
	targeted := map[string]bool{} // "package id" the applied base and dependency remedies fix
	var osRemedies []fix.Remedy
	for _, r := range plan.Remedies {
		if !r.Applied {
			t.Logf("not applied: %s %s: %s", r.Kind, r.Package, r.Note)
			continue
		}
		commits = append(commits, r.Commit)
		msg := gitIn(t, src, "log", "-1", "--format=%B", r.Commit)
		for _, id := range r.Advisories {
			if !strings.Contains(msg, id) {
				t.Errorf("commit %s (%s) does not name %s:\n%s", r.Commit, r.Package, id, msg)
			}
		}
		files := strings.Fields(gitIn(t, src, "show", "--format=", "--name-only", r.Commit))
		slices.Sort(files)
		if !slices.Equal(files, r.Files) {
			t.Errorf("commit %s changes %v, the plan says %v", r.Commit, files, r.Files)
		}
		if r.Kind == fix.KindOSPackage {
			osRemedies = append(osRemedies, r)
			continue
		}
		for _, k := range r.Findings {
			for _, f := range before.Findings {
				if f.Key() == k {
					targeted[f.Package.Name+" "+f.ID] = true
				}
			}
		}
	}
	if diff := cmp.Diff(log, commits); diff != "" {
		t.Errorf("the branch's commits (-git +plan):\n%s", diff)
	}

	// Rebuild from the branch: the base the pinned FROM names, and the
	// application from the branch's lockfiles.
	files := branchFiles(t, src, plan.Branch)
	df := files["Dockerfile"]
	i := strings.Index(df, "FROM almalinux:9.3@")
	if i < 0 {
		t.Fatalf("the branch's Dockerfile is not FROM almalinux:9.3@digest:\n%s", df)
	}
	digest := strings.Fields(df[i+len("FROM almalinux:9.3@"):])[0]
	newBase, ok := byDigest[digest]
	if !ok {
		t.Fatalf("the pinned FROM %s is not the digest of an indexed base", digest)
	}
	if !strings.Contains(df, "FROM almalinux:9.3@"+digest+" AS runtime\n") {
		t.Errorf("the FROM line lost its stage name:\n%s", df)
	}
	for _, r := range osRemedies {
		if !strings.Contains(df, "'"+r.Package+"-"+r.To+"'") {
			t.Errorf("the Dockerfile does not upgrade %s to %s:\n%s", r.Package, r.To, df)
		}
	}
	afterRef := ociLayout(t, "shop/app:1.0-fixed", fixImage(t, newBase, files))
	after := scanIn(afterRef)

	// The targeted findings are gone and none is new. The OS package
	// upgrades are RUN lines the test cannot execute (no package manager
	// runs here): their findings stay, and are expected to.
	var wantAfter []string
	for _, p := range beforePairs {
		if !targeted[p] {
			wantAfter = append(wantAfter, p)
		}
	}
	if diff := cmp.Diff(wantAfter, fixPairs(after)); diff != "" {
		t.Errorf("findings after the fix (-want +got):\n%s", diff)
	}
	if len(targeted) == 0 {
		t.Fatal("no finding was targeted")
	}
	t.Logf("before: %d findings; targeted by the base bump and dependency bumps: %d; after: %d; OS package remedies (not executed): %d",
		len(beforePairs), len(targeted), len(fixPairs(after)), len(osRemedies))

	// A push to a remote that does not exist fails after the commits,
	// saying where they are.
	gitIn(t, src, "branch", "-D", plan.Branch)
	if res := drydockIn(t, cache, fixArgs("--push", "--remote", "nowhere")...); res.code != 3 || !strings.Contains(res.stderr, "nowhere") || !strings.Contains(res.stderr, "holds the commits made") {
		t.Errorf("push to a missing remote: exit %d, stderr %q", res.code, res.stderr)
	}
	// A second run: the branch exists.
	if res := drydockIn(t, cache, fixArgs()...); res.code != 3 || !strings.Contains(res.stderr, "exists already") {
		t.Errorf("second fix: exit %d, stderr %q; want 3, the branch exists", res.code, res.stderr)
	}
}

// chmodTar returns the tar b with the mode of the entry name set to mode.
func chmodTar(t *testing.T, b []byte, name string, mode int64) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == name {
			h.Mode = mode
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(tw, tr); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// TestFixOpenPR: --open-pr pushes the branch to the remote and opens the
// pull request through the GitHub REST API (a local server standing for
// GitHub Enterprise's /api/v3/), with the plan's table as its description.
// Without a base-image index the plan says no base bump was considered.
func TestFixOpenPR(t *testing.T) {
	cache := t.TempDir()
	src := fixRepo(t)
	remote := t.TempDir()
	gitIn(t, remote, "init", "-q", "--bare")
	gitIn(t, src, "remote", "add", "origin", remote)
	appRef := ociLayout(t, "shop/app:1.0", fixImage(t, almaMicroImage(t, "9.0", "Packages"), fixRepoFiles()))

	type call struct{ Method, Path, Auth string }
	var calls []call
	var created struct{ Title, Head, Base, Body string }
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call{r.Method, r.URL.Path, r.Header.Get("Authorization")})
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/api/v3/repos/shop/app/pulls":
			io.WriteString(w, "[]")
		case r.Method == http.MethodPost && r.URL.Path == "/api/v3/repos/shop/app/pulls":
			if err := json.NewDecoder(r.Body).Decode(&created); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"number": 7, "html_url": "https://github.example/shop/app/pull/7", "state": "open"}`)
		default:
			http.Error(w, `{"message": "Not Found"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	t.Setenv("SHOP_GH_TOKEN", "ghp_test_token")

	res := drydockIn(t, cache, "fix", "--db", testDB, "--source-dir", src, "--open-pr", "--pr-provider", "github",
		"--pr-repo", "shop/app", "--pr-url", srv.URL+"/", "--pr-token-env", "SHOP_GH_TOKEN", "--format", "json", appRef)
	if res.code != 0 {
		t.Fatalf("fix --open-pr: exit %d\n%s", res.code, res.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	plan := rep.Fix
	if plan == nil || plan.PullRequest != "https://github.example/shop/app/pull/7" {
		t.Fatalf("plan %+v", plan)
	}
	if !slices.ContainsFunc(plan.Notes, func(n string) bool { return strings.Contains(n, "no base-image index") }) {
		t.Errorf("notes %q do not say that no base bump was considered", plan.Notes)
	}
	for _, r := range plan.Remedies {
		if r.Kind == fix.KindBase {
			t.Errorf("a base remedy without an index: %+v", r)
		}
	}
	// The branch is on the remote, at the local branch's commit.
	if l, r := gitIn(t, src, "rev-parse", plan.Branch), gitIn(t, remote, "rev-parse", plan.Branch); l != r {
		t.Errorf("remote %s at %s, local at %s", plan.Branch, r, l)
	}
	want := []call{
		{"GET", "/api/v3/repos/shop/app/pulls", "Bearer ghp_test_token"},
		{"POST", "/api/v3/repos/shop/app/pulls", "Bearer ghp_test_token"},
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("API calls (-want +got):\n%s", diff)
	}
	if created.Head != plan.Branch || created.Base != "main" || !strings.HasPrefix(created.Title, "drydock fix: ") {
		t.Errorf("pull request %+v", created)
	}
	for _, s := range []string{"| dependency | lodash | 4.17.20 | 4.17.21 | GHSA-35jh-r3h4-6jhm | yes |", "| os-package |", "\nNotes:\n\n- no base-image index: no base bump was considered"} {
		if !strings.Contains(created.Body, s) {
			t.Errorf("the description lacks %q:\n%s", s, created.Body)
		}
	}
	if strings.Contains(res.stdout+res.stderr, "ghp_test_token") {
		t.Error("the token is in the output")
	}
}

// TestFixOpenMRGitLab: --open-pr --pr-provider gitlab opens the merge
// request through GitLab's REST API (a local server standing for a
// self-managed instance's /api/v4/): the project path URL-encoded, the
// token in PRIVATE-TOKEN, source = the fix branch, target = --pr-base.
func TestFixOpenMRGitLab(t *testing.T) {
	cache := t.TempDir()
	src := fixRepo(t)
	remote := t.TempDir()
	gitIn(t, remote, "init", "-q", "--bare")
	gitIn(t, src, "remote", "add", "upstream", remote)
	appRef := ociLayout(t, "shop/app:1.0", fixImage(t, almaMicroImage(t, "9.0", "Packages"), fixRepoFiles()))

	type call struct{ Method, Path, Token string }
	var calls []call
	var raw map[string]any
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls = append(calls, call{r.Method, r.URL.EscapedPath(), r.Header.Get("PRIVATE-TOKEN")})
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodGet && r.URL.EscapedPath() == "/api/v4/projects/shop%2Fapp/merge_requests":
			io.WriteString(w, "[]")
		case r.Method == http.MethodPost && r.URL.EscapedPath() == "/api/v4/projects/shop%2Fapp/merge_requests":
			if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.WriteHeader(http.StatusCreated)
			io.WriteString(w, `{"iid": 3, "web_url": "https://gitlab.example/shop/app/-/merge_requests/3", "state": "opened"}`)
		default:
			http.Error(w, `{"message": "404 Not Found"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	t.Setenv("SHOP_GL_TOKEN", "glpat-test-token")

	res := drydockIn(t, cache, "fix", "--db", testDB, "--source-dir", src, "--open-pr", "--pr-provider", "gitlab", "--remote", "upstream",
		"--pr-repo", "shop/app", "--pr-base", "release", "--pr-url", srv.URL+"/api/v4/", "--pr-token-env", "SHOP_GL_TOKEN", appRef)
	if res.code != 0 {
		t.Fatalf("fix --open-pr: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "Pull request: https://gitlab.example/shop/app/-/merge_requests/3") {
		t.Errorf("the table does not give the merge request:\n%s", res.stdout)
	}
	want := []call{
		{"GET", "/api/v4/projects/shop%2Fapp/merge_requests", "glpat-test-token"},
		{"POST", "/api/v4/projects/shop%2Fapp/merge_requests", "glpat-test-token"},
	}
	if diff := cmp.Diff(want, calls); diff != "" {
		t.Errorf("API calls (-want +got):\n%s", diff)
	}
	branch := strings.TrimSpace(gitIn(t, remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/"))
	if !strings.HasPrefix(branch, "drydock/fix-") {
		t.Fatalf("the remote's branches: %q", branch)
	}
	if raw["source_branch"] != branch || raw["target_branch"] != "release" || !strings.Contains(fmt.Sprint(raw["description"]), "| dependency | lodash |") {
		t.Errorf("merge request %v", raw)
	}
}

// TestFixUsage: bad command lines are usage errors (exit 2) that say what
// is wrong, before any scan or git work.
func TestFixUsage(t *testing.T) {
	src := fixRepo(t)
	t.Setenv("EMPTY_TOKEN_VAR", "")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"fix", "alpine:3.16"}, "--source-dir is required"},
		{[]string{"fix", "--source-dir", filepath.Join(src, "nope"), "alpine:3.16"}, "not a directory"},
		{[]string{"fix", "--source-dir", src, "--format", "sarif", "alpine:3.16"}, "--format must be table or json"},
		{[]string{"fix", "--source-dir", src, "--open-pr", "alpine:3.16"}, "--open-pr needs --pr-repo and --pr-token-env"},
		{[]string{"fix", "--source-dir", src, "--open-pr", "--dry-run", "alpine:3.16"}, "exclusive"},
		{[]string{"fix", "--source-dir", src, "--open-pr", "--pr-provider", "gitea", "--pr-repo", "a/b", "--pr-token-env", "X", "alpine:3.16"}, "github or gitlab"},
		{[]string{"fix", "--source-dir", src, "--open-pr", "--pr-repo", "a/b", "--pr-token-env", "EMPTY_TOKEN_VAR", "alpine:3.16"}, "$EMPTY_TOKEN_VAR is empty"},
		{[]string{"fix", "--source-dir", src}, "no image"},
	} {
		res := drydock(t, tt.args...)
		if res.code != 2 || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
}
