package distro

import (
	"testing"

	"github.com/drydock-scan/drydock/internal/inventory"
)

func TestAdvisoryEcosystem(t *testing.T) {
	tests := []struct {
		d    *inventory.Distro
		want string
	}{
		{nil, ""},
		{&inventory.Distro{ID: "alpine", VersionID: "3.16.9", Release: "v3.16"}, "Alpine:v3.16"},
		{&inventory.Distro{ID: "alpine", VersionID: "3.20.3"}, "Alpine:v3.20"}, // Release derived when empty
		{&inventory.Distro{ID: "alpine", Release: "edge"}, "Alpine:edge"},
		{&inventory.Distro{ID: "debian", Release: "12"}, "Debian:12"},
		{&inventory.Distro{ID: "debian", Release: "trixie"}, "Debian:13"},
		{&inventory.Distro{ID: "debian", Release: "sid"}, ""},
		{&inventory.Distro{ID: "ubuntu", Release: "22.04"}, "Ubuntu:22.04:LTS"},
		{&inventory.Distro{ID: "ubuntu", Release: "24.04"}, "Ubuntu:24.04:LTS"},
		{&inventory.Distro{ID: "ubuntu", Release: "23.04"}, "Ubuntu:23.04"},
		{&inventory.Distro{ID: "ubuntu", Release: "23.10"}, "Ubuntu:23.10"},
		{&inventory.Distro{ID: "ubuntu", Release: "22.10"}, "Ubuntu:22.10"},
		{&inventory.Distro{ID: "ubuntu", Release: "jammy"}, ""},
		{&inventory.Distro{ID: "almalinux", Release: "9"}, "AlmaLinux:9"},
		{&inventory.Distro{ID: "rocky", Release: "8"}, "Rocky Linux:8"},
		{&inventory.Distro{ID: "rhel", Release: "9"}, "Red Hat:enterprise_linux:9"},
		{&inventory.Distro{ID: "sles", Release: "15.5"}, "SUSE:Linux Enterprise Server 15 SP5"},
		{&inventory.Distro{ID: "sles", Release: "15"}, "SUSE:Linux Enterprise Server 15"},
		{&inventory.Distro{ID: "sled", Release: "12.3"}, "SUSE:Linux Enterprise Desktop 12 SP3"},
		{&inventory.Distro{ID: "opensuse-leap", Release: "15.5"}, "openSUSE:Leap 15.5"},
		{&inventory.Distro{ID: "opensuse-tumbleweed"}, "openSUSE:Tumbleweed"},
		{&inventory.Distro{ID: "mageia", Release: "9"}, "Mageia:9"},
		{&inventory.Distro{ID: "wolfi"}, "Wolfi"},
		{&inventory.Distro{ID: "chainguard"}, "Chainguard"},
		{&inventory.Distro{ID: "centos", Release: "7"}, ""},
		{&inventory.Distro{ID: "ol", Release: "8"}, ""},
		{&inventory.Distro{ID: "amzn", Release: "2"}, ""},
		{&inventory.Distro{ID: "fedora", Release: "39"}, ""},
		{&inventory.Distro{ID: "almalinux"}, ""},
	}
	for _, tt := range tests {
		name := "nil"
		if tt.d != nil {
			name = tt.d.ID + "/" + tt.d.Release
		}
		t.Run(name, func(t *testing.T) {
			if got := AdvisoryEcosystem(tt.d); got != tt.want {
				t.Errorf("AdvisoryEcosystem(%+v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}
