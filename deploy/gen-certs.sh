#!/bin/sh
# SPDX-License-Identifier: MIT
# The certificates for mutual TLS between nsnet-agent, nsnetstat and nsnet-collector,
# made with the openssl CLI: a CA, the collector's server certificate, the agents'
# client certificate and a client certificate for queries. kustomization.yaml's
# secretGenerator takes them from deploy/tls/ (the CA's key is never put in a Secret).
#
#   deploy/gen-certs.sh [-o DIR] [-d DAYS] [--san DNS:NAME|IP:ADDR]... [--node NAME]...
#
#   -o DIR      where to write (default: deploy/tls next to this script); a CA already
#               there is reused, so certificates can be added or renewed later
#   -d DAYS     validity of the leaf certificates (default 365; the CA: 3650)
#   --san X     one more subjectAltName for the collector (e.g. DNS:collector.example.com
#               or IP:10.0.0.5), beyond nsnet-collector, nsnet-collector.nsnet.svc,
#               nsnet-collector.nsnet.svc.cluster.local and 127.0.0.1
#   --node N    also a per-node agent certificate agent-N.crt/.key of identity N (the
#               stronger setup: the collector then needs no --tls-agent-any-node)
#
# Writes ca.crt ca.key collector.crt collector.key agent.crt agent.key query.crt
# query.key (keys mode 0600) and a .gitignore that keeps the directory out of git.
# The agent certificate's identity is nsnet-agent: collector.yaml passes
# --tls-agent-any-node=nsnet-agent, since one Secret serves every node of the DaemonSet.
set -eu

out=$(dirname "$0")/tls
days=365
sans="DNS:nsnet-collector,DNS:nsnet-collector.nsnet.svc,DNS:nsnet-collector.nsnet.svc.cluster.local,IP:127.0.0.1"
nodes=""
while [ $# -gt 0 ]; do
	case $1 in
	-o) out=$2; shift 2 ;;
	-d) days=$2; shift 2 ;;
	--san) sans="$sans,$2"; shift 2 ;;
	--node) nodes="$nodes $2"; shift 2 ;;
	-h | --help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "gen-certs.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
command -v openssl >/dev/null || { echo "gen-certs.sh: openssl not found (apt-get install openssl)" >&2; exit 2; }
umask 077
mkdir -p "$out"
printf '*\n' >"$out/.gitignore"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# P-256: small, fast handshakes, supported everywhere TLS 1.3 is.
newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [ ! -s "$out/ca.key" ] || [ ! -s "$out/ca.crt" ]; then
	newkey "$out/ca.key"
	openssl req -x509 -new -key "$out/ca.key" -out "$out/ca.crt" -days 3650 -subj "/CN=nsnet-ca" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
	echo "gen-certs.sh: new CA $out/ca.crt"
fi

# leaf NAME CN EKU SANS: NAME.key and NAME.crt signed by the CA.
leaf() {
	newkey "$out/$1.key"
	openssl req -new -key "$out/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr"
	printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' \
		"$3" "$4" >"$tmp/$1.ext"
	openssl x509 -req -in "$tmp/$1.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days "$days" -extfile "$tmp/$1.ext" -out "$out/$1.crt" 2>/dev/null
	echo "gen-certs.sh: $out/$1.crt ($2, $3, $4)"
}

# The collector: a server only; its names are what agents and nsnetstat dial.
leaf collector nsnet-collector serverAuth "$sans"
# Clients only: a stolen agent or query key cannot pose as the collector.
leaf agent nsnet-agent clientAuth "DNS:nsnet-agent"
leaf query nsnet-query clientAuth "DNS:nsnet-query"
for n in $nodes; do
	leaf "agent-$n" "$n" clientAuth "DNS:$n"
done
chmod 0644 "$out"/*.crt
