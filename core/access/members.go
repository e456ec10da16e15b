package access

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/ent/apitoken"
	"github.com/rapportcrm/rapport/core/ent/member"
	"github.com/rapportcrm/rapport/core/errcode"
	"github.com/rapportcrm/rapport/core/pulid"
	"github.com/rapportcrm/rapport/core/tenancy"
)

// Member management. The functions act in the workspace wsID with the
// context they are given: a request's (whose viewer the data layer scopes
// them to; the caller checks the viewer is an admin) or the operator's.

// rank orders roles by privilege.
var rank = map[tenancy.Role]int{tenancy.RoleViewer: 1, tenancy.RoleMember: 2, tenancy.RoleAdmin: 3}

// Members lists a workspace's members by name.
func Members(ctx context.Context, client *ent.Client, wsID pulid.ID) ([]*ent.Member, error) {
	return client.Member.Query().Where(member.WorkspaceID(wsID)).
		Order(ent.Asc(member.FieldName), ent.Asc(member.FieldID)).All(ctx)
}

// AddMember adds a member to the workspace. A second member with the same
// email is refused (BAD_USER_INPUT on email).
func AddMember(ctx context.Context, client *ent.Client, wsID pulid.ID, name, email string, role tenancy.Role) (*ent.Member, error) {
	if !role.Valid() {
		return nil, errcode.Input("role", "role must be admin, member or viewer, not %q", role)
	}
	if name == "" {
		name = email
	}
	m, err := client.Member.Create().SetWorkspaceID(wsID).SetName(name).SetEmail(email).SetRole(member.Role(role)).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, errcode.Input("email", "%s is already a member of this workspace", email)
	}
	return m, err
}

// MemberByID finds a member of the workspace by ID or, for the operator's
// tools, by email.
func MemberByID(ctx context.Context, client *ent.Client, wsID pulid.ID, idOrEmail string) (*ent.Member, error) {
	m, err := client.Member.Query().
		Where(member.WorkspaceID(wsID), member.Or(member.ID(pulid.ID(idOrEmail)), member.Email(idOrEmail))).
		Only(ctx)
	if ent.IsNotFound(err) || ent.IsNotSingular(err) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "id", Msg: "no such member in this workspace"}
	}
	return m, err
}

// SetMemberRole changes a member's role, atomically. Demoting the
// workspace's last admin is refused (BAD_USER_INPUT on role). Tokens issued
// to the member that grant more than the new role are lowered to it.
func SetMemberRole(ctx context.Context, client *ent.Client, wsID, id pulid.ID, role tenancy.Role) (*ent.Member, error) {
	if !role.Valid() {
		return nil, errcode.Input("role", "role must be admin, member or viewer, not %q", role)
	}
	var out *ent.Member
	err := inTx(ctx, client, func(c *ent.Client) error {
		m, err := lockMember(ctx, c, wsID, id)
		if err != nil {
			return err
		}
		if tenancy.Role(m.Role) == tenancy.RoleAdmin && role != tenancy.RoleAdmin {
			if err := keepAnAdmin(ctx, c, wsID, "role", "demote"); err != nil {
				return err
			}
		}
		if out, err = c.Member.UpdateOne(m).SetRole(member.Role(role)).Save(ctx); err != nil {
			return err
		}
		var higher []apitoken.Role
		for r, n := range rank {
			if n > rank[role] {
				higher = append(higher, apitoken.Role(r))
			}
		}
		if len(higher) == 0 {
			return nil
		}
		return c.APIToken.Update().
			Where(apitoken.WorkspaceID(wsID), apitoken.MemberID(m.ID), apitoken.RoleIn(higher...)).
			SetRole(apitoken.Role(role)).
			Exec(ctx)
	})
	if err == nil {
		tokensChanged(ctx)
	}
	return out, err
}

// RemoveMember removes a member from the workspace, atomically: the member
// is deleted, every token issued to it revoked, and the records it owned
// are left without an owner. Removing the workspace's last admin is refused
// (BAD_USER_INPUT on id).
func RemoveMember(ctx context.Context, client *ent.Client, wsID, id pulid.ID) error {
	err := inTx(ctx, client, func(c *ent.Client) error {
		m, err := lockMember(ctx, c, wsID, id)
		if err != nil {
			return err
		}
		if tenancy.Role(m.Role) == tenancy.RoleAdmin {
			if err := keepAnAdmin(ctx, c, wsID, "id", "remove"); err != nil {
				return err
			}
		}
		if err := c.APIToken.Update().
			Where(apitoken.WorkspaceID(wsID), apitoken.MemberID(m.ID), apitoken.RevokedAtIsNil()).
			SetRevokedAt(time.Now()).
			Exec(ctx); err != nil {
			return fmt.Errorf("revoke the member's tokens: %w", err)
		}
		return c.Member.DeleteOne(m).Exec(ctx)
	})
	if err == nil {
		tokensChanged(ctx)
	}
	return err
}

// lockMember reads a member of the workspace, locking its row on
// PostgreSQL until the transaction ends.
func lockMember(ctx context.Context, c *ent.Client, wsID, id pulid.ID) (*ent.Member, error) {
	q := c.Member.Query().Where(member.WorkspaceID(wsID), member.ID(id))
	q.Modify(forUpdate)
	m, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, &errcode.Error{Code: errcode.NotFound, Field: "id", Msg: "no such member in this workspace"}
	}
	return m, err
}

// keepAnAdmin refuses a change that would leave the workspace without an
// admin member. The admins' rows are locked on PostgreSQL, so two admins
// demoting each other at once cannot both succeed; SQLite runs one write
// transaction at a time.
func keepAnAdmin(ctx context.Context, c *ent.Client, wsID pulid.ID, field, verb string) error {
	q := c.Member.Query().Where(member.WorkspaceID(wsID), member.RoleEQ(member.RoleAdmin))
	q.Modify(forUpdate)
	admins, err := q.All(ctx)
	if err != nil {
		return err
	}
	if len(admins) <= 1 {
		return errcode.Input(field, "cannot %s the workspace's last admin: make another member admin first", verb)
	}
	return nil
}

func forUpdate(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}
