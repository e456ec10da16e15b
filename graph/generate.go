package graph

//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go run ./internal/gqlpost generated/generated.go
