package notation

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNewErrors: every bad trust policy or trust store is an error at
// construction that names the file or directory.
func TestNewErrors(t *testing.T) {
	p := newPKI(t, "x", "")
	store := writeStore(t, map[string][]*x509.Certificate{"ca/x": {p.ca}})
	dir := t.TempDir()
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	valid := `{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]}]}`
	leafOnly := filepath.Join(dir, "leafstore")
	if err := os.MkdirAll(filepath.Join(leafOnly, "x509", "ca", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(leafOnly, "x509", "ca", "x", "leaf.pem"), pemCert(p.leaf), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name          string
		policy, store string
		want          []string // substrings of the error
	}{
		{name: "missing policy", policy: filepath.Join(dir, "nope.json"), store: store, want: []string{"nope.json", "no such file"}},
		{name: "policy is a directory", policy: dir, store: store, want: []string{dir, "not a regular file"}},
		{name: "malformed JSON", policy: write("bad.json", `{"version":`), store: store, want: []string{"bad.json", "decoding the trust policy"}},
		{name: "unknown field", policy: write("typo.json", strings.Replace(valid, "trustedIdentities", "trustedIdentity", 1)), store: store,
			want: []string{"typo.json", "unknown field"}},
		{name: "unsupported version", policy: write("v2.json", strings.Replace(valid, `"1.0"`, `"2.0"`, 1)), store: store,
			want: []string{"v2.json", "unsupported version"}},
		{name: "bad level", policy: write("level.json", strings.Replace(valid, "strict", "paranoid", 1)), store: store,
			want: []string{"level.json", "paranoid"}},
		{name: "two documents", policy: write("two.json", valid+valid), store: store, want: []string{"two.json", "data after the document"}},
		{name: "store without x509", policy: write("ok.json", valid), store: dir, want: []string{dir, "x509/"}},
		{name: "named store missing", policy: write("missing.json", strings.Replace(valid, "ca:x", "ca:y", 1)), store: store,
			want: []string{"missing.json", filepath.Join(store, "x509", "ca", "y"), "does not exist"}},
		{name: "store holds a leaf, not a CA", policy: write("leaf.json", valid), store: leafOnly,
			want: []string{"leaf.json", filepath.Join(leafOnly, "x509", "ca", "x"), "failed to validate the trusted certificate leaf.pem"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), tt.policy, tt.store)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestWithRepository(t *testing.T) {
	v, err := New(context.Background(), writePolicy(t, strict([]string{"ca:x"}, "*")),
		writeStore(t, map[string][]*x509.Certificate{"ca/x": {newPKI(t, "x", "").ca}}))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "alpine", "registry.example.com/app@sha256:00", "registry.example.com/a b"} {
		if _, err := v.WithRepository(bad); err == nil {
			t.Errorf("WithRepository(%q): no error", bad)
		}
	}
	w, err := v.WithRepository("registry.example.com/app")
	if err != nil {
		t.Fatal(err)
	}
	if v.repository != "" || w.repository != "registry.example.com/app" {
		t.Errorf("WithRepository changed the original or did not set the copy: %q, %q", v.repository, w.repository)
	}
}

// FuzzParsePolicy: parsePolicy never panics, and what it accepts is a
// valid version 1.0 document.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte(`{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["*"],"signatureVerification":{"level":"strict"},"trustStores":["ca:x"],"trustedIdentities":["*"]}]}`))
	f.Add([]byte(`{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["r.example/a"],"signatureVerification":{"level":"strict","override":{"revocation":"skip"},"verifyTimestamp":"afterCertExpiry"},"trustStores":["ca:x","tsa:t"],"trustedIdentities":["x509.subject: C=US, ST=WA, O=x"]}]}`))
	f.Add([]byte(`{"version":"1.0","trustPolicies":[{"name":"s","registryScopes":["*"],"signatureVerification":{"level":"skip"}}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := parsePolicy(data)
		if err != nil {
			return
		}
		if doc.Version != "1.0" || len(doc.TrustPolicies) == 0 {
			t.Errorf("accepted %q as version %q with %d statements", data, doc.Version, len(doc.TrustPolicies))
		}
	})
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
