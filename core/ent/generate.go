// Package ent is the data access layer generated from the schema in
// /schema. Do not edit generated files; change the schema and run
// `go generate ./core/ent`.
package ent

//go:generate go run -mod=mod entc.go
