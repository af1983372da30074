package fix

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

func addSeeds(f *testing.F, names ...string) {
	for _, n := range names {
		f.Add(readIn(f, n))
	}
}

// FuzzJSONSpans: the span parser never panics, accepts only valid JSON,
// and the lockfile editor keeps a valid document valid.
func FuzzJSONSpans(f *testing.F) {
	addSeeds(f, "lock-v3.json", "lock-v1.json", "package.json")
	f.Add([]byte(`{"packages":{"node_modules/lodash":{"integrity":"x","version":"4.17.15"}}}`))
	f.Add([]byte(`{"dependencies":{"lodash":{"version":"4.17.15","integrity":"x"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := parseJSONSpans(b)
		if err == nil && !json.Valid(b) {
			t.Fatalf("accepted invalid JSON %q", b)
		}
		if err == nil && (n.start < 0 || n.end > len(b) || n.start > n.end) {
			t.Fatalf("span [%d,%d) outside %d bytes", n.start, n.end, len(b))
		}
		out, _, _, err := npmLockBump(b, "lodash", "4.17.15", "4.17.21")
		if err == nil && json.Valid(b) && !json.Valid(out) {
			t.Fatalf("the edit broke the JSON:\n%s\n→\n%s", b, out)
		}
		out, _, err = npmSetRange(b, "lodash", "^4.17.21", true)
		if err == nil && json.Valid(b) && !json.Valid(out) {
			t.Fatalf("the range edit broke the JSON:\n%s\n→\n%s", b, out)
		}
	})
}

// FuzzRequirements: the requirements editor never panics and changes
// neither the number of lines nor any line that does not name the
// package.
func FuzzRequirements(f *testing.F) {
	addSeeds(f, "requirements.txt", "requirements-hashes.txt", "requirements-excluded.txt")
	f.Add([]byte("pyyaml[a,b] ~= 5.1 ; python_version<'3' # x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, n, _, err := requirementsBump(b, "pyyaml", "5.4")
		if err != nil {
			return
		}
		in, got := splitLines(b), splitLines(out)
		if len(in) != len(got) {
			t.Fatalf("%d lines became %d", len(in), len(got))
		}
		diff := 0
		for i := range in {
			if in[i] != got[i] {
				diff++
				if !strings.Contains(strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(in[i])), "pyyaml") {
					t.Fatalf("line %d changed without naming the package: %q → %q", i+1, in[i], got[i])
				}
			}
		}
		if diff > n {
			t.Fatalf("%d lines changed, %d reported", diff, n)
		}
	})
}

// FuzzDockerfile: the Dockerfile editors never panic; a base bump puts the
// new reference in, and the OS block is written once.
func FuzzDockerfile(f *testing.F) {
	addSeeds(f, "Dockerfile", "Dockerfile.crlf", "Dockerfile.arg")
	f.Add([]byte("FROM a AS b\nFROM b AS c\nFROM c\n"))
	f.Add([]byte("FROM almalinux:9.0 \\\n  AS x\n# drydock fix: OS package upgrades\nRUN x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		const ref = "almalinux:9.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		if out, err := BumpBase(b, "almalinux:9.0", "FROM "+ref); err == nil && !bytes.Contains(out, []byte(ref)) {
			t.Fatalf("the bump lost the reference:\n%s", out)
		}
		out, err := SetOSUpgrades(b, "rpm", []OSUpgrade{{"glibc", "2.34-83.el9"}})
		if err != nil {
			return
		}
		out2, err := SetOSUpgrades(out, "rpm", []OSUpgrade{{"glibc", "2.34-83.el9"}, {"bash", "5.1.8-9.el9"}})
		if err != nil {
			t.Fatalf("rewriting the block: %v", err)
		}
		if c := bytes.Count(out2, []byte(osBlockMarker)); c != bytes.Count(b, []byte(osBlockMarker))+1 && c != 1 {
			t.Fatalf("%d OS blocks after two rewrites:\n%s", c, out2)
		}
	})
}

// FuzzGoMod: the go.mod editor never panics and writes a go.mod that
// parses and requires the target.
func FuzzGoMod(f *testing.F) {
	addSeeds(f, "go.mod", "go-replaced.mod")
	f.Fuzz(func(t *testing.T, b []byte) {
		if out, _, err := goModToolchain(b, "go.mod", "1.22.5"); err == nil {
			if _, err := modfile.Parse("go.mod", out, nil); err != nil {
				t.Fatalf("the go.mod with a toolchain does not parse: %v\n%s", err, out)
			}
		}
		out, _, err := goModBump(b, "go.mod", "golang.org/x/text", "v0.3.8")
		if err != nil {
			return
		}
		mf, err := modfile.Parse("go.mod", out, nil)
		if err != nil {
			t.Fatalf("the edited go.mod does not parse: %v\n%s", err, out)
		}
		for _, r := range mf.Require {
			if r.Mod.Path == "golang.org/x/text" {
				return
			}
		}
		t.Fatalf("the edited go.mod does not require the module:\n%s", out)
	})
}

// FuzzLockfiles: the Gemfile.lock and Cargo.lock editors never panic, keep
// the number of lines or drop only checksum lines, and a Cargo.lock they
// edit still parses (cargoLockBump checks it).
func FuzzLockfiles(f *testing.F) {
	addSeeds(f, "Gemfile.lock", "Cargo.lock", "Cargo.toml", "pom.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		if out, _, _, err := gemLockBump(b, "rack", "2.2.8", "2.2.8.1"); err == nil {
			in, got := splitLines(b), splitLines(out)
			if len(got) > len(in) {
				t.Fatalf("%d lines became %d", len(in), len(got))
			}
		}
		if out, _, err := cargoLockBump(b, "smallvec", "1.6.0", "1.6.1"); err == nil {
			if len(splitLines(out)) > len(splitLines(b)) {
				t.Fatal("lines were added")
			}
		}
		if req, err := cargoRequirement(b, "smallvec"); err == nil && req != "" {
			_, _ = cargoSatisfies(req, "1.6.1")
		}
		_, _ = gemSatisfies(string(b), "2.2.8.1")
		if out, n, _, err := pomBump(b, "org.apache.logging.log4j:log4j-core", "2.17.1"); err == nil {
			if n > 0 && !bytes.Contains(out, []byte("2.17.1")) {
				t.Fatalf("pom edited without the target:\n%s", out)
			}
			if _, _, err := parsePOM(out); err != nil {
				t.Fatalf("the edited pom does not parse: %v", err)
			}
		}
	})
}
