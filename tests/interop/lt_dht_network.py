#!/usr/bin/env python3
"""A small private BitTorrent DHT made of python3-libtorrent (2.0) sessions on 127.0.0.1.

Used by the DHT interop tests: a librats DHT node joins this network and has to announce to and
look up through real libtorrent nodes. Importing the module has no side effects; nothing starts
until LtDhtNetwork.start() (or `with LtDhtNetwork(...) as net:`).

Every session listens on 127.0.0.1 only (TCP and the UDP socket the DHT runs on share one
OS-chosen port), the bootstrap routers are cleared so no public router is ever contacted, and
LSD, UPnP, NAT-PMP and outgoing peer connections are off. The sessions bootstrap off each other
with add_dht_node(). Every wait is bounded.

The Debian 2.0.8 binding of session.dht_announce() cannot be called from Python (its flags type
is not exposed), so announce() adds a torrent that has only an info-hash; the session then
announces its listen port itself. force_dht_announce() makes that immediate.

    from lt_dht_network import LtDhtNetwork
    with LtDhtNetwork(count=6) as net:
        port = net.announce(0, info_hash_hex)
        assert f"127.0.0.1:{port}" in net.get_peers(5, info_hash_hex, timeout=10,
                                                    expect=f"127.0.0.1:{port}")

Needs libtorrent, which Debian installs for /usr/bin/python3 only.
"""
import collections
import os
import shutil
import tempfile
import threading
import time

HOST = "127.0.0.1"


def _lt():
    import libtorrent  # imported lazily so the module can be imported (e.g. for --help) without it
    return libtorrent


def _sha1(info_hash_hex):
    raw = bytes.fromhex(info_hash_hex)
    if len(raw) != 20:
        raise ValueError(f"an info-hash is 20 bytes (40 hex digits), got {info_hash_hex!r}")
    return _lt().sha1_hash(raw)


def _hex(digest):
    # sha1_hash prints as 40 lowercase hex digits
    return str(digest)


def _endpoint(value):
    """'ip:port' from the (ip, port) tuples the binding returns."""
    ip, port = value[0], value[1]
    return f"{ip}:{port}"


class LtDhtError(RuntimeError):
    pass


class LtDhtNetwork:
    """`count` libtorrent sessions forming a DHT on 127.0.0.1. They announce with implied_port=1
    (libtorrent does so when incoming uTP is on), which names the same port as their listen port:
    TCP, uTP and the DHT share it."""

    def __init__(self, count=6):
        if count < 2:
            raise ValueError("a DHT needs at least two sessions")
        self.count = count
        self.sessions = []
        self._ports = []
        self._torrents = {}  # (index, info_hash_hex) -> torrent_handle
        self._save_dir = None
        self._lock = threading.Condition()
        self._stop = threading.Event()
        self._pump = None
        # state filled in by the alert pump, guarded by _lock
        self._peers = collections.defaultdict(set)  # (index, ih) -> {"ip:port"}
        self._announces = collections.defaultdict(set)  # (index, ih) -> {"ip:port"} announced TO index
        self._stats = {}  # index -> (serial, routing_table, active_requests)
        self._stats_serial = collections.defaultdict(int)
        self._live = {}  # index -> (serial, node_id hex, [(node id hex, "ip:port")])
        self._live_serial = collections.defaultdict(int)
        self._errors = collections.defaultdict(list)  # index -> [message]

    # ------------------------------------------------------------------ lifecycle

    def settings(self):
        """The settings_pack every session is created with."""
        lt = _lt()
        mask = (lt.alert_category.dht | lt.alert_category.dht_operation | lt.alert_category.error
                | lt.alert_category.status | lt.alert_category.stats)
        settings = {
            "listen_interfaces": f"{HOST}:0",
            "outgoing_interfaces": "",
            "enable_dht": True,
            # never contact (or even resolve) dht.libtorrent.org / router.bittorrent.com
            "dht_bootstrap_nodes": "",
            "enable_lsd": False,
            "enable_upnp": False,
            "enable_natpmp": False,
            "enable_ip_notifier": False,
            # the sessions are DHT nodes only: they never dial peers they learn about
            "enable_outgoing_tcp": False,
            "enable_outgoing_utp": False,
            "enable_incoming_tcp": True,
            "enable_incoming_utp": True,
            # many nodes on one IP: keep all of them in routing tables and lookups
            "dht_restrict_routing_ips": False,
            "dht_restrict_search_ips": False,
            "dht_enforce_node_id": False,
            "dht_prefer_verified_node_ids": False,
            "dht_ignore_dark_internet": False,
            "dht_privacy_lookups": False,
            "dht_read_only": False,
            # loopback traffic only; do not let the default 8 kB/s DHT rate limit slow the tests
            "dht_upload_rate_limit": 1 << 20,
            "dht_block_ratelimit": 10000,
            "alert_mask": int(mask),
            "alert_queue_size": 100000,
        }
        return settings

    def start(self, min_nodes=None, timeout=20.0):
        """Start the sessions, bootstrap them off each other and wait (at most `timeout` s) until
        every routing table holds at least `min_nodes` nodes (default: all other sessions, at most
        8)."""
        lt = _lt()
        if self.sessions:
            raise LtDhtError("already started")
        deadline = time.monotonic() + timeout
        self._save_dir = tempfile.mkdtemp(prefix="lt-dht-")
        settings = self.settings()
        try:
            for _ in range(self.count):
                self.sessions.append(lt.session(settings))
            for index, session in enumerate(self.sessions):
                port = self._wait(lambda: session.listen_port() or None, deadline,
                                  f"session {index} did not start listening")
                if not session.is_listening():
                    raise LtDhtError(f"session {index} is not listening")
                self._ports.append(port)
            self._pump = threading.Thread(target=self._pump_loop, name="lt-dht-alerts", daemon=True)
            self._pump.start()
            for index, session in enumerate(self.sessions):
                self._wait(lambda: session.is_dht_running() or None, deadline,
                           f"session {index}: DHT did not start")
                for other, port in enumerate(self._ports):
                    if other != index:
                        session.add_dht_node((HOST, port))
            want = min(self.count - 1, 8) if min_nodes is None else min_nodes
            for index in range(self.count):
                def enough():
                    left = max(0.1, deadline - time.monotonic())
                    return self.node_count(index, timeout=left) >= want or None
                self._wait(enough, deadline,
                           lambda: f"session {index}: routing table did not reach {want} nodes "
                           f"(has {self.node_count(index, timeout=1)})")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self, timeout=10.0):
        """Shut every session down; bounded by `timeout` seconds in total (the destructor of a
        session waits for its threads, which on loopback with no trackers is immediate)."""
        self._stop.set()
        if self._pump is not None:
            self._pump.join(timeout=2.0)
            self._pump = None
        sessions, self.sessions = self.sessions, []
        self._torrents.clear()
        deadline = time.monotonic() + timeout
        for session in sessions:
            try:
                session.pause()
            except Exception:
                pass
        # drop the sessions from a helper thread so a hang cannot block the caller forever
        dropper = threading.Thread(target=sessions.clear, name="lt-dht-stop", daemon=True)
        dropper.start()
        dropper.join(timeout=max(0.1, deadline - time.monotonic()))
        if self._save_dir:
            shutil.rmtree(self._save_dir, ignore_errors=True)
            self._save_dir = None
        return not dropper.is_alive()

    def __enter__(self):
        if not self.sessions:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    # ------------------------------------------------------------------ addresses

    def ports(self):
        """The UDP ports the sessions' DHT nodes use (the listen ports: libtorrent binds TCP and
        the UDP socket shared by uTP and the DHT to the same port)."""
        return list(self._ports)

    def node_id(self, index):
        """The session's DHT node id (hex), from its saved DHT state (an entry "node-id": a list
        of 20-byte id + packed address, one per listen socket)."""
        lt = _lt()
        state = self.sessions[index].save_state(lt.save_state_flags_t.save_dht_state)
        ids = state.get(b"dht state", {}).get(b"node-id", [])
        if not ids:
            raise LtDhtError(f"session {index}: no DHT node id (is the DHT running?)")
        return bytes(ids[0][:20]).hex()

    # ------------------------------------------------------------------ announce / lookup

    def announce(self, index, info_hash_hex, port=None, force=True):
        """Make session `index` announce `info_hash_hex` to the DHT, by adding a torrent that has
        only the info-hash (no metadata, no trackers, no peer connections). Returns the port
        libtorrent announces: the session's listen port. `port` is accepted for symmetry with
        other peers but libtorrent cannot announce a port other than its own; a different value
        raises ValueError."""
        lt = _lt()
        info_hash_hex = info_hash_hex.lower()
        own = self._ports[index]
        if port not in (None, 0, own):
            raise ValueError(f"libtorrent session {index} can only announce its listen port {own}")
        key = (index, info_hash_hex)
        handle = self._torrents.get(key)
        if handle is None:
            params = lt.add_torrent_params()
            params.info_hashes = lt.info_hash_t(_sha1(info_hash_hex))
            params.save_path = os.path.join(self._save_dir, f"s{index}-{info_hash_hex}")
            params.name = f"lt-dht-{info_hash_hex[:8]}"
            params.trackers = []
            params.url_seeds = []
            flags = params.flags
            flags &= ~lt.torrent_flags.paused
            flags &= ~lt.torrent_flags.auto_managed
            flags |= lt.torrent_flags.disable_lsd | lt.torrent_flags.disable_pex
            flags |= lt.torrent_flags.upload_mode
            params.flags = flags
            handle = self.sessions[index].add_torrent(params)
            self._torrents[key] = handle
        if force:
            handle.force_dht_announce()
        return own

    def wait_announced(self, info_hash_hex, port, timeout=15.0, min_nodes=1, host=HOST, exclude_self=True):
        """Wait until at least `min_nodes` sessions received an announce_peer for
        `info_hash_hex` from `host:port` (seen as dht_announce_alert). Returns the indices of the
        sessions that stored it (possibly fewer than min_nodes on timeout).

        A libtorrent session that announces also sends announce_peer to itself (other nodes list
        it in their replies and nothing filters our own endpoint); with exclude_self the session
        listening on `host:port` does not count."""
        want = f"{host}:{port}"
        info_hash_hex = info_hash_hex.lower()
        candidates = [i for i in range(self.count)
                      if not (exclude_self and host == HOST and self._ports[i] == int(port))]
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                got = [i for i in candidates if want in self._announces.get((i, info_hash_hex), ())]
                left = deadline - time.monotonic()
                if len(got) >= min_nodes or left <= 0:
                    return got
                self._lock.wait(timeout=min(left, 0.2))

    def get_peers(self, index, info_hash_hex, timeout=10.0, expect=None, retry_every=2.0):
        """Run DHT get_peers lookups from session `index` and return the set of "ip:port" peers
        found within `timeout` seconds. If `expect` (a string or an iterable of strings) is given,
        returns as soon as all of them were found; the lookup is re-issued every `retry_every`
        seconds until then (an announce may still be in flight). Only peers from lookups started by
        this call count."""
        info_hash_hex = info_hash_hex.lower()
        if isinstance(expect, str):
            expect = {expect}
        expect = set(expect or ())
        digest = _sha1(info_hash_hex)
        key = (index, info_hash_hex)
        deadline = time.monotonic() + timeout
        with self._lock:
            self._peers.pop(key, None)
        next_lookup = 0.0
        while True:
            now = time.monotonic()
            if now >= next_lookup:
                self.sessions[index].dht_get_peers(digest)
                next_lookup = now + retry_every
            with self._lock:
                found = set(self._peers.get(key, ()))
                if expect and expect <= found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    return found
                self._lock.wait(timeout=min(left, 0.1, max(0.0, next_lookup - time.monotonic())))

    # ------------------------------------------------------------------ introspection

    def dht_stats(self, index, timeout=5.0):
        """(routing_table, active_requests) from a fresh dht_stats_alert: routing_table is a list
        of per-bucket dicts with num_nodes and num_replacements."""
        with self._lock:
            serial = self._stats_serial[index]
        self.sessions[index].post_dht_stats()
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._stats_serial[index] <= serial:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LtDhtError(f"session {index}: no dht_stats_alert within {timeout} s")
                self._lock.wait(timeout=min(left, 0.2))
            _, table, requests = self._stats[index]
            return table, requests

    def node_count(self, index, timeout=5.0):
        table, _ = self.dht_stats(index, timeout=timeout)
        return sum(bucket["num_nodes"] for bucket in table)

    def live_nodes(self, index, timeout=5.0):
        """(own node id hex, [(node id hex, "ip:port")]) of the nodes in session `index`'s
        routing table."""
        with self._lock:
            serial = self._live_serial[index]
        self.sessions[index].dht_live_nodes(_sha1(self.node_id(index)))
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._live_serial[index] <= serial:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LtDhtError(f"session {index}: no dht_live_nodes_alert within {timeout} s")
                self._lock.wait(timeout=min(left, 0.2))
            _, own, nodes = self._live[index]
            return own, list(nodes)

    def has_node(self, index, host, port, timeout=5.0):
        """Whether session `index`'s routing table holds a node at host:port."""
        want = f"{host}:{port}"
        return any(endpoint == want for _, endpoint in self.live_nodes(index, timeout=timeout)[1])

    def wait_for_node(self, host, port, timeout=10.0, min_sessions=1):
        """Wait until at least `min_sessions` routing tables hold host:port; returns their
        indices."""
        deadline = time.monotonic() + timeout
        while True:
            holders = []
            for index in range(self.count):
                left = max(0.1, min(2.0, deadline - time.monotonic()))
                if self.has_node(index, host, port, timeout=left):
                    holders.append(index)
            if len(holders) >= min_sessions or time.monotonic() >= deadline:
                return holders
            time.sleep(0.2)

    def errors(self, index=None):
        with self._lock:
            if index is None:
                return {i: list(m) for i, m in self._errors.items() if m}
            return list(self._errors.get(index, ()))

    # ------------------------------------------------------------------ internals

    def _wait(self, probe, deadline, message):
        while True:
            value = probe()
            if value:
                return value
            if time.monotonic() >= deadline:
                raise LtDhtError(message() if callable(message) else message)
            time.sleep(0.02)

    def _pump_loop(self):
        lt = _lt()
        sessions = list(self.sessions)
        while not self._stop.is_set():
            got = False
            for index, session in enumerate(sessions):
                try:
                    alerts = session.pop_alerts()
                except Exception:  # session going away
                    continue
                if alerts:
                    got = True
                    with self._lock:
                        for alert in alerts:
                            try:
                                self._handle(lt, index, alert)
                            except Exception as error:  # keep pumping whatever one alert does
                                self._errors[index].append(f"alert pump: {type(alert).__name__}: {error!r}")
                        self._lock.notify_all()
            if not got:
                self._stop.wait(0.02)

    def _handle(self, lt, index, alert):
        if isinstance(alert, lt.dht_get_peers_reply_alert):
            key = (index, _hex(alert.info_hash))
            for peer in alert.peers():
                self._peers[key].add(_endpoint(peer))
        elif isinstance(alert, lt.dht_announce_alert):
            self._announces[(index, _hex(alert.info_hash))].add(f"{alert.ip}:{alert.port}")
        elif isinstance(alert, lt.dht_stats_alert):
            self._stats_serial[index] += 1
            self._stats[index] = (self._stats_serial[index], list(alert.routing_table),
                                  list(alert.active_requests))
        elif isinstance(alert, lt.dht_live_nodes_alert):
            self._live_serial[index] += 1
            nodes = [(_hex(node["nid"]), _endpoint(node["endpoint"])) for node in alert.nodes]
            self._live[index] = (self._live_serial[index], _hex(alert.node_id), nodes)
        elif alert.category() & lt.alert_category.error:
            self._errors[index].append(f"{type(alert).__name__}: {alert.message()}")
