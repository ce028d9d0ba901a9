package cli

import "context"

// runDatasets is implemented by the datasets issue; until then it says so.
func runDatasets(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
