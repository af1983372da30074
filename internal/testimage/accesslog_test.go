package testimage_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/drydock-scan/drydock/internal/testimage"
)

// TestRegistryAccessLog: a registry started with AccessLog reports the
// requests it answered, method, path and status.
func TestRegistryAccessLog(t *testing.T) {
	reg := testimage.StartRegistryWith(t, testimage.RegistryBinary(t), testimage.RegistryOptions{AccessLog: true})
	img, err := testimage.Build(testimage.Config{}, testimage.Layer{Files: map[string][]byte{"etc/motd": []byte("hi\n")}})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg.Host + "/team/app:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	ls, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	d, err := ls[0].Digest()
	if err != nil {
		t.Fatal(err)
	}
	rl, err := remote.Layer(ref.Context().Digest(d.String()))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rl.Compressed()
	if err != nil {
		t.Fatal(err)
	}
	rc.Close()
	want := testimage.Request{Method: "GET", Path: "/v2/team/app/blobs/" + d.String(), Status: 200}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []testimage.Request
		for _, r := range reg.Requests() {
			if r.Method == "GET" {
				got = append(got, r)
			}
		}
		if len(got) > 0 && cmp.Diff(want, got[len(got)-1]) == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET requests logged: %+v; want the last to be %+v", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
