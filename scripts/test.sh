#!/usr/bin/env bash
# `npm test`: typecheck, lint, the bundle and vitest, with the older rsync peers (scripts/build-peers.sh)
# built in the background meanwhile instead of before them. On CI's fresh VM that build is 3–5 minutes
# of mostly serial work (each release's configure), which used to hold up everything after it; now only
# the test files that run a peer wait for it: the build holds an exclusive lock on
# $ARSYNC_PEERS/.build.lock, and test/helpers/rsync-server.ts takes it shared before any peer is used.
# Every step's exit code counts: the first failure is this script's exit code, and a failed peer build
# fails `npm test` even when every test passed (its log is printed at the end).
#
#   bash scripts/test.sh [VITEST ARGS...]      (npm test -- ARGS passes them on)
set -uo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
cd "$HERE"
OUT=${ARSYNC_PEERS:-$HOME/.cache/arsync/peers}
mkdir -p "$OUT"
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The lock is taken here, before the build starts, and handed down to it (fd 9, ARSYNC_PEERS_LOCK_FD),
# so that no test can look for a peer between the build's start and its own lock.
exec 9>>"$OUT/.build.lock"
flock -x 9
# Its own process group (job control), so that a failure of the first steps can stop configure and make too.
set -m
ARSYNC_PEERS_LOCK_FD=9 bash scripts/build-peers.sh >"$log" 2>&1 &
peers=$!
set +m
exec 9>&-

# The install test's clean Debian base (scripts/install-test.sh --base-only: a minute or so of download
# and unpacking on a fresh machine, once; a no-op where it is kept) is made meanwhile too, for the whole
# suite only; the test waits for it under the script's own lock. Its failure is the test's to report.
base=""
if [ "$#" -eq 0 ]; then
  set -m
  bash scripts/install-test.sh --base-only >/dev/null 2>&1 &
  base=$!
  set +m
fi

rc=0
npm run typecheck && npm run lint && npm run build:ts || rc=$?
if [ "$rc" -ne 0 ]; then
  kill -TERM -- "-$peers" 2>/dev/null
  [ -z "$base" ] || kill -TERM -- "-$base" 2>/dev/null
  wait "$peers"
  [ -z "$base" ] || wait "$base"
  exit "$rc"
fi
npx vitest run "$@" || rc=$?

[ -z "$base" ] || wait "$base"
wait "$peers"
built=$?
cat "$log"
if [ "$built" -ne 0 ]; then
  echo "npm test: building the rsync peers failed (exit $built): the tests that run them could not" >&2
  [ "$rc" -ne 0 ] || rc=$built
fi
exit "$rc"
