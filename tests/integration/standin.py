#!/usr/bin/env python3
"""A collector stand-in for the agent's tests: speaks nsnet.v1 well enough to take
an agent's stream, and records it.

It answers Hello with Welcome and every ScanDone with an Ack, records every frame
it receives, byte for byte, to RECORDING (what `nsnetstat --from RECORDING`
replays), and prints one JSON line per event on stdout. Protobuf is decoded by
hand (field numbers from proto/nsnet.proto): Debian's python3 has no protobuf-c
and the stand-in must not share the code under test.

Usage: standin.py --listen 127.0.0.1:0|unix:PATH --record FILE [--no-read]
                  [--no-ack] [--garbage] [--tls-cert F --tls-key F --tls-ca F]
  --no-read   accept connections and never read them (a collector that stopped)
  --no-ack    never acknowledge
  --garbage   answer Hello with random bytes
  --tls-*     mutual TLS as nsnet-collector speaks it (TLS 1.3, a client certificate
              of the CA required), with Python's ssl (OpenSSL, but not our code):
              {"ev":"tls","conn":N,"identity":...,"version":...} once the handshake is
              done (identity: the client certificate's first DNS SAN, else CN), or
              {"ev":"tls_error","conn":N,"error":...}
The first line printed is {"ev":"listening","port":N} (or "path").
"""

import argparse
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time

FRAME_BODIES = {2: "hello", 3: "welcome", 4: "ack", 5: "error", 6: "snapshot", 7: "delta",
                8: "gone", 9: "scan_done", 10: "query", 11: "response"}
LOCK = threading.Lock()


def emit(ev):
    ev["t"] = time.monotonic()
    with LOCK:
        sys.stdout.write(json.dumps(ev) + "\n")
        sys.stdout.flush()


def varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def fields(buf):
    """[(number, wire type, value)] of one message; value is int or bytes."""
    out, i = [], 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = struct.unpack_from("<Q", buf, i)[0], i + 8
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = bytes(buf[i:i + n]), i + n
        elif wt == 5:
            v, i = struct.unpack_from("<I", buf, i)[0], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out.append((num, wt, v))
    return out


def first(fs, num, default=None):
    for n, _, v in fs:
        if n == num:
            return v
    return default


def all_of(fs, num):
    return [v for n, _, v in fs if n == num]


def enc_varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def enc_field(num, v):
    if isinstance(v, int):
        return enc_varint(num << 3) + enc_varint(v)
    return enc_varint(num << 3 | 2) + enc_varint(len(v)) + v


def frame(body_num, body):
    payload = enc_field(body_num, body)
    return struct.pack(">I", len(payload)) + payload


STATS = ["scans", "scans_failed", "updates_coalesced", "scans_coalesced", "frames_sent", "bytes_sent",
         "connects", "connect_failures", "protocol_errors", "frames_oversized", "netns_failed",
         "bpf_records_dropped", "bpf_chains_capped"]


def stats(buf):
    fs = fields(buf or b"")
    return {name: first(fs, i + 1, 0) for i, name in enumerate(STATS)}


def netns_id(buf):
    fs = fields(buf or b"")
    return {"cookie": first(fs, 1, 0), "dev": first(fs, 2, 0), "inode": first(fs, 3, 0)}


def describe(kind, body):
    fs = fields(body)
    if kind == "hello":
        return {"protocol_version": first(fs, 1, 0), "role": first(fs, 2, 0),
                "node": first(fs, 3, b"").decode(), "agent_version": first(fs, 4, b"").decode(),
                "boot_id": first(fs, 5, b"").decode(), "token": first(fs, 6, b"").decode(errors="replace"),
                "session": first(fs, 7, 0), "interval_ms": first(fs, 8, 0), "max_frame": first(fs, 9, 0),
                "stats": stats(first(fs, 10))}
    if kind == "snapshot":
        return {"id": netns_id(first(fs, 1)), "names": [n.decode() for n in all_of(fs, 3)],
                "sockets": len(all_of(fs, 8)), "links": len(all_of(fs, 11)), "routes": len(all_of(fs, 9)),
                "counters": len(all_of(fs, 12))}
    if kind == "delta":
        return {"id": netns_id(first(fs, 1)), "added": len(all_of(fs, 2)),
                "removed": sum(1 for _ in all_of(fs, 3)), "changed": len(all_of(fs, 4))}
    if kind == "gone":
        return {"id": netns_id(first(fs, 1))}
    if kind == "scan_done":
        return {"scan": first(fs, 1, 0), "full": bool(first(fs, 3, 0)), "namespaces": first(fs, 4, 0),
                "sockets": first(fs, 5, 0), "stats": stats(first(fs, 8)),
                "backend": first(fs, 11, b"").decode(errors="replace")}
    return {}


def tls_server(conn, ctx, cid):
    """The TLS session on conn, or None (the failure emitted)."""
    try:
        conn = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as ex:
        emit({"ev": "tls_error", "conn": cid, "error": str(ex)})
        conn.close()
        return None
    cert = conn.getpeercert() or {}
    dns = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
    cn = [v for rdn in cert.get("subject", ()) for k, v in rdn if k == "commonName"]
    emit({"ev": "tls", "conn": cid, "identity": (dns or cn or [""])[0], "version": conn.version()})
    return conn


def serve(conn, args, rec, cid, ctx):
    emit({"ev": "connected", "conn": cid})
    if ctx is not None:
        conn = tls_server(conn, ctx, cid)
        if conn is None:
            emit({"ev": "closed", "conn": cid})
            return
    buf = b""
    welcomed = False
    try:
        while True:
            if args.no_read and welcomed:
                # Welcome sent: from now on hold the connection and never read, so
                # the agent's writes pile up.
                while True:
                    time.sleep(3600)
            data = conn.recv(1 << 16)
            if not data:
                break
            buf += data
            while len(buf) >= 4:
                n = struct.unpack(">I", buf[:4])[0]
                if len(buf) < 4 + n:
                    break
                raw, payload, buf = buf[:4 + n], buf[4:4 + n], buf[4 + n:]
                with LOCK:
                    rec.write(raw)
                    rec.flush()
                fs = fields(payload)
                seq = first(fs, 1, 0)
                kind, body = "none", b""
                for num, _, v in fs:
                    if num in FRAME_BODIES:
                        kind, body = FRAME_BODIES[num], v
                ev = {"ev": kind, "conn": cid, "seq": seq, "bytes": len(raw)}
                ev.update(describe(kind, body))
                emit(ev)
                if kind == "hello":
                    if args.garbage:
                        conn.sendall(os.urandom(64))
                        continue
                    welcome = enc_field(1, 1) + enc_field(2, b"standin") + enc_field(3, 16 << 20)
                    conn.sendall(frame(3, welcome))
                    welcomed = True
                    break
                elif kind == "scan_done" and not args.no_ack:
                    conn.sendall(frame(4, enc_field(1, seq)))
    except OSError as ex:
        emit({"ev": "error", "conn": cid, "error": str(ex)})
    emit({"ev": "closed", "conn": cid})
    conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--no-read", action="store_true")
    ap.add_argument("--no-ack", action="store_true")
    ap.add_argument("--garbage", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--tls-ca")
    args = ap.parse_args()
    ctx = None
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        ctx.load_verify_locations(args.tls_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    if args.listen.startswith("unix:"):
        path = args.listen[5:]
        if os.path.exists(path):
            os.unlink(path)
        srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        srv.bind(path)
        hello = {"ev": "listening", "path": path}
    else:
        host, port = args.listen.rsplit(":", 1)
        srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind((host, int(port)))
        hello = {"ev": "listening", "port": srv.getsockname()[1]}
    srv.listen(16)
    rec = open(args.record, "ab")
    emit(hello)
    cid = 0
    while True:
        conn, _ = srv.accept()
        cid += 1
        threading.Thread(target=serve, args=(conn, args, rec, cid, ctx), daemon=True).start()


if __name__ == "__main__":
    main()
