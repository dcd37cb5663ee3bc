#!/bin/sh
# Install what nsnetstat needs to build and test, from Debian 12's packages.
# Idempotent: installs (and runs apt-get update) only when something is missing.
set -eu

PKGS="build-essential cmake pkg-config
libnl-3-dev libnl-route-3-dev libcap-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev libjson-c-dev
iproute2 iputils-ping util-linux procps python3 libcap2-bin prometheus
containerd runc podman busybox-static"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing packages:$missing; run as root to install them" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
