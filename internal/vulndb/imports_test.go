package vulndb_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestReaderDoesNoNetworkIO keeps the reader network-free: every scan links
// this package (through internal/match), so it must not pull in an HTTP or
// TLS client. Fetching belongs to internal/vulndb/update alone.
func TestReaderDoesNoNetworkIO(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	const pkg = "github.com/drydock-scan/drydock/internal/vulndb"
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 || !strings.Contains(string(out), "go.etcd.io/bbolt") {
		t.Fatalf("go list returned only %d packages: the check would prove nothing", len(deps))
	}
	for _, d := range deps {
		if d == "net/http" || strings.HasPrefix(d, "net/http/") || d == "crypto/tls" {
			t.Errorf("%s depends on %s", pkg, d)
		}
	}
}
