#!/usr/bin/env bash
# First-time set-up of the VM deploy (docker-compose.yml), safe to run again:
#
#   DOMAIN=rocket.example.org EMAIL=ops@example.org scripts/setup_deploy.sh [--staging]
#
# It fills ROCKET2_DEPLOY_DIR (default ./deploy, the directory docker-compose.yml mounts):
#   nginx.conf    a copy of the repository's nginx.conf (refreshed on every run)
#   certbot-www/  the ACME webroot that certbot renews through and nginx serves
#   letsencrypt/  the certificate, always named "rocket2" (live/rocket2/fullchain.pem)
# and gets the first certificate with the certbot container in standalone mode, which needs
# ports 80 and 443 free (so run it before `docker compose up -d`). A second run keeps an existing
# certificate; the certbot service renews it from then on.
#
# Optional environment:
#   ROCKET2_DEPLOY_DIR   where the files go (default ./deploy, relative to the repository)
#   ACME_SERVER          ACME directory URL of another CA (e.g. a local Pebble); default Let's Encrypt
#   ACME_CA_BUNDLE       a PEM file on this host that certbot trusts for ACME_SERVER's TLS
#   CERTBOT_IMAGE        default certbot/certbot
#   CERTBOT_DOCKER_ARGS  extra `docker run` arguments for the certbot container (word-split)
#   CERTBOT_ARGS         extra certbot arguments (word-split)
#   ROCKET2_HTTP_PORT    host side of port 80 as [ip:]port, as in docker-compose.yml (default 80);
#                        the challenge is published there
#   ROCKET2_HTTPS_PORT   host side of port 443 as [ip:]port (default 443); only checked to be free
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

die() {
  echo "setup_deploy: $*" >&2
  exit 2
}

staging=0
for arg in "$@"; do
  case "$arg" in
    --staging) staging=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$arg' (usage: DOMAIN=… EMAIL=… $0 [--staging])" ;;
  esac
done

missing=()
[ -n "${DOMAIN:-}" ] || missing+=(DOMAIN)
[ -n "${EMAIL:-}" ] || missing+=(EMAIL)
if [ "${#missing[@]}" -ne 0 ]; then
  die "${missing[*]} must be set, e.g. DOMAIN=rocket.example.org EMAIL=ops@example.org $0"
fi
[[ "$DOMAIN" =~ ^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$ ]] \
  || die "DOMAIN must be a bare host name such as rocket.example.org (no scheme, port or path)"
[[ "$EMAIL" =~ ^[^[:space:]@]+@[^[:space:]@]+$ ]] \
  || die "EMAIL must be an address such as ops@example.org"
if [ "$staging" -eq 1 ] && [ -n "${ACME_SERVER:-}" ]; then
  die "use either --staging or ACME_SERVER, not both"
fi
if [ -n "${ACME_CA_BUNDLE:-}" ] && [ ! -f "${ACME_CA_BUNDLE}" ]; then
  die "ACME_CA_BUNDLE must name a readable PEM file"
fi

repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
deploy_dir="${ROCKET2_DEPLOY_DIR:-./deploy}"
http_publish="${ROCKET2_HTTP_PORT:-80}"
https_publish="${ROCKET2_HTTPS_PORT:-443}"
certbot_image="${CERTBOT_IMAGE:-certbot/certbot}"

mkdir -p "$deploy_dir/letsencrypt" "$deploy_dir/certbot-www"
deploy_dir="$(cd "$deploy_dir" && pwd)"
install -m 0644 nginx.conf "$deploy_dir/nginx.conf"
echo "setup_deploy: nginx.conf installed in $deploy_dir"

[ -f .env ] || echo "setup_deploy: warning: no .env yet; write it before docker compose up" >&2

live="$deploy_dir/letsencrypt/live/rocket2"
if [ -s "$live/fullchain.pem" ] && [ -s "$live/privkey.pem" ]; then
  echo "setup_deploy: keeping the existing certificate in $live (the certbot service renews it)"
  exit 0
fi

command -v docker >/dev/null 2>&1 || die "docker is not installed (see docs/operators/vm.md)"

port_in_use() {
  # Something accepts connections on [ip:]port (a listener on 0.0.0.0 also answers on loopback).
  local host=127.0.0.1
  case "$1" in *:*) host="${1%:*}" ;; esac
  [ "$host" != "0.0.0.0" ] || host=127.0.0.1
  (exec 3<>"/dev/tcp/$host/${1##*:}") 2>/dev/null
}
for publish in "$http_publish" "$https_publish"; do
  if port_in_use "$publish"; then
    die "port ${publish##*:} is in use; stop whatever listens there (docker compose down?) and retry"
  fi
done

docker_args=(--rm -p "$http_publish:80")
docker_args+=(-v "$deploy_dir/letsencrypt:/etc/letsencrypt")
certbot_args=(certonly --standalone --non-interactive --agree-tos --no-eff-email
  --email "$EMAIL" --cert-name rocket2 -d "$DOMAIN" --keep-until-expiring)
if [ "$staging" -eq 1 ]; then
  certbot_args+=(--staging)
fi
if [ -n "${ACME_SERVER:-}" ]; then
  certbot_args+=(--server "$ACME_SERVER")
fi
if [ -n "${ACME_CA_BUNDLE:-}" ]; then
  bundle="$(cd "$(dirname "$ACME_CA_BUNDLE")" && pwd)/$(basename "$ACME_CA_BUNDLE")"
  docker_args+=(-v "$bundle:/etc/rocket2-acme-ca.pem:ro" -e REQUESTS_CA_BUNDLE=/etc/rocket2-acme-ca.pem)
fi
if [ -n "${CERTBOT_DOCKER_ARGS:-}" ]; then
  read -r -a extra <<<"$CERTBOT_DOCKER_ARGS"
  docker_args+=("${extra[@]}")
fi
if [ -n "${CERTBOT_ARGS:-}" ]; then
  read -r -a extra <<<"$CERTBOT_ARGS"
  certbot_args+=("${extra[@]}")
fi

echo "setup_deploy: requesting the certificate for $DOMAIN (port ${http_publish##*:} must reach this host)"
docker run "${docker_args[@]}" "$certbot_image" "${certbot_args[@]}"

[ -s "$live/fullchain.pem" ] || die "certbot finished but $live/fullchain.pem is missing"
echo "setup_deploy: certificate ready in $live; now run: docker compose up -d"
