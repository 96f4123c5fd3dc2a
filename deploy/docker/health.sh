#!/bin/sh
# Health probe for compose and Kubernetes: GET URL (default http://127.0.0.1:8080/v1/health)
# must answer 2xx within 2 s. Every API route, /v1/health included, needs the token when
# sipfleet has one, so it is sent from SIPFLEET_API_TOKEN or SIPFLEET_API_TOKEN_FILE (on stdin,
# not in curl's arguments).
set -eu
url="${1:-http://127.0.0.1:8080/v1/health}"
token="${SIPFLEET_API_TOKEN:-}"
if [ -z "$token" ] && [ -n "${SIPFLEET_API_TOKEN_FILE:-}" ]; then
  token="$(cat "$SIPFLEET_API_TOKEN_FILE")"
fi
if [ -z "$token" ]; then
  exec curl -fsS -o /dev/null --max-time 2 "$url"
fi
printf 'Authorization: Bearer %s\n' "$token" | exec curl -fsS -o /dev/null --max-time 2 -H @- "$url"
