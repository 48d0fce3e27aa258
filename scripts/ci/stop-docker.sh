#!/usr/bin/env bash
# Stop the private Docker engine that start-docker.sh started, by its pid, and leave nothing behind:
# no containers, networks or mounts, no bridge interface, no iptables rules for its bridge.
# Images stay in its data-root (a cache for the next run); `rm -rf` that directory after this to
# drop them. Safe to run when no engine is running.
set -euo pipefail

# shellcheck source=scripts/ci/docker-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-env.sh"

docker_cli() {
  "$ROCKET2_DOCKER_CLI" --host "unix://$ROCKET2_DOCKER_SOCK" "$@"
}

pid=""
if [ -f "$ROCKET2_DOCKER_PIDFILE" ]; then
  pid="$(cat "$ROCKET2_DOCKER_PIDFILE")"
fi

if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
  if docker_cli version >/dev/null 2>&1; then
    containers="$(docker_cli ps -aq)"
    if [ -n "$containers" ]; then
      echo "stop-docker: removing leftover containers: $(echo "$containers" | tr '\n' ' ')" >&2
      # shellcheck disable=SC2086 # one id a word
      docker_cli rm -f --volumes $containers >/dev/null
    fi
    docker_cli network prune -f >/dev/null
    docker_cli volume prune -f >/dev/null
  fi
  kill -TERM "$pid"
  deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "stop-docker: dockerd $pid did not stop within 30 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
fi

# Mounts under the engine's directories (none after a clean stop; a killed engine leaves some).
mounts="$(awk -v state="$ROCKET2_DOCKER_STATE" 'index($5, state) == 1 { print $5 }' /proc/self/mountinfo | sort -r)"
if [ -n "$mounts" ]; then
  echo "stop-docker: unmounting leftovers: $(echo "$mounts" | tr '\n' ' ')" >&2
  while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" || true
  done <<<"$mounts"
fi

# The bridge and the iptables rules dockerd added for it (the shared DOCKER chains stay; they may
# serve another engine).
if ip link show "$ROCKET2_DOCKER_BRIDGE" >/dev/null 2>&1; then
  ip link delete "$ROCKET2_DOCKER_BRIDGE"
fi
if command -v iptables >/dev/null 2>&1; then
  for table in filter nat; do
    iptables -t "$table" -S 2>/dev/null |
      grep -F -e "$ROCKET2_DOCKER_BRIDGE" -e "$ROCKET2_DOCKER_POOL" |
      sed 's/^-A /-D /' |
      while read -r rule; do
        # shellcheck disable=SC2086 # the rule is a list of words as iptables printed it
        iptables -t "$table" $rule 2>/dev/null || true
      done
  done
fi

rm -rf "$ROCKET2_DOCKER_EXEC_ROOT"
rm -f "$ROCKET2_DOCKER_PIDFILE" "$ROCKET2_DOCKER_SOCK"
if [ -n "$pid" ]; then
  echo "stop-docker: engine $pid stopped" >&2
fi
