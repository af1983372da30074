package secret

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/inventory"
)

// TestRedactCommandContext: secrets no content rule knows, found by where
// they stand in a command line (options, assignments, curl -u, URLs), and
// the obvious non-secrets in the same places left alone.
func TestRedactCommandContext(t *testing.T) {
	s := newScanner(t, nil)
	for _, tt := range []struct{ in, want string }{
		// Options that take a secret, value next or attached.
		{"app --password Vx9rT2mQ7p --port 80", "app --password ***** --port 80"},
		{"app --password=Vx9rT2mQ7p", "app --password=*****"},
		{`app --token "Lk4Wz8Qp2Rt6Yx3"`, `app --token "Lk4W*****"`},
		{"app --api-key Ak7Pq2Wz9Lx4", "app --api-key Ak7P*****"},
		{"app --db-pass=Hq3Xw8Zt -v", "app --db-pass=***** -v"},
		{"keytool -password Vx9rT2mQ7p", "keytool -password *****"},
		// Short options of commands that take a password with them.
		{"sshpass -p Qm4Zt8Rw ssh host", "sshpass -p ***** ssh host"},
		{"mongosh -u admin -p Mg5Xq8Lw --host db", "mongosh -u admin -p ***** --host db"},
		{"podman login -u bot -p Rg8Lp2Vx reg.internal", "podman login -u bot -p ***** reg.internal"},
		{"mysql -uroot -pHq3Xw8Zt app", "mysql -uroot -p***** app"},
		{"redis-cli -a Rd5x9Qw ping", "redis-cli -a ***** ping"},
		{"curl -fsSL -u admin:PlainWords https://x.internal/a", "curl -fsSL -u admin:***** https://x.internal/a"},
		{"curl -uadmin:PlainWords https://x.internal/a", "curl -uadmin:***** https://x.internal/a"},
		{"curl --user=admin:PlainWords https://x.internal/a", "curl --user=admin:***** https://x.internal/a"},
		{`app --password="two words" PASSWORD="Hq3X w8Zt"`, `app --password="*****" PASSWORD="*****"`},
		// Assignments, URLs, build arguments, scripts.
		{"export DB_PASSWORD=Hq3Xw8Zt && ./run", "export DB_PASSWORD=***** && ./run"},
		{"|2 PASSWORD=Bu1ldPa55w0rd7 V=1 /bin/sh -c make", "|2 PASSWORD=Bu1l***** V=1 /bin/sh -c make"},
		{"ENV NATS_URL=nats://app:Nt5Kq9Wm3Xr7@nats:4222", "ENV NATS_URL=nats://app:Nt5K*****@nats:4222"},
		{"git clone https://oauth2:PlainWords@git.internal/a.git", "git clone https://oauth2:*****@git.internal/a.git"},
		{`/bin/sh -c #(nop)  CMD ["/app/server" "--password" "Vx9rT2mQ7p"]`, `/bin/sh -c #(nop)  CMD ["/app/server" "--password" "*****"]`},
		{`CMD ["/app/server","--token","Lk4Wz8Qp2Rt6Yx3"]`, `CMD ["/app/server","--token","Lk4W*****"]`},
		{`RUN sh -c "curl -u admin:PlainWords https://x/a"`, `RUN sh -c "curl -u admin:***** https://x/a"`},
		{"RUN curl -u \\\n admin:PlainWords https://x/a", "RUN curl -u \\\n admin:***** https://x/a"},
		{"debug session: app --token Cm3Tk9Xw5Rq7Lz1Vb", "debug session: app --token Cm3T*****"},

		// Not secrets: paths, files, variables, substitutions, switches,
		// options of other commands, placeholders.
		{"mkdir -p /app && mkdir -p build", ""},
		{"docker run -p 8080:80 login", ""},
		{"psql -h db -p 5432 app", ""},
		{"mysql -h db -p appdb", ""},
		{`app --password "$DB_PASSWORD" --token ${TOKEN} --api-key $(cat /run/secrets/k)`, ""},
		{"app --password-file /run/secrets/db --token-file=/run/t --password-stdin", ""},
		{"app --no-auth serve && gh auth login --with-token < t", ""},
		{"app --tls-key /etc/tls/key.pem --key client.key --ssh-key ~/.ssh/id", ""},
		{"app --auth basic --auth-type digest", ""},
		{"app --password changeme --token xxxxxxxx --secret <secret>", ""},
		{"docker build --secret id=npm,src=/run/npm .", ""},
		{"app --password --verbose", ""},
		{"curl -u admin https://x/a && curl --user=$U:$P https://x/b", ""},
		{`wget -U "Mozilla/5.0 (X11: Linux)" --user=admin https://x/a`, ""},
		{"git clone https://github.com/acme/app.git https://user:${PASS}@x/y", ""},
		{"gpg --keyserver hkps://keys.openpgp.org --recv-key 0xA035C8C19219BA821ECEA86B64E628F8D684696D", ""},
		{"ENV PASSWORD_FILE=/run/secrets/db API_TOKEN=$API_TOKEN", ""},
	} {
		want := tt.want
		if want == "" {
			want = tt.in
		}
		if diff := cmp.Diff(want, s.RedactCommand(tt.in)); diff != "" {
			t.Errorf("RedactCommand(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

// TestMasker: every string of the image facts is masked, the rest kept, and
// the inputs are not modified.
func TestMasker(t *testing.T) {
	g := newGen(13)
	ghp := "ghp_" + g.alnum(36)
	npm := "npm_" + g.alnum(36)
	label := g.alnum(24)
	img := inventory.Image{
		Config: inventory.ImageConfig{
			User:        "app",
			WorkingDir:  "/app",
			Env:         []string{"PATH=/usr/bin:/bin", "FOO=" + ghp, "REDIS_PASS=Rd5x9Qw", "NOTE=see " + label},
			Entrypoint:  []string{"/usr/bin/sshpass", "-p"},
			Cmd:         []string{"Qm4Zt8Rw", "app", "--password", "two words here", "--token=Lk4Wz8 Qp2Rt6", "sh -c 'curl -u a:PlainWords x'", "--config", "/etc/app.yaml"},
			Healthcheck: []string{"CMD", "curl", "-u", "mon:Moni7orPw42x", "http://localhost/health"},
			Labels: map[string]string{
				"ci.token":                        label,
				"com.acme.github." + ghp:          "true",
				"org.opencontainers.image.source": "https://github.com/acme/app",
			},
		},
		Layers: []inventory.Layer{{Index: 0, CreatedBy: "|1 NPM_TOKEN=" + npm + " /bin/sh -c npm ci", Comment: "buildkit.dockerfile.v0"}},
		History: []inventory.History{
			{CreatedBy: "|1 NPM_TOKEN=" + npm + " /bin/sh -c npm ci", Comment: "buildkit.dockerfile.v0", LayerIndex: 0},
			{CreatedBy: "LABEL ci.token=" + label, Comment: "reused " + npm, LayerIndex: -1},
		},
	}
	orig := cloneImage(img)
	m := NewMasker(img, newScanner(t, nil))
	got := m.Image(img)
	want := inventory.Image{
		Config: inventory.ImageConfig{
			User:        "app",
			WorkingDir:  "/app",
			Env:         []string{"PATH=/usr/bin:/bin", "FOO=ghp_*****", "REDIS_PASS=*****", "NOTE=see " + label[:4] + "*****"},
			Entrypoint:  []string{"/usr/bin/sshpass", "-p"},
			Cmd:         []string{"*****", "app", "--password", "two *****", "--token=Lk4W*****", "sh -c 'curl -u a:***** x'", "--config", "/etc/app.yaml"},
			Healthcheck: []string{"CMD", "curl", "-u", "mon:Moni*****", "http://localhost/health"},
			Labels: map[string]string{
				"ci.token":                        label[:4] + "*****",
				"com.acme.github.ghp_*****":       "true",
				"org.opencontainers.image.source": "https://github.com/acme/app",
			},
		},
		Layers: []inventory.Layer{{Index: 0, CreatedBy: "|1 NPM_TOKEN=npm_***** /bin/sh -c npm ci", Comment: "buildkit.dockerfile.v0"}},
		History: []inventory.History{
			{CreatedBy: "|1 NPM_TOKEN=npm_***** /bin/sh -c npm ci", Comment: "buildkit.dockerfile.v0", LayerIndex: 0},
			{CreatedBy: "LABEL ci.token=" + label[:4] + "*****", Comment: "reused npm_*****", LayerIndex: -1},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Masker.Image (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(orig, img); diff != "" {
		t.Errorf("Masker.Image modified its input (-before +after):\n%s", diff)
	}
	if got, want := m.Text("RUN curl -u admin:PlainWords https://x/a && echo "+label), "RUN curl -u admin:***** https://x/a && echo "+label[:4]+"*****"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
	// No scanner: nothing masked.
	if diff := cmp.Diff(img, NewMasker(img).Image(img)); diff != "" {
		t.Errorf("a Masker without scanners masked (-want +got):\n%s", diff)
	}
}

// TestMaskerScanners: with several scanners the union of what they find is
// masked: a configuration that disables a rule does not unmask its secrets.
func TestMaskerScanners(t *testing.T) {
	g := newGen(14)
	ghp := "ghp_" + g.alnum(36)
	custom := newScanner(t, &Config{Disable: []string{"github-pat"}})
	img := inventory.Image{Config: inventory.ImageConfig{Env: []string{"FOO=" + ghp}}}
	if got := NewMasker(img, custom).Image(img).Config.Env[0]; got != "FOO="+ghp {
		t.Fatalf("the custom scanner alone masks %q: the test proves nothing", got)
	}
	if got := NewMasker(img, custom, newScanner(t, nil)).Image(img).Config.Env[0]; got != "FOO=ghp_*****" {
		t.Errorf("env = %q, want it masked by the built-in rules", got)
	}
}

func cloneImage(img inventory.Image) inventory.Image {
	c := img
	c.Config.Env = append([]string(nil), img.Config.Env...)
	c.Config.Entrypoint = append([]string(nil), img.Config.Entrypoint...)
	c.Config.Cmd = append([]string(nil), img.Config.Cmd...)
	c.Config.Healthcheck = append([]string(nil), img.Config.Healthcheck...)
	c.Config.Labels = map[string]string{}
	for k, v := range img.Config.Labels {
		c.Config.Labels[k] = v
	}
	c.Layers = append([]inventory.Layer(nil), img.Layers...)
	c.History = append([]inventory.History(nil), img.History...)
	return c
}

// TestScanImageSources: secrets of the entrypoint, command, health check
// and comments are reported with their source, redacted, each excerpt
// showing its own part of the command line.
func TestScanImageSources(t *testing.T) {
	g := newGen(15)
	ghp := "ghp_" + g.alnum(36)
	img := inventory.Image{
		Config: inventory.ImageConfig{
			Entrypoint:  []string{"/usr/bin/sshpass", "-p", "Qm4Zt8Rw"},
			Cmd:         []string{"app", "--token=" + ghp, "--api-key", "Ak7Pq2Wz9Lx4"},
			Healthcheck: []string{"CMD-SHELL", "redis-cli -a Rd5x9Qw ping"},
			Labels:      map[string]string{"com.acme.db.password": "Pw9x2Lb"},
		},
		History: []inventory.History{{CreatedBy: "COPY . /app", Comment: "app --password Vx9rT2mQ7p", LayerIndex: 2}},
	}
	type row struct{ Source, Rule, Match string }
	var got []row
	for _, s := range newScanner(t, nil).ScanImage(img) {
		got = append(got, row{s.Source, s.RuleID, s.Match})
	}
	want := []row{
		{SourceLabel, NameRuleID, "com.acme.db.password=*****"},
		{SourceEntrypoint, "sshpass-password", "/usr/bin/sshpass -p *****"},
		{SourceCmd, "github-pat", "app --token=ghp_***** --api-key Ak7P*****"},
		{SourceCmd, FlagRuleID, "***** --api-key Ak7P*****"}, // 40 bytes before the secret
		{SourceHealthcheck, FlagRuleID, "CMD-SHELL redis-cli -a ***** ping"},
		{SourceHistory, "cli-password-flag", "app --password *****"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScanImage (-want +got):\n%s", diff)
	}
}

// denseSecrets is about size bytes of command-line text made of secrets:
// options, assignments, URL passwords and tokens, one each per 100 bytes.
func denseSecrets(size int) string {
	g := newGen(16)
	var b strings.Builder
	for b.Len() < size {
		b.WriteString("--password " + g.alnum(12) + " FOO_TOKEN=" + g.alnum(20) + " https://u:" + g.alnum(10) + "@h/ ghp_" + g.alnum(36) + " ")
	}
	return b.String()
}

// TestMaskLarge: a large configuration (a long string made of secrets, one
// long created_by repeated by thousands of history entries) is masked whole,
// each distinct string scanned once (without that, this test would scan
// 640 MB). BenchmarkMaskImage shows the time is linear in the size.
func TestMaskLarge(t *testing.T) {
	long := denseSecrets(1 << 20)
	img := inventory.Image{Config: inventory.ImageConfig{Env: []string{"X=" + long}, Labels: map[string]string{"k": long}, Cmd: []string{long}}}
	for i := range 10000 {
		img.History = append(img.History, inventory.History{CreatedBy: long[:64<<10], LayerIndex: i})
	}
	s := newScanner(t, nil)
	got := NewMasker(img, s).Image(img)
	for _, v := range append([]string{got.Config.Env[0], got.Config.Labels["k"], got.Config.Cmd[0]}, got.History[9999].CreatedBy) {
		if strings.Count(v, "ghp_*****") < 100 {
			t.Fatalf("not masked: %.200s…", v)
		}
		for _, token := range regexpAll(`ghp_[A-Za-z0-9]{36}|u:[A-Za-z0-9]{10}@|TOKEN=[A-Za-z0-9]{20}`, v) {
			t.Fatalf("%q left whole", token)
		}
	}
	// ScanImage reports a repeated created_by's secrets once per step.
	npm := "npm_" + newGen(17).alnum(36)
	img.History = img.History[:0]
	for i := range 10000 {
		img.History = append(img.History, inventory.History{CreatedBy: "|1 NPM_TOKEN=" + npm + " /bin/sh -c npm ci", LayerIndex: i})
	}
	img.Config = inventory.ImageConfig{}
	found := s.ScanImage(img)
	if len(found) != 10000 || found[9999].LayerIndex != 9999 || found[9999].Match != "|1 NPM_TOKEN=npm_***** /bin/sh -c npm ci" {
		t.Errorf("%d secrets reported, want 10000, the last of layer 9999: %+v", len(found), found[len(found)-1])
	}
}

func regexpAll(re, s string) []string { return regexp.MustCompile(re).FindAllString(s, 3) }

// BenchmarkMaskImage: masking an image whose configuration is made of
// secrets, at 1 and 4 MiB: the time per byte is the same.
func BenchmarkMaskImage(b *testing.B) {
	s := newScanner(b, nil)
	for _, size := range []int{1 << 20, 4 << 20} {
		long := denseSecrets(size)
		img := inventory.Image{Config: inventory.ImageConfig{Env: []string{"X=" + long}, Cmd: []string{long}}, History: []inventory.History{{CreatedBy: long}}}
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(3 * size))
			for b.Loop() {
				NewMasker(img, s).Image(img)
			}
		})
	}
}
