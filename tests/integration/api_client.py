"""A client for sipfleet's control API, written the way a QA engineer would: Python's
standard library only (http.client for REST, a small RFC 6455 client over a socket for the
event stream). Used by the API integration tests; also a starting point for your own scripts.
"""
import base64
import hashlib
import http.client
import json
import os
import socket
import struct
import sys
import time


class Checks:
    """Named checks that print a line each and count failures; finish() exits with 0 or 1."""

    def __init__(self):
        self.failures = 0

    def check(self, name, ok, detail=""):
        print(("ok    " if ok else "FAIL  ") + name + ("" if ok else "   " + str(detail)), flush=True)
        if not ok:
            self.failures += 1

    def finish(self):
        print("%d failed" % self.failures)
        sys.exit(1 if self.failures else 0)


class Api:
    def __init__(self, host, port, token=None, timeout=15):
        self.host, self.port, self.token, self.timeout = host, port, token, timeout

    def request(self, method, path, body=None, headers=None, raw=None):
        """Returns (status, parsed JSON or text or None, headers dict)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        h = {"Connection": "close"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if headers:
            h.update(headers)
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        conn.request(method, path, body=data, headers=h)
        resp = conn.getresponse()
        text = resp.read().decode()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        conn.close()
        parsed = None
        if text:
            if hdrs.get("content-type", "").startswith("application/json"):
                parsed = json.loads(text)
            else:
                parsed = text
        return resp.status, parsed, hdrs

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None):
        return self.request("POST", path, body if body is not None else {})

    def patch(self, path, body):
        return self.request("PATCH", path, body)

    def delete(self, path):
        return self.request("DELETE", path)

    def wait_until(self, what, predicate, timeout=20, every=0.1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(every)
        raise AssertionError("timed out waiting for " + what)


class EventStream:
    """GET /v1/events as a WebSocket (RFC 6455): text frames of JSON events."""

    def __init__(self, host, port, query="", token=None, timeout=15, rcvbuf=None):
        if rcvbuf:  # a small receive window, set before connecting (a slow client, for tests)
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            "GET /v1/events%s HTTP/1.1" % (("?" + query) if query else ""),
            "Host: %s:%d" % (host, port),
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: " + key,
            "Sec-WebSocket-Version: 13",
        ]
        if token:
            lines.append("Authorization: Bearer " + token)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        status_line = head.split(b"\r\n", 1)[0].decode()
        self.status = int(status_line.split()[1])
        if self.status != 101:
            raise ConnectionError("handshake refused: " + status_line)
        accept = base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if ("sec-websocket-accept: " + accept).lower() not in head.decode().lower():
            raise ConnectionError("bad Sec-WebSocket-Accept")
        self.events = []  # every event received so far, in order

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the stream")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _send(self, opcode, payload=b""):
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 65536:
            header += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def recv(self, timeout=15):
        """The next event (a dict), or None on timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                b0, b1 = self._read(2)
                opcode, n = b0 & 0x0F, b1 & 0x7F
                if n == 126:
                    n = struct.unpack("!H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack("!Q", self._read(8))[0]
                if b1 & 0x80:
                    raise ConnectionError("the server masked a frame")
                payload = self._read(n)
                if opcode == 0x9:  # ping
                    self._send(0xA, payload)
                elif opcode == 0x8:
                    raise ConnectionError("the server closed the stream")
                elif opcode == 0x1:
                    event = json.loads(payload.decode())
                    self.events.append(event)
                    return event
        except socket.timeout:
            return None

    def wait_for(self, predicate, timeout=20):
        """Reads events until one matches; returns it (earlier ones stay in self.events)."""
        for e in self.events:
            if predicate(e) and not e.get("_seen"):
                e["_seen"] = True
                return e
        deadline = time.time() + timeout
        while time.time() < deadline:
            e = self.recv(timeout=max(0.05, deadline - time.time()))
            if e is not None and predicate(e):
                e["_seen"] = True
                return e
        raise AssertionError("no matching event in %ss; last events: %s" % (timeout, self.events[-10:]))

    def close(self):
        try:
            self._send(0x8, struct.pack("!H", 1000))
        except OSError:
            pass
        self.sock.close()
