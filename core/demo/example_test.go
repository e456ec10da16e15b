package demo_test

import (
	"context"
	"fmt"
	"log"

	"github.com/rapportcrm/rapport/core/demo"
	"github.com/rapportcrm/rapport/core/store"
)

// Seed a fresh database with the demo workspace. Running it again finds
// the workspace and changes nothing.
func ExampleSeed() {
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:./rapport.db")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	res, err := demo.Seed(ctx, st.Client, demo.Options{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("workspace %s (new: %v): %d deals, %d orders\n",
		res.Workspace.Slug, res.Created, res.Counts.Deals, res.Counts.Orders)
}
