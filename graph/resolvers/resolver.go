// Package resolvers implements the GraphQL schema in graph/schema. The
// resolvers are thin: the data layer (core/ent with the schema's hooks and
// privacy rules) enforces tenancy, validation and history.
package resolvers

import (
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/extension"
)

// Resolver is the root resolver. It holds no per-request state.
type Resolver struct {
	// Client is the ent client. Mutations use the request's transaction
	// (see tx).
	Client *ent.Client
	// Extensions runs plugins; nil when the server loads none.
	Extensions *extension.Registry
}
