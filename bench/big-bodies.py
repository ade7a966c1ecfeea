#!/usr/bin/env python3
"""Big bodies over HTTP (issue 14): a 10 MB raw text and 10 MB of NDJSON in
2 KB lines, POSTed to a gaztagd on a free loopback port with curl (one
request at a time, best and median of N), with the daemon's RSS before,
after and at its peak, and, for NDJSON, the time from the request's last byte to the answer's
first byte and last byte (a raw socket: curl has no such timer for a POST).

    bench/big-bodies.py --gaztagd BIN --gazetteers YAML --corpus TXT [--rounds N]
                        [--mb 10] [--compare OTHER_BIN]

Prints a line per measure, and one JSON object on the last line.  Not a test:
no assertion on time.  --compare runs a second binary (an older build)
alternately with the first, in the same run, for a before/after."""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

# The tests' harness holds the helpers that bench shares with them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "integration"))
from gzharness import free_port, memory_kb  # noqa: E402


def make_inputs(corpus, mb, tmp):
    """The first `mb` MB of the corpus (cut at a line end), and the same
    text as NDJSON lines of about 2 KB, {"id": n, "text": ...}."""
    with open(corpus, "rb") as f:
        data = f.read(mb * 1000 * 1000 + 100000)
    data = data[: data.rfind(b"\n", 0, mb * 1000 * 1000) + 1]
    text = data.decode("utf-8")
    raw = os.path.join(tmp, "body.txt")
    with open(raw, "wb") as f:
        f.write(data)
    lines, i, n = [], 0, 0
    while i < len(text):
        j = min(len(text), i + 2000)
        lines.append(json.dumps({"id": n, "text": text[i:j]}, ensure_ascii=False))
        i, n = j, n + 1
    nd = os.path.join(tmp, "body.ndjson")
    with open(nd, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return raw, nd, n


class Daemon:
    def __init__(self, binary, gazetteers, logpath):
        self.port = free_port()
        self.log = open(logpath, "w")
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:%d" % self.port, "--gazetteers", gazetteers,
             "--threads", "2", "--log-level", "warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        url = "http://127.0.0.1:%d/health" % self.port
        for _ in range(600):
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited; see %s" % (binary, logpath))
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if json.load(r).get("status") == "ok":
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("%s never became ready" % binary)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def first_byte(port, path, ctype):
    """Seconds from the request's last byte to the answer's first byte and
    to its last byte (raw socket, Connection: close), and the answer's size."""
    with open(path, "rb") as f:
        body = f.read()
    head = ("POST /tag HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\n"
            "Content-Length: %d\r\nConnection: close\r\n\r\n" % (ctype, len(body))).encode()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(head + body)
    t0 = time.perf_counter()
    first, n = None, 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        if first is None:
            first = time.perf_counter() - t0
        n += len(b)
    s.close()
    return first, time.perf_counter() - t0, n


def post(port, path, ctype, out):
    """One curl POST; returns (total s, first byte s, bytes, http code)."""
    r = subprocess.run(
        ["curl", "-sS", "-o", out, "-w", "%{time_total} %{size_download} %{http_code}", "-H", "Content-Type: " + ctype, "-H", "Expect:",
         "--data-binary", "@" + path, "http://127.0.0.1:%d/tag" % port],
        capture_output=True, text=True, check=True)
    t, size, code = r.stdout.split()
    return float(t), int(size), int(code)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gaztagd", required=True)
    ap.add_argument("--gazetteers", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--compare")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--mb", type=int, default=10)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="gz-big-")
    raw, nd, nlines = make_inputs(a.corpus, a.mb, tmp)
    sizes = {"raw": os.path.getsize(raw), "ndjson": os.path.getsize(nd)}
    bins = [("gaztag", a.gaztagd)] + ([("compare", a.compare)] if a.compare else [])
    daemons = {}
    res = {"rounds": a.rounds, "raw_bytes": sizes["raw"], "ndjson_bytes": sizes["ndjson"],
           "ndjson_lines": nlines, "runs": {}}
    try:
        for name, b in bins:
            daemons[name] = Daemon(b, a.gazetteers, os.path.join(tmp, name + ".log"))
            res["runs"][name] = {"binary": b, "rss_idle_kb": memory_kb(daemons[name].proc.pid)["VmRSS"]}
        answers = {}
        times = {(n, k): [] for n, _ in bins for k in ("raw", "ndjson")}
        firsts = {n: [] for n, _ in bins}
        for rnd in range(a.rounds):
            # alternate the binaries, and which goes first, round by round
            order = bins if rnd % 2 == 0 else list(reversed(bins))
            for name, _ in order:
                d = daemons[name]
                for kind, path, ctype in (("raw", raw, "text/plain; charset=utf-8"),
                                          ("ndjson", nd, "application/x-ndjson")):
                    out = os.path.join(tmp, "%s.%s.out" % (name, kind))
                    t, size, code = post(d.port, path, ctype, out)
                    if code != 200:
                        raise RuntimeError("%s %s: HTTP %d" % (name, kind, code))
                    times[(name, kind)].append(t)
                    if kind == "ndjson":
                        firsts[name].append(first_byte(d.port, path, ctype))
                    if rnd == 0:
                        with open(out, "rb") as f:
                            answers[(name, kind)] = f.read()
        for name, _ in bins:
            r = res["runs"][name]
            for kind in ("raw", "ndjson"):
                ts = times[(name, kind)]
                r[kind] = {"best_s": round(min(ts), 4), "median_s": round(statistics.median(ts), 4),
                           "mb_per_s_best": round(sizes[kind] / 1e6 / min(ts), 1),
                           "mb_per_s_median": round(sizes[kind] / 1e6 / statistics.median(ts), 1),
                           "answer_bytes": len(answers[(name, kind)])}
            # after the request is sent: the answer's first byte, its last
            r["ndjson"]["first_byte_median_s"] = round(statistics.median(f[0] for f in firsts[name]), 4)
            r["ndjson"]["last_byte_median_s"] = round(statistics.median(f[1] for f in firsts[name]), 4)
            m = memory_kb(daemons[name].proc.pid)
            r["rss_after_kb"], r["rss_peak_kb"] = m["VmRSS"], m["VmHWM"]
            print("%-8s raw %6.1f MB/s (median %6.1f)  ndjson %6.1f MB/s (median %6.1f, first byte "
                  "%.3f s of %.3f)  RSS idle %d MB, after %d MB, peak %d MB" % (
                      name, r["raw"]["mb_per_s_best"], r["raw"]["mb_per_s_median"],
                      r["ndjson"]["mb_per_s_best"], r["ndjson"]["mb_per_s_median"],
                      r["ndjson"]["first_byte_median_s"],
                      r["ndjson"]["last_byte_median_s"], r["rss_idle_kb"] // 1024,
                      r["rss_after_kb"] // 1024, r["rss_peak_kb"] // 1024))
        if a.compare:
            for kind in ("raw", "ndjson"):
                same = answers[("gaztag", kind)] == answers[("compare", kind)]
                res["same_answer_" + kind] = same
                print("%s answers byte for byte the same: %s" % (kind, same))
    finally:
        for d in daemons.values():
            d.stop()
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
