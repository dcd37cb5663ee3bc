#!/bin/sh
# Install dependencies, build, and show every socket of every network namespace.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)"
exec build/agent/nsnetstat --all-namespaces "$@"
