"""Hostile clients (issue 3): stalled half-requests, huge and lying bodies,
NUL and random bytes, and memory over many requests.

The daemon runs with a 2-second connection timeout and a 1 MiB body limit
so that these tests are quick; the behaviour does not depend on the sizes."""

import json
import os
import random
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gzharness import (KYIV_SPAN, DaemonTestCase,  # noqa: E402
                       closed_by_peer, parse_response)

LIMIT = 1 << 20
TIMEOUT = 2

TOO_LARGE = {"error": {
    "code": "payload_too_large",
    "message": "the request body is over the limit of %d bytes (max_body_bytes)" % LIMIT,
    "limit": LIMIT}}


class HostileTest(DaemonTestCase):
    daemon_kwargs = {"config": {"connection_timeout": TIMEOUT, "max_body_bytes": LIMIT,
                                "threads": 2, "max_connections": 500}}

    # --- slow clients ----------------------------------------------------

    def test_stalled_half_requests_do_not_delay_others_and_are_closed(self):
        stalled = []
        try:
            for i in range(60):
                s = self.d.raw_socket()
                if i % 3 == 0:    # half the headers
                    s.sendall(b"POST /tag HTTP/1.1\r\nHost: x\r\nContent-Le")
                elif i % 3 == 1:  # all the headers, half the body
                    s.sendall(b"POST /tag HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n"
                              b"Content-Type: text/plain\r\n\r\nKyiv and")
                else:             # half the request line
                    s.sendall(b"GET /hea")
                stalled.append(s)
            t0 = time.monotonic()
            # A normal request is answered at once (5 s is a generous bound).
            self.assert_serving(timeout=5)
            self.assertLess(time.monotonic() - t0, 5)
            # Each stalled connection is closed by the server after the timeout.
            deadline = t0 + TIMEOUT + 15
            for s in stalled:
                # whatever it says, it must then close
                self.assertTrue(closed_by_peer(s, max(0.1, deadline - time.monotonic())),
                                "a stalled connection stayed open past the timeout")
            self.assertGreater(time.monotonic() - t0, TIMEOUT / 2)
            self.assert_serving()
        finally:
            for s in stalled:
                s.close()

    # --- big bodies ------------------------------------------------------

    def test_content_length_10_to_the_20_refused(self):
        # 10^20 does not fit 64 bits: libmicrohttpd refuses it itself, before
        # gaztagd's handler runs, with its own (HTML) 413 body.
        status, hdrs, _ = parse_response(self.d.send_raw(
            b"POST /tag HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 100000000000000000000\r\n\r\nKyiv"))
        self.assertEqual(status, 413)
        self.assertEqual(hdrs.get("connection", "").lower(), "close")
        self.assert_serving()

    def test_content_length_over_limit_answered_before_any_body(self):
        # Nothing of the body is sent: the answer must come from the headers alone.
        for extra in (b"", b"Expect: 100-continue\r\n"):
            with self.subTest(expect=bool(extra)):
                status, hdrs, body = parse_response(self.d.send_raw(
                    b"POST /tag HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                    b"Content-Length: %d\r\n" % (64 << 20) + extra + b"\r\n"))
                self.assertEqual(status, 413)
                self.assertEqual(hdrs["content-type"], "application/json; charset=utf-8")
                self.assertEqual(hdrs["connection"].lower(), "close")
                self.assertEqual(json.loads(body), TOO_LARGE)
        status, _, body = parse_response(self.d.send_raw(
            b"POST /tag HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000000000000\r\n\r\n"))
        self.assertEqual((status, json.loads(body)), (413, TOO_LARGE))

    def test_limit_holds_on_every_route(self):
        for line in (b"GET /health", b"POST /reload", b"GET /entities/kyiv"):
            with self.subTest(line=line):
                status, _, body = parse_response(self.d.send_raw(
                    line + b" HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                    % (64 << 20)))
                self.assertEqual((status, json.loads(body)), (413, TOO_LARGE))

    def test_64_mib_body_gets_413_without_being_buffered(self):
        rss0 = self.d.rss_kb()
        s = self.d.raw_socket()
        chunk = b"Kyiv " * (1 << 16)  # 320 KiB
        total = 64 << 20

        def send_body():
            sent = 0
            try:
                while sent < total:
                    n = min(len(chunk), total - sent)
                    s.sendall(chunk[:n])
                    sent += n
            except OSError:
                pass  # the server closed: it did not want the body

        s.sendall(b"POST /tag HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                  b"Content-Length: %d\r\n\r\n" % total)
        sender = threading.Thread(target=send_body, daemon=True)
        sender.start()
        try:
            raw = b""
            s.settimeout(10)
            try:
                while b"\r\n\r\n" not in raw or not raw.rstrip().endswith(b"}"):
                    b = s.recv(65536)
                    if not b:
                        break
                    raw += b
            except ConnectionResetError:
                pass
            status, _, body = parse_response(raw)
        finally:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
            sender.join(10)
        self.assertEqual((status, json.loads(body)), (413, TOO_LARGE))
        self.assertLess(self.d.rss_kb() - rss0, 16 << 10, "the body was buffered")
        self.assert_serving()

    def test_chunked_body_over_limit(self):
        # Without Content-Length the size is known only as the body arrives:
        # the excess is dropped, never buffered, and 413 comes at the end.
        rss0 = self.d.rss_kb()
        conn = self.d.conn()
        try:
            piece = b"x" * 65536
            conn.request("POST", "/tag", body=iter([piece] * 64),  # 4 MiB
                         headers={"Content-Type": "text/plain"}, encode_chunked=True)
            r = conn.getresponse()
            self.assertEqual((r.status, json.loads(r.read())), (413, TOO_LARGE))
        finally:
            conn.close()
        self.assertLess(self.d.rss_kb() - rss0, 16 << 10)

    def test_chunked_body_under_limit(self):
        conn = self.d.conn()
        try:
            conn.request("POST", "/tag", body=iter([b"Ky", b"iv"]),
                         headers={"Content-Type": "text/plain"}, encode_chunked=True)
            r = conn.getresponse()
            self.assertEqual((r.status, json.loads(r.read())),
                             (200, {"entities": [KYIV_SPAN], "offsets": "codepoint",
                                    "gazetteers": self.gz_hash}))
        finally:
            conn.close()

    def test_body_exactly_at_limit_accepted_one_over_refused(self):
        body = b"Kyiv" + b" a" * ((LIMIT - 4) // 2)
        self.assertEqual(len(body), LIMIT)
        status, got, _ = self.d.json("POST", "/tag", body)
        self.assertEqual((status, got), (200, {"entities": [KYIV_SPAN], "offsets": "codepoint",
                                               "gazetteers": self.gz_hash}))
        # One byte over: refused from the headers (a client that sends the
        # body anyway may see the connection closed under it).
        status, _, got = parse_response(self.d.send_raw(
            b"POST /tag HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (LIMIT + 1)))
        self.assertEqual((status, json.loads(got)), (413, TOO_LARGE))

    # --- odd bytes -------------------------------------------------------

    def test_nul_bytes(self):
        status, body, _ = self.d.json("POST", "/tag", b"Kyiv\x00Mariupol\x00")
        self.assertEqual(status, 200)
        self.assertEqual([(e["start"], e["end"], e["text"]) for e in body["entities"]],
                         [(0, 4, "Kyiv"), (5, 13, "Mariupol")])
        status, body, _ = self.d.json("POST", "/tag", b"\x00" * 10000)
        self.assertEqual((status, body), (200, {"entities": [], "offsets": "codepoint",
                                                "gazetteers": self.gz_hash}))

    def test_random_bytes_get_correct_answers_or_400(self):
        rng = random.Random(20261125)
        words = ["Kyiv", "Mariupol", "Zürich", "Azov", "😀", " ", "-", "\n", "US", "é"]
        for i in range(300):
            if i % 2:
                raw = bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
            else:  # mostly valid text with a few random bytes in it
                parts = [rng.choice(words).encode() for _ in range(rng.randrange(40))]
                for _ in range(rng.randrange(3)):
                    parts.insert(rng.randrange(len(parts) + 1), bytes([rng.randrange(256)]))
                raw = b"".join(parts)
            status, body, _ = self.d.json("POST", "/tag", raw)
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                self.assertEqual((status, body["error"]["code"], body["error"]["offset"]),
                                 (400, "invalid_utf8", e.start), raw)
                continue
            self.assertEqual(status, 200, raw)
            for ent in body["entities"]:
                self.assertEqual(text[ent["start"]:ent["end"]], ent["text"], raw)
            # The same bytes as JSON and as an NDJSON line: answered, never 5xx.
            status, _, _ = self.d.json("POST", "/tag", b'{"text": "' + raw + b'"}',
                                       {"Content-Type": "application/json"})
            self.assertIn(status, (200, 400))
            status, _, _ = self.d.request("POST", "/tag", raw,
                                          {"Content-Type": "application/x-ndjson"})
            self.assertEqual(status, 200)
        self.assert_serving()

    def test_garbage_requests(self):
        for raw in (b"\x00\x01\x02\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n",
                    b"POST /tag HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
                    b"POST /tag HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"zz\r\nKyiv\r\n0\r\n\r\n",
                    b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\n\r\n"):
            with self.subTest(raw=raw[:40]):
                data = self.d.send_raw(raw, timeout=TIMEOUT + 10)
                if data:
                    self.assertRegex(data, rb"^HTTP/1\.[01] [45]\d\d ")
        self.assert_serving()

    # --- memory ----------------------------------------------------------

    def test_rss_flat_over_10000_requests(self):
        if self.d.uses_asan():
            self.skipTest("ASan's quarantine holds freed memory; leaks are its job there")
        article = ("Zelensky visited Kyiv Oblast and Mariupol near the Sea of Azov. " * 30)
        requests = [
            ("POST", "/tag", article.encode(), {"Content-Type": "text/plain"}),
            ("POST", "/tag?overlaps=all&offsets=utf16", article.encode(), {}),
            ("POST", "/tag", json.dumps({"text": article, "types": ["place"]}).encode(),
             {"Content-Type": "application/json"}),
            ("POST", "/tag", b'{"id":1,"text":"Kyiv"}\nbad\n{"id":2,"text":"Azov"}\n',
             {"Content-Type": "application/x-ndjson"}),
            ("POST", "/tag", b"Kyiv \xff", {}),
            ("POST", "/tag", b"{bad json", {"Content-Type": "application/json"}),
            ("POST", "/tag?types=nosuch", b"Kyiv", {}),
            ("GET", "/health", None, {}),
            ("GET", "/entities/kyiv", None, {}),
            ("GET", "/entities/nope", None, {}),
            ("GET", "/nope", None, {}),
        ]

        def run(n):
            conn = self.d.conn()
            try:
                for i in range(n):
                    method, path, body, headers = requests[i % len(requests)]
                    conn.request(method, path, body=body, headers=headers)
                    r = conn.getresponse()
                    r.read()
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = self.d.conn()
            finally:
                conn.close()

        run(2000)  # warm up: thread buffers and allocator arenas reach their size
        rss0 = self.d.rss_kb()
        run(10000)
        rss1 = self.d.rss_kb()
        self.assertLess(rss1 - rss0, 4096, "RSS grew from %d kB to %d kB" % (rss0, rss1))

    def test_rss_flat_over_max_size_requests_with_huge_answers(self):
        # A 128 KiB text of 26,214 entities answers with 3.5 MB of JSON.
        if self.d.uses_asan():
            self.skipTest("ASan's quarantine holds freed memory; leaks are its job there")
        body = b"Kyiv " * (LIMIT // 40)

        def round_():
            threads = [threading.Thread(target=lambda q=q: self.d.request(
                "POST", "/tag" + q, body)) for q in ("", "?overlaps=all")]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(0.3)  # the heap is trimmed just after the answer is sent

        round_()
        round_()
        rss0 = self.d.rss_kb()
        for _ in range(3):
            round_()
        rss1 = self.d.rss_kb()
        self.assertLess(rss1 - rss0, 16 << 10, "RSS grew from %d kB to %d kB" % (rss0, rss1))


if __name__ == "__main__":
    unittest.main(verbosity=2)
