package store_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/inventory"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/store"
)

// TestGoBinariesKept: the Go executables' function tables are stored with
// the inventory and loaded back for a re-match, so that Go reachability
// says the same after a database update as at the scan.
func TestGoBinariesKept(t *testing.T) {
	st := migrated(t)
	var b inventory.GoSymbolsBuilder
	b.Add("golang.org/x/text/language", "", "Parse")
	b.Add("runtime", "", "main")
	res := &result.Result{GoBinaries: []inventory.GoBinary{
		{Path: "/app/server", GoSymbols: b.Build("linux", "amd64")},
		{Path: "/app/old", GoSymbols: inventory.GoSymbols{Unknown: "built with go1.17.13, whose function table (before Go 1.18) is not read"}},
	}}
	res.Image.Digest = "sha256:go"
	saved, err := st.SaveScan(t.Context(), store.ImageKey{Repository: "r/go"}, res)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := st.LoadResult(t.Context(), saved.ImageID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(res.GoBinaries, loaded.GoBinaries); d != "" {
		t.Errorf("GoBinaries (-saved +loaded):\n%s", d)
	}
}
