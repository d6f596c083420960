#!/usr/bin/env bash
# The user's install, for real: packs arsync, then in a minimal Debian (debootstrap --variant=minbase: no
# compiler, make, python3 or liburing) with only Node and npm added, runs `npm install -g` of the tarball
# and `npx` of it, copies a tree with hard links, symlinks, ACLs and xattrs with `arsync -aHAX`, checks
# that the install built the start-up snapshot and `arsync` starts from it, that the uring engine and the
# prebuilt addon ran and that rsync finds nothing to change. Prints the tarball size and the install time.
# Needs root (chroot, mounts), debootstrap, rsync, acl, attr, and network access to Debian's mirror and
# the npm registry. Exit 0 on success, 1 on a failed check,
# 2 when the environment cannot run the test (the reason is printed).
#
#   scripts/install-test.sh [TARBALL]
#   scripts/install-test.sh --base-only   just make the Debian base (`npm test` starts it early, in the
#                                          background, so the test finds it made; exit 0, or 2 as above)
#   ARSYNC_CHROOT_CACHE=DIR  where the debootstrapped base is kept between runs (default /var/tmp/arsync-chroot)
#   DEBIAN_MIRROR=URL        default http://deb.debian.org/debian
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${ARSYNC_CHROOT_CACHE:-/var/tmp/arsync-chroot}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

skip() { echo "install-test: cannot run: $*" >&2; exit 2; }
fail() { echo "install-test: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (chroot and mounts)"
command -v debootstrap >/dev/null || skip "debootstrap is not installed (apt-get install debootstrap)"
for t in rsync setfacl setfattr unshare; do command -v "$t" >/dev/null || skip "$t is not installed"; done

# The clean Debian base, made once (a minute or two from the mirror) and reused read-only. Under a lock:
# `npm test` makes it in the background (--base-only) while the typecheck and lint run, and the test
# itself waits for that rather than starting a second debootstrap.
base_ready() {
  mkdir -p "$cache"
  exec 8>>"$cache/.lock"
  flock -x 8
  if [ ! -x "$cache/base/usr/bin/apt-get" ]; then
    rm -rf "$cache/base.new"
    debootstrap --variant=minbase bookworm "$cache/base.new" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
      skip "debootstrap could not build a Debian base from $mirror (see $cache/debootstrap.log)"
    mv "$cache/base.new" "$cache/base"
  fi
  exec 8>&-
}
if [ "${1:-}" = "--base-only" ]; then
  base_ready
  exit 0
fi

work="$(mktemp -d /var/tmp/arsync-install-test.XXXXXX)"
trap 'rm -rf "$work"' EXIT

# 1. The tarball (npm pack builds the prebuilts: needs the cross toolchain, see scripts/prebuild.mjs).
tarball="${1:-}"
if [ -z "$tarball" ]; then
  # Packed from a copy, so the prebuilds/ that packing makes never shows up in the checkout meanwhile.
  rsync -a --exclude=/node_modules --exclude=/build --exclude=/dist --exclude=/prebuilds --exclude=/.git \
    --exclude='*.tgz' "$root/" "$work/pkgsrc/"
  ln -s "$(readlink -f "$root/node_modules")" "$work/pkgsrc/node_modules"
  (cd "$work/pkgsrc" && npm pack --silent --pack-destination "$work" >"$work/pack.log" 2>&1) || { cat "$work/pack.log" >&2; fail "npm pack failed"; }
  tarball="$(ls "$work"/arsync-*.tgz)"
fi
[ -f "$tarball" ] || fail "no tarball $tarball"
size=$(stat -c %s "$tarball")

# 2. The clean Debian base (above).
base_ready

# 3. Everything else happens in a private mount namespace: an overlay over the base (so each run starts
# clean), the host's Node and npm copied in (Debian 12's own nodejs is 18, arsync needs 20), then chroot.
cp "$tarball" "$work/arsync.tgz"
cat >"$work/inner.sh" <<'INNER'
set -euo pipefail
work="$1"; base="$2"
mnt="$work/root"
mkdir -p "$work/upper" "$work/ovl" "$mnt"
mount -t overlay overlay -o "lowerdir=$base,upperdir=$work/upper,workdir=$work/ovl" "$mnt"
mkdir -p "$mnt/usr/lib/node_modules"
cp /usr/bin/node "$mnt/usr/bin/node"
cp -a "$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")" "$mnt/usr/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/bin/npx"
cp /etc/resolv.conf "$mnt/etc/resolv.conf"
# A host behind a TLS-inspecting proxy trusts an extra CA; the chroot needs the same to reach npm.
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  cp "$NODE_EXTRA_CA_CERTS" "$mnt/etc/extra-ca.pem"
  echo "export NODE_EXTRA_CA_CERTS=/etc/extra-ca.pem" >"$mnt/etc/arsync-test-env"
else
  : >"$mnt/etc/arsync-test-env"
fi
cp "$work/arsync.tgz" "$mnt/tmp/arsync.tgz"
mount -t proc proc "$mnt/proc"
mount --rbind /dev "$mnt/dev"

# The source tree, made with the host's tools (the chroot has no setfacl/setfattr, as a slim image).
src="$mnt/tmp/src"
mkdir -p "$src/dir/sub" "$src/empty"
head -c 300000 /dev/urandom >"$src/big"
printf 'hello\n' >"$src/dir/a"
printf 'sub\n' >"$src/dir/sub/b"
ln "$src/dir/a" "$src/dir/a-link"
ln -s dir/a "$src/sym"
mkfifo "$src/fifo"
chown 1234:2345 "$src/dir/sub/b"
chmod 0640 "$src/dir/a"
setfacl -m u:4321:r-x "$src/dir"
setfattr -n user.arsync -v installed "$src/big"
touch -d '2001-02-03 04:05:06.789' "$src/big"

chroot "$mnt" /bin/sh -ec '
  export HOME=/root PATH=/usr/local/bin:/usr/bin:/bin
  . /etc/arsync-test-env
  for t in gcc cc make python3; do ! command -v $t >/dev/null || { echo "the chroot has $t" >&2; exit 1; }; done
  ! ls /usr/lib/*/liburing* >/dev/null 2>&1 || { echo "the chroot has liburing" >&2; exit 1; }
  start=$(date +%s.%N)
  # npm 11.19+ runs install scripts only when allowed; allowing it here runs the install script, which
  # must find the prebuilt and skip the build (the prebuilt works without it too: see npx below).
  allow=""
  npm install --help 2>&1 | grep -q allow-scripts && allow="--allow-scripts=file:/tmp/arsync.tgz"
  npm install -g --no-audit --no-fund $allow /tmp/arsync.tgz >/tmp/npm-install.log 2>&1 || { cat /tmp/npm-install.log >&2; exit 1; }
  end=$(date +%s.%N)
  echo "install-seconds $(echo "$start $end" | awk "{printf \"%.1f\", \$2 - \$1}")"
  if grep -Ei "warn|gyp|error" /tmp/npm-install.log >&2; then echo "npm install printed warnings" >&2; exit 1; fi
  test ! -e /usr/local/lib/node_modules/arsync/build || { echo "the install built the addon from source" >&2; exit 1; }
  # npm links the man field of the package into the prefix; the completions ship in the package.
  test -e "$(npm prefix -g)/share/man/man1/arsync.1" || { echo "npm install -g did not install the man page" >&2; exit 1; }
  for c in arsync.bash _arsync arsync.fish; do
    test -s "$(npm root -g)/arsync/completions/$c" || { echo "the package lacks completions/$c" >&2; exit 1; }
  done
  # The install step built the start-up snapshot for this Node, and the command starts Node on it.
  test -s "$(npm root -g)/arsync/dist/arsync.blob" || { echo "the install built no start-up snapshot" >&2; exit 1; }
  sh -x "$(command -v arsync)" --version 2>&1 | grep -q -e "--snapshot-blob" || { echo "arsync did not start from its snapshot" >&2; exit 1; }
  arsync -aHAXv --debug=proto /tmp/src/ /tmp/dst/ >/tmp/arsync.log 2>&1 || { cat /tmp/arsync.log >&2; exit 1; }
  head -1 /tmp/arsync.log
  npm_config_cache=/tmp/npx-cache npx --yes --package=/tmp/arsync.tgz -- arsync -aHAXv --debug=proto /tmp/src/ /tmp/dst-npx/ >/tmp/npx.log 2>&1 || { cat /tmp/npx.log >&2; exit 1; }
  echo "npx: $(head -1 /tmp/npx.log)"
'
INNER
out="$(unshare --mount --propagation private bash "$work/inner.sh" "$work" "$cache/base")" || fail "in the chroot (above)"
echo "$out"
mnt="$work/upper/tmp"
for how in "npm install -g:engine: uring (io_uring is available; prebuilt addon)" "npx:npx: engine: uring (io_uring is available; prebuilt addon)"; do
  grep -qxF "${how#*:}" <<<"$out" || fail "${how%%:*}: not the uring engine on the prebuilt addon"
done
# rsync as the oracle: with checksums, every attribute -aHAX covers, nothing may differ.
for dst in dst dst-npx; do
  diff=$(rsync -aHAXc --dry-run --itemize-changes "$mnt/src/" "$mnt/$dst/")
  [ -z "$diff" ] || fail "$dst differs from src:\n$diff"
done
echo "tarball-bytes $size"
echo "install-test: OK"
