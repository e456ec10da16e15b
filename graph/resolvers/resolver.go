// Package resolvers implements the GraphQL schema in graph/schema. The
// resolvers are thin: the data layer (core/ent with the schema's hooks and
// privacy rules) enforces tenancy, validation and history.
package resolvers

import (
	"github.com/rapportcrm/rapport/core/ent"
	"github.com/rapportcrm/rapport/core/extension"
	"github.com/rapportcrm/rapport/core/extension/runjob"
	"github.com/rapportcrm/rapport/core/live"
	importjob "github.com/rapportcrm/rapport/core/transfer/job"
)

// Resolver is the root resolver. It holds no per-request state.
type Resolver struct {
	// Client is the ent client. Mutations use the request's transaction
	// (see tx).
	Client *ent.Client
	// Extensions runs plugins; nil when the server loads none.
	Extensions *extension.Registry
	// Imports queues import jobs; nil when the server has no job queue
	// (importRecords then only checks files).
	Imports importjob.Inserter
	// Runs queues the ranges of background runs; nil when the server has
	// no job queue (startScoring is then UNAVAILABLE).
	Runs runjob.Inserter
	// MaxUpload is the largest uploaded file, in bytes.
	MaxUpload int64
	// MaxImport is the largest file importRecords takes, in bytes;
	// MaxUpload when 0.
	MaxImport int64
	// Live feeds the subscriptions; nil refuses them.
	Live *live.Feed
	// LiveBuffer is how many messages one subscription holds ahead of its
	// connection's writer.
	LiveBuffer int
}
