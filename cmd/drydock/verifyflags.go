package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/drydock-scan/drydock/internal/policy"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/scan"
	"github.com/drydock-scan/drydock/internal/source"
	"github.com/drydock-scan/drydock/internal/verify"
	"github.com/drydock-scan/drydock/internal/verify/notation"
)

// verifyFlags configure the verify stage of drydock image: the signatures
// and attestations of exactly the digest the source stage resolved are
// found and checked before the layers are read (docs/supply-chain.md).
type verifyFlags struct {
	verify           bool
	keys             []string
	identities       []string
	identityRegexps  []string
	issuer           string
	issuerRegexp     string
	trustedRoot      string
	notationPolicy   string
	notationStore    string
	requireSignature bool
}

func (f *verifyFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.BoolVar(&f.verify, "verify", false, "verify the image's signatures and attestations (of the scanned digest) before the scan; implied by the other --verify-* flags and --require-signature")
	fl.StringArrayVar(&f.keys, "verify-key", nil, "public key (PEM: ECDSA, RSA, Ed25519) that signatures are verified with; repeatable")
	fl.StringArrayVar(&f.identities, "verify-identity", nil, "keyless signer's certificate identity (SAN) to accept, exactly; repeatable; needs --verify-issuer (or --verify-issuer-regexp) and --trusted-root")
	fl.StringArrayVar(&f.identityRegexps, "verify-identity-regexp", nil, "keyless signer's identity as a regular expression (RE2) that must match the whole identity (anchored by drydock, unlike cosign); repeatable")
	fl.StringVar(&f.issuer, "verify-issuer", "", "OIDC issuer of keyless signatures, exactly (https://token.actions.githubusercontent.com)")
	fl.StringVar(&f.issuerRegexp, "verify-issuer-regexp", "", "OIDC issuer of keyless signatures as a regular expression that must match the whole issuer")
	fl.StringVar(&f.trustedRoot, "trusted-root", "", "Sigstore trusted_root.json (Fulcio CAs, Rekor logs, timestamp authorities) for keyless verification, offline")
	fl.StringVar(&f.notationPolicy, "notation-trust-policy", "", "Notation trust policy (trustpolicy.json) that Notation signatures are verified under; needs --notation-trust-store")
	fl.StringVar(&f.notationStore, "notation-trust-store", "", "Notation trust store directory (x509/{ca,signingAuthority,tsa}/NAME/*.pem)")
	fl.BoolVar(&f.requireSignature, "require-signature", false, "fail (exit code 4) unless a signature of the scanned digest verifies under the configured trust; the scan still runs and the report says why")
}

// enabled reports whether the verify stage runs.
func (f *verifyFlags) enabled() bool {
	return f.verify || f.requireSignature || len(f.keys) > 0 || len(f.identities) > 0 || len(f.identityRegexps) > 0 ||
		f.issuer != "" || f.issuerRegexp != "" || f.trustedRoot != "" || f.notationPolicy != "" || f.notationStore != ""
}

// validate checks the flags before anything is fetched: a typo in a key
// path must not cost a pull.
func (f *verifyFlags) validate() error {
	subjects := len(f.identities) + len(f.identityRegexps)
	issuer := f.issuer != "" || f.issuerRegexp != ""
	switch {
	case subjects > 0 && !issuer:
		return usageErr("--verify-identity needs --verify-issuer or --verify-issuer-regexp: a keyless signer is pinned by both")
	case issuer && subjects == 0:
		return usageErr("--verify-issuer needs --verify-identity or --verify-identity-regexp: a keyless signer is pinned by both")
	case f.issuer != "" && f.issuerRegexp != "":
		return usageErr("give --verify-issuer or --verify-issuer-regexp, not both")
	case subjects > 0 && f.trustedRoot == "":
		return usageErr("keyless verification (--verify-identity) needs --trusted-root FILE (a Sigstore trusted_root.json): drydock verifies offline")
	case (f.notationPolicy == "") != (f.notationStore == ""):
		return usageErr("--notation-trust-policy and --notation-trust-store go together")
	}
	for _, p := range append(append([]string{}, f.keys...), f.trustedRoot, f.notationPolicy, f.notationStore) {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return usageErr("verify: %v", err)
		}
	}
	return nil
}

// apply sets the gate of --require-signature.
func (f *verifyFlags) apply(eng *policy.Engine) { eng.Gate.RequireSignature = f.requireSignature }

// options are the verify stage's options for img (Notation's trust policy
// statement is chosen by the image's repository).
func (f *verifyFlags) options(ctx context.Context, repo string) (verify.Options, error) {
	o := verify.Options{KeyFiles: f.keys, TrustedRoot: f.trustedRoot, Require: f.requireSignature}
	for _, s := range f.identities {
		o.Identities = append(o.Identities, verify.Identity{Subject: s, Issuer: f.issuer, IssuerRegexp: f.issuerRegexp})
	}
	for _, s := range f.identityRegexps {
		o.Identities = append(o.Identities, verify.Identity{SubjectRegexp: s, Issuer: f.issuer, IssuerRegexp: f.issuerRegexp})
	}
	if f.notationPolicy != "" {
		v, err := notation.New(ctx, f.notationPolicy, f.notationStore)
		if err != nil {
			return o, usageErr("%v", err)
		}
		if repo != "" {
			if v, err = v.WithRepository(repo); err != nil {
				return o, usageErr("%v", err)
			}
		}
		o.Notation = v
	}
	return o, nil
}

// run scans cfg's image; with the verify stage asked for, scan.Run opens
// the image once, verifies exactly the digest that opening resolved (the
// registry handle's digest, the index it was reached through; the layout's
// manifest) and then scans that same opened image: the tag is never
// resolved again, and base-image attribution sees the verified provenance.
func (f *verifyFlags) run(ctx context.Context, cfg scan.Config) (*result.Result, error) {
	if f.enabled() {
		cfg.Verify = f.verifyImage
	}
	return scan.Run(ctx, cfg)
}

// verifyImage is the verify stage on an opened image. A source that holds
// no signatures (a docker archive, a directory) is not an error: the
// result says so, and --require-signature fails on it.
func (f *verifyFlags) verifyImage(ctx context.Context, img *source.Image) (*result.SupplyChain, error) {
	var t verify.Target
	repo := ""
	switch {
	case img.Kind == source.KindRegistry:
		r, ok := img.Remote()
		if !ok {
			return nil, fmt.Errorf("verifying %s: the registry image has no registry handle", img.Reference)
		}
		t = verify.Target{Digest: r.Digest, IndexDigest: img.IndexDigest, Remote: r.Options(ctx)}
		repo = notationRepository(r.Digest.Context())
	case img.Kind == source.KindOCILayout && img.ManifestDigest != "":
		dir, err := layoutDir(img.Reference)
		if err != nil {
			return nil, err
		}
		d, err := name.NewDigest("oci-layout.invalid/layout@" + img.ManifestDigest)
		if err != nil {
			return nil, fmt.Errorf("verifying %s: %w", img.Reference, err)
		}
		t = verify.Target{Digest: d, IndexDigest: img.IndexDigest, LayoutDir: dir}
	default:
		return &result.SupplyChain{Digest: img.ManifestDigest, Required: f.requireSignature,
			Problems: []string{fmt.Sprintf("a %s source holds no signatures or attestations: nothing was verified (push the image to a registry, or use an OCI layout with its referrers)", img.Kind)}}, nil
	}
	o, err := f.options(ctx, repo)
	if err != nil {
		return nil, err
	}
	sc, err := verify.Run(ctx, t, o)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return sc, nil
}

// notationRepository writes a repository as Notation's registryScopes do:
// Docker Hub is docker.io, not index.docker.io.
func notationRepository(r name.Repository) string {
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = "docker.io"
	}
	return reg + "/" + r.RepositoryStr()
}

// layoutDir is the directory of an OCI layout reference: "oci:DIR",
// "oci:DIR:TAG", "oci:DIR@sha256:…" or a bare DIR.
func layoutDir(ref string) (string, error) {
	p := strings.TrimPrefix(ref, "oci:")
	if fi, err := os.Stat(p); err == nil && fi.IsDir() {
		return p, nil
	}
	for _, sep := range []string{"@", ":"} {
		if i := strings.LastIndex(p, sep); i > 0 {
			if fi, err := os.Stat(p[:i]); err == nil && fi.IsDir() {
				return p[:i], nil
			}
		}
	}
	return "", fmt.Errorf("verifying %s: cannot tell the layout's directory", ref)
}
