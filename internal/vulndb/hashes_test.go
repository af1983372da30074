package vulndb

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// eicarSHA256 is the SHA-256 of the 68-byte EICAR test file.
const eicarSHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestParseHashList(t *testing.T) {
	a, b, c := sha("a"), sha("b"), sha("c")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(a + "\n" + b + "\n"))
	zw.Close()
	tests := []struct {
		name string
		in   string
		want []BadFile
		st   HashListStats
	}{
		{"plain, one per line",
			"# known bad\n\n" + strings.ToUpper(a) + "\n" + b + "\r\n" + a + "\n44d88612fea8a8f36de82e1278abb02f\n# end\n",
			[]BadFile{{SHA256: a, List: "l"}, {SHA256: b, List: "l"}},
			HashListStats{Hashes: 2, Duplicates: 1, Skipped: 1}},
		{"sha256sum output",
			a + "  dropper.sh\n" + b + " *miner.bin\n",
			[]BadFile{{SHA256: a, Name: "dropper.sh", List: "l"}, {SHA256: b, Name: "miner.bin", List: "l"}},
			HashListStats{Hashes: 2}},
		{"MalwareBazaar-style export: header in the last comment, \", \" separators",
			"################################################################\n" +
				"# MalwareBazaar full malware samples dump (CSV)                #\n" +
				"# Terms Of Use: https://bazaar.abuse.ch/faq/#tos               #\n" +
				"################################################################\n#\n" +
				`# "first_seen_utc","sha256_hash","md5_hash","sha1_hash","reporter","file_name","file_type_guess","mime_type","signature","clamav","vtpercent"` + "\n" +
				`"2024-05-01 10:00:00", "` + a + `", "0cc175b9c0f1b6a831c399e269772661", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8", "abuse_ch", "x.elf", "elf", "application/x-executable", "Mirai", "n/a", "n/a"` + "\n" +
				`"2024-05-01 10:00:01", "` + b + `", "92eb5ffee6ae2fec3ad71c777531578f", "e9d71f5ee7c92d6dc9e92ffdad17b8bd49418f98", "abuse_ch", "y.sh", "sh", "text/x-shellscript", "n/a", "n/a", "n/a"` + "\n" +
				`"2024-05-01 10:00:02", "not-a-hash", "", "", "", "", "", "", "X", "", ""` + "\n",
			[]BadFile{{SHA256: a, Name: "Mirai", List: "l"}, {SHA256: b, List: "l"}},
			HashListStats{Hashes: 2, Skipped: 1}},
		{"MalwareBazaar-style hash dump: header comment of one column",
			"#####\n# MalwareBazaar full malware samples dump (SHA256 hashes)\n#####\n#\n# sha256_hash\n" + a + "\n" + c + "\n",
			[]BadFile{{SHA256: a, List: "l"}, {SHA256: c, List: "l"}},
			HashListStats{Hashes: 2}},
		{"CSV with a header row",
			"SHA256,Malware Family\n" + a + ",XMRig\n" + c + ",\n",
			[]BadFile{{SHA256: a, List: "l"}, {SHA256: c, List: "l"}},
			HashListStats{Hashes: 2}},
		{"CSV with a header row naming the family",
			"md5,sha256,family\nx," + a + ",XMRig\ny," + c + ",Kinsing\n",
			[]BadFile{{SHA256: a, Name: "XMRig", List: "l"}, {SHA256: c, Name: "Kinsing", List: "l"}},
			HashListStats{Hashes: 2}},
		{"CSV without a header: the first digest field",
			"2024-01-01," + b + ",something\n2024-01-02,\"" + c + "\",else\n",
			[]BadFile{{SHA256: b, List: "l"}, {SHA256: c, List: "l"}},
			HashListStats{Hashes: 2}},
		{"gzip", gz.String(),
			[]BadFile{{SHA256: a, List: "l"}, {SHA256: b, List: "l"}},
			HashListStats{Hashes: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st, err := ParseHashList(strings.NewReader(tt.in), "l")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("entries (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.st, st); d != "" {
				t.Errorf("stats (-want +got):\n%s", d)
			}
		})
	}
	for _, bad := range []string{"", "# only comments\n", "44d88612fea8a8f36de82e1278abb02f\n3395856ce81f2b7382dee72602f798b642f14140\n", "md5,name\nx,y\n"} {
		if _, _, err := ParseHashList(strings.NewReader(bad), "bad.txt"); err == nil || !strings.Contains(err.Error(), `"bad.txt"`) {
			t.Errorf("%q: error %v, want one naming the list", bad, err)
		}
	}
}

// TestHashListsInDatabase: imported lists are looked up by digest, named
// by the first list that names the file, counted and checked; a database
// without lists answers "not known".
func TestHashListsInDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "drydock.db")
	b, err := NewBuilder(path)
	if err != nil {
		t.Fatal(err)
	}
	first := eicarSHA256 + "\n" + sha("x") + "\n"
	second := "sha256,signature\n" + sha("x") + ",Kinsing\n" + sha("y") + ",XMRig\n"
	if _, err := b.ImportHashList(strings.NewReader(first), "first.txt", SourceInfo{Name: HashListPrefix + "first.txt", Digest: "sha256:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ImportHashList(strings.NewReader(second), "second.csv", SourceInfo{Name: HashListPrefix + "second.csv", Digest: "sha256:2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ImportHashList(strings.NewReader("nothing here\n"), "bad.txt", SourceInfo{Name: HashListPrefix + "bad.txt"}); err == nil {
		t.Error("a list without hashes was imported")
	}
	meta, err := b.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if meta.Hashes != 3 || len(meta.Sources) != 2 {
		t.Errorf("metadata: %d hashes, sources %+v", meta.Hashes, meta.Sources)
	}
	if _, err := Status(ctx, path); err != nil {
		t.Fatalf("Status: %v", err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lookup := func(h string) (BadFile, bool) {
		var sum [32]byte
		hex.Decode(sum[:], []byte(h))
		f, ok, err := db.KnownBad(ctx, sum)
		if err != nil {
			t.Fatal(err)
		}
		return f, ok
	}
	for _, tc := range []struct {
		hash string
		want BadFile
	}{
		{eicarSHA256, BadFile{SHA256: eicarSHA256, List: HashListPrefix + "first.txt"}},
		{sha("x"), BadFile{SHA256: sha("x"), Name: "Kinsing", List: HashListPrefix + "second.csv"}},
		{sha("y"), BadFile{SHA256: sha("y"), Name: "XMRig", List: HashListPrefix + "second.csv"}},
	} {
		got, ok := lookup(tc.hash)
		if d := cmp.Diff(tc.want, got); !ok || d != "" {
			t.Errorf("%s: found %v (-want +got):\n%s", tc.hash, ok, d)
		}
	}
	if _, ok := lookup(sha("clean")); ok {
		t.Error("a clean file is known bad")
	}
	key := HashListsKey(meta)
	meta.Sources[0].Digest = "sha256:changed"
	if key == "" || key == HashListsKey(meta) || HashListsKey(Metadata{}) != "" {
		t.Errorf("HashListsKey: %q, after a change %q, without lists %q", key, HashListsKey(meta), HashListsKey(Metadata{}))
	}

	// A database without hash lists answers "not known" and checks whole.
	empty := filepath.Join(t.TempDir(), "empty.db")
	eb, err := NewBuilder(empty)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := eb.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	edb, err := Open(ctx, empty)
	if err != nil {
		t.Fatal(err)
	}
	defer edb.Close()
	if _, ok, err := edb.KnownBad(ctx, sha256.Sum256([]byte("x"))); ok || err != nil {
		t.Errorf("empty database: %v, %v", ok, err)
	}
	if err := edb.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
}
