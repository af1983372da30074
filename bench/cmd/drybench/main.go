// Command drybench builds a realistic multi-layer container image from real
// Debian, npm and Go packages and measures drydock on it: the decompression
// floor, cold, warm and one-changed-layer scans, peak memory, matching and
// the secret scanner's cost. See docs/performance.md.
//
//	drybench [-size small|full|xl] [-runs 3] [-drydock bin/drydock]
//	drybench hostile [-only REGEXP] [-timeout 300s] [-drydock bin/drydock]
//	drybench server [-n 40] [-workers 1,2,4] [-clients 16,64] [-duration 10s]
//	drybench verify [-runs 5] [-drydock bin/drydock]
//
// It prints a table of ratios and writes bench/.work/results.json (and
// results-SIZE.json). "drybench hostile" generates the hostile inputs of
// issue 13 (items 5–8) and measures one scan of each (hostile.go).
// "drybench server" measures drydock server and its workers on a fleet of
// images in a real registry (issue 14, server.go). "drybench verify"
// measures what drydock image --verify-key costs (verify.go).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// Child processes of the measurements.
	if len(os.Args) > 1 {
		sub := map[string]func(context.Context, []string) error{"scan-lib": scanLib, "floor": floorCmd, "hostile": hostileCmd, "server": serverCmd, "verify": verifyCmd}[os.Args[1]]
		if sub != nil {
			if err := sub(ctx, os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "drybench %s: %v\n", os.Args[1], err)
				os.Exit(1)
			}
			return
		}
	}
	if err := mainErr(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintf(os.Stderr, "drybench: %v\n", err)
		os.Exit(1)
	}
}

type options struct {
	size      string
	runs      int
	repo      string
	work      string
	downloads string
	drydock   string
	osv       string
	buildOnly bool
}

func findRepo() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/drydock-scan/drydock\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the drydock repository (no go.mod found): run from the repo or pass -repo")
		}
		dir = parent
	}
}

func mainErr(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("drybench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.size, "size", "small", "image size: small (~100 MB, CI), full (≥1 GB) or xl (≥3 GB)")
	fs.IntVar(&o.runs, "runs", 3, "runs of each measurement (the median is reported)")
	fs.StringVar(&o.repo, "repo", "", "repository root (default: found from the working directory)")
	fs.StringVar(&o.work, "work", "", "work directory for layers, images and results (default REPO/bench/.work)")
	fs.StringVar(&o.downloads, "downloads", "", "download cache kept across clones: debs, npm installs, Go builds (default $DRYBENCH_CACHE or ~/.cache/drydock-bench)")
	fs.StringVar(&o.drydock, "drydock", "", "drydock binary (default REPO/bin/drydock, from \"make build\")")
	fs.StringVar(&o.osv, "osv", "", "OSV mirror directory (<Ecosystem>/all.zip) for the database (default REPO/../shared/data/osv)")
	fs.BoolVar(&o.buildOnly, "build-only", false, "build the image and stop")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if o.runs < 1 {
		return errors.New("-runs must be at least 1")
	}
	var err error
	if o.repo == "" {
		if o.repo, err = findRepo(); err != nil {
			return err
		}
	}
	if o.work == "" {
		o.work = filepath.Join(o.repo, "bench", ".work")
	}
	if o.downloads == "" {
		o.downloads = os.Getenv("DRYBENCH_CACHE")
	}
	if o.downloads == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return fmt.Errorf("finding the home directory (pass -downloads): %w", err)
		}
		o.downloads = filepath.Join(home, ".cache", "drydock-bench")
	}
	if o.drydock == "" {
		o.drydock = filepath.Join(o.repo, "bin", "drydock")
	}
	if o.osv == "" {
		o.osv = filepath.Join(filepath.Dir(o.repo), "shared", "data", "osv")
	}
	spec, err := specFor(o.size)
	if err != nil {
		return err
	}
	logf := func(format string, a ...any) {
		fmt.Fprintf(stderr, "drybench: "+format+"\n", a...)
	}
	b := &builder{repo: o.repo, work: o.work, dl: o.downloads, logf: logf}
	start := time.Now()
	img, err := b.build(ctx, spec)
	if err != nil {
		return err
	}
	logf("image ready in %s: %s", time.Since(start).Round(time.Millisecond), img.Layout)
	if o.buildOnly {
		return nil
	}
	if _, err := os.Stat(o.drydock); err != nil {
		return fmt.Errorf("no drydock binary at %q: run \"make build\" first", o.drydock)
	}
	m := &measurer{opt: o, img: img, logf: logf}
	res, err := m.measureAll(ctx)
	if err != nil {
		return err
	}
	printResults(stdout, res)
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	js = append(js, '\n')
	for _, p := range []string{filepath.Join(o.work, "results.json"), filepath.Join(o.work, "results-"+o.size+".json")} {
		if err := os.WriteFile(p, js, 0o644); err != nil {
			return err
		}
	}
	logf("results written to %s", filepath.Join(o.work, "results.json"))
	return nil
}

// machineInfo describes where the figures were taken.
type machineInfo struct {
	NProc     int    `json:"nproc"`
	CPU       string `json:"cpu"`
	MemoryMB  int64  `json:"memory_mb"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go_version"`
	Drydock   string `json:"drydock"`
}

func readMachine() machineInfo {
	mi := machineInfo{NProc: runtime.NumCPU(), GoVersion: runtime.Version()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				mi.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				mi.MemoryMB = kb / 1024
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		mi.Kernel = strings.TrimSpace(string(b))
	}
	return mi
}
