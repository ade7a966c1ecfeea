#!/usr/bin/python3
"""The measurements of bench/run, in one process so that every number comes
from the same run, the same data and the same machine state.

    measure.py --root REPO --build BUILD_DIR --hs-bench HS_BIN [--quick]

Runs, in order: gaztag's engine (gz-bench), ripgrep, pyahocorasick, Hyperscan
on bench/data/corpus.txt and names.txt; gaztag's load time and memory on the
cities and the synthetic 1M and 5M gazetteers; then wrk against gaztagd and
against nginx, each started here on a free loopback port and stopped by its
PID.  Prints the table, writes bench/out/results-<date>.json and updates the
generated block of bench/RESULTS.md (between its bench/run markers; the
prose around it is kept).  --quick (for trying the harness) scans the 5 MB
small.txt, skips the 5M set and runs wrk for 3 s.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

# The tests' harness holds the helpers that bench shares with them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "tests", "integration"))
from gzharness import free_port  # noqa: E402

BEGIN = "<!-- bench/run: begin generated block; edits inside are overwritten -->"
END = "<!-- bench/run: end generated block -->"


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# --- running things -----------------------------------------------------------

def run(cmd, timeout=900, env=None, ok=(0,)):
    """Runs cmd; returns (wall seconds, stdout, stderr, exit code, CPU seconds).
    CPU seconds (user + system, from wait4) are what a tool spent itself, which
    other work on a shared machine does not inflate the way it does wall time."""
    with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=fo, stderr=fe, env=env, stdin=subprocess.DEVNULL)
        deadline = t0 + timeout
        status = ru = None
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                status = None
                break
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status) if status is not None else -9
        fo.seek(0)
        fe.seek(0)
        out = fo.read().decode("utf-8", "replace")
        err = fe.read().decode("utf-8", "replace")
    if status is None:
        return wall, out, "timed out after %d s" % timeout, None, ru.ru_utime + ru.ru_stime
    if p.returncode not in ok:
        raise RuntimeError("%s exited %s: %s" % (" ".join(cmd), p.returncode, err[-2000:]))
    return wall, out, err, p.returncode, ru.ru_utime + ru.ru_stime


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in: " + text[-500:])


class Server:
    """A server started by us, stopped by its PID and nothing else."""

    def __init__(self, name, cmd, logpath, env=None):
        self.name = name
        self.log = open(logpath, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        log("%s started, pid %d" % (name, self.proc.pid))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            log("%s (pid %d) stopped" % (self.name, self.proc.pid))
        self.log.close()


def wait_http(url, server, timeout=120, method="GET", data=None):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if not server.alive():
            raise RuntimeError("%s exited early (see its log)" % server.name)
        try:
            req = urllib.request.Request(url, data=data, method=method)
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    return r.read()
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.1)
    raise RuntimeError("%s did not answer %s within %d s" % (server.name, url, timeout))


# --- the machine ----------------------------------------------------------------

def machine():
    cpu = "?"
    flags = ""
    mhz = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            k, _, v = line.partition(":")
            k, v = k.strip(), v.strip()
            if k == "model name" and cpu == "?":
                cpu = v
            elif k == "cpu MHz" and mhz is None:
                mhz = float(v)
            elif k == "flags" and not flags:
                flags = v
    mem = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) / 1024 / 1024
    return {"cpu": cpu, "cpu_mhz": mhz, "nproc": os.cpu_count(),
            "avx2": " avx2 " in " %s " % flags, "avx512": "avx512bw" in flags,
            "mem_gib": round(mem, 1), "kernel": platform.release(),
            "os": _os_release()}


def _os_release():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "?"


def loadavg():
    with open("/proc/loadavg") as f:
        return [float(x) for x in f.read().split()[:3]]


def version(cmd):
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def deb_version(pkg):
    return version(["dpkg-query", "-W", "-f=${Version}", pkg])


# --- the measurements -------------------------------------------------------------

def best_of(cmd, n, ok=(0, 1)):
    """Best wall time and best CPU time of n runs, and the last output."""
    bw = bc = None
    out = ""
    for _ in range(n):
        wall, out, err, rc, cpu = run(cmd, ok=ok)
        bw = wall if bw is None or wall < bw else bw
        bc = cpu if bc is None or cpu < bc else bc
    return bw, bc, out


def measure_engine(a, corpus, gaz):
    log("gaztag engine: gz-bench %s (best of 3)" % os.path.basename(corpus))
    _, out, _, _, _ = run([a.gz_bench, corpus, gaz, "--repeat", "3"])
    return last_json(out)


def measure_ripgrep(a, corpus, names, mb):
    log("ripgrep -c -F -f names.txt (best of 3, and on /dev/null for the pattern compile)")
    r = {"version": version(["rg", "--version"])}
    r["compile_s"], r["compile_cpu_s"], _ = best_of(["rg", "-c", "-F", "-f", names, "/dev/null"], 3)
    r["total_s"], r["total_cpu_s"], out = best_of(["rg", "-c", "-F", "-f", names, corpus], 3)
    r["matching_lines"] = int(out.strip() or 0)
    r["mb_per_s_total"] = mb / r["total_s"]
    r["mb_per_cpu_s_total"] = mb / r["total_cpu_s"]
    # The scan alone: the run on the corpus less the run on /dev/null (which
    # reads the patterns and builds the matcher, then finds nothing to read).
    r["scan_s"] = r["total_s"] - r["compile_s"]
    r["scan_cpu_s"] = r["total_cpu_s"] - r["compile_cpu_s"]
    r["mb_per_s_scan"] = mb / r["scan_s"] if r["scan_s"] > 0.05 else None
    r["mb_per_cpu_s_scan"] = mb / r["scan_cpu_s"] if r["scan_cpu_s"] > 0.05 else None
    log("ripgrep --count-matches (one run, for the count of matches, not lines)")
    wall, out, _, _, _ = run(["rg", "--count-matches", "-F", "-f", names, corpus], ok=(0, 1))
    r["count_matches_s"] = wall
    r["matches"] = int(out.strip() or 0)
    log("ripgrep -i -w (caseless whole words, the mode that matches gaztag's semantics best)")
    wall, out, err, rc, _ = run(["rg", "-c", "-i", "-w", "-F", "-f", names, "/dev/null"],
                                timeout=180, ok=(0, 1, 2))
    r["caseless_word"] = {"exit": rc, "wall_s": round(wall, 2),
                          "error": err.strip().splitlines()[-1] if err.strip() else None}
    return r


def measure_aho(a, corpus, names):
    log("pyahocorasick: lowercased automaton, iter_long, whole-word filter (best of 3)")
    _, out, _, _, _ = run([a.python, os.path.join(a.root, "bench", "aho-bench.py"), names, corpus,
                           "--repeat", "3"])
    r = last_json(out)
    r["version"] = deb_version("python3-ahocorasick")
    return r


def measure_hyperscan(a, corpus, names):
    log("Hyperscan: caseless literal set, block mode (best of 3; compile apart)")
    _, out, _, _, _ = run([a.hs_bench, names, corpus, "--repeat", "3"])
    return last_json(out)


def measure_tag_end_to_end(a, corpus, data, mb):
    """`gaztagd --tag CORPUS > /dev/null` with the names only (cities-plain,
    the dictionary rg reads), less the same run on an empty file (the load):
    what a user of --tag gets, JSON answer included."""
    gaz = os.path.join(data, "cities-plain.yaml")
    log("gaztagd --tag %s --gazetteers cities-plain.yaml > /dev/null (best of 3, and on an "
        "empty file for the load)" % os.path.basename(corpus))
    r = {"gazetteer": "cities-plain.yaml"}
    best = {}
    for label, path in (("load", os.devnull), ("total", corpus)):
        for _ in range(3):
            with open(os.devnull, "wb") as null:
                t0 = time.perf_counter()
                p = subprocess.Popen([a.gaztagd, "--tag", path, "--gazetteers", gaz], stdout=null,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
                _, status, ru = os.wait4(p.pid, 0)
                wall = time.perf_counter() - t0
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError("gaztagd --tag %s failed" % path)
            cpu = ru.ru_utime + ru.ru_stime
            b = best.setdefault(label, {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": 0})
            b["wall_s"], b["cpu_s"] = min(b["wall_s"], wall), min(b["cpu_s"], cpu)
            b["peak_rss_mb"] = max(b["peak_rss_mb"], ru.ru_maxrss / 1024)
    r.update({k + "_" + x: round(v, 3) for k, d in best.items() for x, v in d.items()})
    tag_cpu = best["total"]["cpu_s"] - best["load"]["cpu_s"]
    tag_wall = best["total"]["wall_s"] - best["load"]["wall_s"]
    r["mb_per_cpu_s"] = round(mb / tag_cpu, 1) if tag_cpu > 0.01 else None
    r["mb_per_s"] = round(mb / tag_wall, 1) if tag_wall > 0.01 else None
    return r


def measure_big_http(a, data, corpus, quick):
    """bench/big-bodies.py: a 10 MB raw body and 10 MB of NDJSON over HTTP."""
    log("HTTP: 10 MB raw body and 10 MB of NDJSON in 2 KB lines (bench/big-bodies.py)")
    cmd = [a.python, os.path.join(a.root, "bench", "big-bodies.py"), "--gaztagd", a.gaztagd,
           "--gazetteers", os.path.join(data, "cities-plain.yaml"), "--corpus", corpus,
           "--rounds", "3" if quick else "7", "--mb", "2" if quick else "10"]
    if a.compare:
        cmd += ["--compare", a.compare]
    _, out, _, _, _ = run(cmd, timeout=1800)
    return last_json(out)


def measure_tag_dir(a, quick):
    """bench/tag-dir-bench: scripts/tag-dir on 10,000 files of 2 KB."""
    log("scripts/tag-dir on %d files of 2 KB (bench/tag-dir-bench)" % (1000 if quick else 10000))
    _, out, _, _, _ = run([os.path.join(a.root, "bench", "tag-dir-bench"), "--gaztagd", a.gaztagd,
                           "--files", "1000" if quick else "10000"], timeout=1800)
    return last_json(out)


def measure_scale(a, data, quick):
    sets = [("cities", "cities.yaml"), ("cities names only", "cities-plain.yaml"),
            ("synthetic 1M", "synthetic-1m.yaml")]
    if not quick:
        sets.append(("synthetic 5M", "synthetic-5m.yaml"))
    rows = []
    for label, fn in sets:
        path = os.path.join(data, fn)
        log("load: %s (%s, %.0f MB of YAML)" % (label, fn, os.path.getsize(path) / 1e6))
        _, out, _, _, _ = run([a.gz_bench, os.path.join(data, "small.txt"), path, "--repeat", "3"])
        r = last_json(out)
        r["set"] = label
        r["file"] = fn
        r["yaml_mb"] = round(os.path.getsize(path) / 1e6, 1)
        r["bytes_per_name"] = round(r["set_rss_mb"] * 1024 * 1024 / max(1, r["names"]))
        rows.append(r)
    return rows


def nginx_conf(prefix, port, body):
    for d in ("html", "tmp", "logs"):
        os.makedirs(os.path.join(prefix, d), exist_ok=True)
    shutil.copyfile(body, os.path.join(prefix, "html", "article.txt"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = """# Written by bench/measure.py: a minimal static server for the HTTP baseline.
%sworker_processes auto;
daemon off;
pid %s/nginx.pid;
error_log %s/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type text/plain;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path %s/tmp/body;
    proxy_temp_path %s/tmp/proxy;
    fastcgi_temp_path %s/tmp/fastcgi;
    uwsgi_temp_path %s/tmp/uwsgi;
    scgi_temp_path %s/tmp/scgi;
    server {
        listen 127.0.0.1:%d;
        root %s/html;
    }
}
""" % (user, prefix, prefix, prefix, prefix, prefix, prefix, prefix, port, prefix)
    path = os.path.join(prefix, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def wrk(a, url, seconds, body=None):
    env = dict(os.environ)
    env.pop("GZ_BENCH_BODY", None)
    if body:
        env["GZ_BENCH_BODY"] = body
    cmd = ["wrk", "-t2", "-c50", "-d%ds" % seconds, "-s", os.path.join(a.root, "bench", "wrk.lua"), url]
    _, out, _, _, _ = run(cmd, timeout=seconds + 60, env=env)
    m = re.search(r"^WRK_JSON (\{.*\})$", out, re.M)
    if not m:
        raise RuntimeError("wrk printed no result: " + out[-1000:])
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["p99_ms"] = r["latency_us"]["p99"] / 1000
    return r


def measure_http(a, data, out_dir, quick):
    seconds = 3 if quick else 10
    body = os.path.join(a.root, "bench", "http-article.txt")
    res = {"connections": 50, "threads_wrk": 2, "seconds": seconds,
           "body_bytes": os.path.getsize(body), "wrk": version(["wrk", "--version"]),
           "nginx": version(["nginx", "-v"])}
    servers = []
    try:
        gport, nport = free_port(), free_port()
        while nport == gport:
            nport = free_port()
        gz = Server("gaztagd", [a.gaztagd, "--listen", "127.0.0.1:%d" % gport,
                                "--gazetteers", os.path.join(data, "cities.yaml")],
                    os.path.join(out_dir, "gaztagd.log"))
        servers.append(gz)
        prefix = os.path.join(out_dir, "nginx")
        conf = nginx_conf(prefix, nport, body)
        ng = Server("nginx", ["nginx", "-p", prefix + "/", "-c", conf, "-e",
                              os.path.join(prefix, "logs", "error.log")],
                    os.path.join(out_dir, "nginx.log"))
        servers.append(ng)

        with open(body, "rb") as f:
            article = f.read()
        t0 = time.time()
        answer = wait_http("http://127.0.0.1:%d/tag" % gport, gz, method="POST", data=article)
        res["gaztagd_ready_s"] = round(time.time() - t0, 2)
        ents = json.loads(answer)["entities"]
        res["gaztagd_entities_in_article"] = len(ents)
        res["gaztagd_response_bytes"] = len(answer)
        static = wait_http("http://127.0.0.1:%d/article.txt" % nport, ng)
        if static != article:
            raise RuntimeError("nginx served something else than the article")

        log("wrk: nginx static 2 KB, 50 connections, %d s" % seconds)
        res["nginx_static"] = wrk(a, "http://127.0.0.1:%d/article.txt" % nport, seconds)
        log("wrk: gaztagd POST /tag 2 KB, 50 connections, %d s" % seconds)
        res["gaztagd_tag"] = wrk(a, "http://127.0.0.1:%d/tag" % gport, seconds, body=body)
        with open(os.path.join(out_dir, "gaztagd.log"), errors="replace") as f:
            res["gaztagd_log_head"] = f.read(2000).splitlines()[:5]
    finally:
        for s in reversed(servers):
            s.stop()
    return res


# --- the report ------------------------------------------------------------------

def fmt(x, nd=1):
    if x is None:
        return "-"
    if isinstance(x, float):
        return ("%%.%df" % nd) % x
    return str(x)


def ratio(g, x):
    return "%.2f" % (g / x) if g and x else "-"


def build_report(R):
    e, rg, ah, hs = R["engine"], R["ripgrep"], R["pyahocorasick"], R["hyperscan"]
    g, gc = e["mb_per_s"], e["mb_per_cpu_s"]
    L = []
    L.append("Corpus: %.1f MB (`%s`); dictionary: %d distinct names, `names.txt` (gazetteer "
             "`cities.yaml` from %s). Every matcher runs on one core. MB/s: best of 3, by the "
             "wall clock and by the process's own CPU time; ratios are gaztag's rate over the "
             "other's, on CPU time." % (e["corpus_mb"], R["data"]["corpus_file"], R["data"]["names"],
                                        R["data"]["gazetteer_source"]))
    L.append("")
    L.append("| matcher | semantics | build / compile s | MB/s wall | MB/s CPU | gaztag ÷ it | count |")
    L.append("|---|---|---:|---:|---:|---:|---|")
    L.append("| **gaztag engine** (gz-bench) | SPEC §3: folded, caseless, whole tokens, "
             "leftmost-longest | load %.2f (CPU %.2f) | **%.1f** | **%.1f** | 1.00 | %d spans |"
             % (e["load_s"], e["load_cpu_s"], g, gc, e["spans"]))
    L.append("| ripgrep `rg -c -F -f names.txt corpus`, whole run | case-sensitive substrings; "
             "counts lines | (included) | %s | %s | %s | %d lines |"
             % (fmt(rg["mb_per_s_total"]), fmt(rg["mb_per_cpu_s_total"]),
                ratio(gc, rg["mb_per_cpu_s_total"]), rg["matching_lines"]))
    L.append("| ripgrep, scan only (run − run on /dev/null) | same | %.2f | %s | %s | %s | "
             "(`--count-matches`: %d) |"
             % (rg["compile_s"], fmt(rg["mb_per_s_scan"]), fmt(rg["mb_per_cpu_s_scan"]),
                ratio(gc, rg["mb_per_cpu_s_scan"]), rg["matches"]))
    L.append("| pyahocorasick %s, scan only | lowercased, leftmost-longest, whole-word filter "
             "| %.2f | %.1f | %.1f | %s | %d whole words (%d before the filter) |"
             % (ah["version"], ah["build_s"], ah["mb_per_s"], ah["mb_per_cpu_s"],
                ratio(gc, ah["mb_per_cpu_s"]), ah["whole_word"], ah["matches"]))
    L.append("| Hyperscan %s, scan only | ASCII-caseless literals, every match | %.2f | %.1f | "
             "%.1f | %s | %d (%d on word boundaries) |"
             % (hs["hs_version"].split()[0], hs["compile_s"], hs["mb_per_s"], hs["mb_per_cpu_s"],
                ratio(gc, hs["mb_per_cpu_s"]), hs["matches"], hs["whole_word"]))
    cw = rg["caseless_word"]
    L.append("")
    L.append("`rg -c -i -w -F -f names.txt` (caseless whole words, the ripgrep mode nearest to "
             "gaztag's semantics): %s after %.1f s."
             % ("fails: `%s`" % cw["error"] if cw["exit"] == 2 else "exit %s" % cw["exit"], cw["wall_s"]))
    L.append("")
    L.append("Load and memory (gz-bench with a 5 MB corpus; set RSS = RSS growth across the "
             "load; peak = VmHWM of the whole run):")
    L.append("")
    L.append("| gazetteer | YAML MB | entries | names | load s wall | load s CPU | set RSS MB "
             "| peak RSS MB | set bytes/name | scan MB/s CPU | spans in 5 MB |")
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in R["scale"]:
        L.append("| %s (`%s`) | %.1f | %d | %d | %.2f | %.2f | %.1f | %.1f | %d | %.1f | %d |"
                 % (s["set"], s["file"], s["yaml_mb"], s["entries"], s["names"], s["load_s"],
                    s["load_cpu_s"],
                    s["set_rss_mb"], s["peak_rss_mb"], s["bytes_per_name"], s["mb_per_cpu_s"],
                    s["spans"]))
    h = R.get("http")
    if h:
        n, t = h["nginx_static"], h["gaztagd_tag"]
        L.append("")
        L.append("HTTP (wrk -t2 -c50 -d%ds on loopback; server and wrk share the %d cores; "
                 "gaztagd with `cities.yaml`):" % (h["seconds"], R["machine"]["nproc"]))
        L.append("")
        L.append("| server | request | req/s | p50 ms | p99 ms | max ms | errors |")
        L.append("|---|---|---:|---:|---:|---:|---:|")
        for label, req, w in (("nginx", "GET 2 KB static file", n),
                              ("gaztagd", "POST /tag, 2 KB article (%d entities, %d-byte answer)"
                               % (h["gaztagd_entities_in_article"], h["gaztagd_response_bytes"]), t)):
            err = sum(w["errors"].values())
            L.append("| %s | %s | %.0f | %.2f | %.2f | %.1f | %d |"
                     % (label, req, w["rps"], w["latency_us"]["p50"] / 1000, w["p99_ms"],
                        w["latency_us"]["max"] / 1000, err))
        L.append("")
        L.append("gaztagd ÷ nginx requests/s: %.2f" % (t["rps"] / n["rps"]))
    te = R.get("tag_end_to_end")
    if te:
        L.append("")
        L.append("End to end (issue 14): what users get, JSON answers included. `gaztagd --tag` "
                 "on the whole corpus as one text with `%s` (the names rg reads), output to "
                 "/dev/null, best of 3, less the same run on an empty file (the load, %.2f s "
                 "CPU):" % (te["gazetteer"], te["load_cpu_s"]))
        L.append("")
        L.append("| what | MB/s CPU | MB/s wall | peak RSS MB | ÷ rg whole run | ÷ rg scan only |")
        L.append("|---|---:|---:|---:|---:|---:|")
        L.append("| `gaztagd --tag corpus > /dev/null` | %s | %s | %.0f | %s | %s |"
                 % (fmt(te["mb_per_cpu_s"]), fmt(te["mb_per_s"]), te["total_peak_rss_mb"],
                    ratio(te["mb_per_cpu_s"], rg["mb_per_cpu_s_total"]),
                    ratio(te["mb_per_cpu_s"], rg["mb_per_cpu_s_scan"])))
    bh = R.get("big_http")
    if bh:
        L.append("")
        L.append("Big bodies over HTTP (bench/big-bodies.py, curl, one request at a time, %d "
                 "rounds; a %.1f MB raw text, and %.1f MB of NDJSON in %d lines; `cities-plain.yaml`). "
                 "First byte: from the request's last byte to the answer's first."
                 % (bh["rounds"], bh["raw_bytes"] / 1e6, bh["ndjson_bytes"] / 1e6, bh["ndjson_lines"]))
        L.append("")
        L.append("| gaztagd | raw MB/s best | raw median | NDJSON MB/s best | NDJSON median | "
                 "NDJSON first byte s | last byte s | RSS idle → after → peak MB |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---|")
        for name, r in bh["runs"].items():
            L.append("| %s (`%s`) | %.1f | %.1f | %.1f | %.1f | %.3f | %.3f | %d → %d → %d |"
                     % ("this build" if name == "gaztag" else "compared", r["binary"],
                        r["raw"]["mb_per_s_best"], r["raw"]["mb_per_s_median"],
                        r["ndjson"]["mb_per_s_best"], r["ndjson"]["mb_per_s_median"],
                        r["ndjson"]["first_byte_median_s"], r["ndjson"]["last_byte_median_s"],
                        r["rss_idle_kb"] // 1024, r["rss_after_kb"] // 1024, r["rss_peak_kb"] // 1024))
        if "same_answer_raw" in bh:
            L.append("")
            L.append("Answers byte for byte the same as the compared build's: raw %s, NDJSON %s."
                     % (bh["same_answer_raw"], bh["same_answer_ndjson"]))
    td = R.get("tag_dir")
    if td:
        L.append("")
        L.append("`scripts/tag-dir` (bench/tag-dir-bench, %d files of ~%d bytes, default -j, %d "
                 "runs): cold %d files/s best, %d worst; resume (all up to date) %d files/s best."
                 % (td["files"], td["bytes"] // td["files"], len(td["runs"]),
                    td["cold"]["files_per_s"], td["cold"]["worst_files_per_s"],
                    td["resume"]["files_per_s"]))
    return "\n".join(L)


def targets(R):
    e, rg = R["engine"], R["ripgrep"]
    g, gc = e["mb_per_s"], e["mb_per_cpu_s"]
    out = []

    def row(name, ok, got):
        out.append({"target": name, "met": ok, "measured": got})

    rs = rg["mb_per_cpu_s_scan"]
    rt = rg["mb_per_cpu_s_total"]
    row("engine ≥ 2.5× ripgrep -F's throughput (same names, same corpus)",
        bool(rs) and gc / rs >= 2.5,
        "%s× rg's scan-only rate (%.1f vs %s MB/s, CPU time); %.2f× rg's whole run including "
        "its pattern compile (%.1f MB/s)" % (ratio(gc, rs), gc, fmt(rs), gc / rt, rt))
    row("engine about 300 MB/s on one core", gc >= 300,
        "%.1f MB/s CPU time (%.1f wall)" % (gc, g))
    sc = {s["file"]: s for s in R["scale"]}
    c = sc.get("cities.yaml")
    if c:
        p = sc.get("cities-plain.yaml")
        row("load 119k names < 0.5 s", c["load_cpu_s"] < 0.5,
            "%.2f s CPU (%.2f wall) for `cities.yaml` (%s, with attrs and priority); %s s CPU "
            "for the same names without attrs"
            % (c["load_cpu_s"], c["load_s"], R["data"]["gazetteer_source"],
               "%.2f" % p["load_cpu_s"] if p else "-"))
    f = sc.get("synthetic-5m.yaml")
    if f:
        row("load 5M names < 10 s", f["load_cpu_s"] < 10,
            "%.2f s CPU (%.2f wall)" % (f["load_cpu_s"], f["load_s"]))
        row("5M names < 1.5 GB RSS", f["peak_rss_mb"] < 1536,
            "%.0f MB peak, %.0f MB for the built set (%d bytes/name)"
            % (f["peak_rss_mb"], f["set_rss_mb"], f["bytes_per_name"]))
    h = R.get("http")
    if h:
        q = h["gaztagd_tag"]["rps"] / h["nginx_static"]["rps"]
        row("HTTP ≥ 50% of nginx's static req/s", q >= 0.5,
            "%.2f (%.0f vs %.0f req/s)" % (q, h["gaztagd_tag"]["rps"], h["nginx_static"]["rps"]))
        p99 = h["gaztagd_tag"]["p99_ms"]
        row("HTTP p99 < 5 ms at 50 connections", p99 < 5, "%.2f ms" % p99)
    te = R.get("tag_end_to_end")
    if te and te["mb_per_cpu_s"]:
        row("`--tag` end to end ≥ 100 MB/s CPU (issue 14)", te["mb_per_cpu_s"] >= 100,
            "%.1f MB/s CPU, %s wall, peak RSS %.0f MB for %.0f MB of text"
            % (te["mb_per_cpu_s"], fmt(te["mb_per_s"]), te["total_peak_rss_mb"], R["data"]["corpus_mb"]))
    bh = R.get("big_http")
    if bh:
        g = bh["runs"]["gaztag"]
        for kind, label in (("raw", "a 10 MB raw body"), ("ndjson", "10 MB of NDJSON")):
            row("HTTP: %s ≥ 80 MB/s (issue 14)" % label, g[kind]["mb_per_s_median"] >= 80,
                "%.1f MB/s median, %.1f best" % (g[kind]["mb_per_s_median"], g[kind]["mb_per_s_best"]))
    td = R.get("tag_dir")
    if td:
        row("tag-dir ≥ 5,000 files/s on 10,000 files of 2 KB (issue 14)",
            td["cold"]["files_per_s"] >= 5000,
            "%d files/s best of %d cold runs (%d worst)" % (td["cold"]["files_per_s"], len(td["runs"]),
                                                           td["cold"]["worst_files_per_s"]))
    return out


def targets_md(T):
    L = ["| target | met? | measured |", "|---|---|---|"]
    for t in T:
        L.append("| %s | %s | %s |" % (t["target"], "**met**" if t["met"] else "**missed**", t["measured"]))
    return "\n".join(L)


def update_results_md(path, R, table, tmd):
    m = R["machine"]
    block = "\n".join([
        BEGIN,
        "",
        "Run of %s, `%s` (gaztag %s)." % (R["date"], R["command"], R["gaztag_rev"]),
        "",
        "Machine: %s, %d cores (nproc), %.1f GiB RAM, AVX2 %s, %s, kernel %s."
        % (m["cpu"], m["nproc"], m["mem_gib"], "yes" if m["avx2"] else "no", m["os"], m["kernel"]),
        "Raw results: `bench/out/%s` (not committed). Run time: %.0f s. Load average "
        "(1 min) at the start %.1f, at the end %.1f: anything above 0 is other work sharing "
        "the cores." % (os.path.basename(R["json_path"]), R["run_s"], R["loadavg_start"][0],
                        R["loadavg_end"][0]),
        "",
        table,
        "",
        "### Targets (issues 7 and 14)",
        "",
        tmd,
        "",
        END,
    ])
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if BEGIN in text and END in text:
            text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
        else:
            text = text.rstrip("\n") + "\n\n" + block + "\n"
    else:
        text = "# gaztag benchmark results\n\n" + block + "\n"
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--hs-bench", required=True)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-http", action="store_true")
    ap.add_argument("--compare", help="an older gaztagd, measured beside this one (big bodies)")
    ap.add_argument("--command", default="bench/run")
    a = ap.parse_args()
    a.python = sys.executable
    a.gz_bench = os.path.join(a.build, "bench", "gz-bench")
    a.gaztagd = os.path.join(a.build, "daemon", "gaztagd")
    data = os.path.join(a.root, "bench", "data")
    out_dir = os.path.join(a.root, "bench", "out")
    os.makedirs(out_dir, exist_ok=True)
    t_start = time.time()
    now = datetime.datetime.now().astimezone()

    corpus = os.path.join(data, "small.txt" if a.quick else "corpus.txt")
    names = os.path.join(data, "names.txt")
    mb = os.path.getsize(corpus) / 1e6
    with open(names, encoding="utf-8") as f:
        n_names = sum(1 for _ in f)
    src = "scripts/import-geonames" if os.path.exists(os.path.join(data, ".source-import-geonames")) \
        else "bench/make-gazetteers.py"
    rev = subprocess.run(["git", "-C", a.root, "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip() or "?"

    R = {"date": now.isoformat(timespec="seconds"), "command": a.command + (" --quick" if a.quick else ""),
         "gaztag_rev": rev, "machine": machine(),
         "data": {"corpus_file": os.path.relpath(corpus, a.root), "corpus_mb": round(mb, 1),
                  "names": n_names, "gazetteer": "bench/data/cities.yaml", "gazetteer_source": src}}
    cj = os.path.join(data, "corpus.json")
    if os.path.exists(cj):
        with open(cj) as f:
            R["data"]["corpus_build"] = json.load(f)
    log("corpus %.1f MB, %d names; machine: %s x%d" % (mb, n_names, R["machine"]["cpu"], R["machine"]["nproc"]))

    R["loadavg_start"] = loadavg()
    if R["loadavg_start"][0] > 0.5 * R["machine"]["nproc"]:
        log("warning: load average %.1f at the start: other work on this machine skews the numbers"
            % R["loadavg_start"][0])
    R["engine"] = measure_engine(a, corpus, os.path.join(data, "cities.yaml"))
    log("  gaztag: %.1f MB/s (CPU), %d spans, load %.2f s"
        % (R["engine"]["mb_per_cpu_s"], R["engine"]["spans"], R["engine"]["load_s"]))
    R["ripgrep"] = measure_ripgrep(a, corpus, names, mb)
    log("  ripgrep: %.1f MB/s whole run, %s MB/s scan only (CPU)"
        % (R["ripgrep"]["mb_per_cpu_s_total"], fmt(R["ripgrep"]["mb_per_cpu_s_scan"])))
    R["tag_end_to_end"] = measure_tag_end_to_end(a, corpus, data, mb)
    log("  gaztagd --tag: %s MB/s (CPU, load subtracted), peak RSS %.0f MB"
        % (fmt(R["tag_end_to_end"]["mb_per_cpu_s"]), R["tag_end_to_end"]["total_peak_rss_mb"]))
    R["pyahocorasick"] = measure_aho(a, corpus, names)
    log("  pyahocorasick: %.1f MB/s (CPU)" % R["pyahocorasick"]["mb_per_cpu_s"])
    R["hyperscan"] = measure_hyperscan(a, corpus, names)
    log("  hyperscan: %.1f MB/s (CPU), compile %.1f s"
        % (R["hyperscan"]["mb_per_cpu_s"], R["hyperscan"]["compile_s"]))
    R["scale"] = measure_scale(a, data, a.quick)
    if not a.no_http:
        R["http"] = measure_http(a, data, out_dir, a.quick)
        R["big_http"] = measure_big_http(a, data, corpus, a.quick)
        R["tag_dir"] = measure_tag_dir(a, a.quick)

    R["loadavg_end"] = loadavg()
    R["run_s"] = round(time.time() - t_start, 1)
    R["targets"] = targets(R)
    stamp = now.strftime("%Y-%m-%d-%H%M%S")
    R["json_path"] = os.path.join(out_dir, "results-%s%s.json" % (stamp, "-quick" if a.quick else ""))
    with open(R["json_path"], "w") as f:
        json.dump(R, f, indent=2, ensure_ascii=False)
        f.write("\n")

    table = build_report(R)
    tmd = targets_md(R["targets"])
    print()
    print(table)
    print()
    print(tmd)
    print()
    print("raw results: %s (%.0f s)" % (os.path.relpath(R["json_path"], a.root), R["run_s"]))
    if not a.quick:
        update_results_md(os.path.join(a.root, "bench", "RESULTS.md"), R, table, tmd)
        print("updated bench/RESULTS.md")


if __name__ == "__main__":
    main()
