#!/usr/bin/env bash
# Update Rocket 2 on the VM without dropping a request. Run it from the project directory (the
# one holding docker-compose.yml and .env), after `git pull`:
#
#   scripts/deploy.sh
#
# 1. build the image (or, with ROCKET2_IMAGE set, pull it; ROCKET2_PULL=missing pulls only an
#    image the engine lacks), 2. run the migrations once, 3. start a new app container beside the
#    old one, 4. wait until the new one is healthy (ROCKET2_DEPLOY_TIMEOUT seconds, default 150),
#    5. stop the old one (docker stop waits its stop_grace_period while it drains) and remove it.
# If the new container does not turn healthy, it is stopped and removed, the old one keeps
# serving, and the script exits 1. Compose's own variables (COMPOSE_FILE, COMPOSE_PROJECT_NAME,
# DOCKER_HOST) are honoured. Safe to run again: it always ends with exactly one app container.
#
# The steps are those of wowu/docker-rollout v0.13 (MIT, (c) 2023 Karol Musur), written out for
# this one service so nothing has to be installed on the VM besides Docker and Compose v2.
set -euo pipefail

SERVICE=rocket2
TIMEOUT="${ROCKET2_DEPLOY_TIMEOUT:-150}"
PULL="${ROCKET2_PULL:-always}"
# nginx keeps what Docker's DNS answered for a moment (resolver valid=2s, resolver_timeout 2s in
# nginx.conf). For that long, a removed app container's address is held by a placeholder that
# listens on nothing: a request nginx still sends there is refused and retried on the other
# replica, never answered by a stranger that took the freed address.
HOLD="${ROCKET2_ADDRESS_HOLD:-5}"
WAIT_AFTER_HEALTHY="${ROCKET2_WAIT_AFTER_HEALTHY:-3}"

say() { echo "deploy: $*"; }
die() {
  echo "deploy: ERROR: $*" >&2
  exit 1
}
compose() { docker compose --ansi never "$@"; }

docker compose version >/dev/null 2>&1 ||
  die "Docker Compose v2 is needed (\`docker compose\`); see docs/operators/vm.md"
case "$PULL" in always | missing) ;; *) die "ROCKET2_PULL must be always or missing, not '$PULL'" ;; esac
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "ROCKET2_DEPLOY_TIMEOUT must be a number of seconds"
[[ "$HOLD" =~ ^[0-9]+$ ]] || die "ROCKET2_ADDRESS_HOLD must be a number of seconds"

# One deploy at a time per project (a push and a hand-run deploy must not interleave).
lock="${TMPDIR:-/tmp}/rocket2-deploy-$(printf '%s' "$PWD:${COMPOSE_PROJECT_NAME:-}" | sha256sum | cut -c1-16).lock"
exec 9>"$lock"
flock -n 9 || die "another deploy of this project is running (lock $lock)"

# 1. The new image.
if [ -n "${ROCKET2_IMAGE:-}" ]; then
  if [ "$PULL" = always ] || ! docker image inspect "$ROCKET2_IMAGE" >/dev/null 2>&1; then
    say "pulling $ROCKET2_IMAGE"
    docker pull "$ROCKET2_IMAGE" || die "cannot pull $ROCKET2_IMAGE; nothing was changed"
  else
    say "using $ROCKET2_IMAGE already on this engine"
  fi
else
  say "building the image"
  compose build "$SERVICE" || die "the build failed; nothing was changed"
fi

# 2. Migrations, once, before any new code serves. The old version keeps running on the same
# database, so a release's migrations must only add (see docs/operators/updating.md, "Two versions at once").
say "running the database migrations"
compose run --rm --no-deps -T "$SERVICE" rocket2 db upgrade ||
  die "the migrations failed; the running version was not touched"

# 3. A new container beside the old ones (docker-rollout's scale-up with --no-recreate).
old_ids=()
mapfile -t old_ids < <(compose ps -q "$SERVICE")
if [ "${#old_ids[@]}" -eq 0 ]; then
  say "no $SERVICE container is running; starting the stack"
  compose up -d --no-build
else
  say "starting a new $SERVICE container beside ${#old_ids[@]} running"
  compose up -d --no-deps --no-recreate --no-build --scale "$SERVICE=$((${#old_ids[@]} + 1))" "$SERVICE"
fi
new_id=""
while read -r id; do
  if [[ " ${old_ids[*]} " != *" $id "* ]]; then
    new_id="$id"
  fi
done < <(compose ps -q "$SERVICE")
[ -n "$new_id" ] || die "compose started no new $SERVICE container"
new_name="$(docker inspect --format '{{.Name}}' "$new_id")"
new_name="${new_name#/}"
placeholder_image="$(docker inspect --format '{{.Config.Image}}' "$new_id")"

# "NETWORK ADDRESS" lines of a container, read before it stops (stopping frees them).
addresses() {
  docker inspect --format '{{range $net, $ep := .NetworkSettings.Networks}}{{$net}} {{$ep.IPAddress}}{{"\n"}}{{end}}' "$1"
}
# Hold each freed address for HOLD seconds (a throwaway container, removed when it ends; the
# script waits for it at the end, so it leaves nothing behind on the network).
holders=()
hold_addresses() {
  local net ip id
  [ "$HOLD" -gt 0 ] || return 0
  while read -r net ip; do
    [ -n "$ip" ] || continue
    if id="$(docker run -d --rm --network "$net" --ip "$ip" --no-healthcheck --entrypoint sleep \
      --label org.rocket2.address-hold=1 "$placeholder_image" "$HOLD" 2>/dev/null)"; then
      holders+=("$id")
    else
      say "note: could not hold $ip for ${HOLD} s (nginx may try it once more, then retries)"
    fi
  done <<<"$1"
}
release_addresses() {
  [ "${#holders[@]}" -gt 0 ] || return 0
  docker wait "${holders[@]}" >/dev/null 2>&1 || true
}

# 4. Wait until it is healthy, bounded.
health() {
  docker inspect --format '{{if .State.Running}}{{if .State.Health}}{{.State.Health.Status}}{{else}}no-healthcheck{{end}}{{else}}exited{{end}}' "$1"
}
say "waiting up to ${TIMEOUT} s for $new_name to be healthy"
deadline=$((SECONDS + TIMEOUT))
status="$(health "$new_id")"
while [ "$status" != healthy ] && [ "$status" != no-healthcheck ]; do
  if [ "$status" = unhealthy ] || [ "$status" = exited ] || [ "$SECONDS" -ge "$deadline" ]; then
    echo "deploy: last log lines of $new_name:" >&2
    docker logs --tail 20 "$new_id" >&2 2>&1 || true
    held="$(addresses "$new_id")"
    docker stop "$new_id" >/dev/null || true
    hold_addresses "$held"
    docker rm -f "$new_id" >/dev/null || true
    release_addresses
    if [ "${#old_ids[@]}" -gt 0 ]; then
      die "the new version did not turn healthy ($status after $((TIMEOUT - deadline + SECONDS)) s); it was removed and the old version keeps serving"
    fi
    die "the new version did not turn healthy ($status); it was removed"
  fi
  sleep 1
  status="$(health "$new_id")"
done
say "$new_name is $status"
# docker-rollout's --wait-after-healthy: nginx re-resolves the service name at most every 2 s
# (resolver valid=2s), so give it time to learn the new container's address before the old one
# stops; a request the old address then refuses is retried on the new one, not answered 502.
sleep "$WAIT_AFTER_HEALTHY"

# 5. Drain and remove the old containers: docker stop sends TERM and waits the container's
# stop_grace_period (docker-compose.yml) while Gunicorn finishes what it acknowledged.
for id in "${old_ids[@]}"; do
  name="$(docker inspect --format '{{.Name}}' "$id")"
  say "stopping ${name#/} (waits up to $(docker inspect --format '{{.Config.StopTimeout}}' "$id") s while it drains)"
  held="$(addresses "$id")"
  docker stop "$id" >/dev/null
  hold_addresses "$held"
  docker rm "$id" >/dev/null
done

# nginx and certbot keep running; start them if they are not (--no-deps: the app is left as is).
compose up -d --no-deps --no-build nginx certbot
release_addresses
say "done: $new_name serves $(docker inspect --format '{{.Config.Image}}' "$new_id")"
