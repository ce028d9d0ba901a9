package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
	"github.com/flowlens/flowlens/internal/cwlogs"
	"github.com/flowlens/flowlens/internal/metricfilter"
	"github.com/flowlens/flowlens/internal/query"
	"github.com/flowlens/flowlens/internal/store"
	"github.com/flowlens/flowlens/internal/store/duckdb"
)

const keysExamples = `  eval "$(flowlens keys create --name laptop)"    # exports AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
  aws --endpoint-url http://127.0.0.1:8080 --region us-east-1 logs describe-log-groups
  flowlens keys list
  flowlens keys revoke laptop          # by name, key id or the id 'keys list' shows

Access keys sign requests to the CloudWatch Logs API of 'flowlens serve'
(AWS Signature Version 4, service "logs", any region). They are entries of
DIR/auth/tokens.json; the secret is not stored there: it is derived from
the access key id under a master key in DIR/auth/access-keys.master, or in
the file $FLOWLENS_ACCESS_KEY_MASTER names (keep it outside the data folder
so that a copy of the folder reveals no secret). A revoked key stops working
at once, also on a running server.
`

// accessKeyStore opens the token store with the master key where
// $FLOWLENS_ACCESS_KEY_MASTER says.
func accessKeyStore(env *Env, dir string) *auth.Store {
	ts := auth.Open(dir)
	if p := env.Getenv("FLOWLENS_ACCESS_KEY_MASTER"); p != "" {
		ts.SetMasterKeyFile(p)
	}
	return ts
}

// runKeys manages the access keys of a data folder.
func runKeys(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 || wantsHelp(args[:1]) {
		fs := newFlagSet(env, "keys", "keys create [--name N] | list [--output table|json] | revoke ID|NAME  [--data DIR]", keysExamples)
		dataFlag(fs, env)
		fs.Usage()
		if len(args) == 0 {
			return usageError("name a subcommand: create, list or revoke")
		}
		return nil
	}
	sub, rest := args[0], args[1:]
	fs := newFlagSet(env, "keys "+sub, "keys "+sub+" [flags]", keysExamples)
	data := dataFlag(fs, env)
	var name, output *string
	switch sub {
	case "create":
		name = fs.String("name", "", "a `name` that says who or what uses the key (default \"access-key\")")
	case "list":
		output = fs.String("output", "table", "result format: table, csv, json or jsonl")
	case "revoke":
	default:
		return usageError("unknown subcommand %q: create, list or revoke", sub)
	}
	if err := parseFlags(fs, rest); err != nil {
		return err
	}
	ts := accessKeyStore(env, *data)
	switch sub {
	case "create":
		if fs.NArg() > 0 {
			return usageError("keys create takes no arguments (the name goes in --name)")
		}
		akid, secret, t, err := ts.CreateAccessKey(ctx, *name)
		if err != nil {
			return err
		}
		// export: eval "$(flowlens keys create)" then configures the
		// commands the shell runs (the AWS CLI), not just the shell
		fmt.Fprintf(env.Stdout, "export AWS_ACCESS_KEY_ID=%s\nexport AWS_SECRET_ACCESS_KEY=%s\n", akid, secret)
		fmt.Fprintf(env.Stderr, "created access key %s (%s, id %s); the secret is shown only now\n", akid, t.Name, t.ID)
		return nil
	case "list":
		if err := checkOutputFormat(*output); err != nil {
			return err
		}
		list, err := ts.AccessKeys(ctx)
		if err != nil {
			return err
		}
		res := &store.Result{Columns: []string{"id", "access_key_id", "name", "created", "revoked"},
			Types: []string{"VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"}}
		for _, t := range list {
			rev := ""
			if t.Revoked() {
				rev = t.RevokedAt.UTC().Format(time.RFC3339)
			}
			res.Rows = append(res.Rows, []any{t.ID, t.AccessKeyID, t.Name, t.CreatedAt.UTC().Format(time.RFC3339), rev})
		}
		return writeResult(env.Stdout, *output, res)
	default:
		if fs.NArg() != 1 {
			return usageError("name the key to revoke: its access key id, its id or its name")
		}
		hit, err := ts.RevokeAccessKey(ctx, fs.Arg(0))
		if err != nil {
			return err
		}
		for _, t := range hit {
			fmt.Fprintf(env.Stderr, "revoked access key %s (%s)\n", t.AccessKeyID, t.Name)
		}
		return nil
	}
}

// newCWLogs builds the CloudWatch Logs API of flowlens serve; its queries
// run maxRunning at once (the others wait, Scheduled) and end Timeout after
// timeout.
func newCWLogs(env *Env, dir, authMode string, maxAge time.Duration, maxRunning int, timeout time.Duration, st store.Backend, engine *query.Engine, tokens *auth.Store, writeMu sync.Locker, logger *slog.Logger) (*cwlogs.Server, error) {
	cfg := cwlogs.DefaultConfig()
	cfg.MaxRunning, cfg.QueryTimeout = maxRunning, timeout
	cfg.Dir = filepath.Join(dir, "cwlogs")
	switch authMode {
	case "verify":
	case "any":
		cfg.Verify = false
		logger.Warn("the CloudWatch Logs API accepts every request (--cwl-auth any)")
	default:
		return nil, usageError("--cwl-auth %q: verify or any", authMode)
	}
	cfg.MaxEventAge = maxAge
	if maxAge == 0 {
		cfg.MaxEventAge = -1
	}
	if p := env.Getenv("FLOWLENS_ACCESS_KEY_MASTER"); p != "" {
		tokens.SetMasterKeyFile(p)
	}
	return cwlogs.New(cfg, cwlogs.Deps{Logger: logger, Store: st, Engine: engine, Tokens: tokens, WriteMu: writeMu, Filters: metricfilter.Open(dir),
		ValidDataset: duckdb.ValidDatasetName})
}
