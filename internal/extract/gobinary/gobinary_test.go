package gobinary

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/extract/gobinary/gobuildtest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{Index: 1, DiffID: "sha256:0000000000000000000000000000000000000000000000000000000000000001"}

func TestToolchainVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"go1.21.3", "1.21.3"},
		{"go1.20", "1.20.0"},
		{"go1.9.2", "1.9.2"},
		{"go1.22rc1", "1.22.0-rc.1"},
		{"go1.21beta2", "1.21.0-beta.2"},
		{"go1.22.3 X:boringcrypto", "1.22.3"},
		{"devel go1.23-1a2b3c4 Tue Jan 2 15:04:05 2024 +0000", "(devel)"},
		{"go1.x", "1.x"},
		{"go1.22rcX", "1.22rcX"},
		{"go1", "1"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := ToolchainVersion(tt.in); got != tt.want {
			t.Errorf("ToolchainVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []struct {
		name string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"executable", 0o755, 5 << 20, true},
		{"owner-only exec", 0o700, 5 << 20, true},
		{"not executable", 0o644, 5 << 20, false},
		{"directory", fs.ModeDir | 0o755, 4096, false},
		{"symlink", fs.ModeSymlink | 0o777, 100, false},
		{"tiny", 0o755, 100, false},
		{"at cap", 0o755, MaxFileSize, true},
		{"too big", 0o755, MaxFileSize + 1, false},
	}
	for _, tt := range tests {
		if got := e.Wants("/usr/bin/x", tt.mode, tt.size); got != tt.want {
			t.Errorf("%s: Wants = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestFromBuildInfo checks the mapping from build info to packages on
// build-info texts in the format of `go version -m` (parsed by the same
// runtime/debug.ParseBuildInfo that debug/buildinfo uses).
func TestFromBuildInfo(t *testing.T) {
	const p = "/usr/local/bin/app"
	tests := []struct {
		name      string
		goVersion string
		text      string
		want      inventory.Inventory
	}{
		{
			name:      "tagged main, replacements, vcs",
			goVersion: "go1.21.3",
			text: `path	example.com/app/cmd/app
mod	example.com/app	v1.4.0	h1:abc=
dep	golang.org/x/text	v0.3.5	h1:text=
dep	github.com/old/mod	v1.0.0
=>	github.com/new/mod	v1.1.0	h1:new=
dep	example.com/local	v0.0.0
=>	../local	(devel)	
build	-trimpath=true
build	-ldflags="-s -w -X main.version=1.4.0"
build	CGO_ENABLED=0
build	GOARCH=arm64
build	GOOS=linux
build	DefaultGODEBUG=httpmuxgo121=1
build	vcs=git
build	vcs.revision=0123456789abcdef0123456789abcdef01234567
build	vcs.modified=false
`,
			want: inventory.Inventory{Packages: []inventory.Package{
				{Name: "../local", Version: "(devel)", Ecosystem: "Go", Locations: layer.Locations(p), FoundBy: extractorName,
					Metadata: map[string]string{"replaces": "example.com/local@v0.0.0", "local_replace": "true"}},
				{Name: "example.com/app", Version: "v1.4.0", Ecosystem: "Go", PURL: "pkg:golang/example.com/app@v1.4.0", Locations: layer.Locations(p), FoundBy: extractorName,
					Metadata: map[string]string{
						"main_module": "true", "go_toolchain": "go1.21.3",
						"build.-trimpath": "true", "build.-ldflags": "-s -w -X main.version=1.4.0", "build.CGO_ENABLED": "0",
						"build.GOARCH": "arm64", "build.GOOS": "linux", "build.vcs": "git",
						"build.vcs.revision": "0123456789abcdef0123456789abcdef01234567", "build.vcs.modified": "false",
					}},
				{Name: "github.com/new/mod", Version: "v1.1.0", Ecosystem: "Go", PURL: "pkg:golang/github.com/new/mod@v1.1.0", Locations: layer.Locations(p), FoundBy: extractorName,
					Metadata: map[string]string{"replaces": "github.com/old/mod@v1.0.0", "sum": "h1:new="}},
				{Name: "golang.org/x/text", Version: "v0.3.5", Ecosystem: "Go", PURL: "pkg:golang/golang.org/x/text@v0.3.5", Locations: layer.Locations(p), FoundBy: extractorName,
					Metadata: map[string]string{"sum": "h1:text="}},
				{Name: "stdlib", Version: "1.21.3", Ecosystem: "Go", PURL: "pkg:golang/stdlib@1.21.3", Locations: layer.Locations(p), FoundBy: extractorName,
					Metadata: map[string]string{"go_toolchain": "go1.21.3"}},
			}},
		},
		{
			name:      "devel main, major version suffix, boringcrypto",
			goVersion: "go1.22.3 X:boringcrypto",
			text: `path	example.com/app
mod	example.com/app	(devel)	
dep	github.com/foo/bar/v2	v2.0.1
`,
			want: inventory.Inventory{Packages: []inventory.Package{
				{Name: "example.com/app", Version: "(devel)", Ecosystem: "Go", PURL: "pkg:golang/example.com/app", Locations: layer.Locations(p), FoundBy: extractorName,
					Metadata: map[string]string{"main_module": "true", "go_toolchain": "go1.22.3 X:boringcrypto"}},
				{Name: "github.com/foo/bar/v2", Version: "v2.0.1", Ecosystem: "Go", PURL: "pkg:golang/github.com/foo/bar/v2@v2.0.1", Locations: layer.Locations(p), FoundBy: extractorName},
				{Name: "stdlib", Version: "1.22.3", Ecosystem: "Go", PURL: "pkg:golang/stdlib@1.22.3", Locations: layer.Locations(p), FoundBy: extractorName,
					Metadata: map[string]string{"go_toolchain": "go1.22.3 X:boringcrypto"}},
			}},
		},
		{
			name:      "GOPATH mode: no module info",
			goVersion: "go1.19.8",
			text: `path	github.com/docker/distribution/cmd/registry
build	-trimpath=true
build	GOOS=linux
`,
			want: inventory.Inventory{
				Packages: []inventory.Package{
					{Name: "stdlib", Version: "1.19.8", Ecosystem: "Go", PURL: "pkg:golang/stdlib@1.19.8", Locations: layer.Locations(p), FoundBy: extractorName,
						Metadata: map[string]string{"go_toolchain": "go1.19.8", "main_package": "github.com/docker/distribution/cmd/registry",
							"build.-trimpath": "true", "build.GOOS": "linux"}},
				},
				Notes: []inventory.Note{{Level: "info", Path: p, Layer: layer.DiffID,
					Message: `Go executable "/usr/local/bin/app" has no module information (built in GOPATH mode?); only the Go toolchain is reported`}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bi, err := debug.ParseBuildInfo(tt.text)
			if err != nil {
				t.Fatal(err)
			}
			bi.GoVersion = tt.goVersion // set by debug/buildinfo, not part of the text
			got := fromBuildInfo(bi, layer.Executable(p, nil))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("fromBuildInfo (-want +got):\n%s", diff)
			}
		})
	}
}

// TestExtractDebian reads the build info of Debian 12's docker-registry
// 2.8.2+ds1-1 (amd64). The committed file holds only the .go.buildinfo
// section of /usr/bin/docker-registry (objcopy -j .go.buildinfo), see
// testdata/README.md. Debian builds in GOPATH mode, so the binary carries the
// toolchain version and build settings but no module list.
func TestExtractDebian(t *testing.T) {
	const p = "/usr/bin/docker-registry"
	got, err := New().Extract(context.Background(), layer.Executable(p, extracttest.Testdata(t, "debian-docker-registry-buildinfo.elf")))
	if err != nil {
		t.Fatal(err)
	}
	want := inventory.Inventory{
		Packages: []inventory.Package{{
			Name: "stdlib", Version: "1.19.8", Ecosystem: "Go", PURL: "pkg:golang/stdlib@1.19.8", Locations: layer.Locations(p), FoundBy: extractorName,
			Metadata: map[string]string{
				"go_toolchain": "go1.19.8", "main_package": "github.com/docker/distribution/cmd/registry",
				"build.-compiler": "gc", "build.-trimpath": "true", "build.CGO_ENABLED": "1",
				"build.GOARCH": "amd64", "build.GOOS": "linux", "build.GOAMD64": "v1",
			},
		}},
		Notes: []inventory.Note{
			{Level: "info", Path: p, Layer: layer.DiffID,
				Message: `Go executable "/usr/bin/docker-registry" has no module information (built in GOPATH mode?); only the Go toolchain is reported`},
			// The sample holds the build info alone, not the function table.
			{Level: "info", Path: p, Layer: layer.DiffID,
				Message: `Go executable "/usr/bin/docker-registry": its functions are not known (unreadable function table: no Go function table); reachability of its findings is unknown`},
		},
		GoBinaries: []inventory.GoBinary{{Path: p, GoSymbols: inventory.GoSymbols{GOOS: "linux", GOARCH: "amd64", Unknown: "unreadable function table: no Go function table"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Extract (-want +got):\n%s", diff)
	}
}

// minimalELF is a valid 64-bit little-endian ELF header with no sections or
// segments: an executable that is certainly not a Go binary.
func minimalELF() []byte {
	b := make([]byte, 64)
	copy(b, "\x7fELF\x02\x01\x01")
	b[16] = 2    // e_type EXEC
	b[18] = 0x3e // e_machine x86-64
	b[20] = 1    // e_version
	b[52] = 64   // e_ehsize
	b[54] = 56   // e_phentsize
	b[58] = 64   // e_shentsize
	return append(b, make([]byte, 600)...)
}

// TestExtractCorruptELF: an ELF magic followed by garbage is a corrupt
// executable, reported (not silently skipped).
func TestExtractCorruptELF(t *testing.T) {
	data := append([]byte("\x7fELF"), bytes.Repeat([]byte{0xff}, 2000)...)
	_, err := New().Extract(context.Background(), layer.Executable("/bin/x", data))
	if errors.Is(err, extract.ErrNotApplicable) {
		t.Fatalf("Extract error = %v, want an error naming the file", err)
	}
	extracttest.CheckFileError(t, err, "/bin/x")
}

func TestExtractNotApplicable(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"shell script", []byte("#!/bin/sh\necho hello\n")},
		{"elf magic only", []byte("\x7fELF")},
		{"non-Go elf", minimalELF()},
		{"pe garbage", append([]byte("MZ"), bytes.Repeat([]byte{0x41}, 2000)...)},
		{"java class file (cafebabe)", append([]byte("\xca\xfe\xba\xbe\x00\x00\x00\x34"), make([]byte, 1000)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := New().Extract(context.Background(), layer.Executable("/bin/x", tt.data))
			if !errors.Is(err, extract.ErrNotApplicable) {
				t.Fatalf("Extract error = %v, want ErrNotApplicable", err)
			}
			if len(inv.Packages) != 0 {
				t.Errorf("got %d packages, want none", len(inv.Packages))
			}
		})
	}
}

// TestExtractCorruptBuildInfo damages the build info blob (not the ELF
// headers) of the Debian sample: this is a broken Go binary, so the error
// must be reported, naming the file.
func TestExtractCorruptBuildInfo(t *testing.T) {
	b := extracttest.Testdata(t, "debian-docker-registry-buildinfo.elf")
	// "build\t-compiler=gc" without "=" is an invalid build line.
	i := bytes.Index(b, []byte("-compiler=gc"))
	if i < 0 {
		t.Fatal("build setting not found in sample")
	}
	b = bytes.Clone(b)
	b[i+len("-compiler")] = '_'
	_, err := New().Extract(context.Background(), layer.Executable("/usr/bin/broken", b))
	extracttest.CheckFileError(t, err, "/usr/bin/broken")
}

func TestExtractCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New().Extract(ctx, layer.Executable("/bin/x", minimalELF())); !errors.Is(err, context.Canceled) {
		t.Errorf("Extract error = %v, want context.Canceled", err)
	}
}

// Built binaries. The source of a tiny program is in testdata/app; it
// depends on golang.org/x/text v0.3.5 (GO-2021-0113, GO-2022-1059), on
// github.com/google/go-cmp v0.6.0 replaced by v0.7.0, and on a module
// replaced by a local directory. The tests build it with the local Go
// toolchain; the modules come from the module cache or GOPROXY. Without
// them the tests skip, unless CI=true.

type builtBinaries struct {
	goVersion string // e.g. "go1.26.8"
	revision  string // git commit of the vcs variant
	paths     map[string]string
}

var buildDir string // set by TestMain

var build = sync.OnceValues(func() (*builtBinaries, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, err
	}
	env := gobuildtest.Env()
	run := func(dir string, name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out)), nil
	}
	bb := &builtBinaries{paths: map[string]string{}}
	if bb.goVersion, err = run(".", goTool, "env", "GOVERSION"); err != nil {
		return nil, err
	}
	copyApp := func(name string) (string, error) {
		dst := filepath.Join(buildDir, "src-"+name)
		return dst, os.CopyFS(dst, os.DirFS("testdata/app"))
	}
	// devel: a plain build outside any repository: main module "(devel)".
	src, err := copyApp("devel")
	if err != nil {
		return nil, err
	}
	bb.paths["devel"] = filepath.Join(buildDir, "devel")
	if _, err := run(src, goTool, "build", "-buildvcs=false", "-o", bb.paths["devel"], "."); err != nil {
		return nil, err
	}
	// stripped: -trimpath and no symbol table or DWARF.
	bb.paths["stripped"] = filepath.Join(buildDir, "stripped")
	if _, err := run(src, goTool, "build", "-buildvcs=false", "-trimpath", "-ldflags=-s -w", "-o", bb.paths["stripped"], "."); err != nil {
		return nil, err
	}
	// Other executable formats: PE and Mach-O. Cross-compiling the standard
	// library takes minutes on a cold build cache, so -short leaves it out.
	targets := [][2]string{{"windows", "amd64"}, {"darwin", "arm64"}}
	if testing.Short() {
		targets = nil
	}
	for _, target := range targets {
		out := filepath.Join(buildDir, target[0])
		cmd := exec.Command(goTool, "build", "-buildvcs=false", "-o", out, ".")
		cmd.Dir = src
		cmd.Env = append(env[:len(env):len(env)], "GOOS="+target[0], "GOARCH="+target[1])
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("go build for %s: %w\n%s", target, err, b)
		}
		bb.paths[target[0]] = out
	}
	// vcs: a git repository tagged v1.2.3; since Go 1.24 `go build` stamps
	// the main module version from the tag.
	if git, err := exec.LookPath("git"); err == nil {
		src, err := copyApp("vcs")
		if err != nil {
			return nil, err
		}
		g := []string{"-c", "user.name=drydock", "-c", "user.email=drydock@example.com", "-c", "commit.gpgsign=false"}
		for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"commit", "-q", "-m", "test"}, {"tag", "v1.2.3"}} {
			if _, err := run(src, git, append(g, args...)...); err != nil {
				return nil, err
			}
		}
		if bb.revision, err = run(src, git, "rev-parse", "HEAD"); err != nil {
			return nil, err
		}
		bb.paths["vcs"] = filepath.Join(buildDir, "vcs")
		if _, err := run(src, goTool, "build", "-buildvcs=true", "-o", bb.paths["vcs"], "."); err != nil {
			return nil, err
		}
	}
	return bb, nil
})

func TestMain(m *testing.M) {
	flag.Parse()
	dir, err := os.MkdirTemp("", "drydock-gobinary-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	buildDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func binaries(t testing.TB) *builtBinaries {
	t.Helper()
	bb, err := build()
	if err != nil {
		gobuildtest.Unavailable(t, "building test binaries", err)
	}
	return bb
}

// keepMetadata drops build settings that depend on the host (GOARCH, GOAMD64…)
// so expectations stay portable; GOOS/GOARCH are checked separately.
func keepMetadata(inv *inventory.Inventory) {
	keep := map[string]bool{"build.-trimpath": true, "build.-ldflags": true, "build.CGO_ENABLED": true,
		"build.vcs": true, "build.vcs.revision": true, "build.vcs.modified": true}
	for i := range inv.Packages {
		for k := range inv.Packages[i].Metadata {
			if strings.HasPrefix(k, "build.") && !keep[k] {
				delete(inv.Packages[i].Metadata, k)
			}
		}
	}
}

func TestExtractBuilt(t *testing.T) {
	bb := binaries(t)
	const p = "/app/testapp"
	deps := func() []inventory.Package {
		return []inventory.Package{
			{Name: "./local", Version: "(devel)", Ecosystem: "Go", Locations: layer.Locations(p), FoundBy: extractorName,
				Metadata: map[string]string{"replaces": "example.com/drydock/local@v0.0.0", "local_replace": "true"}},
			{Name: "github.com/google/go-cmp", Version: "v0.7.0", Ecosystem: "Go", PURL: "pkg:golang/github.com/google/go-cmp@v0.7.0", Locations: layer.Locations(p), FoundBy: extractorName,
				Metadata: map[string]string{"replaces": "github.com/google/go-cmp@v0.6.0", "sum": "h1:wk8382ETsv4JYUZwIsn6YpYiWiBsYLSJiTsyBybVuN8="}},
			{Name: "golang.org/x/text", Version: "v0.3.5", Ecosystem: "Go", PURL: "pkg:golang/golang.org/x/text@v0.3.5", Locations: layer.Locations(p), FoundBy: extractorName,
				Metadata: map[string]string{"sum": "h1:i6eZZ+zk0SOf0xgBpEpPD18qWcJda6q1sxt3S0kzyUQ="}},
		}
	}
	stdlib := inventory.Package{Name: "stdlib", Version: ToolchainVersion(bb.goVersion), Ecosystem: "Go",
		PURL: "pkg:golang/stdlib@" + ToolchainVersion(bb.goVersion), Locations: layer.Locations(p), FoundBy: extractorName,
		Metadata: map[string]string{"go_toolchain": bb.goVersion}}
	mainPkg := func(version string, md map[string]string) inventory.Package {
		md["main_module"] = "true"
		md["go_toolchain"] = bb.goVersion
		md["build.CGO_ENABLED"] = "0"
		purl := "pkg:golang/example.com/drydock/testapp"
		if version != "(devel)" {
			purl += "@" + version
		}
		return inventory.Package{Name: "example.com/drydock/testapp", Version: version, Ecosystem: "Go", PURL: purl,
			Locations: layer.Locations(p), FoundBy: extractorName, Metadata: md}
	}
	tests := []struct {
		variant string
		main    inventory.Package
	}{
		{"windows", mainPkg("(devel)", map[string]string{})},
		{"darwin", mainPkg("(devel)", map[string]string{})},
		{"devel", mainPkg("(devel)", map[string]string{})},
		// The go command does not record -ldflags when -trimpath is set.
		{"stripped", mainPkg("(devel)", map[string]string{"build.-trimpath": "true"})},
		{"vcs", mainPkg("v1.2.3", map[string]string{"build.vcs": "git", "build.vcs.revision": bb.revision, "build.vcs.modified": "false"})},
	}
	for _, tt := range tests {
		t.Run(tt.variant, func(t *testing.T) {
			bin, ok := bb.paths[tt.variant]
			if !ok {
				t.Skip("variant not built (git missing, or -short)")
			}
			b, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			got, err := New().Extract(context.Background(), layer.Executable(p, b))
			if err != nil {
				t.Fatal(err)
			}
			wantOS, wantArch := runtime.GOOS, runtime.GOARCH
			switch tt.variant {
			case "windows":
				wantOS, wantArch = "windows", "amd64"
			case "darwin":
				wantOS, wantArch = "darwin", "arm64"
			}
			for _, pkg := range got.Packages {
				if pkg.Metadata["main_module"] == "true" {
					if pkg.Metadata["build.GOOS"] != wantOS || pkg.Metadata["build.GOARCH"] != wantArch {
						t.Errorf("GOOS/GOARCH = %q/%q, want %q/%q", pkg.Metadata["build.GOOS"], pkg.Metadata["build.GOARCH"], wantOS, wantArch)
					}
				}
			}
			checkSymbols(t, got.GoBinaries, p, wantOS, wantArch)
			got.GoBinaries = nil
			keepMetadata(&got)
			want := inventory.Inventory{Packages: append(deps(), tt.main, stdlib)}
			want.Sort()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Extract (-want +got):\n%s", diff)
			}
		})
	}
}

// checkSymbols checks the function table recorded for the test app at p:
// read (also when stripped), for the build's platform, with x/text's
// language.Parse (called by main), without ParseAcceptLanguage (not
// called), and main under its import path.
func checkSymbols(t *testing.T, bins []inventory.GoBinary, p, goos, goarch string) {
	t.Helper()
	if len(bins) != 1 || bins[0].Path != p {
		t.Fatalf("GoBinaries = %+v, want one for %s", bins, p)
	}
	g := bins[0].GoSymbols
	if g.Unknown != "" || g.GOOS != goos || g.GOARCH != goarch {
		t.Fatalf("GoSymbols: unknown %q, GOOS/GOARCH %s/%s; want known, %s/%s", g.Unknown, g.GOOS, g.GOARCH, goos, goarch)
	}
	for _, c := range []struct {
		pkg, sym string
		want     bool
	}{
		{"golang.org/x/text/language", "Parse", true},
		{"golang.org/x/text/language", "ParseAcceptLanguage", false},
		{"example.com/drydock/testapp", "main", true},
		{"main", "main", false},
		{"github.com/google/go-cmp/cmp", "Equal", true},
	} {
		if got := g.HasSymbol(c.pkg, c.sym); got != c.want {
			t.Errorf("HasSymbol(%s, %s) = %v, want %v", c.pkg, c.sym, got, c.want)
		}
	}
	if !g.HasPackage("golang.org/x/text/language") || g.HasPackage("golang.org/x/text/encoding/unicode") {
		t.Errorf("packages: language %v (want true), encoding/unicode %v (want false)",
			g.HasPackage("golang.org/x/text/language"), g.HasPackage("golang.org/x/text/encoding/unicode"))
	}
}

// TestExtractTruncated cuts a real Go binary to 4 KiB: the section headers
// are gone, so the file is not readable as an executable.
func TestExtractTruncated(t *testing.T) {
	bb := binaries(t)
	b, err := os.ReadFile(bb.paths["stripped"])
	if err != nil {
		t.Fatal(err)
	}
	// 4 KiB and 64 bytes keep a whole ELF header: a truncated executable,
	// reported. 20 bytes is too short to be taken for an executable at all.
	for _, tc := range []struct {
		n          int
		applicable bool
	}{{4096, true}, {64, true}, {20, false}} {
		_, err := New().Extract(context.Background(), layer.Executable("/bin/cut", b[:tc.n]))
		if errors.Is(err, extract.ErrNotApplicable) == tc.applicable {
			t.Errorf("truncated to %d bytes: error = %v, want a real error: %v", tc.n, err, tc.applicable)
		}
		if tc.applicable && (err == nil || !strings.Contains(err.Error(), "/bin/cut") || !strings.Contains(err.Error(), "truncated")) {
			t.Errorf("truncated to %d bytes: error %v does not name the file and say truncated", tc.n, err)
		}
	}
}

func FuzzExtract(f *testing.F) {
	f.Add(extracttest.Testdata(f, "debian-docker-registry-buildinfo.elf"))
	f.Add(minimalELF())
	f.Add([]byte("MZ\x90\x00"))
	f.Add([]byte("\xcf\xfa\xed\xfe\x07\x00\x00\x01"))
	extracttest.FuzzFile(f, New(), layer.Executable("/fuzz", nil), func(t *testing.T, inv inventory.Inventory) {
		for _, p := range inv.Packages {
			if p.Ecosystem != inventory.EcoGo {
				t.Errorf("malformed package %+v", p)
			}
		}
	})
}
