#!/bin/bash
# A custom runtime's bootstrap as a user of provided.al2023 may write one: bash speaking the
# Lambda Runtime API over /dev/tcp. It answers every event with a proxy response that carries
# the event back.
set -euo pipefail
exec 3<>"/dev/tcp/${AWS_LAMBDA_RUNTIME_API%:*}/${AWS_LAMBDA_RUNTIME_API#*:}"

request() {  # METHOD PATH BODY
    printf '%s %s HTTP/1.1\r\nHost: runtime\r\nContent-Length: %d\r\n\r\n%s' \
        "$1" "/2018-06-01/runtime/$2" "${#3}" "$3" >&3
}

read_response() {
    local line length=0
    IFS= read -r line <&3
    REQUEST_ID=""
    while IFS= read -r line <&3; do
        line=${line%$'\r'}
        [ -z "$line" ] && break
        case "${line,,}" in
            content-length:*) length=${line#*: } ;;
            lambda-runtime-aws-request-id:*) REQUEST_ID=${line#*: } ;;
        esac
    done
    BODY=""
    if [ "$length" -gt 0 ]; then IFS= read -r -N "$length" BODY <&3; fi
}

echo "init in $(pwd) for $_HANDLER"
while true; do
    request GET invocation/next ""
    read_response
    echo "handling $REQUEST_ID"
    answer="{\"statusCode\":201,\"body\":\"bash ran $_HANDLER\",\"event\":$BODY}"
    request POST "invocation/$REQUEST_ID/response" "$answer"
    read_response
done
