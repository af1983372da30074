package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestParseVerifyArgs(t *testing.T) {
	repo, err := findRepo()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseVerifyArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := verifyOptions{
		repo: repo, work: filepath.Join(repo, "bench", ".work", "verify"), drydock: filepath.Join(repo, "bin", "drydock"),
		registry: "/usr/bin/docker-registry", image: filepath.Join(repo, "testdata", "images", "alpine-3.16.9.tar"), runs: 5,
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(verifyOptions{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	// The default image is the repository's: the benchmark must not need a download.
	if _, err := os.Stat(got.image); err != nil {
		t.Errorf("default image: %v", err)
	}
	got, err = parseVerifyArgs([]string{"-runs", "2", "-repo", "/r", "-drydock", "/x/drydock", "-no-count"})
	if err != nil {
		t.Fatal(err)
	}
	want = verifyOptions{repo: "/r", work: "/r/bench/.work/verify", drydock: "/x/drydock", registry: "/usr/bin/docker-registry",
		image: "/r/testdata/images/alpine-3.16.9.tar", runs: 2, noCount: true}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(verifyOptions{})); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
	for _, bad := range [][]string{{"-runs", "0"}, {"-runs", "x"}, {"extra"}, {"-nope"}} {
		if _, err := parseVerifyArgs(bad); err == nil {
			t.Errorf("parseVerifyArgs(%q): no error", bad)
		}
	}
}

func TestVerifyArgs(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cold, verify bool
		want         string
	}{
		{"a: warm baseline", false, false, "--quiet --cache-dir C image --db DB --insecure-registry -o /dev/null REF"},
		{"b: warm, verify", false, true, "--quiet --cache-dir C image --db DB --insecure-registry -o /dev/null --verify-key PUB --require-signature REF"},
		{"c: cold baseline", true, false, "--quiet --cache-dir C image --db DB --insecure-registry -o /dev/null --no-cache REF"},
		{"d: cold, verify", true, true, "--quiet --cache-dir C image --db DB --insecure-registry -o /dev/null --no-cache --verify-key PUB --require-signature REF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(verifyArgs("C", "DB", "PUB", tc.cold, tc.verify, "REF"), " ")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestVerifyRatios(t *testing.T) {
	ms := []*measurement{
		{Name: vWarmBase, Median: 0.100, Min: 0.080, MedianCPU: 0.100},
		{Name: vWarmVerify, Median: 0.125, Min: 0.120, MedianCPU: 0.110},
		{Name: vColdBase, Median: 0.200, Min: 0.150},
		{Name: vColdVerify, Median: 0.250, Min: 0.180},
	}
	got, err := verifyRatios(ms)
	if err != nil {
		t.Fatal(err)
	}
	want := []ratio{
		{Name: "warm: verify / no verify", Value: 1.25, Note: "wall time, medians"},
		{Name: "warm: verify / no verify, fastest runs", Value: 1.5, Note: "wall time, least disturbed runs"},
		{Name: "warm: verify / no verify, CPU time", Value: 1.1, Note: "user+system CPU of drydock, medians"},
		{Name: "warm: verify / no verify, added", Value: 25, Unit: "ms", Note: "difference of the medians"},
		// No CPU figure when the baseline has none (no division by zero).
		{Name: "cold (--no-cache): verify / no verify", Value: 1.25, Note: "wall time, medians"},
		{Name: "cold (--no-cache): verify / no verify, fastest runs", Value: 1.2, Note: "wall time, least disturbed runs"},
		{Name: "cold (--no-cache): verify / no verify, added", Value: 50, Unit: "ms", Note: "difference of the medians"},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("verifyRatios (-want +got):\n%s", diff)
	}
	if _, err := verifyRatios(ms[:3]); err == nil {
		t.Error("verifyRatios without the cold verifying run: no error")
	}
	zero := []*measurement{{Name: vWarmBase}, {Name: vWarmVerify, Median: 1, Min: 1}, ms[2], ms[3]}
	if _, err := verifyRatios(zero); err == nil {
		t.Error("verifyRatios with a zero baseline: no error")
	}
}

func TestRequestKind(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/v2/", "GET /v2/"},
		{"GET", "/v2/bench/alpine/manifests/3.16.9", "GET manifest by tag"},
		{"GET", "/v2/bench/alpine/manifests/sha256:533ffc76", "GET manifest by digest"},
		{"HEAD", "/v2/bench/alpine/manifests/sha256-533ffc76", "HEAD manifest by sha256-<hex> tag (referrers fallback)"},
		{"HEAD", "/v2/bench/alpine/manifests/sha256-533ffc76.sig", "HEAD manifest by cosign tag sha256-<hex>.sig"},
		{"GET", "/v2/bench/alpine/manifests/sha256-533ffc76.att", "GET manifest by cosign tag sha256-<hex>.att"},
		{"GET", "/v2/bench/alpine/referrers/sha256:533ffc76", "GET referrers API"},
		{"GET", "/v2/bench/alpine/blobs/sha256:aa", "GET blob"},
		{"POST", "/v2/bench/alpine/blobs/uploads/", "POST blob upload"},
		{"GET", "/v2/bench/alpine/tags/list", "GET tags list"},
		{"GET", "/v2/_catalog", "GET other"},
	} {
		if got := requestKind(tc.method, tc.path); got != tc.want {
			t.Errorf("requestKind(%s %s) = %q, want %q", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestVerifyTable(t *testing.T) {
	r := &verifyResults{
		Image: "/repo/testdata/images/alpine-3.16.9.tar", Digest: "sha256:abc", Runs: 5, LoadBefore: "1.00 1.00 1.00", LoadAfter: "2.00 1.00 1.00",
		Measurements: []*measurement{{Name: vWarmBase, Median: 0.09, Min: 0.077, MedianCPU: 0.099, MedianRSS: 62}},
		Ratios:       []ratio{{Name: "warm: verify / no verify", Value: 1.25, Note: "wall time, medians"}, {Name: "warm: verify / no verify, added", Value: 23.4, Unit: "ms"}},
		Requests:     []requestCount{countOf(vWarmBase, map[string]int{"GET /v2/": 1, "GET blob": 1, "GET manifest by tag": 1})},
		Notes:        []string{"n"},
	}
	want := `alpine-3.16.9.tar (sha256:abc), 5 runs each, interleaved; load average 1.00 1.00 1.00 → 2.00 1.00 1.00

| command | median | min | CPU (median) | peak RSS (median) |
|---|---|---|---|---|
| warm cache, no verification | 0.090 s | 0.077 s | 0.099 s | 62 MB |

| ratio | value | note |
|---|---|---|
| warm: verify / no verify | 1.250 | wall time, medians |
| warm: verify / no verify, added | 23 ms |  |

| command | registry requests | by kind |
|---|---|---|
| warm cache, no verification | 3 | GET /v2/: 1; GET blob: 1; GET manifest by tag: 1 |

note: n
`
	if diff := cmp.Diff(want, verifyTable(r)); diff != "" {
		t.Errorf("verifyTable (-want +got):\n%s", diff)
	}
	// The JSON keys docs/performance.md's method names.
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"measurements":`, `"ratios":`, `"registry_requests":`, `"median_s":`, `"min_s":`, `"by_kind":`, `"loadavg_before":`} {
		if !strings.Contains(string(js), k) {
			t.Errorf("results JSON has no %s: %s", k, js)
		}
	}
}
