// Package storetest holds the scripted Logs Insights query corpus that every
// store backend must answer identically: it loads a fixed, seeded set of
// records through store.Writer, runs each query through the query engine
// and compares the rows with answers computed in Go directly from the
// records (never with SQL). A backend's own _test.go calls RunCorpus.
package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/store"
)

// Base is the first instant of the corpus data (UTC).
var Base = time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)

// record is one flow record as a map from canonical column name to value
// (int64, string, or absent for NULL), plus its dataset and format.
type record struct {
	dataset string
	format  *flowlog.Format
	v       map[string]any
}

func (r record) start() int64 {
	s, _ := r.v["start"].(int64)
	return s
}

// message is the record as a line of its format, '-' for NULL.
func (r record) message() string {
	parts := make([]string, len(r.format.Fields))
	for i, f := range r.format.Fields {
		switch x := r.v[f.Column].(type) {
		case nil:
			parts[i] = "-"
		case int64:
			parts[i] = strconv.FormatInt(x, 10)
		case string:
			parts[i] = x
		}
	}
	return strings.Join(parts, " ")
}

// The corpus's datasets and formats.
const (
	dsProd = "prod"
	dsEdge = "edge"
)

var edgeFormatString = "${version} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${flow-direction} ${traffic-path} ${pkt-dst-aws-service}"

// NATAddr is the NAT gateway address of sample query 11; NeedleAddr is a
// source with few records (benchmark Q7); DedupENI the interface of sample 5.
const (
	NATAddr    = "10.0.1.7"
	NeedleAddr = "198.51.100.77"
	DedupENI   = "eni-0a1b2c3d4e5f60718"
)

// makeRecords builds the corpus deterministically.
func makeRecords() []record {
	rng := rand.New(rand.NewPCG(42, 7))
	var srcs, dsts []string
	for i := 0; i < 12; i++ {
		srcs = append(srcs, fmt.Sprintf("10.0.%d.%d", rng.IntN(4), 1+rng.IntN(250)))
		srcs = append(srcs, fmt.Sprintf("10.1.%d.%d", rng.IntN(4), 1+rng.IntN(250)))
		dsts = append(dsts, fmt.Sprintf("10.%d.%d.%d", rng.IntN(2), rng.IntN(4), 1+rng.IntN(250)))
	}
	srcs = append(srcs, "203.0.113.9", "8.8.8.8", "192.168.1.20", "2001:db8::1", "2001:db8:0:1::5", "fd00::5")
	dsts = append(dsts, NATAddr, "10.0.1.70", "52.94.1.1", "2001:db8::2", "fe80::1")
	enis := []string{DedupENI, "eni-11aa22bb33cc44dd5", "eni-0ffee0ffee0ffee01", "eni-abcdef0123456789a", "eni-99887766554433221"}
	ports := []int64{443, 80, 22, 3389, 53, 5432, 123, 8080}
	services := []string{"S3", "DYNAMODB", "EC2", "AMAZON"}
	prod := flowlog.DefaultFormat()
	edge, err := flowlog.ParseFormat(edgeFormatString)
	if err != nil {
		panic("BUG: " + err.Error())
	}
	var out []record
	for _, d := range []struct {
		name string
		f    *flowlog.Format
		n    int
	}{{dsProd, prod, 3000}, {dsEdge, edge, 1500}} {
		for i := 0; i < d.n; i++ {
			v := map[string]any{}
			start := Base.Unix() + rng.Int64N(3*3600)
			v["version"] = int64(d.f.Version())
			v["account_id"] = "111122223333"
			v["interface_id"] = enis[rng.IntN(len(enis))]
			v["start"] = start
			v["end"] = start + rng.Int64N(60)
			status := "OK"
			switch x := rng.IntN(100); {
			case x < 3:
				status = "NODATA"
			case x < 5:
				status = "SKIPDATA"
			}
			v["log_status"] = status
			if status == "OK" {
				src := srcs[rng.IntN(len(srcs))]
				if rng.IntN(60) == 0 {
					src = NeedleAddr
				}
				v["srcaddr"] = src
				v["dstaddr"] = dsts[rng.IntN(len(dsts))]
				v["srcport"] = 1024 + rng.Int64N(64000)
				v["dstport"] = ports[rng.IntN(len(ports))]
				v["protocol"] = []int64{6, 6, 6, 17, 17, 1}[rng.IntN(6)]
				v["packets"] = 1 + rng.Int64N(100)
				v["bytes"] = 40 + rng.Int64N(1_000_000)
				v["action"] = "ACCEPT"
				if rng.IntN(10) == 0 {
					v["action"] = "REJECT"
				}
			}
			if d.name == dsEdge {
				v["flow_direction"] = []string{"ingress", "egress"}[rng.IntN(2)]
				v["traffic_path"] = 1 + rng.Int64N(8)
				if rng.IntN(3) > 0 {
					v["pkt_dst_aws_service"] = services[rng.IntN(len(services))]
				}
			}
			// keep only the fields of the format
			kept := map[string]any{}
			for _, fl := range d.f.Fields {
				if x, ok := v[fl.Column]; ok {
					kept[fl.Column] = x
				}
			}
			out = append(out, record{dataset: d.name, format: d.f, v: kept})
		}
	}
	return out
}

// load writes the records through the store's Writer, one file per dataset.
func load(ctx context.Context, w store.Writer, recs []record) error {
	byDS := map[string][]record{}
	var order []string
	for _, r := range recs {
		if _, ok := byDS[r.dataset]; !ok {
			order = append(order, r.dataset)
		}
		byDS[r.dataset] = append(byDS[r.dataset], r)
	}
	for _, ds := range order {
		rs := byDS[ds]
		f := rs[0].format
		b := flowlog.NewBatch(f, len(rs))
		for _, r := range rs {
			for i, fl := range f.Fields {
				c := &b.Cols[i]
				x, ok := r.v[fl.Column]
				switch {
				case !ok || x == nil:
					c.AppendNull()
				case fl.Kind == flowlog.KindIP:
					c.AppendIP(netip.MustParseAddr(x.(string)))
				case fl.Kind.Numeric():
					c.AppendInt(x.(int64))
				default:
					c.AppendString(x.(string))
				}
			}
			b.EndRecord()
		}
		tx, err := w.BeginFile(ctx, ds, store.Source{Key: "storetest/" + ds + ".log", Size: int64(len(rs)), Checksum: fmt.Sprintf("corpus-%s-%d", ds, len(rs)), ModTime: Base}, true)
		if err != nil {
			return fmt.Errorf("begin %s: %w", ds, err)
		}
		if err := tx.Append(ctx, b); err != nil {
			tx.Rollback()
			return fmt.Errorf("append %s: %w", ds, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit %s: %w", ds, err)
		}
	}
	return nil
}
