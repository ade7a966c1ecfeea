#!/usr/bin/python3
"""pyahocorasick (Debian's python3-ahocorasick) on the benchmark's dictionary.

Builds one automaton of the lowercased names (str.lower: Unicode lower case,
no diacritic folding), then scans the lowercased corpus in the same pieces
gz-bench uses (about 64 KiB, cut at a line end) with iter_long, which is
leftmost-longest and non-overlapping, and keeps the matches that are whole
words (the characters either side are not alphanumeric).  The scan time
covers lowercasing, matching and the filter; the automaton build is timed
apart.  Best of N, by the wall clock and by CPU time.  Prints one JSON line.

    aho-bench.py NAMES CORPUS [--repeat N]
"""
import json
import resource
import sys
import time

import ahocorasick


def main():
    names_path, corpus_path = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 1
    t0 = time.perf_counter()
    a = ahocorasick.Automaton()
    with open(names_path, encoding="utf-8") as f:
        for line in f:
            w = line.rstrip("\n").lower()
            if w:
                a.add_word(w, len(w))
    a.make_automaton()
    build = time.perf_counter() - t0

    with open(corpus_path, "rb") as f:
        data = f.read()
    pieces = []
    pos = 0
    while pos < len(data):
        end = min(pos + 65536, len(data))
        nl = data.find(b"\n", end - 1) if end < len(data) else -1
        end = nl + 1 if nl >= 0 else len(data)
        pieces.append(data[pos:end].decode("utf-8", "replace"))
        pos = end
    del data

    best = best_cpu = None
    for _ in range(repeat):
        raw = whole = 0
        s0, c0 = time.perf_counter(), time.process_time()
        for p in pieces:
            text = p.lower()
            n = len(text)
            for end, length in a.iter_long(text):
                raw += 1
                start = end - length + 1
                if (start == 0 or not text[start - 1].isalnum()) and \
                   (end + 1 == n or not text[end + 1].isalnum()):
                    whole += 1
        el, cel = time.perf_counter() - s0, time.process_time() - c0
        best = el if best is None or el < best else best
        best_cpu = cel if best_cpu is None or cel < best_cpu else best_cpu
    mb = sum(len(p.encode("utf-8")) for p in pieces) / 1e6
    print(json.dumps({"patterns": len(a), "build_s": round(build, 3), "corpus_mb": round(mb, 1),
                      "scan_s": round(best, 3), "mb_per_s": round(mb / best, 1),
                      "scan_cpu_s": round(best_cpu, 3), "mb_per_cpu_s": round(mb / best_cpu, 1),
                      "matches": raw, "whole_word": whole,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                      "version": getattr(ahocorasick, "__version__", "?")}))


if __name__ == "__main__":
    main()
