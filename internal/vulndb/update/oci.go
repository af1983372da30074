package update

// Moving a built database through an OCI registry: Push uploads the file as
// the one layer of a signed OCI artifact, Pull downloads it and uses it only
// when every check has passed. The signature is internal/attest's: a DSSE
// envelope over an in-toto Statement whose subject is the artifact's
// manifest digest, in a Sigstore bundle attached as an OCI 1.1 referrer (or
// the sha256-<hex> tag index on registries without the referrers API).

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/zstd"

	"github.com/drydock-scan/drydock/internal/attest"
	"github.com/drydock-scan/drydock/internal/vulndb"
)

// Media types, annotations and the predicate type of the database artifact.
const (
	DBArtifactType  = "application/vnd.drydock.db.v1"
	DBLayerType     = "application/vnd.drydock.db.layer.v1.bbolt+zstd"
	DBPredicateType = "https://github.com/drydock-scan/drydock/blob/main/docs/database.md#db-v1"

	AnnotationSchema  = "dev.drydock.db.schema-version"
	AnnotationBuiltAt = "dev.drydock.db.built-at"
	AnnotationSources = "dev.drydock.db.sources"
	// AnnotationDBDigest and AnnotationDBSize describe the database file
	// itself (the layer decompressed): the manifest, and so the signature,
	// binds the bytes that are written, not only the compressed blob.
	AnnotationDBDigest = "dev.drydock.db.digest"
	AnnotationDBSize   = "dev.drydock.db.size"
)

// PushOptions are Push's inputs.
type PushOptions struct {
	// Path is the database file to push.
	Path string
	// Key signs the artifact's manifest digest.
	Key *ecdsa.PrivateKey
	// Remote are go-containerregistry options (auth, transport).
	Remote []remote.Option
	// LockWait: as Options.LockWait (the push holds the update lock while it
	// reads the file, so that an update cannot replace it half-read).
	LockWait time.Duration
	Logger   *slog.Logger
}

// Pushed is what Push did.
type Pushed struct {
	Manifest name.Digest // the artifact, by digest
	Referrer v1.Hash     // the signature's referrer manifest
	Metadata vulndb.Metadata
}

// Push checks the database at opt.Path reads whole, uploads it zstd-compressed
// as the one layer of an OCI artifact (artifactType DBArtifactType, the empty
// config, annotations with its schema version, build time and sources),
// signs the manifest digest with opt.Key, attaches the signature as a
// referrer, and only then points the tag at the manifest: a puller never
// sees the tag on an unsigned artifact.
func Push(ctx context.Context, ref name.Reference, opt PushOptions) (Pushed, error) {
	if opt.Key == nil {
		return Pushed{}, errors.New("pushing the database: no signing key")
	}
	if _, ok := ref.(name.Digest); ok {
		// The digest is the manifest's, made here: it cannot be chosen.
		return Pushed{}, fmt.Errorf("pushing the database: %s is a digest; push to a tag", ref)
	}
	opts := append(slices.Clip(opt.Remote), remote.WithContext(ctx))
	unlock, err := lockDB(ctx, opt.Path, opt.LockWait, opt.Logger)
	if err != nil {
		return Pushed{}, err
	}
	meta, blob, err := compressDB(ctx, opt.Path)
	unlock()
	if err != nil {
		return Pushed{}, err
	}
	defer os.Remove(blob.path)

	repo := ref.Context()
	config := static.NewLayer([]byte("{}"), types.OCIEmptyJSON)
	layer, err := partial.CompressedToLayer(blob)
	if err != nil {
		return Pushed{}, fmt.Errorf("pushing the database: %w", err)
	}
	for what, l := range map[string]v1.Layer{"empty config": config, "database": layer} {
		if err := remote.WriteLayer(repo, l, opts...); err != nil {
			return Pushed{}, fmt.Errorf("pushing the %s blob to %s: %w", what, repo, err)
		}
	}
	configDigest, err := config.Digest()
	if err != nil {
		return Pushed{}, err
	}
	sources := make([]string, len(meta.Sources))
	for i, s := range meta.Sources {
		sources[i] = s.Name
	}
	built := meta.BuiltAt.UTC().Format(time.RFC3339)
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  DBArtifactType,
		Config:        v1.Descriptor{MediaType: types.OCIEmptyJSON, Digest: configDigest, Size: 2},
		Layers: []v1.Descriptor{{
			MediaType: DBLayerType, Digest: blob.digest, Size: blob.size,
			Annotations: map[string]string{attest.AnnotationTitle: filepath.Base(opt.Path) + ".zst"},
		}},
		Annotations: map[string]string{
			attest.AnnotationCreated: built,
			AnnotationBuiltAt:        built,
			AnnotationSchema:         strconv.Itoa(meta.SchemaVersion),
			AnnotationSources:        strings.Join(sources, ","),
			AnnotationDBDigest:       blob.dbDigest.String(),
			AnnotationDBSize:         strconv.FormatInt(blob.dbSize, 10),
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return Pushed{}, fmt.Errorf("encoding the database manifest: %w", err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return Pushed{}, err
	}
	subject := repo.Digest(h.String())
	if err := remote.Put(subject, rawManifest{raw: raw}, opts...); err != nil {
		return Pushed{}, fmt.Errorf("pushing the database manifest to %s: %w", repo, err)
	}
	statement, err := dbStatement(repo.Name(), h, meta, blob)
	if err != nil {
		return Pushed{}, err
	}
	bundle, err := attest.Sign(ctx, statement, opt.Key)
	if err != nil {
		return Pushed{}, err
	}
	desc := v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: h, Size: int64(len(raw))}
	refHash, err := attest.Attach(ctx, subject, desc, bundle, DBPredicateType, time.Now(), opt.Remote...)
	if err != nil {
		return Pushed{}, fmt.Errorf("attaching the database's signature: %w", err)
	}
	if tag, ok := ref.(name.Tag); ok {
		if err := remote.Put(tag, rawManifest{raw: raw}, opts...); err != nil {
			return Pushed{}, fmt.Errorf("tagging the database %s: %w", tag, err)
		}
	}
	return Pushed{Manifest: subject, Referrer: refHash, Metadata: meta}, nil
}

// dbStatement is the signed in-toto Statement: its subject is the
// artifact's manifest (which names the layer and the database's own digest),
// its predicate repeats what the annotations say for a reader of the bundle.
func dbStatement(repo string, manifest v1.Hash, meta vulndb.Metadata, blob *dbBlob) ([]byte, error) {
	sources := make([]string, len(meta.Sources))
	for i, s := range meta.Sources {
		sources[i] = s.Name
	}
	b, err := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []any{map[string]any{"name": repo, "digest": map[string]string{manifest.Algorithm: manifest.Hex}}},
		"predicateType": DBPredicateType,
		"predicate": map[string]any{
			"schema_version": meta.SchemaVersion,
			"built_at":       meta.BuiltAt.UTC().Format(time.RFC3339),
			"sources":        sources,
			"database":       map[string]any{"digest": blob.dbDigest.String(), "size": blob.dbSize},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("encoding the database statement: %w", err)
	}
	return b, nil
}

// dbBlob is the compressed database in a temporary file: a
// partial.CompressedLayer that streams from the file.
type dbBlob struct {
	path     string
	digest   v1.Hash
	size     int64
	dbDigest v1.Hash
	dbSize   int64
}

func (b *dbBlob) Digest() (v1.Hash, error)            { return b.digest, nil }
func (b *dbBlob) Size() (int64, error)                { return b.size, nil }
func (b *dbBlob) MediaType() (types.MediaType, error) { return DBLayerType, nil }
func (b *dbBlob) Compressed() (io.ReadCloser, error)  { return os.Open(b.path) }

// compressDB reads the database whole (vulndb.Status: a damaged file is not
// pushed), then compresses it to a temporary file beside it, hashing both
// sides.
func compressDB(ctx context.Context, path string) (vulndb.Metadata, *dbBlob, error) {
	meta, err := vulndb.Status(ctx, path)
	if err != nil {
		return meta, nil, fmt.Errorf("pushing the database: %w", err)
	}
	in, err := os.Open(path)
	if err != nil {
		return meta, nil, fmt.Errorf("pushing the database: %w", err)
	}
	defer in.Close()
	out, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".push-*")
	if err != nil {
		return meta, nil, fmt.Errorf("pushing the database: %w", err)
	}
	blob := &dbBlob{path: out.Name()}
	fail := func(err error) (vulndb.Metadata, *dbBlob, error) {
		out.Close()
		os.Remove(blob.path)
		return meta, nil, fmt.Errorf("compressing the database %s: %w", path, err)
	}
	zsum, dbsum := sha256.New(), sha256.New()
	zcount := &countWriter{}
	zw, err := zstd.NewWriter(io.MultiWriter(out, zsum, zcount), zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return fail(err)
	}
	n, err := io.Copy(zw, io.TeeReader(readerCtx{ctx, in}, dbsum))
	if err != nil {
		zw.Close()
		return fail(err)
	}
	if err := zw.Close(); err != nil {
		return fail(err)
	}
	if err := out.Close(); err != nil {
		return fail(err)
	}
	blob.dbSize, blob.size = n, zcount.n
	blob.dbDigest, blob.digest = sumHash(dbsum), sumHash(zsum)
	return meta, blob, nil
}

func sumHash(h hash.Hash) v1.Hash {
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// readerCtx stops a long copy when ctx is done.
type readerCtx struct {
	ctx context.Context
	r   io.Reader
}

func (r readerCtx) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// rawManifest is a remote.Taggable of bytes made here.
type rawManifest struct{ raw []byte }

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// PullOptions are Pull's inputs.
type PullOptions struct {
	// Path is the database file to replace.
	Path string
	// Key is the public key the artifact must be signed with.
	Key      *ecdsa.PublicKey
	Remote   []remote.Option
	LockWait time.Duration
	Logger   *slog.Logger
}

// Pulled is what Pull did.
type Pulled struct {
	Manifest name.Digest
	Metadata vulndb.Metadata
	// UpToDate: the database at Path already was the artifact's, byte for
	// byte; nothing was downloaded.
	UpToDate bool
}

// ErrUnsigned is returned (wrapped) by Pull when no signature by the key
// covers the artifact's digest.
var ErrUnsigned = errors.New("the database artifact is not signed by the key")

// Pull resolves ref to a manifest digest once and works on that digest
// only: it finds a signature over exactly that digest that verifies with
// opt.Key (refusing otherwise), checks the manifest is a drydock database of
// the schema this drydock reads, streams the layer to a temporary file
// beside opt.Path checking its digest and size, and its decompressed digest
// and size against the (signed) manifest, reads the result whole
// (vulndb.Status) and only then renames it over opt.Path. Any failure
// leaves the file at opt.Path as it was.
func Pull(ctx context.Context, ref name.Reference, opt PullOptions) (Pulled, error) {
	if opt.Key == nil {
		return Pulled{}, errors.New("pulling the database: no public key to verify it with")
	}
	opts := append(slices.Clip(opt.Remote), remote.WithContext(ctx))
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return Pulled{}, fmt.Errorf("resolving %s: %w", ref, err)
	}
	subject := ref.Context().Digest(desc.Digest.String())
	if err := verifySigned(ctx, subject, desc.Digest, opt.Key, opts); err != nil {
		return Pulled{}, err
	}
	// desc.Manifest is the very bytes whose digest was verified above (read
	// once: the tag is not resolved again).
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return Pulled{}, fmt.Errorf("decoding the manifest of %s: %w", subject, err)
	}
	want, err := checkDBManifest(subject, m)
	if err != nil {
		return Pulled{}, err
	}
	res := Pulled{Manifest: subject}
	unlock, err := lockDB(ctx, opt.Path, opt.LockWait, opt.Logger)
	if err != nil {
		return res, err
	}
	defer unlock()
	if same, _ := fileHasDigest(opt.Path, want.dbDigest, want.dbSize); same {
		if meta, err := vulndb.Status(ctx, opt.Path); err == nil {
			res.Metadata, res.UpToDate = meta, true
			return res, nil
		}
	}
	tmp, err := fetchDB(ctx, subject, want, opt.Path, opts)
	if err != nil {
		return res, err
	}
	defer os.Remove(tmp) // a no-op once renamed
	meta, err := vulndb.Status(ctx, tmp)
	if err != nil {
		return res, fmt.Errorf("the database in %s does not read: %w", subject, err)
	}
	if got := meta.BuiltAt.UTC().Format(time.RFC3339); got != want.builtAt {
		return res, fmt.Errorf("the database in %s was built at %s, its manifest says %s", subject, got, want.builtAt)
	}
	if err := finishFile(tmp); err != nil {
		return res, err
	}
	if err := os.Rename(tmp, opt.Path); err != nil {
		return res, fmt.Errorf("replacing database %q: %w", opt.Path, err)
	}
	if d, err := os.Open(filepath.Dir(opt.Path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	res.Metadata = meta
	return res, nil
}

// verifySigned finds the Sigstore bundles that refer to subject and
// accepts the artifact when one of them is a database statement that
// verifies with key against digest.
func verifySigned(ctx context.Context, subject name.Digest, digest v1.Hash, key *ecdsa.PublicKey, opts []remote.Option) error {
	found, skipped, err := attest.Find(ctx, subject, opts...)
	if errors.Is(err, attest.ErrNotFound) {
		why := ""
		if len(skipped) > 0 {
			why = "; listed but skipped: " + strings.Join(skipped, "; ")
		}
		return fmt.Errorf("%w: %s has no signature (no Sigstore bundle refers to it)%s", ErrUnsigned, subject, why)
	}
	if err != nil {
		return fmt.Errorf("finding the signature of %s: %w", subject, err)
	}
	problems := skipped
	for _, r := range found {
		v, err := attest.Verify(r.Bundle, key, digest)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", r.Manifest, err))
			continue
		}
		if v.PredicateType != DBPredicateType {
			problems = append(problems, fmt.Sprintf("%s: signs a %s statement, not a drydock database", r.Manifest, v.PredicateType))
			continue
		}
		return nil
	}
	return fmt.Errorf("%w: none of the %d signature(s) of %s verifies:\n  %s", ErrUnsigned, len(found), subject, strings.Join(problems, "\n  "))
}

// dbWant is what the signed manifest says the layer and the file are.
type dbWant struct {
	layer    v1.Descriptor
	dbDigest v1.Hash
	dbSize   int64
	builtAt  string
}

// checkDBManifest refuses a manifest that is not a drydock database of the
// schema this drydock reads, before anything is downloaded.
func checkDBManifest(subject name.Digest, m *v1.Manifest) (dbWant, error) {
	if m.ArtifactType != DBArtifactType || len(m.Layers) != 1 || m.Layers[0].MediaType != DBLayerType {
		return dbWant{}, fmt.Errorf("%s is not a drydock database artifact (artifactType %q, %d layer(s))", subject, m.ArtifactType, len(m.Layers))
	}
	a := m.Annotations
	if v := a[AnnotationSchema]; v != strconv.Itoa(vulndb.SchemaVersion) {
		return dbWant{}, fmt.Errorf("%s holds a database of schema version %q, this drydock reads %d", subject, v, vulndb.SchemaVersion)
	}
	d, err := v1.NewHash(a[AnnotationDBDigest])
	if err != nil {
		return dbWant{}, fmt.Errorf("%s: annotation %s: %w", subject, AnnotationDBDigest, err)
	}
	n, err := strconv.ParseInt(a[AnnotationDBSize], 10, 64)
	if err != nil || n <= 0 {
		return dbWant{}, fmt.Errorf("%s: annotation %s %q is not a size", subject, AnnotationDBSize, a[AnnotationDBSize])
	}
	return dbWant{layer: m.Layers[0], dbDigest: d, dbSize: n, builtAt: a[AnnotationBuiltAt]}, nil
}

// fetchDB streams the layer into a temporary file beside path, checking the
// compressed digest and size as it reads and the decompressed ones at the
// end (the decompressed size also bounds what is written). It returns the
// temporary file's name; on error the file is removed.
func fetchDB(ctx context.Context, subject name.Digest, want dbWant, path string, opts []remote.Option) (string, error) {
	l, err := remote.Layer(subject.Context().Digest(want.layer.Digest.String()), opts...)
	if err != nil {
		return "", fmt.Errorf("fetching the database layer %s: %w", want.layer.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return "", fmt.Errorf("fetching the database layer %s: %w", want.layer.Digest, err)
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("creating database directory for %q: %w", path, err)
	}
	out, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".pull-*")
	if err != nil {
		return "", fmt.Errorf("creating a temporary database beside %q: %w", path, err)
	}
	tmp := out.Name()
	fail := func(err error) (string, error) {
		out.Close()
		os.Remove(tmp)
		return "", err
	}
	zsum, dbsum := sha256.New(), sha256.New()
	blob := io.TeeReader(io.LimitReader(readerCtx{ctx, rc}, want.layer.Size+1), zsum)
	zr, err := zstd.NewReader(blob, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(256<<20))
	if err != nil {
		return fail(fmt.Errorf("reading the database layer: %w", err))
	}
	defer zr.Close()
	n, decErr := io.Copy(io.MultiWriter(out, dbsum), io.LimitReader(zr, want.dbSize+1))
	// The decoder may stop before the blob's last bytes (or at a damaged
	// frame): read them so that the digest covers the whole blob, and say
	// first that the blob is not the one the manifest names.
	_, readErr := io.Copy(io.Discard, blob)
	if got := sumHash(zsum); got != want.layer.Digest {
		return fail(fmt.Errorf("the database layer of %s has digest %s, its manifest says %s: not used", subject, got, want.layer.Digest))
	}
	if readErr != nil {
		return fail(fmt.Errorf("reading the database layer %s: %w", want.layer.Digest, readErr))
	}
	if decErr != nil {
		return fail(fmt.Errorf("decompressing the database layer %s: %w", want.layer.Digest, decErr))
	}
	if n != want.dbSize {
		return fail(fmt.Errorf("the database in %s is %d bytes decompressed, its manifest says %d", subject, n, want.dbSize))
	}
	if got := sumHash(dbsum); got != want.dbDigest {
		return fail(fmt.Errorf("the database in %s has digest %s decompressed, its manifest says %s", subject, got, want.dbDigest))
	}
	if err := out.Close(); err != nil {
		return fail(fmt.Errorf("writing %q: %w", tmp, err))
	}
	return tmp, nil
}

// fileHasDigest reports whether the file at p has exactly this size and
// digest.
func fileHasDigest(p string, d v1.Hash, size int64) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.Size() != size {
		return false, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return sumHash(h) == d, nil
}

// finishFile makes the pulled file world-readable, as a built one, and
// syncs it before the rename.
func finishFile(p string) error {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("finishing %q: %w", p, err)
	}
	defer f.Close()
	if err := f.Chmod(0o644); err != nil {
		return fmt.Errorf("finishing %q: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing %q: %w", p, err)
	}
	return f.Close()
}

// lockDB takes the database's update lock (as Run does), so that a pull
// or push and an update of the same file never interleave.
func lockDB(ctx context.Context, path string, wait time.Duration, log *slog.Logger) (func(), error) {
	if wait == 0 {
		wait = DefaultLockWait
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u := &updater{opt: Options{Path: path, LockWait: wait}, log: log, res: &Result{}}
	return u.lock(ctx)
}
