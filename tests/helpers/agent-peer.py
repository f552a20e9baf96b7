#!/usr/bin/env python3
"""agent-peer.py - a hostile or broken peer of `certstore agent`, for tests.

  agent-peer.py v1-overflow SOCK DIR SHA1   the protocol-1 request that crashed
                                            the agent: inlen 0xFFFFFFFF, label 1
  agent-peer.py v2-overflow SOCK DIR SHA1   the same lengths in protocol 2
  agent-peer.py version SOCK DIR SHA1       a protocol-3 header
  agent-peer.py garbage SOCK N              N connections sending random bytes
  agent-peer.py hold SOCK IDLE PARTIAL SECS [READY]
        IDLE connections that send nothing and PARTIAL that send half a
        header, held for SECS seconds (READY is touched once they are open);
        prints "held I idle, P partial; partial closed by the agent: C"
  agent-peer.py silent SOCK SECS            a fake agent that accepts and
                                            never answers, for SECS seconds

Prints the agent's answer message (or "closed") for the single requests.
Drops to uid/gid 65534 first when run as root with --as-nobody.
"""
import os
import resource
import socket
import struct
import sys
import time

MAGIC1 = 0x31415343
MAGIC2 = 0x32415343


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    return s


def v2_header(sha1, dirlen, inlen, labellen, outlen, version=2, op=1):
    return struct.pack("=IHH40siiiiIIII", MAGIC2, version, op, sha1.encode(),
                       0, 0, 0, 0, dirlen, inlen, labellen, outlen)


def answer(s):
    """The agent's answer: its message, "ok", or "closed"."""
    try:
        hdr = b""
        while len(hdr) < 24:
            chunk = s.recv(24 - len(hdr))
            if not chunk:
                return "closed"
            hdr += chunk
        magic, version, _, rv, msglen, size, datalen = struct.unpack("=IHHiIII", hdr)
        body = b""
        while len(body) < msglen:
            chunk = s.recv(msglen - len(body))
            if not chunk:
                break
            body += chunk
        return "rv %d: %s" % (rv, body.decode(errors="replace")) if rv else "ok"
    except (ConnectionResetError, socket.timeout) as e:
        return "closed (%s)" % e.__class__.__name__


def v1_overflow(path, store, sha1):
    # struct agent_req of protocol 1: magic, op, store_dir[4096], sha1[41],
    # 3 bytes of padding, alg, md, mgf1_md, salt_len, inlen, label_len, outlen
    req = struct.pack("=II4096s41s3xiiiiIII", MAGIC1, 2, store.encode(), sha1.encode(),
                      1, 0, 0, 0, 0xFFFFFFFF, 1, 512)
    s = connect(path)
    s.sendall(req)
    try:
        data = s.recv(4096)
        print("closed" if not data else "answered %d bytes" % len(data))
    except (ConnectionResetError, socket.timeout) as e:
        print("closed (%s)" % e.__class__.__name__)


def v2_overflow(path, store, sha1):
    s = connect(path)
    s.sendall(v2_header(sha1, len(store), 0xFFFFFFFF, 1, 512, op=2) + store.encode())
    print(answer(s))


def version(path, store, sha1):
    s = connect(path)
    s.sendall(v2_header(sha1, len(store), 32, 0, 512, version=3) + store.encode() + b"x" * 32)
    print(answer(s))


def garbage(path, n):
    for i in range(n):
        s = connect(path)
        try:
            s.sendall(os.urandom(80 + i * 37 % 4000))
            answer(s)
        except OSError:
            pass
        s.close()
    print("sent %d" % n)


def still_open(socks):
    n = 0
    for s in socks:
        s.setblocking(False)
        try:
            if s.recv(1) != b"":
                n += 1
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def hold(path, idle, partial, secs, ready=None):
    """Half-sent requests first (they fit under the per-uid cap), then idle
    connections; reports how many of each the agent kept open."""
    half = []
    for _ in range(partial):
        try:
            s = connect(path)
            s.sendall(struct.pack("=IHH", MAGIC2, 2, 1) + b"A" * 20)
            half.append(s)
        except OSError:
            break
    conns = []
    refused = 0
    for _ in range(idle):
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(1)
            s.connect(path)
            conns.append(s)
        except OSError:
            refused += 1
    time.sleep(1)
    half_open = still_open(half)
    idle_open = still_open(conns)
    if ready:
        with open(ready, "w") as f:
            f.write("%d %d\n" % (half_open, idle_open))
    end = time.time() + secs
    while time.time() < end:
        time.sleep(0.2)
    print("after 1 s: %d of %d half-sent and %d of %d idle open (%d connects failed); "
          "after %g s: %d half-sent open"
          % (half_open, len(half), idle_open, len(conns), refused, secs + 1, still_open(half)))


def silent(path, secs):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    os.chmod(path, 0o666)
    srv.listen(16)
    srv.settimeout(0.2)
    kept = []
    end = time.time() + secs
    while time.time() < end:
        try:
            kept.append(srv.accept()[0])
        except socket.timeout:
            pass


def main():
    args = sys.argv[1:]
    # 1,000 connections need more descriptors than a default soft limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if args and args[0] == "--as-nobody":
        args = args[1:]
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)
    cmd = args[0]
    if cmd == "v1-overflow":
        v1_overflow(*args[1:4])
    elif cmd == "v2-overflow":
        v2_overflow(*args[1:4])
    elif cmd == "version":
        version(*args[1:4])
    elif cmd == "garbage":
        garbage(args[1], int(args[2]))
    elif cmd == "hold":
        hold(args[1], int(args[2]), int(args[3]), float(args[4]), args[5] if len(args) > 5 else None)
    elif cmd == "silent":
        silent(args[1], float(args[2]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
