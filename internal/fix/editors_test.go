package fix

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func readIn(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "in", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEditorsGolden runs each editor on a real-shaped input and compares
// the result (the edited file, or the error, and what the editor reports)
// with testdata/golden/<name>.
func TestEditorsGolden(t *testing.T) {
	tests := []struct {
		name, in string
		edit     func([]byte) ([]byte, string, error)
	}{
		{"lock-v3-lodash", "lock-v3.json", func(b []byte) ([]byte, string, error) {
			// Both copies of lodash 4.17.15 (the top one and mkdirp's),
			// with their integrity removed wherever it is in the entry.
			out, n, deps, err := npmLockBump(b, "lodash", "4.17.15", "4.17.21")
			return out, fmt.Sprintf("changed %d, dependents %+v", n, deps), err
		}},
		{"lock-v3-scoped", "lock-v3.json", func(b []byte) ([]byte, string, error) {
			out, n, deps, err := npmLockBump(b, "@scope/util", "2.0.1", "2.0.3")
			return out, fmt.Sprintf("changed %d, dependents %+v", n, deps), err
		}},
		{"lock-v3-root-range", "lock-v3.json", func(b []byte) ([]byte, string, error) {
			out, changed, err := npmSetRange(b, "lodash", "~4.17.21", true)
			return out, fmt.Sprintf("changed %v", changed), err
		}},
		{"lock-v3-absent", "lock-v3.json", func(b []byte) ([]byte, string, error) {
			out, n, deps, err := npmLockBump(b, "lodash", "4.17.20", "4.17.21")
			return out, fmt.Sprintf("changed %d, dependents %+v", n, deps), err
		}},
		{"lock-v1-minimist", "lock-v1.json", func(b []byte) ([]byte, string, error) {
			out, n, deps, err := npmLockBump(b, "minimist", "0.0.8", "0.2.4")
			return out, fmt.Sprintf("changed %d, dependents %+v", n, deps), err
		}},
		{"package-json-range", "package.json", func(b []byte) ([]byte, string, error) {
			out, changed, err := npmSetRange(b, "minimist", "1.2.6", false)
			return out, fmt.Sprintf("changed %v", changed), err
		}},
		{"requirements-pinned", "requirements.txt", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := requirementsBump(b, "pyyaml", "5.4")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"requirements-range", "requirements.txt", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := requirementsBump(b, "urllib3", "1.26.18")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"requirements-bare", "requirements.txt", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := requirementsBump(b, "Requests", "2.31.0")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"requirements-excluded", "requirements-excluded.txt", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := requirementsBump(b, "urllib3", "1.26.18")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"requirements-newer", "requirements-newer.txt", func(b []byte) ([]byte, string, error) {
			// Pinned above the target already: never a downgrade.
			out, n, cons, err := requirementsBump(b, "pyyaml", "5.4")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"requirements-hashes", "requirements-hashes.txt", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := requirementsBump(b, "requests", "2.31.0")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"gomod-block", "go.mod", func(b []byte) ([]byte, string, error) {
			out, cur, err := goModBump(b, "go.mod", "golang.org/x/text", "0.3.8")
			return out, "was " + cur, err
		}},
		{"gomod-indirect", "go.mod", func(b []byte) ([]byte, string, error) {
			out, cur, err := goModBump(b, "go.mod", "golang.org/x/net", "v0.23.0")
			return out, "was " + cur, err
		}},
		{"gomod-new", "go.mod", func(b []byte) ([]byte, string, error) {
			out, cur, err := goModBump(b, "go.mod", "golang.org/x/crypto", "v0.35.0")
			return out, "was " + cur, err
		}},
		{"gomod-already", "go.mod", func(b []byte) ([]byte, string, error) {
			out, cur, err := goModBump(b, "go.mod", "github.com/google/go-cmp", "v0.5.0")
			return out, "was " + cur, err
		}},
		{"gomod-major", "go.mod", func(b []byte) ([]byte, string, error) {
			out, cur, err := goModBump(b, "go.mod", "golang.org/x/text", "v2.0.0")
			return out, "was " + cur, err
		}},
		{"gomod-toolchain", "go.mod", func(b []byte) ([]byte, string, error) {
			// stdlib 1.22.5 fixed: go 1.22 asks for less.
			out, cur, err := goModToolchain(b, "go.mod", "1.22.5")
			return out, "was " + cur, err
		}},
		{"gomod-toolchain-already", "go.mod", func(b []byte) ([]byte, string, error) {
			out, cur, err := goModToolchain(b, "go.mod", "1.21.11")
			return out, "was " + cur, err
		}},
		{"gomod-replaced", "go-replaced.mod", func(b []byte) ([]byte, string, error) {
			out, cur, err := goModBump(b, "go.mod", "golang.org/x/text", "v0.3.8")
			return out, "was " + cur, err
		}},
		{"gemfile-lock-rack", "Gemfile.lock", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := gemLockBump(b, "rack", "2.2.8", "2.2.8.1")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"gemfile-lock-excluded", "Gemfile.lock", func(b []byte) ([]byte, string, error) {
			// rack-session requires rack < 3 and the Gemfile ~> 2.2.
			out, n, cons, err := gemLockBump(b, "rack", "2.2.8", "3.0.9.1")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"gemfile-lock-platform", "Gemfile.lock", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := gemLockBump(b, "nokogiri", "1.16.2", "1.16.5")
			return out, fmt.Sprintf("changed %d, constraints %q", n, cons), err
		}},
		{"cargo-lock-smallvec", "Cargo.lock", func(b []byte) ([]byte, string, error) {
			// Two versions locked: only 1.6.0 and the reference to it change.
			out, n, err := cargoLockBump(b, "smallvec", "1.6.0", "1.6.1")
			return out, fmt.Sprintf("changed %d", n), err
		}},
		{"cargo-toml-requirement", "Cargo.toml", func(b []byte) ([]byte, string, error) {
			var info []string
			for _, c := range []struct{ name, v string }{{"smallvec", "1.6.1"}, {"smallvec", "2.0.0"}, {"tokio", "1.0.1"}, {"serde", "1.0.0"}} {
				req, err := cargoRequirement(b, c.name)
				if err != nil {
					return nil, "", err
				}
				ok, err := cargoSatisfies(req, c.v)
				if req == "" {
					ok, err = true, nil
				}
				info = append(info, fmt.Sprintf("%s %q admits %s: %v %v", c.name, req, c.v, ok, err))
			}
			return b, strings.Join(info, "; "), nil
		}},
		{"pom-property", "pom.xml", func(b []byte) ([]byte, string, error) {
			// ${log4j2.version}: the property is raised (the BOM import
			// uses it too: one edit).
			out, n, cons, err := pomBump(b, "org.apache.logging.log4j:log4j-core", "2.17.1")
			return out, fmt.Sprintf("changed %d, constraint %q", n, cons), err
		}},
		{"pom-literal", "pom.xml", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := pomBump(b, "org.apache.commons:commons-text", "1.10.0")
			return out, fmt.Sprintf("changed %d, constraint %q", n, cons), err
		}},
		{"pom-managed", "pom.xml", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := pomBump(b, "org.apache.logging.log4j:log4j-api", "2.17.1")
			return out, fmt.Sprintf("changed %d, constraint %q", n, cons), err
		}},
		{"pom-range", "pom.xml", func(b []byte) ([]byte, string, error) {
			out, n, cons, err := pomBump(b, "com.google.guava:guava", "32.0.0-jre")
			return out, fmt.Sprintf("changed %d, constraint %q", n, cons), err
		}},
		{"dockerfile-base", "Dockerfile", func(b []byte) ([]byte, string, error) {
			out, err := BumpBase(b, "almalinux:9.0", "FROM almalinux:9.3@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
			return out, "", err
		}},
		{"dockerfile-base-other", "Dockerfile", func(b []byte) ([]byte, string, error) {
			out, err := BumpBase(b, "debian:12", "FROM debian:12.5@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
			return out, "", err
		}},
		{"dockerfile-os", "Dockerfile", func(b []byte) ([]byte, string, error) {
			out, err := SetOSUpgrades(b, "rpm", []OSUpgrade{{"openssl-libs", "1:3.0.7-25.el9_3"}})
			if err != nil {
				return nil, "", err
			}
			// A second remedy rewrites the block, adding its package.
			out, err = SetOSUpgrades(out, "rpm", []OSUpgrade{{"openssl-libs", "1:3.0.7-25.el9_3"}, {"glibc", "2.34-83.el9_3.7"}})
			return out, "", err
		}},
		{"dockerfile-crlf-stage", "Dockerfile.crlf", func(b []byte) ([]byte, string, error) {
			// The final stage is FROM base, itself FROM alpine:3.16.
			out, err := BumpBase(b, "alpine:3.16", "FROM alpine:3.16.9@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
			if err != nil {
				return nil, "", err
			}
			out, err = SetOSUpgrades(out, "apk", []OSUpgrade{{"busybox", "1.35.0-r18"}, {"ssl_client", "1.35.0-r18"}})
			return out, "", err
		}},
		{"dockerfile-arg", "Dockerfile.arg", func(b []byte) ([]byte, string, error) {
			out, err := BumpBase(b, "alpine:3.16", "FROM alpine:3.16.9@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
			return out, "", err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := readIn(t, tt.in)
			out, info, err := tt.edit(in)
			var got strings.Builder
			fmt.Fprintf(&got, "# %s\n", info)
			if err != nil {
				fmt.Fprintf(&got, "# error: %v\n", err)
			} else {
				fmt.Fprint(&got, UnifiedDiff(Edit{Path: tt.in, Before: in, After: out}))
			}
			golden := filepath.Join("testdata", "golden", tt.name+".diff")
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if diff := cmp.Diff(string(want), got.String()); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

func TestCompareOp(t *testing.T) {
	type res struct{ OK, Plain bool }
	for _, tc := range []struct {
		op   string
		d    int
		want res
	}{
		{"=", 0, res{true, true}}, {"==", 1, res{false, true}}, {"!=", 0, res{false, true}},
		{">=", 0, res{true, true}}, {">=", -1, res{false, true}}, {"<=", 1, res{false, true}},
		{">", 1, res{true, true}}, {">", 0, res{false, true}}, {"<", -1, res{true, true}},
		{"~>", -1, res{true, false}}, {"~=", 1, res{true, false}},
	} {
		ok, plain := compareOp(tc.op, tc.d)
		if d := cmp.Diff(tc.want, res{ok, plain}); d != "" {
			t.Errorf("compareOp(%q, %d) (-want +got):\n%s", tc.op, tc.d, d)
		}
	}
}
