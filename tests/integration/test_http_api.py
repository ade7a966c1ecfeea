"""SPEC §4 against the real gaztagd: every endpoint, every request form,
every error status, the three offset units.  Exact JSON throughout.

Gazetteers: tests/data/http/gazetteers (people, places, units)."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402
from gzharness import GAZETTEERS, Daemon, DaemonTestCase  # noqa: E402

ZELENSKY = {"type": "person", "id": "volodymyr-zelensky",
            "name": "Volodymyr Zelensky",
            "attrs": {"wikidata": "Q3874799", "role": "President of Ukraine"}}
KYIV = {"type": "place", "id": "kyiv", "name": "Kyiv",
        "attrs": {"country": "UA", "population": 2952301}}
KYIV_OBLAST = {"type": "place", "id": "kyiv-oblast", "name": "Kyiv Oblast"}
MARIUPOL = {"type": "place", "id": "mariupol", "name": "Mariupol",
            "attrs": {"country": "UA"}}
SEA_OF_AZOV = {"type": "place", "id": "sea-of-azov", "name": "Sea of Azov"}
AZOV_REGIMENT = {"type": "unit", "id": "azov-regiment", "name": "Azov Regiment"}
ZURICH = {"type": "place", "id": "zurich", "name": "Zürich"}
US = {"type": "place", "id": "united-states", "name": "United States"}
WALESA = {"type": "person", "id": "lech-walesa", "name": "Lech Wałęsa"}


def span(start, end, text, entry, **extra):
    d = {"start": start, "end": end, "text": text}
    d.update(entry)
    d.update(extra)
    # Key order does not matter to ==, but keep the SPEC's for readability.
    return d


def error(code, message, **extra):
    e = {"code": code, "message": message}
    e.update(extra)
    return {"error": e}


TEXT = "Zelensky visited Kyiv Oblast and Mariupol."
TEXT_ENTITIES = [
    span(0, 8, "Zelensky", ZELENSKY),
    span(17, 28, "Kyiv Oblast", KYIV_OBLAST),
    span(33, 41, "Mariupol", MARIUPOL),
]


class TagRawTest(DaemonTestCase):
    """POST /tag with a raw text body, under every content type that means
    raw text."""

    def test_raw_text_plain(self):
        status, body, _ = self.d.tag(TEXT)
        self.assertEqual(status, 200)
        self.assertEqual(body, {"entities": TEXT_ENTITIES, "offsets": "codepoint", "gazetteers": self.gz_hash})

    def test_raw_without_content_type(self):
        status, body, _ = self.d.json("POST", "/tag", TEXT)
        self.assertEqual((status, body),
                         (200, {"entities": TEXT_ENTITIES, "offsets": "codepoint", "gazetteers": self.gz_hash}))

    def test_raw_octet_stream_and_charset_utf8(self):
        for ct in ("application/octet-stream", "text/plain; charset=utf-8",
                   "text/plain; charset=\"UTF-8\"", "text/markdown"):
            with self.subTest(ct=ct):
                status, body, _ = self.d.tag(TEXT, headers={"Content-Type": ct})
                self.assertEqual(status, 200)
                self.assertEqual(body["entities"], TEXT_ENTITIES)

    def test_raw_form_urlencoded_is_taken_verbatim(self):
        # `curl -d @file` sends this content type; the body is still the text.
        text = "Kyiv+Mariupol%20x"
        status, body, _ = self.d.tag(text, headers={
            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200)
        self.assertEqual(body["entities"], [span(0, 4, "Kyiv", KYIV),
                                            span(5, 13, "Mariupol", MARIUPOL)])

    def test_empty_body(self):
        status, body, _ = self.d.tag("")
        self.assertEqual((status, body), (200, {"entities": [], "offsets": "codepoint", "gazetteers": self.gz_hash}))

    def test_possessive_longest_ambiguity_case_and_folding(self):
        text = ("Zelensky's men held the Sea of Azov. Azov fought. US not us. "
                "Lech Walesa spoke.")
        status, body, _ = self.d.tag(text)
        self.assertEqual(status, 200)
        self.assertEqual(body["entities"], [
            span(0, 8, "Zelensky", ZELENSKY),
            span(24, 35, "Sea of Azov", SEA_OF_AZOV),
            span(37, 41, "Azov", AZOV_REGIMENT,
                 alternatives=[{"id": "sea-of-azov", "type": "place",
                                "name": "Sea of Azov"}]),
            span(50, 52, "US", US),
            span(61, 72, "Lech Walesa", WALESA),
        ])

    def test_keep_alive_many_requests_one_connection(self):
        conn = self.d.conn()
        try:
            for i in range(20):
                status, _, data = self.d.request("POST", "/tag", b"Kyiv", conn=conn)
                self.assertEqual(status, 200)
                self.assertEqual(json.loads(data)["entities"], [span(0, 4, "Kyiv", KYIV)])
                status, _, data = self.d.request("GET", "/health", conn=conn)
                self.assertEqual(status, 200)
        finally:
            conn.close()


class OffsetsTest(DaemonTestCase):
    """The three offset units, by query parameter and by JSON field."""

    TEXT = "Zürich 😀 Kyiv"

    def expected(self, unit):
        return {
            "codepoint": [span(0, 6, "Zürich", ZURICH), span(9, 13, "Kyiv", KYIV)],
            "utf16": [span(0, 6, "Zürich", ZURICH), span(10, 14, "Kyiv", KYIV)],
            "byte": [span(0, 7, "Zürich", ZURICH), span(13, 17, "Kyiv", KYIV)],
        }[unit]

    def test_default_is_codepoint(self):
        status, body, _ = self.d.tag(self.TEXT)
        self.assertEqual((status, body),
                         (200, {"entities": self.expected("codepoint"),
                                "offsets": "codepoint", "gazetteers": self.gz_hash}))

    def test_query_parameter(self):
        for unit in ("codepoint", "utf16", "byte"):
            with self.subTest(unit=unit):
                status, body, _ = self.d.tag(self.TEXT, "?offsets=" + unit)
                self.assertEqual((status, body),
                                 (200, {"entities": self.expected(unit), "offsets": unit, "gazetteers": self.gz_hash}))

    def test_json_field(self):
        for unit in ("codepoint", "utf16", "byte"):
            with self.subTest(unit=unit):
                status, body, _ = self.d.json(
                    "POST", "/tag", json.dumps({"text": self.TEXT, "offsets": unit}),
                    {"Content-Type": "application/json"})
                self.assertEqual((status, body),
                                 (200, {"entities": self.expected(unit), "offsets": unit, "gazetteers": self.gz_hash}))

    def test_offsets_slice_the_posted_text(self):
        text = "«Kyiv» — 𝔸 Mariupol, Zürich"
        raw = text.encode("utf-8")
        utf16 = text.encode("utf-16-le")
        got = {}
        for unit in ("codepoint", "utf16", "byte"):
            status, body, _ = self.d.tag(text, "?offsets=" + unit)
            self.assertEqual(status, 200)
            got[unit] = body["entities"]
        self.assertEqual([e["text"] for e in got["codepoint"]], ["Kyiv", "Mariupol", "Zürich"])
        for e in got["codepoint"]:
            self.assertEqual(text[e["start"]:e["end"]], e["text"])
        for e in got["byte"]:
            self.assertEqual(raw[e["start"]:e["end"]].decode("utf-8"), e["text"])
        for e in got["utf16"]:
            self.assertEqual(utf16[2 * e["start"]:2 * e["end"]].decode("utf-16-le"), e["text"])


class QueryParameterTest(DaemonTestCase):

    def test_types_filter(self):
        status, body, _ = self.d.tag(TEXT, "?types=person")
        self.assertEqual(body, {"entities": [span(0, 8, "Zelensky", ZELENSKY)],
                                "offsets": "codepoint", "gazetteers": self.gz_hash})
        status, body, _ = self.d.tag(TEXT, "?types=person,place")
        self.assertEqual(body["entities"], TEXT_ENTITIES)

    def test_types_filter_removes_candidates_before_the_choice(self):
        status, body, _ = self.d.tag("Azov", "?types=place")
        self.assertEqual(body["entities"], [span(0, 4, "Azov", SEA_OF_AZOV)])

    def test_overlaps_all(self):
        status, body, _ = self.d.tag("Kyiv Oblast", "?overlaps=all")
        self.assertEqual((status, body), (200, {"entities": [
            span(0, 11, "Kyiv Oblast", KYIV_OBLAST),
            span(0, 4, "Kyiv", KYIV)], "offsets": "codepoint", "gazetteers": self.gz_hash}))

    def test_overlaps_longest(self):
        status, body, _ = self.d.tag("Kyiv Oblast", "?overlaps=longest")
        self.assertEqual(body["entities"], [span(0, 11, "Kyiv Oblast", KYIV_OBLAST)])

    def test_all_three_together(self):
        status, body, _ = self.d.tag("😀 Kyiv Oblast",
                                     "?types=place&overlaps=all&offsets=utf16")
        self.assertEqual((status, body), (200, {"entities": [
            span(3, 14, "Kyiv Oblast", KYIV_OBLAST),
            span(3, 7, "Kyiv", KYIV)], "offsets": "utf16", "gazetteers": self.gz_hash}))

    def test_bad_overlaps(self):
        status, body, _ = self.d.tag("Kyiv", "?overlaps=some")
        self.assertEqual((status, body), (400, error(
            "bad_parameter", "bad value 'some' for overlaps (expected longest or all)")))

    def test_bad_offsets(self):
        status, body, _ = self.d.tag("Kyiv", "?offsets=chars")
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "bad_parameter")
        self.assertIn("chars", body["error"]["message"])

    def test_unknown_type(self):
        status, body, _ = self.d.tag("Kyiv", "?types=nosuch")
        self.assertEqual((status, body), (400, error(
            "bad_parameter",
            "unknown type 'nosuch' in types (loaded types: person, place, unit)")))

    def test_unknown_parameter(self):
        status, body, _ = self.d.tag("Kyiv", "?type=person")
        self.assertEqual((status, body), (400, error(
            "bad_parameter",
            "unknown query parameter 'type' (expected types, overlaps, offsets, explain, "
            "format or annotate)")))


class TagJsonTest(DaemonTestCase):

    def post(self, obj, raw=None):
        body = raw if raw is not None else json.dumps(obj)
        return self.d.json("POST", "/tag", body, {"Content-Type": "application/json"})

    def test_text_only(self):
        status, body, _ = self.post({"text": TEXT})
        self.assertEqual((status, body),
                         (200, {"entities": TEXT_ENTITIES, "offsets": "codepoint", "gazetteers": self.gz_hash}))

    def test_all_fields(self):
        status, body, _ = self.post({"text": "😀 Kyiv Oblast", "types": ["place"],
                                     "overlaps": "all", "offsets": "utf16"})
        self.assertEqual((status, body), (200, {"entities": [
            span(3, 14, "Kyiv Oblast", KYIV_OBLAST),
            span(3, 7, "Kyiv", KYIV)], "offsets": "utf16", "gazetteers": self.gz_hash}))

    def test_types_as_string(self):
        status, body, _ = self.post({"text": TEXT, "types": "person"})
        self.assertEqual(body["entities"], [span(0, 8, "Zelensky", ZELENSKY)])

    def test_json_fields_override_query(self):
        status, body, _ = self.d.json(
            "POST", "/tag?offsets=byte&types=person",
            json.dumps({"text": "Zürich", "offsets": "codepoint", "types": ["place"]}),
            {"Content-Type": "application/json; charset=utf-8"})
        self.assertEqual((status, body), (200, {
            "entities": [span(0, 6, "Zürich", ZURICH)], "offsets": "codepoint", "gazetteers": self.gz_hash}))

    def test_escaped_text_and_nul(self):
        status, body, _ = self.post(None, raw='{"text": "Kyiv\\u0000Mari\\u0075pol"}')
        self.assertEqual(body["entities"], [span(0, 4, "Kyiv", KYIV),
                                            span(5, 13, "Mariupol", MARIUPOL)])

    def test_bad_json(self):
        status, body, _ = self.post(None, raw='{"text": "Kyiv"')
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "bad_json")
        self.assertTrue(body["error"]["message"].startswith("invalid JSON at line 1, column"))

    def test_not_an_object(self):
        status, body, _ = self.post(["Kyiv"])
        self.assertEqual((status, body), (400, error(
            "bad_json", 'expected a JSON object with a "text" field')))

    def test_missing_text(self):
        status, body, _ = self.post({"txt": "Kyiv"})
        self.assertEqual((status, body), (400, error("bad_parameter", 'missing "text" field')))

    def test_text_not_a_string(self):
        status, body, _ = self.post({"text": 5})
        self.assertEqual((status, body), (400, error("bad_parameter",
                                                     '"text" must be a string')))

    def test_unknown_field(self):
        status, body, _ = self.post({"text": "Kyiv", "offset": "byte"})
        self.assertEqual((status, body), (400, error(
            "bad_parameter",
            "unknown field 'offset' (expected text, types, overlaps, offsets, explain, "
            "format or annotate)")))

    def test_bad_field_values(self):
        for obj, message in (
                ({"text": "Kyiv", "types": [1]}, "'types' must be a list of strings"),
                ({"text": "Kyiv", "types": 3}, "'types' must be a list of strings"),
                ({"text": "Kyiv", "overlaps": 1}, "'overlaps' must be a string"),
                ({"text": "Kyiv", "overlaps": "some"},
                 "bad value 'some' for overlaps (expected longest or all)")):
            with self.subTest(obj=obj):
                status, body, _ = self.post(obj)
                self.assertEqual((status, body), (400, error("bad_parameter", message)))

    def test_invalid_utf8_in_json_is_bad_json(self):
        status, body, _ = self.post(None, raw=b'{"text": "Kyiv \xff"}')
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "bad_json")


class TagNdjsonTest(DaemonTestCase):

    def post(self, lines, ct="application/x-ndjson"):
        body = "".join(line + "\n" for line in lines).encode("utf-8")
        status, hdrs, data = self.d.request("POST", "/tag", body, {"Content-Type": ct})
        self.assertEqual(hdrs["content-type"], "application/x-ndjson; charset=utf-8")
        text = data.decode("utf-8")
        self.assertTrue(text == "" or text.endswith("\n"))
        return status, [json.loads(x) for x in text.splitlines()]

    def test_one_answer_per_line_in_order_bad_lines_do_not_fail_the_rest(self):
        status, answers = self.post([
            '{"id": 1, "text": "Kyiv"}',
            '{"id": "b", "text": "Azov", "types": ["place"], "offsets": "byte"}',
            'not json',
            '{"text": "Mariupol"}',
            '',
            '{"id": 5, "text": 5}',
            '{"id": 6, "text": "x", "types": ["nosuch"]}',
            '{"id": {"doc": 7}, "text": "Zürich 😀 Kyiv", "offsets": "utf16"}',
            '[1, 2]',
            '{"id": 9, "text": "Kyiv", "colour": "red"}',
        ])
        self.assertEqual(status, 200)
        self.assertEqual(answers[0], {"id": 1, "entities": [span(0, 4, "Kyiv", KYIV)], "gazetteers": self.gz_hash})
        self.assertEqual(answers[1], {"id": "b", "entities": [
            span(0, 4, "Azov", SEA_OF_AZOV)], "gazetteers": self.gz_hash})
        self.assertEqual(answers[2]["id"], None)
        self.assertEqual(answers[2]["error"]["code"], "bad_json")
        self.assertEqual(answers[3], {"id": None, "entities": [
            span(0, 8, "Mariupol", MARIUPOL)], "gazetteers": self.gz_hash})
        self.assertEqual(answers[4], {"id": 5, "error": {
            "code": "bad_parameter", "message": '"text" must be a string'}})
        self.assertEqual(answers[5], {"id": 6, "error": {
            "code": "bad_parameter",
            "message": "unknown type 'nosuch' in types (loaded types: person, place, unit)"}})
        self.assertEqual(answers[6], {"id": {"doc": 7}, "entities": [
            span(0, 6, "Zürich", ZURICH), span(10, 14, "Kyiv", KYIV)], "gazetteers": self.gz_hash})
        self.assertEqual(answers[7], {"id": None, "error": {
            "code": "bad_json", "message": 'expected a JSON object with a "text" field'}})
        self.assertEqual(answers[8], {"id": 9, "error": {
            "code": "bad_parameter",
            "message": "unknown field 'colour' (expected id, text, types, overlaps, offsets, "
                       "explain, format or annotate)"}})
        self.assertEqual(len(answers), 9)

    def test_query_parameters_are_the_defaults_of_every_line(self):
        body = b'{"id": 1, "text": "Kyiv Oblast"}\r\n{"id": 2, "text": "Kyiv", "overlaps": "longest"}'
        status, hdrs, data = self.d.request("POST", "/tag?overlaps=all&types=place", body,
                                            {"Content-Type": "application/x-ndjson"})
        answers = [json.loads(x) for x in data.decode().splitlines()]
        self.assertEqual(answers, [
            {"id": 1, "entities": [span(0, 11, "Kyiv Oblast", KYIV_OBLAST),
                                   span(0, 4, "Kyiv", KYIV)], "gazetteers": self.gz_hash},
            {"id": 2, "entities": [span(0, 4, "Kyiv", KYIV)], "gazetteers": self.gz_hash}])

    def test_other_ndjson_type_names(self):
        for ct in ("application/ndjson", "application/jsonl"):
            with self.subTest(ct=ct):
                status, answers = self.post(['{"id": 1, "text": "Kyiv"}'], ct)
                self.assertEqual(answers, [{"id": 1, "entities": [span(0, 4, "Kyiv", KYIV)],
                                            "gazetteers": self.gz_hash}])

    def test_empty_body_empty_answer(self):
        status, answers = self.post([])
        self.assertEqual((status, answers), (200, []))

    def test_bad_query_parameter_fails_the_request(self):
        status, hdrs, data = self.d.request("POST", "/tag?overlaps=x", b'{"text":"Kyiv"}\n',
                                            {"Content-Type": "application/x-ndjson"})
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(data)["error"]["code"], "bad_parameter")


class OtherEndpointsTest(DaemonTestCase):

    def test_health(self):
        status, body, _ = self.d.json("GET", "/health")
        self.assertEqual(status, 200)
        self.assertRegex(body.pop("loaded_at"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsInstance(body.pop("load_seconds"), float)
        self.assertRegex(body.pop("gazetteers"), r"^[0-9a-f]{32}$")
        self.assertEqual(body, {"status": "ok", "entries": 10, "names": 16, "files": 3,
                                "generation": 1, "version": gzharness.project_version()})

    def test_head_health(self):
        status, hdrs, data = self.d.request("HEAD", "/health")
        self.assertEqual((status, data), (200, b""))
        self.assertEqual(hdrs["content-type"], "application/json; charset=utf-8")

    def test_gazetteers(self):
        status, body, _ = self.d.json("GET", "/gazetteers")
        self.assertRegex(body.pop("loaded_at"), r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIsInstance(body.pop("load_seconds"), float)
        self.assertEqual((status, body), (200, {"generation": 1, "hash": self.gz_hash,
                                                "gazetteers": [
            {"path": os.path.join(GAZETTEERS, "people.yaml"), "type": "person",
             "entries": 2, "names": 4},
            {"path": os.path.join(GAZETTEERS, "places.yaml"), "type": "place",
             "entries": 7, "names": 10},
            {"path": os.path.join(GAZETTEERS, "units.yaml"), "type": "unit",
             "entries": 1, "names": 2},
        ]}))

    def test_entity(self):
        status, body, _ = self.d.json("GET", "/entities/kyiv")
        self.assertEqual(status, 200)
        self.assertEqual(body, {
            "id": "kyiv", "name": "Kyiv", "type": "place", "aliases": ["Kiev"],
            "case": "insensitive", "priority": 0,
            "attrs": {"country": "UA", "population": 2952301},
            "file": os.path.join(GAZETTEERS, "places.yaml"), "line": 4})

    def test_entity_id_is_url_decoded(self):
        status, body, _ = self.d.json("GET", "/entities/saint%20petersburg")
        self.assertEqual(status, 200)
        self.assertEqual((body["id"], body["name"]), ("saint petersburg", "Saint Petersburg"))

    def test_entity_not_found(self):
        status, body, _ = self.d.json("GET", "/entities/nope")
        self.assertEqual((status, body), (404, error(
            "not_found", "no entity with id 'nope'", id="nope")))

    def test_unknown_paths(self):
        for method, path in (("GET", "/nope"), ("GET", "/entities/"), ("POST", "/tag/"),
                             ("GET", "/healthz")):
            with self.subTest(path=path):
                status, body, _ = self.d.json(method, path)
                self.assertEqual((status, body), (404, error(
                    "not_found",
                    "no such endpoint: %s %s (see GET /health, POST /tag)" % (method, path))))

    def test_method_not_allowed_has_allow(self):
        for method, path, allow in (("GET", "/tag", "POST"), ("PUT", "/tag", "POST"),
                                    ("POST", "/health", "GET, HEAD"),
                                    ("DELETE", "/entities/kyiv", "GET, HEAD"),
                                    ("POST", "/gazetteers", "GET, HEAD"),
                                    ("GET", "/reload", "POST")):
            with self.subTest(method=method, path=path):
                status, body, hdrs = self.d.json(method, path)
                self.assertEqual(status, 405)
                self.assertEqual(hdrs["allow"], allow)
                self.assertEqual(body, error(
                    "method_not_allowed",
                    "%s is not allowed on %s; use %s" % (method, path, allow)))


class MediaTypeAndUtf8Test(DaemonTestCase):

    def test_unsupported_content_types(self):
        for ct in ("image/png", "multipart/form-data; boundary=x", "application/xml",
                   "text/plain; charset=iso-8859-1"):
            with self.subTest(ct=ct):
                status, body, _ = self.d.tag("Kyiv", headers={"Content-Type": ct})
                self.assertEqual((status, body), (415, error(
                    "unsupported_media_type",
                    "unsupported Content-Type '%s' (expected text/plain, text/html, "
                    "application/json or application/x-ndjson, in UTF-8)" % ct)))

    def test_content_encoding_refused(self):
        status, body, _ = self.d.tag("Kyiv", headers={"Content-Type": "text/plain",
                                                      "Content-Encoding": "gzip"})
        self.assertEqual((status, body), (415, error(
            "unsupported_media_type",
            "Content-Encoding 'gzip' is not supported; send the text uncompressed")))

    def test_invalid_utf8_with_offset(self):
        for raw, offset in ((b"Kyiv \xff", 5), (b"\xc3", 0), (b"ab\xed\xa0\x80", 2),
                            (b"Kyiv \xc0\xaf", 5), (b"abc\xf4\x90\x80\x80", 3)):
            with self.subTest(raw=raw):
                status, body, _ = self.d.tag(raw)
                self.assertEqual((status, body), (400, error(
                    "invalid_utf8", "invalid UTF-8 at byte %d" % offset, offset=offset)))


class NotReadyTest(unittest.TestCase):
    """503 while no gazetteer is loaded (the first load held back by the
    daemon's test hook), then 200 once it is."""

    def test_503_while_loading(self):
        d = Daemon(env={"GAZTAGD_TEST_LOAD_DELAY_MS": "1500"}, wait_ready=False)
        try:
            status, body, _ = d.json("GET", "/health")
            self.assertEqual((status, body), (503, {
                "status": "loading", "version": gzharness.project_version(),
                "error": {"code": "not_ready", "message": "no gazetteer set is loaded yet"}}))
            for method, path in (("POST", "/tag"), ("GET", "/gazetteers"),
                                 ("GET", "/entities/kyiv")):
                status, body, _ = d.json(method, path, "Kyiv")
                self.assertEqual((status, body), (503, error(
                    "not_ready", "no gazetteer set is loaded yet")))
            self.assertIsNotNone(d.wait_log("gaztagd: ready", 10), d.log())
            status, body, _ = d.tag("Kyiv")
            self.assertEqual(status, 200)
        finally:
            self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
