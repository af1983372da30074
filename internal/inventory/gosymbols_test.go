package inventory

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGoSymbols(t *testing.T) {
	var b GoSymbolsBuilder
	b.Add("golang.org/x/text/language", "", "Parse")
	b.Add("golang.org/x/text/language", "Tag", "String")
	b.Add("golang.org/x/text/language", "", "Parse") // twice: kept once
	b.Add("example.com/m", "", "Map[...]")
	b.Add("sync/atomic", "Pointer[go.shape.int]", "Load")
	b.Add("", "", "_rt0_amd64") // no package: not recorded
	g := b.Build("linux", "amd64")
	if diff := cmp.Diff([]string{"example.com/m", "golang.org/x/text/language", "sync/atomic"}, g.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
	if len(g.Symbols) != 4 {
		t.Errorf("%d symbols, want 4", len(g.Symbols))
	}
	for _, c := range []struct {
		pkg, sym string
		want     bool
	}{
		{"golang.org/x/text/language", "Parse", true},
		{"golang.org/x/text/language", "Tag.String", true},
		{"golang.org/x/text/language", "ParseAcceptLanguage", false},
		{"example.com/m", "Map", true},
		{"sync/atomic", "Pointer.Load", true},
	} {
		if got := g.HasSymbol(c.pkg, c.sym); got != c.want {
			t.Errorf("HasSymbol(%q, %q) = %v, want %v", c.pkg, c.sym, got, c.want)
		}
	}
	for _, c := range []struct {
		mod  string
		want bool
	}{{"golang.org/x/text", true}, {"golang.org/x/tex", false}, {"example.com/m", true}, {"example.com", true}, {"sync", true}, {"sync/atomic/x", false}} {
		if got := g.HasModule(c.mod); got != c.want {
			t.Errorf("HasModule(%q) = %v, want %v", c.mod, got, c.want)
		}
	}

	// JSON: the hashes travel as base64, sorted, and come back equal.
	bin := []GoBinary{{Path: "/app", GoSymbols: g}, {Path: "/old", GoSymbols: GoSymbols{Unknown: "built with go1.17.13"}}}
	raw, err := json.Marshal(bin)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"symbols":"`) || strings.Contains(string(raw[strings.Index(string(raw), "/old"):]), "symbols") {
		t.Errorf("JSON = %s", raw)
	}
	var back []GoBinary
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(bin, back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`"AAAA"`, `"` + strings.Repeat("A", 11) + `A"`, `"/////////////wAAAAAAAAAA"`, `12`} {
		var s SymbolHashes
		if err := json.Unmarshal([]byte(bad), &s); err == nil {
			t.Errorf("UnmarshalJSON(%s): no error", bad)
		}
	}
}

// TestGoSymbolHash pins the hash: it is stored in caches and results.
func TestGoSymbolHash(t *testing.T) {
	if got := GoSymbolHash("golang.org/x/text/language", "Parse"); got != fnvString(fnvOffset, "golang.org/x/text/language.Parse") {
		t.Errorf("GoSymbolHash is not FNV-1a of path.symbol: %#x", got)
	}
	// FNV-1a 64 of "a.b".
	if got, want := GoSymbolHash("a", "b"), uint64(0xe61d99190466522c); got != want {
		t.Errorf("GoSymbolHash(a, b) = %#x, want %#x", got, want)
	}
}

func TestGoSymbolsBound(t *testing.T) {
	var b GoSymbolsBuilder
	b.hashes = make([]uint64, MaxGoSymbols)
	b.Add("p", "", "f")
	if g := b.Build("", ""); !strings.Contains(g.Unknown, "more than") || len(g.Symbols) != 0 {
		t.Errorf("over the bound: %+v", g.Unknown)
	}
}

// TestMergeGoBinaries: the function tables of the executables in the final
// filesystem are kept, those deleted or replaced by a later layer are not.
func TestMergeGoBinaries(t *testing.T) {
	bin := func(path, unknown string) FileResult {
		return FileResult{Path: path, Extractor: "lang/gobinary", GoBinaries: []GoBinary{{Path: path, GoSymbols: GoSymbols{Unknown: unknown}}}}
	}
	layers := []LayerResult{
		{Layer: Layer{Index: 0}, Files: []FileResult{bin("/usr/bin/a", "v0"), bin("/usr/bin/b", "v0"), bin("/usr/bin/c", "v0")}},
		{Layer: Layer{Index: 1}, Whiteouts: []string{"/usr/bin/b"}, Files: []FileResult{bin("/usr/bin/c", "v1")}},
	}
	got := Merge(layers, MergeOptions{}).GoBinaries
	want := []GoBinary{{Path: "/usr/bin/a", GoSymbols: GoSymbols{Unknown: "v0"}}, {Path: "/usr/bin/c", GoSymbols: GoSymbols{Unknown: "v1"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GoBinaries (-want +got):\n%s", diff)
	}
}
