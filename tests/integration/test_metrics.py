"""GET /metrics (SPEC §4, issue 8) against the real gaztagd: promtool accepts
the exposition, and every counter moves by exactly what the requests made
should move it by.

promtool comes from Debian's prometheus package (`scripts/deps test`
installs it).  Without it that test is skipped, saying so, and this script
exits 77, which meson reports as SKIP: never a pass that checked nothing.

Counts are recorded when libmicrohttpd reports a request complete, which
can be a moment after the client has read the answer; so the expected
values are waited for (briefly), then asserted exactly: a counter that
moved too far fails as surely as one that did not move.

Gazetteers: tests/data/http/gazetteers (people, places, units).
Standard library only.
"""

import calendar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402
from gzharness import GAZETTEERS  # noqa: E402

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# person 1, place 2 (Kyiv Oblast, Mariupol), in 42 bytes.
TEXT = "Zelensky visited Kyiv Oblast and Mariupol."
# Two-byte letters: the byte count is not the character count.
TEXT_UTF8 = "Lech Wałęsa in Zürich."  # person 1, place 1
REQ = "gaztag_http_requests_total"
HIST = "gaztag_http_request_duration_seconds"
BUCKETS = ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
           "0.1", "0.25", "0.5", "1", "2.5", "5", "+Inf"]

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse(text):
    """{(name, ((label, value), ...)): float} of an exposition; label pairs
    sorted.  Checks the shape of every line on the way."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("not a sample line: %r" % line)
        labels = []
        rest = m.group(2) or ""
        pos = 0
        while pos < len(rest):
            lm = LABEL_RE.match(rest, pos)
            if not lm:
                raise AssertionError("bad labels in %r" % line)
            value = re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1),
                           lm.group(2))
            labels.append((lm.group(1), value))
            pos = lm.end()
        key = (m.group(1), tuple(sorted(labels)))
        if key in samples:
            raise AssertionError("sample twice: %r" % line)
        samples[key] = float(m.group(3))
    return samples


def key(name, **labels):
    return (name, tuple(sorted(labels.items())))


class Metrics:
    def __init__(self, samples):
        self.s = samples

    def get(self, name, **labels):
        """The sample's value; 0 for a series not (yet) exposed."""
        return self.s.get(key(name, **labels), 0.0)

    def has(self, name, **labels):
        return key(name, **labels) in self.s


class MetricsCase(gzharness.DaemonTestCase):
    @classmethod
    def setUpClass(cls):
        cls.started_at = time.time()
        super().setUpClass()

    def scrape_text(self):
        status, hdrs, body = self.d.request("GET", "/metrics")
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(hdrs.get("content-type"), CONTENT_TYPE)
        return body.decode("utf-8")

    def scrape(self):
        return Metrics(parse(self.scrape_text()))

    def settled(self):
        """A scrape taken once the counts have stopped moving: two scrapes in
        a row agree on everything but the /metrics requests themselves and
        the process's own numbers."""
        def stable(m):
            return {k: v for k, v in m.s.items()
                    if not k[0].startswith("process_")
                    and k[0] != "gaztag_http_connections_total"
                    and ("endpoint", "/metrics") not in k[1]}
        prev = stable(self.scrape())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.05)
            m = self.scrape()
            if stable(m) == prev:
                return m
            prev = stable(m)
        self.fail("the metrics never settled")

    def assert_deltas(self, before, expected, timeout=10):
        """Waits until every (name, labels) in expected has moved from
        before by at least its delta, then asserts each moved by exactly
        that.  Returns the last scrape."""
        deadline = time.monotonic() + timeout
        while True:
            after = self.scrape()
            moved = {k: after.s.get(k, 0.0) - before.s.get(k, 0.0) for k in expected}
            if all(moved[k] >= expected[k] for k in expected) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        # One more look, after the waiting: a count that goes on moving is
        # as wrong as one that falls short.
        time.sleep(0.1)
        after = self.scrape()
        moved = {k: after.s.get(k, 0.0) - before.s.get(k, 0.0) for k in expected}
        self.assertEqual(moved, expected)
        return after

    def tag(self, text, query="", headers=None):
        status, body, _ = self.d.tag(text, query, headers)
        self.assertEqual(status, 200, body)
        return body


class PromtoolTest(MetricsCase):
    def test_promtool_check_metrics_accepts_the_output(self):
        # Put something in every family first: entities of each type, a
        # histogram with observations, an error code, an unknown path.
        self.tag(TEXT + " Azov Regiment.")
        self.d.json("GET", "/nowhere")
        self.d.json("GET", "/tag")
        promtool = gzharness.need_program("promtool", "prometheus", ["/usr/bin/promtool"])
        self.settled()
        text = self.scrape_text()
        check = subprocess.run([promtool, "check", "metrics"], input=text.encode("utf-8"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual((check.returncode, check.stdout.decode("utf-8", "replace")), (0, ""),
                         "promtool check metrics on:\n" + text)

    def test_every_family_has_help_and_type(self):
        text = self.scrape_text()
        families = {}
        for line in text.splitlines():
            m = re.match(r"# (HELP|TYPE) (\S+) (.*)$", line)
            if m:
                families.setdefault(m.group(2), {})[m.group(1)] = m.group(3)
        expected = {
            "gaztag_build_info": "gauge",
            REQ: "counter",
            "gaztag_http_requests_unanswered_total": "counter",
            HIST: "histogram",
            "gaztag_http_open_connections": "gauge",
            "gaztag_http_connections_total": "counter",
            "gaztag_tagged_bytes_total": "counter",
            "gaztag_tagged_texts_total": "counter",
            "gaztag_entities_total": "counter",
            "gaztag_gazetteer_loaded": "gauge",
            "gaztag_gazetteer_entries": "gauge",
            "gaztag_gazetteer_names": "gauge",
            "gaztag_gazetteer_files": "gauge",
            "gaztag_gazetteers_info": "gauge",
            "gaztag_gazetteer_generation": "gauge",
            "gaztag_reloads_total": "counter",
            "gaztag_reload_last_success_timestamp_seconds": "gauge",
            "process_cpu_seconds_total": "counter",
            "process_resident_memory_bytes": "gauge",
            "process_virtual_memory_bytes": "gauge",
            "process_open_fds": "gauge",
            "process_max_fds": "gauge",
            "process_start_time_seconds": "gauge",
        }
        if "process_max_fds" not in families:  # RLIMIT_NOFILE unlimited
            del expected["process_max_fds"]
        self.assertEqual({f: v.get("TYPE") for f, v in families.items()}, expected)
        for f, v in families.items():
            self.assertTrue(v.get("HELP"), f)

    def test_head_and_methods(self):
        status, hdrs, body = self.d.request("HEAD", "/metrics")
        self.assertEqual((status, hdrs.get("content-type"), body), (200, CONTENT_TYPE, b""))
        status, body, hdrs = self.d.json("POST", "/metrics", b"x", {"Content-Type": "text/plain"})
        self.assertEqual((status, body["error"]["code"], hdrs.get("allow")),
                         (405, "method_not_allowed", "GET, HEAD"))

    def test_build_info_has_the_version(self):
        m = self.scrape()
        self.assertEqual(m.get("gaztag_build_info", version=gzharness.project_version()), 1)


class CountersTest(MetricsCase):
    def test_raw_posts_count_requests_bytes_entities_and_latency(self):
        before = self.settled()
        for _ in range(3):
            self.tag(TEXT)
        n = len(TEXT.encode("utf-8"))
        self.assertEqual(n, 42)
        after = self.assert_deltas(before, {
            key(REQ, endpoint="/tag", code="200"): 3,
            key(REQ, endpoint="/tag", code="400"): 0,
            key(HIST + "_count", endpoint="/tag"): 3,
            key(HIST + "_bucket", endpoint="/tag", le="+Inf"): 3,
            key("gaztag_tagged_bytes_total"): 3 * n,
            key("gaztag_tagged_texts_total"): 3,
            key("gaztag_entities_total", type="person"): 3,
            key("gaztag_entities_total", type="place"): 6,
            key("gaztag_entities_total", type="unit"): 0,
            key(REQ, endpoint="other", code="404"): 0,
        })
        # The time spent is in the sum, and the buckets are cumulative.
        self.assertGreater(after.get(HIST + "_sum", endpoint="/tag"),
                           before.get(HIST + "_sum", endpoint="/tag"))
        counts = [after.get(HIST + "_bucket", endpoint="/tag", le=le) for le in BUCKETS]
        self.assertEqual(counts, sorted(counts))
        self.assertEqual(counts[-1], after.get(HIST + "_count", endpoint="/tag"))

    def test_bytes_are_utf8_bytes_of_the_text(self):
        before = self.settled()
        self.tag(TEXT_UTF8)
        self.assertEqual(len(TEXT_UTF8), 22)
        self.assert_deltas(before, {
            key("gaztag_tagged_bytes_total"): 25,
            key("gaztag_entities_total", type="person"): 1,
            key("gaztag_entities_total", type="place"): 1,
        })

    def test_json_body_counts_the_text_not_the_body(self):
        before = self.settled()
        body = json.dumps({"text": "Azov Regiment and Kiev", "overlaps": "longest"})
        self.tag(body, headers={"Content-Type": "application/json"})
        self.assert_deltas(before, {
            key(REQ, endpoint="/tag", code="200"): 1,
            key("gaztag_tagged_bytes_total"): len("Azov Regiment and Kiev"),
            key("gaztag_tagged_texts_total"): 1,
            key("gaztag_entities_total", type="unit"): 1,
            key("gaztag_entities_total", type="place"): 1,
            key("gaztag_entities_total", type="person"): 0,
        })

    def test_type_filter_counts_what_is_returned(self):
        before = self.settled()
        body = self.tag(TEXT, "?types=person")
        self.assertEqual([e["type"] for e in body["entities"]], ["person"])
        self.assert_deltas(before, {
            key("gaztag_entities_total", type="person"): 1,
            key("gaztag_entities_total", type="place"): 0,
        })

    def test_ndjson_counts_each_good_line(self):
        before = self.settled()
        lines = [json.dumps({"id": 1, "text": TEXT}),
                 "{not json",
                 json.dumps({"id": 2, "text": "Azov Regiment"})]
        status, hdrs, data = self.d.request(
            "POST", "/tag", ("\n".join(lines) + "\n").encode("utf-8"),
            {"Content-Type": "application/x-ndjson"})
        self.assertEqual(status, 200, data)
        self.assertEqual(len(data.decode().splitlines()), 3)
        self.assert_deltas(before, {
            key(REQ, endpoint="/tag", code="200"): 1,
            key("gaztag_tagged_texts_total"): 2,
            key("gaztag_tagged_bytes_total"): len(TEXT) + len("Azov Regiment"),
            key("gaztag_entities_total", type="person"): 1,
            key("gaztag_entities_total", type="place"): 2,
            key("gaztag_entities_total", type="unit"): 1,
        })

    def test_errors_are_counted_by_code_and_tag_nothing(self):
        before = self.settled()
        # invalid UTF-8 in the text, a bad parameter, an unsupported type
        status, _, _ = self.d.tag(b"Kyiv \xff", headers={"Content-Type": "text/plain"})
        self.assertEqual(status, 400)
        status, _, _ = self.d.tag(TEXT, "?overlaps=some")
        self.assertEqual(status, 400)
        status, _, _ = self.d.tag(TEXT, headers={"Content-Type": "image/png"})
        self.assertEqual(status, 415)
        status, _, _ = self.d.json("GET", "/tag")
        self.assertEqual(status, 405)
        status, _, _ = self.d.json("GET", "/no/such/path")
        self.assertEqual(status, 404)
        status, _, _ = self.d.json("GET", "/entities/nobody")
        self.assertEqual(status, 404)
        self.assert_deltas(before, {
            key(REQ, endpoint="/tag", code="200"): 0,
            key(REQ, endpoint="/tag", code="400"): 2,
            key(REQ, endpoint="/tag", code="415"): 1,
            key(REQ, endpoint="/tag", code="405"): 1,
            key(REQ, endpoint="other", code="404"): 1,
            key(REQ, endpoint="/entities", code="404"): 1,
            key(HIST + "_count", endpoint="/tag"): 4,
            key(HIST + "_count", endpoint="other"): 1,
            key("gaztag_tagged_bytes_total"): 0,
            key("gaztag_tagged_texts_total"): 0,
            key("gaztag_entities_total", type="place"): 0,
        })

    def test_other_endpoints_are_counted(self):
        before = self.settled()
        for path in ("/health", "/health", "/gazetteers", "/entities/kyiv"):
            status, _, _ = self.d.json("GET", path)
            self.assertEqual(status, 200)
        status, _, _ = self.d.request("GET", "/")
        self.assertEqual(status, 200)
        self.assert_deltas(before, {
            key(REQ, endpoint="/health", code="200"): 2,
            key(REQ, endpoint="/gazetteers", code="200"): 1,
            key(REQ, endpoint="/entities", code="200"): 1,
            key(REQ, endpoint="/", code="200"): 1,
            key(HIST + "_count", endpoint="/health"): 2,
            key(REQ, endpoint="/tag", code="200"): 0,
        })

    def test_the_scrape_counts_itself_afterwards(self):
        before = self.settled()
        after = self.assert_deltas(before, {})
        # settled() and assert_deltas() scraped; each scrape is counted once
        # it has ended, so a scrape sees the ones before it, never itself.
        self.assertGreaterEqual(after.get(REQ, endpoint="/metrics", code="200"),
                                before.get(REQ, endpoint="/metrics", code="200") + 2)

    def test_open_connections(self):
        # Only the scrape's own connection is open.
        self.wait_gauge("gaztag_http_open_connections", 1)
        conns = [self.d.conn() for _ in range(3)]
        try:
            for c in conns:  # keep-alive: each stays open after its answer
                status, _, _ = self.d.request("GET", "/health", conn=c)
                self.assertEqual(status, 200)
            self.wait_gauge("gaztag_http_open_connections", 4)
        finally:
            for c in conns:
                c.close()
        self.wait_gauge("gaztag_http_open_connections", 1)
        m = self.scrape()
        self.assertGreaterEqual(m.get("gaztag_http_connections_total"), 4)

    def wait_gauge(self, name, value, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            got = self.scrape().get(name)
            if got == value or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(got, value, name)


class GaugesTest(MetricsCase):
    def test_gauges_match_health(self):
        status, health, _ = self.d.json("GET", "/health")
        self.assertEqual(status, 200)
        m = self.scrape()
        self.assertEqual(m.get("gaztag_gazetteer_loaded"), 1)
        self.assertEqual(m.get("gaztag_gazetteer_entries"), health["entries"])
        self.assertEqual(m.get("gaztag_gazetteer_names"), health["names"])
        self.assertEqual(m.get("gaztag_gazetteer_files"), health["files"])
        # the content hash, build-info style: one series, its label /health's hash
        info = [k for k in m.s if k[0] == "gaztag_gazetteers_info"]
        self.assertEqual(info, [("gaztag_gazetteers_info", (("hash", health["gazetteers"]),))])
        self.assertEqual(m.get("gaztag_gazetteers_info", hash=health["gazetteers"]), 1)
        self.assertEqual((health["entries"], health["names"], health["files"]), (10, 16, 3))
        self.assertEqual(m.get("gaztag_gazetteer_generation"), health["generation"])
        loaded = calendar.timegm(time.strptime(health["loaded_at"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertEqual(int(m.get("gaztag_reload_last_success_timestamp_seconds")), loaded)
        # The first load counts as a successful one.
        self.assertEqual(m.get("gaztag_reloads_total", outcome="ok"), 1)
        self.assertEqual(m.get("gaztag_reloads_total", outcome="failed"), 0)

    def test_entity_types_of_the_set_are_listed_from_the_start(self):
        m = self.scrape()
        for t in ("person", "place", "unit"):
            self.assertTrue(m.has("gaztag_entities_total", type=t), t)

    def test_process_basics(self):
        m = self.scrape()
        start = m.get("process_start_time_seconds")
        self.assertLessEqual(abs(start - self.started_at), 5, (start, self.started_at))
        with open("/proc/%d/statm" % self.d.proc.pid) as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        got = m.get("process_resident_memory_bytes")
        self.assertLess(abs(got - rss), rss * 0.25, (got, rss))
        fds = len(os.listdir("/proc/%d/fd" % self.d.proc.pid))
        self.assertLess(abs(m.get("process_open_fds") - fds), 4)
        self.assertGreater(m.get("process_cpu_seconds_total"), 0)


class ReloadsTest(MetricsCase):
    """Reloads by outcome, through SIGHUP, on a copy of the gazetteers that
    the test breaks and mends (with the watcher off, so that only the
    signals reload)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gztest-metrics-")
        cls.gaz = os.path.join(cls.dir, "gazetteers")
        shutil.copytree(GAZETTEERS, cls.gaz)
        cls.daemon_kwargs = {"gazetteers": (cls.gaz,), "config": {"watch": False}}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.dir, ignore_errors=True)

    def test_reloads_by_outcome_and_last_success_time(self):
        before = self.settled()
        t0 = before.get("gaztag_reload_last_success_timestamp_seconds")
        self.assertGreater(t0, 0)
        time.sleep(1.1)  # a later load shows a later time
        self.d.proc.send_signal(signal.SIGHUP)
        ok = self.assert_deltas(before, {
            key("gaztag_reloads_total", outcome="ok"): 1,
            key("gaztag_reloads_total", outcome="failed"): 0,
            key("gaztag_gazetteer_generation"): 1,
        })
        t1 = ok.get("gaztag_reload_last_success_timestamp_seconds")
        self.assertGreater(t1, t0)

        units = os.path.join(self.gaz, "units.yaml")
        with open(units, encoding="utf-8") as f:
            good = f.read()
        try:
            with open(os.path.join(self.gaz, "extra.yaml"), "w", encoding="utf-8") as f:
                f.write("type: ship\nentries:\n  - id: moskva\n    name: Moskva\n")
            with open(units, "w", encoding="utf-8") as f:
                f.write("type: unit\nentries:\n  - id: [broken\n")
            self.d.proc.send_signal(signal.SIGHUP)
            failed = self.assert_deltas(ok, {
                key("gaztag_reloads_total", outcome="ok"): 0,
                key("gaztag_reloads_total", outcome="failed"): 1,
                key("gaztag_gazetteer_generation"): 0,
                key("gaztag_gazetteer_entries"): 0,
            })
            # The set in service is still the old one, loaded at t1.
            self.assertEqual(failed.get("gaztag_reload_last_success_timestamp_seconds"), t1)
            self.assertFalse(failed.has("gaztag_entities_total", type="ship"))
        finally:
            with open(units, "w", encoding="utf-8") as f:
                f.write(good)
        self.d.proc.send_signal(signal.SIGHUP)
        mended = self.assert_deltas(failed, {
            key("gaztag_reloads_total", outcome="ok"): 1,
            key("gaztag_reloads_total", outcome="failed"): 0,
            key("gaztag_gazetteer_generation"): 1,
            key("gaztag_gazetteer_entries"): 1,  # Moskva
        })
        # A type new with the reload is listed at once, at 0, then counts.
        self.assertEqual(mended.get("gaztag_entities_total", type="ship"), 0)
        self.assertTrue(mended.has("gaztag_entities_total", type="ship"))
        body = self.tag("The cruiser Moskva sank.")
        self.assertEqual([e["id"] for e in body["entities"]], ["moskva"])
        self.assert_deltas(mended, {key("gaztag_entities_total", type="ship"): 1})


if __name__ == "__main__":
    gzharness.main()
