#!/usr/bin/python3
"""A python-zeroconf (Debian python3-zeroconf 0.47.3) mDNS / DNS-SD peer for the interop tests.

Run it INSIDE a test network namespace (see mdns_netns.py) with /usr/bin/python3 — the python3
on PATH may have no zeroconf. It refuses to run unless its network namespace is a named one
(`ip netns add`, listed in /run/netns), so no multicast reaches the machine's own network.

It writes one JSON object per line on stdout (flushed), every one with "event", "t" (seconds
since this process started) and "mono" (CLOCK_MONOTONIC, comparable across processes on one
machine), and reads commands on stdin, one per line.

  --browse TYPE            browse TYPE (e.g. _librats._tcp.local.) and print
      {"event":"ready","mode":"browse",...}
      {"event":"added","change":"added"|"updated","name":...,"port":...,"addresses":[...],
       "scoped_addresses":[...],"txt":{...},"txt_raw":[...],"server":...}
                                                      on add and on every update, once resolved
          (txt: RFC 6763 key/value view, a key without "=" is null; txt_raw: the strings as sent)
      {"event":"unresolved","name":...}               if it could not be resolved in --resolve-timeout
      {"event":"removed","name":...}                  on goodbye (TTL 0) or expiry
    stdin: "quit"
  --register NAME --port P [--txt k=v ...]   register NAME.<--type> (default _librats._tcp.local.)
      {"event":"registered","name":...,"addresses":[...],"elapsed":s}  (after probing + announcing)
      {"event":"updated","name":...}      after stdin "update k=v ..." (TXT replaced, re-announced)
      {"event":"unregistered","name":...,"elapsed":s}  all 3 goodbyes sent (~0.25 s), on stdin
                                                       "quit", SIGTERM, SIGINT or --timeout
      {"event":"error","error":...}       e.g. a name conflict (exit 2)

Both end with {"event":"exit","reason":"quit"|"signal"|"timeout"|"stdin-eof","rc":N} and exit
N: 0 normally, 1 on an unexpected exception, 2 on a name conflict, 4 outside a test netns. An
end of stdin is ignored unless --quit-on-eof. The whole run is bounded by --timeout (default
30 s); a watchdog ends the process with exit 3 if shutting down takes more than 10 s more.

Interfaces: --interface ADDR (repeatable) is given to Zeroconf(interfaces=[...]); by default
InterfaceChoice.All, which in 0.47.3 means every IPv4 address ifaddr finds (127.0.0.1
included: in a lo-only namespace that is the one that carries the multicast). --ipv6 adds the
IPv6 addresses too (ip_version=All). IPv6 multicast does not work over lo (the IPv6 socket just
stays silent and IPv4 carries everything); over a veth pair it does: --interface <fe80::...>
alone gives an IPv6-only peer (ip_version is then detected as V6Only).
The A/AAAA records of a registration are --address (repeatable), by default every non-loopback
IPv4 address of the namespace, or 127.0.0.1 if it has none. python-zeroconf never picks them by
itself: ServiceInfo publishes exactly the addresses it is given.
"""
import argparse
import json
import os
import signal
import sys
import threading
import time

START = time.monotonic()
_out_lock = threading.Lock()


def emit(event, **fields):
    now = time.monotonic()
    record = {"event": event, "t": round(now - START, 3), "mono": round(now, 4), **fields}
    with _out_lock:
        sys.stdout.write(json.dumps(record, sort_keys=False) + "\n")
        sys.stdout.flush()


def in_test_netns():
    """True when this process runs in a namespace made with `ip netns add` (one bind-mounted
    under /run/netns), i.e. not in the machine's own network namespace. /proc/1/ns/net cannot
    be read on every machine, so the check is positive: our namespace must be a named one."""
    try:
        me = os.stat("/proc/self/ns/net")
    except OSError:
        return False
    for base in ("/run/netns", "/var/run/netns"):
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            try:
                st = os.stat(os.path.join(base, name))
            except OSError:
                continue
            if (st.st_dev, st.st_ino) == (me.st_dev, me.st_ino):
                return True
    return False


def parse_txt_raw(text):
    """The character-strings of a TXT RDATA, decoded (invalid UTF-8 replaced)."""
    items, i = [], 0
    while i < len(text):
        n = text[i]
        items.append(text[i + 1:i + 1 + n].decode("utf-8", "replace"))
        i += 1 + n
    return items


def txt_dict(raw_items):
    """RFC 6763 6.3-6.4: key up to the first '=', keys case-insensitive, the first occurrence
    wins, a key without '=' is a boolean attribute (null); empty strings are skipped."""
    result, seen = {}, set()
    for item in raw_items:
        if not item:
            continue
        key, sep, value = item.partition("=")
        if key.lower() in seen:
            continue
        seen.add(key.lower())
        result[key] = value if sep else None
    return result


def scoped_addresses(info):
    """Addresses with %scope for IPv6 link-local ones (0.47.3 has parsed_scoped_addresses)."""
    try:
        return info.parsed_scoped_addresses()
    except AttributeError:
        return info.parsed_addresses()


def parse_kv(items):
    props = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not key:
            raise SystemExit(f"bad TXT item {item!r}: empty key")
        props[key] = value if sep else None
    return props


def local_ipv4_addresses():
    import ifaddr  # a dependency of zeroconf
    addrs = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if ip.is_IPv4 and not ip.ip.startswith("127.") and ip.ip not in addrs:
                addrs.append(ip.ip)
    return addrs or ["127.0.0.1"]


def make_zeroconf(args):
    from zeroconf import InterfaceChoice, IPVersion, Zeroconf
    interfaces = args.interface or InterfaceChoice.All
    if args.ipv6:
        ip_version = IPVersion.All
    elif args.interface:
        ip_version = None  # detected from the addresses given
    else:
        ip_version = IPVersion.V4Only
    zc = Zeroconf(interfaces=interfaces, ip_version=ip_version)
    sockets = []
    for s in getattr(zc.engine, "_respond_sockets", []):
        try:
            host, port = s.getsockname()[:2]
            sockets.append(f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
        except OSError:
            pass
    return zc, sockets


class Runner:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.reason = "timeout"
        self.commands = []
        self.cmd_lock = threading.Lock()
        self.cmd_ready = threading.Event()

    def _stop(self, reason):
        if not self.stop.is_set():
            self.reason = reason
            self.stop.set()
            self.cmd_ready.set()  # wake wait() at once

    def install(self):
        def on_signal(signum, frame):
            self._stop("signal")
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        threading.Thread(target=self._read_stdin, daemon=True).start()
        # hard bound: whatever happens, the process is gone 10 s after --timeout
        watchdog = threading.Timer(self.args.timeout + 10, lambda: os._exit(3))
        watchdog.daemon = True
        watchdog.start()

    def _read_stdin(self):
        try:
            for line in sys.stdin:
                line = line.strip()
                if not line:
                    continue
                if line == "quit":
                    self._stop("quit")
                    return
                with self.cmd_lock:
                    self.commands.append(line)
                self.cmd_ready.set()
        except (OSError, ValueError):
            pass
        if self.args.quit_on_eof:
            self._stop("stdin-eof")

    def wait(self, on_command=None):
        deadline = START + self.args.timeout
        while not self.stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._stop("timeout")
                break
            # short waits so signal handlers run promptly in the main thread
            self.cmd_ready.wait(min(remaining, 0.1))
            with self.cmd_lock:
                cmds, self.commands = self.commands, []
                self.cmd_ready.clear()
            for cmd in cmds:
                if on_command is None:
                    emit("error", error=f"unknown command {cmd!r}")
                else:
                    on_command(cmd)


def browse(args, runner):
    from zeroconf import ServiceBrowser, ServiceListener

    zc, sockets = make_zeroconf(args)
    resolve_ms = int(args.resolve_timeout * 1000)

    def describe(zc_, type_, name, change):
        info = zc_.get_service_info(type_, name, timeout=resolve_ms)
        if info is None:
            emit("unresolved", name=name, change=change)
            return
        raw = parse_txt_raw(info.text or b"")
        emit("added", change=change, name=info.name, type=type_, port=info.port,
             addresses=info.parsed_addresses(), scoped_addresses=scoped_addresses(info),
             txt=txt_dict(raw), txt_raw=raw,
             server=info.server, priority=info.priority, weight=info.weight)

    class Listener(ServiceListener):
        # ServiceBrowser calls these from its own thread, one at a time, so blocking in
        # get_service_info() here is fine (it returns at once when the records are cached).
        def add_service(self, zc_, type_, name):
            describe(zc_, type_, name, "added")

        def update_service(self, zc_, type_, name):
            describe(zc_, type_, name, "updated")

        def remove_service(self, zc_, type_, name):
            emit("removed", name=name, type=type_)

    try:
        browser = ServiceBrowser(zc, args.browse, Listener())
        emit("ready", mode="browse", type=args.browse, sockets=sockets, pid=os.getpid())
        runner.wait()
        browser.cancel()
    finally:
        zc.close()


def send_goodbyes(zc, info):
    """Unregisters INFO and waits until all its goodbye (TTL 0) packets are sent.

    Zeroconf.unregister_service() in 0.47.3 only schedules the three goodbyes (125 ms apart) and
    returns at once; a close() right after it shuts the sockets after the first one. So run the
    async variant on zeroconf's loop and wait for the broadcast it returns."""
    import asyncio

    async def goodbye():
        await (await zc.async_unregister_service(info))

    asyncio.run_coroutine_threadsafe(goodbye(), zc.loop).result(timeout=5)


def register(args, runner):
    from zeroconf import NonUniqueNameException, ServiceInfo

    type_ = args.type
    name = f"{args.register}.{type_}"
    addresses = args.address or local_ipv4_addresses()
    host = args.host or f"zc-peer-{os.getpid()}.local."
    if not host.endswith("."):
        host += "."

    def make_info(props):
        return ServiceInfo(type_, name, port=args.port, properties=props, server=host,
                           parsed_addresses=addresses, host_ttl=args.ttl_host,
                           other_ttl=args.ttl_other)

    zc, sockets = make_zeroconf(args)
    try:
        info = make_info(parse_kv(args.txt))
        t0 = time.monotonic()
        try:
            zc.register_service(info, allow_name_change=args.allow_name_change)
        except NonUniqueNameException:
            emit("error", error="name-conflict", name=name)
            runner.reason = "error"
            return 2
        emit("registered", name=info.name, port=args.port, addresses=addresses, server=host,
             txt_raw=parse_txt_raw(info.text), sockets=sockets,
             elapsed=round(time.monotonic() - t0, 3), pid=os.getpid())

        def on_command(cmd):
            nonlocal info
            verb, _, rest = cmd.partition(" ")
            if verb == "update":
                new = make_info(parse_kv(rest.split()))
                new.name = info.name  # keep a name changed by allow_name_change
                t_update = time.monotonic()
                zc.update_service(new)  # returns after its 3 announcements (225 ms apart)
                info = new
                emit("updated", name=info.name, txt_raw=parse_txt_raw(info.text),
                     elapsed=round(time.monotonic() - t_update, 3))
            else:
                emit("error", error=f"unknown command {cmd!r}")

        runner.wait(on_command)
        t0 = time.monotonic()
        send_goodbyes(zc, info)
        emit("unregistered", name=info.name, elapsed=round(time.monotonic() - t0, 3))
        return 0
    finally:
        zc.close()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--browse", metavar="TYPE", help="service type to browse")
    mode.add_argument("--register", metavar="NAME", help="instance name to register")
    p.add_argument("--type", default="_librats._tcp.local.", help="service type for --register")
    p.add_argument("--port", type=int, help="SRV port for --register")
    p.add_argument("--txt", nargs="*", default=[], action="extend", metavar="K=V",
                   help="TXT items for --register (K alone: boolean attribute)")
    p.add_argument("--address", action="append", default=[],
                   help="address for the A/AAAA records (default: the namespace's non-loopback "
                        "IPv4 addresses, else 127.0.0.1)")
    p.add_argument("--host", help="SRV target host name (default zc-peer-<pid>.local.)")
    p.add_argument("--ttl-host", type=int, default=120)
    p.add_argument("--ttl-other", type=int, default=4500)
    p.add_argument("--allow-name-change", action="store_true")
    p.add_argument("--interface", action="append", default=[],
                   help="address given to Zeroconf(interfaces=[...]) (default InterfaceChoice.All)")
    p.add_argument("--ipv6", action="store_true", help="IPv4 and IPv6 (default IPv4 only)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds before stopping by itself")
    p.add_argument("--resolve-timeout", type=float, default=3.0,
                   help="seconds to resolve a browsed service")
    p.add_argument("--quit-on-eof", action="store_true", help="stop when stdin ends")
    p.add_argument("--debug", action="store_true", help="zeroconf debug log on stderr")
    p.add_argument("--allow-root-netns", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.register is not None and args.port is None:
        p.error("--register needs --port")
    if not in_test_netns() and not args.allow_root_netns:
        emit("error", error="refusing to send multicast outside a test network namespace; "
                            "run me under `ip netns exec NS` (see mdns_netns.py)")
        return 4
    if args.debug:
        import logging
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        logging.getLogger("zeroconf").setLevel(logging.DEBUG)

    runner = Runner(args)
    runner.install()
    try:
        if args.browse:
            rc = browse(args, runner) or 0
        else:
            rc = register(args, runner)
    except Exception as e:  # report, don't hang
        emit("error", error=f"{type(e).__name__}: {e}")
        rc = 1
    emit("exit", reason=runner.reason, rc=rc)
    return rc


if __name__ == "__main__":
    sys.exit(main())
