#!/bin/sh
# Install dependencies, build, and run the whole test suite with ctest.
#   scripts/test.sh              normal build (build/)
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/)
# Tests that need root skip (exit 77) when not run as root; run as root to run them all.
set -eu
cd "$(dirname "$0")/.."

mode=${1:-}
dir=build
flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
case $mode in
"") ;;
--sanitize)
	dir=build-asan
	flags="-DCMAKE_BUILD_TYPE=Debug -DNSN_SANITIZE=ON"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	;;
*) echo "usage: scripts/test.sh [--sanitize]" >&2; exit 2 ;;
esac

scripts/install-deps.sh
# shellcheck disable=SC2086
cmake -S . -B "$dir" $flags -DNSN_WERROR=ON
cmake --build "$dir" -j"$(nproc)"
ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
