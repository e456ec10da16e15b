// Command seriallists rewrites gqlgen's generated executor so that the
// lists of a connection's edges are marshalled serially (marshalSerially,
// in graph/generated/serial.go) rather than with a goroutine per edge.
// gqlgen (v0.17) has no option for it: its worker_limit still starts a
// goroutine per element. It runs after gqlgen in graph/generate.go and is
// idempotent.
//
//	go run ./graph/internal/seriallists generated/generated.go
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
)

// edgeList matches the head of the marshaller of a list of edges, e.g.
// func (ec *executionContext) marshalOContactEdge2ᚕᚖ…ContactEdge(…) graphql.Marshaler {
var edgeList = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) marshal[ON]\w+Edge2ᚕ[^\n]*\{\n`)

const (
	concurrent = "graphql.MarshalSliceConcurrently("
	serial     = "marshalSerially("
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: seriallists FILE")
		os.Exit(2)
	}
	path := os.Args[1]
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, n := rewrite(src)
	if n == 0 {
		fmt.Fprintf(os.Stderr, "seriallists: no edge list marshaller in %s\n", path)
		os.Exit(1)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// rewrite replaces MarshalSliceConcurrently by marshalSerially in the body
// of every edge list marshaller of src, and returns how many marshallers
// it found (rewritten now or before).
func rewrite(src []byte) ([]byte, int) {
	var out bytes.Buffer
	n := 0
	for {
		loc := edgeList.FindIndex(src)
		if loc == nil {
			out.Write(src)
			return out.Bytes(), n
		}
		n++
		out.Write(src[:loc[1]])
		src = src[loc[1]:]
		// The body ends at the first line that closes a function.
		end := bytes.Index(src, []byte("\n}\n"))
		if end < 0 {
			end = len(src)
		}
		out.Write(bytes.Replace(src[:end], []byte(concurrent), []byte(serial), 1))
		src = src[end:]
	}
}
