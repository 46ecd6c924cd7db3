#!/usr/bin/env python3
"""Time a QRESYNC reconnect to a large mailbox (issue #3's figure).

Fills INBOX with N messages (MULTIAPPEND batches), takes a QRESYNC snapshot,
makes C changes from another session (half flag changes, half expunges), then
times `SELECT INBOX (QRESYNC (uidvalidity modseq))` and checks the answer:
exactly the changed flags (FETCH) and exactly the vanished UIDs.

    python3 bench/qresync_reconnect.py --port 1143 --user bench --password pw -n 100000 -c 100

Runs against any IMAP server with QRESYNC on 127.0.0.1.
"""
import argparse
import re
import socket
import time


class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")
        self.n = 0
        self.f.readline()

    def cmd(self, text, literal=None):
        self.n += 1
        tag = f"t{self.n}"
        self.s.sendall(f"{tag} {text}\r\n".encode())
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                raise SystemExit("connection closed")
            m = re.search(rb"\{(\d+)\}\r\n$", line)
            if m:
                line += self.f.read(int(m.group(1))) + self.f.readline()
            lines.append(line.decode("utf-8", "replace"))
            if line.startswith(tag.encode() + b" "):
                if not line.startswith(tag.encode() + b" OK"):
                    raise SystemExit(f"{text[:60]}: {line!r}")
                return lines

    def raw(self, data, tag):
        self.s.sendall(data)
        while True:
            line = self.f.readline()
            if line.startswith(tag.encode() + b" "):
                if not line.startswith(tag.encode() + b" OK"):
                    raise SystemExit(line)
                return


def message(i):
    return (f"From: Sender {i % 97} <s{i % 97}@example.org>\r\nTo: bench@example.org\r\n"
            f"Subject: message {i}\r\nMessage-ID: <{i}@bench>\r\n\r\nbody {i}\r\n").encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=1143)
    ap.add_argument("--user", default="bench")
    ap.add_argument("--password", default="bench")
    ap.add_argument("-n", type=int, default=100000)
    ap.add_argument("-c", type=int, default=100)
    a = ap.parse_args()

    laptop = Conn(a.port)
    laptop.cmd(f'LOGIN {a.user} "{a.password}"')
    t0 = time.time()
    batch = 1000
    for start in range(0, a.n, batch):
        parts = [b"f APPEND INBOX"]
        for i in range(start, min(a.n, start + batch)):
            m = message(i)
            parts.append(b" {%d+}\r\n" % len(m) + m)
        laptop.raw(b"".join(parts) + b"\r\n", "f")
    fill = time.time() - t0

    phone = Conn(a.port)
    phone.cmd(f'LOGIN {a.user} "{a.password}"')
    phone.cmd("ENABLE QRESYNC")
    r = phone.cmd("SELECT INBOX")
    validity = int(re.search(r"UIDVALIDITY (\d+)", "".join(r)).group(1))
    modseq = int(re.search(r"HIGHESTMODSEQ (\d+)", "".join(r)).group(1))
    phone.cmd("LOGOUT")

    laptop.cmd("SELECT INBOX")
    step = max(1, a.n // a.c)
    flagged = list(range(1, a.n + 1, step))[: a.c // 2]
    expunged = list(range(step // 2 + 1, a.n + 1, step))[: a.c - len(flagged)]
    for uid in flagged:
        laptop.cmd(f"UID STORE {uid} +FLAGS.SILENT (\\Flagged)")
    for uid in expunged:
        laptop.cmd(f"UID STORE {uid} +FLAGS.SILENT (\\Deleted)")
    laptop.cmd("EXPUNGE")

    phone = Conn(a.port)
    phone.cmd(f'LOGIN {a.user} "{a.password}"')
    phone.cmd("ENABLE QRESYNC")
    t0 = time.perf_counter()
    r = phone.cmd(f"SELECT INBOX (QRESYNC ({validity} {modseq}))")
    took = time.perf_counter() - t0
    text = "".join(r)
    fetched = sorted(int(u) for u in re.findall(r"FETCH \(UID (\d+) FLAGS", text))
    vanished = set()
    for m in re.finditer(r"VANISHED \(EARLIER\) ([0-9:,]+)", text):
        for part in m.group(1).split(","):
            lo, _, hi = part.partition(":")
            vanished.update(range(int(lo), int(hi or lo) + 1))
    exact = fetched == sorted(flagged) and vanished == set(expunged)
    print(f"messages {a.n}, changes {a.c}: fill {fill:.1f} s; QRESYNC SELECT {took * 1000:.1f} ms, "
          f"{len(fetched)} FETCH + {len(vanished)} vanished, exact: {exact}")
    if not exact:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
