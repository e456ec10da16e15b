package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent/schema"
)

// crudAnnotations exposes an entity as a root Relay connection with
// multi-field ordering and generated create/update inputs.
func crudAnnotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.QueryField(),
		entgql.RelayConnection(),
		entgql.MultiOrder(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
