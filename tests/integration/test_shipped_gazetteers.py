"""Acceptance test of the shipped gazetteers (gazetteers/*.yaml).

1. Every shipped file passes `gaztagd --check`, together and each alone.
2. Each news article in tests/data/articles/<name>.txt, tagged offline with
   `gaztagd --tag FILE --gazetteers gazetteers/ --overlaps longest`, yields
   exactly the [text, type, id] list of <name>.expected.json, in order of
   appearance; and every span's `text` is the article's substring
   [start:end] in code points.
3. places.yaml carries the context attrs of SPEC 8.3/8.4: a country entry its
   own ISO code as `country`, a first-level region (US state, oblast) its own
   `admin1`, every city its `country` (and, where given, an `admin1` of that
   country), and US states their AP-style abbreviations ("Fla.") as
   case-sensitive aliases.  Read with a small line reader (the file is
   regular: one `- id:` line per entry, keys at 4 spaces, attrs at 6), so
   that no YAML library is needed.

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
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gzharness import SOURCE_ROOT, gaztagd_path  # noqa: E402

SHIPPED = os.path.join(SOURCE_ROOT, "gazetteers")
ARTICLES = os.path.join(SOURCE_ROOT, "tests", "data", "articles")
TIMEOUT = 60


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


# ---- Context attrs of places.yaml (SPEC 8.3/8.4) ----

PLACES = os.path.join(SHIPPED, "places.yaml")

# Places of kind city/capital that carry no `country`, with the reason.
CITIES_WITHOUT_COUNTRY = {
    "jerusalem": "status disputed (East Jerusalem is a separate entry, PS)",
}
# Places that are not seas, rivers or regions (which may span several
# countries) and still carry no `country`, with the reason.
OTHER_PLACES_WITHOUT_COUNTRY = dict(CITIES_WITHOUT_COUNTRY, **{
    "crimean-bridge": "spans the Kerch Strait between Crimea (UA) and Russia",
    "kerch-strait": "between Crimea (UA) and Russia",
})
# US and Ukrainian regions that are not first-level administrative regions.
NOT_FIRST_LEVEL = {
    "donbas": "historical region over two oblasts",
    "donetsk-peoples-republic": "Russian-installed entity, not a GeoNames region",
    "luhansk-peoples-republic": "Russian-installed entity, not a GeoNames region",
}
# AP style: eight states are never abbreviated (Alaska, Hawaii, Idaho, Iowa,
# Maine, Ohio, Texas, Utah).
AP_ABBREVIATIONS = {
    "alabama": "Ala.", "arizona": "Ariz.", "arkansas": "Ark.",
    "california": "Calif.", "colorado": "Colo.", "connecticut": "Conn.",
    "delaware": "Del.", "florida": "Fla.", "georgia-us-state": "Ga.",
    "illinois": "Ill.", "indiana": "Ind.", "kansas": "Kan.",
    "kentucky": "Ky.", "louisiana": "La.", "maryland": "Md.",
    "massachusetts": "Mass.", "michigan": "Mich.", "minnesota": "Minn.",
    "mississippi": "Miss.", "missouri": "Mo.", "montana": "Mont.",
    "nebraska": "Neb.", "nevada": "Nev.", "new-hampshire": "N.H.",
    "new-jersey": "N.J.", "new-mexico": "N.M.", "new-york-state": "N.Y.",
    "north-carolina": "N.C.", "north-dakota": "N.D.", "oklahoma": "Okla.",
    "oregon": "Ore.", "pennsylvania": "Pa.", "rhode-island": "R.I.",
    "south-carolina": "S.C.", "south-dakota": "S.D.", "tennessee": "Tenn.",
    "vermont": "Vt.", "virginia": "Va.", "washington-state": "Wash.",
    "west-virginia": "W.Va.", "wisconsin": "Wis.", "wyoming": "Wyo.",
}
FIRST_LEVEL_KINDS = ("region", "oblast", "autonomous republic")

_ENTRY_RE = re.compile(r"^  - id: (\S+)\s*$")
_KEY_RE = re.compile(r"^    ([a-z_]+): (.*)$")
_ATTR_RE = re.compile(r"^      ([A-Za-z0-9_]+): (.*)$")


def read_places(path=PLACES):
    """The entries of places.yaml as dicts: id, line, the entry keys as raw
    text (name, aliases, ...) and `attrs`, a dict of raw attr values (quotes
    kept, so that a test can tell "US" from US)."""
    entries = []
    cur = None
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            m = _ENTRY_RE.match(line)
            if m:
                cur = {"id": m.group(1), "line": lineno, "attrs": {}}
                entries.append(cur)
                continue
            if cur is None:
                continue
            m = _ATTR_RE.match(line)
            if m:
                cur["attrs"][m.group(1)] = m.group(2).strip()
                continue
            m = _KEY_RE.match(line)
            if m:
                cur[m.group(1)] = m.group(2).strip()
    return entries


def unquote(raw):
    """A double-quoted attr value's text, or None if it is not quoted."""
    if raw is not None and len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return raw[1:-1]
    return None


class ShippedPlaceContext(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.entries = read_places()
        cls.by_id = {e["id"]: e for e in cls.entries}

    def where(self, e):
        return "places.yaml:%d: %s" % (e["line"], e["id"])

    def test_reader_sees_the_file(self):
        self.assertGreater(len(self.entries), 1000)
        kinds = [e["attrs"].get("kind") for e in self.entries]
        self.assertGreaterEqual(kinds.count("country"), 190)
        self.assertEqual(len(self.by_id), len(self.entries), "duplicate ids")

    def test_every_country_carries_its_code(self):
        codes = {}
        for e in self.entries:
            if e["attrs"].get("kind") != "country":
                continue
            with self.subTest(id=e["id"]):
                code = unquote(e["attrs"].get("country"))
                self.assertIsNotNone(code, self.where(e) + ": no quoted `country`")
                self.assertRegex(code, r"^[A-Z]{2}$", self.where(e))
                self.assertNotIn(code, codes, "%s: %s is also %s's code"
                                 % (self.where(e), code, codes.get(code)))
                self.assertNotIn("admin1", e["attrs"], self.where(e))
                codes[code] = e["id"]
        for code, eid in (("GE", "georgia"), ("UA", "ukraine"), ("US", "united-states")):
            if eid in self.by_id:
                self.assertEqual(unquote(self.by_id[eid]["attrs"]["country"]), code)

    def test_us_states_and_oblasts_carry_admin1(self):
        seen = {"US": 0, "UA": 0}
        for e in self.entries:
            a = e["attrs"]
            country = unquote(a.get("country"))
            if country not in seen or a.get("kind") not in FIRST_LEVEL_KINDS:
                continue
            if e["id"] in NOT_FIRST_LEVEL:
                self.assertNotIn("admin1", a, self.where(e))
                continue
            with self.subTest(id=e["id"]):
                admin1 = unquote(a.get("admin1"))
                self.assertIsNotNone(admin1, self.where(e) + ": no quoted `admin1`")
                self.assertRegex(admin1, r"^[A-Z]{2}\.[0-9A-Z]{2}$", self.where(e))
                self.assertTrue(admin1.startswith(country + "."), self.where(e))
                seen[country] += 1
        self.assertEqual(seen["US"], 50, "US states with admin1")
        # 24 oblasts, the Autonomous Republic of Crimea and the Russian-installed
        # Republic of Crimea (same territory, GeoNames UA.11).
        self.assertEqual(seen["UA"], 26, "Ukrainian first-level regions with admin1")
        expect = {"florida": "US.FL", "georgia-us-state": "US.GA",
                  "new-york-state": "US.NY", "kherson-oblast": "UA.08",
                  "kyiv-oblast": "UA.13", "donetsk-oblast": "UA.05",
                  "autonomous-republic-of-crimea": "UA.11",
                  # cities that are their own admin1 in GeoNames
                  "kyiv": "UA.12", "sevastopol": "UA.20"}
        for eid, admin1 in expect.items():
            self.assertEqual(unquote(self.by_id[eid]["attrs"].get("admin1")), admin1, eid)

    def test_admin1_is_of_its_country(self):
        for e in self.entries:
            raw = e["attrs"].get("admin1")
            if raw is None:
                continue
            with self.subTest(id=e["id"]):
                admin1 = unquote(raw)
                self.assertIsNotNone(admin1, self.where(e) + ": admin1 not quoted")
                country = unquote(e["attrs"].get("country"))
                self.assertIsNotNone(country, self.where(e) + ": admin1 without country")
                self.assertRegex(admin1, r"^[A-Z]{2}\.[0-9A-Z]+$", self.where(e))
                self.assertTrue(admin1.startswith(country + "."), self.where(e))

    def test_places_in_an_oblast_share_its_admin1(self):
        # Ukraine/Russia section: `oblast:`/`region:` names a region entry; a
        # town's admin1 must be that region's.
        by_name = {}
        for e in self.entries:
            if "admin1" in e["attrs"] and e["attrs"].get("kind") in (
                    "oblast", "krai", "region", "autonomous republic"):
                by_name[e.get("name", "").strip('"')] = unquote(e["attrs"]["admin1"])
        checked = 0
        for e in self.entries:
            a = e["attrs"]
            region = a.get("oblast") or a.get("region")
            if not region or "admin1" not in a or region not in by_name:
                continue
            with self.subTest(id=e["id"]):
                self.assertEqual(unquote(a["admin1"]), by_name[region],
                                 "%s: in %s" % (self.where(e), region))
                checked += 1
        self.assertGreater(checked, 150)

    def test_every_city_has_a_country(self):
        for e in self.entries:
            if e["attrs"].get("kind") not in ("city", "capital"):
                continue
            with self.subTest(id=e["id"]):
                country = unquote(e["attrs"].get("country"))
                if e["id"] in CITIES_WITHOUT_COUNTRY:
                    self.assertIsNone(country, "%s is listed as an exception"
                                      % self.where(e))
                    continue
                self.assertIsNotNone(country, self.where(e) + ": no quoted `country`")
                self.assertRegex(country, r"^[A-Z]{2}$", self.where(e))

    def test_single_country_places_have_a_country(self):
        # Seas, rivers and regions may span several countries; anything else
        # (towns, villages, sites) lies in one, with the listed exceptions.
        for e in self.entries:
            if e["attrs"].get("kind") in ("sea", "river", "region", "country"):
                continue
            with self.subTest(id=e["id"]):
                if e["id"] in OTHER_PLACES_WITHOUT_COUNTRY:
                    self.assertNotIn("country", e["attrs"], self.where(e))
                else:
                    self.assertIsNotNone(unquote(e["attrs"].get("country")),
                                         self.where(e) + ": no quoted `country`")

    def test_us_states_have_ap_abbreviations(self):
        for eid, abbr in AP_ABBREVIATIONS.items():
            with self.subTest(id=eid):
                e = self.by_id[eid]
                self.assertEqual(unquote(e["attrs"].get("country")), "US")
                self.assertIn("{text: %s, case: sensitive}" % abbr,
                              e.get("aliases", ""), self.where(e))
                # No two-letter postal codes (IN, OR, ME, OK... are words).
                self.assertNotRegex(e.get("aliases", ""),
                                    r"(^|[\[, ])[A-Z]{2}([,\]}]|$)", self.where(e))
        others = [e["id"] for e in self.entries
                  if any("{text: %s," % a in e.get("aliases", "")
                         for a in AP_ABBREVIATIONS.values())
                  and e["id"] not in AP_ABBREVIATIONS]
        self.assertEqual(others, [], "AP state abbreviations on other entries")

    def test_ap_abbreviation_tags_the_state(self):
        text = "Storms hit Gainesville, Fla., and Albany, N.Y., on Tuesday; fla. is not it.\n"
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"),
                            "gaztag-shipped-ap-%d.txt" % os.getpid())
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        try:
            out = tag(path)
        finally:
            os.unlink(path)
        got = [(e["text"], e["id"]) for e in out["entities"]]
        self.assertIn(("Fla.", "florida"), got)
        self.assertIn(("N.Y.", "new-york-state"), got)
        self.assertNotIn("fla.", [t for t, _ in got])
        florida = [e for e in out["entities"] if e["id"] == "florida"][0]
        self.assertEqual(florida["attrs"].get("admin1"), "US.FL")
        self.assertEqual(florida["attrs"].get("country"), "US")


for _name in article_names():
    _t = make_article_test(_name)
    setattr(ShippedGazetteers, _t.__name__, _t)


if __name__ == "__main__":
    unittest.main(verbosity=2)
