"""The daemon around the routes: config file and flags (SPEC §5), start
failures, signals (SIGTERM/SIGINT finish requests in flight and exit 0,
SIGHUP reloads), POST /reload and its token, /health after a failed reload."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gzharness import (DATA, GAZETTEERS, Daemon, gaztagd_path,  # noqa: E402
                       parse_response, project_version, recv_all, write_config)

KEYS = ("listen, gazetteers, threads, max_body_bytes, max_connections, "
        "connection_timeout, log_level, reload_token, watch, user, cache")


class TempDirTestCase(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gztest-")
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, **kw):
        d = Daemon(**kw)
        self.daemons.append(d)
        return d

    def run_gaztagd(self, *args, timeout=30, **kw):
        return subprocess.run([gaztagd_path()] + list(args), capture_output=True,
                              text=True, timeout=timeout, **kw)


class ConfigTest(TempDirTestCase):

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_config_file_keys_gazetteers_relative_to_the_file(self):
        rel = os.path.relpath(GAZETTEERS, self.tmp)
        path = self.write("gaztag.yaml", "# a comment\ngazetteers:\n  - %s\nthreads: 1\n"
                          "max_body_bytes: 1KiB\nlog_level: debug\nmax_connections: 10\n"
                          "connection_timeout: 5\nreload_token:\nwatch: false\n" % rel)
        d = self.start(args=["--config", path], gazetteers=(), cwd="/")
        self.assertRegex(d.wait_log("gaztagd: ready"),
                         r"ready: 1 thread, max body 1024 bytes, .*gaztag\.yaml$")
        status, body, _ = d.json("GET", "/health")
        self.assertEqual((body["files"], body["entries"]), (3, 10))
        status, body, _ = d.json("POST", "/tag", b"x" * 1025)
        self.assertEqual((status, body["error"]["code"], body["error"]["limit"]),
                         (413, "payload_too_large", 1024))
        # log_level debug: one access line per request.
        self.assertIsNotNone(d.wait_log(re.compile(
            r"^gaztagd: debug: GET /health 200 0 bytes in, [0-9.]+ ms$")), d.log())
        self.assertEqual(d.stop(), 0)

    def test_gazetteer_paths_are_shown_normalised(self):
        # conf/../gz/ is gz; link/../more is not more: link is a symbolic
        # link, and its ".." is the parent of its target (elsewhere/).
        conf, gz = os.path.join(self.tmp, "conf"), os.path.join(self.tmp, "gz")
        for sub in ("conf", "elsewhere/inner", "elsewhere/more"):
            os.makedirs(os.path.join(self.tmp, sub))
        os.symlink(os.path.join(self.tmp, "elsewhere", "inner"), os.path.join(conf, "link"))
        shutil.copytree(GAZETTEERS, gz)
        shutil.copy(os.path.join(DATA, "extra.yaml"), os.path.join(self.tmp, "elsewhere", "more"))
        path = self.write("conf/gaztag.yaml", "gazetteers:\n  - ../gz/./\n  - link/../more\n"
                          "watch: false\n")
        d = self.start(args=["--config", path], gazetteers=())
        status, body, _ = d.json("GET", "/gazetteers")
        self.assertEqual([g["path"] for g in body["gazetteers"]],
                         [os.path.join(gz, n) for n in ("people.yaml", "places.yaml", "units.yaml")]
                         + [os.path.join(conf, "link", "..", "more", "extra.yaml")])
        status, body, _ = d.json("GET", "/entities/kyiv")
        self.assertEqual(body["file"], os.path.join(gz, "places.yaml"))
        self.assertEqual(d.stop(), 0)
        # --check's FILE:LINE:COL, and --gazetteers flags, the same way
        shutil.copy(os.path.join(DATA, "bad", "broken.yaml"), gz)
        r = self.run_gaztagd("--check", "--config", path)
        self.assertIn("\n" + os.path.join(gz, "broken.yaml") + ":5:5: unknown key 'nme'",
                      "\n" + r.stderr)
        r = self.run_gaztagd("--check", "--gazetteers", conf + "//../gz/")
        self.assertIn("\n" + os.path.join(gz, "broken.yaml") + ":5:5: unknown key 'nme'",
                      "\n" + r.stderr)

    def test_flags_override_the_file(self):
        path = self.write("gaztag.yaml", "listen: 127.0.0.1:1\ngazetteers: [%s]\n"
                          "threads: 1\nlog_level: error\n" % GAZETTEERS)
        d = self.start(args=["--config", path, "--threads", "3", "--log-level", "info"],
                       gazetteers=(os.path.join(DATA, "extra.yaml"),))
        # --listen (the harness's 127.0.0.1:0) beat listen:, --log-level info
        # beat error (or no ready line), --threads 3 beat 1:
        self.assertRegex(d.wait_log("gaztagd: ready"), r"ready: 3 threads")
        status, body, _ = d.json("GET", "/health")
        # --gazetteers replaced the file's list rather than adding to it.
        self.assertEqual((body["files"], body["entries"]), (1, 1))
        status, body, _ = d.json("GET", "/entities/nato")
        self.assertEqual(status, 200)
        self.assertEqual(d.stop(), 0)

    def test_default_gazetteers_are_relative_to_the_working_directory(self):
        d = self.start(gazetteers=(), cwd=DATA)
        status, body, _ = d.json("GET", "/health")
        self.assertEqual((status, body["files"], body["entries"]), (200, 3, 10))
        self.assertEqual(d.stop(), 0)

    def test_shipped_config_file_is_valid(self):
        shipped = os.path.join(os.environ.get("GAZTAG_SOURCE_ROOT", ""), "config",
                               "gaztag.yaml")
        d = self.start(args=["--config", shipped])
        self.assertRegex(d.wait_log("gaztagd: ready"), r"max body 16777216 bytes")
        self.assertEqual(d.stop(), 0)

    def test_bad_config_files_stop_the_start_with_file_line_column(self):
        cases = [
            ("listen: 127.0.0.1:0\nmax_body_byte: 1MiB\n",
             "2:1: unknown key 'max_body_byte' (expected %s)" % KEYS),
            ("threads: many\n",
             "1:10: 'threads' must be a whole number from 0 to 1024, not 'many'"),
            ("connection_timeout: 0\n",
             "1:21: 'connection_timeout' must be a whole number from 1 to 86400, not '0'"),
            ("max_body_bytes: 16 parsecs\n",
             "1:17: 'max_body_bytes' must be a positive size such as 16777216 or 16MiB, "
             "not '16 parsecs'"),
            ("listen: nowhere\n",
             "1:9: bad listen address 'nowhere' (expected HOST:PORT, e.g. 127.0.0.1:7700 "
             "or [::1]:7700)"),
            ("log_level: loud\n",
             "1:12: bad log level 'loud' (expected error, warn, info or debug)"),
            ("watch: yes\n", "1:8: 'watch' must be true or false, not 'yes'"),
            ("gazetteers: {a: b}\n", "1:13: 'gazetteers' must be a list of paths"),
            ("threads: [1]\n", "1:10: 'threads' must be a single value, not a list"),
            ("- listen\n", "1:1: the config file must be a mapping of keys to values"),
            ("a: &x 1\nb: *x\n", "1:4: YAML anchors and aliases are not allowed"),
            ("listen: [1, 2\n", "2:1: YAML syntax error: did not find expected ',' or ']' "
             "while parsing a flow sequence"),
        ]
        for text, message in cases:
            with self.subTest(text=text):
                path = self.write("bad.yaml", text)
                r = self.run_gaztagd("--config", path, "--gazetteers", GAZETTEERS)
                self.assertEqual(r.returncode, 1, r.stderr)
                self.assertEqual(r.stderr, "%s:%s\n" % (path, message))

    def test_missing_config_file(self):
        r = self.run_gaztagd("--config", os.path.join(self.tmp, "none.yaml"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "gaztagd: error: cannot read config file %s: "
                         "No such file or directory\n" % os.path.join(self.tmp, "none.yaml"))

    def test_bad_flags(self):
        for args, message in (
                (["--threads", "x"],
                 "gaztagd: --threads: expected a number from 0 to 1024, not 'x'\n"),
                (["--listen", "7700"],
                 "gaztagd: --listen: bad listen address '7700' (expected HOST:PORT, "
                 "e.g. 127.0.0.1:7700 or [::1]:7700)\n"),
                (["--log-level", "loud"],
                 "gaztagd: --log-level: bad log level 'loud' (expected error, warn, info "
                 "or debug)\n")):
            with self.subTest(args=args):
                r = self.run_gaztagd(*args)
                self.assertEqual((r.returncode, r.stderr), (2, message))

    def test_check_reads_the_gazetteers_of_the_config(self):
        path = self.write("gaztag.yaml", "gazetteers: [%s]\n" % GAZETTEERS)
        r = self.run_gaztagd("--check", "--config", path)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("3 files, 10 entries, 16 names", r.stderr)


class StartFailureTest(TempDirTestCase):

    def test_bad_gazetteer_stops_the_start(self):
        bad = os.path.join(DATA, "bad")
        d = self.start(gazetteers=(bad,), wait_ready=False)
        self.assertEqual(d.wait_exit(), 1)
        self.assertIn(os.path.join(bad, "broken.yaml") + ":5:5: unknown key 'nme'", d.log())
        self.assertRegex(d.log(), r"(?m)^gaztagd: error: cannot start: ")
        self.assertNotIn("gaztagd: ready", d.log())

    def test_port_in_use(self):
        d1 = self.start()
        d2 = self.start(args=["--listen", "127.0.0.1:%d" % d1.port], wait_listen=False)
        self.assertEqual(d2.wait_exit(), 1)
        self.assertEqual(d2.log(), "gaztagd: error: cannot listen on 127.0.0.1:%d: "
                         "Address already in use" % d1.port)
        self.assertEqual(d1.stop(), 0)


class SignalTest(TempDirTestCase):

    def test_sigterm_finishes_the_request_in_flight_then_exits_0(self):
        d = self.start()
        s = d.raw_socket()
        try:
            s.sendall(b"POST /tag HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                      b"Content-Length: 17\r\n\r\nKyiv and ")
            status, _, _ = d.request("GET", "/health")  # the first one is surely in
            self.assertEqual(status, 200)
            d.proc.send_signal(signal.SIGTERM)
            self.assertIsNotNone(d.wait_log("SIGTERM: stopping"), d.log())
            # New connections are refused from now on...
            deadline = time.monotonic() + 5
            while True:
                try:
                    socket.create_connection((d.host, d.port), timeout=1).close()
                except ConnectionRefusedError:
                    break
                self.assertLess(time.monotonic(), deadline, "still accepting")
                time.sleep(0.05)
            # ...but the request in flight is answered in full.
            s.sendall(b"Mariupol")
            status, _, body = parse_response(recv_all(s))
        finally:
            s.close()
        self.assertEqual(status, 200)
        self.assertEqual([e["text"] for e in json.loads(body)["entities"]],
                         ["Kyiv", "Mariupol"])
        self.assertEqual(d.wait_exit(), 0)
        self.assertRegex(d.log(), r"gaztagd: stopped$")

    def test_sigint_exits_0(self):
        d = self.start()
        self.assertEqual(d.stop(signal.SIGINT), 0)
        self.assertIn("SIGINT: stopping", d.log())


PLACES_EXTRA = "  - id: odesa\n    name: Odesa\n"


class ReloadTest(TempDirTestCase):

    def setUp(self):
        super().setUp()
        self.gz = os.path.join(self.tmp, "gazetteers")
        shutil.copytree(GAZETTEERS, self.gz)
        self.places = os.path.join(self.gz, "places.yaml")
        with open(self.places) as f:
            self.places_text = f.read()

    def set_places(self, extra):
        with open(self.places, "w") as f:
            f.write(self.places_text + extra)

    def reload(self, d, token="s3cret"):
        headers = {"Authorization": "Bearer " + token} if token else {}
        return d.json("POST", "/reload", b"", headers)

    def test_reload_by_post_and_sighup_and_a_failed_reload_keeps_the_old_set(self):
        # watch off: the reloads counted here are the POST and the SIGHUP only
        d = self.start(config={"reload_token": "s3cret", "watch": False},
                       gazetteers=(self.gz,))
        for token in (None, "wrong", "s3cret2", "s3cre"):
            with self.subTest(token=token):
                status, body, hdrs = self.reload(d, token)
                self.assertEqual((status, body), (401, {"error": {
                    "code": "unauthorized",
                    "message": "POST /reload needs 'Authorization: Bearer <reload_token>'"}}))
                self.assertEqual(hdrs["www-authenticate"], "Bearer")

        first = d.gazetteers_hash()
        self.set_places(PLACES_EXTRA)
        status, body, _ = self.reload(d)
        self.assertIsInstance(body.pop("seconds"), float)
        # the new set's content hash: another file, another hash
        second = body.pop("gazetteers")
        self.assertRegex(second, r"^[0-9a-f]{32}$")
        self.assertNotEqual(second, first)
        self.assertEqual((status, body), (200, {"status": "ok", "entries": 11, "names": 17,
                                                "files": 3, "generation": 2}))
        status, body, _ = d.tag("Odesa")
        self.assertEqual([e["id"] for e in body["entities"]], ["odesa"])
        self.assertEqual(body["gazetteers"], second)

        # A broken file: 422, the old set stays in service, /health says why.
        self.set_places(PLACES_EXTRA + "  - id: odesa\n    name: Odessa\n")
        status, body, _ = self.reload(d)
        self.assertEqual((status, body["error"]["code"]), (422, "reload_failed"))
        self.assertIn(self.places + ":", body["error"]["message"])
        self.assertTrue(all(line.startswith(self.places + ":")
                            for line in body["error"]["errors"]), body)
        status, health, _ = d.json("GET", "/health")
        failure = health.pop("last_reload_error")
        health.pop("loaded_at")
        self.assertIsInstance(health.pop("load_seconds"), float)
        self.assertEqual((status, health), (200, {"status": "ok", "entries": 11, "names": 17,
                                                  "files": 3, "generation": 2,
                                                  "gazetteers": second,
                                                  "version": project_version()}))
        self.assertEqual(failure["message"], body["error"]["message"])
        self.assertRegex(failure["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        status, body, _ = d.tag("Odesa")
        self.assertEqual([e["id"] for e in body["entities"]], ["odesa"])
        self.assertEqual(body["gazetteers"], second)  # the old set answers
        self.assertIsNotNone(d.wait_log(
            "gaztagd: error: reload (POST /reload) failed, keeping the old"))

        # Fixed, and reloaded by SIGHUP.
        self.set_places(PLACES_EXTRA + "  - id: lviv\n    name: Lviv\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertIsNotNone(d.wait_log(
            "gaztagd: reloaded (SIGHUP): 12 entries, 18 names from 3 files (generation 3)"),
            d.log())
        status, health, _ = d.json("GET", "/health")
        health.pop("loaded_at")
        self.assertIsInstance(health.pop("load_seconds"), float)
        third = health.pop("gazetteers")
        self.assertNotIn(third, (first, second))
        self.assertEqual(health, {"status": "ok", "entries": 12, "names": 18, "files": 3,
                                  "generation": 3, "version": project_version()})
        self.assertEqual(d.tag("Lviv")[1]["gazetteers"], third)
        self.assertEqual(d.stop(), 0)

    def test_failed_sighup_reload_is_logged(self):
        d = self.start(config={"watch": False}, gazetteers=(self.gz,))
        self.set_places("  - nme: x\n")
        d.proc.send_signal(signal.SIGHUP)
        self.assertIsNotNone(d.wait_log(
            "gaztagd: error: reload (SIGHUP) failed, keeping the old gazetteers: "), d.log())
        status, health, _ = d.json("GET", "/health")
        self.assertEqual((health["generation"], health["entries"]), (1, 10))
        self.assertIn(self.places, health["last_reload_error"]["message"])
        self.assertEqual(d.stop(), 0)

    def test_reload_without_token_configured(self):
        d = self.start(gazetteers=(self.gz,))
        status, body, _ = self.reload(d, token=None)
        self.assertEqual((status, body["generation"]), (200, 2))
        self.assertEqual(d.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
