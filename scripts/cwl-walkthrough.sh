#!/usr/bin/env bash
# Replays the CloudWatch Logs walkthrough of a flow log user (create a group
# and a stream, put flow log events, describe, get, filter, test and put a
# metric filter, run a Logs Insights query, delete the group) with the AWS
# CLI against a flowlens serve, changing only --endpoint-url.
#
#   flowlens serve --data ./db &
#   eval "$(flowlens keys create --data ./db)"
#   scripts/cwl-walkthrough.sh http://127.0.0.1:8080
set -euo pipefail
EP=${1:?usage: cwl-walkthrough.sh ENDPOINT_URL}
AWS=${AWS:-aws}
export AWS_DEFAULT_REGION=${AWS_DEFAULT_REGION:-ap-northeast-1} AWS_PAGER=""
logs() { "$AWS" --endpoint-url "$EP" logs "$@"; }
fail() { echo "cwl-walkthrough: $*" >&2; exit 1; }
expect() { # expect WHAT WANT GOT
	[ "$2" = "$3" ] || fail "$1: got '$3', want '$2'"
	echo "ok: $1 = $3"
}

G=my-flow-log
S=eni-c46ee49c-all
now=$(date +%s)
t0=$((now - 3600))
line() { echo "2 123456789012 eni-c46ee49c 10.0.1.218 10.0.1.63 $1 $2 6 2 112 $3 $(($3 + 52)) $4 OK"; }

logs create-log-group --log-group-name "$G"
expect "describe-log-groups name" "$G" "$(logs describe-log-groups --query 'logGroups[0].logGroupName' --output text)"
expect "describe-log-groups arn" "arn:aws:logs:$AWS_DEFAULT_REGION:000000000000:log-group:$G:*" \
	"$(logs describe-log-groups --log-group-name-prefix my- --query 'logGroups[0].arn' --output text)"
logs create-log-stream --log-group-name "$G" --log-stream-name "$S"

events="["
for i in 0 1 2 3 4 5; do
	t=$((t0 + i * 60))
	case $i in
	2) l=$(line 49152 22 $t REJECT) ;;
	*) l=$(line 80 $((54030 + i)) $t ACCEPT) ;;
	esac
	events+="{\"timestamp\":$((t * 1000)),\"message\":\"$l\"},"
done
events="${events%,}]"
logs put-log-events --log-group-name "$G" --log-stream-name "$S" --log-events "$events" >/dev/null

expect "describe-log-streams --limit 1" "$S" \
	"$(logs describe-log-streams --log-group-name "$G" --limit 1 --query 'logStreams[0].logStreamName' --output text)"
expect "first event timestamp" "$((t0 * 1000))" \
	"$(logs describe-log-streams --log-group-name "$G" --query 'logStreams[0].firstEventTimestamp' --output text)"
expect "get-log-events --limit 1 (newest)" "$(line 80 54035 $((t0 + 300)) ACCEPT)" \
	"$(logs get-log-events --log-group-name "$G" --log-stream-name "$S" --limit 1 --query 'events[-1].message' --output text)"
expect "get-log-events --start-from-head" "$(line 80 54030 $t0 ACCEPT)" \
	"$(logs get-log-events --log-group-name "$G" --log-stream-name "$S" --start-from-head --query 'events[0].message' --output text)"
expect "filter-log-events srcport=80" 5 \
	"$(logs filter-log-events --log-group-name "$G" --filter-pattern '[version,account_id,interface_id,srcaddr,dstaddr,srcport=80,dstport,protocol,packets,bytes,start,end,action,log_status]' --query 'length(events)' --output text)"

walk="2 1234567890123 eni-xxxxxxxx xx.x.x.xxx yy.y.y.yyy 49907 80 6 4 216 1441204247 1441204306 ACCEPT OK"
tm=$(logs test-metric-filter \
	--filter-pattern '[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=80,protocol,packets,bytes,start,end,action,log_status]' \
	--log-event-messages "$walk" --query 'matches[0].[eventNumber,extractedValues."$dstport",extractedValues."$interface_id",extractedValues."$log_status"]' --output text)
expect "test-metric-filter" "$(printf '1\t80\teni-xxxxxxxx\tOK')" "$tm"

logs put-metric-filter --log-group-name "$G" --filter-name SSHAccess \
	--filter-pattern '[version,account_id,interface_id,srcaddr,dstaddr,srcport,dstport=22,protocol,packets,bytes,start,end,action,log_status]' \
	--metric-transformations 'metricValue=1,metricNamespace=LogMetrics,metricName=SSHAccess'
expect "describe-metric-filters" "$(printf 'SSHAccess\tLogMetrics')" \
	"$(logs describe-metric-filters --log-group-name "$G" --query 'metricFilters[0].[filterName,metricTransformations[0].metricNamespace]' --output text)"

qid=$(logs start-query --log-group-name "$G" --start-time $((t0 - 60)) --end-time "$now" \
	--query-string 'filter action = "REJECT" | stats count(*) as n by dstPort' --query queryId --output text)
status=Scheduled
for _ in $(seq 100); do
	status=$(logs get-query-results --query-id "$qid" --query status --output text)
	[ "$status" = Complete ] && break
	sleep 0.1
done
expect "query status" Complete "$status"
expect "query results" "$(printf 'dstPort\t22\nn\t1')" \
	"$(logs get-query-results --query-id "$qid" --query 'results[0][*].[field,value]' --output text)"

logs delete-log-group --log-group-name "$G"
expect "groups after delete-log-group" 0 "$(logs describe-log-groups --query 'length(logGroups)' --output text)"
echo "cwl-walkthrough: ok"
