package monitor

import (
	"path/filepath"
	"testing"

	"github.com/drydock-scan/drydock/internal/vulndb"
)

// With DBPath, every check opens the worker's database file afresh: a
// "drydock db update" that replaces the file is applied by the next
// periodic check, without restarting the worker.
func TestCheckSeesTheReplacedFile(t *testing.T) {
	st := openStore(t)
	f := buildFleet(t, startRegistry(t))
	path := filepath.Join(t.TempDir(), "drydock.db")
	writeDB(t, path, v1Time, v1Advisories()...)
	v1, err := vulndb.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v1.Close() })
	scanFleet(t, st, v1, f, false)
	m, err := New(Options{Store: st, DBPath: path})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		before func()
		want   Report
	}{
		{"first check: v1 applied, every image indexed", nil, Report{DBBuiltAt: v1Time, Keys: 0, Images: 50}},
		{"nothing new", nil, Report{DBBuiltAt: v1Time, Skipped: true, Reason: "already applied"}},
		{"the file replaced by v2", func() { writeDB(t, path, v2Time, v2Advisories()...) },
			Report{DBBuiltAt: v2Time, Keys: 20, Images: 5, New: 3, Resolved: 2, Events: 5}},
		{"nothing new again", nil, Report{DBBuiltAt: v2Time, Skipped: true, Reason: "already applied"}},
	}
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		got, err := m.Apply(t.Context(), true)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got != s.want {
			t.Errorf("%s: %+v, want %+v", s.name, got, s.want)
		}
	}
	// The handle opened before the update still reads v1: the reason for
	// DBPath.
	meta, err := v1.Meta(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !meta.BuiltAt.Equal(v1Time) {
		t.Errorf("the old handle reads the database of %s, want v1", meta.BuiltAt)
	}
}
