// Package bucket ingests flow logs that VPC delivers to S3: it lists the
// objects below s3:// prefixes (every account, region and date layout,
// plain or hive-compatible keys, text or Parquet), narrows them to a time
// range by the timestamp of their keys, hands them to the ingest as remote
// sources identified by key + ETag, and follows prefixes inside the server
// (a Follower lists new objects on an interval and resumes from a
// checkpoint after a restart).
package bucket

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/decode"
	"github.com/flowlens/flowlens/internal/s3"
	"github.com/flowlens/flowlens/internal/source"
)

// Range bounds the objects of a listing by the time of their keys (the
// start of the 5-minute window in AWS's file names, or the day and hour of
// the key's folders): Since ≤ time < Until. A zero bound is open. Keys
// that carry no time are left out when either bound is set.
type Range struct {
	Since, Until time.Time
}

func (r Range) open() bool { return r.Since.IsZero() && r.Until.IsZero() }

// Contains reports whether a key's time falls in r.
func (r Range) Contains(t time.Time) bool {
	return (r.Since.IsZero() || !t.Before(r.Since)) && (r.Until.IsZero() || t.Before(r.Until))
}

// Listing is what List found.
type Listing struct {
	Objects []source.File
	// OutOfRange counts the objects left out by the range (keys without
	// a time included when a bound is set).
	OutOfRange int
	// Newest is the latest key time among Objects (zero when none has one).
	Newest time.Time
}

// List lists every object below u whose key time is in r, as remote
// sources for ingest.Config.Objects. Folder markers (keys ending in "/")
// are left out. With r.Since set only the date folders that can hold later
// keys are listed.
func List(ctx context.Context, c *s3.Client, u s3.URL, r Range) (Listing, error) {
	var l Listing
	err := c.Walk(ctx, u, r.Since, func(o s3.Object) error {
		if strings.HasSuffix(o.Key, "/") {
			return nil
		}
		k, ok := decode.ParseObjectKey(o.Key)
		if !r.open() && (!ok || !r.Contains(k.Time)) {
			l.OutOfRange++
			return nil
		}
		if ok && k.Time.After(l.Newest) {
			l.Newest = k.Time
		}
		l.Objects = append(l.Objects, File(c, u.Bucket, o))
		return nil
	})
	return l, err
}

// File returns an object as a remote source: key s3://bucket/key, checksum
// its ETag.
func File(c *s3.Client, bucket string, o s3.Object) source.File {
	return source.File{
		Key: "s3://" + bucket + "/" + o.Key, Size: o.Size, ModTime: o.LastModified, ETag: o.ETag, Found: true,
		Remote: remote{c: c, bucket: bucket, obj: o},
	}
}

// remote reads one listed object; it refuses another version of it.
type remote struct {
	c      *s3.Client
	bucket string
	obj    s3.Object
}

func (r remote) Fetch(ctx context.Context, w io.Writer) error {
	body, _, err := r.c.Open(ctx, r.bucket, r.obj.Key, r.obj.ETag)
	if err != nil {
		return err
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		return fmt.Errorf("read s3://%s/%s: %w", r.bucket, r.obj.Key, err)
	}
	if n != r.obj.Size {
		return fmt.Errorf("read s3://%s/%s: %d bytes of %d", r.bucket, r.obj.Key, n, r.obj.Size)
	}
	return nil
}
