package notation

import (
	"context"
	"fmt"
	"net/http"

	"github.com/notaryproject/notation-core-go/revocation"
	"github.com/notaryproject/notation-core-go/revocation/crl"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	revocationresult "github.com/notaryproject/notation-core-go/revocation/result"
)

// errOffline is what every OCSP request and CRL download gets: drydock
// verifies Notation signatures without the network.
const errOffline = "drydock verifies Notation signatures offline: no revocation request is made"

// offlineTransport refuses every HTTP request (OCSP): nothing leaves the
// machine.
type offlineTransport struct{}

func (offlineTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("%s (OCSP %s)", errOffline, req.URL.Redacted())
}

// offlineFetcher refuses every CRL download.
type offlineFetcher struct{}

func (offlineFetcher) Fetch(_ context.Context, url string) (*crl.Bundle, error) {
	return nil, fmt.Errorf("%s (CRL %s)", errOffline, url)
}

// offlineValidator is notation-core-go's revocation validator with every
// network path refused. A certificate that names no OCSP server and no CRL
// is "non-revokable" and passes; one that names either gets "unknown", which
// fails a trust policy that enforces (or logs) the revocation check.
func offlineValidator(p purpose.Purpose) (revocation.Validator, error) {
	v, err := revocation.NewWithOptions(revocation.Options{
		OCSPHTTPClient:   &http.Client{Transport: offlineTransport{}},
		CRLFetcher:       offlineFetcher{},
		CertChainPurpose: p,
	})
	if err != nil {
		return nil, fmt.Errorf("creating the offline revocation validator: %w", err)
	}
	return v, nil
}

// skippedValidator is used for the timestamping certificate chain when the
// applicable trust policy statement sets the revocation check to "skip":
// notation-go skips the signing chain's revocation check itself then, but
// always checks the timestamping chain, which offline could only end in
// "unknown". It checks nothing and returns no result, which notation-go
// counts as "no certificate is revoked" — exactly the statement's "skip".
type skippedValidator struct{}

func (skippedValidator) ValidateContext(context.Context, revocation.ValidateContextOptions) ([]*revocationresult.CertRevocationResult, error) {
	return nil, nil
}
