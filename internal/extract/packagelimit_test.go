package extract_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/cargo"
	"github.com/drydock-scan/drydock/internal/extract/composer"
	"github.com/drydock-scan/drydock/internal/extract/dotnet"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/extract/gem"
	"github.com/drydock-scan/drydock/internal/extract/gobinary"
	"github.com/drydock-scan/drydock/internal/extract/java"
	"github.com/drydock-scan/drydock/internal/extract/python"
)

// TestLanguagePackageLimit: every language extractor takes its packages
// from the scan's package limit (extract.Budget), as lang/npm does. With a
// limit of 2 and the same file read three times (the packages it gives
// without a limit: n), in one layer then in another:
//   - a file of n > 2 packages keeps the first 2 (in canonical order) and
//     says so with an error wrapping ErrBudget naming the file ("n-2 of
//     this file's n packages are left out"); a file of 1 package is kept
//     whole, and the second copy, which reaches the limit, is not read and
//     says so;
//   - the next copy in the same layer is not read, without a note;
//   - the first copy in another layer is not read, and says so.
//
// Without a limit, each file gives its n packages and no error: the
// behaviour when nothing is cut is unchanged.
func TestLanguagePackageLimit(t *testing.T) {
	tests := []struct {
		name string
		e    extract.Extractor
		file string // under internal/extract
		path string // in the image
		exec bool
		n    int
	}{
		{"python dist-info", python.New(), "python/testdata/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA", false, 1},
		{"gemspec", gem.New(), "gem/testdata/usr/lib/ruby/gems/3.1.0/specifications/debug-1.6.3.gemspec", "/usr/lib/ruby/gems/3.1.0/specifications/debug-1.6.3.gemspec", false, 1},
		{"Gemfile.lock", gem.New(), "gem/testdata/app/Gemfile.lock", "/app/Gemfile.lock", false, 0},
		{"composer.lock", composer.New(), "composer/testdata/app/composer.lock", "/app/composer.lock", false, 0},
		{"installed.json", composer.New(), "composer/testdata/app/vendor/composer/installed.json", "/app/vendor/composer/installed.json", false, 0},
		{"deps.json", dotnet.New(), "dotnet/testdata/WebApp.deps.json", "/app/WebApp.deps.json", false, 0},
		{"packages.lock.json", dotnet.New(), "dotnet/testdata/packages.lock.json", "/src/packages.lock.json", false, 0},
		{"Cargo.lock", cargo.New(), "cargo/testdata/Cargo.lock", "/src/Cargo.lock", false, 0},
		{"Go binary", gobinary.New(), "gobinary/testdata/debian-docker-registry-buildinfo.elf", "/usr/bin/docker-registry", true, 1},
		{"jar", java.New(), "java/testdata/debian/log4j-core-2.19.0.jar", "/usr/share/java/log4j-core-2.19.0.jar", false, 1},
	}
	ctx := context.Background()
	one := extracttest.Layer{Index: 1, DiffID: "sha256:1111"}
	two := extracttest.Layer{Index: 2, DiffID: "sha256:2222"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.FromSlash(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			input := func(l extracttest.Layer, b *extract.Budget) *extract.Input {
				in := l.Input(tt.path, data)
				if tt.exec {
					in = l.Executable(tt.path, data)
				}
				in.Budget = b
				return in
			}
			if !tt.e.Wants(tt.path, input(one, nil).Mode, int64(len(data))) {
				t.Fatalf("%s not wanted", tt.path)
			}
			// No limit: the file's packages.
			all, err := tt.e.Extract(ctx, input(one, nil))
			if err != nil {
				t.Fatalf("without a limit: %v", err)
			}
			n := len(all.Packages)
			if tt.n != 0 && n != tt.n || tt.n == 0 && n <= 2 {
				t.Fatalf("%d packages without a limit: the file cannot show a cut", n)
			}
			// A limit over the file's packages changes nothing.
			big, err := tt.e.Extract(ctx, input(one, extract.NewBudget(extract.BudgetLimits{Packages: n})))
			if err != nil {
				t.Fatalf("under the limit: %v", err)
			}
			if d := cmp.Diff(all, big); d != "" {
				t.Errorf("under the limit (-without +with):\n%s", d)
			}

			b := extract.NewBudget(extract.BudgetLimits{Packages: 2})
			type step struct {
				in      *extract.Input
				want    int    // packages
				wantErr string // "" for none; else a part of an error wrapping ErrBudget
			}
			var steps []step
			if n == 1 {
				steps = []step{
					{input(one, b), 1, ""},
					{input(one, b), 1, ""},
					{input(one, b), 0, "this file and the package files after it in this layer are not read"},
				}
			} else {
				steps = []step{{input(one, b), 2, "the scan reports at most 2 language packages: " + strconv.Itoa(n-2) + " of this file's " + strconv.Itoa(n) + " packages are left out"}}
			}
			steps = append(steps,
				step{input(one, b), 0, ""},
				step{input(two, b), 0, "this file and the package files after it in this layer are not read"},
				step{input(two, b), 0, ""},
			)
			for i, s := range steps {
				inv, err := tt.e.Extract(ctx, s.in)
				if len(inv.Packages) != s.want {
					t.Errorf("step %d: %d packages, want %d", i, len(inv.Packages), s.want)
				}
				if s.want == 2 {
					if d := cmp.Diff(all.Packages[:2], inv.Packages); d != "" {
						t.Errorf("step %d: not the first packages (-want +got):\n%s", i, d)
					}
				}
				switch {
				case s.wantErr == "" && err != nil:
					t.Errorf("step %d: %v, want no error", i, err)
				case s.wantErr != "" && (!errors.Is(err, extract.ErrBudget) || !strings.Contains(err.Error(), s.wantErr) || !extracttest.NamesFile(err, tt.path)):
					t.Errorf("step %d: error %v, want ErrBudget naming the file and %q", i, err, s.wantErr)
				}
			}
		})
	}
}
