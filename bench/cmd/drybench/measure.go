package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/drydock-scan/drydock/internal/cache"
	"github.com/drydock-scan/drydock/internal/malware"
	"github.com/drydock-scan/drydock/internal/match"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/report/writer"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// Targets from the "Speed and scale" issue.
const (
	targetColdOverFloor   = 1.3
	targetWarmOverCold    = 0.05
	targetRSSMB           = 150
	targetSecretsOverVuln = 1.3
	// targetMalwareOverVuln: the malware file checks (hashes, EICAR; no
	// engine) cost at most 10% (issue 20).
	targetMalwareOverVuln = 1.10
	// benchHashes is the size of the synthetic hash list the malware
	// figure's database holds, so that the lookups are real.
	benchHashes = 100_000
)

// measurement is one timed operation, run several times.
type measurement struct {
	Name   string    `json:"name"`
	Runs   []float64 `json:"runs_s"`
	Median float64   `json:"median_s"`
	// Min is the fastest run: the least disturbed by other processes.
	Min float64 `json:"min_s"`
	// RSSMB is the peak resident set of each run's process, in MB.
	RSSMB     []float64 `json:"rss_mb,omitempty"`
	MedianRSS float64   `json:"median_rss_mb,omitempty"`
	// CPU is the user+system CPU time of each run's process, in seconds.
	CPU       []float64 `json:"cpu_s,omitempty"`
	MedianCPU float64   `json:"median_cpu_s,omitempty"`
	Note      string    `json:"note,omitempty"`
}

// ratio is one figure compared with its target.
type ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	Target string  `json:"target,omitempty"`
	// Met is nil when there is no target.
	Met  *bool  `json:"met,omitempty"`
	Note string `json:"note,omitempty"`
}

type layerInfo struct {
	File              string `json:"file"`
	CompressedBytes   int64  `json:"compressed_bytes"`
	UncompressedBytes int64  `json:"uncompressed_bytes"`
}

type results struct {
	Size    string      `json:"size"`
	Date    time.Time   `json:"date"`
	Machine machineInfo `json:"machine"`
	Image   struct {
		Layers            []layerInfo `json:"layers"`
		CompressedBytes   int64       `json:"compressed_bytes"`
		UncompressedBytes int64       `json:"uncompressed_bytes"`
		Packages          int         `json:"packages"`
	} `json:"image"`
	// Mode says how the cache-dependent scans were run: "cli" (bin/drydock
	// with --cache-dir) or "library" (scan.Run with internal/cache in a child
	// process, when the CLI does not use the layer cache yet).
	// LoadAvg is /proc/loadavg before and after the measurements: other
	// processes on the machine make every figure noisier.
	LoadAvg      [2]string      `json:"load_avg"`
	Mode         string         `json:"cache_mode"`
	Measurements []*measurement `json:"measurements"`
	Ratios       []ratio        `json:"ratios"`
	Notes        []string       `json:"notes,omitempty"`
}

type measurer struct {
	opt  options
	img  *builtImage
	logf func(string, ...any)
	tmp  string
	res  results
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (m *measurer) add(ms *measurement) *measurement {
	ms.Median = median(ms.Runs)
	if len(ms.Runs) > 0 {
		ms.Min = slices.Min(ms.Runs)
	}
	ms.MedianRSS = median(ms.RSSMB)
	ms.MedianCPU = median(ms.CPU)
	m.res.Measurements = append(m.res.Measurements, ms)
	m.logf("%-42s median %.3fs of %d runs%s", ms.Name, ms.Median, len(ms.Runs), rssNote(ms))
	return ms
}

func rssNote(ms *measurement) string {
	s := ""
	if ms.MedianCPU > 0 {
		s += fmt.Sprintf(", CPU %.3fs", ms.MedianCPU)
	}
	if ms.MedianRSS > 0 {
		s += fmt.Sprintf(", peak RSS %.0f MB", ms.MedianRSS)
	}
	return s
}

// child is one run of a process.
type child struct {
	wall  time.Duration
	cpu   time.Duration
	rssMB float64
}

// runChild runs a command, timing it and reading its peak RSS.
func runChild(ctx context.Context, name string, args ...string) (child, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return child{}, fmt.Errorf("running %s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail(stderr.String(), 3000))
	}
	c := child{wall: wall}
	c.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		c.rssMB = float64(ru.Maxrss) / 1024 // Linux: kilobytes
	}
	return c, nil
}

// scanner runs one scan of ref with a layer cache in cacheDir.
type scanner func(ctx context.Context, ref, cacheDir string) (child, error)

func (m *measurer) cliScan(ctx context.Context, ref, cacheDir string) (child, error) {
	return runChild(ctx, m.opt.drydock, "--quiet", "--cache-dir", cacheDir, "sbom", "--format", "json", "-o", os.DevNull, ref)
}

func (m *measurer) libScan(ctx context.Context, ref, cacheDir string) (child, error) {
	self, err := os.Executable()
	if err != nil {
		return child{}, err
	}
	return runChild(ctx, self, "scan-lib", "-ref", ref, "-cache", filepath.Join(cacheDir, "layers"))
}

// task is one measurement to repeat.
type task struct {
	name string
	f    func(i int) (child, error)
}

// interleave runs every task opt.runs times, round-robin (A B C A B C …),
// so that a burst of load from other processes on the machine hits all of
// them alike.
func (m *measurer) interleave(ctx context.Context, tasks ...task) ([]*measurement, error) {
	ms := make([]*measurement, len(tasks))
	for i, t := range tasks {
		ms[i] = &measurement{Name: t.name}
	}
	for run := range m.opt.runs {
		for i, t := range tasks {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			c, err := t.f(run)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			ms[i].Runs = append(ms[i].Runs, c.wall.Seconds())
			if c.cpu > 0 {
				ms[i].CPU = append(ms[i].CPU, c.cpu.Seconds())
			}
			if c.rssMB > 0 {
				ms[i].RSSMB = append(ms[i].RSSMB, c.rssMB)
			}
		}
	}
	for _, x := range ms {
		m.add(x)
	}
	return ms, nil
}

// repeat runs f opt.runs times.
func (m *measurer) repeat(ctx context.Context, name string, f func(i int) (child, error)) (*measurement, error) {
	ms, err := m.interleave(ctx, task{name, f})
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

func (m *measurer) freshDir(name string) (string, error) {
	return os.MkdirTemp(m.tmp, name+"-")
}

func countFiles(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		t := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(t, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(t, b, 0o644)
	})
}

func boolp(b bool) *bool { return &b }

// floorCmd is the child process of the floor: decompress every layer blob
// with klauspost gzip, as many at once as the scan reads layers (the number
// of CPUs), discarding the bytes. No scanner can be faster than this.
func floorCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	par := fs.Int("parallel", runtime.NumCPU(), "blobs read at once")
	if err := fs.Parse(args); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(*par)
	for _, b := range fs.Args() {
		g.Go(func() error {
			f, err := os.Open(b)
			if err != nil {
				return err
			}
			defer f.Close()
			zr, err := gzip.NewReader(bufio.NewReaderSize(f, 64<<10))
			if err != nil {
				return fmt.Errorf("reading %q: %w", b, err)
			}
			if _, err := io.Copy(io.Discard, zr); err != nil {
				return fmt.Errorf("reading %q: %w", b, err)
			}
			return gctx.Err()
		})
	}
	return g.Wait()
}

func (m *measurer) floor(ctx context.Context, blobs []string) (child, error) {
	self, err := os.Executable()
	if err != nil {
		return child{}, err
	}
	return runChild(ctx, self, append([]string{"floor"}, blobs...)...)
}

// blobs lists the base image's layer blobs in the OCI layout.
func (m *measurer) blobs() ([]string, error) {
	lp, err := layout.FromPath(m.img.Layout)
	if err != nil {
		return nil, err
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return nil, err
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	for _, d := range im.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] != "base" {
			continue
		}
		img, err := idx.Image(d.Digest)
		if err != nil {
			return nil, err
		}
		mf, err := img.Manifest()
		if err != nil {
			return nil, err
		}
		var out []string
		for _, l := range mf.Layers {
			out = append(out, filepath.Join(m.img.Layout, "blobs", l.Digest.Algorithm, l.Digest.Hex))
		}
		return out, nil
	}
	return nil, fmt.Errorf("no image tagged base in %q", m.img.Layout)
}

func readAll(paths ...string) error {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

func (m *measurer) measureAll(ctx context.Context) (*results, error) {
	var err error
	m.res.Size = m.opt.size
	m.res.Date = time.Now().UTC().Truncate(time.Second)
	m.res.Machine = readMachine()
	m.res.LoadAvg[0] = loadAvg()
	defer func() { m.res.LoadAvg[1] = loadAvg() }()
	if out, err := exec.CommandContext(ctx, m.opt.drydock, "version").Output(); err == nil {
		m.res.Machine.Drydock = strings.TrimSpace(string(out))
	}
	for i, f := range m.img.LayerFiles {
		m.res.Image.Layers = append(m.res.Image.Layers, layerInfo{File: filepath.Base(f), CompressedBytes: m.img.Compressed[i], UncompressedBytes: m.img.Uncompressed[i]})
		m.res.Image.CompressedBytes += m.img.Compressed[i]
		m.res.Image.UncompressedBytes += m.img.Uncompressed[i]
	}
	m.tmp, err = os.MkdirTemp(m.opt.work, "run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(m.tmp)

	blobs, err := m.blobs()
	if err != nil {
		return nil, err
	}
	// Everything is read once first, so every figure is taken with the
	// image in the page cache.
	if err := readAll(append(slices.Clone(blobs), m.img.Archive, m.opt.drydock)...); err != nil {
		return nil, err
	}
	base := "oci:" + m.img.Layout + ":base"
	changed := "oci:" + m.img.Layout + ":changed"
	archive := "docker-archive:" + m.img.Archive

	// Cold scans get a new empty cache directory each run.
	var lastCold string
	coldTask := func(name, ref string, scan scanner, keep bool) task {
		return task{name, func(int) (child, error) {
			d, err := m.freshDir("cold")
			if err != nil {
				return child{}, err
			}
			if keep {
				if lastCold != "" {
					os.RemoveAll(lastCold)
				}
				lastCold = d
			} else {
				defer os.RemoveAll(d)
			}
			return scan(ctx, ref, d)
		}}
	}
	ms, err := m.interleave(ctx,
		task{"floor: gunzip all layers", func(int) (child, error) { return m.floor(ctx, blobs) }},
		coldTask("cold scan (oci layout)", base, m.cliScan, true),
		coldTask("cold scan (docker-archive)", archive, m.cliScan, false),
	)
	if err != nil {
		return nil, err
	}
	floor, cold := ms[0], ms[1]

	// Does the CLI use the layer cache? If the cold run left nothing in its
	// cache directory, measure the cache with the library instead.
	scanFn, coldRef := scanner(m.cliScan), cold
	m.res.Mode = "cli"
	if countFiles(lastCold) == 0 {
		m.res.Mode = "library"
		m.res.Notes = append(m.res.Notes, "bin/drydock left its --cache-dir empty (the CLI does not use the layer cache yet): "+
			"the warm and changed-layer scans run scan.Run with internal/cache in a child process (drybench scan-lib), compared with a library cold scan")
		scanFn = m.libScan
		if coldRef, err = m.repeat(ctx, "cold scan (library)", coldTask("", base, m.libScan, true).f); err != nil {
			return nil, err
		}
	}
	ms, err = m.interleave(ctx,
		task{"warm scan (all layers cached)", func(int) (child, error) { return scanFn(ctx, base, lastCold) }},
		task{"changed top layer scan", func(int) (child, error) {
			d, err := m.freshDir("changed")
			if err != nil {
				return child{}, err
			}
			defer os.RemoveAll(d)
			if err := copyDir(lastCold, d); err != nil {
				return child{}, err
			}
			return scanFn(ctx, changed, d)
		}},
	)
	if err != nil {
		return nil, err
	}
	warm, chg := ms[0], ms[1]

	cf := m.img.Compressed
	ucf := m.img.Uncompressed
	top := float64(ucf[len(ucf)-1]) / float64(m.res.Image.UncompressedBytes)
	m.res.Ratios = append(m.res.Ratios,
		ratio{Name: "cold scan / floor", Value: cold.Median / floor.Median, Target: fmt.Sprintf("≤ %.2f", targetColdOverFloor), Met: boolp(cold.Median/floor.Median <= targetColdOverFloor), Note: "wall time"},
		ratio{Name: "cold scan / floor, fastest runs", Value: cold.Min / floor.Min, Note: "wall time, least disturbed runs"},
		ratio{Name: "cold scan / floor, CPU time", Value: cold.MedianCPU / floor.MedianCPU, Note: "user+system CPU of the two processes"},
		ratio{Name: "warm scan / cold scan", Value: warm.Median / coldRef.Median, Target: fmt.Sprintf("≤ %.2f", targetWarmOverCold), Met: boolp(warm.Median/coldRef.Median <= targetWarmOverCold), Note: m.res.Mode},
		ratio{Name: "changed top layer / cold scan", Value: chg.Median / coldRef.Median,
			Note: fmt.Sprintf("%s; the top layer is %.3f%% of the uncompressed bytes (%.3f%% compressed)", m.res.Mode, 100*top, 100*float64(cf[len(cf)-1])/float64(m.res.Image.CompressedBytes))},
		ratio{Name: "peak RSS, cold scan", Value: cold.MedianRSS, Unit: "MB", Target: fmt.Sprintf("≤ %d MB", targetRSSMB), Met: boolp(cold.MedianRSS <= targetRSSMB), Note: "sbom, oci layout"},
	)

	if err := m.matchAndSecrets(ctx, base, lastCold); err != nil {
		return nil, err
	}
	if err := m.malwareOverhead(ctx, base); err != nil {
		return nil, err
	}
	m.competitors(ctx)
	return &m.res, nil
}

// matchAndSecrets builds the database, times matching the whole inventory,
// and compares a scan with secrets to one without.
func (m *measurer) matchAndSecrets(ctx context.Context, base, warmCache string) error {
	dbPath := filepath.Join(m.opt.work, "db", "drydock.db")
	if _, err := os.Stat(m.opt.osv); err != nil {
		m.res.Notes = append(m.res.Notes, fmt.Sprintf("no OSV mirror at %q: matching not measured", m.opt.osv))
	} else {
		if err := os.MkdirAll(filepath.Dir(dbPath), 0o755); err != nil {
			return err
		}
		dl, err := m.freshDir("db")
		if err != nil {
			return err
		}
		// A real build, not "up to date".
		os.Remove(dbPath)
		c, err := runChild(ctx, m.opt.drydock, "--quiet", "--cache-dir", dl, "db", "update", "--source", m.opt.osv, "--alpine-secdb", "none", "--kev", "none", "--db", dbPath)
		if err != nil {
			return err
		}
		m.add(&measurement{Name: "db update (OSV mirror, once)", Runs: []float64{c.wall.Seconds()}, CPU: []float64{c.cpu.Seconds()}, RSSMB: []float64{c.rssMB}, Note: m.opt.osv})

		sbomPath := filepath.Join(m.tmp, "sbom.json")
		if _, err := runChild(ctx, m.opt.drydock, "--quiet", "--cache-dir", warmCache, "sbom", "--format", "json", "-o", sbomPath, base); err != nil {
			return err
		}
		raw, err := os.ReadFile(sbomPath)
		if err != nil {
			return err
		}
		db, err := vulndb.Open(ctx, dbPath)
		if err != nil {
			return err
		}
		defer db.Close()
		var pkgs, findings int
		ms, err := m.repeat(ctx, "match whole inventory", func(int) (child, error) {
			var rep report.Report
			if err := json.Unmarshal(raw, &rep); err != nil {
				return child{}, fmt.Errorf("decoding %q: %w", sbomPath, err)
			}
			res := rep.Result()
			pkgs = len(res.Packages)
			start := time.Now()
			if err := scan.Match(ctx, res, db, match.Options{}); err != nil {
				return child{}, err
			}
			findings = len(res.Findings)
			return child{wall: time.Since(start)}, nil
		})
		if err != nil {
			return err
		}
		ms.Note = fmt.Sprintf("%d packages, %d findings, in process (scan.Match)", pkgs, findings)
		m.res.Image.Packages = pkgs
		m.res.Ratios = append(m.res.Ratios, ratio{Name: "match time, whole inventory", Value: ms.Median * 1000, Unit: "ms", Note: ms.Note})
	}

	help, _ := exec.CommandContext(ctx, m.opt.drydock, "image", "--help").CombinedOutput()
	hasScanners := strings.Contains(string(help), "--scanners") && strings.Contains(string(help), "secret")
	if _, err := os.Stat(dbPath); err == nil {
		// The warm cache holds the sbom extractor set, which --scanners vuln
		// uses too (the secret scanner is part of the cache key).
		args := []string{"--quiet", "--cache-dir", warmCache, "image", "--db", dbPath, "--format", "json", "-o", os.DevNull}
		if hasScanners {
			args = append(args, "--scanners", "vuln")
		}
		if _, err := m.repeat(ctx, "image scan with matching (warm cache)", func(int) (child, error) {
			return runChild(ctx, m.opt.drydock, append(args, base)...)
		}); err != nil {
			return err
		}
	}
	if !hasScanners {
		m.res.Ratios = append(m.res.Ratios, ratio{Name: "secrets on / --scanners vuln", Target: fmt.Sprintf("≤ %.2f", targetSecretsOverVuln),
			Note: "not measured: bin/drydock image has no --scanners flag with a secret scanner yet"})
		return nil
	}
	if _, err := os.Stat(dbPath); err != nil {
		return nil
	}
	timed := func(name, scanners string) task {
		return task{name, func(int) (child, error) {
			d, err := m.freshDir("scanners")
			if err != nil {
				return child{}, err
			}
			defer os.RemoveAll(d)
			return runChild(ctx, m.opt.drydock, "--quiet", "--cache-dir", d, "image", "--db", dbPath, "--scanners", scanners, "--format", "json", "-o", os.DevNull, base)
		}}
	}
	ms, err := m.interleave(ctx, timed("cold image scan --scanners vuln", "vuln"), timed("cold image scan --scanners vuln,secret", "vuln,secret"))
	if err != nil {
		return err
	}
	vuln, sec := ms[0], ms[1]
	r := sec.Median / vuln.Median
	m.res.Ratios = append(m.res.Ratios,
		ratio{Name: "secrets on / --scanners vuln", Value: r, Target: fmt.Sprintf("≤ %.2f", targetSecretsOverVuln), Met: boolp(r <= targetSecretsOverVuln), Note: "wall time, cold"},
		ratio{Name: "secrets on / --scanners vuln, fastest runs", Value: sec.Min / vuln.Min, Note: "wall time, least disturbed runs"},
		ratio{Name: "secrets on / --scanners vuln, CPU time", Value: sec.MedianCPU / vuln.MedianCPU},
		ratio{Name: "peak RSS, cold scan with secrets", Value: sec.MedianRSS, Unit: "MB", Target: fmt.Sprintf("≤ %d MB", targetRSSMB), Met: boolp(sec.MedianRSS <= targetRSSMB), Note: "image --scanners vuln,secret"},
	)
	return nil
}

// malwareOverhead compares a cold scan with the malware checks (no engine)
// to one without, on two databases: the OSV one (no hash lists: the EICAR
// check and the malicious-package records only) and the same with a hash
// list of benchHashes made-up digests (none of the image's files is on it,
// as for most real images: the cost is hashing the candidates and the
// lookups).
func (m *measurer) malwareOverhead(ctx context.Context, base string) error {
	help, _ := exec.CommandContext(ctx, m.opt.drydock, "image", "--help").CombinedOutput()
	if !strings.Contains(string(help), "malware") {
		m.res.Ratios = append(m.res.Ratios, ratio{Name: "malware on / --scanners vuln", Target: fmt.Sprintf("≤ %.2f", targetMalwareOverVuln),
			Note: "not measured: bin/drydock image has no malware scanner"})
		return nil
	}
	if _, err := os.Stat(m.opt.osv); err != nil {
		return nil // matchAndSecrets noted it
	}
	list := filepath.Join(m.tmp, "hashes.txt")
	var b strings.Builder
	b.WriteString("# drybench: made-up SHA-256 digests (no real file has them)\n")
	for i := range benchHashes {
		sum := sha256.Sum256([]byte(fmt.Sprintf("drybench known-bad %d", i)))
		b.WriteString(hex.EncodeToString(sum[:]) + "\n")
	}
	if err := os.WriteFile(list, []byte(b.String()), 0o644); err != nil {
		return err
	}
	dl, err := m.freshDir("maldb")
	if err != nil {
		return err
	}
	dbPath := filepath.Join(dl, "drydock.db")
	if _, err := runChild(ctx, m.opt.drydock, "--quiet", "--cache-dir", dl, "db", "update", "--source", m.opt.osv, "--alpine-secdb", "none",
		"--kev", "none", "--malware-hashes", list, "--db", dbPath); err != nil {
		return err
	}
	plainDB := filepath.Join(m.opt.work, "db", "drydock.db") // matchAndSecrets's, from the same mirror
	timed := func(name, db, scanners string) task {
		return task{name, func(int) (child, error) {
			d, err := m.freshDir("malware")
			if err != nil {
				return child{}, err
			}
			defer os.RemoveAll(d)
			return runChild(ctx, m.opt.drydock, "--quiet", "--cache-dir", d, "image", "--db", db, "--scanners", scanners, "--format", "json", "-o", os.DevNull, base)
		}}
	}
	ms, err := m.interleave(ctx,
		timed("cold image scan --scanners vuln (malware baseline)", plainDB, "vuln"),
		timed("cold image scan --scanners vuln,malware", plainDB, "vuln,malware"),
		timed("cold image scan --scanners vuln,malware, hash list", dbPath, "vuln,malware"))
	if err != nil {
		return err
	}
	vuln, mal, withList := ms[0], ms[1], ms[2]
	target := fmt.Sprintf("≤ %.2f", targetMalwareOverVuln)
	r, rl := mal.MedianCPU/vuln.MedianCPU, withList.MedianCPU/vuln.MedianCPU
	m.res.Ratios = append(m.res.Ratios,
		ratio{Name: "malware on / --scanners vuln, CPU time", Value: r, Target: target, Met: boolp(r <= targetMalwareOverVuln),
			Note: "cold; the database has no hash lists (drydock db update's default): EICAR and malicious-package records; no engine"},
		ratio{Name: "malware on / --scanners vuln, wall time", Value: mal.Median / vuln.Median, Note: "cold"},
		ratio{Name: "malware on with a hash list / --scanners vuln, CPU time", Value: rl, Target: target, Met: boolp(rl <= targetMalwareOverVuln),
			Note: fmt.Sprintf("cold; %d-entry hash list: the candidates (executables, scripts, archives) are hashed; no engine", benchHashes)},
		ratio{Name: "malware on with a hash list / --scanners vuln, wall time", Value: withList.Median / vuln.Median, Note: "cold"},
		ratio{Name: "malware on with a hash list / --scanners vuln, fastest runs", Value: withList.Min / vuln.Min, Note: "wall time, least disturbed runs"},
	)
	return nil
}

// competitors times the other scanners found on PATH on the docker archive.
func (m *measurer) competitors(ctx context.Context) {
	tools := []struct {
		name string
		args []string
	}{
		{"trivy", []string{"image", "--input", m.img.Archive, "--format", "json", "--output", os.DevNull, "--quiet", "--skip-db-update", "--offline-scan"}},
		{"syft", []string{"scan", "docker-archive:" + m.img.Archive, "-o", "json=" + os.DevNull, "-q"}},
		{"grype", []string{"docker-archive:" + m.img.Archive, "-o", "json", "--file", os.DevNull, "-q"}},
	}
	for _, t := range tools {
		bin, err := exec.LookPath(t.name)
		if err != nil {
			m.res.Notes = append(m.res.Notes, t.name+": not on PATH")
			continue
		}
		if _, err := m.repeat(ctx, t.name+" (docker-archive)", func(int) (child, error) { return runChild(ctx, bin, t.args...) }); err != nil {
			m.res.Notes = append(m.res.Notes, fmt.Sprintf("%s: failed: %v", t.name, err))
		}
	}
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

func printResults(w io.Writer, r *results) {
	fmt.Fprintf(w, "\ndrybench %s image: %d layers, %.0f MB compressed, %.0f MB uncompressed, %d packages\n",
		r.Size, len(r.Image.Layers), float64(r.Image.CompressedBytes)/1e6, float64(r.Image.UncompressedBytes)/1e6, r.Image.Packages)
	fmt.Fprintf(w, "machine: %d CPUs, %s, %s, %s; load average %s before, %s after\n\n",
		r.Machine.NProc, r.Machine.CPU, r.Machine.GoVersion, r.Machine.Drydock, r.LoadAvg[0], r.LoadAvg[1])
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEASUREMENT\tMEDIAN\tMIN\tCPU\tRUNS\tPEAK RSS")
	for _, ms := range r.Measurements {
		runs := make([]string, len(ms.Runs))
		for i, x := range ms.Runs {
			runs[i] = fmt.Sprintf("%.3f", x)
		}
		rss := ""
		if ms.MedianRSS > 0 {
			rss = fmt.Sprintf("%.0f MB", ms.MedianRSS)
		}
		cpu := ""
		if ms.MedianCPU > 0 {
			cpu = fmt.Sprintf("%.3f s", ms.MedianCPU)
		}
		fmt.Fprintf(tw, "%s\t%.3f s\t%.3f s\t%s\t%s\t%s\n", ms.Name, ms.Median, ms.Min, cpu, strings.Join(runs, " "), rss)
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RATIO\tVALUE\tTARGET\tMET\tNOTE")
	for _, rt := range r.Ratios {
		met := "-"
		if rt.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*rt.Met]
		}
		val := "n/a"
		if rt.Value != 0 || rt.Met != nil {
			val = fmt.Sprintf("%.3f", rt.Value)
			if rt.Unit != "" {
				val = fmt.Sprintf("%.1f %s", rt.Value, rt.Unit)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", rt.Name, val, rt.Target, met, rt.Note)
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// scanLib is the child process of library mode: one scan with the layer
// cache, the report encoded as JSON and discarded, as the CLI would.
func scanLib(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("scan-lib", flag.ContinueOnError)
	ref := fs.String("ref", "", "image reference")
	dir := fs.String("cache", "", "layer cache directory (empty: none)")
	secrets := fs.Bool("secrets", false, "run the secret scanner too")
	parallel := fs.Int("parallel", 0, "layers read at once (0: number of CPUs)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the scan to this file")
	malwareDB := fs.String("malware-db", "", "check the files for malware too, with this database's hash lists")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ref == "" {
		return errors.New("-ref is required")
	}
	cfg := scan.Config{Reference: *ref, Parallel: *parallel}
	if *secrets {
		s, err := secret.New(nil)
		if err != nil {
			return err
		}
		cfg.Secrets = s
	}
	if *malwareDB != "" {
		db, err := vulndb.Open(ctx, *malwareDB)
		if err != nil {
			return err
		}
		defer db.Close()
		meta, err := db.Meta(ctx)
		if err != nil {
			return err
		}
		opt := malware.Options{}
		if meta.Hashes > 0 {
			opt.Hashes, opt.HashesKey = db, vulndb.HashListsKey(meta)
		}
		if cfg.Malware, err = malware.New(opt, nil); err != nil {
			return err
		}
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *dir != "" {
		c, err := cache.Open(*dir, cache.Options{})
		if err != nil {
			return err
		}
		cfg.Cache = c
	}
	res, err := scan.Run(ctx, cfg)
	if err != nil {
		return err
	}
	rep := report.New(res, nil, report.Tool{Name: "drybench"}, time.Now())
	return writer.Write(io.Discard, "json", rep, writer.Options{Mode: "sbom"})
}
