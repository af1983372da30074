package policy

import (
	"context"
	"fmt"
	"time"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/result"
	"github.com/drydock-scan/drydock/internal/vocab"
)

// applyIgnoreRules runs the policy rules whose action is ignore: each
// finding a rule's expr holds for gets a suppressed annotation — Source
// "<policy>#<rule id>", Reason the rule's message, Expires the rule's — as
// an ignore file entry would give it. They run after the ignore files and
// before --ignore-unfixed, --severity, the gates and the deny and warn
// rules, so that what they take out of the count is out of it for all of
// those. Findings already suppressed or filtered are not looked at. A rule
// that fails on a finding suppresses nothing there, and a warning says so:
// a broken rule never hides a finding. An expired rule is skipped (the
// main loop lists it as expired).
func (e *Engine) applyIgnoreRules(ctx context.Context, r *result.Result, now time.Time, v *result.Verdict) error {
	for _, p := range e.Policies {
		if p == nil {
			continue
		}
		for _, rule := range p.Rules {
			if rule.Action != ActionIgnore || rule.expired(now) {
				continue
			}
			// Targets afresh for each rule: an earlier rule may have
			// suppressed some.
			ts := newTargets(r, now).of(OnFinding)
			for i := range ts {
				t := &ts[i]
				if !t.visible {
					continue
				}
				val, _, err := rule.prg.ContextEval(ctx, t.vars)
				if err != nil {
					if cerr := ctx.Err(); cerr != nil {
						return cerr
					}
					v.Warnings = append(v.Warnings, result.RuleResult{RuleID: rule.ID, Action: ActionWarn, Targets: []string{t.key},
						Message: fmt.Sprintf("%s: ignore rule %q could not be evaluated: %v; the finding is not ignored", p.Source, rule.ID, err)})
					continue
				}
				if b, ok := val.Value().(bool); !ok || !b {
					continue
				}
				f := &r.Findings[i] // targets of findings are in the order of r.Findings
				if f.Key() != t.key {
					return fmt.Errorf("ignore rule %q: finding %d is %s, not %s", rule.ID, i, f.Key(), t.key)
				}
				f.Annotations = addAnnotation(f.Annotations, finding.Annotation{Kind: vocab.AnnotationSuppressed,
					Source: p.Source + "#" + rule.ID, Reason: rule.message(ctx, t), Expires: rule.Expires})
			}
		}
	}
	return nil
}
