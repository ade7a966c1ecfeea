"""Snapshots (gaztagd --compile, a .gzs in --gazetteers) and the snapshot
cache (config `cache: DIR`), end to end against the real gaztagd:

- a daemon on a compiled snapshot of the shipped gazetteers answers every
  endpoint byte for byte as one on their YAML does, and so does --tag;
- a truncated, corrupted, wrong-version, empty or foreign .gzs, or one named
  with other gazetteers, stops the start with exit 1 and the exact message;
- the cache: built and written on the first start, mapped on a restart,
  built again after an edit, a corrupted cache file rebuilt (never
  trusted), at most two snapshots kept;
- reloads mapped from the cache while clients tag: no failed request, every
  answer whole from one set or the other;
- --compile of a bad gazetteer or to an unwritable path: exit 1, no file.

Standard library only.
"""

import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402

SHIPPED = os.path.join(gzharness.SOURCE_ROOT, "gazetteers")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
CACHE_FILE = re.compile(r"^[0-9a-f]{32}\.gzs$")

BUILT = "gazetteers built from YAML (writing it to the cache)"
WROTE = "gaztagd: cache: wrote "

MAPPED = "gazetteers mapped from the cache"


class TaggingClients:
    """n clients, each on its own connection, POSTing text to daemon d
    until stop(); every answer must pass ok(status, body).  stop() returns
    (failures, counts): what went wrong, and how many answers each got."""

    def __init__(self, d, n, text, ok):
        self.d, self.text, self.ok = d, text.encode(), ok
        self.stopping = threading.Event()
        self.failures, self.counts = [], []
        self.threads = [threading.Thread(target=self.client) for _ in range(n)]
        for t in self.threads:
            t.start()

    def client(self):
        c = self.d.conn(timeout=20)
        n = 0
        try:
            while not self.stopping.is_set():
                try:
                    status, _, data = self.d.request("POST", "/tag", self.text,
                                                     {"Content-Type": "text/plain"}, conn=c)
                    body = json.loads(data)
                except Exception as e:  # noqa: BLE001 - every failure counts
                    self.failures.append("request: %r" % e)
                    return
                if not self.ok(status, body):
                    self.failures.append("%d %r" % (status, body))
                    return
                n += 1
        finally:
            c.close()
            self.counts.append(n)

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(30)
        return self.failures, self.counts


def wait_count(tc, d, text, n):
    """Waits until daemon d's log holds text n times."""
    deadline = time.monotonic() + 30
    while d.log().count(text) < n and time.monotonic() < deadline:
        time.sleep(0.02)
    tc.assertEqual(d.log().count(text), n, d.log())


def wait_wrote(tc, d, n):
    """Waits until daemon d has logged n cache writes (they run in the
    background, after the set went into service)."""
    wait_count(tc, d, WROTE, n)

# News-like texts naming entries of the shipped gazetteers.
TEXTS = [
    "President Volodymyr Zelensky met NATO leaders in Kyiv on Tuesday, "
    "while Vladimir Putin spoke in Moscow.",
    "Russian forces shelled Kharkiv and Pokrovsk overnight; the Azov brigade "
    "and the 3rd Separate Assault Brigade held their positions.",
    "Donald Trump called Zelenskyy and Yermak after the United Nations "
    "Security Council met in New York.",
    # ambiguous: the country or the US state, and shared surnames
    "Georgia's prime minister flew to Atlanta, Georgia, and then to Tbilisi.",
    # Cyrillic and accents: codepoint, utf16 and byte offsets differ
    "Зеленський і Єрмак прибули до Києва. Wołodymyr Zełenski 🇺🇦 in Kyiv.",
    "Nothing to see here.",
]
QUERIES = ["", "?offsets=utf16", "?offsets=byte", "?overlaps=all", "?explain=true",
           "?types=person", "?types=place,unit&offsets=utf16",
           "?overlaps=all&explain=true&offsets=byte"]
HTML_PAGE = ("<!doctype html><html><head><title>Kyiv news</title></head><body>"
             "<h1>Zelensky in Kharkiv</h1><p>NATO &amp; the <b>Azov</b> brigade met "
             "Putin&#39;s envoys near Pokrovsk.</p><script>Kyiv</script></body></html>")
ENTITY_IDS = ["volodymyr-zelensky", "vladimir-putin", "kyiv", "kharkiv", "nato",
              "georgia", "georgia-us-state", "pokrovsk"]
LOOKUPS = ["Kyiv", "Zelensky", "Georgia", "NATO", "Azov", "nowhere at all"]


def gaztagd(*args, input=None, cwd=None):
    """(exit status, stdout, stderr text) of gaztagd run with args."""
    p = subprocess.run([gzharness.gaztagd_path(), *args], input=input, capture_output=True,
                       timeout=120, cwd=cwd)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def assert_no_crash(tc, rc, err):
    """A clean exit: not a signal, no sanitizer report."""
    tc.assertGreaterEqual(rc, 0, err)
    tc.assertNotIn("Sanitizer", err)
    tc.assertNotIn("runtime error", err)


def compile_snapshot(out, *gazetteers):
    """gaztagd --compile out; its summary line.  A "--cache", DIR pair among
    gazetteers is passed as it is."""
    args, rest = [], list(gazetteers)
    while rest:
        g = rest.pop(0)
        args += [g, rest.pop(0)] if g == "--cache" else ["--gazetteers", g]
    rc, _, err = gaztagd("--compile", out, *args)
    if rc != 0:
        raise AssertionError("gaztagd --compile %s: exit %d\n%s" % (out, rc, err))
    return err


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def without(d, *keys):
    return {k: v for k, v in d.items() if k not in keys}


class SnapshotAnswersEqualTest(unittest.TestCase):
    """One daemon on the shipped YAML, one on their compiled snapshot."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gzsnap-")
        cls.gzs = os.path.join(cls.tmp, "shipped.gzs")
        # the same path string as the YAML daemon's: the snapshot records it
        cls.compile_log = compile_snapshot(cls.gzs, SHIPPED)
        cls.yaml = gzharness.Daemon(gazetteers=(SHIPPED,), config={"watch": False})
        cls.snap = gzharness.Daemon(gazetteers=(cls.gzs,), config={"watch": False})

    @classmethod
    def tearDownClass(cls):
        try:
            for d in (cls.yaml, cls.snap):
                rc = d.stop()
                if rc != 0:
                    raise AssertionError("gaztagd exited %r:\n%s" % (rc, d.log()))
        finally:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def both(self, method, path, body=None, headers=None):
        a = self.yaml.request(method, path, body, headers)
        b = self.snap.request(method, path, body, headers)
        return a, b

    def assert_same(self, method, path, body=None, headers=None, status=200):
        """Both daemons answer alike, byte for byte; the answer's bytes."""
        (sa, _, a), (sb, _, b) = self.both(method, path, body, headers)
        self.assertEqual((sa, a), (status, b), "%s %s %r" % (method, path, body))
        self.assertEqual(sb, status)
        return a

    def test_compile_summary_line(self):
        st = os.stat(self.gzs)
        self.assertRegex(self.compile_log,
                         r"^gaztagd: compiled \d+ entries, \d+ names from 4 files into %s "
                         r"\([0-9.]+ MB, gazetteers [0-9a-f]{32}\) in [0-9.]+ s \+ [0-9.]+ s "
                         r"to write\n$" % re.escape(self.gzs))
        self.assertGreater(st.st_size, 0)
        self.assertIn("gazetteers %s)" % self.yaml.gazetteers_hash(), self.compile_log)
        # no temporary file left beside it
        self.assertEqual(os.listdir(self.tmp), ["shipped.gzs"])

    def test_snapshot_daemon_says_mapped(self):
        self.assertIsNotNone(self.snap.wait_log("gaztagd: gazetteers mapped from their "
                                                "snapshot in ", 1), self.snap.log())

    def test_health_equal(self):
        _, a, _ = self.yaml.json("GET", "/health")
        _, b, _ = self.snap.json("GET", "/health")
        self.assertRegex(a["gazetteers"], HEX32)
        self.assertEqual(without(a, "loaded_at", "load_seconds"),
                         without(b, "loaded_at", "load_seconds"))
        self.assertEqual(a["files"], 4)
        self.assertGreater(a["entries"], 2000)

    def test_gazetteers_equal(self):
        _, a, _ = self.yaml.json("GET", "/gazetteers")
        _, b, _ = self.snap.json("GET", "/gazetteers")
        self.assertEqual(without(a, "loaded_at", "load_seconds"),
                         without(b, "loaded_at", "load_seconds"))
        self.assertEqual([g["path"] for g in b["gazetteers"]],
                         [os.path.join(SHIPPED, n) for n in
                          ("orgs.yaml", "people.yaml", "places.yaml", "units.yaml")])

    def test_metrics_info_equal(self):
        info = []
        for d in (self.yaml, self.snap):
            _, _, data = d.request("GET", "/metrics")
            info.append([x for x in data.decode().splitlines()
                         if x.startswith("gaztag_gazetteers_info")])
        self.assertEqual(info[0], ['gaztag_gazetteers_info{hash="%s"} 1'
                                   % self.yaml.gazetteers_hash()])
        self.assertEqual(info[0], info[1])

    def test_tag_texts_byte_identical(self):
        h = self.yaml.gazetteers_hash()
        for text in TEXTS:
            for q in QUERIES:
                body = json.loads(self.assert_same("POST", "/tag" + q, text.encode(),
                                                   {"Content-Type": "text/plain"}))
                self.assertEqual(body["gazetteers"], h)
        # a known span, exactly
        body = json.loads(self.assert_same("POST", "/tag?types=person", TEXTS[0].encode()))
        z, p = TEXTS[0].index("Volodymyr Zelensky"), TEXTS[0].index("Vladimir Putin")
        self.assertEqual([(e["start"], e["end"], e["id"]) for e in body["entities"]],
                         [(z, z + 18, "volodymyr-zelensky"), (p, p + 14, "vladimir-putin")])
        # offsets in UTF-16 units and bytes past non-ASCII text
        text = TEXTS[4]
        k = text.index("Kyiv")
        for q, start in (("", k), ("?offsets=utf16", len(text[:k].encode("utf-16-le")) // 2),
                         ("?offsets=byte", len(text[:k].encode()))):
            body = json.loads(self.assert_same("POST", "/tag" + q, text.encode()))
            self.assertIn({"start": start, "end": start + 4, "id": "kyiv"},
                          [{x: e[x] for x in ("start", "end", "id")} for e in body["entities"]])

    def test_tag_json_ndjson_html_identical(self):
        self.assert_same("POST", "/tag", json.dumps({"text": TEXTS[1], "overlaps": "all"}),
                         {"Content-Type": "application/json"})
        nd = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(TEXTS))
        nd += '{"id": 99}\n'  # an error line, alike in both
        data = self.assert_same("POST", "/tag", nd.encode(),
                                {"Content-Type": "application/x-ndjson"})
        lines = data.decode().splitlines()
        self.assertEqual(len(lines), len(TEXTS) + 1)
        self.assertIn("error", json.loads(lines[-1]))
        body = json.loads(self.assert_same("POST", "/tag?format=html&annotate=true",
                                           HTML_PAGE.encode(), {"Content-Type": "text/html"}))
        self.assertIn("html", body)
        self.assertIn("kharkiv", [e["id"] for e in body["entities"]])
        self.assert_same("POST", "/tag?explain=true&overlaps=all", HTML_PAGE.encode(),
                         {"Content-Type": "text/html"})

    def test_entities_and_lookup_identical(self):
        for eid in ENTITY_IDS:
            body = json.loads(self.assert_same("GET", "/entities/" + eid))
            self.assertEqual(body["id"], eid)
        self.assert_same("GET", "/entities/no-such-id", status=404)
        for text in LOOKUPS:
            self.assert_same("GET", "/lookup?text=" + urllib.parse.quote(text))

    def test_offline_tag_identical(self):
        for args in ([], ["--offsets", "utf16"], ["--overlaps", "all", "--explain"],
                     ["--types", "person,place"]):
            text = "\n".join(TEXTS).encode()
            ra, a, ea = gaztagd("--tag", "-", "--gazetteers", SHIPPED, *args, input=text)
            rb, b, eb = gaztagd("--tag", "-", "--gazetteers", self.gzs, *args, input=text)
            self.assertEqual((ra, rb), (0, 0), ea + eb)
            self.assertEqual(a, b, args)
            self.assertEqual(json.loads(a)["gazetteers"], self.yaml.gazetteers_hash())
        # and --tag on the snapshot equals POST /tag on it
        _, _, served = self.snap.request("POST", "/tag", TEXTS[0].encode())
        _, out, _ = gaztagd("--tag", "-", "--gazetteers", self.gzs, input=TEXTS[0].encode())
        self.assertEqual(out.rstrip(b"\n"), served.rstrip(b"\n"))
        ra, a, _ = gaztagd("--lookup", "Kyiv", "--gazetteers", SHIPPED)
        rb, b, _ = gaztagd("--lookup", "Kyiv", "--gazetteers", self.gzs)
        self.assertEqual((ra, rb, a), (0, 0, b))
        rc, _, err = gaztagd("--check", "--gazetteers", self.gzs)
        self.assertEqual(rc, 0, err)
        self.assertIn("gaztagd: ok: 4 files, ", err)


class BadSnapshotTest(unittest.TestCase):
    """A bad .gzs stops the start: exit 1, the exact message, no crash."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gzsnapbad-")
        cls.good = os.path.join(cls.tmp, "good.gzs")
        compile_snapshot(cls.good, gzharness.GAZETTEERS)
        cls.image = read(cls.good)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start_fails(self, gazetteers, message, extra_first=None):
        """Starts a daemon on gazetteers, which must exit 1 saying message
        (alone on a line, then after "cannot start: "); --check too."""
        d = gzharness.Daemon(gazetteers=gazetteers, config={"watch": False},
                             wait_listen=False)
        rc = d.wait_exit(20)
        log = d.log()
        d.kill()
        self.assertEqual(rc, 1, log)
        assert_no_crash(self, rc, log)
        lines = log.splitlines()
        self.assertIn(extra_first or message, lines)
        self.assertIn("gaztagd: error: cannot start: " + message, lines)
        self.assertNotIn("ready", log)
        args = [a for g in gazetteers for a in ("--gazetteers", g)]
        rc, _, err = gaztagd("--check", *args)
        self.assertEqual(rc, 1, err)
        assert_no_crash(self, rc, err)
        self.assertEqual(err, "%s\ngaztagd: 1 problem found\n" % (extra_first or message))
        rc, out, err = gaztagd("--tag", "-", *args, input=b"Kyiv")
        self.assertEqual((rc, out), (1, b""), err)
        assert_no_crash(self, rc, err)

    def bad(self, name, data):
        path = os.path.join(self.tmp, name)
        write(path, data)
        return path

    def test_good_one_starts(self):
        d = gzharness.Daemon(gazetteers=(self.good,), config={"watch": False})
        try:
            status, body, _ = d.tag("Kyiv")
            self.assertEqual((status, body["entities"]), (200, [gzharness.KYIV_SPAN]))
        finally:
            self.assertEqual(d.stop(), 0, d.log())

    def test_truncated(self):
        n = len(self.image)
        for keep in (4, 10, 100, 639):
            p = self.bad("cut%d.gzs" % keep, self.image[:keep])
            with self.subTest(keep=keep):
                if keep < 8:
                    self.start_fails((p,), "%s: not a gaztag snapshot (no GZSNAP magic at its "
                                     "start)" % p)
                else:
                    self.start_fails((p,), "%s: truncated: %d bytes, less than a header"
                                     % (p, keep))
        for keep in (640, n // 2, n - 1, n + 1):
            data = self.image[:keep] if keep <= n else self.image + b"\0"
            p = self.bad("cut%d.gzs" % keep, data)
            with self.subTest(keep=keep):
                self.start_fails((p,), "%s: truncated or extended: its header says %d bytes, "
                                 "the file has %d" % (p, n, keep))

    def test_flipped_byte(self):
        for at in (len(self.image) // 2, len(self.image) - 1, 700):
            data = bytearray(self.image)
            data[at] ^= 0x20
            p = self.bad("flip%d.gzs" % at, bytes(data))
            with self.subTest(at=at):
                self.start_fails((p,), "%s: checksum mismatch: the file is corrupted" % p)

    def test_wrong_version(self):
        data = bytearray(self.image)
        version = int.from_bytes(data[8:12], "little")
        data[8:12] = (version + 1).to_bytes(4, "little")
        p = self.bad("v%d.gzs" % (version + 1), bytes(data))
        self.start_fails((p,), "%s: snapshot format version %d, this gaztagd reads version %d: "
                         "compile it again with gaztagd --compile" % (p, version + 1, version))

    def test_not_a_snapshot(self):
        yaml = read(os.path.join(gzharness.GAZETTEERS, os.listdir(gzharness.GAZETTEERS)[0]))
        p = self.bad("places.gzs", yaml)
        self.start_fails((p,), "%s: not a gaztag snapshot (no GZSNAP magic at its start)" % p)

    def test_empty(self):
        p = self.bad("empty.gzs", b"")
        self.start_fails((p,), "%s: empty file, not a gaztag snapshot" % p)

    def test_missing(self):
        p = os.path.join(self.tmp, "missing.gzs")
        self.start_fails((p,), "%s: cannot open: No such file or directory" % p)

    def test_with_another_gazetteer(self):
        for gz in ((self.good, gzharness.GAZETTEERS), (gzharness.GAZETTEERS, self.good)):
            with self.subTest(order=gz):
                self.start_fails(gz, "a snapshot (.gzs) is loaded alone",
                                 extra_first="%s: a snapshot (.gzs) is loaded alone, not with "
                                 "other gazetteers: compile them all into one" % gz[0])


PLACES_A = (b"type: place\nentries:\n"
            b"  - {id: kyiv, name: Kyiv, attrs: {country: UA}}\n"
            b"  - {id: mariupol, name: Mariupol}\n")
PLACES_B = PLACES_A + b"  - {id: odesa, name: Odesa}\n"
UNITS = b"type: unit\nentries:\n  - {id: azov-regiment, name: Azov Regiment, aliases: [Azov]}\n"
CACHE_TEXT = "Kyiv, Odesa, Kherson and Mariupol; the Azov Regiment."


class TempDaemonTestCase(unittest.TestCase):
    """A test with a temporary directory (self.tmp) and at most one daemon
    (self.d), stopped and removed after it: the daemon must stop cleanly."""

    def tearDown(self):
        if self.d:
            rc = self.d.stop()
            self.assertEqual(rc, 0, self.d.log())
        shutil.rmtree(self.tmp, ignore_errors=True)


class CacheTest(TempDaemonTestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gzcache-")
        self.conf_dir = os.path.join(self.tmp, "etc")
        self.gz = os.path.join(self.conf_dir, "gz")
        self.cache = os.path.join(self.conf_dir, "cache")  # `cache: cache` resolves here
        write(os.path.join(self.gz, "places.yaml"), PLACES_A)
        write(os.path.join(self.gz, "units.yaml"), UNITS)
        self.config = os.path.join(self.conf_dir, "gaztag.yaml")
        write(self.config, b"gazetteers:\n  - gz\ncache: cache\nwatch: false\n")
        self.d = None


    def start(self, cwd=None):
        # started elsewhere than the config's directory: `cache: cache` is
        # relative to the config file, not to the working directory
        self.d = gzharness.Daemon(args=["--config", self.config], gazetteers=(),
                                  cwd=cwd or self.tmp)
        return self.d

    def restart(self):
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.d = None
        return self.start()

    def cached(self):
        # the snapshots; checked/ holds the records of their full checks
        names = sorted(os.listdir(self.cache)) if os.path.isdir(self.cache) else []
        names = [n for n in names if n != "checked"]
        for n in names:
            self.assertRegex(n, CACHE_FILE)
        return names

    def tagged_ids(self, d):
        status, body, _ = d.tag(CACHE_TEXT)
        self.assertEqual(status, 200)
        self.assertEqual(body["gazetteers"], d.gazetteers_hash())
        return [e["id"] for e in body["entities"]], body

    def test_cache_life(self):
        d = self.start()
        self.assertIsNotNone(d.wait_log(BUILT, 10), d.log())
        self.assertIsNone(d.wait_log(MAPPED, 0))
        wait_wrote(self, d, 1)
        first = self.cached()
        self.assertEqual(len(first), 1)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "cache")))
        h_a = d.gazetteers_hash()
        ids, body_a = self.tagged_ids(d)
        self.assertEqual(ids, ["kyiv", "mariupol", "azov-regiment"])
        # the cache file is a snapshot --check accepts, of the same hash
        rc, out, err = gaztagd("--tag", "-", "--gazetteers",
                               os.path.join(self.cache, first[0]), input=CACHE_TEXT.encode())
        self.assertEqual((rc, json.loads(out)), (0, body_a), err)

        # restart with unchanged files: mapped, same hash, same answers
        d = self.restart()
        self.assertIsNotNone(d.wait_log(MAPPED, 10), d.log())
        self.assertIsNone(d.wait_log(BUILT, 0))
        self.assertEqual(d.gazetteers_hash(), h_a)
        self.assertEqual(self.tagged_ids(d)[1], body_a)
        self.assertEqual(self.cached(), first)

        # an edit and a reload: built again, a second snapshot
        write(os.path.join(self.gz, "places.yaml"), PLACES_B)
        status, body, _ = d.json("POST", "/reload", b"")
        self.assertEqual((status, body["status"]), (200, "ok"), body)
        h_b = body["gazetteers"]
        self.assertRegex(h_b, HEX32)
        self.assertNotEqual(h_b, h_a)
        self.assertEqual(d.gazetteers_hash(), h_b)
        self.assertEqual(self.tagged_ids(d)[0], ["kyiv", "odesa", "mariupol", "azov-regiment"])
        self.assertIsNotNone(d.wait_log(BUILT, 10), d.log())
        wait_wrote(self, d, 1)
        second = self.cached()
        self.assertEqual(len(second), 2)
        self.assertTrue(set(first) < set(second))
        (b_file,) = set(second) - set(first)

        # the current cache file corrupted: rebuilt with a warning, never trusted
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.d = None
        path = os.path.join(self.cache, b_file)
        data = bytearray(read(path))
        data[len(data) // 2] ^= 0xff
        write(path, bytes(data))
        d = self.start()
        self.assertIn("gaztagd: warning: cache: %s: checksum mismatch: the file is corrupted; "
                      "building from YAML again" % path, d.log().splitlines())
        self.assertIsNotNone(d.wait_log(BUILT, 10), d.log())
        self.assertEqual(d.gazetteers_hash(), h_b)
        self.assertEqual(self.tagged_ids(d)[0], ["kyiv", "odesa", "mariupol", "azov-regiment"])
        wait_wrote(self, d, 1)
        self.assertEqual(self.cached(), second)
        rc, _, err = gaztagd("--check", "--gazetteers", path)
        self.assertEqual(rc, 0, err)
        d = self.restart()
        self.assertIsNotNone(d.wait_log(MAPPED, 10), d.log())
        self.assertNotIn("warning", d.log())
        self.assertEqual(d.gazetteers_hash(), h_b)

        # a third version: still two snapshots, the oldest (A's) removed
        write(os.path.join(self.gz, "units.yaml"), UNITS.replace(b"[Azov]", b"[Azov, Azovs]"))
        status, body, _ = d.json("POST", "/reload", b"")
        self.assertEqual(status, 200, body)
        self.assertNotIn(body["gazetteers"], (h_a, h_b))
        wait_wrote(self, d, 1)
        third = self.cached()
        self.assertEqual(len(third), 2)
        self.assertIn(b_file, third)
        self.assertNotIn(first[0], third)
        self.assertIsNotNone(d.wait_log("gaztagd: cache: removed the old snapshot %s/%s"
                                        % (self.cache, first[0]), 10), d.log())
        # and back to B: mapped from the cache on reload
        write(os.path.join(self.gz, "units.yaml"), UNITS)
        status, body, _ = d.json("POST", "/reload", b"")
        self.assertEqual((status, body["gazetteers"]), (200, h_b), body)
        wait_count(self, d, MAPPED, 2)   # the restart's, and this one

    def test_edit_keeping_size_and_mtime_builds_again(self):
        # a YAML file's digest is recorded, not read again while the file is
        # unchanged: an edit that keeps its size and mtime still changes its
        # ctime, and the key
        places = os.path.join(self.gz, "places.yaml")
        st = os.stat(places)
        time.sleep(0.1)   # past GZ_CHECKED_QUIET_MS: the digests are recorded
        d = self.start()
        self.assertIsNotNone(d.wait_log(BUILT, 10), d.log())
        wait_wrote(self, d, 1)
        d = self.restart()
        self.assertIsNotNone(d.wait_log(MAPPED, 10), d.log())
        self.assertEqual(self.tagged_ids(d)[0], ["kyiv", "mariupol", "azov-regiment"])
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.d = None
        edited = PLACES_A.replace(b"{id: mariupol, name: Mariupol}",
                                  b"{id: odesa123, name: Odesa   }")
        self.assertEqual(len(edited), len(PLACES_A))
        with open(places, "r+b") as f:
            f.write(edited)
        os.utime(places, ns=(st.st_atime_ns, st.st_mtime_ns))
        d = self.start()
        self.assertIsNotNone(d.wait_log(BUILT, 10), d.log())
        self.assertIsNone(d.wait_log(MAPPED, 0))
        self.assertEqual(self.tagged_ids(d)[0], ["kyiv", "odesa123", "azov-regiment"])

    def test_cache_flag_overrides_and_disables(self):
        other = os.path.join(self.tmp, "other-cache")
        # what a daemon stopped while it wrote leaves: removed by the next
        # write; a write still going on (its process alive) is left alone
        os.mkdir(other)
        gone = subprocess.Popen(["true"])
        gone.wait()
        stale = "%s.gzs.tmp.%d" % ("a" * 32, gone.pid)
        live = "%s.gzs.tmp.%d" % ("b" * 32, os.getpid())
        for name in (stale, live):
            write(os.path.join(other, name), b"half a snapshot")
        self.d = gzharness.Daemon(args=["--config", self.config, "--cache", other],
                                  gazetteers=())
        self.assertIsNotNone(self.d.wait_log(BUILT, 10), self.d.log())
        wait_wrote(self, self.d, 1)
        self.assertIn("gaztagd: cache: removed %s/%s, left by a stopped daemon" % (other, stale),
                      self.d.log().splitlines())
        names = [n for n in os.listdir(other) if n != "checked"]
        self.assertIn(live, names)
        names.remove(live)
        self.assertEqual(len(names), 1, names)
        self.assertRegex(names[0], CACHE_FILE)
        self.assertEqual(self.cached(), [])
        self.assertEqual(self.d.stop(), 0, self.d.log())
        self.d = gzharness.Daemon(args=["--config", self.config, "--cache", ""], gazetteers=())
        self.assertNotIn("gaztagd: gazetteers ", self.d.log())   # neither built nor mapped
        self.assertNotIn("cache:", self.d.log())
        self.assertEqual(self.cached(), [])

    def test_corrupted_snapshot_on_reload_keeps_old_set(self):
        gzs = os.path.join(self.tmp, "set.gzs")
        compile_snapshot(gzs, self.gz)
        self.d = gzharness.Daemon(gazetteers=(gzs,), config={"watch": False})
        d = self.d
        h = d.gazetteers_hash()
        ids, body = self.tagged_ids(d)
        data = bytearray(read(gzs))
        data[len(data) // 2] ^= 1
        tmp = gzs + ".new"
        write(tmp, bytes(data))
        os.replace(tmp, gzs)   # replaced, as --compile does: the old map stays valid
        status, err, _ = d.json("POST", "/reload", b"")
        msg = "%s: checksum mismatch: the file is corrupted" % gzs
        self.assertEqual(status, 422, err)
        self.assertEqual(err["error"]["code"], "reload_failed")
        self.assertEqual(err["error"]["message"], msg)
        self.assertEqual(err["error"]["errors"], [msg])
        status, health, _ = d.json("GET", "/health")
        self.assertEqual((status, health["gazetteers"]), (200, h))
        self.assertEqual(health["last_reload_error"]["message"], msg)
        self.assertEqual(health["last_reload_error"]["errors"], [msg])
        self.assertEqual(self.tagged_ids(d)[1], body)
        # a good one back: served again, the error gone
        compile_snapshot(gzs, self.gz)
        status, ok, _ = d.json("POST", "/reload", b"")
        self.assertEqual((status, ok["gazetteers"]), (200, h), ok)
        self.assertNotIn("last_reload_error", d.json("GET", "/health")[1])


class ReloadFromCacheUnderLoadTest(TempDaemonTestCase):
    RELOADS = 20
    CLIENTS = 4

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gzcacheload-")
        self.d = None


    def test_swaps_mapped_from_cache_while_tagging(self):
        gz = os.path.join(self.tmp, "gz")
        places = os.path.join(gz, "places.yaml")
        versions = {"A": PLACES_A, "B": PLACES_B}

        def swap(v):
            write(places + ".new", versions[v])
            os.replace(places + ".new", places)

        swap("A")
        write(os.path.join(gz, "units.yaml"), UNITS)
        cache = os.path.join(self.tmp, "cache")
        self.d = d = gzharness.Daemon(gazetteers=(gz,), config={"watch": False},
                                      args=["--cache", cache])
        expected = {}   # hash -> the answer's entities
        for v in ("A", "B"):
            if v == "B":
                swap("B")
                status, body, _ = d.json("POST", "/reload", b"")
                self.assertEqual(status, 200, body)
            status, body, _ = d.tag(CACHE_TEXT)
            self.assertEqual(status, 200)
            expected[body["gazetteers"]] = body["entities"]
        self.assertEqual(len(expected), 2)
        wait_wrote(self, d, 2)
        # two snapshots (and checked/, the records of their full checks)
        self.assertEqual(len(set(os.listdir(cache)) - {"checked"}), 2)
        self.assertEqual(d.log().count(BUILT), 2, d.log())
        hashes = list(expected)   # [A, B]

        clients = TaggingClients(d, self.CLIENTS, CACHE_TEXT, lambda status, body: (
            status == 200 and body.get("gazetteers") in expected
            and body["entities"] == expected[body["gazetteers"]]))
        try:
            mapped = d.log().count(MAPPED)
            for i in range(self.RELOADS):
                v = "A" if i % 2 == 0 else "B"
                swap(v)
                status, body, _ = d.json("POST", "/reload", b"")
                self.assertEqual((status, body.get("gazetteers")),
                                 (200, hashes[i % 2]), body)
                time.sleep(0.05)
        finally:
            failures, counts = clients.stop()
        self.assertEqual(failures, [])
        self.assertEqual(len(counts), self.CLIENTS)
        self.assertTrue(all(n > 0 for n in counts), counts)
        wait_count(self, d, MAPPED, mapped + self.RELOADS)
        self.assertEqual(d.log().count(BUILT), 2)
        # two snapshots (and checked/, the records of their full checks)
        self.assertEqual(len(set(os.listdir(cache)) - {"checked"}), 2)


class OverwriteInPlaceTest(TempDaemonTestCase):
    """A snapshot in service written over in place (open for writing,
    truncated, rewritten: what cp and > do) while clients tag: the daemon
    holds a lease on it, serves a copy in memory before the writer may go
    on, no request fails, and the next reload loads the new file."""
    CLIENTS = 3

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gzsnapover-")
        self.d = None

    def test_written_over_while_tagging(self):
        gzs = os.path.join(self.tmp, "set.gzs")
        other = os.path.join(self.tmp, "other.gzs")
        compile_snapshot(gzs, SHIPPED)
        h_b = re.search(r"gazetteers ([0-9a-f]{32})",
                        compile_snapshot(other, os.path.join(SHIPPED, "places.yaml"))).group(1)
        self.d = d = gzharness.Daemon(gazetteers=(gzs,), config={"watch": False})
        self.assertNotIn("cannot lease", d.log())
        h_a = d.gazetteers_hash()
        self.assertNotEqual(h_a, h_b)
        clients = TaggingClients(d, self.CLIENTS, TEXTS[0], lambda status, body: (
            status == 200 and body.get("gazetteers") == h_a))
        try:
            time.sleep(0.3)
            with open(gzs, "wb") as f:   # O_TRUNC: waits for the daemon to let go
                f.write(read(other))
            time.sleep(0.3)
        finally:
            failures, counts = clients.stop()
        self.assertEqual(failures, [])
        self.assertEqual(len(counts), self.CLIENTS)
        self.assertTrue(all(n > 0 for n in counts), counts)
        self.assertIsNotNone(d.wait_log("gaztagd: warning: %s is being written over in place: "
                                        "serving a copy of it in memory" % gzs, 10), d.log())
        self.assertEqual(d.gazetteers_hash(), h_a)
        status, body, _ = d.json("POST", "/reload", b"")
        self.assertEqual((status, body.get("gazetteers")), (200, h_b), body)
        # and leased again: a second overwrite is as safe as the first
        with open(gzs, "wb") as f:
            f.write(read(other))
        wait_count(self, d, "is being written over in place", 2)
        status, body, _ = d.tag(TEXTS[3])
        self.assertEqual((status, body["gazetteers"]), (200, h_b))


FULL_CHECK = "gaztagd: gazetteers mapped from their snapshot in %s s (every byte checked)"
HEADER_CHECK = ("gaztagd: gazetteers mapped from their snapshot in %s s (its header checked: "
                "the file is unchanged since its full check)")


class CheckedOnceTest(TempDaemonTestCase):
    """A snapshot named on the command line, with a cache: the first start
    checks every byte and records it; a restart on the unchanged file checks
    the header alone; any write to the file since (even one that keeps its
    size and mtime), or a copy of it, is checked in full again."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gzsnapchecked-")
        self.d = None
        self.gzs = os.path.join(self.tmp, "set.gzs")
        self.cache = os.path.join(self.tmp, "cache")
        compile_snapshot(self.gzs, SHIPPED)
        # a file changed within GZ_CHECKED_QUIET_MS of its check is not recorded
        time.sleep(0.1)

    def run_once(self, gzs=None):
        """The load's log line (the time in it as %s) and a /tag answer."""
        self.d = d = gzharness.Daemon(gazetteers=(gzs or self.gzs,),
                                      config={"watch": False, "cache": self.cache})
        line = next(l for l in d.log().splitlines() if "mapped from their snapshot" in l)
        line = re.sub(r" in [0-9.]+ s", " in %s s", line)
        status, body, _ = d.tag(TEXTS[0])
        self.assertEqual(status, 200)
        self.assertEqual(d.stop(), 0, d.log())
        self.d = None
        return line, body

    def test_checked_once(self):
        line, body = self.run_once()
        self.assertEqual(line, FULL_CHECK)
        (record,) = os.listdir(os.path.join(self.cache, "checked"))
        st = os.stat(self.gzs)
        self.assertEqual(record, "%x-%x" % (st.st_dev, st.st_ino))
        for _ in range(2):
            self.assertEqual(self.run_once(), (HEADER_CHECK, body))

        # a copy (another inode) is checked in full, then known too
        copy = os.path.join(self.tmp, "copy.gzs")
        shutil.copyfile(self.gzs, copy)
        time.sleep(0.1)
        self.assertEqual(self.run_once(copy), (FULL_CHECK, body))
        self.assertEqual(self.run_once(copy), (HEADER_CHECK, body))
        self.assertEqual(len(os.listdir(os.path.join(self.cache, "checked"))), 2)

        # one byte changed in place, size and mtime put back: the ctime tells
        data = read(self.gzs)
        with open(self.gzs, "r+b") as f:
            f.seek(len(data) // 2)
            f.write(bytes([data[len(data) // 2] ^ 0xff]))
        os.utime(self.gzs, ns=(st.st_atime_ns, st.st_mtime_ns))
        self.assertEqual(os.stat(self.gzs).st_size, st.st_size)
        d = gzharness.Daemon(gazetteers=(self.gzs,),
                             config={"watch": False, "cache": self.cache}, wait_listen=False)
        rc = d.wait_exit(20)
        log = d.log()
        d.kill()
        self.assertEqual(rc, 1, log)
        self.assertIn("gaztagd: error: cannot start: %s: checksum mismatch: the file is "
                      "corrupted" % self.gzs, log.splitlines())

        # the byte put back: checked in full again, and known after that
        with open(self.gzs, "r+b") as f:
            f.seek(len(data) // 2)
            f.write(data[len(data) // 2:len(data) // 2 + 1])
        time.sleep(0.1)
        self.assertEqual(self.run_once(), (FULL_CHECK, body))
        self.assertEqual(self.run_once(), (HEADER_CHECK, body))

    def test_compile_with_cache_records_the_check(self):
        # the compile checks the file it wrote: the first start is quick too
        out = os.path.join(self.tmp, "compiled.gzs")
        err = compile_snapshot(out, SHIPPED, "--cache", self.cache)
        self.assertIn("gaztagd: checked %s and recorded it in %s: a daemon with that cache "
                      "maps it without reading it whole" % (out, self.cache), err.splitlines())
        line, body = self.run_once(out)
        self.assertEqual(line, HEADER_CHECK)
        self.assertEqual(body, self.run_once(self.gzs)[1])

    def test_without_cache_every_start_checks_in_full(self):
        for _ in range(2):
            d = gzharness.Daemon(gazetteers=(self.gzs,), config={"watch": False})
            self.assertIn(FULL_CHECK % "", re.sub(r" in [0-9.]+ s", " in  s", d.log()))
            self.assertEqual(d.stop(), 0, d.log())
        self.assertFalse(os.path.exists(self.cache))


class CompileErrorsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gzcompile-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_bad_gazetteer_problems_and_no_file(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        write(bad, b"type: place\nentries:\n  - {id: x}\n  - {id: y, name: Y, priority: zz}\n")
        out = os.path.join(self.tmp, "out.gzs")
        rc, stdout, err = gaztagd("--compile", out, "--gazetteers", bad)
        self.assertEqual((rc, stdout), (1, b""), err)
        p1 = "%s:3:5: missing required key 'name' in entry 'x'" % bad
        p2 = "%s:4:32: 'priority' must be a number, found zz" % bad
        self.assertEqual(err.splitlines(), [
            p1, p2, "gaztagd: 2 problems in gazetteers; first: " + p1])
        # the same problems as --check prints
        _, _, check = gaztagd("--check", "--gazetteers", bad)
        self.assertEqual(check.splitlines()[:2], [p1, p2])
        self.assertEqual(sorted(os.listdir(self.tmp)), ["bad.yaml"])

    def test_unwritable_path(self):
        out = os.path.join(self.tmp, "no-such-dir", "out.gzs")
        rc, _, err = gaztagd("--compile", out, "--gazetteers", gzharness.GAZETTEERS)
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"^gaztagd: %s: cannot create %s\.tmp\.\d+ beside it: No such "
                         r"file or directory\n$" % (re.escape(out), re.escape(out)))
        # a directory in the way: the temporary file is removed again
        d = os.path.join(self.tmp, "dir.gzs")
        os.mkdir(d)
        rc, _, err = gaztagd("--compile", d, "--gazetteers", gzharness.GAZETTEERS)
        self.assertEqual((rc, err), (1, "gaztagd: %s: cannot write: Is a directory\n" % d))
        self.assertEqual(sorted(os.listdir(self.tmp)), ["dir.gzs"])
        self.assertEqual(os.listdir(d), [])


if __name__ == "__main__":
    gzharness.main()
