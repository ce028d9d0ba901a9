package cli

import "context"

// runQuery is implemented by the query issue; until then it says so.
func runQuery(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
