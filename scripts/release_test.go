// Package scripts_test tests the release build (make release) and the
// checksum gate that action.yml runs before drydock (verify-release.sh).
// Nothing here reaches the network: modules come from the local cache
// (GOPROXY=off) and the action's download is replaced by a local copy.
package scripts_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
)

// needTools skips when a tool is missing locally and fails under CI=true,
// where .ci/run provides every one of them.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is missing under CI=true: %v", tool, err)
			}
			t.Skipf("%s not installed: %v", tool, err)
		}
	}
}

// Two release builds of the same commit into different directories must
// give byte-identical SHA256SUMS (binary and tarball). The second build runs
// with GOAMD64=v3 in its environment: the Makefile pins the level, and
// without the pin the binaries would differ and this test would fail.
func TestReleaseReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds drydock twice; skipped under -short")
	}
	needTools(t, "make", "git", "tar", "gzip", "sha256sum")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	const version = "v0.0.0-repro"
	build := func(extraEnv ...string) []byte {
		t.Helper()
		dist := t.TempDir()
		cmd := exec.Command("make", "-C", root, "--no-print-directory", "release",
			"RELEASE_TARGETS=linux/amd64", "VERSION="+version, "DIST="+dist)
		cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=readonly")
		cmd.Env = append(cmd.Env, extraEnv...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("make release: %v\n%s", err, out)
		}
		sums, err := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
		if err != nil {
			t.Fatal(err)
		}
		return sums
	}
	first := build()
	second := build("GOAMD64=v3")

	// Both the binary and the tarball must be listed, so two empty or
	// partial lists cannot pass as "identical".
	var names []string
	for _, line := range strings.Split(strings.TrimSpace(string(first)), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			names = append(names, f[1])
		}
	}
	want := []string{"drydock_" + version + "_linux_amd64", "drydock_" + version + "_linux_amd64.tar.gz"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Fatalf("SHA256SUMS lists (-want +got):\n%s\n%s", diff, first)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("two builds of the same commit differ (or the source changed between them):\nfirst:\n%s\nsecond:\n%s", first, second)
	}
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fakeDrydock is a stand-in release binary: when run, it records its
// arguments in the file named by $MARKER, so a test can tell whether it ran.
const fakeDrydock = "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$MARKER\"\n"

func TestVerifyRelease(t *testing.T) {
	needTools(t, "bash", "sha256sum")
	script, err := filepath.Abs("verify-release.sh")
	if err != nil {
		t.Fatal(err)
	}
	good := []byte(fakeDrydock)
	goodSum := sha256Hex(good)
	// One byte appended: a binary someone modified after the release.
	modified := append([]byte(fakeDrydock), '#')

	tests := []struct {
		name    string
		content []byte // nil: the file does not exist
		sha     string
		wantRun bool
	}{
		{name: "right checksum", content: good, sha: goodSum, wantRun: true},
		{name: "right checksum in upper case", content: good, sha: strings.ToUpper(goodSum), wantRun: true},
		{name: "modified binary", content: modified, sha: goodSum},
		{name: "empty checksum", content: good, sha: ""},
		{name: "short checksum", content: good, sha: goodSum[:63]},
		{name: "checksum with a second line", content: good, sha: goodSum + "\n" + sha256Hex(modified)},
		{name: "missing file", content: nil, sha: goodSum},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			bin := filepath.Join(dir, "drydock_v1.0.0_linux_amd64")
			marker := filepath.Join(dir, "ran")
			if tc.content != nil {
				// Downloaded files are not executable; the script sets the mode.
				if err := os.WriteFile(bin, tc.content, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cmd := exec.Command(script, bin, tc.sha, "image", "--format", "sarif", "alpine:3.20")
			cmd.Env = append(os.Environ(), "MARKER="+marker)
			out, err := cmd.CombinedOutput()
			ranArgs, statErr := os.ReadFile(marker)
			ran := statErr == nil

			if !tc.wantRun {
				if err == nil {
					t.Errorf("exit 0, want a rejection\n%s", out)
				}
				if ran {
					t.Errorf("the binary ran although it was rejected")
				}
				if _, err := os.Stat(bin); !os.IsNotExist(err) {
					t.Errorf("rejected file still there (stat: %v); a later step could run it", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("verify-release.sh: %v\n%s", err, out)
			}
			if diff := cmp.Diff("image\n--format\nsarif\nalpine:3.20\n", string(ranArgs)); diff != "" {
				t.Errorf("arguments the binary got (-want +got):\n%s", diff)
			}
		})
	}
}

// TestActionSteps runs action.yml's own step scripts, in order, the way a
// Linux x64 runner would, with curl replaced by a copy of a local file (no
// network). A release with the pinned checksum is run with the action's
// args; a modified release fails the verify step and is never run.
func TestActionSteps(t *testing.T) {
	needTools(t, "bash", "sha256sum")
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Required bool `yaml:"required"`
		} `yaml:"inputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				Name  string            `yaml:"name"`
				Shell string            `yaml:"shell"`
				Env   map[string]string `yaml:"env"`
				Run   string            `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(raw, &action); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	if action.Runs.Using != "composite" || len(action.Runs.Steps) != 2 {
		t.Fatalf("action.yml: want a composite action with 2 steps (download, verify and run), got %q with %d", action.Runs.Using, len(action.Runs.Steps))
	}
	if !action.Inputs["version"].Required || !action.Inputs["sha256"].Required {
		t.Errorf("inputs version and sha256 must be required: %+v", action.Inputs)
	}
	if !strings.Contains(action.Runs.Steps[1].Run, `verify-release.sh" "$DRYDOCK_BIN" "$SHA256" image`) {
		t.Errorf("the second step must run drydock only through verify-release.sh:\n%s", action.Runs.Steps[1].Run)
	}

	const version = "v1.0.0"
	good := []byte(fakeDrydock)
	for _, tc := range []struct {
		name    string
		release []byte
		wantRun bool
	}{
		{name: "pinned release", release: good, wantRun: true},
		{name: "modified release", release: append([]byte(fakeDrydock), '#')},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			// The "server": curl -o OUT URL copies the file named after the URL's last element.
			server := filepath.Join(dir, "server")
			shims := filepath.Join(dir, "bin")
			runnerTemp := filepath.Join(dir, "runner-temp")
			for _, d := range []string{server, shims, runnerTemp} {
				if err := os.Mkdir(d, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(server, "drydock_"+version+"_linux_amd64"), tc.release, 0o644); err != nil {
				t.Fatal(err)
			}
			curl := "#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do case \"$1\" in -o) out=$2; shift 2 ;; *) url=$1; shift ;; esac; done\n" +
				"exec cp \"" + server + "/${url##*/}\" \"$out\"\n"
			if err := os.WriteFile(filepath.Join(shims, "curl"), []byte(curl), 0o755); err != nil {
				t.Fatal(err)
			}
			githubEnv := filepath.Join(dir, "github-env")
			if err := os.WriteFile(githubEnv, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			marker := filepath.Join(dir, "ran")
			inputs := map[string]string{
				"version": version,
				"sha256":  sha256Hex(good),
				"args":    "--format sarif ghcr.io/org/app:*",
			}
			base := append(os.Environ(),
				"PATH="+shims+string(os.PathListSeparator)+os.Getenv("PATH"),
				"RUNNER_OS=Linux", "RUNNER_ARCH=X64", "RUNNER_TEMP="+runnerTemp,
				"GITHUB_ENV="+githubEnv, "GITHUB_ACTION_PATH="+root, "MARKER="+marker)

			var stepErr error
			for i, step := range action.Runs.Steps {
				if step.Shell != "bash" {
					t.Fatalf("step %d: shell %q, want bash", i, step.Shell)
				}
				env := append([]string(nil), base...)
				// What the runner does: ${{ inputs.x }} substituted, $GITHUB_ENV lines exported.
				for k, v := range step.Env {
					for name, val := range inputs {
						v = strings.ReplaceAll(v, "${{ inputs."+name+" }}", val)
					}
					env = append(env, k+"="+v)
				}
				exported, err := os.ReadFile(githubEnv)
				if err != nil {
					t.Fatal(err)
				}
				env = append(env, strings.Fields(string(exported))...)
				cmd := exec.Command("bash", "-e", "-c", step.Run)
				cmd.Env = env
				out, err := cmd.CombinedOutput()
				if err != nil {
					stepErr = err
					t.Logf("step %q failed: %v\n%s", step.Name, err, out)
					break
				}
			}
			ranArgs, statErr := os.ReadFile(marker)
			if !tc.wantRun {
				if stepErr == nil {
					t.Errorf("the action succeeded with a modified release")
				}
				if statErr == nil {
					t.Errorf("the modified release ran")
				}
				return
			}
			if stepErr != nil {
				t.Fatalf("the action failed with the pinned release: %v", stepErr)
			}
			// Split on whitespace, the * left alone (no globbing).
			if diff := cmp.Diff("image\n--format\nsarif\nghcr.io/org/app:*\n", string(ranArgs)); diff != "" {
				t.Errorf("arguments drydock got (-want +got):\n%s", diff)
			}
		})
	}
}
