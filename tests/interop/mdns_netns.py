#!/usr/bin/env python3
"""Throwaway Linux network namespaces for the mDNS / DNS-SD interop tests.

Everything mDNS sends (224.0.0.251:5353, ff02::fb) must stay inside namespaces the test made
itself, never reach the machine's own network namespace. This module makes such namespaces and
runs commands in them; importing it has no side effects, nothing is created until a context
manager is entered.

    from mdns_netns import Namespace, VethPair, can_create_namespaces

    ok, why = can_create_namespaces()
    if not ok:
        print(f"skipped: {why}"); sys.exit(77)

    with Namespace("mdns") as ns:            # one namespace, multicast over lo
        p = ns.popen(["/usr/bin/python3", "zeroconf_peer.py", "--browse", ...],
                     stdout=subprocess.PIPE, text=True)
        ns.run(["ip", "addr"], check=True)

    with VethPair("mdns") as pair:           # two namespaces joined by a veth link
        pair.a.popen([...]); pair.b.popen([...])   # pair.a.address == "10.201.0.1", b: .2

What these namespaces give (measured on Linux 6.18 with the Debian bookworm userland):

* IPv4 multicast over lo works inside a namespace once lo is up, has the MULTICAST flag
  (`ip link set lo multicast on`; lo lacks it by default) and there is a route
  224.0.0.0/4 dev lo. A socket that joins 224.0.0.251 on 127.0.0.1, sends with
  IP_MULTICAST_IF 127.0.0.1 and IP_MULTICAST_LOOP receives its own and other sockets' packets.
* IPv6 multicast over lo does NOT work: without an ff02::/16 route sendto() fails with
  ENETUNREACH; with the route (and even with fe80::1 added to lo and a `multicast ff00::/8`
  route in the local table) sendto() succeeds but the kernel drops the datagram
  (Ip6OutNoRoutes goes up, nothing is delivered, only MLD reports loop). Namespace therefore
  adds no IPv6 route unless asked (ipv6_lo_route=True), and lo-only tests are IPv4 only.
  Over a veth pair IPv6 multicast to ff02::fb works (link-local addresses, DAD switched off).
* Several mDNS stacks in ONE namespace all bind port 5353 (SO_REUSEADDR/SO_REUSEPORT).
  Multicast reaches every one of them, but a unicast reply (to a "QU" question, or to
  127.0.0.1:5353) is delivered to only one socket of the reuse group, which may belong to a
  different process than the one that asked. Measured with two zeroconf peers in one namespace:
  a browser started after the registration finished found the service after ~1.07 s in 3 runs
  out of 4 (the unicast answer to its first, "QU" query went astray; the next, multicast, query
  a second later worked) and after 2 ms in the other; across a VethPair always in 1-20 ms.
  Tests that depend on unicast replies, or that want each stack to have its own addresses,
  should use VethPair (one stack per namespace).

Every process started with popen() is remembered and ended (SIGTERM, then SIGKILL) when the
namespace is left, and so is anything else still running inside the namespace; the namespace is
deleted in every case, exceptions included.
"""
import itertools
import os
import shutil
import signal
import subprocess
import time

IP = "ip"
_counter = itertools.count()


class NetnsError(RuntimeError):
    pass


def _ip(args, check=True, timeout=10):
    """Runs `ip ARGS` in the caller's namespace (only namespace/link management goes through here)."""
    proc = subprocess.run([IP, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise NetnsError(f"`ip {' '.join(args)}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _unique_name(prefix):
    prefix = "".join(c if c.isalnum() or c in "-_" else "-" for c in prefix) or "ns"
    return f"{prefix}-{os.getpid()}-{next(_counter)}"


def can_create_namespaces():
    """(True, "") when this process can make, set up and delete a network namespace, else
    (False, reason) — a test prints "skipped: <reason>" and exits 77 on False."""
    if not hasattr(os, "geteuid") or os.uname().sysname != "Linux":
        return False, "network namespaces need Linux"
    if shutil.which(IP) is None:
        return False, "the `ip` command (iproute2) is not installed"
    if os.geteuid() != 0:
        return False, "creating network namespaces needs root (CAP_SYS_ADMIN)"
    name = _unique_name("mdns-probe")
    try:
        proc = _ip(["netns", "add", name], check=False)
        if proc.returncode != 0:
            return False, f"`ip netns add` failed: {proc.stderr.strip() or proc.returncode}"
        try:
            proc = _ip(["-n", name, "link", "set", "lo", "up"], check=False)
            if proc.returncode != 0:
                return False, f"cannot bring lo up in a new namespace: {proc.stderr.strip()}"
            proc = subprocess.run([IP, "netns", "exec", name, "true"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True, timeout=10)
            if proc.returncode != 0:
                return False, f"`ip netns exec` failed: {proc.stderr.strip() or proc.returncode}"
        finally:
            _ip(["netns", "del", name], check=False)
    except (OSError, subprocess.SubprocessError) as e:
        return False, f"cannot run ip: {e}"
    return True, ""


def _end_process(proc, grace=3.0):
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    except ProcessLookupError:
        pass


class Namespace:
    """A fresh network namespace, deleted on exit.

    lo_multicast (default True): lo up, MULTICAST flag on, route 224.0.0.0/4 dev lo.
    ipv6_lo_route: also add ff02::/16 dev lo (does not make IPv6 multicast on lo work, see above).
    Without lo_multicast only lo is brought up (VethPair routes multicast over its veth).
    """

    def __init__(self, name_prefix="mdns", lo_multicast=True, ipv6_lo_route=False):
        self.name = _unique_name(name_prefix)
        self.lo_multicast = lo_multicast
        self.ipv6_lo_route = ipv6_lo_route
        self._procs = []
        self._created = False

    # -- life cycle -------------------------------------------------------------------------
    def create(self):
        _ip(["netns", "add", self.name])
        self._created = True
        try:
            _ip(["-n", self.name, "link", "set", "lo", "up"])
            if self.lo_multicast:
                _ip(["-n", self.name, "link", "set", "lo", "multicast", "on"])
                _ip(["-n", self.name, "route", "add", "224.0.0.0/4", "dev", "lo"])
            if self.ipv6_lo_route:
                _ip(["-n", self.name, "-6", "route", "add", "ff02::/16", "dev", "lo"])
        except BaseException:
            self.delete()
            raise
        return self

    def delete(self):
        """Ends the processes started here (and any left inside), then deletes the namespace.
        Safe to call more than once."""
        for proc in self._procs:
            _end_process(proc)
        self._procs.clear()
        if not self._created:
            return
        # Anything else still inside (e.g. a child of a process we started) would keep the
        # namespace alive after its name is gone; everything in here was started by this test.
        try:
            pids = _ip(["netns", "pids", self.name], check=False).stdout.split()
        except (OSError, subprocess.SubprocessError):
            pids = []
        for sig in (signal.SIGTERM, signal.SIGKILL):
            alive = []
            for pid in pids:
                try:
                    os.kill(int(pid), sig)
                    alive.append(pid)
                except (ProcessLookupError, ValueError):
                    pass
            if not alive:
                break
            deadline = time.monotonic() + 2.0
            while time.monotonic() < deadline:
                if not any(os.path.exists(f"/proc/{p}") for p in alive):
                    break
                time.sleep(0.05)
            pids = alive
        _ip(["netns", "del", self.name], check=False)
        self._created = False

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.delete()
        return False

    # -- running things inside ----------------------------------------------------------------
    def command(self, args):
        """The argv that runs ARGS inside this namespace."""
        return [IP, "netns", "exec", self.name, *[str(a) for a in args]]

    def run(self, args, **kwargs):
        """subprocess.run(ARGS) inside the namespace (timeout defaults to 30 s)."""
        kwargs.setdefault("timeout", 30)
        return subprocess.run(self.command(args), **kwargs)

    def popen(self, args, **kwargs):
        """subprocess.Popen(ARGS) inside the namespace; ended when the namespace is left.
        `ip netns exec` execs the command, so the Popen's pid is the command's own pid."""
        proc = subprocess.Popen(self.command(args), **kwargs)
        self._procs.append(proc)
        return proc

    def ipv4_addresses(self, include_loopback=False):
        out = self.run([IP, "-4", "-o", "addr", "show"], stdout=subprocess.PIPE, text=True,
                       check=True).stdout
        addrs = []
        for line in out.splitlines():
            fields = line.split()
            if "inet" in fields:
                addr = fields[fields.index("inet") + 1].split("/")[0]
                if include_loopback or not addr.startswith("127."):
                    addrs.append(addr)
        return addrs

    def __repr__(self):
        return f"Namespace({self.name!r})"


class VethPair:
    """Two namespaces, .a and .b, joined by a veth link (veth-a <-> veth-b).

    a: 10.201.<subnet>.1/24 on veth-a, b: 10.201.<subnet>.2/24 on veth-b, each with the route
    224.0.0.0/4 dev veth-*. DAD is off on the veth ends, so the IPv6 link-local addresses are
    usable at once (IPv6 multicast to ff02::fb works over this link, unlike over lo). lo is up in
    both but carries no multicast route. The addresses exist only inside these namespaces.
    """

    def __init__(self, name_prefix="mdns", subnet=0, ipv6=True):
        if not 0 <= subnet <= 255:
            raise ValueError("subnet is one byte")
        self.a = Namespace(name_prefix + "-a", lo_multicast=False)
        self.b = Namespace(name_prefix + "-b", lo_multicast=False)
        self.a.ifname, self.b.ifname = "veth-a", "veth-b"
        self.a.address, self.b.address = f"10.201.{subnet}.1", f"10.201.{subnet}.2"
        self.ipv6 = ipv6

    def create(self):
        try:
            self.a.create()
            self.b.create()
            _ip(["link", "add", self.a.ifname, "netns", self.a.name, "type", "veth",
                 "peer", "name", self.b.ifname, "netns", self.b.name])
            for ns in (self.a, self.b):
                if self.ipv6:
                    ns.run(["sysctl", "-qw", f"net.ipv6.conf.{ns.ifname}.accept_dad=0"],
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                else:
                    ns.run(["sysctl", "-qw", f"net.ipv6.conf.{ns.ifname}.disable_ipv6=1"],
                           check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _ip(["-n", ns.name, "addr", "add", f"{ns.address}/24", "dev", ns.ifname])
                _ip(["-n", ns.name, "link", "set", ns.ifname, "up"])
                _ip(["-n", ns.name, "route", "add", "224.0.0.0/4", "dev", ns.ifname])
            if self.ipv6:
                self._wait_link_local()
        except BaseException:
            self.delete()
            raise
        return self

    def _wait_link_local(self, timeout=5.0):
        # the link-local address appears only once both ends are up (carrier), ~100-300 ms
        deadline = time.monotonic() + timeout
        while True:
            missing = []
            for ns in (self.a, self.b):
                out = _ip(["-n", ns.name, "-6", "-o", "addr", "show", "dev", ns.ifname,
                           "scope", "link"]).stdout
                if "inet6" not in out or "tentative" in out:
                    missing.append(ns.name)
            if not missing:
                return
            if time.monotonic() > deadline:
                raise NetnsError(f"no IPv6 link-local address on the veth in {missing}")
            time.sleep(0.05)

    def delete(self):
        # deleting a namespace destroys its veth end, and with it the peer
        try:
            self.a.delete()
        finally:
            self.b.delete()

    def __enter__(self):
        return self.create()

    def __exit__(self, *exc):
        self.delete()
        return False

    def __repr__(self):
        return f"VethPair({self.a.name!r}, {self.b.name!r})"
