/*
 * The HTTP front of gaztagd (SPEC §4) on libmicrohttpd: routes, request
 * bodies, limits and JSON responses.  A thin shell over the engine: it
 * parses a request, tags with the calling worker's own gz_tagger against a
 * set taken from the reloader, and writes the engine's JSON back.  http.c
 * is the server and the life of each request, routes.c the endpoints.
 */
#ifndef GZ_HTTP_H
#define GZ_HTTP_H

#include "config.h"
#include "error.h"
#include "reload.h"

struct gz_http;

/* Binds cfg->listen and starts the worker threads.  The reloader must
 * outlive the server.  Errors: GZ_EIO (cannot bind), GZ_EINVAL, GZ_ENOMEM. */
int gz_http_start(const struct gz_config *cfg, struct gz_reloader *reloader,
		  struct gz_http **out, struct gz_error *err);

/* The address actually bound, "127.0.0.1:7700" (the real port for :0). */
const char *gz_http_address(const struct gz_http *h);
unsigned gz_http_port(const struct gz_http *h);

/* Graceful stop: stops accepting, lets requests in flight finish (for at
 * most grace_seconds), then stops the workers and frees h. */
void gz_http_stop(struct gz_http *h, unsigned grace_seconds);

#endif
