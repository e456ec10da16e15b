package main

import (
	"strings"
	"testing"
)

const plain = `func (ec *executionContext) _Contact_firstName(ctx context.Context, field graphql.CollectedField, obj *ent.Contact) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Contact_firstName(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.FirstName, nil
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v string) graphql.Marshaler {
			return ec.marshalNString2ᚖstring(ctx, selections, v)
		},
		true,
		true,
	)
}
`

// A method (edges, computed fields) keeps ResolveField.
const method = `func (ec *executionContext) _Contact_organization(ctx context.Context, field graphql.CollectedField, obj *ent.Contact) (ret graphql.Marshaler) {
	return graphql.ResolveField(
		ctx,
		ec.OperationContext,
		field,
		func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {
			return ec.fieldContext_Contact_organization(ctx, field)
		},
		func(ctx context.Context) (any, error) {
			return obj.Organization(ctx)
		},
		nil,
		func(ctx context.Context, selections ast.SelectionSet, v *ent.Organization) graphql.Marshaler {
			return ec.marshalOOrganization2ᚖOrganization(ctx, selections, v)
		},
		true,
		false,
	)
}
`

// One with a directive's middleware chain keeps ResolveField too.
var directive = strings.Replace(strings.Replace(plain, "_Contact_firstName", "_Contact_secret", 2), "\t\tnil,\n", "\t\tec.directives,\n", 1)

// TestRewrite: only the plain field changes, to a direct call of its
// marshaller; a second pass changes nothing and still counts it.
func TestPlainFields(t *testing.T) {
	src := plain + method + directive
	out, n := plainFields([]byte(src))
	if n != 1 {
		t.Fatalf("found %d plain fields, want 1", n)
	}
	want := `func (ec *executionContext) _Contact_firstName(ctx context.Context, field graphql.CollectedField, obj *ent.Contact) (ret graphql.Marshaler) {
	return ec.marshalNString2ᚖstring(ctx, field.Selections, obj.FirstName) // plain field
}
` + method + directive
	if string(out) != want {
		t.Fatalf("rewrote to:\n%s\nwant:\n%s", out, want)
	}
	again, n := plainFields(out)
	if n != 1 || string(again) != want {
		t.Errorf("a second pass changed the file (%d found)", n)
	}
}
