package policy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// Rule IDs of warnings the engine itself adds to a verdict.
const (
	WarnExpired        = "expired"          // an ignore entry or a policy rule has expired
	WarnIgnoreNoReason = "ignore:no-reason" // ignore entries without a reason
	WarnVEXNotApplied  = "vex:not-applied"  // VEX statements that name no package URL
)

// Engine is the policy stage. The zero value only computes the verdict of an
// empty gate.
type Engine struct {
	Gate     Gate
	Policies []*Policy
	Ignores  []*IgnoreFile
	VEX      []*VEX
	// Now returns the current time (expiries, image age); nil for time.Now.
	Now func() time.Time
}

// Evaluate annotates the findings, secrets and misconfigurations of r — VEX
// statements, ignore entries, --ignore-unfixed, --severity — without
// removing or rewriting any, evaluates the policies and the gate, and returns
// the verdict. The report is built afterwards from r and the verdict.
//
// Malware (malicious packages, known-bad files) is never a vulnerability:
// VEX, --ignore-unfixed and --severity do not apply to it, only an ignore
// entry naming its ID allows it, and any that is not allowed fails the
// verdict (GateMalware) whatever the other gate flags say.
//
// Order: VEX, then ignore files, then policy rules whose action is
// ignore, then --ignore-unfixed, then --severity; deny and warn rules see
// the result (suppressed and filtered targets are skipped unless a rule sets
// include_suppressed).
func (e *Engine) Evaluate(ctx context.Context, r *result.Result) (*result.Verdict, error) {
	if r == nil {
		return nil, errors.New("evaluating policy: no scan result")
	}
	selected, failOn, err := e.Gate.normalized()
	if err != nil {
		return nil, fmt.Errorf("evaluating policy: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	if e.Now != nil {
		now = e.Now()
	}
	v := &result.Verdict{}
	purls := purlCache{}

	applyVEX(e.VEX, r, purls)
	for _, d := range e.VEX {
		if d != nil && len(d.Warnings) > 0 {
			v.Warnings = append(v.Warnings, result.RuleResult{RuleID: WarnVEXNotApplied, Action: ActionWarn,
				Message: fmt.Sprintf("%s: %s", d.Source, strings.Join(d.Warnings, "; "))})
		}
	}
	e.applyIgnores(r, now, v, purls)
	if err := e.applyIgnoreRules(ctx, r, now, v); err != nil {
		return nil, err
	}
	if e.Gate.IgnoreUnfixed {
		for i := range r.Findings {
			f := &r.Findings[i]
			if f.FixedVersion == "" {
				f.Annotations = addAnnotation(f.Annotations, finding.Annotation{
					Kind: vocab.AnnotationSuppressed, Source: SourceIgnoreUnfixedFlag, Reason: "unfixed"})
			}
		}
	}
	if selected != nil {
		filtered := finding.Annotation{Kind: vocab.AnnotationFiltered, Source: SourceSeverityFlag, Reason: "severity not selected"}
		isSel := func(sev string) bool { return slices.Contains(selected, strings.ToUpper(sev)) }
		for i := range r.Findings {
			if !isSel(r.Findings[i].Severity) {
				r.Findings[i].Annotations = addAnnotation(r.Findings[i].Annotations, filtered)
			}
		}
		for i := range r.Secrets {
			if !isSel(r.Secrets[i].Severity) {
				r.Secrets[i].Annotations = addAnnotation(r.Secrets[i].Annotations, filtered)
			}
		}
		for i := range r.Misconfigs {
			if !isSel(r.Misconfigs[i].Severity) {
				r.Misconfigs[i].Annotations = addAnnotation(r.Misconfigs[i].Annotations, filtered)
			}
		}
		for i := range r.Licenses {
			if !isSel(r.Licenses[i].Severity) {
				r.Licenses[i].Annotations = addAnnotation(r.Licenses[i].Annotations, filtered)
			}
		}
	}

	if f, ok := malwareGate(r); ok {
		v.Failures = append(v.Failures, f)
	}
	v.Failures = append(v.Failures, gateResults(r, e.Gate.ExitCode, selected, failOn)...)
	supplyChainFailed := false
	if f, ok := signatureGate(r, e.Gate.RequireSignature); ok {
		v.Failures = append(v.Failures, f)
		supplyChainFailed = true
	}
	t := newTargets(r, now)
	for _, p := range e.Policies {
		if p == nil {
			continue
		}
		for _, rule := range p.Rules {
			if rule.expired(now) {
				exp := fmt.Sprintf("%s: rule %q expired %s", p.Source, rule.ID, rule.Expires)
				v.Expired = append(v.Expired, exp)
				v.Warnings = append(v.Warnings, result.RuleResult{RuleID: WarnExpired, Action: ActionWarn,
					Message: exp + " and no longer applies", Targets: []string{rule.ID}})
				continue
			}
			if rule.Action == ActionIgnore {
				continue // applied before the gates (applyIgnoreRules)
			}
			results, err := rule.evaluate(ctx, t.of(rule.On))
			if err != nil {
				return nil, fmt.Errorf("evaluating policy %s rule %q: %w", p.Source, rule.ID, err)
			}
			if rule.Action == ActionDeny {
				v.Failures = append(v.Failures, results...)
				supplyChainFailed = supplyChainFailed || (rule.SupplyChain && len(results) > 0)
			} else {
				v.Warnings = append(v.Warnings, results...)
			}
		}
	}
	v.Pass = len(v.Failures) == 0
	switch {
	case v.Pass:
		v.ExitCode = ExitOK
	case supplyChainFailed:
		v.ExitCode = ExitUnverified
	case e.Gate.ExitCode != 0:
		v.ExitCode = e.Gate.ExitCode
	default:
		v.ExitCode = ExitFail
	}
	return v, nil
}

func (e *Engine) applyIgnores(r *result.Result, now time.Time, v *result.Verdict, purls purlCache) {
	for _, file := range e.Ignores {
		if file == nil {
			continue
		}
		var noReason []string
		for i := range file.Entries {
			ent := &file.Entries[i]
			if ent.expires.expired(now) {
				exp := fmt.Sprintf("%s:%d: ignore %s expired %s", file.Source, ent.Line, ent.describe(), ent.Expires)
				v.Expired = append(v.Expired, exp)
				v.Warnings = append(v.Warnings, result.RuleResult{RuleID: WarnExpired, Action: ActionWarn,
					Message: exp + " and no longer applies"})
				continue
			}
			if ent.Reason == "" {
				noReason = append(noReason, fmt.Sprintf("%s:%d", file.Source, ent.Line))
			}
			a := finding.Annotation{Kind: vocab.AnnotationSuppressed, Source: file.Source, Reason: ent.Reason, Expires: ent.Expires}
			for j := range r.Findings {
				if ent.matchFinding(&r.Findings[j], purls) {
					r.Findings[j].Annotations = addAnnotation(r.Findings[j].Annotations, a)
				}
			}
			for j := range r.Secrets {
				if ent.matchSecret(&r.Secrets[j]) {
					r.Secrets[j].Annotations = addAnnotation(r.Secrets[j].Annotations, a)
				}
			}
			for j := range r.Misconfigs {
				if ent.matchMisconfig(&r.Misconfigs[j]) {
					r.Misconfigs[j].Annotations = addAnnotation(r.Misconfigs[j].Annotations, a)
				}
			}
			for j := range r.Malware {
				if ent.matchMalware(&r.Malware[j], purls) {
					r.Malware[j].Annotations = addAnnotation(r.Malware[j].Annotations, a)
				}
			}
			for j := range r.Licenses {
				if ent.matchLicense(&r.Licenses[j], purls) {
					r.Licenses[j].Annotations = addAnnotation(r.Licenses[j].Annotations, a)
				}
			}
		}
		if len(noReason) > 0 {
			v.Warnings = append(v.Warnings, result.RuleResult{RuleID: WarnIgnoreNoReason, Action: ActionWarn,
				Message: fmt.Sprintf("%d ignore entries in %s give no reason", len(noReason), file.Source),
				Targets: noReason})
		}
	}
}

// gateResults returns the gate's failures.
func gateResults(r *result.Result, exitCode int, selected []string, failOn string) []result.RuleResult {
	var remain, above []string
	var nf, ns, nm, nl int
	failRank := vocab.SeverityRank(failOn)
	consider := func(key, sev string, n *int) {
		remain = append(remain, key)
		*n++
		if failOn != "" && vocab.SeverityRank(strings.ToUpper(sev)) >= failRank {
			above = append(above, key)
		}
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if visible(f.Annotations) {
			consider(f.Key(), f.Severity, &nf)
		}
	}
	for i := range r.Secrets {
		s := &r.Secrets[i]
		if visible(s.Annotations) {
			consider(SecretKey(s), s.Severity, &ns)
		}
	}
	for i := range r.Misconfigs {
		m := &r.Misconfigs[i]
		if visible(m.Annotations) {
			consider(m.ID, m.Severity, &nm)
		}
	}
	for i := range r.Licenses {
		l := &r.Licenses[i]
		if visible(l.Annotations) {
			consider(l.Key(), l.Severity, &nl)
		}
	}
	var out []result.RuleResult
	if exitCode != 0 && len(remain) > 0 {
		sev := "any severity"
		if selected != nil {
			sev = "severity " + strings.Join(selected, ", ")
		}
		out = append(out, result.RuleResult{RuleID: GateSeverity, Action: ActionDeny,
			Message: fmt.Sprintf("%s of %s remain (--exit-code %d)", countPhrase(nf, ns, nm, nl), sev, exitCode),
			Targets: dedupe(remain)})
	}
	if len(above) > 0 {
		out = append(out, result.RuleResult{RuleID: GateFailOn, Action: ActionDeny,
			Message: fmt.Sprintf("%d findings, secrets or misconfigurations at or above %s (--fail-on %s)",
				len(above), failOn, strings.ToLower(failOn)),
			Targets: dedupe(above)})
	}
	return out
}

// malwareGate is the failure every malware finding not allowed by an ignore
// entry causes: a malicious package or a known-bad file is never a risk to
// accept by severity.
func malwareGate(r *result.Result) (result.RuleResult, bool) {
	var keys, what []string
	for i := range r.Malware {
		m := &r.Malware[i]
		if !visible(m.Annotations) {
			continue
		}
		keys = append(keys, m.Key())
		if len(what) < 3 {
			what = append(what, m.ID+" ("+m.Where()+")")
		}
	}
	if len(keys) == 0 {
		return result.RuleResult{}, false
	}
	msg := fmt.Sprintf("%d malware found: %s", len(keys), strings.Join(what, ", "))
	if len(keys) > len(what) {
		msg += fmt.Sprintf(" and %d more", len(keys)-len(what))
	}
	return result.RuleResult{RuleID: GateMalware, Action: ActionDeny,
		Message: msg + " (allowed only by an ignore entry naming its ID)", Targets: dedupe(keys)}, true
}

func countPhrase(findings, secrets, misconfigs, licenses int) string {
	var parts []string
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %s", n, many)
	}
	if findings > 0 {
		parts = append(parts, plural(findings, "vulnerability", "vulnerabilities"))
	}
	if secrets > 0 {
		parts = append(parts, plural(secrets, "secret", "secrets"))
	}
	if misconfigs > 0 {
		parts = append(parts, plural(misconfigs, "misconfiguration", "misconfigurations"))
	}
	if licenses > 0 {
		parts = append(parts, plural(licenses, "licence finding", "licence findings"))
	}
	return strings.Join(parts, ", ")
}

// dedupe removes repeated keys, keeping the first occurrence.
func dedupe(keys []string) []string {
	seen := make(map[string]bool, len(keys))
	out := keys[:0:0]
	for _, k := range keys {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// target is one thing a rule is evaluated on.
type target struct {
	key     string
	visible bool
	vars    map[string]any
	fields  map[string]string
}

// targets builds the CEL inputs of a report once per kind, on demand.
type targets struct {
	r      *result.Result
	base   map[string]any
	byKind map[string][]target
}

func newTargets(r *result.Result, now time.Time) *targets {
	return &targets{r: r, byKind: map[string][]target{}, base: map[string]any{
		"image":    imageInput(r, now),
		"counts":   countsInput(r),
		"coverage": coverageInput(r),
		"now":      now,
	}}
}

func (t *targets) with(name string, v any) map[string]any {
	m := maps.Clone(t.base)
	m[name] = v
	return m
}

func (t *targets) of(kind string) []target {
	if ts, ok := t.byKind[kind]; ok {
		return ts
	}
	var ts []target
	r := t.r
	switch kind {
	case OnFinding:
		for i := range r.Findings {
			in := findingInput(&r.Findings[i])
			ts = append(ts, target{key: in.Key, visible: !in.Suppressed && !in.Filtered,
				vars: t.with(OnFinding, in), fields: findingFields(&in)})
		}
	case OnPackage:
		vulns := map[string][]string{}
		for i := range r.Findings {
			f := &r.Findings[i]
			if visible(f.Annotations) && !slices.Contains(vulns[f.Package.ID], f.ID) {
				vulns[f.Package.ID] = append(vulns[f.Package.ID], f.ID)
			}
		}
		for i := range r.Packages {
			p := &r.Packages[i]
			in := packageInput(p, vulns[p.ID])
			ts = append(ts, target{key: p.ID, visible: true, vars: t.with(varName(OnPackage), in), fields: packageFields(&in)})
		}
	case OnImage:
		in := t.base["image"].(ImageInput)
		ts = append(ts, target{key: "image", visible: true, vars: t.base, fields: imageFields(&in)})
	case OnSecret:
		for i := range r.Secrets {
			in := secretInput(&r.Secrets[i])
			ts = append(ts, target{key: SecretKey(&r.Secrets[i]), visible: !in.Suppressed && !in.Filtered,
				vars: t.with(OnSecret, in), fields: secretFields(&in)})
		}
	case OnMisconfig:
		for i := range r.Misconfigs {
			in := misconfigInput(&r.Misconfigs[i])
			ts = append(ts, target{key: in.ID, visible: !in.Suppressed && !in.Filtered,
				vars: t.with(OnMisconfig, in), fields: misconfigFields(&in)})
		}
	case OnMalware:
		for i := range r.Malware {
			in := malwareInput(&r.Malware[i])
			ts = append(ts, target{key: in.Key, visible: !in.Allowed,
				vars: t.with(OnMalware, in), fields: malwareFields(&in)})
		}
	case OnLicense:
		for i := range r.Licenses {
			in := licenseInput(&r.Licenses[i])
			ts = append(ts, target{key: in.Key, visible: !in.Suppressed && !in.Filtered,
				vars: t.with(OnLicense, in), fields: licenseFields(&in)})
		}
	}
	t.byKind[kind] = ts
	return ts
}

// evaluate runs the rule on its targets and groups the targets it fired on
// by message. A rule that cannot be evaluated on a target (a runtime error
// such as a missing map key) fires on it, with the error as message: a
// broken rule never passes silently.
func (r *Rule) evaluate(ctx context.Context, ts []target) ([]result.RuleResult, error) {
	var out []result.RuleResult
	index := map[string]int{}
	for i := range ts {
		t := &ts[i]
		if !t.visible && !r.IncludeSuppressed {
			continue
		}
		val, _, err := r.prg.ContextEval(ctx, t.vars)
		var msg string
		switch {
		case err != nil:
			if cerr := ctx.Err(); cerr != nil {
				return nil, cerr
			}
			msg = fmt.Sprintf("rule %q could not be evaluated: %v", r.ID, err)
		default:
			b, ok := val.Value().(bool)
			if !ok {
				msg = fmt.Sprintf("rule %q could not be evaluated: expr gave %v, not a boolean", r.ID, val.Type())
			} else if !b {
				continue
			} else {
				msg = r.message(ctx, t)
			}
		}
		if j, ok := index[msg]; ok {
			if !slices.Contains(out[j].Targets, t.key) {
				out[j].Targets = append(out[j].Targets, t.key)
			}
			continue
		}
		index[msg] = len(out)
		out = append(out, result.RuleResult{RuleID: r.ID, Action: r.Action, Message: msg, Targets: []string{t.key}})
	}
	return out, nil
}

func (r *Rule) message(ctx context.Context, t *target) string {
	switch {
	case r.msgPrg != nil:
		val, _, err := r.msgPrg.ContextEval(ctx, t.vars)
		if err != nil {
			return fmt.Sprintf("%s (messageExpr failed: %v)", r.defaultMessage(), err)
		}
		if s, ok := val.Value().(string); ok {
			return s
		}
		return fmt.Sprintf("%s (messageExpr gave %v, not a string)", r.defaultMessage(), val.Type())
	case len(r.tmpl) > 0:
		return renderTemplate(r.tmpl, t.fields)
	}
	return r.defaultMessage()
}

func (r *Rule) defaultMessage() string {
	if r.Description != "" {
		return r.Description
	}
	return fmt.Sprintf("rule %q matched", r.ID)
}
