package cli

import "context"

// runRetention is implemented by the retention issue; until then it says so.
func runRetention(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
