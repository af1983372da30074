package misconfig

import (
	"strings"
	"testing"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// FuzzCheck feeds random history commands, users and ports to Check: no
// panic, every result complete, sorted by ID.
func FuzzCheck(f *testing.F) {
	for _, h := range hardened().History {
		f.Add(h.CreatedBy, "root", "22/tcp")
	}
	f.Add("|3 A=1 /bin/sh -c apt-get update", "0:0", "22")
	f.Add(`ADD ["a", "b", "c"] # buildkit`, "", "")
	f.Add("ADD --checksum=sha256:x", "app", "8080/tcp")
	f.Add("/bin/sh -c #(nop) ADD file:abc in ", ":", "")
	f.Fuzz(func(t *testing.T, createdBy, user, port string) {
		img := inventory.Image{
			Config: inventory.ImageConfig{User: user, ExposedPorts: []string{port}, Env: []string{createdBy}},
			History: []inventory.History{
				{CreatedBy: createdBy, LayerIndex: 0},
				{CreatedBy: createdBy, LayerIndex: 1},
				{CreatedBy: "RUN " + createdBy + " # buildkit", LayerIndex: -1},
			},
		}
		inv := &inventory.Inventory{Facts: inventory.Facts{
			Setuid:     []inventory.FileFact{{Path: createdBy, Mode: 0o4755}},
			CacheBytes: map[string]int64{createdBy: 1 << 21},
		}}
		got := Check(img, inv)
		for i, m := range got {
			if m.ID == "" || m.Title == "" || m.Severity == "" || len(m.Evidence) == 0 {
				t.Fatalf("incomplete result %+v", m)
			}
			if i > 0 && strings.Compare(got[i-1].ID, m.ID) >= 0 {
				t.Fatalf("results not sorted by ID: %v", ids(got))
			}
		}
		_, _ = parseAdd(createdBy)
		_, _ = runCommand(createdBy)
	})
}
