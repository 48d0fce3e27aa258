#!/usr/bin/env bash
# shellcheck disable=SC2034 # the variables are used by the scripts that source this file
# Where this checkout's private Docker engine lives. Sourced by start-docker.sh and stop-docker.sh.
#
# Each checkout gets its own engine: state under /tmp/rocket2-docker-ID (short paths, because
# containerd's sockets live under the exec-root), its own bridge r2d-ID instead of docker0 and its
# own address range, so two checkouts testing at once on one machine do not collide.
# ID is derived from the checkout's path. Nothing here touches a Docker engine the user runs.

_rocket2_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_rocket2_id="$(printf '%s' "$_rocket2_repo" | sha256sum | cut -c1-8)"

ROCKET2_DOCKER_STATE="${ROCKET2_DOCKER_STATE:-/tmp/rocket2-docker-$_rocket2_id}"
ROCKET2_DOCKER_SOCK="$ROCKET2_DOCKER_STATE/docker.sock"
ROCKET2_DOCKER_PIDFILE="$ROCKET2_DOCKER_STATE/docker.pid"
ROCKET2_DOCKER_LOG="$ROCKET2_DOCKER_STATE/dockerd.log"
ROCKET2_DOCKER_EXEC_ROOT="$ROCKET2_DOCKER_STATE/exec"
# The host's IP forwarding and FORWARD policy before dockerd changed them (restored on stop).
ROCKET2_DOCKER_HOST_BEFORE="$ROCKET2_DOCKER_STATE/host-before"
# Images (the stand-in bases, the layer cache) survive between runs here; delete it when stopped.
ROCKET2_DOCKER_DATA_ROOT="$ROCKET2_DOCKER_STATE/data-root"
ROCKET2_DOCKER_BRIDGE="r2d-$_rocket2_id"
# One /16 out of 10.100.0.0–10.199.255.255 per checkout: the bridge takes .0.0/24, compose
# networks get /24s from the rest.
_rocket2_octet=$((100 + 16#${_rocket2_id:0:4} % 100))
ROCKET2_DOCKER_BRIDGE_CIDR="10.$_rocket2_octet.0.1/24"
ROCKET2_DOCKER_BRIDGE_IP="10.$_rocket2_octet.0.1"
ROCKET2_DOCKER_POOL="10.$_rocket2_octet.0.0/16"
unset _rocket2_repo _rocket2_id _rocket2_octet

# Debian's docker.io CLI matches the engine (20.10) and builds with BuildKit by DOCKER_BUILDKIT=1.
if [ -x /usr/bin/docker ]; then
  ROCKET2_DOCKER_CLI=/usr/bin/docker
else
  ROCKET2_DOCKER_CLI="$(command -v docker || echo docker)"
fi
