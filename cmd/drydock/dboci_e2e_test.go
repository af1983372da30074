package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/testimage"
	dbupdate "github.com/drydock-scan/drydock/internal/vulndb/update"
)

// TestDBPushPullOnDistribution: drydock db push and db pull through the real
// docker-registry (no referrers API: the signature is found through the
// sha256-<hex> tag index). A pull with another key and a pull of an
// unsigned copy exit 1 and leave the working database byte-identical; a
// pull with the right key installs the pushed file byte for byte.
func TestDBPushPullOnDistribution(t *testing.T) {
	host := testimage.StartRegistry(t, testimage.RegistryBinary(t), nil)
	priv, pub := keyFiles(t)
	_, otherPub := keyFiles(t)
	ref := host + "/security/drydock-db:2"

	res := drydock(t, "db", "push", "--key", priv, "--db", testDB, ref)
	if res.code != 0 {
		t.Fatalf("db push: exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "pushed "+testDB) {
		t.Errorf("db push said %q", res.stdout)
	}

	// The working database: another, older one.
	working := filepath.Join(t.TempDir(), "drydock.db")
	if _, err := dbupdate.Run(context.Background(), dbupdate.Options{
		Mirrors: []string{mirrorDir}, Ecosystems: []string{"npm"}, Path: working, KEV: dbupdate.Off, AlpineSecDB: dbupdate.Off,
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(working)
	if err != nil {
		t.Fatal(err)
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		if now, err := os.ReadFile(working); err != nil || !bytes.Equal(now, before) {
			t.Errorf("the working database changed (%v)", err)
		}
	}

	t.Run("another key", func(t *testing.T) {
		res := drydock(t, "db", "pull", "--key", otherPub, "--db", working, ref)
		if res.code != 1 || !strings.Contains(res.stderr, "not signed by the key") || !strings.Contains(res.stderr, "was not changed") {
			t.Errorf("exit %d\n%s", res.code, res.stderr)
		}
		unchanged(t)
	})
	t.Run("unsigned copy", func(t *testing.T) {
		src, err := name.ParseReference(ref)
		if err != nil {
			t.Fatal(err)
		}
		img, err := remote.Image(src)
		if err != nil {
			t.Fatal(err)
		}
		dst := host + "/mirror/drydock-db:2"
		dref, err := name.ParseReference(dst)
		if err != nil {
			t.Fatal(err)
		}
		if err := remote.Write(dref, img); err != nil {
			t.Fatal(err)
		}
		res := drydock(t, "db", "pull", "--key", pub, "--db", working, dst)
		if res.code != 1 || !strings.Contains(res.stderr, "has no signature") {
			t.Errorf("exit %d\n%s", res.code, res.stderr)
		}
		unchanged(t)
	})
	t.Run("right key", func(t *testing.T) {
		res := drydock(t, "db", "pull", "--key", pub, "--db", working, ref)
		if res.code != 0 || !strings.Contains(res.stderr, "vulnerability database installed") {
			t.Fatalf("exit %d\n%s", res.code, res.stderr)
		}
		got, err := os.ReadFile(working)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(testDB)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatal("the pulled database is not the pushed file")
		}
		if res := drydock(t, "db", "status", "--db", working); res.code != 0 {
			t.Errorf("db status of the pulled database: exit %d\n%s", res.code, res.stderr)
		}
		if res := drydock(t, "db", "pull", "--key", pub, "--db", working, ref); res.code != 0 || !strings.Contains(res.stderr, "already installed") {
			t.Errorf("second pull: exit %d\n%s", res.code, res.stderr)
		}
	})
}
