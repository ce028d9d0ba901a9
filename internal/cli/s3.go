package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/flowlens/flowlens/internal/bucket"
	"github.com/flowlens/flowlens/internal/s3"
	"github.com/flowlens/flowlens/internal/source"
)

// awsEnvVars are the variables that configure the S3 client; a command
// forwarded to the server carries the client's values of them.
var awsEnvVars = []string{
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION",
	"AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
}

// awsGetenv reads the AWS configuration from env when it sets any of it
// (a forwarded command carries the client's), else from the process.
func (e *Env) awsGetenv() func(string) string {
	if e.Getenv != nil {
		for _, k := range awsEnvVars {
			if e.Getenv(k) != "" {
				return e.Getenv
			}
		}
	}
	return os.Getenv
}

// awsVar reads one of awsEnvVars from m (nothing else: a forwarded
// command sees no other variable of the client).
func awsVar(m map[string]string, k string) string {
	for _, v := range awsEnvVars {
		if v == k {
			return m[k]
		}
	}
	return ""
}

// awsEnv returns the AWS variables env sets, to forward with a command.
func (e *Env) awsEnv() map[string]string {
	m := map[string]string{}
	get := e.awsGetenv()
	for _, k := range awsEnvVars {
		if v := get(k); v != "" {
			m[k] = v
		}
	}
	return m
}

// s3Client builds the S3 client from the environment.
func s3Client(ctx context.Context, env *Env) (*s3.Client, error) {
	return s3.New(ctx, s3.Config{Getenv: env.awsGetenv()})
}

// splitS3 separates s3:// arguments from paths.
func splitS3(args []string) (paths []string, urls []s3.URL, err error) {
	for _, a := range args {
		if !s3.IsURL(a) {
			paths = append(paths, a)
			continue
		}
		u, err := s3.ParseURL(a)
		if err != nil {
			return nil, nil, usageError("%v", err)
		}
		urls = append(urls, u)
	}
	return paths, urls, nil
}

// listS3 lists the objects of every URL in r, once each.
func listS3(ctx context.Context, env *Env, urls []s3.URL, r bucket.Range) ([]source.File, int, error) {
	c, err := s3Client(ctx, env)
	if err != nil {
		return nil, 0, err
	}
	var files []source.File
	seen := map[string]bool{}
	out := 0
	for _, u := range urls {
		if env.StderrIsTerminal {
			fmt.Fprintf(env.Stderr, "listing %s …\r", u)
		}
		l, err := bucket.List(ctx, c, u, r)
		if err != nil {
			return nil, 0, err
		}
		out += l.OutOfRange
		for _, f := range l.Objects {
			if !seen[f.Key] {
				seen[f.Key] = true
				files = append(files, f)
			}
		}
	}
	return files, out, nil
}

// hasS3Arg reports whether a command line names an s3:// location.
func hasS3Arg(args []string) bool {
	for _, a := range args {
		if strings.HasPrefix(a, "s3://") || strings.Contains(a, "=s3://") {
			return true
		}
	}
	return false
}
