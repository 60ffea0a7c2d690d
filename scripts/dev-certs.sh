#!/usr/bin/env bash
# Makes a development CA, a server certificate and gateway client certificates with openssl.
# Usage: scripts/dev-certs.sh OUT_DIR [GATEWAY_ID ...]
# For production use your organisation's CA; keep every *.key file private (mode 600).
set -euo pipefail
out=${1:?usage: dev-certs.sh OUT_DIR [GATEWAY_ID ...]}
shift
mkdir -p "$out"
cd "$out"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=Eldercare dev CA" \
  -keyout ca.key -out ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -extfile server.ext -out server.pem 2>/dev/null
for gw in "$@"; do
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$gw" -keyout "$gw.key" -out "$gw.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' > client.ext
  openssl x509 -req -in "$gw.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 -extfile client.ext -out "$gw.pem" 2>/dev/null
done
rm -f ./*.csr ./*.ext ca.srl
chmod 644 ./*.pem
echo "wrote $(ls | tr '\n' ' ')to $out"
