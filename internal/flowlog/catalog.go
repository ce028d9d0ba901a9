// Package flowlog owns the flowlens record model: the catalog of every VPC and
// transit gateway flow log field (version 2 through the newest), formats (the
// ordered field lists a flow log writes) and the columnar Batch that every
// other package reads and writes. It imports only the standard library.
package flowlog

import "strings"

// FieldID identifies a catalog field. IDs are dense, start at 0 and follow the
// canonical order of the spec (VPC fields in version order, then transit
// gateway-only fields), so they index arrays.
type FieldID uint8

// Kind is the physical representation of a field in a Batch.
type Kind uint8

const (
	// KindInt fields hold whole numbers in Column.Ints.
	KindInt Kind = iota + 1
	// KindString fields hold text in Column.Data/Offsets.
	KindString
	// KindIP fields hold normalised address text in Column.Data/Offsets plus
	// the IPv4 value in Column.V4 and the family in Column.Fam.
	KindIP
	// KindEnum fields hold text from a small, documented set of values.
	KindEnum
	// KindTime fields hold Unix epoch seconds (UTC) in Column.Ints.
	KindTime
)

func (k Kind) String() string {
	switch k {
	case KindInt:
		return "int"
	case KindString:
		return "string"
	case KindIP:
		return "ip"
	case KindEnum:
		return "enum"
	case KindTime:
		return "time"
	}
	return "invalid"
}

// Numeric reports whether values of the kind live in Column.Ints.
func (k Kind) Numeric() bool { return k == KindInt || k == KindTime }

// Field describes one flow log field.
type Field struct {
	ID FieldID
	// Name is the AWS name as written in format strings and S3 header lines
	// ("log-status").
	Name string
	// Column is the canonical column name: Name with '-' turned into '_'
	// ("log_status"). Stores, SQL and JSON output use it.
	Column string
	// Version is the flow log version that introduced the field.
	Version int
	Kind    Kind
	// Type is the logical type: int32, int64, uint8, uint16, string, ip, enum
	// or timestamp (epoch seconds).
	Type string
	// ParquetType is the physical type AWS writes in Parquet delivery and the
	// project's lake uses: INT32, INT64 or STRING.
	ParquetType string
	// SQLType is the Athena/Presto type used in DDL (int, bigint, string).
	SQLType string
	// Insights is the name Logs Insights discovers (camelCase, "logStatus").
	Insights string
	// Min and Max bound numeric values (inclusive).
	Min, Max int64
	// Enum lists the accepted values of an enum field. Open enums (new
	// values may appear) accept anything and list only the documented values.
	Enum     []string
	OpenEnum bool
	// TGW marks fields that exist only in transit gateway flow logs; VPC
	// marks fields of VPC flow logs. Shared fields have both.
	TGW, VPC bool
	// Doc is a one-line description.
	Doc string
}

// Enum value sets.
var (
	actionValues     = []string{"ACCEPT", "REJECT"}
	logStatusValues  = []string{"OK", "NODATA", "SKIPDATA"}
	typeValues       = []string{"IPv4", "IPv6", "EFA"}
	sublocationTypes = []string{"wavelength", "outpost", "localzone"}
	directionValues  = []string{"ingress", "egress"}
	rejectReasons    = []string{"BPA", "EC"}
	interfaceTypes   = []string{"nat_gateway", "network_load_balancer", "regional_nat_gateway", "transit_gateway", "vpc_endpoint"}
	awsServices      = []string{"AMAZON", "AMAZON_APPFLOW", "AMAZON_CONNECT", "API_GATEWAY", "CHIME_MEETINGS", "CHIME_VOICECONNECTOR", "CLOUD9", "CLOUDFRONT", "CODEBUILD", "DYNAMODB", "EBS", "EC2", "EC2_INSTANCE_CONNECT", "GLOBALACCELERATOR", "KINESIS_VIDEO_STREAMS", "ROUTE53", "ROUTE53_HEALTHCHECKS", "ROUTE53_HEALTHCHECKS_PUBLISHING", "ROUTE53_RESOLVER", "S3", "WORKSPACES_GATEWAYS"}
	resourceTypes    = []string{"TransitGateway"}
)

// The catalog field IDs, in canonical order.
const (
	Version FieldID = iota
	AccountID
	InterfaceID
	SrcAddr
	DstAddr
	SrcPort
	DstPort
	Protocol
	Packets
	Bytes
	Start
	End
	Action
	LogStatus
	// v3
	VPCID
	SubnetID
	InstanceID
	TCPFlags
	Type
	PktSrcAddr
	PktDstAddr
	// v4
	Region
	AZID
	SublocationType
	SublocationID
	// v5
	PktSrcAWSService
	PktDstAWSService
	FlowDirection
	TrafficPath
	// v7
	ECSClusterARN
	ECSClusterName
	ECSContainerInstanceARN
	ECSContainerInstanceID
	ECSContainerID
	ECSSecondContainerID
	ECSServiceName
	ECSTaskDefinitionARN
	ECSTaskARN
	ECSTaskID
	// v8
	RejectReason
	// v9
	ResourceID
	// v10
	EncryptionStatus
	// v11
	InstanceTag
	InstanceTag2
	InterfaceTag
	InterfaceTag2
	ASGTag
	ASGTag2
	InterfaceType
	NextHopInterfaceID
	NextHopSubnetID
	NextHopAZID
	NextHopVPCID
	NextHopInterfaceType
	// transit gateway only
	ResourceType
	TGWID
	TGWAttachmentID
	TGWSrcVPCAccountID
	TGWDstVPCAccountID
	TGWSrcVPCID
	TGWDstVPCID
	TGWSrcSubnetID
	TGWDstSubnetID
	TGWSrcENI
	TGWDstENI
	TGWSrcAZID
	TGWDstAZID
	TGWPairAttachmentID
	PacketsLostNoRoute
	PacketsLostBlackhole
	PacketsLostMTUExceeded
	PacketsLostTTLExpired

	// NumFields is the number of catalog fields.
	NumFields
)

// NumVPCFields is the number of VPC flow log fields (versions 2 to 11).
const NumVPCFields = int(NextHopInterfaceType) + 1

type fieldSpec struct {
	name    string
	version int
	typ     string
	enum    []string
	open    bool
	doc     string
	tgw     int // 0: VPC only, 1: VPC and TGW, 2: TGW only
}

// specs is indexed by FieldID.
var specs = [NumFields]fieldSpec{
	Version:                 {"version", 2, "int32", nil, false, "highest field version used by the flow log's format", 1},
	AccountID:               {"account-id", 2, "string", nil, false, "AWS account that owns the source network interface", 1},
	InterfaceID:             {"interface-id", 2, "string", nil, false, "network interface the traffic was recorded for", 0},
	SrcAddr:                 {"srcaddr", 2, "ip", nil, false, "source address (the interface's primary private address for outgoing traffic)", 1},
	DstAddr:                 {"dstaddr", 2, "ip", nil, false, "destination address (the interface's primary private address for incoming traffic)", 1},
	SrcPort:                 {"srcport", 2, "uint16", nil, false, "source port", 1},
	DstPort:                 {"dstport", 2, "uint16", nil, false, "destination port", 1},
	Protocol:                {"protocol", 2, "uint8", nil, false, "IANA protocol number (6 TCP, 17 UDP, 1 ICMP)", 1},
	Packets:                 {"packets", 2, "int64", nil, false, "packets transferred during the window", 1},
	Bytes:                   {"bytes", 2, "int64", nil, false, "bytes transferred during the window", 1},
	Start:                   {"start", 2, "timestamp", nil, false, "time of the first packet in the window (Unix seconds)", 1},
	End:                     {"end", 2, "timestamp", nil, false, "time of the last packet in the window (Unix seconds)", 1},
	Action:                  {"action", 2, "enum", actionValues, false, "ACCEPT or REJECT by security groups and network ACLs", 0},
	LogStatus:               {"log-status", 2, "enum", logStatusValues, false, "OK, NODATA or SKIPDATA", 1},
	VPCID:                   {"vpc-id", 3, "string", nil, false, "VPC of the network interface", 0},
	SubnetID:                {"subnet-id", 3, "string", nil, false, "subnet of the network interface", 0},
	InstanceID:              {"instance-id", 3, "string", nil, false, "instance the interface is attached to", 0},
	TCPFlags:                {"tcp-flags", 3, "int32", nil, false, "bitwise OR of the TCP flags seen in the window", 1},
	Type:                    {"type", 3, "enum", typeValues, false, "traffic type: IPv4, IPv6 or EFA", 1},
	PktSrcAddr:              {"pkt-srcaddr", 3, "ip", nil, false, "packet-level (original) source address", 0},
	PktDstAddr:              {"pkt-dstaddr", 3, "ip", nil, false, "packet-level (final) destination address", 0},
	Region:                  {"region", 4, "string", nil, false, "region of the network interface", 1},
	AZID:                    {"az-id", 4, "string", nil, false, "availability zone ID of the network interface", 0},
	SublocationType:         {"sublocation-type", 4, "enum", sublocationTypes, false, "wavelength, outpost or localzone", 0},
	SublocationID:           {"sublocation-id", 4, "string", nil, false, "ID of the Wavelength Zone, Outpost or Local Zone", 0},
	PktSrcAWSService:        {"pkt-src-aws-service", 5, "enum", awsServices, true, "AWS IP range subset of pkt-srcaddr", 1},
	PktDstAWSService:        {"pkt-dst-aws-service", 5, "enum", awsServices, true, "AWS IP range subset of pkt-dstaddr", 1},
	FlowDirection:           {"flow-direction", 5, "enum", directionValues, false, "ingress or egress relative to the interface", 1},
	TrafficPath:             {"traffic-path", 5, "int32", nil, false, "path egress traffic took (1-8)", 0},
	ECSClusterARN:           {"ecs-cluster-arn", 7, "string", nil, false, "ECS cluster ARN of the task", 0},
	ECSClusterName:          {"ecs-cluster-name", 7, "string", nil, false, "ECS cluster name", 0},
	ECSContainerInstanceARN: {"ecs-container-instance-arn", 7, "string", nil, false, "ECS container instance ARN", 0},
	ECSContainerInstanceID:  {"ecs-container-instance-id", 7, "string", nil, false, "ECS container instance ID", 0},
	ECSContainerID:          {"ecs-container-id", 7, "string", nil, false, "runtime ID of the task's first container", 0},
	ECSSecondContainerID:    {"ecs-second-container-id", 7, "string", nil, false, "runtime ID of the task's second container", 0},
	ECSServiceName:          {"ecs-service-name", 7, "string", nil, false, "ECS service that started the task", 0},
	ECSTaskDefinitionARN:    {"ecs-task-definition-arn", 7, "string", nil, false, "ECS task definition ARN", 0},
	ECSTaskARN:              {"ecs-task-arn", 7, "string", nil, false, "ECS task ARN", 0},
	ECSTaskID:               {"ecs-task-id", 7, "string", nil, false, "ECS task ID", 0},
	RejectReason:            {"reject-reason", 8, "enum", rejectReasons, true, "why traffic was rejected when not by a security group or network ACL (BPA, EC)", 0},
	ResourceID:              {"resource-id", 9, "string", nil, false, "resource the flow was recorded for when not an ENI (regional NAT gateway)", 0},
	EncryptionStatus:        {"encryption-status", 10, "int32", nil, false, "0 none, 1 Nitro, 2 application, 3 both", 0},
	InstanceTag:             {"instance-tag", 11, "string", nil, false, "value of a chosen instance tag", 0},
	InstanceTag2:            {"instance-tag-2", 11, "string", nil, false, "value of a second chosen instance tag", 0},
	InterfaceTag:            {"interface-tag", 11, "string", nil, false, "value of a chosen interface tag", 0},
	InterfaceTag2:           {"interface-tag-2", 11, "string", nil, false, "value of a second chosen interface tag", 0},
	ASGTag:                  {"asg-tag", 11, "string", nil, false, "value of a chosen Auto Scaling group tag", 0},
	ASGTag2:                 {"asg-tag-2", 11, "string", nil, false, "value of a second chosen Auto Scaling group tag", 0},
	InterfaceType:           {"interface-type", 11, "enum", interfaceTypes, true, "kind of managed interface", 0},
	NextHopInterfaceID:      {"next-hop-interface-id", 11, "string", nil, false, "interface of the next hop", 0},
	NextHopSubnetID:         {"next-hop-subnet-id", 11, "string", nil, false, "subnet of the next-hop interface", 0},
	NextHopAZID:             {"next-hop-az-id", 11, "string", nil, false, "availability zone ID of the next-hop interface", 0},
	NextHopVPCID:            {"next-hop-vpc-id", 11, "string", nil, false, "VPC of the next-hop interface", 0},
	NextHopInterfaceType:    {"next-hop-interface-type", 11, "enum", interfaceTypes, true, "kind of the next-hop interface", 0},
	ResourceType:            {"resource-type", 6, "enum", resourceTypes, true, "transit gateway resource type", 2},
	TGWID:                   {"tgw-id", 6, "string", nil, false, "transit gateway ID", 2},
	TGWAttachmentID:         {"tgw-attachment-id", 6, "string", nil, false, "attachment the flow was recorded on", 2},
	TGWSrcVPCAccountID:      {"tgw-src-vpc-account-id", 6, "string", nil, false, "account of the source VPC", 2},
	TGWDstVPCAccountID:      {"tgw-dst-vpc-account-id", 6, "string", nil, false, "account of the destination VPC", 2},
	TGWSrcVPCID:             {"tgw-src-vpc-id", 6, "string", nil, false, "source VPC", 2},
	TGWDstVPCID:             {"tgw-dst-vpc-id", 6, "string", nil, false, "destination VPC", 2},
	TGWSrcSubnetID:          {"tgw-src-subnet-id", 6, "string", nil, false, "subnet of the source attachment interface", 2},
	TGWDstSubnetID:          {"tgw-dst-subnet-id", 6, "string", nil, false, "subnet of the destination attachment interface", 2},
	TGWSrcENI:               {"tgw-src-eni", 6, "string", nil, false, "source attachment interface", 2},
	TGWDstENI:               {"tgw-dst-eni", 6, "string", nil, false, "destination attachment interface", 2},
	TGWSrcAZID:              {"tgw-src-az-id", 6, "string", nil, false, "availability zone ID of the source", 2},
	TGWDstAZID:              {"tgw-dst-az-id", 6, "string", nil, false, "availability zone ID of the destination", 2},
	TGWPairAttachmentID:     {"tgw-pair-attachment-id", 6, "string", nil, false, "the other attachment of the flow", 2},
	PacketsLostNoRoute:      {"packets-lost-no-route", 6, "int64", nil, false, "packets dropped for lack of a route", 2},
	PacketsLostBlackhole:    {"packets-lost-blackhole", 6, "int64", nil, false, "packets dropped by a blackhole route", 2},
	PacketsLostMTUExceeded:  {"packets-lost-mtu-exceeded", 6, "int64", nil, false, "packets dropped for exceeding the MTU", 2},
	PacketsLostTTLExpired:   {"packets-lost-ttl-expired", 6, "int64", nil, false, "packets dropped because the TTL expired", 2},
}

// insightsSpecial holds discovered names that the generic camelCase rule
// does not produce.
var insightsSpecial = map[string]string{
	"srcaddr":     "srcAddr",
	"dstaddr":     "dstAddr",
	"srcport":     "srcPort",
	"dstport":     "dstPort",
	"pkt-srcaddr": "pktSrcAddr",
	"pkt-dstaddr": "pktDstAddr",
	"start":       "startTime",
	"end":         "endTime",
}

// Catalog is the immutable list of every field, indexed by FieldID.
type Catalog struct {
	fields [NumFields]Field
	byName map[string]FieldID
}

// catalog is built once from the literal tables above; it is never mutated
// after construction.
var catalog = buildCatalog()

func buildCatalog() *Catalog {
	c := &Catalog{byName: make(map[string]FieldID, int(NumFields)*4)}
	for i := range specs {
		s := specs[i]
		f := Field{
			ID:       FieldID(i),
			Name:     s.name,
			Column:   strings.ReplaceAll(s.name, "-", "_"),
			Version:  s.version,
			Type:     s.typ,
			Enum:     s.enum,
			OpenEnum: s.open,
			TGW:      s.tgw >= 1,
			VPC:      s.tgw <= 1,
			Doc:      s.doc,
			Insights: camel(s.name),
		}
		switch s.typ {
		case "int32":
			f.Kind, f.ParquetType, f.SQLType, f.Min, f.Max = KindInt, "INT32", "int", 0, 1<<31-1
		case "uint16":
			f.Kind, f.ParquetType, f.SQLType, f.Min, f.Max = KindInt, "INT32", "int", 0, 65535
		case "uint8":
			f.Kind, f.ParquetType, f.SQLType, f.Min, f.Max = KindInt, "INT32", "bigint", 0, 255
		case "int64":
			f.Kind, f.ParquetType, f.SQLType, f.Min, f.Max = KindInt, "INT64", "bigint", 0, 1<<63-1
		case "timestamp":
			f.Kind, f.ParquetType, f.SQLType, f.Min, f.Max = KindTime, "INT64", "bigint", 0, 1<<63-1
		case "ip":
			f.Kind, f.ParquetType, f.SQLType = KindIP, "STRING", "string"
		case "enum":
			f.Kind, f.ParquetType, f.SQLType = KindEnum, "STRING", "string"
		default:
			f.Kind, f.ParquetType, f.SQLType = KindString, "STRING", "string"
		}
		switch FieldID(i) {
		case Version:
			f.Min, f.Max = 2, 255
		case TCPFlags:
			f.Max = 255
		case TrafficPath:
			f.Min, f.Max = 1, 255
		case EncryptionStatus:
			f.Max = 3
		}
		c.fields[i] = f
		for _, n := range []string{f.Name, f.Column, f.Insights} {
			c.byName[n] = f.ID
		}
	}
	return c
}

func camel(name string) string {
	if s, ok := insightsSpecial[name]; ok {
		return s
	}
	parts := strings.Split(name, "-")
	var b strings.Builder
	for i, p := range parts {
		if i > 0 && p != "" {
			b.WriteString(strings.ToUpper(p[:1]))
			b.WriteString(p[1:])
			continue
		}
		b.WriteString(p)
	}
	return b.String()
}

// Fields returns every catalog field in canonical order. The slice must not
// be modified.
func Fields() []Field { return catalog.fields[:] }

// VPCFields returns the VPC flow log fields (versions 2 to 11) in canonical order.
func VPCFields() []Field { return catalog.fields[:NumVPCFields] }

// Get returns the field with the given ID.
func Get(id FieldID) *Field { return &catalog.fields[id] }

// Lookup finds a field by its AWS name ("log-status"), canonical column name
// ("log_status") or Logs Insights name ("logStatus"). Names are matched
// exactly; use LookupFold for a case-insensitive match.
func Lookup(name string) (*Field, bool) {
	id, ok := catalog.byName[name]
	if !ok {
		return nil, false
	}
	return &catalog.fields[id], true
}

// LookupFold is Lookup ignoring ASCII case.
func LookupFold(name string) (*Field, bool) {
	if f, ok := Lookup(name); ok {
		return f, true
	}
	for i := range catalog.fields {
		f := &catalog.fields[i]
		if strings.EqualFold(f.Name, name) || strings.EqualFold(f.Column, name) || strings.EqualFold(f.Insights, name) {
			return f, true
		}
	}
	return nil, false
}

// String returns the canonical column name of the field.
func (id FieldID) String() string {
	if id >= NumFields {
		return "invalid"
	}
	return catalog.fields[id].Column
}

// ValidEnum reports whether v is an accepted value of the enum field f.
func (f *Field) ValidEnum(v []byte) bool {
	if f.OpenEnum {
		return len(v) > 0
	}
	for _, e := range f.Enum {
		if string(v) == e {
			return true
		}
	}
	return false
}
