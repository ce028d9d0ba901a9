package cli

import (
	"context"
	"fmt"
	"runtime"
)

func runVersion(ctx context.Context, env *Env, args []string) error {
	fs := newFlagSet(env, "version", "version", "  flowlens version\n")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "flowlens %s (%s, %s/%s)\n", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
