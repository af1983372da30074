package admission

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"

	"github.com/drydock-scan/drydock/internal/policy"
)

// Mode is what the gate does with an image: deny it, admit it with a
// warning, or admit it.
type Mode string

// Modes.
const (
	Deny  Mode = "deny"
	Warn  Mode = "warn"
	Allow Mode = "allow"
)

func (m Mode) valid() bool { return m == Deny || m == Warn || m == Allow }

// Defaults.
const (
	DefaultBudget     = 2500 * time.Millisecond
	DefaultResolveTTL = time.Minute
	DefaultLookupTTL  = 5 * time.Second
	DefaultVerdictTTL = 5 * time.Minute
	DefaultCacheSize  = 10000
)

// Rule chooses, for the objects it matches, the policy their images are
// judged by and what happens to images without a verdict or with a failing
// one.
type Rule struct {
	// Namespaces are path.Match patterns ("prod-*"); none matches every
	// namespace.
	Namespaces []string
	// Selector matches the object's own labels (metadata.labels); nil
	// matches every object.
	Selector labels.Selector
	// Policy names an entry of Config.Policies.
	Policy string
	// Unknown is the answer for an image drydock has not scanned (a scan is
	// queued unless the request is a dry run).
	Unknown Mode
	// Failing is the answer for an image whose verdict fails: Deny, or
	// Warn to admit it with a warning (audit mode).
	Failing Mode
}

func (r *Rule) matches(namespace string, lbls map[string]string) bool {
	if len(r.Namespaces) > 0 && !slices.ContainsFunc(r.Namespaces, func(p string) bool {
		ok, _ := path.Match(p, namespace)
		return ok
	}) {
		return false
	}
	return r.Selector == nil || r.Selector.Matches(labels.Set(lbls))
}

// Config is the gate's configuration. The zero value of every duration and
// size takes its default.
type Config struct {
	// Policies are the named policy sets, each the CLI's policy stage: CEL
	// policies, ignore files, VEX documents and gate flags.
	Policies map[string]*policy.Engine
	// Rules are tried in order; the first that matches the object's
	// namespace and labels decides. Default decides for the rest.
	Rules   []Rule
	Default Rule
	// Registries, if any, are the registry hosts images may come from
	// (path.Match patterns: "*.example.com"; Docker Hub is "index.docker.io").
	// An image from another registry fails (rule "admission:registry")
	// without a registry request or a queued scan: the gate never contacts a
	// host a request names unless it is listed.
	Registries []string
	// Gatekeeper is the policy the external data provider judges by
	// (Gatekeeper names no namespace); "" for Default.Policy.
	Gatekeeper string
	// Budget bounds the answer to one request (default 2.5 s): when the
	// registry or the store does not answer within it, the answer is
	// FailOpen's.
	Budget time.Duration
	// FailOpen admits (with a warning) what could not be decided within the
	// budget; false denies it.
	FailOpen bool
	// ResolveTTL is how long a tag's digest is trusted (default 1 min).
	ResolveTTL time.Duration
	// LookupTTL is how long the store's answer for a digest is kept
	// (default 5 s): a new scan or re-match of an image is seen this much
	// later, and a warm request reads nothing from the store.
	LookupTTL time.Duration
	// VerdictTTL is how long a verdict is kept for an unchanged image,
	// policy and database (default 5 min: rules see the time, e.g. expiries
	// and image age).
	VerdictTTL time.Duration
	// CacheSize bounds each cache (tags, verdicts; default 10000 entries).
	CacheSize int
}

// rule returns the rule deciding for an object.
func (c *Config) rule(namespace string, lbls map[string]string) *Rule {
	for i := range c.Rules {
		if c.Rules[i].matches(namespace, lbls) {
			return &c.Rules[i]
		}
	}
	return &c.Default
}

// normalized fills in the defaults and checks that every rule names a
// known policy and valid modes.
func (c Config) normalized() (Config, error) {
	if c.Budget <= 0 {
		c.Budget = DefaultBudget
	}
	if c.ResolveTTL <= 0 {
		c.ResolveTTL = DefaultResolveTTL
	}
	if c.LookupTTL <= 0 {
		c.LookupTTL = DefaultLookupTTL
	}
	if c.VerdictTTL <= 0 {
		c.VerdictTTL = DefaultVerdictTTL
	}
	if c.CacheSize <= 0 {
		c.CacheSize = DefaultCacheSize
	}
	if c.Gatekeeper == "" {
		c.Gatekeeper = c.Default.Policy
	}
	c.Rules = slices.Clone(c.Rules)
	var errs []error
	check := func(what string, r *Rule) {
		if r.Unknown == "" {
			r.Unknown = Deny
		}
		if r.Failing == "" {
			r.Failing = Deny
		}
		if _, ok := c.Policies[r.Policy]; !ok {
			errs = append(errs, fmt.Errorf("%s: unknown policy %q (have %s)", what, r.Policy, strings.Join(policyNames(c.Policies), ", ")))
		}
		if !r.Unknown.valid() {
			errs = append(errs, fmt.Errorf("%s: unknown %q is not deny, warn or allow", what, r.Unknown))
		}
		if r.Failing != Deny && r.Failing != Warn {
			errs = append(errs, fmt.Errorf("%s: failing %q is not deny or warn", what, r.Failing))
		}
		for _, p := range r.Namespaces {
			if _, err := path.Match(p, ""); err != nil {
				errs = append(errs, fmt.Errorf("%s: namespace pattern %q: %w", what, p, err))
			}
		}
	}
	for i := range c.Rules {
		check(fmt.Sprintf("rule %d", i+1), &c.Rules[i])
	}
	check("default", &c.Default)
	if _, ok := c.Policies[c.Gatekeeper]; !ok {
		errs = append(errs, fmt.Errorf("gatekeeper: unknown policy %q", c.Gatekeeper))
	}
	for _, p := range c.Registries {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("registry pattern %q: %w", p, err))
		}
	}
	for name, e := range c.Policies {
		if e == nil {
			errs = append(errs, fmt.Errorf("policy %q: no engine", name))
			continue
		}
		if err := e.Gate.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("policy %q: %w", name, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("admission configuration: %w", err)
	}
	return c, nil
}

// registryAllowed reports whether images may come from host.
func (c *Config) registryAllowed(host string) bool {
	return len(c.Registries) == 0 || slices.ContainsFunc(c.Registries, func(p string) bool {
		ok, _ := path.Match(p, host)
		return ok
	})
}

func policyNames(m map[string]*policy.Engine) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// File header values of an admission configuration file.
const (
	APIVersion = "drydock.dev/v1"
	KindConfig = "AdmissionConfig"
)

// fileConfig is the YAML file (docs/admission.md).
type fileConfig struct {
	APIVersion    string                `json:"apiVersion"`
	Kind          string                `json:"kind"`
	Budget        string                `json:"budget,omitempty"`
	FailurePolicy string                `json:"failurePolicy,omitempty"` // open | closed
	ResolveTTL    string                `json:"resolveTTL,omitempty"`
	LookupTTL     string                `json:"lookupTTL,omitempty"`
	VerdictTTL    string                `json:"verdictTTL,omitempty"`
	CacheSize     int                   `json:"cacheSize,omitempty"`
	Registries    []string              `json:"registries,omitempty"`
	Policies      map[string]filePolicy `json:"policies"`
	Default       fileRule              `json:"default"`
	Rules         []fileRule            `json:"rules,omitempty"`
	Gatekeeper    struct {
		Policy string `json:"policy,omitempty"`
	} `json:"gatekeeper,omitempty"`
}

type filePolicy struct {
	Policies      []string `json:"policies,omitempty"` // files or builtin:<name>
	Ignores       []string `json:"ignores,omitempty"`
	VEX           []string `json:"vex,omitempty"`
	Severities    []string `json:"severities,omitempty"`
	IgnoreUnfixed bool     `json:"ignoreUnfixed,omitempty"`
	FailOn        string   `json:"failOn,omitempty"`
	ExitCode      int      `json:"exitCode,omitempty"`
}

type fileRule struct {
	Namespaces []string              `json:"namespaces,omitempty"`
	Selector   *metav1.LabelSelector `json:"selector,omitempty"`
	Policy     string                `json:"policy"`
	Unknown    Mode                  `json:"unknown,omitempty"`
	Failing    Mode                  `json:"failing,omitempty"`
}

// maxConfigSize bounds the configuration file read.
const maxConfigSize = 1 << 20

// LoadConfig reads an admission configuration file and loads the policies,
// ignore files and VEX documents it names.
func LoadConfig(ctx context.Context, file string) (Config, error) {
	st, err := os.Stat(file)
	if err != nil {
		return Config{}, fmt.Errorf("reading admission configuration: %w", err)
	}
	if st.Size() > maxConfigSize {
		return Config{}, fmt.Errorf("reading admission configuration %s: %d bytes, more than %d", file, st.Size(), maxConfigSize)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return Config{}, fmt.Errorf("reading admission configuration: %w", err)
	}
	return ParseConfig(ctx, file, data)
}

// ParseConfig parses an admission configuration (YAML, unknown keys
// refused); name is used in errors.
func ParseConfig(ctx context.Context, name string, data []byte) (Config, error) {
	var fc fileConfig
	if err := yaml.UnmarshalStrict(data, &fc); err != nil {
		return Config{}, fmt.Errorf("admission configuration %s: %w", name, err)
	}
	if fc.APIVersion != APIVersion || fc.Kind != KindConfig {
		return Config{}, fmt.Errorf("admission configuration %s: apiVersion %q kind %q, want %s %s", name, fc.APIVersion, fc.Kind, APIVersion, KindConfig)
	}
	var c Config
	var errs []error
	dur := func(field, v string, dst *time.Duration) {
		if v == "" {
			return
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s %q is not a positive duration", field, v))
			return
		}
		*dst = d
	}
	dur("budget", fc.Budget, &c.Budget)
	dur("resolveTTL", fc.ResolveTTL, &c.ResolveTTL)
	dur("lookupTTL", fc.LookupTTL, &c.LookupTTL)
	dur("verdictTTL", fc.VerdictTTL, &c.VerdictTTL)
	c.CacheSize = fc.CacheSize
	c.Registries = fc.Registries
	switch fc.FailurePolicy {
	case "open":
		c.FailOpen = true
	case "", "closed":
	default:
		errs = append(errs, fmt.Errorf("failurePolicy %q is not open or closed", fc.FailurePolicy))
	}
	c.Policies = map[string]*policy.Engine{}
	for pname, fp := range fc.Policies {
		e := &policy.Engine{Gate: policy.Gate{Severities: fp.Severities, IgnoreUnfixed: fp.IgnoreUnfixed, FailOn: fp.FailOn, ExitCode: fp.ExitCode}}
		for _, p := range fp.Policies {
			pol, err := policy.LoadPolicy(ctx, p)
			if err != nil {
				errs = append(errs, fmt.Errorf("policy %q: %w", pname, err))
				continue
			}
			e.Policies = append(e.Policies, pol)
		}
		for _, p := range fp.Ignores {
			f, err := policy.LoadIgnoreFile(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("policy %q: %w", pname, err))
				continue
			}
			e.Ignores = append(e.Ignores, f)
		}
		for _, p := range fp.VEX {
			v, err := policy.LoadVEX(p)
			if err != nil {
				errs = append(errs, fmt.Errorf("policy %q: %w", pname, err))
				continue
			}
			e.VEX = append(e.VEX, v)
		}
		c.Policies[pname] = e
	}
	rule := func(what string, fr fileRule) Rule {
		r := Rule{Namespaces: fr.Namespaces, Policy: fr.Policy, Unknown: fr.Unknown, Failing: fr.Failing}
		if fr.Selector != nil {
			sel, err := metav1.LabelSelectorAsSelector(fr.Selector)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: selector: %w", what, err))
			}
			r.Selector = sel
		}
		return r
	}
	c.Default = rule("default", fc.Default)
	for i, fr := range fc.Rules {
		c.Rules = append(c.Rules, rule(fmt.Sprintf("rule %d", i+1), fr))
	}
	c.Gatekeeper = fc.Gatekeeper.Policy
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("admission configuration %s: %w", name, err)
	}
	c, err := c.normalized()
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}
