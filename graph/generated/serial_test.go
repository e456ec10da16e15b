package generated

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// TestMarshalSerially: elements come back in order, each marshalled with
// a field context of its own holding its index; a panic in one element
// becomes that element's null and an error, the others are kept; with
// the panic handler omitted, a panic goes to the caller.
func TestMarshalSerially(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, func(ctx context.Context, err any) error {
		return errors.New("recovered")
	})
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{})
	var seen []int
	got := marshalSerially(ctx, 4, 0, false, func(ctx context.Context, i int) graphql.Marshaler {
		fc := graphql.GetFieldContext(ctx)
		seen = append(seen, *fc.Index)
		fc.Result = i // each element's context is its own
		if i == 2 {
			panic("element 2")
		}
		return graphql.MarshalInt(i * 10)
	})
	var buf bytes.Buffer
	got.MarshalGQL(&buf)
	if buf.String() != "[0,10,null,30]" {
		t.Errorf("marshalled %s, want [0,10,null,30]", buf.String())
	}
	if len(seen) != 4 || seen[0] != 0 || seen[3] != 3 {
		t.Errorf("indexes seen %v, want 0 1 2 3", seen)
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 || errs[0].Message != "recovered" {
		t.Errorf("errors %v, want one from the panic", errs)
	}
	if len(marshalSerially(ctx, 0, 0, false, nil)) != 0 {
		t.Errorf("an empty list is not empty")
	}
	defer func() {
		if recover() == nil {
			t.Errorf("with the panic handler omitted, the panic did not reach the caller")
		}
	}()
	marshalSerially(ctx, 1, 0, true, func(context.Context, int) graphql.Marshaler { panic("through") })
}

// TestEdgeListsMarshalSerially checks generated.go as committed: every
// marshaller of a list of edges uses marshalSerially (a regeneration that
// skipped graph/internal/gqlpost would bring back a goroutine per
// edge), and other lists keep gqlgen's concurrency.
func TestEdgeListsMarshalSerially(t *testing.T) {
	src, err := os.ReadFile("generated.go")
	if err != nil {
		t.Fatal(err)
	}
	fn := regexp.MustCompile(`(?s)\nfunc \(ec \*executionContext\) (marshal[ON]\w+2ᚕ\S*)\(.*?\n}\n`)
	edges, others := 0, 0
	for _, m := range fn.FindAllSubmatch(src, -1) {
		name, body := string(m[1]), m[0]
		isEdge := regexp.MustCompile(`^marshal[ON]\w+Edge2ᚕ`).MatchString(name)
		switch {
		case isEdge && !bytes.Contains(body, []byte("marshalSerially(")):
			t.Errorf("%s does not marshal serially", name)
		case isEdge:
			edges++
		case bytes.Contains(body, []byte("marshalSerially(")):
			t.Errorf("%s is not an edge list but marshals serially", name)
		case bytes.Contains(body, []byte("MarshalSliceConcurrently(")):
			others++
		}
	}
	if edges < 15 || others == 0 {
		t.Errorf("%d edge lists, %d other concurrent lists: the pattern no longer matches the generated code", edges, others)
	}
}
