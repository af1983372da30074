package storetest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresBin is where the Debian packages put PostgreSQL 15's programs.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// postgresBin is DRYDOCK_TEST_PGBIN if set, else PostgresBin if it holds
// initdb, else the newest /usr/lib/postgresql/*/bin that does (CI installs
// Debian's current PostgreSQL).
func postgresBin() string {
	if b := os.Getenv("DRYDOCK_TEST_PGBIN"); b != "" {
		return b
	}
	if _, err := os.Stat(filepath.Join(PostgresBin, "initdb")); err == nil {
		return PostgresBin
	}
	best, bestVersion := PostgresBin, -1
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	for _, d := range dirs {
		bin := filepath.Dir(d)
		if v, err := strconv.Atoi(filepath.Base(filepath.Dir(bin))); err == nil && v > bestVersion {
			best, bestVersion = bin, v
		}
	}
	return best
}

// Private is a PostgreSQL server of a test's own (StartPrivate), for tests
// that stop or restart the database: never the machine's shared one.
type Private struct {
	// DSN is the address of its database "drydock".
	DSN string

	t       testing.TB
	bin     string
	data    string
	logFile string
	port    int
	asUser  []string // "runuser -u postgres --" when running as root
}

// StartPrivate initialises and starts a PostgreSQL server on a free port
// of 127.0.0.1 with its data in a temporary directory, creates the database
// "drydock" and stops the server (and removes its files) when the test
// ends. PostgreSQL refuses to run as root: as root, it runs as the
// "postgres" user through runuser. The programs are PostgreSQL 15's, or the
// newest installed (see postgresBin). Without them (or that user) the test
// is skipped, except under CI=true, where it fails.
func StartPrivate(t testing.TB) *Private {
	t.Helper()
	missing := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("a private PostgreSQL is required in CI: "+format, args...)
		}
		t.Skipf("no private PostgreSQL: "+format, args...)
	}
	bin := postgresBin()
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		missing("%v (install postgresql or set DRYDOCK_TEST_PGBIN to its bin directory)", err)
	}
	// Not t.TempDir(): its parents are private to the test's user, and the
	// server may run as another one.
	dir, err := os.MkdirTemp("", "drydock-pg-")
	if err != nil {
		t.Fatal(err)
	}
	p := &Private{t: t, bin: bin, data: filepath.Join(dir, "data"), logFile: filepath.Join(dir, "postgres.log")}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing("running as root and %v", err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			missing("running as root and %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		p.asUser = []string{runuser, "-u", "postgres", "--"}
	}
	if out, err := p.run("initdb", "-D", p.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if out, err := p.ctl("start"); err != nil {
		t.Fatalf("starting PostgreSQL: %v\n%s\n%s", err, out, p.Log())
	}
	t.Cleanup(func() {
		if out, err := p.ctl("stop", "-m", "immediate"); err != nil {
			t.Errorf("stopping PostgreSQL: %v\n%s", err, out)
		}
	})
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connecting to the private PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE drydock"); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(admin)
	u.Path = "/drydock"
	p.DSN = u.String()
	return p
}

// Restart restarts the server (pg_ctl restart -m fast: every connection is
// closed) and returns once it accepts connections again.
func (p *Private) Restart() {
	p.t.Helper()
	if out, err := p.ctl("restart", "-m", "fast"); err != nil {
		p.t.Fatalf("restarting PostgreSQL: %v\n%s\n%s", err, out, p.Log())
	}
}

// Stop stops the server (pg_ctl stop -m fast); Start starts it again.
func (p *Private) Stop() {
	p.t.Helper()
	if out, err := p.ctl("stop", "-m", "fast"); err != nil {
		p.t.Fatalf("stopping PostgreSQL: %v\n%s\n%s", err, out, p.Log())
	}
}

// Start starts a server stopped by Stop and returns once it accepts
// connections. It may be called from another goroutine than the test's.
func (p *Private) Start() error {
	if out, err := p.ctl("start"); err != nil {
		return fmt.Errorf("starting PostgreSQL: %w\n%s\n%s", err, out, p.Log())
	}
	return nil
}

// Log returns the server's log.
func (p *Private) Log() string {
	b, _ := os.ReadFile(p.logFile)
	return string(b)
}

// ctl runs pg_ctl on the data directory, waiting for the action to finish.
func (p *Private) ctl(args ...string) ([]byte, error) {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s -c fsync=off -c max_connections=200",
		p.port, filepath.Dir(p.data))
	return p.run("pg_ctl", append([]string{"-D", p.data, "-l", p.logFile, "-o", opts, "-w", "-t", "60"}, args...)...)
}

// run runs one of PostgreSQL's programs (as postgres when we are root).
func (p *Private) run(prog string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, p.asUser...), filepath.Join(p.bin, prog)), args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A working directory the postgres user may enter (pg_ctl needs one).
	cmd.Dir = filepath.Dir(p.data)
	err := cmd.Run()
	return out.Bytes(), err
}
