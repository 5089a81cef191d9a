#!/usr/bin/python3
"""Self-test of the mDNS interop harness: python-zeroconf against python-zeroconf, in namespaces.

    /usr/bin/python3 tests/interop/mdns_selftest.py [--mode lo|veth|both] [-v]

lo:   one namespace (multicast over lo); a zeroconf_peer.py --register and a
      zeroconf_peer.py --browse run side by side in it.
veth: two namespaces joined by a veth pair (mdns_netns.VethPair); the registrar runs in one,
      the browser in the other, each bound to its veth address only.

Each mode checks that the browser sees the service with the right port, TXT and address, sees a
TXT update, and reports "removed" once the registrar sends its goodbyes. Prints "ok: ..." lines
and timings, exits 0 on success, 1 on failure (with the events seen), 77 with
"skipped: <reason>" when namespaces cannot be made or /usr/bin/python3 has no zeroconf. The run
is bounded (alarm at 25 s; a normal run takes ~4-5 s) and the namespaces and every process
are cleaned up in every case. Needs root (ip netns).
"""
import argparse
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from mdns_netns import Namespace, VethPair, can_create_namespaces  # noqa: E402

PEER = os.path.join(HERE, "zeroconf_peer.py")
PEER_PYTHON = os.environ.get("MDNS_PEER_PYTHON", "/usr/bin/python3")
SERVICE_TYPE = "_librats._tcp.local."
TOTAL_BUDGET = 25  # seconds, hard
VERBOSE = False


class Failure(Exception):
    pass


class Peer:
    """A zeroconf_peer.py process inside a namespace, with its JSON events in a queue."""

    def __init__(self, ns, label, args, timeout=20):
        self.label = label
        self.events = queue.Queue()
        self.seen = []
        self.stderr = []
        self.proc = ns.popen([PEER_PYTHON, PEER, *args, "--timeout", str(timeout)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, bufsize=1)
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read_stdout(self):
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                event = {"event": "non-json", "line": line}
            if VERBOSE:
                print(f"  [{self.label}] {line}", flush=True)
            self.events.put(event)
        self.events.put({"event": "<eof>"})

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    def expect(self, what, pred, timeout):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure(f"{self.label}: no {what} within {timeout:g} s\n" + self.dump())
            try:
                event = self.events.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                continue
            self.seen.append(event)
            if event["event"] == "error":
                raise Failure(f"{self.label}: error while waiting for {what}: {event.get('error')}\n"
                              + self.dump())
            if pred(event):
                return event
            if event["event"] == "<eof>":
                raise Failure(f"{self.label}: exited before {what}\n" + self.dump())

    def send(self, line):
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            raise Failure(f"{self.label}: cannot send {line!r}, process gone\n" + self.dump())

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Failure(f"{self.label}: did not exit within {timeout:g} s\n" + self.dump())

    def dump(self):
        while True:  # pick up what arrived but was not looked at
            try:
                self.seen.append(self.events.get_nowait())
            except queue.Empty:
                break
        lines = [f"  events of {self.label} (rc={self.proc.poll()}):"]
        lines += [f"    {json.dumps(e)}" for e in self.seen[-20:]]
        if self.stderr:
            lines.append(f"  stderr of {self.label}:")
            lines += [f"    {line}" for line in self.stderr[-20:]]
        return "\n".join(lines)


def ok(msg):
    print(f"ok: {msg}", flush=True)


def check_service(label, event, port, txt, address):
    if event.get("port") != port:
        raise Failure(f"{label} saw port {event.get('port')} != {port}: {json.dumps(event)}")
    if event.get("txt") != txt:
        raise Failure(f"{label} saw TXT {event.get('txt')} != {txt}: {json.dumps(event)}")
    if address not in event.get("addresses", []):
        raise Failure(f"{label} saw no address {address} not in {event.get('addresses')}")


def scenario(mode, reg_ns, browse_ns, reg_args, browse_args, address):
    """Registrar in reg_ns, browser in browse_ns; returns a dict of timings (seconds)."""
    instance = f"librats selftest {os.getpid()} {mode}"
    full = f"{instance}.{SERVICE_TYPE}"
    port = 40000 + os.getpid() % 20000
    peer_id = os.urandom(20).hex()
    timings = {}

    browser = Peer(browse_ns, f"{mode}/browser", ["--browse", SERVICE_TYPE, *browse_args])
    ready = browser.expect("ready", lambda e: e["event"] == "ready", 8)
    ok(f"{mode}: browser ready in {browse_ns.name} (sockets {ready.get('sockets')})")

    registrar = Peer(reg_ns, f"{mode}/registrar",
                     ["--register", instance, "--port", str(port),
                      "--txt", f"id={peer_id}", "proto=librats", "flag", *reg_args])
    reg = registrar.expect("registered", lambda e: e["event"] == "registered", 8)
    timings["register"] = reg["elapsed"]
    ok(f"{mode}: registered {reg['name']!r} port {port} addresses {reg['addresses']} "
       f"in {reg['elapsed']:.3f} s (probe + announce)")

    is_ours = lambda e: e.get("name", "").lower() == full.lower()  # noqa: E731
    added = browser.expect(f"'added' for {full!r}",
                           lambda e: e["event"] == "added" and is_ours(e), 6)
    check_service("browser", added, port, {"id": peer_id, "proto": "librats", "flag": None}, address)
    # the first announcement goes out before register_service() returns
    timings["discover"] = round(added["mono"] - (reg["mono"] - reg["elapsed"]), 3)
    ok(f"{mode}: browser resolved it: port {added['port']}, addresses {added['addresses']}, "
       f"TXT {added['txt_raw']}, {timings['discover']:.3f} s after registration started")

    registrar.send(f"update id={peer_id} proto=librats2")
    upd = registrar.expect("updated", lambda e: e["event"] == "updated", 5)
    updated = browser.expect("'added' (change=updated) with the new TXT",
                             lambda e: e["event"] == "added" and is_ours(e)
                             and (e.get("txt") or {}).get("proto") == "librats2", 5)
    check_service("browser", updated, port, {"id": peer_id, "proto": "librats2"}, address)
    timings["update"] = round(updated["mono"] - (upd["mono"] - upd["elapsed"]), 3)
    ok(f"{mode}: browser saw the TXT update ({updated['change']}): {updated['txt_raw']}")

    t_quit = time.monotonic()
    registrar.send("quit")
    gone = browser.expect(f"'removed' for {full!r}",
                          lambda e: e["event"] == "removed" and is_ours(e), 4)
    timings["goodbye"] = round(gone["mono"] - t_quit, 3)
    unreg = registrar.expect("unregistered", lambda e: e["event"] == "unregistered", 4)
    rc = registrar.wait_exit(5)
    if rc != 0:
        raise Failure(f"{mode}: registrar exit code {rc}\n" + registrar.dump())
    ok(f"{mode}: goodbye seen by the browser {timings['goodbye']:.3f} s after 'quit' "
       f"(registrar sent its 3 goodbyes in {unreg['elapsed']:.3f} s, exited 0)")

    browser.send("quit")
    rc = browser.wait_exit(5)
    if rc != 0:
        raise Failure(f"{mode}: browser exit code {rc}\n" + browser.dump())
    return timings


def run_lo():
    with Namespace("mdns-selftest") as ns:
        return scenario("lo", ns, ns, [], [], "127.0.0.1")


def run_veth():
    with VethPair("mdns-selftest") as pair:
        return scenario("veth", pair.a, pair.b,
                        ["--interface", pair.a.address],
                        ["--interface", pair.b.address], pair.a.address)


def _zeroconf_version():
    try:
        proc = subprocess.run([PEER_PYTHON, "-c", "import zeroconf; print(zeroconf.__version__)"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as e:
        return None, str(e)
    if proc.returncode != 0:
        return None, (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return proc.stdout.strip(), ""


def main():
    global VERBOSE
    p = argparse.ArgumentParser(description="python-zeroconf self-test of the mDNS netns harness")
    p.add_argument("--mode", choices=["lo", "veth", "both"], default="both")
    p.add_argument("-v", "--verbose", action="store_true", help="echo the peers' JSON events")
    args = p.parse_args()
    VERBOSE = args.verbose

    can, why = can_create_namespaces()
    if not can:
        print(f"skipped: {why}", flush=True)
        return 77
    version, err = _zeroconf_version()
    if version is None:
        print(f"skipped: {PEER_PYTHON} has no zeroconf (apt-get install python3-zeroconf): {err}",
              flush=True)
        return 77
    ok(f"python-zeroconf {version} ({PEER_PYTHON})")

    def on_alarm(signum, frame):
        raise Failure(f"self-test took longer than {TOTAL_BUDGET} s")

    def on_term(signum, frame):
        raise Failure(f"stopped by signal {signum}")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.alarm(TOTAL_BUDGET)

    modes = ["lo", "veth"] if args.mode == "both" else [args.mode]
    runners = {"lo": run_lo, "veth": run_veth}
    passed, failed = 0, 0
    t0 = time.monotonic()
    for mode in modes:
        t_mode = time.monotonic()
        try:
            timings = runners[mode]()
        except Failure as e:
            failed += 1
            print(f"FAIL: {mode}: {e}", flush=True)
            if "longer than" in str(e) or "stopped by signal" in str(e):
                break
            continue
        passed += 1
        ok(f"{mode}: done in {time.monotonic() - t_mode:.2f} s; timings {json.dumps(timings)}")
    signal.alarm(0)
    print(f"total {time.monotonic() - t0:.1f} s", flush=True)
    print(f"mdns_selftest: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed == len(modes) else 1


if __name__ == "__main__":
    sys.exit(main())
