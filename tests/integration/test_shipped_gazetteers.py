"""Acceptance test of the shipped gazetteers (gazetteers/*.yaml).

1. Every shipped file passes `gaztagd --check`, together and each alone.
2. Each news article in tests/data/articles/<name>.txt, tagged offline with
   `gaztagd --tag FILE --gazetteers gazetteers/ --overlaps longest`, yields
   exactly the [text, type, id] list of <name>.expected.json, in order of
   appearance; and every span's `text` is the article's substring
   [start:end] in code points.

The expected lists were written by reading the articles, not by copying the
tagger's output: when a list and the output differ, the difference is a bug
in the gazetteers or the engine, not in the list (see
tests/data/articles/README.md).

Standard library only.  $GAZTAGD is the binary, $GAZTAG_SOURCE_ROOT the
repository root (both set by meson).
"""

import glob
import json
import os
import subprocess
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("GAZTAG_SOURCE_ROOT",
                             os.path.dirname(os.path.dirname(HERE)))
SHIPPED = os.path.join(SOURCE_ROOT, "gazetteers")
ARTICLES = os.path.join(SOURCE_ROOT, "tests", "data", "articles")
TIMEOUT = 60


def gaztagd_path():
    path = os.environ.get("GAZTAGD")
    if not path:
        raise unittest.SkipTest("GAZTAGD is not set (run through meson test)")
    return path


def run(args):
    return subprocess.run([gaztagd_path()] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=TIMEOUT)


def shipped_files():
    return sorted(glob.glob(os.path.join(SHIPPED, "*.yaml")) +
                  glob.glob(os.path.join(SHIPPED, "*.yml")))


def article_names():
    return sorted(os.path.basename(p)[:-len(".txt")]
                  for p in glob.glob(os.path.join(ARTICLES, "*.txt")))


class ShippedGazetteers(unittest.TestCase):

    def test_shipped_files_pass_check(self):
        files = shipped_files()
        for name in ("places.yaml", "people.yaml", "units.yaml", "orgs.yaml"):
            self.assertIn(os.path.join(SHIPPED, name), files)
        p = run(["--check", "--gazetteers", SHIPPED])
        self.assertEqual(p.returncode, 0,
                         "--check on gazetteers/ failed:\n" +
                         p.stdout.decode("utf-8", "replace") +
                         p.stderr.decode("utf-8", "replace"))
        for path in files:
            with self.subTest(file=os.path.basename(path)):
                p = run(["--check", "--gazetteers", path])
                self.assertEqual(p.returncode, 0,
                                 "--check on %s failed:\n%s%s" % (
                                     path, p.stdout.decode("utf-8", "replace"),
                                     p.stderr.decode("utf-8", "replace")))

    def test_every_article_has_expectations(self):
        names = article_names()
        self.assertGreaterEqual(len(names), 5, "articles missing in " + ARTICLES)
        for name in names:
            path = os.path.join(ARTICLES, name + ".expected.json")
            self.assertTrue(os.path.isfile(path), path + " is missing")


def tag(path):
    p = run(["--tag", path, "--gazetteers", SHIPPED, "--overlaps", "longest"])
    if p.returncode != 0:
        raise AssertionError("gaztagd --tag %s exited %d:\n%s" % (
            path, p.returncode, p.stderr.decode("utf-8", "replace")))
    return json.loads(p.stdout.decode("utf-8"))


def fmt(rows):
    return "\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows)


def make_article_test(name):
    def test(self):
        txt_path = os.path.join(ARTICLES, name + ".txt")
        with open(txt_path, encoding="utf-8", newline="") as f:
            text = f.read()
        with open(os.path.join(ARTICLES, name + ".expected.json"),
                  encoding="utf-8") as f:
            expected = [list(r) for r in json.load(f)]
        out = tag(txt_path)
        self.assertEqual(out.get("offsets"), "codepoint")
        entities = out["entities"]
        # Spans: exactly the article's substring, in code points, in order,
        # never overlapping (overlaps=longest).
        prev_end = 0
        for e in entities:
            self.assertEqual(text[e["start"]:e["end"]], e["text"],
                             "span %r at [%d:%d] is not the article's text there"
                             % (e["text"], e["start"], e["end"]))
            self.assertGreaterEqual(e["start"], prev_end, "overlapping or unsorted spans")
            prev_end = e["end"]
        got = [[e["text"], e["type"], e["id"]] for e in entities]
        if got != expected:
            self.fail("%s: entities differ\nexpected:\n%s\ngot:\n%s" % (
                name, fmt(expected), fmt(got)))
    test.__name__ = "test_article_" + name.replace("-", "_")
    test.__doc__ = "tests/data/articles/%s.txt tags as expected" % name
    return test


for _name in article_names():
    _t = make_article_test(_name)
    setattr(ShippedGazetteers, _t.__name__, _t)


if __name__ == "__main__":
    unittest.main(verbosity=2)
