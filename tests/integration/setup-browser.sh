#!/bin/sh
# Installs what the browser test (test_web_page.py) needs, only what is
# missing: Debian's chromium (apt-get, as root) and playwright-core from npm
# into NODE_DIR (default: $GAZTAG_BUILD_ROOT/node, else build/node).
# playwright-core brings no browser of its own: the test drives
# /usr/bin/chromium through executablePath ("npx playwright install" fetches
# browsers from a CDN, which this project's machines cannot reach).
#
# Usage: tests/integration/setup-browser.sh [NODE_DIR]
# Exit status: 0 when both are there; 1 when either could not be installed
# (the reason on stderr; the test then reports itself skipped).
set -u

node_dir=${1:-${GAZTAG_BUILD_ROOT:-build}/node}
chromium=/usr/bin/chromium
say() { echo "setup-browser: $*" >&2; }

# Two test runs at once (scripts/test runs two build trees) must not race
# each other's apt-get or npm install: one lock for the machine.
lock=${TMPDIR:-/tmp}/gaztag-setup-browser.lock
if command -v flock >/dev/null 2>&1; then
	exec 9>"$lock" && flock -w 900 9 || say "could not take $lock; going on without it"
fi

if [ ! -x "$chromium" ]; then
	if [ "$(id -u)" != 0 ]; then
		say "$chromium is missing and installing it needs root (apt-get install chromium)"
		exit 1
	fi
	say "installing chromium from Debian (apt-get)"
	export DEBIAN_FRONTEND=noninteractive
	apt_install() {
		apt-get install -y -q --no-install-recommends chromium fonts-dejavu-core >&2
	}
	# The package lists may be missing or stale on a fresh machine: update
	# only when the first try fails, so a machine that has them stays quick.
	if ! apt_install; then
		apt-get update -q >&2 && apt_install
	fi
	if [ ! -x "$chromium" ]; then
		say "chromium could not be installed"
		exit 1
	fi
fi

if [ ! -f "$node_dir/node_modules/playwright-core/package.json" ]; then
	if ! command -v npm >/dev/null 2>&1; then
		say "npm is missing (apt-get install npm), cannot install playwright-core"
		exit 1
	fi
	say "installing playwright-core into $node_dir (npm)"
	mkdir -p "$node_dir" || exit 1
	# --no-save keeps npm from writing a package.json of its own there;
	# PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing
	# today, and must not start to.
	if ! PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --prefix "$node_dir" \
		--no-audit --no-fund --no-save --loglevel=error playwright-core@1 >&2; then
		say "npm install playwright-core@1 failed"
		exit 1
	fi
fi
if ! command -v node >/dev/null 2>&1; then
	say "node is missing (apt-get install nodejs)"
	exit 1
fi
exit 0
