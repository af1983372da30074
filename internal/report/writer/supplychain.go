package writer

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/drydock-scan/drydock/internal/report"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/sbom"
)

// The supply-chain section (report.SupplyChain: what the verify stage found
// about the scanned digest) is rendered by every writer from the same
// pieces: a headline and one item per signature, attestation, provenance,
// trust and problem. Nothing found is left out: a signature that failed is
// listed with its error, unsigned provenance as a hint.

// Item statuses of the supply-chain section.
const (
	scVerified = "verified"
	scFailed   = "failed"
	scHint     = "hint"
	scInfo     = "info"
	scProblem  = "problem"
)

// scItem is one line of the supply-chain section.
type scItem struct {
	Group  string // "trust", "signature", "attestation", "provenance", "problem"
	Status string // scVerified, scFailed, scHint, scInfo, scProblem
	Text   string
}

// scHeadline is the section's one-line answer: the state (VERIFIED, NOT
// VERIFIED, UNSIGNED) and what it is about.
func scHeadline(sc *result.SupplyChain) (state, text string) {
	switch report.SignatureState(sc) {
	case report.SignatureVerified:
		state = "VERIFIED"
		var who []string
		for _, s := range sc.Signatures {
			if s.Verified && s.Identity != "" && !slices.Contains(who, s.Identity) {
				who = append(who, s.Identity)
			}
		}
		text = "signature of " + sc.Digest + " verified"
		if len(who) > 0 {
			text += ", signed by " + strings.Join(who, ", ")
		}
	case report.SignatureUnverified:
		state = "NOT VERIFIED"
		text = fmt.Sprintf("%s found for %s, none verified under the configured trust", plural(len(sc.Signatures), "signature"), sc.Digest)
	default:
		state = "UNSIGNED"
		text = "no signature found for " + sc.Digest
	}
	if sc.Required && !sc.Verified {
		text += " (--require-signature: the policy fails, exit code 4)"
	}
	return state, text
}

// scItems lists the section's lines in a fixed order: trust, signatures,
// attestations, provenance, problems.
func scItems(sc *result.SupplyChain) []scItem {
	var out []scItem
	if sc.IndexDigest != "" {
		out = append(out, scItem{"index", scInfo, "reached through the index " + sc.IndexDigest})
	}
	for _, t := range sc.Trust {
		out = append(out, scItem{"trust", scInfo, t})
	}
	for _, s := range sc.Signatures {
		out = append(out, scItem{"signature", okOrFailed(s.Verified), signatureText(&s)})
	}
	for _, a := range sc.Attestations {
		st := okOrFailed(a.Verified)
		if !a.Verified && a.Error == "" {
			st = scHint
		}
		out = append(out, scItem{"attestation", st, attestationText(&a)})
	}
	for _, p := range sc.Provenance {
		st := scVerified
		if !p.Verified {
			st = scHint
		}
		out = append(out, scItem{"provenance", st, provenanceText(&p)})
	}
	for _, p := range sc.Problems {
		out = append(out, scItem{"problem", scProblem, p})
	}
	return out
}

func okOrFailed(ok bool) string {
	if ok {
		return scVerified
	}
	return scFailed
}

func signatureText(s *result.Signature) string {
	var b strings.Builder
	b.WriteString(s.Kind)
	if s.Source != "" {
		b.WriteString(" from " + s.Source)
	}
	if s.Identity != "" {
		b.WriteString(" by " + s.Identity)
	}
	if s.Issuer != "" {
		b.WriteString(" (issuer " + s.Issuer + ")")
	}
	if s.SignedAt != nil {
		how := "claimed, not verified"
		if s.TimeVerified {
			how = "verified"
		}
		fmt.Fprintf(&b, ", signed %s (%s)", s.SignedAt.UTC().Format(time.RFC3339), how)
	}
	if s.TlogIndex != nil {
		fmt.Fprintf(&b, ", transparency log index %d", *s.TlogIndex)
	}
	if s.Covers != "" && s.Digest != "" {
		b.WriteString(", " + shortDigest(s.Digest) + " over " + shortDigest(s.Covers))
	}
	if s.Error != "" {
		b.WriteString(": " + s.Error)
	}
	return b.String()
}

func attestationText(a *result.Attestation) string {
	var b strings.Builder
	b.WriteString(a.PredicateType)
	if a.Source != "" {
		b.WriteString(" from " + a.Source)
	}
	if a.Identity != "" {
		b.WriteString(" by " + a.Identity)
	}
	if a.Issuer != "" {
		b.WriteString(" (issuer " + a.Issuer + ")")
	}
	switch {
	case a.Error != "":
		b.WriteString(": " + a.Error)
	case !a.Verified:
		b.WriteString(": unsigned, a hint, not proof")
	}
	return b.String()
}

func provenanceText(p *result.Provenance) string {
	var parts []string
	if p.BuilderID != "" {
		parts = append(parts, "builder "+p.BuilderID)
	}
	if p.SourceRepo != "" {
		src := "source " + p.SourceRepo
		if p.SourceDigest != "" {
			src += " (" + p.SourceDigest + ")"
		}
		parts = append(parts, src)
	}
	if p.BuildType != "" {
		parts = append(parts, "build type "+p.BuildType)
	}
	if p.InvocationID != "" {
		parts = append(parts, "invocation "+p.InvocationID)
	}
	if n := len(p.Materials); n > 0 {
		parts = append(parts, plural(n, "material"))
	}
	text := p.PredicateType
	if len(parts) > 0 {
		text += ": " + strings.Join(parts, ", ")
	}
	if !p.Verified {
		text += " (unsigned: a hint, not proof)"
	}
	return text
}

// writeSupplyChain is the table's section: the headline, then one line per
// item.
func writeSupplyChain(ew *errWriter, r *report.Report, opt Options) {
	sc := r.SupplyChain
	if sc == nil {
		return
	}
	state, text := scHeadline(sc)
	style := ansiBRed
	if sc.Verified {
		style = ansiGreen + ansiBold
	} else if !sc.Required {
		style = ansiYellow
	}
	ew.printf("Supply chain: %s %s\n", colorize(opt.Color, style, state), text)
	for _, it := range scItems(sc) {
		tag := fmt.Sprintf("%-10s", "["+it.Status+"]")
		if it.Status == scInfo {
			tag = strings.Repeat(" ", 10)
		}
		ew.printf("  %-11s %s %s\n", it.Group, colorize(opt.Color, scStyle(it.Status), tag), it.Text)
	}
	ew.printf("\n")
}

func scStyle(status string) string {
	switch status {
	case scVerified:
		return ansiGreen
	case scFailed:
		return ansiRed
	case scHint, scProblem:
		return ansiYellow
	}
	return ansiDim
}

// scEmoji marks an item in Markdown.
func scEmoji(status string) string {
	switch status {
	case scVerified:
		return "✅"
	case scFailed:
		return "❌"
	case scHint:
		return "💡"
	case scProblem:
		return "⚠️"
	}
	return "ℹ️"
}

// writeSupplyChainMarkdown is the Markdown section.
func writeSupplyChainMarkdown(ew *errWriter, r *report.Report) {
	sc := r.SupplyChain
	if sc == nil {
		return
	}
	state, text := scHeadline(sc)
	icon := "✅"
	if !sc.Verified {
		icon = "❌"
	}
	ew.printf("### %s Supply chain: %s\n\n%s\n\n", icon, state, mdText(text))
	items := scItems(sc)
	if len(items) == 0 {
		return
	}
	ew.printf("| | What | Details |\n| --- | --- | --- |\n")
	for _, it := range items {
		ew.printf("| %s %s | %s | %s |\n", scEmoji(it.Status), it.Status, it.Group, mdText(it.Text))
	}
	ew.printf("\n")
}

// htmlSupplyChain is the HTML section's view.
type htmlSupplyChain struct {
	State, Headline string
	Verified        bool
	Required        bool
	Items           []scItem
}

func htmlSupplyChainOf(sc *result.SupplyChain) *htmlSupplyChain {
	if sc == nil {
		return nil
	}
	state, text := scHeadline(sc)
	return &htmlSupplyChain{State: state, Headline: text, Verified: sc.Verified, Required: sc.Required, Items: scItems(sc)}
}

// scStatusColor colours an item's status in HTML.
func scStatusColor(status string) string {
	switch status {
	case scVerified:
		return "#2e7d32"
	case scFailed:
		return "#c62828"
	case scHint, scProblem:
		return "#ef6c00"
	}
	return "#616161"
}

// junitSupplyChain is the "supply-chain" suite: a "signature" case that
// fails when a verified signature was required and there is none (skipped
// when it was not required), then a case per attestation and provenance
// (unverified ones skipped), and the problems in system-out.
func junitSupplyChain(r *report.Report, ts string) (junitSuite, bool) {
	sc := r.SupplyChain
	if sc == nil {
		return junitSuite{}, false
	}
	s := junitSuite{Name: "supply-chain", Timestamp: ts,
		Properties: []junitProperty{{Name: "digest", Value: sc.Digest}, {Name: "signature", Value: report.SignatureState(sc)}}}
	state, text := scHeadline(sc)
	var details []string
	for _, it := range scItems(sc) {
		details = append(details, it.Group+" ["+it.Status+"] "+it.Text)
	}
	sig := junitCase{Name: "signature of " + sc.Digest, Classname: "supply-chain.signature"}
	switch {
	case sc.Verified:
	case sc.Required:
		sig.Failure = &junitFailure{Message: state + ": " + text, Type: "gate:signature", Text: strings.Join(details, "\n")}
		s.Failures++
	default:
		sig.Skipped = &junitSkipped{Message: state + ": " + text + " (not required)"}
		s.Skipped++
	}
	s.Cases = append(s.Cases, sig)
	for i, a := range sc.Attestations {
		c := junitCase{Name: fmt.Sprintf("attestation %d: %s", i+1, a.PredicateType), Classname: "supply-chain.attestation"}
		if !a.Verified {
			c.Skipped = &junitSkipped{Message: attestationText(&a)}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	for i, p := range sc.Provenance {
		c := junitCase{Name: fmt.Sprintf("provenance %d: %s", i+1, provenanceText(&p)), Classname: "supply-chain.provenance"}
		if !p.Verified {
			c.Skipped = &junitSkipped{Message: "unsigned provenance: a hint, not proof"}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
	}
	if len(sc.Problems) > 0 {
		s.SystemOut = "problems:\n" + strings.Join(sc.Problems, "\n")
	}
	s.Tests = len(s.Cases)
	return s, true
}

// gitlabSupplyChain is the scan message of the supply-chain section: the
// format has no place for it, and an unverified image must not read clean.
func gitlabSupplyChain(r *report.Report) []glMessage {
	sc := r.SupplyChain
	if sc == nil {
		return nil
	}
	state, text := scHeadline(sc)
	level := "warn"
	if sc.Verified {
		level = "info"
	}
	out := []glMessage{{Level: level, Value: "supply chain: " + state + ": " + text}}
	for _, p := range sc.Problems {
		out = append(out, glMessage{Level: "warn", Value: "supply chain: " + p})
	}
	return out
}

// sarifSignatureRule is the rule of the SARIF result an unverified image
// gets when a verified signature was required: the gate's rule ID.
const sarifSignatureRule = "gate:signature"

func sarifSignatureDescriptor() *sarif.ReportingDescriptor {
	return &sarif.ReportingDescriptor{
		ID:               sarifSignatureRule,
		Name:             ptr("UnverifiedImageSignature"),
		ShortDescription: text("No verified signature of the scanned image"),
		FullDescription: text("--require-signature asked for a signature of exactly the scanned manifest digest that verifies " +
			"under the configured trust (a key, a keyless identity and issuer, a Notation trust policy), and there is none."),
		DefaultConfiguration: &sarif.ReportingConfiguration{Level: "error"},
		HelpURI:              ptr(sbom.InformationURI + "/blob/main/docs/supply-chain.md"),
		Help: &sarif.MultiformatMessageString{
			Text:     ptr("Sign the image (cosign sign, notation sign) and verify with --verify-key, --verify-identity and --verify-issuer, or --notation-trust-policy."),
			Markdown: ptr("Sign the image (`cosign sign`, `notation sign`) and verify with `--verify-key`, `--verify-identity` and `--verify-issuer`, or `--notation-trust-policy`."),
		},
		Properties: sarif.Properties{"tags": []string{"supply-chain", "security"}, "precision": "very-high", "security-severity": "9.0"},
	}
}

// sarifSupplyChain adds the supply-chain section to a SARIF run: a result
// (rule gate:signature, at the image) when a verified signature was
// required and there is none; a warning notification when it was not
// required, and one per problem of the verify stage. rule registers a
// descriptor and returns its index.
func sarifSupplyChain(r *report.Report, run *sarif.Run, inv *sarif.Invocation, rule func(string, func() *sarif.ReportingDescriptor) int) {
	sc := r.SupplyChain
	if sc == nil {
		return
	}
	state, headline := scHeadline(sc)
	msg := "Supply chain: " + state + ": " + headline
	switch {
	case sc.Verified:
	case sc.Required:
		idx := rule(sarifSignatureRule, sarifSignatureDescriptor)
		var why []string
		for _, it := range scItems(sc) {
			if it.Status == scFailed || it.Status == scProblem {
				why = append(why, it.Group+": "+it.Text)
			}
		}
		if len(why) > 0 {
			msg += ". " + strings.Join(why, "; ")
		}
		res := &sarif.Result{
			RuleID:              ptr(sarifSignatureRule),
			RuleIndex:           ptr(uint(idx)),
			Level:               ptr("error"),
			Message:             sarif.Message{Text: ptr(msg)},
			Locations:           []*sarif.Location{sarifLocation(imageURI(r), 1)},
			PartialFingerprints: map[string]any{fingerprintKey: fingerprint("supply-chain", sc.Digest)},
		}
		res.Properties = sarif.Properties{"digest": sc.Digest, "signature": report.SignatureState(sc), "security-severity": "9.0"}
		run.Results = append(run.Results, res)
	default:
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, &sarif.Notification{
			Level: "warning", Message: &sarif.Message{Text: ptr(msg)},
		})
	}
	for _, p := range sc.Problems {
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, &sarif.Notification{
			Level: "warning", Message: &sarif.Message{Text: ptr("Supply chain: " + p)},
		})
	}
}
