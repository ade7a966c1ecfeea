"""Answers that stream (issue 14), through the real gaztagd:

- POST /tag with an NDJSON body whose answer is bigger than one piece comes
  back chunked, and byte for byte what the same lines give one request at a
  time (each answered whole, with a Content-Length);
- a client that stops reading in the middle of a streamed answer stalls no
  one else, is cut at the idle timeout, and leaves nothing in flight;
- `gaztagd --tag - --ndjson` answers line by line (a line in, its answer out,
  before the next line is written) and gives the daemon's bytes;
- one big text (raw or JSON body) streams too, and `gaztagd --tag FILE`
  writes an answer of many pieces with the daemon's bytes.

Texts are generated here from a few sentences written for this test."""

import json
import os
import select
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gzharness import GAZETTEERS, Daemon, DaemonTestCase, gaztagd_path  # noqa: E402

SENTENCES = [
    "Zelensky spoke in Kyiv on {n} occasions this spring.",
    "The Azov Regiment held Mariupol for {n} days, officials in Kiev said.",
    "Lech Wałęsa visited Zürich, then Saint Petersburg, {n} times.",
    "Nothing here names anyone at all; line {n} is quiet.",
    "Ships on the Sea of Azov waited {n} hours near Mariupol.",
]


def ndjson_lines(count):
    lines = []
    for i in range(count):
        text = " ".join(SENTENCES[(i + k) % len(SENTENCES)].format(n=i + k) for k in range(4))
        lines.append(json.dumps({"id": i, "text": text}, ensure_ascii=False))
    return lines


def ndjson_body(lines):
    return ("\n".join(lines) + "\n").encode("utf-8")


class StreamingHttpTest(DaemonTestCase):

    def post_ndjson(self, body):
        return self.d.request("POST", "/tag", body, {"Content-Type": "application/x-ndjson"})

    def test_streamed_equals_line_by_line(self):
        lines = ndjson_lines(3000)
        status, hdrs, streamed = self.post_ndjson(ndjson_body(lines))
        self.assertEqual(status, 200)
        # big enough to stream: chunked, no Content-Length
        self.assertEqual(hdrs.get("transfer-encoding"), "chunked")
        self.assertNotIn("content-length", hdrs)
        self.assertEqual(hdrs["content-type"], "application/x-ndjson; charset=utf-8")
        one_by_one = []
        conn = self.d.conn()
        try:
            for line in lines:
                st, h, body = self.d.request("POST", "/tag", (line + "\n").encode("utf-8"),
                                             {"Content-Type": "application/x-ndjson"}, conn=conn)
                self.assertEqual(st, 200)
                self.assertEqual(h.get("content-length"), str(len(body)))
                one_by_one.append(body)
        finally:
            conn.close()
        self.assertEqual(streamed, b"".join(one_by_one))
        answers = [json.loads(a) for a in streamed.decode("utf-8").splitlines()]
        self.assertEqual([a["id"] for a in answers], list(range(3000)))
        self.assertEqual([e["id"] for e in answers[1]["entities"]][:3],
                         ["azov-regiment", "mariupol", "kyiv"])

    def test_streamed_keeps_bad_lines_and_options(self):
        lines = ndjson_lines(2000)
        lines[5] = '{"id": "bad", "text": 5}'
        lines[6] = '{"id": "u16", "text": "Zürich and Kyiv", "offsets": "utf16", "types": ["place"]}'
        lines.insert(7, "   ")
        status, hdrs, body = self.post_ndjson(ndjson_body(lines))
        self.assertEqual((status, hdrs.get("transfer-encoding")), (200, "chunked"))
        answers = [json.loads(a) for a in body.decode("utf-8").splitlines()]
        self.assertEqual(len(answers), 2000)  # the blank line has no answer
        self.assertEqual(answers[5], {"id": "bad", "error": {
            "code": "bad_parameter", "message": '"text" must be a string'}})
        self.assertEqual(answers[6]["entities"][1]["start"], 11)
        self.assertEqual(answers[7]["id"], 7)

    def test_empty_and_small_bodies_are_answered_whole(self):
        status, hdrs, body = self.post_ndjson(b"\n \n")
        self.assertEqual((status, hdrs.get("content-length"), body), (200, "0", b""))
        status, hdrs, body = self.post_ndjson(ndjson_body(ndjson_lines(3)))
        self.assertEqual((status, hdrs.get("content-length")), (200, str(len(body))))
        self.assertEqual(len(body.splitlines()), 3)


class StalledReaderTest(unittest.TestCase):
    """A client that stops reading a streamed answer."""

    def test_stalled_reader_stalls_no_one_and_is_cut(self):
        d = Daemon(config={"connection_timeout": 3, "threads": 2}, args=["--log-level", "debug"])
        try:
            body = ndjson_body(ndjson_lines(20000))  # an answer of about 13 MB
            s = d.raw_socket(timeout=30)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(("POST /tag HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                       "Content-Length: %d\r\n\r\n" % len(body)).encode() + body)
            head = b""
            while b"\r\n\r\n" not in head:
                head += s.recv(4096)
            self.assertTrue(head.startswith(b"HTTP/1.1 200 OK"), head[:100])
            self.assertIn(b"Transfer-Encoding: chunked", head)
            # ...and now it reads nothing more.  Others are served meanwhile,
            # by every worker (several connections, several requests each).
            for _ in range(3):
                conns = [d.conn() for _ in range(4)]
                for c in conns:
                    st, _, b = d.request("POST", "/tag", b"Kyiv", {"Content-Type": "text/plain"},
                                         conn=c)
                    self.assertEqual((st, json.loads(b)["entities"][0]["id"]), (200, "kyiv"))
                for c in conns:
                    c.close()
            # The idle timeout (3 s) ends the stalled answer, which the
            # access log then shows as aborted; the client is still there.
            line = d.wait_log("POST /tag 200 %d bytes in" % len(body), 60)
            self.assertIsNotNone(line, d.log())
            self.assertTrue(line.endswith("(aborted)"), line)
            s.close()
            st, _, b = d.request("POST", "/tag", b"Zelensky", {"Content-Type": "text/plain"})
            self.assertEqual(st, 200)
        finally:
            rc = d.stop()
        log = d.log()
        self.assertEqual(rc, 0, log)  # LeakSanitizer's exit status when built with it
        self.assertNotIn("still in flight", log)

    def test_reader_that_goes_away(self):
        d = Daemon(config={"threads": 1})
        try:
            body = ndjson_body(ndjson_lines(20000))
            for _ in range(3):
                s = d.raw_socket(timeout=30)
                s.sendall(("POST /tag HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson"
                           "\r\nContent-Length: %d\r\n\r\n" % len(body)).encode() + body)
                self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 200 OK"))
                s.close()
            st, _, b = d.request("POST", "/tag", b"Kyiv", {"Content-Type": "text/plain"})
            self.assertEqual(st, 200)
        finally:
            rc = d.stop()
        self.assertEqual(rc, 0, d.log())
        self.assertNotIn("still in flight", d.log())


class CommandLineTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def cli(self, *args, stdin=None):
        return subprocess.run([gaztagd_path(), "--gazetteers", GAZETTEERS] + list(args),
                              input=stdin, capture_output=True, timeout=120)

    def test_tag_ndjson_equals_the_daemon(self):
        lines = ndjson_lines(1500)
        lines[3] = "not json"
        body = ndjson_body(lines)
        _, _, http_answer = self.d.request("POST", "/tag", body,
                                           {"Content-Type": "application/x-ndjson"})
        r = self.cli("--tag", "-", "--ndjson", stdin=body)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        self.assertEqual(r.stdout, http_answer)
        with tempfile.NamedTemporaryFile(suffix=".ndjson") as f:
            f.write(body[:-1])  # no newline after the last line
            f.flush()
            r = self.cli("--tag", f.name, "--ndjson")
        self.assertEqual(r.stdout, http_answer)
        self.assertEqual(json.loads(r.stdout.splitlines()[3])["error"]["code"], "bad_json")

    def test_tag_ndjson_line_in_line_out(self):
        p = subprocess.Popen([gaztagd_path(), "--gazetteers", GAZETTEERS, "--tag", "-",
                              "--ndjson", "--types", "place"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        try:
            for i, text in enumerate(["Kyiv and Zelensky", "Zürich", "nothing"]):
                p.stdin.write((json.dumps({"id": i, "text": text}) + "\n").encode())
                p.stdin.flush()
                # the answer comes while stdin is still open
                ready, _, _ = select.select([p.stdout], [], [], 60)
                self.assertTrue(ready, "no answer to line %d" % i)
                got = json.loads(p.stdout.readline())
                self.assertEqual(got["id"], i)
                self.assertEqual([e["id"] for e in got["entities"]],
                                 [["kyiv"], ["zurich"], []][i])
            p.stdin.close()
            self.assertEqual(p.stdout.read(), b"")
            self.assertEqual(p.wait(60), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()

    def test_tag_file_in_many_pieces(self):
        text = " ".join(SENTENCES[k % len(SENTENCES)].format(n=k) for k in range(8000))
        with tempfile.NamedTemporaryFile(suffix=".txt") as f:
            f.write(text.encode("utf-8"))
            f.flush()
            r = self.cli("--tag", f.name, "--offsets", "utf16")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertGreater(len(r.stdout), 1 << 20)  # several pieces of 256 KB
        _, hdrs, http_answer = self.d.request("POST", "/tag?offsets=utf16", text.encode("utf-8"),
                                              {"Content-Type": "text/plain"})
        self.assertEqual(hdrs.get("transfer-encoding"), "chunked")  # one text streams too
        self.assertEqual(r.stdout, http_answer)
        body = json.dumps({"text": text, "offsets": "utf16"}).encode("utf-8")
        _, hdrs, json_answer = self.d.request("POST", "/tag", body,
                                              {"Content-Type": "application/json"})
        self.assertEqual((hdrs.get("transfer-encoding"), json_answer), ("chunked", http_answer))
        r = self.cli("--tag", "-", stdin=text.encode("utf-8"))
        self.assertEqual(json.loads(r.stdout)["offsets"], "codepoint")

    def test_ndjson_needs_tag(self):
        r = self.cli("--ndjson")
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"--ndjson goes with --tag", r.stderr)


if __name__ == "__main__":
    unittest.main()
