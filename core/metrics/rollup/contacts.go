package rollup

import "context"

// contacts refreshes the engagement rollups of the contacts ids.
func (r *refresher) contacts(ctx context.Context, ids []string) error { return nil }

// rebuildContacts recomputes the workspace's engagement rollups.
func (r *refresher) rebuildContacts(ctx context.Context) error { return nil }

// checkContacts compares the workspace's engagement rollups with a
// recomputation.
func (r *refresher) checkContacts(ctx context.Context) ([]Mismatch, error) { return nil, nil }
