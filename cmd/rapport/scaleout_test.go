package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/ent/automationrun"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/deal"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/ent/event"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// The scale-out harness's sizes. RAPPORT_SCALEOUT_SECONDS sets how long
// the clients write (25 s by default), RAPPORT_SCALEOUT_CONTACTS how many
// contacts the background scoring run scores (100,000 by default).
const (
	scaleClients  = 4
	scaleReplicas = 3
	scaleWorkers  = 2
)

// TestScaleOut runs Rapport as a platform team does beyond one machine:
// three `rapport serve` replicas (API only) and two `rapport worker`
// processes on one PostgreSQL, each with a process plugin started at boot.
// Clients write and read at every replica — contacts, deals, moves that
// fire an automation with a webhook to a receiver that refuses every
// fourth delivery's first attempt — while one replica and one worker are
// killed with SIGKILL and started again, and then PostgreSQL itself
// crashes and comes back. It asserts that every write acknowledged to a
// client is in the database, that every stage change fired its automation
// exactly once and every webhook delivery reached the receiver and is
// recorded delivered once, that replicas said not ready while PostgreSQL
// was down and ready again after, and that no plugin process outlived
// its server.
func TestScaleOut(t *testing.T) {
	// Runs beside the package's other process-driving tests: they
	// mostly wait on the processes they start.
	t.Parallel()
	if testing.Short() {
		t.Skip("starts PostgreSQL and five Rapport processes")
	}
	seconds, scored := 25, 100_000
	if s := os.Getenv("RAPPORT_SCALEOUT_SECONDS"); s != "" {
		seconds, _ = strconv.Atoi(s)
	}
	if s := os.Getenv("RAPPORT_SCALEOUT_CONTACTS"); s != "" {
		scored, _ = strconv.Atoi(s)
	}
	ctx := context.Background()
	pg, err := storetest.StartPostgres(ctx)
	if err != nil {
		if !storetest.RequirePostgres() {
			t.Skipf("no PostgreSQL: %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(pg.Stop)
	// The test server commits without waiting for its WAL to be written
	// (synchronous_commit=off), which a crash may lose; a production
	// server waits, and so does this database (below).
	db, err := pg.CreateDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A per-database setting outranks the server's command line, where
	// the test server turns synchronous_commit off.
	name := db[strings.LastIndex(db, "/")+1 : strings.Index(db, "?")]
	if err := execSQL(ctx, pg.URL, "ALTER DATABASE "+name+" SET synchronous_commit = on"); err != nil {
		t.Fatal(err)
	}
	var syncCommit string
	if conn, err := sql.Open("pgx", db); err != nil {
		t.Fatal(err)
	} else {
		err = conn.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&syncCommit)
		conn.Close()
		if err != nil || syncCommit != "on" {
			t.Fatalf("synchronous_commit is %q (%v), want on", syncCommit, err)
		}
	}
	if _, err := run(t, "--db", db, "workspace", "create", "acme"); err != nil {
		t.Fatal(err)
	}
	tok, err := run(t, "--db", db, "token", "create", "--workspace", "acme", "--role", "admin")
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(tok)
	plugins, pluginProgram := processPluginDir(t)

	hooks := newFlakyReceiver(t)

	// The fleet. Workers pick up a job whose worker died after 40 s.
	fleet := &fleet{t: t, db: db, plugins: plugins}
	for range scaleWorkers {
		fleet.startWorker()
	}
	for range scaleReplicas {
		fleet.startReplica()
	}

	// A pipeline, and an automation on every stage change posting to the
	// receiver.
	api := fleet.replica(0)
	pipe := api.must(t, token, `mutation { createPipeline(input: {name: "Scale"}) { id } }`, "createPipeline", "id")
	stages := map[string]string{}
	for i, name := range []string{"New", "Next"} {
		stages[name] = api.must(t, token, fmt.Sprintf(`mutation { createStage(input: {name: %q, position: %d, pipelineID: %q}) { id } }`, name, i, pipe), "createStage", "id")
	}
	auto := api.must(t, token, fmt.Sprintf(`mutation { createAutomation(input: {name: "Tell the receiver", event: "deal.stage_changed",
		actions: [{type: "webhook", url: %q, secret: "scale-out-secret-0123456789"}]}) { id } }`, hooks.URL), "createAutomation", "id")

	// Contacts for a background scoring run by the bundled IDIC model,
	// which starts with the clients and goes on through the faults.
	seedStart := time.Now()
	var csv strings.Builder
	csv.WriteString("First Name,Last Name,Email\n")
	for i := range scored {
		fmt.Fprintf(&csv, "S%d,Scored,s%d@scored.example\n", i, i)
	}
	csvPath := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "--db", db, "import", "contacts", csvPath, "--workspace", "acme", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	api.must(t, token, `mutation { bindExtension(input: {point: score, subjectType: contact, plugin: "idic", version: "1.1.0"}) { id } }`, "bindExtension", "id")
	t.Logf("%d contacts to score made in %v", scored, time.Since(seedStart).Round(time.Millisecond))
	scoring := api.must(t, token, `mutation { startScoring(subjectType: contact, contactWhere: {lastName: "Scored"}) { id } }`, "startScoring", "id")

	// Clients: each writes a contact, a deal for it and a move of the deal,
	// and reads a page, at the replicas in turn. What a replica answered
	// without error is acknowledged.
	var (
		mu                        sync.Mutex
		ackContacts, ackDeals     []string
		ackMoves                  []string
		attempts, failed, reads   atomic.Int64
		stop                      = make(chan struct{})
		clients                   sync.WaitGroup
		notReadySeen, readyAgain  atomic.Bool
		faultsDone                = make(chan struct{})
		faultErr                  error
		crashAt, backAt, readyAll time.Duration
		errSamples                = map[string]int{}
	)
	sample := func(what string, err error) {
		msg := err.Error()
		if len(msg) > 160 {
			msg = msg[:160]
		}
		mu.Lock()
		errSamples[what+": "+msg]++
		mu.Unlock()
	}
	for c := range scaleClients {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				r := fleet.replica(c + i)
				attempts.Add(1)
				cid, err := r.try(token, fmt.Sprintf(`mutation { createContact(input: {firstName: "C%d", lastName: "N%d"}) { id } }`, c, i), "createContact", "id")
				if err != nil {
					failed.Add(1)
					sample("contact", err)
					time.Sleep(50 * time.Millisecond)
					continue
				}
				mu.Lock()
				ackContacts = append(ackContacts, cid)
				mu.Unlock()
				did, err := r.try(token, fmt.Sprintf(`mutation { createDeal(input: {name: "D%d-%d", amount: "100.00", currency: "USD", pipelineID: %q, stageID: %q, contactID: %q}) { id } }`,
					c, i, pipe, stages["New"], cid), "createDeal", "id")
				if err != nil {
					failed.Add(1)
					sample("deal", err)
					continue
				}
				mu.Lock()
				ackDeals = append(ackDeals, did)
				mu.Unlock()
				r = fleet.replica(c + i + 1) // the move goes to another replica
				if _, err := r.try(token, fmt.Sprintf(`mutation { moveDeal(id: %q, stageID: %q) { id } }`, did, stages["Next"]), "moveDeal", "id"); err != nil {
					failed.Add(1)
					sample("move", err)
					continue
				}
				mu.Lock()
				ackMoves = append(ackMoves, did)
				mu.Unlock()
				if _, err := r.try(token, `{ deals(first: 10, orderBy: {field: CREATED_AT, direction: DESC}) { totalCount edges { node { id stage { name } } } } }`, "deals", "totalCount"); err == nil {
					reads.Add(1)
				}
			}
		}()
	}

	// Faults, while the clients run.
	go func() {
		defer close(faultsDone)
		start := time.Now()
		time.Sleep(time.Duration(seconds) * time.Second / 6)
		fleet.kill(t, "replica", 1)
		fleet.kill(t, "worker", 0)
		time.Sleep(time.Duration(seconds) * time.Second / 6)
		fleet.startReplica()
		fleet.startWorker()
		time.Sleep(time.Duration(seconds) * time.Second / 6)
		crashAt = time.Since(start)
		if err := pg.Crash(ctx); err != nil {
			faultErr = err
			return
		}
		// Every live replica says it is not ready while the database is
		// down.
		if fleet.waitReady(false, 30*time.Second) {
			notReadySeen.Store(true)
		}
		if err := pg.Start(ctx); err != nil {
			faultErr = err
			return
		}
		backAt = time.Since(start)
		if fleet.waitReady(true, 60*time.Second) {
			readyAgain.Store(true)
		}
		readyAll = time.Since(start)
	}()
	time.Sleep(time.Duration(seconds) * time.Second)
	<-faultsDone
	close(stop)
	clients.Wait()
	if faultErr != nil {
		t.Fatal(faultErr)
	}
	for msg, n := range errSamples {
		if n > 2 {
			t.Logf("%d× %s", n, msg)
		}
		if strings.Contains(msg, "invalid character") {
			// Every answer, even while the database is down, is JSON.
			t.Errorf("%d answers were not JSON: %s", n, msg)
		}
		if strings.Contains(msg, uncoded) {
			// And every error in it has a code a client can act on.
			t.Errorf("%d answers had an error without a code: %s", n, msg)
		}
	}
	if !notReadySeen.Load() {
		t.Error("a replica still said ready 30 s after PostgreSQL went down")
	}
	if !readyAgain.Load() {
		t.Fatal("the replicas were not ready again within 60 s of PostgreSQL's return")
	}
	t.Logf("%d write rounds (%d not acknowledged), %d reads; PostgreSQL down at %v, back at %v, every replica ready at %v",
		attempts.Load(), failed.Load(), reads.Load(), crashAt.Round(time.Millisecond), backAt.Round(time.Millisecond), readyAll.Round(time.Millisecond))
	if len(ackMoves) < 20 {
		t.Fatalf("only %d moves acknowledged: the fleet hardly served", len(ackMoves))
	}

	// The database, read directly.
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sys := tenancy.System(ctx)
	ids := func(s []string) []pulid.ID {
		out := make([]pulid.ID, len(s))
		for i, v := range s {
			out[i] = pulid.ID(v)
		}
		return out
	}
	if n := countIn(t, len(ackContacts), func(from, to int) int {
		return st.Client.Contact.Query().Where(contact.IDIn(ids(ackContacts[from:to])...)).CountX(sys)
	}); n != len(ackContacts) {
		t.Errorf("%d of %d acknowledged contacts are in the database", n, len(ackContacts))
	}
	if n := countIn(t, len(ackDeals), func(from, to int) int {
		return st.Client.Deal.Query().Where(deal.IDIn(ids(ackDeals[from:to])...)).CountX(sys)
	}); n != len(ackDeals) {
		t.Errorf("%d of %d acknowledged deals are in the database", n, len(ackDeals))
	}
	if n := countIn(t, len(ackMoves), func(from, to int) int {
		return st.Client.Deal.Query().Where(deal.IDIn(ids(ackMoves[from:to])...), deal.StageID(pulid.ID(stages["Next"]))).CountX(sys)
	}); n != len(ackMoves) {
		t.Errorf("%d of %d acknowledged moves are in the database", n, len(ackMoves))
	}

	// Every stage change fires the automation once, and its webhook is
	// delivered: wait for the workers to finish, retries and rescues
	// included.
	var moves, runs, done int
	deadline := time.Now().Add(3 * time.Minute)
	for {
		moves = st.Client.Event.Query().Where(event.Type("deal.stage_changed")).CountX(sys)
		runs = st.Client.AutomationRun.Query().Where(automationrun.AutomationID(pulid.ID(auto))).CountX(sys)
		done = st.Client.AutomationRun.Query().Where(automationrun.AutomationID(pulid.ID(auto)), automationrun.StatusEQ(automationrun.StatusSucceeded)).CountX(sys)
		if runs == moves && done == runs {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 3 minutes: %d stage changes, %d runs, %d succeeded", moves, runs, done)
		}
		time.Sleep(250 * time.Millisecond)
	}
	if moves < len(ackMoves) {
		t.Errorf("%d stage change events for %d acknowledged moves", moves, len(ackMoves))
	}
	evs := st.Client.Event.Query().Where(event.Type("deal.stage_changed")).AllX(sys)
	byEvent := map[pulid.ID]int{}
	for _, r := range st.Client.AutomationRun.Query().Where(automationrun.AutomationID(pulid.ID(auto))).AllX(sys) {
		if r.EventID != nil {
			byEvent[*r.EventID]++
		}
	}
	for _, ev := range evs {
		if byEvent[ev.ID] != 1 {
			t.Errorf("event %s fired %d runs, want 1", ev.ID, byEvent[ev.ID])
		}
	}
	dels := st.Client.Delivery.Query().Where(delivery.AutomationID(pulid.ID(auto))).AllX(sys)
	perRun := map[pulid.ID]int{}
	received := hooks.received()
	retried := 0
	for _, d := range dels {
		perRun[d.RunID]++
		if d.Status != delivery.StatusDelivered {
			t.Errorf("delivery %s is %s", d.ID, d.Status)
		}
		if received[string(d.ID)] == 0 {
			t.Errorf("delivery %s is recorded delivered but never reached the receiver", d.ID)
		}
		if received[string(d.ID)] > 1 {
			retried++
		}
	}
	if len(perRun) != runs {
		t.Errorf("%d runs have a delivery, of %d runs", len(perRun), runs)
	}
	for run, n := range perRun {
		if n != 1 {
			t.Errorf("run %s has %d deliveries", run, n)
		}
	}
	if retried == 0 {
		t.Error("no delivery was retried: the receiver's refusals did not happen")
	}
	t.Logf("%d contacts, %d deals, %d moves acknowledged; %d stage changes, %d automation runs, %d deliveries (%d received more than once)",
		len(ackContacts), len(ackDeals), len(ackMoves), moves, runs, len(dels), retried)

	// The scoring run ends, every contact scored once.
	var status string
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		status = api.must(t, token, fmt.Sprintf(`{ node(id: %q) { ... on WorkRun { status } } }`, scoring), "node", "status")
		if status != "queued" && status != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scoring run is still %s after 10 minutes", status)
		}
	}
	run := st.Client.WorkRun.GetX(sys, pulid.ID(scoring))
	var scores, subjects int
	if err := st.DB.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT s.subject_id) FROM scores s JOIN contacts c ON c.id = s.subject_id
		WHERE s.subject_type = 'contact' AND s.plugin = 'idic' AND c.last_name = 'Scored'`).Scan(&scores, &subjects); err != nil {
		t.Fatal(err)
	}
	if status != "succeeded" || run.Total != scored || run.Done != scored || run.FailedBatches != 0 || scores != scored || subjects != scored {
		t.Errorf("scoring run %s: total %d, done %d, failed ranges %d; %d scores of %d contacts, want %d each once",
			status, run.Total, run.Done, run.FailedBatches, scores, subjects, scored)
	}
	t.Logf("scoring run: %d contacts scored once each, in %v", subjects, run.FinishedAt.Sub(*run.StartedAt).Round(time.Millisecond))

	// No plugin process outlives its server: stop the fleet and look.
	fleet.stopAll(t)
	var left []int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		left = processesOf(pluginProgram)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("plugin processes left running: %v", left)
	}
	if fleet.pluginPIDs() < scaleReplicas+scaleWorkers+2 {
		t.Errorf("only %d plugin processes were ever seen: the plugins did not start at boot", fleet.pluginPIDs())
	}
}

// execSQL runs statements on the database at url.
func execSQL(ctx context.Context, url string, stmts ...string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// countIn counts in chunks of 1,000 IDs (one statement has a bounded
// number of parameters).
func countIn(t *testing.T, n int, count func(from, to int) int) int {
	t.Helper()
	total := 0
	for from := 0; from < n; from += 1000 {
		total += count(from, min(from+1000, n))
	}
	return total
}

// processPluginDir builds the example scorer as a process plugin into a
// plugins directory and returns the directory and the program's path.
func processPluginDir(t *testing.T) (string, string) {
	t.Helper()
	prog, err := run(t, "plugin", "build", "--runtime", "process", "../../examples/leadscore")
	if err != nil {
		t.Fatal(err)
	}
	plugins := t.TempDir()
	dir := filepath.Join(plugins, "leadscore-process")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(strings.TrimSpace(prog))
	if err != nil {
		t.Fatal(err)
	}
	program := filepath.Join(dir, "plugin-process")
	if err := os.WriteFile(program, b, 0o755); err != nil {
		t.Fatal(err)
	}
	m, _ := os.ReadFile("../../examples/leadscore/plugin.json")
	m = bytes.Replace(m, []byte(`"runtime": "wasm"`), []byte(`"runtime": "process"`), 1)
	m = bytes.Replace(m, []byte(`"module": "plugin.wasm"`), []byte(`"command": ["plugin-process"]`), 1)
	if err := os.WriteFile(filepath.Join(dir, "plugin.json"), m, 0o644); err != nil {
		t.Fatal(err)
	}
	return plugins, program
}

// processesOf lists the live processes running program.
func processesOf(program string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		if exe == program {
			if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && strings.Contains(string(stat), ") Z ") {
				continue // a zombie has exited
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// flakyReceiver is a webhook receiver that refuses the first attempt of
// every fourth delivery it sees (by X-Rapport-Delivery) with a 503.
type flakyReceiver struct {
	URL string
	mu  sync.Mutex
	got map[string]int
}

func newFlakyReceiver(t *testing.T) *flakyReceiver {
	r := &flakyReceiver{got: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		id := req.Header.Get("X-Rapport-Delivery")
		r.mu.Lock()
		seen := len(r.got)
		r.got[id]++
		first := r.got[id] == 1
		r.mu.Unlock()
		if first && seen%4 == 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/hook"
	return r
}

// received returns how many times each delivery ID arrived.
func (r *flakyReceiver) received() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.got))
	for k, v := range r.got {
		out[k] = v
	}
	return out
}

// fleet is the harness's processes: serve replicas and workers, live or
// killed.
type fleet struct {
	t        *testing.T
	db       string
	plugins  string
	mu       sync.Mutex
	replicas []*replica
	workers  []*exec.Cmd
	seen     map[int]bool // plugin process IDs seen
}

// replica is one `rapport serve`.
type replica struct {
	*server
	dead bool
}

func (f *fleet) args() []string {
	return []string{"--plugins", f.plugins, "--plugin-start", "boot"}
}

func (f *fleet) startReplica() {
	t := f.t
	s := startServer(t, f.db, append([]string{"--workers=false", "--db-max-conns", "8"}, f.args()...)...)
	f.mu.Lock()
	f.replicas = append(f.replicas, &replica{server: s})
	f.mu.Unlock()
	f.awaitPlugin(s.cmd.Process.Pid)
}

func (f *fleet) startWorker() {
	t := f.t
	cmd := exec.Command(binary, append([]string{"worker", "--outbound-allow", "127.0.0.0/8",
		"--automation-poll", "100ms", "--retry-base", "200ms", "--retry-max", "1s",
		"--job-timeout", "30s", "--job-rescue-after", "40s"}, f.args()...)...)
	cmd.Env = append(os.Environ(), "RAPPORT_DB="+f.db)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	ready := make(chan bool, 1)
	go func() {
		buf := make([]byte, 4096)
		var got []byte
		for {
			n, err := out.Read(buf)
			got = append(got, buf[:n]...)
			if bytes.Contains(got, []byte("automation workers running")) {
				ready <- true
				for {
					if _, err := out.Read(buf); err != nil {
						return
					}
				}
			}
			if err != nil {
				ready <- false
				return
			}
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("worker exited: %s", stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("worker did not start: %s", stderr.String())
	}
	f.mu.Lock()
	f.workers = append(f.workers, cmd)
	f.mu.Unlock()
	f.awaitPlugin(cmd.Process.Pid)
}

// awaitPlugin waits for the plugin process that the Rapport process
// parent starts at boot, and records it.
func (f *fleet) awaitPlugin(parent int) {
	program := filepath.Join(f.plugins, "leadscore-process", "plugin-process")
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		for _, pid := range processesOf(program) {
			stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
			if err != nil {
				continue
			}
			// The parent's PID is the second field after the name, which
			// ends with the last ')'.
			fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
			if len(fields) > 1 && fields[1] == strconv.Itoa(parent) {
				f.mu.Lock()
				if f.seen == nil {
					f.seen = map[int]bool{}
				}
				f.seen[pid] = true
				f.mu.Unlock()
				return
			}
		}
	}
	f.t.Errorf("process %d started no plugin process within 30 s", parent)
}

func (f *fleet) pluginPIDs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.seen)
}

// replica returns the i-th live replica, round robin.
func (f *fleet) replica(i int) *replica {
	f.mu.Lock()
	defer f.mu.Unlock()
	var live []*replica
	for _, r := range f.replicas {
		if !r.dead {
			live = append(live, r)
		}
	}
	return live[i%len(live)]
}

// kill sends SIGKILL to the n-th replica or worker.
func (f *fleet) kill(t *testing.T, kind string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var cmd *exec.Cmd
	if kind == "replica" {
		f.replicas[n].dead = true
		cmd = f.replicas[n].cmd
	} else {
		cmd = f.workers[n]
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("kill %s %d: %v", kind, n, err)
	}
	_ = cmd.Wait()
	if kind == "worker" {
		f.workers = append(f.workers[:n:n], f.workers[n+1:]...)
	}
}

// waitReady polls every live replica's /readyz until all answer ready
// (200) or all answer not ready (503), as want says.
func (f *fleet) waitReady(want bool, within time.Duration) bool {
	f.mu.Lock()
	var urls []string
	for _, r := range f.replicas {
		if !r.dead {
			urls = append(urls, r.url)
		}
	}
	f.mu.Unlock()
	client := &http.Client{Timeout: 3 * time.Second}
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		all := true
		for _, u := range urls {
			res, err := client.Get(u + "/readyz")
			ok := err == nil && res.StatusCode == http.StatusOK
			if res != nil {
				res.Body.Close()
			}
			if ok != want {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// stopAll stops every live process with SIGTERM.
func (f *fleet) stopAll(t *testing.T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.replicas {
		if !r.dead {
			r.stop(t)
			r.dead = true
		}
	}
	for _, w := range f.workers {
		_ = w.Process.Signal(syscall.SIGTERM)
		_ = w.Wait()
	}
	f.workers = nil
}

// uncoded marks the error of an answer with an error that has no
// extensions.code.
const uncoded = "error without a code:"

// try runs a GraphQL operation at the replica and returns the string at
// path in its data; an error when the replica is unreachable, answers
// other than 200, or with errors.
func (r *replica) try(token, q string, path ...string) (string, error) {
	body, _ := json.Marshal(map[string]any{"query": q})
	req, _ := http.NewRequest(http.MethodPost, r.url+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := scaleClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		return "", err
	}
	if res.StatusCode != http.StatusOK || out["errors"] != nil {
		errs, _ := out["errors"].([]any)
		for _, e := range errs {
			if code, _ := get(e, "extensions", "code").(string); code == "" {
				return "", fmt.Errorf("%d: %s %v", res.StatusCode, uncoded, out["errors"])
			}
		}
		return "", fmt.Errorf("%d: %v", res.StatusCode, out["errors"])
	}
	v := get(out["data"], toAny(path)...)
	switch v := v.(type) {
	case string:
		return v, nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	}
	return "", fmt.Errorf("no %v in %v", path, out)
}

// must is try that fails the test.
func (r *replica) must(t *testing.T, token, q string, path ...string) string {
	t.Helper()
	v, err := r.try(token, q, path...)
	if err != nil {
		if len(q) > 200 {
			q = q[:200] + "…"
		}
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// toAny turns a path into get's: a number is a list index.
func toAny(path []string) []any {
	out := make([]any, len(path))
	for i, p := range path {
		if n, err := strconv.Atoi(p); err == nil {
			out[i] = n
		} else {
			out[i] = p
		}
	}
	return out
}

// scaleClient gives up on a replica that does not answer: a killed one
// may leave a connection open until the kernel resets it.
var scaleClient = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{
	DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	MaxIdleConnsPerHost: scaleClients,
}}
