package cwlogs

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/auth"
)

// maxSkew is how far a request's X-Amz-Date may be from the server's clock.
const maxSkew = 15 * time.Minute

// sigv4 is a parsed Authorization header of AWS Signature Version 4.
type sigv4 struct {
	akid, date, region, service string
	signed                      []string
	signature                   string
}

func parseAuthorization(h string) (*sigv4, error) {
	rest, ok := strings.CutPrefix(h, "AWS4-HMAC-SHA256 ")
	if !ok {
		return nil, errors.New("the Authorization header is not AWS4-HMAC-SHA256")
	}
	var s sigv4
	for part := range strings.SplitSeq(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			c := strings.Split(v, "/")
			if len(c) != 5 || c[4] != "aws4_request" {
				return nil, fmt.Errorf("malformed Credential %q (want AKID/yyyymmdd/region/logs/aws4_request)", v)
			}
			s.akid, s.date, s.region, s.service = c[0], c[1], c[2], c[3]
		case "SignedHeaders":
			s.signed = strings.Split(v, ";")
		case "Signature":
			s.signature = v
		}
	}
	if s.akid == "" || len(s.signed) == 0 || s.signature == "" {
		return nil, errors.New("the Authorization header lacks Credential, SignedHeaders or Signature")
	}
	return &s, nil
}

// authError is an authentication failure with AWS's error code.
type authError struct{ code, msg string }

func (e *authError) Error() string { return e.code + ": " + e.msg }

// authenticate checks the request's SigV4 signature over body. With
// verify false any request is accepted (the identity is the access key id
// the request names, if any).
func authenticate(r *http.Request, body []byte, tokens *auth.Store, verify bool, now time.Time) (auth.Identity, error) {
	h := r.Header.Get("Authorization")
	if !verify {
		if s, err := parseAuthorization(h); err == nil {
			return auth.Identity{ID: s.akid, Name: "unverified"}, nil
		}
		return auth.Identity{ID: "anonymous", Name: "unverified"}, nil
	}
	if h == "" {
		return auth.Identity{}, &authError{"MissingAuthenticationTokenException", "Missing Authentication Token: sign the request with SigV4 and keys from 'flowlens keys create'"}
	}
	s, err := parseAuthorization(h)
	if err != nil {
		return auth.Identity{}, &authError{"IncompleteSignatureException", err.Error()}
	}
	if s.service != "logs" {
		return auth.Identity{}, &authError{"InvalidSignatureException", fmt.Sprintf("Credential should be scoped to correct service: 'logs', not %q", s.service)}
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return auth.Identity{}, &authError{"IncompleteSignatureException", "the request needs an X-Amz-Date header (yyyymmddThhmmssZ)"}
	}
	if !strings.HasPrefix(amzDate, s.date) {
		return auth.Identity{}, &authError{"InvalidSignatureException", "the Credential date does not match X-Amz-Date"}
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return auth.Identity{}, &authError{"InvalidSignatureException", fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			amzDate, now.UTC().Add(-maxSkew).Format("20060102T150405Z"), now.UTC().Format("20060102T150405Z"))}
	}
	if !contains(s.signed, "host") {
		return auth.Identity{}, &authError{"InvalidSignatureException", "the signed headers must include host"}
	}
	secret, id, err := tokens.AccessKeySecret(s.akid)
	switch {
	case errors.Is(err, auth.ErrUnknownKey):
		return auth.Identity{}, &authError{"UnrecognizedClientException", "The security token included in the request is invalid."}
	case errors.Is(err, auth.ErrRevokedKey):
		return auth.Identity{}, &authError{"UnrecognizedClientException", "The security token included in the request is invalid: the access key was revoked."}
	case err != nil:
		return auth.Identity{}, err
	}
	want := signature(secret, s, r, body, amzDate)
	if subtle.ConstantTimeCompare([]byte(want), []byte(s.signature)) != 1 {
		return auth.Identity{}, &authError{"InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method."}
	}
	return id, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// signature computes the SigV4 signature of r as the client should have.
func signature(secret string, s *sigv4, r *http.Request, body []byte, amzDate string) string {
	var cr strings.Builder
	cr.WriteString(r.Method)
	cr.WriteByte('\n')
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	cr.WriteString(path)
	cr.WriteByte('\n')
	cr.WriteString(canonicalQuery(r.URL.Query()))
	cr.WriteByte('\n')
	for _, name := range s.signed {
		cr.WriteString(name)
		cr.WriteByte(':')
		cr.WriteString(headerValue(r, name))
		cr.WriteByte('\n')
	}
	cr.WriteByte('\n')
	cr.WriteString(strings.Join(s.signed, ";"))
	cr.WriteByte('\n')
	payload := r.Header.Get("X-Amz-Content-Sha256")
	if payload == "" {
		sum := sha256.Sum256(body)
		payload = hex.EncodeToString(sum[:])
	}
	cr.WriteString(payload)
	crSum := sha256.Sum256([]byte(cr.String()))
	scope := s.date + "/" + s.region + "/" + s.service + "/aws4_request"
	sts := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	k := hmacSHA256([]byte("AWS4"+secret), s.date)
	k = hmacSHA256(k, s.region)
	k = hmacSHA256(k, s.service)
	k = hmacSHA256(k, "aws4_request")
	return hex.EncodeToString(hmacSHA256(k, sts))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		if v := r.Header.Values("Content-Length"); len(v) > 0 {
			vals = v
		} else {
			vals = []string{fmt.Sprint(r.ContentLength)}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

func canonicalQuery(q url.Values) string {
	if len(q) == 0 {
		return ""
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, awsEscape(k)+"="+awsEscape(v))
		}
	}
	return strings.Join(parts, "&")
}

func awsEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
