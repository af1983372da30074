// Package secretbox seals secrets the server keeps at rest (registry
// credentials, credentials in queued jobs) with AES-256-GCM under one key,
// read from a file or the environment. The standard library's AEAD is the
// well-kept implementation; this package only fixes the key handling and
// the encoding.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// prefix marks the format of a sealed value, so a later format can be told
// apart.
const prefix = "v1:"

// Box seals and opens values with one key.
type Box struct {
	aead cipher.AEAD
	id   string
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secretbox: key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	sum := sha256.Sum256(key)
	return &Box{aead: aead, id: hex.EncodeToString(sum[:4])}, nil
}

// ParseKey reads a key written as 64 hex digits or as standard base64 of
// 32 bytes (surrounding space ignored).
func ParseKey(text string) ([]byte, error) {
	s := strings.TrimSpace(text)
	if k, err := hex.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	if k, err := base64.StdEncoding.DecodeString(s); err == nil && len(k) == 32 {
		return k, nil
	}
	return nil, errors.New("secretbox: a key is 32 bytes written as 64 hex digits or base64")
}

// Load returns the Box for the key in file (if set) or else in the
// environment variable env. Neither set: nil and no error (the caller
// decides whether secrets may then be accepted).
func Load(file, env string) (*Box, error) {
	var text string
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("reading the secret key: %w", err)
		}
		text = string(b)
	case env != "" && os.Getenv(env) != "":
		text = os.Getenv(env)
	default:
		return nil, nil
	}
	k, err := ParseKey(text)
	if err != nil {
		if file != "" {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		return nil, fmt.Errorf("$%s: %w", env, err)
	}
	return New(k)
}

// KeyID names the key (the first 4 bytes of its SHA-256, in hex), for logs.
func (b *Box) KeyID() string { return b.id }

// Seal encrypts plaintext; the result is printable.
func (b *Box) Seal(plaintext []byte) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secretbox: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, plaintext, nil)
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned.
func (b *Box) Open(sealed string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return nil, errors.New("secretbox: not a sealed value")
	}
	raw, err := base64.RawStdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("secretbox: %w", err)
	}
	n := b.aead.NonceSize()
	if len(raw) < n+b.aead.Overhead() {
		return nil, errors.New("secretbox: sealed value too short")
	}
	pt, err := b.aead.Open(nil, raw[:n], raw[n:], nil)
	if err != nil {
		return nil, errors.New("secretbox: cannot open (wrong key or altered value)")
	}
	return pt, nil
}
