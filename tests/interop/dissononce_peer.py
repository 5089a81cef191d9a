#!/usr/bin/env python3
"""The other end for noise_interop.py: Noise_XX_25519_ChaChaPoly_SHA256 from dissononce (Debian
python3-dissononce), speaking the same script as librats_noise_peer (see noise_peer.cpp).

  dissononce_peer.py --role initiator|responder --port N --schedule i20,r15,i15,i0,r1,...
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

PROLOGUE = b"librats noise interop"


def read_exactly(conn, size):
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError("peer closed the connection")
        data += chunk
    return bytes(data)


def send_message(conn, message):
    conn.sendall(struct.pack(">H", len(message)) + message)


def receive_message(conn):
    (length,) = struct.unpack(">H", read_exactly(conn, 2))
    return read_exactly(conn, length)


def digest(payload):
    return [len(payload), hashlib.sha256(payload).hexdigest()]


def main():
    signal.alarm(30)  # bounded even if the driver dies
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["initiator", "responder"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--schedule", required=True)
    args = parser.parse_args()
    initiator = args.role == "initiator"
    schedule = [(entry[0] == "i", int(entry[1:])) for entry in args.schedule.split(",")]

    if initiator:
        conn = socket.create_connection(("127.0.0.1", args.port), timeout=20)
    else:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", args.port))
        listener.listen(1)
        listener.settimeout(20)
        print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
        conn, _ = listener.accept()
        conn.settimeout(20)

    dh = X25519DH()
    static = dh.generate_keypair()
    handshake = HandshakeState(SymmetricState(CipherState(ChaChaPolyCipher()), SHA256Hash()), dh)
    handshake.initialize(XXHandshakePattern(), initiator, PROLOGUE, s=static)
    ciphers = None
    sent, received = [], []

    for index, (from_initiator, size) in enumerate(schedule):
        mine = from_initiator == initiator
        payload = os.urandom(size) if mine else None
        if mine:
            sent.append(digest(payload))
        if index < 3:
            if mine:
                message = bytearray()
                result = handshake.write_message(payload, message)
                send_message(conn, bytes(message))
            else:
                out = bytearray()
                result = handshake.read_message(receive_message(conn), out)
                received.append(digest(bytes(out)))
            if index == 2:
                ciphers = result
            continue
        cipher = ciphers[0] if from_initiator else ciphers[1]
        if mine:
            send_message(conn, cipher.encrypt_with_ad(b"", payload))
        else:
            received.append(digest(cipher.decrypt_with_ad(b"", receive_message(conn))))

    print(json.dumps({
        "implementation": "dissononce",
        "handshake_hash": handshake.symmetricstate.get_handshake_hash().hex(),
        "local_static": static.public.data.hex(),
        "remote_static": handshake.rs.data.hex(),
        "sent": sent,
        "received": received,
    }), flush=True)
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
