#!/bin/sh
# HTTP throughput of gaztagd beside nginx, same machine, same run (issue 3).
#
#   bench/http/run.sh [BUILD_DIR] [DURATION]      (default: build, 10s)
#
# wrk POSTs bench/http/article-2k.txt to gaztagd's /tag (the shipped
# gazetteers), then GETs the same 2 KB file from nginx serving it statically.
# Both get the same worker count (the number of cores) and the same wrk
# settings.  Needs wrk and nginx (Debian: apt-get install wrk nginx-light).
# Measured, never asserted: not part of the test suite.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
duration=${2:-10s}
cores=$(nproc)
tmp=$(mktemp -d)
chmod 755 "$tmp"  # nginx workers run as an unprivileged user
gz_pid= ng_pid=
cleanup() {
	[ -n "$gz_pid" ] && kill "$gz_pid" 2>/dev/null || true
	[ -n "$ng_pid" ] && kill "$ng_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

article=$here/article-2k.txt
cat >"$tmp/post.lua" <<LUA
local f = io.open("$article", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "text/plain"
LUA

"$build/daemon/gaztagd" --listen 127.0.0.1:0 --gazetteers "$root/gazetteers" \
	--threads "$cores" --log-level info 2>"$tmp/gaztagd.log" &
gz_pid=$!
for _ in $(seq 100); do grep -q "gaztagd: ready" "$tmp/gaztagd.log" && break; sleep 0.1; done
gz_addr=$(sed -n 's/^gaztagd: listening on //p' "$tmp/gaztagd.log")

mkdir "$tmp/www"
cp "$article" "$tmp/www/article.txt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$tmp/nginx.conf" <<NGINX
worker_processes $cores;
daemon off;
pid $tmp/nginx.pid;
error_log $tmp/nginx-error.log;
events { worker_connections 1024; }
http {
	access_log off;
	server {
		listen 127.0.0.1:$port;
		root $tmp/www;
	}
}
NGINX
nginx -c "$tmp/nginx.conf" -p "$tmp" &
ng_pid=$!
sleep 0.5

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "payload: $(wc -c <"$article") bytes; wrk -t2 -c64 -d$duration"
echo "--- gaztagd POST /tag ($gz_addr)"
wrk -t2 -c64 -d"$duration" -s "$tmp/post.lua" "http://$gz_addr/tag"
echo "--- nginx GET static 2 KB file (127.0.0.1:$port)"
wrk -t2 -c64 -d"$duration" "http://127.0.0.1:$port/article.txt"
