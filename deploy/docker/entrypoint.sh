#!/bin/sh
# Container entrypoint: sipfleet with the container's arguments. The API token may come from a
# file, as compose and Kubernetes mount secrets: SIPFLEET_API_TOKEN_FILE=/run/secrets/NAME
# (used when SIPFLEET_API_TOKEN is not set; the token never appears in the process arguments).
set -eu
if [ -z "${SIPFLEET_API_TOKEN:-}" ] && [ -n "${SIPFLEET_API_TOKEN_FILE:-}" ]; then
  if [ ! -r "$SIPFLEET_API_TOKEN_FILE" ]; then
    echo "sipfleet-entrypoint: cannot read SIPFLEET_API_TOKEN_FILE=$SIPFLEET_API_TOKEN_FILE" >&2
    exit 2
  fi
  SIPFLEET_API_TOKEN="$(cat "$SIPFLEET_API_TOKEN_FILE")"  # $(...) drops the trailing newline
  export SIPFLEET_API_TOKEN
fi
exec /usr/local/bin/sipfleet "$@"
