package main

// Published base images shipped with the database, and BuildKit's build
// info as base-image evidence (issue 18).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/testimage"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// rawConfigImage is img with its config replaced by raw bytes (a field
// go-containerregistry's ConfigFile does not model, such as BuildKit's
// build info, survives).
type rawConfigImage struct {
	v1.Image
	config []byte
}

func (r rawConfigImage) RawConfigFile() ([]byte, error) { return r.config, nil }
func (r rawConfigImage) MediaType() (types.MediaType, error) {
	return types.OCIManifestSchema1, nil
}
func (r rawConfigImage) RawManifest() ([]byte, error) {
	m, err := r.Image.Manifest()
	if err != nil {
		return nil, err
	}
	m = m.DeepCopy()
	m.MediaType = types.OCIManifestSchema1
	m.Config.MediaType = types.OCIConfigJSON
	m.Config.Size = int64(len(r.config))
	m.Config.Digest, _, _ = v1.SHA256(bytes.NewReader(r.config))
	return json.Marshal(m)
}
func (r rawConfigImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	return r.Image.LayerByDigest(h)
}

func TestPublicBasesFromTheDatabase(t *testing.T) {
	// A database built with the published busybox table: no local index.
	db := filepath.Join(t.TempDir(), "drydock.db")
	if res := drydock(t, "db", "update", "--source", mirrorDir, "--base-images", busyboxTestdata+"busybox-amd64-history-index.json", "--db", db); res.code != 0 {
		t.Fatalf("db update: exit %d\n%s", res.code, res.stderr)
	} else if res := drydock(t, "db", "status", "--db", db); res.code != 0 {
		t.Fatalf("db status: exit %d\n%s", res.code, res.stderr)
	}
	base := ociArchiveImage(t, busyboxTestdata+"busybox-1.37.0-musl.oci.tar")
	app := appImage(t, base)
	dir := filepath.Join(t.TempDir(), "app")
	if err := testimage.WriteOCILayout(dir, "app:1", app); err != nil {
		t.Fatal(err)
	}
	scan := func(db, ref string) *report.Report {
		t.Helper()
		res := drydock(t, "image", "--db", db, "--format", "json", ref)
		if res.code != 0 {
			t.Fatalf("drydock image %s: exit %d\n%s", ref, res.code, res.stderr)
		}
		var rep report.Report
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatal(err)
		}
		return &rep
	}
	rep := scan(db, "oci:"+dir)
	if b := rep.BaseImage; b == nil || b.Name != "busybox:1.37.0-musl" || b.Layers != 1 || b.Signal != "layer-chain" {
		t.Errorf("with the database's table: base %+v, want busybox:1.37.0-musl by layer chain", b)
	}
	// The same scan with the database the other tests use (no table, no
	// local index): no attribution at all.
	if rep := scan(testDB, "oci:"+dir); rep.BaseImage != nil {
		t.Errorf("without a table: base %+v, want none", rep.BaseImage)
	}

	// BuildKit 0.10's build info pins the other manifest the table records
	// for the same layer: it decides between them.
	raw, err := app.RawConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	const pinned = "sha256:6be969a074d06073a62ad8ccfd2ad6ec2790cae25d519d8df255ba24819d96f0"
	bi := `{"frontend":"dockerfile.v0","sources":[{"type":"docker-image","ref":"docker.io/library/busybox:1.37.0-musl","pin":"` + pinned + `"}]}`
	cfg["moby.buildkit.buildinfo.v1"] = base64.StdEncoding.EncodeToString([]byte(bi))
	withBI, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	img, err := partial.CompressedToImage(rawConfigImage{Image: app, config: withBI})
	if err != nil {
		t.Fatal(err)
	}
	dir2 := filepath.Join(t.TempDir(), "app-bi")
	if err := testimage.WriteOCILayout(dir2, "app:1", img); err != nil {
		t.Fatal(err)
	}
	rep = scan(db, "oci:"+dir2)
	if b := rep.BaseImage; b == nil || b.Signal != "buildinfo" || b.ManifestDigest != pinned || b.Name != "busybox:1.37.0-musl" {
		t.Errorf("with build info: base %+v, want busybox:1.37.0-musl %s by buildinfo", b, pinned)
	}

	// A forged claim: an image of the application layer alone whose
	// annotations name busybox 1.38.0 (a base the table knows): flagged,
	// and every finding stays the image's own.
	alone := appImage(t, empty.Image)
	forged := mutate.Annotations(alone, map[string]string{
		"org.opencontainers.image.base.name":   "docker.io/library/busybox:1.38.0-musl",
		"org.opencontainers.image.base.digest": "sha256:a34ce92094b7b100a98fbd21411a92825f6827b1bc5f6918c253516c90556998",
	}).(v1.Image)
	dir3 := filepath.Join(t.TempDir(), "forged")
	if err := testimage.WriteOCILayout(dir3, "app:1", forged); err != nil {
		t.Fatal(err)
	}
	rep = scan(db, "oci:"+dir3)
	if b := rep.BaseImage; b == nil || b.Signal != "none" || b.Layers != 0 || !strings.Contains(b.Note, "the claim is not trusted") {
		t.Errorf("forged annotations: base %+v, want none with the claim flagged", b)
	}
	if len(rep.Findings) == 0 {
		t.Fatal("no findings: the lodash layer must give some")
	}
	for _, f := range rep.Findings {
		if !slices.ContainsFunc(f.Annotations, func(a finding.Annotation) bool { return a.Kind == vocab.AnnotationOwnLayer }) ||
			slices.ContainsFunc(f.Annotations, func(a finding.Annotation) bool { return a.Kind == vocab.AnnotationBaseImage }) {
			t.Errorf("finding %s: annotations %+v, want the image's own layer", f.ID, f.Annotations)
		}
	}
}
