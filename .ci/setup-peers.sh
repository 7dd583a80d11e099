#!/usr/bin/env bash
# Installs the test peers' packages on Debian. Idempotent and non-interactive.
# Postfix, openssl, tmux; swaks (with Net::DNS for its MX lookup and IO::Socket::SSL for --tls) and iproute2 for the network bench (bench/net/, not run in CI); for the policy layer (test/peers/policy.ts): Knot DNS, Unbound, BIND's
# dnssec-keygen/dnssec-signzone/dig/delv, nginx and dnsmasq. None is configured or started here:
# the tests run private instances of each (config, pid and logs under /var/tmp/mxdash-*).
set -euo pipefail

packages=(postfix openssl tmux swaks libnet-dns-perl libio-socket-ssl-perl iproute2 unbound knot bind9-utils bind9-dnsutils nginx-light dnsmasq-base)
missing=()
for package in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
	[[ $status == 'install ok installed' ]] || missing+=("$package")
done

if ((${#missing[@]} == 0)); then
	echo "setup-peers: ${packages[*]} already installed; nothing to do"
	exit 0
fi

if [[ $(id -u) != 0 ]]; then
	echo "setup-peers: installing ${missing[*]} needs root" >&2
	exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
fail() {
	cat "$log" >&2
	echo "setup-peers: $1" >&2
	exit 1
}

# Refresh the package lists only when they do not know a missing package (a fresh machine has none).
updated=no
for package in "${missing[@]}"; do
	if ! apt-cache show "$package" >/dev/null 2>&1; then
		apt-get update -qq >>"$log" 2>&1 || fail 'apt-get update failed'
		updated=yes
		break
	fi
done

echo 'postfix postfix/main_mailer_type select No configuration' | debconf-set-selections

# Keep the package scripts from starting any service (as Debian's container images already do).
created_policy=no
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	created_policy=yes
	trap 'rm -f "$log" /usr/sbin/policy-rc.d' EXIT
fi

install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >>"$log" 2>&1
}
if ! install; then
	# Old package lists can name files the mirror no longer has: refresh once and retry.
	[[ $updated == yes ]] && fail "apt-get install ${missing[*]} failed"
	apt-get update -qq >>"$log" 2>&1 || fail 'apt-get update failed'
	updated=yes
	install || fail "apt-get install ${missing[*]} failed"
fi

echo "setup-peers: installed ${missing[*]} (apt-get update: $updated, policy-rc.d added for the install: $created_policy); Postfix left stopped"
