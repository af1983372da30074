package secret

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/finding"
	"github.com/drydock-scan/drydock/internal/inventory"
)

func TestHistoryPairs(t *testing.T) {
	type kv struct{ Name, Value string }
	for _, tt := range []struct {
		in   string
		want []kv
	}{
		{"/bin/sh -c #(nop)  ENV A=1 B=two", []kv{{"A", "1"}, {"B", "two"}}},
		{"/bin/sh -c #(nop)  ENV PATH /usr/local/bin:/usr/bin", []kv{{"PATH", "/usr/local/bin:/usr/bin"}}},
		{`ENV MSG="hello world" X=1`, []kv{{"MSG", "hello world"}, {"X", "1"}}},
		{"/bin/sh -c #(nop)  ARG NPM_TOKEN", nil},
		{"ARG VERSION=1.2 TOKEN", []kv{{"VERSION", "1.2"}}},
		{"|2 NPM_TOKEN=abc VERSION=1 /bin/sh -c npm ci", []kv{{"NPM_TOKEN", "abc"}, {"VERSION", "1"}}},
		{"RUN |1 KEY=v /bin/sh -c make # buildkit", []kv{{"KEY", "v"}}},
		{"|1 /bin/sh -c make", nil},
		{"/bin/sh -c apt-get update && apt-get install -y curl", nil},
		{"/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / ", nil},
		{"ENV", nil},
		{"|x A=1", nil},
	} {
		var got []kv
		for _, p := range historyPairs(tt.in) {
			got = append(got, kv{p.name, tt.in[p.valueStart:p.valueEnd]})
			if tt.in[p.nameStart:p.nameStart+len(p.name)] != p.name {
				t.Errorf("%q: nameStart %d does not point at %q", tt.in, p.nameStart, p.name)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("historyPairs(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestIsSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_PASSWORD": true, "NPM_TOKEN": true, "AWS_SECRET_ACCESS_KEY": true, "API_KEY": true,
		"REDIS_PASS": true, "app.secret": true, "GITHUB_AUTH": true, "CREDENTIALS": true,
		"GPG_KEY": false, "PYTHON_GPG_KEY": false, "SSH_PUBLIC_KEY": false, "AWS_ACCESS_KEY_ID": false,
		"PWD": false, "OLDPWD": false, "BYPASS": false, "PASSWORD_FILE": false, "TOKEN_URL": false,
		"PATH": false, "KEYCLOAK_VERSION": false,
	} {
		if got := IsSecretName(name); got != want {
			t.Errorf("IsSecretName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestScanImage(t *testing.T) {
	g := newGen(77)
	npm := "npm_" + g.alnum(36)
	awsKey := g.from(b64Chars, 40)
	ghp := "ghp_" + g.alnum(36)
	glpat := "glpat-" + g.from(urlSafe, 20)
	curlPw := g.password(18)
	secrets := []string{npm, awsKey, ghp, glpat, curlPw, "hunter22", "hunter2000", "abcd1234efgh"}
	img := inventory.Image{
		Config: inventory.ImageConfig{
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"NPM_TOKEN=" + npm,
				"GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
				"API_TOKEN=",
				"JWT_SECRET=${JWT_SECRET}",
				"REDIS_PASSWORD=hunter22",
				"POSTGRES_PASSWORD_FILE=/run/secrets/db",
				"LANG=C.UTF-8",
			},
			Labels: map[string]string{
				"org.opencontainers.image.source": "https://github.com/acme/app",
				"ci.token":                        glpat,
			},
		},
		History: []inventory.History{
			{CreatedBy: "/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / ", LayerIndex: 0},
			{CreatedBy: "/bin/sh -c #(nop)  ENV AWS_SECRET_ACCESS_KEY=" + awsKey, EmptyLayer: true, LayerIndex: -1},
			{CreatedBy: "/bin/sh -c #(nop)  ARG NPM_TOKEN", EmptyLayer: true, LayerIndex: -1},
			{CreatedBy: "|1 NPM_TOKEN=" + npm + " /bin/sh -c npm ci --omit=dev", LayerIndex: 1},
			{CreatedBy: "RUN |2 DEPLOY_KEY=abcd1234efgh SENTRY_ENVIRONMENT=prod /bin/sh -c make install # buildkit", LayerIndex: 2},
			{CreatedBy: "/bin/sh -c #(nop)  ENV DB_PASS hunter2000", EmptyLayer: true, LayerIndex: -1},
			{CreatedBy: "ARG GITHUB_TOKEN=" + ghp, EmptyLayer: true, LayerIndex: -1},
			{CreatedBy: "/bin/sh -c curl -fsSL -u admin:" + curlPw + " https://artifacts.internal/app.tgz | tar xz", LayerIndex: 3},
			{CreatedBy: "/bin/sh -c #(nop)  CMD [\"/app/server\"]", EmptyLayer: true, LayerIndex: -1},
		},
	}
	got := ScanImage(img)
	type row struct{ Rule, Source, Match string }
	var rows []row
	for _, s := range got {
		rows = append(rows, row{s.RuleID, s.Source, s.Match})
		if s.Title == "" || s.Severity == "" {
			t.Errorf("%s lacks a title or severity", s.RuleID)
		}
		v := reflect.ValueOf(s)
		for i := range v.NumField() {
			f, ok := v.Field(i).Interface().(string)
			if !ok {
				continue
			}
			for _, sec := range secrets {
				if strings.Contains(f, sec) {
					t.Errorf("%s: field %s holds a whole secret (%s)", s.RuleID, v.Type().Field(i).Name, Redact(sec))
				}
			}
		}
	}
	want := []row{
		{"npm-access-token", SourceEnv, "NPM_TOKEN=npm_*****"},
		{NameRuleID, SourceEnv, "REDIS_PASSWORD=*****"},
		{"gitlab-pat", SourceLabel, "ci.token=glpa*****"},
		{"aws-secret-access-key", SourceHistory, "sh -c #(nop)  ENV AWS_SECRET_ACCESS_KEY=" + awsKey[:4] + "*****"},
		{"npm-access-token", SourceHistory, "|1 NPM_TOKEN=npm_***** /bin/sh -c npm ci --omit=dev"},
		{NameRuleID, SourceHistory, "RUN |2 DEPLOY_KEY=abcd***** SENTRY_ENVIRONMENT=prod /bin/sh -c make install # buildkit"},
		{NameRuleID, SourceHistory, "/bin/sh -c #(nop)  ENV DB_PASS *****"},
		{"github-pat", SourceHistory, "ARG GITHUB_TOKEN=ghp_*****"},
		{"curl-user-password", SourceHistory, "/bin/sh -c curl -fsSL -u admin:" + curlPw[:4] + "***** https://artifacts.internal/app.tgz | tar xz"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("ScanImage (-want +got):\n%s", diff)
	}
	// Layer indexes and the redacted created_by.
	for _, s := range got {
		switch s.Source {
		case SourceEnv, SourceLabel:
			if s.LayerIndex != -1 || s.CreatedBy != "" {
				t.Errorf("%s %s: layer %d, created_by %q", s.Source, s.RuleID, s.LayerIndex, s.CreatedBy)
			}
		case SourceHistory:
			if s.CreatedBy == "" || !strings.Contains(s.CreatedBy, "*****") {
				t.Errorf("%s: created_by %q not kept redacted", s.RuleID, s.CreatedBy)
			}
		}
	}
	if got[4].LayerIndex != 1 || got[5].LayerIndex != 2 || got[3].LayerIndex != -1 {
		t.Errorf("history layer indexes: %d %d %d", got[3].LayerIndex, got[4].LayerIndex, got[5].LayerIndex)
	}
	if len(ScanImage(inventory.Image{})) != 0 {
		t.Errorf("an empty image has secrets")
	}
}

func TestToReport(t *testing.T) {
	g := newGen(9)
	npm := "npm_" + g.alnum(36)
	deleted := 3
	layer1 := inventory.Layer{Index: 1, DiffID: "sha256:aaa", CreatedBy: "|1 NPM_TOKEN=" + npm + " /bin/sh -c npm ci"}
	in := []inventory.Secret{
		{SecretHit: inventory.SecretHit{RuleID: "npm-access-token", Title: "npm access token", Severity: "CRITICAL", Category: "npm", Line: 1, Match: "//registry.npmjs.org/:_authToken=npm_*****"},
			Path: "/root/.npmrc", Layer: layer1, DeletedInLayer: &deleted},
		{SecretHit: inventory.SecretHit{RuleID: "github-pat", Title: "GitHub", Severity: "CRITICAL", Category: "GitHub", Line: 7, Match: "T=ghp_*****"},
			Path: "/app/.env", Layer: inventory.Layer{Index: 2, DiffID: "sha256:bbb", CreatedBy: "COPY . /app # buildkit"}},
	}
	got := Findings(in)
	want := []finding.Secret{
		{RuleID: "github-pat", Title: "GitHub", Severity: "CRITICAL", Category: "GitHub", Source: SourceFile, Path: "/app/.env", Line: 7,
			Match: "T=ghp_*****", LayerIndex: 2, LayerDiffID: "sha256:bbb", CreatedBy: "COPY . /app # buildkit"},
		{RuleID: "npm-access-token", Title: "npm access token", Severity: "CRITICAL", Category: "npm", Source: SourceFile, Path: "/root/.npmrc", Line: 1,
			Match: "//registry.npmjs.org/:_authToken=npm_*****", LayerIndex: 1, LayerDiffID: "sha256:aaa",
			CreatedBy: "|1 NPM_TOKEN=npm_***** /bin/sh -c npm ci", DeletedInLayer: &deleted},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Findings (-want +got):\n%s", diff)
	}
	if Findings(nil) != nil {
		t.Errorf("Findings(nil) != nil")
	}
	for _, s := range got {
		if strings.Contains(fmt.Sprint(s), npm) {
			t.Errorf("report secret holds the whole token")
		}
	}
}

func TestRedactEnv(t *testing.T) {
	g := newGen(12)
	ghp := "ghp_" + g.alnum(36)
	got := RedactEnv([]string{"PATH=/usr/bin", "DB_PASSWORD=hunter22", "GITHUB=" + ghp, "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", "EMPTY", "API_KEY="})
	want := []string{"PATH=/usr/bin", "DB_PASSWORD=*****", "GITHUB=ghp_*****", "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D", "EMPTY", "API_KEY="}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RedactEnv (-want +got):\n%s", diff)
	}
	if RedactEnv(nil) != nil {
		t.Errorf("RedactEnv(nil) != nil")
	}
}
