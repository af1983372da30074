package policy

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/drydock-scan/drydock/internal/vocab"
	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
)

// Rule targets ("on:").
const (
	OnFinding   = "finding"
	OnPackage   = "package"
	OnImage     = "image"
	OnSecret    = "secret"
	OnMisconfig = "misconfig"
	OnMalware   = "malware"
)

// Rule actions.
const (
	ActionDeny = "deny"
	ActionWarn = "warn"
	// ActionIgnore suppresses the findings the rule holds for (on:
	// finding only), as an ignore file would: see applyIgnoreRules.
	ActionIgnore = "ignore"
)

// Limits that keep a hostile policy from exhausting the scanner.
const (
	maxExprRunes     = 16 << 10
	maxExprRecursion = 64
	evalCostLimit    = 1_000_000
)

// celTypeName is the CEL name of a native input type: "policy.FindingInput".
func celTypeName(t reflect.Type) string {
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	return pkg + "." + t.Name()
}

// kindType is the type of the variable a rule kind adds to the environment
// (none for image rules: `image` is always declared).
func kindType(kind string) (reflect.Type, bool) {
	switch kind {
	case OnFinding:
		return reflect.TypeFor[FindingInput](), true
	case OnPackage:
		return reflect.TypeFor[PackageInput](), true
	case OnSecret:
		return reflect.TypeFor[SecretInput](), true
	case OnMisconfig:
		return reflect.TypeFor[MisconfigInput](), true
	case OnMalware:
		return reflect.TypeFor[MalwareInput](), true
	case OnLicense:
		return reflect.TypeFor[LicenseInput](), true
	}
	return nil, false
}

// varName is the CEL variable of a rule kind: the kind itself, except
// "package", which CEL reserves, and is "pkg".
func varName(kind string) string {
	if kind == OnPackage {
		return "pkg"
	}
	return kind
}

// newEnv returns the CEL environment for rules of one kind: `image`,
// `counts`, `coverage` and `now` everywhere, plus the kind's own variable.
func newEnv(kind string) (*cel.Env, error) {
	img := reflect.TypeFor[ImageInput]()
	counts := reflect.TypeFor[CountsInput]()
	coverage := reflect.TypeFor[CoverageInput]()
	nativeTypes := []any{img, counts, coverage, reflect.TypeFor[CoverageGapInput]()}
	nativeTypes = append(nativeTypes, supplyChainTypes()...)
	nativeTypes = append(nativeTypes, ext.ParseStructTags(true))
	opts := []cel.EnvOption{
		cel.Variable("image", cel.ObjectType(celTypeName(img))),
		cel.Variable("counts", cel.ObjectType(celTypeName(counts))),
		cel.Variable("coverage", cel.ObjectType(celTypeName(coverage))),
		cel.Variable("now", cel.TimestampType),
	}
	if t, ok := kindType(kind); ok {
		nativeTypes = append([]any{t}, nativeTypes...)
		opts = append(opts, cel.Variable(varName(kind), cel.ObjectType(celTypeName(t))))
	} else if kind != OnImage {
		return nil, fmt.Errorf("unknown rule target %q", kind)
	}
	opts = append([]cel.EnvOption{ext.NativeTypes(nativeTypes...)}, opts...)
	opts = append(opts,
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(maxExprRunes),
		cel.ParserRecursionLimit(maxExprRecursion),
		ext.Strings(),
		ext.Sets(),
		cel.Function("severity_rank",
			cel.Overload("severity_rank_string", []*cel.Type{cel.StringType}, cel.IntType,
				cel.UnaryBinding(severityRank))),
	)
	return cel.NewEnv(opts...)
}

func severityRank(v ref.Val) ref.Val {
	s, ok := v.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(v)
	}
	return types.Int(vocab.SeverityRank(strings.ToUpper(string(s))))
}

func newProgram(env *cel.Env, ast *cel.Ast) (cel.Program, error) {
	return env.Program(ast,
		cel.CostLimit(evalCostLimit),
		cel.InterruptCheckFrequency(100),
	)
}
