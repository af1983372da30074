package npm

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// validJSON accepts exactly what json.Valid accepts.
func TestValidJSON(t *testing.T) {
	for _, doc := range jsonSeeds(t) {
		got, want := validJSON(strings.NewReader(doc)) == nil, json.Valid([]byte(doc))
		if got != want {
			t.Errorf("validJSON(%q) accepts: %t, json.Valid: %t", doc, got, want)
		}
	}
}

func jsonSeeds(t testing.TB) []string {
	seeds := []string{
		``, ` `, `{}`, `[]`, `{"a":1}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{"a" 1}`, `{1:2}`, `"x"`, `"x` + "\n" + `"`,
		`"\u00e9\n\"\\\/\b\f\r\t"`, `"\x"`, `"\u00g0"`, `-`, `-0`, `-01`, `01`, `0.`, `0.5`, `1e`, `1e+`, `1E-7`, `1.5e10`,
		`.5`, `+1`, `true`, `tru`, `truex`, `null`, `nul`, `false`, `{"a":[{"b":null}]}`, `{} {}`, `{}x`, "{}\n\t ",
		`[` + strings.Repeat(`[`, 10_001) + strings.Repeat(`]`, 10_002), "\"\xff\xfe\"", `{"a":{"b":`, `[1,2`,
		`{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0"}`,
	}
	for _, f := range []string{"testdata/lock/npm-v1/package-lock.json", "testdata/lock/npm-v3/package-lock.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, string(b))
	}
	return seeds
}

func FuzzValidJSON(f *testing.F) {
	for _, s := range jsonSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		if got, want := validJSON(bytes.NewReader(doc)) == nil, json.Valid(doc); got != want {
			t.Errorf("validJSON(%q) accepts: %t, json.Valid: %t", doc, got, want)
		}
	})
}
