package provenance

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/result"
)

func tp(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// A BuildKit-style SLSA v0.2 predicate (fields as BuildKit's
// docs/attestations/slsa-definitions.md describes them).
const v02 = `{
  "builder": {"id": "https://github.com/docker/buildx/actions/runs/1"},
  "buildType": "https://mobyproject.org/buildkit@v1",
  "materials": [
    {"uri": "pkg:docker/alpine@3.20?platform=linux%2Famd64", "digest": {"sha256": "AB12"}},
    {"uri": "https://github.com/example/app.git#main", "digest": {"sha1": "0123456789012345678901234567890123456789"}}
  ],
  "invocation": {"configSource": {"uri": "https://github.com/example/app.git@refs/heads/main", "digest": {"sha1": "0123456789012345678901234567890123456789"}, "entryPoint": "Dockerfile"}},
  "metadata": {"buildInvocationID": "inv-1", "buildStartedOn": "2026-01-02T03:04:05Z", "buildFinishedOn": "2026-01-02T03:05:00.5+01:00"}
}`

// The predicate of sigstore-go's testdata sigstore.js@2.0.0 provenance
// (GitHub Actions' SLSA v1 build type).
const v1 = `{
  "buildDefinition": {
    "buildType": "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
    "externalParameters": {"workflow": {"ref": "refs/heads/main", "repository": "https://github.com/sigstore/sigstore-js", "path": ".github/workflows/release.yml"}},
    "resolvedDependencies": [{"uri": "git+https://github.com/sigstore/sigstore-js@refs/heads/main", "digest": {"gitCommit": "f0b49a04e5a62250e0f60fb128004a73110fe311"}}]
  },
  "runDetails": {"builder": {"id": "https://github.com/actions/runner/github-hosted"}, "metadata": {"invocationId": "https://github.com/sigstore/sigstore-js/actions/runs/5904696764/attempts/1", "startedOn": "2026-01-02T03:04:05Z"}}
}`

func TestParse(t *testing.T) {
	tests := []struct {
		name, typ, in string
		want          result.Provenance
		err           string
	}{
		{name: "v0.2 buildkit", typ: SLSAv02, in: v02, want: result.Provenance{
			PredicateType: SLSAv02, BuilderID: "https://github.com/docker/buildx/actions/runs/1",
			BuildType: "https://mobyproject.org/buildkit@v1", SourceRepo: "https://github.com/example/app.git",
			SourceDigest: "sha1:0123456789012345678901234567890123456789",
			Materials: []string{"pkg:docker/alpine@3.20?platform=linux%2Famd64&digest=sha256:ab12",
				"https://github.com/example/app.git#main?digest=sha1:0123456789012345678901234567890123456789"},
			InvocationID: "inv-1", StartedOn: tp("2026-01-02T03:04:05Z"), FinishedOn: tp("2026-01-02T02:05:00.5Z"),
		}},
		{name: "v0.2 source from materials", typ: SLSAv02,
			in: `{"builder":{"id":"b"},"materials":[{"uri":"pkg:docker/x@1"},{"uri":"git+https://git.example/r@v1","digest":{"sha1":"AA"}}]}`,
			want: result.Provenance{PredicateType: SLSAv02, BuilderID: "b", SourceRepo: "https://git.example/r", SourceDigest: "sha1:aa",
				Materials: []string{"pkg:docker/x@1", "git+https://git.example/r@v1?digest=sha1:aa"}}},
		{name: "v1 github", typ: SLSAv1, in: v1, want: result.Provenance{
			PredicateType: SLSAv1, BuilderID: "https://github.com/actions/runner/github-hosted",
			BuildType:  "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1",
			SourceRepo: "https://github.com/sigstore/sigstore-js", SourceDigest: "sha1:f0b49a04e5a62250e0f60fb128004a73110fe311",
			Materials:    []string{"git+https://github.com/sigstore/sigstore-js@refs/heads/main?digest=gitCommit:f0b49a04e5a62250e0f60fb128004a73110fe311"},
			InvocationID: "https://github.com/sigstore/sigstore-js/actions/runs/5904696764/attempts/1", StartedOn: tp("2026-01-02T03:04:05Z"),
		}},
		{name: "v1 buildkit configSource", typ: SLSAv1,
			in: `{"buildDefinition":{"buildType":"https://mobyproject.org/buildkit@v1","externalParameters":{"configSource":{"uri":"https://github.com/e/a.git#main","path":"Dockerfile"}},"resolvedDependencies":[{"uri":"https://github.com/e/a.git#main","digest":{"sha1":"bb"}}]},"runDetails":{"builder":{"id":""}}}`,
			want: result.Provenance{PredicateType: SLSAv1, BuildType: "https://mobyproject.org/buildkit@v1",
				SourceRepo: "https://github.com/e/a.git#main", SourceDigest: "sha1:bb",
				Materials: []string{"https://github.com/e/a.git#main?digest=sha1:bb"}}},
		{name: "v1 no source", typ: SLSAv1, in: `{"runDetails":{"builder":{"id":"x"}}}`,
			want: result.Provenance{PredicateType: SLSAv1, BuilderID: "x"}},
		{name: "bad time", typ: SLSAv1, in: `{"runDetails":{"metadata":{"startedOn":"yesterday"}}}`, err: `runDetails.metadata.startedOn "yesterday"`},
		{name: "not json", typ: SLSAv02, in: `{`, err: "reading SLSA v0.2 provenance"},
		{name: "wrong shape", typ: SLSAv1, in: `{"runDetails":[]}`, err: "reading SLSA v1 provenance"},
		{name: "other type", typ: "https://spdx.dev/Document", in: `{}`, err: "is not SLSA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.typ, []byte(tc.in))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("-want +got:\n%s", d)
			}
		})
	}
}

func TestFromStatement(t *testing.T) {
	st := `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"CD"}},{"name":"b","digest":{"sha512":"ef"}}],"predicateType":"` + SLSAv1 + `","predicate":` + v1 + `}`
	got, err := FromStatement([]byte(st))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"sha256:cd", "sha512:ef"}, got.Subjects); d != "" {
		t.Errorf("subjects -want +got:\n%s", d)
	}
	if !got.HasSubject("sha256:CD") || got.HasSubject("sha256:ce") {
		t.Errorf("HasSubject wrong for %v", got.Subjects)
	}
	if got.Provenance == nil || got.Provenance.BuilderID != "https://github.com/actions/runner/github-hosted" {
		t.Errorf("provenance = %+v", got.Provenance)
	}
	other, err := FromStatement([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://cyclonedx.org/bom","predicate":{}}`))
	if err != nil || other.Provenance != nil || other.PredicateType != "https://cyclonedx.org/bom" {
		t.Errorf("non-SLSA statement: %+v, %v", other, err)
	}
	for _, bad := range []string{`[]`, `{"_type":"x","predicateType":"p"}`, `{"_type":"https://in-toto.io/Statement/v1"}`} {
		if _, err := FromStatement([]byte(bad)); err == nil {
			t.Errorf("FromStatement(%s) = nil error", bad)
		}
	}
}

func FuzzFromStatement(f *testing.F) {
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"` + SLSAv1 + `","predicate":` + v1 + `}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"` + SLSAv02 + `","predicate":` + v02 + `}`))
	f.Add([]byte(`{"_type":"https://in-toto.io/Statement/v1","predicateType":"` + SLSAv1 + `","predicate":{"buildDefinition":{"externalParameters":{"workflow":1}}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := FromStatement(b)
		if err != nil {
			return
		}
		if s.PredicateType == "" {
			t.Fatal("no error and no predicate type")
		}
		if s.Provenance != nil && len(s.Provenance.Materials) > MaxMaterials+1 {
			t.Fatalf("%d materials kept", len(s.Provenance.Materials))
		}
	})
}
