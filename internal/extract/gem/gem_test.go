package gem

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{Index: 3, DiffID: "sha256:0123456789abcdef"}

func gem(name, version, p string, licenses []string, meta map[string]string) inventory.Package {
	return inventory.Package{
		Name:      name,
		Version:   version,
		Ecosystem: inventory.EcoRubyGems,
		PURL:      "pkg:gem/" + name + "@" + version,
		Licenses:  licenses,
		Locations: layer.Locations(p),
		FoundBy:   "lang/gem",
		Metadata:  meta,
	}
}

func locked(name, version string, meta map[string]string) inventory.Package {
	p := gem(name, version, "/srv/app/Gemfile.lock", nil, meta)
	p.Declared = true
	return p
}

func TestWants(t *testing.T) {
	tests := []extracttest.WantsCase{
		{Path: "/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec", Mode: 0o644, Size: 2087, Want: true},
		{Path: "/usr/lib/ruby/gems/3.1.0/specifications/debug-1.6.3.gemspec", Mode: 0o644, Size: 1609, Want: true},
		{Path: "/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", Mode: 0o644, Size: 2241, Want: true},
		{Path: "/usr/local/bundle/specifications/rack-2.2.4.gemspec", Mode: 0o644, Size: 100, Want: true},
		{Path: "/var/lib/gems/3.1.0/specifications/nokogiri-1.13.10-x86_64-linux.gemspec", Mode: 0o644, Size: 100, Want: true},
		{Path: "/app/vendor/bundle/ruby/3.1.0/specifications/puma-6.0.0.gemspec", Mode: 0o644, Size: 100, Want: true},
		// Source gemspecs (in a gem's own directory or a repository) are not
		// installed specifications.
		{Path: "/usr/local/bundle/gems/rack-2.2.4/rack.gemspec", Mode: 0o644, Size: 100, Want: false},
		{Path: "/src/rack/rack.gemspec", Mode: 0o644, Size: 100, Want: false},
		{Path: "/usr/lib/ruby/gems/3.1.0/specifications/.gemspec", Mode: 0o644, Size: 100, Want: false},
		{Path: "/usr/lib/ruby/gems/3.1.0/specifications/default/x/y.gemspec", Mode: 0o644, Size: 100, Want: false},
		{Path: "/usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.4.gemspec.bak", Mode: 0o644, Size: 100, Want: false},
		// Lockfiles.
		{Path: "/srv/app/Gemfile.lock", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/srv/app/gems.locked", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/gems/Gemfile.lock", Mode: 0o644, Size: 3000, Want: true},
		{Path: "/usr/local/bundle/gems/rack-2.2.4/Gemfile.lock", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/app/vendor/bundle/ruby/3.1.0/bundler/gems/sinatra-5e6f3e1cbdbb/Gemfile.lock", Mode: 0o644, Size: 3000, Want: false},
		{Path: "/srv/app/Gemfile", Mode: 0o644, Size: 300, Want: false},
		// Mode and size.
		{Path: "/srv/app/Gemfile.lock", Mode: fs.ModeDir | 0o755, Size: 0, Want: false},
		{Path: "/srv/app/Gemfile.lock", Mode: fs.ModeSymlink | 0o777, Size: 10, Want: false},
		{Path: "/srv/app/Gemfile.lock", Mode: 0o644, Size: maxLockfileSize, Want: true},
		{Path: "/srv/app/Gemfile.lock", Mode: 0o644, Size: maxLockfileSize + 1, Want: false},
		{Path: "/x/specifications/a-1.gemspec", Mode: 0o644, Size: maxGemspecSize, Want: true},
		{Path: "/x/specifications/a-1.gemspec", Mode: 0o644, Size: maxGemspecSize + 1, Want: false},
		{Path: "/x/specifications/a-1.gemspec", Mode: 0o644, Size: -1, Want: false},
	}
	e := New()
	extracttest.CheckWants(t, e, tests)
}

// TestGemspecDebian reads gemspecs shipped by Debian 12 packages.
func TestGemspecDebian(t *testing.T) {
	tests := []struct {
		rel  string // under testdata; also the path in the image under /
		want inventory.Package
	}{
		{
			// ruby-rack 2.2.22-0+deb12u2.
			rel:  "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
			want: gem("rack", "2.2.22", "/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec", []string{"MIT"}, nil),
		},
		{
			// libruby3.1 3.1.7-1~deb12u2: a bundled gem with two licences.
			rel:  "usr/lib/ruby/gems/3.1.0/specifications/debug-1.6.3.gemspec",
			want: gem("debug", "1.6.3", "/usr/lib/ruby/gems/3.1.0/specifications/debug-1.6.3.gemspec", []string{"Ruby", "BSD-2-Clause"}, nil),
		},
		{
			// libruby3.1: default gems.
			rel: "usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
			want: gem("json", "2.6.1", "/usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec", []string{"Ruby"},
				map[string]string{"default_gem": "true"}),
		},
		{
			rel: "usr/lib/ruby/gems/3.1.0/specifications/default/net-http-0.3.0.1.gemspec",
			want: gem("net-http", "0.3.0.1", "/usr/lib/ruby/gems/3.1.0/specifications/default/net-http-0.3.0.1.gemspec", []string{"Ruby", "BSD-2-Clause"},
				map[string]string{"default_gem": "true"}),
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.rel, func(t *testing.T) {
			inv := extracttest.Extract(t, e, layer.Input("/"+tt.rel, extracttest.Testdata(t, tt.rel)))
			if diff := cmp.Diff([]inventory.Package{tt.want}, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGemspecForms(t *testing.T) {
	const dir = "/usr/local/bundle/specifications/"
	tests := []struct {
		name    string
		file    string
		src     string
		want    []inventory.Package
		wantErr string
	}{
		{
			// The RubyGems 1.x to_ruby form.
			name: "old %q form",
			file: "rake-0.8.7.gemspec",
			src: "Gem::Specification.new do |s|\n  s.name = %q{rake}\n  s.version = \"0.8.7\"\n" +
				"  s.licenses = [%q{MIT}]\n  s.add_dependency(%q<other>, [\">= 0\"])\nend\n",
			want: []inventory.Package{gem("rake", "0.8.7", dir+"rake-0.8.7.gemspec", []string{"MIT"}, nil)},
		},
		{
			name: "platform gem, single license, other block variable",
			file: "nokogiri-1.13.10-x86_64-linux.gemspec",
			src: "# stub: nokogiri 1.13.10 x86_64-linux lib\n\nGem::Specification.new do |spec|\n" +
				"  spec.name = 'nokogiri'.freeze\n  spec.version = \"1.13.10\"\n  spec.platform = \"x86_64-linux\".freeze\n" +
				"  spec.license = \"MIT\".freeze\n  s.name = \"decoy\"\nend\n",
			want: []inventory.Package{gem("nokogiri", "1.13.10", dir+"nokogiri-1.13.10-x86_64-linux.gemspec", []string{"MIT"},
				map[string]string{"platform": "x86_64-linux"})},
		},
		{
			name: "version from stub line",
			file: "foo-1.2.3.gemspec",
			src:  "# stub: foo 1.2.3 ruby lib\nGem::Specification.new do |s|\n  s.name = \"foo\"\n  s.version = Foo::VERSION\nend\n",
			want: []inventory.Package{gem("foo", "1.2.3", dir+"foo-1.2.3.gemspec", nil, nil)},
		},
		{
			name: "version from the file name",
			file: "foo-1.2.3-java.gemspec",
			src:  "Gem::Specification.new do |s|\n  s.name = \"foo\"\n  s.platform = \"java\"\n  s.version = Foo::VERSION\nend\n",
			want: []inventory.Package{gem("foo", "1.2.3", dir+"foo-1.2.3-java.gemspec", nil, map[string]string{"platform": "java"})},
		},
		{
			name: "escaped quote and metadata hash",
			file: "a-1.gemspec",
			src:  "Gem::Specification.new do |s|\n  s.metadata = { \"name\" => \"x\" }\n  s.name = \"a\"\n  s.version = \"1\"\n  s.licenses = [\"Nonstandard \\\"x\\\"\".freeze, \"\"]\nend\n",
			want: []inventory.Package{gem("a", "1", dir+"a-1.gemspec", []string{`Nonstandard "x"`}, nil)},
		},
		{
			name:    "no name",
			file:    "a-1.gemspec",
			src:     "Gem::Specification.new do |s|\n  s.version = \"1\"\nend\n",
			wantErr: `parsing gemspec "` + dir + `a-1.gemspec": no gem name`,
		},
		{
			name:    "no version",
			file:    "x.gemspec",
			src:     "Gem::Specification.new do |s|\n  s.name = \"a\"\nend\n",
			wantErr: `parsing gemspec "` + dir + `x.gemspec": no version for gem "a"`,
		},
		{
			name:    "not ruby",
			file:    "a-1.gemspec",
			src:     "\x00\x01\x02binary",
			wantErr: `parsing gemspec "` + dir + `a-1.gemspec": no gem name`,
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := e.Extract(context.Background(), layer.Input(dir+tt.file, []byte(tt.src)))
			extracttest.CheckError(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLockfile reads a Gemfile.lock written by hand from Bundler's format
// (testdata/app/Gemfile.lock: GIT, PATH and GEM sources, a gem locked for
// three platforms, CHECKSUMS-free Bundler 2.3 layout).
func TestLockfile(t *testing.T) {
	git := map[string]string{"source": "git"}
	want := []inventory.Package{
		locked("mini_portile2", "2.8.0", nil),
		locked("mustermann", "3.0.0", nil),
		locked("myapp", "0.1.0", map[string]string{"source": "path"}),
		locked("nio4r", "2.5.8", nil),
		locked("nokogiri", "1.13.10", map[string]string{"platform": "arm64-darwin,x86_64-linux"}),
		locked("puma", "6.0.0", nil),
		locked("racc", "1.6.2", nil),
		locked("rack", "2.2.4", nil),
		locked("rack-protection", "3.0.5", git),
		locked("ruby2_keywords", "0.0.5", nil),
		locked("sinatra", "3.0.5", git),
		locked("tilt", "2.0.11", nil),
	}
	const p = "/srv/app/Gemfile.lock"
	inv, err := New().Extract(context.Background(), layer.Input(p, extracttest.Testdata(t, "app/Gemfile.lock")))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, inv.Packages); diff != "" {
		t.Errorf("packages (-want +got):\n%s", diff)
	}
}

func TestLockfileErrors(t *testing.T) {
	const p = "/srv/app/Gemfile.lock"
	tests := []struct {
		name    string
		data    string
		want    []inventory.Package
		wantErr string
	}{
		{name: "empty", data: ""},
		{
			name: "checksums and CRLF",
			data: "GEM\r\n  remote: https://rubygems.org/\r\n  specs:\r\n    rack (3.0.8)\r\n\r\nCHECKSUMS\r\n  rack (3.0.8) sha256=abc\r\n",
			want: []inventory.Package{locked("rack", "3.0.8", nil)},
		},
		{
			name: "malformed lines keep the rest",
			data: "GEM\n  specs:\n    rack\n    (1.0)\n    puma (6.0.0)\n    tilt ()\n    x (1.0\n",
			want: []inventory.Package{locked("puma", "6.0.0", nil)},
			wantErr: `parsing Gemfile.lock "` + p + `": line 3: unexpected "    rack"; line 4: unexpected "    (1.0)"; ` +
				`line 6: unexpected "    tilt ()"; and 1 more malformed lines`,
		},
		{
			name: "specs outside a source section are ignored",
			data: "DEPENDENCIES\n  specs:\n    rack (1.0)\nGEM\n  remote: x\n    rack (2.0)\n",
		},
	}
	e := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := e.Extract(context.Background(), layer.Input(p, []byte(tt.data)))
			extracttest.CheckError(t, err, tt.wantErr)
			if diff := cmp.Diff(tt.want, inv.Packages); diff != "" {
				t.Errorf("packages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotApplicable(t *testing.T) {
	_, err := New().Extract(context.Background(), layer.Input("/src/rack.gemspec", []byte("")))
	if !errors.Is(err, extract.ErrNotApplicable) {
		t.Errorf("error = %v, want ErrNotApplicable", err)
	}
}

func FuzzGemspec(f *testing.F) {
	f.Add(extracttest.Testdata(f, "usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec"))
	f.Add(extracttest.Testdata(f, "usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec"))
	extracttest.FuzzFile(f, New(), layer.Input("/usr/local/bundle/specifications/x-1.gemspec", nil), extracttest.Complete)
}

func FuzzGemfileLock(f *testing.F) {
	f.Add(extracttest.Testdata(f, "app/Gemfile.lock"))
	extracttest.FuzzFile(f, New(), layer.Input("/srv/app/Gemfile.lock", nil), extracttest.Complete)
}
