package verify

import (
	"strings"
	"testing"
)

// TestLegacyBundleRefuses: what a cosign legacy layer must hold, each
// missing or malformed piece named in the error.
func TestLegacyBundleRefuses(t *testing.T) {
	tests := []struct {
		name        string
		ann         map[string]string
		content     string
		attestation bool
		err         string
	}{
		{name: "no signature", ann: map[string]string{}, content: `{}`, err: "dev.cosignproject.cosign/signature is not a base64 signature"},
		{name: "signature not base64", ann: map[string]string{annSignature: "%%%"}, content: `{}`, err: "not a base64 signature"},
		{name: "certificate not PEM", ann: map[string]string{annSignature: "AA==", annCertificate: "nope"}, content: `{}`, err: "dev.sigstore.cosign/certificate: no PEM certificate"},
		{name: "certificate not X.509", ann: map[string]string{annSignature: "AA==", annCertificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}, content: `{}`, err: "parsing a certificate"},
		{name: "rekor bundle not JSON", ann: map[string]string{annSignature: "AA==", annRekorBundle: "{"}, content: `{}`, err: "dev.sigstore.cosign/bundle: decoding"},
		{name: "rekor body not base64", ann: map[string]string{annSignature: "AA==", annRekorBundle: `{"Payload":{"body":"%%"}}`}, content: `{}`, err: "decoding the entry body"},
		{name: "rekor log id not hex", ann: map[string]string{annSignature: "AA==", annRekorBundle: `{"Payload":{"body":"e30=","logID":"zz"}}`}, content: `{}`, err: "decoding the log id"},
		{name: "timestamp empty", ann: map[string]string{annSignature: "AA==", annRFC3161: `{}`}, content: `{}`, err: "no base64 SignedRFC3161Timestamp"},
		{name: "envelope not JSON", ann: map[string]string{annSignature: ""}, content: `{`, attestation: true, err: "decoding the DSSE envelope"},
		{name: "envelope unsigned", ann: map[string]string{annSignature: ""}, content: `{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[]}`, attestation: true, err: "no signature"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := legacyBundle(tc.ann, []byte(tc.content), tc.attestation)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestSimpleSigningDigest(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{in: `{"critical":{"image":{"docker-manifest-digest":"sha256:ab"},"type":"cosign container image signature"}}`, want: "sha256:ab"},
		{in: `{"critical":{"image":{}}}`, err: "no critical.image.docker-manifest-digest"},
		{in: `[`, err: "decoding the simple-signing payload"},
	}
	for _, tc := range tests {
		got, err := simpleSigningDigest([]byte(tc.in))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// FuzzLegacyBundle: whatever a registry puts in a cosign legacy layer and
// its annotations, the conversion returns a bundle or an error, never
// panics; so does decoding a bundle from a referrer.
func FuzzLegacyBundle(f *testing.F) {
	f.Add("AA==", "", `{"SignedEntryTimestamp":"AA==","Payload":{"body":"e30=","integratedTime":1,"logIndex":2,"logID":"00"}}`, `{"SignedRFC3161Timestamp":"AA=="}`, []byte(`{"critical":{}}`), false)
	f.Add("", "", "", "", []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AA=="}]}`), true)
	f.Add("AA==", "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n", "", "", []byte(`x`), false)
	f.Fuzz(func(t *testing.T, sig, cert, rekor, ts string, content []byte, attestation bool) {
		ann := map[string]string{annSignature: sig, annCertificate: cert, annRekorBundle: rekor, annRFC3161: ts}
		if b, err := legacyBundle(ann, content, attestation); err == nil && b == nil {
			t.Fatal("no bundle and no error")
		}
		if b, err := parseBundle(content); err == nil && b == nil {
			t.Fatal("no bundle and no error")
		}
		_, _ = simpleSigningDigest(content)
	})
}
