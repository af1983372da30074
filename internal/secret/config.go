package secret

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"slices"
	"sync"

	aho "github.com/petar-dambovaliev/aho-corasick"
	"gopkg.in/yaml.v3"
)

// Config customises the scanner (the --secret-config file, by convention
// .drydock/secrets.yaml). The zero value means the built-in rules.
type Config struct {
	// Rules are custom rules, added after the built-in ones; a custom rule
	// with the ID of a built-in rule replaces it.
	Rules []Rule `yaml:"rules" json:"rules,omitempty"`
	// Allow rules apply to every rule. An allow rule with only a path makes
	// the scanner skip matching files entirely.
	Allow []Allow `yaml:"allow" json:"allow,omitempty"`
	// Disable lists rule IDs not to run.
	Disable []string `yaml:"disable" json:"disable,omitempty"`
	// Enable, if set, lists the only rule IDs to run.
	Enable []string `yaml:"enable" json:"enable,omitempty"`
	// MaxFileSize is the largest file scanned, in bytes (default 10 MiB).
	MaxFileSize int64 `yaml:"max_file_size" json:"max_file_size,omitempty"`
}

// LoadConfig reads a YAML configuration file. Unknown fields are errors.
// The rules are checked by New.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading secret config: %w", err)
	}
	var cfg Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("parsing secret config %q: %w", path, err)
	}
	return &cfg, nil
}

// builtinScanner compiles the built-in rules once. Like a package-level
// regexp, the Scanner is immutable after New: sharing it is safe.
var builtinScanner = sync.OnceValues(func() (*Scanner, error) { return New(nil) })

// Default returns the scanner with the built-in rules, compiled on first use
// and shared (a Scanner is immutable and safe for concurrent use).
func Default() (*Scanner, error) { return builtinScanner() }

// New builds a scanner from the built-in rules and cfg (nil: built-ins only).
// Errors name the offending rule or setting.
func New(cfg *Config) (*Scanner, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	rules := Builtin()
	byID := map[string]int{}
	for i, r := range rules {
		byID[r.ID] = i
	}
	seen := map[string]bool{}
	for i, r := range cfg.Rules {
		if r.ID == "" {
			return nil, fmt.Errorf("secret rule %d (%q): missing id", i, r.Title)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("secret rule %q: defined twice", r.ID)
		}
		seen[r.ID] = true
		if j, ok := byID[r.ID]; ok {
			rules[j] = r
			continue
		}
		byID[r.ID] = len(rules)
		rules = append(rules, r)
	}
	for _, id := range cfg.Disable {
		if _, ok := byID[id]; !ok {
			return nil, fmt.Errorf("secret config: disable: unknown rule id %q", id)
		}
	}
	for _, id := range cfg.Enable {
		if _, ok := byID[id]; !ok {
			return nil, fmt.Errorf("secret config: enable: unknown rule id %q", id)
		}
	}
	rules = slices.DeleteFunc(rules, func(r Rule) bool {
		return slices.Contains(cfg.Disable, r.ID) || (len(cfg.Enable) > 0 && !slices.Contains(cfg.Enable, r.ID))
	})

	s := &Scanner{maxSize: DefaultMaxFileSize, version: RulesVersion}
	if cfg.MaxFileSize < 0 {
		return nil, fmt.Errorf("secret config: max_file_size %d is negative", cfg.MaxFileSize)
	}
	if cfg.MaxFileSize > 0 {
		s.maxSize = cfg.MaxFileSize
	}
	for _, a := range builtinAllow() {
		ca, err := compileAllow(a)
		if err != nil {
			return nil, fmt.Errorf("built-in allow rule %q: %w", a.Description, err)
		}
		s.allow = append(s.allow, ca)
	}
	for i, a := range cfg.Allow {
		ca, err := compileAllow(a)
		if err != nil {
			return nil, fmt.Errorf("secret config: allow %d: %w", i, err)
		}
		s.allow = append(s.allow, ca)
	}
	kwIndex := map[string]int{}
	var keywords []string
	for i, r := range rules {
		c, err := compile(r, i)
		if err != nil {
			return nil, err
		}
		s.rules = append(s.rules, c)
		if len(c.Keywords) == 0 {
			s.noKeyword = append(s.noKeyword, i)
			continue
		}
		for _, k := range c.Keywords {
			ki, ok := kwIndex[k]
			if !ok {
				ki = len(keywords)
				kwIndex[k] = ki
				keywords = append(keywords, k)
				s.kwRules = append(s.kwRules, nil)
			}
			if !slices.Contains(s.kwRules[ki], i) {
				s.kwRules[ki] = append(s.kwRules[ki], i)
			}
		}
	}
	s.ctxRules = newContextRules(len(s.rules))
	if len(keywords) > 0 {
		b := aho.NewAhoCorasickBuilder(aho.Opts{AsciiCaseInsensitive: true, MatchKind: aho.StandardMatch, DFA: true})
		ac := b.Build(keywords)
		s.ac = &ac
	}
	if len(cfg.Rules) > 0 || len(cfg.Allow) > 0 || len(cfg.Disable) > 0 || len(cfg.Enable) > 0 || cfg.MaxFileSize > 0 {
		s.version = configVersion(cfg)
	}
	return s, nil
}

// configVersion derives the extractor version from a custom configuration:
// the per-layer cache key holds it, so results of different rules are never
// mixed up.
func configVersion(cfg *Config) int {
	h := fnv.New32a()
	data, err := json.Marshal(cfg)
	if err != nil {
		// Config holds only strings, numbers and booleans.
		data = []byte(fmt.Sprint(cfg))
	}
	fmt.Fprintf(h, "%d\x00", RulesVersion)
	h.Write(data)
	v := int(h.Sum32() & 0x7fffffff)
	if v <= RulesVersion {
		v += RulesVersion + 1
	}
	return v
}
