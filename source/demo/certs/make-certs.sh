#!/bin/sh
# Regenerates the certificates of `mxdash --demo`. Not needed at run time: the PEM files beside
# this script are committed, and the demo only reads them (it never runs openssl). Run it again
# only to change what the demo shows; the CA private keys are thrown away on purpose, so nothing
# can be signed by the demo root after this script ends.
#
# The MTA-STS policy hosts' certificates come from make-policy-certs.sh beside this one (their own CA).
set -eu

cd "$(dirname "$0")"
. ./ca-lib.sh

cat >>"$work/ca.cnf" <<CNF
[v3_intermediate]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF

rsa_key() {
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null
}

# leaf NAME KEYTYPE DNS-NAME START END
leaf() {
	"$2_key" "$1-key.pem"
	usage=digitalSignature
	[ "$2" = rsa ] && usage='digitalSignature, keyEncipherment'
	cat >"$work/$1.ext" <<EXT
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, $usage
extendedKeyUsage = serverAuth
subjectAltName = DNS:$3
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EXT
	sign "$1" "$1-key.pem" "/O=mxdash demo/CN=$3" "$4" "$5" leaf intermediate.pem "$work/intermediate-key.pem" "$work/$1.ext"
}

ec_key "$work/root-key.pem"
sign root-ca "$work/root-key.pem" '/O=mxdash demo/CN=mxdash demo root CA' 20250101000000Z 21250101000000Z v3_root self
ec_key "$work/intermediate-key.pem"
sign intermediate "$work/intermediate-key.pem" '/O=mxdash demo/CN=mxdash demo intermediate CA' 20250101000000Z 21250101000000Z v3_intermediate root-ca.pem "$work/root-key.pem"

leaf healthy ec mx1.healthy.demo 20250101000000Z 21250101000000Z
leaf relay rsa mx.relay.demo 20250101000000Z 21250101000000Z
leaf slow ec mx.slow.demo 20250101000000Z 21250101000000Z
# Expired and for another name: notBefore 2020-01-01, notAfter 2021-01-01, SAN www.elsewhere.demo.
leaf expired ec www.elsewhere.demo 20200101000000Z 20210101000000Z

for name in healthy relay slow expired; do
	openssl verify -no_check_time -CAfile root-ca.pem -untrusted intermediate.pem "$name.pem" >/dev/null
done
# Demo keys protect nothing; readable like the rest of a checkout.
chmod 644 ./*.pem
echo "made root-ca.pem, intermediate.pem and the healthy, relay, slow and expired leaves in $(pwd)"
