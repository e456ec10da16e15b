package automation

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/contact"
	"github.com/rapportcrm/rapport/core/ent/delivery"
	"github.com/rapportcrm/rapport/core/pulid"
)

// recipient is one addressee of an email action, with the record its
// message is rendered from.
type recipient struct {
	addr string
	rec  *record
}

// recipients resolves an email action's addressees: the rendered To, or
// the workspace's contacts meeting the Recipients condition (at most
// MaxRecipients).
func (e *Engine) recipients(rs *runState, a compiledAction) ([]recipient, error) {
	if a.to != nil {
		addr := strings.TrimSpace(a.to.Render(rs.rec.Lookup))
		if _, err := mail.ParseAddress(addr); err != nil {
			return nil, permanent("send_email: the record gives no valid address (%q)", addr)
		}
		return []recipient{{addr: addr, rec: rs.rec}}, nil
	}
	cs, err := e.client.Contact.Query().
		Where(contact.EmailNEQ(""), contact.EmailNotNil()).
		Order(contact.ByID()).
		All(rs.ctx)
	if err != nil {
		return nil, err
	}
	var keys map[pulid.ID][]string
	if slices.Contains(a.recipients.Fields(), "contact.segments") {
		if keys, err = segmentKeys(rs.ctx, e.client, "contact", nil); err != nil {
			return nil, err
		}
	}
	var out []recipient
	seen := map[string]bool{}
	for _, c := range cs {
		cr := &record{Type: "contact", ID: c.ID, Fields: map[string]any{}}
		flatten(cr.Fields, "contact", c)
		cr.Fields["contact.name"] = strings.TrimSpace(c.FirstName + " " + c.LastName)
		cr.Fields["contact.segments"] = append([]string{}, keys[c.ID]...)
		if !a.recipients.Eval(cr) {
			continue
		}
		addr := lowerTrim(c.Email)
		if seen[addr] {
			continue
		}
		seen[addr] = true
		if len(out) == MaxRecipients {
			return nil, permanent("send_email: more than %d recipients match", MaxRecipients)
		}
		r := rs.rec.with("contact", c)
		r.Fields["contact.name"] = cr.Fields["contact.name"]
		r.Fields["contact.segments"] = cr.Fields["contact.segments"]
		out = append(out, recipient{addr: c.Email, rec: r})
	}
	return out, nil
}

// sendEmail sends one message per recipient. Each message is a delivery
// keyed (run, action, address): one recorded as delivered is skipped by
// any retry, so a recipient gets one message however often the run is
// retried.
func (e *Engine) sendEmail(ctx context.Context, rs *runState, i int, a compiledAction) error {
	if e.cfg.SMTPAddr == "" || e.cfg.SMTPFrom == "" {
		return permanent("send_email: no mail server configured (serve --smtp-addr and --smtp-from)")
	}
	rcpts, err := e.recipients(rs, a)
	if err != nil {
		return err
	}
	sort.Slice(rcpts, func(x, y int) bool { return rcpts[x].addr < rcpts[y].addr })
	var c *smtp.Client
	defer func() {
		if c != nil {
			_ = c.Quit()
		}
	}()
	for _, r := range rcpts {
		key := fmt.Sprintf("%s:%d:%s", rs.run.ID, i, lowerTrim(r.addr))
		d, err := e.delivery(ctx, rs, i, delivery.KindEmail, r.addr, key)
		if err != nil {
			return err
		}
		if d.Status == delivery.StatusDelivered {
			continue
		}
		msg := e.message(d, r.addr, a.subject.Render(r.rec.Lookup), a.body.Render(r.rec.Lookup))
		if c == nil {
			if c, err = e.dialSMTP(ctx); err != nil {
				_ = e.attempted(ctx, d, 0, err)
				return err
			}
		}
		err = e.submit(c, r.addr, msg)
		if rerr := e.attempted(ctx, d, 0, err); rerr != nil && err == nil {
			return rerr
		}
		if err != nil {
			_ = c.Close()
			c = nil
			return err
		}
	}
	return nil
}

func (e *Engine) dialSMTP(ctx context.Context) (*smtp.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(dctx, "tcp", e.cfg.SMTPAddr)
	if err != nil {
		return nil, fmt.Errorf("send_email: connecting to %s: %w", e.cfg.SMTPAddr, err)
	}
	c := smtp.NewClient(conn)
	c.CommandTimeout = 30 * time.Second
	c.SubmissionTimeout = 2 * time.Minute
	if err := c.Hello("rapport"); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("send_email: %w", err)
	}
	return c, nil
}

func (e *Engine) submit(c *smtp.Client, to string, msg []byte) error {
	if err := c.Mail(e.cfg.SMTPFrom, nil); err != nil {
		return fmt.Errorf("send_email: MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to, nil); err != nil {
		_ = c.Reset()
		return fmt.Errorf("send_email: RCPT TO %s: %w", to, err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("send_email: DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		_ = w.Close()
		return fmt.Errorf("send_email: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("send_email: %w", err)
	}
	return nil
}

// message renders an RFC 5322 message. Its Message-ID derives from the
// delivery, so a message re-sent after a crash can be recognised.
func (e *Engine) message(d *ent.Delivery, to, subject, body string) []byte {
	var b bytes.Buffer
	h := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	h("From", e.cfg.SMTPFrom)
	h("To", to)
	h("Subject", mime.QEncoding.Encode("utf-8", strings.ReplaceAll(strings.ReplaceAll(subject, "\r", " "), "\n", " ")))
	h("Date", time.Now().UTC().Format(time.RFC1123Z))
	h("Message-ID", "<"+string(d.ID)+"@rapport>")
	h("MIME-Version", "1.0")
	h("Content-Type", "text/plain; charset=utf-8")
	h("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	_, _ = qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n")))
	_ = qp.Close()
	return b.Bytes()
}
