#!/usr/bin/python3
"""mDNS interop, inside network namespaces this script creates (multicast never leaves them):

  1. zeroconf browses librats: python-zeroconf (Debian python3-zeroconf) in one namespace of a
     veth pair resolves the instance librats_mdns_peer advertises in the other, with its TCP
     port, TXT records (ours plus id=<peer ID>) and address, and sees it removed when librats
     says goodbye.
  2. librats browses zeroconf: a service zeroconf registers is reported by set_mdns_callback
     with its address, port and instance name.
  3. Over IPv6 only: an IPv6-only zeroconf browser (ff02::fb on a veth link) resolves the
     librats instance, with our link-local address among its addresses.
  4. Two librats peers in one namespace find each other by mDNS alone, connect over Noise and
     exchange a greeting each way.

    /usr/bin/python3 mdns_interop.py <librats_mdns_peer>

Exits 0 on success, 1 on failure (with the events seen), 77 with "skipped: <reason>" when
namespaces cannot be created. Bounded: the run aborts after 60 s; namespaces and processes are
removed in every case. Needs root (ip netns).
"""
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from line_process import Failure, LineProcess  # noqa: E402
from mdns_netns import Namespace, VethPair, can_create_namespaces  # noqa: E402

ZEROCONF_PEER = [os.environ.get("MDNS_PEER_PYTHON", "/usr/bin/python3"), os.path.join(HERE, "zeroconf_peer.py")]
SERVICE_TYPE = "_librats._tcp.local."


def parse_event(line):
    try:
        return json.loads(line)
    except ValueError:
        return {"event": "non-json", "line": line}


class Peer(LineProcess):
    """A process inside a namespace that prints JSON events, one per line."""

    def __init__(self, ns, label, command):
        super().__init__(label, ns.popen, command, parse=parse_event)

    def expect(self, what, pred, timeout):
        try:
            return super().expect(what, lambda event: event if pred(event) else None, timeout)
        except Failure as failure:
            raise Failure(f"{failure}\n{self.dump()}") from None

    def finish(self, timeout=5):
        if self.proc.poll() is None:
            self.write("quit")
        rc = self.returncode(timeout)
        if rc is None:
            raise Failure(f"{self.label}: did not exit within {timeout:g} s\n" + self.dump())
        if rc != 0:
            raise Failure(f"{self.label}: exit code {rc}\n" + self.dump())

    def dump(self):
        return super().dump(json.dumps, 20)


def ok(message):
    print(f"ok: {message}", flush=True)


def zeroconf_browses_librats(librats_peer):
    with VethPair("librats-mdns", ipv6=False) as pair:
        instance = f"librats interop {os.getpid()}"
        browser = Peer(pair.a, "zeroconf browser", ZEROCONF_PEER + ["--browse", SERVICE_TYPE, "--interface",
                                                                     pair.a.address, "--timeout", "30"])
        browser.expect("ready", lambda e: e["event"] == "ready", 8)
        librats = Peer(pair.b, "librats", [librats_peer, "--name", instance, "--interface", pair.b.address,
                                           "--txt", "role=interop", "--txt", "flag=", "--timeout", "30"])
        ready = librats.expect("ready", lambda e: e["event"] == "ready", 8)
        start = time.monotonic()
        full = f"{instance}.{SERVICE_TYPE}".lower()
        added = browser.expect(f"zeroconf resolving {instance!r}",
                               lambda e: e["event"] == "added" and e.get("name", "").lower() == full, 10)
        want_txt = {"role": "interop", "flag": "", "id": ready["peer_id"]}
        if added.get("port") != ready["port"] or added.get("txt") != want_txt or pair.b.address not in added.get(
                "addresses", []):
            raise Failure(f"zeroconf saw {json.dumps(added)}, expected port {ready['port']}, TXT {want_txt}, "
                          f"address {pair.b.address}")
        ok(f"zeroconf resolved {instance!r}: port {added['port']}, TXT {added['txt']}, addresses "
           f"{added['addresses']} ({time.monotonic() - start:.2f} s after librats started)")
        librats.finish()
        browser.expect(f"zeroconf seeing {instance!r} removed",
                       lambda e: e["event"] == "removed" and e.get("name", "").lower() == full, 5)
        ok("zeroconf saw librats' goodbye")
        browser.finish()


def librats_browses_zeroconf(librats_peer):
    with VethPair("librats-mdns", subnet=1, ipv6=False) as pair:
        instance = f"zeroconf interop {os.getpid()}"
        registrar = Peer(pair.a, "zeroconf registrar", ZEROCONF_PEER + [
            "--register", instance, "--port", "41234", "--txt", "k=v", "--interface", pair.a.address,
            "--address", pair.a.address, "--timeout", "30"])
        registrar.expect("registered", lambda e: e["event"] == "registered", 8)
        librats = Peer(pair.b, "librats", [librats_peer, "--interface", pair.b.address, "--timeout", "30"])
        found = librats.expect(f"librats finding {instance!r}",
                               lambda e: e["event"] == "found" and e.get("instance") == instance, 10)
        if found["host"] != pair.a.address or found["port"] != 41234:
            raise Failure(f"librats reported {json.dumps(found)}, expected {pair.a.address}:41234")
        librats.write("services")
        listed = librats.expect("services", lambda e: e["event"] == "services", 5)
        entry = [s for s in listed["services"] if s["name"] == instance]
        if not entry or entry[0]["txt"].get("k") != "v":
            raise Failure(f"get_mdns_services() listed {json.dumps(listed)}")
        ok(f"librats found zeroconf's {instance!r} at {found['host']}:{found['port']} with TXT {entry[0]['txt']}")
        librats.finish()
        registrar.finish()


def link_local(ns):
    out = ns.run(["ip", "-6", "-o", "addr", "show", "dev", ns.ifname, "scope", "link"], stdout=subprocess.PIPE,
                 text=True).stdout.split()
    return out[out.index("inet6") + 1].split("/")[0]


def zeroconf_browses_librats_over_ipv6(librats_peer):
    with VethPair("librats-mdns6", subnet=2, ipv6=True) as pair:
        instance = f"librats ipv6 {os.getpid()}"
        ours = link_local(pair.b)
        browser = Peer(pair.a, "zeroconf IPv6 browser", ZEROCONF_PEER + [
            "--browse", SERVICE_TYPE, "--interface", link_local(pair.a), "--timeout", "30"])
        browser.expect("ready", lambda e: e["event"] == "ready", 8)
        librats = Peer(pair.b, "librats", [librats_peer, "--name", instance, "--interface", pair.b.address,
                                           "--timeout", "30"])
        librats.expect("ready", lambda e: e["event"] == "ready", 8)
        full = f"{instance}.{SERVICE_TYPE}".lower()
        added = browser.expect(f"zeroconf resolving {instance!r} over IPv6",
                               lambda e: e["event"] == "added" and e.get("name", "").lower() == full
                               and ours in e.get("addresses", []), 10)
        ok(f"an IPv6-only zeroconf resolved {instance!r} with addresses {added['addresses']}")
        librats.finish()
        browser.finish()


def librats_pair_in_one_namespace(librats_peer):
    with Namespace("librats-mdns") as ns:
        first = Peer(ns, "librats 1", [librats_peer, "--name", "first", "--timeout", "30"])
        second = Peer(ns, "librats 2", [librats_peer, "--name", "second", "--timeout", "30"])
        id1 = first.expect("ready", lambda e: e["event"] == "ready", 8)["peer_id"]
        id2 = second.expect("ready", lambda e: e["event"] == "ready", 8)["peer_id"]
        start = time.monotonic()
        for me, other_id in ((first, id2), (second, id1)):
            connected = me.expect("a connection to the other", lambda e: e["event"] == "connected"
                                  and e["peer_id"] == other_id, 10)
            if not connected["encrypted"]:
                raise Failure(f"{me.label}: the connection is not encrypted")
            me.expect("the other's greeting", lambda e: e["event"] == "message" and e["from"] == other_id, 10)
        ok(f"two librats peers found each other by mDNS, connected with Noise and exchanged greetings in "
           f"{time.monotonic() - start:.2f} s")
        first.finish()
        second.finish()


def main():
    librats_peer = sys.argv[1]
    usable, reason = can_create_namespaces()
    if not usable:
        print(f"skipped: {reason}")
        return 77
    signal.signal(signal.SIGALRM, lambda *_: (_ for _ in ()).throw(Failure("aborted after 60 s")))
    signal.alarm(60)
    try:
        zeroconf_browses_librats(librats_peer)
        librats_browses_zeroconf(librats_peer)
        zeroconf_browses_librats_over_ipv6(librats_peer)
        librats_pair_in_one_namespace(librats_peer)
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
