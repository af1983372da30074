package policy

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const header = "apiVersion: drydock.dev/v1\nkind: Policy\nmetadata: {name: t}\nrules:\n"

func TestParsePolicyErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string // appended to header (4 lines) unless it starts with "!"
		want string
	}{
		{
			name: "undeclared reference, plain scalar",
			src: `  - id: x
    action: deny
    on: finding
    expr: findng.severity == "CRITICAL"
`,
			want: `p.yaml:8:11: rule "x": undeclared reference to 'findng'`,
		},
		{
			name: "undefined field, double-quoted",
			src: `  - id: x
    action: deny
    on: finding
    expr: "finding.sevrity == \"HIGH\""
`,
			want: `p.yaml:8:19: rule "x": undefined field 'sevrity'`,
		},
		{
			name: "escape sequence before the error",
			src: `  - id: x
    action: deny
    on: finding
    expr: "finding.title == \"caf\u00e9\" && findng.kev"
`,
			want: `p.yaml:8:46: rule "x": undeclared reference to 'findng'`,
		},
		{
			name: "literal block, second line",
			src: `  - id: x
    action: deny
    on: finding
    expr: |
      finding.severity == "HIGH" &&
        findng.kev
`,
			want: `p.yaml:10:9: rule "x": undeclared reference to 'findng'`,
		},
		{
			name: "folded block, second line",
			src: `  - id: x
    action: deny
    on: finding
    expr: >-
      finding.severity == "HIGH" &&
      finding.kev == "yes"
`,
			want: `p.yaml:10:19: rule "x": found no matching overload for '_==_' applied to '(bool, string)'`,
		},
		{
			name: "plain scalar continued on the next line",
			src: `  - id: x
    action: deny
    on: finding
    expr: finding.severity == "HIGH" &&
          finding.kevv
`,
			want: `p.yaml:9:18: rule "x": undefined field 'kevv'`,
		},
		{
			name: "syntax error",
			src: `  - id: x
    action: deny
    on: finding
    expr: finding.severity ==
`,
			want: `p.yaml:8:30: rule "x": Syntax error: mismatched input '<EOF>' expecting`,
		},
		{
			name: "variable of another kind",
			src: `  - id: x
    action: deny
    on: image
    expr: finding.kev
`,
			want: `p.yaml:8:11: rule "x": undeclared reference to 'finding'`,
		},
		{
			name: "package is pkg",
			src: `  - id: x
    action: deny
    on: package
    expr: package.name == "glibc"
`,
			want: `p.yaml:8:11: rule "x": reserved identifier: package`,
		},
		{
			name: "not boolean",
			src: `  - id: x
    action: warn
    on: finding
    expr: finding.id
`,
			want: `p.yaml:8:11: rule "x": expr must be boolean, not string`,
		},
		{
			name: "messageExpr not a string",
			src: `  - id: x
    action: warn
    on: image
    expr: "true"
    messageExpr: image.layers
`,
			want: `p.yaml:9:18: rule "x": messageExpr must be a string, not int`,
		},
		{
			name: "unknown template field",
			src: `  - id: x
    action: warn
    on: finding
    expr: finding.kev
    message: "{{id}} in {{pkg}}"
`,
			want: `p.yaml:9:14: rule "x": message: unknown field {{pkg}}`,
		},
		{
			name: "unclosed template",
			src: `  - id: x
    action: warn
    on: finding
    expr: finding.kev
    message: "{{id"
`,
			want: `p.yaml:9:14: rule "x": message: unclosed {{`,
		},
		{
			name: "unknown key",
			src: `  - id: x
    action: deny
    on: finding
    exprs: finding.kev
`,
			want: "p.yaml: yaml: unmarshal errors:\n  line 8: field exprs not found",
		},
		{
			name: "unknown action and on",
			src: `  - id: x
    action: block
    on: layer
    expr: "true"
`,
			want: "p.yaml:5:5: rule \"x\": unknown action \"block\" (want deny, warn or ignore)\n" +
				"p.yaml:5:5: rule \"x\": unknown on \"layer\"",
		},
		{
			name: "missing fields",
			src: `  - description: nothing else
`,
			want: "p.yaml:5:5: rule: missing id\np.yaml:5:5: rule: missing action (deny, warn or ignore)\n" +
				"p.yaml:5:5: rule: missing on (finding, package, image, secret, misconfig, malware or license)\np.yaml:5:5: rule: missing expr",
		},
		{
			name: "duplicate id and bad expiry, errors of all rules in order",
			src: `  - id: x
    action: deny
    on: finding
    expr: findng.kev
  - id: x
    action: deny
    on: finding
    expr: finding.kev
  - id: y
    action: deny
    on: finding
    expr: finding.kev
    expires: next year
`,
			want: "p.yaml:8:11: rule \"x\": undeclared reference to 'findng'\n" +
				"p.yaml:9:5: rule \"x\": duplicate rule id\n" +
				"p.yaml:13:5: rule \"y\": invalid expiry \"next year\"",
		},
		{
			name: "expr is a mapping",
			src: `  - id: x
    action: deny
    on: finding
    expr: {a: b}
`,
			want: `p.yaml:8:11: rule "x": expr must be a string`,
		},
		{name: "no rules", src: "  []\n", want: "p.yaml: policy has no rules"},
		{name: "empty", src: "!", want: "p.yaml: empty document"},
		{name: "wrong apiVersion", src: "!apiVersion: v2\nkind: Policy\nrules: []\n", want: `p.yaml: apiVersion is "v2", want "drydock.dev/v1"`},
		{name: "wrong kind", src: "!apiVersion: drydock.dev/v1\nkind: Ignore\n", want: `p.yaml: kind is "Ignore", want "Policy"`},
		{name: "two documents", src: "!" + header + "  - {id: a, action: deny, on: image, expr: 'true'}\n---\n" + header,
			want: "p.yaml: more than one YAML document"},
		{name: "not YAML", src: "!\x00\x01{", want: "p.yaml: yaml:"},
		{name: "bad id", src: "  - {id: 'gate:x', action: deny, on: image, expr: 'true'}\n",
			want: `p.yaml:5:5: rule "gate:x": invalid id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := header + tt.src
			if s, ok := strings.CutPrefix(tt.src, "!"); ok {
				src = s
			}
			p, err := ParsePolicy("p.yaml", []byte(src))
			if err == nil {
				t.Fatalf("no error, got policy with %d rules", len(p.Rules))
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("error:\n%s\nwant prefix:\n%s", err, tt.want)
			}
		})
	}
}

func TestParsePolicy(t *testing.T) {
	p, err := ParsePolicy("testdata/policy/team.yaml", []byte(mustRead(t, "testdata/policy/team.yaml")))
	if err != nil {
		t.Fatal(err)
	}
	type rule struct{ ID, Action, On, Expires string }
	var got []rule
	for _, r := range p.Rules {
		got = append(got, rule{r.ID, r.Action, r.On, r.Expires})
	}
	want := []rule{
		{"no-fixable-critical", "deny", "finding", "2027-01-31"},
		{"no-kev", "deny", "finding", ""},
		{"old-base-image", "warn", "image", ""},
		{"copyleft-in-app-layer", "warn", "package", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if p.Name != "team-policy" || !strings.HasPrefix(p.Description, "Block fixable") {
		t.Errorf("metadata = %q, %q", p.Name, p.Description)
	}
	// Every built-in compiles.
	for _, name := range ListBuiltins() {
		mustPolicy(t, BuiltinPrefix+name)
	}
}

func TestTemplate(t *testing.T) {
	known := fieldNames(OnFinding)
	parts, err := parseTemplate("{{ id }} in {{package}}{{fixed_version}} {x} }}", known)
	if err != nil {
		t.Fatal(err)
	}
	got := renderTemplate(parts, map[string]string{"id": "CVE-1", "package": "glibc", "fixed_version": "!"})
	if want := "CVE-1 in glibc! {x} }}"; got != want {
		t.Errorf("render = %q, want %q", got, want)
	}
}

// TestExpressionLimits checks that long rule chains are accepted and that
// hostile nesting is refused at load time.
func TestExpressionLimits(t *testing.T) {
	rule := func(expr string) []byte {
		return []byte(header + "  - id: x\n    action: deny\n    on: finding\n    expr: '" + expr + "'\n")
	}
	var parts []string
	for range 150 {
		parts = append(parts, `finding.id == "CVE-1"`)
	}
	if _, err := ParsePolicy("p.yaml", rule(strings.Join(parts, " || "))); err != nil {
		t.Errorf("150-term chain: %v", err)
	}
	deep := strings.Repeat("(", 300) + "true" + strings.Repeat(")", 300)
	if _, err := ParsePolicy("p.yaml", rule(deep)); err == nil || !strings.Contains(err.Error(), "recursion limit exceeded") {
		t.Errorf("300 nested parentheses: err = %v, want a recursion limit error", err)
	}
}
