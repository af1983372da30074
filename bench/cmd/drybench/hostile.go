package main

// The hostile-input benchmark (issue 13, items 5–8): images whose files are
// made to cost a scanner time, memory or disk, generated here (never
// committed as blobs), each scanned once by `drydock sbom` with its peak RSS,
// CPU, wall time and peak temp space recorded.
//
//	drybench hostile [-drydock bin/drydock] [-only REGEXP] [-timeout 300s] [-work DIR]

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// hostileVersion is part of every generated input's stamp: bump it when an
// input's content changes.
const hostileVersion = "3"

const (
	kiB = 1 << 10
	miB = 1 << 20
	giB = 1 << 30
)

// hostileInput is one input of the set.
type hostileInput struct {
	Name string
	// Item is the number of the item of issue 13 the input reproduces.
	Item int
	// Owner is the part of drydock that bounds it.
	Owner string
	What  string
	// Args are extra drydock flags (before the reference).
	Args  []string
	build func(dir string) (ref string, err error)
}

// hostileInputs is the set, at the sizes of issue 13. scale (1 for the
// benchmark) divides every size, so that tests build the same shapes small.
func hostileInputs(scale int64) []hostileInput {
	s := func(n int64) int64 { return max(n/scale, 1) }
	var in []hostileInput
	for _, mb := range []int64{2, 4, 8, 200} {
		in = append(in, hostileInput{
			Name: fmt.Sprintf("dpkg-description-%dmb", mb), Item: 5, Owner: "extract/dpkg",
			What:  fmt.Sprintf("dpkg status: one package whose Description has %d MB of continuation lines", mb),
			build: func(dir string) (string, error) { return buildDpkgDescription(dir, s(mb*miB)) },
		})
	}
	in = append(in,
		hostileInput{Name: "jar-manifest-1mib", Item: 5, Owner: "extract/java",
			What:  "a jar whose MANIFEST.MF is 1 MiB of continuation lines",
			build: func(dir string) (string, error) { return buildManifestJar(dir, s(miB), 0) }},
		hostileInput{Name: "jar-manifest-1mib-nested8", Item: 5, Owner: "extract/java",
			What:  "a jar holding 8 nested copies of that jar",
			build: func(dir string) (string, error) { return buildManifestJar(dir, s(miB), 8) }},
		hostileInput{Name: "jar-pom-properties-1mib", Item: 5, Owner: "extract/java",
			What:  "a jar whose pom.properties is 1 MiB of backslash continuation lines",
			build: func(dir string) (string, error) { return buildPomJar(dir, s(miB)) }},
	)
	for _, mb := range []int64{50, 200} {
		in = append(in, hostileInput{
			Name: fmt.Sprintf("dpkg-status-%dmb", mb), Item: 6, Owner: "extract/dpkg",
			What:  fmt.Sprintf("dpkg status of %d MB of ordinary stanzas", mb),
			build: func(dir string) (string, error) { return buildDpkgStatus(dir, s(mb*miB)) },
		})
	}
	in = append(in,
		hostileInput{Name: "tar-2m-whiteouts", Item: 6, Owner: "walk",
			What:  "a layer of 2,000,000 whiteout entries over a small Debian layer",
			build: func(dir string) (string, error) { return buildWhiteouts(dir, s(2_000_000)) }},
		hostileInput{Name: "npm-lock-49mb", Item: 6, Owner: "extract/npm (streamed, 50,000 entries per lockfile)",
			What:  "a package-lock.json (v3) of 49 MB",
			build: func(dir string) (string, error) { return buildNpmLock(dir, s(49*miB)) }},
		hostileInput{Name: "node-modules-200k", Item: 6, Owner: "extract.Budget (50,000 packages per scan)",
			What:  "node_modules with 200,000 package.json",
			build: func(dir string) (string, error) { return buildNodeModules(dir, s(200_000)) }},
		hostileInput{Name: "config-50mb", Item: 6, Owner: "source/scan config (not fixed here)",
			What:  "an image config of 50 MB (Env and Labels)",
			build: func(dir string) (string, error) { return buildBigConfig(dir, s(50*miB)) }},
		hostileInput{Name: "zero-jars-2x472mb", Item: 7, Owner: "walk spill budget",
			What: "two layers each holding a 472 MB zero-filled .jar, --parallel 2",
			Args: []string{"--parallel", "2"},
			build: func(dir string) (string, error) {
				return buildZeroJars(dir, s(472*1000*1000))
			}},
		hostileInput{Name: "jar-bombs-8", Item: 7, Owner: "extract/java inflation budget",
			What:  "8 jars in one layer, each with 4 nested entries of 256 MiB of zeros (1 GiB each)",
			build: func(dir string) (string, error) { return buildJarBombs(dir, 8, 4, s(256*miB)) }},
		hostileInput{Name: "zstd-bomb-16gib", Item: 7, Owner: "walk layer cap",
			What:  "a zstd layer holding one 16 GiB file of zeros",
			build: func(dir string) (string, error) { return buildZstdBomb(dir, s(16*giB)) }},
		hostileInput{Name: "oci-archive-sparse-4gib", Item: 8, Owner: "source oci-archive (not fixed here)",
			What:  "an oci-archive with an unreferenced PAX-sparse entry of 4 GiB",
			build: func(dir string) (string, error) { return buildSparseArchive(dir, s(4*giB)) }},
	)
	in = append(in, lockfileInputs(s)...)
	return in
}

// hostileResult is one input's measurement.
type hostileResult struct {
	Name       string   `json:"name"`
	Item       int      `json:"item"`
	Owner      string   `json:"owner"`
	What       string   `json:"what"`
	BlobBytes  int64    `json:"blob_bytes"`
	ExitCode   int      `json:"exit_code"`
	TimedOut   bool     `json:"timed_out,omitempty"`
	WallS      float64  `json:"wall_s"`
	CPUS       float64  `json:"cpu_s"`
	PeakRSSMB  float64  `json:"peak_rss_mb"`
	PeakTempMB float64  `json:"peak_temp_mb"`
	Packages   int      `json:"packages"`
	Notes      []string `json:"notes,omitempty"`
	Stderr     string   `json:"stderr,omitempty"`
	// LoadAvg is /proc/loadavg when the scan started: other processes on
	// the machine stretch wall and CPU times.
	LoadAvg string `json:"load_avg"`
}

func hostileCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("drybench hostile", flag.ContinueOnError)
	repo := fs.String("repo", "", "repository root (default: found from the working directory)")
	work := fs.String("work", "", "where inputs and results go (default REPO/bench/.work/hostile)")
	drydock := fs.String("drydock", "", "drydock binary (default REPO/bin/drydock)")
	only := fs.String("only", "", "run only the inputs whose name matches this regular expression")
	timeout := fs.Duration("timeout", 300*time.Second, "kill a scan after this long")
	out := fs.String("o", "", "results file (default WORK/results.json)")
	buildOnly := fs.Bool("build-only", false, "generate the inputs and stop")
	scale := fs.Int64("scale", 1, "divide every input size by this (a quick trial run; the figures are for 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if *repo == "" {
		if *repo, err = findRepo(); err != nil {
			return err
		}
	}
	if *work == "" {
		*work = filepath.Join(*repo, "bench", ".work", "hostile")
	}
	if *drydock == "" {
		*drydock = filepath.Join(*repo, "bin", "drydock")
	}
	var re *regexp.Regexp
	if *only != "" {
		if re, err = regexp.Compile(*only); err != nil {
			return err
		}
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "drybench hostile: "+format+"\n", a...) }
	var results []hostileResult
	if *scale < 1 {
		return errors.New("-scale must be at least 1")
	}
	if *scale != 1 {
		*work = filepath.Join(*work, fmt.Sprintf("scale-%d", *scale))
	}
	if *out == "" {
		*out = filepath.Join(*work, "results.json")
	}
	for _, in := range hostileInputs(*scale) {
		if re != nil && !re.MatchString(in.Name) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		start := time.Now()
		ref, blob, err := generate(filepath.Join(*work, "inputs", in.Name), in)
		if err != nil {
			return fmt.Errorf("generating %s: %w", in.Name, err)
		}
		logf("%s: input ready (%s, %.1f MB of blobs) in %s", in.Name, ref, float64(blob)/1e6, time.Since(start).Round(time.Millisecond))
		if *buildOnly {
			continue
		}
		r, err := runHostile(ctx, *drydock, *work, ref, in, *timeout)
		if err != nil {
			return fmt.Errorf("scanning %s: %w", in.Name, err)
		}
		r.BlobBytes = blob
		logf("%s: exit %d%s, %.2f s wall, %.2f s CPU, peak RSS %.0f MB, peak temp %.0f MB, %d packages, %d notes",
			in.Name, r.ExitCode, map[bool]string{true: " (killed: timeout)"}[r.TimedOut], r.WallS, r.CPUS, r.PeakRSSMB, r.PeakTempMB, r.Packages, len(r.Notes))
		results = append(results, r)
	}
	if *buildOnly {
		return nil
	}
	printHostile(os.Stdout, results)
	js, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(*out, append(js, '\n'), 0o644)
}

// generate builds the input into dir unless a stamp says it is there.
func generate(dir string, in hostileInput) (ref string, blobBytes int64, err error) {
	stamp := filepath.Join(dir, "stamp")
	if b, err := os.ReadFile(stamp); err == nil {
		if v, ref, ok := strings.Cut(string(b), "\n"); ok && v == hostileVersion {
			return ref, dirSize(dir), nil
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return "", 0, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", 0, err
	}
	if ref, err = in.build(dir); err != nil {
		return "", 0, err
	}
	if err := os.WriteFile(stamp, []byte(hostileVersion+"\n"+ref), 0o644); err != nil {
		return "", 0, err
	}
	return ref, dirSize(dir), nil
}

// dirSize is the bytes of the regular files under dir: the blobs, mostly.
func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// treeUsage is the largest VmHWM (peak RSS) of pid and its children, in
// bytes, and their CPU time in clock ticks (1/100 s).
func treeUsage(pid int) (hwm, ticks int64) {
	pids := []int{pid}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err == nil {
		for _, f := range strings.Fields(string(b)) {
			var c int
			if _, err := fmt.Sscan(f, &c); err == nil {
				pids = append(pids, c)
			}
		}
	}
	for _, p := range pids {
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p)); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					var kb int64
					if _, err := fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb); err == nil {
						hwm = max(hwm, kb*1024)
					}
				}
			}
		}
		// /proc/PID/stat: utime and stime are fields 14 and 15, after the
		// command name in parentheses.
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p)); err == nil {
			if i := bytes.LastIndexByte(b, ')'); i >= 0 {
				if f := strings.Fields(string(b[i+1:])); len(f) > 13 {
					var u, s int64
					fmt.Sscan(f[11], &u)
					fmt.Sscan(f[12], &s)
					ticks += u + s
				}
			}
		}
	}
	return hwm, ticks
}

// timeBin measures the peak RSS of a scan.
const timeBin = "/usr/bin/time"

// runHostile scans ref once with a new cache dir and TMPDIR, polling the
// temp dir for its peak size.
func runHostile(ctx context.Context, drydock, work, ref string, in hostileInput, timeout time.Duration) (hostileResult, error) {
	r := hostileResult{Name: in.Name, Item: in.Item, Owner: in.Owner, What: in.What}
	run, err := os.MkdirTemp(work, "run-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(run)
	tmp, cache, report := filepath.Join(run, "tmp"), filepath.Join(run, "cache"), filepath.Join(run, "report.json")
	for _, d := range []string{tmp, cache} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return r, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := append([]string{"--quiet", "--cache-dir", cache, "sbom", "--format", "json", "-o", report}, in.Args...)
	args = append(args, ref)
	// The peak RSS comes from /usr/bin/time, a small process: the rusage of
	// a child of this one would count this process's own pages, which it
	// shares until exec (Go starts children with vfork).
	timeOut := filepath.Join(run, "time")
	name := drydock
	if _, err := os.Stat(timeBin); err == nil {
		args = append([]string{"-f", "%M %e %U %S", "-o", timeOut, drydock}, args...)
		name = timeBin
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	// Killing /usr/bin/time on a timeout must kill drydock too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

	var peak, hwm, ticks atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if n := dirSize(tmp); n > peak.Load() {
				peak.Store(n)
			}
			// VmHWM of the processes under the one started, for a scan
			// killed on the timeout (/usr/bin/time then reports nothing).
			if cmd.Process != nil {
				n, t := treeUsage(cmd.Process.Pid)
				if n > hwm.Load() {
					hwm.Store(n)
				}
				if t > ticks.Load() {
					ticks.Store(t)
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	})
	r.LoadAvg = loadAvg()
	start := time.Now()
	err = cmd.Run()
	r.WallS = time.Since(start).Seconds()
	close(stop)
	wg.Wait()
	r.PeakTempMB = float64(peak.Load()) / 1e6
	// Lower bounds, from the last poll, replaced below when known.
	r.PeakRSSMB, r.CPUS = float64(hwm.Load())/1e6, float64(ticks.Load())/100
	if cmd.ProcessState == nil {
		return r, err
	}
	r.ExitCode = cmd.ProcessState.ExitCode()
	r.TimedOut = ctx.Err() != nil
	r.CPUS = max(r.CPUS, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds())
	if b, err := os.ReadFile(timeOut); err == nil {
		// "Command exited with non-zero status N" may come first.
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		var kb, wall, user, sys float64
		if _, err := fmt.Sscan(lines[len(lines)-1], &kb, &wall, &user, &sys); err == nil {
			r.PeakRSSMB, r.CPUS = kb*1024/1e6, user+sys
		}
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && name == drydock {
		r.PeakRSSMB = float64(ru.Maxrss) * 1024 / 1e6 // Linux: KiB; may include this process's pages
	}
	if r.TimedOut {
		r.ExitCode = -1
	}
	if r.ExitCode != 0 {
		r.Stderr = tail(stderr.String(), 600)
	}
	if f, err := os.Open(report); err == nil {
		defer f.Close()
		var rep struct {
			Packages []struct{} `json:"packages"`
			Notes    []struct {
				Level   string `json:"level"`
				Path    string `json:"path"`
				Message string `json:"message"`
			} `json:"notes"`
		}
		if err := json.NewDecoder(bufio.NewReader(f)).Decode(&rep); err == nil {
			r.Packages = len(rep.Packages)
			for _, n := range rep.Notes {
				r.Notes = append(r.Notes, head(fmt.Sprintf("%s %s: %s", n.Level, n.Path, n.Message), 300))
			}
		}
	}
	return r, nil
}

// head is the first n bytes of s, marked as cut.
func head(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func printHostile(w io.Writer, rs []hostileResult) {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintln(tw, "| input\t| item\t| blobs\t| exit\t| wall\t| CPU\t| peak RSS\t| peak temp\t| packages\t| notes\t|")
	fmt.Fprintln(tw, "|---\t|---\t|---\t|---\t|---\t|---\t|---\t|---\t|---\t|---\t|")
	for _, r := range rs {
		exit := fmt.Sprint(r.ExitCode)
		if r.TimedOut {
			exit = "killed"
		}
		fmt.Fprintf(tw, "| %s\t| %d\t| %s\t| %s\t| %.1f s\t| %.1f s\t| %.0f MB\t| %.0f MB\t| %d\t| %d\t|\n",
			r.Name, r.Item, humanBytes(r.BlobBytes), exit, r.WallS, r.CPUS, r.PeakRSSMB, r.PeakTempMB, r.Packages, len(r.Notes))
	}
	tw.Flush()
}

func humanBytes(n int64) string {
	switch {
	case n >= 10*miB:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= miB:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 10*kiB:
		return fmt.Sprintf("%.0f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// --- layers and images ---------------------------------------------------

// layerFile writes one layer blob: tar entries, compressed, to a file, with
// the digests of both sides computed on the way (a 16 GiB layer is never
// read back to learn its diff_id).
type layerFile struct {
	path     string
	f        *os.File
	bw       *bufio.Writer
	blobHash hash.Hash
	diffHash hash.Hash
	zw       io.WriteCloser
	tw       *tar.Writer
	blob     countWriter
	zstd     bool
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func newLayerFile(path string, useZstd bool) (*layerFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	l := &layerFile{path: path, f: f, bw: bufio.NewWriterSize(f, miB), blobHash: sha256.New(), diffHash: sha256.New(), zstd: useZstd}
	l.blob.w = io.MultiWriter(l.bw, l.blobHash)
	if useZstd {
		l.zw, err = zstd.NewWriter(&l.blob, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	} else {
		l.zw, err = gzip.NewWriterLevel(&l.blob, gzip.DefaultCompression)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	l.tw = tar.NewWriter(io.MultiWriter(l.zw, l.diffHash))
	return l, nil
}

var fixedMtime = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// paxRecord is one "length key=value\n" record of a PAX header, the length
// counting itself.
func paxRecord(k, v string) string {
	rest := " " + k + "=" + v + "\n"
	n := len(rest) + 1
	for len(fmt.Sprint(n))+len(rest) != n {
		n++
	}
	return fmt.Sprint(n) + rest
}

// tarBlock is a ustar header block.
func tarBlock(name string, size int64, typ byte) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", fixedMtime.Unix()))
	copy(b[148:156], "        ")
	b[156] = typ
	copy(b[257:265], "ustar\x0000")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

// padBlock pads b to a multiple of 512 bytes.
func padBlock(b []byte) []byte {
	return append(b, make([]byte, (512-len(b)%512)%512)...)
}

func (l *layerFile) file(name string, data []byte) error {
	return l.stream(name, int64(len(data)), bytes.NewReader(data))
}

func (l *layerFile) stream(name string, size int64, r io.Reader) error {
	if err := l.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg, ModTime: fixedMtime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	n, err := io.Copy(l.tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s: wrote %d of %d bytes", name, n, size)
	}
	return err
}

// fileFrom writes name with what gen writes: first to a temp file beside
// the layer (the size goes in the tar header first), then into the layer,
// so that a 200 MB file is never held in memory.
func (l *layerFile) fileFrom(name string, gen func(w io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(l.path), "gen-")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()
	bw := bufio.NewWriterSize(tmp, miB)
	if err := gen(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	size, err := tmp.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	return l.stream(name, size, bufio.NewReaderSize(tmp, miB))
}

// entry writes a header-only entry (whiteout, empty file).
func (l *layerFile) entry(name string) error {
	return l.tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, ModTime: fixedMtime, Format: tar.FormatUSTAR})
}

// close finishes the blob and returns it as a layer.
func (l *layerFile) close() (v1.Layer, error) {
	err := l.tw.Close()
	if err == nil {
		err = l.zw.Close()
	}
	if err == nil {
		err = l.bw.Flush()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing layer %q: %w", l.path, err)
	}
	fl := &fileLayer{path: l.path, size: l.blob.n, mt: types.OCILayer}
	if l.zstd {
		fl.mt = types.OCILayerZStd
	}
	fl.digest = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(l.blobHash.Sum(nil))}
	fl.diffID = v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(l.diffHash.Sum(nil))}
	return partial.CompressedToLayer(fl)
}

// fileLayer is a compressed blob on disk whose digests are known.
type fileLayer struct {
	path           string
	size           int64
	digest, diffID v1.Hash
	mt             types.MediaType
}

func (l *fileLayer) Digest() (v1.Hash, error)            { return l.digest, nil }
func (l *fileLayer) DiffID() (v1.Hash, error)            { return l.diffID, nil }
func (l *fileLayer) Size() (int64, error)                { return l.size, nil }
func (l *fileLayer) MediaType() (types.MediaType, error) { return l.mt, nil }
func (l *fileLayer) Compressed() (io.ReadCloser, error)  { return os.Open(l.path) }

// layerOf writes one gzip layer with fill.
func layerOf(path string, useZstd bool, fill func(l *layerFile) error) (v1.Layer, error) {
	l, err := newLayerFile(path, useZstd)
	if err != nil {
		return nil, err
	}
	if err := fill(l); err != nil {
		l.f.Close()
		return nil, fmt.Errorf("writing layer %q: %w", path, err)
	}
	return l.close()
}

// writeImage writes an OCI layout at dir/oci with the layers, tagged "img",
// and returns its reference. edit, if set, changes the config.
func writeImage(dir string, edit func(*v1.ConfigFile), layers ...v1.Layer) (string, error) {
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(img, layers...)
	if err != nil {
		return "", err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: fixedMtime}
	if edit != nil {
		edit(cf)
	}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return "", err
	}
	oci := filepath.Join(dir, "oci")
	lp, err := layout.Write(oci, empty.Index)
	if err != nil {
		return "", err
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "img"})); err != nil {
		return "", err
	}
	// The layer files were copied into the layout.
	tmp, _ := filepath.Glob(filepath.Join(dir, "*.tar.*"))
	for _, p := range tmp {
		if err := os.Remove(p); err != nil {
			return "", err
		}
	}
	return "oci:" + oci + ":img", nil
}

// debianBase writes the base files of a Debian image and a 3-package status.
func debianBase(l *layerFile) error {
	if err := l.file("etc/os-release", []byte("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n")); err != nil {
		return err
	}
	if err := l.file("etc/debian_version", []byte("12.5\n")); err != nil {
		return err
	}
	return l.fileFrom("var/lib/dpkg/status", func(w io.Writer) error {
		for i := range 3 {
			writeStanza(w, i)
		}
		return nil
	})
}

// writeStanza writes an ordinary status stanza of about 1 KB and returns
// its size.
func writeStanza(w io.Writer, i int) int {
	n, _ := fmt.Fprintf(w, `Package: pkg%06d
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: %d
Maintainer: Debian Example Maintainers <pkg-example@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: src%05d (1.2.%d-4)
Version: 1.2.%d-4+b1
Depends: libc6 (>= 2.34), libgcc-s1 (>= 3.0), libstdc++6 (>= 12), zlib1g (>= 1:1.2.0), libssl3 (>= 3.0.0)
Description: example library number %d
 This package provides the example library used by several programs of
 the example suite. It is a made-up package of the drydock benchmark.
 .
 The library offers parsing, formatting and validation of example data,
 with bindings for C and C++; the documentation is in the -doc package,
 the headers are in the -dev package, and the tools in the -bin package.
 .
 This package contains the shared library, version %d.
Homepage: https://example.org/pkg%06d

`, i, 100+i%5000, i/3, i%97, i%97, i, i%7, i)
	return n
}

const descLine = " lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod\n"

func buildDpkgDescription(dir string, size int64) (string, error) {
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, func(l *layerFile) error {
		if err := l.file("etc/os-release", []byte("ID=debian\nVERSION_ID=\"12\"\n")); err != nil {
			return err
		}
		var head strings.Builder
		for i := range 3 {
			writeStanza(&head, i)
		}

		head.WriteString("Package: bigdesc\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\nDescription: a package with a very long description\n")
		body := size - int64(head.Len())
		lines := max(body/int64(len(descLine)), 1)
		tail := "Homepage: https://example.org/bigdesc\n"
		total := int64(head.Len()) + lines*int64(len(descLine)) + int64(len(tail))
		r := io.MultiReader(strings.NewReader(head.String()), &repeatReader{unit: []byte(descLine), n: lines * int64(len(descLine))}, strings.NewReader(tail))
		return l.stream("var/lib/dpkg/status", total, r)
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, l)
}

func buildDpkgStatus(dir string, size int64) (string, error) {
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, func(l *layerFile) error {
		if err := l.file("etc/os-release", []byte("ID=debian\nVERSION_ID=\"12\"\n")); err != nil {
			return err
		}
		return l.fileFrom("var/lib/dpkg/status", func(w io.Writer) error {
			for i, n := 0, int64(0); n < size; i++ {
				n += int64(writeStanza(w, i))
			}
			return nil
		})
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, l)
}

// repeatReader yields unit again and again, n bytes in all.
type repeatReader struct {
	unit []byte
	off  int
	n    int64
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n := 0
	for n < len(p) {
		c := copy(p[n:], r.unit[r.off:])
		n += c
		r.off = (r.off + c) % len(r.unit)
	}
	r.n -= int64(n)
	return n, nil
}

// zeros reads n zero bytes.
func zeros(n int64) io.Reader { return &repeatReader{unit: make([]byte, 64*kiB), n: n} }

// jarBytes builds a zip; each entry is deflated unless stored.
type jarEntry struct {
	name   string
	data   io.Reader
	stored bool
}

func jarBytes(entries ...jarEntry) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		m := zip.Deflate
		if e.stored {
			m = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: m, Modified: fixedMtime})
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(w, e.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// manifestJar is a jar whose manifest is size bytes, nearly all of it
// continuation lines of the Implementation-Title.
func manifestJar(size int64) ([]byte, error) {
	head := "Manifest-Version: 1.0\nImplementation-Version: 1.0\nImplementation-Title: bomb\n"
	unit := " a\n"
	body := max(size-int64(len(head)), 0) / int64(len(unit)) * int64(len(unit))
	return jarBytes(jarEntry{name: "META-INF/MANIFEST.MF", data: io.MultiReader(strings.NewReader(head), &repeatReader{unit: []byte(unit), n: body})})
}

func buildManifestJar(dir string, size int64, nested int) (string, error) {
	jar, err := manifestJar(size)
	if err != nil {
		return "", err
	}
	if nested > 0 {
		var entries []jarEntry
		for i := range nested {
			entries = append(entries, jarEntry{name: fmt.Sprintf("lib/copy%d-1.0.jar", i), data: bytes.NewReader(jar), stored: true})
		}
		if jar, err = jarBytes(entries...); err != nil {
			return "", err
		}
	}
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, func(l *layerFile) error {
		return l.file("app/bomb-1.0.jar", jar)
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, l)
}

func buildPomJar(dir string, size int64) (string, error) {
	head := "groupId=org.example\nartifactId=bomb\nversion=1.0\ndescription=a\\\n"
	unit := "a\\\n"
	body := max(size-int64(len(head))-4, 0) / int64(len(unit)) * int64(len(unit))
	jar, err := jarBytes(jarEntry{name: "META-INF/maven/org.example/bomb/pom.properties",
		data: io.MultiReader(strings.NewReader(head), &repeatReader{unit: []byte(unit), n: body}, strings.NewReader("end\n"))})
	if err != nil {
		return "", err
	}
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, func(l *layerFile) error {
		return l.file("app/bomb-1.0.jar", jar)
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, l)
}

func buildWhiteouts(dir string, n int64) (string, error) {
	base, err := layerOf(filepath.Join(dir, "base.tar.gz"), false, debianBase)
	if err != nil {
		return "", err
	}
	wh, err := layerOf(filepath.Join(dir, "whiteouts.tar.gz"), false, func(l *layerFile) error {
		for i := range n {
			if err := l.entry(fmt.Sprintf("srv/data/d%04d/.wh.file-%07d.dat", i/1000, i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, base, wh)
}

func buildNpmLock(dir string, size int64) (string, error) {
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, func(l *layerFile) error {
		if err := l.file("app/package.json", []byte(`{"name":"app","version":"1.0.0","dependencies":{"p000000":"^1.0.0"}}`)); err != nil {
			return err
		}
		return l.fileFrom("app/package-lock.json", func(w io.Writer) error {
			n, _ := io.WriteString(w, `{"name":"app","version":"1.0.0","lockfileVersion":3,"requires":true,"packages":{"":{"name":"app","version":"1.0.0","dependencies":{"p000000":"^1.0.0"}}`)
			for i, total := 0, int64(n); total < size; i++ {
				n, _ = fmt.Fprintf(w, `,"node_modules/p%06d":{"version":"1.0.%d","resolved":"https://registry.npmjs.org/p%06d/-/p%06d-1.0.%d.tgz","integrity":"sha512-%s","license":"MIT","dependencies":{"p%06d":"^1.0.0"}}`,
					i, i%10, i, i, i%10, strings.Repeat("A", 86)+"==", i+1)
				total += int64(n)
			}
			_, err := io.WriteString(w, "}}\n")
			return err
		})
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, l)
}

func buildNodeModules(dir string, n int64) (string, error) {
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, func(l *layerFile) error {
		for i := range n {
			js := fmt.Sprintf(`{"name":"p%06d","version":"1.0.%d","description":"package %d of the benchmark","license":"MIT","main":"index.js"}`, i, i%10, i)
			if err := l.file(fmt.Sprintf("app/node_modules/p%06d/package.json", i), []byte(js)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, l)
}

func buildBigConfig(dir string, size int64) (string, error) {
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, func(l *layerFile) error {
		return l.file("etc/motd", []byte("hello\n"))
	})
	if err != nil {
		return "", err
	}
	value := strings.Repeat("v", 1000)
	return writeImage(dir, func(cf *v1.ConfigFile) {
		cf.Config.Labels = map[string]string{}
		for i := int64(0); i*2*1016 < size; i++ {
			cf.Config.Env = append(cf.Config.Env, fmt.Sprintf("VAR_%08d=%s", i, value))
			cf.Config.Labels[fmt.Sprintf("org.example.l%08d", i)] = value
		}
	}, l)
}

func buildZeroJars(dir string, size int64) (string, error) {
	var layers []v1.Layer
	for i := range 2 {
		l, err := layerOf(filepath.Join(dir, fmt.Sprintf("layer%d.tar.gz", i)), false, func(l *layerFile) error {
			return l.stream(fmt.Sprintf("app/zero%d.jar", i), size, zeros(size))
		})
		if err != nil {
			return "", err
		}
		layers = append(layers, l)
	}
	return writeImage(dir, nil, layers...)
}

// buildJarBombs: jars in one layer, each with entries nested archives of
// entry bytes: a zip local-header signature then zeros, so nothing short of
// inflating them tells they are not archives.
func buildJarBombs(dir string, jars, entries int, entry int64) (string, error) {
	var es []jarEntry
	for i := range entries {
		es = append(es, jarEntry{name: fmt.Sprintf("lib/inner%d-1.0.jar", i), data: io.MultiReader(strings.NewReader("PK\x03\x04"), zeros(entry-4))})
	}
	jar, err := jarBytes(es...)
	if err != nil {
		return "", err
	}
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, func(l *layerFile) error {
		for i := range jars {
			if err := l.file(fmt.Sprintf("app/bomb%d-1.0.jar", i), jar); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, l)
}

func buildZstdBomb(dir string, size int64) (string, error) {
	l, err := layerOf(filepath.Join(dir, "layer.tar.zst"), true, func(l *layerFile) error {
		if err := l.file("etc/os-release", []byte("ID=alpine\nVERSION_ID=3.20.0\n")); err != nil {
			return err
		}
		return l.stream("data/zero.img", size, zeros(size))
	})
	if err != nil {
		return "", err
	}
	return writeImage(dir, nil, l)
}

// buildSparseArchive writes an oci-archive (a tar of an OCI layout) of a
// small image, plus an entry no index or manifest references: a PAX sparse
// (1.0) file of size bytes whose only data is its last byte.
func buildSparseArchive(dir string, size int64) (string, error) {
	l, err := layerOf(filepath.Join(dir, "layer.tar.gz"), false, debianBase)
	if err != nil {
		return "", err
	}
	if _, err := writeImage(dir, nil, l); err != nil {
		return "", err
	}
	oci := filepath.Join(dir, "oci")
	archive := filepath.Join(dir, "image.tar")
	f, err := os.Create(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(oci, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == oci {
			return err
		}
		rel, _ := filepath.Rel(oci, p)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(fi, "")
		if err != nil {
			return err
		}
		hdr.Name, hdr.ModTime = filepath.ToSlash(rel), fixedMtime
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			src, err := os.Open(p)
			if err != nil {
				return err
			}
			defer src.Close()
			_, err = io.Copy(tw, src)
			return err
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	// The sparse entry: a PAX header naming the real file and its size, a
	// data block holding the sparse map ("1 region: offset size-1, 1 byte"),
	// then the one byte of data. Written as raw blocks: archive/tar does not
	// write sparse files.
	if err := tw.Flush(); err != nil {
		return "", err
	}
	name := "blobs/sha256/" + strings.Repeat("0", 64)
	var pax strings.Builder
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.name", name}, {"GNU.sparse.realsize", fmt.Sprint(size)}} {
		pax.WriteString(paxRecord(kv[0], kv[1]))
	}
	data := make([]byte, 1024)
	copy(data, fmt.Sprintf("1\n%d\n1\n", size-1))
	data[512] = 'x'
	for _, blk := range [][]byte{
		tarBlock("PaxHeaders.0/sparse", int64(pax.Len()), 'x'), padBlock([]byte(pax.String())),
		tarBlock("GNUSparseFile.0/sparse", 512+1, '0'), data, // the map block, then 1 byte and padding
	} {
		if _, err := f.Write(blk); err != nil {
			return "", err
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.RemoveAll(oci); err != nil {
		return "", err
	}
	return "oci-archive:" + archive, nil
}
