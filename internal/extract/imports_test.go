package extract_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestExtractorsDoNoNetworkIO keeps the parsers pure: no extractor may link
// a network package, so a hostile image can never make a scan talk to the
// network through a parser.
func TestExtractorsDoNoNetworkIO(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}", "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 20 {
		t.Fatalf("go list returned only %d packages: the check would prove nothing", len(deps))
	}
	// Bare "net" comes in through net/textproto (header parsing) and
	// google/uuid (node IDs), which do no I/O here; clients that would are banned.
	banned := []string{"net/http", "net/rpc", "net/smtp", "crypto/tls", "github.com/google/go-containerregistry/pkg/v1/remote"}
	for _, d := range deps {
		for _, b := range banned {
			if d == b {
				t.Errorf("internal/extract/... depends on %s", d)
			}
		}
	}
}
