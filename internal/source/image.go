package source

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// MaxConfigSize bounds the image config drydock reads.
const MaxConfigSize = 8 << 20

// fromV1 fills the parts of an Image common to all v1.Image sources. open
// returns the stream of layer i.
func fromV1(img v1.Image, open func(i int, l v1.Layer) func(context.Context) (io.ReadCloser, error)) (*Image, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading image manifest: %w", err)
	}
	// A config is a few KiB to a few hundred (a long history); one of tens of
	// MB is hostile and would cost ten times its size once decoded.
	if m.Config.Size > MaxConfigSize {
		return nil, fmt.Errorf("image config %s is %d bytes, more than the %d drydock reads", m.Config.Digest, m.Config.Size, MaxConfigSize)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("reading image config: %w", err)
	}
	d, err := img.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing manifest digest: %w", err)
	}
	layers, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("listing layers: %w", err)
	}
	if len(m.Layers) != len(layers) {
		return nil, fmt.Errorf("manifest lists %d layers but the image has %d", len(m.Layers), len(layers))
	}
	if n := len(cfg.RootFS.DiffIDs); n != len(layers) {
		return nil, fmt.Errorf("config lists %d diff_ids but the manifest %d layers", n, len(layers))
	}
	out := &Image{
		ManifestDigest: d.String(),
		OS:             cfg.OS,
		Arch:           cfg.Architecture,
		Variant:        cfg.Variant,
		Config:         cfg,
		Manifest:       m,
		V1:             img,
	}
	hist := layerHistory(cfg, len(layers))
	for i, l := range layers {
		il := inventory.Layer{
			Index:     i,
			DiffID:    cfg.RootFS.DiffIDs[i].String(),
			Digest:    m.Layers[i].Digest.String(),
			MediaType: string(m.Layers[i].MediaType),
			Size:      m.Layers[i].Size,
		}
		if hist != nil {
			il.CreatedBy, il.Comment = hist[i].CreatedBy, hist[i].Comment
		}
		out.Layers = append(out.Layers, &Layer{Layer: il, open: open(i, l)})
	}
	return out, nil
}

// layerHistory returns the history entries of the n non-empty layers, or nil
// when the history does not describe them (missing, or a different count:
// a guess would attribute commands to the wrong layers).
func layerHistory(cfg *v1.ConfigFile, n int) []v1.History {
	var hist []v1.History
	for _, h := range cfg.History {
		if !h.EmptyLayer {
			hist = append(hist, h)
		}
	}
	if len(hist) != n {
		return nil
	}
	return hist
}

// platformString is the platform of a descriptor as "os/arch[/variant]".
func platformString(p *v1.Platform) string {
	if p == nil {
		return "unknown"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// normalizePlatform fills the defaults that registries often leave out
// (arm64 is v8) and maps common aliases.
func normalizePlatform(p v1.Platform) v1.Platform {
	switch p.Architecture {
	case "aarch64":
		p.Architecture = "arm64"
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	}
	if p.Architecture == "arm64" && p.Variant == "" {
		p.Variant = "v8"
	}
	return p
}

// platformMatches reports whether have satisfies the wanted os/arch[/variant].
func platformMatches(have, want v1.Platform) bool {
	h, w := normalizePlatform(have), normalizePlatform(want)
	if h.OS != w.OS || h.Architecture != w.Architecture {
		return false
	}
	return w.Variant == "" || h.Variant == w.Variant
}

// isImageManifest reports whether mt is a single-image manifest type.
func isImageManifest(mt types.MediaType) bool {
	return mt == types.OCIManifestSchema1 || mt == types.DockerManifestSchema2
}

// isIndex reports whether mt is an index / manifest list type.
func isIndex(mt types.MediaType) bool {
	return mt == types.OCIImageIndex || mt == types.DockerManifestList
}

// isAttestation reports whether d is a buildkit attestation manifest (not a
// runnable image).
func isAttestation(d v1.Descriptor) bool {
	if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
		return true
	}
	return d.Platform != nil && d.Platform.OS == "unknown" && d.Platform.Architecture == "unknown"
}

// choosePlatform picks the image manifest for the wanted platform among the
// manifests of an index. want nil means linux/amd64, else the only or first
// linux image.
func choosePlatform(manifests []v1.Descriptor, want *platform) (v1.Descriptor, error) {
	var cands []v1.Descriptor
	for _, d := range manifests {
		if (isImageManifest(d.MediaType) || d.MediaType == "") && !isAttestation(d) {
			cands = append(cands, d)
		}
	}
	if len(cands) == 0 {
		return v1.Descriptor{}, errors.New("the index holds no image manifest")
	}
	spec := v1.Platform{OS: "linux", Architecture: "amd64"}
	if want != nil {
		spec = want.spec
	}
	for _, d := range cands {
		if d.Platform != nil && platformMatches(*d.Platform, spec) {
			return d, nil
		}
	}
	if want == nil {
		if len(cands) == 1 && (cands[0].Platform == nil || cands[0].Platform.OS == "linux") {
			return cands[0], nil
		}
		for _, d := range cands {
			if d.Platform != nil && d.Platform.OS == "linux" {
				return d, nil
			}
		}
	}
	var avail []string
	for _, d := range cands {
		avail = append(avail, platformString(d.Platform))
	}
	shown := "linux/amd64 (or any linux)"
	if want != nil {
		shown = want.String()
	}
	return v1.Descriptor{}, fmt.Errorf("no image for platform %s; available: %s", shown, strings.Join(avail, ", "))
}

// checkPlatform fails when an explicitly requested platform contradicts a
// single image's config.
func checkPlatform(img *Image, want *platform) error {
	if want == nil || img.OS == "" || img.Arch == "" {
		return nil
	}
	have := v1.Platform{OS: img.OS, Architecture: img.Arch, Variant: img.Variant}
	if !platformMatches(have, want.spec) {
		return fmt.Errorf("image is for platform %s, not %s", platformString(&have), want)
	}
	return nil
}

// configPlatform is the platform of img's config, nil if it names none.
func configPlatform(img *Image) *v1.Platform {
	if img.OS == "" && img.Arch == "" {
		return nil
	}
	return &v1.Platform{OS: img.OS, Architecture: img.Arch, Variant: img.Variant}
}

// layerReader aborts reads when ctx is done and names the layer in errors.
type layerReader struct {
	rc   io.ReadCloser
	ctx  context.Context
	id   string
	stop func() bool
	once sync.Once
	cerr error
}

func newLayerReader(ctx context.Context, rc io.ReadCloser, id string) *layerReader {
	lr := &layerReader{rc: rc, ctx: ctx, id: id}
	// Closing the underlying stream unblocks a read waiting on the network.
	lr.stop = context.AfterFunc(ctx, func() { _ = lr.closeOnce() })
	return lr
}

func (lr *layerReader) Read(p []byte) (int, error) {
	if err := lr.ctx.Err(); err != nil {
		return 0, fmt.Errorf("reading layer %s: %w", lr.id, err)
	}
	n, err := lr.rc.Read(p)
	if err != nil && err != io.EOF {
		if cerr := lr.ctx.Err(); cerr != nil {
			err = cerr
		}
		err = fmt.Errorf("reading layer %s: %w", lr.id, err)
	}
	return n, err
}

func (lr *layerReader) closeOnce() error {
	lr.once.Do(func() { lr.cerr = lr.rc.Close() })
	return lr.cerr
}

func (lr *layerReader) Close() error {
	lr.stop()
	return lr.closeOnce()
}

// verifyReader checks, at EOF, that what was read hashes to want (and has
// the expected size, if known).
type verifyReader struct {
	rc   io.ReadCloser
	h    hash.Hash
	want v1.Hash
	size int64 // -1: unknown
	n    int64
	what string // "digest", "diff_id"
}

// newVerifyReader wraps rc; algorithms other than sha256/sha512 are not
// verified.
func newVerifyReader(rc io.ReadCloser, want v1.Hash, size int64, what string) io.ReadCloser {
	var h hash.Hash
	switch want.Algorithm {
	case "sha256":
		h = sha256.New()
	case "sha512":
		h = sha512.New()
	default:
		return rc
	}
	return &verifyReader{rc: rc, h: h, want: want, size: size, what: what}
}

func (v *verifyReader) Read(p []byte) (int, error) {
	n, err := v.rc.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if v.size >= 0 && v.n > v.size {
		return n, fmt.Errorf("%s %s: read more than the expected %d bytes", v.what, v.want, v.size)
	}
	if err == io.EOF {
		if v.size >= 0 && v.n != v.size {
			return n, fmt.Errorf("%s %s: got %d bytes, want %d", v.what, v.want, v.n, v.size)
		}
		if got := hex.EncodeToString(v.h.Sum(nil)); got != v.want.Hex {
			return n, fmt.Errorf("%s mismatch: content hashes to %s:%s, want %s", v.what, v.want.Algorithm, got, v.want)
		}
	}
	return n, err
}

func (v *verifyReader) Close() error { return v.rc.Close() }

// sortedUnique sorts and deduplicates s.
func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// repoOf returns the repository part of a reference as written, without its
// tag or digest: "host:5000/team/app:1.0" → "host:5000/team/app".
func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	slash := strings.LastIndex(ref, "/")
	if i := strings.LastIndex(ref, ":"); i > slash {
		ref = ref[:i]
	}
	return ref
}
