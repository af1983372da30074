package admission

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	pol := filepath.Join(dir, "policy.yaml")
	if err := os.WriteFile(pol, []byte(warnPolicy), 0o600); err != nil {
		t.Fatal(err)
	}
	good := `apiVersion: drydock.dev/v1
kind: AdmissionConfig
budget: 1500ms
failurePolicy: open
resolveTTL: 30s
lookupTTL: 2s
registries: ["registry.example", "*.corp.example"]
policies:
  default:
    policies: [builtin:no-critical]
    failOn: HIGH
  audit:
    policies: [` + pol + `]
default:
  policy: default
rules:
  - namespaces: ["team-*"]
    selector:
      matchExpressions:
        - {key: tier, operator: In, values: [web, api]}
    policy: audit
    unknown: warn
    failing: warn
gatekeeper:
  policy: audit
`
	c, err := ParseConfig(context.Background(), "good.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	type summary struct {
		Budget, ResolveTTL, LookupTTL, VerdictTTL time.Duration
		Registries                                []string
		FailOpen                                  bool
		CacheSize                                 int
		Gatekeeper, FailOn                        string
		Rule                                      Rule
		Match                                     []string
	}
	got := summary{Budget: c.Budget, ResolveTTL: c.ResolveTTL, LookupTTL: c.LookupTTL, VerdictTTL: c.VerdictTTL, Registries: c.Registries, FailOpen: c.FailOpen, CacheSize: c.CacheSize,
		Gatekeeper: c.Gatekeeper, FailOn: c.Policies["default"].Gate.FailOn, Rule: c.Default}
	for _, o := range []struct {
		ns     string
		labels map[string]string
	}{{"team-a", map[string]string{"tier": "web"}}, {"team-a", map[string]string{"tier": "db"}}, {"prod", map[string]string{"tier": "web"}}} {
		got.Match = append(got.Match, c.rule(o.ns, o.labels).Policy)
	}
	want := summary{Budget: 1500 * time.Millisecond, ResolveTTL: 30 * time.Second, LookupTTL: 2 * time.Second, VerdictTTL: DefaultVerdictTTL,
		Registries: []string{"registry.example", "*.corp.example"}, FailOpen: true,
		CacheSize: DefaultCacheSize, Gatekeeper: "audit", FailOn: "HIGH",
		Rule:  Rule{Policy: "default", Unknown: Deny, Failing: Deny},
		Match: []string{"audit", "default", "default"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if len(c.Policies["audit"].Policies) != 1 || len(c.Policies["default"].Policies) != 1 {
		t.Errorf("policies not loaded: %+v", c.Policies)
	}

	head := "apiVersion: drydock.dev/v1\nkind: AdmissionConfig\npolicies: {default: {policies: [builtin:kev]}}\n"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", head + "default: {policy: default}\nbudegt: 2s\n", `unknown field "budegt"`},
		{"unknown policy", head + "default: {policy: nope}\n", `default: unknown policy "nope" (have default)`},
		{"bad mode", head + "default: {policy: default, unknown: maybe}\n", `unknown "maybe" is not deny, warn or allow`},
		{"allow for failing", head + "default: {policy: default, failing: allow}\n", `failing "allow" is not deny or warn`},
		{"bad budget", head + "default: {policy: default}\nbudget: soon\n", `budget "soon" is not a positive duration`},
		{"bad failure policy", head + "default: {policy: default}\nfailurePolicy: maybe\n", `failurePolicy "maybe" is not open or closed`},
		{"bad selector", head + "default: {policy: default}\nrules: [{policy: default, selector: {matchExpressions: [{key: a, operator: Near}]}}]\n", `rule 1: selector`},
		{"missing policy file", "apiVersion: drydock.dev/v1\nkind: AdmissionConfig\npolicies: {default: {policies: [/nonexistent.yaml]}}\ndefault: {policy: default}\n", `/nonexistent.yaml`},
		{"bad registry pattern", head + "default: {policy: default}\nregistries: [\"[\"]\n", `registry pattern "["`},
		{"wrong kind", "apiVersion: drydock.dev/v1\nkind: Policy\n", `want drydock.dev/v1 AdmissionConfig`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(context.Background(), "bad.yaml", []byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestLRU(t *testing.T) {
	now := time.Unix(0, 0)
	c := newLRU[string, int](2, time.Minute, func() time.Time { return now })
	c.put("a", 1)
	c.put("b", 2)
	c.get("a")    // a is now the most recently used
	c.put("c", 3) // evicts b
	var got []string
	for _, k := range []string{"a", "b", "c"} {
		if v, ok := c.get(k); ok {
			got = append(got, k+"="+string(rune('0'+v)))
		}
	}
	now = now.Add(time.Minute)
	if _, ok := c.get("a"); ok {
		got = append(got, "a alive after its TTL")
	}
	if diff := cmp.Diff([]string{"a=1", "c=3"}, got); diff != "" || c.len() != 1 {
		t.Errorf("(-want +got):\n%s, len %d", diff, c.len())
	}
}
