package watch_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/server/watch"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/testimage"
)

// BenchmarkPollUnchanged: the steady-state cost of polling a registry
// (real docker-registry with TLS and basic auth) of 10 repositories × 50
// tags where nothing changed: catalog, 10 tag lists, 500 HEADs, the state
// written, nothing queued. Reports the tags resolved per second.
func BenchmarkPollUnchanged(b *testing.B) {
	st := openStore(b)
	r := startRegistry(b)
	box := newBox(b)
	sealed, err := queue.SealCredentials(box, queue.Credentials{Username: testimage.RegistryUser, Password: testimage.RegistryPassword})
	if err != nil {
		b.Fatal(err)
	}
	const repos, tags = 10, 50
	for i := range repos {
		digest := r.push(b, fmt.Sprintf("bench/r%02d:t000", i), fmt.Sprint(i))
		for j := 1; j < tags; j++ {
			r.tagAs(b, fmt.Sprintf("bench/r%02d:t%03d", i, j), digest)
		}
	}
	w, err := watch.New(watch.Options{Store: st, Secrets: box, Transport: r.tr})
	if err != nil {
		b.Fatal(err)
	}
	reg, err := st.AddRegistry(b.Context(), store.Registry{Name: "bench", Host: r.Host, Credentials: sealed, Interval: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	if res, err := w.Poll(b.Context(), reg.ID); err != nil || res.Tags != repos*tags {
		b.Fatalf("first poll: %+v, %v", res, err)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := w.Poll(b.Context(), reg.ID)
		if err != nil || res.Queued != 0 || res.Tags != repos*tags {
			b.Fatalf("poll: %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.N*repos*tags)/b.Elapsed().Seconds(), "tags/s")
}
