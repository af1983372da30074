package storetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/drydock-scan/drydock/internal/store/storetest"
)

// TestPrivateRestart: a private server answers, closes every connection on
// Restart, and answers again.
func TestPrivateRestart(t *testing.T) {
	p := storetest.StartPrivate(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var before, after int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&before); err != nil {
		t.Fatal(err)
	}
	p.Restart()
	if err := conn.Ping(ctx); err == nil {
		t.Error("a connection opened before the restart still answers")
	}
	conn2, err := pgx.Connect(ctx, p.DSN)
	if err != nil {
		t.Fatalf("after the restart: %v\n%s", err, p.Log())
	}
	defer conn2.Close(ctx)
	if err := conn2.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&after); err != nil {
		t.Fatal(err)
	}
	if before == 0 || after == 0 {
		t.Errorf("backend pids %d, %d", before, after)
	}
}
