package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestAWSCLIWalkthrough replays scripts/cwl-walkthrough.sh (the CloudWatch
// Logs walkthrough of a flow log user) with the AWS CLI against a real
// flowlens serve, with keys from 'flowlens keys create'. Without an AWS CLI
// it skips, unless FLOWLENS_REQUIRE_AWSCLI is set (make test sets it;
// scripts/setup.sh installs Debian's awscli).
func TestAWSCLIWalkthrough(t *testing.T) {
	cli := "/usr/bin/aws" // Debian's AWS CLI v2
	if _, err := os.Stat(cli); err != nil {
		if cli, err = exec.LookPath("aws"); err != nil {
			if os.Getenv("FLOWLENS_REQUIRE_AWSCLI") != "" {
				t.Fatal("no AWS CLI: install Debian's awscli (scripts/setup.sh does)")
			}
			t.Skip("no AWS CLI on this machine (FLOWLENS_REQUIRE_AWSCLI=1 makes this a failure)")
		}
	}
	data := t.TempDir()
	akid, secret := createKey(t, data, "awscli")
	srv := startServe(t, data)
	script, err := filepath.Abs(filepath.Join("..", "..", "scripts", "cwl-walkthrough.sh"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(t.Context(), "bash", script, srv.url)
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS="+cli, "AWS_ACCESS_KEY_ID="+akid, "AWS_SECRET_ACCESS_KEY="+secret,
		"AWS_DEFAULT_REGION=ap-northeast-1", "HOME="+home, "AWS_CONFIG_FILE="+filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"))
	out, err := cmd.CombinedOutput()
	t.Logf("%s (%s)\n%s", cli, script, out)
	if err != nil {
		t.Fatalf("the walkthrough failed: %v", err)
	}
}
