package notation

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/v1"

	"github.com/drydock-scan/drydock/internal/result"
)

// notationGoDir is the notation-go module directory of the version this
// module requires (its test signatures, certificates and trust stores are
// read as data at test time, never copied into this repository).
func notationGoDir(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-json", "github.com/notaryproject/notation-go").Output()
	if err != nil {
		t.Fatalf("go list -m github.com/notaryproject/notation-go: %v", err)
	}
	var m struct{ Version, Dir string }
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("decoding go list output: %v", err)
	}
	if m.Dir == "" {
		// Not extracted yet: ask for it (from the module cache or proxy).
		out, err := exec.Command("go", "mod", "download", "-json", "github.com/notaryproject/notation-go@"+m.Version).Output()
		if err != nil {
			t.Fatalf("go mod download notation-go@%s: %v", m.Version, err)
		}
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("decoding go mod download output: %v", err)
		}
	}
	return m.Dir
}

// writePolicy writes a trust policy document with one "*" statement.
func writePolicy(t testing.TB, statement map[string]any) string {
	t.Helper()
	st := map[string]any{"name": "drydock-test", "registryScopes": []string{"*"}}
	for k, v := range statement {
		st[k] = v
	}
	doc := map[string]any{"version": "1.0", "trustPolicies": []any{st}}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trustpolicy.json")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func strict(stores []string, identities ...string) map[string]any {
	return map[string]any{
		"signatureVerification": map[string]any{"level": "strict"},
		"trustStores":           stores,
		"trustedIdentities":     identities,
	}
}

// strictNoRevocation is strict with the revocation check overridden to
// "skip", the documented way to accept certificates that name OCSP or CRL
// servers when verifying offline.
func strictNoRevocation(stores []string, identities ...string) map[string]any {
	p := strict(stores, identities...)
	p["signatureVerification"] = map[string]any{"level": "strict", "override": map[string]string{"revocation": "skip"}}
	return p
}

// afterCertExpiry sets verifyTimestamp to "afterCertExpiry".
func afterCertExpiry(p map[string]any) map[string]any {
	sv := p["signatureVerification"].(map[string]any)
	sv["verifyTimestamp"] = "afterCertExpiry"
	return p
}

// The RFC 3161 times (TSTInfo genTime) of notation-go's timestamped test
// signatures.
const (
	jwsTimestamp  = "2024-06-18T06:29:37Z" // openssl ts -reply -token_in -text
	coseTimestamp = "2024-06-18T06:27:16Z"
)

func mustTime(t testing.TB, s string) *time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	v = v.UTC()
	return &v
}

// checkSig compares a result with want, where want.Error is a substring
// the result's error must contain ("" means no error).
func checkSig(t *testing.T, got, want result.Signature) {
	t.Helper()
	if want.Error == "" && got.Error != "" {
		t.Errorf("unexpected error: %s", got.Error)
	}
	if want.Error != "" && !strings.Contains(got.Error, want.Error) {
		t.Errorf("error %q does not contain %q", got.Error, want.Error)
	}
	got.Error = want.Error
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

// TestNotationGoSignatures verifies notation-go's own test signatures (from
// its module directory) with its own test trust store, under a strict
// policy pinned to the signing certificate's subject, and fails them on an
// identity mismatch, a wrong trust store and another subject.
func TestNotationGoSignatures(t *testing.T) {
	mod := notationGoDir(t)
	store := filepath.Join(mod, "verifier", "testdata", "truststore")
	read := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(mod, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	// The descriptors the test signatures sign, from their payloads
	// (internal/mock/mocks.go's ImageDescriptor; verifier/timestamp_test.go's
	// artifact).
	mockDesc := v1.Descriptor{
		MediaType: "application/vnd.docker.distribution.manifest.v2+json",
		Digest:    v1.Hash{Algorithm: "sha256", Hex: "60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e"},
		Size:      528,
	}
	tsDesc := v1.Descriptor{
		MediaType: "application/vnd.docker.distribution.manifest.v2+json",
		Digest:    v1.Hash{Algorithm: "sha256", Hex: "c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda"},
		Size:      528,
	}
	otherDesc := mockDesc
	otherDesc.Digest.Hex = strings.Repeat("ab", 32)

	const (
		rootSubject   = "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=Notation Test Root"
		alpineSubject = "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=alpine"
		otherSubject  = "x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=Someone Else"
	)
	rootIdentity := "CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US"
	alpineIdentity := "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US"

	tests := []struct {
		name      string
		policy    map[string]any
		envelope  string
		mediaType string
		subject   v1.Descriptor
		want      result.Signature
	}{
		{
			name: "JWS x509 scheme, strict, pinned identity", policy: strict([]string{"ca:valid-trust-store"}, rootSubject),
			envelope: "internal/mock/testdata/ca_valid_sig_env.json", mediaType: "application/jose+json", subject: mockDesc,
			want: result.Signature{Kind: "notation", Covers: mockDesc.Digest.String(), Verified: true, Identity: rootIdentity,
				SignedAt: mustTime(t, "2020-11-09T07:00:00Z")},
		},
		{
			name: "JWS signingAuthority scheme, strict, pinned identity", policy: strict([]string{"signingAuthority:valid-trust-store"}, rootSubject),
			envelope: "internal/mock/testdata/sa_valid_sig_env.json", mediaType: "application/jose+json", subject: mockDesc,
			want: result.Signature{Kind: "notation", Covers: mockDesc.Digest.String(), Verified: true, Identity: rootIdentity,
				SignedAt: mustTime(t, "2020-11-09T07:00:00Z")},
		},
		{
			name: "JWS identity mismatch", policy: strict([]string{"ca:valid-trust-store"}, otherSubject),
			envelope: "internal/mock/testdata/ca_valid_sig_env.json", mediaType: "application/jose+json", subject: mockDesc,
			want: result.Signature{Kind: "notation", Covers: mockDesc.Digest.String(), Identity: rootIdentity,
				SignedAt: mustTime(t, "2020-11-09T07:00:00Z"), Error: "does not match the X.509 trusted identities"},
		},
		{
			name: "JWS trust store without its root", policy: strict([]string{"ca:valid-trust-store-2"}, rootSubject),
			envelope: "internal/mock/testdata/ca_valid_sig_env.json", mediaType: "application/jose+json", subject: mockDesc,
			want: result.Signature{Kind: "notation", Covers: mockDesc.Digest.String(), Identity: rootIdentity,
				SignedAt: mustTime(t, "2020-11-09T07:00:00Z"), Error: "does not contain any trusted certificate"},
		},
		{
			name: "JWS over another subject", policy: strict([]string{"ca:valid-trust-store"}, rootSubject),
			envelope: "internal/mock/testdata/ca_valid_sig_env.json", mediaType: "application/jose+json", subject: otherDesc,
			want: result.Signature{Kind: "notation", Covers: mockDesc.Digest.String(), Identity: rootIdentity,
				SignedAt: mustTime(t, "2020-11-09T07:00:00Z"), Error: "content descriptor mismatch"},
		},
		{
			name: "JWS with an invalid signature (notation-go's ca_invalid_sig_env)", policy: strict([]string{"ca:valid-trust-store"}, rootSubject),
			envelope: "internal/mock/testdata/ca_invalid_sig_env.json", mediaType: "application/jose+json", subject: mockDesc,
			want: result.Signature{Kind: "notation", Covers: mockDesc.Digest.String(), Error: "signature is invalid"},
		},
		{
			name: "JWS expired signature", policy: strict([]string{"ca:valid-trust-store"}, rootSubject),
			envelope: "internal/mock/testdata/ca_expired_sig_env.json", mediaType: "application/jose+json", subject: mockDesc,
			want: result.Signature{Kind: "notation", Covers: mockDesc.Digest.String(), Identity: rootIdentity,
				SignedAt: mustTime(t, "2022-07-29T00:00:00Z"), Error: "digital signature has expired"},
		},
		{
			// GlobalSign's TSA certificates name OCSP and CRL servers: offline
			// their revocation status is unknown, which strict enforces.
			name: "JWS with RFC 3161 timestamp, strict: TSA revocation unknown offline", policy: strict([]string{"ca:valid-trust-store", "tsa:test-timestamp"}, alpineSubject),
			envelope: "verifier/testdata/timestamp/sigEnv/jwsWithTimestamp.sig", mediaType: "application/jose+json", subject: tsDesc,
			want: result.Signature{Kind: "notation", Covers: tsDesc.Digest.String(), Identity: alpineIdentity,
				SignedAt: mustTime(t, "2024-06-18T06:29:33Z"), Error: "revocation status is unknown"},
		},
		{
			name: "JWS with RFC 3161 timestamp, strict with revocation skipped, pinned identity", policy: strictNoRevocation([]string{"ca:valid-trust-store", "tsa:test-timestamp"}, alpineSubject),
			envelope: "verifier/testdata/timestamp/sigEnv/jwsWithTimestamp.sig", mediaType: "application/jose+json", subject: tsDesc,
			want: result.Signature{Kind: "notation", Covers: tsDesc.Digest.String(), Verified: true, Identity: alpineIdentity,
				SignedAt: mustTime(t, jwsTimestamp), TimeVerified: true},
		},
		{
			name: "COSE with RFC 3161 timestamp, strict with revocation skipped, pinned identity", policy: strictNoRevocation([]string{"ca:valid-trust-store", "tsa:test-timestamp"}, alpineSubject),
			envelope: "verifier/testdata/timestamp/sigEnv/coseWithTimestamp.sig", mediaType: "application/cose", subject: tsDesc,
			want: result.Signature{Kind: "notation", Covers: tsDesc.Digest.String(), Verified: true, Identity: alpineIdentity,
				SignedAt: mustTime(t, coseTimestamp), TimeVerified: true},
		},
		{
			name: "JWS with timestamp, verifyTimestamp afterCertExpiry, unexpired chain: timestamp not verified", policy: afterCertExpiry(strictNoRevocation([]string{"ca:valid-trust-store", "tsa:test-timestamp"}, alpineSubject)),
			envelope: "verifier/testdata/timestamp/sigEnv/jwsWithTimestamp.sig", mediaType: "application/jose+json", subject: tsDesc,
			want: result.Signature{Kind: "notation", Covers: tsDesc.Digest.String(), Verified: true, Identity: alpineIdentity,
				SignedAt: mustTime(t, "2024-06-18T06:29:33Z")},
		},
		{
			name: "COSE identity mismatch", policy: strictNoRevocation([]string{"ca:valid-trust-store", "tsa:test-timestamp"}, otherSubject),
			envelope: "verifier/testdata/timestamp/sigEnv/coseWithTimestamp.sig", mediaType: "application/cose", subject: tsDesc,
			want: result.Signature{Kind: "notation", Covers: tsDesc.Digest.String(), Identity: alpineIdentity,
				SignedAt: mustTime(t, "2024-06-18T06:27:11Z"), Error: "does not match the X.509 trusted identities"},
		},
		{
			name: "COSE timestamp, TSA store without GlobalSign's root", policy: strictNoRevocation([]string{"ca:valid-trust-store", "tsa:test-mismatch"}, alpineSubject),
			envelope: "verifier/testdata/timestamp/sigEnv/coseWithTimestamp.sig", mediaType: "application/cose", subject: tsDesc,
			want: result.Signature{Kind: "notation", Covers: tsDesc.Digest.String(), Identity: alpineIdentity,
				SignedAt: mustTime(t, "2024-06-18T06:27:11Z"), Error: "failed to verify the timestamp countersignature"},
		},
		{
			name: "JWS with timestamp, no tsa store: signer's claimed time only", policy: strict([]string{"ca:valid-trust-store"}, alpineSubject),
			envelope: "verifier/testdata/timestamp/sigEnv/jwsWithTimestamp.sig", mediaType: "application/jose+json", subject: tsDesc,
			want: result.Signature{Kind: "notation", Covers: tsDesc.Digest.String(), Verified: true, Identity: alpineIdentity,
				SignedAt: mustTime(t, "2024-06-18T06:29:33Z")},
		},
		{
			name: "JWS media type given as COSE", policy: strict([]string{"ca:valid-trust-store"}, rootSubject),
			envelope: "internal/mock/testdata/ca_valid_sig_env.json", mediaType: "application/cose", subject: mockDesc,
			want: result.Signature{Kind: "notation", Covers: mockDesc.Digest.String(), Error: "unable to parse the digital signature"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			v, err := New(ctx, writePolicy(t, tt.policy), store)
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(ctx, tt.subject, nil, read(tt.envelope), tt.mediaType)
			if err != nil {
				t.Fatal(err)
			}
			checkSig(t, got, tt.want)
		})
	}
}
