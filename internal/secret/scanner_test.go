package secret

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/inventory"
)

func TestBuiltinCompiles(t *testing.T) {
	rules := Builtin()
	if len(rules) < 80 {
		t.Errorf("%d built-in rules, want at least 80", len(rules))
	}
	ids := map[string]bool{}
	reID := regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	for i, r := range rules {
		if ids[r.ID] {
			t.Errorf("rule id %q defined twice", r.ID)
		}
		ids[r.ID] = true
		if !reID.MatchString(r.ID) {
			t.Errorf("rule id %q is not lower-case kebab-case", r.ID)
		}
		if r.Title == "" || r.Category == "" {
			t.Errorf("rule %q lacks a title or category", r.ID)
		}
		if len(r.Keywords) == 0 && len(r.Paths) == 0 {
			t.Errorf("rule %q has neither keywords nor paths: it would run on every file", r.ID)
		}
		for _, k := range r.Keywords {
			if k != strings.ToLower(k) {
				t.Errorf("rule %q: keyword %q is not lower case", r.ID, k)
			}
		}
		c, err := compile(r, i)
		if err != nil {
			t.Fatal(err)
		}
		if c.secretIdx == 0 && !strings.Contains(r.Regex, "(?P<secret>") {
			t.Logf("rule %q has no secret group: the whole match is redacted", r.ID)
		}
	}
	if _, err := New(nil); err != nil {
		t.Fatal(err)
	}
}

func TestWants(t *testing.T) {
	s := newScanner(t, nil)
	tests := []struct {
		path string
		mode fs.FileMode
		size int64
		want bool
	}{
		{"/app/.env", 0o644, 100, true},
		{"/etc/shadow", 0o640, 500, true},
		{"/root/.docker/config.json", 0o600, 300, true},
		{"/app/tests/fixtures/keys.pem", 0o644, 3000, true}, // the application's own tests are scanned
		{"/app/.env", 0o644, 0, false},
		{"/app/big.log", 0o644, DefaultMaxFileSize + 1, false},
		{"/app/.env", fs.ModeSymlink | 0o777, 10, false},
		{"/usr/share/doc/openssl/README", 0o644, 100, false},
		{"/usr/share/man/man1/ssh.1.gz", 0o644, 100, false},
		{"/var/lib/dpkg/status", 0o644, 100, false},
		{"/lib/apk/db/installed", 0o644, 100, false},
		{"/var/lib/rpm/rpmdb.sqlite", 0o644, 100, false},
		{"/etc/ssl/certs/ca-certificates.crt", 0o644, 200000, false},
		{"/usr/share/zoneinfo/Europe/Paris", 0o644, 100, false},
		{"/usr/include/stdio.h", 0o644, 100, false},
		{"/usr/lib/x86_64-linux-gnu/libssl.so.3", 0o644, 100, false},
		{"/app/static/logo.png", 0o644, 100, false},
		{"/usr/lib/python3.11/test/keycert.pem", 0o644, 100, false},
		{"/usr/local/lib/python3.12/site-packages/requests/__init__.py", 0o644, 100, true},
		{"/usr/local/lib/python3.12/site-packages/paramiko/tests/test_rsa.key", 0o644, 100, false},
		{"/app/node_modules/jsonwebtoken/README.md", 0o644, 100, false},
		{"/app/node_modules/jsonwebtoken/index.d.ts", 0o644, 100, false},
		{"/app/node_modules/jsonwebtoken/sign.js", 0o644, 100, true},
		{"/app/node_modules/foo/test/fixtures/key.pem", 0o644, 100, false},
		{"/go/pkg/mod/github.com/x/y@v1.0.0/crypto_test.go", 0o644, 100, false},
		{"/usr/local/go/src/crypto/tls/testdata/example-key.pem", 0o644, 100, false},
	}
	for _, tt := range tests {
		if got := s.Wants(tt.path, tt.mode, tt.size); got != tt.want {
			t.Errorf("Wants(%q, %v, %d) = %v, want %v", tt.path, tt.mode, tt.size, got, tt.want)
		}
	}
}

func TestExtractBinaryAndEmpty(t *testing.T) {
	s := newScanner(t, nil)
	g := newGen(1)
	tok := "ghp_" + g.alnum(36)
	bin := append([]byte("\x7fELF\x02\x01\x01\x00"), []byte("TOKEN="+tok+"\n")...)
	if _, err := s.Extract(context.Background(), input("/usr/bin/app", bin)); !errors.Is(err, extract.ErrNotApplicable) {
		t.Errorf("binary: err = %v, want ErrNotApplicable", err)
	}
	inv, err := s.Extract(context.Background(), input("/app/empty", nil))
	if err != nil || len(inv.Hits) != 0 {
		t.Errorf("empty file: %v, %v", inv.Hits, err)
	}
	inv, err = s.Extract(context.Background(), input("/app/clean.txt", []byte("nothing to see here\n")))
	if err != nil || len(inv.Hits) != 0 {
		t.Errorf("clean file: %v, %v", inv.Hits, err)
	}
}

// shortFile claims a size larger than its data: reads fail.
type shortFile struct{ *extract.MemFile }

func (f shortFile) Size() int64 { return f.MemFile.Size() + 100 }
func (f shortFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.MemFile.ReadAt(p, off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

func TestExtractReadError(t *testing.T) {
	s := newScanner(t, nil)
	in := input("/app/truncated.env", []byte("A=1\n"))
	in.File = shortFile{extract.NewMemFile([]byte("A=1\n"))}
	_, err := s.Extract(context.Background(), in)
	if err == nil || !strings.Contains(err.Error(), `"/app/truncated.env"`) {
		t.Errorf("err = %v, want an error naming the file", err)
	}
}

// TestWindows plants secrets around the 1 MiB window boundaries of a large
// file: each must be found once, on the right line.
func TestWindows(t *testing.T) {
	s := newScanner(t, nil)
	g := newGen(5)
	line := strings.Repeat("lorem ipsum dolor sit amet consectetur ", 2) + "\n" // 81 bytes
	var b strings.Builder
	type want struct {
		line   int
		secret string
	}
	var wants []want
	lines := 0
	plantAt := []int{100, window - 200, window - 30, window + 10, window + overlap - 50, 2*window - 60, 2*window + overlap + 7, 3*window - 1200, 3*window - 5}
	for i, off := range plantAt {
		for b.Len() < off {
			b.WriteString(line)
			lines++
		}
		if i == len(plantAt)-2 {
			// A private key block straddling the boundary of the last window.
			block, body := g.pemBlock("OPENSSH PRIVATE KEY", 30)
			b.WriteString(block + "\n")
			wants = append(wants, want{lines + 1, body})
			lines += strings.Count(block, "\n") + 1
			continue
		}
		tok := "npm_" + g.alnum(36)
		b.WriteString("NPM_TOKEN=" + tok + "\n")
		lines++
		wants = append(wants, want{lines, tok})
	}
	for b.Len() < 3*window+1000 {
		b.WriteString(line)
	}
	data := []byte(b.String())
	inv, err := s.Extract(context.Background(), input("/app/big.txt", data))
	if err != nil {
		t.Fatal(err)
	}
	var got, exp []string
	for _, h := range inv.Hits {
		got = append(got, fmt.Sprintf("%s@%d", h.RuleID, h.Line))
	}
	for i, w := range wants {
		rule := "npm-access-token"
		if i == len(wants)-2 {
			rule = "openssh-private-key"
		}
		exp = append(exp, fmt.Sprintf("%s@%d", rule, w.line))
	}
	if diff := cmp.Diff(exp, got); diff != "" {
		t.Errorf("hits (-want +got):\n%s", diff)
	}
	for _, h := range inv.Hits {
		for _, w := range wants {
			if strings.Contains(h.Match, w.secret) {
				t.Errorf("line %d: Match holds a whole secret", h.Line)
			}
		}
	}
}

func TestRedaction(t *testing.T) {
	s := newScanner(t, nil)
	g := newGen(3)
	id := "AKIA" + g.from(base32, 16)
	key := g.from(b64Chars, 40)
	// Two secrets on one line: neither may appear whole in either excerpt.
	data := []byte("aws_access_key_id=" + id + " aws_secret_access_key=" + key + "\n")
	hits := scanFile(t, s, "/root/.aws/credentials", data)
	if len(hits) != 2 {
		t.Fatalf("hits = %+v, want 2", hits)
	}
	for _, h := range hits {
		if strings.Contains(h.Match, id) || strings.Contains(h.Match, key) {
			t.Errorf("%s: Match %q holds a whole secret", h.RuleID, Redact(h.Match))
		}
	}
	want := "aws_access_key_id=" + id[:4] + "***** aws_secret_access_key=" + key[:4] + "*****"
	if hits[0].Match != want {
		t.Errorf("Match = %q, want %q", hits[0].Match, want)
	}

	for _, tt := range []struct{ in, want string }{
		{"", "*****"},
		{"hunter22", "*****"},
		{"abcdefghijk", "*****"},
		{"abcdefghijkl", "abcd*****"},
		{"ghp_0123456789", "ghp_*****"},
	} {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}

	// A long line is cut around the match.
	long := strings.Repeat("x = 1; ", 100) + "token = \"" + "ghp_" + g.alnum(36) + "\"; " + strings.Repeat("y = 2; ", 100)
	hits = scanFile(t, s, "/app/main.js", []byte(long))
	if len(hits) != 1 || len(hits[0].Match) > excerptLen+len(mask) || !strings.Contains(hits[0].Match, "ghp_*****") {
		t.Errorf("long line: hits = %+v", hits)
	}
}

func TestPlaceholdersAndAllow(t *testing.T) {
	s := newScanner(t, nil)
	g := newGen(11)
	clean := []struct{ path, text string }{
		{"/app/.env", "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE"},
		{"/app/.env", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
		{"/app/.env", "GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},
		{"/app/config.yaml", "password: changeme"},
		{"/app/config.yaml", "password: ${DB_PASSWORD}"},
		{"/app/config.yaml", `password: "<your-password>"`},
		{"/app/config.yaml", "password: password123"},
		{"/app/config.yaml", "api_key: your_api_key_here_0000"},
		{"/app/settings.py", "PASSWORD = os.environ['DB_PASSWORD']"},
		{"/app/settings.py", "password = self.password"},
		{"/app/settings.py", "db_password = get_password()"},
		{"/app/settings.py", "password: str = Field(default=None)"},
		{"/app/login.html", "<label for=password>Password: Authentication required</label>"},
		{"/app/index.js", "const token = exports2.TOKEN_CHARS;"},
		{"/app/.env", "DATABASE_URL=postgres://user:password@localhost/db"},
		{"/app/.env", "DATABASE_URL=postgres://postgres:postgres@localhost/db"},
		{"/app/settings.py", `private_key_id = "` + g.hex(40) + `"`},
		{"/app/settings.py", `PASSWORD_MIN_LENGTH = "12345678901234"`},
		{"/app/README", "Authorization: Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW"},
		{"/app/jwt.txt", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"},
		{"/app/parser.py", `if line.startswith("-----BEGIN RSA PRIVATE KEY-----"):`},
		{"/app/.env", "AWS_ACCESS_KEY_ID=xAKIA" + g.from(base32, 16)}, // not at a word boundary
		// Generic rules do not run in third-party code; token formats do.
		{"/usr/lib/python3/dist-packages/lib/client.py", `password = "` + g.password(20) + `"`},
	}
	for _, c := range clean {
		if hits := scanFile(t, s, c.path, []byte(c.text+"\n")); len(hits) != 0 {
			t.Errorf("%s: %q: unexpected hits %+v", c.path, c.text, hits)
		}
	}
	tok := "ghp_" + g.alnum(36)
	if hits := scanFile(t, s, "/usr/lib/python3/dist-packages/lib/client.py", []byte(`token = "`+tok+`"`)); len(hits) != 1 {
		t.Errorf("third-party token: hits = %+v, want 1", hits)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("secrets.yaml", `
rules:
  - id: acme-api-key
    title: ACME API key
    severity: HIGH
    category: ACME
    keywords: [acme_]
    regex: '\bacme_(?P<secret>[a-z0-9]{32})\b'
    entropy: 3
    allow:
      - description: the documented sample
        secret: '^0123'
  - id: github-pat
    title: GitHub PAT (only in .env files)
    severity: LOW
    category: GitHub
    keywords: [ghp_]
    regex: '\b(?P<secret>ghp_[A-Za-z0-9]{36})\b'
    paths: ['\.env$']
allow:
  - description: fixtures
    path: '^/srv/fixtures/'
disable: [jwt]
`)
	cfg, err := LoadConfig(good)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.Version() == RulesVersion {
		t.Errorf("a custom configuration must change Version()")
	}
	if s2, _ := New(cfg); s2.Version() != s.Version() {
		t.Errorf("Version() is not deterministic")
	}
	if slices.Contains(s.Rules(), "jwt") {
		t.Errorf("jwt was disabled")
	}
	g := newGen(21)
	acme := "acme_" + g.from(lowerNum, 32)
	ghp := "ghp_" + g.alnum(36)
	for _, tt := range []struct {
		path, text string
		want       []string
	}{
		{"/app/x.txt", "key=" + acme, []string{"acme-api-key"}},
		{"/app/x.txt", "key=acme_0123" + g.from(lowerNum, 28), nil},                         // rule allow
		{"/srv/fixtures/x.txt", "key=" + acme, nil},                                         // global path allow
		{"/app/x.txt", "t=" + ghp, nil},                                                     // replaced built-in: .env only
		{"/app/.env", "t=" + ghp, []string{"github-pat"}},                                   // …with the new severity below
		{"/app/x.txt", "t=eyJhbGciOiJIUzI1NiJ9.eyJ" + g.alnum(30) + "." + g.alnum(30), nil}, // disabled
	} {
		var got []string
		for _, h := range scanFile(t, s, tt.path, []byte(tt.text)) {
			got = append(got, h.RuleID)
			if h.RuleID == "github-pat" && h.Severity != "LOW" {
				t.Errorf("github-pat severity %q, want the custom LOW", h.Severity)
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s %q: (-want +got)\n%s", tt.path, Redact(tt.text), diff)
		}
	}

	only, err := New(&Config{Enable: []string{"github-pat", "npm-access-token"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"github-pat", "npm-access-token"}, only.Rules()); diff != "" {
		t.Errorf("enable-only rules (-want +got):\n%s", diff)
	}

	bad := []struct{ yaml, want string }{
		{"rules:\n  - id: my-rule\n    severity: HIGH\n    keywords: [x]\n    regex: 'a(b'\n", `secret rule "my-rule": invalid regex: error parsing regexp`},
		{"rules:\n  - id: my-rule\n    severity: SEVERE\n    regex: 'ab'\n", `secret rule "my-rule": invalid severity "SEVERE"`},
		{"rules:\n  - title: no id\n    severity: HIGH\n    regex: 'ab'\n", `missing id`},
		{"rules:\n  - id: r\n    severity: HIGH\n", `secret rule "r": missing regex`},
		{"rules:\n  - id: r\n    severity: HIGH\n    regex: x\n  - id: r\n    severity: HIGH\n    regex: y\n", `secret rule "r": defined twice`},
		{"rules:\n  - id: r\n    severity: HIGH\n    regex: x\n    paths: ['(']\n", `secret rule "r": invalid path regex`},
		{"rules:\n  - id: r\n    severity: HIGH\n    regex: x\n    allow: [{secret: '['}]\n", `secret rule "r": allow 0: invalid secret regex`},
		{"rules:\n  - id: r\n    severity: HIGH\n    regex: x\n    allow: [{description: nothing}]\n", `sets none of secret, match, path`},
		{"rules:\n  - id: r\n    severity: HIGH\n    regex: x\n    anchor: name\n", `secret rule "r": anchor "name" needs keywords`},
		{"rules:\n  - id: r\n    severity: HIGH\n    regex: x\n    keywords: [x]\n    anchor: start\n", `secret rule "r": invalid anchor "start"`},
		{"rules:\n  - id: r\n    severity: HIGH\n    regex: x\n    keywords: ['']\n", `secret rule "r": empty keyword`},
		{"allow:\n  - path: '('\n", `secret config: allow 0: invalid path regex`},
		{"disable: [no-such-rule]\n", `secret config: disable: unknown rule id "no-such-rule"`},
		{"enable: [no-such-rule]\n", `secret config: enable: unknown rule id "no-such-rule"`},
		{"max_file_size: -1\n", `max_file_size -1 is negative`},
	}
	for i, tt := range bad {
		cfg, err := LoadConfig(write(fmt.Sprintf("bad%d.yaml", i), tt.yaml))
		if err == nil {
			_, err = New(cfg)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("config %q: err = %v, want %q", tt.yaml, err, tt.want)
		}
	}
	if _, err := LoadConfig(write("unknown.yaml", "rulez: []\n")); err == nil || !strings.Contains(err.Error(), "unknown.yaml") {
		t.Errorf("unknown field: err = %v, want an error naming the file", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Errorf("missing file: no error")
	}
	if cfg, err := LoadConfig(write("empty.yaml", "")); err != nil || cfg == nil {
		t.Errorf("empty file: %v, %v", cfg, err)
	}
}

func TestMaxFileSize(t *testing.T) {
	s := newScanner(t, &Config{MaxFileSize: 64})
	g := newGen(8)
	tok := "ghp_" + g.alnum(36)
	data := []byte(strings.Repeat("#\n", 40) + "T=" + tok + "\n")
	if s.Wants("/app/.env", 0o644, int64(len(data))) {
		t.Errorf("Wants a file over the limit")
	}
	// Extract called anyway reads no more than the limit.
	inv, err := s.Extract(context.Background(), &extract.Input{Path: "/app/.env", File: extract.NewMemFile(data), Layer: inventory.Layer{}})
	if err != nil || len(inv.Hits) != 0 {
		t.Errorf("hits %+v, err %v: want none (the token is past the limit)", inv.Hits, err)
	}
}

// TestConcurrent runs one Scanner from several goroutines, as the layer
// walk does (run with -race).
func TestConcurrent(t *testing.T) {
	s := newScanner(t, nil)
	ps := plants(newGen(4))
	type result struct {
		hits int
		err  error
	}
	done := make(chan result)
	for w := range 4 {
		go func() {
			var r result
			for i := w; i < len(ps); i += 4 {
				inv, err := s.Extract(context.Background(), input(ps[i].path, []byte(ps[i].text)))
				if err != nil {
					r.err = err
				}
				r.hits += len(inv.Hits)
			}
			done <- r
		}()
	}
	n := 0
	for range 4 {
		r := <-done
		if r.err != nil {
			t.Error(r.err)
		}
		n += r.hits
	}
	want := len(ps)
	for _, p := range ps {
		if p.also != "" {
			want++
		}
	}
	if n != want {
		t.Errorf("%d hits for %d planted secrets, want %d", n, len(ps), want)
	}
}
