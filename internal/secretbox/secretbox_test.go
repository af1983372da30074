package secretbox

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := b.Seal([]byte("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := b.Seal([]byte("hunter2"))
	if s1 == s2 {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if strings.Contains(s1, "hunter2") {
		t.Error("sealed value holds the plaintext")
	}
	got, err := b.Open(s1)
	if err != nil || string(got) != "hunter2" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other, _ := New(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(s1); err == nil {
		t.Error("a different key opened the value")
	}
	tampered := s1[:len(s1)-2] + "AA"
	if _, err := b.Open(tampered); err == nil {
		t.Error("an altered value opened")
	}
	for _, bad := range []string{"", "v1:", "v1:!!", "plain"} {
		if _, err := b.Open(bad); err == nil {
			t.Errorf("Open(%q) did not fail", bad)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	hexKey := strings.Repeat("ab", 32)
	f := filepath.Join(dir, "key")
	if err := os.WriteFile(f, []byte(hexKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := Load(f, "")
	if err != nil || b == nil {
		t.Fatalf("Load(file) = %v, %v", b, err)
	}
	t.Setenv("DRYDOCK_TEST_KEY", "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=")
	if b, err := Load("", "DRYDOCK_TEST_KEY"); err != nil || b == nil {
		t.Fatalf("Load(env) = %v, %v", b, err)
	}
	if b, err := Load("", "DRYDOCK_UNSET_KEY"); err != nil || b != nil {
		t.Fatalf("Load(nothing) = %v, %v; want nil, nil", b, err)
	}
	if err := os.WriteFile(f, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(f, ""); err == nil || !strings.Contains(err.Error(), f) {
		t.Errorf("bad key file: err = %v, want one naming %s", err, f)
	}
}
