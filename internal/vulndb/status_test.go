package vulndb

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.etcd.io/bbolt"
)

// buildDamageable builds a database of several hundred KB: npm advisories
// from the test mirror, 3000 made-up packages and the KEV sample, so that
// damage in the middle of the file hits data pages, not the first ones
// Open and Meta read.
func buildDamageable(t *testing.T, path string) Metadata {
	t.Helper()
	ctx := context.Background()
	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(testMirror, "npm", "all.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	if _, err := b.ImportOSVZip(ctx, f, st.Size(), f.Name(), SourceInfo{Name: "osv/npm"}); err != nil {
		t.Fatal(err)
	}
	for i := range 3000 {
		name := fmt.Sprintf("pkg-%04d", i)
		if err := b.Add(Advisory{ID: "X-" + name, Ecosystem: "PyPI", Package: name, Details: strings.Repeat("d", 300), Versions: []string{"1"}}); err != nil {
			t.Fatal(err)
		}
	}
	kev, err := os.Open(filepath.Join(testMirror, "cisa-kev", "known_exploited_vulnerabilities.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer kev.Close()
	if _, err := b.ImportKEV(kev, kev.Name(), SourceInfo{Name: "cisa-kev"}); err != nil {
		t.Fatal(err)
	}
	b.AddMissing(MissingSource{Name: "osv/Debian", Ecosystem: "Debian", URL: "https://mirror.example/Debian/all.zip", Reason: "not published by any mirror"})
	b.AddMissing(MissingSource{Name: "alpine-secdb/v3.16/main", Ecosystem: "Alpine:v3.16", URL: "https://secdb.alpinelinux.org/v3.16/main.json", Reason: "503 Service Unavailable"})
	meta, err := b.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return meta
}

// scanLike reads the database the way scans do: open, metadata, then a
// lookup of every package.
func scanLike(ctx context.Context, path string) error {
	db, err := Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Meta(ctx); err != nil {
		return err
	}
	for _, q := range [][2]string{{"npm", "lodash"}, {"npm", "minimist"}} {
		if _, err := db.Advisories(ctx, q[0], q[1]); err != nil {
			return err
		}
	}
	for i := range 3000 {
		if _, err := db.Advisories(ctx, "PyPI", fmt.Sprintf("pkg-%04d", i)); err != nil {
			return err
		}
	}
	if _, _, err := db.CVE(ctx, "CVE-2023-4911"); err != nil {
		return err
	}
	return nil
}

// TestStatusReadsWholeDatabase: Status (drydock db status) must not accept
// a database that a scan then rejects as corrupt. Open and Meta read only
// the first pages, so a file damaged further in used to pass.
func TestStatusReadsWholeDatabase(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "drydock.db")
	meta := buildDamageable(t, path)
	got, err := Status(ctx, path)
	if err != nil {
		t.Fatalf("intact database: %v", err)
	}
	if diff := cmp.Diff(meta, got); diff != "" {
		t.Errorf("intact database: metadata (-built +status):\n%s", diff)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	damage := func(at, n int, b byte) []byte {
		d := slices.Clone(data)
		for i := at; i < at+n && i < len(d); i++ {
			d[i] = b
		}
		return d
	}
	cases := []struct {
		name string
		data []byte
	}{
		{"truncated", data[:len(data)/2]},
		{"garbage", []byte(strings.Repeat("garbage ", 4096))},
		{"zeroed quarter", damage(len(data)/4, 64<<10, 0)},
		{"zeroed half", damage(len(data)/2, 64<<10, 0)},
		{"garbled eighth", damage(len(data)/8, 16<<10, 0x5a)},
		{"garbled page", damage(len(data)/3, 4096, 0xff)},
		{"empty", nil},
	}
	checked := 0
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".db")
			if err := os.WriteFile(p, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			scanErr := scanLike(ctx, p)
			if scanErr == nil {
				t.Skip("this damage does not break reads")
			}
			checked++
			_, err := Status(ctx, p)
			if err == nil {
				t.Fatalf("Status accepts a database a scan rejects with: %v", scanErr)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("Status error %q does not name the file", err)
			}
		})
	}
	if checked < 5 {
		t.Errorf("only %d damaged files break reads: the test proves little", checked)
	}
}

// TestStatusEcosystemMismatch: a database whose buckets do not match its
// metadata (stitched from two builds) fails Check.
func TestStatusEcosystemMismatch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drydock.db")
	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(Advisory{ID: "X-1", Ecosystem: "npm", Package: "a", Versions: []string{"1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	db := openTest(t, path)
	if err := db.Check(ctx); err != nil {
		t.Fatalf("intact: %v", err)
	}
	db.Close()
	rewriteMeta(t, path, func(m *Metadata) { m.Counts["PyPI"] = 1 })
	_, err = Status(ctx, path)
	if err == nil || !strings.Contains(err.Error(), `the database holds the ecosystems ["npm"], its metadata lists ["PyPI" "npm"]`) {
		t.Errorf("ecosystem mismatch: %v", err)
	}
}

// TestFormatAge: the age of a database as people read it (the DB-age
// warning said "age=0s" for a database 20 minutes old: rounded to hours).
func TestFormatAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{40 * time.Second, "40s"},
		{20 * time.Minute, "20m"},
		{59*time.Minute + 59*time.Second, "59m"},
		{time.Hour, "1h"},
		{5*time.Hour + 12*time.Minute + 30*time.Second, "5h12m"},
		{47 * time.Hour, "47h"},
		{48 * time.Hour, "2d"},
		{9*24*time.Hour + 4*time.Hour + 10*time.Minute, "9d4h"},
		{400 * 24 * time.Hour, "400d"},
		{-3 * time.Hour, "-3h"},
	}
	for _, tt := range tests {
		if got := FormatAge(tt.d); got != tt.want {
			t.Errorf("FormatAge(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// rewriteMeta changes the stored metadata of a database in place.
func rewriteMeta(t *testing.T, path string, fn func(*Metadata)) {
	t.Helper()
	b, err := bbolt.Open(path, 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	err = b.Update(func(tx *bbolt.Tx) error {
		mb := tx.Bucket([]byte(bucketMeta))
		var m Metadata
		if err := json.Unmarshal(mb.Get([]byte(keyMetadata)), &m); err != nil {
			return err
		}
		fn(&m)
		data, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return mb.Put([]byte(keyMetadata), data)
	})
	if err != nil {
		t.Fatal(err)
	}
}
