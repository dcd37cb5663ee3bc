#!/bin/sh
# Build the libFuzzer targets (tests/fuzz/fuzz-*.c) with clang and fuzz each for a while.
#   scripts/fuzz.sh [SECONDS]    each target for SECONDS (default 30), two at a time
# Build directory: $NSN_FUZZ_DIR (default build-fuzz/, beside build/); targets at once: $NSN_FUZZ_JOBS
# (default 2). Each target starts from a copy of its checked-in corpus
# (tests/fuzz/corpus/NAME) in a temporary directory: the checked-in one is never changed.
# Prints one line per target; a crash, leak, timeout or out-of-memory in any target makes
# it exit 1 after printing the reproducer's path (kept) and the first lines of the report.
# Replay a reproducer with the target's plain build: build/tests/fuzz/fuzz-NAME FILE.
set -eu
cd "$(dirname "$0")/.."

secs=${1:-30}
case $secs in
'' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS]" >&2; exit 2 ;;
esac
dir=${NSN_FUZZ_DIR:-$(pwd)/build-fuzz}
jobs=${NSN_FUZZ_JOBS:-2}
if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang not found (scripts/install-deps.sh installs it)" >&2
	exit 2
fi
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

names=
for f in tests/fuzz/fuzz-*.c; do
	n=${f##*/fuzz-}
	names="$names ${n%.c}"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/nsn-fuzz.XXXXXX")
targets=
for n in $names; do
	targets="$targets fuzz-$n-libfuzzer"
done
# shellcheck disable=SC2086
if ! { CC=clang cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DNSN_FUZZ=ON -DNSN_WERROR=ON && cmake --build "$dir" -j"$(nproc)" --target $targets; } \
	>"$work/build.log" 2>&1; then
	tail -n 40 "$work/build.log" >&2
	echo "fuzz: building the targets in $dir failed" >&2
	rm -rf "$work"
	exit 1
fi

# Fuzz one target in $work/NAME: its corpus copy, log, exit status, seconds, and
# whatever artifact (crash-*, leak-*, timeout-*, oom-*) libFuzzer writes.
run_one() {
	w=$work/$1
	mkdir -p "$w/corpus"
	cp -R "tests/fuzz/corpus/$1/." "$w/corpus/"
	start=$(date +%s)
	rc=0
	"$dir/tests/fuzz/fuzz-$1-libfuzzer" -max_total_time="$secs" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$w/" "$w/corpus" \
		>"$w/log" 2>&1 </dev/null || rc=$?
	echo $(($(date +%s) - start)) >"$w/secs"
	echo "$rc" >"$w/rc"
}

# shellcheck disable=SC2086 # target names are plain words
set -- $names
while [ $# -gt 0 ]; do
	pids=
	i=0
	while [ $# -gt 0 ] && [ "$i" -lt "$jobs" ]; do
		run_one "$1" &
		pids="$pids $!"
		shift
		i=$((i + 1))
	done
	for p in $pids; do
		wait "$p" || true
	done
done

failed=0
for n in $names; do
	w=$work/$n
	rc=$(cat "$w/rc" 2>/dev/null || echo 1)
	s=$(cat "$w/secs" 2>/dev/null || echo 0)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -n 1)
	if [ -z "$execs" ]; then
		# No final stats after a crash: the last status line's count.
		execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$w/log" | tail -n 1)
	fi
	entries=$(find "$w/corpus" -type f | wc -l)
	artifacts=$(find "$w" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' \
		-o -name 'timeout-*' -o -name 'oom-*' \) | sort)
	crashes=$(printf '%s' "$artifacts" | grep -c . || true)
	if [ "$rc" -eq 0 ] && [ "$crashes" -eq 0 ]; then
		echo "fuzz $n: ${execs:-0} execs in $s s, $entries corpus entries, 0 crashes"
		continue
	fi
	failed=1
	[ "$crashes" -gt 0 ] || crashes=1
	echo "fuzz $n: ${execs:-0} execs in $s s, $entries corpus entries, $crashes crashes (exit $rc)"
	for a in $artifacts; do
		echo "  reproducer: $a"
	done
	[ -n "$artifacts" ] || echo "  log: $w/log"
	# The report: from the sanitizer's or libFuzzer's first error line on.
	line=$(grep -n -m 1 -E '^==[0-9]+==ERROR|runtime error:|invariant broken|deadly signal|^ERROR: libFuzzer|ALARM: working on the last Unit|out-of-memory' "$w/log" | cut -d: -f1 || true)
	sed -n "${line:-1},$((${line:-1} + 24))p" "$w/log" | sed 's/^/  | /'
done

if [ "$failed" -ne 0 ]; then
	echo "fuzz: failures above; their directory $work is kept" >&2
	exit 1
fi
rm -rf "$work"
