// Package automationtest gives tests of automations local receivers that
// count what they get: a webhook receiver that checks signatures and an
// SMTP server that keeps every message.
package automationtest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rapportcrm/rapport/core/automation/internal/webhook"
)

// listenReusable listens on a loopback port below the kernel's range of
// ephemeral ports, which it never gives to outgoing connections: after
// Down, no connection of another test can be holding the port when Up
// listens on it again. Without such a port it takes any.
func listenReusable() (net.Listener, error) {
	first := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				first = n
			}
		}
	}
	const low = 10_000
	for i := 0; first > low+1000 && i < 200; i++ {
		if ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", low+rand.IntN(first-low))); err == nil {
			return ln, nil
		}
	}
	return net.Listen("tcp", "127.0.0.1:0")
}

// Hook is one request a WebhookReceiver got.
type Hook struct {
	// Delivery and Event are the X-Rapport-Delivery and X-Rapport-Event
	// headers.
	Delivery, Event string
	// Body is the raw body.
	Body []byte
	// SignatureOK reports whether the signature verified.
	SignatureOK bool
}

// WebhookReceiver is a local webhook target. While Fail is set it answers
// 500 and records nothing; while Down it is not listening at all.
type WebhookReceiver struct {
	// URL is where to POST.
	URL    string
	secret []byte

	mu       sync.Mutex
	hooks    []Hook
	fail     bool
	inFlight int
	addr     string
	srv      *http.Server
	block    chan struct{}
}

// NewWebhookReceiver starts a receiver verifying signatures with secret; it
// stops when the test ends.
func NewWebhookReceiver(t testing.TB, secret string) *WebhookReceiver {
	t.Helper()
	ln, err := listenReusable()
	if err != nil {
		t.Fatal(err)
	}
	r := &WebhookReceiver{secret: []byte(secret), addr: ln.Addr().String(), URL: "http://" + ln.Addr().String() + "/hook"}
	r.serve(ln)
	t.Cleanup(func() { r.Down() })
	return r
}

func (r *WebhookReceiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 10 * time.Second}
	r.srv = srv
	go func() { _ = srv.Serve(ln) }()
}

func (r *WebhookReceiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	fail, block := r.fail, r.block
	r.mu.Unlock()
	if block != nil {
		r.mu.Lock()
		r.inFlight++
		r.mu.Unlock()
		defer func() {
			r.mu.Lock()
			r.inFlight--
			r.mu.Unlock()
		}()
		select {
		case <-block:
		case <-req.Context().Done():
			return
		}
	}
	if fail {
		http.Error(w, "receiver failing", http.StatusInternalServerError)
		return
	}
	err := webhook.Verify(r.secret, req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature), body, 5*time.Minute, time.Now())
	r.mu.Lock()
	r.hooks = append(r.hooks, Hook{Delivery: req.Header.Get("X-Rapport-Delivery"), Event: req.Header.Get("X-Rapport-Event"), Body: body, SignatureOK: err == nil})
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// SetFail makes the receiver answer 500 (true) or accept (false).
func (r *WebhookReceiver) SetFail(fail bool) {
	r.mu.Lock()
	r.fail = fail
	r.mu.Unlock()
}

// Hang makes every request wait until Release.
func (r *WebhookReceiver) Hang() {
	r.mu.Lock()
	r.block = make(chan struct{})
	r.mu.Unlock()
}

// InFlight is the number of requests hanging now.
func (r *WebhookReceiver) InFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inFlight
}

// Release lets hanging requests (and later ones) through.
func (r *WebhookReceiver) Release() {
	r.mu.Lock()
	if r.block != nil {
		close(r.block)
		r.block = nil
	}
	r.mu.Unlock()
}

// Down stops listening: connections are refused.
func (r *WebhookReceiver) Down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// Up listens again on the same address.
func (r *WebhookReceiver) Up(t testing.TB) {
	t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 300; i++ {
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	r.serve(ln)
	r.mu.Unlock()
}

// Hooks returns the accepted requests so far.
func (r *WebhookReceiver) Hooks() []Hook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Hook(nil), r.hooks...)
}

// Message is one email an SMTPReceiver got.
type Message struct {
	// From and To are the envelope's sender and recipient.
	From, To string
	// Subject and Body are decoded; MessageID is the Message-ID header.
	Subject, MessageID, Body string
}

// SMTPReceiver is a local SMTP server keeping every message.
type SMTPReceiver struct {
	// Addr is its host:port.
	Addr string
	mu   sync.Mutex
	msgs []Message
	// holdAfter, when not negative, holds every RCPT once that many
	// messages have arrived, until Release.
	holdAfter int
	release   chan struct{}
	inFlight  int
}

// HoldAfter makes the server accept n more messages, then hold every
// later one at RCPT TO (before any of its data) until Release.
func (r *SMTPReceiver) HoldAfter(n int) {
	r.mu.Lock()
	r.holdAfter = len(r.msgs) + n
	r.release = make(chan struct{})
	r.mu.Unlock()
}

// Release lets held messages (and later ones) through.
func (r *SMTPReceiver) Release() {
	r.mu.Lock()
	if r.release != nil {
		close(r.release)
		r.release = nil
	}
	r.holdAfter = -1
	r.mu.Unlock()
}

// InFlight is the number of messages held now.
func (r *SMTPReceiver) InFlight() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inFlight
}

// NewSMTPReceiver starts an SMTP server; it stops when the test ends.
func NewSMTPReceiver(t testing.TB) *SMTPReceiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &SMTPReceiver{Addr: ln.Addr().String(), holdAfter: -1}
	s := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{r: r}, nil }))
	s.Domain = "localhost"
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	s.MaxMessageBytes = 1 << 20
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { _ = s.Close() })
	return r
}

// Messages returns the messages so far.
func (r *SMTPReceiver) Messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.msgs...)
}

type session struct {
	r        *SMTPReceiver
	from, to string
}

func (s *session) Reset()        { s.from, s.to = "", "" }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	r := s.r
	r.mu.Lock()
	hold := r.holdAfter >= 0 && len(r.msgs) >= r.holdAfter
	release := r.release
	if hold {
		r.inFlight++
	}
	r.mu.Unlock()
	if hold {
		<-release
		r.mu.Lock()
		r.inFlight--
		r.mu.Unlock()
	}
	s.to = to
	return nil
}
func (s *session) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	var br io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		br = quotedprintable.NewReader(br)
	}
	body, _ := io.ReadAll(br)
	subject, _ := new(mimeDecoder).decode(m.Header.Get("Subject"))
	s.r.mu.Lock()
	s.r.msgs = append(s.r.msgs, Message{From: s.from, To: s.to, Subject: subject, MessageID: m.Header.Get("Message-ID"), Body: strings.TrimSpace(string(body))})
	s.r.mu.Unlock()
	return nil
}
