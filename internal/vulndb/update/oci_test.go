package update

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/drydock-scan/drydock/internal/attest"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

func newDBKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// otherTestDB builds a second, different database (npm only, another build
// time): the "working database" a failed pull must leave alone.
func otherTestDB(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "other", "drydock.db")
	if _, err := Run(t.Context(), Options{
		Mirrors: []string{testMirror}, Ecosystems: []string{"npm"}, Path: path,
		AlpineSecDB: Off, KEV: Off,
		Now: func() time.Time { return time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC) },
	}); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustRead(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustRef(t testing.TB, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// tamperingRegistry is go-containerregistry's registry with the referrers
// API whose answers to GETs of one blob have a byte flipped once tamper is
// set: a registry (or a proxy) that serves other bytes than the manifest
// names.
type tamperingRegistry struct {
	inner  http.Handler
	tamper atomic.Value // string: the blob digest to corrupt
}

func (r *tamperingRegistry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	d, _ := r.tamper.Load().(string)
	if d == "" || req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/blobs/"+d) {
		r.inner.ServeHTTP(w, req)
		return
	}
	rec := httptest.NewRecorder()
	r.inner.ServeHTTP(rec, req)
	body := rec.Body.Bytes()
	if len(body) > 100 {
		body[100] ^= 0x01
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// TestDBPushPullReferrersAPI: the round trip and every refusal through
// go-containerregistry's in-process registry, which has the referrers API,
// plus a layer corrupted in transit.
func TestDBPushPullReferrersAPI(t *testing.T) {
	reg := &tamperingRegistry{inner: registry.New(registry.WithReferrersSupport(true), registry.Logger(log.New(io.Discard, "", 0)))}
	srv := httptest.NewServer(reg)
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	testDBPushPull(t, host, false, reg)
}

// TestDBPushPullDistribution: the same on the real docker-registry 2.8,
// which has no referrers API: the signature is found through the
// sha256-<hex> tag index.
func TestDBPushPullDistribution(t *testing.T) {
	host := testimage.StartRegistry(t, testimage.RegistryBinary(t), nil)
	testDBPushPull(t, host, true, nil)
}

func testDBPushPull(t *testing.T, host string, fallback bool, tamper *tamperingRegistry) {
	ctx := t.Context()
	dir := t.TempDir()
	src, _ := buildTestDB(t, dir)
	other := otherTestDB(t, dir)
	keyA, keyB := newDBKey(t), newDBKey(t)
	srcBytes, otherBytes := mustRead(t, src), mustRead(t, other)
	if bytes.Equal(srcBytes, otherBytes) {
		t.Fatal("the two test databases are the same")
	}

	ref := mustRef(t, host+"/drydock/db:2")
	pushed, err := Push(ctx, ref, PushOptions{Path: src, Key: keyA})
	if err != nil {
		t.Fatal(err)
	}
	if pushed.Metadata.SchemaVersion != vulndb.SchemaVersion {
		t.Errorf("pushed schema %d", pushed.Metadata.SchemaVersion)
	}

	// The artifact as it is stored: artifactType, one zstd layer,
	// annotations.
	desc, err := remote.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Digest.String() != pushed.Manifest.DigestStr() {
		t.Fatalf("tag names %s, pushed %s", desc.Digest, pushed.Manifest)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	if m.ArtifactType != DBArtifactType || len(m.Layers) != 1 || m.Layers[0].MediaType != DBLayerType ||
		m.Annotations[AnnotationBuiltAt] != "2026-11-23T12:00:00Z" || m.Annotations[AnnotationSchema] != "2" ||
		!strings.Contains(m.Annotations[AnnotationSources], "osv/npm") {
		t.Errorf("manifest: %s", desc.Manifest)
	}
	if m.Layers[0].Size >= int64(len(srcBytes)) {
		t.Errorf("layer of %d bytes for a %d byte database: not compressed", m.Layers[0].Size, len(srcBytes))
	}
	fallbackTag := ref.Context().Tag(strings.Replace(desc.Digest.String(), ":", "-", 1))
	_, err = remote.Head(fallbackTag)
	if fallback && err != nil {
		t.Errorf("no referrers tag %s on a registry without the API: %v", fallbackTag, err)
	}
	if !fallback && err == nil {
		t.Errorf("referrers tag %s written on a registry with the API", fallbackTag)
	}

	// The signature, for the tampering cases below.
	found, _, err := attest.Find(ctx, pushed.Manifest)
	if err != nil || len(found) != 1 {
		t.Fatalf("signature referrers: %v, %d", err, len(found))
	}
	goodBundle := found[0].Bundle

	// working gives a directory whose database is a copy of other.
	working := func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), "db", "drydock.db")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, otherBytes, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("round trip", func(t *testing.T) {
		p := working(t)
		got, err := Pull(ctx, ref, PullOptions{Path: p, Key: &keyA.PublicKey})
		if err != nil {
			t.Fatal(err)
		}
		if got.UpToDate || got.Manifest != pushed.Manifest {
			t.Errorf("pulled %+v", got)
		}
		if !bytes.Equal(mustRead(t, p), srcBytes) {
			t.Fatal("the pulled database is not byte-identical to the pushed one")
		}
		db, err := vulndb.Open(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		meta, err := db.Meta(ctx)
		db.Close()
		if err != nil || !meta.BuiltAt.Equal(pushed.Metadata.BuiltAt) {
			t.Errorf("pulled database built at %v (%v), pushed %v", meta.BuiltAt, err, pushed.Metadata.BuiltAt)
		}
		assertOnlyDB(t, p)
		again, err := Pull(ctx, pushed.Manifest, PullOptions{Path: p, Key: &keyA.PublicKey})
		if err != nil || !again.UpToDate {
			t.Errorf("second pull by digest: %+v, %v (want up to date)", again, err)
		}
	})

	t.Run("no database yet", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "cache", "db", "drydock.db")
		if _, err := Pull(ctx, ref, PullOptions{Path: p, Key: &keyA.PublicKey}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(mustRead(t, p), srcBytes) {
			t.Fatal("the pulled database is not byte-identical to the pushed one")
		}
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o644 {
			t.Errorf("pulled file mode %v (%v), want 0644 as db update writes", st.Mode(), err)
		}
	})

	// Artifacts the refusals are tried on.
	repo := ref.Context()
	putManifest := func(t *testing.T, tag string, mm v1.Manifest, bundle []byte) name.Reference {
		raw, err := json.Marshal(mm)
		if err != nil {
			t.Fatal(err)
		}
		tr := repo.Tag(tag)
		if err := remote.Put(tr, rawManifest{raw: raw}); err != nil {
			t.Fatal(err)
		}
		if bundle != nil {
			h, _, _ := v1.SHA256(bytes.NewReader(raw))
			d := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h, Size: int64(len(raw))}
			if _, err := attest.Attach(ctx, repo.Digest(h.String()), d, bundle, DBPredicateType, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		return tr
	}

	type pullCase struct {
		name string
		ref  func(t *testing.T) name.Reference
		key  *ecdsa.PublicKey
		want string
		// signed: the artifact is signed by key; the refusal is about
		// its content, not ErrUnsigned.
		signed bool
	}
	cases := []pullCase{
		{name: "another key", ref: func(*testing.T) name.Reference { return ref }, key: &keyB.PublicKey,
			want: "none of the 1 signature(s)"},
		{name: "signed by another key", key: &keyA.PublicKey, want: "none of the 1 signature(s)",
			ref: func(t *testing.T) name.Reference {
				r := repo.Tag("by-b")
				if _, err := Push(ctx, r, PushOptions{Path: other, Key: keyB}); err != nil {
					t.Fatal(err)
				}
				return r
			}},
		{name: "unsigned", key: &keyA.PublicKey, want: "has no signature",
			ref: func(t *testing.T) name.Reference {
				// The same artifact copied to another repository without
				// its signature.
				dst := mustRef(t, host+"/mirror/db:2")
				img, err := remote.Image(ref)
				if err != nil {
					t.Fatal(err)
				}
				if err := remote.Write(dst, img); err != nil {
					t.Fatal(err)
				}
				return dst
			}},
		{name: "annotation changed, signature copied", key: &keyA.PublicKey, want: "none of the 1 signature(s)",
			ref: func(t *testing.T) name.Reference {
				mm := *m
				mm.Annotations = map[string]string{}
				for k, v := range m.Annotations {
					mm.Annotations[k] = v
				}
				mm.Annotations[AnnotationBuiltAt] = "2027-01-01T00:00:00Z"
				return putManifest(t, "annotation", mm, goodBundle)
			}},
		{name: "layer replaced, signature copied", key: &keyA.PublicKey, want: "none of the 1 signature(s)",
			ref: func(t *testing.T) name.Reference {
				enc, err := zstd.NewWriter(nil)
				if err != nil {
					t.Fatal(err)
				}
				l := static.NewLayer(enc.EncodeAll(otherBytes, nil), DBLayerType)
				if err := remote.WriteLayer(repo, l); err != nil {
					t.Fatal(err)
				}
				d, _ := l.Digest()
				n, _ := l.Size()
				mm := *m
				mm.Layers = []v1.Descriptor{{MediaType: DBLayerType, Digest: d, Size: n}}
				return putManifest(t, "layer", mm, goodBundle)
			}},
		{name: "another schema, signed", key: &keyA.PublicKey, want: `schema version "99", this drydock reads`, signed: true,
			ref: func(t *testing.T) name.Reference {
				mm := *m
				mm.Annotations = map[string]string{}
				for k, v := range m.Annotations {
					mm.Annotations[k] = v
				}
				mm.Annotations[AnnotationSchema] = "99"
				raw, err := json.Marshal(mm)
				if err != nil {
					t.Fatal(err)
				}
				h, _, _ := v1.SHA256(bytes.NewReader(raw))
				st, err := dbStatement(repo.Name(), h, pushed.Metadata, &dbBlob{dbDigest: v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0", 64)}})
				if err != nil {
					t.Fatal(err)
				}
				bundle, err := attest.Sign(ctx, st, keyA)
				if err != nil {
					t.Fatal(err)
				}
				return putManifest(t, "schema99", mm, bundle)
			}},
	}
	if tamper != nil {
		cases = append(cases, pullCase{name: "layer corrupted in transit", key: &keyA.PublicKey, want: "has digest", signed: true,
			ref: func(t *testing.T) name.Reference {
				tamper.tamper.Store(m.Layers[0].Digest.String())
				t.Cleanup(func() { tamper.tamper.Store("") })
				return ref
			}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := working(t)
			_, err := Pull(ctx, c.ref(t), PullOptions{Path: p, Key: c.key})
			if err == nil {
				t.Fatal("pulled")
			}
			t.Logf("refused: %v", err)
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
			if errors.Is(err, ErrUnsigned) == c.signed {
				t.Errorf("error %v: ErrUnsigned %t, want %t", err, errors.Is(err, ErrUnsigned), !c.signed)
			}
			if !bytes.Equal(mustRead(t, p), otherBytes) {
				t.Error("the working database changed")
			}
			assertOnlyDB(t, p)
		})
	}
}

// assertOnlyDB checks that nothing but the database and its lock file is
// left beside it (no temporary files).
func assertOnlyDB(t *testing.T, p string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(p))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(p) && e.Name() != filepath.Base(p)+".lock" {
			t.Errorf("left beside the database: %s", e.Name())
		}
	}
}
