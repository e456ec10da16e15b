package live_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/live"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func as(ws *ent.Workspace) context.Context {
	return tenancy.NewContext(context.Background(), &tenancy.Viewer{WorkspaceID: ws.ID, Role: tenancy.RoleAdmin})
}

// next receives one event or fails after a generous wait.
func next(t *testing.T, fl *live.Follower) *ent.Event {
	t.Helper()
	select {
	case ev, ok := <-fl.C:
		if !ok {
			t.Fatalf("follower ended: %v", fl.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return nil
}

// quiet asserts nothing arrives for a while (after the sequencer had
// many passes to number anything pending).
func quiet(t *testing.T, fl *live.Follower) {
	t.Helper()
	select {
	case ev := <-fl.C:
		t.Fatalf("unexpected event %s %s (%s)", ev.Type, ev.SubjectID, ev.WorkspaceID)
	case <-time.After(400 * time.Millisecond):
	}
}

// TestFollow: a follower sees each committed change of its workspace
// once, in commit order, never a rolled-back one nor another
// workspace's; from a cursor it sees exactly what came after it.
func TestFollow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		feed := live.New(st.Client, st.DB, st.Dialect, live.Options{SequenceInterval: 20 * time.Millisecond})
		go feed.Run(ctx)
		wsA, err := access.CreateWorkspace(ctx, st.Client, "alpha", "Alpha")
		if err != nil {
			t.Fatal(err)
		}
		wsB, err := access.CreateWorkspace(ctx, st.Client, "beta", "Beta")
		if err != nil {
			t.Fatal(err)
		}
		fctx, stop := context.WithCancel(as(wsA))
		fl := feed.Follow(fctx, 0, nil, 4)

		c := st.Client.Contact.Create().SetLastName("Lovelace").SaveX(as(wsA))
		st.Client.Contact.Create().SetLastName("Other").SaveX(as(wsB))
		// A write that rolls back leaves no event.
		tx, err := st.Client.Tx(as(wsA))
		if err != nil {
			t.Fatal(err)
		}
		tx.Contact.Create().SetLastName("Ghost").SaveX(as(wsA))
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		st.Client.Contact.UpdateOne(c).SetFirstName("Ada").ExecX(as(wsA))
		st.Client.Contact.DeleteOne(c).ExecX(as(wsA))

		want := []string{"contact.created", "contact.updated", "contact.deleted"}
		var seqs []int64
		for i, w := range want {
			ev := next(t, fl)
			if ev.Type != w || ev.SubjectID != c.ID || ev.WorkspaceID != wsA.ID {
				t.Fatalf("event %d: got %s %s in %s, want %s %s in %s", i, ev.Type, ev.SubjectID, ev.WorkspaceID, w, c.ID, wsA.ID)
			}
			if len(seqs) > 0 && *ev.Seq <= seqs[len(seqs)-1] {
				t.Fatalf("seq %d after %d: not increasing", *ev.Seq, seqs[len(seqs)-1])
			}
			seqs = append(seqs, *ev.Seq)
		}
		quiet(t, fl)
		stop()

		// From the first event's cursor: the two after it, and then live.
		after, err := live.ParseCursor(live.Cursor(seqs[0]))
		if err != nil {
			t.Fatal(err)
		}
		fl2 := feed.Follow(as(wsA), after, []string{"contact.deleted", "contact.created"}, 1)
		if ev := next(t, fl2); *ev.Seq != seqs[2] || ev.Type != "contact.deleted" {
			t.Fatalf("replay: got %s #%d, want contact.deleted #%d", ev.Type, *ev.Seq, seqs[2])
		}
		d := st.Client.Contact.Create().SetLastName("Hopper").SaveX(as(wsA))
		if ev := next(t, fl2); ev.SubjectID != d.ID || ev.Type != "contact.created" {
			t.Fatalf("live after replay: got %s %s, want contact.created %s", ev.Type, ev.SubjectID, d.ID)
		}
		quiet(t, fl2)

		// Numbers are 1..n without a gap: the sequencer numbers in one
		// statement after the highest number.
		all, err := st.Client.Event.Query().All(tenancy.System(ctx))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for _, ev := range all {
			if ev.Seq == nil {
				continue
			}
			if seen[*ev.Seq] {
				t.Fatalf("seq %d given twice", *ev.Seq)
			}
			seen[*ev.Seq] = true
		}
		for i := int64(1); i <= int64(len(seen)); i++ {
			if !seen[i] {
				t.Fatalf("seq %d missing among %d numbered events", i, len(seen))
			}
		}
	})
}

// TestFollowBatches: more events than one pass numbers (Batch 7) arrive
// all, once, in order, through a buffer of one.
func TestFollowBatches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		feed := live.New(st.Client, st.DB, st.Dialect, live.Options{SequenceInterval: 10 * time.Millisecond, Batch: 7})
		go feed.Run(ctx)
		ws, err := access.CreateWorkspace(ctx, st.Client, "alpha", "Alpha")
		if err != nil {
			t.Fatal(err)
		}
		const n = 30
		ids := map[string]bool{}
		for i := range n {
			c := st.Client.Contact.Create().SetLastName(fmt.Sprint("c", i)).SaveX(as(ws))
			ids[string(c.ID)] = true
		}
		fl := feed.Follow(as(ws), 0, []string{"contact.created"}, 1)
		var last int64
		for range n {
			ev := next(t, fl)
			if !ids[string(ev.SubjectID)] {
				t.Fatalf("unexpected or repeated subject %s", ev.SubjectID)
			}
			delete(ids, string(ev.SubjectID))
			if *ev.Seq <= last {
				t.Fatalf("seq %d after %d", *ev.Seq, last)
			}
			last = *ev.Seq
		}
		quiet(t, fl)
	})
}

// TestReplicas: two feeds on one PostgreSQL database, as two servers: a
// write numbered by either reaches a follower of the other, whose own
// sequencer is not running, through NOTIFY.
func TestReplicas(t *testing.T) {
	st := storetest.Open(t, "postgres")
	other, err := store.Open(context.Background(), st.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Server 1 numbers events; server 2 only listens (its Run would also
	// number; here it must be the notification that wakes it), with a
	// poll too slow to pass the test.
	one := live.New(st.Client, st.DB, st.Dialect, live.Options{SequenceInterval: 20 * time.Millisecond})
	go one.Run(ctx)
	two := live.New(other.Client, other.DB, other.Dialect, live.Options{PollInterval: time.Hour, SequenceInterval: time.Hour})
	go two.Run(ctx)
	ws, err := access.CreateWorkspace(ctx, st.Client, "alpha", "Alpha")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // two's first pass and LISTEN done
	fl := two.Follow(as(ws), 0, []string{"contact.created"}, 4)
	c := st.Client.Contact.Create().SetLastName("Lovelace").SaveX(as(ws))
	if ev := next(t, fl); ev.SubjectID != c.ID {
		t.Fatalf("got %s, want %s", ev.SubjectID, c.ID)
	}
}

func TestParseCursor(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{"", 0, false},
		{"lv1_0", 0, false},
		{"lv1_z", 35, false},    // base 36
		{"lv1_10", 36, false},   // 1·36 + 0
		{"lv1_rs", 1000, false}, // 27·36 + 28
		{"lv1_", 0, true},
		{"lv1_01", 0, true}, // not canonical
		{"lv1_-1", 0, true},
		{"lv1_Z", 0, true},
		{"lv2_1", 0, true},
		{"lv1_zzzzzzzzzzzzz", 0, true}, // over int64
	} {
		got, err := live.ParseCursor(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseCursor(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, live.ErrCursor) {
			t.Errorf("ParseCursor(%q): error %v is not ErrCursor", tc.in, err)
		}
	}
}

func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"", "lv1_0", "lv1_rs", "lv1_zzzzzzzzzzzz", "lv1_-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := live.ParseCursor(s)
		if err == nil && s != "" && live.Cursor(n) != s {
			t.Fatalf("%q parsed to %d, whose cursor is %q", s, n, live.Cursor(n))
		}
		if err == nil && n < 0 {
			t.Fatalf("%q parsed to negative %d", s, n)
		}
	})
}
