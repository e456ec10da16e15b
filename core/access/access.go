// Package access administers workspaces and API tokens, and turns a bearer
// token into the tenancy.Viewer a request acts as.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/apitoken"
	"github.com/rapportcrm/rapport/core/ent/automation"
	"github.com/rapportcrm/rapport/core/ent/workspace"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// TokenPrefix starts every API token, so that leaked tokens are easy to
// recognise in logs and scanners.
const TokenPrefix = "rpt_"

// ErrInvalidToken is returned for a token that is unknown, revoked or
// expired. The three are not told apart, on purpose.
var ErrInvalidToken = errcode.New(errcode.Unauthenticated, "invalid or expired token")

// CreateWorkspace creates a workspace with the given slug and name.
func CreateWorkspace(ctx context.Context, client *ent.Client, slug, name string) (*ent.Workspace, error) {
	if name == "" {
		name = slug
	}
	ws, err := client.Workspace.Create().SetSlug(slug).SetName(name).Save(operator(ctx))
	if ent.IsConstraintError(err) {
		if old, _ := client.Workspace.Query().Where(workspace.Slug(slug)).Only(operator(ctx)); old != nil && old.DeletedAt != nil {
			return nil, errcode.Input("slug", "workspace %q was deleted; its slug stays reserved", slug)
		}
		return nil, errcode.Input("slug", "workspace %q already exists", slug)
	}
	if err != nil {
		return nil, fmt.Errorf("create workspace %q: %w", slug, err)
	}
	return ws, nil
}

// WorkspaceBySlug finds a live (not deleted) workspace by slug (operator
// tools only).
func WorkspaceBySlug(ctx context.Context, client *ent.Client, slug string) (*ent.Workspace, error) {
	ws, err := client.Workspace.Query().Where(workspace.Slug(slug), workspace.DeletedAtIsNil()).Only(operator(ctx))
	if ent.IsNotFound(err) {
		return nil, errcode.New(errcode.NotFound, "no workspace %q", slug)
	}
	return ws, err
}

// TokenOptions describe a new token.
type TokenOptions struct {
	// Role is the token's role; required.
	Role tenancy.Role
	// Name is a label for people.
	Name string
	// TTL, when positive, makes the token expire.
	TTL time.Duration
}

// CreateToken issues a token for the workspace and returns its secret. The
// secret is not stored and cannot be shown again.
func CreateToken(ctx context.Context, client *ent.Client, ws *ent.Workspace, opts TokenOptions) (string, *ent.APIToken, error) {
	if !opts.Role.Valid() {
		return "", nil, errcode.Input("role", "role must be admin, member or viewer, not %q", opts.Role)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	secret := TokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw[:]))
	b := client.APIToken.Create().
		SetWorkspaceID(ws.ID).
		SetName(opts.Name).
		SetRole(apitoken.Role(opts.Role)).
		SetTokenHash(hashToken(secret)).
		SetHint(secret[:len(TokenPrefix)+6])
	if opts.TTL > 0 {
		b.SetExpiresAt(time.Now().Add(opts.TTL))
	}
	tok, err := b.Save(operator(ctx))
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return secret, tok, nil
}

// Authenticate returns the viewer a token acts as. A token of a deleted
// workspace does not authenticate, even if it was somehow left unrevoked.
// It reads the token from the database on every call; Tokens remembers
// verified tokens for a short while.
func Authenticate(ctx context.Context, client *ent.Client, secret string) (*tenancy.Viewer, error) {
	v, _, err := authenticate(ctx, client, secret, time.Now())
	return v, err
}

// authenticate is Authenticate at the time now, also returning when the
// token expires (nil if never).
func authenticate(ctx context.Context, client *ent.Client, secret string, now time.Time) (*tenancy.Viewer, *time.Time, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return nil, nil, ErrInvalidToken
	}
	sys := operator(ctx)
	tok, err := client.APIToken.Query().
		Where(apitoken.TokenHash(hashToken(secret)), apitoken.HasWorkspaceWith(workspace.DeletedAtIsNil())).
		Only(sys)
	if ent.IsNotFound(err) {
		return nil, nil, ErrInvalidToken
	}
	if err != nil {
		return nil, nil, fmt.Errorf("look up token: %w", err)
	}
	if tok.RevokedAt != nil || (tok.ExpiresAt != nil && !now.Before(*tok.ExpiresAt)) {
		return nil, nil, ErrInvalidToken
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
		// Best effort: a failed bookkeeping write must not fail the request.
		_ = client.APIToken.UpdateOneID(tok.ID).SetLastUsedAt(now).Exec(sys)
	}
	v := &tenancy.Viewer{WorkspaceID: tok.WorkspaceID, Role: tenancy.Role(tok.Role), TokenID: tok.ID}
	if tok.MemberID != nil {
		v.MemberID = *tok.MemberID
	}
	return v, tok.ExpiresAt, nil
}

// RevokeToken revokes a token of the workspace by ID.
func RevokeToken(ctx context.Context, client *ent.Client, ws *ent.Workspace, id string) error {
	n, err := client.APIToken.Update().
		Where(apitoken.WorkspaceID(ws.ID), apitoken.IDEQ(pulidOf(id)), apitoken.RevokedAtIsNil()).
		SetRevokedAt(time.Now()).
		Save(operator(ctx))
	if err != nil {
		return err
	}
	if n == 0 {
		return errcode.New(errcode.NotFound, "no active token %q in workspace %q", id, ws.Slug)
	}
	tokensChanged(ctx)
	return nil
}

// DeleteWorkspace deletes a workspace by archiving it, atomically: it
// sets the workspace's deleted_at, revokes every token of it and disables
// its automations. Its records stay, unreachable: no token of it
// authenticates, it is left out of workspace listings, and its slug stays
// reserved (a new workspace cannot take it, so links and integrations that
// name the slug never reach another tenant). It returns how many tokens it
// revoked. Callers check that whoever asks may do it; client may be a
// transaction's.
func DeleteWorkspace(ctx context.Context, client *ent.Client, ws *ent.Workspace) (revoked int, err error) {
	sys := operator(ctx)
	err = inTx(sys, client, func(c *ent.Client) error {
		now := time.Now()
		n, err := c.Workspace.Update().
			Where(workspace.ID(ws.ID), workspace.DeletedAtIsNil()).
			SetDeletedAt(now).
			Save(sys)
		if err != nil {
			return fmt.Errorf("archive workspace: %w", err)
		}
		if n == 0 {
			return errcode.New(errcode.NotFound, "no workspace %q", ws.Slug)
		}
		if revoked, err = c.APIToken.Update().
			Where(apitoken.WorkspaceID(ws.ID), apitoken.RevokedAtIsNil()).
			SetRevokedAt(now).
			Save(sys); err != nil {
			return fmt.Errorf("revoke tokens: %w", err)
		}
		if err := c.Automation.Update().
			Where(automation.WorkspaceID(ws.ID), automation.Enabled(true)).
			SetEnabled(false).
			Exec(sys); err != nil {
			return fmt.Errorf("disable automations: %w", err)
		}
		return nil
	})
	if err == nil {
		tokensChanged(ctx)
	}
	return revoked, err
}

// operator is ctx as the operator's tools act: system, with no viewer.
func operator(ctx context.Context) context.Context {
	return tenancy.System(tenancy.NewContext(ctx, nil))
}

// inTx runs f in a transaction of client, or in client's own when it is
// already a transaction's.
func inTx(ctx context.Context, client *ent.Client, f func(*ent.Client) error) error {
	tx, err := client.Tx(ctx)
	if errors.Is(err, ent.ErrTxStarted) {
		return f(client)
	}
	if err != nil {
		return err
	}
	if err := f(tx.Client()); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func pulidOf(s string) pulid.ID { return pulid.ID(s) }
