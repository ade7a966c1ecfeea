#!/usr/bin/env python3
"""Build the benchmark corpus: real English prose found on this machine.

Walks /usr/share/doc (gunzipping *.gz), /usr/share/info and the English
manual pages (their roff markup stripped to the running text), keeps files that
read like prose (READMEs, changelogs, NEWS, copyright texts, manuals), drops
binary, markup and code files, exact duplicates (Debian ships the same
changelog in many packages) and anything that is not valid UTF-8, and writes
them one after another in an order fixed by a hash of their paths, each as
its own paragraph, with the news articles of
bench/articles/ mixed in at even intervals.  If the machine holds less
distinct prose than asked for, the collection is written again in a different
order until the size is reached, and the report says how many passes it took.

    make-corpus.py OUT_FILE [--mb 110] [--articles DIR]

Prints one JSON line: bytes written, files used, distinct MB, passes.
Deterministic for a given machine.
"""
import argparse
import gzip
import hashlib
import json
import os
import re
import sys

ROOTS = ["/usr/share/doc", "/usr/share/info"] + [
    "/usr/share/man/man%d" % i for i in range(1, 9)]
# roff: requests whose arguments are running text (headings, fonts, tags).
ROFF_TEXT = re.compile(r"^\.(SH|SS|B|I|BR|RB|BI|IB|IR|RI|SM|SB|TP|IP|Nm|Nd|Sh|Ss|It|Fn|Ar|Fl|Xr|Pa|Dq|Sq|Ql|Em)\b\s*(.*)$")
ROFF_ESC = re.compile(r"\\f(\[[^]]*\]|\(..|.)|\\s[-+]?\d|\\\*(\(..|\[[^]]*\]|.)|\\[&|^%:,/]|\\\".*$")
ROFF_CHARS = {"\\(em": "—", "\\(en": "–", "\\(aq": "'", "\\(dq": '"', "\\(lq": "“",
              "\\(rq": "”", "\\(bu": "*", "\\(co": "©", "\\-": "-", "\\e": "\\", "\\ ": " ",
              "\\~": " ", "\\(oq": "‘", "\\(cq": "’"}


def strip_roff(text):
    """The running text of a manual page, without its roff markup."""
    out = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            m = ROFF_TEXT.match(line)
            if not m:
                if line.startswith((".PP", ".LP", ".P\n", ".sp", ".Pp")) or line in (".P", ".br"):
                    out.append("")
                continue
            line = m.group(2).replace('"', "")
        for k, v in ROFF_CHARS.items():
            line = line.replace(k, v)
        line = ROFF_ESC.sub("", line)
        out.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


# Not prose: markup, code, data, binary documents.
SKIP_EXT = re.compile(
    r"\.(pdf|ps|dvi|eps|png|jpe?g|gif|svg|ico|tar|zip|bz2|xz|zst|html?|xhtml|css|js|"
    r"mjs|json|xml|xsl|py|pl|pm|rb|c|h|cc|cpp|hpp|java|sh|bash|el|vim|tex|sty|cls|"
    r"awk|sed|diff|patch|mk|cmake|in|ac|am|m4|cfg|conf|ini|toml|ya?ml|sql|gpg|asc|"
    r"pem|crt|key|db|bin|so|a|o|rst\.txt|info-dir)$", re.I)
MAX_FILE = 8 << 20
FAMILY_CAP = 2_000_000      # bytes of manual pages per command family


def read_text(path):
    """The file's text if it is valid, prose-like UTF-8, else None."""
    name = os.path.basename(path)
    base = name[:-3] if name.endswith(".gz") else name
    if SKIP_EXT.search(base):
        return None
    try:
        if name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                data = f.read(MAX_FILE)
        else:
            if os.path.getsize(path) > MAX_FILE:
                return None
            with open(path, "rb") as f:
                data = f.read()
    except (OSError, EOFError, gzip.BadGzipFile):
        return None
    if len(data) < 200 or b"\0" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if "/usr/share/man/" in path:
        if text.startswith(".so ") or len(text) < 400:
            return None             # a link to another page
        text = strip_roff(text)
    # Texinfo output carries ^_ and ^H markers; drop the control characters
    # but keep the prose around them.
    text = re.sub(r"[\x00-\x08\x0b\x0e-\x1f\x7f]", "", text)
    # Prose has mostly letters and spaces; code, tables and hex dumps do not.
    sample = text[:20000]
    letters = sum(1 for c in sample if c.isalpha() or c == " ")
    if letters / max(1, len(sample)) < 0.72:
        return None
    words = re.findall(r"[A-Za-z]{2,}", sample)
    if len(words) < 20:
        return None
    common = sum(1 for w in words if w.lower() in ENGLISH)
    if common / len(words) < 0.08:      # not English (or not prose)
        return None
    return text


ENGLISH = set("""the of and to in is it that for this with as be on are by not or
from at an if you can will was which all have has use when see also new this
are but more been any other may should there their they we into only than
after before about used using file files version""".split())


def collect():
    seen = set()
    family = {}
    out = []
    for root in ROOTS:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames):
                path = os.path.join(dirpath, fn)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                text = read_text(path)
                if text is None:
                    continue
                h = hashlib.sha1(text.encode("utf-8")).digest()
                if h in seen:
                    continue
                if "/usr/share/man/" in path:
                    # One tool's pages (thousands of gcloud-* pages on some
                    # machines) must not crowd out everything else.
                    fam = re.split(r"[-_.]", fn, 1)[0]
                    if family.get(fam, 0) > FAMILY_CAP:
                        continue
                    family[fam] = family.get(fam, 0) + len(text)
                seen.add(h)
                out.append((path, text))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--mb", type=float, default=110.0)
    ap.add_argument("--articles", default=os.path.join(os.path.dirname(__file__), "articles"))
    a = ap.parse_args()
    target = int(a.mb * 1e6)

    docs = collect()
    arts = []
    if os.path.isdir(a.articles):
        for fn in sorted(os.listdir(a.articles)):
            if fn.endswith(".txt"):
                with open(os.path.join(a.articles, fn), encoding="utf-8") as f:
                    arts.append(f.read().strip())
    distinct = sum(len(t.encode("utf-8")) for _, t in docs)
    if not docs:
        sys.exit("make-corpus: no prose found under " + ", ".join(ROOTS))

    written = 0
    passes = 0
    # Spread the articles evenly: one every `every` bytes of the first pass.
    every = max(1, min(target, distinct) // (len(arts) + 1)) if arts else 0
    next_art = every
    ai = 0
    tmp = a.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        while written < target:
            passes += 1
            # The files are taken in an order fixed by a hash of their path, so
            # that changelogs, copyright texts, NEWS and manuals are mixed all
            # along; a later pass uses another such order.
            order = sorted(docs, key=lambda d: hashlib.sha1((str(passes) + d[0]).encode()).digest())
            for path, text in order:
                chunk = text.strip() + "\n\n"
                f.write(chunk)
                written += len(chunk.encode("utf-8"))
                if arts and passes == 1 and ai < len(arts) and written >= next_art:
                    art = arts[ai] + "\n\n"
                    f.write(art)
                    written += len(art.encode("utf-8"))
                    ai += 1
                    next_art += every
                if written >= target:
                    break
        while ai < len(arts):
            art = arts[ai] + "\n\n"
            f.write(art)
            written += len(art.encode("utf-8"))
            ai += 1
    os.replace(tmp, a.out)
    print(json.dumps({"bytes": written, "files": len(docs), "distinct_mb": round(distinct / 1e6, 1),
                      "passes": passes, "articles": len(arts)}))


if __name__ == "__main__":
    main()
