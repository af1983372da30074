package vulndb

import (
	"strings"
	"testing"
)

// FuzzParseHashList: any input is a list or an error, never a panic; a list
// holds distinct lower-case SHA-256 digests, all named by the list, and
// counts them.
func FuzzParseHashList(f *testing.F) {
	h := strings.Repeat("ab", 32)
	for _, s := range []string{
		h + "\n",
		h + "  eicar.com\n# comment\n\n" + strings.ToUpper(h) + "\n",
		"# first_seen_utc,sha256_hash,md5_hash,signature\n\"2024-01-01\",\"" + h + "\",\"x\",\"Mirai\"\n",
		"sha256,name\n" + h + ",XMRig\nnot-a-hash,x\n",
		"\"unterminated," + h + "\n",
		"\x1f\x8b\x08\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		files, st, err := ParseHashList(strings.NewReader(string(b)), "malware-hashes/fuzz.txt")
		if err != nil {
			if files != nil {
				t.Fatalf("error %v with %d files", err, len(files))
			}
			return
		}
		if len(files) == 0 || st.Hashes != len(files) {
			t.Fatalf("%d files, stats %+v", len(files), st)
		}
		seen := map[string]bool{}
		for _, bf := range files {
			if !isSHA256(bf.SHA256) || strings.ToLower(bf.SHA256) != bf.SHA256 || bf.List != "malware-hashes/fuzz.txt" || seen[bf.SHA256] {
				t.Fatalf("entry %+v (seen before: %v)", bf, seen[bf.SHA256])
			}
			seen[bf.SHA256] = true
		}
	})
}
