#!/usr/bin/env python3
"""Self-test of the libtorrent DHT harness (lt_dht_network.py), libtorrent to libtorrent: six
python3-libtorrent sessions form a DHT on 127.0.0.1, session 0 announces a random info-hash (by
adding a torrent that has only the info-hash), and session 5 has to find session 0's listen port
with get_peers. Also checks that every DHT packet went to or came from 127.0.0.1 and that no
socket of this process is bound to or connected to anything outside 127.0.0.0/8.

  /usr/bin/python3 tests/interop/lt_dht_selftest.py [--count N] [--explicit-port]

(/usr/bin/python3: Debian's python3-libtorrent is installed for the system interpreter only.)
"""
import argparse
import os
import re
import secrets
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lt_dht_network import HOST, LtDhtNetwork  # noqa: E402

ANNOUNCE_TIMEOUT = 15.0
LOOKUP_TIMEOUT = 15.0
FOREIGN_PORT = 40000  # an explicitly announced port nobody has to listen on


def bencode(value):
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(map(bencode, value)) + b"e"
    items = sorted((k.encode() if isinstance(k, str) else k, v) for k, v in value.items())
    return b"d" + b"".join(bencode(k) + bencode(v) for k, v in items) + b"e"


def bdecode(data, i=0):
    kind = data[i:i + 1]
    if kind == b"i":
        end = data.index(b"e", i)
        return int(data[i + 1:end]), end + 1
    if kind in (b"l", b"d"):
        i, items = i + 1, []
        while data[i:i + 1] != b"e":
            item, i = bdecode(data, i)
            items.append(item)
        return (items if kind == b"l" else dict(zip(items[::2], items[1::2]))), i + 1
    colon = data.index(b":", i)
    end = colon + 1 + int(data[i:colon])
    return data[colon + 1:end], end


class ForeignNode:
    """A bare KRPC client on a UDP socket on 127.0.0.1: the stand-in for a non-libtorrent DHT node.
    It only sends queries (and ignores the queries libtorrent sends back)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.node_id = secrets.token_bytes(20)
        self.serial = 0

    def query(self, to_port, method, timeout=2.0, **args):
        self.serial += 1
        tid = b"%02x" % (self.serial % 256)
        args["id"] = self.node_id
        self.sock.sendto(bencode({"t": tid, "y": "q", "q": method, "a": args}), (HOST, to_port))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {method} from {HOST}:{to_port}")
            self.sock.settimeout(left)
            data, source = self.sock.recvfrom(65536)
            message, _ = bdecode(data)
            if source == (HOST, to_port) and message.get(b"t") == tid and message.get(b"y") in (b"r", b"e"):
                if message[b"y"] == b"e":
                    raise RuntimeError(f"{method}: KRPC error {message.get(b'e')}")
                return message[b"r"]

    def close(self):
        self.sock.close()


def foreign_node_step(net, announced_hash, announced_port, holder, last):
    """A foreign node on the same IP reads libtorrent's stored peer, then announces itself with
    an explicit port and with implied_port; libtorrent has to find both."""
    node = ForeignNode()
    try:
        target = net.ports()[holder]
        reply = node.query(target, "get_peers", info_hash=bytes.fromhex(announced_hash))
        values = {f"{socket.inet_ntoa(v[:4])}:{int.from_bytes(v[4:6], 'big')}"
                  for v in reply.get(b"values", [])}
        if f"{HOST}:{announced_port}" not in values:
            fail(f"session {holder} answered a foreign get_peers with values {sorted(values)}, "
                 f"not {HOST}:{announced_port}")
        print(f"ok: a foreign KRPC node on {HOST}:{node.port} got {HOST}:{announced_port} "
              f"from session {holder}'s get_peers values")
        for implied in (False, True):
            info_hash = secrets.token_hex(20)
            # announce to every session: a lookup only reaches the 8 nodes closest to the hash
            for to_port in net.ports():
                token = node.query(to_port, "get_peers", info_hash=bytes.fromhex(info_hash))[b"token"]
                node.query(to_port, "announce_peer", info_hash=bytes.fromhex(info_hash), port=FOREIGN_PORT,
                           token=token, implied_port=int(implied))
            want = f"{HOST}:{node.port if implied else FOREIGN_PORT}"
            t = time.monotonic()
            found = net.get_peers(last, info_hash, timeout=LOOKUP_TIMEOUT, expect=want)
            if want not in found:
                fail(f"session {last} did not find the foreign node's announce {want} "
                     f"(implied_port={int(implied)}); found {sorted(found)}")
            print(f"ok: foreign announce_peer with implied_port={int(implied)} to all sessions; "
                  f"session {last} found {want} in {time.monotonic() - t:.2f} s")
    finally:
        node.close()


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def loopback_only_sockets():
    """Addresses of this process's inet sockets that are neither loopback nor wildcard, via ss;
    None if ss is unavailable."""
    try:
        out = subprocess.run(["ss", "-tuanpH"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    bad = []
    mine = f"pid={os.getpid()},"
    for line in out.splitlines():
        if mine not in line:
            continue
        fields = line.split()
        for address in fields[4:6]:
            host = address.rsplit(":", 1)[0].split("%")[0].strip("[]")
            if host in ("*", "0.0.0.0", "::") or host.startswith("127.") or host == "::1":
                continue
            bad.append(line.strip())
    return bad


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=6)
    parser.add_argument("--explicit-port", action="store_true",
                        help="announce with an explicit port instead of implied_port=1")
    args = parser.parse_args()
    if args.count < 5:
        fail("use at least 5 sessions")
    started = time.monotonic()
    info_hash = secrets.token_hex(20)
    last = args.count - 1

    net = LtDhtNetwork(count=args.count, implied_port=not args.explicit_port, debug=True)
    try:
        t = time.monotonic()
        try:
            net.start(timeout=20.0)
        except Exception as error:
            fail(f"the DHT did not form: {error}")
        ports = net.ports()
        sizes = [net.node_count(i) for i in range(args.count)]
        print(f"ok: {args.count} libtorrent sessions on {HOST} ports {ports}, "
              f"routing tables {sizes}, formed in {time.monotonic() - t:.2f} s")

        t = time.monotonic()
        port = net.announce(0, info_hash)
        if port != ports[0]:
            fail(f"announce() returned {port}, expected session 0's listen port {ports[0]}")
        # libtorrent sends announce_peer to the 8 closest nodes that answered its get_peers
        stored = net.wait_announced(info_hash, port, timeout=ANNOUNCE_TIMEOUT,
                                    min_nodes=min(args.count - 1, 8))
        if not stored:
            fail(f"no session received session 0's announce_peer for {info_hash} within "
                 f"{ANNOUNCE_TIMEOUT} s; errors: {net.errors()}")
        print(f"ok: session 0 announced {info_hash} with port {port}; stored by sessions {stored} "
              f"after {time.monotonic() - t:.2f} s")

        t = time.monotonic()
        want = f"{HOST}:{port}"
        found = net.get_peers(last, info_hash, timeout=LOOKUP_TIMEOUT, expect=want)
        if want not in found:
            fail(f"session {last} did not find {want} for {info_hash} within {LOOKUP_TIMEOUT} s "
                 f"(found {sorted(found)}); errors: {net.errors()}")
        print(f"ok: session {last} found {want} via get_peers in {time.monotonic() - t:.2f} s "
              f"(peers {sorted(found)})")

        # a lookup for an info-hash nobody announced has to come back empty (and bounded)
        t = time.monotonic()
        nobody = net.get_peers(last, secrets.token_hex(20), timeout=1.0)
        if nobody:
            fail(f"get_peers for an unannounced info-hash returned {sorted(nobody)}")
        print(f"ok: unannounced info-hash: no peers ({time.monotonic() - t:.2f} s)")

        own, nodes = net.live_nodes(last)
        print(f"ok: session {last} node id {own}, {len(nodes)} live nodes")

        # last lookups: the foreign node never answers queries, and once libtorrent has it in its
        # routing tables every later libtorrent lookup waits out its 15 s RPC timeout
        foreign_node_step(net, info_hash, port, stored[0], last)

        # nothing but loopback on the wire
        endpoints = set()
        for index in range(args.count):
            for description, _ in net.packets(index):
                endpoints.update(re.findall(r"\[([0-9a-fA-F:.]+):\d+\]", description))
        outside = sorted(e for e in endpoints if not e.startswith("127."))
        if outside:
            fail(f"DHT packets to or from non-loopback addresses: {outside}")
        if not endpoints:
            fail("no DHT packets were recorded (debug logging broken?)")
        bad = loopback_only_sockets()
        if bad:
            fail("sockets outside 127.0.0.0/8:\n  " + "\n  ".join(bad))
        print(f"ok: all DHT packets were exchanged with {sorted(endpoints)}"
              + ("" if bad is not None else " (ss unavailable: sockets not checked)")
              + ("" if bad is None else "; every socket is on loopback"))

        errors = net.errors()
        if errors:
            print(f"note: libtorrent error alerts: {errors}")
    finally:
        t = time.monotonic()
        clean = net.stop()
        if not clean:
            print("note: a session did not shut down within the stop() time limit", file=sys.stderr)
    print(f"ok: stopped in {time.monotonic() - t:.2f} s; total {time.monotonic() - started:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
