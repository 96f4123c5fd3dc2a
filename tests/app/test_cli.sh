#!/usr/bin/env bash
# The sipfleet command line as a user meets it: help, version, exit codes, and `parse` on
# torture messages. Usage: test_cli.sh SIPFLEET DATA_DIR
set -u
bin=$1
data=$2
fails=0
check() {  # check NAME EXPECTED_STATUS PATTERN -- command...
  local name=$1 want=$2 pattern=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL: $name (exit $status, wanted $want; pattern '$pattern')"
    echo "$out" | head -20
    fails=$((fails + 1))
  else
    echo "ok: $name"
  fi
}
check "--help names the parse command" 0 "parse" -- "$bin" --help
check "--help names the run command" 0 "run" -- "$bin" --help
check "run --help explains every option" 0 "--max-failed-pct" -- "$bin" run --help
check "run with a bad option value is a usage error naming it" 2 "--call-rate" -- "$bin" run --call-rate 0
check "run with an unreadable config is a usage error" 2 "--config" -- "$bin" run --config /nonexistent.yaml
check "--help names the serve command" 0 "serve" -- "$bin" --help
check "serve --help explains the API options" 0 "--api-token" -- "$bin" serve --help
check "serve with a bad --api is a usage error naming it" 2 "--api" -- "$bin" serve --api nowhere
check "--version prints the version" 0 "^sipfleet [0-9]+\.[0-9]+" -- "$bin" --version
check "no command is a usage error" 2 "subcommand" -- "$bin"
check "an unknown flag is a usage error naming it" 2 "--bogus" -- "$bin" parse --bogus
check "a missing file is a usage error" 2 "cannot read" -- "$bin" parse /nonexistent/file
check "a valid torture message is well-formed" 0 "call-id  wsinv.ndaksdj@192.0.2.1" -- \
  "$bin" parse "$data/rfc4475/wsinv.dat"
check "an invalid torture message gives the 400 reason" 1 "malformed: unsupported SIP version" -- \
  "$bin" parse "$data/rfc4475/badvers.dat"
check "stdin is read when no file is named" 0 "well-formed" -- \
  bash -c "\"$bin\" parse < \"$data/rfc4475/noreason.dat\""
check "--stream requires Content-Length" 1 "missing Content-Length" -- \
  "$bin" parse --stream "$data/rfc4475/inv2543.dat"
echo "$((16 - fails)) passed, $fails failed"
[ "$fails" -eq 0 ]
