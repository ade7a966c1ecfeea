"""Live reload (SPEC §6, issue 5): SIGHUP, POST /reload and the file watcher,
under load, with no request lost; coalescing; a failed reload; old sets freed.

Timing: the only time bound asserted is the issue's own, "an edit is visible
within a second of its trigger" (VISIBLE_WITHIN).  Visibility is polled every
10 ms and given up on only after 5 s, so a slow machine shows a clear
latency number instead of a hang.  One second is generous for what it
covers: the watcher waits 200 ms of quiet after a save, and the test
gazetteers build in a few milliseconds, so the bound leaves some 800 ms for
a loaded machine (on a 2-core machine at a load average of 15 to 30, the
worst edit of 50 took 0.28 to 0.46 s).  Under AddressSanitizer, which makes
everything several times slower and is there to check memory, not time,
the bound is tripled (at the same load the worst took 0.94 to 1.94 s).
"""

import http.client
import json
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gzharness import Daemon  # noqa: E402

VISIBLE_WITHIN = 1.0   # seconds: the "within a second" (x3 under ASan)
GIVE_UP_AFTER = 5.0    # seconds of polling before an edit counts as lost
TOKEN = "r3load"

PEOPLE = """type: person
entries:
  - id: volodymyr-zelensky
    name: Volodymyr Zelensky
    aliases: [Zelensky]
"""

PLACES_HEAD = """type: place
entries:
  - id: kyiv
    name: Kyiv
  - id: odesa
    name: Odesa
"""

CLIENT_TEXT = ("Zelensky spoke in Kyiv on Monday, then flew to Odesa, "
               "where the port had reopened.").encode("utf-8")


def edit_entry(i):
    return "  - id: edit-%d\n    name: Editplace%d\n" % (i, i)


def broken_entry(i):
    # `alias:` for `aliases:`: an unknown key is an error (SPEC §2)
    return "  - id: edit-%d\n    name: Editplace%d\n    alias: [Ep%d]\n" % (i, i, i)


def write_in_place(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def write_by_rename(path, text):
    """What most editors do: write a temporary file beside, rename it over."""
    d, base = os.path.split(path)
    tmp = os.path.join(d, ".%s.%d.tmp" % (base, random.randrange(1 << 30)))
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def generated_gazetteer(path, n):
    """n entries with made-up two-word names and an alias each: a set big
    enough (tens of MB held) that a leaked set per reload shows in RSS."""
    rnd = random.Random(5)
    syl = ["ka", "lo", "mi", "ver", "dan", "tor", "es", "ul", "bri", "zan", "po",
           "ret", "gal", "nik", "sa", "hov"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("type: place\nentries:\n")
        for i in range(n):
            a = "".join(rnd.choice(syl) for _ in range(3)).capitalize()
            b = "".join(rnd.choice(syl) for _ in range(2)).capitalize()
            f.write("  - id: gen-%d\n    name: %s %s %d\n    aliases: [Gen%dx]\n"
                    "    attrs: {n: %d}\n" % (i, a, b, i, i, i))


class Clients:
    """Threads tagging without pause, each on its own keep-alive connection
    (one of them opening a new connection per request), counting every
    request that does not come back 200 with the entities every set has."""

    def __init__(self, d, n=4):
        self.d = d
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.failures = []
        self.threads = [threading.Thread(target=self.run, args=(k == n - 1,), daemon=True)
                        for k in range(n)]
        for t in self.threads:
            t.start()

    def run(self, reconnect_each):
        conn = None
        while not self.stop.is_set():
            try:
                if conn is None:
                    conn = self.d.conn(timeout=30)
                conn.request("POST", "/tag", CLIENT_TEXT, {"Content-Type": "text/plain"})
                r = conn.getresponse()
                body = r.read()
                ids = [e["id"] for e in json.loads(body)["entities"]] if r.status == 200 else []
                if ids != ["volodymyr-zelensky", "kyiv", "odesa"]:
                    with self.lock:
                        self.failures.append((r.status, body[:300]))
                else:
                    with self.lock:
                        self.ok += 1
                if reconnect_each:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException, ValueError) as e:
                with self.lock:
                    self.failures.append(("exception", repr(e)))
                if conn:
                    conn.close()
                conn = None
        if conn:
            conn.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(15)
        return self.ok, self.failures


class ReloadTestCase(unittest.TestCase):

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gzreload-")
        self.gz = os.path.join(self.tmp, "gazetteers")
        os.mkdir(self.gz)
        self.places = os.path.join(self.gz, "places.yaml")
        write_in_place(os.path.join(self.gz, "people.yaml"), PEOPLE)
        write_in_place(self.places, PLACES_HEAD)
        self.daemons = []
        self.conns = []

    def tearDown(self):
        for c in self.conns:
            c.close()
        for d in self.daemons:
            d.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, config=None, gazetteers=None, **kw):
        cfg = {"reload_token": TOKEN}
        cfg.update(config or {})
        d = Daemon(config=cfg, gazetteers=gazetteers or (self.gz,), **kw)
        self.daemons.append(d)
        return d

    def stop(self, d):
        rc = d.stop()
        self.assertEqual(rc, 0, "gaztagd exited with %r:\n%s" % (rc, d.log()[-3000:]))

    def post_reload(self, d, token=TOKEN, timeout=120):
        headers = {"Authorization": "Bearer " + token} if token else {}
        return d.json("POST", "/reload", b"", headers, timeout=timeout)

    def health(self, d):
        status, body, _ = d.json("GET", "/health")
        self.assertEqual(status, 200, body)
        return body

    def ids(self, d, text, conn=None):
        status, _, data = d.request("POST", "/tag", text.encode("utf-8"),
                                    {"Content-Type": "text/plain"}, conn=conn)
        self.assertEqual(status, 200, data)
        return [e["id"] for e in json.loads(data)["entities"]]

    def wait_visible(self, d, i, since):
        """Seconds from `since` until Editplace<i> tags as edit-<i>."""
        conn = d.conn()
        self.conns.append(conn)
        while True:
            if self.ids(d, "Editplace%d" % i, conn=conn) == ["edit-%d" % i]:
                return time.monotonic() - since
            if time.monotonic() - since > GIVE_UP_AFTER:
                self.fail("edit %d not visible %.0f s after its trigger\n%s"
                          % (i, GIVE_UP_AFTER, d.log()[-3000:]))
            time.sleep(0.01)

    def wait_health(self, d, pred, what):
        deadline = time.monotonic() + GIVE_UP_AFTER
        while True:
            h = self.health(d)
            if pred(h):
                return h
            if time.monotonic() > deadline:
                self.fail("%s: not within %.0f s; /health: %r\n%s"
                          % (what, GIVE_UP_AFTER, h, d.log()[-3000:]))
            time.sleep(0.01)

    def reload_lines(self, d):
        return re.findall(r"gaztagd: reloaded \(([^)]*)\)", d.log())


class LiveReloadUnderLoadTest(ReloadTestCase):

    def test_fifty_edits_by_three_triggers_under_load_fail_no_request(self):
        d = self.start()  # watch: on (the default)
        gen0 = self.health(d)["generation"]
        clients = Clients(d, 4)
        entries, latencies = [], {"SIGHUP": [], "POST /reload": [], "watch": []}
        broken = 26  # a save by an editor, with a typo
        try:
            for i in range(50):
                how = ("SIGHUP", "POST /reload", "watch")[i % 3]
                entries.append(broken_entry(i) if i == broken else edit_entry(i))
                if i == broken + 1:  # the next save fixes the typo
                    entries[broken] = edit_entry(broken)
                text = PLACES_HEAD + "".join(entries)
                write = write_by_rename if i % 2 else write_in_place
                write(self.places, text)
                t0 = time.monotonic()  # the trigger: this, or what follows
                if how == "SIGHUP":
                    d.proc.send_signal(signal.SIGHUP)
                elif how == "POST /reload":
                    status, body, _ = self.post_reload(d)
                    # its build started after the request: the edit is in
                    self.assertEqual((status, body["entries"]), (200, 3 + i + 1), body)
                if i == broken:
                    self.check_broken_save(d, i)
                    continue
                latencies[how].append(self.wait_visible(d, i, t0))
        finally:
            ok, failures = clients.finish()

        self.assertEqual(failures, [], "failed requests during reloads")
        self.assertGreater(ok, 200, "the clients hardly ran")
        for how, ls in latencies.items():
            worst = max(ls)
            print("%-13s %2d edits, visible after %.3f s at worst, %.3f s median"
                  % (how, len(ls), worst, sorted(ls)[len(ls) // 2]), file=sys.stderr)
            bound = VISIBLE_WITHIN * (3 if d.uses_asan() else 1)
            self.assertLessEqual(worst, bound, (how, ls))
        print("%d tagging requests, none failed" % ok, file=sys.stderr)

        h = self.health(d)
        self.assertNotIn("last_reload_error", h)
        self.assertEqual(h["entries"], 3 + 50)
        # every edit but the broken one was a set put in service (the
        # watcher's echo of a SIGHUP or POST edit may add more)
        self.assertGreaterEqual(h["generation"], gen0 + 49)
        # the log is read by a thread of the harness: wait for the last line
        self.assertIsNotNone(d.wait_log("(generation %d)" % h["generation"]))
        lines = self.reload_lines(d)
        for how, n in (("SIGHUP", 17), ("POST /reload", 17), ("file change", 15)):
            self.assertGreaterEqual(sum(how in w for w in lines), n, (how, lines))
        status, g, _ = d.json("GET", "/gazetteers")
        self.assertEqual((g["generation"], g["loaded_at"]), (h["generation"], h["loaded_at"]))
        self.stop(d)

    def check_broken_save(self, d, i):
        """The watcher's reload of a broken file keeps the previous set in
        service, logs each problem as FILE:LINE:COL: message, and /health
        shows them with the time of the failure."""
        h = self.wait_health(d, lambda h: "last_reload_error" in h, "the failed reload")
        err = h["last_reload_error"]
        line = PLACES_HEAD.count("\n") + 2 * i + 3  # the alias: line of entry i
        problem = "%s:%d:5: " % (self.places, line)
        self.assertEqual(len(err["errors"]), 1, err)
        self.assertTrue(err["errors"][0].startswith(problem), err)
        self.assertIn("alias", err["errors"][0])
        self.assertEqual(err["error_count"], 1)
        self.assertRegex(err["at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertIn(problem, err["message"])
        # the previous set serves on
        self.assertEqual(h["entries"], 3 + i)
        self.assertEqual(self.ids(d, "Editplace%d Editplace%d" % (i - 1, i)),
                         ["edit-%d" % (i - 1)])
        self.assertIsNotNone(d.wait_log("gaztagd: error: " + problem), d.log()[-2000:])
        self.assertIsNotNone(d.wait_log(
            "gaztagd: error: reload (file change) failed, keeping the old gazetteers: "
            "1 problem in gazetteers; first: " + problem))


class CoalescingTest(ReloadTestCase):

    def test_triggers_during_a_build_make_exactly_one_more_build(self):
        # Every build takes 1 s longer (a test hook) and one HTTP worker
        # serves everything: a POST /reload waiting for its build must not
        # hold that worker, and no tagging request waits for a build.
        d = self.start(config={"watch": False}, args=["--threads", "1"],
                       env={"GAZTAGD_TEST_BUILD_DELAY_MS": "1000"})
        gen0 = self.health(d)["generation"]
        first = {}
        t = threading.Thread(target=lambda: first.update(r=self.post_reload(d)))
        t.start()
        self.wait_health(d, lambda h: h.get("reloading"), "the first build")
        write_by_rename(self.places, PLACES_HEAD + edit_entry(1))
        # During the build: tagging is answered at once, by the old set.
        t0 = time.monotonic()
        self.assertEqual(self.ids(d, "Kyiv Editplace1"), ["kyiv"])
        self.assertLess(time.monotonic() - t0, 0.5, "a tagging request waited for a build")
        self.assertTrue(self.health(d).get("reloading"))
        # Six more triggers during it.
        for _ in range(3):
            d.proc.send_signal(signal.SIGHUP)
        more = []
        posts = [threading.Thread(target=lambda: more.append(self.post_reload(d)))
                 for _ in range(3)]
        for p in posts:
            p.start()
        for p in posts:
            p.join(30)
        t.join(30)
        # The first POST got the build it started (before the edit); the
        # later ones the one build after it, which has the edit.
        status, body, _ = first["r"]
        # (its builder thread may read the files just after the edit on a
        # loaded machine: 3 or 4 entries; what matters is one build each)
        self.assertIn(body["entries"], (3, 4))
        self.assertEqual((status, body["generation"]), (200, gen0 + 1))
        self.assertEqual([(s, b["entries"], b["generation"]) for s, b, _ in more],
                         [(200, 4, gen0 + 2)] * 3)
        time.sleep(0.3)  # a third build, if there were one, would be under way
        h = self.health(d)
        self.assertNotIn("reloading", h)
        self.assertEqual(h["generation"], gen0 + 2)
        self.assertEqual(self.reload_lines(d), ["POST /reload", "SIGHUP, POST /reload"])
        self.assertEqual(self.ids(d, "Editplace1"), ["edit-1"])
        self.stop(d)

    def test_sigterm_answers_a_waiting_reload_and_exits_0(self):
        d = self.start(config={"watch": False},
                       env={"GAZTAGD_TEST_BUILD_DELAY_MS": "1000"})
        got = {}
        t = threading.Thread(target=lambda: got.update(r=self.post_reload(d)))
        t.start()
        self.wait_health(d, lambda h: h.get("reloading"), "the build")
        d.proc.send_signal(signal.SIGHUP)  # asked for, never built
        d.proc.send_signal(signal.SIGTERM)
        t.join(30)
        status, body, _ = got["r"]
        self.assertEqual((status, body["status"]), (200, "ok"))  # the build under way ends
        self.assertEqual(d.wait_exit(30), 0, d.log())


class WatcherTest(ReloadTestCase):

    def count_reloads(self, d):
        return len(self.reload_lines(d)) + d.log().count("failed, keeping the old")

    def test_one_save_is_one_reload(self):
        d = self.start()
        for i, write in enumerate((write_by_rename, write_in_place)):
            n = self.count_reloads(d)
            write(self.places, PLACES_HEAD + edit_entry(i))
            self.wait_visible(d, i, time.monotonic())
            time.sleep(0.6)  # past the quiet time: a second reload would have come
            self.assertEqual(self.count_reloads(d), n + 1, d.log())
        self.assertEqual(self.reload_lines(d), ["file change"] * 2)
        self.stop(d)

    def test_editor_companions_and_other_files_are_ignored(self):
        d = self.start()
        for name in (".places.yaml.swp", "places.yaml~", "4913", "#places.yaml#",
                     ".#places.yaml", "notes.txt", "places.yaml.bak"):
            write_in_place(os.path.join(self.gz, name), "not: [yaml")
        time.sleep(1.0)
        self.assertEqual(self.reload_lines(d), [])
        # a new gazetteer in the directory counts
        write_by_rename(os.path.join(self.gz, "more.yml"),
                        "type: place\nentries:\n" + edit_entry(7))
        self.wait_visible(d, 7, time.monotonic())
        self.assertIsNotNone(d.wait_log("gaztagd: reloaded (file change)"))
        self.assertEqual(self.reload_lines(d), ["file change"])
        # and so does one deleted
        os.unlink(os.path.join(self.gz, "more.yml"))
        self.wait_health(d, lambda h: h["entries"] == 3, "the deletion")
        self.stop(d)

    def test_a_file_named_directly_is_watched_by_name(self):
        other = os.path.join(self.tmp, "other")
        os.mkdir(other)
        named = os.path.join(other, "units.yaml")
        write_in_place(named, "type: unit\nentries:\n  - id: azov\n    name: Azov\n")
        d = self.start(gazetteers=(self.gz, named))
        # its neighbours are not gazetteers of this daemon
        write_in_place(os.path.join(other, "neighbour.yaml"), "type: x\n")
        time.sleep(1.0)
        self.assertEqual(self.reload_lines(d), [])
        write_by_rename(named, "type: unit\nentries:\n" + edit_entry(3))
        self.wait_visible(d, 3, time.monotonic())
        # the watch survives the rename: a second save is seen too
        write_in_place(named, "type: unit\nentries:\n" + edit_entry(4))
        self.wait_visible(d, 4, time.monotonic())
        self.stop(d)

    def test_watch_false_does_not_reload(self):
        d = self.start(config={"watch": False})
        write_by_rename(self.places, PLACES_HEAD + edit_entry(1))
        time.sleep(1.0)
        self.assertEqual(self.ids(d, "Editplace1"), [])
        self.assertEqual(self.reload_lines(d), [])
        self.stop(d)


class ReloadAccessTest(ReloadTestCase):

    def test_non_loopback_without_token_refuses_reload(self):
        d = Daemon(config={"watch": False}, gazetteers=(self.gz,),
                   args=["--listen", "0.0.0.0:0"])
        self.daemons.append(d)
        d.host = "127.0.0.1"
        self.assertIsNotNone(d.wait_log("without a reload_token: POST /reload is off"))
        status, body, _ = self.post_reload(d, token=None)
        self.assertEqual((status, body["error"]["code"]), (403, "reload_disabled"))
        self.assertIn("reload_token", body["error"]["message"])
        # SIGHUP still reloads
        gen = self.health(d)["generation"]
        d.proc.send_signal(signal.SIGHUP)
        self.wait_health(d, lambda h: h["generation"] == gen + 1, "the SIGHUP reload")
        self.stop(d)

    def test_non_loopback_with_token_needs_it(self):
        d = Daemon(config={"watch": False, "reload_token": TOKEN}, gazetteers=(self.gz,),
                   args=["--listen", "0.0.0.0:0"])
        self.daemons.append(d)
        d.host = "127.0.0.1"
        self.assertEqual(self.post_reload(d, token="nope")[0], 401)
        status, body, _ = self.post_reload(d)
        self.assertEqual((status, body["status"]), (200, "ok"))
        self.stop(d)

    def test_failed_post_reload_lists_every_problem_and_health_keeps_them(self):
        d = self.start(config={"watch": False})
        bad = "".join("  - id: bad-%d\n    nme: x\n" % k for k in range(150))
        write_in_place(self.places, PLACES_HEAD + bad)
        status, body, _ = self.post_reload(d)
        self.assertEqual((status, body["error"]["code"]), (422, "reload_failed"))
        errors = body["error"]["errors"]
        self.assertGreaterEqual(len(errors), 150)
        self.assertTrue(all(re.match(re.escape(self.places) + r":\d+:\d+: ", e)
                            for e in errors), errors[:5])
        err = self.health(d)["last_reload_error"]
        # /health keeps the first 100 and says how many there were
        self.assertEqual(err["errors"], errors[:100])
        self.assertEqual(err["error_count"], len(errors))
        # the log has every one of them (read by a thread of the harness)
        self.assertIsNotNone(d.wait_log("gaztagd: error: reload (POST /reload) failed"))
        log = d.log()
        self.assertTrue(all(("gaztagd: error: " + e) in log for e in errors))
        # fixed: the error is gone from /health
        write_in_place(self.places, PLACES_HEAD)
        status, body, _ = self.post_reload(d)
        self.assertEqual(status, 200)
        self.assertNotIn("last_reload_error", self.health(d))
        self.stop(d)


class OldSetsFreedTest(ReloadTestCase):

    def test_rss_after_100_reloads_stays_within_a_few_mb(self):
        generated_gazetteer(os.path.join(self.gz, "generated.yaml"), 20000)
        d = self.start(config={"watch": False}, start_timeout=120)
        # Under ASan a build of this set costs ~10 times as much CPU, its
        # quarantine holds freed memory (RSS says nothing), and a leaked set
        # fails the exit status (LeakSanitizer): ten reloads show that.
        asan = d.uses_asan()
        reloads = 10 if asan else 100
        clients = Clients(d, 2)  # sets held by requests in flight, too
        rss, secs = [], []
        try:
            for _ in range(reloads):
                status, body, _ = self.post_reload(d)
                self.assertEqual((status, body.get("entries")), (200, 20003), body)
                secs.append(body["seconds"])
                rss.append(d.rss_kb())
        finally:
            ok, failures = clients.finish()
        self.assertEqual(failures, [])
        self.assertEqual(body["generation"], reloads + 1)
        # What glibc keeps in its arenas after a load varies by a few MB
        # from one reload to the next, leak or not (17.5 to 23 MB here):
        # compare the floors, the least RSS after each of the first ten
        # reloads and after each of the last ten.  A leak raises the floor;
        # a leaked set per reload would raise it by tens of MB every ten.
        first, last = min(rss[:10]), min(rss[-10:])
        print("20003 entries: reload %.3f s median; RSS %d kB after the first reload, "
              "%d kB after reload %d; floors of ten %d -> %d kB (%+d kB); "
              "%d tagging requests meanwhile"
              % (sorted(secs)[len(secs) // 2], rss[0], rss[-1], reloads, first, last,
                 last - first, ok),
              file=sys.stderr)
        if not asan:  # ASan's quarantine holds freed memory; leaks are LSan's job there
            self.assertLess(last - first, 4 << 10, ("old sets are not freed", rss))
        self.stop(d)  # under ASan, a leaked set fails the exit status here


if __name__ == "__main__":
    unittest.main(verbosity=2)
