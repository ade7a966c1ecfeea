#!/usr/bin/env python3
"""install-config.py IN OUT GAZETTEER_DIR CONFIG_PATH: the installed gaztag.yaml.

config/gaztag.yaml stays the documented source, written for a repository
checkout (gazetteers: [../gazetteers], relative to the file).  The installed
copy is the same text with that one list item pointing at the installed
gazetteers (an absolute path: /etc/gaztag/ and /usr/share/gaztag/ are not
siblings) and the usage line naming the installed file.  A source that no
longer has those lines fails the build rather than installing a config that
points nowhere.
"""

import sys


def main():
    src, out, gazetteers, config_path = sys.argv[1:5]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    edits = (
        ("\n  - ../gazetteers\n", "\n  - %s\n" % gazetteers),
        ("#   gaztagd --config config/gaztag.yaml\n",
         "#   gaztagd --config %s\n" % config_path),
    )
    for old, new in edits:
        if text.count(old) != 1:
            sys.exit("install-config.py: %s: expected exactly one %r" % (src, old.strip()))
        text = text.replace(old, new)
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
