// Package source turns an image reference or a local path into an Image that
// drydock can walk: its config, manifest and layers, each layer openable as
// a stream.
//
// Supported references:
//
//	registry:NAME          an image in a registry (also docker://NAME)
//	docker-archive:PATH    a `docker save` tar (PATH:TAG chooses among several images)
//	oci:DIR                an OCI image layout (DIR@sha256:… or DIR:TAG to choose)
//	oci-archive:PATH       a tar of an OCI image layout (same selectors)
//	dir:PATH               an unpacked root filesystem
//	docker:IMAGE           an image in the local Docker Engine, through its API socket
//	podman:IMAGE           an image in the local Podman, through its API socket
//
// (docker: and podman: only with Options.LocalEngines.)
//
// A plain name (no scheme, not a path) is looked for in the sources
// Options.ImageSources lists, in order (default: a registry only); an image
// found in a later source than the first carries a note saying so
// (Image.Notes). See engine.go for how an engine's image is read.
//
// Without a scheme, an existing path is detected (a directory with an
// oci-layout file is an OCI layout, another directory a rootfs, a tar with
// manifest.json a docker archive, a tar with oci-layout an OCI archive;
// PATH:TAG and DIR@DIGEST select as with a scheme). A
// reference that looks like a path — it starts with "./", "../", "/" or "~",
// or ends in .tar, .tar.gz, .tgz, .tar.zst or .tar.zstd — and does not exist is an
// error matching fs.ErrNotExist ("no such file or directory: PATH"), never a
// registry pull; registry:NAME forces a registry reference. Anything else is
// parsed as a registry reference ("alpine:3.16").
//
// Archives (docker-archive, oci-archive, detected or not) may be gzip- or
// zstd-compressed (`docker save img | gzip`): they are decompressed once,
// into Options.TempDir, and the copy is removed by Image.Close.
//
// An OCI archive is not unpacked: only index.json, oci-layout and the blobs
// its descriptors name (through its indexes and manifests) are taken, each
// exactly its descriptor's size; anything else in the tar is skipped
// unread. Manifests, indexes and configs are written to Options.TempDir;
// layers are read in place from a plain tar (or the decompressed copy), and
// extracted only from a compressed stream.
//
// Every manifest, index and config is verified against its descriptor
// (digest and size) before it is used, from any source: a registry, an OCI
// layout or archive, a docker archive whose config file is named by its
// digest. Layers are verified as they are read (see Layer.Open).
//
// Registry requests are bounded by the timeouts in Options (connect, TLS
// handshake, response headers, a stalled or trickling body), and every
// operation by the ctx it is given: a deadline stops it promptly, with an
// error matching context.DeadlineExceeded.
//
// The opened Image keeps what later stages (signatures, attestations,
// referrers, base-image lookups) need to address exactly the scanned image
// without resolving a tag again: the parsed reference (Image.Ref), the
// manifest and index digests (Image.ManifestDigest, Image.IndexDigest),
// repository@digest (Image.Digest) and, for registry images, the
// authenticated registry client (Image.Remote).
//
// Open's ctx reaches every opener: cancelling it aborts scanning, hashing or
// extracting a large archive with an error matching context.Canceled.
package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// Kinds of source.
const (
	KindRegistry      = "registry"
	KindDockerArchive = "docker-archive"
	KindOCILayout     = "oci-layout"
	KindOCIArchive    = "oci-archive"
	KindDir           = "dir"
)

// Options tunes Open. The zero value is usable.
type Options struct {
	// Platform is "os/arch[/variant]". For a multi-platform index the default
	// is linux/amd64, falling back to the only (or first) linux image; with no
	// match the error lists the available platforms. For a single image an
	// explicit Platform that contradicts the image's config is an error.
	Platform string
	// Insecure allows plain-HTTP registries and skips TLS verification.
	Insecure bool
	// Keychain resolves registry credentials (default authn.DefaultKeychain:
	// the Docker config file and its credential helpers).
	Keychain authn.Keychain
	// Transport is the HTTP transport for registries (default
	// remote.DefaultTransport, whose TLS roots are the system's; Go reads
	// SSL_CERT_FILE / SSL_CERT_DIR for them on Linux). An *http.Transport is
	// cloned and given the timeouts below; another RoundTripper is bounded
	// by their sum from request to response headers.
	Transport http.RoundTripper

	// Registry timeouts. Zero means the default, a negative value none. A
	// request that runs out of time fails with a *TimeoutError naming the
	// registry and the manifest or blob; it is not retried. The ctx given
	// to Open and Layer.Open bounds everything else (a deadline for the
	// whole scan): its error is wrapped, so errors.Is(err,
	// context.DeadlineExceeded) holds.
	//
	// DialTimeout bounds connecting to a registry (DefaultDialTimeout, 30s).
	DialTimeout time.Duration
	// TLSHandshakeTimeout bounds the TLS handshake
	// (DefaultTLSHandshakeTimeout, 30s).
	TLSHandshakeTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a response's headers once
	// the request is sent (DefaultResponseHeaderTimeout, 60s).
	ResponseHeaderTimeout time.Duration
	// IdleReadTimeout bounds the wait for a response body: a body that
	// delivers no data for this long fails, and so does one that delivers
	// less than MinReadRate × IdleReadTimeout bytes in that much waiting
	// (DefaultIdleReadTimeout, 60s). Only time spent waiting for the
	// registry counts, not time the caller spends between reads.
	IdleReadTimeout time.Duration
	// MinReadRate is the slowest a response body may arrive, in bytes per
	// second averaged over IdleReadTimeout (DefaultMinReadRate, 1 KiB/s: a
	// registry trickling a byte at a time fails). Negative: any byte resets
	// the idle timer.
	MinReadRate int64
	// Logger receives debug messages (default: discarded).
	Logger *slog.Logger
	// TempDir is where a compressed archive is decompressed and an OCI
	// archive extracted (default os.TempDir()). Image.Close removes what
	// Open put there.
	TempDir string

	// DockerHost and PodmanHost are the API endpoints of the local engines
	// read by docker:IMAGE and podman:IMAGE: unix:///path (or a path), or
	// tcp://HOST:PORT (plain HTTP). "" means the default (see EngineHost).
	DockerHost, PodmanHost string
	// ImageSources lists, in order, the sources a plain name (no scheme,
	// not a path) is looked for in: SourceRemote (a registry),
	// SourceDocker, SourcePodman. Nil means a registry only. Each source is
	// tried after the one before failed (for any reason but the ctx's);
	// when a later one has the image, Image.Notes says which and why the
	// earlier ones did not; when none has it, the error lists every
	// source's error.
	ImageSources []string
	// LocalEngines allows reading the local engines at all (docker:IMAGE,
	// podman:IMAGE, the docker and podman entries of ImageSources). Off by
	// default: a server scanning references for API callers must not read
	// its own host's engines; the CLI turns it on.
	LocalEngines bool

	// noRetry disables the registry client's retries (tests of 5xx errors).
	noRetry bool
}

// Image is an opened image.
type Image struct {
	// Reference is the reference as given to Open.
	Reference string
	// Kind is one of the Kind* constants.
	Kind string
	// Name is the repository name if known, else the path.
	Name string
	// Ref is the parsed reference: for a registry image the reference given
	// to Open, with the defaults filled in ("alpine" is
	// index.docker.io/library/alpine:latest); for a docker archive opened as
	// PATH:TAG, that tag. Nil for other sources.
	Ref name.Reference
	// ManifestDigest is the digest of the image manifest ("" for dir). For a
	// docker-archive with uncompressed layers, docker save keeps no manifest,
	// so the manifest is synthesised (layers described by their DiffIDs).
	ManifestDigest string
	// IndexDigest is the digest of the image index (manifest list) that Open
	// resolved to ManifestDigest by platform: an index in a registry or inside
	// an OCI layout (oci, oci-archive). It is "" when the source named a
	// single manifest (by tag or digest), and when the image was chosen among
	// the entries of an OCI layout's own index.json, which has no digest.
	IndexDigest string
	// RepoTags and RepoDigests are the names the image is known by.
	RepoTags    []string
	RepoDigests []string
	// OS, Arch and Variant are the image's platform.
	OS, Arch, Variant string
	// Config and Manifest are nil for dir.
	Config   *v1.ConfigFile
	Manifest *v1.Manifest
	// Layers are in order, base first.
	Layers []*Layer
	// V1 is the underlying image, nil for dir; kept so that later stages
	// (signatures, referrers) can use it.
	V1 v1.Image

	// Notes are what Open wants said in the report: an image found in a
	// later source of Options.ImageSources than the first.
	Notes []inventory.Note

	handle  *Remote // registry images only
	cleanup []func() error
}

// Remote is the registry handle of an image opened from a registry: the
// client Open authenticated (credentials from Options.Keychain, the
// Options.Transport, the retry policy), so that a later stage can fetch
// signature tags (sha256-<hex>.sig), attestations or referrers of exactly
// the scanned digest without resolving the tag again.
type Remote struct {
	// Puller is the authenticated client; its Get, Head, Layer and List
	// reuse its token exchanges. Each call takes its own ctx.
	Puller *remote.Puller
	// Digest is repository@ManifestDigest: the exact scanned manifest.
	Digest name.Digest
	// Platform is the scanned image's platform (from its config), nil if the
	// config names none.
	Platform *v1.Platform
}

// Options returns options for the go-containerregistry functions that take
// them rather than a Puller (remote.Referrers, remote.Get, remote.Image…):
// they reuse Puller, carry ctx and select the scanned image's platform in
// an index.
func (r *Remote) Options(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.Reuse(r.Puller), remote.WithContext(ctx)}
	if r.Platform != nil {
		opts = append(opts, remote.WithPlatform(*r.Platform))
	}
	return opts
}

// Remote returns the registry handle of a registry image; ok is false for
// the other sources.
func (img *Image) Remote() (r *Remote, ok bool) {
	return img.handle, img.handle != nil
}

// Digest returns repository@ManifestDigest, the reference to exactly the
// scanned manifest, for a registry image. ok is false for the other sources:
// their manifest digest is not one a registry is known to hold (a docker
// archive's manifest is computed, an OCI layout names no repository).
func (img *Image) Digest() (d name.Digest, ok bool) {
	if img.handle == nil {
		return name.Digest{}, false
	}
	return img.handle.Digest, true
}

// Layer is one layer of an Image.
type Layer struct {
	inventory.Layer
	open func(ctx context.Context) (io.ReadCloser, error)
}

// Open returns the layer's blob stream: compressed as stored, or a plain tar
// (walk.Layer sniffs the compression). Where the source allows, reading
// verifies the digest (registry, OCI layout: the blob digest; docker archive:
// the DiffID), and a mismatch is a read error naming the layer. Cancelling
// ctx aborts reads. The caller must Close the stream.
func (l *Layer) Open(ctx context.Context) (io.ReadCloser, error) {
	if l.open == nil {
		return nil, fmt.Errorf("opening layer %s: no content", l.id())
	}
	rc, err := l.open(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening layer %s: %w", l.id(), err)
	}
	return newLayerReader(ctx, rc, l.id()), nil
}

// id names the layer in errors: its index and DiffID (or digest).
func (l *Layer) id() string {
	switch {
	case l.DiffID != "":
		return fmt.Sprintf("%d (%s)", l.Index, l.DiffID)
	case l.Digest != "":
		return fmt.Sprintf("%d (%s)", l.Index, l.Digest)
	}
	return fmt.Sprintf("%d", l.Index)
}

// Close removes anything Open created (an extracted archive). It is safe to
// call more than once.
func (img *Image) Close() error {
	var errs []error
	for _, f := range img.cleanup {
		errs = append(errs, f())
	}
	img.cleanup = nil
	return errors.Join(errs...)
}

// Open resolves ref (see the package documentation) into an Image. Cancelling
// ctx aborts opening (an error matching ctx.Err()). For a registry image, ctx
// is also used by the lazily loaded parts of img.V1, so it should outlive the
// Image; layers use the ctx given to Layer.Open.
func Open(ctx context.Context, ref string, opt Options) (*Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("opening %q: %w", ref, err)
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Keychain == nil {
		opt.Keychain = authn.DefaultKeychain
	}
	want, err := parsePlatform(opt.Platform)
	if err != nil {
		return nil, err
	}

	archives := &archiveFiles{tempDir: opt.TempDir}
	img, kind, err := open(ctx, ref, want, opt, archives)
	if err != nil {
		if cerr := archives.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		return nil, err
	}
	// A decompressed docker archive is read in place until Close.
	img.cleanup = append(img.cleanup, archives.close)
	img.Reference = ref
	img.Kind = kind
	return img, nil
}

func open(ctx context.Context, ref string, want *platform, opt Options, archives *archiveFiles) (*Image, string, error) {
	kind, rest, err := detect(ctx, ref, archives)
	if err != nil {
		return nil, "", err
	}
	opt.Logger.Debug("opening image", "reference", ref, "kind", kind)
	if kind == KindRegistry && rest == ref && opt.ImageSources != nil {
		// A plain name: looked for in the image sources.
		return openPlain(ctx, ref, want, opt, archives)
	}
	var img *Image
	switch kind {
	case KindRegistry:
		img, err = openRegistry(ctx, rest, want, opt)
	case KindDockerArchive:
		img, err = openDockerArchive(ctx, rest, want, archives)
	case KindOCILayout:
		img, err = openLayoutRef(ctx, rest, want)
	case KindOCIArchive:
		img, err = openOCIArchive(ctx, rest, want, archives)
	case KindDir:
		img, err = openDir(ctx, rest)
	case KindDocker, KindPodman:
		img, err = openEngine(ctx, kind, rest, want, opt, archives)
	}
	return img, kind, err
}

// schemes maps a reference prefix to a kind.
func schemes() []struct{ prefix, kind string } {
	return []struct{ prefix, kind string }{
		{"registry:", KindRegistry},
		{"docker://", KindRegistry},
		{"docker-archive:", KindDockerArchive},
		{"oci-archive:", KindOCIArchive},
		{"oci:", KindOCILayout},
		{"dir:", KindDir},
		{"docker:", KindDocker},
		{"podman:", KindPodman},
	}
}

// detect splits a scheme off ref, or detects the kind of an existing path.
// A compressed archive is decompressed (into archives) to be sniffed.
func detect(ctx context.Context, ref string, archives *archiveFiles) (kind, rest string, err error) {
	for _, s := range schemes() {
		if strings.HasPrefix(ref, s.prefix) {
			rest = strings.TrimPrefix(ref, s.prefix)
			if rest == "" {
				return "", "", fmt.Errorf("empty %s reference %q", s.kind, ref)
			}
			return s.kind, rest, nil
		}
	}
	if ref == "" {
		return "", "", errors.New("empty image reference")
	}
	p := ref
	fi, err := os.Stat(p)
	if err != nil && looksLikePath(ref) {
		// PATH:TAG or DIR@DIGEST without a scheme, when PATH exists.
		if q, sel := splitLayoutRef(ref); sel != "" {
			if qi, qerr := os.Stat(q); qerr == nil {
				p, fi, err = q, qi, nil
			}
		}
	}
	if err != nil {
		if !looksLikePath(ref) {
			// Not a path: a registry reference.
			return KindRegistry, ref, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			e := &missingError{path: ref, err: err}
			// A name path-like only by its suffix could also be a repository.
			if !strings.ContainsAny(ref[:1], "./~") {
				if _, perr := name.ParseReference(ref); perr == nil {
					e.hint = "to pull an image of that name from a registry, use registry:" + ref
				}
			}
			return "", "", e
		}
		return "", "", fmt.Errorf("opening %q: %w", ref, err)
	}
	if fi.IsDir() {
		if _, err := os.Stat(filepath.Join(p, "oci-layout")); err == nil {
			return KindOCILayout, ref, nil
		}
		if p != ref {
			return "", "", fmt.Errorf("%q is a directory without an oci-layout file: a root filesystem has no images to choose with %q", p, strings.TrimPrefix(ref, p))
		}
		return KindDir, ref, nil
	}
	plain, err := archives.plainTar(ctx, p)
	if err != nil {
		return "", "", fmt.Errorf("detecting the kind of %q: %w", p, err)
	}
	kind, err = sniffArchive(ctx, plain, p)
	if err != nil {
		return "", "", err
	}
	return kind, ref, nil
}

// looksLikePath reports whether a reference is meant as a local path rather
// than a registry reference: it starts like a path ("./", "../", "/", "~")
// or ends like an archive file name (.tar, .tar.gz, .tgz, .tar.zst[d]). No
// registry reference starts like a path; a repository named "app.tar" is
// still reachable as registry:app.tar.
func looksLikePath(ref string) bool {
	if ref == "." || ref == ".." {
		return true
	}
	for _, prefix := range []string{"./", "../", "/", "~"} {
		if strings.HasPrefix(ref, prefix) {
			return true
		}
	}
	return hasArchiveSuffix(ref)
}

func hasArchiveSuffix(ref string) bool {
	lower := strings.ToLower(ref)
	for _, suffix := range []string{".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd"} {
		if strings.HasSuffix(lower, suffix) {
			return true
		}
	}
	return false
}

// missingError is a local path that does not exist. It matches
// fs.ErrNotExist.
type missingError struct {
	path, hint string
	err        error
}

func (e *missingError) Error() string {
	s := fmt.Sprintf("no such file or directory: %q", e.path)
	if e.hint != "" {
		s += " (" + e.hint + ")"
	}
	return s
}

func (e *missingError) Unwrap() error { return e.err }

// missingPath is the error for path p that does not exist (err, from the
// file system, matches fs.ErrNotExist).
func missingPath(p string, err error) error {
	return &missingError{path: p, err: err}
}

// platform is the Platform option, parsed once by Open. A nil *platform
// means none was asked for.
type platform struct {
	spec v1.Platform
	text string // as given, for messages
}

// String is the platform as given.
func (p *platform) String() string { return p.text }

// parsePlatform parses "os/arch[/variant]"; "" gives nil.
func parsePlatform(s string) (*platform, error) {
	if s == "" {
		return nil, nil
	}
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return nil, fmt.Errorf("invalid platform %q: want os/arch[/variant], e.g. linux/arm64", s)
	}
	return &platform{spec: *p, text: s}, nil
}
