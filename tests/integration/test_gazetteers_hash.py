"""The content hash of the loaded gazetteers (issue 15), against the real
gaztagd and gaztagd --tag: every place that shows it agrees, it follows the
files' bytes and not their paths, and a reload moves it.

The hash is XXH3-128 (README, "The gazetteers' hash"), which Python's
standard library lacks; the value asserted below was computed apart from
gaztagd with xxhash's xxh128sum, from the documented scheme.
Standard library only.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402

PLACES = (b"type: place\nentries:\n"
          b"  - {id: kyiv, name: Kyiv, attrs: {country: UA}}\n"
          b"  - {id: mariupol, name: Mariupol}\n")
UNITS = b"type: unit\nentries:\n  - {id: azov-regiment, name: Azov Regiment, aliases: [Azov]}\n"
# places.yaml then units.yaml: per file its length (8 bytes little-endian)
# and `xxh128sum FILE` (16 bytes), then xxh128sum of those 48 bytes.
KNOWN = "4fe6f291c301fa4fbc77d90c0eef5c8e"
HEX32 = r"^[0-9a-f]{32}$"


def write_set(d, files):
    os.makedirs(d, exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    return d


def tag_offline(gazetteers, text=b"Kyiv", *args):
    """The hash --tag prints, and its whole answer."""
    p = subprocess.run([gzharness.gaztagd_path(), "--tag", "-", "--gazetteers", gazetteers,
                        *args], input=text, capture_output=True, timeout=60)
    if p.returncode != 0:
        raise AssertionError("gaztagd --tag: %r" % p.stderr)
    return json.loads(p.stdout)["gazetteers"], p.stdout


class HashTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gzhash-")
        self.a = write_set(os.path.join(self.tmp, "a"),
                           {"places.yaml": PLACES, "units.yaml": UNITS})
        self.d = None

    def tearDown(self):
        if self.d:
            self.assertEqual(self.d.stop(), 0, self.d.log())
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_known_value_shown_alike_everywhere(self):
        self.d = gzharness.Daemon(gazetteers=(self.a,), config={"watch": False})
        d = self.d
        status, health, _ = d.json("GET", "/health")
        self.assertEqual((status, health["gazetteers"]), (200, KNOWN))
        status, body, _ = d.json("GET", "/gazetteers")
        self.assertEqual((status, body["hash"]), (200, KNOWN))
        self.assertEqual([g["type"] for g in body["gazetteers"]], ["place", "unit"])
        status, _, data = d.request("GET", "/metrics")
        info = [line for line in data.decode().splitlines()
                if line.startswith("gaztag_gazetteers_info")]
        self.assertEqual(info, ['gaztag_gazetteers_info{hash="%s"} 1' % KNOWN])
        # every way of tagging: raw, JSON, HTML, annotate, NDJSON
        status, body, _ = d.tag("Kyiv and Azov")
        self.assertEqual((status, list(body), body["gazetteers"]),
                         (200, ["entities", "offsets", "gazetteers"], KNOWN))
        status, body, _ = d.json("POST", "/tag", json.dumps({"text": "Kyiv"}),
                                 {"Content-Type": "application/json"})
        self.assertEqual(body["gazetteers"], KNOWN)
        status, body, _ = d.tag("<p>Kyiv</p>", "?annotate=true",
                                {"Content-Type": "text/html"})
        self.assertEqual((list(body), body["gazetteers"]),
                         (["entities", "offsets", "gazetteers", "html"], KNOWN))
        status, _, data = d.request("POST", "/tag", b'{"id":1,"text":"Kyiv"}\n{"id":2}\n',
                                    {"Content-Type": "application/x-ndjson"})
        lines = [json.loads(x) for x in data.decode().splitlines()]
        self.assertEqual(lines[0]["gazetteers"], KNOWN)
        self.assertNotIn("gazetteers", lines[1])   # an error line
        self.assertIn("error", lines[1])
        # --tag: the same hash, and the same bytes as POST /tag
        h, out = tag_offline(self.a, b"Kyiv and Azov")
        self.assertEqual(h, KNOWN)
        self.assertEqual(out, d.request("POST", "/tag", b"Kyiv and Azov")[2])

    def test_same_bytes_elsewhere_same_hash(self):
        b = write_set(os.path.join(self.tmp, "elsewhere", "b"),
                      {"1-places.yml": PLACES, "2-units.yaml": UNITS})
        self.assertEqual(tag_offline(b)[0], KNOWN)
        # files named one by one, in the directory's order: the same
        self.assertEqual(tag_offline(os.path.join(b, "1-places.yml"))[0],
                         tag_offline(os.path.join(self.a, "places.yaml"))[0])

    def test_one_byte_or_the_order_changed_another_hash(self):
        c = write_set(os.path.join(self.tmp, "c"),
                      {"places.yaml": PLACES.replace(b"Mariupol", b"Mariupil"),
                       "units.yaml": UNITS})
        h = tag_offline(c)[0]
        self.assertRegex(h, HEX32)
        self.assertNotEqual(h, KNOWN)
        # the same two files loaded units first
        r = write_set(os.path.join(self.tmp, "r"), {"a.yaml": UNITS, "b.yaml": PLACES})
        self.assertNotIn(tag_offline(r)[0], (KNOWN, h))

    def test_reload_moves_the_hash_of_answers(self):
        self.d = gzharness.Daemon(gazetteers=(self.a,), config={"watch": False})
        d = self.d
        self.assertEqual(d.gazetteers_hash(), KNOWN)
        with open(os.path.join(self.a, "places.yaml"), "ab") as f:
            f.write(b"  - {id: odesa, name: Odesa}\n")
        status, body, _ = d.json("POST", "/reload", b"")
        self.assertEqual(status, 200, body)
        new = body["gazetteers"]
        self.assertRegex(new, HEX32)
        self.assertNotEqual(new, KNOWN)
        self.assertEqual(d.gazetteers_hash(), new)
        status, body, _ = d.tag("Odesa")
        self.assertEqual(([e["id"] for e in body["entities"]], body["gazetteers"]),
                         (["odesa"], new))
        self.assertEqual(d.json("GET", "/gazetteers")[1]["hash"], new)
        # and --tag on the files as they are now says the same
        self.assertEqual(tag_offline(self.a)[0], new)


if __name__ == "__main__":
    gzharness.main()
