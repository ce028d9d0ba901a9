// Package s3 is flowlens's S3 client: s3:// URLs, and listing, reading and
// writing objects with aws-sdk-go-v2. Credentials, region and endpoint are
// found the AWS way (environment, shared config and profile, instance
// role); AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL or a profile's endpoint_url
// point it at an S3-compatible server, which it then addresses path-style.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// URL is an s3://bucket/prefix location.
type URL struct {
	Bucket string
	// Prefix is the key prefix, without a leading slash ("" for the whole
	// bucket). A prefix naming a folder ends with "/".
	Prefix string
}

// ErrNotS3 is returned by ParseURL for a string that is not an s3:// URL.
var ErrNotS3 = errors.New("not an s3:// URL")

// IsURL reports whether s names an S3 location (starts with s3://).
func IsURL(s string) bool { return strings.HasPrefix(s, "s3://") }

// ParseURL parses s3://bucket[/prefix]. The prefix is kept as given (a
// folder prefix ends with "/"); a bucket name must follow S3's rules.
func ParseURL(s string) (URL, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return URL{}, fmt.Errorf("%q: %w (want s3://bucket/prefix/)", s, ErrNotS3)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if err := validBucket(bucket); err != nil {
		return URL{}, fmt.Errorf("%q: %w", s, err)
	}
	return URL{Bucket: bucket, Prefix: prefix}, nil
}

// validBucket checks S3's bucket naming rules (3–63 characters: lower-case
// letters, digits, '.', '-', starting and ending with a letter or digit;
// '_' is accepted for older buckets and S3-compatible servers).
func validBucket(b string) error {
	if b == "" {
		return errors.New("no bucket name")
	}
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q: 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '.' || c == '-' || c == '_') && i > 0 && i < len(b)-1:
		default:
			return fmt.Errorf("bucket name %q: lower-case letters, digits, '.' and '-' only", b)
		}
	}
	return nil
}

// String returns the URL as s3://bucket/prefix.
func (u URL) String() string { return "s3://" + u.Bucket + "/" + u.Prefix }

// KeyURL returns the s3:// URL of an object of u's bucket.
func (u URL) KeyURL(key string) string { return "s3://" + u.Bucket + "/" + key }

// Join returns u's prefix as a folder with name appended:
// s3://b/reports + x.csv → reports/x.csv.
func (u URL) Join(name string) string {
	if u.Prefix == "" || strings.HasSuffix(u.Prefix, "/") {
		return u.Prefix + name
	}
	return u.Prefix + "/" + name
}

// Config configures a Client. The zero value takes everything from the
// environment and the shared AWS config.
type Config struct {
	// Getenv reads the environment (nil: os.Getenv). The variables of
	// the AWS CLI are understood: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
	// AWS_SESSION_TOKEN, AWS_REGION, AWS_DEFAULT_REGION, AWS_PROFILE,
	// AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, AWS_ENDPOINT_URL_S3,
	// AWS_ENDPOINT_URL.
	Getenv func(string) string
	// Region overrides the configured region.
	Region string
	// Profile overrides AWS_PROFILE.
	Profile string
	// Endpoint overrides AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: an
	// S3-compatible server, addressed path-style.
	Endpoint string
	// HTTPClient sends the requests (nil: the SDK's).
	HTTPClient *http.Client
}

// Client lists, reads and writes objects.
type Client struct {
	cfg      aws.Config
	endpoint string
	// regionSet is false when no region was configured: each bucket's
	// region is then asked of S3 (HeadBucket) before its first request.
	regionSet bool

	mu      sync.Mutex
	clients map[string]*s3.Client // by region
	buckets map[string]string     // bucket → region
}

// New loads the AWS configuration and returns a client.
func New(ctx context.Context, cfg Config) (*Client, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var opts []func(*config.LoadOptions) error
	if p := first(cfg.Profile, getenv("AWS_PROFILE")); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	if f := getenv("AWS_CONFIG_FILE"); f != "" {
		opts = append(opts, config.WithSharedConfigFiles([]string{f}))
	}
	if f := getenv("AWS_SHARED_CREDENTIALS_FILE"); f != "" {
		opts = append(opts, config.WithSharedCredentialsFiles([]string{f}))
	}
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))))
	}
	region := first(cfg.Region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	} else {
		opts = append(opts, config.WithEC2IMDSRegion())
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(cfg.HTTPClient))
	}
	endpoint := first(cfg.Endpoint, getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL"))
	if endpoint != "" {
		// S3-compatible servers seldom know the checksums S3 added in 2025.
		opts = append(opts, config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
			config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load the AWS configuration: %w", err)
	}
	if endpoint == "" && ac.BaseEndpoint != nil {
		// endpoint_url of the profile in the shared config file.
		endpoint = *ac.BaseEndpoint
	}
	c := &Client{cfg: ac, endpoint: endpoint, regionSet: ac.Region != "", clients: map[string]*s3.Client{}, buckets: map[string]string{}}
	if ac.Region == "" {
		// S3-compatible servers take any region; S3 answers HeadBucket
		// in us-east-1 with the bucket's region.
		c.cfg.Region = "us-east-1"
		c.regionSet = endpoint != ""
	}
	return c, nil
}

func first(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// Endpoint returns the S3-compatible endpoint in use ("" for AWS).
func (c *Client) Endpoint() string { return c.endpoint }

func (c *Client) regionClient(region string) *s3.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cl := c.clients[region]; cl != nil {
		return cl
	}
	cl := s3.NewFromConfig(c.cfg, func(o *s3.Options) {
		o.Region = region
		if c.endpoint != "" {
			o.BaseEndpoint = aws.String(c.endpoint)
			o.UsePathStyle = true
		}
	})
	c.clients[region] = cl
	return cl
}

// api returns the SDK client for bucket's region.
func (c *Client) api(ctx context.Context, bucket string) (*s3.Client, error) {
	if c.regionSet {
		return c.regionClient(c.cfg.Region), nil
	}
	c.mu.Lock()
	region, ok := c.buckets[bucket]
	c.mu.Unlock()
	if ok {
		return c.regionClient(region), nil
	}
	region = c.cfg.Region
	_, err := c.regionClient(region).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
			region, err = r, nil
		}
	}
	if err != nil {
		return nil, describe("find the region of bucket "+bucket, err)
	}
	c.mu.Lock()
	c.buckets[bucket] = region
	c.mu.Unlock()
	return c.regionClient(region), nil
}

// Object is one listed or read object.
type Object struct {
	Key  string
	Size int64
	// ETag is the entity tag without its quotes.
	ETag         string
	LastModified time.Time
}

// ListOptions narrow a listing.
type ListOptions struct {
	// Delimiter groups keys into common prefixes ("/" for folders).
	Delimiter string
	// StartAfter lists only keys after this one.
	StartAfter string
	// PageSize is the number of keys per request (0: S3's 1000).
	PageSize int32
}

// Page is one page of a listing.
type Page struct {
	Objects []Object
	// Prefixes are the common prefixes (with a Delimiter).
	Prefixes []string
}

// List lists the objects below prefix in bucket, page by page (ListObjectsV2
// with continuation tokens), calling fn with each page in key order.
func (c *Client) List(ctx context.Context, bucket, prefix string, opts ListOptions, fn func(Page) error) error {
	api, err := c.api(ctx, bucket)
	if err != nil {
		return err
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if opts.Delimiter != "" {
		in.Delimiter = aws.String(opts.Delimiter)
	}
	if opts.StartAfter != "" {
		in.StartAfter = aws.String(opts.StartAfter)
	}
	if opts.PageSize > 0 {
		in.MaxKeys = aws.Int32(opts.PageSize)
	}
	pages := s3.NewListObjectsV2Paginator(api, in)
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return describe(fmt.Sprintf("list s3://%s/%s", bucket, prefix), err)
		}
		var p Page
		for _, o := range out.Contents {
			p.Objects = append(p.Objects, object(o))
		}
		for _, cp := range out.CommonPrefixes {
			p.Prefixes = append(p.Prefixes, aws.ToString(cp.Prefix))
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return nil
}

func object(o types.Object) Object {
	return Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: unquote(aws.ToString(o.ETag)), LastModified: aws.ToTime(o.LastModified)}
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// Open starts reading an object. With ifMatch (an ETag, "" for any) the
// read fails when the object was replaced since it was listed.
func (c *Client) Open(ctx context.Context, bucket, key, ifMatch string) (io.ReadCloser, Object, error) {
	api, err := c.api(ctx, bucket)
	if err != nil {
		return nil, Object{}, err
	}
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if ifMatch != "" {
		in.IfMatch = aws.String(`"` + ifMatch + `"`)
	}
	out, err := api.GetObject(ctx, in)
	if err != nil {
		return nil, Object{}, describe(fmt.Sprintf("read s3://%s/%s", bucket, key), err)
	}
	o := Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: unquote(aws.ToString(out.ETag)), LastModified: aws.ToTime(out.LastModified)}
	return out.Body, o, nil
}

// Put writes an object of size bytes from body (a seekable body lets the
// SDK retry).
func (c *Client) Put(ctx context.Context, bucket, key string, body io.Reader, size int64, contentType string) (Object, error) {
	api, err := c.api(ctx, bucket)
	if err != nil {
		return Object{}, err
	}
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body, ContentLength: aws.Int64(size)}
	if contentType != "" {
		in.ContentType = aws.String(contentType)
	}
	out, err := api.PutObject(ctx, in)
	if err != nil {
		return Object{}, describe(fmt.Sprintf("write s3://%s/%s", bucket, key), err)
	}
	return Object{Key: key, Size: size, ETag: unquote(aws.ToString(out.ETag))}, nil
}

// CreateBucket creates a bucket (tests and demos against S3-compatible
// servers).
func (c *Client) CreateBucket(ctx context.Context, bucket string) error {
	_, err := c.regionClient(c.cfg.Region).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	return describe("create bucket "+bucket, err)
}

// ErrNotFound is returned (wrapped) for a missing bucket or object.
var ErrNotFound = errors.New("not found")

// ErrAccessDenied is returned (wrapped) when the credentials may not do
// what was asked.
var ErrAccessDenied = errors.New("access denied")

// describe wraps an SDK error with what was being done and a hint when
// the cause is a common one.
func describe(what string, err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchBucket", "NoSuchKey", "NotFound":
			return fmt.Errorf("%s: %w (%s)", what, ErrNotFound, ae.ErrorCode())
		case "AccessDenied", "Forbidden", "InvalidAccessKeyId", "SignatureDoesNotMatch":
			return fmt.Errorf("%s: %w (%s: check the credentials: AWS_PROFILE, AWS_ACCESS_KEY_ID, or the instance role)", what, ErrAccessDenied, ae.ErrorCode())
		}
		return fmt.Errorf("%s: %s: %s", what, ae.ErrorCode(), ae.ErrorMessage())
	}
	if strings.Contains(err.Error(), "failed to retrieve credentials") || strings.Contains(err.Error(), "no EC2 IMDS role found") {
		return fmt.Errorf("%s: no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run on an instance with a role: %w", what, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
