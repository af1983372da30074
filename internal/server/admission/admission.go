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
//
// Every answer is recorded in the store (store.Decision: who asked, what
// was decided and why) without holding the request up: the answer offers
// its decision to a bounded queue that one goroutine writes in batches
// (recorder.go). A decision the queue has no room for, or the store
// refuses twice, is dropped and counted in
// drydock_admission_decisions_dropped_total. Close flushes the queue.
package admission

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
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

// ServingGCPercent is the garbage collector's target (GOGC) of an API-only
// drydock server process, unless $GOGC is set: its heap is small, and
// collecting a quarter as often keeps the admission webhook's p99 under
// 50 ms at 200 concurrent requests on 2 cores (docs/performance.md).
const ServingGCPercent = 400

// Store is what the gate reads, and where it records its decisions:
// *store.Store.
type Store interface {
	ImagesByDigest(ctx context.Context, digest string) ([]store.DigestImage, error)
	LoadResult(ctx context.Context, imageID int64) (*result.Result, error)
	OpenFindings(ctx context.Context, imageID int64) ([]finding.Finding, error)
	RecordDecisions(ctx context.Context, ds []store.Decision) error
	PruneDecisions(ctx context.Context, before time.Time) (int64, error)
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
	refs     *lru[string, name.Reference]      // image → parsed reference
	verdicts *lru[verdictKey, *result.Verdict]
	queued   *lru[string, struct{}] // digests queued recently
	answers  *lru[string, *passedAnswer]
	flight   singleflight.Group
	metrics  *metrics
	bufs     sync.Pool // *bytes.Buffer: webhook request and response bodies
	recorder *recorder
}

// New returns a gate; its routes are Routes(). It starts recording its
// decisions: call Close when it answers no more.
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
	g := &Gate{
		cfg:      cfg,
		store:    opt.Store,
		enqueue:  opt.Enqueue,
		remote:   ropts,
		scope:    opt.Scope,
		log:      opt.Logger,
		now:      opt.Now,
		digests:  newLRU[string, string](cfg.CacheSize, cfg.ResolveTTL, opt.Now),
		lookups:  newLRU[string, []store.DigestImage](cfg.CacheSize, cfg.LookupTTL, opt.Now),
		refs:     newLRU[string, name.Reference](cfg.CacheSize, time.Hour, opt.Now),
		verdicts: newLRU[verdictKey, *result.Verdict](cfg.CacheSize, cfg.VerdictTTL, opt.Now),
		queued:   newLRU[string, struct{}](cfg.CacheSize, cfg.ResolveTTL, opt.Now),
		answers:  newLRU[string, *passedAnswer](cfg.CacheSize, cfg.VerdictTTL, opt.Now),
		metrics:  newMetrics(),
	}
	g.bufs.New = func() any { return new(bytes.Buffer) }
	g.recorder = newRecorder(opt.Store, recorderOptions{log: opt.Logger, dropped: g.metrics.decisionsDropped})
	return g, nil
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
	out := make([]imageVerdict, len(images))
	got := make([]bool, len(images))
	// First from the caches alone, in this goroutine; the rest in parallel.
	var cold []int
	for i, img := range images {
		if out[i], got[i] = g.decide(ctx, img, policyName, dryRun, true); !got[i] {
			cold = append(cold, i)
		}
	}
	if len(cold) == 0 {
		return out
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type res struct {
		i int
		v imageVerdict
	}
	results := make(chan res, len(cold))
	work := make(chan int)
	for range min(len(cold), 8) {
		go func() {
			for i := range work {
				v, _ := g.decide(ctx, images[i], policyName, dryRun, false)
				results <- res{i, v}
			}
		}()
	}
	go func() {
		defer close(work)
		for _, i := range cold {
			select {
			case work <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	for n := 0; n < len(cold); n++ {
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

// decide returns the verdict for one image. With warm set it only reads the
// caches and reports false at the first miss, having done and counted
// nothing: a request whose images are all warm is answered without a
// goroutine or any I/O.
func (g *Gate) decide(ctx context.Context, image, policyName string, dryRun, warm bool) (imageVerdict, bool) {
	v := imageVerdict{Image: image, Policy: policyName}
	var hits []string // caches hit, counted once the image is decided
	done := func() (imageVerdict, bool) {
		for _, c := range hits {
			g.metrics.cache(c, true)
		}
		return v, true
	}
	fail := func(err error) (imageVerdict, bool) {
		v.Status, v.Err = StatusError, err
		return done()
	}
	ref, err := g.parse(image)
	if err != nil {
		// Kubernetes itself refuses such a pod; nothing to look up.
		return fail(fmt.Errorf("parsing image reference: %w", err))
	}
	if host := ref.Context().RegistryStr(); !g.cfg.registryAllowed(host) {
		v.Status = StatusFail
		v.Failures = []result.RuleResult{{RuleID: RuleRegistry, Action: "deny",
			Message: fmt.Sprintf("registry %s is not one of the allowed registries (%s)", host, strings.Join(g.cfg.Registries, ", "))}}
		return done()
	}

	// The digest: the image's own, or its tag's (cached for ResolveTTL).
	if d, ok := ref.(name.Digest); ok {
		v.Digest = d.DigestStr()
	} else if d, ok := g.digests.get(ref.Name()); ok {
		v.Digest = d
		hits = append(hits, cacheTag)
	} else if warm {
		return v, false
	} else {
		g.metrics.cache(cacheTag, false)
		if v.Digest, err = g.resolve(ctx, ref); err != nil {
			return fail(err)
		}
	}

	// The stored images of the digest (cached for LookupTTL).
	imgs, ok := g.lookups.get(v.Digest)
	switch {
	case ok:
		hits = append(hits, cacheLookup)
	case warm:
		return v, false
	default:
		g.metrics.cache(cacheLookup, false)
		if imgs, err = g.lookup(ctx, v.Digest); err != nil {
			return fail(err)
		}
	}
	if len(imgs) == 0 {
		v.Status = StatusPending
		if dryRun {
			return done()
		}
		pinned := ref.Context().Name() + "@" + v.Digest
		if _, ok := g.queued.get(pinned); ok {
			v.Queued = true
			return done()
		}
		if warm {
			return v, false
		}
		if err := g.queueScan(ctx, ref, pinned); err != nil {
			return fail(err)
		}
		v.Queued = true
		return done()
	}

	// The verdict of each (cached while the image, the policy and the
	// database do not change, at most VerdictTTL).
	v.Status = StatusPass
	for _, img := range imgs {
		key := verdictKey{image: img.ID, policy: policyName, db: img.DBVersion, changed: img.Changed.UnixNano()}
		vd, ok := g.verdicts.get(key)
		switch {
		case ok:
			hits = append(hits, cacheVerdict)
		case warm:
			return v, false
		default:
			g.metrics.cache(cacheVerdict, false)
			if vd, err = g.evaluate(ctx, img, key); err != nil {
				return fail(err)
			}
		}
		if !vd.Pass {
			v.Status = StatusFail
			v.Failures = append(v.Failures, vd.Failures...)
		}
		v.Warnings = append(v.Warnings, vd.Warnings...)
	}
	return done()
}

// parse parses an image reference (remembered: parsing is a good part of
// the cost of a warm answer).
func (g *Gate) parse(image string) (name.Reference, error) {
	if ref, ok := g.refs.get(image); ok {
		return ref, nil
	}
	ref, err := name.ParseReference(image)
	if err != nil {
		return nil, err
	}
	g.refs.put(image, ref)
	return ref, nil
}

// evaluate computes a verdict from the stored result; concurrent requests
// for the same one share the work.
func (g *Gate) evaluate(ctx context.Context, img store.DigestImage, key verdictKey) (*result.Verdict, error) {
	x, err, _ := g.flight.Do(fmt.Sprintf("verdict %d %q %d %d", key.image, key.policy, key.db, key.changed), func() (any, error) {
		res, err := g.store.LoadResult(ctx, img.ID)
		if err != nil {
			return nil, err
		}
		if res.Findings, err = g.store.OpenFindings(ctx, img.ID); err != nil {
			return nil, err
		}
		vd, err := g.cfg.Policies[key.policy].Evaluate(ctx, res)
		if err != nil {
			return nil, fmt.Errorf("evaluating policy %q on %s: %w", key.policy, img.ManifestDigest, err)
		}
		g.verdicts.put(key, vd)
		return vd, nil
	})
	if err != nil {
		return nil, err
	}
	return x.(*result.Verdict), nil
}

// lookup reads the stored images of a digest and remembers them for
// LookupTTL; concurrent requests for the same digest share one query.
func (g *Gate) lookup(ctx context.Context, digest string) ([]store.DigestImage, error) {
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

// resolve asks the registry for the digest of a tag and remembers it for
// ResolveTTL. Concurrent requests for one tag share one registry request,
// bounded by the budget whichever request started it.
func (g *Gate) resolve(ctx context.Context, ref name.Reference) (string, error) {
	key := ref.Name()
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

// queueScan queues a scan of pinned (repository@digest), remembered for
// ResolveTTL so that this process asks once; River's uniqueness covers the
// rest.
func (g *Gate) queueScan(ctx context.Context, ref name.Reference, pinned string) error {
	args := queue.ScanArgs{Reference: pinned, Repository: ref.Context().Name()}
	if t, ok := ref.(name.Tag); ok {
		args.Tags = []string{t.TagStr()}
	}
	if err := g.enqueue(ctx, args); err != nil {
		return fmt.Errorf("queueing a scan of %s: %w", pinned, err)
	}
	g.queued.put(pinned, struct{}{})
	g.log.Info("admission: scan queued", "image", ref.String(), "reference", pinned)
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
