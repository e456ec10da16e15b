package main

import (
	"bytes"
	"regexp"
)

// edgeList matches the head of the marshaller of a list of edges, e.g.
// func (ec *executionContext) marshalOContactEdge2ᚕᚖ…ContactEdge(…) graphql.Marshaler {
var edgeList = regexp.MustCompile(`(?m)^func \(ec \*executionContext\) marshal[ON]\w+Edge2ᚕ[^\n]*\{\n`)

const (
	concurrent = "graphql.MarshalSliceConcurrently("
	serial     = "marshalSerially("
)

// serialLists replaces MarshalSliceConcurrently by marshalSerially in the body
// of every edge list marshaller of src, and returns how many marshallers
// it found (rewritten now or before).
func serialLists(src []byte) ([]byte, int) {
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
