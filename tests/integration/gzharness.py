"""Shared harness for the integration tests: start the real gaztagd on a free
loopback port, speak HTTP to it, stop it.

Standard library only.  The daemon under test is $GAZTAGD (set by meson);
it is started with --listen 127.0.0.1:0 and the port is read from its
"gaztagd: listening on HOST:PORT" log line.  Every daemon started here is
stopped by its PID: SIGTERM, then SIGKILL after a timeout, from tearDown and,
whatever happens, at exit.
"""

import atexit
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

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.environ.get("GAZTAG_SOURCE_ROOT",
                             os.path.dirname(os.path.dirname(HERE)))
DATA = os.path.join(SOURCE_ROOT, "tests", "data", "http")
GAZETTEERS = os.path.join(DATA, "gazetteers")


# meson's exit status for "skipped".
SKIP_EXIT = 77


def gaztagd_path():
    path = os.environ.get("GAZTAGD")
    if not path:
        raise unittest.SkipTest("GAZTAGD is not set (run through meson test)")
    return path


# Under AddressSanitizer a leak found at exit must not pass for the exit
# status 1 that some tests expect: give it a status of its own.
os.environ.setdefault("ASAN_OPTIONS", "exitcode=86")

_live = []


def _kill_all():
    for d in list(_live):
        d.kill()


atexit.register(_kill_all)

LISTEN_RE = re.compile(r"gaztagd: listening on (\S+):(\d+)$")


class Daemon:
    """One gaztagd process.  config: a dict written as the YAML config file
    (values written verbatim), or None for flags only."""

    def __init__(self, args=(), config=None, gazetteers=(GAZETTEERS,),
                 env=None, wait_listen=True, wait_ready=True, start_timeout=30,
                 cwd=None):
        self.tmp = tempfile.mkdtemp(prefix="gztest-")
        cmd = [gaztagd_path()]
        if config is not None:
            self.config_path = os.path.join(self.tmp, "gaztag.yaml")
            write_config(self.config_path, config)
            cmd += ["--config", self.config_path]
        cmd += ["--listen", "127.0.0.1:0"]
        for g in gazetteers:
            cmd += ["--gazetteers", g]
        cmd += list(args)
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.cmd = cmd
        self.lines = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, env=full_env, cwd=cwd)
        _live.append(self)
        self.reader = threading.Thread(target=self._read_stderr, daemon=True)
        self.reader.start()
        self.host = self.port = None
        if wait_listen:
            line = self.wait_log(LISTEN_RE, start_timeout)
            if line is None:
                self.kill()
                raise AssertionError("gaztagd did not start: %r\n%s"
                                     % (cmd, self.log()))
            m = LISTEN_RE.search(line)
            self.host, self.port = m.group(1), int(m.group(2))
            if wait_ready and self.wait_log("gaztagd: ready", start_timeout) is None:
                self.kill()
                raise AssertionError("gaztagd did not load: %r\n%s" % (cmd, self.log()))

    def _read_stderr(self):
        for raw in self.proc.stderr:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_log(self, pattern, timeout=10):
        """The first log line matching pattern (a compiled regex or a
        substring), waiting up to timeout seconds; None if none came."""
        def match(line):
            if isinstance(pattern, str):
                return pattern in line
            return pattern.search(line)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if match(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None
                                 and not self.reader.is_alive()):
                    return None
                self.cond.wait(min(left, 0.1))

    def wait_exit(self, timeout=15):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(5)
        return rc

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Signal the daemon and return its exit status (SIGKILL after the
        timeout, and then the test fails on the status)."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        rc = self.wait_exit(timeout)
        if rc is None:
            self.kill()
            rc = self.proc.returncode
        self._forget()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self._forget()

    def _forget(self):
        if self in _live:
            _live.remove(self)
        if self.proc.stderr and not self.reader.is_alive():
            self.proc.stderr.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- HTTP ---------------------------------------------------------

    def conn(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30,
                conn=None):
        """(status, headers dict with lower-case names, body bytes)."""
        own = conn is None
        c = conn or self.conn(timeout)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            return r.status, hdrs, data
        finally:
            if own:
                c.close()

    def json(self, method, path, body=None, headers=None, **kw):
        """(status, parsed JSON body, headers); checks the JSON content type."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        status, hdrs, data = self.request(method, path, body, headers, **kw)
        ctype = hdrs.get("content-type")
        if ctype != "application/json; charset=utf-8":
            raise AssertionError("%s %s: Content-Type %r, body %r"
                                 % (method, path, ctype, data[:200]))
        return status, json.loads(data.decode("utf-8")), hdrs

    def gazetteers_hash(self):
        """The content hash of the gazetteer set in service, as GET /health
        shows it: every /tag answer carries it as "gazetteers"."""
        status, body, _ = self.json("GET", "/health")
        if status != 200 or not re.fullmatch(r"[0-9a-f]{32}", body.get("gazetteers", "")):
            raise AssertionError("GET /health: %r %r" % (status, body))
        return body["gazetteers"]

    def tag(self, text, query="", headers=None):
        body = text.encode("utf-8") if isinstance(text, str) else text
        return self.json("POST", "/tag" + query, body,
                         headers or {"Content-Type": "text/plain"})

    def rss_kb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def raw_socket(self, timeout=10):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        return s

    def send_raw(self, raw, timeout=10):
        """Send the bytes raw on a connection of their own and return all
        the server sends back until it closes (or the timeout); b"" when it
        resets the connection first.  A server that refuses a request before
        it was all sent may break the pipe: the answer is still read."""
        s = self.raw_socket()
        try:
            try:
                s.sendall(raw)
            except (BrokenPipeError, ConnectionResetError):
                pass
            try:
                return recv_all(s, timeout)
            except ConnectionResetError:
                return b""
        finally:
            s.close()

    def uses_asan(self):
        """True when this gaztagd is an AddressSanitizer build (its
        quarantine holds freed memory, so RSS bounds do not apply)."""
        with open("/proc/%d/maps" % self.proc.pid) as f:
            return "libasan" in f.read()

    def socket_count(self):
        """The sockets the daemon holds: its listening socket and one per
        accepted connection."""
        n = 0
        for fd in os.listdir("/proc/%d/fd" % self.proc.pid):
            try:
                if os.readlink("/proc/%d/fd/%s" % (self.proc.pid, fd)).startswith("socket:"):
                    n += 1
            except OSError:
                pass
        return n


def write_config(path, config):
    with open(path, "w", encoding="utf-8") as f:
        for key, value in config.items():
            if isinstance(value, (list, tuple)):
                f.write("%s:\n" % key)
                for v in value:
                    f.write("  - %s\n" % v)
            elif isinstance(value, bool):
                f.write("%s: %s\n" % (key, "true" if value else "false"))
            else:
                f.write("%s: %s\n" % (key, value))


def recv_all(sock, timeout=10):
    """Everything the server sends until it closes (or the timeout)."""
    sock.settimeout(timeout)
    chunks = []
    while True:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def closed_by_peer(sock, timeout):
    """True when the server closes sock (EOF or reset) within timeout,
    whatever it sends first."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def read_responses(sock, n, timeout=10):
    """n HTTP/1.1 responses read off sock in order, each (status, headers,
    body), using their Content-Length (the daemon always sends one); fewer
    when the server closes first."""
    sock.settimeout(timeout)
    buf = b""
    out = []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            b = sock.recv(65536)
            if not b:
                return out
            buf += b
        head, _, rest = buf.partition(b"\r\n\r\n")
        status, hdrs, _ = parse_response(head + b"\r\n\r\n")
        length = int(hdrs.get("content-length", "0"))
        while len(rest) < length:
            b = sock.recv(65536)
            if not b:
                break
            rest += b
        out.append((status, hdrs, rest[:length]))
        buf = rest[length:]
    return out


def free_port():
    """A loopback TCP port that nothing listens on now, for the programs
    that cannot be started on port 0 (nginx, curl's target of a daemon that
    is down).  The tests and bench/ ask this one."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_kb(pid):
    """A process's memory in KiB: VmRSS and VmHWM of /proc/PID/status, and
    Pss (its share of the pages it shares with others) of smaps_rollup;
    {} when the process is gone.  The tests and bench/ ask this one."""
    got = {}
    try:
        for name, keys in (("status", ("VmRSS:", "VmHWM:")), ("smaps_rollup", ("Pss:",))):
            with open("/proc/%d/%s" % (pid, name)) as f:
                for line in f:
                    if line.startswith(keys):
                        got[line.split(":")[0]] = int(line.split()[1])
    except OSError:
        pass
    return got


def wait_for(pred, timeout, step=0.05):
    """pred()'s first true value, polled every step seconds for up to
    timeout seconds; its last (false) value after that."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def parse_response(raw):
    """(status, headers dict lower-case, body) of one raw HTTP/1.1 response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body


# The answer's span for the text "Kyiv" with the default GAZETTEERS.
KYIV_SPAN = {"start": 0, "end": 4, "text": "Kyiv", "type": "place", "id": "kyiv",
             "name": "Kyiv", "attrs": {"country": "UA", "population": 2952301}}


class DaemonTestCase(unittest.TestCase):
    """One daemon for the whole class (started in setUpClass with
    daemon_kwargs), which must exit 0 when stopped in tearDownClass."""

    daemon_kwargs = {}

    @classmethod
    def setUpClass(cls):
        cls.d = Daemon(**cls.daemon_kwargs)
        cls._gz_hash = None

    @property
    def gz_hash(self):
        """What every answer's "gazetteers" must say: the class's daemon's
        hash, asked of /health once, when first needed (a test that reloads
        asks the daemon again)."""
        cls = type(self)
        if cls._gz_hash is None:
            cls._gz_hash = self.d.gazetteers_hash()
        return cls._gz_hash

    @classmethod
    def tearDownClass(cls):
        rc = cls.d.stop()
        if rc != 0:
            raise AssertionError("gaztagd exited with %r:\n%s" % (rc, cls.d.log()))

    def assert_serving(self, timeout=5):
        """Asserts that a daemon on the default GAZETTEERS answers POST /tag
        "Kyiv" exactly, within timeout seconds; returns how long it took."""
        t0 = time.monotonic()
        status, body, _ = self.d.json("POST", "/tag", b"Kyiv", timeout=timeout)
        self.assertEqual((status, body),
                         (200, {"entities": [KYIV_SPAN], "offsets": "codepoint",
                                "gazetteers": self.d.gazetteers_hash()}))
        return time.monotonic() - t0


def project_version():
    """The version in meson.build's project(), which gaztagd reports in
    --version and GET /health."""
    with open(os.path.join(SOURCE_ROOT, "meson.build"), encoding="utf-8") as f:
        m = re.search(r"^\s*version\s*:\s*'([^']+)'", f.read(), re.M)
    if not m:
        raise AssertionError("no version in meson.build's project()")
    return m.group(1)


# --- what the tests need besides gaztagd -------------------------------------
#
# Tests install nothing: `scripts/deps test` installs every program and
# package they use before any of them starts.  A test whose tool is missing
# anyway is skipped, saying what to run; skipped, never passed (main()).

def need_program(name, package, paths=()):
    """The path of the program name, found on the PATH or at one of paths;
    unittest.SkipTest naming the Debian package when it is missing."""
    for path in (shutil.which(name),) + tuple(paths):
        if path and os.access(path, os.X_OK):
            return path
    raise unittest.SkipTest("%s is not installed: run scripts/deps test "
                            "(Debian package %s)" % (name, package))


def need_playwright():
    """(node, the directory holding node_modules/playwright-core) for the
    browser test: $GAZTAG_NODE_DIR, by default the repository, where
    `scripts/deps test` installs it with npm."""
    node = need_program("node", "nodejs")
    need_program("chromium", "chromium", ["/usr/bin/chromium"])
    node_dir = os.environ.get("GAZTAG_NODE_DIR") or SOURCE_ROOT
    if not os.path.isfile(os.path.join(node_dir, "node_modules", "playwright-core",
                                       "package.json")):
        raise unittest.SkipTest("playwright-core is not installed in %s: run "
                                "scripts/deps test (npm)"
                                % os.path.join(node_dir, "node_modules"))
    return node, node_dir


def main():
    """unittest.main for meson: exit 1 on any failure, SKIP_EXIT when any
    case was skipped (its reason is printed beside it), else 0, so that a
    missing tool shows as SKIP rather than as a pass that checked less."""
    result = unittest.main(exit=False, verbosity=2).result
    if not result.wasSuccessful():
        sys.exit(1)
    if result.skipped:
        print("SKIP: %s" % "; ".join(sorted({reason for _, reason in result.skipped})),
              file=sys.stderr)
        sys.exit(SKIP_EXIT)
    sys.exit(0)
