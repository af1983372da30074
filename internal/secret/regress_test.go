package secret

import "testing"

// False positives found on the benchmark image (real Debian, npm and Java
// files), kept as regressions.
func TestBenchImageFalsePositives(t *testing.T) {
	if !isPlaceholder("true|false", true) {
		t.Error(`"true|false" (openjdk management.properties documentation) is taken for a password`)
	}
	if isPlaceholder("Zq7rT2|vLx9pWm4", true) {
		t.Error("a password containing | is taken for a choice list")
	}
	if !skipPath("/app/node_modules/aws-sdk/apis/sso-oidc-2019-06-10.examples.json") {
		t.Error("aws-sdk's published API examples (example JWTs) are scanned")
	}
	if skipPath("/app/config/examples.json") {
		t.Error("an application's own files named example are skipped")
	}
}
