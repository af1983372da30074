// Package admission is drydock's deploy-time gate: a Kubernetes validating
// admission webhook (AdmissionReview admission.k8s.io/v1) and a Gatekeeper
// external data provider, both served by `drydock server`.
//
// The gate never scans in the request path. It resolves each image to a
// digest (tags through the registry, cached for a short while), looks up the
// verdict of the stored scan of that digest under the CLI's policy engine
// (cached per image, policy, advisory database and last change), and queues
// a high-priority scan for a digest it has never seen. Every answer is given
// within a latency budget: what the registry or the store could not decide in
// time is admitted or denied as configured (fail open or closed).
//
//	AdmissionReview ──► images of the pod spec ──► digest (registry HEAD, LRU)
//	                                              ──► store.ImagesByDigest ──► verdict (LRU) or policy.Engine.Evaluate
//	                                              └─► unknown: Enqueue(queue.ScanArgs) ──► deny | warn | allow
package admission

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/singleflight"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/server/api"
	"github.com/drydock-scan/drydock/internal/store"
)

// Store is what the gate reads: *store.Store.
type Store interface {
	ImagesByDigest(ctx context.Context, digest string) ([]store.DigestImage, error)
	LoadResult(ctx context.Context, imageID int64) (*result.Result, error)
	OpenFindings(ctx context.Context, imageID int64) ([]finding.Finding, error)
}

// Options configure a Gate.
type Options struct {
	Config Config
	Store  Store
	// Enqueue queues a scan of an image the store does not know:
	// EnqueueWith(the server's River client) inserts it at ScanPriority.
	// ScanArgs' own insert options make a scan already queued for the same
	// image a no-op.
	Enqueue func(ctx context.Context, args queue.ScanArgs) error
	// Keychain gives the registry credentials tags are resolved with (the
	// server's own; nil: anonymous).
	Keychain authn.Keychain
	// Transport carries the registry requests (nil: go-containerregistry's
	// default).
	Transport http.RoundTripper
	// Scope is the API scope of the gate's routes (default api.Public: the
	// Kubernetes API server and Gatekeeper send no drydock token; protect
	// the endpoints with TLS client certificates or a network policy).
	Scope  api.Scope
	Logger *slog.Logger
	// Now returns the current time (default time.Now).
	Now func() time.Time
}

// Gate answers admission requests and Gatekeeper provider requests.
type Gate struct {
	cfg      Config
	store    Store
	enqueue  func(context.Context, queue.ScanArgs) error
	remote   []remote.Option
	scope    api.Scope
	log      *slog.Logger
	now      func() time.Time
	digests  *lru[string, string]              // tag reference → digest
	lookups  *lru[string, []store.DigestImage] // digest → stored images, for LookupTTL
	verdicts *lru[verdictKey, *result.Verdict]
	queued   *lru[string, struct{}] // digests queued recently
	flight   singleflight.Group
	metrics  *metrics
}

// New returns a gate; its routes are Routes().
func New(opt Options) (*Gate, error) {
	if opt.Store == nil {
		return nil, errors.New("admission: no store")
	}
	if opt.Enqueue == nil {
		return nil, errors.New("admission: no way to queue scans")
	}
	cfg, err := opt.Config.normalized()
	if err != nil {
		return nil, err
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Scope == "" {
		opt.Scope = api.Public
	}
	kc := opt.Keychain
	if kc == nil {
		kc = authn.NewMultiKeychain()
	}
	ropts := []remote.Option{remote.WithAuthFromKeychain(kc), remote.WithUserAgent("drydock-admission")}
	if opt.Transport != nil {
		ropts = append(ropts, remote.WithTransport(opt.Transport))
	}
	return &Gate{
		cfg:      cfg,
		store:    opt.Store,
		enqueue:  opt.Enqueue,
		remote:   ropts,
		scope:    opt.Scope,
		log:      opt.Logger,
		now:      opt.Now,
		digests:  newLRU[string, string](cfg.CacheSize, cfg.ResolveTTL, opt.Now),
		lookups:  newLRU[string, []store.DigestImage](cfg.CacheSize, cfg.LookupTTL, opt.Now),
		verdicts: newLRU[verdictKey, *result.Verdict](cfg.CacheSize, cfg.VerdictTTL, opt.Now),
		queued:   newLRU[string, struct{}](cfg.CacheSize, cfg.ResolveTTL, opt.Now),
		metrics:  newMetrics(),
	}, nil
}

// Paths of the gate's endpoints.
const (
	ValidatePath   = "/admission/validate"
	GatekeeperPath = "/gatekeeper/verdicts"
)

// Routes are the gate's endpoints, for server.Options.Routes.
func (g *Gate) Routes() []api.Route {
	return []api.Route{
		{Pattern: "POST " + ValidatePath, Handler: g.validate, Scope: g.scope},
		{Pattern: "POST " + GatekeeperPath, Handler: g.gatekeeper, Scope: g.scope},
	}
}

// Image verdict statuses.
const (
	StatusPass    = "pass"
	StatusFail    = "fail"
	StatusPending = "pending"   // never scanned: a scan is queued
	StatusError   = "undecided" // the registry or the store did not answer in time
)

// RuleRegistry is the rule an image from a registry not in
// Config.Registries fails.
const RuleRegistry = "admission:registry"

// imageVerdict is what the gate decided about one image.
type imageVerdict struct {
	Image    string // as written in the pod spec or the provider request
	Digest   string
	Status   string
	Policy   string
	Failures []result.RuleResult
	Warnings []result.RuleResult
	Queued   bool  // a scan was queued by this request
	Err      error // StatusError: why
}

// verdictKey names a verdict that holds while the image, the policy and
// the advisory database do not change.
type verdictKey struct {
	image   int64
	policy  string
	db      int64
	changed int64
}

// withBudget bounds a request by the budget, from the moment its handler
// starts.
func (g *Gate) withBudget(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, g.cfg.Budget)
}

// decideAll decides for every image until ctx (bounded by withBudget) is
// done; images not decided by then are StatusError.
func (g *Gate) decideAll(ctx context.Context, images []string, policyName string, dryRun bool) []imageVerdict {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type res struct {
		i int
		v imageVerdict
	}
	results := make(chan res, len(images))
	work := make(chan int)
	workers := min(len(images), 8)
	for range workers {
		go func() {
			for i := range work {
				results <- res{i, g.decide(ctx, images[i], policyName, dryRun)}
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range images {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	out := make([]imageVerdict, len(images))
	got := make([]bool, len(images))
	for n := 0; n < len(images); n++ {
		select {
		case r := <-results:
			out[r.i], got[r.i] = r.v, true
			continue
		case <-ctx.Done():
		}
		// Out of time: keep what has arrived meanwhile.
		for drained := false; !drained; {
			select {
			case r := <-results:
				out[r.i], got[r.i] = r.v, true
			default:
				drained = true
			}
		}
		break
	}
	for i := range out {
		if !got[i] {
			out[i] = imageVerdict{Image: images[i], Status: StatusError, Policy: policyName,
				Err: fmt.Errorf("not decided within the %v budget", g.cfg.Budget)}
		}
	}
	return out
}

// decide returns the verdict for one image.
func (g *Gate) decide(ctx context.Context, image, policyName string, dryRun bool) imageVerdict {
	v := imageVerdict{Image: image, Policy: policyName}
	fail := func(err error) imageVerdict {
		v.Status, v.Err = StatusError, err
		return v
	}
	ref, err := name.ParseReference(image)
	if err != nil {
		// Kubernetes itself refuses such a pod; nothing to look up.
		return fail(fmt.Errorf("parsing image reference: %w", err))
	}
	if host := ref.Context().RegistryStr(); !g.cfg.registryAllowed(host) {
		v.Status = StatusFail
		v.Failures = []result.RuleResult{{RuleID: RuleRegistry, Action: "deny",
			Message: fmt.Sprintf("registry %s is not one of the allowed registries (%s)", host, strings.Join(g.cfg.Registries, ", "))}}
		return v
	}
	digest, err := g.resolve(ctx, ref)
	if err != nil {
		return fail(err)
	}
	v.Digest = digest
	imgs, err := g.lookup(ctx, digest)
	if err != nil {
		return fail(err)
	}
	if len(imgs) == 0 {
		v.Status = StatusPending
		if dryRun {
			return v
		}
		if err := g.queueScan(ctx, ref, digest); err != nil {
			return fail(err)
		}
		v.Queued = true
		return v
	}
	eng := g.cfg.Policies[policyName]
	v.Status = StatusPass
	for _, img := range imgs {
		key := verdictKey{image: img.ID, policy: policyName, db: img.DBVersion, changed: img.Changed.UnixNano()}
		vd, hit := g.verdicts.get(key)
		g.metrics.cache(cacheVerdict, hit)
		if !hit {
			x, err, _ := g.flight.Do(fmt.Sprintf("verdict %d %q %d %d", key.image, key.policy, key.db, key.changed), func() (any, error) {
				res, err := g.store.LoadResult(ctx, img.ID)
				if err != nil {
					return nil, err
				}
				if res.Findings, err = g.store.OpenFindings(ctx, img.ID); err != nil {
					return nil, err
				}
				vd, err := eng.Evaluate(ctx, res)
				if err != nil {
					return nil, fmt.Errorf("evaluating policy %q on %s: %w", policyName, img.ManifestDigest, err)
				}
				g.verdicts.put(key, vd)
				return vd, nil
			})
			if err != nil {
				return fail(err)
			}
			vd = x.(*result.Verdict)
		}
		if !vd.Pass {
			v.Status = StatusFail
			v.Failures = append(v.Failures, vd.Failures...)
		}
		v.Warnings = append(v.Warnings, vd.Warnings...)
	}
	return v
}

// lookup returns the stored images of a digest, remembered for LookupTTL:
// a warm request reads nothing from the store.
func (g *Gate) lookup(ctx context.Context, digest string) ([]store.DigestImage, error) {
	if imgs, ok := g.lookups.get(digest); ok {
		g.metrics.cache(cacheLookup, true)
		return imgs, nil
	}
	g.metrics.cache(cacheLookup, false)
	x, err, _ := g.flight.Do("lookup "+digest, func() (any, error) {
		imgs, err := g.store.ImagesByDigest(ctx, digest)
		if err != nil {
			return nil, err
		}
		g.lookups.put(digest, imgs)
		return imgs, nil
	})
	if err != nil {
		return nil, err
	}
	return x.([]store.DigestImage), nil
}

// resolve returns the digest an image reference names: its own, or the one
// the registry gives for its tag (cached for ResolveTTL).
func (g *Gate) resolve(ctx context.Context, ref name.Reference) (string, error) {
	if d, ok := ref.(name.Digest); ok {
		return d.DigestStr(), nil
	}
	key := ref.Name()
	if d, ok := g.digests.get(key); ok {
		g.metrics.cache(cacheTag, true)
		return d, nil
	}
	g.metrics.cache(cacheTag, false)
	// Concurrent requests for one tag share one registry request, bounded by
	// the budget whichever request started it.
	ch := g.flight.DoChan("tag "+key, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.Budget)
		defer cancel()
		// A new slice: concurrent resolutions must not share append's spare
		// capacity in g.remote.
		opts := slices.Concat(g.remote, []remote.Option{remote.WithContext(rctx)})
		desc, err := remote.Head(ref, opts...)
		if err != nil {
			return "", fmt.Errorf("resolving %s: %w", key, err)
		}
		d := desc.Digest.String()
		g.digests.put(key, d)
		return d, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("resolving %s: %w", key, ctx.Err())
	}
}

// queueScan queues a scan of repository@digest (once per ResolveTTL from
// this process; River's uniqueness covers the rest).
func (g *Gate) queueScan(ctx context.Context, ref name.Reference, digest string) error {
	repo := ref.Context().Name()
	pinned := repo + "@" + digest
	if _, ok := g.queued.get(pinned); ok {
		return nil
	}
	args := queue.ScanArgs{Reference: pinned, Repository: repo}
	if t, ok := ref.(name.Tag); ok {
		args.Tags = []string{t.TagStr()}
	}
	if err := g.enqueue(ctx, args); err != nil {
		return fmt.Errorf("queueing a scan of %s: %w", pinned, err)
	}
	g.queued.put(pinned, struct{}{})
	g.log.Info("admission: scan queued", "image", ref.String(), "digest", digest)
	return nil
}

// describe is a one-line account of a verdict, naming the image and the
// failing rules.
func (v *imageVerdict) describe() string {
	img := v.Image
	if v.Digest != "" && !strings.Contains(v.Image, "@") {
		img += " (" + v.Digest + ")"
	}
	switch v.Status {
	case StatusPass:
		return fmt.Sprintf("image %s passes policy %q", img, v.Policy)
	case StatusFail:
		var rules []string
		for _, f := range v.Failures {
			rules = append(rules, fmt.Sprintf("rule %s: %s", f.RuleID, f.Message))
		}
		return fmt.Sprintf("image %s fails policy %q: %s", img, v.Policy, clip(strings.Join(rules, "; "), 800))
	case StatusPending:
		if v.Queued {
			return fmt.Sprintf("scan pending for %s: not scanned yet, scan queued", img)
		}
		return fmt.Sprintf("scan pending for %s: not scanned yet", img)
	}
	return fmt.Sprintf("no verdict for %s: %v", img, v.Err)
}

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
