package cli

import "context"

// runDemo is implemented by the demo issue; until then it says so.
func runDemo(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
