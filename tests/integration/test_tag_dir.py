"""Integration tests of scripts/tag-dir against the real gaztagd.

A tree of a few hundred generated articles (names from tests/data/tagdir/)
is tagged through the script, and every output is checked byte for byte
against a direct POST /tag of the same file.  tag-dir sends the files in
NDJSON batches and cuts each answer line into a /tag answer, so texts whose
bytes could come out differently that way (empty, CRLF, NUL, a BOM, control
characters, astral characters with utf16 offsets, a text that looks like
JSON) are checked with each option too, and so are the roads around the
batches: every file raw, requests over the daemon's body limit, tiny
requests.  Resume, bad files, the daemon absent at start or killed mid-run,
an interruption, awkward file names and --ndjson each get a test.
Standard library only; the script itself needs python3 and curl.
"""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402

SOURCE_ROOT = gzharness.SOURCE_ROOT
TAG_DIR = os.path.join(SOURCE_ROOT, "scripts", "tag-dir")
GAZ = os.path.join(SOURCE_ROOT, "tests", "data", "tagdir")

NAMES = ["Maria Kowalska", "Kowalska", "Jürgen Müller", "Müller", "Müller AG",
         "Ana Pérez", "Sigríður Jónsdóttir", "Kraków", "Gdańsk", "Zürich",
         "São Paulo", "Reykjavík", "Kyiv", "Kiev", "Red River", "Red Cross",
         "ICRC", "KRAKÓW", "Zurich", "Sao Paulo"]
FILLER = ["officials said", "on Tuesday", "according to local reports",
          "the council met", "prices rose", "talks continued", "in the north",
          "after the storm", "— a spokesman added —", "«without comment»",
          "said it’s early", "at 10:30", "the committee's report"]

# File names a shell script most easily gets wrong.
AWKWARD = ["with space.txt", "it's \"quoted\".txt", "Zürich — café.txt",
           "日本語.txt", "back\\slash.txt", "a[1] {x} *.txt", "-leading-dash.txt",
           "tab\tin name.txt", "new\nline.txt", "$(echo no).txt", ".hidden.txt",
           "no-extension"]


# Texts whose answer could differ, byte for byte, between a raw POST /tag
# and a line of an NDJSON batch cut into a /tag answer.
TRICKY = {
    "empty.txt": b"",
    "newline.txt": b"\n",
    "blanks.txt": b"  \t \r\n  ",
    "crlf.txt": b"Kyiv\r\nKrak\xc3\xb3w\r\n\r\nZ\xc3\xbcrich\r",
    "bom.txt": b"\xef\xbb\xbfKyiv and Gda\xc5\x84sk",
    "nul.txt": b"Kyiv\x00Zurich\x00",
    "controls.txt": bytes(range(1, 32)) + b" Kyiv \x7f ICRC",
    "json-like.txt": '{"id":1,"text":"Kyiv"} \\ "Red Cross" {"start":0} \\"Kraków\\"\n'.encode(),
    "astral.txt": "Maria Kowalska 😀 met 𝔘 in Kraków \u2028 Zürich \u2029 Kyiv\ufeff".encode(),
    "combining.txt": "Krako\u0301w, Zu\u0308rich, KRAKÓW, Sa\u0303o Paulo".encode(),
    "long-line.txt": "Müller AG in Gdańsk. ".encode() * 3000,
    "no-eol.txt": b"Kyiv",
}
OPTION_SETS = [[], ["--offsets", "utf16"], ["--offsets", "byte", "--overlaps", "all"],
               ["--types", "place,person"]]


def query_of(options):
    """tag-dir's options -> the same query string for POST /tag."""
    return "&".join("%s=%s" % (options[k][2:], options[k + 1])
                    for k in range(0, len(options), 2))


def article(rng, n):
    words = []
    for _ in range(rng.randint(8, 40)):
        words.append(rng.choice(NAMES) if rng.random() < 0.3 else rng.choice(FILLER))
    text = "Article %d. " % n + " ".join(words) + ".\n"
    if rng.random() < 0.2:
        text += "\n" + " ".join(rng.choice(FILLER) for _ in range(20)) + "\n"
    return text


def make_tree(root, count, seed=6):
    """count articles in nested folders, plus the awkward names; returns the
    relative paths (str)."""
    rng = random.Random(seed)
    rels = []
    dirs = ["", "world", "world/europe", "world/europe/pl", "sport",
            "dir with space", "ünïcödé dir", "deep/a/b/c/d"]
    for i in range(count):
        rel = os.path.join(rng.choice(dirs), "art-%04d.txt" % i)
        rels.append(rel)
    for i, name in enumerate(AWKWARD):
        rels.append(os.path.join(dirs[i % len(dirs)], name))
    for i, rel in enumerate(rels):
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(article(rng, i))
    return rels


def run_tag_dir(*args, env=None, timeout=60):
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run([TAG_DIR] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=full_env, timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def start_tag_dir_until(src, out, url, batch, outputs):
    """tag-dir started on src with -j 1 and batches of `batch` files,
    returned once `outputs` answers are written (or 30 s have passed), for
    a test to interrupt it mid-run."""
    p = subprocess.Popen([TAG_DIR, src, out, "-j", "1", "--url", url],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=dict(os.environ, TAG_DIR_BATCH=str(batch)))
    deadline = time.monotonic() + 30
    while (sum(f.endswith(".json") for f in tree_files(out)) < outputs
           and time.monotonic() < deadline):
        time.sleep(0.005)
    return p


def summary(stderr):
    m = re.search(r"tag-dir: (\d+) tagged, (\d+) skipped, (\d+) failed, "
                  r"(\d+) entities found", stderr)
    if not m:
        raise AssertionError("no summary line in:\n" + stderr)
    return tuple(int(g) for g in m.groups())


def tree_files(root):
    """Every file and folder under root, relative, hidden ones included."""
    out = set()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.add(os.path.relpath(os.path.join(dirpath, name), root))
    return out


class TagDirTest(gzharness.DaemonTestCase):
    # A body limit small enough that one test file is over it, large enough
    # for an NDJSON chunk of 100 articles.
    daemon_kwargs = {"gazetteers": (GAZ,),
                     "config": {"max_body_bytes": "256KiB", "watch": False}}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="gztagdir-")
        cls.src = os.path.join(cls.tmp, "in")
        cls.rels = make_tree(cls.src, 300)
        cls.url = "http://%s:%d" % (cls.d.host, cls.d.port)
        cls.expected = {}       # rel -> bytes of a direct POST /tag
        conn = cls.d.conn()
        try:
            for rel in cls.rels:
                with open(os.path.join(cls.src, rel), "rb") as f:
                    body = f.read()
                status, _, data = cls.d.request(
                    "POST", "/tag", body,
                    {"Content-Type": "text/plain; charset=utf-8"}, conn=conn)
                assert status == 200, (rel, status, data)
                cls.expected[rel] = data
        finally:
            conn.close()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def out_dir(self, name):
        return os.path.join(self.tmp, name)

    def assert_tree_equal_direct_post(self, out, rels=None):
        rels = self.rels if rels is None else rels
        # Exactly the outputs and their folders: nothing temporary is left.
        self.assertEqual(tree_files(out),
                         {rel + ".json" for rel in rels} | _parents(rels))
        for rel in rels:
            with open(os.path.join(out, rel + ".json"), "rb") as f:
                self.assertEqual(f.read(), self.expected[rel], rel)

    def total_entities(self, rels=None):
        rels = self.rels if rels is None else rels
        return sum(len(json.loads(self.expected[r])["entities"]) for r in rels)

    # --- the tests ------------------------------------------------------

    def test_outputs_equal_direct_post(self):
        out = self.out_dir("equal")
        rc, err = run_tag_dir(self.src, out, "-j", "4", "--url", self.url)
        self.assertEqual(rc, 0, err)
        self.assert_tree_equal_direct_post(out)
        n = len(self.rels)
        self.assertEqual(summary(err), (n, 0, 0, self.total_entities()))
        self.assertIn("%d files under" % n, err)

    def test_awkward_names_tagged_in_place(self):
        out = self.out_dir("names")
        rc, err = run_tag_dir(self.src, out, "--url", self.url)
        self.assertEqual(rc, 0, err)
        for rel in self.rels:
            if os.path.basename(rel) in AWKWARD:
                path = os.path.join(out, rel + ".json")
                self.assertTrue(os.path.isfile(path), repr(path))
                with open(path, "rb") as f:
                    self.assertEqual(f.read(), self.expected[rel], rel)

    def test_resume_retags_only_touched_inputs(self):
        out = self.out_dir("resume")
        rc, err = run_tag_dir(self.src, out, "-j", "2", "--url", self.url)
        self.assertEqual(rc, 0, err)
        before = {rel: os.stat(os.path.join(out, rel + ".json")).st_mtime_ns
                  for rel in self.rels}
        touched = self.rels[::41] + [r for r in self.rels if r.endswith("with space.txt")]
        for rel in touched:
            # 1 µs newer than the output: no sleeping needed.
            t = before[rel] + 1000
            os.utime(os.path.join(self.src, rel), ns=(t, t))
        rc, err = run_tag_dir(self.src, out, "-j", "2", "--url", self.url)
        self.assertEqual(rc, 0, err)
        self.assertEqual(summary(err)[:3], (len(touched), len(self.rels) - len(touched), 0))
        self.assertEqual(summary(err)[3], self.total_entities(touched))
        for rel in self.rels:
            after = os.stat(os.path.join(out, rel + ".json")).st_mtime_ns
            if rel in touched:
                self.assertGreater(after, before[rel], rel)
            else:
                self.assertEqual(after, before[rel], rel)
        self.assert_tree_equal_direct_post(out)
        rc, err = run_tag_dir(self.src, out, "--url", self.url)
        self.assertEqual(rc, 0, err)
        self.assertEqual(summary(err), (0, len(self.rels), 0, 0))

    def test_bad_files_listed_no_output_nonzero_exit(self):
        src = os.path.join(self.tmp, "bad-in")
        good = ["a.txt", "sub/b.txt", "sub/c d.txt"]
        for rel in good:
            os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
            shutil.copy(os.path.join(self.src, self.rels[good.index(rel)]),
                        os.path.join(src, rel))
        with open(os.path.join(src, "sub", "latin1 ü.txt"), "wb") as f:
            f.write("Kraków in Latin-1: Zürich".encode("latin-1", "replace"))
        with open(os.path.join(src, "huge.txt"), "wb") as f:
            f.write("Kyiv and Kraków. ".encode() * 20000)   # 360 KB > 256 KiB
        out = self.out_dir("bad-out")
        rc, err = run_tag_dir(src, out, "-j", "2", "--url", self.url)
        self.assertEqual(rc, 1, err)
        self.assertRegex(err, r"\n  sub/latin1 ü\.txt: 400 invalid_utf8: invalid UTF-8 at byte 4\n")
        self.assertRegex(err, r"\n  huge\.txt: 413 payload_too_large")
        self.assertIn("tag-dir: 2 failed:", err)
        self.assertEqual(summary(err)[:3], (3, 0, 2))
        self.assertEqual(tree_files(out), {"a.txt.json", "sub", "sub/b.txt.json",
                                           "sub/c d.txt.json"})
        # A re-run retries the failed ones only, and still fails.
        rc, err = run_tag_dir(src, out, "--url", self.url)
        self.assertEqual(rc, 1, err)
        self.assertEqual(summary(err)[:3], (0, 3, 2))

        # --ndjson: an error line per bad file, the rest tagged, exit 1.
        nd = os.path.join(self.tmp, "bad.ndjson")
        rc, err = run_tag_dir(src, "--ndjson", nd, "--url", self.url)
        self.assertEqual(rc, 1, err)
        with open(nd, encoding="utf-8") as f:
            lines = [json.loads(l) for l in f]
        by_path = {l["path"]: l for l in lines}
        self.assertEqual(sorted(by_path), ["a.txt", "huge.txt", "sub/b.txt",
                                           "sub/c d.txt", "sub/latin1 ü.txt"])
        self.assertEqual(by_path["huge.txt"]["error"]["code"], "payload_too_large")
        self.assertEqual(by_path["sub/latin1 ü.txt"]["error"]["code"], "invalid_utf8")
        self.assertEqual(by_path["sub/latin1 ü.txt"]["error"]["offset"], 4)
        self.assertIn("entities", by_path["a.txt"])
        self.assertEqual(summary(err)[:3], (3, 0, 2))

    def test_types_and_offsets_passed_through(self):
        src = os.path.join(self.tmp, "opts-in")
        os.makedirs(src)
        rels = [r for r in self.rels if "/" not in r][:20]
        for rel in rels:
            shutil.copy(os.path.join(self.src, rel), os.path.join(src, rel))
        out = self.out_dir("opts-out")
        rc, err = run_tag_dir(src, out, "--url", self.url, "--types", "place,org",
                              "--offsets=utf16")
        self.assertEqual(rc, 0, err)
        for rel in rels:
            with open(os.path.join(src, rel), "rb") as f:
                status, _, want = self.d.request(
                    "POST", "/tag?types=place,org&offsets=utf16", f.read(),
                    {"Content-Type": "text/plain; charset=utf-8"})
            self.assertEqual(status, 200)
            with open(os.path.join(out, rel + ".json"), "rb") as f:
                self.assertEqual(f.read(), want, rel)

    def test_bad_option_one_message(self):
        out = self.out_dir("badopt")
        rc, err = run_tag_dir(self.src, out, "--url", self.url, "--offsets", "bogus")
        self.assertEqual(rc, 2, err)
        self.assertIn("bad_parameter", err)
        self.assertLessEqual(len(err.strip().splitlines()), 2, err)
        self.assertFalse(os.path.exists(out))

    def test_ndjson_equals_per_file_results(self):
        nd = os.path.join(self.tmp, "all.ndjson")
        rc, err = run_tag_dir(self.src, "--ndjson", nd, "-j", "3", "--chunk", "37",
                              "--url", self.url)
        self.assertEqual(rc, 0, err)
        with open(nd, "rb") as f:
            raw = f.read().split(b"\n")
        self.assertEqual(raw[-1], b"")
        lines = [json.loads(l) for l in raw[:-1]]
        self.assertEqual([l["path"] for l in lines],
                         sorted(self.rels, key=lambda r: r.encode("utf-8")))
        for line, data in zip(lines, raw):
            self.assertEqual(set(line), {"path", "entities", "gazetteers"})
            # The answer's members, byte for byte, behind the path (all
            # but "offsets", which the options say).
            want = self.expected[line["path"]]
            members = want[1:want.rindex(b',"offsets":')]
            gz = b',"gazetteers":"%s"' % json.loads(want)["gazetteers"].encode()
            self.assertEqual(data, b'{"path":' + json.dumps(line["path"], ensure_ascii=False)
                             .encode() + b"," + members + gz + b"}", line["path"])
        self.assertEqual(summary(err), (len(self.rels), 0, 0, self.total_entities()))
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(".tag-dir")], [])

    def test_tricky_texts_equal_direct_post_with_every_option(self):
        src = os.path.join(self.tmp, "tricky-in")
        os.makedirs(os.path.join(src, "sub"))
        for name, data in TRICKY.items():
            with open(os.path.join(src, "sub" if len(data) % 2 else "", name), "wb") as f:
                f.write(data)
        rels = sorted(os.path.relpath(os.path.join(d, f), src)
                      for d, _, fs in os.walk(src) for f in fs)
        for n, options in enumerate(OPTION_SETS):
            with self.subTest(options=options):
                out = self.out_dir("tricky-out-%d" % n)
                rc, err = run_tag_dir(src, out, "--url", self.url, *options)
                self.assertEqual(rc, 0, err)
                entities = 0
                for rel in rels:
                    with open(os.path.join(src, rel), "rb") as f:
                        status, _, want = self.d.request(
                            "POST", "/tag?" + query_of(options), f.read(),
                            {"Content-Type": "text/plain; charset=utf-8"})
                    self.assertEqual(status, 200, want)
                    entities += len(json.loads(want)["entities"])
                    with open(os.path.join(out, rel + ".json"), "rb") as f:
                        self.assertEqual(f.read(), want, rel)
                self.assertEqual(summary(err), (len(rels), 0, 0, entities))

    def test_raw_road_and_small_requests_give_the_same_bytes(self):
        # Every file sent raw; files over a small request budget raw and
        # the others in requests of at most 3 files; many requests at once.
        for n, (env, options) in enumerate([
                ({"TAG_DIR_RAW": "1"}, []),
                ({"TAG_DIR_CHUNK_BYTES": "400"}, ["--chunk", "3", "-j", "5"])]):
            with self.subTest(env=env):
                out = self.out_dir("roads-%d" % n)
                rc, err = run_tag_dir(self.src, out, "--url", self.url, *options, env=env)
                self.assertEqual(rc, 0, err)
                self.assertNotIn("note:", err)
                self.assert_tree_equal_direct_post(out)
                self.assertEqual(summary(err), (len(self.rels), 0, 0, self.total_entities()))

    def test_request_over_body_limit_is_split(self):
        # 120 articles of ~4 KB in requests of up to 1000 files and 4 MB:
        # the first request is over the daemon's 256 KiB and refused (413);
        # tag-dir halves it, and makes the next ones smaller, until they fit.
        src = os.path.join(self.tmp, "big-batch-in")
        os.makedirs(src)
        rng = random.Random(9)
        expected = {}
        for i in range(120):
            text = " ".join(article(rng, i) for _ in range(12)).encode()
            rel = "a%03d.txt" % i
            with open(os.path.join(src, rel), "wb") as f:
                f.write(text)
            status, _, expected[rel] = self.d.request(
                "POST", "/tag", text, {"Content-Type": "text/plain; charset=utf-8"})
            self.assertEqual(status, 200)
        self.assertGreater(sum(len(json.dumps(v.decode())) for v in expected.values()), 300000)
        out = self.out_dir("big-batch-out")
        rc, err = run_tag_dir(src, out, "--url", self.url, "--chunk", "1000",
                              env={"TAG_DIR_CHUNK_BYTES": str(4 << 20)})
        self.assertEqual(rc, 0, err)
        self.assertEqual(summary(err)[:3], (120, 0, 0))
        self.assertEqual(tree_files(out), {rel + ".json" for rel in expected})
        for rel, want in expected.items():
            with open(os.path.join(out, rel + ".json"), "rb") as f:
                self.assertEqual(f.read(), want, rel)

    def test_interrupted_leaves_whole_outputs_only(self):
        for sig, status in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            with self.subTest(signal=sig):
                out = self.out_dir("interrupted-%d" % sig)
                p = start_tag_dir_until(self.src, out, self.url, batch=3, outputs=20)
                p.send_signal(sig)
                _, err = p.communicate(timeout=30)
                err = err.decode("utf-8", "replace")
                self.assertEqual(p.returncode, status, err)
                self.assertIn("interrupted (no partial output left)", err)
                written = [f[:-len(".json")] for f in tree_files(out) if f.endswith(".json")]
                self.assertGreaterEqual(len(written), 20)
                self.assertLess(len(written), len(self.rels))
                self.assertTrue(tree_files(out) <= {r + ".json" for r in self.rels}
                                | _parents(self.rels), "temporary files left")
                for rel in written:
                    with open(os.path.join(out, rel + ".json"), "rb") as f:
                        self.assertEqual(f.read(), self.expected[rel], rel)
                rc, err = run_tag_dir(self.src, out, "--url", self.url)
                self.assertEqual(rc, 0, err)
                self.assertEqual(summary(err)[:3], (len(self.rels) - len(written),
                                                    len(written), 0))
                self.assert_tree_equal_direct_post(out)

    @unittest.skipIf(os.geteuid() == 0, "root reads a file of mode 000")
    def test_unreadable_file_listed(self):
        src = os.path.join(self.tmp, "unreadable-in")
        os.makedirs(src)
        shutil.copy(os.path.join(self.src, self.rels[0]), os.path.join(src, "ok.txt"))
        with open(os.path.join(src, "secret.txt"), "w") as f:
            f.write("Kyiv")
        os.chmod(os.path.join(src, "secret.txt"), 0)
        out = self.out_dir("unreadable-out")
        rc, err = run_tag_dir(src, out, "--url", self.url)
        self.assertEqual(rc, 1, err)
        self.assertIn("\n  secret.txt: cannot read the file\n", err)
        self.assertEqual(tree_files(out), {"ok.txt.json"})

    def test_daemon_down_at_start_one_message(self):
        port = gzharness.free_port()
        out = self.out_dir("down")
        rc, err = run_tag_dir(self.src, out, "--url", "http://127.0.0.1:%d" % port)
        self.assertEqual(rc, 2, err)
        self.assertIn("cannot reach gaztagd at http://127.0.0.1:%d" % port, err)
        self.assertLessEqual(len(err.strip().splitlines()), 2, err)
        self.assertFalse(os.path.exists(out))


class TagDirDaemonDiesTest(unittest.TestCase):
    """The daemon is killed while tag-dir runs: one clear message, exit 3,
    every output present is complete, no temporary file is left, and a
    re-run against a live daemon finishes the job."""

    def test_daemon_killed_mid_run(self):
        tmp = tempfile.mkdtemp(prefix="gztagdir-")
        self.addCleanup(shutil.rmtree, tmp, True)
        src, out = os.path.join(tmp, "in"), os.path.join(tmp, "out")
        rels = make_tree(src, 1500, seed=7)
        d = gzharness.Daemon(gazetteers=(GAZ,))
        try:
            url = "http://%s:%d" % (d.host, d.port)
            p = start_tag_dir_until(src, out, url, batch=10, outputs=40)
            d.kill()
            _, err = p.communicate(timeout=30)
            err = err.decode("utf-8", "replace")
        finally:
            d.kill()
        self.assertEqual(p.returncode, 3, err)
        self.assertIn("went away during the run", err)
        self.assertLess(len(err.strip().splitlines()), 5, err)

        written = {f[:-len(".json")] for f in tree_files(out) if f.endswith(".json")}
        dirs = {f for f in tree_files(out) if not f.endswith(".json")}
        self.assertGreaterEqual(len(written), 40)
        self.assertLess(len(written), len(rels))
        self.assertTrue(written <= set(rels))
        self.assertTrue(dirs <= _parents(rels), dirs - _parents(rels))  # no temp dirs

        d2 = gzharness.Daemon(gazetteers=(GAZ,))
        try:
            url = "http://%s:%d" % (d2.host, d2.port)
            for rel in written:     # what was written is whole and right
                with open(os.path.join(src, rel), "rb") as f:
                    status, _, want = d2.request(
                        "POST", "/tag", f.read(),
                        {"Content-Type": "text/plain; charset=utf-8"})
                with open(os.path.join(out, rel + ".json"), "rb") as f:
                    self.assertEqual(f.read(), want, rel)
            rc, err = run_tag_dir(src, out, "--url", url)
            self.assertEqual(rc, 0, err)
            self.assertEqual(summary(err)[:3], (len(rels) - len(written), len(written), 0))
        finally:
            self.assertEqual(d2.stop(), 0)


def _parents(rels):
    out = set()
    for rel in rels:
        d = os.path.dirname(rel)
        while d:
            out.add(d)
            d = os.path.dirname(d)
    return out


if __name__ == "__main__":
    unittest.main(verbosity=2)
