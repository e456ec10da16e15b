// Package tenancy carries who is asking: the workspace, role and member a
// request acts for. The data layer reads it from the context to scope every
// query and write to one workspace; nothing else decides visibility.
package tenancy

import (
	"context"
	"time"

	"github.com/rapportcrm/rapport/core/pulid"
)

// Role is a member's or token's permission level in a workspace.
type Role string

// Roles, from most to least privileged.
const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
	RoleViewer Role = "viewer"
)

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleMember || r == RoleViewer }

// CanWrite reports whether the role may create, update or delete records.
func (r Role) CanWrite() bool { return r == RoleAdmin || r == RoleMember }

// Viewer is the identity a request acts as. A Viewer always belongs to
// exactly one workspace.
type Viewer struct {
	WorkspaceID pulid.ID
	Role        Role
	// MemberID is the member behind the token, if any.
	MemberID pulid.ID
	// TokenID is the API token used, if any.
	TokenID pulid.ID
}

type viewerKey struct{}
type systemKey struct{}

// NewContext returns a context acting as v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// FromContext returns the viewer of ctx, or nil.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

// System returns a context that bypasses workspace scoping. It is for the
// operator's own tools (migrations, workspace and token administration,
// token lookup) and must never be derived from a request.
func System(ctx context.Context) context.Context {
	return context.WithValue(ctx, systemKey{}, true)
}

// IsSystem reports whether ctx was made by System.
func IsSystem(ctx context.Context) bool {
	b, _ := ctx.Value(systemKey{}).(bool)
	return b
}

// Actor names who acts in ctx, for audit records: "automation:<id>",
// "member:<id>", "token:<id>", "system", or "" when nobody does.
func Actor(ctx context.Context) string {
	if c, ok := ctx.Value(automationKey{}).(automationCause); ok && c.id != "" {
		return "automation:" + c.id
	}
	if v := FromContext(ctx); v != nil {
		switch {
		case v.MemberID != "":
			return "member:" + string(v.MemberID)
		case v.TokenID != "":
			return "token:" + string(v.TokenID)
		}
		return "workspace:" + string(v.WorkspaceID)
	}
	if IsSystem(ctx) {
		return "system"
	}
	return ""
}

type automationKey struct{}

// automationCause is the automation run a context acts for.
type automationCause struct {
	id    string
	depth int
}

// WithAutomation returns a context acting for the automation automationID
// whose run was fired by a change at the given depth (0 for a person's
// change). Changes made through it are attributed to the automation and
// record depth+1, which is how automation loops are detected.
func WithAutomation(ctx context.Context, automationID string, depth int) context.Context {
	return context.WithValue(ctx, automationKey{}, automationCause{id: automationID, depth: depth + 1})
}

// AutomationDepth is how many automation runs led to the changes made
// through ctx: 0 when no automation acts in it.
func AutomationDepth(ctx context.Context) int {
	c, _ := ctx.Value(automationKey{}).(automationCause)
	return c.depth
}

type historyKey struct{}

// WithHistory returns a context whose changes are dated at: the timeline
// entries, record events and stage changes they write say they happened
// then, not now. Imports use it to keep a source's dates.
func WithHistory(ctx context.Context, at time.Time) context.Context {
	return context.WithValue(ctx, historyKey{}, at)
}

// Now is when the changes made through ctx happened: the time given to
// WithHistory, else the current time.
func Now(ctx context.Context) time.Time {
	if t, ok := ctx.Value(historyKey{}).(time.Time); ok && !t.IsZero() {
		return t
	}
	return time.Now()
}

type quietKey struct{}

// Quiet returns a context whose changes fire no automation: their record
// events are written (the outbox stays complete) but marked dispatched.
// Imports use it unless asked to fire automations.
func Quiet(ctx context.Context) context.Context {
	return context.WithValue(ctx, quietKey{}, true)
}

// IsQuiet reports whether ctx was made by Quiet.
func IsQuiet(ctx context.Context) bool {
	b, _ := ctx.Value(quietKey{}).(bool)
	return b
}

type untrailedKey struct{}

// Untrailed returns a context whose changes write no timeline entry, no
// record event and no stage change: for restoring a workspace archive,
// which restores those records themselves.
func Untrailed(ctx context.Context) context.Context {
	return context.WithValue(ctx, untrailedKey{}, true)
}

// IsUntrailed reports whether ctx was made by Untrailed.
func IsUntrailed(ctx context.Context) bool {
	b, _ := ctx.Value(untrailedKey{}).(bool)
	return b
}
