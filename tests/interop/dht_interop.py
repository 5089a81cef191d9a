#!/usr/bin/env python3
"""DHT interop: a librats node (librats_dht_peer) in a private mainline DHT of six
python3-libtorrent 2.0 sessions on 127.0.0.1. Passes when

  1. our node, bootstrapped off one libtorrent session, fills its routing table with at least
     five of them, and libtorrent keeps our node in its routing tables (our answers are valid);
  2. libtorrent announces an info-hash (a torrent with only that hash) and our
     find_peers_by_hash returns libtorrent's port;
  3. we announce an info-hash with a port, at least one libtorrent node stores it, and
     libtorrent's dht_get_peers returns our port.

Nothing leaves 127.0.0.1: libtorrent's bootstrap routers are cleared and ours are the sessions.

  /usr/bin/python3 dht_interop.py <librats_dht_peer>
"""
import json
import os
import secrets
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from lt_dht_network import HOST, LtDhtNetwork  # noqa: E402

TIMEOUT = 30.0


class LibratsPeer:
    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.ready = self.read()
        assert self.ready["event"] == "ready", self.ready

    def read(self):
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"librats_dht_peer exited: {self.process.stderr.read()}")
        return json.loads(line)

    def ask(self, **command):
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write('{"cmd": "quit"}\n')
                self.process.stdin.flush()
                self.process.wait(timeout=10)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def until(probe, what, timeout=TIMEOUT):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s: {what}")
        time.sleep(0.2)


def main():
    peer_binary = sys.argv[1]
    with LtDhtNetwork(count=6) as net:
        lt_nodes = {f"{HOST}:{port}" for port in net.ports()}
        peer = LibratsPeer([peer_binary, "--bootstrap", f"{HOST}:{net.ports()[0]}"])
        try:
            our_dht = peer.ready["dht_port"]

            # 1. Routing tables, both ways.
            table = until(lambda: (lambda t: t if len(lt_nodes & set(t["nodes"])) >= 5 else None)(peer.ask(cmd="table")),
                          "our routing table to hold five libtorrent nodes")
            print(f"ok: our routing table holds {len(lt_nodes & set(table['nodes']))} libtorrent nodes "
                  f"(bootstrapped off one), size {table['size']}")
            holders = net.wait_for_node(HOST, our_dht, timeout=TIMEOUT, min_sessions=1)
            assert holders, "no libtorrent routing table holds our node"
            print(f"ok: libtorrent sessions {holders} hold our node in their routing tables")

            # 2. libtorrent announces, we find it.
            lt_hash = secrets.token_hex(20)
            lt_port = net.announce(0, lt_hash)
            want = f"{HOST}:{lt_port}"
            found = until(lambda: want in peer.ask(cmd="find", hash=lt_hash)["peers"],
                          f"find_peers_by_hash to return libtorrent's {want}")
            print(f"ok: find_peers_by_hash returned libtorrent's announce {want}")

            # 3. We announce, libtorrent finds it.
            our_hash = secrets.token_hex(20)
            our_port = 45678
            answer = peer.ask(cmd="announce", hash=our_hash, port=our_port)
            assert answer["accepted"] >= 1, f"no libtorrent node accepted our announce: {answer}"
            stored = net.wait_announced(our_hash, our_port, timeout=TIMEOUT, min_nodes=1)
            assert stored, "no libtorrent session stored our announce"
            ours = f"{HOST}:{our_port}"
            peers = net.get_peers(5, our_hash, timeout=TIMEOUT, expect=ours)
            assert ours in peers, f"libtorrent's dht_get_peers returned {peers}, not {ours}"
            print(f"ok: {answer['accepted']} libtorrent nodes accepted our announce, sessions {stored} stored it, "
                  f"and libtorrent's dht_get_peers returned {ours}")
            assert found
        finally:
            peer.close()
        errors = net.errors()
        assert not errors, f"libtorrent reported errors: {errors}"


if __name__ == "__main__":
    main()
