package verify

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// outcome is what checking one signed entity against the trusts gave.
type outcome struct {
	verified     bool
	identity     string
	issuer       string
	signedAt     *time.Time
	timeVerified bool
	tlogIndex    *int64
	err          string
}

// check verifies entity against each trust in turn (the first that
// verifies wins). artifact makes a fresh artifact policy for each attempt
// (a reader is consumed by one).
func check(entity *sgbundle.Bundle, artifact func() sgverify.ArtifactPolicyOption, ts []trust) outcome {
	var out outcome
	// What the entity claims, kept when nothing verifies it (TimeVerified
	// stays false).
	if entries, err := entity.TlogEntries(); err == nil && len(entries) > 0 {
		idx := entries[0].LogIndex()
		out.tlogIndex = &idx
		if it := entries[0].IntegratedTime(); !it.IsZero() {
			it = it.UTC()
			out.signedAt = &it
		}
	}
	if len(ts) == 0 {
		out.err = "no key or keyless identity configured: nothing to verify this signature against"
		return out
	}
	var errs []string
	for _, t := range ts {
		res, err := t.v.Verify(entity, sgverify.NewPolicy(artifact(), t.policy...))
		if err != nil {
			errs = append(errs, t.desc+": "+err.Error())
			continue
		}
		out.verified, out.err = true, ""
		out.identity = t.identity
		if res.Signature != nil && res.Signature.Certificate != nil {
			out.identity = res.Signature.Certificate.SubjectAlternativeName
			out.issuer = res.Signature.Certificate.Issuer
		}
		for _, ts := range res.VerifiedTimestamps {
			at := ts.Timestamp.UTC()
			if out.signedAt == nil || !out.timeVerified || at.Before(*out.signedAt) {
				out.signedAt = &at
			}
			out.timeVerified = true
		}
		return out
	}
	out.err = strings.Join(errs, "; ")
	return out
}

// digestPolicy is the artifact policy "the signature signs this digest":
// a message signature's digest, or a DSSE statement's subject.
func digestPolicy(d v1.Hash) (func() sgverify.ArtifactPolicyOption, error) {
	raw, err := hex.DecodeString(d.Hex)
	if err != nil || d.Algorithm == "" {
		return nil, fmt.Errorf("bad digest %q", d)
	}
	return func() sgverify.ArtifactPolicyOption { return sgverify.WithArtifactDigest(d.Algorithm, raw) }, nil
}

// dssePolicies are the artifact policies "the DSSE statement's subjects
// include this digest", one per digest: sigstore-go's WithArtifactDigests
// wants every digest it is given among the subjects, and a statement about
// the platform manifest alone (or the listing index alone) covers it.
func dssePolicies(ds []v1.Hash) ([]func() sgverify.ArtifactPolicyOption, error) {
	var out []func() sgverify.ArtifactPolicyOption
	for _, d := range ds {
		p, err := digestPolicy(d)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// checkAny is check with each artifact policy in turn: the first that
// verifies wins (its index is returned, -1 when none does); when none
// does, the errors of every attempt are kept.
func checkAny(entity *sgbundle.Bundle, policies []func() sgverify.ArtifactPolicyOption, ts []trust) (outcome, int) {
	var out outcome
	var errs []string
	for i, p := range policies {
		out = check(entity, p, ts)
		if out.verified {
			return out, i
		}
		if !slices.Contains(errs, out.err) {
			errs = append(errs, out.err)
		}
	}
	out.err = strings.Join(errs, "; ")
	return out, -1
}

// parseBundle decodes a Sigstore bundle (v0.1 to v0.3) as sigstore-go does.
func parseBundle(b []byte) (*sgbundle.Bundle, error) {
	var out sgbundle.Bundle
	if err := out.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("decoding the Sigstore bundle: %w", err)
	}
	return &out, nil
}

// Cosign's legacy signature annotations (cosign's pkg/oci/static).
const (
	annSignature   = "dev.cosignproject.cosign/signature"
	annCertificate = "dev.sigstore.cosign/certificate"
	annChain       = "dev.sigstore.cosign/chain"
	annRekorBundle = "dev.sigstore.cosign/bundle"
	annRFC3161     = "dev.sigstore.cosign/rfc3161timestamp"
)

// legacyBundle converts one layer of a cosign legacy signature or
// attestation manifest into a Sigstore bundle v0.1 (the version whose
// transparency-log entries may carry only an inclusion promise, which is
// what cosign's rekor bundle annotation holds). For a signature, content
// is the simple-signing payload and the annotation holds the signature;
// for an attestation, content is the DSSE envelope.
func legacyBundle(ann map[string]string, content []byte, attestation bool) (*sgbundle.Bundle, error) {
	pb := &protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: &protobundle.VerificationMaterial{},
	}
	if attestation {
		env, err := parseDSSE(content)
		if err != nil {
			return nil, err
		}
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: env}
	} else {
		sig, err := base64.StdEncoding.DecodeString(ann[annSignature])
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("annotation %s is not a base64 signature", annSignature)
		}
		sum := sha256.Sum256(content)
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: sum[:]},
			Signature:     sig,
		}}
	}
	if c := ann[annCertificate]; c != "" {
		certs, err := pemCerts(c + "\n" + ann[annChain])
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", annCertificate, err)
		}
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_X509CertificateChain{
			X509CertificateChain: &protocommon.X509CertificateChain{Certificates: certs}}
	} else {
		pb.VerificationMaterial.Content = &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: "cosign-legacy"}}
	}
	if rb := ann[annRekorBundle]; rb != "" {
		e, err := rekorEntry(rb)
		if err != nil {
			return nil, fmt.Errorf("annotation %s: %w", annRekorBundle, err)
		}
		pb.VerificationMaterial.TlogEntries = []*protorekor.TransparencyLogEntry{e}
	}
	if ts := ann[annRFC3161]; ts != "" {
		var t struct {
			SignedRFC3161Timestamp []byte `json:"SignedRFC3161Timestamp"`
		}
		if err := json.Unmarshal([]byte(ts), &t); err != nil || len(t.SignedRFC3161Timestamp) == 0 {
			return nil, fmt.Errorf("annotation %s: no base64 SignedRFC3161Timestamp", annRFC3161)
		}
		pb.VerificationMaterial.TimestampVerificationData = &protobundle.TimestampVerificationData{
			Rfc3161Timestamps: []*protocommon.RFC3161SignedTimestamp{{SignedTimestamp: t.SignedRFC3161Timestamp}}}
	}
	b, err := sgbundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("converting the cosign signature to a Sigstore bundle: %w", err)
	}
	return b, nil
}

func pemCerts(s string) ([]*protocommon.X509Certificate, error) {
	var out []*protocommon.X509Certificate
	rest := []byte(s)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return nil, fmt.Errorf("parsing a certificate: %w", err)
		}
		out = append(out, &protocommon.X509Certificate{RawBytes: block.Bytes})
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate")
	}
	return out, nil
}

// rekorEntry converts cosign's rekor bundle annotation (a
// SignedEntryTimestamp and the entry: body, integratedTime, logIndex,
// logID) into a transparency-log entry with an inclusion promise.
func rekorEntry(s string) (*protorekor.TransparencyLogEntry, error) {
	var rb struct {
		SignedEntryTimestamp []byte `json:"SignedEntryTimestamp"`
		Payload              struct {
			Body           string `json:"body"`
			IntegratedTime int64  `json:"integratedTime"`
			LogIndex       int64  `json:"logIndex"`
			LogID          string `json:"logID"`
		} `json:"Payload"`
	}
	if err := json.Unmarshal([]byte(s), &rb); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	body, err := base64.StdEncoding.DecodeString(rb.Payload.Body)
	if err != nil {
		return nil, fmt.Errorf("decoding the entry body: %w", err)
	}
	logID, err := hex.DecodeString(rb.Payload.LogID)
	if err != nil {
		return nil, fmt.Errorf("decoding the log id: %w", err)
	}
	var kind struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kind); err != nil {
		return nil, fmt.Errorf("decoding the entry body: %w", err)
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          rb.Payload.LogIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       &protorekor.KindVersion{Kind: kind.Kind, Version: kind.APIVersion},
		IntegratedTime:    rb.Payload.IntegratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: rb.SignedEntryTimestamp},
		CanonicalizedBody: body,
	}, nil
}

// parseDSSE reads a DSSE envelope in its JSON form (payload and signatures
// base64).
func parseDSSE(b []byte) (*protodsse.Envelope, error) {
	var env struct {
		PayloadType string `json:"payloadType"`
		Payload     []byte `json:"payload"`
		Signatures  []struct {
			KeyID string `json:"keyid"`
			Sig   []byte `json:"sig"`
		} `json:"signatures"`
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("decoding the DSSE envelope: %w", err)
	}
	if len(env.Signatures) == 0 {
		return nil, errors.New("the DSSE envelope has no signature")
	}
	out := &protodsse.Envelope{Payload: env.Payload, PayloadType: env.PayloadType}
	for _, s := range env.Signatures {
		out.Signatures = append(out.Signatures, &protodsse.Signature{Sig: s.Sig, Keyid: s.KeyID})
	}
	return out, nil
}

// simpleSigningDigest is the critical.image.docker-manifest-digest of a
// cosign simple-signing payload.
func simpleSigningDigest(payload []byte) (string, error) {
	var p struct {
		Critical struct {
			Image struct {
				Digest string `json:"docker-manifest-digest"`
			} `json:"image"`
			Type string `json:"type"`
		} `json:"critical"`
	}
	if err := json.Unmarshal(payload, &p); err != nil {
		return "", fmt.Errorf("decoding the simple-signing payload: %w", err)
	}
	if p.Critical.Image.Digest == "" {
		return "", errors.New("the simple-signing payload has no critical.image.docker-manifest-digest")
	}
	return p.Critical.Image.Digest, nil
}

// readerPolicy is an artifact policy over bytes (a fresh reader each time).
func readerPolicy(b []byte) func() sgverify.ArtifactPolicyOption {
	return func() sgverify.ArtifactPolicyOption {
		return sgverify.WithArtifact(io.Reader(bytes.NewReader(b)))
	}
}
