package osrelease

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/drydock-scan/drydock/internal/distro"
	"github.com/drydock-scan/drydock/internal/extract"
	"github.com/drydock-scan/drydock/internal/extract/extracttest"
	"github.com/drydock-scan/drydock/internal/inventory"
)

var layer = extracttest.Layer{DiffID: "sha256:abc"}

func TestExtractRealData(t *testing.T) {
	tests := []struct {
		dir, path string
		want      inventory.Distro
	}{
		{
			dir: "alpine-3.16.9", path: "/etc/os-release",
			want: inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16", PrettyName: "Alpine Linux v3.16", Source: "/etc/os-release"},
		},
		{
			dir: "alpine-3.16.9", path: "/etc/alpine-release",
			want: inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16", Source: "/etc/alpine-release"},
		},
		{
			dir: "almalinux-9.0", path: "/usr/lib/os-release",
			want: inventory.Distro{
				ID: "almalinux", VersionID: "9.0", Release: "9", PrettyName: "AlmaLinux 9.0 Beta (Emerald Puma)",
				IDLike: []string{"rhel", "centos", "fedora"}, Source: "/usr/lib/os-release",
			},
		},
		{
			dir: "almalinux-9.0", path: "/etc/almalinux-release",
			want: inventory.Distro{
				ID: "almalinux", VersionID: "9.0", Release: "9", Codename: "Emerald Puma",
				PrettyName: "AlmaLinux release 9.0 Beta (Emerald Puma)", Source: "/etc/almalinux-release",
			},
		},
		{
			dir: "almalinux-8.8", path: "/usr/lib/os-release",
			want: inventory.Distro{
				ID: "almalinux", VersionID: "8.8", Release: "8", PrettyName: "AlmaLinux 8.8 (Sapphire Caracal)",
				IDLike: []string{"rhel", "centos", "fedora"}, Source: "/usr/lib/os-release",
			},
		},
		{
			dir: "almalinux-8.8", path: "/etc/almalinux-release",
			want: inventory.Distro{
				ID: "almalinux", VersionID: "8.8", Release: "8", Codename: "Sapphire Caracal",
				PrettyName: "AlmaLinux release 8.8 (Sapphire Caracal)", Source: "/etc/almalinux-release",
			},
		},
		{
			dir: "debian-12.15", path: "/usr/lib/os-release",
			want: inventory.Distro{
				ID: "debian", VersionID: "12", Release: "12", Codename: "bookworm",
				PrettyName: "Debian GNU/Linux 12 (bookworm)", Source: "/usr/lib/os-release",
			},
		},
		{
			dir: "debian-12.15", path: "/etc/debian_version",
			want: inventory.Distro{ID: "debian", VersionID: "12.15", Release: "12", Source: "/etc/debian_version"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir+tt.path, func(t *testing.T) {
			inv := extracttest.Extract(t, New(), layer.Input(tt.path, extracttest.Testdata(t, tt.dir+tt.path)))
			if len(inv.Packages) != 0 {
				t.Errorf("Extract returned %d packages, want 0", len(inv.Packages))
			}
			if diff := cmp.Diff(&tt.want, inv.Distro); diff != "" {
				t.Errorf("Distro mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestResolveRealData resolves the files of each real image together.
func TestResolveRealData(t *testing.T) {
	tests := []struct {
		dir     string
		want    inventory.Distro
		wantEco string
	}{
		{
			dir:     "alpine-3.16.9",
			want:    inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16", PrettyName: "Alpine Linux v3.16", Source: "/etc/os-release"},
			wantEco: "Alpine:v3.16",
		},
		{
			dir: "almalinux-9.0",
			want: inventory.Distro{
				ID: "almalinux", VersionID: "9.0", Release: "9", Codename: "Emerald Puma", PrettyName: "AlmaLinux 9.0 Beta (Emerald Puma)",
				IDLike: []string{"rhel", "centos", "fedora"}, Source: "/usr/lib/os-release",
			},
			wantEco: "AlmaLinux:9",
		},
		{
			dir: "debian-12.15",
			want: inventory.Distro{
				ID: "debian", VersionID: "12.15", Release: "12", Codename: "bookworm",
				PrettyName: "Debian GNU/Linux 12 (bookworm)", Source: "/usr/lib/os-release",
			},
			wantEco: "Debian:12",
		},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			var cands []inventory.Distro
			root := filepath.Join("testdata", tt.dir)
			err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
				if err != nil || de.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(root, p)
				inv, err := New().Extract(context.Background(), layer.Input("/"+filepath.ToSlash(rel), data))
				if err != nil {
					return err
				}
				cands = append(cands, *inv.Distro)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(cands) != 2 {
				t.Fatalf("got %d candidates, want 2", len(cands))
			}
			got := Resolve(cands)
			if diff := cmp.Diff(&tt.want, got); diff != "" {
				t.Errorf("Resolve mismatch (-want +got):\n%s", diff)
			}
			if eco := distro.AdvisoryEcosystem(got); eco != tt.wantEco {
				t.Errorf("AdvisoryEcosystem = %q, want %q", eco, tt.wantEco)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, path, data string
		want             inventory.Distro
	}{
		{
			name: "ubuntu 22.04", path: "/usr/lib/os-release",
			data: "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n",
			want: inventory.Distro{ID: "ubuntu", VersionID: "22.04", Release: "22.04", Codename: "jammy", PrettyName: "Ubuntu 22.04.4 LTS", IDLike: []string{"debian"}},
		},
		{
			name: "ubuntu codename only in UBUNTU_CODENAME", path: "/etc/os-release",
			data: "ID=ubuntu\nVERSION_ID=\"16.04\"\nUBUNTU_CODENAME=xenial\n",
			want: inventory.Distro{ID: "ubuntu", VersionID: "16.04", Release: "16.04", Codename: "xenial"},
		},
		{
			name: "distroless debian", path: "/etc/os-release",
			data: "PRETTY_NAME=\"Distroless\"\nNAME=\"Debian GNU/Linux\"\nID=\"debian\"\nVERSION_ID=\"12\"\nVERSION=\"Debian GNU/Linux 12 (bookworm)\"\nHOME_URL=\"https://github.com/GoogleContainerTools/distroless\"\n",
			want: inventory.Distro{ID: "debian", VersionID: "12", Release: "12", PrettyName: "Distroless"},
		},
		{
			name: "debian testing has no VERSION_ID", path: "/usr/lib/os-release",
			data: "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\nVERSION_CODENAME=trixie\nID=debian\n",
			want: inventory.Distro{ID: "debian", Release: "trixie", Codename: "trixie", PrettyName: "Debian GNU/Linux trixie/sid"},
		},
		{
			name: "debian sid without codename field", path: "/usr/lib/os-release",
			data: "PRETTY_NAME=\"Debian GNU/Linux sid\"\nID=debian\n",
			want: inventory.Distro{ID: "debian", Release: "sid", Codename: "sid", PrettyName: "Debian GNU/Linux sid"},
		},
		{
			name: "debian_version testing", path: "/etc/debian_version", data: "trixie/sid\n",
			want: inventory.Distro{ID: "debian", Release: "trixie", Codename: "trixie"},
		},
		{
			name: "debian_version old", path: "/etc/debian_version", data: "6.0.10\n",
			want: inventory.Distro{ID: "debian", VersionID: "6.0.10", Release: "6"},
		},
		{
			name: "alpine edge", path: "/etc/os-release",
			data: "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.21.0_alpha20240807\nPRETTY_NAME=\"Alpine Linux edge\"\n",
			want: inventory.Distro{ID: "alpine", VersionID: "3.21.0_alpha20240807", Release: "edge", PrettyName: "Alpine Linux edge"},
		},
		{
			name: "alpine-release edge", path: "/etc/alpine-release", data: "3.21.0_alpha20240807\n",
			want: inventory.Distro{ID: "alpine", VersionID: "3.21.0_alpha20240807", Release: "edge"},
		},
		{
			name: "wolfi", path: "/etc/os-release",
			data: "ID=wolfi\nNAME=\"Wolfi\"\nPRETTY_NAME=\"Wolfi\"\nVERSION_ID=\"20230201\"\nHOME_URL=\"https://wolfi.dev\"\n",
			want: inventory.Distro{ID: "wolfi", VersionID: "20230201", PrettyName: "Wolfi"},
		},
		{
			name: "chainguard", path: "/etc/os-release",
			data: "ID=chainguard\nNAME=\"Chainguard\"\nPRETTY_NAME=\"Chainguard\"\nVERSION_ID=\"20230214\"\n",
			want: inventory.Distro{ID: "chainguard", VersionID: "20230214", PrettyName: "Chainguard"},
		},
		{
			name: "rocky", path: "/etc/os-release",
			data: "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n",
			want: inventory.Distro{ID: "rocky", VersionID: "9.3", Release: "9", PrettyName: "Rocky Linux 9.3 (Blue Onyx)", IDLike: []string{"rhel", "centos", "fedora"}},
		},
		{
			name: "rhel", path: "/etc/os-release",
			data: "NAME=\"Red Hat Enterprise Linux\"\nVERSION=\"8.9 (Ootpa)\"\nID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"8.9\"\nPRETTY_NAME=\"Red Hat Enterprise Linux 8.9 (Ootpa)\"\n",
			want: inventory.Distro{ID: "rhel", VersionID: "8.9", Release: "8", PrettyName: "Red Hat Enterprise Linux 8.9 (Ootpa)", IDLike: []string{"fedora"}},
		},
		{
			name: "oracle", path: "/etc/os-release",
			data: "NAME=\"Oracle Linux Server\"\nVERSION=\"8.9\"\nID=\"ol\"\nVERSION_ID=\"8.9\"\n",
			want: inventory.Distro{ID: "ol", VersionID: "8.9", Release: "8"},
		},
		{
			name: "amazon linux 2", path: "/etc/os-release",
			data: "NAME=\"Amazon Linux\"\nVERSION=\"2\"\nID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\nVERSION_ID=\"2\"\nPRETTY_NAME=\"Amazon Linux 2\"\n",
			want: inventory.Distro{ID: "amzn", VersionID: "2", Release: "2", PrettyName: "Amazon Linux 2", IDLike: []string{"centos", "rhel", "fedora"}},
		},
		{
			name: "amazon linux 2023", path: "/usr/lib/os-release",
			data: "NAME=\"Amazon Linux\"\nVERSION=\"2023\"\nID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\"\nPRETTY_NAME=\"Amazon Linux 2023.3.20240108\"\n",
			want: inventory.Distro{ID: "amzn", VersionID: "2023", Release: "2023", PrettyName: "Amazon Linux 2023.3.20240108", IDLike: []string{"fedora"}},
		},
		{
			name: "amazon linux 1", path: "/etc/os-release",
			data: "NAME=\"Amazon Linux AMI\"\nID=\"amzn\"\nVERSION_ID=\"2018.03\"\n",
			want: inventory.Distro{ID: "amzn", VersionID: "2018.03", Release: "1"},
		},
		{
			name: "sles", path: "/etc/os-release",
			data: "NAME=\"SLES\"\nVERSION=\"15-SP5\"\nVERSION_ID=\"15.5\"\nPRETTY_NAME=\"SUSE Linux Enterprise Server 15 SP5\"\nID=\"sles\"\nID_LIKE=\"suse\"\n",
			want: inventory.Distro{ID: "sles", VersionID: "15.5", Release: "15.5", PrettyName: "SUSE Linux Enterprise Server 15 SP5", IDLike: []string{"suse"}},
		},
		{
			name: "opensuse leap", path: "/usr/lib/os-release",
			data: "NAME=\"openSUSE Leap\"\nVERSION=\"15.6\"\nID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.6\"\n",
			want: inventory.Distro{ID: "opensuse-leap", VersionID: "15.6", Release: "15.6", IDLike: []string{"suse", "opensuse"}},
		},
		{
			name: "opensuse tumbleweed", path: "/usr/lib/os-release",
			data: "NAME=\"openSUSE Tumbleweed\"\nID=\"opensuse-tumbleweed\"\nVERSION_ID=\"20240801\"\n",
			want: inventory.Distro{ID: "opensuse-tumbleweed", VersionID: "20240801"},
		},
		{
			name: "legacy SuSE-release", path: "/etc/SuSE-release",
			data: "SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 3\n# This file is deprecated\n",
			want: inventory.Distro{ID: "sles", VersionID: "12.3", Release: "12.3", PrettyName: "SUSE Linux Enterprise Server 12 (x86_64)"},
		},
		{
			name: "legacy openSUSE-release", path: "/etc/SuSE-release",
			data: "openSUSE 13.2 (x86_64)\nVERSION = 13.2\nCODENAME = Harlequin\n",
			want: inventory.Distro{ID: "opensuse", VersionID: "13.2", Release: "13.2", Codename: "Harlequin", PrettyName: "openSUSE 13.2 (x86_64)"},
		},
		{
			name: "centos-release", path: "/etc/centos-release", data: "CentOS Linux release 7.9.2009 (Core)\n",
			want: inventory.Distro{ID: "centos", VersionID: "7.9.2009", Release: "7", Codename: "Core", PrettyName: "CentOS Linux release 7.9.2009 (Core)"},
		},
		{
			name: "centos stream", path: "/etc/redhat-release", data: "CentOS Stream release 9\n",
			want: inventory.Distro{ID: "centos", VersionID: "9", Release: "9", PrettyName: "CentOS Stream release 9"},
		},
		{
			name: "redhat-release", path: "/etc/redhat-release", data: "Red Hat Enterprise Linux release 8.6 (Ootpa)\r\n",
			want: inventory.Distro{ID: "rhel", VersionID: "8.6", Release: "8", Codename: "Ootpa", PrettyName: "Red Hat Enterprise Linux release 8.6 (Ootpa)"},
		},
		{
			name: "rhel 6 server", path: "/etc/redhat-release", data: "Red Hat Enterprise Linux Server release 6.10 (Santiago)\n",
			want: inventory.Distro{ID: "rhel", VersionID: "6.10", Release: "6", Codename: "Santiago", PrettyName: "Red Hat Enterprise Linux Server release 6.10 (Santiago)"},
		},
		{
			name: "rocky-release", path: "/etc/rocky-release", data: "Rocky Linux release 9.1 (Blue Onyx)\n",
			want: inventory.Distro{ID: "rocky", VersionID: "9.1", Release: "9", Codename: "Blue Onyx", PrettyName: "Rocky Linux release 9.1 (Blue Onyx)"},
		},
		{
			name: "amazon system-release", path: "/etc/system-release", data: "Amazon Linux release 2 (Karoo)\n",
			want: inventory.Distro{ID: "amzn", VersionID: "2", Release: "2", Codename: "Karoo", PrettyName: "Amazon Linux release 2 (Karoo)"},
		},
		{
			name: "fedora-release", path: "/etc/fedora-release", data: "Fedora release 39 (Thirty Nine)\n",
			want: inventory.Distro{ID: "fedora", VersionID: "39", Release: "39", Codename: "Thirty Nine", PrettyName: "Fedora release 39 (Thirty Nine)"},
		},
		{
			name: "lsb-release", path: "/etc/lsb-release",
			data: "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=20.04\nDISTRIB_CODENAME=focal\nDISTRIB_DESCRIPTION=\"Ubuntu 20.04.6 LTS\"\n",
			want: inventory.Distro{ID: "ubuntu", VersionID: "20.04", Release: "20.04", Codename: "focal", PrettyName: "Ubuntu 20.04.6 LTS"},
		},
		{
			name: "shell quoting, comments, CRLF, last assignment wins", path: "/etc/os-release",
			data: "# comment\r\nID=old\r\nID='Debian'\r\n  VERSION_ID=\"1\\\"1\" # trailing comment\r\nPRETTY_NAME=a\\ b\r\nbroken line\r\n=novalue\r\n",
			want: inventory.Distro{ID: "debian", VersionID: "1\"1", PrettyName: "a b"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.want.Source = tt.path
			inv := extracttest.Extract(t, New(), layer.Input(tt.path, []byte(tt.data)))
			if diff := cmp.Diff(&tt.want, inv.Distro); diff != "" {
				t.Errorf("Distro mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractNotApplicable(t *testing.T) {
	tests := []struct{ name, path, data string }{
		{"empty os-release", "/etc/os-release", ""},
		{"os-release without ID", "/usr/lib/os-release", "NAME=Linux\nVERSION_ID=1\n"},
		{"binary os-release", "/etc/os-release", "\x00\x01\x02ELF\xff"},
		{"garbage alpine-release", "/etc/alpine-release", "hello world\n"},
		{"garbage debian_version", "/etc/debian_version", "not a version\n"},
		{"unknown vendor", "/etc/redhat-release", "Foo Linux release 1.0\n"},
		{"no release word", "/etc/system-release", "AlmaLinux 9\n"},
		{"lsb without DISTRIB_ID", "/etc/lsb-release", "DISTRIB_RELEASE=1\n"},
		{"SuSE-release without VERSION", "/etc/SuSE-release", "SUSE Linux Enterprise Server 12\n"},
		{"SuSE-release unknown product", "/etc/SuSE-release", "Foo 1\nVERSION = 1\n"},
		{"path not wanted", "/etc/passwd", "ID=debian\n"},
		{"too large", "/etc/os-release", "ID=debian\n" + strings.Repeat("#", maxSize)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := New().Extract(context.Background(), layer.Input(tt.path, []byte(tt.data)))
			if !errors.Is(err, extract.ErrNotApplicable) {
				t.Fatalf("Extract error = %v, want ErrNotApplicable", err)
			}
			extracttest.CheckFileError(t, err, tt.path)
			if inv.Distro != nil {
				t.Errorf("Distro = %+v, want nil", inv.Distro)
			}
		})
	}
}

func TestWants(t *testing.T) {
	e := New()
	tests := []extracttest.WantsCase{
		{Path: "/etc/os-release", Mode: 0o644, Size: 200, Want: true},
		{Path: "/usr/lib/os-release", Mode: 0o644, Size: 200, Want: true},
		{Path: "/etc/alpine-release", Mode: 0o644, Size: 7, Want: true},
		{Path: "/etc/debian_version", Mode: 0o644, Size: 6, Want: true},
		{Path: "/etc/redhat-release", Mode: 0o644, Size: 40, Want: true},
		{Path: "/etc/centos-release", Mode: 0o644, Size: 40, Want: true},
		{Path: "/etc/almalinux-release", Mode: 0o644, Size: 40, Want: true},
		{Path: "/etc/rocky-release", Mode: 0o644, Size: 40, Want: true},
		{Path: "/etc/system-release", Mode: 0o644, Size: 40, Want: true},
		{Path: "/etc/lsb-release", Mode: 0o644, Size: 40, Want: true},
		{Path: "/etc/SuSE-release", Mode: 0o644, Size: 40, Want: true},
		{Path: "/etc/os-release", Mode: fs.ModeSymlink | 0o777, Size: 21, Want: false},
		{Path: "/etc/os-release", Mode: 0o644, Size: maxSize + 1, Want: false},
		{Path: "/etc/os-release.bak", Mode: 0o644, Size: 200, Want: false},
		{Path: "/usr/local/etc/os-release", Mode: 0o644, Size: 200, Want: false},
		{Path: "/etc/almalinux-release-upstream", Mode: 0o644, Size: 40, Want: false},
	}
	extracttest.CheckWants(t, e, tests)
	if e.Name() != "os/release" {
		t.Errorf("Name() = %q", e.Name())
	}
}

func TestResolve(t *testing.T) {
	osr := func(id, ver, src string) inventory.Distro {
		return inventory.Distro{ID: id, VersionID: ver, Source: src}
	}
	tests := []struct {
		name  string
		cands []inventory.Distro
		want  *inventory.Distro
	}{
		{name: "none", cands: nil, want: nil},
		{
			name:  "single",
			cands: []inventory.Distro{osr("alpine", "3.16.9", "/etc/alpine-release")},
			want:  &inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16", Source: "/etc/alpine-release"},
		},
		{
			name: "os-release beats debian_version on ubuntu",
			cands: []inventory.Distro{
				{ID: "debian", Codename: "bookworm", Source: "/etc/debian_version"},
				osr("ubuntu", "24.04", "/usr/lib/os-release"),
			},
			want: &inventory.Distro{ID: "ubuntu", VersionID: "24.04", Release: "24.04", Source: "/usr/lib/os-release"},
		},
		{
			name: "more precise version of the same distro is taken",
			cands: []inventory.Distro{
				osr("centos", "7", "/etc/os-release"),
				{ID: "centos", VersionID: "7.9.2009", Codename: "Core", Source: "/etc/centos-release"},
			},
			want: &inventory.Distro{ID: "centos", VersionID: "7.9.2009", Release: "7", Codename: "Core", Source: "/etc/os-release"},
		},
		{
			name: "less precise or unrelated versions are not taken",
			cands: []inventory.Distro{
				osr("debian", "12.15", "/etc/debian_version"),
				osr("debian", "12", "/usr/lib/os-release"),
				osr("debian", "13.1", "/etc/os-release"),
			},
			want: &inventory.Distro{ID: "debian", VersionID: "13.1", Release: "13", Source: "/etc/os-release"},
		},
		{
			name: "prefix must end at a dot",
			cands: []inventory.Distro{
				osr("amzn", "2", "/etc/os-release"),
				osr("amzn", "2023", "/etc/system-release"),
			},
			want: &inventory.Distro{ID: "amzn", VersionID: "2", Release: "2", Source: "/etc/os-release"},
		},
		{
			name: "etc beats usr/lib",
			cands: []inventory.Distro{
				osr("rocky", "9.3", "/usr/lib/os-release"),
				osr("rhel", "9.3", "/etc/os-release"),
			},
			want: &inventory.Distro{ID: "rhel", VersionID: "9.3", Release: "9", Source: "/etc/os-release"},
		},
		{
			name: "lsb-release beats debian_version",
			cands: []inventory.Distro{
				osr("debian", "12.1", "/etc/debian_version"),
				osr("ubuntu", "22.04", "/etc/lsb-release"),
			},
			want: &inventory.Distro{ID: "ubuntu", VersionID: "22.04", Release: "22.04", Source: "/etc/lsb-release"},
		},
		{
			name: "unknown sources rank last, ties broken by source",
			cands: []inventory.Distro{
				osr("b", "1", "/b"),
				osr("a", "1", "/a"),
			},
			want: &inventory.Distro{ID: "a", VersionID: "1", Release: "1", Source: "/a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := append([]inventory.Distro(nil), tt.cands...)
			got := Resolve(tt.cands)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Resolve mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(orig, tt.cands); diff != "" {
				t.Errorf("Resolve modified its input:\n%s", diff)
			}
			// The order of candidates must not matter.
			rev := append([]inventory.Distro(nil), tt.cands...)
			for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
				rev[i], rev[j] = rev[j], rev[i]
			}
			if diff := cmp.Diff(got, Resolve(rev)); diff != "" {
				t.Errorf("Resolve depends on input order:\n%s", diff)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	paths := make([]string, 0, len(kinds))
	for p := range kinds {
		paths = append(paths, p)
	}
	f.Add(uint8(0), []byte("ID=alpine\nVERSION_ID=3.16.9\n"))
	f.Add(uint8(1), []byte("AlmaLinux release 9.0 Beta (Emerald Puma)\n"))
	f.Add(uint8(2), []byte("SUSE Linux Enterprise Server 12 (x86_64)\nVERSION = 12\nPATCHLEVEL = 3\n"))
	f.Add(uint8(3), []byte("trixie/sid"))
	f.Add(uint8(4), []byte("ID='a\\\"b' # c\nVERSION_ID=\"1.2\"\n"))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		// Map iteration order is random, so pick by sorted index.
		sorted := append([]string(nil), paths...)
		for i := range sorted {
			for j := i + 1; j < len(sorted); j++ {
				if sorted[j] < sorted[i] {
					sorted[i], sorted[j] = sorted[j], sorted[i]
				}
			}
		}
		path := sorted[int(which)%len(sorted)]
		d, err := Parse(path, data)
		if err != nil {
			if !errors.Is(err, extract.ErrNotApplicable) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Parse(%q) error %v: want ErrNotApplicable naming the path", path, err)
			}
			return
		}
		if d.ID == "" || d.Source != path {
			t.Fatalf("Parse(%q) = %+v: empty ID or wrong Source", path, d)
		}
		// Resolve of a single candidate is the candidate itself.
		if diff := cmp.Diff(d, Resolve([]inventory.Distro{*d}), cmp.Transformer("nilEmpty", func(s []string) []string {
			if len(s) == 0 {
				return nil
			}
			return s
		})); diff != "" {
			t.Fatalf("Resolve([d]) != d:\n%s", diff)
		}
		_ = distro.AdvisoryEcosystem(d)
	})
}
