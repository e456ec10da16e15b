package rollup

import "context"

// deals refreshes the deal rollups of the deals ids.
func (r *refresher) deals(ctx context.Context, ids []string) error { return nil }

// rebuildDeals recomputes the workspace's deal rollups.
func (r *refresher) rebuildDeals(ctx context.Context) error { return nil }

// checkDeals compares the workspace's deal rollups with a recomputation.
func (r *refresher) checkDeals(ctx context.Context) ([]Mismatch, error) { return nil, nil }
