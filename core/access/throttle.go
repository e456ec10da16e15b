package access

import (
	"context"
	"fmt"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/loginfailure"
	"github.com/rapportcrm/rapport/core/ent/predicate"
)

// Throttle limits failed sign-ins per email and per client address. The
// failures are rows in the store, so the limits hold across every server
// sharing it. A zero limit leaves that side unlimited.
type Throttle struct {
	client *ent.Client
	// PerEmail is how many failures one email may have in Window.
	PerEmail int
	// PerIP is how many failures one client address may have in Window.
	PerIP int
	// Window is the span failures are counted over.
	Window time.Duration
	now    func() time.Time
}

// Default throttling limits.
const (
	// DefaultFailuresPerEmail is how many failed sign-ins an email may
	// have in DefaultFailureWindow.
	DefaultFailuresPerEmail = 5
	// DefaultFailuresPerIP is how many failed sign-ins a client address
	// may have in DefaultFailureWindow.
	DefaultFailuresPerIP = 30
	// DefaultFailureWindow is the span failures are counted over.
	DefaultFailureWindow = 15 * time.Minute
)

// NewThrottle returns a Throttle over client with the default limits.
func NewThrottle(client *ent.Client) *Throttle {
	return &Throttle{client: client, PerEmail: DefaultFailuresPerEmail, PerIP: DefaultFailuresPerIP,
		Window: DefaultFailureWindow, now: time.Now}
}

// Check returns how long the email or the address must wait before trying
// again: zero when they may try now.
func (t *Throttle) Check(ctx context.Context, email, ip string) (time.Duration, error) {
	sys := operator(ctx)
	now := t.now()
	since := now.Add(-t.Window)
	var wait time.Duration
	for _, c := range []struct {
		limit int
		where func(string) predicate.LoginFailure
		key   string
	}{
		{t.PerEmail, loginfailure.Email, NormalizeEmail(email)},
		{t.PerIP, loginfailure.IP, ip},
	} {
		if c.limit <= 0 || c.key == "" {
			continue
		}
		recent, err := t.client.LoginFailure.Query().
			Where(c.where(c.key), loginfailure.AtGT(since)).
			Order(ent.Desc(loginfailure.FieldAt)).
			Limit(c.limit).
			All(sys)
		if err != nil {
			return 0, fmt.Errorf("count sign-in failures: %w", err)
		}
		if len(recent) < c.limit {
			continue
		}
		// The oldest of the last limit failures leaves the window first.
		if w := recent[len(recent)-1].At.Add(t.Window).Sub(now); w > wait {
			wait = w
		}
	}
	if wait > 0 && wait < time.Second {
		wait = time.Second
	}
	return wait, nil
}

// Fail records a failed sign-in of email from ip.
func (t *Throttle) Fail(ctx context.Context, email, ip string) error {
	if len(ip) > 64 {
		ip = ip[:64]
	}
	email = NormalizeEmail(email)
	if len(email) > 320 {
		email = email[:320]
	}
	sys := operator(ctx)
	if err := t.client.LoginFailure.Create().SetEmail(email).SetIP(ip).SetAt(t.now()).Exec(sys); err != nil {
		return err
	}
	// Keep the table small: failures older than the window count no more.
	_, err := t.client.LoginFailure.Delete().Where(loginfailure.AtLT(t.now().Add(-t.Window))).Exec(sys)
	return err
}

// Succeed forgets the failures of email, after it signed in.
func (t *Throttle) Succeed(ctx context.Context, email string) error {
	_, err := t.client.LoginFailure.Delete().Where(loginfailure.Email(NormalizeEmail(email))).Exec(operator(ctx))
	return err
}
