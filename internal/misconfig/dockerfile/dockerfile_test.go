package dockerfile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/secret"
	"github.com/drydock-scan/drydock/internal/walk"
)

// ghToken is a fake token, assembled so that no scanner-triggering
// literal sits in this file.
var ghToken = "ghp_" + "r8Vq2LmN5kTz9XwYb4Hc7JdF3sPq6GaE1uKo"

// clean passes every check.
const clean = `# syntax=docker/dockerfile:1
FROM golang:1.22 AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
    git ca-certificates
FROM build AS test
FROM gcr.io/distroless/static@sha256:0000000000000000000000000000000000000000000000000000000000000000
COPY --from=build /app /app
ENV PORT=8080 MODE=production
ARG VERSION=1.2.3
HEALTHCHECK CMD ["/app", "-health"]
USER 10001:10001
`

// ids lists "ID line" of each finding.
func ids(t *testing.T, ms []finding.Misconfig) []string {
	t.Helper()
	var out []string
	for _, m := range ms {
		i := strings.LastIndexByte(m.Title, ':')
		j := strings.LastIndexByte(m.Title, ')')
		if i < 0 || j < i {
			t.Fatalf("title %q names no file:line", m.Title)
		}
		out = append(out, m.ID+" "+m.Title[i+1:j])
	}
	return out
}

func TestCheck(t *testing.T) {
	s, err := secret.Default()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file string
		want       []string
	}{
		{"clean", clean, nil},
		{"empty", "", nil},
		{"comments only", "# nothing\n", nil},
		{"no user, no healthcheck", "FROM alpine:3.20\n", []string{"DD-DF-001 1", "DD-DF-004 1"}},
		{"root user last", "FROM alpine:3.20\nUSER app\nHEALTHCHECK NONE\nUSER root\n", []string{"DD-DF-001 4"}},
		{"uid 0 with group", "FROM alpine:3.20\nHEALTHCHECK CMD true\nUSER 0:0\n", []string{"DD-DF-001 3"}},
		{"user only in an earlier stage", "FROM alpine:3.20 AS a\nUSER app\nFROM alpine:3.20\nHEALTHCHECK CMD true\n", []string{"DD-DF-001 3"}},
		{"latest", "FROM node:latest\nHEALTHCHECK CMD true\nUSER app\n", []string{"DD-DF-003 1"}},
		{"no tag", "FROM --platform=linux/amd64 docker.io/library/node\nHEALTHCHECK CMD true\nUSER app\n", []string{"DD-DF-003 1"}},
		{"registry port is not a tag", "FROM localhost:5000/app\nHEALTHCHECK CMD true\nUSER app\n", []string{"DD-DF-003 1"}},
		{"scratch, stage, variable", "ARG BASE=alpine:3.20\nFROM $BASE AS b\nFROM b\nFROM scratch\nHEALTHCHECK CMD true\nUSER app\n", nil},
		{"add url", "FROM alpine:3.20\nADD --chown=app https://example.com/x.tgz /x\nADD local.tgz /y\nHEALTHCHECK CMD true\nUSER app\n", []string{"DD-DF-002 2"}},
		{"apt-get recommends", "FROM debian:12\nRUN apt-get update && \\\n    apt-get install -y curl && \\\n    apt-get install -y --no-install-recommends git\nRUN apt-get -y install --no-install-recommends jq\nHEALTHCHECK CMD true\nUSER app\n", []string{"DD-DF-005 2"}},
		{"secret in env and arg", "FROM alpine:3.20\nENV GITHUB_TOKEN=" + ghToken + " MODE=x\nARG NPM_TOKEN=\"" + ghToken + "\"\nENV LEGACY_TOKEN " + ghToken + "\nHEALTHCHECK CMD true\nUSER app\n", []string{"DD-DF-006 2", "DD-DF-006 3", "DD-DF-006 4"}},
		{"arg without default", "FROM alpine:3.20\nARG NPM_TOKEN\nHEALTHCHECK CMD true\nUSER app\n", nil},
		{"continuation with comment", "FROM alpine:3.20\nRUN echo a \\\n# a comment\n    && apt-get install -y curl\nHEALTHCHECK CMD true\nUSER app\n", []string{"DD-DF-005 2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Check("Dockerfile", []byte(tc.file), s)
			if d := cmp.Diff(tc.want, ids(t, got)); d != "" {
				t.Errorf("findings (-want +got):\n%s", d)
			}
			for _, m := range got {
				for _, e := range m.Evidence {
					if strings.Contains(e, ghToken) {
						t.Errorf("evidence shows the secret: %q", e)
					}
				}
			}
		})
	}
}

func TestParse(t *testing.T) {
	got := Parse([]byte("# c\n\nfrom alpine\nRUN a \\\n  b \\\n\n  c\nuser\tapp\n"))
	want := []Instruction{{"FROM", "alpine", 3}, {"RUN", "a b c", 4}, {"USER", "app", 8}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
}

func TestIsDockerfile(t *testing.T) {
	for name, want := range map[string]bool{
		"Dockerfile": true, "dockerfile": true, "api.Dockerfile": true, "Dockerfile.dev": true, "sub/Dockerfile": true,
		"Dockerfiles": false, "docker-compose.yml": false, "Containerfile": false,
	} {
		if got := IsDockerfile(name); got != want {
			t.Errorf("IsDockerfile(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestCheckDir(t *testing.T) {
	root := t.TempDir()
	for name, data := range map[string]string{
		"Dockerfile":         "FROM alpine\nHEALTHCHECK CMD true\nUSER app\n",
		"svc/api.Dockerfile": clean,
		"svc/Dockerfile.dev": "FROM alpine:3.20\nHEALTHCHECK CMD true\n",
		".git/Dockerfile":    "FROM alpine\n",
		"README.md":          "FROM alpine\n",
	} {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := CheckDir(context.Background(), root, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var titles []string
	for _, m := range got {
		titles = append(titles, m.ID+" "+m.Title)
	}
	want := []string{
		"DD-DF-003 FROM image has no tag (latest is used) (Dockerfile:1)",
		"DD-DF-001 Container runs as root: the final stage sets no USER (svc/Dockerfile.dev:1)",
	}
	if d := cmp.Diff(want, titles); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	// Skipped as the walker skips: nothing under svc/, and ./Dockerfile.
	sk, err := walk.NewSkipper([]string{"/svc"}, []string{"**/Dockerfile"})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := CheckDir(context.Background(), root, nil, sk); err != nil || len(got) != 0 {
		t.Errorf("with skips: %v, %v", got, err)
	}
	sk, _ = walk.NewSkipper([]string{"other"}, nil)
	if got, _ := CheckDir(context.Background(), root, nil, sk); len(got) != len(want) {
		t.Errorf("a pattern matching nothing: %d findings, want %d", len(got), len(want))
	}
	if _, err := CheckDir(context.Background(), filepath.Join(root, "missing"), nil, nil); err == nil {
		t.Error("a missing root is not an error")
	}
}
