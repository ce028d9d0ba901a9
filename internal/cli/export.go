package cli

import "context"

// runExport is implemented by the export issue; until then it says so.
func runExport(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
