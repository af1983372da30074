package dashboard

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/browsertest"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// The dashboard's speed targets are benchmarks, never timed tests
// (docs/performance.md "Dashboard"): with 200 images and 20,000 open
// findings in the store the overview must render in under a second in the
// browser, and an image page with 10,000 findings must stay usable.
//
//	go test -run '^$' -bench . -benchtime 10x ./internal/server/dashboard/
//
// Each reports the browser's own navigation-to-load time (load-ms) and,
// apart, the server's time to answer the page (server-ms).

func benchFleet(b *testing.B, images, perImage int) (*httptest.Server, []int64) {
	b.Helper()
	clock := storetest.NewClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	st := storetest.Open(b, store.Options{Now: clock.Now})
	ids := storetest.Fleet(b, st, storetest.FleetSpec{Images: images, Repositories: max(1, images/4), FindingsPerImage: perImage,
		Days: 30, End: clock.Now(), Clock: clock, Seed: 7})
	d, err := New(Options{Store: st, Now: clock.Now, ToolVersion: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return serve(b, d), ids
}

func benchPage(b *testing.B, srv *httptest.Server, path string) {
	b.Helper()
	br := browsertest.New(b, srv.URL)
	br.Navigate(path) // warm: the first load also fetches the stylesheet
	var browser, server time.Duration
	b.ResetTimer()
	for b.Loop() {
		browser += br.Navigate(path)
		start := time.Now()
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, resp.StatusCode)
		}
		server += time.Since(start)
	}
	b.ReportMetric(float64(browser.Milliseconds())/float64(b.N), "load-ms")
	b.ReportMetric(float64(server.Milliseconds())/float64(b.N), "server-ms")
}

// BenchmarkOverview200Images20kFindings: the fleet overview.
func BenchmarkOverview200Images20kFindings(b *testing.B) {
	srv, _ := benchFleet(b, 200, 100)
	benchPage(b, srv, "/ui/")
}

// BenchmarkImagePage10kFindings: one image with 10,000 open findings,
// sorted by package and filtered to HIGH (the table pages at 100 rows).
func BenchmarkImagePage10kFindings(b *testing.B) {
	srv, ids := benchFleet(b, 1, 10000)
	benchPage(b, srv, fmt.Sprintf("/ui/images/%d?sort=package", ids[0]))
}
