package queue

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// Migrate returns the migration of the job queue's tables (River's) on pool,
// for store.Migrate to run under the store's migration lock, so processes
// starting together migrate once.
func Migrate(pool *pgxpool.Pool) func(context.Context) error {
	return func(ctx context.Context) error {
		m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
		if err != nil {
			return fmt.Errorf("migrating the job queue: %w", err)
		}
		if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			return fmt.Errorf("migrating the job queue: %w", err)
		}
		return nil
	}
}
