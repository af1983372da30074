package verify

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// sigstoreGoDir finds the github.com/sigstore/sigstore-go module (go.mod
// requires it, so the module cache holds it) to read its test data as data.
func sigstoreGoDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/sigstore/sigstore-go").Output()
	if err != nil {
		t.Skipf("github.com/sigstore/sigstore-go is not in the module cache (go mod download: %v): its test bundles cannot be read", err)
	}
	var m struct{ Dir string }
	if err := json.Unmarshal(out, &m); err != nil || m.Dir == "" {
		t.Skipf("go mod download -json gave no module directory for sigstore-go: %s", out)
	}
	return m.Dir
}

// The public-good keyless bundle of sigstore-go's pkg/testing/data:
// sigstore-js 2.0.0's npm SLSA v1 provenance, signed by its GitHub Actions
// release workflow (Fulcio certificate, one Rekor entry).
const (
	pgIssuer  = "https://token.actions.githubusercontent.com"
	pgSubject = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	// The statement's subject: pkg:npm/sigstore@2.0.0's sha512.
	pgDigest = "sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"
)

// TestSigstoreGoPublicGoodBundle: the real keyless bundle verifies offline
// with its trusted root, issuer and subject pinned, at the default
// thresholds (1 tlog entry) and with an explicit 1; it fails with one
// payload byte flipped, a wrong subject, a wrong issuer, another artifact
// digest, or a tlog threshold the bundle does not meet.
func TestSigstoreGoPublicGoodBundle(t *testing.T) {
	dir := filepath.Join(sigstoreGoDir(t), "pkg", "testing", "data")
	raw, err := os.ReadFile(filepath.Join(dir, "bundles", "sigstore.js@2.0.0-provenance.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	rootPath := filepath.Join(dir, "trusted-roots", "public-good.json")
	right := Identity{Issuer: pgIssuer, Subject: pgSubject}
	digest := v1.Hash{Algorithm: "sha512", Hex: strings.TrimPrefix(pgDigest, "sha512:")}
	other := v1.Hash{Algorithm: "sha512", Hex: strings.Repeat("0", 128)}

	tests := []struct {
		name   string
		bundle []byte
		o      Options
		digest v1.Hash
		err    string // "" = verifies
	}{
		{name: "verifies", bundle: raw, o: Options{TrustedRoot: rootPath, Identities: []Identity{right}}, digest: digest},
		{name: "tlog threshold 1, regexp subject", bundle: raw, digest: digest,
			o: Options{TrustedRoot: rootPath, TlogThreshold: 1, Identities: []Identity{{Issuer: pgIssuer, SubjectRegexp: `https://github\.com/sigstore/sigstore-js/.*`}}}},
		{name: "tlog threshold 2", bundle: raw, digest: digest, err: "not enough verified log entries",
			o: Options{TrustedRoot: rootPath, TlogThreshold: 2, Identities: []Identity{right}}},
		{name: "timestamp authority required", bundle: raw, digest: digest, err: "threshold not met for verified signed timestamps",
			o: Options{TrustedRoot: rootPath, TimestampThreshold: 1, Identities: []Identity{right}}},
		{name: "payload byte flipped", bundle: flipPayloadByte(t, raw), digest: digest, err: "verif",
			o: Options{TrustedRoot: rootPath, Identities: []Identity{right}}},
		{name: "wrong subject", bundle: raw, digest: digest, err: "no matching CertificateIdentity",
			o: Options{TrustedRoot: rootPath, Identities: []Identity{{Issuer: pgIssuer, Subject: "https://github.com/evil/sigstore-js/.github/workflows/release.yml@refs/heads/main"}}}},
		{name: "wrong issuer", bundle: raw, digest: digest, err: "no matching CertificateIdentity",
			o: Options{TrustedRoot: rootPath, Identities: []Identity{{Issuer: "https://accounts.google.com", Subject: pgSubject}}}},
		{name: "another digest", bundle: raw, digest: other, err: "digest",
			o: Options{TrustedRoot: rootPath, Identities: []Identity{right}}},
		{name: "another trusted root", bundle: raw, digest: digest, err: "not enough verified log entries",
			o: Options{TrustedRoot: filepath.Join(dir, "trusted-roots", "scaffolding.json"), Identities: []Identity{right}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, err := trusts(tc.o)
			if err != nil {
				t.Fatal(err)
			}
			entity, err := parseBundle(tc.bundle)
			if err != nil {
				t.Fatal(err)
			}
			policy, err := digestPolicy(tc.digest)
			if err != nil {
				t.Fatal(err)
			}
			out := check(entity, policy, ts)
			if tc.err == "" {
				if !out.verified {
					t.Fatalf("not verified: %s", out.err)
				}
				if out.identity != pgSubject || out.issuer != pgIssuer || !out.timeVerified || out.signedAt == nil || out.tlogIndex == nil {
					t.Errorf("outcome = %+v: want the certificate's identity and issuer, a verified time and the tlog index", out)
				}
				return
			}
			if out.verified {
				t.Fatal("verified, want a failure")
			}
			if !strings.Contains(out.err, tc.err) {
				t.Errorf("error %q does not say %q", out.err, tc.err)
			}
		})
	}
}

// flipPayloadByte flips one bit of one byte of the DSSE payload.
func flipPayloadByte(t *testing.T, raw []byte) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	env := b["dsseEnvelope"].(map[string]any)
	p, err := base64.StdEncoding.DecodeString(env["payload"].(string))
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(p), "sigstore-js")
	p[i] ^= 0x01 // "sigstore-js" → "rigstore-js"
	env["payload"] = base64.StdEncoding.EncodeToString(p)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTrustsRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	goodRoot := filepath.Join(sigstoreGoDir(t), "pkg", "testing", "data", "trusted-roots", "public-good.json")
	goodKey := newSigner(t).file
	notRoot := filepath.Join(dir, "root.json")
	if err := os.WriteFile(notRoot, []byte(`{"mediaType":"nope"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		o    Options
		err  string
	}{
		{"missing key", Options{KeyFiles: []string{filepath.Join(dir, "none.pem")}}, "none.pem"},
		{"bad key", Options{KeyFiles: []string{bad}}, "bad.pem"},
		{"bad root", Options{TrustedRoot: notRoot}, "root.json"},
		{"identity without root", Options{Identities: []Identity{{Issuer: "i", Subject: "s"}}}, "trusted root"},
		{"issuer only", Options{TrustedRoot: "", Identities: []Identity{{Issuer: "i"}}}, "trusted root"},
		{"issuer without subject", Options{TrustedRoot: goodRoot, Identities: []Identity{{Issuer: "i"}}}, "pin the issuer and the subject"},
		{"subject exactly and by regexp", Options{TrustedRoot: goodRoot, Identities: []Identity{{Issuer: "i", Subject: "s", SubjectRegexp: "s"}}}, "pin the issuer and the subject"},
		{"bad regexp", Options{TrustedRoot: goodRoot, Identities: []Identity{{Issuer: "i", SubjectRegexp: "("}}}, "regexp"},
		{"key threshold without root", Options{KeyFiles: []string{goodKey}, TlogThreshold: 1}, "needs a trusted root"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := trusts(tc.o)
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
			// Run refuses the same options before any request.
			d, _ := name.NewDigest("registry.invalid/x@sha256:" + strings.Repeat("0", 64))
			if sc, err := Run(context.Background(), Target{Digest: d}, tc.o); err == nil || sc != nil {
				t.Errorf("Run = %v, %v; want an error", sc, err)
			}
		})
	}
}

// TestLegacyConversionPublicGood: the public-good keyless bundle taken
// apart into what cosign's legacy .att layer holds (the DSSE envelope as
// the layer, the Fulcio certificate and the Rekor entry — body, integrated
// time, index, log id, SignedEntryTimestamp — as annotations), converted
// back by legacyBundle and verified by sigstore-go with the real trusted
// root: the conversion keeps everything the verification needs. A flipped
// SignedEntryTimestamp byte, a wrong identity and a flipped payload byte
// fail.
func TestLegacyConversionPublicGood(t *testing.T) {
	dir := filepath.Join(sigstoreGoDir(t), "pkg", "testing", "data")
	raw, err := os.ReadFile(filepath.Join(dir, "bundles", "sigstore.js@2.0.0-provenance.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		VerificationMaterial struct {
			Chain struct {
				Certificates []struct {
					RawBytes []byte `json:"rawBytes"`
				} `json:"certificates"`
			} `json:"x509CertificateChain"`
			TlogEntries []struct {
				LogIndex string `json:"logIndex"`
				LogID    struct {
					KeyID []byte `json:"keyId"`
				} `json:"logId"`
				IntegratedTime   string `json:"integratedTime"`
				InclusionPromise struct {
					SET []byte `json:"signedEntryTimestamp"`
				} `json:"inclusionPromise"`
				Body string `json:"canonicalizedBody"`
			} `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		DSSE json.RawMessage `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	e := b.VerificationMaterial.TlogEntries[0]
	rekorBundle := func(set []byte) string {
		out, err := json.Marshal(map[string]any{
			"SignedEntryTimestamp": set,
			"Payload": map[string]any{"body": e.Body, "integratedTime": json.Number(e.IntegratedTime),
				"logIndex": json.Number(e.LogIndex), "logID": hex.EncodeToString(e.LogID.KeyID)},
		})
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	cert := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: b.VerificationMaterial.Chain.Certificates[0].RawBytes}))
	badSET := append([]byte{}, e.InclusionPromise.SET...)
	badSET[len(badSET)/2] ^= 0x01
	var env map[string]any
	if err := json.Unmarshal(b.DSSE, &env); err != nil {
		t.Fatal(err)
	}
	p, _ := base64.StdEncoding.DecodeString(env["payload"].(string))
	p[strings.Index(string(p), "sigstore-js")] ^= 0x01
	env["payload"] = base64.StdEncoding.EncodeToString(p)
	flipped, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}

	rootPath := filepath.Join(dir, "trusted-roots", "public-good.json")
	digest := v1.Hash{Algorithm: "sha512", Hex: strings.TrimPrefix(pgDigest, "sha512:")}
	tests := []struct {
		name     string
		envelope []byte
		set      []byte
		id       Identity
		err      string
	}{
		{name: "verifies", envelope: b.DSSE, set: e.InclusionPromise.SET, id: Identity{Issuer: pgIssuer, Subject: pgSubject}},
		{name: "flipped SET", envelope: b.DSSE, set: badSET, id: Identity{Issuer: pgIssuer, Subject: pgSubject}, err: "not enough verified log entries"},
		{name: "wrong identity", envelope: b.DSSE, set: e.InclusionPromise.SET, id: Identity{Issuer: pgIssuer, Subject: "https://github.com/evil/x/.github/workflows/release.yml@refs/heads/main"}, err: "no matching CertificateIdentity"},
		{name: "flipped payload", envelope: flipped, set: e.InclusionPromise.SET, id: Identity{Issuer: pgIssuer, Subject: pgSubject}, err: "does not match envelope payload hash"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ann := map[string]string{annSignature: "", annCertificate: cert, annRekorBundle: rekorBundle(tc.set)}
			entity, err := legacyBundle(ann, tc.envelope, true)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := trusts(Options{TrustedRoot: rootPath, Identities: []Identity{tc.id}})
			if err != nil {
				t.Fatal(err)
			}
			policy, err := digestPolicy(digest)
			if err != nil {
				t.Fatal(err)
			}
			out := check(entity, policy, ts)
			if tc.err == "" {
				if !out.verified || out.identity != pgSubject || !out.timeVerified || out.tlogIndex == nil || *out.tlogIndex != 31821305 {
					t.Fatalf("outcome %+v: want verified with the certificate identity, a verified time and tlog index 31821305", out)
				}
				return
			}
			if out.verified || !strings.Contains(out.err, tc.err) {
				t.Errorf("outcome %+v: want a failure saying %q", out, tc.err)
			}
			if testing.Verbose() {
				t.Log(out.err)
			}
		})
	}
}

// TestSigningTimeAfterNow: the public-good bundle's verified signing time
// (its Rekor entry, 2023-08-18T16:05:35Z) is refused by a clock more than
// 5 minutes before it, and accepted by one within 5 minutes or after it.
func TestSigningTimeAfterNow(t *testing.T) {
	dir := filepath.Join(sigstoreGoDir(t), "pkg", "testing", "data")
	raw, err := os.ReadFile(filepath.Join(dir, "bundles", "sigstore.js@2.0.0-provenance.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	o := Options{TrustedRoot: filepath.Join(dir, "trusted-roots", "public-good.json"), Identities: []Identity{{Issuer: pgIssuer, Subject: pgSubject}}}
	ts, err := trusts(o)
	if err != nil {
		t.Fatal(err)
	}
	entity, err := parseBundle(raw)
	if err != nil {
		t.Fatal(err)
	}
	policy, _ := digestPolicy(v1.Hash{Algorithm: "sha512", Hex: strings.TrimPrefix(pgDigest, "sha512:")})
	out := check(entity, policy, ts)
	for _, tc := range []struct {
		now  string
		want bool
	}{{"2023-01-01T00:00:00Z", false}, {"2023-08-18T16:00:00Z", false}, {"2023-08-18T16:01:00Z", true}, {"2026-01-01T00:00:00Z", true}} {
		now, _ := time.Parse(time.RFC3339, tc.now)
		o.Now = func() time.Time { return now }
		got := (&run{o: o}).atTime(out)
		if got.verified != tc.want {
			t.Errorf("now %s: verified = %v (%s), want %v (signed at %v)", tc.now, got.verified, got.err, tc.want, out.signedAt)
		}
	}
}
