package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
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
	lru      *lru.LRU[*ast.QueryDocument]
	maxQuery int
}

var _ graphql.Cache[*ast.QueryDocument] = (*queryCache)(nil)

func newQueryCache(size, maxQuery int) *queryCache {
	if size <= 0 {
		size = DefaultQueryCacheSize
	}
	if maxQuery <= 0 {
		maxQuery = DefaultQueryCacheMax
	}
	return &queryCache{lru: lru.New[*ast.QueryDocument](size), maxQuery: maxQuery}
}

func (c *queryCache) key(ctx context.Context, query string) (string, bool) {
	if c == nil || len(query) > c.maxQuery {
		return "", false
	}
	ws := ""
	if v := tenancy.FromContext(ctx); v != nil {
		ws = string(v.WorkspaceID)
	}
	return ws + "\x00" + query, true
}

// Get returns the document parsed from query for the request's workspace.
func (c *queryCache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	k, ok := c.key(ctx, query)
	if !ok {
		return nil, false
	}
	return c.lru.Get(ctx, k)
}

// Add keeps doc, parsed and validated from query, for the request's
// workspace.
func (c *queryCache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	if k, ok := c.key(ctx, query); ok {
		c.lru.Add(ctx, k, doc)
	}
}
