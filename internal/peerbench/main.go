// Command peerbench measures Rapport's GraphQL throughput beside a peer,
// PostGraphile 4, on one PostgreSQL holding the demo workspace:
//
//	go run ./internal/peerbench
//
// It starts a throwaway PostgreSQL server from the machine's binaries (as
// the tests do, see core/store/storetest), migrates it and seeds the demo
// workspace (core/demo, what rapport serve --demo seeds), then runs two
// servers over that database:
//
//   - Rapport: the real rapport binary (built from this checkout, or the
//     one -rapport names), serve with workers off, queried with a viewer
//     API token of the demo workspace, so authentication and tenancy
//     filtering run as in production;
//   - PostGraphile 4, installed with npm into a cache folder (package.json
//     beside this file pins it), connected as a PostgreSQL role that only
//     sees the demo workspace's live rows: row-level security policies on
//     organizations, contacts, deals and stages compare workspace_id with
//     a setting the role carries (ALTER ROLE … SET), and leave
//     soft-deleted rows out, as Rapport's data layer does.
//
// It checks that both answer each query with the same records (the same
// IDs in the same order), then drives three queries — a page of 50 deals
// with contact, organization and stage; one organization with its contacts
// and deals; a flat page of 100 contacts — at each concurrency, alternating
// which server runs first, and prints requests/s, p50 and p99 latency and
// CPU per request of the server process and of the PostgreSQL cluster
// (from /proc), and Rapport's ratio to the peer.
package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/demo"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// query is one measured GraphQL query, as each server spells it.
type query struct {
	name     string
	rapport  string
	peer     string
	wantIDs  int  // at least this many IDs in the answer
	unsorted bool // compare the IDs as sets (the order is not asked for)
}

var queries = []query{
	{
		name: "deals50",
		rapport: `{ deals(first: 50, orderBy: [{field: NAME}]) { edges { node { id name amount status
			contact { id firstName lastName } organization { id name } stage { id name } } } } }`,
		peer: `{ allDeals(first: 50, orderBy: [NAME_ASC, ID_ASC]) { nodes { id name amount status
			contactByContactId { id firstName lastName } organizationByOrganizationId { id name } stageByStageId { id name } } } }`,
		wantIDs: 50,
	},
	{
		name: "org",
		rapport: `query($id: ID!) { node(id: $id) { ... on Organization { id name domain
			contacts(first: 100) { edges { node { id firstName lastName email } } }
			deals(first: 100) { edges { node { id name amount status } } } } } }`,
		peer: `query($id: String!) { organizationById(id: $id) { id name domain
			contactsByOrganizationId(first: 100, orderBy: ID_ASC) { nodes { id firstName lastName email } }
			dealsByOrganizationId(first: 100, orderBy: ID_ASC) { nodes { id name amount status } } } }`,
		wantIDs:  3,
		unsorted: true,
	},
	{
		name: "contacts100",
		rapport: `{ contacts(first: 100, orderBy: [{field: LAST_NAME}, {field: FIRST_NAME}]) { edges { node {
			id firstName lastName email phone title } } } }`,
		peer: `{ allContacts(first: 100, orderBy: [LAST_NAME_ASC, FIRST_NAME_ASC, ID_ASC]) { nodes {
			id firstName lastName email phone title } } }`,
		wantIDs: 100,
	},
}

func main() {
	var (
		rapportBin  = flag.String("rapport", "", "rapport binary to serve with (default: build ./cmd/rapport of this checkout)")
		duration    = flag.Duration("duration", 4*time.Second, "measured time of each run")
		warmup      = flag.Duration("warmup", time.Second, "unmeasured time before each run")
		rounds      = flag.Int("rounds", 2, "runs of each query, server and concurrency (alternating the servers' order)")
		concurrency = flag.String("concurrency", "8,32", "comma-separated client concurrencies")
		only        = flag.String("queries", "", "comma-separated query names to run (default all: deals50,org,contacts100)")
		cache       = flag.String("cache", "", "folder PostGraphile is installed in (default: the user cache folder's rapport-peerbench)")
		serveArgs   = flag.String("serve-args", "", "extra arguments for rapport serve, space-separated")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var concs []int
	for _, s := range strings.Split(*concurrency, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			fatal(fmt.Errorf("bad -concurrency %q", *concurrency))
		}
		concs = append(concs, n)
	}
	qs := queries
	if *only != "" {
		qs = nil
		for _, q := range queries {
			if strings.Contains(","+*only+",", ","+q.name+",") {
				qs = append(qs, q)
			}
		}
	}
	b := &bench{duration: *duration, warmup: *warmup, rounds: *rounds, concs: concs, queries: qs}
	err := b.run(ctx, *rapportBin, *cache, strings.Fields(*serveArgs))
	b.cleanup()
	if err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "peerbench:", err)
	os.Exit(1)
}

type bench struct {
	duration, warmup time.Duration
	rounds           int
	concs            []int
	queries          []query

	tmp      string
	pg       *storetest.Postgres
	children []*exec.Cmd
}

func (b *bench) cleanup() {
	for _, c := range b.children {
		if c.Process != nil {
			_ = c.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = c.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				_ = c.Process.Kill()
			}
		}
	}
	if b.pg != nil {
		b.pg.Stop()
	}
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

func (b *bench) run(ctx context.Context, rapportBin, cache string, serveArgs []string) error {
	var err error
	if b.tmp, err = os.MkdirTemp("", "rapport-peerbench-"); err != nil {
		return err
	}
	// The peer installs while the database starts and the binary builds.
	peerDir := make(chan error, 1)
	if cache == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		cache = filepath.Join(dir, "rapport-peerbench")
	}
	go func() { peerDir <- installPeer(ctx, cache) }()
	if rapportBin == "" {
		rapportBin = filepath.Join(b.tmp, "rapport")
		logf("building ./cmd/rapport")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", rapportBin, "./cmd/rapport")
		cmd.Dir = moduleRoot()
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build rapport: %w", err)
		}
	}
	logf("starting PostgreSQL")
	if b.pg, err = storetest.StartPostgres(ctx); err != nil {
		return err
	}
	dbURL, err := b.pg.CreateDatabase(ctx)
	if err != nil {
		return err
	}
	u, _ := url.Parse(dbURL)
	pgPort, _ := strconv.Atoi(u.Port())
	postmaster, err := findPostmaster(pgPort)
	if err != nil {
		return err
	}
	logf("seeding the demo workspace")
	fx, err := seed(ctx, dbURL)
	if err != nil {
		return err
	}
	if err := <-peerDir; err != nil {
		return fmt.Errorf("install PostGraphile: %w", err)
	}
	peerURL := *u
	peerURL.User = url.User("peer_demo")

	rp, err := freePort()
	if err != nil {
		return err
	}
	// The per-tenant request and cost budgets are off: the benchmark is
	// one tenant measuring throughput, which the budgets would cap by
	// design (authentication and tenancy filtering stay on).
	rcmd := exec.CommandContext(ctx, rapportBin, append([]string{"serve", "--db", dbURL, "--addr", "127.0.0.1:" + strconv.Itoa(rp), "--workers=false",
		"--rate-token", "0", "--rate-workspace", "0", "--cost-rate", "0"}, serveArgs...)...)
	rcmd.Dir = b.tmp // no ./plugins.d
	rcmd.Stdout, rcmd.Stderr = io.Discard, logFile(b.tmp, "rapport.log")
	if err := b.start(rcmd); err != nil {
		return err
	}
	pp, err := freePort()
	if err != nil {
		return err
	}
	pcmd := exec.CommandContext(ctx, "node", filepath.Join(cache, "node_modules", "postgraphile", "cli.js"),
		"--connection", peerURL.String(), "--schema", "public", "--host", "127.0.0.1", "--port", strconv.Itoa(pp),
		"--disable-query-log", "--no-ignore-rbac", "--disable-default-mutations", "--max-pool-size", "20")
	pcmd.Dir = b.tmp
	pcmd.Env = append(os.Environ(), "NODE_ENV=production")
	pcmd.Stdout, pcmd.Stderr = io.Discard, logFile(b.tmp, "postgraphile.log")
	if err := b.start(pcmd); err != nil {
		return err
	}
	servers := []*server{
		{name: "rapport", url: fmt.Sprintf("http://127.0.0.1:%d/graphql", rp), token: fx.token, pid: rcmd.Process.Pid, bodies: map[string][]byte{}},
		{name: "postgraphile", url: fmt.Sprintf("http://127.0.0.1:%d/graphql", pp), pid: pcmd.Process.Pid, bodies: map[string][]byte{}},
	}
	vars := map[string]any{"id": fx.orgID}
	for _, q := range b.queries {
		for i, s := range servers {
			text := q.rapport
			if i == 1 {
				text = q.peer
			}
			body := map[string]any{"query": text}
			if strings.Contains(text, "$id") {
				body["variables"] = vars
			}
			s.bodies[q.name], _ = json.Marshal(body)
		}
	}
	for _, s := range servers {
		if err := waitReady(ctx, s, b.tmp); err != nil {
			return err
		}
	}
	if err := verify(ctx, servers, b.queries); err != nil {
		return err
	}
	logf("measuring: %d queries × %v concurrency × %d rounds × 2 servers, %v each (+%v warm-up)",
		len(b.queries), b.concs, b.rounds, b.duration, b.warmup)
	results := map[string]*sample{}
	key := func(s, q string, c int) string { return fmt.Sprintf("%s/%s/%d", s, q, c) }
	for r := range b.rounds {
		for qi, q := range b.queries {
			for ci, c := range b.concs {
				order := []*server{servers[0], servers[1]}
				if (r+qi+ci)%2 == 1 {
					order[0], order[1] = order[1], order[0]
				}
				for _, s := range order {
					got := load(ctx, s, s.bodies[q.name], c, b.warmup, b.duration, postmaster)
					if ctx.Err() != nil {
						return ctx.Err()
					}
					if got.errors > 0 {
						return fmt.Errorf("%s %s at %d: %d failed requests (see %s)", s.name, q.name, c, got.errors, b.tmp)
					}
					k := key(s.name, q.name, c)
					if results[k] == nil {
						results[k] = &sample{}
					}
					results[k].add(got)
					logf("round %d %-12s %-11s c=%-3d %8.0f req/s", r+1, s.name, q.name, c, got.rps())
				}
			}
		}
	}
	fmt.Printf("\nRapport (%s) beside PostGraphile 4 on one PostgreSQL, demo workspace; %d × %v per cell\n\n",
		filepath.Base(rapportBin), b.rounds, b.duration)
	fmt.Println("| query | conc | server | req/s | p50 ms | p99 ms | CPU/req server ms | CPU/req PostgreSQL ms |")
	fmt.Println("|---|---:|---|---:|---:|---:|---:|---:|")
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	for _, q := range b.queries {
		for _, c := range b.concs {
			for _, s := range servers {
				x := results[key(s.name, q.name, c)]
				fmt.Printf("| %s | %d | %s | %.0f | %s | %s | %s | %s |\n", q.name, c, s.name, x.rps(),
					ms(x.quantile(0.5)), ms(x.quantile(0.99)), ms(x.perRequest(x.serverCPU)), ms(x.perRequest(x.dbCPU)))
			}
		}
	}
	fmt.Println("\n| query | conc | req/s Rapport÷peer | p99 Rapport÷peer | CPU/req (server+PostgreSQL) Rapport÷peer |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, q := range b.queries {
		for _, c := range b.concs {
			r, p := results[key("rapport", q.name, c)], results[key("postgraphile", q.name, c)]
			fmt.Printf("| %s | %d | %.2f | %.2f | %.2f |\n", q.name, c, r.rps()/p.rps(),
				float64(r.quantile(0.99))/float64(p.quantile(0.99)),
				float64(r.perRequest(r.serverCPU+r.dbCPU))/float64(p.perRequest(p.serverCPU+p.dbCPU)))
		}
	}
	return nil
}

func (b *bench) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	b.children = append(b.children, cmd)
	return nil
}

func logFile(dir, name string) io.Writer {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return io.Discard
	}
	return f
}

// fixture is what seeding made.
type fixture struct {
	token string // a viewer token of the demo workspace
	orgID string // the organization with the most deals
}

// seed migrates the database, seeds the demo workspace, refreshes the
// planner's statistics, and gives PostGraphile its tenancy-filtered role.
func seed(ctx context.Context, dbURL string) (fixture, error) {
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		return fixture{}, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return fixture{}, err
	}
	res, err := demo.Seed(ctx, st.Client, demo.Options{})
	if err != nil {
		return fixture{}, err
	}
	token, _, err := access.CreateToken(ctx, st.Client, res.Workspace, access.TokenOptions{Role: tenancy.RoleViewer, Name: "peerbench"})
	if err != nil {
		return fixture{}, err
	}
	if err := st.Optimize(ctx); err != nil {
		return fixture{}, err
	}
	var org string
	if err := st.DB.QueryRowContext(ctx, `SELECT organization_id FROM deals
		WHERE workspace_id = $1 AND organization_id IS NOT NULL AND deleted_at IS NULL
		GROUP BY organization_id ORDER BY count(*) DESC, organization_id LIMIT 1`, string(res.Workspace.ID)).Scan(&org); err != nil {
		return fixture{}, fmt.Errorf("pick an organization: %w", err)
	}
	if err := peerRole(ctx, st.DB, string(res.Workspace.ID)); err != nil {
		return fixture{}, fmt.Errorf("PostGraphile's role: %w", err)
	}
	return fixture{token: token, orgID: org}, nil
}

// peerRole creates the role PostGraphile connects as: it may read the four
// tables the queries touch, and row-level security shows it only the live
// rows of workspace ws, named by the role's own rapport.workspace_id
// setting. Rapport connects as the tables' owner, which RLS does not bind.
func peerRole(ctx context.Context, db *sql.DB, ws string) error {
	stmts := []string{
		`CREATE ROLE peer_demo LOGIN`,
		`GRANT USAGE ON SCHEMA public TO peer_demo`,
		`GRANT SELECT ON organizations, contacts, deals, stages TO peer_demo`,
		`ALTER ROLE peer_demo SET rapport.workspace_id = '` + strings.ReplaceAll(ws, "'", "''") + `'`,
	}
	for _, t := range []string{"organizations", "contacts", "deals", "stages"} {
		live := ""
		if t != "stages" {
			live = " AND deleted_at IS NULL"
		}
		stmts = append(stmts,
			`ALTER TABLE `+t+` ENABLE ROW LEVEL SECURITY`,
			`CREATE POLICY peer_tenant ON `+t+` FOR SELECT TO peer_demo USING (workspace_id = current_setting('rapport.workspace_id')`+live+`)`)
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// installPeer installs PostGraphile into dir (once: a later run finds it).
func installPeer(ctx context.Context, dir string) error {
	want, err := os.ReadFile(filepath.Join(moduleRoot(), "internal", "peerbench", "peer", "package.json"))
	if err != nil {
		return err
	}
	if have, err := os.ReadFile(filepath.Join(dir, "package.json")); err == nil && string(have) == string(want) {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "postgraphile", "cli.js")); err == nil {
			return nil
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), want, 0o644); err != nil {
		return err
	}
	logf("installing PostGraphile into %s", dir)
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm install: %w\n%s", err, out)
	}
	return nil
}

// moduleRoot is the folder of the go.mod this runs in.
func moduleRoot() string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err == nil {
		if p := strings.TrimSpace(string(out)); p != "" && p != os.DevNull {
			return filepath.Dir(p)
		}
	}
	wd, _ := os.Getwd()
	return wd
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitReady waits until s answers a trivial query.
func waitReady(ctx context.Context, s *server, logs string) error {
	c := newClient(1)
	deadline := time.Now().Add(90 * time.Second)
	for {
		_, err := post(ctx, c, s, []byte(`{"query":"{ __typename }"}`))
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s did not start (logs in %s): %w", s.name, logs, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// verify checks that both servers answer each query with the same records.
func verify(ctx context.Context, servers []*server, qs []query) error {
	c := newClient(1)
	for _, q := range qs {
		var first []string
		for i, s := range servers {
			body, err := post(ctx, c, s, s.bodies[q.name])
			if err != nil {
				return err
			}
			ids, err := idsOf(body)
			if err != nil {
				return fmt.Errorf("%s %s: %w", s.name, q.name, err)
			}
			if len(ids) < q.wantIDs {
				return fmt.Errorf("%s %s: %d IDs, want at least %d: %.300s", s.name, q.name, len(ids), q.wantIDs, body)
			}
			if q.unsorted {
				slices.Sort(ids)
			}
			if i == 0 {
				first = ids
				continue
			}
			if strings.Join(ids, ",") != strings.Join(first, ",") {
				return fmt.Errorf("%s: %s and %s answer different records:\n%v\n%v", q.name, servers[0].name, s.name, first, ids)
			}
			logf("verified %-11s: both answer the same %d records", q.name, len(ids))
		}
	}
	return nil
}
