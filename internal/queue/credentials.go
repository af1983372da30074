package queue

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"

	"github.com/drydock-scan/drydock/internal/secretbox"
)

// Credentials are a registry login, as ScanArgs.Credentials and the
// registry watch keep them: sealed (SealCredentials), never in clear.
type Credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// ErrNoKey is returned when credentials are to be sealed or opened and the
// server has no secret key.
var ErrNoKey = errors.New("no secret key is configured: registry credentials can be neither stored nor used")

// SealCredentials seals c with box.
func SealCredentials(box *secretbox.Box, c Credentials) (string, error) {
	if box == nil {
		return "", ErrNoKey
	}
	raw, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding credentials: %w", err)
	}
	return box.Seal(raw)
}

// OpenCredentials opens what SealCredentials returned.
func OpenCredentials(box *secretbox.Box, sealed string) (Credentials, error) {
	var c Credentials
	if box == nil {
		return c, ErrNoKey
	}
	raw, err := box.Open(sealed)
	if err != nil {
		return c, fmt.Errorf("opening credentials: %w", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("decoding credentials: %w", err)
	}
	return c, nil
}

// Keychain returns the keychain of a scan: the credentials opened from
// a.Credentials for the registry of a.Reference, next for any other registry
// (nil next: authn.DefaultKeychain). Without credentials it returns next.
func (a ScanArgs) Keychain(box *secretbox.Box, next authn.Keychain) (authn.Keychain, error) {
	if next == nil {
		next = authn.DefaultKeychain
	}
	if a.Credentials == "" {
		return next, nil
	}
	c, err := OpenCredentials(box, a.Credentials)
	if err != nil {
		return nil, err
	}
	return c.Keychain(a.Reference, next)
}

// Keychain returns a keychain that answers c for the registry of ref and
// asks next for any other registry (nil next: anonymous).
func (c Credentials) Keychain(ref string, next authn.Keychain) (authn.Keychain, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, fmt.Errorf("parsing image reference %q: %w", ref, err)
	}
	return &registryKeychain{registry: r.Context().RegistryStr(), auth: &authn.Basic{Username: c.Username, Password: c.Password}, next: next}, nil
}

type registryKeychain struct {
	registry string
	auth     authn.Authenticator
	next     authn.Keychain
}

// Resolve implements authn.Keychain.
func (k *registryKeychain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	if res.RegistryStr() == k.registry {
		return k.auth, nil
	}
	if k.next == nil {
		return authn.Anonymous, nil
	}
	return k.next.Resolve(res)
}
