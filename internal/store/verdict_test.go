package store_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// TestImagesByDigest: a manifest digest finds its image once (the
// repository scanned last), an index digest every platform scanned, and
// Changed moves when a scan resolves a finding.
func TestImagesByDigest(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	st, err := store.Open(t.Context(), storetest.NewDatabase(t), store.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	const (
		amd   = "sha256:aaaa000000000000000000000000000000000000000000000000000000000000"
		arm   = "sha256:bbbb000000000000000000000000000000000000000000000000000000000000"
		index = "sha256:cccc000000000000000000000000000000000000000000000000000000000000"
		alone = "sha256:dddd000000000000000000000000000000000000000000000000000000000000"
	)
	save := func(repo, digest, idx, arch string, findings ...string) int64 {
		t.Helper()
		res := &result.Result{Image: inventory.Image{Kind: "registry", Name: repo, Digest: digest, IndexDigest: idx, OS: "linux", Arch: arch}}
		for _, id := range findings {
			res.Findings = append(res.Findings, finding.Finding{ID: id, Severity: "HIGH", Package: finding.PackageRef{ID: "p"}})
		}
		s, err := st.SaveScan(t.Context(), store.ImageKey{Repository: repo}, res)
		if err != nil {
			t.Fatal(err)
		}
		return s.ImageID
	}
	save("r1", amd, index, "amd64", "CVE-1") // the same manifest, scanned again from r2 below
	armID := save("r1", arm, index, "arm64")
	aloneID := save("r1", alone, "", "amd64")
	now = now.Add(time.Hour)
	amdOther := save("r2", amd, index, "amd64", "CVE-1")

	ignore := cmpopts.IgnoreFields(store.DigestImage{}, "ScannedAt", "Changed")
	for _, tc := range []struct {
		digest string
		want   []store.DigestImage
	}{
		{amd, []store.DigestImage{{ID: amdOther, Repository: "r2", ManifestDigest: amd, IndexDigest: index, Platform: "linux/amd64"}}},
		{index, []store.DigestImage{
			{ID: amdOther, Repository: "r2", ManifestDigest: amd, IndexDigest: index, Platform: "linux/amd64"},
			{ID: armID, Repository: "r1", ManifestDigest: arm, IndexDigest: index, Platform: "linux/arm64"}}},
		{alone, []store.DigestImage{{ID: aloneID, Repository: "r1", ManifestDigest: alone, Platform: "linux/amd64"}}},
		{"sha256:eeee", nil},
		{"", nil},
	} {
		got, err := st.ImagesByDigest(t.Context(), tc.digest)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tc.want, got, ignore, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.digest, diff)
		}
	}

	// A later scan of r1's amd64 image resolves CVE-1: Changed moves to it.
	before, err := st.ImagesByDigest(t.Context(), alone)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Hour)
	save("r1", alone, "", "amd64", "CVE-2")
	now = now.Add(time.Hour)
	save("r1", alone, "", "amd64")
	after, err := st.ImagesByDigest(t.Context(), alone)
	if err != nil {
		t.Fatal(err)
	}
	if !after[0].Changed.Equal(now) || !after[0].Changed.After(before[0].Changed) {
		t.Errorf("changed %v after resolving a finding at %v (before: %v)", after[0].Changed, now, before[0].Changed)
	}
}
