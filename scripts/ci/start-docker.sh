#!/usr/bin/env bash
# Start this checkout's private Docker engine for the container tests (marker `container`).
#
# Sourced by scripts/test.sh: exports DOCKER_HOST (and ROCKET2_DOCKER_HOST, the engine the tests
# may use). Run directly (`bash scripts/ci/start-docker.sh`), it prints those two assignments.
# Stop it with scripts/ci/stop-docker.sh.
#
# If the engine cannot start: with CI=true this fails loudly (non-zero); otherwise it warns, exports
# ROCKET2_DOCKER_ERROR with the reason, and the container tests skip with that reason.
# Needs root (dockerd, a bridge interface). Idempotent: an engine already running is reused.

# shellcheck source=scripts/ci/docker-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-env.sh"

_rocket2_docker_fail() {
  # $1: the reason; $2 = "log": show the end of dockerd's log. Fatal in CI; elsewhere a warning
  # (and ROCKET2_DOCKER_ERROR).
  export ROCKET2_DOCKER_ERROR="$1"
  if [ "${2:-}" = "log" ] && [ -f "$ROCKET2_DOCKER_LOG" ]; then
    echo "start-docker: last lines of $ROCKET2_DOCKER_LOG:" >&2
    tail -n 15 "$ROCKET2_DOCKER_LOG" >&2
  fi
  if [ "${CI:-}" = "true" ]; then
    echo "start-docker: ERROR: $1" >&2
    return 1
  fi
  echo "start-docker: warning: $1 — the container tests will be skipped" >&2
  return 0
}

_rocket2_docker_ready() {
  "$ROCKET2_DOCKER_CLI" --host "unix://$ROCKET2_DOCKER_SOCK" version \
    --format '{{.Server.Version}}' >/dev/null 2>&1
}

_rocket2_docker_start() {
  if ! command -v dockerd >/dev/null 2>&1 && [ ! -x /usr/sbin/dockerd ]; then
    _rocket2_docker_fail "dockerd is not installed (Debian: apt-get install docker.io)"
    return
  fi
  if [ "$(id -u)" -ne 0 ]; then
    _rocket2_docker_fail "the private Docker engine needs root (dockerd, a bridge interface)"
    return
  fi
  if [ -f "$ROCKET2_DOCKER_PIDFILE" ] && _rocket2_docker_ready; then
    echo "start-docker: reusing the engine on $ROCKET2_DOCKER_SOCK" >&2
    export ROCKET2_DOCKER_REUSED=1
    return 0
  fi
  mkdir -p "$ROCKET2_DOCKER_STATE" "$ROCKET2_DOCKER_EXEC_ROOT" "$ROCKET2_DOCKER_DATA_ROOT"
  rm -f "$ROCKET2_DOCKER_PIDFILE" "$ROCKET2_DOCKER_SOCK"

  # Our own bridge for the default network, so a second engine on this machine keeps its docker0.
  if ! ip link show "$ROCKET2_DOCKER_BRIDGE" >/dev/null 2>&1; then
    if ! ip link add name "$ROCKET2_DOCKER_BRIDGE" type bridge 2>"$ROCKET2_DOCKER_LOG"; then
      _rocket2_docker_fail "cannot create bridge $ROCKET2_DOCKER_BRIDGE" log
      return
    fi
    ip addr add "$ROCKET2_DOCKER_BRIDGE_CIDR" dev "$ROCKET2_DOCKER_BRIDGE"
    ip link set "$ROCKET2_DOCKER_BRIDGE" up
  fi

  local dockerd
  dockerd="$(command -v dockerd || echo /usr/sbin/dockerd)"
  # dockerd turns IP forwarding on and sets the FORWARD policy to DROP. Remember how the host was,
  # unless another engine already runs here (then it is not ours to restore).
  if ! pgrep -x dockerd >/dev/null 2>&1; then
    {
      echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward 2>/dev/null || echo)"
      echo "forward_policy=$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" { print $3 }')"
    } >"$ROCKET2_DOCKER_HOST_BEFORE"
  else
    rm -f "$ROCKET2_DOCKER_HOST_BEFORE"
  fi
  # --ip: a port published without an address binds loopback only, never this machine's network.
  # The ulimit flags: by default containers ask for more open files than the hard limit some
  # machines (CI here: 20000) allow, and fail to start.
  setsid "$dockerd" \
    --data-root "$ROCKET2_DOCKER_DATA_ROOT" \
    --exec-root "$ROCKET2_DOCKER_EXEC_ROOT" \
    --host "unix://$ROCKET2_DOCKER_SOCK" \
    --pidfile "$ROCKET2_DOCKER_PIDFILE" \
    --bridge "$ROCKET2_DOCKER_BRIDGE" \
    --default-address-pool "base=$ROCKET2_DOCKER_POOL,size=24" \
    --ip 127.0.0.1 \
    --default-ulimit nofile=1024:1024 \
    --default-ulimit nproc=1024:1024 \
    </dev/null >"$ROCKET2_DOCKER_LOG" 2>&1 &
  local launcher=$!

  # Bounded poll: ready within 60 s, or report why not.
  local deadline=$((SECONDS + 60))
  until _rocket2_docker_ready; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      _rocket2_docker_fail "dockerd exited during start-up (log: $ROCKET2_DOCKER_LOG)" log
      return
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      _rocket2_docker_fail "dockerd did not answer on $ROCKET2_DOCKER_SOCK within 60 s" log
      return
    fi
    sleep 0.2
  done
  echo "start-docker: engine ready on $ROCKET2_DOCKER_SOCK (pid $(cat "$ROCKET2_DOCKER_PIDFILE"))" >&2
}

_rocket2_docker_start_main() {
  unset ROCKET2_DOCKER_ERROR ROCKET2_DOCKER_REUSED
  _rocket2_docker_start || return 1
  if [ -z "${ROCKET2_DOCKER_ERROR:-}" ]; then
    export DOCKER_HOST="unix://$ROCKET2_DOCKER_SOCK"
    export ROCKET2_DOCKER_HOST="$DOCKER_HOST"
  fi
}

if (return 0 2>/dev/null); then
  # Sourced: export into the caller (scripts/test.sh).
  _rocket2_docker_start_main || return 1
else
  set -euo pipefail
  _rocket2_docker_start_main
  if [ -n "${ROCKET2_DOCKER_ERROR:-}" ]; then
    echo "ROCKET2_DOCKER_ERROR=$ROCKET2_DOCKER_ERROR"
    exit 0
  fi
  echo "DOCKER_HOST=$DOCKER_HOST"
  echo "ROCKET2_DOCKER_HOST=$ROCKET2_DOCKER_HOST"
  echo "ROCKET2_DOCKER_REUSED=${ROCKET2_DOCKER_REUSED:-0}"
fi
