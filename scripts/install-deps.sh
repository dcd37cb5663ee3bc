#!/bin/sh
# Install what nsnetstat needs to build and test, from Debian 12's packages, and the
# npm packages tests/deploy validates the manifests with (tests/deploy/package-lock.json,
# into tests/deploy/node_modules).
# Idempotent: installs (and runs apt-get update) only when something is missing.
set -eu
cd "$(dirname "$0")/.."

PKGS="build-essential cmake pkg-config
libnl-3-dev libnl-route-3-dev libcap-dev libprotobuf-c-dev protobuf-c-compiler libuv1-dev libjson-c-dev
iproute2 iputils-ping util-linux procps python3 libcap2-bin prometheus
containerd runc podman busybox-static
clang libclang-rt-14-dev libssl-dev openssl
llvm libbpf-dev bpftool libelf-dev zlib1g-dev"
# Commands another source may already provide (a newer Node.js, a cloud SDK's kubectl):
# Debian's package only where the command is missing. kubectl renders deploy/'s
# kustomization offline (kubectl kustomize).
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"
command -v kubectl >/dev/null 2>&1 || PKGS="$PKGS kubernetes-client"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing packages:$missing; run as root to install them" >&2
		exit 1
	fi
	echo "install-deps: installing$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi

# The exact versions of the lock file, again whenever it changed.
if [ ! -f tests/deploy/node_modules/.package-lock.json ] ||
	[ tests/deploy/package-lock.json -nt tests/deploy/node_modules/.package-lock.json ]; then
	echo "install-deps: npm ci in tests/deploy" >&2
	# Without the registry the build and every other test still run; deploy.manifests
	# then fails, saying what is missing.
	if ! (cd tests/deploy && npm ci --no-audit --no-fund --loglevel=error); then
		echo "install-deps: npm ci in tests/deploy failed: deploy.manifests will fail" >&2
	fi
fi
