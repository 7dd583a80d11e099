# Sourced by make-certs.sh and make-policy-certs.sh (each from this directory): a throwaway
# working directory, the `openssl ca` configuration both sign with, and their helpers.
# OpenSSL 3.0's `x509` and `req -x509` take no explicit dates, so every certificate, the roots
# included (-selfsign), is made by `openssl ca` with -startdate/-enddate.
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

# sign NAME KEY SUBJECT START END EXTENSIONS-SECTION SIGNER-CERT SIGNER-KEY [EXTFILE]
sign() {
	openssl req -new -key "$2" -subj "$3" -out "$work/$1.csr"
	if [ "$7" = self ]; then
		openssl ca -batch -notext -preserveDN -config "$work/ca.cnf" -selfsign -keyfile "$2" \
			-startdate "$4" -enddate "$5" -extensions "$6" -in "$work/$1.csr" -out "$1.pem" 2>"$work/ca.log" || fail
	elif [ -n "${9:-}" ]; then
		openssl ca -batch -notext -preserveDN -config "$work/ca.cnf" -cert "$7" -keyfile "$8" \
			-startdate "$4" -enddate "$5" -extfile "$9" -extensions "$6" -in "$work/$1.csr" -out "$1.pem" 2>"$work/ca.log" || fail
	else
		openssl ca -batch -notext -preserveDN -config "$work/ca.cnf" -cert "$7" -keyfile "$8" \
			-startdate "$4" -enddate "$5" -extensions "$6" -in "$work/$1.csr" -out "$1.pem" 2>"$work/ca.log" || fail
	fi
}

