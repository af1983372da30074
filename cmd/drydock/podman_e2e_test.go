package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/klauspost/compress/gzip"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/report"
)

// podmanService is a Podman API service the test started, on its own
// socket and storage (vfs, in temp dirs): nothing of the machine's own
// Podman is read or changed.
type podmanService struct {
	sock string // path of the unix socket
	http *http.Client
}

// startPodman starts `podman system service` as root without systemd:
// cgroupfs, the file events backend, vfs storage under a temp dir. It skips
// the test only when podman is not installed (.ci/run installs it).
func startPodman(t *testing.T) *podmanService {
	t.Helper()
	bin, err := exec.LookPath("podman")
	if err != nil {
		t.Skip("podman is not installed (apt-get install podman; .ci/run installs it): the podman: source is not tested here")
	}
	// A short path: a unix socket's path is limited to 108 bytes.
	dir, err := os.MkdirTemp("", "pm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// vfs layers are plain directories; some are read-only.
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
		os.RemoveAll(dir)
	})
	for _, d := range []string{"root", "runroot", "xdg", "home", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sock := filepath.Join(dir, "podman.sock")
	var logs bytes.Buffer
	cmd := exec.Command(bin,
		"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "runroot"),
		"--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--events-backend", "file",
		"--tmpdir", filepath.Join(dir, "tmp"),
		"system", "service", "--time=0", "unix://"+sock)
	cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+filepath.Join(dir, "xdg"), "HOME="+filepath.Join(dir, "home"))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting podman system service: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	p := &podmanService{sock: sock, http: &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := p.http.Get("http://podman/_ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case err := <-done:
			t.Fatalf("podman system service exited: %v\n%s", err, logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("podman system service did not answer on %s within 30s: %v\n%s", sock, err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (p *podmanService) host() string { return "unix://" + p.sock }

// do calls the Docker-compatible API and fails the test unless it answers
// with want.
func (p *podmanService) do(t *testing.T, method, path string, body io.Reader, want int) string {
	t.Helper()
	req, err := http.NewRequest(method, "http://podman/v1.41"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-tar")
	}
	resp, err := p.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %s, want %d: %s", method, path, resp.Status, want, b)
	}
	return string(b)
}

// load loads a docker save archive into Podman through the API
// (POST /images/load, what `podman load` does).
func (p *podmanService) load(t *testing.T, archive string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p.do(t, http.MethodPost, "/images/load", f, http.StatusOK)
}

// findingsOf is what must not depend on where the image was read from:
// each finding (package, version, advisory), each package, each layer.
type findingsOf struct {
	Findings, Packages, DiffIDs []string
}

func findingsIn(rep *report.Report) findingsOf {
	var out findingsOf
	for _, f := range rep.Findings {
		out.Findings = append(out.Findings, fmt.Sprintf("%s %s %s fixed:%s", f.Package.Name, f.InstalledVersion, f.ID, f.FixedVersion))
	}
	for _, p := range rep.Packages {
		out.Packages = append(out.Packages, p.Name+" "+p.Version)
	}
	for _, l := range rep.Image.Layers {
		out.DiffIDs = append(out.DiffIDs, l.DiffID)
	}
	slices.Sort(out.Findings)
	slices.Sort(out.Packages)
	return out
}

// The Alpine 3.16.9 image, loaded into a Podman started by the test, is
// scanned through podman:NAME with the same findings, packages and layers
// as its docker save archive; it carries the repo digest Podman gives it.
// A plain name that no registry has is found in Podman after the registry
// and Docker failed, and the output says so (stderr and the report's
// notes). A missing image and a socket nobody listens on are clear errors.
// A gzipped docker save archive scans as the plain one.
func TestPodmanSource(t *testing.T) {
	pm := startPodman(t)
	pm.load(t, alpineImage)
	// A name whose registry is a closed local port: a registry pull fails
	// at once, without the internet.
	local := "127.0.0.1:9/team/alpine"
	pm.do(t, http.MethodPost, "/images/localhost/alpine:3.16.9/tag?repo="+url.QueryEscape(local)+"&tag=3.16.9", nil, http.StatusCreated)

	want, res := scanJSON(t, alpineImage)
	if res.code != 0 {
		t.Fatalf("archive scan: exit %d: %s", res.code, res.stderr)
	}
	if len(want.Findings) == 0 {
		t.Fatal("the archive scan found nothing: the comparison would prove nothing")
	}

	t.Run("podman:NAME", func(t *testing.T) {
		got, res := scanJSON(t, "--podman-host", pm.host(), "podman:alpine:3.16.9")
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if d := cmp.Diff(findingsIn(want), findingsIn(got)); d != "" {
			t.Errorf("podman:alpine:3.16.9 differs from the archive (-archive +podman):\n%s", d)
		}
		img := got.Image
		if img.Kind != "podman" || img.Reference != "podman:alpine:3.16.9" || img.Name != "localhost/alpine" {
			t.Errorf("image kind %q reference %q name %q", img.Kind, img.Reference, img.Name)
		}
		if !slices.Contains(img.RepoTags, "localhost/alpine:3.16.9") || !slices.ContainsFunc(img.RepoDigests, func(d string) bool { return strings.HasPrefix(d, "localhost/alpine@sha256:") }) {
			t.Errorf("tags %v, repo digests %v: want Podman's", img.RepoTags, img.RepoDigests)
		}
		if img.ConfigDigest != want.Image.ConfigDigest || !strings.HasPrefix(img.Digest, "sha256:") {
			t.Errorf("config digest %q (archive %q), manifest digest %q", img.ConfigDigest, want.Image.ConfigDigest, img.Digest)
		}
		if slices.ContainsFunc(got.Notes, func(n inventory.Note) bool { return strings.Contains(n.Message, "was read from") }) {
			t.Errorf("a fallback note for an explicit podman: scheme: %v", got.Notes)
		}
	})

	// Docker Engine is not available here: docker:IMAGE is the same client
	// and code, pointed at Podman's Docker-compatible API.
	t.Run("docker:NAME against Podman's compatible API", func(t *testing.T) {
		got, res := scanJSON(t, "--docker-host", pm.host(), "docker:localhost/alpine:3.16.9")
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if d := cmp.Diff(findingsIn(want), findingsIn(got)); d != "" {
			t.Errorf("docker:localhost/alpine:3.16.9 differs from the archive (-archive +engine):\n%s", d)
		}
		if got.Image.Kind != "docker" || got.Image.Name != "localhost/alpine" {
			t.Errorf("kind %q name %q", got.Image.Kind, got.Image.Name)
		}
	})

	t.Run("fallback after the registry and docker", func(t *testing.T) {
		ref := local + ":3.16.9"
		none := "unix://" + filepath.Join(t.TempDir(), "docker.sock")
		got, res := scanJSON(t, "--docker-host", none, "--podman-host", pm.host(), ref)
		if res.code != 0 {
			t.Fatalf("exit %d: %s", res.code, res.stderr)
		}
		if d := cmp.Diff(findingsIn(want), findingsIn(got)); d != "" {
			t.Errorf("%s from podman differs from the archive (-archive +podman):\n%s", ref, d)
		}
		if got.Image.Kind != "podman" {
			t.Errorf("kind %q, want podman", got.Image.Kind)
		}
		said := `image "` + ref + `" was read from Podman at ` + pm.host() + ", not from the sources before it in remote,docker,podman"
		for _, s := range []string{"was read from Podman at " + pm.host() + ", not from the sources before it in remote,docker,podman", "remote: pulling",
			"docker: container engine unavailable: cannot reach Docker Engine at " + none} {
			if !strings.Contains(res.stderr, s) {
				t.Errorf("stderr does not say the fallback (%q):\n%s", s, res.stderr)
			}
		}
		if !slices.ContainsFunc(got.Notes, func(n inventory.Note) bool { return n.Level == "warning" && strings.Contains(n.Message, said) }) {
			t.Errorf("the report's notes do not say the fallback: %+v", got.Notes)
		}

		// Registry only: not looked for locally.
		res = drydock(t, "image", "--db", testDB, "--image-src", "remote", "--podman-host", pm.host(), ref)
		if res.code != 3 || strings.Contains(res.stderr, "Podman") {
			t.Errorf("--image-src remote: exit %d, want 3 without Podman: %s", res.code, res.stderr)
		}
	})

	// Settings as for every flag: $DRYDOCK_IMAGE_SRC, $DRYDOCK_PODMAN_HOST,
	// and image-src as a list in the config file.
	t.Run("from the environment and the config file", func(t *testing.T) {
		t.Setenv("DRYDOCK_IMAGE_SRC", "podman")
		t.Setenv("DRYDOCK_PODMAN_HOST", pm.host())
		got, res := scanJSON(t, "localhost/alpine:3.16.9")
		if res.code != 0 || got.Image.Kind != "podman" {
			t.Fatalf("$DRYDOCK_IMAGE_SRC=podman: exit %d kind %q: %s", res.code, got.Image.Kind, res.stderr)
		}
		if !slices.ContainsFunc(got.Notes, func(n inventory.Note) bool {
			return n.Level == "info" && strings.Contains(n.Message, "was read from Podman at "+pm.host()+" (image sources podman)")
		}) {
			t.Errorf("no info note naming Podman: %+v", got.Notes)
		}
		t.Setenv("DRYDOCK_IMAGE_SRC", "")
		cfg := filepath.Join(t.TempDir(), "drydock.yaml")
		if err := os.WriteFile(cfg, []byte("image:\n  image-src: [PODMAN, remote]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, res = scanJSON(t, "--config", cfg, "localhost/alpine:3.16.9")
		if res.code != 0 || got.Image.Kind != "podman" {
			t.Fatalf("image-src in the config file: exit %d kind %q: %s", res.code, got.Image.Kind, res.stderr)
		}
		if err := os.WriteFile(cfg, []byte("image-src: [podman, podman]\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		res = drydock(t, "image", "--db", testDB, "--config", cfg, "localhost/alpine:3.16.9")
		if res.code != 2 || !strings.Contains(res.stderr, `image source "podman" listed twice`) {
			t.Errorf("a source listed twice in the config file: exit %d, want 2: %s", res.code, res.stderr)
		}
	})

	t.Run("errors", func(t *testing.T) {
		none := "unix://" + filepath.Join(t.TempDir(), "none.sock")
		tests := []struct {
			name string
			args []string
			code int
			want []string
		}{
			{"missing image", []string{"--podman-host", pm.host(), "podman:nosuch:1"}, 3,
				[]string{`Podman at ` + pm.host() + ` has no image "nosuch:1"`}},
			{"no engine", []string{"--podman-host", none, "podman:alpine:3.16.9"}, 3,
				[]string{"cannot reach Podman at " + none, "podman system service"}},
			{"nowhere", []string{"--docker-host", none, "--podman-host", pm.host(), "127.0.0.1:9/team/nowhere:1"}, 3,
				[]string{`image "127.0.0.1:9/team/nowhere:1" not found in any image source (remote,docker,podman)`, "remote: ", "docker: ", "podman: "}},
			{"containerd", []string{"--image-src", "containerd", "alpine:3.16.9"}, 2,
				[]string{"image source containerd is not supported"}},
			{"unknown source", []string{"--image-src", "remote,kube", "alpine:3.16.9"}, 2,
				[]string{`unknown image source "kube"`}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res := drydock(t, append([]string{"image", "--db", testDB}, tt.args...)...)
				if res.code != tt.code {
					t.Errorf("exit %d, want %d: %s", res.code, tt.code, res.stderr)
				}
				for _, s := range tt.want {
					if !strings.Contains(res.stderr, s) {
						t.Errorf("stderr does not contain %q:\n%s", s, res.stderr)
					}
				}
			})
		}
	})
}

// A gzipped docker save archive (`docker save img | gzip > img.tar.gz`)
// scans as the plain one.
func TestGzippedDockerSave(t *testing.T) {
	in, err := os.ReadFile(alpineImage)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "alpine.tar.gz")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(in)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	want, res := scanJSON(t, alpineImage)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	got, res := scanJSON(t, p)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if d := cmp.Diff(findingsIn(want), findingsIn(got)); d != "" || len(want.Findings) == 0 {
		t.Errorf("gzipped archive differs from the plain one (-plain +gzip):\n%s", d)
	}
	if got.Image.Kind != "docker-archive" || got.Image.Digest != want.Image.Digest {
		t.Errorf("kind %q digest %q, want docker-archive %q", got.Image.Kind, got.Image.Digest, want.Image.Digest)
	}
}
