#!/usr/bin/python3
"""The seed README's "Basic Usage" and "Encrypted Chat Application with mDNS Discovery", run
unmodified (examples/seed/) against each other, in the two network namespaces of a veth pair.

Both bind TCP port 8080, hence one namespace each. The driver checks that:

  1. they find each other by mDNS (both call start_mdns_discovery) and connect: Basic Usage
     prints "New peer connected: <id>";
  2. a line written to the chat program's stdin is broadcast as a "chat" message: Basic Usage
     prints "Chat from <id>: <line>" with the same <id>;
  3. "/quit" ends the chat program (exit code 0, its RatsClient destroyed within a few seconds);
     Basic Usage is then still in its 5-minute sleep, which is what the driver cuts short: it is
     killed (SIGTERM). Nothing in the programs is shortened or edited.

Nothing leaves the two namespaces. Both programs also call start_dht_discovery() (bootstrap
routers router.bittorrent.com, ... by name), discover_and_ignore_public_ip() (stun.l.google.com)
and Basic Usage connect_to_peer("192.168.1.100", 8081). Before starting them the driver verifies
that each namespace has exactly two interfaces, lo and its end of the veth (whose other end is
the other namespace), and no default route in any routing table, IPv4 or IPv6 - the only routes
are the veth subnet 10.201.<n>.0/24, 224.0.0.0/4, IPv6 link-local/multicast on the veth, and
the local tables. So a packet for any public address fails in the sender with ENETUNREACH and
none reaches the host's network. Name lookups cannot escape either: the driver requires
/etc/nsswitch.conf "hosts:" to use only `files`, `dns` and `myhostname` (in-process, no socket
to a daemon outside the namespace, as `resolve`, `mdns*` or nscd would be) and no nscd socket -
otherwise it reports a skip - so resolving the DHT routers and the STUN server fails in the
resolver itself. Measured with strace -f on Basic Usage in such a namespace: its only sockets
outside it were connect(<resolv.conf nameserver>:53) = ENETUNREACH (every lookup) and
connect(192.168.1.100:8081) = ENETUNREACH; everything else it sent went to 224.0.0.251:5353 and
ff02::fb:5353 on the veth. The programs' stderr (librats warnings) is shown on success.

    /usr/bin/python3 seed_examples.py <librats_seed_basic_usage> <librats_seed_encrypted_chat>

Exits 0 on success, 1 on failure (with both programs' output), 77 with "skipped: <reason>"
when namespaces cannot be created (needs root) or name lookups could leave them. Bounded: the
run aborts after 60 s; processes and namespaces are removed in every case (SIGTERM/SIGINT to the
driver included). The programs run in a temporary directory, removed afterwards.
"""
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "interop"))

from line_process import Failure, LineProcess  # noqa: E402
from mdns_netns import VethPair, can_create_namespaces  # noqa: E402

TOTAL_TIMEOUT = 60
SAFE_HOSTS_SOURCES = {"files", "dns", "myhostname"}


class Program(LineProcess):
    """A seed program inside a namespace; its stdout and stderr lines are collected."""

    def __init__(self, ns, label, argv, cwd, stdin):
        super().__init__(label, ns.popen, argv, cwd=cwd, stdin=stdin)

    def expect(self, what, pattern, timeout, required=True):
        """The match of `pattern` with a whole stdout line within `timeout` seconds."""
        return super().expect(what, lambda line: re.fullmatch(pattern, line), timeout, required)


def ok(message):
    print(f"ok: {message}", flush=True)


def name_lookups_stay_local():
    """(True, "") when hostname lookups run in-process only (files/dns/myhostname, no nscd)."""
    sources = None
    try:
        with open("/etc/nsswitch.conf") as f:
            for line in f:
                fields = line.split("#", 1)[0].split()
                if fields and fields[0] == "hosts:":
                    sources = [s for s in fields[1:] if not s.startswith("[")]
    except OSError:
        pass
    if sources is None:
        sources = ["dns", "files"]  # glibc's default without nsswitch.conf
    foreign = [s for s in sources if s not in SAFE_HOSTS_SOURCES]
    if foreign:
        return False, f"/etc/nsswitch.conf hosts uses {foreign}, which may resolve outside the namespaces"
    for socket_path in ("/var/run/nscd/socket", "/run/nscd/socket"):
        if os.path.exists(socket_path):
            return False, f"nscd is running ({socket_path}): lookups would be made outside the namespaces"
    return True, ""


def check_isolated(pair):
    """Each namespace: only lo and its veth end, no default route (IPv4, IPv6, all tables)."""
    for ns in (pair.a, pair.b):
        links = ns.run(["ip", "-o", "link", "show"], stdout=subprocess.PIPE, text=True, check=True).stdout
        names = sorted(line.split(":")[1].strip().split("@")[0] for line in links.splitlines())
        if names != sorted(["lo", ns.ifname]):
            raise Failure(f"{ns.name}: unexpected interfaces {names}")
        routes = []
        for family in ("-4", "-6"):
            routes += ns.run(["ip", family, "route", "show", "table", "all"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout.splitlines()
        defaults = [r for r in routes if r.startswith("default") or " default " in f" {r} "]
        if defaults:
            raise Failure(f"{ns.name}: has a default route: {defaults}")
        main4 = ns.run(["ip", "-4", "route", "show"], stdout=subprocess.PIPE, text=True, check=True).stdout
        subnet = ns.address.rsplit(".", 1)[0] + ".0/24"
        prefixes = sorted(line.split()[0] for line in main4.splitlines())
        if prefixes != sorted([subnet, "224.0.0.0/4"]):
            raise Failure(f"{ns.name}: unexpected IPv4 routes {prefixes}")
    ok(f"namespaces isolated: interfaces lo + veth only, no default route, IPv4 routes "
       f"{subnet} and 224.0.0.0/4 only (per namespace)")


def type_until_sent(chat, text, attempts=5):
    """Types `text` into Encrypted Chat; returns a step to call while waiting for it, which types
    it again if the program said it had no peer to send it to, or None when no step is left.
    Basic Usage reports the connection once its side of the handshake is done; the chat side
    may finish a moment later (a loaded machine widens that), and the seed program then prints
    "Failed to send message: no connected peers", as a user would see before typing again."""
    refusals_before = sum("no connected peers" in line for line in chat.stderr)
    chat.write(text)
    if attempts == 1:
        return None

    def step():
        if sum("no connected peers" in line for line in chat.stderr) > refusals_before:
            time.sleep(0.2)
            return type_until_sent(chat, text, attempts - 1)
        return step
    return step


def run(basic_usage, encrypted_chat, workdir):
    with VethPair("seed", subnet=7) as pair:
        check_isolated(pair)
        basic = Program(pair.a, "Basic Usage", [basic_usage], workdir, subprocess.DEVNULL)
        chat = Program(pair.b, "Encrypted Chat", [encrypted_chat], workdir, subprocess.PIPE)
        try:
            start = time.monotonic()
            peer = basic.expect("\"New peer connected: <id>\"", r"New peer connected: (\S+)", 25).group(1)
            ok(f"found each other by mDNS and connected after {time.monotonic() - start:.2f} s "
               f"(Basic Usage: New peer connected: {peer})")

            text = f"hello from the seed driver {secrets.token_hex(4)}"
            sent = time.monotonic()
            expected = f"\"Chat from {peer}: {text}\""
            retype = type_until_sent(chat, text)
            while not basic.expect(expected, re.escape(f"Chat from {peer}: {text}"), 0.25, required=False):
                if time.monotonic() - sent > 10:
                    raise Failure(f"Basic Usage: no {expected} within 10 s")
                if retype:
                    retype = retype()
            ok(f"a line typed into Encrypted Chat reached Basic Usage as \"Chat from {peer}: {text}\" "
               f"in {time.monotonic() - sent:.2f} s")

            chat.write("/quit")
            try:
                rc = chat.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                raise Failure("Encrypted Chat: did not exit within 10 s of /quit")
            if rc != 0:
                raise Failure(f"Encrypted Chat: exit code {rc} after /quit")
            if basic.proc.poll() is not None:
                raise Failure(f"Basic Usage: exited early (rc={basic.proc.returncode}), before its 5 minutes")
            basic.proc.terminate()
            basic.proc.wait(timeout=5)
            ok(f"/quit ended Encrypted Chat (rc 0); Basic Usage, still in its 5-minute sleep after "
               f"{time.monotonic() - basic.started:.1f} s, was killed by the driver")
            for program in (basic, chat):
                warnings = program.stderr
                print(f"  {program.label} stderr ({len(warnings)} lines):", flush=True)
                for line in warnings[-10:]:
                    print(f"    {line}", flush=True)
        except Failure as failure:
            raise Failure(f"{failure}\n{basic.dump()}\n{chat.dump()}") from None


def main():
    if len(sys.argv) != 3:
        print(f"usage: {sys.argv[0]} <librats_seed_basic_usage> <librats_seed_encrypted_chat>", file=sys.stderr)
        return 2
    basic_usage, encrypted_chat = (os.path.abspath(p) for p in sys.argv[1:3])
    usable, reason = can_create_namespaces()
    if not usable:
        print(f"skipped: {reason}")
        return 77
    local, reason = name_lookups_stay_local()
    if not local:
        print(f"skipped: {reason}")
        return 77

    def abort(signum, _frame):
        raise Failure("aborted after 60 s" if signum == signal.SIGALRM else f"aborted by signal {signum}")

    for signum in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, abort)
    signal.alarm(TOTAL_TIMEOUT)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix="librats-seed-") as workdir:
            run(basic_usage, encrypted_chat, workdir)
    except Failure as failure:
        print(f"FAIL: {failure}", file=sys.stderr)
        return 1
    finally:
        signal.alarm(0)
    ok(f"seed examples passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
