#!/usr/bin/env python3
"""A librats peer written from docs/PROTOCOL.md alone, on dissononce's Noise (Debian
python3-dissononce), for node_interop.py: preamble, Noise XX with the librats prologue and the
hellos as handshake payloads, then records that carry frames, with a rekey in each direction.

  librats_wire_peer.py --role initiator --port N     dials a librats node
  librats_wire_peer.py --role responder              listens, prints {"port": P}, one connection

It sends a JSON "ping" (n=1), a rekey frame, a JSON "ping" (n=2) and a 100,000-byte binary
message (it spans two records), reads until both pongs and the binary echo came back (following
the node's rekey), sends "bye" and prints a JSON report.
"""
import argparse
import hashlib
import json
import os
import signal
import socket
import struct
import sys

from dissononce.cipher.chachapoly import ChaChaPolyCipher
from dissononce.dh.x25519.x25519 import X25519DH
from dissononce.hash.sha256 import SHA256Hash
from dissononce.processing.handshakepatterns.interactive.XX import XXHandshakePattern
from dissononce.processing.impl.cipherstate import CipherState
from dissononce.processing.impl.handshakestate import HandshakeState
from dissononce.processing.impl.symmetricstate import SymmetricState

# A unit is one handshake message or one record: a 2-byte big-endian length, then the bytes.
from dissononce_peer import read_exactly, receive_message as receive_unit, send_message as send_unit

VERSION = 1
CRYPTO_ID = 1  # Noise_XX_25519_ChaChaPoly_SHA256
PREAMBLE = b"RATS" + bytes([VERSION, CRYPTO_ID, 0, 0])
PROLOGUE = b"librats" + bytes([VERSION, CRYPTO_ID])
MAX_RECORD_PLAINTEXT = 65535 - 16
BINARY, JSON, REKEY = 0x01, 0x03, 0x13


def peer_id_of(public_key):
    return hashlib.sha256(public_key).digest()[:20].hex()


def frame(frame_type, payload):
    return struct.pack(">BI", frame_type, len(payload)) + payload


def json_frame(message_type, data):
    name = message_type.encode()
    return frame(JSON, bytes([len(name)]) + name + json.dumps(data).encode())


def rekey(cipher_state):
    """Rekey() of the Noise spec (§5.1, §4.2): k = the first 32 bytes of ENCRYPT(k, 2^64-1, "",
    32 zero bytes), n unchanged. dissononce 0.34's CipherState.rekey() keeps all 48 bytes and
    resets n to 0, so it cannot be used as is."""
    nonce = cipher_state._nonce
    key = cipher_state.cipher.encrypt(cipher_state._key, 2**64 - 1, b"", bytes(32))[:32]
    cipher_state.initialize_key(key)
    cipher_state.set_nonce(nonce)


class Records:
    """Both directions of the transport phase: frames in, frames out."""

    def __init__(self, conn, send_cipher, receive_cipher):
        self.conn = conn
        self.send_cipher = send_cipher
        self.receive_cipher = receive_cipher
        self.stream = bytearray()  # received frame stream not yet parsed
        self.rekeys_received = 0

    def send(self, frames, rekey_after=False):
        """Seals the frames into records; a rekey frame ends the last one, then our key changes."""
        data = frames + (frame(REKEY, b"") if rekey_after else b"")
        for at in range(0, len(data), MAX_RECORD_PLAINTEXT):
            send_unit(self.conn, self.send_cipher.encrypt_with_ad(b"", data[at:at + MAX_RECORD_PLAINTEXT]))
        if rekey_after:
            rekey(self.send_cipher)

    def receive_frames(self):
        """Opens one record; returns the frames it completed as (type, payload)."""
        self.stream += self.receive_cipher.decrypt_with_ad(b"", receive_unit(self.conn))
        frames = []
        while len(self.stream) >= 5:
            frame_type, length = struct.unpack(">BI", self.stream[:5])
            if len(self.stream) < 5 + length:
                break
            payload = bytes(self.stream[5:5 + length])
            del self.stream[:5 + length]
            if frame_type == REKEY:
                # The record ends here: the node's next records use the new key.
                assert not self.stream, "bytes after a rekey frame in the same record"
                rekey(self.receive_cipher)
                self.rekeys_received += 1
            else:
                frames.append((frame_type, payload))
        return frames


def main():
    signal.alarm(30)  # bounded even if the driver dies
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["initiator", "responder"], required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    initiator = args.role == "initiator"

    if initiator:
        conn = socket.create_connection(("127.0.0.1", args.port), timeout=20)
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(20)
        print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
        conn, _ = listener.accept()
        conn.settimeout(20)

    # 1. Preambles, sent without waiting for the other's.
    conn.sendall(PREAMBLE)
    remote_preamble = read_exactly(conn, 8)
    assert remote_preamble == PREAMBLE, f"unexpected preamble {remote_preamble.hex()}"

    # 2. Noise XX; message 1 is empty, the hellos ride in messages 2 and 3.
    dh = X25519DH()
    static = dh.generate_keypair()
    our_id = peer_id_of(static.public.data)
    hello = json.dumps({"protocol": "librats", "version": VERSION, "peer_id": our_id, "listen_port": 0,
                        "agent": "dissononce-wire-peer", "nonce": int.from_bytes(os.urandom(8), "big")}).encode()
    handshake = HandshakeState(SymmetricState(CipherState(ChaChaPolyCipher()), SHA256Hash()), dh)
    handshake.initialize(XXHandshakePattern(), initiator, PROLOGUE, s=static)
    remote_hello = None
    ciphers = None
    for index in range(3):
        mine = (index % 2 == 0) == initiator
        if mine:
            message = bytearray()
            ciphers = handshake.write_message(hello if index > 0 else b"", message)
            send_unit(conn, bytes(message))
        else:
            payload = bytearray()
            ciphers = handshake.read_message(receive_unit(conn), payload)
            if index > 0:
                remote_hello = json.loads(bytes(payload))
            else:
                assert not payload, "message 1 must be empty"
    node_static = handshake.rs.data
    assert remote_hello["peer_id"] == peer_id_of(node_static), "the node's peer ID is not its key's"
    send_cipher, receive_cipher = (ciphers[0], ciphers[1]) if initiator else (ciphers[1], ciphers[0])
    records = Records(conn, send_cipher, receive_cipher)

    # 3. Messages both ways, with a rekey each way.
    binary = os.urandom(100_000)
    records.send(json_frame("ping", {"n": 1}), rekey_after=True)
    records.send(json_frame("ping", {"n": 2}) + frame(BINARY, binary))
    pongs, echoed = [], None
    while len(pongs) < 2 or echoed is None:
        for frame_type, payload in records.receive_frames():
            if frame_type == JSON:
                name_length = payload[0]
                name = payload[1:1 + name_length].decode()
                assert name == "pong", f"unexpected message type {name}"
                pongs.append(json.loads(payload[1 + name_length:])["n"])
            elif frame_type == BINARY:
                echoed = payload
    records.send(json_frame("bye", {}))

    print(json.dumps({
        "implementation": "dissononce",
        "peer_id": our_id,
        "remote_peer_id": remote_hello["peer_id"],
        "remote_agent": remote_hello.get("agent", ""),
        "remote_static": node_static.hex(),
        "local_static": static.public.data.hex(),
        "handshake_hash": handshake.symmetricstate.get_handshake_hash().hex(),
        "pongs": pongs,
        "binary_echo_intact": echoed == binary,
        "rekeys_received": records.rekeys_received,
    }), flush=True)
    # Wait for the node to close after "bye" so that nothing we sent is lost to a reset.
    try:
        while conn.recv(65536):
            pass
    except OSError:
        pass
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
