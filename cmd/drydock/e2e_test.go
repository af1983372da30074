package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/testimage"
)

var update = flag.Bool("update", false, "rewrite golden files")

const (
	alpineImage = "../../testdata/images/alpine-3.16.9.tar"
	mirrorDir   = "../../testdata/mirror"
)

// testDB is built once per test binary from the mirror the repo carries.
var testDB string

func TestMain(m *testing.M) {
	// Re-executed by a test as the drydock command itself (a fresh process:
	// Go reads SSL_CERT_FILE once per process).
	if os.Getenv("DRYDOCK_E2E_AS_CLI") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	flag.Parse()
	dir, err := os.MkdirTemp("", "drydock-e2e-")
	if err != nil {
		panic(err)
	}
	testDB = filepath.Join(dir, "drydock.db")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"-q", "--cache-dir", dir, "db", "update", "--source", mirrorDir, "--db", testDB}, nil, &out, &errb); code != 0 {
		os.Stderr.WriteString("building the test database failed: " + errb.String())
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type cliRun struct {
	code           int
	stdout, stderr string
}

func drydock(t *testing.T, args ...string) cliRun {
	t.Helper()
	return drydockIn(t, t.TempDir(), args...)
}

// drydockIn runs drydock with a given cache directory (drydock gives each
// run a new one).
func drydockIn(t *testing.T, cache string, args ...string) cliRun {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--cache-dir", cache}, args...), nil, &out, &errb)
	return cliRun{code, out.String(), errb.String()}
}

func scanJSON(t *testing.T, args ...string) (*report.Report, cliRun) {
	t.Helper()
	res := drydock(t, append([]string{"image", "--db", testDB, "--format", "json"}, args...)...)
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("drydock %v: exit %d, output is not JSON: %v\nstderr: %s", args, res.code, err, res.stderr)
	}
	return &rep, res
}

func sbomJSON(t *testing.T, ref string) *report.Report {
	t.Helper()
	res := drydock(t, "sbom", "--format", "json", ref)
	if res.code != 0 {
		t.Fatalf("drydock sbom %s: exit %d\n%s", ref, res.code, res.stderr)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// pairs lists "package advisory" for every finding.
func pairs(rep *report.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, f.Package.Name+" "+f.ID)
	}
	slices.Sort(out)
	return out
}

func TestAlpineFindings(t *testing.T) {
	rep, res := scanJSON(t, alpineImage)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if got, want := len(rep.Packages), 14; got != want {
		t.Errorf("packages = %d, want %d", got, want)
	}
	type row struct{ Pkg, ID, Installed, Fixed, Severity, Source, Eco string }
	var got []row
	for _, f := range rep.Findings {
		got = append(got, row{f.Package.Name, f.ID, f.InstalledVersion, f.FixedVersion, f.Severity, f.SeveritySource, f.Evidence[0].Ecosystem})
	}
	want := []row{
		{"busybox", "CVE-2023-42366", "1.35.0-r17", "1.35.0-r18", "MEDIUM", "nvd", "Alpine:v3.16"},
		{"ssl_client", "CVE-2023-42366", "1.35.0-r17", "1.35.0-r18", "MEDIUM", "nvd", "Alpine:v3.16"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	for _, f := range rep.Findings {
		if len(f.CVSS) == 0 || f.CVSS[0].Score != 5.5 {
			t.Errorf("%s: CVSS = %+v, want NVD 5.5", f.Package.Name, f.CVSS)
		}
	}
	if rep.Image.Kind != "docker-archive" || rep.Distro == nil || rep.Distro.Release != "v3.16" {
		t.Errorf("image kind %q distro %+v", rep.Image.Kind, rep.Distro)
	}
}

func TestAlpineTableGolden(t *testing.T) {
	res := drydock(t, "image", "--db", testDB, alpineImage)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	golden(t, "testdata/alpine-3.16.9.table.golden", res.stdout)
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// almaImage builds a one-layer image holding a real AlmaLinux rpm database
// and os-release, as an OCI layout.
func almaImage(t *testing.T, release, dbName, dbFile string) string {
	t.Helper()
	img := almaV1Image(t, release, dbName, dbFile)
	dir := filepath.Join(t.TempDir(), "layout")
	if err := testimage.WriteOCILayout(dir, "almalinux:"+release, img); err != nil {
		t.Fatal(err)
	}
	return "oci:" + dir
}

// almaV1Image is almaImage's image, to write anywhere (a registry).
func almaV1Image(t *testing.T, release, dbName, dbFile string) v1.Image {
	t.Helper()
	osRelease, err := os.ReadFile(filepath.Join("../../internal/extract/osrelease/testdata", "almalinux-"+release, "usr/lib/os-release"))
	if err != nil {
		t.Fatal(err)
	}
	db := gunzip(t, filepath.Join("../../internal/extract/rpm/testdata", dbFile))
	img, err := testimage.Build(testimage.Config{}, testimage.Layer{
		Files:     map[string][]byte{"usr/lib/os-release": osRelease, "var/lib/rpm/" + dbName: db},
		CreatedBy: "COPY rootfs /",
	})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAlmaLinuxFindings(t *testing.T) {
	tests := []struct {
		release, db, file string
		packages, pairs   int
		glibcAdvisory     string
	}{
		{"9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz", 22, 36, "ALSA-2023:5453"},
		// 20 headers, one of them a gpg-pubkey (listed, as rpm -qa, Trivy and Syft do; never matched).
		{"8.8", "Packages", "almalinux-8.8-Packages.gz", 20, 39, "ALSA-2023:5455"},
	}
	for _, tc := range tests {
		t.Run(tc.release, func(t *testing.T) {
			rep, res := scanJSON(t, almaImage(t, tc.release, tc.db, tc.file))
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if len(rep.Packages) != tc.packages {
				t.Errorf("packages = %d, want %d", len(rep.Packages), tc.packages)
			}
			if got := pairs(rep); len(got) != tc.pairs {
				t.Errorf("(package, advisory) pairs = %d, want %d:\n%s", len(got), tc.pairs, strings.Join(got, "\n"))
			}
			found := false
			for _, f := range rep.Findings {
				if f.Package.Name == "glibc" && f.ID == tc.glibcAdvisory {
					found = true
					if !f.KEV || !slices.Contains(f.Aliases, "CVE-2023-4911") || f.Severity != "HIGH" || f.SeveritySource != "vendor" {
						t.Errorf("glibc %s: kev=%v aliases=%v severity=%s (%s), want KEV, CVE-2023-4911, HIGH from vendor",
							f.ID, f.KEV, f.Aliases, f.Severity, f.SeveritySource)
					}
				}
			}
			if !found {
				t.Errorf("no glibc %s (CVE-2023-4911, Looney Tunables) finding", tc.glibcAdvisory)
			}
		})
	}
}

// extractTar unpacks the Alpine fixture's layer into a directory, for the
// dir: source.
func alpineRootfs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	f, err := os.Open("../../../shared/data/rootfs/alpine-minirootfs-3.16.9-x86_64.tar.gz")
	if err != nil {
		// The layer inside the repo's docker-archive is the same tarball.
		f = layerFromArchive(t, alpineImage)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(p), 0o755)
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		case tar.TypeSymlink:
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.Symlink(h.Linkname, p)
		}
	}
	return dir
}

func layerFromArchive(t *testing.T, archive string) *os.File {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("no layer in %s: %v", archive, err)
		}
		if strings.HasSuffix(h.Name, ".tar.gz") {
			tmp, err := os.CreateTemp(t.TempDir(), "layer")
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(tmp, tr)
			tmp.Seek(0, 0)
			return tmp
		}
	}
}

func TestSourcesAgree(t *testing.T) {
	base := sbomJSON(t, alpineImage)
	want := packageSet(base)

	img, err := testimage.Build(testimage.Config{Config: v1.Config{Cmd: []string{"/bin/sh"}}},
		testimage.Layer{Tar: gunzipFile(t, layerFromArchive(t, alpineImage)), CreatedBy: "ADD rootfs /"})
	if err != nil {
		t.Fatal(err)
	}
	layout := filepath.Join(t.TempDir(), "layout")
	if err := testimage.WriteOCILayout(layout, "3.16.9", img); err != nil {
		t.Fatal(err)
	}
	plainArchive := filepath.Join(t.TempDir(), "plain.tar")
	if err := testimage.WriteDockerArchive(plainArchive, "alpine:plain", img); err != nil {
		t.Fatal(err)
	}
	rootfs := alpineRootfs(t)
	for _, ref := range []string{"docker-archive:" + alpineImage, "oci:" + layout, layout, plainArchive, "dir:" + rootfs, rootfs} {
		t.Run(ref, func(t *testing.T) {
			got := packageSet(sbomJSON(t, ref))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("packages differ from the docker-archive scan (-want +got):\n%s", diff)
			}
		})
	}
}

func gunzipFile(t *testing.T, f *os.File) []byte {
	t.Helper()
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func packageSet(rep *report.Report) []string {
	var out []string
	for _, p := range rep.Packages {
		out = append(out, p.Ecosystem+" "+p.Name+" "+p.Version+" "+p.PURL)
	}
	slices.Sort(out)
	return out
}

// TestLayers checks origin layers, history and deletions across layers.
func TestLayers(t *testing.T) {
	base := gunzipFile(t, layerFromArchive(t, alpineImage))
	installed := readTarFile(t, base, "lib/apk/db/installed")
	extra := "C:Q1abc=\nP:curl\nV:7.83.1-r6\nA:x86_64\nS:1\nI:1\nT:URL retrival utility\nU:https://curl.se/\nL:MIT\no:curl\nm:Natanael Copa <ncopa@alpinelinux.org>\nt:1\nc:abc\n\n"
	withCurl := append(append([]byte{}, installed...), []byte(extra)...)

	tests := []struct {
		name   string
		layers []testimage.Layer
		want   map[string]int // package → layer index; nil: no packages at all
	}{
		{
			name: "package added by second layer",
			layers: []testimage.Layer{
				{Tar: base, CreatedBy: "ADD rootfs /"},
				{Files: map[string][]byte{"lib/apk/db/installed": withCurl}, CreatedBy: "RUN apk add curl"},
			},
			want: map[string]int{"busybox": 0, "curl": 1, "musl": 0},
		},
		{
			name: "database deleted by upper layer",
			layers: []testimage.Layer{
				{Tar: base, CreatedBy: "ADD rootfs /"},
				{Files: map[string][]byte{"lib/apk/db/installed": testimage.Whiteout}, CreatedBy: "RUN rm /lib/apk/db/installed"},
			},
			want: nil,
		},
		{
			name: "package removed by upper layer",
			layers: []testimage.Layer{
				{Tar: base, CreatedBy: "ADD rootfs /"},
				{Files: map[string][]byte{"lib/apk/db/installed": withCurl}, CreatedBy: "RUN apk add curl"},
				{Files: map[string][]byte{"lib/apk/db/installed": installed}, CreatedBy: "RUN apk del curl"},
			},
			want: map[string]int{"busybox": 0, "musl": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := testimage.Build(testimage.Config{}, tc.layers...)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "img.tar")
			if err := testimage.WriteDockerArchive(path, "test:layers", img); err != nil {
				t.Fatal(err)
			}
			rep := sbomJSON(t, path)
			got := map[string]int{}
			for _, p := range rep.Packages {
				if _, ok := tc.want[p.Name]; ok || p.Name == "curl" {
					got[p.Name] = p.Layer.Index
					if p.Layer.CreatedBy != tc.layers[p.Layer.Index].CreatedBy {
						t.Errorf("%s: created_by %q, want %q", p.Name, p.Layer.CreatedBy, tc.layers[p.Layer.Index].CreatedBy)
					}
				}
			}
			if tc.want == nil {
				if len(rep.Packages) != 0 {
					t.Errorf("got %d packages, want none", len(rep.Packages))
				}
				return
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("origin layers (-want +got):\n%s", diff)
			}
		})
	}
}

func readTarFile(t *testing.T, tarball []byte, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(tarball))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in tar: %v", name, err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{"clean gate", []string{"image", "--scanners", "vuln", "--db", testDB, "--severity", "CRITICAL", "--exit-code", "1", alpineImage}, 0, ""},
		{"failing gate", []string{"image", "--db", testDB, "--severity", "MEDIUM,HIGH", "--exit-code", "1", alpineImage}, 1, "CVE-2023-42366"},
		{"custom exit code", []string{"image", "--scanners", "vuln", "--db", testDB, "--exit-code", "9", alpineImage}, 9, ""},
		{"fail-on", []string{"image", "--db", testDB, "--fail-on", "medium", alpineImage}, 1, ""},
		{"fail-on above", []string{"image", "--scanners", "vuln", "--db", testDB, "--fail-on", "high", alpineImage}, 0, ""},
		{"ignore-unfixed keeps fixed findings", []string{"image", "--db", testDB, "--ignore-unfixed", "--exit-code", "1", alpineImage}, 1, ""},
		{"no database", []string{"image", "--db", filepath.Join(t.TempDir(), "none.db"), alpineImage}, 3, "drydock db update"},
		{"unknown severity", []string{"image", "--db", testDB, "--severity", "SEVERE", alpineImage}, 2, "SEVERE"},
		{"unknown format", []string{"sbom", "--format", "xml", alpineImage}, 2, "xml"},
		{"missing image", []string{"sbom", filepath.Join(t.TempDir(), "nope.tar")}, 3, "nope.tar"},
		{"unknown flag", []string{"sbom", "--frobnicate", alpineImage}, 2, "frobnicate"},
		{"unknown scanner", []string{"image", "--db", testDB, "--scanners", "vuln,rootkit", alpineImage}, 2, "rootkit"},
		{"root user fails a HIGH gate with misconfig on", []string{"image", "--db", testDB, "--scanners", "vuln,secret,misconfig", "--fail-on", "high", alpineImage}, 1, "DD-IMG-001"},
		{"misconfigurations are not scanned by default", []string{"image", "--db", testDB, "--fail-on", "high", alpineImage}, 0, ""},
		{"misconfig alone needs no database", []string{"image", "--scanners", "misconfig", "--db", filepath.Join(t.TempDir(), "none.db"), alpineImage}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := drydock(t, tc.args...)
			if res.code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", res.code, tc.code, res.stderr)
			}
			if !strings.Contains(res.stderr+res.stdout, tc.inStderr) {
				t.Errorf("output does not mention %q:\n%s", tc.inStderr, res.stderr)
			}
		})
	}
}

// TestREADMECIExample runs the README's CI line: the stock Alpine image
// passes (its two findings are MEDIUM; misconfigurations are not scanned by
// default, as with Trivy), AlmaLinux 9 fails (HIGH findings with fixes).
func TestREADMECIExample(t *testing.T) {
	ci := []string{"image", "--db", testDB, "--exit-code", "1", "--severity", "HIGH,CRITICAL", "--ignore-unfixed"}
	if res := drydock(t, append(ci, alpineImage)...); res.code != 0 {
		t.Errorf("stock Alpine: exit %d, want 0\n%s%s", res.code, res.stdout, res.stderr)
	}
	alma := almaImage(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz")
	res := drydock(t, append(ci, alma)...)
	if res.code != 1 || !strings.Contains(res.stdout, "ALSA-2023:5453") {
		t.Errorf("AlmaLinux 9: exit %d, want 1 with ALSA-2023:5453 listed\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// TestBadInput: every bad image is an error naming the layer or file, never
// a panic and never an empty success.
func TestBadInput(t *testing.T) {
	good := gunzipFile(t, layerFromArchive(t, alpineImage))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	truncatedGzip := gz.Bytes()[:gz.Len()/2]
	corruptTar := append([]byte{}, good[:4096]...)
	for i := 0; i < 512; i++ {
		corruptTar[1024+i] ^= 0xff
	}

	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		layer   string // path of the layer file
		mention string
	}{
		{"truncated gzip", write("trunc.tar.gz", truncatedGzip), "layer 0"},
		{"corrupt tar", write("corrupt.tar", corruptTar), "layer 0"},
		{"not a tar at all", write("garbage", bytes.Repeat([]byte("garbage!"), 300)), "layer 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			layer, err := os.ReadFile(tc.layer)
			if err != nil {
				t.Fatal(err)
			}
			layout := rawLayout(t, layer, "application/vnd.oci.image.layer.v1.tar+gzip")
			res := drydock(t, "sbom", "--format", "json", "oci:"+layout)
			if res.code != 3 {
				t.Errorf("exit %d, want 3 (scan error)\nstdout: %.200s\nstderr: %s", res.code, res.stdout, res.stderr)
			}
			if testing.Verbose() {
				t.Logf("stderr: %s", res.stderr)
			}
			if !strings.Contains(res.stderr, tc.mention) {
				t.Errorf("error does not name %q: %s", tc.mention, res.stderr)
			}
		})
	}
}

// rawLayout writes an OCI layout by hand around one layer blob, so that a
// broken layer (which go-containerregistry would refuse to build) can be
// scanned. The blob's digest is right; its content is not.
func rawLayout(t *testing.T, layer []byte, mediaType string) string {
	t.Helper()
	return rawLayoutWithDiffID(t, layer, mediaType, "sha256:"+strings.Repeat("0", 64))
}

// rawLayoutWithDiffID is rawLayout with the diff_id the config claims.
func rawLayoutWithDiffID(t *testing.T, layer []byte, mediaType, diffID string) string {
	t.Helper()
	dir := t.TempDir()
	blobs := filepath.Join(dir, "blobs", "sha256")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		t.Fatal(err)
	}
	put := func(b []byte) string {
		h := sha256.Sum256(b)
		d := hex.EncodeToString(h[:])
		if err := os.WriteFile(filepath.Join(blobs, d), b, 0o644); err != nil {
			t.Fatal(err)
		}
		return "sha256:" + d
	}
	layerDigest := put(layer)
	config := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["` + diffID + `"]},"history":[{"created_by":"ADD broken /"}]}`)
	configDigest := put(config)
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + configDigest + `","size":` + itoa(len(config)) + `},` +
		`"layers":[{"mediaType":"` + mediaType + `","digest":"` + layerDigest + `","size":` + itoa(len(layer)) + `}]}`)
	manifestDigest := put(manifest)
	index := `{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + manifestDigest + `","size":` + itoa(len(manifest)) + `}]}`
	if err := os.WriteFile(filepath.Join(dir, "index.json"), []byte(index), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestHostilePaths: a layer with "../" and absolute names is read with the
// names confined to the image root; nothing is written outside the temp dir.
func TestHostilePaths(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	installed := readTarFile(t, gunzipFile(t, layerFromArchive(t, alpineImage)), "lib/apk/db/installed")
	for _, name := range []string{"../../../lib/apk/db/installed", "/../etc/os-release"} {
		b := installed
		if strings.HasSuffix(name, "os-release") {
			b = []byte("ID=alpine\nVERSION_ID=3.16.9\n")
		}
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	tw.WriteHeader(&tar.Header{Name: "../../evil-link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"})
	tw.Close()
	img, err := testimage.Build(testimage.Config{}, testimage.Layer{Tar: buf.Bytes()})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "hostile.tar")
	if err := testimage.WriteDockerArchive(path, "hostile:1", img); err != nil {
		t.Fatal(err)
	}
	rep := sbomJSON(t, path)
	if len(rep.Packages) != 14 {
		t.Errorf("packages = %d, want the 14 of the apk database at the cleaned path", len(rep.Packages))
	}
	for _, p := range rep.Packages {
		if p.PrimaryPath() != "/lib/apk/db/installed" {
			t.Errorf("%s found at %q, want the cleaned path", p.Name, p.PrimaryPath())
		}
	}
	if _, err := os.Lstat(filepath.Join(filepath.Dir(filepath.Dir(path)), "evil-link")); err == nil {
		t.Error("a file named by the tar was written outside the temp dir")
	}
}

// TestSBOMRoundTrip: image → SBOM → scan-sbom finds exactly what the image
// scan found, for every SBOM format and version drydock writes.
func TestSBOMRoundTrip(t *testing.T) {
	images := map[string]string{
		"alpine":    alpineImage,
		"almalinux": almaImage(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz"),
	}
	for name, ref := range images {
		direct, res := scanJSON(t, ref)
		if res.code != 0 {
			t.Fatalf("%s: exit %d: %s", name, res.code, res.stderr)
		}
		if len(direct.Findings) == 0 {
			t.Fatalf("%s: the image scan found nothing: the round trip would prove nothing", name)
		}
		for _, format := range []string{"cyclonedx", "cyclonedx-1.7", "spdx", "spdx-json", "spdx-3.0"} {
			t.Run(name+"/"+format, func(t *testing.T) {
				bom := filepath.Join(t.TempDir(), "bom.json")
				if res := drydock(t, "sbom", "--format", format, "-o", bom, ref); res.code != 0 {
					t.Fatalf("sbom: exit %d: %s", res.code, res.stderr)
				}
				res := drydock(t, "scan-sbom", "--db", testDB, "--format", "json", bom)
				if res.code != 0 {
					t.Fatalf("scan-sbom: exit %d: %s", res.code, res.stderr)
				}
				var again report.Report
				if err := json.Unmarshal([]byte(res.stdout), &again); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(findingRows(direct), findingRows(&again)); diff != "" {
					t.Errorf("re-scan of the %s SBOM differs from the image scan (-image +sbom):\n%s", format, diff)
				}
			})
		}
	}
}

func findingRows(rep *report.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		out = append(out, strings.Join([]string{f.Package.Name, f.Package.Version, f.ID, f.FixedVersion, f.Severity, f.Status,
			strconv.FormatBool(f.KEV), strings.Join(f.Aliases, ","), f.Package.PURL, strconv.Itoa(f.Package.LayerIndex)}, " "))
	}
	slices.Sort(out)
	return out
}

// TestSecretsAcrossLayers: secrets planted in several layers, one of them
// deleted by an upper layer (still readable in the image), and in the image
// config; each found with its layer, none printed whole.
func TestSecretsAcrossLayers(t *testing.T) {
	// Realistic-looking but fake tokens, assembled so that no real secret
	// and no scanner-triggering literal sits in this source file.
	aws := "AKIA" + "Q3XJ5T7Z2LMN4PRW"
	awsSecret := "wJalrXUtnFEMI" + "K7MDENGbPxRfiCYzq9Lm3VbT2Nd8"
	gh := "ghp_" + "r8Vq2LmN5kTz9XwYb4Hc7JdF3sPq6GaE1uKo"
	pemKey := "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
		"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
		"QyNTUxOQAAACDd9V0kzN4vbq7V3ZoYp0u7lT1WmKcQx2rYl9Vb8sJq3gAAAJgq4kUyKuJF\n" +
		"-----END OPENSSH PRIVATE KEY-----\n"
	dbPass := "Zq7" + "rT2vLx9pWm4Ks"
	base := gunzipFile(t, layerFromArchive(t, alpineImage))
	img, err := testimage.Build(testimage.Config{Config: v1.Config{
		Env: []string{"PATH=/usr/bin:/bin", "DB_PASSWORD=" + dbPass},
	}},
		testimage.Layer{Tar: base, CreatedBy: "ADD rootfs /"},
		testimage.Layer{Files: map[string][]byte{
			"app/.env":             []byte("AWS_ACCESS_KEY_ID=" + aws + "\nAWS_SECRET_ACCESS_KEY=" + awsSecret + "\n"),
			"app/config/deploy.sh": []byte("#!/bin/sh\ncurl -H 'Authorization: token " + gh + "' https://api.github.com/user\n"),
		}, CreatedBy: "COPY . /app"},
		testimage.Layer{Files: map[string][]byte{"root/.ssh/id_ed25519": []byte(pemKey)}, CreatedBy: "COPY id_ed25519 /root/.ssh/"},
		testimage.Layer{Files: map[string][]byte{"app/.env": testimage.Whiteout}, CreatedBy: "RUN rm /app/.env"},
	)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "secrets.tar")
	if err := testimage.WriteDockerArchive(path, "secrets:1", img); err != nil {
		t.Fatal(err)
	}
	rep, res := scanJSON(t, "--scanners", "secret", path)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	type row struct {
		Path    string
		Layer   int
		Deleted int // -1: still present
	}
	got := map[string]row{}
	for _, s := range rep.Secrets {
		d := -1
		if s.DeletedInLayer != nil {
			d = *s.DeletedInLayer
		}
		key := s.Source + " " + s.Path
		if s.Source != "file" {
			key = s.Source
		}
		got[key] = row{s.Path, s.LayerIndex, d}
		for _, whole := range []string{aws, awsSecret, gh, dbPass, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ"} {
			if strings.Contains(s.Match, whole) {
				t.Errorf("secret %s printed whole in %q", s.RuleID, s.Match)
			}
		}
	}
	want := map[string]row{
		"file /app/.env":             {"/app/.env", 1, 3},
		"file /app/config/deploy.sh": {"/app/config/deploy.sh", 1, -1},
		"file /root/.ssh/id_ed25519": {"/root/.ssh/id_ed25519", 2, -1},
		"config-env":                 {"", -1, -1},
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("no secret found for %s; got %+v", k, got)
			continue
		}
		if k == "config-env" {
			continue
		}
		if g != w {
			t.Errorf("%s: got %+v, want %+v", k, g, w)
		}
	}
	// The misconfiguration check sees the password in ENV, and does not
	// print it either.
	mrep, _ := scanJSON(t, "--scanners", "misconfig", path)
	found := false
	for _, m := range mrep.Misconfigs {
		if m.ID == "DD-IMG-007" {
			found = true
			if strings.Contains(strings.Join(m.Evidence, " "), dbPass) {
				t.Errorf("DD-IMG-007 evidence prints the password: %v", m.Evidence)
			}
		}
	}
	if !found {
		t.Errorf("no DD-IMG-007 (secret in ENV) misconfiguration; got %+v", mrep.Misconfigs)
	}
	// Nothing leaks through the other outputs either.
	for _, format := range []string{"table", "sarif", "html"} {
		out := drydock(t, "image", "--scanners", "secret", "--format", format, path)
		for _, whole := range []string{aws, awsSecret, gh, dbPass} {
			if strings.Contains(out.stdout, whole) {
				t.Errorf("%s output contains a whole secret", format)
			}
		}
	}
}

// TestVEXOnImageScan: VEX documents in the three formats suppress
// CVE-2023-4911 on glibc in a real AlmaLinux 9.0 image scan, with the
// justification kept, and the KEV policy passes only then.
func TestVEXOnImageScan(t *testing.T) {
	img := almaImage(t, "9.0", "rpmdb.sqlite", "almalinux-9.0-rpmdb.sqlite.gz")
	// The policy package's OpenVEX document names one image by digest (and
	// must not apply to another); these name the package alone.
	dir := t.TempDir()
	writeVEX := func(name, vuln string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`{
  "@context": "https://openvex.dev/ns/v0.2.0",
  "@id": "https://example.com/vex/2026-002",
  "author": "Example Security Team",
  "timestamp": "2026-11-01T09:00:00Z",
  "version": 1,
  "statements": [{
    "vulnerability": {"name": "`+vuln+`"},
    "products": [{"@id": "pkg:rpm/almalinux/glibc@2.34-28.el9_0?arch=aarch64"}],
    "status": "not_affected",
    "justification": "vulnerable_code_not_in_execute_path",
    "impact_statement": "no setuid-root binaries in the image"
  }]
}`), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	glibcOf := func(t *testing.T, rep *report.Report) int {
		for i, f := range rep.Findings {
			if f.Package.Name == "glibc" && f.ID == "ALSA-2023:5453" {
				return i
			}
		}
		t.Fatalf("no glibc ALSA-2023:5453 finding")
		return -1
	}
	// Each document speaks of CVE-2023-4911 only; ALSA-2023:5453 also fixes
	// CVE-2023-4527, -4806 and -4813, so it is annotated and still counts.
	for _, vex := range []string{writeVEX("glibc.openvex.json", "CVE-2023-4911"),
		"../../internal/policy/testdata/vex/glibc.cdx.json", "../../internal/policy/testdata/vex/glibc.csaf.json"} {
		doc := filepath.Base(vex)
		t.Run(doc, func(t *testing.T) {
			rep, res := scanJSON(t, "--scanners", "vuln", "--vex", vex, "--policy", "builtin:kev", img)
			f := &rep.Findings[glibcOf(t, rep)]
			annotated := false
			for _, a := range f.Annotations {
				annotated = annotated || a.Kind == "vex" && a.Status == "not_affected (CVE-2023-4911)"
			}
			if f.Suppressed() || !annotated {
				t.Errorf("glibc ALSA-2023:5453 with %s: suppressed %v, annotations %+v; want annotated for CVE-2023-4911 only",
					doc, f.Suppressed(), f.Annotations)
			}
			if res.code != 1 {
				t.Errorf("exit %d; want 1: KEV findings remain\n%s", res.code, res.stderr)
			}
		})
	}
	// A statement about the advisory itself suppresses it.
	t.Run("advisory", func(t *testing.T) {
		rep, res := scanJSON(t, "--scanners", "vuln", "--vex", writeVEX("alsa.openvex.json", "ALSA-2023:5453"), "--policy", "builtin:kev", img)
		if f := &rep.Findings[glibcOf(t, rep)]; !f.Suppressed() {
			t.Errorf("glibc ALSA-2023:5453 not suppressed: %+v", f.Annotations)
		}
		// glibc-common and glibc-minimal-langpack carry the same advisory;
		// the document speaks of glibc only, so the KEV policy still fails
		// on them.
		if res.code != 1 || !strings.Contains(res.stderr, "glibc-common") && !strings.Contains(res.stdout, "glibc-common") {
			t.Errorf("exit %d; want 1 with the remaining KEV findings named\n%s", res.code, res.stderr)
		}
	})
	// Without VEX, the KEV policy fails and names glibc.
	_, res := scanJSON(t, "--scanners", "vuln", "--policy", "builtin:kev", img)
	if res.code != 1 {
		t.Errorf("builtin:kev on AlmaLinux 9.0: exit %d, want 1", res.code)
	}
}

// TestNoPackageDatabase: the real busybox OCI archive has no package
// database: no packages, a clear note, not an error.
func TestNoPackageDatabase(t *testing.T) {
	rep := sbomJSON(t, "../../internal/source/testdata/busybox-1.38.0-musl-amd64.oci.tar")
	if len(rep.Packages) != 0 {
		t.Errorf("packages = %d, want 0", len(rep.Packages))
	}
	found := false
	for _, n := range rep.Notes {
		found = found || strings.Contains(n.Message, "no OS package database found")
	}
	if !found || rep.Image.Kind != "oci-archive" {
		t.Errorf("kind %q, notes %+v; want oci-archive and a \"no OS package database found\" note", rep.Image.Kind, rep.Notes)
	}
}
