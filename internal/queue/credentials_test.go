package queue_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/drydock-scan/drydock/internal/queue"
	"github.com/drydock-scan/drydock/internal/secretbox"
)

// anonymousOnly is a fallback keychain that knows nobody.
type anonymousOnly struct{}

func (anonymousOnly) Resolve(authn.Resource) (authn.Authenticator, error) {
	return authn.Anonymous, nil
}

// TestScanKeychain: the credentials sealed in a scan job are opened with the
// server's key and answered for the registry of the job's reference only;
// every other registry gets the fallback. No key, another key or a value
// that is not sealed is an error naming the cause.
func TestScanKeychain(t *testing.T) {
	box, err := secretbox.New(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	other, err := secretbox.New(bytes.Repeat([]byte{2}, 32))
	if err != nil {
		t.Fatal(err)
	}
	creds := queue.Credentials{Username: "robot", Password: "s3cret"}
	sealed, err := queue.SealCredentials(box, creds)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "s3cret") || strings.Contains(sealed, "robot") {
		t.Fatalf("sealed value %q holds the credentials in clear", sealed)
	}
	args := queue.ScanArgs{Reference: "registry.example.com:5000/team/app@sha256:" + strings.Repeat("a", 64), Credentials: sealed}
	kc, err := args.Keychain(box, anonymousOnly{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		registry string
		want     authn.AuthConfig
	}{
		{"registry.example.com:5000", authn.AuthConfig{Username: "robot", Password: "s3cret"}},
		{"registry.example.com", authn.AuthConfig{}},
		{"index.docker.io", authn.AuthConfig{}},
	} {
		reg, err := name.NewRegistry(tc.registry)
		if err != nil {
			t.Fatal(err)
		}
		a, err := kc.Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(&tc.want, got); d != "" {
			t.Errorf("%s (-want +got):\n%s", tc.registry, d)
		}
	}

	for _, tc := range []struct {
		name string
		box  *secretbox.Box
		args queue.ScanArgs
		want string
	}{
		{"no key", nil, args, "no secret key is configured"},
		{"another key", other, args, "wrong key"},
		{"not sealed", box, queue.ScanArgs{Reference: args.Reference, Credentials: `{"username":"robot"}`}, "not a sealed value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.args.Keychain(tc.box, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	if kc, err := (queue.ScanArgs{Reference: args.Reference}).Keychain(nil, nil); err != nil || kc != authn.DefaultKeychain {
		t.Errorf("without credentials: %v, %v; want the default keychain", kc, err)
	}
}
