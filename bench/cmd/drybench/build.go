package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/drydock-scan/drydock/internal/testimage"
)

// builderVersion is part of every cached layer's name: bump it when the
// way layers are assembled changes.
const builderVersion = "3"

// fixedTime is the mtime of files that come from the local disk (npm
// installs, Go builds, the app), so that rebuilt layers are identical.
var fixedTime = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)

// builder makes the benchmark image from real packages.
type builder struct {
	repo string // repository root
	work string // bench/.work: built layers and images
	dl   string // persistent download cache: debs, npm installs, Go builds
	logf func(format string, args ...any)
}

// deb is one downloaded Debian package.
type deb struct {
	Name, Version, Arch, MultiArch string
	Path                           string // the .deb file
}

// builtImage is what build returns.
type builtImage struct {
	Layout     string // OCI layout dir, tags "base" and "changed"
	Archive    string // docker-archive of the base image
	LayerFiles []string
	// ChangedLayer is the top layer of the "changed" image.
	ChangedLayer string
	// Sizes of the base image's layers (compressed, uncompressed).
	Compressed, Uncompressed []int64
}

func run(ctx context.Context, dir string, env []string, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("running %s %s: %w\n%s", name, strings.Join(args, " "), err, tail(stderr.String(), 2000))
	}
	return out, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// resolveDebs finds the candidate version of each package and downloads
// the ones not already in the download cache.
func (b *builder) resolveDebs(ctx context.Context, names []string) ([]deb, error) {
	dir := filepath.Join(b.dl, "debs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	out, err := run(ctx, "", nil, "apt-cache", append([]string{"show", "--no-all-versions"}, names...)...)
	if err != nil {
		return nil, fmt.Errorf("%w (run \"apt-get update\" first?)", err)
	}
	found := map[string]deb{}
	for _, st := range strings.Split(string(out), "\n\n") {
		f := controlFields(st)
		if f["Package"] == "" {
			continue
		}
		if _, dup := found[f["Package"]]; dup {
			continue
		}
		d := deb{Name: f["Package"], Version: f["Version"], Arch: f["Architecture"], MultiArch: f["Multi-Arch"]}
		d.Path = filepath.Join(dir, d.Name+"_"+strings.ReplaceAll(d.Version, ":", "%3a")+"_"+d.Arch+".deb")
		found[d.Name] = d
	}
	var debs []deb
	var missing []string
	for _, n := range names {
		d, ok := found[n]
		if !ok {
			return nil, fmt.Errorf("debian package %q not found by apt-cache (run \"apt-get update\"?)", n)
		}
		if _, err := os.Stat(d.Path); err != nil {
			missing = append(missing, n+"="+d.Version)
		}
		debs = append(debs, d)
	}
	if len(missing) > 0 {
		b.logf("downloading %d Debian packages", len(missing))
		if _, err := run(ctx, dir, nil, "apt-get", append([]string{"download", "-q"}, missing...)...); err != nil {
			return nil, err
		}
		for _, d := range debs {
			if _, err := os.Stat(d.Path); err != nil {
				return nil, fmt.Errorf("apt-get download did not leave %q: %w", d.Path, err)
			}
		}
	}
	return debs, nil
}

// controlFields parses one deb822 stanza (continuation lines are folded
// into their field).
func controlFields(st string) map[string]string {
	f := map[string]string{}
	last := ""
	for _, line := range strings.Split(st, "\n") {
		if line == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if last != "" {
				f[last] += "\n" + line
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = k
		f[k] = strings.TrimSpace(v)
	}
	return f
}

// statusStanza turns a package's control file into its dpkg status entry.
func statusStanza(control string) string {
	control = strings.TrimRight(control, "\n")
	var sb strings.Builder
	for i, line := range strings.Split(control, "\n") {
		sb.WriteString(line)
		sb.WriteByte('\n')
		if i == 0 && strings.HasPrefix(line, "Package:") {
			sb.WriteString("Status: install ok installed\n")
		}
	}
	sb.WriteByte('\n')
	return sb.String()
}

// layerWriter writes one layer tar, each directory once.
type layerWriter struct {
	tw   *tar.Writer
	dirs map[string]bool
}

func newLayerWriter(w io.Writer) *layerWriter {
	return &layerWriter{tw: tar.NewWriter(w), dirs: map[string]bool{}}
}

// clean turns a tar name ("./usr/bin/x", "usr/bin/") into "usr/bin/x".
func clean(name string) string {
	p := path.Clean("/" + name)
	return strings.TrimPrefix(p, "/")
}

// mkdirs writes the parent directories of p not yet written.
func (lw *layerWriter) mkdirs(p string) error {
	dir := path.Dir(p)
	if dir == "." || dir == "/" || lw.dirs[dir] {
		return nil
	}
	if err := lw.mkdirs(dir); err != nil {
		return err
	}
	lw.dirs[dir] = true
	return lw.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: fixedTime})
}

// add writes hdr (name cleaned) and its content.
func (lw *layerWriter) add(hdr *tar.Header, r io.Reader) error {
	name := clean(hdr.Name)
	if name == "" || name == "." {
		return nil
	}
	if hdr.Typeflag == tar.TypeDir {
		if lw.dirs[name] {
			return nil
		}
		if err := lw.mkdirs(name); err != nil {
			return err
		}
		lw.dirs[name] = true
		name += "/"
	} else if err := lw.mkdirs(name); err != nil {
		return err
	}
	h := *hdr
	h.Name = name
	h.Format = tar.FormatUnknown
	if h.Typeflag == tar.TypeLink {
		h.Linkname = clean(h.Linkname)
	}
	if err := lw.tw.WriteHeader(&h); err != nil {
		return fmt.Errorf("writing %q: %w", name, err)
	}
	if r != nil && h.Size > 0 {
		if _, err := io.CopyN(lw.tw, r, h.Size); err != nil {
			return fmt.Errorf("writing %q: %w", name, err)
		}
	}
	return nil
}

func (lw *layerWriter) file(name string, mode int64, data []byte) error {
	return lw.add(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: fixedTime}, bytes.NewReader(data))
}

// addDeb unpacks a .deb's data into the layer and returns its file list
// (as /var/lib/dpkg/info/*.list records it) and its control file.
func (lw *layerWriter) addDeb(ctx context.Context, d deb) (files []string, control string, err error) {
	ctl, err := run(ctx, "", nil, "dpkg-deb", "-f", d.Path)
	if err != nil {
		return nil, "", err
	}
	cmd := exec.CommandContext(ctx, "dpkg-deb", "--fsys-tarfile", d.Path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("running dpkg-deb on %q: %w", d.Path, err)
	}
	tr := tar.NewReader(bufio.NewReaderSize(out, 1<<20))
	files = []string{"/."}
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			cmd.Wait()
			return nil, "", fmt.Errorf("reading %q: %w", d.Path, err)
		}
		if p := clean(hdr.Name); p != "" && p != "." {
			files = append(files, "/"+p)
		}
		if err := lw.add(hdr, tr); err != nil {
			cmd.Wait()
			return nil, "", fmt.Errorf("copying %q: %w", d.Path, err)
		}
	}
	if err := cmd.Wait(); err != nil {
		return nil, "", fmt.Errorf("dpkg-deb --fsys-tarfile %q: %w: %s", d.Path, err, stderr.String())
	}
	return files, string(ctl), nil
}

// addTree copies a directory of the local disk into the layer under prefix.
func (lw *layerWriter) addTree(root, prefix string) error {
	return filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		fi, err := de.Info()
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: name, ModTime: fixedTime, Mode: int64(fi.Mode().Perm())}
		switch {
		case de.IsDir():
			hdr.Typeflag = tar.TypeDir
			return lw.add(hdr, nil)
		case fi.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, target
			return lw.add(hdr, nil)
		case fi.Mode().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			hdr.Typeflag, hdr.Size = tar.TypeReg, fi.Size()
			return lw.add(hdr, f)
		}
		return nil
	})
}

// layerKey names a layer's cached tarball by everything that goes into it.
func layerKey(l layerSpec, debs []deb, extra ...string) string {
	h := sha256.New()
	fmt.Fprintf(h, "v%s\n%s\n%s\n", builderVersion, l.Name, l.CreatedBy)
	for _, d := range debs {
		fmt.Fprintf(h, "%s\n", filepath.Base(d.Path))
	}
	for _, e := range extra {
		fmt.Fprintf(h, "%s\n", e)
	}
	return l.Name + "-" + hex.EncodeToString(h.Sum(nil))[:12]
}

func fileHash(p string) (string, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// writeLayer builds dst (a .tar.gz) with fill unless it exists.
func (b *builder) writeLayer(dst string, fill func(lw *layerWriter) error) error {
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	start := time.Now()
	tmp := dst + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	zw, err := gzip.NewWriterLevel(bw, gzip.DefaultCompression)
	if err != nil {
		f.Close()
		return err
	}
	lw := newLayerWriter(zw)
	err = fill(lw)
	if err == nil {
		err = lw.tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("building layer %q: %w", filepath.Base(dst), err)
	}
	fi, _ := os.Stat(dst)
	b.logf("built layer %s (%d MB compressed) in %s", filepath.Base(dst), fi.Size()>>20, time.Since(start).Round(time.Millisecond))
	return nil
}

// npmInstall installs bench/npm/<set> into the download cache and returns
// the directory holding package.json, package-lock.json and node_modules.
func (b *builder) npmInstall(ctx context.Context, set string) (dir, lockHash string, err error) {
	src := filepath.Join(b.repo, "bench", "npm", set)
	dir = filepath.Join(b.dl, "npm", set)
	lockHash, err = fileHash(filepath.Join(src, "package-lock.json"))
	if err != nil {
		return "", "", err
	}
	stamp := filepath.Join(b.dl, "npm", set+".installed")
	if s, err := os.ReadFile(stamp); err == nil && string(s) == lockHash {
		return dir, lockHash, nil
	}
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	for _, n := range []string{"package.json", "package-lock.json"} {
		bs, err := os.ReadFile(filepath.Join(src, n))
		if err != nil {
			return "", "", err
		}
		if err := os.WriteFile(filepath.Join(dir, n), bs, 0o644); err != nil {
			return "", "", err
		}
	}
	b.logf("npm ci %s", set)
	if _, err := run(ctx, dir, nil, "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error"); err != nil {
		return "", "", err
	}
	return dir, lockHash, os.WriteFile(stamp, []byte(lockHash), 0o644)
}

// goBuild builds module@version programs into the download cache.
func (b *builder) goBuild(ctx context.Context, pkgs []string) ([]string, error) {
	gobin := filepath.Join(b.dl, "gobin")
	var bins []string
	for _, p := range pkgs {
		mod, ver, _ := strings.Cut(p, "@")
		bin := filepath.Join(gobin, path.Base(mod)+"-"+ver)
		if _, err := os.Stat(bin); err != nil {
			b.logf("go install %s", p)
			tmp := filepath.Join(gobin, "tmp")
			os.RemoveAll(tmp)
			if _, err := run(ctx, b.repo, []string{"GOBIN=" + tmp, "CGO_ENABLED=0", "GOFLAGS=-trimpath"}, "go", "install", p); err != nil {
				return nil, err
			}
			if err := os.Rename(filepath.Join(tmp, path.Base(mod)), bin); err != nil {
				return nil, err
			}
		}
		bins = append(bins, bin)
	}
	return bins, nil
}

// appFiles is the application code layer; changed alters one file.
func appFiles(changed bool) map[string][]byte {
	stamp := "1"
	if changed {
		stamp = "2"
	}
	files := map[string][]byte{
		"app/server.js": []byte(`'use strict';
// drybench application, build ` + stamp + `
const express = require('express');
const _ = require('lodash');
const app = express();
app.get('/healthz', (req, res) => res.json({ ok: true, build: ` + stamp + ` }));
app.get('/sum', (req, res) => res.json({ sum: _.sum((req.query.n || '').split(',').map(Number)) }));
app.listen(process.env.PORT || 8080);
`),
		"app/config/production.json": []byte(`{"port": 8080, "logLevel": "info"}` + "\n"),
	}
	for i := range 50 {
		files[fmt.Sprintf("app/src/routes/route%02d.js", i)] = []byte(fmt.Sprintf(
			"'use strict';\nmodule.exports = (app) => app.get('/r%d', (req, res) => res.send('route %d'));\n", i, i))
	}
	return files
}

func (b *builder) appLayer(changed bool) (string, error) {
	name := "app"
	if changed {
		name = "app-changed"
	}
	dst := filepath.Join(b.work, "layers", layerKey(layerSpec{Name: name}, nil)+".tar.gz")
	return dst, b.writeLayer(dst, func(lw *layerWriter) error {
		files := appFiles(changed)
		keys := make([]string, 0, len(files))
		for k := range files {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if err := lw.file(k, 0o644, files[k]); err != nil {
				return err
			}
		}
		return nil
	})
}

// build makes (or reuses) every layer and the image.
func (b *builder) build(ctx context.Context, spec imageSpec) (*builtImage, error) {
	if err := os.MkdirAll(filepath.Join(b.work, "layers"), 0o755); err != nil {
		return nil, err
	}
	// Downloads first, in order: the dpkg status is cumulative.
	type plan struct {
		spec  layerSpec
		debs  []deb
		below []deb // every deb of the layers below and this one
		dst   string
		fill  func(lw *layerWriter) error
	}
	var plans []*plan
	var all []deb
	for _, l := range spec.Layers {
		p := &plan{spec: l}
		switch {
		case len(l.Debs) > 0:
			debs, err := b.resolveDebs(ctx, l.Debs)
			if err != nil {
				return nil, err
			}
			p.debs = debs
			all = append(all, debs...)
			p.below = slices.Clone(all)
			var bins []string
			if len(l.GoInstall) > 0 {
				if bins, err = b.goBuild(ctx, l.GoInstall); err != nil {
					return nil, err
				}
			}
			var below []string
			for _, d := range p.below {
				below = append(below, filepath.Base(d.Path))
			}
			p.dst = filepath.Join(b.work, "layers", layerKey(l, debs, append(below, l.GoInstall...)...)+".tar.gz")
			p.fill = func(lw *layerWriter) error { return b.fillDebLayer(ctx, lw, p.debs, p.below, bins) }
		case l.NPM != "":
			dir, lockHash, err := b.npmInstall(ctx, l.NPM)
			if err != nil {
				return nil, err
			}
			p.dst = filepath.Join(b.work, "layers", layerKey(l, nil, lockHash)+".tar.gz")
			p.fill = func(lw *layerWriter) error { return lw.addTree(dir, "app") }
		case l.AptCache:
			debs := slices.Clone(all)
			p.dst = filepath.Join(b.work, "layers", layerKey(l, debs)+".tar.gz")
			p.fill = func(lw *layerWriter) error {
				for _, d := range debs {
					f, err := os.Open(d.Path)
					if err != nil {
						return err
					}
					fi, err := f.Stat()
					if err == nil {
						err = lw.add(&tar.Header{Typeflag: tar.TypeReg, Name: "var/cache/apt/archives/" + filepath.Base(d.Path),
							Mode: 0o644, Size: fi.Size(), ModTime: fixedTime}, f)
					}
					f.Close()
					if err != nil {
						return err
					}
				}
				return nil
			}
		case l.App:
			continue // below
		default:
			return nil, fmt.Errorf("layer %q has no content", l.Name)
		}
		plans = append(plans, p)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.NumCPU())
	for _, p := range plans {
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			return b.writeLayer(p.dst, p.fill)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	app, err := b.appLayer(false)
	if err != nil {
		return nil, err
	}
	appChanged, err := b.appLayer(true)
	if err != nil {
		return nil, err
	}

	out := &builtImage{
		Layout:       filepath.Join(b.work, spec.Size, "oci"),
		Archive:      filepath.Join(b.work, spec.Size, "image.tar"),
		ChangedLayer: appChanged,
	}
	var layers, changedLayers []testimage.Layer
	for _, p := range plans {
		layers = append(layers, testimage.Layer{TarPath: p.dst, CreatedBy: p.spec.CreatedBy})
		out.LayerFiles = append(out.LayerFiles, p.dst)
	}
	changedLayers = append(slices.Clone(layers), testimage.Layer{TarPath: appChanged, CreatedBy: "COPY . /app"})
	layers = append(layers, testimage.Layer{TarPath: app, CreatedBy: "COPY . /app"})
	out.LayerFiles = append(out.LayerFiles, app)

	// Reuse the written image when it was built from the same layer files.
	stamp := filepath.Join(b.work, spec.Size, "stamp")
	want := strings.Join(append(slices.Clone(out.LayerFiles), appChanged), "\n")
	if s, err := os.ReadFile(stamp); err == nil && string(s) == want {
		return out, b.sizes(out)
	}
	cfg := testimage.Config{Config: v1.Config{
		Env:        []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_ENV=production"},
		Cmd:        []string{"node", "/app/server.js"},
		WorkingDir: "/app",
		User:       "1000:1000",
	}}
	img, err := testimage.Build(cfg, layers...)
	if err != nil {
		return nil, err
	}
	changed, err := testimage.Build(cfg, changedLayers...)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	os.RemoveAll(filepath.Dir(stamp))
	if err := os.MkdirAll(filepath.Dir(stamp), 0o755); err != nil {
		return nil, err
	}
	lp, err := layout.Write(out.Layout, empty.Index)
	if err != nil {
		return nil, fmt.Errorf("creating layout %q: %w", out.Layout, err)
	}
	for _, t := range []struct {
		tag string
		img v1.Image
	}{{"base", img}, {"changed", changed}} {
		if err := lp.AppendImage(t.img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": t.tag})); err != nil {
			return nil, fmt.Errorf("writing %s image to %q: %w", t.tag, out.Layout, err)
		}
	}
	if err := testimage.WriteDockerArchive(out.Archive, "drybench/app:"+spec.Size, img); err != nil {
		return nil, err
	}
	b.logf("wrote OCI layout and docker archive in %s", time.Since(start).Round(time.Millisecond))
	if err := os.WriteFile(stamp, []byte(want), 0o644); err != nil {
		return nil, err
	}
	return out, b.sizes(out)
}

// sizes reads the base image's layer sizes from the layout.
func (b *builder) sizes(out *builtImage) error {
	out.Compressed, out.Uncompressed = nil, nil
	for _, lf := range out.LayerFiles {
		fi, err := os.Stat(lf)
		if err != nil {
			return err
		}
		out.Compressed = append(out.Compressed, fi.Size())
		n, err := uncompressedSize(lf)
		if err != nil {
			return err
		}
		out.Uncompressed = append(out.Uncompressed, n)
	}
	return nil
}

// uncompressedSize reads the size from a cache beside the file, or by
// decompressing it once.
func uncompressedSize(p string) (int64, error) {
	side := p + ".size"
	if b, err := os.ReadFile(side); err == nil {
		var n int64
		if _, err := fmt.Sscan(string(b), &n); err == nil {
			return n, nil
		}
	}
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return 0, fmt.Errorf("reading %q: %w", p, err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil {
		return 0, fmt.Errorf("reading %q: %w", p, err)
	}
	return n, os.WriteFile(side, []byte(fmt.Sprint(n)), 0o644)
}

// fillDebLayer unpacks debs, adds the Go binaries and writes the dpkg
// database as it stands after this layer (every package in below).
func (b *builder) fillDebLayer(ctx context.Context, lw *layerWriter, debs, below []deb, bins []string) error {
	controls := map[string]string{}
	for _, d := range debs {
		files, control, err := lw.addDeb(ctx, d)
		if err != nil {
			return err
		}
		controls[d.Name] = control
		list := d.Name
		if d.MultiArch == "same" {
			list += ":" + d.Arch
		}
		if err := lw.file("var/lib/dpkg/info/"+list+".list", 0o644, []byte(strings.Join(files, "\n")+"\n")); err != nil {
			return err
		}
	}
	for _, bin := range bins {
		data, err := os.ReadFile(bin)
		if err != nil {
			return err
		}
		name := filepath.Base(bin)
		if i := strings.LastIndex(name, "-v"); i > 0 {
			name = name[:i]
		}
		if err := lw.file("usr/local/bin/"+name, 0o755, data); err != nil {
			return err
		}
	}
	// The cumulative status file, sorted by package name as dpkg writes it.
	sorted := slices.Clone(below)
	slices.SortFunc(sorted, func(a, b deb) int { return strings.Compare(a.Name, b.Name) })
	var status strings.Builder
	for _, d := range sorted {
		control, ok := controls[d.Name]
		if !ok {
			out, err := run(ctx, "", nil, "dpkg-deb", "-f", d.Path)
			if err != nil {
				return err
			}
			control = string(out)
		}
		status.WriteString(statusStanza(control))
	}
	if status.Len() == 0 {
		return errors.New("no packages")
	}
	return lw.file("var/lib/dpkg/status", 0o644, []byte(status.String()))
}
