"""gaztagd --check and --tag, as a user runs them: the real binary on files
written here.  --check must list every problem, one line each as
FILE:LINE:COL: message, and exit 1; --tag prints the JSON of POST /tag."""

import json
import os
import subprocess
import tempfile
import unittest

GAZTAGD = os.environ["GAZTAGD"]

BROKEN = {
    "a.yaml": (
        "type: place\n"
        "entries:\n"
        "  - id: kyiv\n"
        "    name: Kyiv\n"
        "  - name: Lviv\n"
        "  - id: kyiv\n"
        "    name: Kiev\n"
        "  - id: odesa\n"
        "    name: \"\"\n"
        "  - id: dash\n"
        "    name: \"---\"\n"
        "  - id: x\n"
        "    alias: [X]\n"
        "    name: X\n"
        "  - id: y\n"
        "    name: Y\n"
        "    aliases: Why\n"
        "  - id: z\n"
        "    name: Z\n"
        "    priority: high\n"
        "  - id: w\n"
        "    name: W\n"
        "    case: loud\n"
        "  - id: v\n"
        "    name: V\n"
        "    attrs: [1]\n").encode(),
    "b.yaml": b"type: place\nentries:\n  - &a {id: q, name: Q}\n",
    "c.yaml": b"type: place\nentries:\n  - id: r\n    name: \"R\xff\"\n",
    "d.yaml": b"type: place\nentries:\n  - id: s\n   name: S\n",
    "e.yaml": b"type: place\nentries:\n  - {id: t, name: T}\n  - *a\n",
}


def run(*args, stdin=None):
    p = subprocess.run([GAZTAGD, *args], input=stdin, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class CheckTest(unittest.TestCase):
    maxDiff = None
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        with open(os.path.join(self.dir, name), "wb") as f:
            f.write(data)

    def test_every_error_class_reported_with_file_line_column(self):
        for name, data in BROKEN.items():
            self.write(name, data)
        code, out, err = run("--check", "--gazetteers", self.dir)
        d = self.dir
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertEqual(err.splitlines(), [
            f"{d}/a.yaml:5:5: missing required key 'id' in entry",
            f"{d}/a.yaml:9:11: empty name",
            f"{d}/a.yaml:11:11: name '---' has no letters or digits",
            f"{d}/a.yaml:13:5: unknown key 'alias' in entry "
            "(expected id, name, aliases, type, case, priority, evidence, attrs)",
            f"{d}/a.yaml:17:14: 'aliases' must be a sequence of names, found a scalar",
            f"{d}/a.yaml:20:15: 'priority' must be a number, found high",
            f"{d}/a.yaml:23:11: 'case' must be 'insensitive', 'sensitive' or 'proper', found loud",
            f"{d}/a.yaml:26:12: 'attrs' must be a mapping, found a sequence",
            f"{d}/b.yaml:3:5: YAML anchors (&a) are not allowed in gazetteers",
            f"{d}/c.yaml:4:13: invalid UTF-8 (byte 0xff at offset 43)",
            f"{d}/d.yaml:4:4: YAML syntax error: did not find expected '-' indicator "
            "while parsing a block collection",
            f"{d}/e.yaml:4:5: YAML aliases (*a) are not allowed in gazetteers",
            f"{d}/a.yaml:6:9: duplicate id 'kyiv' (first defined at {d}/a.yaml:3:9)",
            "gaztagd: 13 problems found",
        ])

    def test_good_files_pass(self):
        self.write("ok.yaml", b"type: place\nentries:\n  - {id: kyiv, name: Kyiv, aliases: [Kiev]}\n")
        code, out, err = run("--check", "--gazetteers", self.dir)
        self.assertEqual((code, out, err), (0, "", "gaztagd: ok: 1 file, 1 entries, 2 names\n"))

    def test_risks_are_warned_of_and_do_not_fail(self):
        # SPEC §8 / issue 13: a common word that matches in any case, and a
        # surface form that two files share, are shown before loading.
        self.write("a.yaml", b"type: place\nentries:\n"
                   b"  - {id: nice, name: Nice, attrs: {country: FR}}\n"
                   b"  - {id: turkey, name: Turkey, case: sensitive}\n"
                   b"  - {id: georgia, name: Georgia}\n")
        self.write("b.yaml", b"type: place\ncommon_words: skip\nentries:\n"
                   b"  - {id: said, name: Said}\n"
                   b"  - {id: georgia-us, name: Georgia}\n")
        code, out, err = run("--check", "--gazetteers", self.dir)
        d = self.dir
        self.assertEqual((code, out), (0, ""))
        self.assertEqual(err.splitlines(), [
            f"{d}/a.yaml:3:22: warning: 'Nice' (entry 'nice') is a common English word and "
            "matches in any case; guard it with case: proper or sensitive, evidence: required, "
            "or common_words: skip in its file",
            f"{d}/a.yaml:5:25: note: 'Georgia' (entry 'georgia') is also a name of 'georgia-us' "
            f"({d}/b.yaml:5:28); 2 names share it, chosen by context and priority",
            "gaztagd: warning: 1 name is a common word that matches in any case and needs "
            "no evidence",
            "gaztagd: note: 1 surface form is shared by entries of different files",
            "gaztagd: ok: 2 files, 5 entries, 5 names",
        ])

    def test_memory_of_a_load_stays_proportionate(self):
        # Regression: each entry's attrs once kept a 4 KiB buffer, so 135k
        # GeoNames entries peaked at 590 MB.  20,000 entries with attrs, as
        # scripts/import-geonames writes them (about 3 MB of YAML), must load
        # in a few tens of MB.
        lines = ["type: place", "entries:"]
        for i in range(20000):
            lines += [f"  - id: \"geonames-{i}\"", f"    name: \"Town {i} of Somewhere\"",
                      f"    priority: {i}", "    attrs:", "      country: \"UA\"",
                      f"      lat: 48.{i:05d}", f"      lon: 30.{i:05d}",
                      "      feature_code: \"PPL\"", f"      population: {i}"]
        self.write("big.yaml", ("\n".join(lines) + "\n").encode())
        p = subprocess.Popen([GAZTAGD, "--check", "--gazetteers", self.dir],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)  # this child's own peak
        p.returncode = os.waitstatus_to_exitcode(status)
        self.assertEqual(p.returncode, 0)
        with open(GAZTAGD, "rb") as f:
            asan = b"libasan" in f.read()
        if not asan:  # ASan's shadow memory and quarantine would dwarf it
            self.assertLess(usage.ru_maxrss, 60 * 1024, "peak RSS of --check: %d KB" % usage.ru_maxrss)

    def test_missing_path_reported(self):
        code, _, err = run("--check", "--gazetteers", self.dir + "/nope")
        self.assertEqual(code, 1)
        self.assertEqual(err.splitlines()[0],
                         f"{self.dir}/nope: cannot open: No such file or directory")

    def test_tag_prints_the_answer_of_post_tag(self):
        self.write("p.yaml", "type: place\nentries:\n"
                   "  - {id: kyiv, name: Kyiv, attrs: {country: UA, lat: 50.45}}\n"
                   "  - {id: sea-of-azov, name: Sea of Azov}\n"
                   "  - {id: azov-town, name: Azov}\n".encode())
        self.write("u.yaml", b"type: unit\nentries:\n"
                   b"  - {id: azov-regiment, name: Azov Regiment, aliases: [Azov], priority: 10}\n")
        text = "\U0001F600 Kyiv\u2019s port on the Sea of\nAzov; Azov held.".encode()
        code, out, err = run("--tag", "-", "--gazetteers", self.dir, "--offsets", "utf16",
                             stdin=text)
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(json.loads(out), {"offsets": "utf16", "entities": [
            {"start": 3, "end": 7, "text": "Kyiv", "type": "place", "id": "kyiv",
             "name": "Kyiv", "attrs": {"country": "UA", "lat": 50.45}},
            {"start": 22, "end": 33, "text": "Sea of\nAzov", "type": "place",
             "id": "sea-of-azov", "name": "Sea of Azov"},
            {"start": 35, "end": 39, "text": "Azov", "type": "unit", "id": "azov-regiment",
             "name": "Azov Regiment",
             "alternatives": [{"id": "azov-town", "type": "place", "name": "Azov"}]},
        ],
            # The content hash of p.yaml and u.yaml, computed apart from
            # gaztagd with xxhash's xxh128sum (README, "The gazetteers'
            # hash"): per file, its length as 8 bytes little-endian and
            # `xxh128sum FILE`'s 16 bytes; then xxh128sum of those records.
            "gazetteers": "cfade32aa4a4b840ffb6ae9796e09356"})
        # the same text in code points and with a type filter
        code, out, _ = run("--tag", "-", "--gazetteers", self.dir, "--types", "place",
                           stdin=text)
        spans = [(e["start"], e["end"], e["id"]) for e in json.loads(out)["entities"]]
        self.assertEqual(spans, [(2, 6, "kyiv"), (21, 32, "sea-of-azov"), (34, 38, "azov-town")])

    def test_tag_refuses_invalid_utf8_with_its_offset(self):
        self.write("p.yaml", b"type: place\nentries:\n  - {id: kyiv, name: Kyiv}\n")
        code, out, err = run("--tag", "-", "--gazetteers", self.dir, stdin=b"Kyiv \xc3(")
        self.assertEqual((code, out), (1, ""))
        self.assertEqual(err, "gaztagd: -: invalid UTF-8 at byte 5\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
