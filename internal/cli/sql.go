package cli

import "context"

// runSQL is implemented by the sql issue; until then it says so.
func runSQL(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
