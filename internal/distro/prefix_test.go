package distro

import (
	"testing"

	"github.com/drydock-scan/drydock/internal/inventory"
)

func TestAdvisoryEcosystemIsPrefix(t *testing.T) {
	for id, want := range map[string]bool{"rhel": true, "sles": true, "sled": true, "almalinux": false, "alpine": false} {
		if got := AdvisoryEcosystemIsPrefix(&inventory.Distro{ID: id}); got != want {
			t.Errorf("AdvisoryEcosystemIsPrefix(%s) = %v, want %v", id, got, want)
		}
	}
	if AdvisoryEcosystemIsPrefix(nil) {
		t.Error("nil distro is a prefix")
	}
}
