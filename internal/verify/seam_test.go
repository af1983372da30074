package verify_test

import (
	"github.com/drydock-scan/drydock/internal/verify"
	"github.com/drydock-scan/drydock/internal/verify/notation"
)

// The Notation verifier plugs into the verify stage through
// verify.SignatureVerifier (verify does not import it).
var _ verify.SignatureVerifier = (*notation.Verifier)(nil)
