package verify

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/drydock-scan/drydock/internal/result"
)

// virtualSigstore is sigstore-go's in-memory Fulcio, Rekor and timestamp
// authority (pkg/testing/ca), with its trusted_root.json written out.
func virtualSigstore(t *testing.T) (*ca.VirtualSigstore, string) {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	// The virtual logs' ID is their hex log id as bytes; a trusted root
	// holds the raw id (trusted_root.json's logId.keyId), which is what a
	// log entry's id is compared with once the root is read back.
	rawIDs := func(logs map[string]*root.TransparencyLog) map[string]*root.TransparencyLog {
		for id, l := range logs {
			raw, err := hex.DecodeString(id)
			if err != nil {
				t.Fatal(err)
			}
			l.ID = raw
		}
		return logs
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, vs.FulcioCertificateAuthorities(), rawIDs(vs.CTLogs()), vs.TimestampingAuthorities(), rawIDs(vs.RekorLogs()))
	if err != nil {
		t.Fatal(err)
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return vs, p
}

// keylessParts signs content keylessly: the Fulcio leaf, the signature, the
// Rekor entry (with its SignedEntryTimestamp) and an RFC 3161 timestamp.
type keylessParts struct {
	leafDER, sig, tsr []byte
	entry             *protorekor.TransparencyLogEntry
}

func signKeyless(t *testing.T, vs *ca.VirtualSigstore, identity, issuer string, content []byte) keylessParts {
	t.Helper()
	e, err := vs.SignAtTime(identity, issuer, content, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	vc, err := e.VerificationContent()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := e.SignatureContent()
	if err != nil {
		t.Fatal(err)
	}
	ts, err := e.Timestamps()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := e.TlogEntries()
	if err != nil {
		t.Fatal(err)
	}
	// The entry's proto form lacks its kind and inclusion promise: the
	// SignedEntryTimestamp is made again with the virtual Rekor's key, over
	// the same payload sigstore-go's ca signs.
	tle := entries[0].TransparencyLogEntry()
	set, err := vs.RekorSignPayload(tlog.RekorPayload{Body: base64.StdEncoding.EncodeToString(tle.GetCanonicalizedBody()),
		IntegratedTime: tle.GetIntegratedTime(), LogIndex: tle.GetLogIndex(), LogID: hex.EncodeToString(tle.GetLogId().GetKeyId())})
	if err != nil {
		t.Fatal(err)
	}
	tle.KindVersion = &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.1"}
	tle.InclusionPromise = &protorekor.InclusionPromise{SignedEntryTimestamp: set}
	return keylessParts{leafDER: vc.Certificate().Raw, sig: sc.Signature(), tsr: ts[0], entry: tle}
}

// annotations are cosign's legacy .sig layer annotations for parts.
func (k keylessParts) annotations(t *testing.T) map[string]string {
	t.Helper()
	rb, err := json.Marshal(map[string]any{
		"SignedEntryTimestamp": k.entry.GetInclusionPromise().GetSignedEntryTimestamp(),
		"Payload": map[string]any{"body": base64.StdEncoding.EncodeToString(k.entry.GetCanonicalizedBody()),
			"integratedTime": k.entry.GetIntegratedTime(), "logIndex": k.entry.GetLogIndex(), "logID": hex.EncodeToString(k.entry.GetLogId().GetKeyId())},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := json.Marshal(map[string][]byte{"SignedRFC3161Timestamp": k.tsr})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{
		annSignature:   base64.StdEncoding.EncodeToString(k.sig),
		annCertificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.leafDER})),
		annRekorBundle: string(rb),
		annRFC3161:     string(ts),
	}
}

// bundle01 is parts as a Sigstore bundle v0.1 (an inclusion promise, no
// proof) with a message signature over content.
func (k keylessParts) bundle01(t *testing.T, digest []byte) []byte {
	t.Helper()
	pb := &protobundle.Bundle{
		MediaType: "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content: &protobundle.VerificationMaterial_X509CertificateChain{X509CertificateChain: &protocommon.X509CertificateChain{
				Certificates: []*protocommon.X509Certificate{{RawBytes: k.leafDER}}}},
			TlogEntries:               []*protorekor.TransparencyLogEntry{k.entry},
			TimestampVerificationData: &protobundle.TimestampVerificationData{Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: k.tsr}}},
		},
		Content: &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest}, Signature: k.sig}},
	}
	b, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKeyless: keyless signatures from sigstore-go's virtual Sigstore
// (Fulcio certificate, Rekor entry, RFC 3161 timestamp), verified offline
// from its trusted_root.json with issuer and subject pinned: a legacy
// cosign .sig (certificate, rekor bundle and timestamp annotations) and a
// v0.1 bundle referrer both pass, at the default threshold (1 tlog entry)
// and with a timestamp authority required; another subject, another issuer
// or 2 tlog entries fail.
func TestKeyless(t *testing.T) {
	ctx := context.Background()
	vs, rootPath := virtualSigstore(t)
	const issuer, subject = "https://token.actions.example", "https://github.com/example/app/.github/workflows/release.yml@refs/heads/main"
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(true), registry.Logger(discardLogger())))
	t.Cleanup(srv.Close)
	repo := strings.TrimPrefix(srv.URL, "http://") + "/team/app"

	img := pushImage(t, repo)
	payload := []byte(`{"critical":{"identity":{"docker-reference":"` + repo + `"},"image":{"docker-manifest-digest":"` + img.desc.Digest.String() + `"},"type":"cosign container image signature"},"optional":null}`)
	legacy := signKeyless(t, vs, subject, issuer, payload)
	layers := pushLegacy(t, img, ".sig", "application/vnd.dev.cosign.simplesigning.v1+json",
		mutate.Addendum{Layer: static.NewLayer(payload, "application/vnd.dev.cosign.simplesigning.v1+json"), Annotations: legacy.annotations(t)})
	bundled := signKeyless(t, vs, subject, issuer, img.raw)
	digest, _ := hex.DecodeString(img.desc.Digest.Hex)
	ref := attach(t, img, bundled.bundle01(t, digest), "")

	pinned := Identity{Issuer: issuer, Subject: subject}
	tests := []struct {
		name string
		o    Options
		err  string // "" = both verify
	}{
		{name: "default thresholds", o: Options{TrustedRoot: rootPath, Identities: []Identity{pinned}}},
		{name: "timestamp authority required", o: Options{TrustedRoot: rootPath, TimestampThreshold: 1, Identities: []Identity{{IssuerRegexp: `^https://token\.actions\.example$`, Subject: subject}}}},
		{name: "another subject", o: Options{TrustedRoot: rootPath, Identities: []Identity{{Issuer: issuer, Subject: "https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main"}}}, err: "no matching CertificateIdentity"},
		{name: "another issuer", o: Options{TrustedRoot: rootPath, Identities: []Identity{{Issuer: "https://accounts.example", Subject: subject}}}, err: "no matching CertificateIdentity"},
		{name: "2 tlog entries", o: Options{TrustedRoot: rootPath, TlogThreshold: 2, Identities: []Identity{pinned}}, err: "not enough verified log entries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Run(ctx, Target{Digest: img.ref}, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Signatures) != 2 {
				t.Fatalf("%d signatures, want 2: %+v", len(got.Signatures), got)
			}
			if tc.err != "" {
				for _, s := range got.Signatures {
					if s.Verified || !strings.Contains(s.Error, tc.err) {
						t.Errorf("%s signature: verified %v, error %q; want a failure saying %q", s.Kind, s.Verified, s.Error, tc.err)
					}
				}
				if got.Verified {
					t.Error("SupplyChain.Verified with no verified signature")
				}
				return
			}
			for i, s := range got.Signatures {
				if s.SignedAt == nil || s.TlogIndex == nil || !s.TimeVerified {
					t.Errorf("%s: signed at %v, tlog index %v, time verified %v", s.Kind, s.SignedAt, s.TlogIndex, s.TimeVerified)
				}
				got.Signatures[i].SignedAt, got.Signatures[i].TlogIndex, got.Signatures[i].TimeVerified = nil, nil, false
			}
			want := []result.Signature{
				{Kind: "cosign-legacy", Source: "cosign-tag", Digest: layers[0].String(), Covers: img.desc.Digest.String(), Verified: true, Identity: subject, Issuer: issuer},
				{Kind: "sigstore-bundle", Source: "referrers", Digest: ref.String(), Covers: img.desc.Digest.String(), Verified: true, Identity: subject, Issuer: issuer},
			}
			if d := cmp.Diff(want, got.Signatures); d != "" || !got.Verified {
				t.Errorf("verified %v; signatures -want +got:\n%s", got.Verified, d)
			}
		})
	}
}
