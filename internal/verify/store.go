package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// errNotFound: the tag (or layout entry) does not exist.
var errNotFound = errors.New("not found")

// store is where signatures are looked up: a registry repository or an
// OCI layout. Every manifest and blob it returns is bounded by the size cap
// and verified against its digest.
type store interface {
	// manifest fetches a manifest by digest; size is the descriptor's
	// (0 when unknown).
	manifest(ctx context.Context, d v1.Hash, size int64) ([]byte, error)
	blob(ctx context.Context, d v1.Descriptor) ([]byte, error)
	// tag fetches the manifest a tag points at (errNotFound when none).
	tag(ctx context.Context, tag string) ([]byte, v1.Hash, error)
	// referrers lists the referrers of d: the raw index and where it came
	// from ("referrers", "referrers-tag", "oci-layout"); nil raw when
	// there are none.
	referrers(ctx context.Context, d v1.Hash) ([]byte, string, error)
}

// verifyBytes checks content against the digest and the cap.
func verifyBytes(what string, b []byte, d v1.Hash, max int64) error {
	if int64(len(b)) > max {
		return fmt.Errorf("%s %s is over the %d byte cap", what, d, max)
	}
	got, _, err := v1.SHA256(bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("hashing %s %s: %w", what, d, err)
	}
	if got != d {
		return fmt.Errorf("%s %s: content has digest %s", what, d, got)
	}
	return nil
}

type remoteStore struct {
	repo name.Repository
	opts []remote.Option
	max  int64
}

func (s *remoteStore) options(ctx context.Context, more ...remote.Option) []remote.Option {
	out := append([]remote.Option{}, s.opts...)
	return append(append(out, remote.WithContext(ctx)), more...)
}

func (s *remoteStore) manifest(ctx context.Context, d v1.Hash, size int64) ([]byte, error) {
	if size > s.max {
		return nil, fmt.Errorf("manifest %s is %d bytes, over the %d byte cap", d, size, s.max)
	}
	desc, err := remote.Get(s.repo.Digest(d.String()), s.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("fetching manifest %s: %w", d, err)
	}
	if err := verifyBytes("manifest", desc.Manifest, d, s.max); err != nil {
		return nil, err
	}
	return desc.Manifest, nil
}

func (s *remoteStore) blob(ctx context.Context, d v1.Descriptor) ([]byte, error) {
	if d.Size > s.max {
		return nil, fmt.Errorf("blob %s is %d bytes, over the %d byte cap", d.Digest, d.Size, s.max)
	}
	l, err := remote.Layer(s.repo.Digest(d.Digest.String()), s.options(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s: %w", d.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetching blob %s: %w", d.Digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, s.max+1))
	if err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", d.Digest, err)
	}
	if err := verifyBytes("blob", b, d.Digest, s.max); err != nil {
		return nil, err
	}
	return b, nil
}

func (s *remoteStore) tag(ctx context.Context, tag string) ([]byte, v1.Hash, error) {
	ref := s.repo.Tag(tag)
	head, err := remote.Head(ref, s.options(ctx)...)
	if err != nil {
		var terr *transport.Error
		if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
			return nil, v1.Hash{}, errNotFound
		}
		return nil, v1.Hash{}, fmt.Errorf("looking up %s: %w", ref, err)
	}
	if head.Size > s.max {
		return nil, v1.Hash{}, fmt.Errorf("%s: manifest %s is %d bytes, over the %d byte cap", ref, head.Digest, head.Size, s.max)
	}
	// Fetched by the digest HEAD gave, so what is read is verified
	// against it.
	b, err := s.manifest(ctx, head.Digest, head.Size)
	if err != nil {
		return nil, v1.Hash{}, fmt.Errorf("%s: %w", ref, err)
	}
	return b, head.Digest, nil
}

// referrers asks the OCI 1.1 referrers API first, with go-containerregistry's
// tag fallback off: its error says the registry has no API, and only then is
// the sha256-<hex> tag read (and named "referrers-tag").
func (s *remoteStore) referrers(ctx context.Context, d v1.Hash) ([]byte, string, error) {
	idx, err := remote.Referrers(s.repo.Digest(d.String()), s.options(ctx, remote.WithReferrersTagFallback(false))...)
	if err == nil {
		raw, err := idx.RawManifest()
		if err != nil {
			return nil, "referrers", fmt.Errorf("reading the referrers of %s: %w", d, err)
		}
		if int64(len(raw)) > s.max {
			return nil, "referrers", fmt.Errorf("the referrers list of %s is over the %d byte cap", d, s.max)
		}
		return raw, "referrers", nil
	}
	var terr *transport.Error
	if errors.As(err, &terr) || !strings.Contains(err.Error(), "does not support the Referrers API") {
		return nil, "referrers", fmt.Errorf("listing the referrers of %s: %w", d, err)
	}
	raw, _, err := s.tag(ctx, strings.Replace(d.String(), ":", "-", 1))
	if errors.Is(err, errNotFound) {
		return nil, "referrers-tag", nil
	}
	if err != nil {
		return nil, "referrers-tag", fmt.Errorf("reading the referrers tag of %s: %w", d, err)
	}
	return raw, "referrers-tag", nil
}

// layoutStore reads an OCI image layout directory.
type layoutStore struct {
	dir string
	max int64
	// maxEntries bounds the index.json entries read when looking for
	// referrers.
	maxEntries int
}

func (s *layoutStore) read(what string, d v1.Hash, size int64) ([]byte, error) {
	if size > s.max {
		return nil, fmt.Errorf("%s %s is %d bytes, over the %d byte cap", what, d, size, s.max)
	}
	// Only a SHA-256 digest names a file of blobs/ (and is all
	// verifyBytes can check): nothing else reaches the path.
	if d.Algorithm != "sha256" || len(d.Hex) != 64 || strings.Trim(d.Hex, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("bad digest %q", d)
	}
	p := filepath.Join(s.dir, "blobs", d.Algorithm, d.Hex)
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading %s %s from the layout: %w", what, d, err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, s.max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if err := verifyBytes(what, b, d, s.max); err != nil {
		return nil, err
	}
	return b, nil
}

func (s *layoutStore) manifest(_ context.Context, d v1.Hash, size int64) ([]byte, error) {
	return s.read("manifest", d, size)
}

func (s *layoutStore) blob(_ context.Context, d v1.Descriptor) ([]byte, error) {
	return s.read("blob", d.Digest, d.Size)
}

func (s *layoutStore) index() (*v1.IndexManifest, error) {
	p := filepath.Join(s.dir, "index.json")
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("reading the layout: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, s.max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	if int64(len(b)) > s.max {
		return nil, fmt.Errorf("%s is over the %d byte cap", p, s.max)
	}
	im, err := v1.ParseIndexManifest(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	return im, nil
}

// tag finds the index.json entry named tag (org.opencontainers.image.ref.name).
func (s *layoutStore) tag(_ context.Context, tag string) ([]byte, v1.Hash, error) {
	im, err := s.index()
	if err != nil {
		return nil, v1.Hash{}, err
	}
	for _, d := range im.Manifests {
		if d.Annotations["org.opencontainers.image.ref.name"] == tag {
			b, err := s.read("manifest", d.Digest, d.Size)
			return b, d.Digest, err
		}
	}
	return nil, v1.Hash{}, errNotFound
}

// referrers lists the index.json entries that refer to d: a manifest whose
// subject is d, or an entry whose annotations name d (a referrers-tag index
// "sha256-<hex>" is read as a list).
func (s *layoutStore) referrers(_ context.Context, d v1.Hash) ([]byte, string, error) {
	im, err := s.index()
	if err != nil {
		return nil, "oci-layout", err
	}
	out := v1.IndexManifest{SchemaVersion: 2, MediaType: "application/vnd.oci.image.index.v1+json"}
	fallback := strings.Replace(d.String(), ":", "-", 1)
	for i, e := range im.Manifests {
		if i >= s.maxEntries {
			return nil, "oci-layout", fmt.Errorf("the layout's index.json has %d entries, over the %d read", len(im.Manifests), s.maxEntries)
		}
		if e.Annotations["org.opencontainers.image.ref.name"] == fallback {
			raw, err := s.read("manifest", e.Digest, e.Size)
			if err != nil {
				return nil, "oci-layout", err
			}
			tagged, err := v1.ParseIndexManifest(bytes.NewReader(raw))
			if err != nil {
				return nil, "oci-layout", fmt.Errorf("reading the referrers index %s: %w", e.Digest, err)
			}
			out.Manifests = append(out.Manifests, tagged.Manifests...)
			continue
		}
		if !e.MediaType.IsImage() {
			continue
		}
		raw, err := s.read("manifest", e.Digest, e.Size)
		if err != nil {
			return nil, "oci-layout", err
		}
		var m struct {
			Subject *v1.Descriptor `json:"subject"`
		}
		if json.Unmarshal(raw, &m) == nil && m.Subject != nil && m.Subject.Digest == d {
			out.Manifests = append(out.Manifests, e)
		}
	}
	if len(out.Manifests) == 0 {
		return nil, "oci-layout", nil
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, "oci-layout", fmt.Errorf("encoding the layout's referrers: %w", err)
	}
	return raw, "oci-layout", nil
}
