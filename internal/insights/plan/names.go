package plan

import "sort"

// FunctionInfo describes a function of the language for editors.
type FunctionInfo struct {
	// Name is the spelling Logs Insights documents (isIpv4InSubnet).
	Name      string
	Aggregate bool
	// MinArgs and MaxArgs bound the arguments (MaxArgs -1: any number).
	MinArgs, MaxArgs int
}

// documented gives the Logs Insights spelling of the lower-case names
// whose documented form has capitals.
var documented = map[string]string{
	"count_distinct": "count_distinct", "sortsfirst": "sortsFirst", "sortslast": "sortsLast",
	"countovertime": "countOverTime", "sumovertime": "sumOverTime", "tonumber": "toNumber",
	"toint": "toInt", "tolong": "toLong", "todouble": "toDouble", "datefloor": "datefloor",
	"frommillis": "fromMillis", "tomillis": "toMillis", "formatdate": "formatDate",
	"ispresent": "ispresent", "isnumeric": "isNumeric", "messagesize": "messageSize",
	"querystarttime": "queryStartTime", "queryendtime": "queryEndTime", "querytimerange": "queryTimeRange",
	"isvalidip": "isValidIp", "isvalidipv4": "isValidIpV4", "isvalidipv6": "isValidIpV6",
	"isipinsubnet": "isIpInSubnet", "isipv4insubnet": "isIpv4InSubnet", "isipv6insubnet": "isIpv6InSubnet",
	"ipv4tonumber": "ipv4ToNumber", "isprivateip": "isPrivateIp", "ispublicip": "isPublicIp",
	"isreservedip": "isReservedIp", "isempty": "isempty", "isblank": "isblank", "strlen": "strlen",
	"toupper": "toupper", "tolower": "tolower", "regexreplace": "regexReplace", "strcontains": "strcontains",
	"startswith": "startsWith", "endswith": "endsWith", "urlencode": "urlEncode", "urldecode": "urlDecode",
	"base64encode": "base64Encode", "base64decode": "base64Decode", "hextoascii": "hexToAscii",
	"hextodec": "hexToDec", "dectohex": "decToHex", "parsedate": "parseDate", "jsonparse": "jsonParse",
	"jsonstringify": "jsonStringify", "jsonarraysize": "jsonArraySize", "jsonarraycontains": "jsonArrayContains",
}

// Functions lists every function and aggregate the checker accepts, by name.
func Functions() []FunctionInfo {
	out := make([]FunctionInfo, 0, len(functions))
	for name, f := range functions {
		n := name
		if d, ok := documented[name]; ok {
			n = d
		}
		out = append(out, FunctionInfo{Name: n, Aggregate: f.agg, MinArgs: f.min, MaxArgs: f.max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
