#!/bin/sh
# Install dependencies, build, and run the whole test suite with ctest.
#   scripts/test.sh              normal build (build/)
#   scripts/test.sh --sanitize   AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/)
#   scripts/test.sh --tsan       ThreadSanitizer build (build-tsan/): the tests whose binaries
#                                run threads (label "threads"), then the unit tests
# Tests that need root skip (exit 77) when not run as root; run as root to run them all.
set -eu
cd "$(dirname "$0")/.."

mode=${1:-}
dir=build
flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
run=
case $mode in
"") ;;
--sanitize)
	dir=build-asan
	flags="-DCMAKE_BUILD_TYPE=Debug -DNSN_SANITIZE=ON"
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
	export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	;;
--tsan)
	# Optimized with debug info, as TSan wants it: -O0 only makes it slower.
	dir=build-tsan
	flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DNSN_TSAN=ON"
	export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
	# gcc 12's and clang 14's TSan abort ("FATAL: ThreadSanitizer: unexpected memory
	# mapping") where the kernel randomizes mmap with more bits than they know
	# (vm.mmap_rnd_bits 32): the tests run with address space randomization off, a
	# personality every child inherits, where it may be set (not under Docker's seccomp).
	if setarch "$(uname -m)" -R true 2>/dev/null; then
		run="setarch $(uname -m) -R"
	fi
	;;
*) echo "usage: scripts/test.sh [--sanitize|--tsan]" >&2; exit 2 ;;
esac

scripts/install-deps.sh
# shellcheck disable=SC2086
cmake -S . -B "$dir" $flags -DNSN_WERROR=ON
cmake --build "$dir" -j"$(nproc)"
if [ "$mode" = --tsan ]; then
	# shellcheck disable=SC2086
	$run ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" -L threads
	# shellcheck disable=SC2086
	$run ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" -R '^unit\.' -LE threads
else
	ctest --test-dir "$dir" --output-on-failure -j"$(nproc)"
fi
