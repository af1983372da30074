// Package policy is drydock's policy stage, between matching and reporting.
// It annotates findings, secrets and misconfigurations in a report — with
// VEX statements, ignore files and the --severity / --ignore-unfixed gate,
// never deleting anything — and then evaluates CEL policy rules and the
// --exit-code / --fail-on gate to produce the report's verdict.
package policy

import (
	"bytes"
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/google/cel-go/cel"
	"gopkg.in/yaml.v3"
)

// Policy file header values.
const (
	APIVersion = "drydock.dev/v1"
	KindPolicy = "Policy"
)

// BuiltinPrefix selects an embedded policy: "builtin:kev".
const BuiltinPrefix = "builtin:"

// maxFileSize bounds the policy, ignore and VEX files read.
const maxFileSize = 32 << 20

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Policy is a compiled policy file.
type Policy struct {
	Name        string // metadata.name
	Description string
	Source      string // file path or "builtin:<name>"
	Rules       []*Rule
}

// Rule is one compiled rule.
type Rule struct {
	ID          string
	Description string
	Action      string // ActionDeny, ActionWarn or ActionIgnore
	On          string // OnFinding, OnPackage, OnImage, OnSecret, OnMisconfig, OnMalware or OnLicense
	Expr        string
	Message     string // template with {{field}} placeholders
	MessageExpr string // CEL string expression, instead of Message
	Expires     string // as written; "" for never
	// IncludeSuppressed also evaluates the rule on suppressed and filtered
	// targets (finding.suppressed / finding.filtered tell them apart).
	IncludeSuppressed bool
	// SupplyChain: the expression (or message expression) reads
	// image.signature, image.attestations or image.provenance; a deny
	// rule that does fails with ExitUnverified.
	SupplyChain bool

	expires expiry
	prg     cel.Program
	msgPrg  cel.Program
	tmpl    []tmplPart
}

type policyDoc struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	} `yaml:"metadata"`
	Rules []ruleDoc `yaml:"rules"`
}

type ruleDoc struct {
	ID                string    `yaml:"id"`
	Description       string    `yaml:"description"`
	Action            string    `yaml:"action"`
	On                string    `yaml:"on"`
	Expr              yaml.Node `yaml:"expr"`
	Message           yaml.Node `yaml:"message"`
	MessageExpr       yaml.Node `yaml:"messageExpr"`
	Expires           string    `yaml:"expires"`
	IncludeSuppressed bool      `yaml:"include_suppressed"`
}

var ruleIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]*$`)

// ListBuiltins returns the names of the built-in policies, sorted; load one
// with LoadPolicy(ctx, "builtin:<name>").
func ListBuiltins() []string {
	entries, err := builtinFS.ReadDir("builtin")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// LoadPolicy reads and compiles a policy file, or a built-in policy named
// "builtin:<name>".
func LoadPolicy(ctx context.Context, path string) (*Policy, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if name, ok := strings.CutPrefix(path, BuiltinPrefix); ok {
		if !slices.Contains(ListBuiltins(), name) {
			return nil, fmt.Errorf("unknown built-in policy %q (have %s)", path, strings.Join(ListBuiltins(), ", "))
		}
		data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("reading built-in policy %q: %w", path, err)
		}
		return ParsePolicy(path, data)
	}
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading policy: %w", err)
	}
	return ParsePolicy(path, data)
}

// readFile reads a whole file, refusing unreasonably large ones.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("opening %q: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %q: %w", path, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%q is larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}

// posError is an error at a position in a file: "file:line:col: msg".
type posError struct {
	file string
	pos  position
	msg  string
}

func (e *posError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.file, e.pos.line, e.pos.col, e.msg)
}

// decodeStrict decodes one YAML document into v, rejecting unknown keys and
// further documents, and also returns the document's node tree (for
// positions).
func decodeStrict(name string, data []byte, v any) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty document", name)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: more than one YAML document", name)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &root, nil
}

// seqItems returns the item nodes of the sequence under key in the
// document's top-level mapping.
func seqItems(root *yaml.Node, key string) []*yaml.Node {
	if root == nil || root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return nil
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.SequenceNode {
			return m.Content[i+1].Content
		}
	}
	return nil
}

// ParsePolicy parses and compiles a policy. name is used in error messages
// ("policy.yaml:7:15: rule "x": undeclared reference to 'findng'"). All rules
// are compiled; every error found is returned.
func ParsePolicy(name string, data []byte) (*Policy, error) {
	var doc policyDoc
	root, err := decodeStrict(name, data, &doc)
	if err != nil {
		return nil, err
	}
	if doc.APIVersion != APIVersion {
		return nil, fmt.Errorf("%s: apiVersion is %q, want %q", name, doc.APIVersion, APIVersion)
	}
	if doc.Kind != KindPolicy {
		return nil, fmt.Errorf("%s: kind is %q, want %q", name, doc.Kind, KindPolicy)
	}
	if len(doc.Rules) == 0 {
		return nil, fmt.Errorf("%s: policy has no rules", name)
	}
	p := &Policy{Name: doc.Metadata.Name, Description: doc.Metadata.Description, Source: name}
	if p.Name == "" {
		p.Name = name
	}
	items := seqItems(root, "rules")
	c := compiler{file: name, data: data, envs: map[string]*cel.Env{}}
	seen := map[string]bool{}
	for i := range doc.Rules {
		pos := position{1, 1}
		if i < len(items) {
			pos = position{items[i].Line, items[i].Column}
		}
		rd := &doc.Rules[i]
		if rd.ID != "" {
			if seen[rd.ID] {
				c.errorf(pos, "rule %q: duplicate rule id", rd.ID)
				continue
			}
			seen[rd.ID] = true
		}
		if r := c.compileRule(rd, pos); r != nil {
			p.Rules = append(p.Rules, r)
		}
	}
	if len(c.errs) > 0 {
		slices.SortStableFunc(c.errs, func(a, b *posError) int {
			if n := cmp.Compare(a.pos.line, b.pos.line); n != 0 {
				return n
			}
			return cmp.Compare(a.pos.col, b.pos.col)
		})
		errs := make([]error, len(c.errs))
		for i, e := range c.errs {
			errs[i] = e
		}
		return nil, errors.Join(errs...)
	}
	return p, nil
}

type compiler struct {
	file string
	data []byte
	envs map[string]*cel.Env
	errs []*posError
}

func (c *compiler) errorf(pos position, format string, args ...any) {
	c.errs = append(c.errs, &posError{file: c.file, pos: pos, msg: fmt.Sprintf(format, args...)})
}

func (c *compiler) env(kind string) (*cel.Env, error) {
	if e, ok := c.envs[kind]; ok {
		return e, nil
	}
	e, err := newEnv(kind)
	if err != nil {
		return nil, err
	}
	c.envs[kind] = e
	return e, nil
}

// compileRule validates and compiles one rule; it returns nil after
// recording errors.
func (c *compiler) compileRule(rd *ruleDoc, pos position) *Rule {
	nerr := len(c.errs)
	for _, n := range []*yaml.Node{&rd.Expr, &rd.Message, &rd.MessageExpr} {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			*n = *n.Alias
		}
	}
	label := fmt.Sprintf("rule %q", rd.ID)
	if rd.ID == "" {
		label = "rule"
		c.errorf(pos, "rule: missing id")
	} else if !ruleIDPattern.MatchString(rd.ID) {
		c.errorf(pos, "%s: invalid id (use letters, digits, '.', '_', '/', '-')", label)
	}
	r := &Rule{ID: rd.ID, Description: rd.Description, Action: rd.Action, On: rd.On,
		IncludeSuppressed: rd.IncludeSuppressed, Expires: rd.Expires}
	switch rd.Action {
	case ActionDeny, ActionWarn:
	case ActionIgnore:
		if rd.On != OnFinding {
			c.errorf(pos, "%s: action ignore is for findings (on: finding)", label)
		}
	case "":
		c.errorf(pos, "%s: missing action (deny, warn or ignore)", label)
	default:
		c.errorf(pos, "%s: unknown action %q (want deny, warn or ignore)", label, rd.Action)
	}
	kindOK := true
	switch rd.On {
	case OnFinding, OnPackage, OnImage, OnSecret, OnMisconfig, OnMalware, OnLicense:
	case "":
		kindOK = false
		c.errorf(pos, "%s: missing on (finding, package, image, secret, misconfig, malware or license)", label)
	default:
		kindOK = false
		c.errorf(pos, "%s: unknown on %q (want finding, package, image, secret, misconfig, malware or license)", label, rd.On)
	}
	exp, err := parseExpiry(rd.Expires)
	if err != nil {
		c.errorf(pos, "%s: %v", label, err)
	}
	r.expires = exp
	if rd.Expr.Kind == 0 {
		c.errorf(pos, "%s: missing expr", label)
	} else if rd.Expr.Kind != yaml.ScalarNode {
		c.errorf(position{rd.Expr.Line, rd.Expr.Column}, "%s: expr must be a string", label)
	}
	if rd.Message.Kind != 0 && rd.MessageExpr.Kind != 0 {
		c.errorf(pos, "%s: give message or messageExpr, not both", label)
	}
	for _, n := range []*yaml.Node{&rd.Message, &rd.MessageExpr} {
		if n.Kind != 0 && n.Kind != yaml.ScalarNode {
			c.errorf(position{n.Line, n.Column}, "%s: message must be a string", label)
		}
	}
	if !kindOK || len(c.errs) > nerr {
		return nil
	}
	env, err := c.env(rd.On)
	if err != nil {
		c.errorf(pos, "%s: %v", label, err)
		return nil
	}
	r.Expr = rd.Expr.Value
	if strings.TrimSpace(r.Expr) == "" {
		c.errorf(position{rd.Expr.Line, rd.Expr.Column}, "%s: empty expr", label)
		return nil
	}
	ast := c.compileCEL(env, &rd.Expr, label)
	if ast != nil {
		if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
			c.errorf(position{rd.Expr.Line, rd.Expr.Column}, "%s: expr must be boolean, not %s", label, t)
		} else if r.prg, err = newProgram(env, ast); err != nil {
			c.errorf(position{rd.Expr.Line, rd.Expr.Column}, "%s: %v", label, err)
		}
		r.SupplyChain = readsSupplyChain(ast)
	}
	switch {
	case rd.MessageExpr.Kind == yaml.ScalarNode:
		r.MessageExpr = rd.MessageExpr.Value
		if ast := c.compileCEL(env, &rd.MessageExpr, label+" messageExpr"); ast != nil {
			if t := ast.OutputType(); !t.IsExactType(cel.StringType) && !t.IsExactType(cel.DynType) {
				c.errorf(position{rd.MessageExpr.Line, rd.MessageExpr.Column}, "%s: messageExpr must be a string, not %s", label, t)
			} else if r.msgPrg, err = newProgram(env, ast); err != nil {
				c.errorf(position{rd.MessageExpr.Line, rd.MessageExpr.Column}, "%s: %v", label, err)
			}
		}
	case rd.Message.Kind == yaml.ScalarNode:
		r.Message = rd.Message.Value
		tmpl, err := parseTemplate(r.Message, fieldNames(rd.On))
		if err != nil {
			c.errorf(position{rd.Message.Line, rd.Message.Column}, "%s: message: %v", label, err)
		}
		r.tmpl = tmpl
	}
	if len(c.errs) > nerr {
		return nil
	}
	return r
}

// compileCEL compiles the expression in node n, mapping CEL error locations
// to file positions.
func (c *compiler) compileCEL(env *cel.Env, n *yaml.Node, label string) *cel.Ast {
	ast, iss := env.Compile(n.Value)
	if iss == nil || iss.Err() == nil {
		return ast
	}
	m := newScalarMap(c.data, n)
	for _, e := range iss.Errors() {
		msg := strings.TrimSuffix(e.Message, " (in container '')")
		c.errorf(m.at(e.Location.Line(), e.Location.Column()), "%s: %s", label, msg)
	}
	return nil
}

// expired reports whether the rule's expiry has passed.
func (r *Rule) expired(now time.Time) bool { return r.expires.expired(now) }
