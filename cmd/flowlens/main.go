// Command flowlens analyses AWS VPC Flow Logs on one machine: it decodes every
// delivery format, stores records in an embedded DuckDB database and answers
// Logs Insights queries and SQL over them.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/flowlens/flowlens/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	stopProfiles := startProfiles()
	code := cli.Main(ctx, os.Args[1:], cli.StdEnv())
	stopProfiles()
	stop()
	os.Exit(code)
}
