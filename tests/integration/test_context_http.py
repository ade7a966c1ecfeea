"""SPEC §8 through the real gaztagd: explain=true (query, JSON, NDJSON),
"via": "name-part", GET /lookup, and the curated and imported layers side by
side.  Exact JSON throughout.

Gazetteers: tests/data/context (a curated file, people, and an imported
layer written the way scripts/import-geonames writes it)."""

import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gzharness import SOURCE_ROOT, DaemonTestCase  # noqa: E402

DATA = os.path.join(SOURCE_ROOT, "tests", "data", "context")
PARIS_TX = {"type": "place", "id": "paris-tx", "name": "Paris",
            "attrs": {"country": "US", "admin1": "US.TX"}}
PARIS_FR = {"id": "paris-fr", "type": "place", "name": "Paris"}
TEXAS = {"type": "place", "id": "texas", "name": "Texas",
         "attrs": {"country": "US", "admin1": "US.TX"}}


class ContextTest(DaemonTestCase):
    daemon_kwargs = {"gazetteers": (DATA,)}

    def test_qualifier_explained_by_query_parameter(self):
        status, body, _ = self.d.tag("Paris, Texas said nothing.", "?explain=true")
        self.assertEqual((status, body), (200, {"entities": [
            dict(start=0, end=5, text="Paris", alternatives=[PARIS_FR],
                 why={"rule": "qualifier", "qualifier": "texas"}, **PARIS_TX),
            dict(start=7, end=12, text="Texas", why={"rule": "only"}, **TEXAS),
        ], "offsets": "codepoint", "gazetteers": self.gz_hash}))

    def test_without_explain_no_why(self):
        status, body, _ = self.d.tag("Paris, Texas.")
        self.assertEqual([sorted(e) for e in body["entities"]], [
            ["alternatives", "attrs", "end", "id", "name", "start", "text", "type"],
            ["attrs", "end", "id", "name", "start", "text", "type"]])

    def test_support_in_json_request(self):
        status, body, _ = self.d.json(
            "POST", "/tag", '{"text": "Georgia (Tbilisi).", "explain": true}',
            {"Content-Type": "application/json"})
        self.assertEqual(status, 200)
        self.assertEqual([(e["id"], e["why"]) for e in body["entities"]], [
            ("georgia", {"rule": "qualifier", "qualifier": "tbilisi"}),
            ("tbilisi", {"rule": "only"})])
        status, body, _ = self.d.json(
            "POST", "/tag", '{"text": "Georgia and Tbilisi.", "explain": true}',
            {"Content-Type": "application/json"})
        self.assertEqual([(e["id"], e["why"]) for e in body["entities"]], [
            ("georgia", {"rule": "support", "support": ["tbilisi"]}),
            ("tbilisi", {"rule": "only"})])

    def test_bad_explain_values(self):
        status, body, _ = self.d.tag("x", "?explain=yes")
        self.assertEqual((status, body["error"]["code"], body["error"]["message"]),
                         (400, "bad_parameter",
                          "bad value 'yes' for explain (expected true or false)"))
        status, body, _ = self.d.json("POST", "/tag", '{"text": "x", "explain": 1}',
                                      {"Content-Type": "application/json"})
        self.assertEqual((status, body["error"]["message"]),
                         (400, "'explain' must be true or false"))

    def test_name_part_in_ndjson(self):
        lines = ('{"id": 1, "text": "Oleh Syniehubov spoke. Syniehubov left.", "explain": true}\n'
                 '{"id": 2, "text": "Syniehubov left."}\n')
        status, hdrs, data = self.d.request("POST", "/tag", lines.encode(),
                                            {"Content-Type": "application/x-ndjson"})
        self.assertEqual(status, 200)
        self.assertEqual(data.decode().splitlines(), [
            '{"id":1,"entities":[{"start":0,"end":15,"text":"Oleh Syniehubov","type":"person",'
            '"id":"oleh-syniehubov","name":"Oleh Syniehubov","why":{"rule":"only"}},'
            '{"start":23,"end":33,"text":"Syniehubov","type":"person","id":"oleh-syniehubov",'
            '"name":"Oleh Syniehubov","via":"name-part","why":{"rule":"name-part"}}],'
            '"gazetteers":"%s"}' % self.gz_hash,
            '{"id":2,"entities":[],"gazetteers":"%s"}' % self.gz_hash])

    def test_imported_common_word_and_curated_sentence_start(self):
        status, body, _ = self.d.tag("Turkey said no. Said is a town, said Said.")
        self.assertEqual([(e["text"], e["id"]) for e in body["entities"]], [("Turkey", "turkey")])

    def test_lookup(self):
        status, body, _ = self.d.json("GET", "/lookup?" + urllib.parse.urlencode({"text": "PARIS"}))
        path = os.path.join(DATA, "zz-imported.yaml")
        self.assertEqual((status, body), (200, {"text": "PARIS", "entries": [
            {"id": "paris-fr", "type": "place", "name": "Paris", "form": "Paris",
             "case": "proper", "file": path, "line": 8, "priority": -0.2,
             "attrs": {"country": "FR", "admin1": "FR.11"}},
            {"id": "paris-tx", "type": "place", "name": "Paris", "form": "Paris",
             "case": "proper", "file": path, "line": 12, "priority": -0.6,
             "evidence": "required", "attrs": {"country": "US", "admin1": "US.TX"}},
        ]}))
        status, body, _ = self.d.json("GET", "/lookup?text=Oleh%20Syniehubov")
        self.assertEqual([e["id"] for e in body["entries"]], ["oleh-syniehubov"])
        status, body, _ = self.d.json("GET", "/lookup?text=Nowhere")
        self.assertEqual(body, {"text": "Nowhere", "entries": []})

    def test_lookup_errors(self):
        status, body, _ = self.d.json("GET", "/lookup")
        self.assertEqual((status, body["error"]["code"]), (400, "bad_parameter"))
        status, body, _ = self.d.json("GET", "/lookup?text=%FF")
        self.assertEqual((status, body["error"]["code"], body["error"]["offset"]),
                         (400, "invalid_utf8", 0))
        status, body, _ = self.d.json("POST", "/lookup?text=x")
        self.assertEqual(status, 405)


if __name__ == "__main__":
    unittest.main(verbosity=2)
