#!/usr/bin/env bash
# .ci/install-test-deps.sh — install what mailwarden's tests need, idempotently:
#   dovecot-imapd and dovecot-sieve (they pull dovecot-core; Pigeonhole's
#   sieve-test is the Sieve oracle), sieve-connect (a ManageSieve client the
#   managesieve tests drive), etcd-server (the cluster tests start private
#   etcd members, internal/etcdtest), and the unprivileged user `dovetest`
#   that owns the test maildirs (Dovecot refuses to run mail processes as
#   root).
#
# The tests start their own private Dovecot and etcd instances
# (internal/dovecottest, internal/etcdtest); the system's dovecot and etcd
# services must never start: while packages are installed
# a temporary /usr/sbin/policy-rc.d (exit 101) forbids service starts, and it
# is removed afterwards if this script created it. Nothing here calls
# systemctl. `apt-get update` runs only when something is missing.
#
# Runs as root, or with sudo otherwise. Exit status 0 means ready.
set -euo pipefail

PKGS=(dovecot-core dovecot-imapd dovecot-sieve sieve-connect etcd-server)
BINS=(/usr/sbin/dovecot /usr/bin/doveadm /usr/lib/dovecot/imap /usr/bin/sieve-test /usr/bin/sieve-connect /usr/bin/etcd)
MAIL_OWNER=dovetest

if [ "$(id -u)" -eq 0 ]; then
  SUDO=()
else
  command -v sudo >/dev/null 2>&1 || { echo "install-test-deps: not root and no sudo" >&2; exit 1; }
  SUDO=(sudo)
fi

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  created_policy=0
  cleanup() {
    if [ "$created_policy" = 1 ]; then
      "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
    fi
  }
  trap cleanup EXIT
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# installed by mailwarden .ci/install-test-deps.sh: no service starts\nexit 101\n' |
      "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  echo "install-test-deps: installing ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  cleanup
  created_policy=0
fi

# The owner of the test maildirs when the tests run as root.
if ! id "$MAIL_OWNER" >/dev/null 2>&1; then
  "${SUDO[@]}" useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$MAIL_OWNER"
  echo "install-test-deps: created system user $MAIL_OWNER"
fi

for b in "${BINS[@]}"; do
  [ -x "$b" ] || { echo "install-test-deps: missing $b after install" >&2; exit 1; }
done
echo "install-test-deps: ok: dovecot $(/usr/sbin/dovecot --version | cut -d' ' -f1), etcd $(/usr/bin/etcd --version | sed -n 's/^etcd Version: //p'), user $MAIL_OWNER"
