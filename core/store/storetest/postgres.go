// Package storetest gives tests real databases: a fresh migrated SQLite
// file, and a throwaway PostgreSQL server started from the machine's own
// binaries (initdb and pg_ctl) on a free loopback port.
//
// When no PostgreSQL binaries are found, PostgreSQL tests are skipped —
// unless RAPPORT_REQUIRE_POSTGRES=1, which CI sets, turns that into a
// failure.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver
)

// Postgres is a running throwaway PostgreSQL server.
type Postgres struct {
	// URL reaches the server's "postgres" database as superuser.
	URL    string
	dir    string
	bin    string
	runAs  string
	port   int
	opts   string
	stopMu sync.Mutex
	stoped bool
}

// ErrNoPostgres is returned when no PostgreSQL server binaries are found.
var ErrNoPostgres = errors.New("no PostgreSQL server binaries found (install the postgresql package)")

// FindBinDir returns the directory holding initdb, pg_ctl and postgres:
// $RAPPORT_PG_BINDIR, else the newest /usr/lib/postgresql/*/bin, else the
// directory of initdb on $PATH.
func FindBinDir() (string, error) {
	has := func(dir string) bool {
		for _, b := range []string{"initdb", "pg_ctl", "postgres"} {
			if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
				return false
			}
		}
		return true
	}
	if d := os.Getenv("RAPPORT_PG_BINDIR"); d != "" {
		if has(d) {
			return d, nil
		}
		return "", fmt.Errorf("RAPPORT_PG_BINDIR=%s lacks initdb, pg_ctl or postgres", d)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if has(d) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && has(filepath.Dir(real)) {
			return filepath.Dir(real), nil
		}
		if has(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	return "", ErrNoPostgres
}

func pgVersion(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// StartPostgres initialises a cluster in a temporary directory and starts
// it on a free loopback port. As root, the server runs as the "postgres"
// user (initdb refuses root). Stop it with Stop.
func StartPostgres(ctx context.Context) (*Postgres, error) {
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "rapport-pg-")
	if err != nil {
		return nil, err
	}
	p := &Postgres{dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root needs a 'postgres' user to run the server: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		p.runAs = "postgres"
	}
	data := filepath.Join(dir, "data")
	if out, err := p.run(ctx, "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		p.cleanup()
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	for attempt := 0; attempt < 5; attempt++ {
		p.port, err = freePort()
		if err != nil {
			p.cleanup()
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", p.port, dir)
		var out []byte
		out, err = p.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
		if err == nil {
			p.opts = opts
			break
		}
		logText, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		err = fmt.Errorf("pg_ctl start: %w\n%s\n%s", err, out, logText)
	}
	if err != nil {
		p.cleanup()
		return nil, err
	}
	p.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	return p, nil
}

func (p *Postgres) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, name)
	var cmd *exec.Cmd
	if p.runAs != "" {
		cmd = exec.CommandContext(ctx, "runuser", append([]string{"-u", p.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.CommandContext(ctx, path, args...)
	}
	cmd.Dir = p.dir
	return cmd.CombinedOutput()
}

// CreateDatabase creates a new empty database and returns its URL.
func (p *Postgres) CreateDatabase(ctx context.Context) (string, error) {
	db, err := sql.Open("pgx", p.URL)
	if err != nil {
		return "", err
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	return strings.Replace(p.URL, "/postgres?", "/"+name+"?", 1), nil
}

// Crash stops the server at once, as a crash would (pg_ctl -m immediate:
// open sessions are cut, and the next start recovers from the WAL).
func (p *Postgres) Crash(ctx context.Context) error {
	if out, err := p.run(ctx, "pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
	}
	return nil
}

// Start starts the server again after Crash, on the same port and data.
func (p *Postgres) Start(ctx context.Context) error {
	data := filepath.Join(p.dir, "data")
	if out, err := p.run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(p.dir, "server.log"), "-o", p.opts, "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %w\n%s", err, out)
	}
	return nil
}

// Stop stops the server and removes its files.
func (p *Postgres) Stop() {
	p.stopMu.Lock()
	defer p.stopMu.Unlock()
	if p.stoped {
		return
	}
	p.stoped = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, _ = p.run(ctx, "pg_ctl", "-D", filepath.Join(p.dir, "data"), "-m", "immediate", "-w", "stop")
	p.cleanup()
}

func (p *Postgres) cleanup() { os.RemoveAll(p.dir) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
