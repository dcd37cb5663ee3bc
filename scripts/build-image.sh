#!/bin/sh
# Build the nsnetstat image (agent, collector and CLI) from deploy/Containerfile with
# podman, else buildah, else docker; tag it nsnetstat:VERSION (CMakeLists.txt's version)
# and print that name on stdout (the build's own output goes to stderr).
# Usage: scripts/build-image.sh [BUILD-ARGS...]    passed through to the builder, e.g.
#        scripts/build-image.sh --network host --pull=never
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^project(nsnetstat VERSION \([0-9][0-9.]*\).*/\1/p' "$root/CMakeLists.txt")
if [ -z "$version" ]; then
	echo "build-image: no 'project(nsnetstat VERSION x.y.z' line in $root/CMakeLists.txt" >&2
	exit 1
fi
image=nsnetstat:$version
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || true)
source=$(git -C "$root" remote get-url origin 2>/dev/null || true)

if command -v podman >/dev/null 2>&1; then
	set -- podman build "$@"
elif command -v buildah >/dev/null 2>&1; then
	set -- buildah bud "$@"
elif command -v docker >/dev/null 2>&1; then
	set -- docker build "$@"
else
	echo "build-image: needs podman, buildah or docker" >&2
	exit 1
fi
"$@" -f "$root/deploy/Containerfile" -t "$image" \
	--build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg SOURCE="$source" \
	"$root" >&2
echo "$image"
