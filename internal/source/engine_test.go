package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// fakeImage is an image a fakeEngine holds: its docker save archive and
// what inspect says of it.
type fakeImage struct {
	id, os, arch     string
	tags, digests    []string
	diffIDs          []string
	archive          []byte
	truncateGetAfter int // >0: the /images/get stream ends after this many bytes
}

// fakeEngine answers the parts of Docker's API that drydock uses (the
// shapes Docker Engine and Podman's compat API give), on a unix socket.
type fakeEngine struct {
	images map[string]*fakeImage // by name and by ID
	host   string
	gets   []string // names asked of /images/get
}

var versionPrefix = regexp.MustCompile(`^/v1\.[0-9]+`)

func startFakeEngine(t *testing.T, images ...*fakeImage) *fakeEngine {
	t.Helper()
	e := &fakeEngine{images: map[string]*fakeImage{}}
	for _, img := range images {
		e.images[img.id] = img
		for _, tag := range img.tags {
			e.images[tag] = img
		}
	}
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "eng")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := net.Listen("unix", filepath.Join(dir, "e.sock"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(e.serve))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	e.host = "unix://" + filepath.Join(dir, "e.sock")
	return e
}

func (e *fakeEngine) serve(w http.ResponseWriter, r *http.Request) {
	p := versionPrefix.ReplaceAllString(r.URL.Path, "")
	notFound := func(ref string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"message":"No such image: %s"}`, ref)
	}
	switch {
	case p == "/_ping":
		w.Header().Set("Api-Version", "1.41")
		w.Write([]byte("OK"))
	case p == "/images/get":
		ref := r.URL.Query().Get("names")
		e.gets = append(e.gets, ref)
		img, ok := e.images[ref]
		if !ok {
			notFound(ref)
			return
		}
		w.Header().Set("Content-Type", "application/x-tar")
		b := img.archive
		if img.truncateGetAfter > 0 {
			b = b[:img.truncateGetAfter]
		}
		w.Write(b)
	case strings.HasPrefix(p, "/images/") && strings.HasSuffix(p, "/json"):
		ref := strings.TrimSuffix(strings.TrimPrefix(p, "/images/"), "/json")
		img, ok := e.images[ref]
		if !ok {
			notFound(ref)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"Id": img.id, "RepoTags": img.tags, "RepoDigests": img.digests, "Os": img.os, "Architecture": img.arch,
			"RootFS": map[string]any{"Type": "layers", "Layers": img.diffIDs},
		})
	default:
		http.Error(w, "not in the fake: "+r.URL.Path, http.StatusNotImplemented)
	}
}

// savedFake makes a fakeImage of a docker save archive written by
// dockerSave (one image): its ID is its config's digest, as Docker and
// Podman give it.
func savedFake(t *testing.T, archive string, tags, digests []string) *fakeImage {
	t.Helper()
	raw, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeImage{id: cfgName.String(), os: cfg.OS, arch: cfg.Architecture, tags: tags, digests: digests, archive: raw}
	for _, d := range cfg.RootFS.DiffIDs {
		f.diffIDs = append(f.diffIDs, d.String())
	}
	return f
}

func appImage(t *testing.T) (archive string, fake *fakeImage) {
	t.Helper()
	archive = dockerSave(t, savedImage{tags: []string{"app:1"}, layers: [][]file{
		{{name: "etc/os-release", body: "ID=alpine\n"}},
		{{name: "app/main", body: strings.Repeat("binary", 4096)}, {name: "etc/.wh.os-release"}},
	}})
	return archive, savedFake(t, archive, []string{"registry.example/team/app:1"},
		[]string{"registry.example/team/app@sha256:" + strings.Repeat("ab", 32)})
}

// An image read from an engine is the image its docker save archive holds
// (same manifest digest, layers and files), named by the engine's tags
// and repo digests; the engine is asked for it by ID; nothing is left in
// the temp dir after Close.
func TestEngineOpen(t *testing.T) {
	archive, fake := appImage(t)
	eng := startFakeEngine(t, fake)

	plain, err := Open(context.Background(), archive, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := openedOf(t, plain)
	plain.Close()
	want.Name, want.RepoTags = "registry.example/team/app", fake.tags

	for _, engine := range []string{KindDocker, KindPodman} {
		t.Run(engine, func(t *testing.T) {
			tmp := t.TempDir()
			eng.gets = nil
			opt := Options{TempDir: tmp, DockerHost: eng.host, PodmanHost: eng.host, LocalEngines: true}
			img, err := Open(context.Background(), engine+":registry.example/team/app:1", opt)
			if err != nil {
				t.Fatal(err)
			}
			want.Kind = engine
			if d := cmp.Diff(want, openedOf(t, img)); d != "" {
				t.Errorf("image from %s differs from its archive (-archive +engine):\n%s", engine, d)
			}
			if d := cmp.Diff(fake.digests, img.RepoDigests); d != "" {
				t.Errorf("RepoDigests (-want +got):\n%s", d)
			}
			if img.Ref == nil || img.Ref.String() != "registry.example/team/app:1" {
				t.Errorf("Ref = %v, want registry.example/team/app:1", img.Ref)
			}
			if d := cmp.Diff([]string{fake.id}, eng.gets); d != "" {
				t.Errorf("/images/get asked for (-want +got):\n%s", d)
			}
			if len(img.Notes) != 0 {
				t.Errorf("notes for an explicit scheme: %v", img.Notes)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 1 {
				t.Errorf("temp dir while open: %v, want the one spooled archive", ents)
			}
			if err := img.Close(); err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left in the temp dir after Close: %v", ents)
			}
		})
	}
}

// Failures say what failed and where: the engine not running (the socket
// named), the image missing, a stream cut short (the layer named), an
// archive that is not the inspected image. Nothing is left behind.
func TestEngineErrors(t *testing.T) {
	_, fake := appImage(t)
	truncated := *fake
	truncated.tags = []string{"cut:1"}
	truncated.id = "sha256:" + strings.Repeat("c", 64)
	// Into the first layer's content: dockerSave writes it first, after
	// its 512-byte header.
	truncated.truncateGetAfter = 512 + 700
	other := *fake
	other.tags = []string{"other:1"}
	other.id = "sha256:" + strings.Repeat("d", 64)
	eng := startFakeEngine(t, fake, &truncated, &other)

	missingSock := "unix://" + filepath.Join(t.TempDir(), "none.sock")
	tests := []struct {
		name, ref string
		opt       Options
		is        error
		contains  []string
		noEngines bool
	}{
		{name: "engines not allowed", ref: "podman:app:1", opt: Options{PodmanHost: eng.host}, noEngines: true,
			is: ErrEnginesNotAllowed, contains: []string{"podman:app:1 would read the Podman of this host"}},
		{name: "docker not running", ref: "docker:app:1", opt: Options{DockerHost: missingSock},
			is: ErrEngineUnavailable, contains: []string{"cannot reach Docker Engine at " + missingSock, "is the Docker daemon running"}},
		{name: "podman not running", ref: "podman:app:1", opt: Options{PodmanHost: missingSock},
			is: ErrEngineUnavailable, contains: []string{"cannot reach Podman at " + missingSock, "podman system service"}},
		{name: "image missing", ref: "podman:nosuch:1", opt: Options{PodmanHost: eng.host},
			is: ErrNotInEngine, contains: []string{`Podman at ` + eng.host + ` has no image "nosuch:1"`}},
		{name: "stream truncated in a layer", ref: "docker:cut:1", opt: Options{DockerHost: eng.host},
			contains: []string{`exporting Docker Engine image "cut:1"`, "the stream ended inside entry", "layer 0 (" + fake.diffIDs[0] + ")"}},
		{name: "not the inspected image", ref: "docker:other:1", opt: Options{DockerHost: eng.host},
			contains: []string{"the exported archive holds config " + fake.id + ", not the inspected image " + other.id}},
		{name: "unsupported host", ref: "docker:app:1", opt: Options{DockerHost: "ssh://me@host"},
			contains: []string{`Docker Engine host "ssh://me@host": only unix:// sockets and tcp://HOST:PORT`}},
		{name: "empty reference", ref: "podman:", contains: []string{`empty podman reference "podman:"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tmp := t.TempDir()
			tt.opt.TempDir = tmp
			tt.opt.LocalEngines = !tt.noEngines
			if tt.name == "stream truncated in a layer" {
				// The fake answers by ID: serve the cut stream for it.
				eng.images[truncated.id] = &truncated
			}
			img, err := Open(context.Background(), tt.ref, tt.opt)
			if err == nil {
				img.Close()
				t.Fatalf("Open(%q) succeeded", tt.ref)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v does not match %v", err, tt.is)
			}
			for _, s := range tt.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("left in the temp dir: %v", ents)
			}
		})
	}
}

// A plain name is looked for in Options.ImageSources in order; an image
// found after the first source carries a warning note with the earlier
// sources' errors, one found in an engine first an info note; none found
// lists every source's error; nil ImageSources is a registry only.
func TestImageSources(t *testing.T) {
	reg := memRegistry(t, nil)
	inRegistry := reg + "/team/app:1"
	push(t, inRegistry, nil, imageOf(t, "linux", "amd64", "", layerOf(t, file{name: "etc/os-release", body: "ID=debian\n"})))

	onlyLocal := reg + "/team/local:1"
	archive := dockerSave(t, savedImage{tags: []string{onlyLocal}, layers: [][]file{{{name: "etc/os-release", body: "ID=alpine\n"}}}})
	eng := startFakeEngine(t, savedFake(t, archive, []string{onlyLocal}, nil))
	missingSock := "unix://" + filepath.Join(t.TempDir(), "none.sock")

	type note struct{ Level, Contains string }
	tests := []struct {
		name, ref string
		sources   []string
		docker    string
		wantKind  string
		wantNote  *note
		errHas    []string
		errIs     error
	}{
		{name: "nil: registry only, found", ref: inRegistry, wantKind: KindRegistry},
		{name: "nil: registry only, not looked for locally", ref: onlyLocal, errHas: []string{"not found in the registry (HTTP 404)"}},
		{name: "registry first, found there", ref: inRegistry, sources: []string{"remote", "docker", "podman"}, wantKind: KindRegistry},
		{name: "fallback to podman", ref: onlyLocal, sources: []string{"remote", "docker", "podman"}, docker: missingSock, wantKind: KindPodman,
			wantNote: &note{"warning", `image "` + onlyLocal + `" was read from Podman at ` + eng.host + `, not from the sources before it in remote,docker,podman: remote: `}},
		{name: "fallback names docker's error", ref: onlyLocal, sources: []string{"remote", "docker", "podman"}, docker: missingSock, wantKind: KindPodman,
			wantNote: &note{"warning", "docker: container engine unavailable: cannot reach Docker Engine at " + missingSock}},
		{name: "engine first", ref: onlyLocal, sources: []string{"podman", "remote"}, wantKind: KindPodman,
			wantNote: &note{"info", `image "` + onlyLocal + `" was read from Podman at ` + eng.host + ` (image sources podman,remote)`}},
		{name: "docker first, found in docker", ref: onlyLocal, sources: []string{"docker"}, docker: eng.host, wantKind: KindDocker,
			wantNote: &note{"info", "read from Docker Engine at " + eng.host}},
		{name: "nowhere", ref: reg + "/team/nowhere:1", sources: []string{"remote", "docker", "podman"}, docker: missingSock,
			errHas: []string{`image "` + reg + `/team/nowhere:1" not found in any image source (remote,docker,podman)`, "remote: ", "docker: container engine unavailable", "podman: image not in the container engine"},
			errIs:  ErrNotInEngine},
		{name: "containerd", ref: onlyLocal, sources: []string{"containerd"}, errHas: []string{"image source containerd is not supported"}},
		{name: "unknown source", ref: onlyLocal, sources: []string{"remote", "kube"}, errHas: []string{`unknown image source "kube"`}},
		{name: "empty list", ref: onlyLocal, sources: []string{}, errHas: []string{"no image source given"}},
		{name: "scheme: no fallback", ref: "registry:" + onlyLocal, sources: []string{"remote", "podman"}, errHas: []string{"not found in the registry (HTTP 404)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := Options{ImageSources: tt.sources, DockerHost: tt.docker, PodmanHost: eng.host, TempDir: t.TempDir(), noRetry: true, LocalEngines: true}
			img, err := Open(context.Background(), tt.ref, opt)
			if len(tt.errHas) > 0 {
				if err == nil {
					img.Close()
					t.Fatalf("Open(%q) succeeded", tt.ref)
				}
				for _, s := range tt.errHas {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not contain %q", err, s)
					}
				}
				if tt.errIs != nil && !errors.Is(err, tt.errIs) {
					t.Errorf("error does not match %v", tt.errIs)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Kind != tt.wantKind {
				t.Errorf("Kind = %q, want %q", img.Kind, tt.wantKind)
			}
			if tt.wantNote == nil {
				if len(img.Notes) != 0 {
					t.Errorf("notes %v, want none", img.Notes)
				}
				return
			}
			if len(img.Notes) != 1 || img.Notes[0].Level != tt.wantNote.Level || !strings.Contains(img.Notes[0].Message, tt.wantNote.Contains) {
				t.Errorf("notes = %+v, want one %s note containing %q", img.Notes, tt.wantNote.Level, tt.wantNote.Contains)
			}
		})
	}
}

// A cancelled ctx stops the search: the next source is not tried.
func TestImageSourcesCancel(t *testing.T) {
	_, fake := appImage(t)
	eng := startFakeEngine(t, fake)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Open(ctx, "app:1", Options{ImageSources: []string{"docker", "podman"}, DockerHost: eng.host, PodmanHost: eng.host, LocalEngines: true})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if len(eng.gets) != 0 {
		t.Errorf("the engine was asked for %v after cancel", eng.gets)
	}
}

func TestEngineHost(t *testing.T) {
	tests := []struct {
		engine, host string
		env          map[string]string
		exists       []string
		want         string
	}{
		{engine: "docker", want: "unix:///var/run/docker.sock"},
		{engine: "docker", env: map[string]string{"DOCKER_HOST": "tcp://10.0.0.1:2375"}, want: "tcp://10.0.0.1:2375"},
		{engine: "docker", host: "/srv/docker.sock", env: map[string]string{"DOCKER_HOST": "tcp://x:1"}, want: "unix:///srv/docker.sock"},
		{engine: "podman", want: "unix:///run/podman/podman.sock"},
		{engine: "podman", env: map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, want: "unix:///run/podman/podman.sock"},
		{engine: "podman", env: map[string]string{"XDG_RUNTIME_DIR": "/run/user/1000"}, exists: []string{"/run/user/1000/podman/podman.sock"},
			want: "unix:///run/user/1000/podman/podman.sock"},
		{engine: "podman", env: map[string]string{"CONTAINER_HOST": "unix:///tmp/p.sock", "XDG_RUNTIME_DIR": "/run/user/1000"},
			exists: []string{"/run/user/1000/podman/podman.sock"}, want: "unix:///tmp/p.sock"},
		{engine: "podman", host: "unix:///given.sock", env: map[string]string{"CONTAINER_HOST": "unix:///tmp/p.sock"}, want: "unix:///given.sock"},
	}
	for _, tt := range tests {
		got := engineHost(tt.engine, tt.host, func(k string) string { return tt.env[k] },
			func(p string) bool { return strings.Contains(strings.Join(tt.exists, "\n"), p) })
		if got != tt.want {
			t.Errorf("engineHost(%q, %q, env %v, exists %v) = %q, want %q", tt.engine, tt.host, tt.env, tt.exists, got, tt.want)
		}
	}
}

func TestEngineRef(t *testing.T) {
	tests := []struct {
		ref  string
		tags []string
		want string
	}{
		{ref: "alpine:3.16", tags: []string{"alpine:3.16"}, want: "index.docker.io/library/alpine:3.16"},
		{ref: "alpine:3.16", tags: []string{"localhost/alpine:3.16"}, want: "localhost/alpine:3.16"},
		{ref: "alpine:3.16", tags: []string{"localhost/alpine:3.16", "quay.io/x/alpine:3.16"}, want: "localhost/alpine:3.16"},
		{ref: "alpine:3.16", tags: []string{"example.com/alpine:3.16", "quay.io/x/alpine:3.16"}, want: ""},
		{ref: "alpine:3.16", tags: []string{"localhost/alpine:3.17"}, want: ""},
		{ref: "sha256:" + strings.Repeat("a", 64), tags: []string{"alpine:3.16"}, want: ""},
	}
	for _, tt := range tests {
		got := ""
		if r := engineRef(tt.ref, tt.tags); r != nil {
			got = r.Name()
		}
		if got != tt.want {
			t.Errorf("engineRef(%q, %v) = %q, want %q", tt.ref, tt.tags, got, tt.want)
		}
	}
}

// The spooled stream is checked against the diff_ids the engine gave: an
// entry is named with its layer.
func TestEntryWords(t *testing.T) {
	d := fmt.Sprintf("sha256:%x", sha256.Sum256([]byte("x")))
	hex := strings.TrimPrefix(d, "sha256:")
	for entry, want := range map[string]string{
		hex + ".tar":          fmt.Sprintf("entry %q, layer 1 (%s)", hex+".tar", d),
		"blobs/sha256/" + hex: fmt.Sprintf("entry %q, layer 1 (%s)", "blobs/sha256/"+hex, d),
		"manifest.json":       `entry "manifest.json"`,
	} {
		if got := entryWords(entry, []string{"sha256:" + strings.Repeat("0", 64), d}); got != want {
			t.Errorf("entryWords(%q) = %q, want %q", entry, got, want)
		}
	}
}

// Whatever an engine streams, spoolSave never panics, and when it accepts
// the stream the copy is the whole stream, byte for byte.
func FuzzSpoolSave(f *testing.F) {
	saved, err := os.ReadFile(dockerSave(f, savedImage{tags: []string{"app:1"}, layers: [][]file{{{name: "etc/os-release", body: "ID=alpine\n"}}}}))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(saved)
	f.Add(saved[:len(saved)/2])
	f.Add([]byte{})
	f.Add([]byte("not a tar"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := os.CreateTemp(t.TempDir(), "spool")
		if err != nil {
			t.Fatal(err)
		}
		_, err = spoolSave(context.Background(), out, bytes.NewReader(b), "fuzz", []string{"sha256:" + strings.Repeat("0", 64)})
		out.Close()
		if err != nil {
			return
		}
		got, rerr := os.ReadFile(out.Name())
		if rerr != nil {
			t.Fatal(rerr)
		}
		if !bytes.Equal(got, b) {
			t.Fatalf("accepted stream of %d bytes, spooled %d", len(b), len(got))
		}
	})
}

// checkEngineID accepts the archive when its config is the inspected ID
// (classic store, Podman) or when the ID is a blob the stream held
// (Docker's containerd image store: the ID is a manifest's digest), and
// names both digests otherwise.
func TestCheckEngineID(t *testing.T) {
	cfg := "sha256:" + strings.Repeat("a", 64)
	mf := "sha256:" + strings.Repeat("b", 64)
	img := &Image{Manifest: &v1.Manifest{Config: v1.Descriptor{Digest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("a", 64)}}}}
	saved := map[string]bool{"manifest.json": true, "blobs/sha256/" + strings.Repeat("b", 64): true}
	for _, tt := range []struct {
		name, id, err string
	}{
		{name: "config", id: cfg},
		{name: "containerd store manifest", id: mf},
		{name: "neither", id: "sha256:" + strings.Repeat("c", 64),
			err: "the exported archive holds config " + cfg + ", not the inspected image sha256:" + strings.Repeat("c", 64)},
		{name: "no algorithm", id: strings.Repeat("b", 64), err: "not the inspected image"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := checkEngineID(img, tt.id, saved)
			if got := fmt.Sprint(err); (tt.err == "") != (err == nil) || !strings.Contains(got, tt.err) {
				t.Errorf("checkEngineID(%s) = %v, want error containing %q", tt.id, err, tt.err)
			}
		})
	}
}
