package access

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/account"
	"github.com/rapportcrm/rapport/core/ent/accountlink"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/ent/session"
	"github.com/rapportcrm/rapport/core/ent/workspace"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Accounts are people who sign in with an email and a password. An account
// is global; the workspaces it works in are those with a member of the
// account's email, with that member's role.

// LinkPrefix starts the secret of every one-time link.
const LinkPrefix = "rpl_"

// Default lifetimes of one-time links.
const (
	// DefaultInviteTTL is how long an invite link works.
	DefaultInviteTTL = 72 * time.Hour
	// DefaultResetTTL is how long a password reset link works.
	DefaultResetTTL = time.Hour
)

// Errors of sign-in and links.
var (
	// ErrWrongPassword is the answer to a wrong email or a wrong
	// password; the two are not told apart.
	ErrWrongPassword = errcode.New(errcode.Unauthenticated, "wrong email or password")
	// ErrLinkExpired is the answer to a link that is unknown, used or
	// expired.
	ErrLinkExpired = errcode.New(errcode.LinkExpired, "this link was already used or has expired: ask for a new one")
	// ErrAccountDisabled is the answer to signing in to a disabled account.
	ErrAccountDisabled = errcode.New(errcode.Forbidden, "this account is disabled")
)

// NormalizeEmail is the form accounts and links store an email in:
// trimmed and lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// Link purposes.
const (
	// PurposeInvite is a link to sign up, sent to a new member.
	PurposeInvite = "invite"
	// PurposeReset is a link to set a new password.
	PurposeReset = "reset"
)

// Invite makes email a member of ws with role (adding the member, named
// name, unless one with that email exists: then its role is kept) and
// issues a one-time sign-up link secret for it, valid for ttl
// (DefaultInviteTTL when not positive). The secret is not stored.
func Invite(ctx context.Context, client *ent.Client, ws *ent.Workspace, email, name string, role tenancy.Role, ttl time.Duration) (string, *ent.Member, error) {
	email = NormalizeEmail(email)
	if !role.Valid() {
		return "", nil, errcode.Input("role", "role must be admin, member or viewer, not %q", role)
	}
	if ttl <= 0 {
		ttl = DefaultInviteTTL
	}
	sys := operator(ctx)
	m, err := client.Member.Query().Where(member.WorkspaceID(ws.ID), member.EmailEqualFold(email)).First(sys)
	if ent.IsNotFound(err) {
		m, err = AddMember(sys, client, ws.ID, name, email, role)
	}
	if err != nil {
		return "", nil, err
	}
	secret, err := newLink(sys, client, PurposeInvite, email, &ws.ID, &role, ttl)
	return secret, m, err
}

// ResetLink issues a one-time link secret to set a new password for the
// account of email, valid for ttl (DefaultResetTTL when not positive).
func ResetLink(ctx context.Context, client *ent.Client, email string, ttl time.Duration) (string, error) {
	email = NormalizeEmail(email)
	if ttl <= 0 {
		ttl = DefaultResetTTL
	}
	sys := operator(ctx)
	if _, err := client.Account.Query().Where(account.Email(email)).Only(sys); ent.IsNotFound(err) {
		return "", errcode.New(errcode.NotFound, "no account for %s: invite them instead", email)
	} else if err != nil {
		return "", err
	}
	return newLink(sys, client, PurposeReset, email, nil, nil, ttl)
}

func newLink(ctx context.Context, client *ent.Client, purpose, email string, ws *pulid.ID, role *tenancy.Role, ttl time.Duration) (string, error) {
	secret, err := newSecret(LinkPrefix)
	if err != nil {
		return "", err
	}
	b := client.AccountLink.Create().
		SetTokenHash(hashToken(secret)).
		SetPurpose(accountlink.Purpose(purpose)).
		SetEmail(email).
		SetNillableWorkspaceID(ws).
		SetExpiresAt(time.Now().Add(ttl))
	if role != nil {
		b.SetRole(accountlink.Role(*role))
	}
	if err := b.Exec(ctx); err != nil {
		return "", fmt.Errorf("create link: %w", err)
	}
	return secret, nil
}

// newSecret returns prefix and 32 random bytes in lower-case base32.
func newSecret(prefix string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:])), nil
}

// LinkInfo is what a one-time link is for.
type LinkInfo struct {
	// Purpose is PurposeInvite or PurposeReset.
	Purpose string
	// Email is whom the link was sent to.
	Email string
	// Workspace is the workspace an invite is to; nil for a reset or
	// when the workspace was deleted.
	Workspace *ent.Workspace
}

// Link returns what a link is for, without using it; ErrLinkExpired when
// it is unknown, used or expired.
func Link(ctx context.Context, client *ent.Client, secret string) (*LinkInfo, error) {
	l, err := findLink(operator(ctx), client, secret, time.Now())
	if err != nil {
		return nil, err
	}
	info := &LinkInfo{Purpose: string(l.Purpose), Email: l.Email}
	if l.WorkspaceID != nil {
		ws, err := client.Workspace.Query().Where(workspace.ID(*l.WorkspaceID), workspace.DeletedAtIsNil()).Only(operator(ctx))
		if err != nil && !ent.IsNotFound(err) {
			return nil, err
		}
		info.Workspace = ws
	}
	return info, nil
}

func findLink(ctx context.Context, client *ent.Client, secret string, now time.Time) (*ent.AccountLink, error) {
	if !strings.HasPrefix(secret, LinkPrefix) || len(secret) > 200 {
		return nil, ErrLinkExpired
	}
	l, err := client.AccountLink.Query().Where(accountlink.TokenHash(hashToken(secret))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, ErrLinkExpired
	}
	if err != nil {
		return nil, err
	}
	if l.UsedAt != nil || !now.Before(l.ExpiresAt) {
		return nil, ErrLinkExpired
	}
	return l, nil
}

// useLink marks a link of purpose used, in the transaction of c: of two
// requests using one link at once, one wins.
func useLink(ctx context.Context, c *ent.Client, secret, purpose string) (*ent.AccountLink, error) {
	now := time.Now()
	l, err := findLink(ctx, c, secret, now)
	if err != nil {
		return nil, err
	}
	if string(l.Purpose) != purpose {
		return nil, errcode.Input("token", "this is not a %s link", purpose)
	}
	n, err := c.AccountLink.Update().
		Where(accountlink.ID(l.ID), accountlink.UsedAtIsNil(), accountlink.ExpiresAtGT(now)).
		SetUsedAt(now).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, ErrLinkExpired
	}
	return l, nil
}

// SignUp uses an invite link: it creates the account of the link's email
// with name and password, and marks the link used. An email that already
// has an account is refused (BAD_USER_INPUT: sign in instead), and so is a
// password the policy refuses.
func SignUp(ctx context.Context, client *ent.Client, secret, name, password string) (*ent.Account, error) {
	sys := operator(ctx)
	l, err := findLink(sys, client, secret, time.Now())
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(password, l.Email); err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, errcode.Input("name", "a name is required")
	}
	if len(name) > 200 {
		return nil, errcode.Input("name", "the name is longer than 200 bytes")
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	var acc *ent.Account
	err = inTx(sys, client, func(c *ent.Client) error {
		l, err := useLink(sys, c, secret, PurposeInvite)
		if err != nil {
			return err
		}
		if n, err := c.Account.Query().Where(account.Email(l.Email)).Count(sys); err != nil {
			return err
		} else if n > 0 {
			return errcode.Input("email", "%s already has an account: sign in instead", l.Email)
		}
		acc, err = c.Account.Create().SetEmail(l.Email).SetName(name).SetPasswordHash(hash).Save(sys)
		if ent.IsConstraintError(err) {
			return errcode.Input("email", "%s already has an account: sign in instead", l.Email)
		}
		return err
	})
	return acc, err
}

// ResetPassword uses a reset link: it sets the account's password and
// revokes every session of the account, atomically.
func ResetPassword(ctx context.Context, client *ent.Client, secret, password string) (*ent.Account, error) {
	sys := operator(ctx)
	l, err := findLink(sys, client, secret, time.Now())
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(password, l.Email); err != nil {
		return nil, err
	}
	hash, err := HashPassword(password)
	if err != nil {
		return nil, err
	}
	var acc *ent.Account
	err = inTx(sys, client, func(c *ent.Client) error {
		l, err := useLink(sys, c, secret, PurposeReset)
		if err != nil {
			return err
		}
		acc, err = c.Account.Query().Where(account.Email(l.Email)).Only(sys)
		if ent.IsNotFound(err) {
			return ErrLinkExpired
		}
		if err != nil {
			return err
		}
		if acc, err = c.Account.UpdateOne(acc).SetPasswordHash(hash).Save(sys); err != nil {
			return err
		}
		return c.Session.Update().
			Where(session.AccountID(acc.ID), session.RevokedAtIsNil()).
			SetRevokedAt(time.Now()).
			Exec(sys)
	})
	if err == nil {
		tokensChanged(ctx)
	}
	return acc, err
}

// SignIn checks an email and password and returns the account. A wrong
// password and an unknown email both give ErrWrongPassword, in about the
// same time; a disabled account with the right password gives
// ErrAccountDisabled.
func SignIn(ctx context.Context, client *ent.Client, email, password string) (*ent.Account, error) {
	email = NormalizeEmail(email)
	if len(password) > MaxPasswordBytes || len(email) > 320 {
		return nil, ErrWrongPassword
	}
	acc, err := client.Account.Query().Where(account.Email(email)).Only(operator(ctx))
	if ent.IsNotFound(err) {
		verifyDummy(password)
		return nil, ErrWrongPassword
	}
	if err != nil {
		return nil, err
	}
	ok, err := VerifyPassword(acc.PasswordHash, password)
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", acc.ID, err)
	}
	if !ok {
		return nil, ErrWrongPassword
	}
	if acc.Disabled {
		return nil, ErrAccountDisabled
	}
	return acc, nil
}

// Membership is one workspace an account works in.
type Membership struct {
	Workspace *ent.Workspace
	Member    *ent.Member
}

// Memberships lists the live workspaces with a member of email, by slug.
func Memberships(ctx context.Context, client *ent.Client, email string) ([]Membership, error) {
	sys := operator(ctx)
	ms, err := client.Member.Query().
		Where(member.EmailEqualFold(NormalizeEmail(email)), member.HasWorkspaceWith(workspace.DeletedAtIsNil())).
		WithWorkspace().
		All(sys)
	if err != nil {
		return nil, err
	}
	out := make([]Membership, 0, len(ms))
	for _, m := range ms {
		out = append(out, Membership{Workspace: m.Edges.Workspace, Member: m})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Workspace.Slug < out[j].Workspace.Slug })
	return out, nil
}
