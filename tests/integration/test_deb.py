"""The Debian package (issue 17): `dpkg-buildpackage -us -uc -b` builds it
from debian/, and the .deb holds what it should, lintian finds no error in it,
and the gaztagd extracted from it checks and tags with the extracted config
and gazetteers, exactly as the build's gaztagd does with the source tree's.

The package is built in a copy of the source tree in a temporary directory:
dpkg-buildpackage writes into the tree it builds (obj-*, debian/gaztag) and
the .deb beside it, and the repository must stay clean.  The copy holds the
files `git ls-files --cached --others --exclude-standard` names (the working
tree as it is, uncommitted edits and new files included, without build
directories, node_modules or benchmark data), or outside a git checkout the
tree without those.  Not `meson dist`: it packs the last commit only, refuses
a tree with uncommitted changes, and builds and tests the result itself.

It is built with the nocheck profile: the unit tests that debian/rules runs
in a package build are the unit suite of this same `meson test`.  The .deb
is only extracted (dpkg-deb -x), never installed.  The whole test is
skipped (exit 77) only when dpkg-buildpackage is missing; `scripts/deps test`
installs it, with debhelper, lintian and the package's Build-Depends.  On
the idle 2-core build machine the package builds in 20-30 s and lintian
takes 5-15 s; the whole test about 30-50 s.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402
from gzharness import SOURCE_ROOT, project_version  # noqa: E402

SHIPPED = os.path.join(SOURCE_ROOT, "gazetteers")
PACKAGED_GAZETTEERS = "/usr/share/gaztag/gazetteers"
CONFIG = "/etc/gaztag/gaztag.yaml"
UNITS = ("gaztagd.service", "gaztagd@.service")
# Never copied into the package build: what .gitignore keeps out of git.
NOT_SOURCE = re.compile(r"^(build[^/]*|node_modules|obj-[^/]*|\.git|bench/data|bench/out)(/|$)"
                        r"|(^|/)__pycache__(/|$)|\.pyc$")
ARTICLE = "Zelensky met NATO leaders in Kyiv.\n"


def run(cmd, **kw):
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, **kw)


def source_files():
    """The source tree's files, relative to SOURCE_ROOT (see the docstring)."""
    r = subprocess.run(["git", "-C", SOURCE_ROOT, "ls-files", "-z", "--cached", "--others",
                        "--exclude-standard"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode == 0 and r.stdout:
        names = r.stdout.decode("utf-8", "surrogateescape").split("\0")
    else:
        names = []
        for root, dirs, files in os.walk(SOURCE_ROOT):
            rel = os.path.relpath(root, SOURCE_ROOT)
            rel = "" if rel == "." else rel + "/"
            dirs[:] = [d for d in dirs if not NOT_SOURCE.search(rel + d)]
            names += [rel + f for f in files]
    # A tracked file deleted in the working tree is not part of it.
    return sorted(n for n in names if n and not NOT_SOURCE.search(n)
                  and os.path.lexists(os.path.join(SOURCE_ROOT, n)))


def copy_source(dest):
    for name in source_files():
        src, dst = os.path.join(SOURCE_ROOT, name), os.path.join(dest, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)


def library_packages(binary):
    """The Debian packages of the shared libraries that binary links
    (its DT_NEEDED entries), as installed on this machine."""
    r = run(["readelf", "-d", binary])
    sonames = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", r.stdout)
    if r.returncode != 0 or not sonames:
        raise AssertionError("readelf -d %s:\n%s%s" % (binary, r.stdout, r.stderr))
    multiarch = run(["dpkg-architecture", "-qDEB_HOST_MULTIARCH"]).stdout.strip()
    packages = set()
    for so in sonames:
        for d in ("/usr/lib/", "/lib/"):
            q = run(["dpkg-query", "-S", d + multiarch + "/" + so])
            if q.returncode == 0:
                packages.add(q.stdout.split(":")[0])
                break
        else:
            raise AssertionError("no installed package holds %s" % so)
    return packages


def shipped_gazetteers():
    return sorted(n for n in os.listdir(SHIPPED) if n.endswith((".yaml", ".yml")))


class DebTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not shutil.which("dpkg-buildpackage"):
            print("SKIP: dpkg-buildpackage is not installed: run scripts/deps test "
                  "(Debian package dpkg-dev)", file=sys.stderr)
            sys.exit(gzharness.SKIP_EXIT)
        cls.version = project_version()
        cls.tmp = tempfile.mkdtemp(prefix="gztest-deb-")
        try:
            cls.build()
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def build(cls):
        src = os.path.join(cls.tmp, "gaztag-" + cls.version)
        copy_source(src)
        started = time.monotonic()
        # nocheck: the package build's own run of the unit tests (debian/rules)
        # would only repeat the unit suite of this same `meson test`.
        env = dict(os.environ)
        env["DEB_BUILD_OPTIONS"] = " ".join(env.get("DEB_BUILD_OPTIONS", "").split()
                                            + ["nocheck"])
        r = run(["dpkg-buildpackage", "-us", "-uc", "-b", "-Pnocheck"], cwd=src, env=env)
        seconds = time.monotonic() - started
        if r.returncode != 0:
            raise AssertionError("dpkg-buildpackage failed (%.0f s):\n%s\n%s"
                                 % (seconds, r.stdout[-6000:], r.stderr[-4000:]))
        print("dpkg-buildpackage: %.1f s" % seconds, file=sys.stderr)
        arch = run(["dpkg", "--print-architecture"]).stdout.strip()
        cls.changes = os.path.join(cls.tmp, "gaztag_%s_%s.changes" % (cls.version, arch))
        cls.deb = os.path.join(cls.tmp, "gaztag_%s_%s.deb" % (cls.version, arch))
        if not os.path.exists(cls.deb):
            raise AssertionError("no %s; the build wrote %s"
                                 % (os.path.basename(cls.deb), sorted(os.listdir(cls.tmp))))
        cls.root = os.path.join(cls.tmp, "root")
        cls.control = os.path.join(cls.tmp, "control")
        for cmd in (["dpkg-deb", "-x", cls.deb, cls.root],
                    ["dpkg-deb", "-e", cls.deb, cls.control]):
            r = run(cmd)
            if r.returncode != 0:
                raise AssertionError("%s failed:\n%s" % (" ".join(cmd), r.stderr))
        cls.gaztagd = os.path.join(cls.root, "usr", "sbin", "gaztagd")
        # The packaged config with its gazetteer directory moved to where
        # the package was extracted.
        with open(cls.x(CONFIG), encoding="utf-8") as f:
            text = f.read()
        cls.extracted_config = os.path.join(cls.tmp, "gaztag-extracted.yaml")
        with open(cls.extracted_config, "w", encoding="utf-8") as f:
            f.write(text.replace("\n  - %s\n" % PACKAGED_GAZETTEERS,
                                 "\n  - %s\n" % cls.x(PACKAGED_GAZETTEERS)))
        cls.article = os.path.join(cls.tmp, "article.txt")
        with open(cls.article, "w", encoding="utf-8") as f:
            f.write(ARTICLE)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def x(cls, path):
        """path in the extracted package."""
        return os.path.join(cls.root, path.lstrip("/"))

    def fields(self, *names):
        r = run(["dpkg-deb", "--showformat=" + "".join("${%s}\\n" % n for n in names),
                 "--show", self.deb])
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.split("\n")[:len(names)]

    # --- the package -------------------------------------------------------

    def test_name_version_and_dependencies(self):
        package, version, depends = self.fields("Package", "Version", "Depends")
        self.assertEqual((package, version), ("gaztag", self.version))
        # ${shlibs:Depends}: the packages of exactly the libraries gaztagd
        # links (libc6, libjansson4, libmicrohttpd12, libutf8proc2,
        # libyaml-0-2, ...); and the helpers' python3, and curl for tag-dir.
        names = sorted(re.sub(r"\s*\(.*\)", "", d).strip() for d in depends.split(","))
        linked = library_packages(self.gaztagd)
        self.assertTrue({"libc6", "libjansson4", "libmicrohttpd12", "libutf8proc2",
                         "libyaml-0-2"} <= linked, linked)
        self.assertEqual(names, sorted(linked | {"curl", "python3"}))

    def test_contents_are_exactly_these_files(self):
        r = run(["dpkg-deb", "-c", self.deb])
        self.assertEqual(r.returncode, 0, r.stderr)
        files = {}
        for line in r.stdout.splitlines():
            mode, owner, _, _, _, path = line.split(None, 5)
            if not mode.startswith("d"):
                files[path[1:]] = (mode, owner)
        expected = {
            "/usr/sbin/gaztagd": "-rwxr-xr-x",
            "/usr/bin/gaztag-tag-dir": "-rwxr-xr-x",
            "/usr/bin/gaztag-import-geonames": "-rwxr-xr-x",
            CONFIG: "-rw-r--r--",
            "/lib/systemd/system/gaztagd.service": "-rw-r--r--",
            "/lib/systemd/system/gaztagd@.service": "-rw-r--r--",
            "/usr/share/man/man8/gaztagd.8.gz": "-rw-r--r--",
            "/usr/share/man/man1/gaztag-tag-dir.1.gz": "-rw-r--r--",
            "/usr/share/man/man1/gaztag-import-geonames.1.gz": "-rw-r--r--",
            "/usr/share/doc/gaztag/README.md.gz": "-rw-r--r--",
            "/usr/share/doc/gaztag/changelog.gz": "-rw-r--r--",
            "/usr/share/doc/gaztag/copyright": "-rw-r--r--",
            "/usr/share/doc/gaztag/examples/nginx.conf": "-rw-r--r--",
            "/usr/share/lintian/overrides/gaztag": "-rw-r--r--",
        }
        for n in shipped_gazetteers():
            expected["%s/%s" % (PACKAGED_GAZETTEERS, n)] = "-rw-r--r--"
        self.assertEqual(sorted(files), sorted(expected))
        self.assertEqual({p: m for p, (m, _) in files.items()}, expected)
        self.assertEqual({o for _, o in files.values()}, {"root/root"})
        for n in shipped_gazetteers():
            with open(os.path.join(SHIPPED, n), "rb") as a, \
                 open(self.x("%s/%s" % (PACKAGED_GAZETTEERS, n)), "rb") as b:
                self.assertEqual(a.read(), b.read(), n)

    def test_config_is_the_only_conffile(self):
        with open(os.path.join(self.control, "conffiles")) as f:
            self.assertEqual(f.read(), CONFIG + "\n")

    def test_config_points_at_the_packaged_gazetteers(self):
        with open(os.path.join(SOURCE_ROOT, "config", "gaztag.yaml"), encoding="utf-8") as f:
            source = f.read().splitlines()
        with open(self.x(CONFIG), encoding="utf-8") as f:
            packaged = f.read().splitlines()
        self.assertEqual(len(source), len(packaged))
        self.assertEqual([(a, b) for a, b in zip(source, packaged) if a != b], [
            ("#   gaztagd --config config/gaztag.yaml", "#   gaztagd --config " + CONFIG),
            ("  - ../gazetteers", "  - " + PACKAGED_GAZETTEERS),
        ])

    def test_units_run_the_packaged_files_as_a_dynamic_user(self):
        for name in UNITS:
            with self.subTest(unit=name):
                with open(self.x("/lib/systemd/system/" + name), encoding="utf-8") as f:
                    lines = set(f.read().splitlines())
                listen = " --listen 127.0.0.1:%i" if "@" in name else ""
                self.assertTrue({
                    "ExecStart=/usr/sbin/gaztagd --config %s%s --cache ${STATE_DIRECTORY}"
                    % (CONFIG, listen),
                    "ReadOnlyPaths=%s %s" % (PACKAGED_GAZETTEERS, CONFIG),
                    "DynamicUser=yes", "StateDirectory=%N",
                } <= lines, sorted(lines))

    def test_maintainer_scripts_enable_and_start_the_service_and_add_no_user(self):
        with open(os.path.join(self.control, "postinst"), encoding="utf-8") as f:
            postinst = f.read()
        # dh_installsystemd's snippets: enabled on install, started (or
        # restarted on upgrade) where systemd runs.
        self.assertIn("deb-systemd-helper enable 'gaztagd.service'", postinst)
        self.assertIn("deb-systemd-invoke $_dh_action 'gaztagd.service'", postinst)
        # The template is for the administrator to instantiate.
        self.assertNotIn("gaztagd@", postinst)
        # DynamicUser: no system user to create, nothing to remove on purge.
        self.assertNotRegex(postinst, r"adduser|useradd")
        with open(os.path.join(self.control, "postrm"), encoding="utf-8") as f:
            self.assertNotRegex(f.read(), r"deluser|userdel|rm -rf")

    # --- the extracted gaztagd ----------------------------------------------

    def test_extracted_version(self):
        r = run([self.gaztagd, "--version"])
        self.assertEqual((r.returncode, r.stdout), (0, "gaztagd %s\n" % self.version))

    def test_extracted_check_with_the_extracted_config(self):
        got = run([self.gaztagd, "--check", "--config", self.extracted_config])
        n = len(shipped_gazetteers())
        self.assertEqual(got.returncode, 0, got.stderr)
        self.assertEqual(got.stdout, "")
        self.assertRegex(got.stderr, r"(?m)^gaztagd: ok: %d files, \d+ entries, \d+ names\n\Z" % n)
        # Line for line what the build's gaztagd says of the source tree's
        # gazetteers, but for the directory they were read from.
        want = run([gzharness.gaztagd_path(), "--check", "--gazetteers", SHIPPED])
        self.assertEqual(want.returncode, 0, want.stderr)
        same = lambda s: re.sub(r"(?m)^\S*/gazetteers/|\(\S*/gazetteers/", "", s)  # noqa: E731
        self.assertEqual(same(got.stderr), same(want.stderr))

    def test_extracted_tag_with_the_extracted_config(self):
        got = run([self.gaztagd, "--tag", self.article, "--config", self.extracted_config])
        self.assertEqual((got.returncode, got.stderr), (0, ""))
        body = json.loads(got.stdout)
        self.assertEqual(body["offsets"], "codepoint")
        self.assertEqual([(e["start"], e["end"], e["text"], e["type"], e["id"])
                          for e in body["entities"]],
                         [(0, 8, "Zelensky", "person", "volodymyr-zelensky"),
                          (13, 17, "NATO", "organization", "nato"),
                          (29, 33, "Kyiv", "place", "kyiv")])
        want = run([gzharness.gaztagd_path(), "--tag", self.article, "--gazetteers", SHIPPED])
        self.assertEqual(got.stdout, want.stdout)

    # --- lintian -------------------------------------------------------------

    def test_lintian_finds_no_error(self):
        lintian = gzharness.need_program("lintian", "lintian")
        started = time.monotonic()
        r = run([lintian, "--tag-display-limit", "0", self.changes])
        tags = [line for line in r.stdout.splitlines() if re.match(r"[EWIPXO]: ", line)]
        print("lintian: %.1f s, %d tags%s" % (time.monotonic() - started, len(tags),
                                              "".join("\n  " + t for t in tags)),
              file=sys.stderr)
        self.assertEqual([t for t in tags if t.startswith("E: ")], [])
        # 0: no error (and it ran: 2 is lintian's own failure)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


if __name__ == "__main__":
    gzharness.main()
