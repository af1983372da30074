package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPercentile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   float64
	}{
		{"none", nil, 99, 0},
		{"one", ms(7), 99, 7},
		{"p50 of 1..100 is the 50th", ms(hundred...), 50, 50},
		{"p99 of 1..100 is the 99th", ms(hundred...), 99, 99},
		{"p100 is the max", ms(hundred...), 100, 100},
		{"p0 is the min", ms(hundred...), 0, 1},
		{"p99 of 10 is the largest (nearest rank 10)", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10},
		{"p50 of 4 is the 2nd", ms(10, 20, 30, 40), 50, 20},
		{"p90 of 4 is the 4th", ms(10, 20, 30, 40), 90, 40},
		{"fractions of a millisecond", []time.Duration{1500 * time.Microsecond}, 50, 1.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, percentile(tc.sorted, tc.p)); diff != "" {
				t.Errorf("percentile(%v, %v) (-want +got):\n%s", tc.sorted, tc.p, diff)
			}
		})
	}
}

func TestPerMin(t *testing.T) {
	for _, tc := range []struct {
		images int
		d      time.Duration
		want   float64
	}{
		{40, time.Minute, 40},
		{40, 30 * time.Second, 80},
		{3, 0, 0},
	} {
		if diff := cmp.Diff(tc.want, perMin(tc.images, tc.d)); diff != "" {
			t.Errorf("perMin(%d, %s) (-want +got):\n%s", tc.images, tc.d, diff)
		}
	}
}

func TestServerTable(t *testing.T) {
	r := &serverResults{
		Images: 4, Layers: 9, Compressed: 40e6, LoadBefore: "1.00 0.50 0.25", LoadAfter: "2.00 1.00 0.50",
		Baseline: []baselineRun{
			{Name: "cli cold", Seconds: 20, CPU: 4, PerMin: 12},
			{Name: "cli warm", Seconds: 4, CPU: 1, PerMin: 60},
		},
		Fleet: []fleetRun{{
			Workers: 2, Seconds: 3, PerMin: 80, WorkerCPU: 1.5, DBBytes: 4e6, EmptyBytes: 2e6, Stored: 4,
			Tables:  map[string]int64{"images": 4000, "inventories": 8000, "findings": 16000, "layer_results": 2000, "image_packages": 400},
			Latency: []latencyRun{{Clients: 16, Requests: 1000, PerSec: 100, P50: 10, P90: 20, P99: 30.25, Max: 40, BytesAvg: 133000, ServerCPU: 7.5}},
		}},
	}
	want := `4 images, 9 distinct layers (40 MB compressed); load average 1.00 0.50 0.25 → 2.00 1.00 0.50

| run | wall | images/min | CPU | vs cli cold |
|---|---|---|---|---|
| cli cold | 20.0 s | 12.0 | 4.0 s | 1.00 |
| cli warm | 4.0 s | 60.0 | 1.0 s | 5.00 |
| server, 2 worker(s) | 3.0 s | 80.0 | 1.5 s (worker) | 6.67 |

| workers | database per image | images | inventories | findings | layer_results | image_packages (per image) |
|---|---|---|---|---|---|---|
| 2 | 1000.0 KB (500.0 KB over the empty schema) | 1.0 KB | 2.0 KB | 4.0 KB | 0.5 KB | 0.1 KB |

| store of | clients | requests | req/s | p50 | p90 | p99 | max | report size | server CPU per request |
|---|---|---|---|---|---|---|---|---|---|
| 2 workers | 16 | 1000 | 100 | 10.0 ms | 20.0 ms | 30.2 ms | 40.0 ms | 133.0 KB | 7.5 ms |
`
	if diff := cmp.Diff(want, serverTable(r)); diff != "" {
		t.Errorf("serverTable (-want +got):\n%s", diff)
	}

	// Without a cold baseline there is no ratio, and no stored image means
	// no per-image size (not a division by zero).
	r.Baseline = nil
	r.Fleet[0].Stored = 0
	got := serverTable(r)
	for _, s := range []string{"| server, 2 worker(s) | 3.0 s | 80.0 | 1.5 s (worker) | – |", "| 2 | – (– over the empty schema) | – | – | – | – | – |"} {
		if !strings.Contains(got, s) {
			t.Errorf("serverTable without baseline or images lacks %q:\n%s", s, got)
		}
	}
}

func TestStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		err        bool
	}{
		{"drydock", "4242 (drydock) S 1 4242 4242 0 -1 4194560 12345 0 0 0 250 37 0 0 20 0 9 0 100 0 0", 2870 * time.Millisecond, false},
		{"a name with spaces and parentheses", "7 (a b) c) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0", 70 * time.Millisecond, false},
		{"truncated", "7 (x) R 1 7 7", 0, true},
		{"no name", "garbage", 0, true},
		{"not a number", "7 (x) R 1 7 7 0 -1 0 0 0 0 0 u s 0 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := statCPU(tc.stat)
			if (err != nil) != tc.err {
				t.Fatalf("statCPU(%q) error %v, want error %v", tc.stat, err, tc.err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("statCPU(%q) (-want +got):\n%s", tc.stat, diff)
			}
		})
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Errorf("procCPU of this process: %v", err)
	}
}

func TestParseInts(t *testing.T) {
	got, err := parseInts("1, 2,4")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 2, 4}, got); diff != "" {
		t.Errorf("parseInts (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "1,,2", "0", "-1", "x"} {
		if _, err := parseInts(bad); err == nil {
			t.Errorf("parseInts(%q): no error", bad)
		}
	}
}

func TestDSNFor(t *testing.T) {
	got, err := dsnFor("postgres://postgres@127.0.0.1:5432/postgres", "drybench_1_w2")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff("postgres://postgres@127.0.0.1:5432/drybench_1_w2", got); diff != "" {
		t.Errorf("dsnFor (-want +got):\n%s", diff)
	}
	if _, err := dsnFor("postgres://", "x"); err == nil {
		t.Error("dsnFor without a database name: no error")
	}
}
