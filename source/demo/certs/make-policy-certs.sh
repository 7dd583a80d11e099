#!/bin/sh
# Makes the certificates of the demo's MTA-STS policy hosts (and the tests of the policy fetch):
# a small CA of their own, policy-root.pem, since the demo intermediate's key is thrown away; a
# leaf for every mta-sts.<demo domain>; and a leaf for another name, for the bad-certificate case.
# Leaves the existing demo PEM files alone. The CA key is thrown away too.
set -eu

cd "$(dirname "$0")"
. ./ca-lib.sh

# 20 years from 2025-01-01.
start=20250101000000Z
end=20450101000000Z

ec_key "$work/root-key.pem"
sign policy-root "$work/root-key.pem" '/O=mxdash demo/CN=mxdash demo policy root CA' $start $end v3_root self

# leaf NAME CN SAN-LIST
leaf() {
	ec_key "$1-key.pem"
	cat >"$work/$1.ext" <<EXT
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EXT
	sign "$1" "$1-key.pem" "/O=mxdash demo/CN=$2" $start $end leaf policy-root.pem "$work/root-key.pem" "$work/$1.ext"
	openssl verify -CAfile policy-root.pem "$1.pem" >/dev/null
}

sans=
for domain in healthy expired relay plaintext slow dane listed mismatch; do
	sans="${sans:+$sans, }DNS:mta-sts.$domain.demo"
done
leaf policy mta-sts.healthy.demo "$sans"
leaf policy-wrong-name wrong.name.demo DNS:wrong.name.demo

chmod 644 policy-root.pem policy.pem policy-key.pem policy-wrong-name.pem policy-wrong-name-key.pem
echo "made policy-root.pem, policy.pem and policy-wrong-name.pem (with their keys) in $(pwd)"
