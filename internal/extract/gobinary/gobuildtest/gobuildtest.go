// Package gobuildtest is the shared kit of the tests that need real Go
// executables: it builds programs with the local Go toolchain, locates the
// golang.org/x/vuln module (its test programs, vulnerability database and
// expected outputs are read as data) and installs govulncheck from it, to
// compare drydock with.
//
// Modules come from the module cache or GOPROXY, as `go build` finds them:
// on a machine that has them the tests run offline. When they cannot be had
// the tests skip, unless CI=true, where they fail.
package gobuildtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// XVulnVersion is the golang.org/x/vuln release the tests read.
const XVulnVersion = "v1.9.0"

// Unavailable skips t (or fails it under CI=true) because what it needs
// could not be had.
func Unavailable(t testing.TB, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s: %v", what, err)
	}
	t.Skipf("%s (module proxy unreachable?): %v", what, err)
}

// Env is the environment every build runs in, plus extra ("GOOS=windows").
// Module mode with go.mod updates allowed, no workspace, the local
// toolchain, no cgo.
func Env(extra ...string) []string {
	env := append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
	return append(env, extra...)
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return "go"
}

// Run runs the go command in dir and returns its trimmed output.
func Run(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command(goTool(), args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}

// CopyDir copies the directory src (a module's source) into a new
// directory under t.TempDir(), so that a build can write go.sum or vendor
// files without touching the repository.
func CopyDir(t testing.TB, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	// CopyFS keeps the modes of files read from the module cache (read
	// only); make the copy writable.
	if err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := fs.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	}); err != nil {
		t.Fatal(err)
	}
	return dst
}

// Build builds the main package in the module directory src into out with
// `go build <args> -o out .`, in Env(env...). It skips (fails under CI)
// when the modules are not available.
func Build(t testing.TB, src, out string, args []string, env ...string) {
	t.Helper()
	argv := append([]string{"build", "-buildvcs=false"}, args...)
	argv = append(argv, "-o", out, ".")
	if _, err := Run(src, Env(env...), argv...); err != nil {
		Unavailable(t, "building a test binary", err)
	}
}

// Strip writes a `strip --strip-all` copy of bin (binutils; .ci/run
// installs it) and returns its path.
func Strip(t testing.TB, bin string) string {
	t.Helper()
	strip, err := exec.LookPath("strip")
	if err != nil {
		Unavailable(t, "strip (binutils) not installed", err)
	}
	out := bin + ".stripped"
	if b, err := exec.Command(strip, "--strip-all", "-o", out, bin).CombinedOutput(); err != nil {
		t.Fatalf("strip --strip-all %s: %v\n%s", bin, err, b)
	}
	return out
}

// MustParse builds the program in testdata/mustparse (it calls
// golang.org/x/text v0.3.5's language.MustParse and no function of
// GO-2022-1059) into dir and returns the executable's path.
func MustParse(t testing.TB, dir string, args ...string) string {
	t.Helper()
	src := CopyDir(t, filepath.Join(kitDir(t), "testdata", "mustparse"))
	out := filepath.Join(dir, "mustparse")
	Build(t, src, out, args)
	return out
}

// kitDir is this package's directory.
func kitDir(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("gobuildtest: cannot locate the kit")
	}
	return filepath.Dir(file)
}

// xvuln finds golang.org/x/vuln@XVulnVersion once per process.
var xvuln = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "drydock-xvuln-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	out, err := Run(dir, Env(), "mod", "download", "-json", "golang.org/x/vuln@"+XVulnVersion)
	if err != nil {
		return "", err
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		return "", fmt.Errorf("go mod download: %w", err)
	}
	if m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("go mod download golang.org/x/vuln@%s: %s", XVulnVersion, m.Error)
	}
	return m.Dir, nil
})

// XVuln returns the directory of golang.org/x/vuln@XVulnVersion in the
// module cache, downloading the module through GOPROXY if it is not there.
func XVuln(t testing.TB) string {
	t.Helper()
	dir, err := xvuln()
	if err != nil {
		Unavailable(t, "golang.org/x/vuln@"+XVulnVersion, err)
	}
	return dir
}

// govulncheck installs govulncheck once per process, into the user cache
// directory (reused by later runs; the go build cache makes a reinstall
// cheap).
var govulncheck = sync.OnceValues(func() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(cache, "drydock-test", "govulncheck@"+XVulnVersion)
	tmp, err := os.MkdirTemp("", "drydock-govulncheck-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	if _, err := Run(tmp, Env("GOBIN="+bin, "GOFLAGS="), "install", "golang.org/x/vuln/cmd/govulncheck@"+XVulnVersion); err != nil {
		return "", err
	}
	return filepath.Join(bin, "govulncheck"), nil
})

// Govulncheck returns the path of a govulncheck XVulnVersion executable.
func Govulncheck(t testing.TB) string {
	t.Helper()
	p, err := govulncheck()
	if err != nil {
		Unavailable(t, "installing govulncheck "+XVulnVersion, err)
	}
	return p
}

// Symbol is a function as govulncheck names it.
type Symbol struct {
	Pkg  string `json:"pkg,omitempty"`
	Name string `json:"name,omitempty"`
}

// Blob is govulncheck's extraction of a binary (-mode=extract): its second
// JSON value.
type Blob struct {
	Path    string `json:"path"`
	Modules []struct {
		Path    string `json:"Path"`
		Version string `json:"Version"`
		Replace *struct {
			Path    string `json:"Path"`
			Version string `json:"Version"`
		} `json:"Replace"`
	} `json:"modules"`
	PkgSymbols []Symbol `json:"pkgSymbols"`
	GoVersion  string   `json:"goVersion"`
	GOOS       string   `json:"goos"`
	GOARCH     string   `json:"goarch"`
}

// ReadBlob decodes a govulncheck extraction (a header line, then the blob).
func ReadBlob(b []byte) (*Blob, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<28)
	var lines [][]byte
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			lines = append(lines, bytes.Clone(sc.Bytes()))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(lines) != 2 {
		return nil, fmt.Errorf("govulncheck extraction: %d JSON values, want 2", len(lines))
	}
	var h struct{ Name string }
	if err := json.Unmarshal(lines[0], &h); err != nil || h.Name != "govulncheck-extract" {
		return nil, errors.New("govulncheck extraction: no govulncheck-extract header")
	}
	var blob Blob
	if err := json.Unmarshal(lines[1], &blob); err != nil {
		return nil, fmt.Errorf("govulncheck extraction: %w", err)
	}
	return &blob, nil
}

// GovulncheckExtract runs `govulncheck -mode=extract bin`.
func GovulncheckExtract(t testing.TB, bin string) *Blob {
	t.Helper()
	cmd := exec.Command(Govulncheck(t), "-mode=extract", bin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("govulncheck -mode=extract %s: %v\n%s", bin, err, stderr.Bytes())
	}
	blob, err := ReadBlob(out)
	if err != nil {
		t.Fatal(err)
	}
	return blob
}

// WriteV1DB writes the OSV records (JSON) as a vulnerability database in
// the layout govulncheck reads (index/db.json, index/modules.json,
// index/vulns.json, ID/<id>.json; golang.org/x/vuln internal/client) and
// returns its directory, for `govulncheck -db file://<dir>`.
func WriteV1DB(t testing.TB, records [][]byte) string {
	t.Helper()
	dir := t.TempDir()
	type modVuln struct {
		ID       string `json:"id"`
		Modified string `json:"modified"`
		Fixed    string `json:"fixed,omitempty"`
	}
	type vuln struct {
		ID       string   `json:"id"`
		Modified string   `json:"modified"`
		Aliases  []string `json:"aliases,omitempty"`
	}
	mods := map[string][]modVuln{}
	var vulns []vuln
	latest := ""
	if err := os.MkdirAll(filepath.Join(dir, "ID"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, rec := range records {
		var r struct {
			ID       string   `json:"id"`
			Modified string   `json:"modified"`
			Aliases  []string `json:"aliases"`
			Affected []struct {
				Package struct{ Name string } `json:"package"`
				Ranges  []struct {
					Events []struct{ Fixed string } `json:"events"`
				} `json:"ranges"`
			} `json:"affected"`
		}
		if err := json.Unmarshal(rec, &r); err != nil {
			t.Fatal(err)
		}
		latest = max(latest, r.Modified)
		vulns = append(vulns, vuln{ID: r.ID, Modified: r.Modified, Aliases: r.Aliases})
		for _, a := range r.Affected {
			fixed := ""
			for _, rg := range a.Ranges {
				for _, e := range rg.Events {
					if e.Fixed != "" {
						fixed = e.Fixed
					}
				}
			}
			mods[a.Package.Name] = append(mods[a.Package.Name], modVuln{ID: r.ID, Modified: r.Modified, Fixed: fixed})
		}
		if err := os.WriteFile(filepath.Join(dir, "ID", r.ID+".json"), rec, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type module struct {
		Path  string    `json:"path"`
		Vulns []modVuln `json:"vulns"`
	}
	var index []module
	for p, v := range mods {
		index = append(index, module{Path: p, Vulns: v})
	}
	sort.Slice(index, func(i, j int) bool { return index[i].Path < index[j].Path })
	write := func(name string, v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "index"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "index", name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("db.json", map[string]string{"modified": latest})
	write("modules.json", index)
	write("vulns.json", vulns)
	return dir
}

// GovulncheckBinary runs govulncheck in binary mode on bin against the
// database in dir (see WriteV1DB) and returns, per vulnerability, the
// finest level it reported: "symbol" (a vulnerable symbol found), "package"
// (a vulnerable package imported), "module" (the module required).
func GovulncheckBinary(t testing.TB, dir, bin string) map[string]string {
	t.Helper()
	cmd := exec.Command(Govulncheck(t), "-mode=binary", "-db", "file://"+dir, "-format", "json", bin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("govulncheck -mode=binary %s: %v\n%s", bin, err, stderr.Bytes())
	}
	rank := map[string]int{"module": 0, "package": 1, "symbol": 2}
	levels := map[string]string{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var msg struct {
			Finding *struct {
				OSV   string `json:"osv"`
				Trace []struct {
					Package  string `json:"package"`
					Function string `json:"function"`
				} `json:"trace"`
			} `json:"finding"`
		}
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			t.Fatalf("govulncheck output: %v", err)
		}
		if msg.Finding == nil {
			continue
		}
		level := "module"
		if tr := msg.Finding.Trace; len(tr) > 0 && tr[0].Function != "" {
			level = "symbol"
		} else if len(tr) > 0 && tr[0].Package != "" {
			level = "package"
		}
		if old, ok := levels[msg.Finding.OSV]; !ok || rank[level] > rank[old] {
			levels[msg.Finding.OSV] = level
		}
	}
	return levels
}

// PeakHeap runs fn and returns the largest heap in use during it above the
// heap before it, sampled every millisecond (for benchmarks' peak memory).
func PeakHeap(fn func()) uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	base := m.HeapAlloc
	var peak atomic.Uint64
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > base && m.HeapAlloc-base > peak.Load() {
				peak.Store(m.HeapAlloc - base)
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	<-stopped
	return peak.Load()
}
