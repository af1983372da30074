package policy

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/drydock-scan/drydock/internal/result"
	"github.com/google/cel-go/cel"
	celast "github.com/google/cel-go/common/ast"
)

// ExitUnverified is the exit code of a verdict that failed on the supply
// chain: --require-signature without a verified signature, or a deny rule
// on image.signature, image.attestations or image.provenance. It wins over
// ExitFail and --exit-code: an image that is not the one that was built
// and signed is a different answer from an image with vulnerabilities.
const ExitUnverified = 4

// GateSignature is the rule ID of the --require-signature gate.
const GateSignature = "gate:signature"

// SignatureInput is `image.signature`: the verify stage's answer about the
// scanned digest. Every field is empty (checked false) when verification did
// not run.
type SignatureInput struct {
	// Checked: the verify stage ran (--verify and the flags that imply it).
	Checked bool `cel:"checked"`
	// Verified: at least one signature verified under the configured
	// trust (a key, a keyless identity and issuer, a Notation policy).
	Verified bool `cel:"verified"`
	// Required: the run asked for a verified signature (--require-signature).
	Required bool `cel:"required"`
	// Identities and Issuers are those of the verified signatures only
	// (certificate SANs, "key:<hint>", Notation subjects), deduplicated.
	Identities []string `cel:"identities"`
	Issuers    []string `cel:"issuers"`
	// Kinds are the kinds of the verified signatures ("sigstore-bundle",
	// "cosign-legacy", "notation").
	Kinds []string `cel:"kinds"`
	// Found is the number of signatures found, verified or not.
	Found int `cel:"found"`
	// Digest is the manifest digest that was verified (the scanned one).
	Digest string `cel:"digest"`
	// Problems are what could not be found or checked.
	Problems []string `cel:"problems"`
}

// AttestationInput is one element of `image.attestations`: an in-toto
// statement attached to the image, verified or not.
type AttestationInput struct {
	PredicateType string `cel:"predicate_type"`
	Verified      bool   `cel:"verified"`
	Identity      string `cel:"identity"`
	Issuer        string `cel:"issuer"`
	Source        string `cel:"source"`
}

// ProvenanceInput is one element of `image.provenance`: a SLSA provenance
// predicate (v0.2 or v1). Verified is false for an unsigned one (a BuildKit
// attestation): a hint, never proof — a rule requiring a builder should
// also require verified.
type ProvenanceInput struct {
	PredicateType string   `cel:"predicate_type"`
	Verified      bool     `cel:"verified"`
	BuilderID     string   `cel:"builder_id"`
	BuildType     string   `cel:"build_type"`
	SourceRepo    string   `cel:"source_repo"`
	SourceDigest  string   `cel:"source_digest"`
	Materials     []string `cel:"materials"`
	InvocationID  string   `cel:"invocation_id"`
}

// supplyChainTypes are the native types the supply-chain variables need.
func supplyChainTypes() []any {
	return []any{
		reflect.TypeFor[SignatureInput](), reflect.TypeFor[AttestationInput](), reflect.TypeFor[ProvenanceInput](),
	}
}

func signatureInput(sc *result.SupplyChain) SignatureInput {
	in := SignatureInput{Identities: []string{}, Issuers: []string{}, Kinds: []string{}, Problems: []string{}}
	if sc == nil {
		return in
	}
	in.Checked, in.Verified, in.Required, in.Digest = true, sc.Verified, sc.Required, sc.Digest
	in.Found = len(sc.Signatures)
	in.Problems = nonNil(sc.Problems)
	add := func(s []string, v string) []string {
		if v == "" || slices.Contains(s, v) {
			return s
		}
		return append(s, v)
	}
	for _, s := range sc.Signatures {
		if !s.Verified {
			continue
		}
		in.Identities = add(in.Identities, s.Identity)
		in.Issuers = add(in.Issuers, s.Issuer)
		in.Kinds = add(in.Kinds, s.Kind)
	}
	return in
}

func attestationInputs(sc *result.SupplyChain) []AttestationInput {
	out := []AttestationInput{}
	if sc == nil {
		return out
	}
	for _, a := range sc.Attestations {
		out = append(out, AttestationInput{PredicateType: a.PredicateType, Verified: a.Verified,
			Identity: a.Identity, Issuer: a.Issuer, Source: a.Source})
	}
	return out
}

func provenanceInputs(sc *result.SupplyChain) []ProvenanceInput {
	out := []ProvenanceInput{}
	if sc == nil {
		return out
	}
	for _, p := range sc.Provenance {
		out = append(out, ProvenanceInput{PredicateType: p.PredicateType, Verified: p.Verified,
			BuilderID: p.BuilderID, BuildType: p.BuildType, SourceRepo: p.SourceRepo,
			SourceDigest: p.SourceDigest, Materials: nonNil(p.Materials), InvocationID: p.InvocationID})
	}
	return out
}

// signatureGate is the --require-signature failure: the run (or the saved
// report) asked for a verified signature and there is none. A result
// without a supply-chain section fails too when the gate asks for one:
// nothing was verified.
func signatureGate(r *result.Result, require bool) (result.RuleResult, bool) {
	sc := r.SupplyChain
	if sc == nil {
		if !require {
			return result.RuleResult{}, false
		}
		return result.RuleResult{RuleID: GateSignature, Action: ActionDeny, Targets: []string{"image"},
			Message: "no signature was verified: the verify stage did not run (--require-signature)"}, true
	}
	if sc.Verified || !(require || sc.Required) {
		return result.RuleResult{}, false
	}
	var why string
	switch {
	case len(sc.Signatures) == 0:
		why = "no signature found for " + sc.Digest
	default:
		var errs []string
		for _, s := range sc.Signatures {
			e := s.Kind
			if s.Error != "" {
				e += ": " + s.Error
			}
			errs = append(errs, e)
		}
		why = fmt.Sprintf("none of the %d signature(s) of %s verified (%s)", len(sc.Signatures), sc.Digest, strings.Join(errs, "; "))
	}
	if len(sc.Problems) > 0 {
		why += "; problems: " + strings.Join(sc.Problems, "; ")
	}
	target := sc.Digest
	if target == "" {
		target = "image"
	}
	return result.RuleResult{RuleID: GateSignature, Action: ActionDeny, Targets: []string{target},
		Message: why + " (--require-signature)"}, true
}

// readsSupplyChain reports whether a compiled expression selects one of the
// supply-chain fields of `image`: a deny rule that does is a supply-chain
// failure (ExitUnverified).
func readsSupplyChain(a *cel.Ast) bool {
	if a == nil {
		return false
	}
	found := false
	celast.PostOrderVisit(a.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if found || e.Kind() != celast.SelectKind {
			return
		}
		sel := e.AsSelect()
		op := sel.Operand()
		// image.signature, image.attestations and image.provenance.
		switch sel.FieldName() {
		case "signature", "attestations", "provenance":
			found = op.Kind() == celast.IdentKind && op.AsIdent() == "image"
		}
	}))
	return found
}
