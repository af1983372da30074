package admission

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/drydock-scan/drydock/internal/queue"
)

// ScanPriority is the River priority of the scans the gate queues: 1, the
// highest (a deploy waits on them). River's default is 1 too, so other
// sources of scans (the registry watch, periodic re-scans) should queue at
// 2–4 for the gate's to go first.
const ScanPriority = 1

// EnqueueWith returns an Options.Enqueue that inserts the scan with client at
// ScanPriority; ScanArgs' own options keep a scan of the same image that is
// already waiting or running from being queued twice.
func EnqueueWith(client *river.Client[pgx.Tx]) func(context.Context, queue.ScanArgs) error {
	return func(ctx context.Context, args queue.ScanArgs) error {
		if _, err := client.Insert(ctx, args, &river.InsertOpts{Priority: ScanPriority}); err != nil {
			return fmt.Errorf("inserting the scan job: %w", err)
		}
		return nil
	}
}
