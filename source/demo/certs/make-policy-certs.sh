#!/bin/sh
# Makes the certificates of the demo's MTA-STS policy hosts (and the tests of the policy fetch):
# a small CA of their own, policy-root.pem, since the demo intermediate's key is thrown away; a
# leaf for every mta-sts.<demo domain>; and a leaf for another name, for the bad-certificate case.
# Leaves the existing demo PEM files alone. The CA key is thrown away too.
set -eu

cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/ca.cnf" <<CNF
[ca]
default_ca = demo

[demo]
dir = $work
database = $work/index.txt
new_certs_dir = $work
default_md = sha256
policy = policy_demo
unique_subject = no
email_in_dn = no
rand_serial = yes
copy_extensions = none

[policy_demo]
commonName = supplied
organizationName = optional

[v3_root]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF
: >"$work/index.txt"

ec_key() {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
}

fail() {
	cat "$work/ca.log" >&2
	exit 1
}

# 20 years from 2025-01-01; `openssl ca` because OpenSSL 3.0's x509 takes no explicit dates.
start=20250101000000Z
end=20450101000000Z

ec_key "$work/root-key.pem"
openssl req -new -key "$work/root-key.pem" -subj '/O=mxdash demo/CN=mxdash demo policy root CA' -out "$work/root.csr"
openssl ca -batch -notext -preserveDN -config "$work/ca.cnf" -selfsign -keyfile "$work/root-key.pem" \
	-startdate $start -enddate $end -extensions v3_root -in "$work/root.csr" -out policy-root.pem 2>"$work/ca.log" || fail

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
	openssl req -new -key "$1-key.pem" -subj "/O=mxdash demo/CN=$2" -out "$work/$1.csr"
	openssl ca -batch -notext -preserveDN -config "$work/ca.cnf" -cert policy-root.pem -keyfile "$work/root-key.pem" \
		-startdate $start -enddate $end -extfile "$work/$1.ext" -extensions leaf -in "$work/$1.csr" -out "$1.pem" 2>"$work/ca.log" || fail
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
