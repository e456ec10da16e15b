// Command rapport is the Rapport CRM server and its operator tools.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/rapportcrm/rapport/core/errcode"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRootCmd().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		if errcode.Of(err) == errcode.BadUserInput {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
