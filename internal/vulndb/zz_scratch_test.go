package vulndb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestScratchAll(t *testing.T) {
	ctx := context.Background()
	dir := "/tmp/scratchdb"
	os.RemoveAll(dir)
	mirror := "/work/shared/data/osv"
	start := time.Now()
	res, err := Update(ctx, UpdateOptions{
		Mirrors:    []string{mirror, "/work/shared/data/native-x"},
		Ecosystems: []string{"AlmaLinux", "Go", "PyPI", "npm", "Maven", "Debian"},
		Native: []NativeSource{
			{Kind: NativeAlpineSecDB, URL: "/work/shared/data/native/alpine-secdb", Branches: []string{"v3.16", "v3.17", "edge", "v3.2"}},
			{Kind: NativeKEV, URL: "/work/shared/data/native/cisa-kev/known_exploited_vulnerabilities.json"},
			{Kind: NativeNVD, URL: "/work/shared/data/native/nvd-cve-subset/CVE-2023-42366.json"},
			{Kind: NativeNVD, URL: "/work/shared/data/native/nvd-cve-subset/CVE-2023-29491.json"},
		},
		Path:     filepath.Join(dir, "db", "drydock.db"),
		Progress: os.Stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%v %+v", time.Since(start), res.Warnings)
	st, _ := os.Stat(res.Path)
	t.Logf("size %d counts %v", st.Size(), res.Metadata.Counts)
	db, err := Open(ctx, res.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range [][2]string{{"AlmaLinux:9", "glibc"}, {"Alpine:v3.16", "busybox"}, {"Alpine:v3.16", "zlib"}, {"npm", "lodash"}, {"PyPI", "Django"}, {"Go", "golang.org/x/text"}} {
		advs, err := db.Advisories(ctx, q[0], q[1])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %d", q, len(advs))
		if len(advs) > 0 {
			t.Logf("  %+v", advs[0])
		}
	}
	for _, id := range []string{"CVE-2023-42366", "CVE-2023-29491", "CVE-2023-4911"} {
		c, ok, err := db.CVE(ctx, id)
		t.Logf("%+v %v %v", c, ok, err)
	}
}
