#!/usr/bin/env bash
# Builds the older rsync releases the remote tests talk to (rsync 3.1.3: protocol 31, no checksum
# negotiation, no xxhash; 3.2.7: negotiation, no 3.4+ hardening) from the source archives in
# ../shared/rsync-versions, into $ARSYNC_PEERS (default ~/.cache/arsync/peers/rsync-X.Y.Z/rsync).
# Idempotent: a peer already built is kept, unless it lacks what the interop tests need: xattrs (only
# the C library's <sys/xattr.h> is needed, so they are always on) and, when libacl's headers are here
# (libacl1-dev), ACLs (the -A tests skip a peer without them). Uses rsync's bundled popt and zlib and
# turns off the other optional libraries, so only a C compiler and make are needed.
#
#   bash scripts/build-peers.sh [VERSIONS_DIR]
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
SRC=${1:-$HERE/../shared/rsync-versions}
OUT=${ARSYNC_PEERS:-$HOME/.cache/arsync/peers}
mkdir -p "$OUT"
# Tests that run a peer wait while this holds $OUT/.build.lock (test/helpers/rsync-server.ts).
# scripts/test.sh takes the lock before starting this in the background and hands its descriptor down.
if [ -z "${ARSYNC_PEERS_LOCK_FD-}" ]; then
  exec 9>>"$OUT/.build.lock"
  flock -x 9
fi
if ! ls "$SRC"/rsync-*.tar.gz >/dev/null 2>&1; then
  # Without the archives (a checkout outside the team's tree) the interop tests skip, saying why.
  echo "build-peers: no rsync-*.tar.gz in $SRC: the older-peer interop tests will be skipped" >&2
  exit 0
fi
work=
# A build stopped part-way (scripts/test.sh stops it when an earlier step fails) leaves no sources behind.
trap '[ -z "$work" ] || rm -rf "$work"' EXIT
for tgz in "$SRC"/rsync-*.tar.gz; do
  name=$(basename "$tgz" .tar.gz)
  if [ -x "$OUT/$name/rsync" ]; then
    v=$("$OUT/$name/rsync" --version)
    if ! grep -q 'no xattrs' <<<"$v" && { [ ! -f /usr/include/sys/acl.h ] || ! grep -q 'no ACLs' <<<"$v"; }; then continue; fi
  fi
  work=$(mktemp -d)
  tar -xzf "$tgz" -C "$work"
  (
    cd "$work/$name"
    # Each release knows a different set of --disable switches: offer only the ones it has.
    flags="--with-included-popt --with-included-zlib --disable-debug"
    off="xxhash zstd lz4 openssl md2man iconv"
    [ -f /usr/include/sys/acl.h ] || off="$off acl-support"
    for f in $off; do
      if ./configure --help | grep -q -- "--disable-$f"; then flags="$flags --disable-$f"; fi
    done
    ./configure $flags >"$work/configure.log" 2>&1 || { tail -20 "$work/configure.log" >&2; exit 1; }
    make -j"$(nproc)" rsync >"$work/make.log" 2>&1 || { tail -20 "$work/make.log" >&2; exit 1; }
  )
  mkdir -p "$OUT/$name"
  # Copied beside, then renamed in one step: a test running meanwhile sees the old peer or the new one.
  cp "$work/$name/rsync" "$OUT/$name/rsync.new"
  mv -f "$OUT/$name/rsync.new" "$OUT/$name/rsync"
  rm -rf "$work"
  echo "build-peers: $OUT/$name/rsync ($("$OUT/$name/rsync" --version | head -1))"
done
