"""`meson install` into a DESTDIR, and what it installs: the exact list of
files; the installed config pointing at the installed gazetteers and loading
them; the installed gaztagd serving with it; the helper scripts; the systemd
units (`systemd-analyze verify`, their exposure score, the template in step
with the plain unit); the man page (rendered by `man -l` and groff without a
warning, and documenting every option, config key and endpoint).

The build directory is $GAZTAG_BUILD_ROOT, installed with
`meson install -C BUILD --destdir D --no-rebuild`; the install paths come from
its build options, so any --prefix works.  The tools it checks with
(systemd-analyze, man, groff) come from `scripts/deps test`; a case whose
tool is missing is skipped, saying which package to install, and the test
then exits 77 (meson's SKIP), as it does when meson itself cannot be found."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402
from gzharness import SOURCE_ROOT, Daemon, project_version  # noqa: E402

BUILD = os.environ.get("GAZTAG_BUILD_ROOT")
SHIPPED = os.path.join(SOURCE_ROOT, "gazetteers")
UNITS = ("gaztagd.service", "gaztagd@.service")


def meson_command():
    meson = shutil.which("meson")
    return [meson] if meson else None


def run(cmd, env=None, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, text=True, **kw)


class InstallTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.meson = meson_command()
        if not BUILD or not cls.meson:
            print("SKIP: needs meson and GAZTAG_BUILD_ROOT (run through meson test)",
                  file=sys.stderr)
            sys.exit(gzharness.SKIP_EXIT)
        cls.tmp = tempfile.mkdtemp(prefix="gztest-install-")
        cls.dest = os.path.join(cls.tmp, "dest")
        r = run(cls.meson + ["install", "-C", BUILD, "--destdir", cls.dest, "--no-rebuild"])
        if r.returncode != 0:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise AssertionError("meson install failed:\n%s\n%s" % (r.stdout, r.stderr))
        r = run(cls.meson + ["introspect", BUILD, "--buildoptions"])
        opts = {o["name"]: o["value"] for o in json.loads(r.stdout)}
        prefix = opts["prefix"]

        def under_prefix(name):
            return os.path.join(prefix, opts[name])  # an absolute option stays as is

        cls.sbindir = under_prefix("sbindir")
        cls.bindir = under_prefix("bindir")
        cls.config = os.path.join(under_prefix("sysconfdir"), "gaztag", "gaztag.yaml")
        cls.gazetteers = os.path.join(under_prefix("datadir"), "gaztag", "gazetteers")
        cls.mandir = under_prefix("mandir")
        cls.unitdir = opts["systemd_unit_dir"] or os.path.join(prefix, "lib", "systemd",
                                                               "system")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def d(self, path):
        """The installed path under DESTDIR."""
        return os.path.join(self.dest, path.lstrip("/"))

    def read(self, path):
        with open(self.d(path), encoding="utf-8") as f:
            return f.read()

    def shipped_gazetteers(self):
        return sorted(n for n in os.listdir(SHIPPED) if n.endswith((".yaml", ".yml")))

    def config_for_destdir(self):
        """The installed config with its gazetteer path moved under DESTDIR,
        where the files are until they are really installed."""
        text = self.read(self.config).replace("  - %s\n" % self.gazetteers,
                                              "  - %s\n" % self.d(self.gazetteers))
        path = os.path.join(self.tmp, "gaztag-destdir.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    # --- the files -------------------------------------------------------

    def test_exactly_these_files_are_installed(self):
        expected = {
            os.path.join(self.sbindir, "gaztagd"),
            os.path.join(self.bindir, "gaztag-tag-dir"),
            os.path.join(self.bindir, "gaztag-import-geonames"),
            self.config,
            os.path.join(self.mandir, "man8", "gaztagd.8"),
        }
        expected |= {os.path.join(self.gazetteers, n) for n in self.shipped_gazetteers()}
        expected |= {os.path.join(self.unitdir, u) for u in UNITS}
        found = set()
        for root, _, files in os.walk(self.dest):
            for n in files:
                found.add("/" + os.path.relpath(os.path.join(root, n), self.dest))
        self.assertEqual(sorted(found), sorted(expected))
        for exe in ("gaztagd", "gaztag-tag-dir", "gaztag-import-geonames"):
            path = os.path.join(self.sbindir if exe == "gaztagd" else self.bindir, exe)
            self.assertTrue(os.access(self.d(path), os.X_OK), path)
        for n in self.shipped_gazetteers():
            with open(os.path.join(SHIPPED, n), "rb") as src, \
                 open(self.d(os.path.join(self.gazetteers, n)), "rb") as dst:
                self.assertEqual(src.read(), dst.read(), n)

    def test_installed_config_is_the_documented_one_pointing_at_installed_gazetteers(self):
        with open(os.path.join(SOURCE_ROOT, "config", "gaztag.yaml"), encoding="utf-8") as f:
            source = f.read().splitlines()
        installed = self.read(self.config).splitlines()
        changed = [(a, b) for a, b in zip(source, installed) if a != b]
        self.assertEqual(len(source), len(installed))
        self.assertEqual(changed, [
            ("#   gaztagd --config config/gaztag.yaml", "#   gaztagd --config " + self.config),
            ("  - ../gazetteers", "  - " + self.gazetteers),
        ])

    def test_installed_config_loads_the_installed_gazetteers(self):
        gaztagd = self.d(os.path.join(self.sbindir, "gaztagd"))
        # The installed config, as is, with the gazetteer flag moved to DESTDIR.
        r1 = run([gaztagd, "--check", "--config", self.d(self.config),
                  "--gazetteers", self.d(self.gazetteers)])
        # Its own gazetteer list, moved to DESTDIR.
        r2 = run([gaztagd, "--check", "--config", self.config_for_destdir()])
        # What the source tree's gazetteers give.
        r3 = run([gaztagd, "--check", "--gazetteers", SHIPPED])
        n = len(self.shipped_gazetteers())
        for r in (r1, r2, r3):
            self.assertEqual(r.returncode, 0, r.stderr)
            # the risks --check warns of come first; the last line is the verdict
            self.assertRegex(r.stderr, r"(?m)^gaztagd: ok: %d files, \d+ entries, \d+ names\n\Z" % n)
        # the same lines, whichever directory the gazetteers were read from
        same = lambda s: re.sub(r"(?m)^\S*/gazetteers/|\(\S*/gazetteers/", "", s)
        self.assertEqual(same(r1.stderr), same(r3.stderr))
        self.assertEqual(same(r2.stderr), same(r3.stderr))

    def test_installed_gaztagd_serves_with_the_installed_config(self):
        old = os.environ.get("GAZTAGD")
        os.environ["GAZTAGD"] = self.d(os.path.join(self.sbindir, "gaztagd"))
        try:
            d = Daemon(args=["--config", self.config_for_destdir()], gazetteers=())
        finally:
            if old is None:
                del os.environ["GAZTAGD"]
            else:
                os.environ["GAZTAGD"] = old
        try:
            status, health, _ = d.json("GET", "/health")
            self.assertEqual((status, health["status"], health["files"],
                              health["version"]),
                             (200, "ok", len(self.shipped_gazetteers()), project_version()))
            status, body, _ = d.tag("Zelensky visited Kyiv.")
            self.assertEqual((status, [e["id"] for e in body["entities"]]),
                             (200, ["volodymyr-zelensky", "kyiv"]))
        finally:
            self.assertEqual(d.stop(), 0, d.log())

    def test_version(self):
        r = run([self.d(os.path.join(self.sbindir, "gaztagd")), "--version"])
        self.assertEqual((r.returncode, r.stdout), (0, "gaztagd %s\n" % project_version()))

    def test_installed_scripts_run(self):
        for name, words in (("gaztag-tag-dir", "IN_DIR"), ("gaztag-import-geonames", "GeoNames")):
            with self.subTest(script=name):
                r = run([self.d(os.path.join(self.bindir, name)), "--help"])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn(words, r.stdout)

    # --- the systemd units -------------------------------------------------

    def unit(self, name):
        return self.read(os.path.join(self.unitdir, name))

    def test_units_carry_the_installed_paths_and_the_sandbox(self):
        for name in UNITS:
            with self.subTest(unit=name):
                text = self.unit(name)
                self.assertNotRegex(text, r"@\w+@")
                lines = set(text.splitlines())
                self.assertTrue({
                    "DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes",
                    "PrivateTmp=yes", "NoNewPrivileges=yes",
                    "ReadOnlyPaths=%s %s" % (self.gazetteers, self.config),
                    "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                    "SystemCallFilter=@system-service", "LockPersonality=yes",
                    "MemoryDenyWriteExecute=yes", "StateDirectory=%N",
                } <= lines, text)
        self.assertIn("ExecStart=%s/gaztagd --config %s --cache ${STATE_DIRECTORY}\n"
                      % (self.sbindir, self.config), self.unit("gaztagd.service"))
        self.assertIn("ExecStart=%s/gaztagd --config %s --listen 127.0.0.1:%%i "
                      "--cache ${STATE_DIRECTORY}\n"
                      % (self.sbindir, self.config), self.unit("gaztagd@.service"))

    def test_template_unit_is_the_plain_one_but_for_listen(self):
        def settings(text):
            body = text[text.index("[Unit]"):]
            return [line for line in body.splitlines()
                    if not line.startswith(("Description=", "ExecStart="))]
        self.assertEqual(settings(self.unit("gaztagd@.service")),
                         settings(self.unit("gaztagd.service")))

    def systemd_analyze(self, *args, env=None):
        tool = gzharness.need_program("systemd-analyze", "systemd")
        return run([tool] + list(args), env=env)

    def units_for_destdir(self):
        """The installed units with ExecStart pointing into DESTDIR (verify
        checks that the binary exists), in a directory of their own."""
        d = os.path.join(self.tmp, "units")
        os.makedirs(d, exist_ok=True)
        for name in UNITS:
            text = self.unit(name).replace("ExecStart=%s/" % self.sbindir,
                                           "ExecStart=%s/" % self.d(self.sbindir))
            with open(os.path.join(d, name), "w", encoding="utf-8") as f:
                f.write(text)
        return d

    def test_systemd_analyze_verify(self):
        # First, that systemd-analyze can verify anything here at all.
        probe = os.path.join(self.tmp, "gztest-probe.service")
        with open(probe, "w") as f:
            f.write("[Unit]\nDescription=probe\n[Service]\nExecStart=/bin/true\n")
        r = self.systemd_analyze("verify", "--man=no", probe)
        if r.returncode != 0:
            self.skipTest("systemd-analyze verify does not work here: %s"
                          % (r.stderr.strip() or r.stdout.strip()))
        d = self.units_for_destdir()
        # Documentation=man:gaztagd(8) is checked too: man finds the
        # installed page through MANPATH.
        env = dict(os.environ, MANPATH=self.d(self.mandir))
        for unit in ("gaztagd.service", "gaztagd@7701.service"):
            with self.subTest(unit=unit):
                r = self.systemd_analyze("verify", os.path.join(d, unit), env=env)
                self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))

    def test_systemd_exposure_is_low(self):
        d = self.units_for_destdir()
        r = self.systemd_analyze("security", "--offline=true", "--no-pager",
                                 os.path.join(d, "gaztagd.service"))
        m = re.search(r"Overall exposure level for gaztagd\.service: ([0-9.]+)", r.stdout)
        if not m:
            self.skipTest("systemd-analyze security --offline does not work here: %s"
                          % (r.stderr.strip() or r.stdout.strip()[-300:]))
        # 0 is a unit that can do nothing, 10 one without any sandbox;
        # systemd calls up to 2 "OK".  We are at 1.2.
        self.assertLessEqual(float(m.group(1)), 2.0, r.stdout)

    # --- the man page ------------------------------------------------------

    def man_page(self):
        return self.d(os.path.join(self.mandir, "man8", "gaztagd.8"))

    def test_man_renders_without_warnings(self):
        man = gzharness.need_program("man", "man-db")
        env = dict(os.environ, MANWIDTH="80", MAN_DISABLE_SECCOMP="1")
        r = run([man, "--warnings", "-l", self.man_page()], env=env)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        text = re.sub(r".\x08", "", r.stdout)
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "CONFIGURATION",
                        "ENDPOINTS", "RELOADING", "SIGNALS", "FILES", "EXIT STATUS"):
            self.assertRegex(text, r"(?m)^%s$" % section)
        self.assertTrue(all(len(line) <= 80 for line in text.splitlines()))

    def test_groff_finds_nothing_to_warn_about(self):
        groff = gzharness.need_program("groff", "groff-base")
        r = run([groff, "-man", "-Tutf8", "-ww", "-z", self.man_page()])
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_man_page_documents_every_option_key_and_endpoint(self):
        with open(self.man_page(), encoding="utf-8") as f:
            page = f.read()
        self.assertRegex(page, r'(?m)^\.TH GAZTAGD 8 \S+ "gaztag %s"'
                         % re.escape(project_version()))
        with open(os.path.join(SOURCE_ROOT, "daemon", "main.c"), encoding="utf-8") as f:
            options = re.findall(r'\{ "([a-z-]+)", \w+_argument', f.read())
        self.assertIn("log-level", options)
        # the tag options of --tag: request.c's table, shared with the query
        with open(os.path.join(SOURCE_ROOT, "daemon", "request.c"), encoding="utf-8") as f:
            tag_options = re.findall(r'\{ "([a-z-]+)", GZ_OPTION_\w+', f.read())
        self.assertEqual(tag_options, ["types", "overlaps", "offsets", "explain", "format",
                                       "annotate"])
        options += tag_options
        for opt in options:
            with self.subTest(option=opt):
                self.assertIn("\\-\\-" + opt.replace("-", "\\-"), page)
        with open(os.path.join(SOURCE_ROOT, "config", "gaztag.yaml"), encoding="utf-8") as f:
            keys = re.findall(r"(?m)^([a-z_]+):", f.read())
        self.assertIn("reload_token", keys)
        config_section = page[page.index(".SH CONFIGURATION"):page.index(".SH ENDPOINTS")]
        for key in keys:
            with self.subTest(key=key):
                self.assertRegex(config_section, r"(?m)^\.BR %s " % key)
        for endpoint in ("POST /tag", "GET /health", "GET /gazetteers",
                         "GET /entities/", "POST /reload", "GET /metrics", "GET /"):
            with self.subTest(endpoint=endpoint):
                self.assertIn(endpoint, page)


if __name__ == "__main__":
    gzharness.main()
