package scan

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/testimage"
)

const alpineImage = "../../testdata/images/alpine-3.16.9.tar"

// TestDeterministicAcrossParallelism: the report does not depend on how
// many layers are read at once.
func TestDeterministicAcrossParallelism(t *testing.T) {
	img, err := testimage.Build(testimage.Config{},
		testimage.Layer{TarPath: mustLayer(t), CreatedBy: "ADD rootfs /"},
		testimage.Layer{Files: map[string][]byte{"etc/motd": []byte("hi\n")}, CreatedBy: "RUN echo hi > /etc/motd"},
		testimage.Layer{Files: map[string][]byte{"lib/apk/db/installed": testimage.Whiteout}, CreatedBy: "RUN rm -rf /lib/apk/db"},
		testimage.Layer{Files: map[string][]byte{"usr/share/x": []byte("x")}, CreatedBy: "COPY x /usr/share/x"},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() + "/layout"
	if err := testimage.WriteOCILayout(dir, "t", img); err != nil {
		t.Fatal(err)
	}
	var first any
	for _, par := range []int{1, 2, 8} {
		rep, err := Run(context.Background(), Config{Reference: "oci:" + dir, Parallel: par})
		if err != nil {
			t.Fatalf("parallel %d: %v", par, err)
		}
		if len(rep.Image.Layers) != 4 {
			t.Fatalf("layers = %d, want 4", len(rep.Image.Layers))
		}
		if len(rep.Packages) != 0 {
			t.Errorf("parallel %d: %d packages survive the deleted database", par, len(rep.Packages))
		}
		if first == nil {
			first = rep
			continue
		}
		if diff := cmp.Diff(first, rep); diff != "" {
			t.Errorf("parallel %d differs from parallel 1:\n%s", par, diff)
		}
	}
}

func mustLayer(t *testing.T) string {
	t.Helper()
	// The fixture archive's only layer is the minirootfs tarball; let the
	// source package find it.
	return extractLayer(t, alpineImage)
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, Config{Reference: "docker-archive:" + alpineImage})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: err = %v, want context.Canceled", err)
	}
}
