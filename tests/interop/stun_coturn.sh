#!/bin/bash
# STUN interop: librats_stun_probe against Debian's coturn (turnserver) as a plain STUN server
# on 127.0.0.1 with a free port. Passes when coturn's XOR-MAPPED-ADDRESS equals the probe's own
# socket address (no NAT on loopback). coturn is always stopped, within 5 s.
#
#   tests/interop/stun_coturn.sh <librats_stun_probe>
#
# Exits 0 on success, 1 on failure, 77 (skipped) when turnserver is not installed.

set -euo pipefail

probe=${1:?usage: stun_coturn.sh <librats_stun_probe>}
if ! command -v turnserver >/dev/null; then
    echo "skipped: turnserver (coturn) is not installed"
    exit 77
fi
source "$(dirname "${BASH_SOURCE[0]}")/coturn.sh"

work=$(mktemp -d)
cleanup() {
    stop_coturn
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP  # through the EXIT trap

# A port free now (coturn binds it a moment later; a collision just fails the test).
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
start_coturn "$work" 127.0.0.1 "$port"

out=$(timeout 30 "$probe" --server "127.0.0.1:$port" --bind 127.0.0.1) || {
    echo "FAIL: probe: ${out:-no output}"
    coturn_log "$work"
    exit 1
}
echo "$out"
/usr/bin/python3 - "$out" <<'EOF'
import json
import sys

result = json.loads(sys.argv[1])
mapped, local = result["mapped"], result["local"]
if mapped != local:
    sys.exit(f"FAIL: mapped {mapped} != local {local}")
print(f"ok: coturn mapped us to {mapped['address']}:{mapped['port']}, our own socket address")
EOF
