package server_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/secretbox"
	"github.com/drydock-scan/drydock/internal/server"
	"github.com/drydock-scan/drydock/internal/server/watch"
	"github.com/drydock-scan/drydock/internal/source"
	"github.com/drydock-scan/drydock/internal/store"
	"github.com/drydock-scan/drydock/internal/store/storetest"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vulndb/vulndbtest"
)

// retrySoon retries failed scans at once.
type retrySoon struct{}

func (retrySoon) NextRetry(*rivertype.JobRow) time.Time { return time.Now().Add(50 * time.Millisecond) }

// authRegistry is a real docker-registry with TLS, basic auth and deletes.
type authRegistry struct {
	host string
	tr   *http.Transport
	auth authn.Authenticator
}

func startAuthRegistry(t *testing.T) *authRegistry {
	t.Helper()
	ca := testimage.MakeCA(t, t.TempDir())
	r := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{CA: &ca, Delete: true})
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: ca.Pool}
	return &authRegistry{host: r.Host, tr: tr, auth: &authn.Basic{Username: testimage.RegistryUser, Password: testimage.RegistryPassword}}
}

func (r *authRegistry) push(t *testing.T, repoTag string, img v1.Image) string {
	t.Helper()
	tag, err := name.NewTag(r.host + "/" + repoTag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img, remote.WithTransport(r.tr), remote.WithAuth(r.auth)); err != nil {
		t.Fatalf("pushing %s: %v", repoTag, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d.String()
}

func alpine(t *testing.T) v1.Image {
	t.Helper()
	img, err := tarball.ImageFromPath(alpineImage, nil)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// startWatched starts a server with workers and the registry watch wired in
// as the command wires it, on a database of its own.
func startWatched(t *testing.T, box *secretbox.Box, tr http.RoundTripper) (*store.Store, *server.Server) {
	t.Helper()
	st, err := store.Open(t.Context(), storetest.NewDatabase(t), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	if err := server.Migrate(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	w, err := watch.New(watch.Options{Store: st, Secrets: box, Transport: tr, Tick: time.Second, MinInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Options{Store: st, DB: vulndbtest.Alpine316(t), Workers: 2, RetryPolicy: retrySoon{}, ScanTimeout: time.Minute,
		Scan: scan.Config{Source: source.Options{Transport: tr}}, Secrets: box,
		AddWorkers: []func(*river.Workers){w.AddWorkers}, Periodic: w.Periodic(), Queues: w.Queues(), Routes: w.Routes()})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Stop(ctx); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	return st, srv
}

// imageTags returns the live tags of the image of repository and digest
// ("" and false until it is stored).
func imageTags(t *testing.T, st *store.Store, repository, digest string) ([]string, bool) {
	t.Helper()
	var tags []string
	err := st.Pool().QueryRow(t.Context(), `
		SELECT COALESCE((SELECT array_agg(t.tag ORDER BY t.tag) FROM image_tags t WHERE t.image_id = i.id AND t.removed_at IS NULL), '{}')
		FROM images i JOIN inventories v ON v.image_id = i.id WHERE i.repository = $1 AND i.manifest_digest = $2`, repository, digest).Scan(&tags)
	if err != nil {
		return nil, false
	}
	return tags, true
}

// waitTags waits until the image is stored with exactly the live tags want.
func waitTags(t *testing.T, st *store.Store, repository, digest string, want []string) time.Time {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		got, ok := imageTags(t, st, repository, digest)
		if ok && slices.Equal(got, want) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			var states []string
			rows, _ := st.Pool().Query(t.Context(), "SELECT kind || ' ' || state || ' ' || errors::text FROM river_job ORDER BY id")
			for rows.Next() {
				var s string
				_ = rows.Scan(&s)
				states = append(states, s)
			}
			rows.Close()
			regs, _ := st.Registries(t.Context())
			t.Fatalf("image %s@%s: tags %v (stored %v), want %v; jobs %v; registries %+v", repository, digest, got, ok, want, states, regs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestRegistryWatch (issue 14, must show): the server with the watch wired
// in, a registry behind basic auth registered with sealed credentials: the
// tags present are scanned (the workers pull with the sealed credentials),
// a tag pushed after the watch started is scanned at the next poll, and a
// deleted tag is marked removed on the stored image. No job argument holds
// the password in clear.
func TestRegistryWatch(t *testing.T) {
	reg := startAuthRegistry(t)
	box, err := secretbox.New(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, _ := startWatched(t, box, reg.tr)
	base := alpine(t)
	first := reg.push(t, "team/alpine:3.16", base)
	reg.push(t, "team/alpine:latest", base)
	sealed, err := queue.SealCredentials(box, queue.Credentials{Username: testimage.RegistryUser, Password: testimage.RegistryPassword})
	if err != nil {
		t.Fatal(err)
	}
	const interval = 3 * time.Second
	r, err := st.AddRegistry(t.Context(), store.Registry{Name: "team", Host: reg.host, Repositories: []string{"team/*"}, Credentials: sealed, Interval: interval})
	if err != nil {
		t.Fatal(err)
	}
	repo := reg.host + "/team/alpine"
	waitTags(t, st, repo, first, []string{"3.16", "latest"})

	var findings int
	if err := st.Pool().QueryRow(t.Context(), "SELECT count(*) FROM findings f JOIN images i ON i.id = f.image_id WHERE i.manifest_digest = $1", first).Scan(&findings); err != nil {
		t.Fatal(err)
	}
	if findings == 0 {
		t.Error("the watched image was stored without findings (alpine 3.16.9 has 2 in the test database)")
	}

	layer, err := random.Layer(512, "application/vnd.oci.image.layer.v1.tar+gzip")
	if err != nil {
		t.Fatal(err)
	}
	next, err := mutate.AppendLayers(base, layer)
	if err != nil {
		t.Fatal(err)
	}
	pushed := time.Now()
	second := reg.push(t, "team/alpine:edge", next)
	scanned := waitTags(t, st, repo, second, []string{"edge"})
	t.Logf("tag pushed → image scanned and stored: %v (interval %v, tick 1s)", scanned.Sub(pushed).Round(time.Millisecond), interval)

	d, err := name.NewDigest(repo + "@" + first)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(d, remote.WithTransport(reg.tr), remote.WithAuth(reg.auth)); err != nil {
		t.Fatal(err)
	}
	waitTags(t, st, repo, first, []string{})
	tags, err := st.WatchedTags(t.Context(), r.ID, "team/alpine")
	if err != nil {
		t.Fatal(err)
	}
	type state struct {
		Tag     string
		Removed bool
	}
	var got []state
	for _, tg := range tags {
		got = append(got, state{tg.Tag, tg.RemovedAt != nil})
	}
	if diff := cmp.Diff([]state{{"3.16", true}, {"edge", false}, {"latest", true}}, got); diff != "" {
		t.Errorf("watched tags (-want +got):\n%s", diff)
	}

	var clear int
	if err := st.Pool().QueryRow(t.Context(), "SELECT count(*) FROM river_job WHERE args::text LIKE '%horse%'").Scan(&clear); err != nil {
		t.Fatal(err)
	}
	if clear != 0 {
		t.Errorf("%d jobs hold the registry password in clear", clear)
	}
}

// TestScanCredentials: a scan job pulls with the credentials sealed in its
// arguments; without them the registry refuses it (retried, then parked);
// credentials the server cannot open (no key, another key) cancel the job at
// once with the reason.
func TestScanCredentials(t *testing.T) {
	reg := startAuthRegistry(t)
	digest := reg.push(t, "team/alpine:3.16", alpine(t))
	box, err := secretbox.New(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	other, err := secretbox.New(bytes.Repeat([]byte{4}, 32))
	if err != nil {
		t.Fatal(err)
	}
	seal := func(b *secretbox.Box) string {
		s, err := queue.SealCredentials(b, queue.Credentials{Username: testimage.RegistryUser, Password: testimage.RegistryPassword})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	_, withKeySrv := startWatched(t, box, reg.tr)
	_, noKeySrv := startWatched(t, nil, reg.tr)
	ref := reg.host + "/team/alpine@" + digest
	for _, tc := range []struct {
		name        string
		srv         *server.Server
		credentials string
		state       rivertype.JobState
		err         string
	}{
		{"sealed credentials", withKeySrv, seal(box), rivertype.JobStateCompleted, ""},
		{"no credentials", withKeySrv, "", rivertype.JobStateDiscarded, "UNAUTHORIZED"},
		{"server without a key", noKeySrv, seal(box), rivertype.JobStateCancelled, "no secret key is configured"},
		{"sealed with another key", withKeySrv, seal(other), rivertype.JobStateCancelled, "wrong key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := tc.srv.Enqueue(t.Context(), server.ScanArgs{Reference: ref, Tags: []string{tc.name}, Credentials: tc.credentials})
			if err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Minute)
			var row *rivertype.JobRow
			for {
				row, err = tc.srv.River().JobGet(t.Context(), id)
				if err != nil {
					t.Fatal(err)
				}
				if row.FinalizedAt != nil {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("job %d still %s", id, row.State)
				}
				time.Sleep(100 * time.Millisecond)
			}
			var errs []string
			for _, e := range row.Errors {
				errs = append(errs, e.Error)
			}
			if row.State != tc.state || (tc.err != "" && (len(errs) == 0 || !strings.Contains(errs[len(errs)-1], tc.err))) {
				t.Errorf("job %s, errors %q; want %s with an error containing %q", row.State, errs, tc.state, tc.err)
			}
			if tc.state == rivertype.JobStateCancelled && row.Attempt != 1 {
				t.Errorf("%d attempts; credentials that cannot be opened are not retried", row.Attempt)
			}
		})
	}
}
