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
    # Keep the cache from growing run after run: untagged images go, build cache is capped.
    docker_cli image prune -f >/dev/null || true
    docker_cli builder prune -f --keep-storage 2GB >/dev/null 2>&1 || true
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
      { grep -F -e "$ROCKET2_DOCKER_BRIDGE" -e "$ROCKET2_DOCKER_POOL" || true; } |
      sed 's/^-A /-D /' |
      while read -r rule; do
        # shellcheck disable=SC2086 # the rule is a list of words as iptables printed it
        iptables -t "$table" $rule 2>/dev/null || true
      done
  done
fi

# With no engine left on this host, put back what dockerd changed host-wide: its (now empty)
# chains and their jumps, the FORWARD policy and IP forwarding, as start-docker.sh found them.
if [ -f "$ROCKET2_DOCKER_HOST_BEFORE" ] && ! pgrep -x dockerd >/dev/null 2>&1; then
  ip_forward="$(sed -n 's/^ip_forward=//p' "$ROCKET2_DOCKER_HOST_BEFORE")"
  forward_policy="$(sed -n 's/^forward_policy=//p' "$ROCKET2_DOCKER_HOST_BEFORE")"
  if command -v iptables >/dev/null 2>&1; then
    iptables -D FORWARD -j DOCKER-USER 2>/dev/null || true
    iptables -D FORWARD -j DOCKER-ISOLATION-STAGE-1 2>/dev/null || true
    iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER 2>/dev/null || true
    iptables -t nat -D OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER 2>/dev/null || true
    for chain in DOCKER DOCKER-ISOLATION-STAGE-1 DOCKER-ISOLATION-STAGE-2 DOCKER-USER; do
      iptables -F "$chain" 2>/dev/null && iptables -X "$chain" 2>/dev/null || true
    done
    iptables -t nat -F DOCKER 2>/dev/null && iptables -t nat -X DOCKER 2>/dev/null || true
    [ -z "$forward_policy" ] || iptables -P FORWARD "$forward_policy" 2>/dev/null || true
  fi
  if [ -n "$ip_forward" ]; then
    echo "$ip_forward" >/proc/sys/net/ipv4/ip_forward 2>/dev/null || true
  fi
  rm -f "$ROCKET2_DOCKER_HOST_BEFORE"
fi

rm -rf "$ROCKET2_DOCKER_EXEC_ROOT"
rm -f "$ROCKET2_DOCKER_PIDFILE" "$ROCKET2_DOCKER_SOCK"
if [ -n "$pid" ]; then
  echo "stop-docker: engine $pid stopped" >&2
fi
