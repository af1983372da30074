package watch

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/jackc/pgx/v5"
	"golang.org/x/sync/errgroup"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/store"
)

// Result is what one poll of a registry did.
type Result struct {
	Repositories int // repositories listed
	Tags         int // tags resolved to a digest
	Queued       int // scans queued (one per new or moved digest)
	Removed      int // tags marked removed
}

// maxErrorText bounds the error recorded on a registry.
const maxErrorText = 4000

// Poll polls registry id now: lists its repositories and their tags,
// resolves every tag, queues a scan of every digest a tag newly points to
// and marks the tags that are gone. What it could not do is recorded on the
// registry (last_error), logged and returned; the repositories it could
// poll are recorded even then. A missing registry is store.ErrNoRegistry.
func (w *Watch) Poll(ctx context.Context, id int64) (Result, error) {
	reg, err := w.opt.Store.StartPoll(ctx, id)
	if err != nil {
		return Result{}, err
	}
	log := w.log.With("registry", reg.ID, "name", reg.Name, "host", reg.Host)
	start := time.Now()
	res, perr := w.poll(ctx, reg)
	text := ""
	if perr != nil {
		perr = fmt.Errorf("polling registry %s (%s): %w", reg.Name, reg.Host, perr)
		text = perr.Error()
		if len(text) > maxErrorText {
			text = text[:maxErrorText] + "…"
		}
		log.Error("registry poll failed", "err", perr, "repositories", res.Repositories, "tags", res.Tags, "queued", res.Queued, "removed", res.Removed)
	} else {
		log.Info("registry polled", "repositories", res.Repositories, "tags", res.Tags, "queued", res.Queued, "removed", res.Removed, "took", time.Since(start).Round(time.Millisecond))
	}
	if err := w.opt.Store.FinishPoll(context.WithoutCancel(ctx), reg.ID, text); err != nil {
		return res, errors.Join(perr, err)
	}
	return res, perr
}

// client is a registry client for one poll.
type client struct {
	puller   *remote.Puller
	opts     []name.Option
	auth     authn.Authenticator
	base     http.RoundTripper
	pageSize int
}

func (w *Watch) client(reg store.Registry) (*client, error) {
	var auth authn.Authenticator = authn.Anonymous
	if reg.Credentials != "" {
		c, err := queue.OpenCredentials(w.opt.Secrets, reg.Credentials)
		if err != nil {
			return nil, err
		}
		auth = &authn.Basic{Username: c.Username, Password: c.Password}
	}
	tr := w.opt.Transport
	if tr == nil {
		tr = remote.DefaultTransport
	}
	if t, ok := tr.(*http.Transport); ok {
		// A clone per poll: its TLS settings are this registry's.
		t = t.Clone()
		if reg.Insecure {
			t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the registry is registered as insecure
		}
		if t.ResponseHeaderTimeout == 0 {
			t.ResponseHeaderTimeout = time.Minute
		}
		tr = t
	}
	p, err := remote.NewPuller(remote.WithAuth(auth), remote.WithTransport(tr), remote.WithUserAgent(userAgent))
	if err != nil {
		return nil, fmt.Errorf("setting up the registry client: %w", err)
	}
	c := &client{puller: p, auth: auth, base: tr, pageSize: w.opt.PageSize}
	if reg.Insecure {
		c.opts = append(c.opts, name.Insecure)
	}
	return c, nil
}

const userAgent = "drydock-watch"

// maxPages bounds the pages of one listing: a registry whose Link headers
// never end is an error, not a loop.
const maxPages = 100_000

// pages GETs the listing at first (n=pageSize) and every next page its Link
// headers name, decoding each into a new *T passed to each. The Link is
// resolved against the URL asked for and must stay on the registry (no
// request goes elsewhere). go-containerregistry's own pagers are not used:
// they refuse the next page of a registry on a loopback or private address
// that serves TLS (its name says http, the Link says https).
func pages[T any](ctx context.Context, c *client, reg name.Registry, scope, path string, each func(*T)) error {
	rt, err := transport.NewWithContext(ctx, reg, c.auth, transport.NewUserAgent(c.base, userAgent), []string{scope})
	if err != nil {
		return err
	}
	hc := &http.Client{Transport: rt}
	next := &url.URL{Scheme: reg.Scheme(), Host: reg.RegistryStr(), Path: path, RawQuery: fmt.Sprintf("n=%d", c.pageSize)}
	for i := 0; next != nil; i++ {
		if i == maxPages {
			return fmt.Errorf("GET %s: more than %d pages", path, maxPages)
		}
		page, link, err := getPage[T](ctx, hc, next)
		if err != nil {
			return err
		}
		each(page)
		if link == "" {
			break
		}
		u, err := next.Parse(link)
		if err != nil {
			return fmt.Errorf("GET %s: next page %q: %w", next.Redacted(), link, err)
		}
		if u.Host != reg.RegistryStr() {
			return fmt.Errorf("GET %s: next page %q is on another host", next.Redacted(), link)
		}
		u.Scheme = reg.Scheme()
		if u.String() == next.String() {
			return fmt.Errorf("GET %s: the next page is the same page", next.Redacted())
		}
		next = u
	}
	return nil
}

// getPage GETs one page of a listing and returns it with the target of
// its Link rel="next" header ("" if none).
func getPage[T any](ctx context.Context, hc *http.Client, u *url.URL) (*T, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return nil, "", err
	}
	var page T
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&page); err != nil {
		return nil, "", fmt.Errorf("GET %s: decoding the listing: %w", u.Redacted(), err)
	}
	return &page, nextLink(resp.Header.Values("Link")), nil
}

// nextLink returns the target of the rel="next" link among Link header
// values (`</v2/_catalog?last=b&n=2>; rel="next"`), or "".
func nextLink(values []string) string {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
			target = strings.TrimSpace(target)
			if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
				continue
			}
			for _, p := range strings.Split(params, ";") {
				k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
					return target[1 : len(target)-1]
				}
			}
		}
	}
	return ""
}

func (w *Watch) poll(ctx context.Context, reg store.Registry) (Result, error) {
	var res Result
	c, err := w.client(reg)
	if err != nil {
		return res, err
	}
	if t, ok := c.base.(*http.Transport); ok {
		// The poll's own clone: its connections end with it.
		defer t.CloseIdleConnections()
	}
	repos, err := w.repositories(ctx, c, reg)
	if err != nil {
		return res, err
	}
	res.Repositories = len(repos)
	known, err := w.opt.Store.WatchedTags(ctx, reg.ID, "")
	if err != nil {
		return res, err
	}
	// live: repository → tag → digest, of the tags not marked removed.
	live := map[string]map[string]string{}
	for _, t := range known {
		if t.RemovedAt != nil {
			continue
		}
		if live[t.Repository] == nil {
			live[t.Repository] = map[string]string{}
		}
		live[t.Repository][t.Tag] = t.Digest
	}
	var errs []error
	for _, repo := range repos {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		r, err := w.pollRepository(ctx, c, reg, repo, live[repo])
		res.Tags += r.Tags
		res.Queued += r.Queued
		res.Removed += r.Removed
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", repo, err))
		}
	}
	// Repositories seen before and no longer listed: all their tags are gone.
	for repo, tags := range live {
		if slices.Contains(repos, repo) || len(tags) == 0 || ctx.Err() != nil {
			continue
		}
		gone := sortedKeys(tags)
		if err := w.opt.Store.ApplyTagPoll(ctx, store.TagPoll{RegistryID: reg.ID, Repository: repo,
			ImageRepository: reg.Host + "/" + repo, Removed: gone}, nil); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", repo, err))
			continue
		}
		res.Removed += len(gone)
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("%d of %d repositories: %w", len(errs), len(repos), errors.Join(errs...))
	}
	return res, nil
}

// repositories lists the repositories to poll, sorted: the catalog (paged)
// filtered by the registry's globs, plus its plain names. A registry with
// plain names only is not asked for its catalog.
func (w *Watch) repositories(ctx context.Context, c *client, reg store.Registry) ([]string, error) {
	var names, globs []string
	for _, p := range reg.Repositories {
		if strings.ContainsAny(p, `*?[\`) {
			globs = append(globs, p)
		} else {
			names = append(names, p)
		}
	}
	out := slices.Clone(names)
	if len(reg.Repositories) == 0 || len(globs) > 0 {
		r, err := name.NewRegistry(reg.Host, c.opts...)
		if err != nil {
			return nil, fmt.Errorf("registry %q: %w", reg.Host, err)
		}
		err = pages(ctx, c, r, "registry:catalog:*", "/v2/_catalog", func(page *remote.Catalogs) {
			for _, repo := range page.Repos {
				if len(globs) == 0 || matchAny(globs, repo) {
					out = append(out, repo)
				}
			}
		})
		if err != nil {
			return nil, fmt.Errorf("listing the catalog: %w", err)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func matchAny(globs []string, s string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, s); ok {
			return true
		}
	}
	return false
}

// pollRepository lists the tags of one repository (paged), resolves each
// with HEAD and records the result; live are the tags known and not removed.
func (w *Watch) pollRepository(ctx context.Context, c *client, reg store.Registry, repo string, live map[string]string) (Result, error) {
	var res Result
	r, err := name.NewRepository(reg.Host+"/"+repo, c.opts...)
	if err != nil {
		return res, fmt.Errorf("repository name: %w", err)
	}
	tags, err := listTags(ctx, c, r)
	if err != nil {
		return res, err
	}
	listed := map[string]bool{}
	for _, t := range tags {
		listed[t] = true
	}

	// Resolve every tag; a tag deleted since the listing (404) counts as
	// not listed, any other failure leaves the tag as it was.
	seen := map[string]string{}
	var (
		mu   sync.Mutex
		errs []error
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.opt.Heads)
	for _, tag := range tags {
		g.Go(func() error {
			desc, err := c.puller.Head(gctx, r.Tag(tag))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				seen[tag] = desc.Digest.String()
			case isNotFound(err):
				delete(listed, tag)
			default:
				errs = append(errs, fmt.Errorf("resolving tag %s: %w", tag, err))
			}
			return nil
		})
	}
	_ = g.Wait()
	res.Tags = len(seen)

	var removed []string
	for tag := range live {
		if !listed[tag] {
			removed = append(removed, tag)
		}
	}
	slices.Sort(removed)
	// One scan per digest a tag newly points to, with every tag on it.
	byDigest := map[string][]string{}
	for tag, d := range seen {
		byDigest[d] = append(byDigest[d], tag)
	}
	var scans []queue.ScanArgs
	for _, d := range sortedKeys(byDigest) {
		tagsOn := byDigest[d]
		changed := false
		for _, t := range tagsOn {
			if live[t] != d {
				changed = true
			}
		}
		if !changed {
			continue
		}
		slices.Sort(tagsOn)
		scans = append(scans, queue.ScanArgs{Reference: r.Name() + "@" + d, Repository: reg.Host + "/" + repo,
			Tags: tagsOn, Credentials: reg.Credentials, Insecure: reg.Insecure})
	}
	err = w.opt.Store.ApplyTagPoll(ctx, store.TagPoll{RegistryID: reg.ID, Repository: repo, ImageRepository: reg.Host + "/" + repo,
		Seen: seen, Removed: removed, Listed: sortedKeys(listed)}, func(ctx context.Context, tx pgx.Tx) error {
		for _, a := range scans {
			if _, err := w.river.InsertTx(ctx, tx, a, nil); err != nil {
				return fmt.Errorf("queueing a scan of %s: %w", a.Reference, err)
			}
		}
		return nil
	})
	if err != nil {
		return res, errors.Join(append(errs, err)...)
	}
	res.Queued, res.Removed = len(scans), len(removed)
	return res, errors.Join(errs...)
}

// listTags lists every tag of r, following the registry's pages.
func listTags(ctx context.Context, c *client, r name.Repository) ([]string, error) {
	var tags []string
	err := pages(ctx, c, r.Registry, r.Scope(transport.PullScope), "/v2/"+r.RepositoryStr()+"/tags/list", func(page *remote.Tags) {
		tags = append(tags, page.Tags...)
	})
	if isNotFound(err) {
		// The repository is gone (or was never pushed): no tags.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing tags: %w", err)
	}
	slices.Sort(tags)
	return slices.Compact(tags), nil
}

// isNotFound reports whether err is the registry's 404 for a repository,
// manifest or tag that does not exist.
func isNotFound(err error) bool {
	var te *transport.Error
	if !errors.As(err, &te) {
		return false
	}
	if te.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range te.Errors {
		switch d.Code {
		case transport.NameUnknownErrorCode, transport.ManifestUnknownErrorCode:
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
