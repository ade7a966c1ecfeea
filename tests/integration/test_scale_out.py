"""Two gaztagd replicas behind nginx, configured by deploy/nginx.conf itself
(its ports replaced): clients tag through nginx from several threads while
one replica is restarted (SIGTERM, then started again on the same port) and
the other reloaded (SIGHUP), rolling a gazetteer change across both; not one
request may fail.

nginx is Debian's (`scripts/deps test` installs it); without it the test is
skipped, saying so (exit 77).  nginx runs in the foreground with its own
prefix, pid, logs and temp files in a temporary directory, on a free loopback
port, and is stopped by its PID, like the replicas
(tests/integration/gzharness.py)."""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402
from gzharness import GAZETTEERS, SOURCE_ROOT, Daemon, free_port  # noqa: E402

NGINX_CONF = os.path.join(SOURCE_ROOT, "deploy", "nginx.conf")
TEXT = "Zelensky visited Kyiv Oblast and Mariupol near Vuhledar."
OLD_IDS = ["volodymyr-zelensky", "kyiv-oblast", "mariupol"]
NEW_IDS = OLD_IDS + ["vuhledar"]
ROLLED = "type: place\nentries:\n  - id: vuhledar\n    name: Vuhledar\n"
THREADS = 6


def site_config(replica_ports, listen_port):
    """deploy/nginx.conf with the replicas' and the listener's ports
    replaced; each replaced text must be there exactly once, so an edit of
    the file that breaks the substitution fails here rather than testing
    something else."""
    with open(NGINX_CONF, encoding="utf-8") as f:
        text = f.read()
    subs = [("server 127.0.0.1:%d " % (7701 + i), "server 127.0.0.1:%d " % p)
            for i, p in enumerate(replica_ports)]
    subs.append(("listen 127.0.0.1:7700;", "listen 127.0.0.1:%d;" % listen_port))
    for old, new in subs:
        if text.count(old) != 1:
            raise AssertionError("%s: expected exactly one %r" % (NGINX_CONF, old))
        text = text.replace(old, new)
    return text


class Nginx:
    """nginx in the foreground, everything it writes in tmp."""

    def __init__(self, binary, tmp, site, port):
        self.tmp, self.port = tmp, port
        with open(os.path.join(tmp, "gaztag.conf"), "w") as f:
            f.write(site)
        self.access_log = os.path.join(tmp, "access.log")
        self.error_log = os.path.join(tmp, "error.log")
        main = os.path.join(tmp, "nginx.conf")
        temps = "".join("    %s_temp_path %s;\n" % (k, os.path.join(tmp, k))
                        for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        with open(main, "w") as f:
            f.write("daemon off;\nworker_processes 2;\npid %s;\nerror_log %s info;\n"
                    "events { worker_connections 512; }\n"
                    "http {\n"
                    "    log_format gz '$request_method $uri $status"
                    " up=[$upstream_addr] st=[$upstream_status]';\n"
                    "    access_log %s gz;\n%s"
                    "    include %s;\n}\n"
                    % (os.path.join(tmp, "nginx.pid"), self.error_log,
                       self.access_log, temps, os.path.join(tmp, "gaztag.conf")))
        # Workers run as nobody when we are root: they must reach the temp
        # directories.
        os.chmod(tmp, 0o755)
        test = subprocess.run([binary, "-t", "-p", tmp, "-c", main, "-e", self.error_log],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if test.returncode != 0:
            raise AssertionError("nginx -t failed:\n%s" % test.stdout.decode())
        self.proc = subprocess.Popen([binary, "-p", tmp, "-c", main, "-e", self.error_log],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError("nginx did not start:\n%s" % self.errors())
                time.sleep(0.05)

    def errors(self):
        try:
            with open(self.error_log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def access_lines(self):
        with open(self.access_log, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish requests
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class Load:
    """THREADS clients tagging TEXT through nginx, each on its own kept-alive
    connection, until stopped; every answer that is not a 200 with the
    expected entities is a failure."""

    def __init__(self, port):
        self.port = port
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.ok = 0
        self.new = 0
        self.failures = []
        self.threads = [threading.Thread(target=self.run, daemon=True)
                        for _ in range(THREADS)]
        for t in self.threads:
            t.start()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        while not self.stopping.is_set():
            try:
                conn.request("POST", "/tag", TEXT.encode(), {"Content-Type": "text/plain"})
                r = conn.getresponse()
                data = r.read()
                ids = ([e["id"] for e in json.loads(data)["entities"]]
                       if r.status == 200 else None)
                if ids in (OLD_IDS, NEW_IDS):
                    with self.lock:
                        self.ok += 1
                        self.new += ids == NEW_IDS
                else:
                    self.fail("%d %r" % (r.status, data[:300]))
            except Exception as e:  # noqa: BLE001 - every failure counts
                self.fail("%s: %s" % (type(e).__name__, e))
                conn.close()
        conn.close()

    def fail(self, what):
        with self.lock:
            self.failures.append("%.3f %s" % (time.monotonic(), what))

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(60)


def tag_ids(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", "/tag", TEXT.encode())
        r = c.getresponse()
        body = json.loads(r.read())
        return r.status, [e["id"] for e in body.get("entities", [])]
    finally:
        c.close()


class ScaleOutTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.nginx_bin = gzharness.need_program("nginx", "nginx", ["/usr/sbin/nginx"])

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="gztest-scale-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        # Both replicas read the same directory: shared files are all the
        # coordination replicas need.
        self.gz = os.path.join(self.tmp, "gazetteers")
        shutil.copytree(GAZETTEERS, self.gz)
        self.replicas = []
        self.nginx = None
        self.addCleanup(self.stop_all)

    def start_replica(self, port=0, env=None, wait_ready=True):
        d = Daemon(config={"watch": False, "log_level": "debug", "threads": 2},
                   gazetteers=(self.gz,), env=env, wait_ready=wait_ready,
                   args=["--listen", "127.0.0.1:%d" % port])
        self.replicas.append(d)
        return d

    def nginx_prefix(self):
        prefix = os.path.join(self.tmp, "nginx")
        os.makedirs(prefix)
        return prefix

    def stop_all(self):
        if self.nginx:
            self.nginx.stop()
        for d in self.replicas:
            d.kill()

    def test_restart_and_reload_behind_nginx_fail_no_request(self):
        a = self.start_replica()
        b = self.start_replica()
        port = free_port()
        self.nginx = Nginx(self.nginx_bin, self.nginx_prefix(),
                           site_config([a.port, b.port], port), port)
        self.assertEqual(tag_ids(port), (200, OLD_IDS))

        load = Load(port)
        try:
            time.sleep(1)
            # The change to roll out: a new file beside the others.
            with open(os.path.join(self.gz, "rolled.yaml"), "w") as f:
                f.write(ROLLED)

            # Replica A: stopped, then started again on its port.  It binds at
            # once but loads slowly (the test hook holds its load back), so
            # for a while it answers 503: nginx must pass over it then too.
            self.assertEqual(a.stop(), 0, a.log())
            time.sleep(0.5)
            a2 = self.start_replica(a.port, env={"GAZTAGD_TEST_LOAD_DELAY_MS": "7000"},
                                    wait_ready=False)
            self.assertEqual(a2.port, a.port)

            # Replica B: reloaded by SIGHUP meanwhile.
            time.sleep(1)
            b.proc.send_signal(signal.SIGHUP)
            self.assertIsNotNone(b.wait_log("gaztagd: reloaded (SIGHUP)", 15), b.log())

            self.assertIsNotNone(a2.wait_log("gaztagd: ready", 30), a2.log())
            # nginx leaves a failed replica out for fail_timeout (5 s), then
            # tries it again: give the restarted one time to be back in.
            time.sleep(7)
        finally:
            load.stop()

        if load.failures:
            self.fail("%d requests failed (%d ok); the first ones:\n%s\nnginx errors:\n%s"
                      % (len(load.failures), load.ok, "\n".join(load.failures[:10]),
                         self.nginx.errors()[-3000:]))
        self.assertGreater(load.ok, 200)

        # The change is rolled out: every answer now has the new entity.
        for _ in range(10):
            self.assertEqual(tag_ids(port), (200, NEW_IDS))
        for d in (a2, b):
            status, health, _ = d.json("GET", "/health")
            self.assertEqual((status, health["files"], health["entries"]), (200, 4, 11))

        # Both replicas served, before and after the restart and reload.
        served = re.compile(r"gaztagd: debug: POST /tag 200 ")
        self.assertTrue(any(served.search(line) for line in a2.log().splitlines()),
                        "the restarted replica never served")
        after_reload = b.log().split("reloaded (SIGHUP)", 1)[1]
        self.assertRegex(after_reload, served, "the reloaded replica never served after")

        # And the failover paths were really taken: a request passed on from
        # a replica that was gone (502 from nginx's view), and one passed on
        # from the replica still loading (503).
        lines = self.nginx.access_lines()
        retried = [line for line in lines if ", " in line]
        print("%d requests through nginx, %d answered by a second replica, %d with the "
              "rolled change" % (len(lines), len(retried), load.new), file=sys.stderr)
        self.assertTrue(any(re.search(r"st=\[502, 200\]", line) for line in retried),
                        "no request was passed on from the stopped replica:\n"
                        + "\n".join(retried[:10]))
        self.assertTrue(any(re.search(r"st=\[503, 200\]", line) for line in retried),
                        "no request was passed on from the loading replica:\n"
                        + "\n".join(retried[:10]))
        self.assertTrue(all(re.match(r"POST /tag 200 ", line) for line in lines),
                        [line for line in lines if not line.startswith("POST /tag 200 ")][:5])

    def test_balancer_errors_are_json(self):
        a = self.start_replica()
        port = free_port()
        # Both upstream lines point at the one replica, then it goes away.
        self.nginx = Nginx(self.nginx_bin, self.nginx_prefix(),
                           site_config([a.port, a.port], port), port)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", "/reload")
        r = c.getresponse()
        self.assertEqual((r.status, r.getheader("Content-Type"), json.loads(r.read())),
                         (403, "application/json", {"error": {
                             "code": "forbidden",
                             "message": "POST /reload to each gaztagd replica, "
                                        "not through the balancer"}}))
        self.assertEqual(a.stop(), 0)
        c.request("POST", "/tag", b"Kyiv")
        r = c.getresponse()
        self.assertEqual((r.status, r.getheader("Content-Type"), json.loads(r.read())),
                         (502, "application/json", {"error": {
                             "code": "no_replica",
                             "message": "no gaztagd replica answered"}}))
        c.close()


if __name__ == "__main__":
    gzharness.main()
