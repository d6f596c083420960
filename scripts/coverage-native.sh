#!/usr/bin/env bash
# Line and branch coverage of the native addon (native/*.c), measured with gcc's --coverage and gcov.
#
# Builds the addon a second time, instrumented, into its own directory (build-coverage/, never
# build/Release, so the ordinary addon and node-gyp's rebuilds are left alone), runs a representative
# part of the test suite with that addon (the loader takes the file named by ARSYNC_ADDON,
# src/engine/addon-path.ts; the e2e helper test/helpers/cli-command.ts drops ARSYNC_ADDON from the CLI's
# environment unless a test sets it, and passes ARSYNC_TEST_ADDON on as ARSYNC_ADDON instead),
# then prints per-file line and branch coverage from gcov. Not part of `npm test`: it rebuilds the
# addon and runs slow e2e files. The figures and what they leave uncovered: docs/coverage.md.
#
#   scripts/coverage-native.sh                 # the default test files below
#   scripts/coverage-native.sh test/e2e/x.test.ts ...   # other test files
#   COVERAGE_NATIVE_DIR=/tmp/cov scripts/coverage-native.sh
#
# Needs gcc, gcov (gcc's own) and liburing-dev; gcovr is not needed. Per-line annotations are left in
# $DIR/gcov/*.gcov ('#####' marks a line never run).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
DIR=${COVERAGE_NATIVE_DIR:-$root/build-coverage}
case "$DIR" in /*) ;; *) DIR="$root/$DIR" ;; esac

# The sources and defines are read from binding.gyp, so the instrumented build is the real one.
mapfile -t SOURCES < <(node -e '
  const g = JSON.parse(require("fs").readFileSync("binding.gyp", "utf8").replace(/^\s*#.*$/gm, ""));
  for (const s of g.targets[0].sources) console.log(s);')
mapfile -t DEFINES < <(node -e '
  const g = JSON.parse(require("fs").readFileSync("binding.gyp", "utf8").replace(/^\s*#.*$/gm, ""));
  for (const d of g.targets[0].defines) console.log("-D" + d);')
NODE_INC=$(dirname "$(dirname "$(command -v node)")")/include/node
[ -f "$NODE_INC/node_api.h" ] || { echo "coverage-native: node_api.h not found in $NODE_INC" >&2; exit 1; }

rm -rf "$DIR"
mkdir -p "$DIR/obj" "$DIR/gcov"
# -O0: line counts that follow the source (at -O2 inlined and merged lines are attributed oddly).
CFLAGS=(-std=c11 -O0 -g -fPIC -fvisibility=hidden -Wall -Wextra --coverage "${DEFINES[@]}" -I"$NODE_INC")
echo "coverage-native: building the instrumented addon in $DIR"
objs=()
for s in "${SOURCES[@]}"; do
  o="$DIR/obj/$(basename "${s%.c}").o"
  gcc "${CFLAGS[@]}" -c "$root/$s" -o "$o" # absolute: gcov finds the source from $DIR/gcov
  objs+=("$o")
done
gcc -shared --coverage -o "$DIR/arsync.node" "${objs[@]}" -luring -pthread

TESTS=("$@")
if [ ${#TESTS[@]} -eq 0 ]; then
  # The suites that go through every native entry point: ops of every kind on both native engines,
  # beneath-root resolution (also without openat2), long paths, the pair cursor and the tree scan,
  # backups, -c, xattrs, short reads, EMFILE. (races.test.ts and alt-dest-trust.test.ts add little
  # and take long; name them to include them.)
  TESTS=(test/unit/engine test/e2e/sync-basic.test.ts test/e2e/safety.test.ts test/e2e/deep-paths.test.ts
    test/e2e/tree-noopenat2.test.ts test/e2e/sync-tree.test.ts test/e2e/wide-dir.test.ts
    test/e2e/backup-safety.test.ts test/e2e/sync-compare.test.ts test/e2e/sync-props.test.ts
    test/e2e/sync-xattrs.test.ts test/e2e/short-reads.test.ts test/e2e/errors.test.ts)
fi
[ -f dist/bin.js ] || node scripts/bundle.mjs
echo "coverage-native: running ${TESTS[*]}"
set +e
ARSYNC_ADDON="$DIR/arsync.node" ARSYNC_TEST_ADDON="$DIR/arsync.node" ARSYNC_RACE_RUNS=${ARSYNC_RACE_RUNS:-3} npx vitest run "${TESTS[@]}"
status=$?
set -e
[ $status -eq 0 ] || echo "coverage-native: some tests failed (exit $status); the figures below still count what ran" >&2

# gcov per source file: "Lines executed:" and "Taken at least once:" (branches).
cd "$DIR/gcov"
printf '\n%-20s %8s %8s %10s %8s\n' file lines covered 'lines %' 'branch %'
tl=0
tc=0
for s in "${SOURCES[@]}"; do
  out=$(gcov -b -o "$DIR/obj" "$root/$s" 2>/dev/null | awk -v f="$(basename "$s")" '
    $0 ~ "^File .*" f "'"'"'" { on = 1; next }
    on && /^Lines executed:/ { split($0, a, /[:% ]+/); lp = a[3]; ln = a[5] }
    on && /^Taken at least once:/ { split($0, b, /[:% ]+/); bp = b[5] }
    on && /^$/ { on = 0 }
    END { printf "%s %s %s\n", (ln == "" ? 0 : ln), (lp == "" ? 0 : lp), (bp == "" ? "-" : bp) }')
  read -r n pct bpct <<<"$out"
  c=$(awk -v n="$n" -v p="$pct" 'BEGIN { printf "%d", n * p / 100 + 0.5 }')
  tl=$((tl + n))
  tc=$((tc + c))
  printf '%-20s %8d %8d %9s%% %7s%%\n' "$(basename "$s")" "$n" "$c" "$pct" "$bpct"
done
printf '%-20s %8d %8d %9s%%\n' total "$tl" "$tc" "$(awk -v c=$tc -v t=$tl 'BEGIN { printf "%.1f", t ? 100 * c / t : 0 }')"
echo "coverage-native: per-line annotations in $DIR/gcov/*.gcov"
exit $status
