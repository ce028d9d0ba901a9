package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/store"
)

const tokensExamples = `  TOKEN=$(flowlens tokens create --name ci)
  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8080/api/v1/datasets
  flowlens tokens list
  flowlens tokens revoke ci            # by name, or by the id 'tokens list' shows

Tokens are kept hashed in DIR/auth/tokens.json (readable by its owner only);
the plain token is printed once, by create. A revoked token stops working at
once, also on a running server.
`

// runTokens manages the API tokens of a data folder.
func runTokens(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || wantsHelp(args[:1]) {
		fs := newFlagSet(env, "tokens", "tokens create [--name N] | list [--output table|json] | revoke ID|NAME  [--data DIR]", tokensExamples)
		dataFlag(fs, env)
		fs.Usage()
		if len(args) == 0 {
			return usageError("name a subcommand: create, list or revoke")
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet(env, "tokens "+sub, "tokens "+sub+" [flags]", tokensExamples)
	data := dataFlag(fs, env)
	var name, output *string
	switch sub {
	case "create":
		name = fs.String("name", "", "a `name` that says who or what uses the token (default \"token\")")
	case "list":
		output = fs.String("output", "table", "result format: table, csv, json or jsonl")
	case "revoke":
	default:
		return usageError("unknown subcommand %q: create, list or revoke", sub)
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	ts := auth.Open(*data)
	switch sub {
	case "create":
		if fs.NArg() > 0 {
			return usageError("tokens create takes no arguments (the name goes in --name)")
		}
		plain, t, err := ts.Create(ctx, *name)
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, plain)
		fmt.Fprintf(env.Stderr, "created token %s (%s); it is shown only now\n", t.ID, t.Name)
		return nil
	case "list":
		if err := checkOutputFormat(*output); err != nil {
			return err
		}
		list, err := ts.List(ctx)
		if err != nil {
			return err
		}
		res := &store.Result{Columns: []string{"id", "name", "created", "revoked"}, Types: []string{"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"}}
		for _, t := range list {
			rev := ""
			if t.Revoked() {
				rev = t.RevokedAt.UTC().Format(time.RFC3339)
			}
			res.Rows = append(res.Rows, []any{t.ID, t.Name, t.CreatedAt.UTC().Format(time.RFC3339), rev})
		}
		return writeResult(env.Stdout, *output, res)
	default:
		if fs.NArg() != 1 {
			return usageError("name the token to revoke: its id or its name")
		}
		hit, err := ts.Revoke(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		for _, t := range hit {
			fmt.Fprintf(env.Stderr, "revoked token %s (%s)\n", t.ID, t.Name)
		}
		return nil
	}
}
