// Package provenance reads SLSA provenance predicates (v0.2 and v1) into
// result.Provenance. It only parses: it verifies nothing and does no I/O.
// Whether the statement it came from was signed is the caller's to say.
package provenance

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drydock-scan/drydock/internal/result"
)

// The SLSA provenance predicate types.
const (
	SLSAv02 = "https://slsa.dev/provenance/v0.2"
	SLSAv1  = "https://slsa.dev/provenance/v1"
)

// MaxMaterials bounds the materials kept from one predicate: a hostile
// statement cannot make the report arbitrarily long.
const MaxMaterials = 256

// IsSLSA reports whether predicateType is a SLSA provenance type this
// package reads.
func IsSLSA(predicateType string) bool {
	return predicateType == SLSAv02 || predicateType == SLSAv1
}

// Parse reads a SLSA predicate (the statement's "predicate" value) of the
// given type. Verified is left false.
func Parse(predicateType string, predicate []byte) (result.Provenance, error) {
	switch predicateType {
	case SLSAv02:
		return parseV02(predicate)
	case SLSAv1:
		return parseV1(predicate)
	}
	return result.Provenance{}, fmt.Errorf("reading provenance: predicate type %q is not SLSA v0.2 or v1", predicateType)
}

// FromStatement reads an in-toto statement (v0.1 or v1) and, when its
// predicate is SLSA provenance, parses it. It returns the predicate type,
// the provenance (nil when the predicate is not SLSA) and the subjects'
// digests ("sha256:…").
func FromStatement(statement []byte) (Statement, error) {
	var s struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		Predicate json.RawMessage `json:"predicate"`
	}
	if err := json.Unmarshal(statement, &s); err != nil {
		return Statement{}, fmt.Errorf("reading the in-toto statement: %w", err)
	}
	if !strings.HasPrefix(s.Type, "https://in-toto.io/Statement/") {
		return Statement{}, fmt.Errorf("reading the in-toto statement: _type %q is not an in-toto statement", s.Type)
	}
	if s.PredicateType == "" {
		return Statement{}, errors.New("reading the in-toto statement: no predicateType")
	}
	out := Statement{PredicateType: s.PredicateType}
	for _, sub := range s.Subject {
		for alg, hex := range sub.Digest {
			out.Subjects = append(out.Subjects, alg+":"+strings.ToLower(hex))
		}
	}
	slices.Sort(out.Subjects)
	if IsSLSA(s.PredicateType) {
		p, err := Parse(s.PredicateType, s.Predicate)
		if err != nil {
			return out, err
		}
		out.Provenance = &p
	}
	return out, nil
}

// Statement is what FromStatement read.
type Statement struct {
	PredicateType string
	// Subjects are the subjects' digests, "alg:hex", sorted.
	Subjects   []string
	Provenance *result.Provenance
}

// HasSubject reports whether digest ("sha256:…") is one of the subjects.
func (s Statement) HasSubject(digest string) bool {
	return slices.Contains(s.Subjects, strings.ToLower(digest))
}

type resource struct {
	URI    string            `json:"uri"`
	Digest map[string]string `json:"digest"`
	Name   string            `json:"name"`
}

func parseV02(b []byte) (result.Provenance, error) {
	var p struct {
		Builder struct {
			ID string `json:"id"`
		} `json:"builder"`
		BuildType  string `json:"buildType"`
		Invocation struct {
			ConfigSource resource `json:"configSource"`
		} `json:"invocation"`
		Metadata struct {
			BuildInvocationID string `json:"buildInvocationID"`
			BuildStartedOn    string `json:"buildStartedOn"`
			BuildFinishedOn   string `json:"buildFinishedOn"`
		} `json:"metadata"`
		Materials []resource `json:"materials"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return result.Provenance{}, fmt.Errorf("reading SLSA v0.2 provenance: %w", err)
	}
	out := result.Provenance{
		PredicateType: SLSAv02,
		BuilderID:     p.Builder.ID,
		BuildType:     p.BuildType,
		InvocationID:  p.Metadata.BuildInvocationID,
	}
	var err error
	if out.StartedOn, err = parseTime("metadata.buildStartedOn", p.Metadata.BuildStartedOn); err != nil {
		return result.Provenance{}, err
	}
	if out.FinishedOn, err = parseTime("metadata.buildFinishedOn", p.Metadata.BuildFinishedOn); err != nil {
		return result.Provenance{}, err
	}
	src := p.Invocation.ConfigSource
	if src.URI == "" {
		// No configSource: the first git material is the source.
		for _, m := range p.Materials {
			if isGit(m.URI) {
				src = m
				break
			}
		}
	}
	out.SourceRepo, out.SourceDigest = repoOf(src.URI), commitOf(src.Digest)
	out.Materials = materials(p.Materials)
	return out, nil
}

func parseV1(b []byte) (result.Provenance, error) {
	var p struct {
		BuildDefinition struct {
			BuildType            string                     `json:"buildType"`
			ExternalParameters   map[string]json.RawMessage `json:"externalParameters"`
			ResolvedDependencies []resource                 `json:"resolvedDependencies"`
		} `json:"buildDefinition"`
		RunDetails struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
			Metadata struct {
				InvocationID string `json:"invocationId"`
				StartedOn    string `json:"startedOn"`
				FinishedOn   string `json:"finishedOn"`
			} `json:"metadata"`
		} `json:"runDetails"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return result.Provenance{}, fmt.Errorf("reading SLSA v1 provenance: %w", err)
	}
	out := result.Provenance{
		PredicateType: SLSAv1,
		BuilderID:     p.RunDetails.Builder.ID,
		BuildType:     p.BuildDefinition.BuildType,
		InvocationID:  p.RunDetails.Metadata.InvocationID,
	}
	var err error
	if out.StartedOn, err = parseTime("runDetails.metadata.startedOn", p.RunDetails.Metadata.StartedOn); err != nil {
		return result.Provenance{}, err
	}
	if out.FinishedOn, err = parseTime("runDetails.metadata.finishedOn", p.RunDetails.Metadata.FinishedOn); err != nil {
		return result.Provenance{}, err
	}
	deps := p.BuildDefinition.ResolvedDependencies
	// The source: externalParameters names it (GitHub workflows:
	// workflow.repository; BuildKit: configSource / context), and its
	// commit is the resolved dependency of the same repository.
	repo := externalSource(p.BuildDefinition.ExternalParameters)
	var src resource
	for _, d := range deps {
		if (repo != "" && repoOf(d.URI) == repo) || (repo == "" && isGit(d.URI)) {
			src = d
			break
		}
	}
	if repo == "" {
		repo = repoOf(src.URI)
	}
	out.SourceRepo, out.SourceDigest = repo, commitOf(src.Digest)
	out.Materials = materials(deps)
	return out, nil
}

// externalSource finds the source repository in v1 externalParameters.
func externalSource(ext map[string]json.RawMessage) string {
	var workflow struct {
		Repository string `json:"repository"`
	}
	if raw, ok := ext["workflow"]; ok && json.Unmarshal(raw, &workflow) == nil && workflow.Repository != "" {
		return repoOf(workflow.Repository)
	}
	var cs resource
	if raw, ok := ext["configSource"]; ok && json.Unmarshal(raw, &cs) == nil && cs.URI != "" {
		return repoOf(cs.URI)
	}
	for _, k := range []string{"source", "repository"} {
		var s string
		if raw, ok := ext[k]; ok && json.Unmarshal(raw, &s) == nil && s != "" {
			return repoOf(s)
		}
	}
	return ""
}

// repoOf is a source URI without its "git+" scheme prefix and "@ref".
func repoOf(uri string) string {
	uri = strings.TrimPrefix(uri, "git+")
	if i := strings.Index(uri, "://"); i >= 0 {
		// Strip "@refs/heads/main" from the path, not the user@ of the host.
		rest := uri[i+3:]
		if j := strings.Index(rest, "/"); j >= 0 {
			path, _, _ := strings.Cut(rest[j:], "@")
			uri = uri[:i+3] + rest[:j] + path
		}
	}
	return strings.TrimSuffix(uri, "/")
}

func isGit(uri string) bool {
	return strings.HasPrefix(uri, "git+") || strings.HasSuffix(strings.SplitN(uri, "@", 2)[0], ".git")
}

// commitOf is a source digest as "sha1:hex" (gitCommit is a SHA-1 in git).
func commitOf(d map[string]string) string {
	if v := d["sha1"]; v != "" {
		return "sha1:" + strings.ToLower(v)
	}
	if v := d["gitCommit"]; v != "" {
		if len(v) == 40 {
			return "sha1:" + strings.ToLower(v)
		}
		return "gitCommit:" + v
	}
	return firstDigest(d)
}

func firstDigest(d map[string]string) string {
	for _, alg := range []string{"sha256", "sha512", "sha1"} {
		if v := d[alg]; v != "" {
			return alg + ":" + strings.ToLower(v)
		}
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 {
		return ""
	}
	return keys[0] + ":" + d[keys[0]]
}

// materials formats resources as URIs with their digest.
func materials(rs []resource) []string {
	var out []string
	for _, r := range rs {
		if len(out) == MaxMaterials {
			out = append(out, fmt.Sprintf("… %d more not kept", len(rs)-MaxMaterials))
			break
		}
		uri := r.URI
		if uri == "" {
			uri = r.Name
		}
		if uri == "" {
			continue
		}
		if d := firstDigest(r.Digest); d != "" {
			sep := "?"
			if strings.Contains(uri, "?") {
				sep = "&"
			}
			uri += sep + "digest=" + d
		}
		out = append(out, uri)
	}
	return out
}

func parseTime(field, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil, fmt.Errorf("reading provenance: %s %q is not an RFC 3339 time", field, s)
	}
	t = t.UTC()
	return &t, nil
}
