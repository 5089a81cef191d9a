#!/usr/bin/env python3
"""Node interop: a librats node (librats_noise_peer --role node) against librats_wire_peer.py, a
peer written from docs/PROTOCOL.md on dissononce, over TCP on 127.0.0.1, with each side dialing
once. Passes when both connections complete the Noise XX handshake, each side proves the other's
peer ID, the handshake hashes agree, JSON and binary messages go both ways, and both directions
rekey.

  node_interop.py <librats_noise_peer> <librats_wire_peer.py>
"""
import json
import subprocess
import sys

from noise_interop import finish


def session(node_command, wire_command, node_dials):
    first, second = None, None
    try:
        if node_dials:
            first = subprocess.Popen(wire_command + ["--role", "responder"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
            port = json.loads(first.stdout.readline())["port"]
            second = subprocess.Popen(node_command + ["--role", "node", "--port", str(port)],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wire, node = finish(first, "wire peer"), finish(second, "node")
        else:
            first = subprocess.Popen(node_command + ["--role", "node", "--port", "0"], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
            listening = json.loads(first.stdout.readline())
            second = subprocess.Popen(wire_command + ["--role", "initiator", "--port", str(listening["port"])],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            wire, node = finish(second, "wire peer"), finish(first, "node")
            assert listening["peer_id"] == node["peer_id"], "the node changed its peer ID"
    finally:
        for process in (first, second):
            if process and process.poll() is None:
                process.kill()
                process.wait()

    label = "node dials the wire peer" if node_dials else "the wire peer dials the node"
    assert node["encrypted"] is True, f"{label}: the node did not report an encrypted connection"
    assert node["remote_peer_id"] == wire["peer_id"], f"{label}: the node saw the wrong peer ID"
    assert wire["remote_peer_id"] == node["peer_id"], f"{label}: the wire peer saw the wrong peer ID"
    assert node["remote_static"] == wire["local_static"], f"{label}: the node saw the wrong static key"
    assert wire["remote_static"] == node["public_key"], f"{label}: the wire peer saw the wrong static key"
    assert node["handshake_hash"] == wire["handshake_hash"], f"{label}: handshake hashes differ"
    assert wire["remote_agent"].startswith("librats"), label
    assert sorted(wire["pongs"]) == [1, 2], f"{label}: pongs {wire['pongs']}"
    assert wire["binary_echo_intact"], f"{label}: the binary echo differs"
    assert node["pings"] == 2 and node["binaries"] == 1, f"{label}: node counted {node}"
    assert node["rekeys_received"] == 1, f"{label}: the node did not follow our rekey"
    assert node["rekeys_sent"] == 1 and wire["rekeys_received"] == 1, f"{label}: the node's rekey was not seen"
    print(f"ok: {label}: handshake hash {node['handshake_hash']}")


def main():
    node = [sys.argv[1]]
    wire = [sys.executable, sys.argv[2]]
    session(node, wire, node_dials=False)
    session(node, wire, node_dials=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
