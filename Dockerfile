# gaztagd in a container: Debian 12, built in one stage, run in another that
# holds the runtime libraries only, as an unprivileged user.
#
#   docker build -t gaztag .
#   docker run --rm -p 7700:7700 gaztag
#   docker run --rm -p 7700:7700 -v "$PWD/gazetteers:/usr/share/gaztag/gazetteers:ro" gaztag
#
# Inside the container gaztagd listens on 0.0.0.0:7700 (the published port is
# the only way in).  gaztagd has no authentication; to require a token for
# POST /reload, mount a config of your own over /etc/gaztag/gaztag.yaml with
# `reload_token:` set (start from the installed one:
# `docker run --rm gaztag cat /etc/gaztag/gaztag.yaml > gaztag.yaml`).
# gaztagd is PID 1 and handles its signals itself (sigwait): `docker kill
# -s HUP <container>` reloads the gazetteers; `docker stop` sends SIGTERM,
# which lets the requests in flight finish.

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      gcc libc6-dev pkg-config meson ninja-build python3 \
      libmicrohttpd-dev libjansson-dev libyaml-dev libutf8proc-dev libgumbo-dev \
      libxxhash-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN meson setup /build --prefix=/usr --buildtype=release -Dtests=false \
 && meson install -C /build --destdir /install

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libmicrohttpd12 libjansson4 libyaml-0-2 libutf8proc2 libgumbo1 libxxhash0 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin gaztag
COPY --from=build /install/usr/sbin/gaztagd /usr/sbin/gaztagd
COPY --from=build /install/etc/gaztag/ /etc/gaztag/
COPY --from=build /install/usr/share/gaztag/ /usr/share/gaztag/
USER gaztag
EXPOSE 7700
CMD ["/usr/sbin/gaztagd", "--config", "/etc/gaztag/gaztag.yaml", "--listen", "0.0.0.0:7700"]
