"""The page at GET / (SPEC §4, issue 8): served whole from the binary with a
policy that lets only its own inline style and script run, then driven in a
real browser.

The browser part runs tests/integration/web_page.test.mjs under node with
playwright-core and Debian's chromium, which `scripts/deps test` installs
(playwright-core into the repository's node_modules/, or $GAZTAG_NODE_DIR's).
When either is missing that test is skipped, saying so, and this script exits
77, which meson reports as SKIP: never a pass that tested nothing.
Screenshots go to $GAZTAG_BUILD_ROOT/web-page.png, web-page-narrow.png and
web-page-html.png (HTML mode: a pasted page rendered in a sandboxed frame).

Gazetteers: tests/data/web (people, places, units, and ships: a type the page
has no fixed colour for; two places named Georgia that context tells apart,
and a person with no alias, for the card's "chosen by" row, explain=true of
SPEC §8.6).  Standard library only.
"""

import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gzharness  # noqa: E402
from gzharness import HERE, SOURCE_ROOT  # noqa: E402

WEB_DATA = os.path.join(SOURCE_ROOT, "tests", "data", "web")
PAGE_SOURCE = os.path.join(SOURCE_ROOT, "daemon", "web", "index.html")
BUILD_ROOT = os.environ.get("GAZTAG_BUILD_ROOT") or tempfile.gettempdir()
MAX_BODY = 65536  # small, so the page can be shown the daemon's 413


class WebPageTest(gzharness.DaemonTestCase):
    daemon_kwargs = {"gazetteers": (WEB_DATA,), "config": {"max_body_bytes": MAX_BODY}}

    def test_page_served_whole_with_its_policy(self):
        status, hdrs, body = self.d.request("GET", "/")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs.get("content-type"), "text/html; charset=utf-8")
        with open(PAGE_SOURCE, "rb") as f:
            self.assertEqual(body, f.read(), "the embedded page is index.html, byte for byte")
        csp = hdrs.get("content-security-policy", "")
        self.assertIn("default-src 'none'", csp)
        self.assertRegex(csp, r"script-src 'sha256-[A-Za-z0-9+/]{43}='")
        # the page's style, and the one of the frame that shows HTML
        self.assertRegex(csp, r"style-src 'sha256-[A-Za-z0-9+/]{43}=' 'sha256-[A-Za-z0-9+/]{43}='")
        self.assertIn("connect-src 'self'", csp)
        self.assertEqual(hdrs.get("x-content-type-options"), "nosniff")

    def test_page_head(self):
        status, hdrs, body = self.d.request("HEAD", "/")
        self.assertEqual(status, 200)
        self.assertEqual(hdrs.get("content-type"), "text/html; charset=utf-8")
        self.assertEqual(body, b"")

    def test_page_post_not_allowed(self):
        status, body, hdrs = self.d.json("POST", "/", b"x", {"Content-Type": "text/plain"})
        self.assertEqual(status, 405)
        self.assertEqual(body["error"]["code"], "method_not_allowed")
        self.assertEqual(hdrs.get("allow"), "GET, HEAD")

    def test_page_in_chromium(self):
        node, node_dir = gzharness.need_playwright()
        env = dict(os.environ)
        env.update({
            "GAZTAG_URL": "http://%s:%d/" % (self.d.host, self.d.port),
            "GAZTAG_NODE_DIR": node_dir,
            "GAZTAG_ARTIFACTS": BUILD_ROOT,
            "GAZTAG_MAX_BODY": str(MAX_BODY),
        })
        # The browser reaches the daemon on loopback: a proxy configured in
        # the environment must not get in between.
        for k in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
            env.pop(k, None)
        try:
            run = subprocess.run([node, "--test-reporter=spec",
                                  os.path.join(HERE, "web_page.test.mjs")],
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, env=env, timeout=300)
        except subprocess.TimeoutExpired as e:
            self.fail("the browser test did not finish in 300 s:\n%s"
                      % (e.output or b"").decode("utf-8", "replace"))
        report = run.stdout.decode("utf-8", "replace")
        sys.stderr.write(report)
        self.assertEqual(run.returncode, 0, "web_page.test.mjs failed (output above)")


if __name__ == "__main__":
    gzharness.main()
