package main

// GitHub issue 13, item 3 ("Secrets printed whole"): secrets anywhere in the
// image configuration and history — Cmd, Entrypoint, Healthcheck, labels
// (keys and values), env values under innocuous names, history created_by
// and comments, the created_by of the layer a package came from — are masked
// in every output of `drydock image` and `drydock sbom`, and the secret
// scanner still reports the ones in the configuration (redacted).

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/drydock-scan/drydock/internal/testimage"
)

// configSecret is one secret planted in the image configuration or history.
type configSecret struct {
	where, value string
}

// configSecretsImage builds an Alpine image (with one npm package in a
// second layer) whose configuration and history hold secrets in every place
// a Dockerfile, a CI system or `docker commit` puts them. The values are
// realistic-looking fakes, assembled so that no scanner-triggering literal
// sits in this file.
func configSecretsImage(t *testing.T) (string, []configSecret) {
	t.Helper()
	var (
		ghCmd      = "ghp_" + "Kd8Tq2VmX7rLp4NzW9bYc3HsJ6fGa1EuRt5o" // Cmd --token=…
		apiKey     = "Ak7Pq2Wz9Lx4"                                  // Cmd --api-key …
		redisPass  = "Rd5x9Qw2"                                      // REDIS_PASS=…
		cmdPass    = "Vx9rT2mQ7pLk"                                  // Cmd --password …
		sshPass    = "Qm4Zt8Rw2Kx6"                                  // Entrypoint sshpass -p …
		hcPass     = "Moni7orPw42x"                                  // Healthcheck curl -u …
		ciToken    = "ci-" + "7Hq2Lx9Vb4Nm6"                         // label ci.token
		awsLabel   = "Xq3Vz8" + "Lm2Nb7Kp4Rw9Tj6Hs1Fd5Gc0Ya8Ue3Io7P" // label …aws_secret_access_key
		ghLabelKey = "ghp_" + "Zr4Wn8Bq2Xt6Lk9Vm3Hc7Pd1Js5Fy0Ga8Ne2" // in a label key
		ghEnv      = "ghp_" + "Lp9Xc2Vb7Nm4Kq8Wr3Tz6Hs1Jd5Fg0Ya2Ue7" // FOO=ghp_…
		akid       = "AKIA" + "Z7Q2X4M6NWP3R5T7"                     // X=AKIA…:secret
		awsEnv     = "Rt7Yu2" + "Io9Pa4Sd6Fg1Hj3Kl8Zx5Cv0Bn7Mq2We4E"
		dbPass     = "Zq7" + "rT2vLx9pWm4Ks" // DB_PASSWORD=…
		buildPass  = "Bu1ldPa55w0rd7"        // |3 PASSWORD=…
		npmToken   = "npm_" + "Wq4Er8Ty2Ui6Op0As3Df7Gh1Jk5Lz9Xc2Vb4"
		curlPass   = "PlainWords"        // curl -u admin:…: words only, which the generic content rule ignores
		natsPass   = "Nt5Kq9Wm3Xr7"      // nats://app:…@ (no content rule knows nats://)
		regPass    = "Rg8Lp2Vx6Qz4"      // docker login -p …
		commentTok = "Cm3Tk9Xw5Rq7Lz1Vb" // history comment: --token …
	)
	secrets := []configSecret{
		{"cmd --token=", ghCmd}, {"cmd --password", cmdPass}, {"cmd --api-key", apiKey}, {"env REDIS_PASS", redisPass}, {"entrypoint sshpass -p", sshPass},
		{"healthcheck curl -u", hcPass}, {"label ci.token", ciToken}, {"label aws secret", awsLabel},
		{"label key", ghLabelKey}, {"env FOO", ghEnv}, {"env X (AWS pair)", awsEnv}, {"env DB_PASSWORD", dbPass},
		{"history |3 PASSWORD", buildPass}, {"history |3 NPM_TOKEN", npmToken}, {"history curl -u", curlPass},
		{"history nats URL", natsPass}, {"history docker login -p", regPass}, {"history comment", commentTok},
	}
	base := gunzipFile(t, layerFromArchive(t, alpineImage))
	npmPkg := readData(t, filepath.Join(extractData, "npm/testdata/installed/app/node_modules/minimist/package.json"))
	img, err := testimage.Build(testimage.Config{
		Config: v1.Config{
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"FOO=" + ghEnv,
				"X=" + akid + ":" + awsEnv,
				"DB_PASSWORD=" + dbPass,
				"REDIS_PASS=" + redisPass,
				"PASSWORD_FILE=/run/secrets/db",
				"API_TOKEN=$API_TOKEN",
			},
			Entrypoint:  []string{"/usr/bin/sshpass", "-p", sshPass, "ssh", "deploy@bastion.internal"},
			Cmd:         []string{"/app/server", "--token=" + ghCmd, "--password", cmdPass, "--api-key", apiKey, "--config", "/etc/app.yaml", "--tls-key", "/etc/tls/key.pem"},
			Healthcheck: &v1.HealthConfig{Test: []string{"CMD-SHELL", "curl -fsS -u monitor:" + hcPass + " http://localhost:8080/health || exit 1"}},
			Labels: map[string]string{
				"org.opencontainers.image.source":       "https://github.com/acme/app",
				"ci.token":                              ciToken,
				"com.acme.deploy.aws_secret_access_key": awsLabel,
				"com.acme.github." + ghLabelKey:         "true",
				"com.acme.password-policy":              "min-length=12",
				"org.opencontainers.image.revision":     "4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d",
			},
		},
		EmptySteps: []string{
			"ENV NATS_URL=nats://app:" + natsPass + "@nats.internal:4222",
			"RUN /bin/sh -c docker login -u bot -p " + regPass + " registry.internal # buildkit",
			`CMD ["/app/server"]`,
		},
	},
		testimage.Layer{Tar: base, CreatedBy: "ADD alpine-minirootfs-3.16.9-x86_64.tar.gz / # buildkit"},
		testimage.Layer{
			Files: map[string][]byte{"app/node_modules/minimist/package.json": npmPkg},
			CreatedBy: "RUN |3 PASSWORD=" + buildPass + " NPM_TOKEN=" + npmToken + " VERSION=1.2.3 /bin/sh -c " +
				"curl -fsSL -u admin:" + curlPass + " https://artifacts.internal/app.tgz | tar xz -C /app && npm ci # buildkit",
		},
	)
	if err != nil {
		t.Fatal(err)
	}
	// A comment, as `docker commit -m` records it.
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.History[len(cf.History)-1].Comment = "debug session: app --token " + commentTok
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "config-secrets.tar")
	if err := testimage.WriteDockerArchive(path, "config-secrets:1", img); err != nil {
		t.Fatal(err)
	}
	return path, secrets
}

// TestConfigSecretsMaskedInEveryOutput: no output of `image` or `sbom`
// holds a secret of the configuration, whole or past its 4-character prefix.
func TestConfigSecretsMaskedInEveryOutput(t *testing.T) {
	path, secrets := configSecretsImage(t)
	type run struct {
		name string
		args []string
	}
	var runs []run
	for _, f := range scanFormats {
		args := []string{"image", "--db", testDB, "--scanners", "vuln,secret,misconfig", "--format", f}
		if f == "template" {
			args = append(args, "--template", "{{ toJSON . }}")
		}
		runs = append(runs, run{"image/" + f, append(args, path)})
	}
	// Without the secret scanner the configuration is masked just the same.
	runs = append(runs, run{"image/json (vuln only)", []string{"image", "--db", testDB, "--scanners", "vuln", "--format", "json", path}})
	for _, f := range sbomFormats {
		runs = append(runs, run{"sbom/" + f, []string{"sbom", "--format", f, path}})
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			res := drydock(t, r.args...)
			if res.code != 0 && res.code != 1 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			if len(res.stdout) < 100 {
				t.Fatalf("output too short to mean anything: %q", res.stdout)
			}
			for _, s := range secrets {
				for _, part := range []string{s.value, s.value[4:]} {
					if strings.Contains(res.stdout, part) || strings.Contains(res.stderr, part) {
						t.Errorf("%s: the secret of %q is printed (%q)", r.name, s.where, part)
						break
					}
				}
			}
		})
	}
}

// TestConfigSecretsReported: the secret scanner reports the configuration's
// secrets, redacted, from every place they were planted; the configuration
// in the report is masked but keeps what is not a secret.
func TestConfigSecretsReported(t *testing.T) {
	path, secrets := configSecretsImage(t)
	rep, res := scanJSON(t, "--scanners", "secret", path)
	if res.code != 0 && res.code != 1 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	var got []string
	for _, s := range rep.Secrets {
		if s.Source == "file" {
			continue
		}
		got = append(got, s.Source+" "+s.RuleID)
		if !strings.Contains(s.Match, "*****") {
			t.Errorf("%s %s: match %q is not redacted", s.Source, s.RuleID, s.Match)
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)
	// Each place, by the rule that recognises it: a token format, a
	// command's password option, or (secret-variable-name,
	// secret-command-argument, secret-url-password) the name, option or URL
	// around a value no format rule knows.
	want := []string{
		"config-cmd cli-password-flag",          // --password Vx9r…
		"config-cmd github-pat",                 // --token=ghp_…
		"config-cmd secret-command-argument",    // --api-key Ak7P…
		"config-entrypoint sshpass-password",    // sshpass -p …
		"config-env aws-access-key-id",          // X=AKIA…:…
		"config-env aws-credentials-pair",       // X=…:Rt7Y…
		"config-env generic-password",           // DB_PASSWORD=…
		"config-env github-pat",                 // FOO=ghp_…
		"config-env secret-variable-name",       // REDIS_PASS=…
		"config-healthcheck curl-user-password", // curl -u monitor:…
		"config-label aws-secret-access-key",    // …aws_secret_access_key=…
		"config-label github-pat",               // a label key
		"config-label secret-variable-name",     // ci.token=…
		"history generic-password",              // |3 PASSWORD=…
		"history npm-access-token",              // |3 NPM_TOKEN=…
		"history registry-login-password",       // docker login -p …
		"history secret-command-argument",       // curl -u admin:PlainWords, the comment's --token …
		"history secret-url-password",           // nats://app:…@
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("config secrets by source and rule (-want +got):\n%s", diff)
	}

	// The report's configuration: secrets masked, the rest as it was.
	b, err := json.Marshal(rep.Image)
	if err != nil {
		t.Fatal(err)
	}
	out := string(b)
	for _, s := range secrets {
		if strings.Contains(out, s.value[4:]) {
			t.Errorf("the image facts hold the secret of %q", s.where)
		}
	}
	for _, keep := range []string{
		`"--config","/etc/app.yaml","--tls-key","/etc/tls/key.pem"`, `"PASSWORD_FILE=/run/secrets/db"`, `"API_TOKEN=$API_TOKEN"`,
		`"org.opencontainers.image.source":"https://github.com/acme/app"`, `"com.acme.password-policy":"min-length=12"`,
		`"org.opencontainers.image.revision":"4f9c2d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c3d"`,
		`"--token=ghp_*****"`, `"DB_PASSWORD=Zq7r*****"`, `"ci.token":"ci-7*****"`,
		"VERSION=1.2.3 /bin/sh -c curl -fsSL -u admin:***** https://artifacts.internal/app.tgz",
		`"deploy@bastion.internal"`,
	} {
		if !strings.Contains(out, keep) {
			t.Errorf("the image facts lack %s:\n%s", keep, out)
		}
	}
	// The package's layer carries the masked created_by too.
	for _, p := range rep.Packages {
		if p.Name == "minimist" && (p.Layer == nil || !strings.Contains(p.Layer.CreatedBy, "PASSWORD=Bu1l*****")) {
			t.Errorf("minimist's layer: %+v", p.Layer)
		}
	}
}
