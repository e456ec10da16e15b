package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	coderws "github.com/coder/websocket"

	"github.com/rapportcrm/rapport/core/access"
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// LiveLimits bound the live subscriptions served over WebSocket on
// /graphql. Zero values take the defaults.
type LiveLimits struct {
	// MaxSubscriptions is how many subscriptions one connection holds at
	// once (default 16); one more is answered with an error message.
	MaxSubscriptions int
	// MaxConnections is how many connections one workspace holds at once
	// across its tokens (default 64), on this server; one more is closed
	// with 1013 (try again later).
	MaxConnections int
	// MaxMessage is the largest message a client may send, in bytes
	// (default 64 KiB); a larger one closes the connection with 1009.
	MaxMessage int64
	// SendBuffer is how many messages wait for a connection's writer
	// (default 256).
	SendBuffer int
	// SlowTimeout is how long a connection's send buffer may stay full
	// before the client is disconnected as a slow reader, with 1008
	// (default 10s).
	SlowTimeout time.Duration
	// InitTimeout is how long a client has to send connection_init after
	// connecting (default 10s).
	InitTimeout time.Duration
	// Recheck is how often a connection's token or session is checked
	// again (default 5s): one revoked, expired or signed out, or whose
	// member was removed, closes the connection with 4403; one whose role
	// or workspace changed closes it with 1012, for the client to
	// reconnect as what it now is and resume from its cursor. A check the
	// database cannot answer leaves the connection open until the next.
	Recheck time.Duration
}

func (l LiveLimits) withDefaults() LiveLimits {
	if l.MaxSubscriptions <= 0 {
		l.MaxSubscriptions = 16
	}
	if l.MaxConnections <= 0 {
		l.MaxConnections = 64
	}
	if l.MaxMessage <= 0 {
		l.MaxMessage = 64 << 10
	}
	if l.SendBuffer <= 0 {
		l.SendBuffer = 256
	}
	if l.SlowTimeout <= 0 {
		l.SlowTimeout = 10 * time.Second
	}
	if l.InitTimeout <= 0 {
		l.InitTimeout = 10 * time.Second
	}
	if l.Recheck <= 0 {
		l.Recheck = 5 * time.Second
	}
	return l
}

// The close codes of the graphql-transport-ws protocol, and RFC 6455's.
const (
	closeBadRequest      = 4400
	closeUnauthorized    = 4401
	closeForbidden       = 4403
	closeSubscriberTaken = 4409
	closeTooManyInits    = 4429
	closePolicy          = 1008 // a slow reader
	closeServiceRestart  = 1012 // the credentials' role or workspace changed: reconnect
	closeTryAgainLater   = 1013 // the workspace's connections are all taken
)

const subprotocol = "graphql-transport-ws"

// liveServer holds the live connections of one handler.
type liveServer struct {
	client *ent.Client
	tokens *access.Tokens
	limits LiveLimits
	inputs Limits

	mu    sync.Mutex
	conns map[pulid.ID]int // per workspace
}

type liveConnKey struct{}

// liveSessionKey holds the liveSession of the session cookie an upgrade
// request came with.
type liveSessionKey struct{}

// liveSession is the session cookie an upgrade request came with: the
// viewer it acts as, and how to check it again.
type liveSession struct {
	viewer *tenancy.Viewer
	verify func(context.Context) (*tenancy.Viewer, error)
}

// handler serves a WebSocket upgrade on /graphql: it makes the
// connection's state, which the transport finds in the request's context,
// and gives back the workspace's connection slot when it ends.
func (l *liveServer) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &liveConn{l: l, header: r.Header.Get("Authorization"), active: map[string]bool{},
			done: make(chan struct{})}
		c.session, _ = r.Context().Value(liveSessionKey{}).(*liveSession)
		defer c.leave()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), liveConnKey{}, c)))
	})
}

// isUpgrade reports whether r asks to become a WebSocket.
func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// transport is the gqlgen WebSocket transport over liveServer's
// connections.
func (l *liveServer) transport() transport.Websocket {
	limit := l.limits.MaxMessage
	return transport.Websocket{
		Implementation: liveAccepter{},
		InitFunc:       l.init,
		InitTimeout:    l.limits.InitTimeout,
		// graphql-transport-ws pings: a dead peer is dropped.
		PingPongInterval: 30 * time.Second,
		PayloadReadLimit: &limit,
	}
}

// init authenticates connection_init: the bearer token in its payload's
// authorization, else the upgrade request's Authorization header; then
// takes one of the workspace's connection slots.
func (l *liveServer) init(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	c, _ := ctx.Value(liveConnKey{}).(*liveConn)
	if c == nil {
		return refuse(ctx, closeForbidden, "Forbidden: not a live connection")
	}
	auth := p.Authorization()
	if auth == "" {
		auth = c.header
	}
	var (
		v      *tenancy.Viewer
		err    error
		verify func(context.Context) (*tenancy.Viewer, error)
	)
	if c.session != nil && auth == "" {
		v, verify = c.session.viewer, c.session.verify
	} else {
		scheme, token, ok := strings.Cut(auth, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return refuse(ctx, closeForbidden, "Forbidden: missing bearer token: send {\"authorization\": \"Bearer <token>\"} in connection_init")
		}
		token = strings.TrimSpace(token)
		verify = func(ctx context.Context) (*tenancy.Viewer, error) {
			if l.tokens != nil {
				return l.tokens.Authenticate(ctx, token)
			}
			return access.Authenticate(ctx, l.client, token)
		}
		v, err = verify(ctx)
	}
	if err != nil {
		if errcode.Of(err) == errcode.Unauthenticated {
			return refuse(ctx, closeForbidden, "Forbidden: "+err.Error())
		}
		return refuse(ctx, closeForbidden, "Forbidden: could not check the token")
	}
	l.mu.Lock()
	if l.conns[v.WorkspaceID] >= l.limits.MaxConnections {
		l.mu.Unlock()
		return refuse(ctx, closeTryAgainLater, fmt.Sprintf("try again later: the workspace holds its limit of %d live connections", l.limits.MaxConnections))
	}
	l.conns[v.WorkspaceID]++
	l.mu.Unlock()
	// The connection's subscriptions run under this context: closing
	// the connection for cause (a slow reader) ends them.
	ctx, cancel := context.WithCancel(tenancy.NewContext(ctx, v))
	c.mu.Lock()
	c.ws, c.acked, c.cancel = v.WorkspaceID, true, cancel
	c.mu.Unlock()
	go c.recheck(ctx, *v, verify)
	return ctx, nil, nil
}

// recheck checks the connection's credentials every Recheck until ctx
// ends, and closes the connection once they no longer act as v (see
// LiveLimits.Recheck).
func (c *liveConn) recheck(ctx context.Context, v tenancy.Viewer, verify func(context.Context) (*tenancy.Viewer, error)) {
	if verify == nil {
		return
	}
	tick := time.NewTicker(c.l.limits.Recheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.done:
			return
		case <-tick.C:
		}
		now, err := verify(ctx)
		switch {
		case errcode.Of(err) == errcode.Unauthenticated:
			c.closeWith(closeForbidden, "Forbidden: the credentials were revoked or expired")
			return
		case err != nil:
			// The database did not answer: try again at the next tick.
		case now.WorkspaceID != v.WorkspaceID || now.Role != v.Role:
			c.closeWith(closeServiceRestart, fmt.Sprintf("the credentials now act as %s in another workspace or role: reconnect", now.Role))
			return
		}
	}
}

func refuse(ctx context.Context, code int, reason string) (context.Context, *transport.InitPayload, error) {
	ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), reason)
	return ctx, nil, errors.New(reason)
}

// liveAccepter accepts a WebSocket with coder/websocket, offering only
// graphql-transport-ws.
type liveAccepter struct{}

func (liveAccepter) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	c, _ := r.Context().Value(liveConnKey{}).(*liveConn)
	if c == nil {
		return nil, errors.New("not a live connection")
	}
	for k, vs := range opts.ResponseHeader {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	// Browsers send the page's Origin. A token connection may come from
	// any origin; one acting as a session cookie was checked to come
	// from the server's own before the upgrade (see sessionViewer).
	conn, err := coderws.Accept(w, r, &coderws.AcceptOptions{Subprotocols: []string{subprotocol}, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	c.conn = conn
	c.out = make(chan outgoing, c.l.limits.SendBuffer)
	c.sent = make(chan struct{})
	go c.write()
	return c, nil
}

// liveConn is one WebSocket connection: gqlgen's transport reads and
// writes through it. Reads are checked before the transport sees them;
// writes go through a bounded queue to one writer.
type liveConn struct {
	l      *liveServer
	header string // the upgrade request's Authorization
	// session is the upgrade request's session cookie, which acts when
	// connection_init carries no token.
	session *liveSession
	conn    *coderws.Conn
	out     chan outgoing

	mu     sync.Mutex
	ws     pulid.ID
	acked  bool
	inited bool
	cancel context.CancelFunc // ends the connection's context
	active map[string]bool    // subscription IDs

	closeOnce sync.Once
	done      chan struct{} // closed once the connection closes
	closing   bool          // a close frame is queued or sent
	sent      chan struct{} // closed once a close handshake ended
	sentOnce  sync.Once
}

type outgoing struct {
	data  []byte
	close bool
	code  coderws.StatusCode
	why   string
}

var (
	_ transport.WebsocketConn        = (*liveConn)(nil)
	_ transport.WebsocketReadLimiter = (*liveConn)(nil)
)

// leave gives back the workspace's connection slot, once a queued close
// frame went out (or could not within the close handshake's time).
func (c *liveConn) leave() {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing && c.sent != nil {
		select {
		case <-c.sent:
		case <-time.After(6 * time.Second):
		}
	}
	c.shut()
	if c.conn != nil {
		_ = c.conn.CloseNow()
	}
	c.mu.Lock()
	if c.cancel != nil {
		c.cancel()
	}
	c.mu.Unlock()
	c.mu.Lock()
	ws, acked := c.ws, c.acked
	c.mu.Unlock()
	if !acked {
		return
	}
	c.l.mu.Lock()
	if c.l.conns[ws]--; c.l.conns[ws] <= 0 {
		delete(c.l.conns, ws)
	}
	c.l.mu.Unlock()
}

func (c *liveConn) shut() { c.closeOnce.Do(func() { close(c.done) }) }

// write sends the queued messages in order until a close.
func (c *liveConn) write() {
	for {
		select {
		case m := <-c.out:
			if m.close {
				c.closeFrame(m.code, m.why)
				c.shut()
				return
			}
			if err := c.conn.Write(context.Background(), coderws.MessageText, m.data); err != nil {
				_ = c.conn.CloseNow()
				c.shut()
				return
			}
		case <-c.done:
			return
		}
	}
}

// closeWith closes the connection now with code and reason, dropping
// what is queued (the reader is slow or hostile).
func (c *liveConn) closeWith(code coderws.StatusCode, why string) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	c.closing = true
	cancel := c.cancel
	c.mu.Unlock()
	c.shut()
	go c.closeFrame(code, why)
	if cancel != nil {
		cancel()
	}
}

// closeFrame runs the close handshake (up to coder/websocket's 5s).
func (c *liveConn) closeFrame(code coderws.StatusCode, why string) {
	_ = c.conn.Close(code, why)
	c.sentOnce.Do(func() { close(c.sent) })
}

var errClosed = transport.ErrWebsocketClosed

// NextReader returns the client's next message once it is well formed:
// a JSON object of a graphql-transport-ws type, whose subscribe payload
// passes the same checks as an HTTP request's body.
func (c *liveConn) NextReader() (int, io.Reader, error) {
	for {
		typ, data, err := c.conn.Read(context.Background())
		if err != nil {
			switch coderws.CloseStatus(err) {
			case coderws.StatusNormalClosure, coderws.StatusNoStatusRcvd, coderws.StatusGoingAway:
				return int(typ), nil, errClosed
			}
			return int(typ), nil, err
		}
		skip, err := c.check(typ, data)
		if err != nil {
			return 0, nil, err
		}
		if !skip {
			return int(typ), bytes.NewReader(data), nil
		}
	}
}

// check vets one message from the client; skip is true for a subscribe
// it answered itself (over the limit).
func (c *liveConn) check(typ coderws.MessageType, data []byte) (skip bool, err error) {
	bad := func(why string) (bool, error) {
		c.closeWith(closeBadRequest, why)
		return false, errClosed
	}
	if typ != coderws.MessageText {
		return bad("Invalid message: only text messages are accepted")
	}
	var m struct {
		Type    *string         `json:"type"`
		ID      *string         `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	if reason, _ := checkBody(data, c.l.inputs); reason != "" {
		return bad("Invalid message: not a JSON object of valid input")
	}
	if err := json.Unmarshal(data, &m); err != nil || m.Type == nil {
		return bad("Invalid message: not a graphql-transport-ws message")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch *m.Type {
	case "connection_init":
		if c.inited {
			c.mu.Unlock()
			c.closeWith(closeTooManyInits, "Too many initialisation requests")
			c.mu.Lock()
			return false, errClosed
		}
		c.inited = true
	case "subscribe":
		if !c.acked {
			c.mu.Unlock()
			c.closeWith(closeUnauthorized, "Unauthorized")
			c.mu.Lock()
			return false, errClosed
		}
		if m.ID == nil || *m.ID == "" || len(*m.ID) > 128 {
			c.mu.Unlock()
			_, err := bad("Invalid message: a subscribe needs an id of 1 to 128 bytes")
			c.mu.Lock()
			return false, err
		}
		if c.active[*m.ID] {
			c.mu.Unlock()
			c.closeWith(closeSubscriberTaken, "Subscriber for "+*m.ID+" already exists")
			c.mu.Lock()
			return false, errClosed
		}
		if reason, msg := checkBody(m.Payload, c.l.inputs); reason != "" {
			c.mu.Unlock()
			_, err := bad("Invalid message: " + msg)
			c.mu.Lock()
			return false, err
		}
		if len(c.active) >= c.l.limits.MaxSubscriptions {
			c.mu.Unlock()
			refusal, _ := json.Marshal(map[string]any{"type": "error", "id": *m.ID, "payload": []map[string]any{{
				"message":    fmt.Sprintf("this connection holds its limit of %d subscriptions", c.l.limits.MaxSubscriptions),
				"extensions": map[string]any{"code": errcode.Unavailable},
			}}})
			err := c.send(outgoing{data: refusal})
			c.mu.Lock()
			return true, err
		}
		c.active[*m.ID] = true
	case "complete":
		if m.ID != nil {
			delete(c.active, *m.ID)
		}
	case "ping", "pong":
	default:
		c.mu.Unlock()
		_, err := bad("Invalid message: unknown type")
		c.mu.Lock()
		return false, err
	}
	return false, nil
}

// WriteJSON queues a message for the writer. While the queue is full it
// waits up to SlowTimeout, then disconnects the client as a slow reader.
func (c *liveConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var m struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	}
	if json.Unmarshal(data, &m) == nil && (m.Type == "complete" || m.Type == "error") && m.ID != "" {
		c.mu.Lock()
		delete(c.active, m.ID)
		c.mu.Unlock()
	}
	return c.send(outgoing{data: data})
}

func (c *liveConn) send(m outgoing) error {
	select {
	case c.out <- m:
		return nil
	case <-c.done:
		return net.ErrClosed
	default:
	}
	t := time.NewTimer(c.l.limits.SlowTimeout)
	defer t.Stop()
	select {
	case c.out <- m:
		return nil
	case <-c.done:
		return net.ErrClosed
	case <-t.C:
		c.closeWith(closePolicy, fmt.Sprintf("slow reader: %d messages waited over %s to be sent", cap(c.out), c.l.limits.SlowTimeout))
		return net.ErrClosed
	}
}

// WriteClose queues a close frame after the messages before it.
func (c *liveConn) WriteClose(code int, why string) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return nil
	}
	c.closing = true
	c.mu.Unlock()
	select {
	case c.out <- outgoing{close: true, code: coderws.StatusCode(code), why: why}:
	default:
		c.shut()
		go c.closeFrame(coderws.StatusCode(code), why)
	}
	return nil
}

// Close drops the connection unless a close frame is on its way.
func (c *liveConn) Close() error {
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return nil
	}
	c.shut()
	return c.conn.CloseNow()
}

// Subprotocol is the negotiated subprotocol; a client that offered none
// of ours gets "none", which the transport refuses.
func (c *liveConn) Subprotocol() string {
	if p := c.conn.Subprotocol(); p != "" {
		return p
	}
	return "none"
}

// SetReadLimit bounds the client's messages; a larger one closes the
// connection with 1009.
func (c *liveConn) SetReadLimit(n int64) { c.conn.SetReadLimit(n) }
