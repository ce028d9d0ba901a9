package cwlogs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/flowlens/flowlens/internal/auth"
)

// TestSignature verifies requests signed by aws-sdk-go-v2's own signer,
// and refuses them once anything signed changes.
func TestSignature(t *testing.T) {
	tokens := auth.Open(t.TempDir())
	akid, secret, _, err := tokens.CreateAccessKey(context.Background(), "test")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	cases := []struct {
		name    string
		url     string
		headers map[string]string
		body    string
		signAt  time.Time
		creds   aws.Credentials
		service string
		tamper  func(*http.Request)
		want    string // error code, "" for success
	}{
		{name: "plain", url: "http://127.0.0.1:8080/", body: `{}`},
		{name: "query string", url: "http://127.0.0.1:8080/?b=2%202&a=x/y&a=1", body: `{"limit":5}`},
		{name: "spaces in a header", url: "http://h:1/", headers: map[string]string{"X-Amz-Meta-Note": "  two   spaces  "}, body: `{}`},
		{name: "unicode body", url: "http://h:1/", body: `{"logGroupName":"é/ü"}`},
		{name: "wrong secret", url: "http://h:1/", body: `{}`, creds: aws.Credentials{AccessKeyID: akid, SecretAccessKey: "x" + secret[1:]}, want: "InvalidSignatureException"},
		{name: "unknown key", url: "http://h:1/", body: `{}`, creds: aws.Credentials{AccessKeyID: "FLAKNOPE", SecretAccessKey: secret}, want: "UnrecognizedClientException"},
		{name: "other service", url: "http://h:1/", body: `{}`, service: "s3", want: "InvalidSignatureException"},
		{name: "16 minutes old", url: "http://h:1/", body: `{}`, signAt: now.Add(-16 * time.Minute), want: "InvalidSignatureException"},
		{name: "16 minutes ahead", url: "http://h:1/", body: `{}`, signAt: now.Add(16 * time.Minute), want: "InvalidSignatureException"},
		{name: "14 minutes old", url: "http://h:1/", body: `{}`, signAt: now.Add(-14 * time.Minute)},
		{name: "body changed", url: "http://h:1/", body: `{}`, tamper: func(r *http.Request) { r.Header.Set("X-Test-Body", `{"a":1}`) }, want: "InvalidSignatureException"},
		{name: "target changed", url: "http://h:1/", body: `{}`, tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "Logs_20140328.DeleteLogGroup") }, want: "InvalidSignatureException"},
		{name: "unsigned", url: "http://h:1/", body: `{}`, tamper: func(r *http.Request) { r.Header.Del("Authorization") }, want: "MissingAuthenticationTokenException"},
		{name: "not sigv4", url: "http://h:1/", body: `{}`, tamper: func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, want: "IncompleteSignatureException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tc.url, strings.NewReader(tc.body))
			r.Header.Set("Content-Type", "application/x-amz-json-1.1")
			r.Header.Set("X-Amz-Target", "Logs_20140328.DescribeLogGroups")
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			creds := tc.creds
			if creds.AccessKeyID == "" {
				creds = aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}
			}
			service := tc.service
			if service == "" {
				service = "logs"
			}
			at := tc.signAt
			if at.IsZero() {
				at = now
			}
			sum := sha256.Sum256([]byte(tc.body))
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), service, "eu-west-1", at); err != nil {
				t.Fatal(err)
			}
			body := []byte(tc.body)
			if tc.tamper != nil {
				tc.tamper(r)
				if b := r.Header.Get("X-Test-Body"); b != "" {
					body = []byte(b)
				}
			}
			id, err := authenticate(r, body, tokens, true, now)
			var ae *authError
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == "" && id.Name != "test":
				t.Fatalf("identity %+v", id)
			case tc.want != "" && !errors.As(err, &ae):
				t.Fatalf("got %v, want %s", err, tc.want)
			case tc.want != "" && ae.code != tc.want:
				t.Fatalf("got %s (%s), want %s", ae.code, ae.msg, tc.want)
			}
		})
	}
	// a revoked key
	if _, err := tokens.RevokeAccessKey(context.Background(), akid); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "http://h:1/", bytes.NewReader(nil))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret}, r,
		hex.EncodeToString(sha256.New().Sum(nil)), "logs", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	var ae *authError
	if _, err := authenticate(r, nil, tokens, true, now); !errors.As(err, &ae) || ae.code != "UnrecognizedClientException" {
		t.Fatalf("revoked key: %v", err)
	}
	// --cwl-auth any
	if _, err := authenticate(httptest.NewRequest("POST", "http://h:1/", nil), nil, tokens, false, now); err != nil {
		t.Fatalf("verify off: %v", err)
	}
}

func TestDatasetFor(t *testing.T) {
	valid := func(s string) error {
		if s == "" || len(s) > 63 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') || strings.ContainsAny(s, "/#") {
			return errors.New("invalid")
		}
		return nil
	}
	taken := map[string]bool{"flowlogs.prod": false, "dup": true}
	for _, tc := range []struct{ in, want string }{
		{"my-flow-log", "my-flow-log"},
		{"/flowlogs/prod", "flowlogs.prod"},
		{"/aws/vpc#1", "aws.vpc.1"},
		{"123", "g123"},
		{"dup", "dup-"},
		{strings.Repeat("a", 100), strings.Repeat("a", 54) + "-"},
	} {
		got := datasetFor(tc.in, valid, func(d string) bool { return taken[d] })
		if !strings.HasPrefix(got, tc.want) || valid(got) != nil || (strings.HasSuffix(tc.want, "-") && len(got) != len(tc.want)+8) {
			t.Errorf("datasetFor(%q) = %q, want %q…", tc.in, got, tc.want)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20240531/us-east-1/logs/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd")
	f.Add("AWS4-HMAC-SHA256 Credential=//////, SignedHeaders=, Signature=")
	f.Add("Bearer flt_x")
	f.Fuzz(func(t *testing.T, h string) {
		s, err := parseAuthorization(h)
		if err == nil && (s.akid == "" || s.signature == "" || len(s.signed) == 0) {
			t.Fatalf("accepted %q as %+v", h, s)
		}
	})
}

func FuzzPosToken(f *testing.F) {
	f.Add(int64(1441204247000), "2 1234567890123 eni-xxxxxxxx …", "f/x")
	f.Add(int64(-1), "", "n/")
	f.Fuzz(func(t *testing.T, ts int64, msg, junk string) {
		for _, dir := range []string{"f", "b", "n"} {
			d, p, err := parsePosToken(posToken(dir, pos{ts, msg}))
			if err != nil || d != dir || p != (pos{ts, msg}) {
				t.Fatalf("round trip of %d %q: %s %+v %v", ts, msg, d, p, err)
			}
		}
		_, _, _ = parsePosToken(junk) // never panics
	})
}
