#!/usr/bin/env bash
# Print a SIPp injection file (SEQUENTIAL) of subscribers for the sipfleet Kamailio:
#   tests/sipp/users.csv.sh [FIRST=1000] [LAST=1999] [DOMAIN=sipfleet.test] > users.csv
# Each line: user;password;domain;[authentication username=user password=pw{user}]
# with password = "pw" + user (template pw{user}). Used by register_auth.xml and
# uac_auth.xml as [field0]=user, [field1]=password, [field2]=domain,
# [field3]=the SIPp authentication keyword (SIPp 3.6 cannot nest [fieldN] inside
# [authentication ...], but expands a keyword that comes from the injection file).
set -euo pipefail
FIRST="${1:-1000}" LAST="${2:-1999}" DOMAIN="${3:-sipfleet.test}"
[[ "$FIRST" =~ ^[0-9]+$ && "$LAST" =~ ^[0-9]+$ ]] || { echo "usage: $0 [FIRST] [LAST] [DOMAIN]" >&2; exit 2; }
echo "SEQUENTIAL"
for ((u = FIRST; u <= LAST; u++)); do
  echo "$u;pw$u;$DOMAIN;[authentication username=$u password=pw$u]"
done
