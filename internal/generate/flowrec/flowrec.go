// Package flowrec holds the generator's in-memory flow record and renders it
// in any flow log format: as text lines (a zero-allocation encoder), as
// values per field for Parquet, or into a flowlog.Batch.
package flowrec

import (
	"strconv"

	"github.com/flowlens/flowlens/internal/flowlog"
	"github.com/flowlens/flowlens/internal/generate/netmodel"
)

// Log status, action and direction codes.
const (
	StatusOK uint8 = iota
	StatusNoData
	StatusSkipData
)

// Actions.
const (
	ActionNone uint8 = iota
	ActionAccept
	ActionReject
)

// Directions.
const (
	DirIngress uint8 = iota + 1
	DirEgress
)

// Record is one flow log record as the generator builds it. Metadata fields
// come from the interface; everything else is stored here.
type Record struct {
	ENI *netmodel.ENI
	// Hop is the logged interface at the other end (the next hop), or nil.
	Hop                      *netmodel.ENI
	Src, Dst, PktSrc, PktDst uint32
	SrcPort, DstPort         uint16
	Proto                    uint8
	Status, Action, Dir      uint8
	TrafficPath              uint8 // 0 when none
	TCPFlags                 int16 // -1 when '-'
	SrcSvc, DstSvc           string
	Encryption               int8 // -1 when '-'
	RejectBPA                bool
	Packets, Bytes           int64
	Start, End               int64
	Scenario                 int16 // index of the scenario that injected it, -1 for baseline
}

// HasTraffic reports whether the record carries addresses and counters
// (log-status OK).
func (r *Record) HasTraffic() bool { return r.Status == StatusOK }

var statusText = [...]string{"OK", "NODATA", "SKIPDATA"}
var actionText = [...]string{"-", "ACCEPT", "REJECT"}
var dirText = [...]string{"-", "ingress", "egress"}

// octets holds the decimal text of 0…255.
var octets = func() (t [256]string) {
	for i := range t {
		t[i] = strconv.Itoa(i)
	}
	return t
}()

// AppendIPv4 appends the dotted quad of ip.
func AppendIPv4(dst []byte, ip uint32) []byte {
	dst = append(dst, octets[ip>>24]...)
	dst = append(dst, '.')
	dst = append(dst, octets[ip>>16&0xff]...)
	dst = append(dst, '.')
	dst = append(dst, octets[ip>>8&0xff]...)
	dst = append(dst, '.')
	return append(dst, octets[ip&0xff]...)
}

func appendOr(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, '-')
	}
	return append(dst, s...)
}

// Encoder renders records in one format. It is safe for concurrent use.
type Encoder struct {
	fields  []flowlog.FieldID
	version int
}

// NewEncoder returns an encoder for f. Transit gateway-only fields are
// written as '-'.
func NewEncoder(f *flowlog.Format) *Encoder {
	e := &Encoder{version: f.Version()}
	for _, fl := range f.Fields {
		e.fields = append(e.fields, fl.ID)
	}
	return e
}

// AppendLine appends r as one line of text, without the newline.
func (e *Encoder) AppendLine(dst []byte, r *Record) []byte {
	for i, id := range e.fields {
		if i > 0 {
			dst = append(dst, ' ')
		}
		dst = e.AppendField(dst, r, id)
	}
	return dst
}

// Int returns the value of a numeric field, and false when it is NULL.
func (e *Encoder) Int(r *Record, id flowlog.FieldID) (int64, bool) {
	ok := r.Status == StatusOK
	switch id {
	case flowlog.Version:
		return int64(e.version), true
	case flowlog.SrcPort:
		return int64(r.SrcPort), ok
	case flowlog.DstPort:
		return int64(r.DstPort), ok
	case flowlog.Protocol:
		return int64(r.Proto), ok
	case flowlog.Packets:
		return r.Packets, ok
	case flowlog.Bytes:
		return r.Bytes, ok
	case flowlog.Start:
		return r.Start, true
	case flowlog.End:
		return r.End, true
	case flowlog.TCPFlags:
		return int64(r.TCPFlags), ok && r.TCPFlags >= 0
	case flowlog.TrafficPath:
		return int64(r.TrafficPath), ok && r.TrafficPath != 0
	case flowlog.EncryptionStatus:
		return int64(r.Encryption), ok && r.Encryption >= 0
	}
	return 0, false
}

// AppendField appends the text of one field of r ('-' for NULL).
func (e *Encoder) AppendField(dst []byte, r *Record, id flowlog.FieldID) []byte {
	ok := r.Status == StatusOK
	n := r.ENI
	switch id {
	case flowlog.Version, flowlog.SrcPort, flowlog.DstPort, flowlog.Protocol, flowlog.Packets, flowlog.Bytes,
		flowlog.Start, flowlog.End, flowlog.TCPFlags, flowlog.TrafficPath, flowlog.EncryptionStatus:
		v, valid := e.Int(r, id)
		if !valid {
			return append(dst, '-')
		}
		if v >= 0 && v < 256 {
			return append(dst, octets[v]...)
		}
		return strconv.AppendInt(dst, v, 10)
	case flowlog.AccountID:
		return append(dst, n.VPC.Account...)
	case flowlog.InterfaceID:
		return append(dst, n.ID...)
	case flowlog.SrcAddr, flowlog.DstAddr, flowlog.PktSrcAddr, flowlog.PktDstAddr:
		if !ok {
			return append(dst, '-')
		}
		return AppendIPv4(dst, e.addr(r, id))
	case flowlog.Action:
		return append(dst, actionText[r.Action]...)
	case flowlog.LogStatus:
		return append(dst, statusText[r.Status]...)
	case flowlog.VPCID:
		return append(dst, n.VPC.ID...)
	case flowlog.SubnetID:
		return append(dst, n.Subnet.ID...)
	case flowlog.InstanceID:
		return appendOr(dst, n.InstanceID)
	case flowlog.Type:
		if !ok {
			return append(dst, '-')
		}
		return append(dst, "IPv4"...)
	case flowlog.Region:
		return append(dst, n.VPC.Region...)
	case flowlog.AZID:
		return append(dst, n.Subnet.AZID...)
	case flowlog.PktSrcAWSService:
		return appendOr(dst, r.SrcSvc)
	case flowlog.PktDstAWSService:
		return appendOr(dst, r.DstSvc)
	case flowlog.FlowDirection:
		if !ok {
			return append(dst, '-')
		}
		return append(dst, dirText[r.Dir]...)
	case flowlog.ECSClusterARN:
		return appendOr(dst, n.ECSClusterARN)
	case flowlog.ECSClusterName:
		return appendOr(dst, n.ECSCluster)
	case flowlog.ECSContainerID:
		return appendOr(dst, n.ECSContainerID)
	case flowlog.ECSSecondContainerID:
		return appendOr(dst, n.ECSContainer2ID)
	case flowlog.ECSServiceName:
		return appendOr(dst, n.ECSService)
	case flowlog.ECSTaskDefinitionARN:
		return appendOr(dst, n.ECSTaskDefARN)
	case flowlog.ECSTaskARN:
		return appendOr(dst, n.ECSTaskARN)
	case flowlog.ECSTaskID:
		return appendOr(dst, n.ECSTaskID)
	case flowlog.RejectReason:
		if ok && r.RejectBPA {
			return append(dst, "BPA"...)
		}
		return append(dst, '-')
	case flowlog.InstanceTag:
		if n.InstanceID == "" {
			return append(dst, '-')
		}
		return appendOr(dst, n.Name)
	case flowlog.InstanceTag2:
		if n.InstanceID == "" {
			return append(dst, '-')
		}
		return appendOr(dst, n.Service)
	case flowlog.InterfaceTag:
		return append(dst, n.Role.String()...)
	case flowlog.ASGTag:
		return appendOr(dst, n.ASG)
	case flowlog.InterfaceType:
		return appendOr(dst, n.InterfaceType)
	case flowlog.NextHopInterfaceID:
		if !ok || r.Hop == nil {
			return append(dst, '-')
		}
		return append(dst, r.Hop.ID...)
	case flowlog.NextHopSubnetID:
		if !ok || r.Hop == nil {
			return append(dst, '-')
		}
		return append(dst, r.Hop.Subnet.ID...)
	case flowlog.NextHopAZID:
		if !ok || r.Hop == nil {
			return append(dst, '-')
		}
		return append(dst, r.Hop.Subnet.AZID...)
	case flowlog.NextHopVPCID:
		if !ok || r.Hop == nil {
			return append(dst, '-')
		}
		return append(dst, r.Hop.VPC.ID...)
	case flowlog.NextHopInterfaceType:
		if !ok || r.Hop == nil {
			return append(dst, '-')
		}
		return appendOr(dst, r.Hop.InterfaceType)
	}
	// sublocation-*, container instance (Fargate has none), resource-id,
	// second tags and every transit gateway-only field.
	return append(dst, '-')
}

func (e *Encoder) addr(r *Record, id flowlog.FieldID) uint32 {
	switch id {
	case flowlog.SrcAddr:
		return r.Src
	case flowlog.DstAddr:
		return r.Dst
	case flowlog.PktSrcAddr:
		return r.PktSrc
	}
	return r.PktDst
}

// Fields returns the format's field IDs in order.
func (e *Encoder) Fields() []flowlog.FieldID { return e.fields }
