package graph

//go:generate go tool gqlgen generate --config gqlgen.yml
//go:generate go run ./internal/seriallists generated/generated.go
//go:generate go run ./internal/plainfields generated/generated.go
