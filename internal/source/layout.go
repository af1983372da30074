package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// Annotations naming an image in an OCI layout's index.json.
const (
	annRefName        = "org.opencontainers.image.ref.name"
	annContainerdName = "io.containerd.image.name"
)

// splitLayoutRef splits "DIR@sha256:…" or "DIR:TAG".
func splitLayoutRef(ref string) (dir, sel string) {
	if i := strings.LastIndex(ref, "@"); i >= 0 && strings.Contains(ref[i:], ":") {
		if _, err := os.Stat(ref); err != nil {
			return ref[:i], ref[i:]
		}
	}
	return splitPathSelector(ref)
}

func openLayoutRef(ctx context.Context, ref string, want *platform) (*Image, error) {
	dir, sel := splitLayoutRef(ref)
	img, err := openLayout(ctx, dir, sel, want, nil)
	if err != nil {
		return nil, err
	}
	if img.Name == "" {
		img.Name = dir
	}
	return img, nil
}

// openLayout opens the image of the OCI layout at dir chosen by sel:
// "@sha256:…" (a manifest digest), "TAG" (a ref.name annotation), or ""
// (the only image, or the one for the platform). When sel or the only
// entry names an index, the platform decides within it and the Image's
// IndexDigest is that index's digest. Layers in inPlace (an OCI archive's)
// are read from there, the other blobs from dir.
func openLayout(ctx context.Context, dir, sel string, want *platform, inPlace *archiveLayers) (*Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("opening OCI layout %q: %w", dir, err)
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		return nil, missingPath(dir, err)
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("opening OCI layout %q: %w", dir, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "index.json")); err == nil && fi.Size() > maxManifestSize {
		return nil, fmt.Errorf("index.json of %q is %d bytes, more than the %d drydock reads", dir, fi.Size(), maxManifestSize)
	}
	idx, err := lp.ImageIndex()
	if err != nil {
		return nil, fmt.Errorf("reading index.json of %q: %w", dir, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, fmt.Errorf("reading index.json of %q: %w", dir, err)
	}

	cands := im.Manifests
	switch {
	case strings.HasPrefix(sel, "@"):
		h, err := v1.NewHash(sel[1:])
		if err != nil {
			return nil, fmt.Errorf("parsing digest %q: %w", sel[1:], err)
		}
		cands = nil
		for _, d := range im.Manifests {
			if d.Digest == h {
				cands = append(cands, d)
			}
		}
		if len(cands) == 0 {
			// A manifest (or index) inside a nested index: what buildx and
			// skopeo write for a multi-platform image, addressed by the
			// digest of one platform's manifest.
			parent, d, ok, err := findNested(ctx, dir, idx, im.Manifests, h)
			if err != nil {
				return nil, fmt.Errorf("searching OCI layout %q for %s: %w", dir, h, err)
			}
			if !ok {
				return nil, fmt.Errorf("no manifest %s in OCI layout %q (nor in the indexes it holds)", h, dir)
			}
			idx, cands = parent, []v1.Descriptor{d}
		}
	case sel != "":
		cands = nil
		for _, d := range im.Manifests {
			if refMatches(d.Annotations, sel) {
				cands = append(cands, d)
			}
		}
		if len(cands) == 0 {
			return nil, fmt.Errorf("no image tagged %q in OCI layout %q; available: %s", sel, dir, refNames(im.Manifests))
		}
	}

	chosen, err := chooseFrom(cands, want)
	if err != nil {
		return nil, fmt.Errorf("choosing an image in OCI layout %q: %w", dir, err)
	}
	if isIndex(chosen.MediaType) {
		if err := verifyBlob(ctx, dir, chosen, "index", maxManifestSize); err != nil {
			return nil, fmt.Errorf("OCI layout %q: %w", dir, err)
		}
		sub, err := idx.ImageIndex(chosen.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading index %s in %q: %w", chosen.Digest, dir, err)
		}
		sim, err := sub.IndexManifest()
		if err != nil {
			return nil, fmt.Errorf("reading index %s in %q: %w", chosen.Digest, dir, err)
		}
		d, err := choosePlatform(sim.Manifests, want)
		if err != nil {
			return nil, fmt.Errorf("choosing a platform in OCI layout %q: %w", dir, err)
		}
		if err := verifyBlob(ctx, dir, d, "manifest", maxManifestSize); err != nil {
			return nil, fmt.Errorf("OCI layout %q: %w", dir, err)
		}
		img, err := sub.Image(d.Digest)
		if err != nil {
			return nil, fmt.Errorf("reading image %s in %q: %w", d.Digest, dir, err)
		}
		out, err := fromLayoutImage(ctx, img, dir, chosen.Annotations, want, inPlace)
		if err != nil {
			return nil, err
		}
		out.IndexDigest = chosen.Digest.String()
		return out, nil
	}
	if err := verifyBlob(ctx, dir, chosen, "manifest", maxManifestSize); err != nil {
		return nil, fmt.Errorf("OCI layout %q: %w", dir, err)
	}
	img, err := idx.Image(chosen.Digest)
	if err != nil {
		return nil, fmt.Errorf("reading image %s in %q: %w", chosen.Digest, dir, err)
	}
	return fromLayoutImage(ctx, img, dir, chosen.Annotations, want, inPlace)
}

// maxIndexDepth bounds the search for a digest through nested indexes (and
// what an OCI archive's extraction follows): a hostile layout can nest them
// without end.
const maxIndexDepth = 8

// findNested searches the indexes named by top (index.json's entries of
// idx), depth first in order, for a descriptor of digest h. It returns the
// index that lists the descriptor, and the descriptor carrying the
// annotations of the index.json entry it was found under (the names it is
// known by) unless it has its own. Nested indexes whose blobs are missing
// (a layout holding one platform of several) are skipped; one that is not
// what its descriptor says (size, digest) is an error.
func findNested(ctx context.Context, dir string, idx v1.ImageIndex, top []v1.Descriptor, h v1.Hash) (v1.ImageIndex, v1.Descriptor, bool, error) {
	seen := map[v1.Hash]bool{}
	var search func(parent v1.ImageIndex, ds []v1.Descriptor, depth int) (v1.ImageIndex, v1.Descriptor, bool, error)
	search = func(parent v1.ImageIndex, ds []v1.Descriptor, depth int) (v1.ImageIndex, v1.Descriptor, bool, error) {
		for _, d := range ds {
			if err := ctx.Err(); err != nil {
				return nil, v1.Descriptor{}, false, err
			}
			if d.Digest == h {
				return parent, d, true, nil
			}
			if !isIndex(d.MediaType) || seen[d.Digest] || depth >= maxIndexDepth {
				continue
			}
			seen[d.Digest] = true
			if err := verifyBlob(ctx, dir, d, "index", maxManifestSize); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					continue
				}
				return nil, v1.Descriptor{}, false, err
			}
			sub, err := parent.ImageIndex(d.Digest)
			if err != nil {
				continue
			}
			sim, err := sub.IndexManifest()
			if err != nil {
				continue
			}
			if p, found, ok, err := search(sub, sim.Manifests, depth+1); ok || err != nil {
				return p, found, ok, err
			}
		}
		return nil, v1.Descriptor{}, false, nil
	}
	for _, t := range top {
		if !isIndex(t.MediaType) {
			continue
		}
		parent, d, ok, err := search(idx, []v1.Descriptor{t}, 0)
		if err != nil {
			return nil, v1.Descriptor{}, false, err
		}
		if !ok {
			continue
		}
		if d.Annotations[annRefName] == "" && d.Annotations[annContainerdName] == "" {
			d.Annotations = t.Annotations
		}
		return parent, d, true, nil
	}
	return nil, v1.Descriptor{}, false, nil
}

// chooseFrom picks among index.json entries: a single entry is taken as is
// (it may be an index); among several images, the platform decides.
func chooseFrom(cands []v1.Descriptor, want *platform) (v1.Descriptor, error) {
	switch len(cands) {
	case 0:
		return v1.Descriptor{}, errors.New("index.json lists no manifests")
	case 1:
		return cands[0], nil
	}
	d, err := choosePlatform(cands, want)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("%w (or choose by tag: %s)", err, refNames(cands))
	}
	return d, nil
}

func refMatches(ann map[string]string, tag string) bool {
	for _, k := range []string{annRefName, annContainerdName} {
		v := ann[k]
		if v == "" {
			continue
		}
		if v == tag || strings.HasSuffix(v, ":"+tag) {
			return true
		}
	}
	return false
}

func refNames(ds []v1.Descriptor) string {
	var names []string
	for _, d := range ds {
		if n := d.Annotations[annRefName]; n != "" {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "(no ref.name annotations)"
	}
	return strings.Join(sortedUnique(names), ", ")
}

// fromLayoutImage describes an image of a layout (whose manifest the caller
// verified). The config is verified against the manifest's descriptor
// before it is read, layers against theirs as they are read (ggcr's layout
// verifies nothing).
func fromLayoutImage(ctx context.Context, img v1.Image, dir string, ann map[string]string, want *platform, inPlace *archiveLayers) (*Image, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %q: reading image manifest: %w", dir, err)
	}
	if err := verifyBlob(ctx, dir, m.Config, "config", 0); err != nil {
		return nil, fmt.Errorf("reading OCI layout %q: %w", dir, err)
	}
	out, err := fromV1(img, func(_ int, l v1.Layer) func(context.Context) (io.ReadCloser, error) {
		return func(ctx context.Context) (io.ReadCloser, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			d, err := l.Digest()
			if err != nil {
				return nil, err
			}
			size, err := l.Size()
			if err != nil {
				return nil, err
			}
			rc, ok, err := inPlace.open(d)
			if !ok {
				rc, err = l.Compressed()
			}
			if err != nil {
				return nil, err
			}
			return newVerifyReader(rc, d, size, "digest"), nil
		}
	})
	if err != nil {
		return nil, fmt.Errorf("reading OCI layout %q: %w", dir, err)
	}
	if err := checkPlatform(out, want); err != nil {
		return nil, fmt.Errorf("OCI layout %q: %w", dir, err)
	}
	var tags []string
	if n := ann[annContainerdName]; n != "" {
		tags = append(tags, n)
	}
	if n := ann[annRefName]; strings.ContainsAny(n, ":/") {
		tags = append(tags, n)
	}
	if len(tags) > 0 {
		out.RepoTags = sortedUnique(tags)
		out.Name = repoOf(out.RepoTags[0])
	}
	return out, nil
}

// openOCIArchive extracts the referenced part of an OCI archive (index.json,
// oci-layout and the blobs its descriptors name, each bounded by its
// descriptor's size: see ociExtraction) into a temp dir, removed by
// Image.Close, and opens it. Nothing else in the archive is written. The
// layers of a plain tar are not copied: they are read from the archive
// (verified as they are read). A compressed archive is read from the
// decompressing stream (its layers extracted), or from the copy that
// detection made (its layers read from the copy, kept until Close).
func openOCIArchive(ctx context.Context, ref string, want *platform, archives *archiveFiles) (*Image, error) {
	p, sel := splitLayoutRef(ref)
	src := p
	if q, ok := archives.temps[p]; ok {
		src = q
	}
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return nil, missingPath(p, err)
	}
	tmp, err := os.MkdirTemp(archives.tempDir, "drydock-oci-")
	if err != nil {
		return nil, fmt.Errorf("creating temp dir: %w", err)
	}
	remove := func() error { return os.RemoveAll(tmp) }
	inPlace, err := extractOCIArchive(ctx, src, p, tmp)
	if err != nil {
		_ = remove()
		var missing *missingError
		if errors.As(err, &missing) {
			return nil, err
		}
		return nil, fmt.Errorf("extracting OCI archive %q: %w", p, err)
	}
	if len(inPlace.sections) == 0 {
		if err := archives.release(p); err != nil {
			_ = remove()
			return nil, err
		}
	}
	img, err := openLayout(ctx, tmp, sel, want, inPlace)
	if err != nil {
		_ = remove()
		return nil, fmt.Errorf("OCI archive %q: %w", p, err)
	}
	if img.Name == "" {
		img.Name = p
	}
	img.cleanup = append(img.cleanup, remove)
	return img, nil
}
