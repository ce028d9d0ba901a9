package cli

import "context"

// runGenerate is implemented by the generate issue; until then it says so.
func runGenerate(ctx context.Context, env *Env, args []string) error {
	return &ExitError{Code: 1, Err: errNotYet}
}
