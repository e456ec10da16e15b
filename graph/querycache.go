package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/rapportcrm/rapport/core/tenancy"
)

// Defaults of the parsed-query cache: an app sends the same few queries
// over and over, and parsing and validating one costs more than running a
// small page of it.
const (
	// DefaultQueryCacheSize is how many parsed queries a server keeps.
	DefaultQueryCacheSize = 1000
	// DefaultQueryCacheMax is the longest query text (bytes) that is
	// cached: a longer one is parsed on every request, so a tenant sending
	// distinct huge queries cannot make the cache hold gigabytes of
	// syntax trees.
	DefaultQueryCacheMax = 8 << 10
)

// queryCache keeps parsed, validated query documents per workspace: the
// same text sent by two workspaces is parsed once for each, so neither
// can learn from a response's timing what the other asks, nor push the
// other's queries out by flooding its own through a shared key space
// (each still shares the cache's size). Cached documents are shared by
// concurrent requests, so nothing may write to them: pageEdges copies
// what it changes.
type queryCache struct {
	lru      *lru.Cache[queryKey, *ast.QueryDocument]
	maxQuery int
}

// queryKey is a cached query's key: a struct rather than one string, so
// a lookup builds no string.
type queryKey struct {
	workspace string
	query     string
}

var _ graphql.Cache[*ast.QueryDocument] = (*queryCache)(nil)

func newQueryCache(size, maxQuery int) *queryCache {
	if size <= 0 {
		size = DefaultQueryCacheSize
	}
	if maxQuery <= 0 {
		maxQuery = DefaultQueryCacheMax
	}
	cache, err := lru.New[queryKey, *ast.QueryDocument](size)
	if err != nil {
		panic(err) // only for a size ≤ 0, replaced above
	}
	return &queryCache{lru: cache, maxQuery: maxQuery}
}

func (c *queryCache) key(ctx context.Context, query string) (queryKey, bool) {
	if c == nil || len(query) > c.maxQuery {
		return queryKey{}, false
	}
	k := queryKey{query: query}
	if v := tenancy.FromContext(ctx); v != nil {
		k.workspace = string(v.WorkspaceID)
	}
	return k, true
}

// Get returns the document parsed from query for the request's workspace.
func (c *queryCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	k, ok := c.key(ctx, query)
	if !ok {
		return nil, false
	}
	return c.lru.Get(k)
}

// Add keeps doc, parsed and validated from query, for the request's
// workspace.
func (c *queryCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if k, ok := c.key(ctx, query); ok {
		c.lru.Add(k, doc)
	}
}
