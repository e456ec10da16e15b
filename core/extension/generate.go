package extension

//go:generate go run ./internal/catalogen -schema ../../schema -o ../../sdk/inputs/catalog_gen.go
