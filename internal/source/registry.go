package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// openRegistry resolves ref in its registry. Manifests and the config are
// fetched now; layers are streamed when opened. The authenticated client is
// kept on the Image (Image.Remote). An error caused by ctx matches ctx.Err().
func openRegistry(ctx context.Context, ref string, want *platform, opt Options) (*Image, error) {
	img, err := openRegistryCtx(ctx, ref, want, opt)
	return img, withCtxErr(ctx, err)
}

func openRegistryCtx(ctx context.Context, ref string, want *platform, opt Options) (*Image, error) {
	var nameOpts []name.Option
	if opt.Insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nameOpts...)
	if err != nil {
		return nil, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	ropts := []remote.Option{
		remote.WithAuthFromKeychain(opt.Keychain),
		// Timeouts and a retry that honours ctx; go-containerregistry's
		// own retry (whose waits ignore ctx) is off.
		remote.WithTransport(registryTransport(opt)),
		remote.WithUserAgent("drydock"),
		remote.WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 1}),
		remote.WithRetryStatusCodes(),
		// The handle is reused by later stages (Image.Remote): a
		// referrers query must say when the registry has no referrers API
		// (the verify stage then reads the sha256-<hex> tag itself and
		// reports the fallback), so go-containerregistry's silent fallback
		// is off; a Reuse'd puller ignores a per-call option.
		remote.WithReferrersTagFallback(false),
	}
	puller, err := remote.NewPuller(ropts...)
	if err != nil {
		return nil, fmt.Errorf("setting up registry client: %w", err)
	}
	desc, err := puller.Get(ctx, r)
	if err != nil {
		return nil, registryError(ref, err)
	}

	var (
		img         v1.Image
		indexDigest string
	)
	switch {
	case isIndex(desc.MediaType):
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, registryError(ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, registryError(ref, err)
		}
		chosen, err := choosePlatform(im.Manifests, want)
		if err != nil {
			return nil, fmt.Errorf("choosing a platform of %q: %w", ref, err)
		}
		opt.Logger.Debug("chose platform", "reference", ref, "platform", platformString(chosen.Platform), "digest", chosen.Digest.String())
		img, err = idx.Image(chosen.Digest)
		if err != nil {
			return nil, registryError(ref, err)
		}
		indexDigest = desc.Digest.String()
	default:
		img, err = desc.Image()
		if err != nil {
			return nil, registryError(ref, err)
		}
	}

	repo := r.Context()
	out, err := fromV1(img, func(_ int, l v1.Layer) func(context.Context) (io.ReadCloser, error) {
		return func(ctx context.Context) (io.ReadCloser, error) {
			d, err := l.Digest()
			if err != nil {
				return nil, err
			}
			// A layer bound to this call's ctx; the puller reuses the
			// authenticated transport. The blob is verified against its digest
			// as it is read.
			rl, err := puller.Layer(ctx, repo.Digest(d.String()))
			if err != nil {
				return nil, withCtxErr(ctx, registryError(ref, err))
			}
			rc, err := rl.Compressed()
			if err != nil {
				return nil, withCtxErr(ctx, registryError(ref, err))
			}
			return rc, nil
		}
	})
	if err != nil {
		return nil, registryError(ref, err)
	}
	if err := checkPlatform(out, want); err != nil {
		return nil, fmt.Errorf("%q: %w", ref, err)
	}
	out.Ref = r
	out.IndexDigest = indexDigest
	out.handle = &Remote{
		Puller:   puller,
		Digest:   repo.Digest(out.ManifestDigest),
		Platform: configPlatform(out),
	}
	out.Name = repoOf(ref)
	if t, ok := r.(name.Tag); ok {
		out.RepoTags = []string{out.Name + ":" + t.TagStr()}
	}
	out.RepoDigests = []string{out.Name + "@" + desc.Digest.String()}
	return out, nil
}

// registryError wraps err with the reference and, for the common HTTP
// failures, says what went wrong in words.
func registryError(ref string, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch terr.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			return fmt.Errorf("pulling %q: access denied (HTTP %d): check the registry credentials (docker login): %w", ref, terr.StatusCode, err)
		case http.StatusNotFound:
			return fmt.Errorf("pulling %q: not found in the registry (HTTP 404): %w", ref, err)
		}
		if terr.StatusCode >= 500 {
			return fmt.Errorf("pulling %q: registry error (HTTP %d): %w", ref, terr.StatusCode, err)
		}
	}
	return fmt.Errorf("pulling %q: %w", ref, err)
}
