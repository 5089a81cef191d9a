#!/usr/bin/env bash
# Runs a command inside a network namespace of its own, with loopback up and multicast routed
# over it, so that mDNS traffic stays inside. Needs root; exits 77 when it cannot create the
# namespace. The namespace is deleted on exit.
#   tools/in_netns.sh command [args...]
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: tools/in_netns.sh command [args...]" >&2; exit 2; }
ns="librats-$$"
if ! ip netns add "$ns" 2>/dev/null; then
  echo "skipped: cannot create a network namespace (needs root and ip netns)"
  exit 77
fi
trap 'ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null; ip netns del "$ns" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM HUP
ip -n "$ns" link set lo up
ip -n "$ns" link set lo multicast on
ip -n "$ns" route add 224.0.0.0/4 dev lo
ip netns exec "$ns" "$@"
