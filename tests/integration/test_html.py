"""HTML input (issue 16) against the real gaztagd: POST /tag with
Content-Type: text/html, "format": "html" in a JSON body or an NDJSON line,
format=html in the query, and gaztagd --tag --format html.

The news pages of tests/data/html (see its README), tagged with the
gazetteers written for them (tests/data/html/gazetteers): the exact entities
of each page, each one's offsets checked by slicing the page as posted in
every unit (bytes, UTF-16 units, code points); annotate=true exactly; and
malformed pages (deep nesting, stray '<', bad references, invalid UTF-8),
each answered or refused with a clear 400 while the daemon keeps serving.
Standard library only.
"""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402
from gzharness import SOURCE_ROOT  # noqa: E402

HTML_DATA = os.path.join(SOURCE_ROOT, "tests", "data", "html")
GAZETTEERS = os.path.join(HTML_DATA, "gazetteers")
HTML = {"Content-Type": "text/html; charset=utf-8"}
UNITS = ("byte", "utf16", "codepoint")

# (text as it stands in the page, entry id) of every entity, in page order.
PAGES = {
    "kryvbas-herald-steelworks": [
        ("Dnipro", "dnipro"),                      # nav links are text
        ("Kyiv", "kyiv"),                          # (its title attribute is not)
        ("Kryvyi&nbsp;Rih", "kryvyi-rih"),         # h1; <title> is not text
        ("Natalia Koval", "natalia-koval"),        # byline link
        ("Volodymyr</b> Zelensky", "volodymyr-zelensky"),  # figcaption; not the alt
        ("Kryvyi Rih", "kryvyi-rih"),
        ("Volodymyr\n</strong><em>Zelensky", "volodymyr-zelensky"),
        ("Ernst &amp; Young", "ernst-young"),      # not Oleksandr Vilkul of the comment
        ("Kam&#x2019;ianske", "kamianske"),
        ("Nikopol", "nikopol"),
        ("Oleksandr&nbsp;Vilkul", "oleksandr-vilkul"),
        ("Dnipro", "dnipro"),                      # not the Kyiv of <noscript>
        ("Kryvyi Rih", "kryvyi-rih"),              # unclosed <td>
        ("Kam&#x2019;ianske", "kamianske"),
        ("Kharkiv", "kharkiv"),                    # the next <li> begins "Oblast"
        ("Kryvyi Rih", "kryvyi-rih"),              # footer
    ],
    "dnipro-ledger-zelensky-kharkiv": [
        ("Dnipro", "dnipro"),
        ("Zelensky", "volodymyr-zelensky"), ("Kharkiv", "kharkiv"),
        ("Kharkiv", "kharkiv"),
        ("Volodymyr</b> Zelensky", "volodymyr-zelensky"), ("Kharkiv", "kharkiv"),
        ("KHARKIV", "kharkiv"), ("Volodymyr Zelensky", "volodymyr-zelensky"),
        ("Kharkiv", "kharkiv"),
        ("Zelensky", "volodymyr-zelensky"), ("Azov</em> Brigade", "azov-brigade"),
        ("Vovchansk", "vovchansk"),
        ("Kharkiv", "kharkiv"), ("Zelensky", "volodymyr-zelensky"),
        ("Ihor Terekhov", "ihor-terekhov"), ("Kharkiv", "kharkiv"),
        ("Kharkiv Oblast", "kharkiv-oblast"), ("Oleh Syniehubov", "oleh-syniehubov"),
        ("NATO", "nato"), ("EU", "eu"),
        ("Brussels", "brussels"), ("Brussels", "brussels"),
        ("European Commission", "european-commission"), ("Kyiv", "kyiv"),
        ("Ursula von&nbsp;der&nbsp;Leyen", "ursula-von-der-leyen"),
        ("Kharkiv Oblast", "kharkiv-oblast"), ("Kharkiv", "kharkiv"),
        ("Vovchansk", "vovchansk"), ("Zelensky", "volodymyr-zelensky"),
        ("Vovchansk", "vovchansk"),
        ("Dnipro", "dnipro"), ("Dnipro", "dnipro"), ("Dnipro", "dnipro"),
    ],
    "northern-wire-azovstal": [
        ("Mariupol", "mariupol"), ("Taras Hnatiuk", "taras-hnatiuk"),
        ("ZAPORIZHZHIA", "zaporizhzhia"), ("Mariupol", "mariupol"),
        ("Iryna Vereshchuk", "iryna-vereshchuk"), ("Azov Regiment", "azov-regiment"),
        ("Denys Prokopenko", "denys-prokopenko"),
        ("Kyiv", "kyiv"),                          # not the Kyiv its <SCRIPT> writes
        ("Volodymyr\r\nZelensky", "volodymyr-zelensky"),
        ("International Committee of the Red Cross", "icrc"),
        ("Mariupol", "mariupol"), ("Sea of Azov", "sea-of-azov"),
        ("Taras Hnatiuk", "taras-hnatiuk"), ("Zaporizhzhia", "zaporizhzhia"),
        ("Mark O&#39;Neill", "mark-oneill"),
    ],
    "baltic-courier-liveblog": [
        ("V</span>ilnius", "vilnius"), ("NATO", "nato"),
        ("Stoltenberg", "jens-stoltenberg"), ("NATO", "nato"),
        ("Jens\n      Stoltenberg", "jens-stoltenberg"),
        ("Zelensky", "volodymyr-zelensky"),
        ("Volodymyr&nbsp;Zelensky", "volodymyr-zelensky"), ("Vilnius", "vilnius"),
        ("Київ", "kyiv"),
        ("Azov</em>\n      Regiment", "azov-regiment"),
        ("Zapo<wbr>rizhzhia", "zaporizhzhia"), ("Kher&shy;son", "kherson"),
        ("Azov Regiment", "azov-regiment"), ("Mariupol", "mariupol"),
        ("Kyiv", "kyiv"), ("Mariupol", "mariupol"),
        ("NATO", "nato"),                          # text the parser moved out of a table
        ("Vilnius", "vilnius"),
    ],
}


def read_page(name):
    with open(os.path.join(HTML_DATA, name + ".html"), "rb") as f:
        return f.read()


def page_slice(page, start, end, unit):
    """page[start:end] in unit, as a client in that unit slices."""
    if unit == "byte":
        return page[start:end].decode("utf-8")
    s = page.decode("utf-8")
    if unit == "codepoint":
        return s[start:end]
    return s.encode("utf-16-le")[2 * start:2 * end].decode("utf-16-le")


def error(code, message):
    return {"error": {"code": code, "message": message}}


def run_tag(*args, stdin=None):
    p = subprocess.run([gzharness.gaztagd_path(), "--gazetteers", GAZETTEERS, *args],
                       input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def marks_on_page(html):
    """[(start, end, id, text)] of each <mark> of an annotated page, start
    and end in code points of the page without the marks."""
    marks, removed = [], 0
    for m in re.finditer(r'<mark class="gz-[^"]*" data-gz-id="([^"]*)">(.*?)</mark>', html,
                         re.S):
        start = m.start() - removed
        marks.append((start, start + len(m.group(2)), m.group(1), m.group(2)))
        removed += m.end() - m.start() - len(m.group(2))
    return marks


def strip_marks(html):
    return re.sub(r'<mark class="gz-[^"]*" data-gz-id="[^"]*">|</mark>', "", html)


class HtmlTagTest(gzharness.DaemonTestCase):
    daemon_kwargs = {"gazetteers": (GAZETTEERS,)}
    maxDiff = None

    def post_html(self, body, query="", headers=HTML):
        return self.d.json("POST", "/tag" + query, body, headers)

    def check_entities(self, page, answer, expected, unit):
        """The entities are expected, each one's text the page's own at its
        offsets in unit."""
        self.assertEqual(answer["offsets"], unit)
        got = [(e["text"], e["id"]) for e in answer["entities"]]
        self.assertEqual(got, expected)
        for e in answer["entities"]:
            self.assertEqual(page_slice(page, e["start"], e["end"], unit), e["text"], e)

    # --- the news pages --------------------------------------------------

    def test_news_pages_exact_entities_and_offsets_in_every_unit(self):
        for name, expected in PAGES.items():
            page = read_page(name)
            for unit in UNITS:
                with self.subTest(page=name, unit=unit):
                    status, body, _ = self.post_html(page, "?offsets=" + unit)
                    self.assertEqual(status, 200, body)
                    self.check_entities(page, body, expected, unit)
                    self.assertNotIn("html", body)

    def test_spans_carry_what_raw_text_spans_carry(self):
        page = read_page("kryvbas-herald-steelworks")
        status, body, _ = self.post_html(page, "?types=person&explain=true")
        self.assertEqual(status, 200)
        self.assertEqual(body["entities"][:2], [
            {"start": 927, "end": 940, "text": "Natalia Koval", "type": "person",
             "id": "natalia-koval", "name": "Natalia Koval", "attrs": {"role": "reporter"},
             "why": {"rule": "only"}},
            {"start": 1145, "end": 1167, "text": "Volodymyr</b> Zelensky", "type": "person",
             "id": "volodymyr-zelensky", "name": "Volodymyr Zelensky",
             "attrs": {"role": "President of Ukraine"}, "why": {"rule": "only"}},
        ])
        self.assertEqual([e["id"] for e in body["entities"]], [
            "natalia-koval", "volodymyr-zelensky", "volodymyr-zelensky", "oleksandr-vilkul"])
        self.check_entities(page, body, [(e["text"], e["id"]) for e in body["entities"]],
                            "codepoint")

    def test_overlaps_all_nests_within_markup(self):
        page = b"<p><b>Volodymyr</b> Zelensky in <i>Kharkiv</i> Oblast</p>"
        status, body, _ = self.post_html(page, "?overlaps=all&offsets=utf16")
        self.assertEqual(status, 200)
        self.check_entities(page, body, [
            ("Volodymyr</b> Zelensky", "volodymyr-zelensky"),
            ("Zelensky", "volodymyr-zelensky"),
            ("Kharkiv</i> Oblast", "kharkiv-oblast"),
            ("Kharkiv", "kharkiv"),
        ], "utf16")

    # --- the ways of asking ------------------------------------------------

    def test_header_json_body_query_and_ndjson_agree(self):
        page = read_page("baltic-courier-liveblog")
        text = page.decode("utf-8")
        want = self.d.request("POST", "/tag?offsets=utf16", page, HTML)
        self.assertEqual(want[0], 200)
        ways = {
            "text/html": ("?offsets=utf16", page, {"Content-Type": "text/html"}),
            "TEXT/HTML; charset=\"UTF-8\"": ("?offsets=utf16", page,
                                             {"Content-Type": 'TEXT/HTML; charset="UTF-8"'}),
            "format=html, text/plain": ("?format=html&offsets=utf16", page,
                                        {"Content-Type": "text/plain"}),
            "format=html, no Content-Type": ("?format=html&offsets=utf16", page, {}),
            "JSON body": ("", json.dumps({"text": text, "format": "html",
                                          "offsets": "utf16"}).encode(),
                          {"Content-Type": "application/json"}),
            "JSON body, format=html": ("?format=html", json.dumps(
                {"text": text, "offsets": "utf16"}).encode(),
                {"Content-Type": "application/json"}),
        }
        for way, (query, body, headers) in ways.items():
            with self.subTest(way=way):
                status, hdrs, data = self.d.request("POST", "/tag" + query, body, headers)
                self.assertEqual((status, data), (want[0], want[2]))
                self.assertEqual(hdrs["content-type"], "application/json; charset=utf-8")
        # NDJSON: each line's own "format", or the query's for every line
        line = json.dumps({"id": 1, "text": text, "format": "html", "offsets": "utf16"})
        status, _, data = self.d.request("POST", "/tag", (line + "\n").encode(),
                                         {"Content-Type": "application/x-ndjson"})
        expected = json.loads(want[2])
        self.assertEqual((status, json.loads(data)),
                         (200, {"id": 1, "entities": expected["entities"],
                                "gazetteers": expected["gazetteers"]}))
        line = json.dumps({"id": 2, "text": text})
        status, _, data = self.d.request("POST", "/tag?format=html&offsets=utf16",
                                         (line + "\n").encode(),
                                         {"Content-Type": "application/x-ndjson"})
        self.assertEqual((status, json.loads(data)),
                         (200, {"id": 2, "entities": expected["entities"],
                                "gazetteers": expected["gazetteers"]}))

    def test_ndjson_a_bad_page_fails_its_line_only(self):
        deep = "<div>" * 100000 + "Kyiv"
        kyiv = {"start": 3, "end": 7, "text": "Kyiv", "type": "place", "id": "kyiv",
                "name": "Kyiv"}
        for query, lines in (
                ("", [{"id": 1, "text": deep, "format": "html"},
                      {"id": 2, "text": "<p>Kyiv</p>", "format": "html"},
                      {"id": 3, "text": "Kyiv", "format": "pdf"}]),
                # the lines of only id and text take the fast path
                ("?format=html", [{"id": 1, "text": deep}, {"id": 2, "text": "<p>Kyiv</p>"},
                                  {"id": 3, "text": "Kyiv", "format": "pdf"}])):
            with self.subTest(query=query):
                body = "".join(json.dumps(line) + "\n" for line in lines).encode()
                status, _, data = self.d.request("POST", "/tag" + query, body,
                                                 {"Content-Type": "application/x-ndjson"})
                answers = [json.loads(line) for line in data.decode().splitlines()]
                self.assertEqual(status, 200)
                self.assertEqual(answers[0]["id"], 1)
                self.assertEqual(answers[0]["error"]["code"], "html_too_complex")
                self.assertEqual(answers[1:], [
                    {"id": 2, "entities": [kyiv], "gazetteers": self.gz_hash},
                    {"id": 3, "error": {"code": "bad_parameter", "message":
                                        "bad value 'pdf' for format (expected text or html)"}}])

    def test_format_text_reads_the_markup_as_text(self):
        page = b'<p title="Kyiv">Kharkiv</p>'
        status, body, _ = self.post_html(page, "?format=text")
        self.assertEqual((status, [(e["start"], e["text"]) for e in body["entities"]]),
                         (200, [(10, "Kyiv"), (16, "Kharkiv")]))
        status, body, _ = self.post_html(page)
        self.assertEqual((status, [(e["start"], e["text"]) for e in body["entities"]]),
                         (200, [(16, "Kharkiv")]))

    def test_bad_format_and_annotate_values(self):
        cases = [
            ("?format=xml", b"Kyiv", {"Content-Type": "text/plain"},
             "bad value 'xml' for format (expected text or html)"),
            ("?annotate=yes", b"Kyiv", HTML,
             "bad value 'yes' for annotate (expected true or false)"),
            ("?annotate=true", b"Kyiv", {"Content-Type": "text/plain"},
             "annotate=true goes with HTML (Content-Type: text/html, or format=html)"),
            ("", b'{"text": "Kyiv", "format": 1}', {"Content-Type": "application/json"},
             "'format' must be a string"),
            ("", b'{"text": "Kyiv", "annotate": "true"}', {"Content-Type": "application/json"},
             "'annotate' must be true or false"),
            ("", b'{"text": "Kyiv", "annotate": true}', {"Content-Type": "application/json"},
             "annotate=true goes with HTML (Content-Type: text/html, or format=html)"),
        ]
        for query, body, headers, message in cases:
            with self.subTest(query=query, body=body):
                status, answer, _ = self.d.json("POST", "/tag" + query, body, headers)
                self.assertEqual((status, answer), (400, error("bad_parameter", message)))
        status, answer, _ = self.post_html(b"Kyiv", headers={
            "Content-Type": "text/html; charset=iso-8859-1"})
        self.assertEqual((status, answer), (415, error(
            "unsupported_media_type",
            "unsupported Content-Type 'text/html; charset=iso-8859-1' (expected "
            "text/plain, text/html, application/json or application/x-ndjson, in UTF-8)")))

    # --- annotate=true -----------------------------------------------------

    def test_annotate_exact(self):
        page = ('<p>President <b>Volodymyr</b> Zelensky met <a href="/t">Ihor Terekhov</a>'
                " in Kharkiv&nbsp;Oblast.</p><script>var x = \"Kyiv\";</script>"
                '<p title="Kyiv">Ernst &amp; Young</p>')
        want = {
            "entities": [
                {"start": 16, "end": 38, "text": "Volodymyr</b> Zelensky", "type": "person",
                 "id": "volodymyr-zelensky", "name": "Volodymyr Zelensky",
                 "attrs": {"role": "President of Ukraine"}},
                {"start": 56, "end": 69, "text": "Ihor Terekhov", "type": "person",
                 "id": "ihor-terekhov", "name": "Ihor Terekhov"},
                {"start": 77, "end": 96, "text": "Kharkiv&nbsp;Oblast", "type": "place",
                 "id": "kharkiv-oblast", "name": "Kharkiv Oblast"},
                {"start": 149, "end": 166, "text": "Ernst &amp; Young", "type": "organization",
                 "id": "ernst-young", "name": "Ernst & Young"},
            ],
            "offsets": "codepoint",
            "gazetteers": self.gz_hash,
            "html": '<p>President <b><mark class="gz-person" data-gz-id="volodymyr-zelensky">'
                    'Volodymyr</mark></b><mark class="gz-person" data-gz-id="volodymyr-zelensky">'
                    ' Zelensky</mark> met <a href="/t"><mark class="gz-person" '
                    'data-gz-id="ihor-terekhov">Ihor Terekhov</mark></a> in <mark '
                    'class="gz-place" data-gz-id="kharkiv-oblast">Kharkiv&nbsp;Oblast</mark>.'
                    '</p><script>var x = "Kyiv";</script><p title="Kyiv"><mark '
                    'class="gz-organization" data-gz-id="ernst-young">Ernst &amp; Young</mark>'
                    "</p>",
        }
        status, hdrs, data = self.d.request("POST", "/tag?annotate=true", page.encode(), HTML)
        self.assertEqual((status, json.loads(data)), (200, want))
        self.assertTrue(data.endswith(b"</p>\"}\n"), "html is the answer's last field")
        status, body, _ = self.d.json("POST", "/tag", json.dumps(
            {"text": page, "format": "html", "annotate": True}),
            {"Content-Type": "application/json"})
        self.assertEqual((status, body), (200, want))
        line = json.dumps({"id": "a", "text": page, "format": "html", "annotate": True})
        status, _, data = self.d.request("POST", "/tag", line.encode(),
                                         {"Content-Type": "application/x-ndjson"})
        self.assertEqual((status, json.loads(data)), (200, {
            "id": "a", "entities": want["entities"], "gazetteers": self.gz_hash,
            "html": want["html"]}))

    def test_annotated_news_pages_keep_their_markup(self):
        for name, expected in PAGES.items():
            with self.subTest(page=name):
                page = read_page(name)
                status, body, _ = self.post_html(page, "?annotate=true")
                self.assertEqual(status, 200)
                self.check_entities(page, body, expected, "codepoint")
                html = body["html"]
                self.assertEqual(strip_marks(html), page.decode("utf-8"),
                                 "the page comes back byte for byte around the marks")
                # each entity's marks lie within its span, name its entry,
                # and hold its text, the markup it crosses left outside
                marks = marks_on_page(html)
                for e in body["entities"]:
                    inside = [m for m in marks if e["start"] <= m[0] and m[1] <= e["end"]]
                    self.assertEqual({m[2] for m in inside}, {e["id"]}, e)
                    self.assertEqual("".join(m[3] for m in inside),
                                     re.sub(r"<[^>]*>", "", e["text"]), e)
                    for m in inside:
                        marks.remove(m)
                self.assertEqual(marks, [], "a mark outside every entity")

    # --- malformed pages -----------------------------------------------------

    def test_malformed_pages_are_answered_or_refused_clearly(self):
        nested = {
            "span": b"<span>" * 100000 + b"Kyiv",
            "p": b"<p>" * 100000 + b"Kyiv",
        }
        for tag, page in nested.items():
            with self.subTest(nested=tag):
                status, body, _ = self.post_html(page)
                self.assertEqual(status, 200)
                self.check_entities(page, body, [("Kyiv", "kyiv")], "codepoint")
        # gumbo is quadratic on these: the parse budget stops it
        for tag in ("div", "b"):
            with self.subTest(nested=tag):
                status, body, _ = self.post_html(b"<%s>" % tag.encode() * 100000 + b"Kyiv")
                self.assertEqual(status, 400)
                self.assertEqual(body["error"]["code"], "html_too_complex")
                self.assertRegex(body["error"]["message"],
                                 r"^HTML too complex: parsing it takes more than \d+ ms of "
                                 r"CPU time \(elements nested too deeply\?\)$")
        cases = {
            "stray <": (b"<p>Kyiv < Kharkiv <3 </ <p>Dnipro<",
                        [("Kyiv", "kyiv"), ("Kharkiv", "kharkiv"), ("Dnipro", "dnipro")]),
            "bad references": (b"<p>&#xFFFFFFFF;Kyiv &#0; &bogus; Ky&#x69;v &#55296; "
                               b"&#x110000;Kharkiv &#99999999999999999999;Dnipro</p>",
                               [("Kyiv", "kyiv"), ("Ky&#x69;v", "kyiv"),
                                ("Kharkiv", "kharkiv"), ("Dnipro", "dnipro")]),
            "unclosed comment": (b"<p>Kyiv<!-- Kharkiv", [("Kyiv", "kyiv")]),
            "unclosed script": (b"<p>Kyiv<script>Kharkiv", [("Kyiv", "kyiv")]),
            "unclosed attribute": (b'<p>Kyiv<a title="Kharkiv>Dnipro', [("Kyiv", "kyiv")]),
            "misnested": (b"<b><i>Volodymyr</b> Zelensky</i> <table>Kharkiv<tr><td>x</table>",
                          [("Volodymyr</b> Zelensky", "volodymyr-zelensky"),
                           ("Kharkiv", "kharkiv")]),
            "NUL": (b"<p>Ky\x00iv</p>", [("Ky\x00iv", "kyiv")]),
            "empty": (b"", []),
            "markup only": (b"<html><head></head><body><br><hr></body></html>", []),
        }
        for what, (page, expected) in cases.items():
            for unit in UNITS:
                with self.subTest(page=what, unit=unit):
                    status, body, _ = self.post_html(page, "?offsets=" + unit)
                    self.assertEqual(status, 200, body)
                    self.check_entities(page, body, expected, unit)
        self.assert_still_serving()

    def test_invalid_utf8_is_the_error_raw_text_gets(self):
        for page in (b"<p>Kyiv \xff</p>", b"<p title=\"\xc3\">Kyiv</p>", b"Kyiv\xed\xa0\x80"):
            with self.subTest(page=page):
                raw = self.d.tag(page)
                self.assertEqual(raw[0], 400)
                self.assertEqual(raw[1]["error"]["code"], "invalid_utf8")
                status, body, _ = self.post_html(page)
                self.assertEqual((status, body), raw[:2])
                status, body, _ = self.post_html(page, "?annotate=true")
                self.assertEqual((status, body), raw[:2])
        status, body, _ = self.post_html(b"<p>Kyiv \xff</p>")
        self.assertEqual(body, {"error": {"code": "invalid_utf8",
                                          "message": "invalid UTF-8 at byte 8", "offset": 8}})
        self.assert_still_serving()

    def assert_still_serving(self):
        status, body, _ = self.post_html(b"<p><b>Kyiv</b></p>")
        self.assertEqual((status, body), (200, {"entities": [
            {"start": 6, "end": 10, "text": "Kyiv", "type": "place", "id": "kyiv",
             "name": "Kyiv"}], "offsets": "codepoint", "gazetteers": self.gz_hash}))
        status, body, _ = self.d.json("GET", "/health")
        self.assertEqual((status, body["status"]), (200, "ok"))


class HtmlBodyLimitTest(gzharness.DaemonTestCase):
    daemon_kwargs = {"gazetteers": (GAZETTEERS,), "config": {"max_body_bytes": 4096}}

    def test_over_the_body_limit_is_413_as_for_text(self):
        page = b"<p>Kyiv</p>" * 400
        want = (413, {"error": {"code": "payload_too_large", "limit": 4096,
                                "message": "the request body is over the limit of 4096 "
                                           "bytes (max_body_bytes)"}})
        status, body, _ = self.d.json("POST", "/tag", page, HTML)
        self.assertEqual((status, body), want)
        self.assertEqual(self.d.tag(page)[:2], want)
        # just under the limit: answered, the annotated page longer than it
        page = b"<p>Kyiv</p>" * 372
        status, body, _ = self.d.json("POST", "/tag?annotate=true", page, HTML)
        self.assertEqual((status, len(body["entities"])), (200, 372))
        self.assertEqual(strip_marks(body["html"]), page.decode())


class TagCommandTest(gzharness.DaemonTestCase):
    """gaztagd --tag FILE|- --format html answers what POST /tag does, byte
    for byte."""
    daemon_kwargs = {"gazetteers": (GAZETTEERS,)}

    def test_tag_file_and_stdin(self):
        for name in PAGES:
            path = os.path.join(HTML_DATA, name + ".html")
            page = read_page(name)
            for query, args in (("", []), ("?offsets=utf16", ["--offsets", "utf16"]),
                                ("?annotate=true&types=place",
                                 ["--annotate", "--types", "place"])):
                with self.subTest(page=name, args=args):
                    status, _, want = self.d.request("POST", "/tag" + query, page, HTML)
                    self.assertEqual(status, 200)
                    rc, out, err = run_tag("--tag", path, "--format", "html", *args)
                    self.assertEqual((rc, err), (0, ""))
                    self.assertEqual(out, want)
                    rc, out, err = run_tag("--tag", "-", "--format", "html", *args, stdin=page)
                    self.assertEqual((rc, out, err), (0, want, ""))

    def test_tag_ndjson_format_html(self):
        lines = (json.dumps({"id": 1, "text": "<b>Kyiv</b>"}) + "\n" +
                 json.dumps({"id": 2, "text": "<i>Kharkiv</i>", "format": "text"}) + "\n")
        rc, out, err = run_tag("--tag", "-", "--ndjson", "--format", "html", "--annotate",
                               stdin=lines.encode())
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual([json.loads(line) for line in out.decode().splitlines()], [
            {"id": 1, "entities": [{"start": 3, "end": 7, "text": "Kyiv", "type": "place",
                                    "id": "kyiv", "name": "Kyiv"}],
             "gazetteers": self.gz_hash,  # --tag's: the daemon's, on the same files
             "html": '<b><mark class="gz-place" data-gz-id="kyiv">Kyiv</mark></b>'},
            {"id": 2, "error": {"code": "bad_parameter", "message":
                                "annotate=true goes with HTML (Content-Type: text/html, "
                                "or format=html)"}},
        ])

    def test_tag_errors(self):
        rc, out, err = run_tag("--tag", "-", "--format", "html", stdin=b"<p>Kyiv \xff</p>")
        self.assertEqual((rc, out, err), (1, b"", "gaztagd: -: invalid UTF-8 at byte 8\n"))
        rc, out, err = run_tag("--tag", "-", "--format", "html",
                               stdin=b"<div>" * 100000 + b"Kyiv")
        self.assertEqual((rc, out), (1, b""))
        self.assertRegex(err, r"^gaztagd: -: HTML too complex: parsing it takes more than "
                              r"\d+ ms of CPU time \(elements nested too deeply\?\)\n$")
        rc, out, err = run_tag("--tag", "-", "--annotate", stdin=b"Kyiv")
        self.assertEqual((rc, out, err), (2, b"", "gaztagd: --annotate goes with --format html\n"))
        rc, out, err = run_tag("--tag", "-", "--format", "xhtml", stdin=b"Kyiv")
        self.assertEqual((rc, out, err), (2, b"", "gaztagd: --format: bad value 'xhtml' for "
                                                  "format (expected text or html)\n"))


if __name__ == "__main__":
    gzharness.main()
