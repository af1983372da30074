package monitor

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/drydock-scan/drydock/internal/distro"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// recorder is a vulndb.Reader that remembers every lookup made through it
// and a fingerprint of each answer: what one image's match depended on.
// Matching and enrichment go through it unchanged, so the keys are exactly
// the lookups the matcher made — no second copy of its rules here.
type recorder struct {
	vulndb.Reader
	mu   sync.Mutex
	keys map[[3]string][]byte
}

func newRecorder(db vulndb.Reader) *recorder {
	return &recorder{Reader: db, keys: map[[3]string][]byte{}}
}

// Advisories implements vulndb.Reader.
func (r *recorder) Advisories(ctx context.Context, ecosystem, name string) ([]vulndb.Advisory, error) {
	advs, err := r.Reader.Advisories(ctx, ecosystem, name)
	if err != nil {
		return nil, err
	}
	fp, err := advisoriesFingerprint(advs)
	if err != nil {
		return nil, err
	}
	r.add(store.KeyAdvisories, ecosystem, name, fp)
	return advs, nil
}

// CVE implements vulndb.Reader.
func (r *recorder) CVE(ctx context.Context, id string) (vulndb.CVE, bool, error) {
	c, ok, err := r.Reader.CVE(ctx, id)
	if err != nil {
		return c, ok, err
	}
	fp, err := cveFingerprint(c, ok)
	if err != nil {
		return c, ok, err
	}
	r.add(store.KeyCVE, "", id, fp)
	return c, ok, nil
}

// Close implements vulndb.Reader: the recorder does not own the database.
func (r *recorder) Close() error { return nil }

func (r *recorder) add(kind, eco, name string, fp []byte) {
	r.mu.Lock()
	r.keys[[3]string{kind, eco, name}] = fp
	r.mu.Unlock()
}

// Keys returns the lookups recorded, sorted.
func (r *recorder) Keys() []store.MatchKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]store.MatchKey, 0, len(r.keys))
	for k, fp := range r.keys {
		out = append(out, store.MatchKey{Kind: k[0], Ecosystem: k[1], Name: k[2], Fingerprint: fp})
	}
	slices.SortFunc(out, func(a, b store.MatchKey) int {
		return strings.Compare(a.Kind+"\x00"+a.Ecosystem+"\x00"+a.Name, b.Kind+"\x00"+b.Ecosystem+"\x00"+b.Name)
	})
	return out
}

func advisoriesFingerprint(advs []vulndb.Advisory) ([]byte, error) {
	raw, err := json.Marshal(advs)
	if err != nil {
		return nil, fmt.Errorf("fingerprinting advisories: %w", err)
	}
	sum := sha256.Sum256(raw)
	return sum[:], nil
}

func cveFingerprint(c vulndb.CVE, found bool) ([]byte, error) {
	raw, err := json.Marshal(struct {
		Found bool       `json:"found"`
		CVE   vulndb.CVE `json:"cve"`
	}{found, c})
	if err != nil {
		return nil, fmt.Errorf("fingerprinting a CVE record: %w", err)
	}
	sum := sha256.Sum256(raw)
	return sum[:], nil
}

// ecosystemsFingerprint fingerprints the ecosystems the database holds
// under prefix: the matcher queries every ecosystem that extends a Red Hat
// or SUSE distribution's (see distro.AdvisoryEcosystemIsPrefix), so a new
// one changes what it looks up. Every ecosystem starting with prefix counts
// (a superset of those the matcher extends to: at worst an image is
// re-matched for nothing).
func ecosystemsFingerprint(meta vulndb.Metadata, prefix string) []byte {
	var ecos []string
	for eco := range meta.Counts {
		if strings.HasPrefix(eco, prefix) {
			ecos = append(ecos, eco)
		}
	}
	slices.Sort(ecos)
	sum := sha256.Sum256([]byte(strings.Join(ecos, "\n")))
	return sum[:]
}

// fingerprint answers one stored lookup with db: the fingerprint the same
// lookup would record now.
func fingerprint(ctx context.Context, db vulndb.Reader, meta vulndb.Metadata, k store.MatchKey) ([]byte, error) {
	switch k.Kind {
	case store.KeyAdvisories:
		advs, err := db.Advisories(ctx, k.Ecosystem, k.Name)
		if err != nil {
			return nil, fmt.Errorf("looking up %s %q: %w", k.Ecosystem, k.Name, err)
		}
		return advisoriesFingerprint(advs)
	case store.KeyCVE:
		c, ok, err := db.CVE(ctx, k.Name)
		if err != nil {
			return nil, fmt.Errorf("looking up %s: %w", k.Name, err)
		}
		return cveFingerprint(c, ok)
	case store.KeyEcosystems:
		return ecosystemsFingerprint(meta, k.Ecosystem), nil
	}
	return nil, fmt.Errorf("unknown match key kind %q", k.Kind)
}

// keysFor returns the lookups recorded, and for a distribution whose
// advisory ecosystem is a prefix (Red Hat, SUSE) the ecosystems the
// database holds under it: the matcher queries each of them.
func (r *recorder) keysFor(ctx context.Context, d *inventory.Distro) ([]store.MatchKey, error) {
	keys := r.Keys()
	if !distro.AdvisoryEcosystemIsPrefix(d) {
		return keys, nil
	}
	prefix := distro.AdvisoryEcosystem(d)
	if prefix == "" {
		return keys, nil
	}
	meta, err := r.Meta(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the database metadata: %w", err)
	}
	return append(keys, store.MatchKey{Kind: store.KeyEcosystems, Ecosystem: prefix, Fingerprint: ecosystemsFingerprint(meta, prefix)}), nil
}
