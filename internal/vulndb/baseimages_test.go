package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestBaseImagesInDatabase: a table of published bases is kept as imported
// (compacted), counted in the metadata, checked by Status, and read back;
// bad tables are refused with the table's name.
func TestBaseImagesInDatabase(t *testing.T) {
	ctx := context.Background()
	table, err := os.ReadFile("../baseimage/testdata/busybox-amd64-history-index.json")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "drydock.db")
	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := b.ImportBaseImages(strings.NewReader(string(table)), "busybox.json", SourceInfo{Name: BaseImagePrefix + "busybox.json"})
	if err != nil || n != 127 {
		t.Fatalf("imported %d records, %v; want the table's 127", n, err)
	}
	for _, bad := range []struct{ name, doc, want string }{
		{"empty.json", `{"records":[]}`, "base-image table empty.json: no records"},
		{"nodiff.json", `{"records":[{"manifest_digest":"sha256:aa"}]}`, "record 0: no diff_id"},
		{"md5.json", `{"records":[{"diff_id":"md5:aa"}]}`, `"md5:aa" is not a sha256 digest`},
		{"notjson.json", `{"records":`, "base-image table notjson.json"},
	} {
		if _, err := b.ImportBaseImages(strings.NewReader(bad.doc), bad.name, SourceInfo{Name: BaseImagePrefix + bad.name}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: error %v, want one containing %q", bad.name, err, bad.want)
		}
	}
	meta, err := b.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if meta.BaseImages != 1 {
		t.Errorf("metadata lists %d base-image tables, want 1", meta.BaseImages)
	}
	if _, err := Status(ctx, path); err != nil {
		t.Fatalf("Status: %v", err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.BaseImages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Name != "busybox.json" {
		t.Fatalf("tables %v", got)
	}
	if n, err := checkBaseImageTable(got[0].JSON); err != nil || n != 127 {
		t.Errorf("read back: %d records, %v", n, err)
	}
	if d := cmp.Diff(len(got[0].JSON) < len(table), true); d != "" {
		t.Errorf("the table is not kept compacted (%d bytes from %d)", len(got[0].JSON), len(table))
	}
}

// TestNoBaseImages: a database built without tables has none (not an error).
func TestNoBaseImages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drydock.db")
	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got, err := db.BaseImages(ctx)
	if err != nil || got != nil {
		t.Errorf("tables %v, %v; want none", got, err)
	}
}
