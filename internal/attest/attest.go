// Package attest signs in-toto Statements as Sigstore bundles, attaches them
// to images as OCI 1.1 referrers and finds and verifies them again.
//
// Signing is keyed and offline: an ECDSA P-256 key from a PEM file signs a
// DSSE envelope (sigstore-go's sign package), and the bundle (media type
// application/vnd.dev.sigstore.bundle.v0.3+json) carries only the public
// key's hint as verification material: no Fulcio certificate, no Rekor
// entry, no timestamp authority.
//
// The referrer follows sigstore/cosign specs/BUNDLE_SPEC.md: an OCI image
// manifest with artifactType = the bundle media type, the empty config, one
// layer holding the bundle JSON and subject = the image manifest. Pushing it
// with go-containerregistry keeps the referrers tag schema
// (sha256-<hex>, an image index) up to date on registries without the
// referrers API, and listing reads that tag when the API is missing.
package attest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	sgbundle "github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"
	"google.golang.org/protobuf/encoding/protojson"
)

// Media types and annotations of the referrer (cosign specs/BUNDLE_SPEC.md).
const (
	BundleMediaType         = "application/vnd.dev.sigstore.bundle.v0.3+json"
	InTotoPayloadType       = "application/vnd.in-toto+json"
	AnnotationContent       = "dev.sigstore.bundle.content"
	AnnotationPredicateType = "dev.sigstore.bundle.predicateType"
	AnnotationCreated       = "org.opencontainers.image.created"
	AnnotationTitle         = "org.opencontainers.image.title"
)

// MaxBundleSize bounds a bundle blob read back from a registry. A bundle
// holds the whole scan report; 64 MiB is far above any report drydock writes
// and far below what would exhaust memory.
const MaxBundleSize = 64 << 20

// ErrNotFound is returned by Find when the image has no bundle referrer.
var ErrNotFound = errors.New("no Sigstore bundle refers to the image")

// LoadPrivateKey reads an unencrypted ECDSA P-256 private key from PEM
// ("EC PRIVATE KEY", SEC 1, as openssl ecparam writes it, or "PRIVATE KEY",
// PKCS #8). Encrypted keys (cosign's "ENCRYPTED SIGSTORE PRIVATE KEY") are
// refused, naming what was found.
func LoadPrivateKey(pemBytes []byte) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("reading private key: no PEM block")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("reading private key: PEM block %q: want an unencrypted \"EC PRIVATE KEY\" or \"PRIVATE KEY\" (ECDSA P-256)", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("reading private key (%s): %w", block.Type, err)
	}
	ec, ok := key.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("reading private key: a %T, want ECDSA P-256", key)
	}
	if ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("reading private key: ECDSA on %s, want P-256", ec.Curve.Params().Name)
	}
	return ec, nil
}

// LoadPublicKey reads an ECDSA P-256 public key from PEM ("PUBLIC KEY",
// PKIX, as cosign and openssl write it).
func LoadPublicKey(pemBytes []byte) (*ecdsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("reading public key: no PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("reading public key: PEM block %q, want \"PUBLIC KEY\"", block.Type)
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	ec, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("reading public key: a %T, want ECDSA P-256", key)
	}
	if ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("reading public key: ECDSA on %s, want P-256", ec.Curve.Params().Name)
	}
	return ec, nil
}

// KeyHint is the bundle's public key hint: base64 of the SHA-256 of the
// PKIX public key, as sigstore-go's ephemeral keypair computes it.
func KeyHint(pub *ecdsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	sum := sha256.Sum256(der)
	return base64.StdEncoding.EncodeToString(sum[:]), nil
}

// keypair is a sign.Keypair over a key read from a file.
type keypair struct {
	key  *ecdsa.PrivateKey
	hint string
}

func (k *keypair) GetHashAlgorithm() protocommon.HashAlgorithm {
	return protocommon.HashAlgorithm_SHA2_256
}

func (k *keypair) GetSigningAlgorithm() protocommon.PublicKeyDetails {
	return protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256
}

func (k *keypair) GetHint() []byte                { return []byte(k.hint) }
func (k *keypair) GetKeyAlgorithm() string        { return "ECDSA" }
func (k *keypair) GetPublicKey() crypto.PublicKey { return &k.key.PublicKey }

func (k *keypair) GetPublicKeyPem() (string, error) {
	der, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
	if err != nil {
		return "", fmt.Errorf("encoding public key: %w", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// SignData signs SHA-256(data) (ASN.1 DER signature) and returns the
// signature and the digest.
func (k *keypair) SignData(_ context.Context, data []byte) ([]byte, []byte, error) {
	sum := sha256.Sum256(data)
	sig, err := ecdsa.SignASN1(rand.Reader, k.key, sum[:])
	if err != nil {
		return nil, nil, fmt.Errorf("signing: %w", err)
	}
	return sig, sum[:], nil
}

// Keypair is key as a sigstore-go sign.Keypair (its hint is KeyHint), for
// signing other content than a Statement (internal/verify's tests sign
// image digests with it).
func Keypair(key *ecdsa.PrivateKey) (sign.Keypair, error) {
	hint, err := KeyHint(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &keypair{key: key, hint: hint}, nil
}

// Sign signs an in-toto Statement (JSON) as a DSSE envelope and returns the
// Sigstore bundle v0.3 as JSON. No transparency log, certificate or
// timestamp is requested: nothing leaves the machine.
func Sign(ctx context.Context, statement []byte, key *ecdsa.PrivateKey) ([]byte, error) {
	if !json.Valid(statement) {
		return nil, errors.New("signing: the statement is not JSON")
	}
	hint, err := KeyHint(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	b, err := sign.Bundle(&sign.DSSEData{Data: statement, PayloadType: InTotoPayloadType}, &keypair{key: key, hint: hint},
		sign.BundleOptions{Context: ctx})
	if err != nil {
		return nil, fmt.Errorf("signing the statement: %w", err)
	}
	out, err := protojson.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encoding the bundle: %w", err)
	}
	return out, nil
}

// Verified is what a verified bundle says.
type Verified struct {
	// Statement is the signed in-toto Statement, byte for byte.
	Statement []byte
	// PredicateType is the Statement's predicateType.
	PredicateType string
}

// Verify checks a Sigstore bundle against the public key with sigstore-go:
// the DSSE signature over the envelope, and that the signed Statement's
// subject holds digest (the image manifest the bundle is attached to). The
// bundle's key hint is not trusted to pick the key: pub is the only key.
func Verify(bundleJSON []byte, pub *ecdsa.PublicKey, digest v1.Hash) (*Verified, error) {
	var pb protobundle.Bundle
	if err := protojson.Unmarshal(bundleJSON, &pb); err != nil {
		return nil, fmt.Errorf("decoding the bundle: %w", err)
	}
	b, err := sgbundle.NewBundle(&pb)
	if err != nil {
		return nil, fmt.Errorf("decoding the bundle: %w", err)
	}
	sv, err := signature.LoadECDSAVerifier(pub, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("loading the public key: %w", err)
	}
	key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
	trusted := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
	v, err := verify.NewVerifier(trusted, verify.WithNoObserverTimestamps())
	if err != nil {
		return nil, fmt.Errorf("setting up verification: %w", err)
	}
	want, err := hex.DecodeString(digest.Hex)
	if err != nil || digest.Algorithm == "" {
		return nil, fmt.Errorf("verifying: bad image digest %q", digest)
	}
	if _, err := v.Verify(b, verify.NewPolicy(verify.WithArtifactDigest(digest.Algorithm, want), verify.WithKey())); err != nil {
		return nil, fmt.Errorf("verifying the bundle: %w", err)
	}
	env := pb.GetDsseEnvelope()
	if env == nil {
		return nil, errors.New("verifying the bundle: no DSSE envelope")
	}
	if env.GetPayloadType() != InTotoPayloadType {
		return nil, fmt.Errorf("verifying the bundle: payload type %q, want %q", env.GetPayloadType(), InTotoPayloadType)
	}
	var head struct {
		PredicateType string `json:"predicateType"`
	}
	if err := json.Unmarshal(env.GetPayload(), &head); err != nil {
		return nil, fmt.Errorf("decoding the signed statement: %w", err)
	}
	return &Verified{Statement: env.GetPayload(), PredicateType: head.PredicateType}, nil
}

// Attach pushes the bundle as an OCI 1.1 referrer of subject (the image
// manifest): the empty config blob, the bundle blob, then the artifact
// manifest, PUT by digest. On a registry without the referrers API,
// go-containerregistry adds the manifest to the sha256-<hex> tag index.
// predicateType and created become annotations (BUNDLE_SPEC.md). It returns
// the referrer manifest's digest.
func Attach(ctx context.Context, subject name.Digest, subjectDesc v1.Descriptor, bundleJSON []byte, predicateType string, created time.Time, opts ...remote.Option) (v1.Hash, error) {
	opts = append(opts, remote.WithContext(ctx))
	repo := subject.Context()
	config := static.NewLayer([]byte("{}"), types.OCIEmptyJSON)
	layer := static.NewLayer(bundleJSON, types.MediaType(BundleMediaType))
	for what, l := range map[string]v1.Layer{"empty config": config, "bundle": layer} {
		if err := remote.WriteLayer(repo, l, opts...); err != nil {
			return v1.Hash{}, fmt.Errorf("pushing the %s blob to %s: %w", what, repo, err)
		}
	}
	configDesc, err := descriptorOf(config, types.OCIEmptyJSON)
	if err != nil {
		return v1.Hash{}, err
	}
	layerDesc, err := descriptorOf(layer, types.MediaType(BundleMediaType))
	if err != nil {
		return v1.Hash{}, err
	}
	layerDesc.Annotations = map[string]string{AnnotationTitle: strings.Replace(layerDesc.Digest.String(), ":", "-", 1) + ".sigstore.json"}
	m := v1.Manifest{
		SchemaVersion: 2,
		MediaType:     types.OCIManifestSchema1,
		ArtifactType:  BundleMediaType,
		Config:        configDesc,
		Layers:        []v1.Descriptor{layerDesc},
		Subject:       &v1.Descriptor{MediaType: subjectDesc.MediaType, Digest: subjectDesc.Digest, Size: subjectDesc.Size},
		Annotations: map[string]string{
			AnnotationContent:       "dsse-envelope",
			AnnotationPredicateType: predicateType,
			AnnotationCreated:       created.UTC().Format(time.RFC3339),
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("encoding the referrer manifest: %w", err)
	}
	h, _, err := v1.SHA256(bytes.NewReader(raw))
	if err != nil {
		return v1.Hash{}, fmt.Errorf("hashing the referrer manifest: %w", err)
	}
	if err := remote.Put(repo.Digest(h.String()), rawManifest{raw: raw, mt: types.OCIManifestSchema1}, opts...); err != nil {
		return v1.Hash{}, fmt.Errorf("pushing the referrer manifest to %s: %w", repo, err)
	}
	return h, nil
}

func descriptorOf(l v1.Layer, mt types.MediaType) (v1.Descriptor, error) {
	d, err := l.Digest()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("hashing a blob: %w", err)
	}
	n, err := l.Size()
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("sizing a blob: %w", err)
	}
	return v1.Descriptor{MediaType: mt, Digest: d, Size: n}, nil
}

// rawManifest is a remote.Taggable of bytes made here.
type rawManifest struct {
	raw []byte
	mt  types.MediaType
}

func (r rawManifest) RawManifest() ([]byte, error)        { return r.raw, nil }
func (r rawManifest) MediaType() (types.MediaType, error) { return r.mt, nil }

// Referrer is one bundle found for an image.
type Referrer struct {
	// Manifest is the referrer manifest's digest.
	Manifest v1.Hash
	// Annotations are the referrer manifest's.
	Annotations map[string]string
	// Bundle is the bundle JSON.
	Bundle []byte
}

// Find lists the Sigstore bundles that refer to subject: the referrers API,
// or the sha256-<hex> tag index where the registry has none (both through
// go-containerregistry's remote.Referrers). A listed referrer that is not
// one of subject's bundles (its manifest names another subject or holds no
// bundle layer: the tag index is not authenticated, so what it lists is
// checked) or that cannot be read is not returned; skipped says which and
// why. It returns ErrNotFound when no bundle refers to the image and none
// failed to read, and an error naming each failure when some did.
func Find(ctx context.Context, subject name.Digest, opts ...remote.Option) (found []Referrer, skipped []string, err error) {
	opts = append(opts, remote.WithContext(ctx))
	// No artifactType filter: some registries list a referrer under its
	// config media type rather than its artifactType (go-containerregistry's
	// own pkg/registry does), so entries are checked on their manifest.
	idx, err := remote.Referrers(subject, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the referrers of %s: %w", subject, err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the referrers of %s: %w", subject, err)
	}
	want, err := v1.NewHash(subject.DigestStr())
	if err != nil {
		return nil, nil, fmt.Errorf("parsing %s: %w", subject, err)
	}
	var failed []string
	for _, d := range im.Manifests {
		if d.ArtifactType != BundleMediaType && d.ArtifactType != string(types.OCIEmptyJSON) && d.ArtifactType != "" {
			continue
		}
		r, why, err := readReferrer(subject.Context(), want, d.Digest, opts)
		switch {
		case err != nil:
			failed = append(failed, err.Error())
		case why != "":
			skipped = append(skipped, fmt.Sprintf("referrer %s: %s", d.Digest, why))
		default:
			found = append(found, r)
		}
	}
	skipped = append(skipped, failed...)
	if len(found) == 0 && len(failed) > 0 {
		return nil, skipped, fmt.Errorf("%s: no bundle could be read: %s", subject, strings.Join(skipped, "; "))
	}
	if len(found) == 0 {
		if len(skipped) > 0 {
			return nil, skipped, fmt.Errorf("%s (%s): %w", subject, strings.Join(skipped, "; "), ErrNotFound)
		}
		return nil, nil, fmt.Errorf("%s: %w", subject, ErrNotFound)
	}
	return found, skipped, nil
}

// readReferrer reads one listed referrer of the subject digest want: the
// bundle, or why it is not one of want's bundles, or the error reading it.
func readReferrer(repo name.Repository, want, d v1.Hash, opts []remote.Option) (Referrer, string, error) {
	ref := repo.Digest(d.String())
	desc, err := remote.Get(ref, opts...)
	if err != nil {
		return Referrer{}, "", fmt.Errorf("fetching referrer %s: %w", ref, err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return Referrer{}, "", fmt.Errorf("decoding referrer %s: %w", ref, err)
	}
	switch {
	case m.Subject == nil || m.Subject.Digest != want:
		return Referrer{}, "its manifest does not name " + want.String() + " as its subject", nil
	case m.ArtifactType != BundleMediaType || len(m.Layers) == 0 || m.Layers[0].MediaType != types.MediaType(BundleMediaType):
		return Referrer{}, fmt.Sprintf("not a Sigstore bundle (artifactType %q, %d layer(s))", m.ArtifactType, len(m.Layers)), nil
	}
	b, err := readBlob(repo, m.Layers[0], opts)
	if err != nil {
		return Referrer{}, "", fmt.Errorf("referrer %s: %w", d, err)
	}
	return Referrer{Manifest: d, Annotations: m.Annotations, Bundle: b}, "", nil
}

// readBlob reads a bundle blob, bounded by MaxBundleSize, and checks its
// digest.
func readBlob(repo name.Repository, d v1.Descriptor, opts []remote.Option) ([]byte, error) {
	if d.Size > MaxBundleSize {
		return nil, fmt.Errorf("bundle blob %s is %d bytes, over the %d limit", d.Digest, d.Size, MaxBundleSize)
	}
	l, err := remote.Layer(repo.Digest(d.Digest.String()), opts...)
	if err != nil {
		return nil, fmt.Errorf("fetching bundle blob %s: %w", d.Digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, fmt.Errorf("fetching bundle blob %s: %w", d.Digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading bundle blob %s: %w", d.Digest, err)
	}
	if len(b) > MaxBundleSize {
		return nil, fmt.Errorf("bundle blob %s is over the %d byte limit", d.Digest, MaxBundleSize)
	}
	if got, _, err := v1.SHA256(bytes.NewReader(b)); err != nil || got != d.Digest {
		return nil, fmt.Errorf("bundle blob %s: content has digest %s", d.Digest, got)
	}
	return b, nil
}
