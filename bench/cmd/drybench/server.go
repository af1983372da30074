package main

// "drybench server": the fleet benchmark of issue 14. It pushes N images to a
// real docker-registry on loopback, runs bin/drydock server (API only) and
// bin/drydock worker --workers W on a throwaway PostgreSQL database for each
// W, submits every scan over the API and times them to the last completed
// job; then it measures the store's size per image and the latency of the
// report endpoint under load from this process. The baseline, in the same
// run, is bin/drydock image on the same references one after another. See
// docs/performance.md, "Server".

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/jackc/pgx/v5"

	"github.com/drydock-scan/drydock/internal/testimage"
)

type serverOptions struct {
	repo, work, drydock, registry, postgres, shared string
	images                                          int
	workers, clients                                []int
	duration                                        time.Duration
	noBaseline                                      bool
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a list of positive numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func serverCmd(ctx context.Context, args []string) error {
	var o serverOptions
	var workers, clients string
	fs := flag.NewFlagSet("drybench server", flag.ContinueOnError)
	fs.IntVar(&o.images, "n", 40, "images pushed and scanned")
	fs.StringVar(&workers, "workers", "1,2,4", "worker counts (drydock worker --workers W), one fresh database each")
	fs.StringVar(&clients, "clients", "16,64", "concurrent clients of the report endpoint")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "how long each report load runs")
	fs.StringVar(&o.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.StringVar(&o.work, "work", "", "work directory (default REPO/bench/.work/server)")
	fs.StringVar(&o.drydock, "drydock", "", "drydock binary (default REPO/bin/drydock)")
	fs.StringVar(&o.registry, "registry", "/usr/bin/docker-registry", "docker-registry binary (Debian package docker-registry)")
	fs.StringVar(&o.postgres, "postgres", "postgres://postgres@127.0.0.1:5432/postgres", "PostgreSQL maintenance database; a throwaway database is created next to it for each worker count")
	fs.StringVar(&o.shared, "shared", "", "shared data directory with rootfs/ (default REPO/../shared/data)")
	fs.BoolVar(&o.noBaseline, "no-baseline", false, "skip the sequential drydock image baseline")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.workers, err = parseInts(workers); err != nil {
		return fmt.Errorf("-workers: %w", err)
	}
	if o.clients, err = parseInts(clients); err != nil {
		return fmt.Errorf("-clients: %w", err)
	}
	if o.repo == "" {
		if o.repo, err = findRepo(); err != nil {
			return err
		}
	}
	if o.work == "" {
		o.work = filepath.Join(o.repo, "bench", ".work", "server")
	}
	if o.drydock == "" {
		o.drydock = filepath.Join(o.repo, "bin", "drydock")
	}
	if o.shared == "" {
		o.shared = filepath.Join(filepath.Dir(o.repo), "shared", "data")
	}
	for _, p := range []string{o.drydock, o.registry} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing (make build; apt-get install docker-registry): %w", p, err)
		}
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return err
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "drybench server: "+format+"\n", a...) }
	res, err := runServerBench(ctx, o, logf)
	if err != nil {
		return err
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	out := filepath.Join(o.work, "results-"+res.Started.UTC().Format("20060102T150405")+".json")
	if err := os.WriteFile(out, append(js, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Print(serverTable(res))
	logf("results written to %s", out)
	return nil
}

// serverResults is what one run measured (written as JSON).
type serverResults struct {
	Started     time.Time     `json:"started"`
	Commit      string        `json:"commit"`
	Machine     machineInfo   `json:"machine"`
	LoadBefore  string        `json:"loadavg_before"`
	LoadAfter   string        `json:"loadavg_after"`
	Images      int           `json:"images"`
	Layers      int           `json:"distinct_layers"`
	Compressed  int64         `json:"compressed_bytes_distinct"`
	Baseline    []baselineRun `json:"baseline"`
	Fleet       []fleetRun    `json:"fleet"`
	Commands    []string      `json:"commands"`
	ImageLayout []string      `json:"image_layout"`
}

type baselineRun struct {
	Name     string  `json:"name"`
	Seconds  float64 `json:"seconds"`
	CPU      float64 `json:"cpu_seconds"`
	PerMin   float64 `json:"images_per_minute"`
	Describe string  `json:"describe"`
}

type fleetRun struct {
	Workers    int              `json:"workers"`
	Seconds    float64          `json:"seconds"`
	PerMin     float64          `json:"images_per_minute"`
	WorkerCPU  float64          `json:"worker_cpu_seconds"`
	DBBytes    int64            `json:"database_bytes"`
	EmptyBytes int64            `json:"database_bytes_before"`
	Tables     map[string]int64 `json:"table_bytes"`
	Stored     int              `json:"images_stored"`
	Rows       map[string]int64 `json:"table_rows"`
	Latency    []latencyRun     `json:"report_latency"`
}

type latencyRun struct {
	Clients  int     `json:"clients"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	PerSec   float64 `json:"requests_per_second"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
	BytesAvg int64   `json:"bytes_per_report"`
	// ServerCPU is the server process's user+system CPU during the load,
	// per request (from /proc/PID/stat).
	ServerCPU float64 `json:"server_cpu_ms_per_request"`
}

// procCPU is a process's user+system CPU time so far, from /proc/PID/stat.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	d, err := statCPU(string(b))
	if err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return d, nil
}

// statCPU reads utime+stime from a /proc/PID/stat line. The fields after
// the command name (which may hold spaces and parentheses) start at state;
// utime and stime are fields 14 and 15 (1-based), in clock ticks (100 per
// second on Linux).
func statCPU(stat string) (time.Duration, error) {
	i := strings.LastIndex(stat, ") ")
	if i < 0 {
		return 0, fmt.Errorf("no command name in %q", stat)
	}
	f := strings.Fields(stat[i+2:])
	if len(f) < 13 {
		return 0, fmt.Errorf("too few fields in %q", stat)
	}
	var ticks int64
	for _, x := range f[11:13] {
		n, err := strconv.ParseInt(x, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parsing %q: %w", x, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// storeTables are the tables whose sizes are reported per image.
var storeTables = []string{"images", "inventories", "findings", "layer_results", "image_packages"}

// percentile is the nearest-rank percentile (p in 0..100) of sorted
// durations, in milliseconds; 0 for none.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999999) - 1
	rank = max(0, min(rank, len(sorted)-1))
	return float64(sorted[rank]) / float64(time.Millisecond)
}

func perMin(images int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(images) / d.Minutes()
}

// serverImage is one image of the benchmark fleet.
type serverImage struct {
	repo, tag string
	img       v1.Image
}

// fleetLayers builds (once, kept under work/layers) the shared layers: two
// bases and four application layers copied from real files of this machine.
func fleetLayers(o serverOptions, logf func(string, ...any)) (bases, apps []testimage.Layer, describe []string, err error) {
	dir := filepath.Join(o.work, "layers")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, nil, err
	}
	b := &builder{logf: logf}
	tree := func(file, root, prefix string, limit int64) (string, error) {
		p := filepath.Join(dir, file)
		return p, b.writeLayer(p, func(lw *layerWriter) error { return addTreeLimit(lw, root, prefix, limit) })
	}
	alpine := filepath.Join(o.shared, "rootfs", "alpine-minirootfs-3.16.9-x86_64.tar.gz")
	debMeta := filepath.Join(o.shared, "rootfs", "debian-12.15-bookworm-minbase-dpkg-only.tar.gz")
	debBin, err := tree("debian-usr-bin.tar.gz", "/usr/bin", "usr/bin", 60<<20)
	if err != nil {
		return nil, nil, nil, err
	}
	bases = []testimage.Layer{
		{TarPath: alpine, CreatedBy: "ADD alpine-minirootfs-3.16.9-x86_64.tar.gz /"},
		{TarPath: debMeta, CreatedBy: "ADD debian-12.15 minbase dpkg database /"},
	}
	type app struct{ file, root, prefix, by string }
	for _, a := range []app{
		{"python.tar.gz", "/usr/lib/python3/dist-packages", "usr/lib/python3/dist-packages", "RUN pip install (this machine's dist-packages)"},
		{"node.tar.gz", "/usr/lib/node_modules", "usr/lib/node_modules", "RUN npm install -g (this machine's node_modules)"},
		{"go.tar.gz", "/usr/bin/docker-registry", "usr/local/bin/docker-registry", "COPY docker-registry (Go 1.19 binary)"},
		{"java.tar.gz", "/usr/share/java", "usr/share/java", "COPY jars (this machine's /usr/share/java)"},
	} {
		p, err := tree(a.file, a.root, a.prefix, 0)
		if err != nil {
			return nil, nil, nil, err
		}
		apps = append(apps, testimage.Layer{TarPath: p, CreatedBy: a.by})
	}
	// The last of apps is the Debian base's second layer: 60 MB of real
	// binaries above its dpkg database (fleetImages takes it off).
	apps = append(apps, testimage.Layer{TarPath: debBin, CreatedBy: "COPY 60 MB of /usr/bin"})
	for _, l := range append(slices.Clone(bases), apps...) {
		fi, err := os.Stat(l.TarPath)
		if err != nil {
			return nil, nil, nil, err
		}
		describe = append(describe, fmt.Sprintf("%s (%s, %.1f MB compressed)", filepath.Base(l.TarPath), l.CreatedBy, float64(fi.Size())/1e6))
	}
	return bases, apps, describe, nil
}

// addTreeLimit is addTree for a file or a directory, stopping (at a file
// boundary) once limit bytes of regular files are written (0: no limit).
func addTreeLimit(lw *layerWriter, root, prefix string, limit int64) error {
	fi, err := os.Stat(root)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		f, err := os.Open(root)
		if err != nil {
			return err
		}
		defer f.Close()
		return lw.add(&tar.Header{Typeflag: tar.TypeReg, Name: prefix, Mode: 0o755, Size: fi.Size(), ModTime: fixedTime}, f)
	}
	if limit == 0 {
		return lw.addTree(root, prefix)
	}
	var total int64
	errFull := errors.New("full")
	err = filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil || !de.Type().IsRegular() {
			return err
		}
		fi, err := de.Info()
		if err != nil {
			return err
		}
		if total+fi.Size() > limit {
			return errFull
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		rel, _ := filepath.Rel(root, p)
		total += fi.Size()
		return lw.add(&tar.Header{Typeflag: tar.TypeReg, Name: prefix + "/" + filepath.ToSlash(rel), Mode: int64(fi.Mode().Perm()), Size: fi.Size(), ModTime: fixedTime}, f)
	})
	if errors.Is(err, errFull) {
		return nil
	}
	return err
}

// fleetImages makes n images: image i has base i%2 (Alpine, or Debian's
// dpkg database plus 60 MB of binaries), application layer (i/2)%4 and a
// small top layer of its own (so every image has its own digest).
func fleetImages(n int, bases, apps []testimage.Layer) ([]serverImage, error) {
	debBin := apps[len(apps)-1]
	apps = apps[:len(apps)-1]
	var out []serverImage
	for i := range n {
		b, a := i%len(bases), (i/len(bases))%len(apps)
		layers := []testimage.Layer{bases[b]}
		if b == 1 {
			layers = append(layers, debBin)
		}
		layers = append(layers, apps[a], testimage.Layer{Files: map[string][]byte{
			"app/id":           fmt.Appendf(nil, "image %d\n", i),
			"app/package.json": fmt.Appendf(nil, `{"name": "app%d", "version": "1.0.%d"}`, i, i),
		}, CreatedBy: fmt.Sprintf("COPY app%d /app", i)})
		img, err := testimage.Build(testimage.Config{Config: v1.Config{Cmd: []string{"/bin/sh"}}}, layers...)
		if err != nil {
			return nil, fmt.Errorf("building image %d: %w", i, err)
		}
		out = append(out, serverImage{repo: fmt.Sprintf("fleet/base%d-app%d", b, a), tag: fmt.Sprintf("v%d", i), img: img})
	}
	return out, nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// proc is a child process of the benchmark (registry, server, worker).
type proc struct {
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan struct{}
}

func startProc(name string, args ...string) (*proc, error) {
	p := &proc{cmd: exec.Command(name, args...), out: &bytes.Buffer{}, exited: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = io.Discard, &lockedWriter{w: p.out}
	p.cmd.Env = append(os.Environ(), "OTEL_TRACES_EXPORTER=none")
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	return p, nil
}

// stop interrupts the process and waits for it (killing it after 30 s).
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

func (p *proc) cpu() float64 {
	if p.cmd.ProcessState == nil {
		return 0
	}
	return (p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()).Seconds()
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// startRegistry runs docker-registry on loopback, plain HTTP, no auth.
func startRegistry(ctx context.Context, bin, dir string) (*proc, string, error) {
	host, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n  secret: drybench\n",
		filepath.Join(dir, "storage"), host)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return nil, "", err
	}
	p, err := startProc(bin, "serve", cfgPath)
	if err != nil {
		return nil, "", err
	}
	if err := waitHTTP(ctx, "http://"+host+"/v2/", p); err != nil {
		p.stop()
		return nil, "", fmt.Errorf("docker-registry: %w\n%s", err, p.out.String())
	}
	return p, host, nil
}

// waitHTTP polls url until it answers 200 (or the process exits).
func waitHTTP(ctx context.Context, url string, p *proc) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("exited before %s answered", url)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not answer 200 within 60 s: %v", url, err)
		}
	}
}

func runServerBench(ctx context.Context, o serverOptions, logf func(string, ...any)) (*serverResults, error) {
	res := &serverResults{Started: time.Now(), Machine: readMachine(), Images: o.images}
	res.Machine.Drydock = o.drydock
	if out, err := exec.CommandContext(ctx, "git", "-C", o.repo, "describe", "--always", "--dirty").Output(); err == nil {
		res.Commit = strings.TrimSpace(string(out))
	}
	tmp, err := os.MkdirTemp(o.work, "run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)

	bases, apps, describe, err := fleetLayers(o, logf)
	if err != nil {
		return nil, err
	}
	res.ImageLayout = describe
	imgs, err := fleetImages(o.images, bases, apps)
	if err != nil {
		return nil, err
	}
	reg, host, err := startRegistry(ctx, o.registry, tmp)
	if err != nil {
		return nil, err
	}
	defer reg.stop()
	start := time.Now()
	layers := map[v1.Hash]int64{}
	var refs []string
	for _, im := range imgs {
		ref := host + "/" + im.repo + ":" + im.tag
		tag, err := name.NewTag(ref)
		if err != nil {
			return nil, err
		}
		if err := remote.Write(tag, im.img, remote.WithContext(ctx)); err != nil {
			return nil, fmt.Errorf("pushing %s: %w", ref, err)
		}
		ls, err := im.img.Layers()
		if err != nil {
			return nil, err
		}
		for _, l := range ls {
			d, err := l.Digest()
			if err != nil {
				return nil, err
			}
			sz, err := l.Size()
			if err != nil {
				return nil, err
			}
			layers[d] = sz
		}
		refs = append(refs, ref)
	}
	res.Layers = len(layers)
	for _, sz := range layers {
		res.Compressed += sz
	}
	logf("pushed %d images (%d distinct layers, %.0f MB compressed) in %s", len(refs), len(layers), float64(res.Compressed)/1e6, time.Since(start).Round(time.Millisecond))

	cache := filepath.Join(tmp, "cache")
	dbPath := filepath.Join(tmp, "drydock.db")
	mirror := filepath.Join(o.repo, "testdata", "mirror")
	if _, err := runChild(ctx, o.drydock, "--quiet", "--cache-dir", cache, "db", "update", "--source", mirror, "--db", dbPath); err != nil {
		return nil, err
	}
	res.Commands = append(res.Commands, fmt.Sprintf("drydock db update --source testdata/mirror --db %s", dbPath))
	res.LoadBefore = loadAvg()

	if !o.noBaseline {
		if res.Baseline, err = baseline(ctx, o, refs, tmp, dbPath, logf); err != nil {
			return nil, err
		}
		res.Commands = append(res.Commands, "drydock --cache-dir C image --db DB --insecure-registry -o /dev/null REF (each of the N references in turn)")
	}
	for _, w := range o.workers {
		fr, err := fleet(ctx, o, w, refs, tmp, dbPath, logf)
		if err != nil {
			return nil, err
		}
		res.Fleet = append(res.Fleet, *fr)
	}
	res.Commands = append(res.Commands,
		"drydock token create --postgres DSN --name drybench --scope write",
		"drydock server --postgres DSN --listen 127.0.0.1:PORT (API only, no workers)",
		"drydock worker --postgres DSN --workers W --db DB",
		"POST /api/v1/scans {reference} for every image, GET /api/v1/jobs/{id} until completed",
		"GET /api/v1/images/{id}/report?format=json from C goroutines of drybench for -duration")
	res.LoadAfter = loadAvg()
	return res, nil
}

// baseline scans every reference in turn with bin/drydock image: each with
// a new empty cache (cold), one cache shared from empty (as the fleet
// shares layer results), and that cache again (warm).
func baseline(ctx context.Context, o serverOptions, refs []string, tmp, dbPath string, logf func(string, ...any)) ([]baselineRun, error) {
	scanOne := func(cache, ref string) (child, error) {
		return runChild(ctx, o.drydock, "--quiet", "--cache-dir", cache, "image", "--db", dbPath, "--insecure-registry", "-o", os.DevNull, ref)
	}
	var out []baselineRun
	pass := func(label, describe string, cacheFor func(i int) string) error {
		var wall time.Duration
		var cpu time.Duration
		for i, ref := range refs {
			c, err := scanOne(cacheFor(i), ref)
			if err != nil {
				return err
			}
			wall += c.wall
			cpu += c.cpu
		}
		out = append(out, baselineRun{Name: label, Seconds: wall.Seconds(), CPU: cpu.Seconds(), PerMin: perMin(len(refs), wall), Describe: describe})
		logf("baseline %s: %d images in %s (%.1f/min)", label, len(refs), wall.Round(time.Millisecond), perMin(len(refs), wall))
		return nil
	}
	shared := filepath.Join(tmp, "cli-shared")
	steps := []struct {
		label, describe string
		cache           func(int) string
	}{
		{"cli cold", "a new empty layer cache for every image", func(i int) string { return filepath.Join(tmp, fmt.Sprintf("cli-cold-%d", i)) }},
		{"cli shared", "one layer cache, empty at the start, for the whole sequence", func(int) string { return shared }},
		{"cli warm", "the shared cache again: every layer hits", func(int) string { return shared }},
	}
	for _, s := range steps {
		if err := pass(s.label, s.describe, s.cache); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// apiClient calls the server's API with a token.
type apiClient struct {
	base, token string
	hc          *http.Client
}

func (c apiClient) do(ctx context.Context, method, path string, body, out any) (int, int64, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		return resp.StatusCode, 0, json.NewDecoder(resp.Body).Decode(out)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, n, err
}

func dsnFor(base, db string) (string, error) {
	i := strings.LastIndex(base, "/")
	if i < len("postgres://") {
		return "", fmt.Errorf("-postgres %q has no database name", base)
	}
	return base[:i+1] + db, nil
}

// fleet runs one worker count on a fresh database.
func fleet(ctx context.Context, o serverOptions, workers int, refs []string, tmp, dbPath string, logf func(string, ...any)) (*fleetRun, error) {
	admin, err := pgx.Connect(ctx, o.postgres)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", o.postgres, err)
	}
	defer admin.Close(context.WithoutCancel(ctx))
	dbName := fmt.Sprintf("drybench_%d_w%d", os.Getpid(), workers)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+dbName); err != nil {
		return nil, fmt.Errorf("creating database %s: %w", dbName, err)
	}
	defer func() {
		if _, err := admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+dbName+" WITH (FORCE)"); err != nil {
			logf("dropping database %s: %v", dbName, err)
		}
	}()
	dsn, err := dsnFor(o.postgres, dbName)
	if err != nil {
		return nil, err
	}
	tokOut, err := exec.CommandContext(ctx, o.drydock, "token", "create", "--postgres", dsn, "--name", "drybench", "--scope", "write").Output()
	if err != nil {
		return nil, fmt.Errorf("drydock token create: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cache := filepath.Join(tmp, fmt.Sprintf("server-cache-w%d", workers))
	srv, err := startProc(o.drydock, "--cache-dir", cache, "server", "--postgres", dsn, "--listen", addr)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	if err := waitHTTP(ctx, "http://"+addr+"/readyz", srv); err != nil {
		return nil, fmt.Errorf("drydock server: %w\n%s", err, tail(srv.out.String(), 3000))
	}
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close(context.WithoutCancel(ctx))
	fr := &fleetRun{Workers: workers, Tables: map[string]int64{}, Rows: map[string]int64{}}
	if err := db.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&fr.EmptyBytes); err != nil {
		return nil, err
	}
	wk, err := startProc(o.drydock, "--cache-dir", cache, "worker", "--postgres", dsn, "--workers", strconv.Itoa(workers), "--db", dbPath)
	if err != nil {
		return nil, err
	}
	c := apiClient{base: "http://" + addr, token: strings.TrimSpace(string(tokOut)), hc: &http.Client{Timeout: time.Minute}}

	start := time.Now()
	var jobs []int64
	for _, ref := range refs {
		var sub struct {
			JobID int64 `json:"job_id"`
		}
		code, _, err := c.do(ctx, "POST", "/api/v1/scans", map[string]any{"reference": ref}, &sub)
		if err != nil || code != http.StatusAccepted {
			wk.stop()
			return nil, fmt.Errorf("submitting %s: HTTP %d: %v", ref, code, err)
		}
		jobs = append(jobs, sub.JobID)
	}
	elapsed, err := waitJobs(ctx, c, jobs, start, 30*time.Minute)
	wk.stop()
	if err != nil {
		return nil, fmt.Errorf("%w\nworker log:\n%s", err, tail(wk.out.String(), 3000))
	}
	fr.Seconds, fr.PerMin, fr.WorkerCPU = elapsed.Seconds(), perMin(len(refs), elapsed), wk.cpu()
	logf("%d workers: %d images in %s (%.1f/min), worker CPU %.1f s", workers, len(refs), elapsed.Round(time.Millisecond), fr.PerMin, fr.WorkerCPU)

	if _, err := db.Exec(ctx, "VACUUM ANALYZE"); err != nil {
		return nil, err
	}
	if err := db.QueryRow(ctx, "SELECT pg_database_size(current_database()), (SELECT count(*) FROM images)").Scan(&fr.DBBytes, &fr.Stored); err != nil {
		return nil, err
	}
	for _, t := range storeTables {
		var n int64
		if err := db.QueryRow(ctx, "SELECT pg_total_relation_size($1::regclass)", t).Scan(&n); err != nil {
			return nil, fmt.Errorf("size of table %s: %w", t, err)
		}
		fr.Tables[t] = n
		if err := db.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{t}.Sanitize()).Scan(&n); err != nil {
			return nil, fmt.Errorf("counting the rows of %s: %w", t, err)
		}
		fr.Rows[t] = n
	}
	var ids []int64
	rows, err := db.Query(ctx, "SELECT id FROM images ORDER BY id")
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(ids) != len(refs) {
		return nil, fmt.Errorf("%d images stored for %d scans", len(ids), len(refs))
	}
	for _, n := range o.clients {
		before, err := procCPU(srv.cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		lr, err := reportLoad(ctx, c, ids, n, o.duration)
		if err != nil {
			return nil, err
		}
		after, err := procCPU(srv.cmd.Process.Pid)
		if err != nil {
			return nil, err
		}
		if lr.Requests > 0 {
			lr.ServerCPU = float64(after-before) / float64(time.Millisecond) / float64(lr.Requests)
		}
		logf("%d workers' store, %d clients: %d requests, p50 %.1f ms, p99 %.1f ms, %.0f req/s, server CPU %.1f ms per request", workers, n, lr.Requests, lr.P50, lr.P99, lr.PerSec, lr.ServerCPU)
		fr.Latency = append(fr.Latency, *lr)
	}
	return fr, nil
}

// waitJobs polls every job until it is completed; it returns the time from
// start to the last job's finalized_at.
func waitJobs(ctx context.Context, c apiClient, jobs []int64, start time.Time, timeout time.Duration) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	pending := slices.Clone(jobs)
	var last time.Time
	for len(pending) > 0 {
		var still []int64
		for _, id := range pending {
			var st struct {
				State       string     `json:"state"`
				Errors      []string   `json:"errors"`
				FinalizedAt *time.Time `json:"finalized_at"`
			}
			code, _, err := c.do(ctx, "GET", fmt.Sprintf("/api/v1/jobs/%d", id), nil, &st)
			if err != nil || code != http.StatusOK {
				return 0, fmt.Errorf("job %d: HTTP %d: %v", id, code, err)
			}
			switch st.State {
			case "completed":
				if st.FinalizedAt != nil && st.FinalizedAt.After(last) {
					last = *st.FinalizedAt
				}
			case "discarded", "cancelled":
				return 0, fmt.Errorf("job %d %s: %v", id, st.State, st.Errors)
			default:
				still = append(still, id)
			}
		}
		pending = still
		if len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%d jobs not completed after %s", len(pending), timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return last.Sub(start), nil
}

// reportLoad requests every stored image's JSON report from n goroutines
// for d, round robin over ids.
func reportLoad(ctx context.Context, c apiClient, ids []int64, n int, d time.Duration) (*latencyRun, error) {
	tr := &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	lc := apiClient{base: c.base, token: c.token, hc: &http.Client{Transport: tr, Timeout: time.Minute}}
	var (
		mu     sync.Mutex
		lat    []time.Duration
		errs   int
		bytesN int64
		wg     sync.WaitGroup
	)
	start := time.Now()
	end := start.Add(d)
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var myErrs int
			var myBytes int64
			for i := g; time.Now().Before(end); i += n {
				t := time.Now()
				code, nb, err := lc.do(ctx, "GET", fmt.Sprintf("/api/v1/images/%d/report?format=json", ids[i%len(ids)]), nil, nil)
				if err != nil || code != http.StatusOK {
					myErrs++
					continue
				}
				mine = append(mine, time.Since(t))
				myBytes += nb
			}
			mu.Lock()
			lat, errs, bytesN = append(lat, mine...), errs+myErrs, bytesN+myBytes
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	if errs > 0 {
		return nil, fmt.Errorf("%d of %d report requests failed", errs, errs+len(lat))
	}
	slices.Sort(lat)
	lr := &latencyRun{Clients: n, Requests: len(lat), PerSec: float64(len(lat)) / took.Seconds(),
		P50: percentile(lat, 50), P90: percentile(lat, 90), P99: percentile(lat, 99), Max: percentile(lat, 100)}
	if len(lat) > 0 {
		lr.BytesAvg = bytesN / int64(len(lat))
	}
	return lr, nil
}

// serverTable renders the results as the Markdown tables of
// docs/performance.md.
func serverTable(r *serverResults) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d images, %d distinct layers (%.0f MB compressed); load average %s → %s\n\n", r.Images, r.Layers, float64(r.Compressed)/1e6, r.LoadBefore, r.LoadAfter)
	b.WriteString("| run | wall | images/min | CPU | vs cli cold |\n|---|---|---|---|---|\n")
	var cold float64
	for _, x := range r.Baseline {
		if x.Name == "cli cold" {
			cold = x.PerMin
		}
	}
	ratio := func(v float64) string {
		if cold == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f", v/cold)
	}
	for _, x := range r.Baseline {
		fmt.Fprintf(&b, "| %s | %.1f s | %.1f | %.1f s | %s |\n", x.Name, x.Seconds, x.PerMin, x.CPU, ratio(x.PerMin))
	}
	for _, f := range r.Fleet {
		fmt.Fprintf(&b, "| server, %d worker(s) | %.1f s | %.1f | %.1f s (worker) | %s |\n", f.Workers, f.Seconds, f.PerMin, f.WorkerCPU, ratio(f.PerMin))
	}
	b.WriteString("\n| workers | database per image | " + strings.Join(storeTables, " | ") + " (per image) |\n|---|---|")
	b.WriteString(strings.Repeat("---|", len(storeTables)) + "\n")
	kb := func(n int64, imgs int) string {
		if imgs == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f KB", float64(n)/float64(imgs)/1000)
	}
	for _, f := range r.Fleet {
		fmt.Fprintf(&b, "| %d | %s (%s over the empty schema) |", f.Workers, kb(f.DBBytes, f.Stored), kb(f.DBBytes-f.EmptyBytes, f.Stored))
		for _, t := range storeTables {
			fmt.Fprintf(&b, " %s |", kb(f.Tables[t], f.Stored))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n| store of | clients | requests | req/s | p50 | p90 | p99 | max | report size | server CPU per request |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, f := range r.Fleet {
		for _, l := range f.Latency {
			fmt.Fprintf(&b, "| %d workers | %d | %d | %.0f | %.1f ms | %.1f ms | %.1f ms | %.1f ms | %.1f KB | %.1f ms |\n",
				f.Workers, l.Clients, l.Requests, l.PerSec, l.P50, l.P90, l.P99, l.Max, float64(l.BytesAvg)/1000, l.ServerCPU)
		}
	}
	return b.String()
}
