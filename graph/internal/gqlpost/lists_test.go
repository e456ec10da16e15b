package main

import (
	"strings"
	"testing"
)

// TestRewrite: only edge list marshallers change, once; a second pass
// changes nothing.
func TestSerialLists(t *testing.T) {
	const src = `
func (ec *executionContext) marshalODealEdge2ᚕᚖDealEdge(ctx context.Context, sel ast.SelectionSet, v []*ent.DealEdge) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, f)
	return ret
}

func (ec *executionContext) marshalNLineItem2ᚕᚖLineItemᚄ(ctx context.Context, sel ast.SelectionSet, v []*ent.LineItem) graphql.Marshaler {
	ret := graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, f)
	return ret
}
`
	out, n := serialLists([]byte(src))
	if n != 1 {
		t.Fatalf("found %d edge lists, want 1", n)
	}
	want := strings.Replace(src, "graphql.MarshalSliceConcurrently(", "marshalSerially(", 1)
	if string(out) != want {
		t.Fatalf("rewrote to:\n%s\nwant:\n%s", out, want)
	}
	again, n := serialLists(out)
	if n != 1 || string(again) != want {
		t.Errorf("a second pass changed the file (%d found)", n)
	}
}
