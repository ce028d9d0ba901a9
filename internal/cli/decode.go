package cli

import "context"

// runDecode is implemented by the decode issue; until then it says so.
func runDecode(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
