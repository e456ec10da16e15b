package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/live"
	"github.com/rapportcrm/rapport/core/store"
	"github.com/rapportcrm/rapport/core/store/storetest"
	"github.com/rapportcrm/rapport/core/tenancy"
	"github.com/rapportcrm/rapport/graph"
)

// liveServer serves the API with live subscriptions over st, as one
// replica: its own feed numbering events every 20ms.
func liveServer(t *testing.T, st *store.Store, limits graph.LiveLimits, small bool) *httptest.Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	feed := live.New(st.Client, st.DB, st.Dialect, live.Options{SequenceInterval: 20 * time.Millisecond})
	done := make(chan struct{})
	go func() { defer close(done); feed.Run(ctx) }()
	srv := httptest.NewUnstartedServer(graph.NewHandler(graph.Config{Client: st.Client, Ping: st.Ping, Live: feed, LiveLimits: limits}))
	if small {
		srv.Listener = smallBuffers{srv.Listener}
	}
	srv.Start()
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		cancel()
		<-done
	})
	return srv
}

// smallBuffers shrinks the server's socket send buffers, so that a
// client that stops reading fills them after a few messages.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// wsClient is a graphql-transport-ws client.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func dialLive(t *testing.T, srv *httptest.Server, header http.Header, small bool) *wsClient {
	t.Helper()
	opts := &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header}
	if small {
		d := &net.Dialer{Control: nil}
		opts.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetReadBuffer(4096)
			}
			return c, err
		}}}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/graphql", opts)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &wsClient{t: t, c: c}
}

// connect dials and authenticates with token (in connection_init).
func connect(t *testing.T, srv *httptest.Server, token string) *wsClient {
	t.Helper()
	w := dialLive(t, srv, nil, false)
	w.send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + token}})
	if m := w.read(); m["type"] != "connection_ack" {
		t.Fatalf("want connection_ack, got %v", m)
	}
	return w
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, _ := json.Marshal(v)
	w.sendRaw(b)
}

func (w *wsClient) sendRaw(b []byte) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.c.Write(ctx, websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) subscribe(id, query string, vars map[string]any) {
	w.t.Helper()
	w.send(map[string]any{"type": "subscribe", "id": id, "payload": map[string]any{"query": query, "variables": vars}})
}

// read returns the next message other than ping/pong, or fails after 10s.
func (w *wsClient) read() map[string]any {
	w.t.Helper()
	m, err := w.readWithin(10 * time.Second)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return m
}

func (w *wsClient) readWithin(d time.Duration) (map[string]any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		_, b, err := w.c.Read(ctx)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("not JSON: %q", b)
		}
		if m["type"] == "ping" || m["type"] == "pong" {
			continue
		}
		return m, nil
	}
}

// quiet asserts no message comes within 500ms (25 passes of the
// sequencer).
func (w *wsClient) quiet() {
	w.t.Helper()
	m, err := w.readWithin(500 * time.Millisecond)
	if err == nil {
		w.t.Fatalf("unexpected message %v", m)
	}
}

// closed reads until the server closes, and returns the close code and
// reason.
func (w *wsClient) closed() (websocket.StatusCode, string) {
	w.t.Helper()
	for {
		_, err := w.readWithin(10 * time.Second)
		if err == nil {
			continue
		}
		var ce websocket.CloseError
		if !asClose(err, &ce) {
			w.t.Fatalf("want a close frame, got %v", err)
		}
		return ce.Code, ce.Reason
	}
}

func asClose(err error, ce *websocket.CloseError) bool {
	code := websocket.CloseStatus(err)
	if code == -1 {
		return false
	}
	ce.Code = code
	_, ce.Reason, _ = strings.Cut(err.Error(), "reason = ")
	if i := strings.LastIndex(err.Error(), "reason = "); i >= 0 {
		ce.Reason = err.Error()[i+len("reason = "):]
	}
	return true
}

const recordSub = `subscription($after: String) { recordChanged(types: ["contact"], after: $after) {
	cursor kind subjectType subjectID record { id ... on Contact { lastName } } } }`

// change is one recordChanged message's payload.
func change(t *testing.T, m map[string]any, id string) map[string]any {
	t.Helper()
	if m["type"] != "next" || m["id"] != id {
		t.Fatalf("want next for %s, got %v", id, m)
	}
	rc, _ := get(m, "payload", "data", "recordChanged").(map[string]any)
	if rc == nil {
		t.Fatalf("no recordChanged in %v", m)
	}
	return rc
}

// TestLiveRecordChanged: a subscriber sees each committed change of its
// own workspace once, in order, with the record as it may read it; not a
// rolled-back write, not another workspace's; reconnecting with a cursor
// brings what it missed, then live changes.
func TestLiveRecordChanged(t *testing.T) {
	for _, dia := range storetest.Dialects {
		t.Run(dia, func(t *testing.T) {
			e := newEnv(t, dia)
			srv := liveServer(t, e.st, graph.LiveLimits{}, false)
			a := connect(t, srv, e.tokens["aViewer"]) // a viewer reads, so it sees
			a.subscribe("1", recordSub, nil)
			b := connect(t, srv, e.tokens["b"])
			b.subscribe("1", recordSub, nil)

			// The record is read when its message is sent ("as it is now"):
			// each change is read before the next one is made.
			var cursors []string
			var id string
			for i, want := range []string{"CREATED", "UPDATED", "DELETED"} {
				switch want {
				case "CREATED":
					id = str(e.ok("a", `mutation { createContact(input: {lastName: "Lovelace"}) { id } }`, nil), "createContact", "id")
				case "UPDATED":
					// One operation is one transaction: the second mutation
					// fails, so the first one's contact never commits.
					e.fail("a", `mutation { x: createContact(input: {lastName: "Ghost"}) { id } y: createContact(input: {lastName: ""}) { id } }`, nil, "BAD_USER_INPUT")
					e.ok("a", `mutation($id: ID!) { updateContact(id: $id, input: {firstName: "Ada"}) { id } }`, map[string]any{"id": id})
				case "DELETED":
					e.ok("a", `mutation($id: ID!) { deleteContact(id: $id) }`, map[string]any{"id": id})
				}
				rc := change(t, a.read(), "1")
				if rc["kind"] != want || rc["subjectID"] != id || rc["subjectType"] != "contact" {
					t.Fatalf("message %d: got %v, want %s of %s", i, rc, want, id)
				}
				switch want {
				case "DELETED":
					if rc["record"] != nil {
						t.Fatalf("a deleted record is null, got %v", rc["record"])
					}
				default:
					if str(rc, "record", "lastName") != "Lovelace" {
						t.Fatalf("record: got %v", rc["record"])
					}
				}
				cursors = append(cursors, rc["cursor"].(string))
			}
			idB := str(e.ok("b", `mutation { createContact(input: {lastName: "Other"}) { id } }`, nil), "createContact", "id")
			a.quiet()
			rc := change(t, b.read(), "1")
			if rc["kind"] != "CREATED" || rc["subjectID"] != idB {
				t.Fatalf("workspace B: got %v, want its own contact %s", rc, idB)
			}
			b.quiet()

			// Reconnect after the first message: the two after it, once.
			a2 := connect(t, srv, e.tokens["a"])
			a2.subscribe("r", recordSub, map[string]any{"after": cursors[0]})
			for i, want := range []string{"UPDATED", "DELETED"} {
				rc := change(t, a2.read(), "r")
				if rc["kind"] != want || rc["cursor"] != cursors[i+1] {
					t.Fatalf("replay %d: got %v, want %s at %s", i, rc, want, cursors[i+1])
				}
			}
			id2 := str(e.ok("a", `mutation { createContact(input: {lastName: "Hopper"}) { id } }`, nil), "createContact", "id")
			if rc := change(t, a2.read(), "r"); rc["subjectID"] != id2 || rc["kind"] != "CREATED" {
				t.Fatalf("live after replay: got %v, want %s", rc, id2)
			}
			a2.quiet()
		})
	}
}

// TestLiveEvents: events(types:) carries the workspace's events of those
// types only.
func TestLiveEvents(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := liveServer(t, e.st, graph.LiveLimits{}, false)
	a := connect(t, srv, e.tokens["a"])
	a.subscribe("e", `subscription { events(types: ["contact.updated"]) { cursor type subjectID changes { field after } } }`, nil)
	id := str(e.ok("a", `mutation { createContact(input: {lastName: "Lovelace"}) { id } }`, nil), "createContact", "id")
	e.ok("a", `mutation($id: ID!) { updateContact(id: $id, input: {firstName: "Ada"}) { id } }`, map[string]any{"id": id})
	m := a.read()
	ev, _ := get(m, "payload", "data", "events").(map[string]any)
	if ev["type"] != "contact.updated" || ev["subjectID"] != id {
		t.Fatalf("got %v", m)
	}
	if !strings.Contains(fmt.Sprint(ev["changes"]), "Ada") {
		t.Fatalf("changes %v do not hold the new first name", ev["changes"])
	}
	a.quiet() // (a read that times out closes the client's connection)
	// A type that is no type name is refused.
	a = connect(t, srv, e.tokens["a"])
	a.subscribe("bad", `subscription { events(types: ["DROP TABLE"]) { cursor } }`, nil)
	if m := a.read(); m["id"] != "bad" || !strings.Contains(fmt.Sprint(m), "BAD_USER_INPUT") {
		t.Fatalf("want BAD_USER_INPUT for bad, got %v", m)
	}
}

// TestLiveRefusals: each refused connection closes with the protocol's
// code.
func TestLiveRefusals(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := liveServer(t, e.st, graph.LiveLimits{MaxMessage: 2048, MaxSubscriptions: 1}, false)
	for _, tc := range []struct {
		name string
		do   func(w *wsClient)
		code websocket.StatusCode
	}{
		{"no token", func(w *wsClient) { w.send(map[string]any{"type": "connection_init"}) }, 4403},
		{"wrong token", func(w *wsClient) {
			w.send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer rpt_nope"}})
		}, 4403},
		{"subscribe before init", func(w *wsClient) { w.subscribe("1", recordSub, nil) }, 4401},
		{"not JSON", func(w *wsClient) { w.sendRaw([]byte("hello")) }, 4400},
		{"unknown type", func(w *wsClient) { w.sendRaw([]byte(`{"type":"bogus"}`)) }, 4400},
		{"NUL in a string", func(w *wsClient) { w.sendRaw([]byte(`{"type":"connection_init","payload":{"x":"\u0000"}}`)) }, 4400},
		{"oversized", func(w *wsClient) {
			w.sendRaw([]byte(`{"type":"connection_init","payload":{"x":"` + strings.Repeat("a", 4096) + `"}}`))
		}, websocket.StatusMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := dialLive(t, srv, nil, false)
			tc.do(w)
			if code, reason := w.closed(); code != tc.code {
				t.Fatalf("closed with %d (%s), want %d", code, reason, tc.code)
			}
		})
	}

	t.Run("second init", func(t *testing.T) {
		w := connect(t, srv, e.tokens["a"])
		w.send(map[string]any{"type": "connection_init"})
		if code, _ := w.closed(); code != 4429 {
			t.Fatalf("closed with %d, want 4429", code)
		}
	})
	t.Run("limits", func(t *testing.T) {
		// The Authorization header of the upgrade request authenticates too.
		w := dialLive(t, srv, http.Header{"Authorization": {"Bearer " + e.tokens["a"]}}, false)
		w.send(map[string]any{"type": "connection_init"})
		if m := w.read(); m["type"] != "connection_ack" {
			t.Fatalf("want connection_ack, got %v", m)
		}
		w.subscribe("1", recordSub, nil)
		w.subscribe("2", recordSub, nil) // one subscription per connection
		if m := w.read(); m["type"] != "error" || m["id"] != "2" || !strings.Contains(fmt.Sprint(m), "UNAVAILABLE") {
			t.Fatalf("want an UNAVAILABLE error for 2, got %v", m)
		}
		w.subscribe("1", recordSub, nil) // 1 is running
		if code, _ := w.closed(); code != 4409 {
			t.Fatalf("closed with %d, want 4409", code)
		}
	})
	t.Run("connections per workspace", func(t *testing.T) {
		srv := liveServer(t, e.st, graph.LiveLimits{MaxConnections: 1}, false)
		w := connect(t, srv, e.tokens["a"])
		x := dialLive(t, srv, nil, false)
		x.send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + e.tokens["aViewer"]}})
		if code, reason := x.closed(); code != 1013 {
			t.Fatalf("closed with %d (%s), want 1013", code, reason)
		}
		connect(t, srv, e.tokens["b"]) // another workspace has its own
		_ = w
	})
}

// TestLiveSlowReader: a client that stops reading is disconnected once
// its send buffer stayed full for SlowTimeout, with 1008 and a reason.
func TestLiveSlowReader(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := liveServer(t, e.st, graph.LiveLimits{SendBuffer: 2, SlowTimeout: 200 * time.Millisecond}, true)
	w := dialLive(t, srv, nil, true)
	w.send(map[string]any{"type": "connection_init", "payload": map[string]any{"authorization": "Bearer " + e.tokens["a"]}})
	if m := w.read(); m["type"] != "connection_ack" {
		t.Fatalf("want connection_ack, got %v", m)
	}
	w.subscribe("1", `subscription { recordChanged { cursor subjectID changes { field before after } } }`, nil)
	// 1,000 changes of some 1 KB each: more than the socket buffers and
	// the send buffer hold.
	input := make([]map[string]any, 1000)
	for i := range input {
		input[i] = map[string]any{"lastName": fmt.Sprint("c", i), "title": strings.Repeat("t", 190)}
	}
	e.ok("a", `mutation($in: [CreateContactInput!]!) { bulkCreateContacts(input: $in) { id } }`, map[string]any{"in": input})
	time.Sleep(3 * time.Second) // not reading
	code, reason := w.closed()
	if code != 1008 || !strings.Contains(reason, "slow reader") {
		t.Fatalf("closed with %d (%s), want 1008 and a slow reader", code, reason)
	}
}

// TestLiveReplicas: two servers on one PostgreSQL database: a write
// through one reaches a subscriber of the other.
func TestLiveReplicas(t *testing.T) {
	e := newEnv(t, "postgres")
	other, err := store.Open(context.Background(), e.st.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	one := liveServer(t, e.st, graph.LiveLimits{}, false)
	two := liveServer(t, other, graph.LiveLimits{}, false)
	w := connect(t, two, e.tokens["a"])
	w.subscribe("1", recordSub, nil)
	time.Sleep(100 * time.Millisecond) // the subscription has started
	body := `{"query":"mutation { createContact(input: {lastName: \"Lovelace\"}) { id } }"}`
	req, _ := http.NewRequest(http.MethodPost, one.URL+"/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+e.tokens["a"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Data struct {
			CreateContact struct{ ID string } `json:"createContact"`
		} `json:"data"`
	}
	_ = json.NewDecoder(res.Body).Decode(&out)
	res.Body.Close()
	if out.Data.CreateContact.ID == "" {
		t.Fatal("create through server one failed")
	}
	if rc := change(t, w.read(), "1"); rc["subjectID"] != out.Data.CreateContact.ID {
		t.Fatalf("got %v, want %s", rc, out.Data.CreateContact.ID)
	}
}

// TestLiveRevoked: a connection's token is checked again every Recheck:
// once it is revoked, the open connection is closed with 4403 and a
// reason, while a connection of another token stays open and served.
func TestLiveRevoked(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := liveServer(t, e.st, graph.LiveLimits{Recheck: 100 * time.Millisecond}, false)
	ctx := context.Background()
	secret, tok, err := access.CreateToken(ctx, e.st.Client, e.wsA, access.TokenOptions{Role: tenancy.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	doomed := connect(t, srv, secret)
	doomed.subscribe("1", recordSub, nil)
	kept := connect(t, srv, e.tokens["a"])
	kept.subscribe("1", recordSub, nil)
	time.Sleep(300 * time.Millisecond) // a few checks pass while the token is valid
	if err := access.RevokeToken(tenancy.System(ctx), e.st.Client, e.wsA, string(tok.ID)); err != nil {
		t.Fatal(err)
	}
	code, reason := doomed.closed()
	if code != 4403 || !strings.Contains(reason, "revoked") {
		t.Fatalf("closed with %d (%s), want 4403 and revoked", code, reason)
	}
	e.ok("a", `mutation { createContact(input: {lastName: "Still"}) { id } }`, nil)
	if m := kept.read(); m["type"] != "next" || !strings.Contains(fmt.Sprint(m), "Still") {
		t.Fatalf("the other token's subscription: %v, want the new contact", m)
	}
}
