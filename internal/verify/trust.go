package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// trust is one way a Sigstore signature can verify: a public key, or the
// keyless identities under a trusted root.
type trust struct {
	// desc is the Trust string ("key sha256:…", "keyless issuer=… subject=…").
	desc string
	// identity names the signer when this trust verifies (key:<fingerprint>);
	// empty for keyless (the certificate says).
	identity string
	v        *sgverify.Verifier
	// policy are the identity options of the sigstore-go policy.
	policy []sgverify.PolicyOption
}

// trusts builds the configured Sigstore trusts. Errors are for unusable
// options only (a key or root that does not load, an identity that does
// not pin both issuer and subject).
func trusts(o Options) ([]trust, error) {
	var tr *root.TrustedRoot
	if o.TrustedRoot != "" {
		var err error
		tr, err = root.NewTrustedRootFromPath(o.TrustedRoot)
		if err != nil {
			return nil, fmt.Errorf("reading the trusted root %s: %w", o.TrustedRoot, err)
		}
	}
	tl, ts := threshold(o.TlogThreshold, 0), threshold(o.TimestampThreshold, 0)
	var out []trust
	for _, path := range o.KeyFiles {
		pemBytes, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading the public key %s: %w", path, err)
		}
		pub, err := cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("reading the public key %s: %w", path, err)
		}
		sv, err := signature.LoadVerifier(pub, hashFor(pub))
		if err != nil {
			return nil, fmt.Errorf("reading the public key %s: %w", path, err)
		}
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("reading the public key %s: %w", path, err)
		}
		sum := sha256.Sum256(der)
		fp := "sha256:" + hex.EncodeToString(sum[:])
		// The bundle's key hint is not trusted to pick the key: this key
		// is the only one this trust tries.
		key := root.NewExpiringKey(sv, time.Time{}, time.Time{})
		var material root.TrustedMaterial = root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return key, nil })
		var vopts []sgverify.VerifierOption
		if tl > 0 || ts > 0 {
			if tr == nil {
				return nil, fmt.Errorf("key %s: a transparency-log or timestamp threshold needs a trusted root (its logs and authorities)", path)
			}
			material = root.TrustedMaterialCollection{tr, material}
		}
		if tl > 0 {
			vopts = append(vopts, sgverify.WithTransparencyLog(tl))
		}
		if ts > 0 {
			vopts = append(vopts, sgverify.WithSignedTimestamps(ts))
		}
		if tl == 0 && ts == 0 {
			vopts = append(vopts, sgverify.WithNoObserverTimestamps())
		}
		v, err := sgverify.NewVerifier(material, vopts...)
		if err != nil {
			return nil, fmt.Errorf("setting up verification with the key %s: %w", path, err)
		}
		desc := "key " + fp
		if tl > 0 {
			desc += fmt.Sprintf(" tlog>=%d", tl)
		}
		if ts > 0 {
			desc += fmt.Sprintf(" timestamps>=%d", ts)
		}
		out = append(out, trust{desc: desc, identity: "key:" + fp, v: v, policy: []sgverify.PolicyOption{sgverify.WithKey()}})
	}
	if len(o.Identities) > 0 {
		if tr == nil {
			return nil, errors.New("keyless identities need a trusted root (--trusted-root trusted_root.json): nothing else says which Fulcio and Rekor to trust")
		}
		ktl, kts := threshold(o.TlogThreshold, 1), threshold(o.TimestampThreshold, 0)
		var vopts []sgverify.VerifierOption
		if ktl > 0 {
			vopts = append(vopts, sgverify.WithTransparencyLog(ktl))
		}
		if kts > 0 {
			vopts = append(vopts, sgverify.WithSignedTimestamps(kts))
		}
		if ktl > 0 || kts > 0 {
			// The certificate is checked at a verified time: the log's
			// integrated time or a timestamp authority's.
			vopts = append(vopts, sgverify.WithObserverTimestamps(1))
		} else {
			vopts = append(vopts, sgverify.WithCurrentTime())
		}
		v, err := sgverify.NewVerifier(tr, vopts...)
		if err != nil {
			return nil, fmt.Errorf("setting up keyless verification with %s: %w", o.TrustedRoot, err)
		}
		var policy []sgverify.PolicyOption
		var pins []string
		for _, id := range o.Identities {
			if (id.Issuer == "") == (id.IssuerRegexp == "") || (id.Subject == "") == (id.SubjectRegexp == "") {
				return nil, fmt.Errorf("keyless identity %+v: pin the issuer and the subject, each exactly or by a regexp (one of the two)", id)
			}
			for _, re := range []string{id.IssuerRegexp, id.SubjectRegexp} {
				if re != "" {
					if _, err := regexp.Compile(re); err != nil {
						return nil, fmt.Errorf("keyless identity: regexp %q: %w", re, err)
					}
				}
			}
			// A regexp matches the whole issuer or subject: sigstore-go
			// (and cosign) find it anywhere in the value, so
			// ".*@example\.com" would take "x@example.com.attacker.example".
			ci, err := sgverify.NewShortCertificateIdentity(id.Issuer, anchor(id.IssuerRegexp), id.Subject, anchor(id.SubjectRegexp))
			if err != nil {
				return nil, fmt.Errorf("keyless identity %+v: %w", id, err)
			}
			policy = append(policy, sgverify.WithCertificateIdentity(ci))
			pins = append(pins, describeIdentity(id))
		}
		desc := fmt.Sprintf("keyless %s (trusted root %s, tlog>=%d", strings.Join(pins, "; "), o.TrustedRoot, ktl)
		if kts > 0 {
			desc += fmt.Sprintf(", timestamps>=%d", kts)
		}
		out = append(out, trust{desc: desc + ")", v: v, policy: policy})
	}
	return out, nil
}

// threshold is the configured threshold: 0 means the default, a negative
// value means none.
func threshold(configured, def int) int {
	switch {
	case configured < 0:
		return 0
	case configured == 0:
		return def
	}
	return configured
}

// anchor makes a regexp match the whole value ("" stays "": no regexp).
func anchor(re string) string {
	if re == "" {
		return ""
	}
	return `^(?:` + re + `)$`
}

func describeIdentity(id Identity) string {
	s := "issuer="
	if id.Issuer != "" {
		s += id.Issuer
	} else {
		s += "~" + id.IssuerRegexp
	}
	s += " subject="
	if id.Subject != "" {
		return s + id.Subject
	}
	return s + "~" + id.SubjectRegexp
}

func hashFor(pub crypto.PublicKey) crypto.Hash {
	if ec, ok := pub.(*ecdsa.PublicKey); ok {
		switch ec.Curve {
		case elliptic.P384():
			return crypto.SHA384
		case elliptic.P521():
			return crypto.SHA512
		}
	}
	return crypto.SHA256
}
