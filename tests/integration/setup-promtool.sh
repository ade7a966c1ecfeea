#!/bin/sh
# Installs what the metrics test (test_metrics.py) needs when it is missing:
# promtool, from Debian's prometheus package (apt-get, as root).
#
# Usage: tests/integration/setup-promtool.sh
# Prints the path of promtool on stdout.  Exit status: 0 when it is there;
# 1 when it could not be installed (the reason on stderr; the test then
# reports itself skipped, never passed).
set -u

say() { echo "setup-promtool: $*" >&2; }

found() {
	p=$(command -v promtool 2>/dev/null) || p=
	[ -z "$p" ] && [ -x /usr/bin/promtool ] && p=/usr/bin/promtool
	[ -n "$p" ] && echo "$p"
}

found && exit 0

# Two test runs at once (scripts/test runs two build trees) must not race
# each other's apt-get: one lock for the machine, shared with
# setup-browser.sh, which also runs apt-get.
lock=${TMPDIR:-/tmp}/gaztag-setup-browser.lock
if command -v flock >/dev/null 2>&1; then
	exec 9>"$lock" && flock -w 900 9 || say "could not take $lock; going on without it"
fi
found && exit 0

if [ "$(id -u)" != 0 ]; then
	say "promtool is missing and installing it needs root (apt-get install prometheus)"
	exit 1
fi
say "installing prometheus (for promtool) from Debian (apt-get)"
export DEBIAN_FRONTEND=noninteractive
# Where an init system runs, the package starts its Prometheus server as any
# Debian install of it would; the test uses promtool only.
apt_install() {
	apt-get install -y -q --no-install-recommends prometheus >&2
}
# The package lists may be missing or stale on a fresh machine: update only
# when the first try fails, so a machine that has them stays quick.
if ! apt_install; then
	apt-get update -q >&2 && apt_install
fi
found && exit 0
say "promtool could not be installed"
exit 1
