package source

// Images in a local container engine — Docker Engine or Podman — read
// through the engine's API socket (Podman serves Docker's API, which is the
// one used for both): docker:IMAGE, podman:IMAGE, and the fallback of
// Options.ImageSources for a plain name.
//
// How the image is read: GET /images/{name}/json (inspect: the image ID,
// its tags and repo digests), then GET /images/get?names=ID, the `docker
// save` tar stream of exactly the inspected image (by ID, so a tag moved
// in between cannot swap it, and `docker save NAME` without a tag cannot
// export every tag of a repository). The stream is spooled to a temp file
// in Options.TempDir — never a file the user sees — because the archive
// reader needs random access (manifest.json comes last in the stream, and
// the scan reads layers in parallel); the file is removed by Image.Close.
// While spooling, the tar stream is followed entry by entry, so a stream
// that ends early is an error naming the entry (and the layer) it ended
// in. The archive is then opened as any docker archive: every layer
// verified against its config diff_id as it is read, the config against
// the image ID the engine gave.

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/moby/moby/client"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// Kinds of engine sources.
const (
	KindDocker = "docker"
	KindPodman = "podman"
)

// Image sources, for Options.ImageSources.
const (
	SourceRemote = "remote"
	SourceDocker = "docker"
	SourcePodman = "podman"
)

// ImageSourceNames are the valid Options.ImageSources entries.
func ImageSourceNames() []string { return []string{SourceRemote, SourceDocker, SourcePodman} }

// ErrEngineUnavailable matches an error from an engine that could not be
// reached at its socket (not running, wrong socket).
var ErrEngineUnavailable = errors.New("container engine unavailable")

// ErrEnginesNotAllowed matches the error for an engine reference when
// Options.LocalEngines is off.
var ErrEnginesNotAllowed = errors.New("local container engines are not read here")

// ErrNotInEngine matches an error for an image the engine does not have.
var ErrNotInEngine = errors.New("image not in the container engine")

// CheckImageSources checks an ImageSources list: known names, each once,
// at least one.
func CheckImageSources(list []string) error {
	if len(list) == 0 {
		return errors.New("no image source given: want one or more of " + strings.Join(ImageSourceNames(), ", "))
	}
	seen := map[string]bool{}
	for _, s := range list {
		if s == "containerd" {
			return errors.New("image source containerd is not supported (drydock reads Docker Engine and Podman through their API sockets, and registries): export the image with `ctr image export` and scan the archive")
		}
		if !slices.Contains(ImageSourceNames(), s) {
			return fmt.Errorf("unknown image source %q: want %s", s, strings.Join(ImageSourceNames(), ", "))
		}
		if seen[s] {
			return fmt.Errorf("image source %q listed twice", s)
		}
		seen[s] = true
	}
	return nil
}

// EngineHost returns the API endpoint drydock uses for engine ("docker" or
// "podman") when host is "": for docker, $DOCKER_HOST, else
// unix:///var/run/docker.sock; for podman, $CONTAINER_HOST, else
// unix://$XDG_RUNTIME_DIR/podman/podman.sock when that socket exists (a
// rootless user's service), else unix:///run/podman/podman.sock. A host
// given as a plain path is a unix socket.
func EngineHost(engine, host string) string {
	return engineHost(engine, host, os.Getenv, func(p string) bool {
		_, err := os.Stat(p)
		return err == nil
	})
}

func engineHost(engine, host string, getenv func(string) string, exists func(string) bool) string {
	if host == "" {
		switch engine {
		case KindDocker:
			host = getenv("DOCKER_HOST")
			if host == "" {
				host = "unix:///var/run/docker.sock"
			}
		case KindPodman:
			host = getenv("CONTAINER_HOST")
			if host == "" {
				host = "unix:///run/podman/podman.sock"
				if xdg := getenv("XDG_RUNTIME_DIR"); xdg != "" {
					if p := filepath.Join(xdg, "podman", "podman.sock"); exists(p) {
						host = "unix://" + p
					}
				}
			}
		}
	}
	if strings.HasPrefix(host, "/") {
		host = "unix://" + host
	}
	return host
}

// openPlain looks for a plain name (no scheme, not a path) in the sources
// of opt.ImageSources, in order. An image read from an engine carries a
// note naming it (a warning when earlier sources failed, with their
// errors); when no source has the image, the error lists each one's.
// Cancelling ctx stops the search at once.
func openPlain(ctx context.Context, ref string, want *platform, opt Options, archives *archiveFiles) (*Image, string, error) {
	if err := CheckImageSources(opt.ImageSources); err != nil {
		return nil, "", err
	}
	var failed []error
	for _, src := range opt.ImageSources {
		var (
			img  *Image
			err  error
			kind = map[string]string{SourceRemote: KindRegistry, SourceDocker: KindDocker, SourcePodman: KindPodman}[src]
		)
		if src == SourceRemote {
			img, err = openRegistry(ctx, ref, want, opt)
		} else {
			img, err = openEngine(ctx, kind, ref, want, opt, archives)
		}
		if err == nil {
			if note, ok := fallbackNote(ref, src, opt, failed); ok {
				img.Notes = append(img.Notes, note)
			}
			return img, kind, nil
		}
		if ctx.Err() != nil {
			return nil, "", err
		}
		opt.Logger.Debug("image source failed", "source", src, "reference", ref, "err", err)
		failed = append(failed, &sourceError{source: src, err: err})
	}
	return nil, "", fmt.Errorf("image %q not found in any image source (%s): %w", ref, strings.Join(opt.ImageSources, ","), errors.Join(failed...))
}

// sourceError is one image source's failure to open a plain name.
type sourceError struct {
	source string
	err    error
}

func (e *sourceError) Error() string { return e.source + ": " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// fallbackNote says where a plain name was read from, unless from a
// registry as the first source (what a plain name has always meant).
func fallbackNote(ref, src string, opt Options, failed []error) (inventory.Note, bool) {
	if src == SourceRemote && len(failed) == 0 {
		return inventory.Note{}, false
	}
	where := "a registry"
	switch src {
	case SourceDocker:
		where = engineName(KindDocker) + " at " + EngineHost(KindDocker, opt.DockerHost)
	case SourcePodman:
		where = engineName(KindPodman) + " at " + EngineHost(KindPodman, opt.PodmanHost)
	}
	order := strings.Join(opt.ImageSources, ",")
	if len(failed) == 0 {
		return inventory.Note{Level: "info", Message: fmt.Sprintf("image %q was read from %s (image sources %s)", ref, where, order)}, true
	}
	var why []string
	for _, e := range failed {
		why = append(why, e.Error())
	}
	return inventory.Note{Level: "warning", Message: fmt.Sprintf("image %q was read from %s, not from the sources before it in %s: %s",
		ref, where, order, strings.Join(why, "; "))}, true
}

// engineNames are the engines' names in messages.
func engineName(engine string) string {
	if engine == KindPodman {
		return "Podman"
	}
	return "Docker Engine"
}

// openEngine reads image ref from the local engine (KindDocker or
// KindPodman). The spooled archive is removed when the Image is closed, or
// at once if opening fails.
func openEngine(ctx context.Context, engine, ref string, want *platform, opt Options, archives *archiveFiles) (*Image, error) {
	img, err := openEngineCtx(ctx, engine, ref, want, opt, archives)
	return img, withCtxErr(ctx, err)
}

func openEngineCtx(ctx context.Context, engine, ref string, want *platform, opt Options, archives *archiveFiles) (*Image, error) {
	if !opt.LocalEngines {
		return nil, fmt.Errorf("%w: %s:%s would read the %s of this host", ErrEnginesNotAllowed, engine, ref, engineName(engine))
	}
	hostOpt := opt.DockerHost
	if engine == KindPodman {
		hostOpt = opt.PodmanHost
	}
	host := EngineHost(engine, hostOpt)
	scheme, _, _ := strings.Cut(host, "://")
	if scheme != "unix" && scheme != "tcp" {
		return nil, fmt.Errorf("%s host %q: only unix:// sockets and tcp://HOST:PORT (plain HTTP) are supported", engineName(engine), host)
	}
	cli, err := client.New(client.WithHost(host), client.WithUserAgent("drydock"))
	if err != nil {
		return nil, fmt.Errorf("%s host %q: %w", engineName(engine), host, err)
	}
	defer cli.Close()
	opt.Logger.Debug("reading image from a container engine", "engine", engine, "host", host, "image", ref)

	insp, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		return nil, engineError(ctx, engine, host, ref, "inspecting", err)
	}
	if insp.ID == "" {
		return nil, fmt.Errorf("%s at %s: inspecting %q: the engine gave no image ID", engineName(engine), host, ref)
	}
	stream, err := cli.ImageSave(ctx, []string{insp.ID})
	if err != nil {
		return nil, engineError(ctx, engine, host, ref, "exporting", err)
	}
	defer stream.Close()

	spool, err := os.CreateTemp(opt.TempDir, "drydock-"+engine+"-*.tar")
	if err != nil {
		return nil, fmt.Errorf("creating a temp file for image %q from %s: %w", ref, engineName(engine), err)
	}
	remove := func() error {
		if err := os.Remove(spool.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the copy of image %q from %s: %w", ref, engineName(engine), err)
		}
		return nil
	}
	fail := func(err error) (*Image, error) {
		spool.Close()
		return nil, errors.Join(err, remove())
	}
	what := fmt.Sprintf("%s image %q (%s)", engineName(engine), ref, insp.ID)
	saved, err := spoolSave(ctx, spool, stream, what, insp.RootFS.Layers)
	if err != nil {
		return fail(err)
	}
	if err := spool.Close(); err != nil {
		return fail(fmt.Errorf("writing the copy of %s: %w", what, err))
	}

	img, err := openDockerArchive(ctx, spool.Name(), want, archives)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("reading %s as exported by the engine: %w", what, err), remove())
	}
	img.cleanup = append(img.cleanup, remove)
	if err := checkEngineID(img, insp.ID, saved); err != nil {
		return nil, errors.Join(fmt.Errorf("%s: %w", what, err), img.Close())
	}
	img.RepoTags = sortedUnique(append([]string(nil), insp.RepoTags...))
	img.RepoDigests = sortedUnique(append([]string(nil), insp.RepoDigests...))
	img.Name, img.Ref = engineName0(ref, img.RepoTags), nil
	if t := engineRef(ref, img.RepoTags); t != nil {
		img.Ref = *t
	}
	return img, nil
}

// engineError turns an API error into one that says what failed: the engine
// unreachable (ErrEngineUnavailable), the image missing (ErrNotInEngine),
// or the engine's own message.
func engineError(ctx context.Context, engine, host, ref, doing string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s %q in %s at %s: %w", doing, ref, engineName(engine), host, err)
	}
	switch {
	case client.IsErrConnectionFailed(err):
		hint := "is the Docker daemon running? ($DOCKER_HOST or --docker-host names another socket)"
		if engine == KindPodman {
			hint = "is Podman's API service running? (systemctl --user start podman.socket, or podman system service; $CONTAINER_HOST or --podman-host names another socket)"
		}
		// The dial error says it best ("connect: no such file or
		// directory"); the client's own text speaks of Docker only.
		cause := error(err)
		var op *net.OpError
		if errors.As(err, &op) {
			cause = op
		}
		return fmt.Errorf("%w: cannot reach %s at %s: %v (%s)", ErrEngineUnavailable, engineName(engine), host, cause, hint)
	case cerrdefs.IsNotFound(err):
		return fmt.Errorf("%w: %s at %s has no image %q (%v)", ErrNotInEngine, engineName(engine), host, ref, err)
	}
	return fmt.Errorf("%s %q in %s at %s: %w", doing, ref, engineName(engine), host, err)
}

// spoolSave copies the `docker save` stream r to f, following it as a tar:
// a stream that ends before the archive does is an error naming the entry
// it ended in, and the layer (of diffIDs, from inspect) that entry holds.
// It returns the names (cleaned) of the archive's regular files.
func spoolSave(ctx context.Context, f *os.File, r io.Reader, what string, diffIDs []string) (map[string]bool, error) {
	var werr error
	tee := io.TeeReader(r, writerFunc(func(p []byte) (int, error) {
		n, err := f.Write(p)
		if err != nil && werr == nil {
			werr = fmt.Errorf("writing the copy of %s: %w", what, err)
		}
		return n, err
	}))
	tr := tar.NewReader(tee)
	// Entries are skipped by Next, which discards each one's stored bytes:
	// reading their contents instead would expand a sparse entry's holes
	// (a hostile stream could claim exabytes of them).
	names, sawManifest, entries, current := map[string]bool{}, false, 0, ""
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("exporting %s: %w", what, err)
		}
		hdr, err := tr.Next()
		if werr != nil {
			return nil, werr
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if current != "" && errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("exporting %s: the stream ended inside %s: %w", what, entryWords(current, diffIDs), err)
			}
			return nil, fmt.Errorf("exporting %s: the stream is not a complete tar after %d entries: %w", what, entries, err)
		}
		entries++
		current = hdr.Name
		clean := cleanTarName(hdr.Name)
		sawManifest = sawManifest || clean == "manifest.json"
		if hdr.Typeflag == tar.TypeReg || hdr.Typeflag == tar.TypeRegA {
			names[clean] = true
		}
	}
	// The rest of the stream (the tar's padding) completes the copy.
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return nil, fmt.Errorf("exporting %s: %w", what, err)
	}
	if werr != nil {
		return nil, werr
	}
	if !sawManifest {
		return nil, fmt.Errorf("exporting %s: the stream ended after %d entries without manifest.json (truncated, or not a docker save archive)", what, entries)
	}
	return names, nil
}

// entryWords names an archive entry, and the layer it holds when its name
// carries one of diffIDs' hex (podman: <hex>.tar; docker:
// blobs/sha256/<hex> for an uncompressed layer).
func entryWords(entry string, diffIDs []string) string {
	for i, d := range diffIDs {
		_, hex, ok := strings.Cut(d, ":")
		if ok && hex != "" && strings.Contains(entry, hex) {
			return fmt.Sprintf("entry %q, layer %d (%s)", entry, i, d)
		}
	}
	return fmt.Sprintf("entry %q", entry)
}

type writerFunc func([]byte) (int, error)

func (w writerFunc) Write(p []byte) (int, error) { return w(p) }

// checkEngineID checks that the archive holds the image the engine
// inspected: the image ID is its config's digest (Docker's classic store,
// Podman), or, with Docker's containerd image store, the digest of a
// manifest or index the archive holds as a blob (saved: the archive's
// regular files, as spoolSave listed them).
func checkEngineID(img *Image, id string, saved map[string]bool) error {
	if img.Manifest != nil && img.Manifest.Config.Digest.String() == id {
		return nil
	}
	if _, hex, ok := strings.Cut(id, ":"); ok && hex != "" && saved[path.Join("blobs", "sha256", hex)] {
		return nil
	}
	got := ""
	if img.Manifest != nil {
		got = img.Manifest.Config.Digest.String()
	}
	return fmt.Errorf("the exported archive holds config %s, not the inspected image %s", got, id)
}

// engineName0 is the image's repository: that of the tag the reference
// names, else of its first tag, else the reference.
func engineName0(ref string, tags []string) string {
	if t := engineRef(ref, tags); t != nil {
		return repoOf(t.String())
	}
	return ref
}

// engineRef is the tag the image was asked by, as the engine knows it:
// the reference itself if it is one of the image's tags (Docker fills in
// docker.io/library/), else Podman's localhost/NAME for a short name, else
// the one tag whose repository ends like the reference's, else nil.
func engineRef(ref string, tags []string) *name.Tag {
	want, err := name.NewTag(ref)
	if err != nil {
		return nil
	}
	var parsed []name.Tag
	for _, s := range tags {
		t, err := name.NewTag(s)
		if err != nil {
			continue
		}
		if t.Name() == want.Name() {
			return &t
		}
		parsed = append(parsed, t)
	}
	var match []name.Tag
	short := strings.TrimPrefix(want.RepositoryStr(), "library/")
	for _, t := range parsed {
		if t.RegistryStr() == "localhost" && t.RepositoryStr() == short && t.TagStr() == want.TagStr() {
			return &t
		}
	}
	for _, t := range parsed {
		if t.TagStr() == want.TagStr() && (t.RepositoryStr() == short || strings.HasSuffix(t.RepositoryStr(), "/"+short)) {
			match = append(match, t)
		}
	}
	if len(match) == 1 {
		return &match[0]
	}
	return nil
}
