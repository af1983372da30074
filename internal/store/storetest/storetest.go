// Package storetest gives tests a PostgreSQL database of their own.
//
// The server's tests run against a real PostgreSQL (15 on the project's
// machines and in CI, at 127.0.0.1:5432 with trust auth; override with
// DRYDOCK_TEST_POSTGRES). Each test gets a new database, dropped when it
// ends. Without a server the tests skip — except under CI=true, where they
// fail: CI must never pass by not testing.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultAdminDSN is the database the tests connect to in order to create
// their own.
const DefaultAdminDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// AdminDSN returns DRYDOCK_TEST_POSTGRES or DefaultAdminDSN.
func AdminDSN() string {
	if d := os.Getenv("DRYDOCK_TEST_POSTGRES"); d != "" {
		return d
	}
	return DefaultAdminDSN
}

// NewDatabase creates an empty database for t and returns its DSN. It is
// dropped (connections terminated) when t ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := AdminDSN()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL at %s: %v (CI must start it: see .ci/run)", admin, err)
		}
		t.Skipf("no PostgreSQL at %s: %v", admin, err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "drydock_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("dropping database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parsing %s: %v", admin, err)
	}
	u.Path = "/" + name
	return fmt.Sprint(u)
}
