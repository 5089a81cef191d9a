#!/bin/bash
# STUN through a real NAT: three network namespaces made by this script,
#
#   client 10.200.2.2/24 ── 10.200.2.1 router 198.51.100.1 ── 198.51.100.2/24 server (coturn)
#
# where the router masquerades everything leaving toward the server, and the server has no
# route back to 10.200.2.0/24. librats_stun_probe in the client namespace must learn
# 198.51.100.1, the router's outer address, as its mapped address. Nothing touches the host's
# own network namespace: both ends of each veth pair are created inside the lab.
#
#   tests/interop/stun_nat_lab.sh <librats_stun_probe>      (as root)
#
# Exits 0 on success, 1 on failure, 77 (skipped) only when namespaces cannot be created.
# Everything (processes, namespaces and with them the veths and NAT rules) goes on exit.

set -euo pipefail

probe=${1:?usage: stun_nat_lab.sh <librats_stun_probe>}
probe=$(readlink -f "$probe")

client_ns=stun-client-$$
router_ns=stun-router-$$
server_ns=stun-server-$$
client_if=sc$$     # client <-> router inner
inner_if=sri$$
outer_if=sro$$     # router outer <-> server
server_if=ss$$
mapped_expected=198.51.100.1
stun_port=3478

source "$(dirname "${BASH_SOURCE[0]}")/coturn.sh"
work=$(mktemp -d)
created=()

cleanup() {
    set +e
    stop_coturn
    for ns in "${created[@]}"; do
        # Anything still running in the namespace would keep it alive.
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
        ip netns del "$ns"
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP  # through the EXIT trap

in_ns() {
    local ns=$1
    shift
    ip netns exec "$ns" "$@"
}

for ns in "$client_ns" "$router_ns" "$server_ns"; do
    if ! err=$(ip netns add "$ns" 2>&1); then
        echo "skipped: cannot create network namespaces: $err"
        exit 77
    fi
    created+=("$ns")
    in_ns "$ns" ip link set lo up
done

command -v turnserver >/dev/null || { echo "FAIL: turnserver (coturn) is not installed"; exit 1; }
command -v iptables >/dev/null || { echo "FAIL: iptables is not installed"; exit 1; }

ip link add "$client_if" netns "$client_ns" type veth peer name "$inner_if" netns "$router_ns"
ip link add "$outer_if" netns "$router_ns" type veth peer name "$server_if" netns "$server_ns"

in_ns "$client_ns" ip addr add 10.200.2.2/24 dev "$client_if"
in_ns "$client_ns" ip link set "$client_if" up
in_ns "$client_ns" ip route add default via 10.200.2.1

in_ns "$router_ns" ip addr add 10.200.2.1/24 dev "$inner_if"
in_ns "$router_ns" ip addr add 198.51.100.1/24 dev "$outer_if"
in_ns "$router_ns" ip link set "$inner_if" up
in_ns "$router_ns" ip link set "$outer_if" up
in_ns "$router_ns" sysctl -qw net.ipv4.ip_forward=1
in_ns "$router_ns" iptables -t nat -A POSTROUTING -o "$outer_if" -j MASQUERADE

in_ns "$server_ns" ip addr add 198.51.100.2/24 dev "$server_if"
in_ns "$server_ns" ip link set "$server_if" up

start_coturn "$work" 198.51.100.2 "$stun_port" ip netns exec "$server_ns"

out=$(timeout 30 ip netns exec "$client_ns" "$probe" --server "198.51.100.2:$stun_port" --bind 10.200.2.2) || {
    echo "FAIL: probe: ${out:-no output}"
    in_ns "$router_ns" iptables -t nat -L POSTROUTING -v -n
    coturn_log "$work"
    exit 1
}
echo "$out"
/usr/bin/python3 - "$out" "$mapped_expected" <<'EOF'
import json
import sys

result, expected = json.loads(sys.argv[1]), sys.argv[2]
mapped, local = result["mapped"], result["local"]
if local["address"] != "10.200.2.2":
    sys.exit(f"FAIL: probe bound to {local}, not 10.200.2.2")
if mapped["address"] != expected:
    sys.exit(f"FAIL: mapped address {mapped['address']}, expected the router's {expected}")
print(f"ok: behind the NAT, {local['address']}:{local['port']} is mapped to {mapped['address']}:{mapped['port']}")
EOF
