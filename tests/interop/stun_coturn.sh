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
turnserver=$(command -v turnserver || true)
if [[ -z $turnserver ]]; then
    echo "skipped: turnserver (coturn) is not installed"
    exit 77
fi

work=$(mktemp -d)
turn_pid=
cleanup() {
    if [[ -n $turn_pid ]] && kill -0 "$turn_pid" 2>/dev/null; then
        kill "$turn_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$turn_pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$turn_pid" 2>/dev/null || true
        wait "$turn_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP  # through the EXIT trap

# A port free now (coturn binds it a moment later; a collision just fails the test).
port=$(/usr/bin/python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# -n: no configuration file; -S: STUN only. Its user database, pid file and log stay in $work
# (the defaults are under /var); no TCP, TLS, DTLS listeners and no telnet CLI.
"$turnserver" -n -S --listening-ip 127.0.0.1 --listening-port "$port" \
    --no-tcp --no-tls --no-dtls --no-cli \
    --userdb "$work/turndb" --pidfile "$work/turnserver.pid" \
    --log-file stdout --simple-log >"$work/turnserver.log" 2>&1 &
turn_pid=$!

ready=
for _ in $(seq 100); do
    if ss -Hlun "sport = :$port" 2>/dev/null | grep -q "127.0.0.1:$port"; then ready=1; break; fi
    kill -0 "$turn_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $ready ]]; then
    echo "FAIL: coturn did not start listening on 127.0.0.1:$port"
    tail -20 "$work/turnserver.log"
    exit 1
fi

out=$(timeout 30 "$probe" --server "127.0.0.1:$port" --bind 127.0.0.1) || {
    echo "FAIL: probe: ${out:-no output}"
    tail -20 "$work/turnserver.log"
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
