package inventory

import (
	"encoding/json"
	"hash/fnv"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// jsonString is s after a trip through encoding/json.
func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out string
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestValidUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"musl", "musl"},
		{"caf\u00e9 \u2603 \U0001F600", "caf\u00e9 \u2603 \U0001F600"},
		{"\ufffd", "\ufffd"},
		{"a\xffb", "a\ufffdb"},
		// One U+FFFD per byte, as encoding/json (strings.ToValidUTF8 gives one per run).
		{"\xff\xfe", "\ufffd\ufffd"},
		{"x\xe2\x82", "x\ufffd\ufffd"},         // truncated sequence
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // surrogate half
		{"\xc0\xaf", "\ufffd\ufffd"},           // overlong
		{"ok\xf4\x90\x80\x80", "ok\ufffd\ufffd\ufffd\ufffd"},
	}
	for _, tt := range tests {
		got := ValidUTF8(tt.in)
		if got != tt.want {
			t.Errorf("ValidUTF8(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if j := jsonString(t, tt.in); got != j {
			t.Errorf("ValidUTF8(%q) = %q, but JSON gives %q", tt.in, got, j)
		}
	}
}

func TestPathHash(t *testing.T) {
	// FNV-1a of the path, as before, for valid paths.
	for _, p := range []string{"", "/etc/os-release", "/usr/lib/caf\u00e9/\U0001F600"} {
		h := fnv.New64a()
		h.Write([]byte(p))
		if got, want := PathHash(p), h.Sum64(); got != want {
			t.Errorf("PathHash(%q) = %x, want %x", p, got, want)
		}
	}
	// A path with invalid bytes hashes like its valid form, as the cache
	// and Merge see it.
	for _, p := range []string{"/srv/old\xff/package.json", "/a\xe2\x82", "\xed\xa0\x80/x"} {
		if got, want := PathHash(p), PathHash(ValidUTF8(p)); got != want {
			t.Errorf("PathHash(%q) = %x, PathHash of its valid form = %x", p, got, want)
		}
	}
}

// fill sets every string reachable in v (an addressable value) to a string
// with invalid bytes, and gives slices, maps and pointers content, so that
// every string field of the type is exercised.
func fill(v reflect.Value, seed string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(seed + "\xff-\xe2\x82-\ufffd")
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		fill(e.Elem(), seed+"*")
		v.Set(e)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), seed+"."+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), seed+"["+string(rune('0'+i))+"]")
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"a\x80", "a\ufffd", "b\xff"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fill(e, seed+"/"+k)
			if v.Type().Key().Kind() == reflect.String {
				m.SetMapIndex(reflect.ValueOf(k), e)
			}
		}
		v.Set(m)
	}
}

// TestWithValidUTF8IsJSONRoundTrip: WithValidUTF8 gives what a layer result
// becomes in the cache (JSON), for every string field there is, including
// colliding map keys; the input is left alone.
func TestWithValidUTF8IsJSONRoundTrip(t *testing.T) {
	var r LayerResult
	fill(reflect.ValueOf(&r).Elem(), "r")
	r.PathHashes = []uint64{1, 2}
	orig := deepCopy(r)

	got := r.WithValidUTF8()
	if diff := cmp.Diff(orig, r); diff != "" {
		t.Errorf("WithValidUTF8 changed its input (-before +after):\n%s", diff)
	}
	// JSON leaves out Package.Files (the cache carries it beside); compare
	// those through ValidUTF8 and the rest through JSON.
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var want LayerResult
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for fi := range r.Files {
		for pi, p := range r.Files[fi].Packages {
			for _, f := range p.Files {
				want.Files[fi].Packages[pi].Files = append(want.Files[fi].Packages[pi].Files, jsonString(t, f))
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("WithValidUTF8 differs from a JSON round trip (-json +got):\n%s", diff)
	}
	// Idempotent, and a valid result is returned as it is.
	if diff := cmp.Diff(got, got.WithValidUTF8()); diff != "" {
		t.Errorf("second WithValidUTF8 changed the result:\n%s", diff)
	}
}

// deepCopy copies r, Files included.
func deepCopy(r LayerResult) LayerResult {
	return copyValue(reflect.ValueOf(r)).Interface().(LayerResult)
}

func copyValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(copyValue(v.Elem()))
		return p
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(copyValue(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(copyValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMap(v.Type())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), copyValue(it.Value()))
		}
		return out
	}
	return v
}

// roundTrip is r as the layer cache returns it: through JSON, with
// Package.Files carried beside.
func roundTrip(t *testing.T, r LayerResult) LayerResult {
	t.Helper()
	b, err := json.Marshal(&r)
	if err != nil {
		t.Fatal(err)
	}
	var out LayerResult
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	for fi := range r.Files {
		for pi, p := range r.Files[fi].Packages {
			for _, f := range p.Files {
				out.Files[fi].Packages[pi].Files = append(out.Files[fi].Packages[pi].Files, jsonString(t, f))
			}
		}
	}
	return out
}

// TestMergeInvalidUTF8: layers whose strings hold invalid UTF-8 merge to the
// same inventory whether each layer is as walked or as read back from the
// cache: same IDs and order, the same whiteouts hit, the same owners, the
// same secrets deleted later.
func TestMergeInvalidUTF8(t *testing.T) {
	const owned = "/usr/lib/node_modules/own\xff/package.json"
	layers := []LayerResult{
		{
			Layer: Layer{Index: 0, DiffID: "sha256:l0"},
			Files: []FileResult{
				{Path: apkDB, Extractor: "os/apk", Packages: []Package{{
					Name: "bad\xffpkg", Version: "1.0\xfe-r0", Ecosystem: EcoAPK, Licenses: []string{"MIT \xff\xfe"},
					Locations: []Location{{Path: apkDB}}, Files: []string{owned},
					Metadata: map[string]string{"maintainer": "Ma\xffint"},
				}, {
					Name: "musl", Version: "1.2.3-r3", Ecosystem: EcoAPK, Locations: []Location{{Path: apkDB}},
				}}},
				{Path: "/srv/old\xff/package.json", Extractor: "lang/npm", Packages: []Package{{
					Name: "old", Version: "1.0.0", Ecosystem: EcoNPM, Locations: []Location{{Path: "/srv/old\xff/package.json"}},
				}}},
				{Path: "/etc/app\xff.env", Extractor: "secret", Hits: []SecretHit{{RuleID: "r", Match: "KEY=\xff***"}}},
			},
			PathHashes: []uint64{PathHash("/etc/app\xff.env"), PathHash("/srv/old\xff/package.json"), PathHash(owned), PathHash(apkDB)},
		},
		{
			Layer:     Layer{Index: 1, DiffID: "sha256:l1"},
			Whiteouts: []string{"/srv/old\xff/package.json"},
			Files: []FileResult{{Path: owned, Extractor: "lang/npm", Packages: []Package{{
				Name: "o\xffwn", Version: "2.0.0\xfe", Ecosystem: EcoNPM, Locations: []Location{{Path: owned}},
			}}}},
			PathHashes: []uint64{PathHash("/etc/app\xff.env"), PathHash(owned)},
		},
	}
	for i := range layers {
		slices.Sort(layers[i].PathHashes)
	}
	want := Merge([]LayerResult{roundTrip(t, layers[0]), roundTrip(t, layers[1])}, MergeOptions{})
	var own, bad Package
	for _, p := range want.Packages {
		switch p.Ecosystem + "/" + p.Name {
		case "npm/o\ufffdwn":
			own = p
		case "apk/bad\ufffdpkg":
			bad = p
		case "npm/old":
			t.Errorf("the package.json layer 1 deleted is listed: %+v", p)
		}
	}
	if own.Owner == "" || own.Owner != bad.ID {
		t.Errorf("npm package owner = %q, want the apk package %q", own.Owner, bad.ID)
	}
	if len(want.Secrets) != 1 || want.Secrets[0].DeletedInLayer == nil || *want.Secrets[0].DeletedInLayer != 1 {
		t.Errorf("secrets = %+v, want one, deleted in layer 1", want.Secrets)
	}
	for _, tc := range []struct {
		name   string
		layers []LayerResult
	}{
		{"both walked", layers},
		{"layer 0 cached", []LayerResult{roundTrip(t, layers[0]), layers[1]}},
		{"layer 1 cached", []LayerResult{layers[0], roundTrip(t, layers[1])}},
	} {
		got := Merge(tc.layers, MergeOptions{})
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: inventory differs from the one of cached layers (-cached +got):\n%s", tc.name, diff)
		}
	}
	if layers[0].Files[0].Packages[0].Name != "bad\xffpkg" {
		t.Error("Merge changed its input")
	}
}
