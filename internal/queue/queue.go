// Package queue holds the arguments of the jobs drydock's workers run, so
// that the packages which queue them (the API, the registry watch, the Harbor
// adapter, the monitor) need not import the server that runs them.
package queue

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// ScanArgs is the job that scans one image and stores the result.
type ScanArgs struct {
	// Reference is what scan.Run opens: a registry reference, or (only when
	// the server allows local sources) a path.
	Reference string `json:"reference"`
	// Repository and Tags name the image in the store; empty Repository is
	// derived from the reference.
	Repository string   `json:"repository,omitempty"`
	Tags       []string `json:"tags,omitempty"`
	Platform   string   `json:"platform,omitempty"`
	// Credentials, if set, are the registry credentials for this pull,
	// sealed with the server's key (package secretbox): job arguments are
	// stored in PostgreSQL and must not hold them in clear.
	Credentials string `json:"credentials,omitempty"`
	// Insecure pulls over plain HTTP (or TLS unverified): set only for
	// a registry registered as insecure with the registry watch, or named
	// by an http:// URL in a Harbor scan request.
	Insecure bool `json:"insecure,omitempty"`
}

// Kind implements river.JobArgs.
func (ScanArgs) Kind() string { return "drydock.scan" }

// InsertOpts implements river.JobArgsWithInsertOpts: a scan of the same
// reference that is already waiting or running is not queued twice, and
// scans are queued at ScanPriority unless the inserter says otherwise (the
// admission gate's, at 1, go first: a deploy waits on them).
func (ScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{
		Priority:    ScanPriority,
		MaxAttempts: MaxScanAttempts,
		UniqueOpts:  river.UniqueOpts{ByArgs: true, ByState: Pending()},
	}
}

// Pending lists the states of a job that has not finished: a unique job in
// one of them is not queued again.
func Pending() []rivertype.JobState {
	return []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning,
		rivertype.JobStateRetryable, rivertype.JobStateScheduled}
}

// ScanPriority is the River priority of the scans the API, the registry
// watch and the Harbor adapter queue: 2, below River's highest (1), which
// the admission gate's scans take.
const ScanPriority = 2

// MaxScanAttempts bounds the retries of a scan: an image that fails this
// often (a hostile layer, a registry that refuses it) is parked ("discarded"
// in River's words) with its errors recorded, and every other job goes on.
const MaxScanAttempts = 3
