package dashboard

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
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
// Each reports the browser's own navigation-to-load time of the page
// (load-ms), the server's time to answer it (server-ms), and the baseline
// measured in the same run: the browser loading the same HTML served as a
// static file (static-load-ms) — what rendering and layout cost whatever
// the server does.

type benchServer struct {
	*httptest.Server
	snapshot atomic.Pointer[[]byte] // served at /baseline
}

func benchFleet(b *testing.B, images, perImage int) (*benchServer, []int64) {
	b.Helper()
	clock := storetest.NewClock(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC))
	st := storetest.Open(b, store.Options{Now: clock.Now})
	ids := storetest.Fleet(b, st, storetest.FleetSpec{Images: images, Repositories: max(1, images/4), FindingsPerImage: perImage,
		Days: 30, End: clock.Now(), Clock: clock, Seed: 7})
	d, err := New(Options{Store: st, Now: clock.Now, ToolVersion: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	bs := &benchServer{}
	mux := http.NewServeMux()
	for _, r := range d.Routes() {
		mux.Handle(r.Pattern, r.Handler)
	}
	mux.HandleFunc("GET /baseline", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(*bs.snapshot.Load())
	})
	bs.Server = httptest.NewServer(mux)
	b.Cleanup(bs.Close)
	return bs, ids
}

func benchPage(b *testing.B, srv *benchServer, path string) {
	b.Helper()
	fetch := func() []byte {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %v", path, resp.StatusCode, err)
		}
		return body
	}
	page := fetch()
	srv.snapshot.Store(&page)
	br := browsertest.New(b, srv.URL)
	br.Navigate(path) // warm: the first load also fetches the stylesheet
	br.Navigate("/baseline")
	var browser, static, server time.Duration
	for b.Loop() {
		browser += br.Navigate(path)
		static += br.Navigate("/baseline")
		start := time.Now()
		fetch()
		server += time.Since(start)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(browser), "load-ms")
	b.ReportMetric(ms(static), "static-load-ms")
	b.ReportMetric(ms(server), "server-ms")
	b.ReportMetric(float64(len(page))/1024, "page-KiB")
}

// BenchmarkOverview200Images20kFindings: the fleet overview.
func BenchmarkOverview200Images20kFindings(b *testing.B) {
	srv, _ := benchFleet(b, 200, 100)
	benchPage(b, srv, "/ui/")
}

// BenchmarkImagePage10kFindings: one image with 10,000 findings (9,000
// open after its second scan), sorted by package (the table pages at 100
// rows).
func BenchmarkImagePage10kFindings(b *testing.B) {
	srv, ids := benchFleet(b, 1, 10000)
	benchPage(b, srv, fmt.Sprintf("/ui/images/%d?sort=package", ids[0]))
}
