package cli

import "context"

// runIngest is implemented by the ingest issue; until then it says so.
func runIngest(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
