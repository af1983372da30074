package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSettingsPrecedence: every flag of every command comes from the command
// line, else $DRYDOCK_<FLAG>, else the config file (a command's section
// over the top level), else its default.
func TestSettingsPrecedence(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(cfg, []byte(`
timeout: 7m
severity: [LOW]
exit-code: 2
image:
  severity: [CRITICAL, HIGH]
  ignore-unfixed: true
db:
  update:
    source: [/srv/mirror-a, /srv/mirror-b]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	type got struct{ Severity, ExitCode, IgnoreUnfixed, Timeout string }
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want got
	}{
		{"defaults", nil, nil, got{"[]", "0", "false", "5m0s"}},
		{"file: the command's section over the top level", []string{"--config", cfg}, nil, got{"[CRITICAL,HIGH]", "2", "true", "7m0s"}},
		{"file named by the environment", nil, map[string]string{"DRYDOCK_CONFIG": cfg}, got{"[CRITICAL,HIGH]", "2", "true", "7m0s"}},
		{"environment over the file", []string{"--config", cfg}, map[string]string{"DRYDOCK_SEVERITY": "MEDIUM,LOW", "DRYDOCK_EXIT_CODE": "1", "DRYDOCK_TIMEOUT": "1m"},
			got{"[MEDIUM,LOW]", "1", "true", "1m0s"}},
		{"flags over both", []string{"--config", cfg, "--severity", "UNKNOWN", "--exit-code", "9", "--ignore-unfixed=false", "--timeout", "30s"},
			map[string]string{"DRYDOCK_SEVERITY": "MEDIUM", "DRYDOCK_EXIT_CODE": "1"}, got{"[UNKNOWN]", "9", "false", "30s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"DRYDOCK_CONFIG", "DRYDOCK_SEVERITY", "DRYDOCK_EXIT_CODE", "DRYDOCK_TIMEOUT", "DRYDOCK_IGNORE_UNFIXED"} {
				t.Setenv(k, tc.env[k])
			}
			e := &env{}
			cmd, _, err := newRoot(e).Find([]string{"image"})
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.ParseFlags(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := applySettings(e, cmd); err != nil {
				t.Fatal(err)
			}
			v := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
			if d := cmp.Diff(tc.want, got{v("severity"), v("exit-code"), v("ignore-unfixed"), v("timeout")}); d != "" {
				t.Errorf("settings (-want +got):\n%s", d)
			}
		})
	}
	// A nested command's section.
	t.Setenv("DRYDOCK_CONFIG", cfg)
	e := &env{}
	cmd, _, err := newRoot(e).Find([]string{"db", "update"})
	if err != nil {
		t.Fatal(err)
	}
	if err := applySettings(e, cmd); err != nil {
		t.Fatal(err)
	}
	if got := cmd.Flags().Lookup("source").Value.String(); got != "[/srv/mirror-a,/srv/mirror-b]" {
		t.Errorf("db update --source from db.update.source = %s", got)
	}
}

// TestSettingsErrors: a key that is no flag and no command, a list for a
// one-value flag, a bad value: each an error naming where it came from.
func TestSettingsErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"severty: [HIGH]\n", "unknown setting severty"},
		{"image:\n  exit-cod: 1\n", "unknown setting image.exit-cod"},
		{"exit-code: [1, 2]\n", "exit-code: takes one value, not a list"},
		{"image:\n  exit-code: many\n", "exit-code"},
		{"image: [1]\n", "unknown setting image"},
		{"image:\n  listen: :8080\n", "unknown setting image.listen"}, // a flag, but of another command
	} {
		cfg := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(cfg, []byte(tc.file), 0o644); err != nil {
			t.Fatal(err)
		}
		e := &env{}
		cmd, _, err := newRoot(e).Find([]string{"image"})
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.ParseFlags([]string{"--config", cfg}); err != nil {
			t.Fatal(err)
		}
		err = applySettings(e, cmd)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), cfg) {
			t.Errorf("%q: %v, want an error with %q naming the file", tc.file, err, tc.want)
		}
	}
}

// TestSettingsThroughTheCLI: drydock.yaml in the working directory is read
// by a real scan; the environment and the command line override it. The
// Alpine image has MEDIUM findings, so the exit code says which setting won.
func TestSettingsThroughTheCLI(t *testing.T) {
	img, err := filepath.Abs(alpineImage)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile(defaultConfigFile, []byte("image:\n  exit-code: 4\n  severity: [MEDIUM]\n  format: json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DRYDOCK_EXIT_CODE", "")
	if res := drydock(t, "image", "--db", testDB, img); res.code != 4 || !strings.HasPrefix(strings.TrimSpace(res.stdout), "{") {
		t.Errorf("drydock.yaml: exit %d (want 4), stdout %.80q\n%s", res.code, res.stdout, res.stderr)
	}
	t.Setenv("DRYDOCK_EXIT_CODE", "6")
	if res := drydock(t, "image", "--db", testDB, img); res.code != 6 {
		t.Errorf("$DRYDOCK_EXIT_CODE=6 over the file: exit %d\n%s", res.code, res.stderr)
	}
	if res := drydock(t, "image", "--db", testDB, "--exit-code", "7", img); res.code != 7 {
		t.Errorf("--exit-code 7 over both: exit %d\n%s", res.code, res.stderr)
	}
	if err := os.WriteFile(defaultConfigFile, []byte("image:\n  severity: [HIGH]\n  exit-code: 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DRYDOCK_EXIT_CODE", "")
	if res := drydock(t, "image", "--db", testDB, img); res.code != 0 {
		t.Errorf("severity HIGH from drydock.yaml: exit %d, want 0 (only MEDIUM findings)\n%s", res.code, res.stderr)
	}
}
