// Package access administers workspaces and API tokens, and turns a bearer
// token into the tenancy.Viewer a request acts as.
package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/apitoken"
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
	ws, err := client.Workspace.Create().SetSlug(slug).SetName(name).Save(tenancy.System(ctx))
	if ent.IsConstraintError(err) {
		return nil, errcode.Input("slug", "workspace %q already exists", slug)
	}
	if err != nil {
		return nil, fmt.Errorf("create workspace %q: %w", slug, err)
	}
	return ws, nil
}

// WorkspaceBySlug finds a workspace by slug (operator tools only).
func WorkspaceBySlug(ctx context.Context, client *ent.Client, slug string) (*ent.Workspace, error) {
	ws, err := client.Workspace.Query().Where(workspace.Slug(slug)).Only(tenancy.System(ctx))
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
	tok, err := b.Save(tenancy.System(ctx))
	if err != nil {
		return "", nil, fmt.Errorf("create token: %w", err)
	}
	return secret, tok, nil
}

// Authenticate returns the viewer a token acts as.
func Authenticate(ctx context.Context, client *ent.Client, secret string) (*tenancy.Viewer, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return nil, ErrInvalidToken
	}
	sys := tenancy.System(ctx)
	tok, err := client.APIToken.Query().Where(apitoken.TokenHash(hashToken(secret))).Only(sys)
	if ent.IsNotFound(err) {
		return nil, ErrInvalidToken
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	now := time.Now()
	if tok.RevokedAt != nil || (tok.ExpiresAt != nil && now.After(*tok.ExpiresAt)) {
		return nil, ErrInvalidToken
	}
	if tok.LastUsedAt == nil || now.Sub(*tok.LastUsedAt) > time.Minute {
		// Best effort: a failed bookkeeping write must not fail the request.
		_ = client.APIToken.UpdateOneID(tok.ID).SetLastUsedAt(now).Exec(sys)
	}
	v := &tenancy.Viewer{WorkspaceID: tok.WorkspaceID, Role: tenancy.Role(tok.Role), TokenID: tok.ID}
	if tok.MemberID != nil {
		v.MemberID = *tok.MemberID
	}
	return v, nil
}

// RevokeToken revokes a token of the workspace by ID.
func RevokeToken(ctx context.Context, client *ent.Client, ws *ent.Workspace, id string) error {
	n, err := client.APIToken.Update().
		Where(apitoken.WorkspaceID(ws.ID), apitoken.IDEQ(pulidOf(id)), apitoken.RevokedAtIsNil()).
		SetRevokedAt(time.Now()).
		Save(tenancy.System(ctx))
	if err != nil {
		return err
	}
	if n == 0 {
		return errcode.New(errcode.NotFound, "no active token %q in workspace %q", id, ws.Slug)
	}
	return nil
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func pulidOf(s string) pulid.ID { return pulid.ID(s) }
