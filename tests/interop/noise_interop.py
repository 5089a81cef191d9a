#!/usr/bin/env python3
"""Noise interop: librats_noise_peer against dissononce_peer.py over TCP on 127.0.0.1, in both
roles. Passes when every session completes and both ends agree on the handshake hash, on each
other's static key, and on every payload (size and SHA-256) in both directions.

  noise_interop.py <librats_noise_peer> <dissononce_peer.py>
"""
import json
import subprocess
import sys

# Who sends each payload and its size; the first three are XX's handshake messages. 65,519 is
# the largest transport payload (65,535 minus the tag).
SCHEDULE = "i20,r15,i15,i0,r1,i65519,r65519,i1000,r77,i3,i4,r65519,i65519"
TIMEOUT = 30


def start(command, role, port):
    return subprocess.Popen(command + ["--role", role, "--port", str(port), "--schedule", SCHEDULE],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process, name):
    try:
        out, err = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        raise AssertionError(f"{name} timed out\n{err}")
    if process.returncode != 0:
        raise AssertionError(f"{name} exited with {process.returncode}\n{err}")
    return json.loads(out.strip().splitlines()[-1])


def session(initiator_command, responder_command):
    responder = start(responder_command, "responder", 0)
    initiator = None
    try:
        port = json.loads(responder.stdout.readline())["port"]
        initiator = start(initiator_command, "initiator", port)
        i = finish(initiator, "initiator")
        r = finish(responder, "responder")
    finally:
        for process in (initiator, responder):
            if process and process.poll() is None:
                process.kill()
                process.wait()

    label = f"{i['implementation']} initiator, {r['implementation']} responder"
    entries = SCHEDULE.split(",")
    expected_i = [int(e[1:]) for e in entries if e[0] == "i"]
    expected_r = [int(e[1:]) for e in entries if e[0] == "r"]
    assert [size for size, _ in i["sent"]] == expected_i, label
    assert [size for size, _ in r["sent"]] == expected_r, label
    assert i["sent"] == r["received"], f"{label}: initiator to responder payloads differ"
    assert r["sent"] == i["received"], f"{label}: responder to initiator payloads differ"
    assert i["handshake_hash"] == r["handshake_hash"], f"{label}: handshake hashes differ"
    assert len(i["handshake_hash"]) == 64, label
    assert i["remote_static"] == r["local_static"], f"{label}: initiator saw the wrong static key"
    assert r["remote_static"] == i["local_static"], f"{label}: responder saw the wrong static key"
    print(f"ok: {label}: {len(entries)} messages, handshake hash {i['handshake_hash']}")


def main():
    ours = [sys.argv[1]]
    theirs = [sys.executable, sys.argv[2]]
    session(ours, theirs)
    session(theirs, ours)
    return 0


if __name__ == "__main__":
    sys.exit(main())
