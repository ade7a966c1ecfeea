/*
 * The HTTP server of SPEC §4 on libmicrohttpd: its start and stop, its
 * connections and the life of each request; what each endpoint answers is
 * routes.c's.
 *
 * libmicrohttpd runs a pool of worker threads, each with its own epoll loop;
 * a stalled client costs a socket and a few KB, never a thread, and a
 * connection that sends its request too slowly is cut by deadline.c.
 *
 * The access handler is called once when the headers are in, then once per
 * chunk of body, then once more at the end.  Everything that can be decided
 * from the headers (route, method, content type, query parameters, a
 * Content-Length over the limit) is answered at the first call: libmicrohttpd
 * then sends the answer without reading the body and closes the connection,
 * which is how a 64 MiB body gets its 413 before a byte of it is read.
 * A body without Content-Length (chunked) that grows over the limit cannot be
 * answered mid-upload (libmicrohttpd 0.9.75 refuses a response queued then),
 * so the rest of it is read and dropped, never buffered, and the 413 goes
 * out at its end (up to GZ_DRAIN_MAX; past that the connection is cut).
 * The routes answer at the last call.
 */
#include "http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deadline.h"
#include "log.h"
#include "metrics.h"

/* The endpoint label of each route in GET /metrics; a route missing here
 * is counted as "other". */
static const char *const route_labels[] = {
	[R_NONE] = "other", [R_TAG] = "/tag", [R_HEALTH] = "/health",
	[R_GAZETTEERS] = "/gazetteers", [R_ENTITY] = "/entities",
	[R_RELOAD] = "/reload", [R_PAGE] = "/", [R_METRICS] = "/metrics",
	[R_LOOKUP] = "/lookup",
};

/* ------------------------------------------------------------------ */
/* responses                                                           */
/* ------------------------------------------------------------------ */

enum MHD_Result gz_http_send_buffer(struct MHD_Connection *c, struct request *rq,
				    unsigned status, char *buf, size_t len,
				    const char *type, const char *allow)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	rq->responded = 1;
	rq->status = status;
	rq->response_len = len;
	return ret;
}

/* Sends j (stolen) as compact JSON with a final newline, for curl users. */
enum MHD_Result gz_http_send_json(struct MHD_Connection *c, struct request *rq,
				  unsigned status, json_t *j, const char *allow)
{
	char *s = j ? json_dumps(j, GZ_JSON_DUMP_FLAGS) : NULL;
	json_decref(j);
	if (!s)
		return MHD_NO;
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return MHD_NO;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return gz_http_send_buffer(c, rq, status, t, n + 1, JSON_TYPE, allow);
}

enum MHD_Result gz_http_send_error(struct MHD_Connection *c, struct request *rq,
				   unsigned status, const char *code,
				   const char *message)
{
	return gz_http_send_json(c, rq, status, gz_json_error(code, "%s", message), NULL);
}

static unsigned error_status(int code)
{
	switch (code) {
	case GZ_EUTF8:
	case GZ_EINVAL:
	case GZ_ECOMPLEX:
		return MHD_HTTP_BAD_REQUEST;
	case GZ_ETOOBIG:
		return MHD_HTTP_CONTENT_TOO_LARGE;
	default:
		return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

enum MHD_Result gz_http_send_gz_error(struct MHD_Connection *c,
				      struct request *rq,
				      const struct gz_error *err)
{
	return gz_http_send_json(c, rq, error_status(err->code), gz_json_from_error(err), NULL);
}

enum MHD_Result gz_http_send_not_ready(struct MHD_Connection *c, struct request *rq)
{
	return gz_http_send_error(c, rq, MHD_HTTP_SERVICE_UNAVAILABLE, "not_ready",
				  "no gazetteer set is loaded yet");
}

static enum MHD_Result send_too_large(struct MHD_Connection *c, struct request *rq)
{
	json_t *j = gz_json_error("payload_too_large",
				  "the request body is over the limit of %zu bytes "
				  "(max_body_bytes)", rq->http->max_body);
	json_object_set_new(json_object_get(j, "error"), "limit",
			    json_integer((json_int_t)rq->http->max_body));
	return gz_http_send_json(c, rq, MHD_HTTP_CONTENT_TOO_LARGE, j, NULL);
}

/* ------------------------------------------------------------------ */
/* request headers: content type, query parameters                    */
/* ------------------------------------------------------------------ */

/* Sets rq->kind from Content-Type, or returns 0 for an unsupported one.
 * Raw text is accepted under every name curl and browsers give it: none,
 * text/plain (any text/...), application/octet-stream, and the form type
 * that `curl -d` sends by default (the body is still taken verbatim).
 * text/html is raw too, read as HTML (*format; format= may still say). */
static int body_kind(const char *ct, enum body_kind *kind, enum gz_format *format)
{
	*kind = BODY_RAW;
	if (!ct)
		return 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	size_t n = strcspn(ct, "; \t");
	if (n == 0) /* an empty Content-Type header */
		return 1;
	/* A declared charset other than UTF-8 would be decoded wrongly. */
	const char *cs = strcasestr(ct + n, "charset=");
	if (cs) {
		cs += 8;
		if (*cs == '"')
			cs++;
		if (strncasecmp(cs, "utf-8", 5) && strncasecmp(cs, "utf8", 4) &&
		    strncasecmp(cs, "us-ascii", 8))
			return 0;
	}
#define IS(s) (n == sizeof(s) - 1 && !strncasecmp(ct, s, n))
	if (IS("application/json"))
		*kind = BODY_JSON;
	else if (IS("application/x-ndjson") || IS("application/ndjson") ||
		 IS("application/jsonl") || IS("application/x-jsonlines"))
		*kind = BODY_NDJSON;
	else if (IS("text/html"))
		*format = GZ_FORMAT_HTML;
	else if (!(IS("application/octet-stream") ||
		   IS("application/x-www-form-urlencoded") ||
		   (n > 5 && !strncasecmp(ct, "text/", 5))))
		return 0;
#undef IS
	return 1;
}

struct query_check {
	struct request *rq;
	char message[512];
};

/* Each query parameter is a tag option (request.h's table); the first bad
 * one stops the walk with its message. */
static enum MHD_Result query_arg(void *cls, enum MHD_ValueKind kind,
				 const char *key, const char *value)
{
	(void)kind;
	struct query_check *q = cls;
	struct request *rq = q->rq;
	struct gz_error e = {0};
	const struct gz_option *o = gz_option_find(key);
	if (!o) {
		char names[200];
		gz_option_names(names, sizeof names);
		snprintf(q->message, sizeof(q->message),
			 "unknown query parameter '%.100s' (expected %s)", key, names);
		return MHD_NO;
	}
	if (gz_option_set(o, value ? value : "", &rq->opts, &rq->types, &e)) {
		snprintf(q->message, sizeof(q->message), "%.250s", e.message);
		return MHD_NO;
	}
	return MHD_YES;
}

/* ------------------------------------------------------------------ */
/* the access handler                                                  */
/* ------------------------------------------------------------------ */

/* Routes url; 0 with *allow set to the methods of the route when the method
 * does not fit; -1 for an unknown path. */
static int route_of(const char *url, const char *method, enum route *route,
		    const char **allow)
{
	static const char GET[] = "GET, HEAD", POST[] = "POST";
	int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	int post = !strcmp(method, "POST");
	if (!strcmp(url, "/tag")) {
		*route = R_TAG, *allow = POST;
		return post;
	}
	if (!strcmp(url, "/reload")) {
		*route = R_RELOAD, *allow = POST;
		return post;
	}
	if (!strcmp(url, "/"))
		*route = R_PAGE;
	else if (!strcmp(url, "/health"))
		*route = R_HEALTH;
	else if (!strcmp(url, "/metrics"))
		*route = R_METRICS;
	else if (!strcmp(url, "/gazetteers"))
		*route = R_GAZETTEERS;
	else if (!strcmp(url, "/lookup"))
		*route = R_LOOKUP;
	else if (!strncmp(url, "/entities/", 10) && url[10])
		*route = R_ENTITY;
	else
		return -1;
	*allow = GET;
	return get;
}

/* The 404 of route_of() < 0, the 405 of route_of() == 0. */
static enum MHD_Result send_refusal(struct MHD_Connection *c, struct request *rq, int r,
				    const char *url, const char *method, const char *allow)
{
	if (r < 0) {
		json_t *j = gz_json_error("not_found", "no such endpoint: %s %.200s "
					  "(see GET /health, POST /tag)", method, url);
		return gz_http_send_json(c, rq, MHD_HTTP_NOT_FOUND, j, NULL);
	}
	json_t *j = gz_json_error("method_not_allowed", "%s is not allowed on %.200s; use %s",
				  method, url, allow);
	return gz_http_send_json(c, rq, MHD_HTTP_METHOD_NOT_ALLOWED, j, allow);
}

static int has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	return (cl && strtoull(cl, NULL, 10) > 0) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND,
					   MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

/* The first call: decide everything the headers allow.  Returns 1 when a
 * response was queued (in *ret), 0 to go on reading the body. */
static int first_call(struct MHD_Connection *c, struct request *rq,
		      const char *url, const char *method, enum MHD_Result *ret)
{
	const char *allow;
	int r = route_of(url, method, &rq->route, &allow);
	if (r <= 0) {
		/* Without a body the refusal waits for the last call, like the
		 * GET answers below, so that keep-alive and the requests
		 * pipelined behind it survive. */
		if (!has_body(c))
			return 0;
		*ret = send_refusal(c, rq, r, url, method, allow);
		return 1;
	}
	/* The GET routes answer at the last call, not here: an answer queued
	 * at the first call makes libmicrohttpd close the connection, which
	 * is right for a refused body but would end keep-alive. */
	if (rq->route == R_ENTITY && !(rq->entity = strdup(url + 10)))
		return *ret = MHD_NO, 1;
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);
	/* libmicrohttpd has already refused a length that does not fit 64 bits. */
	unsigned long long length = cl ? strtoull(cl, NULL, 10) : 0;
	if (length > rq->http->max_body) {
		*ret = send_too_large(c, rq);
		return 1;
	}
	if (rq->route != R_TAG)
		return 0;

	/* POST /tag: what the headers say about the body. */
	const char *ce = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_ENCODING);
	if (ce && strcasecmp(ce, "identity")) {
		json_t *j = gz_json_error("unsupported_media_type",
					  "Content-Encoding '%.100s' is not supported; "
					  "send the text uncompressed", ce);
		*ret = gz_http_send_json(c, rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, j, NULL);
		return 1;
	}
	const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!body_kind(ct, &rq->kind, &rq->opts.format)) {
		json_t *j = gz_json_error("unsupported_media_type",
					  "unsupported Content-Type '%.100s' (expected text/plain, "
					  "text/html, application/json or application/x-ndjson, "
					  "in UTF-8)", ct);
		*ret = gz_http_send_json(c, rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, j, NULL);
		return 1;
	}
	struct query_check q = { rq, "" };
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, query_arg, &q);
	if (q.message[0]) {
		*ret = gz_http_send_error(c, rq, MHD_HTTP_BAD_REQUEST, "bad_parameter", q.message);
		return 1;
	}
	/* The buffer is made the size the Content-Length announces (within
	 * max_body_bytes), so that it never moves as the body comes.  Blocks
	 * of 1 MB and more are mappings of their own (main.c), and a mapping
	 * costs memory only where it is written: a Content-Length that the
	 * client never honours reserves address space, not memory. */
	rq->cap = length ? (size_t)length : 65536;
	if (rq->cap && !(rq->body = malloc(rq->cap + 1)))
		return *ret = MHD_NO, 1;
	return 0;
}

/* How much of a chunked body over the limit is read (and dropped) to be
 * able to answer 413; a client that sends more is cut off without one. */
#define GZ_DRAIN_MAX (64ull << 20)

/* Keeps the body, or drops it once it is over the limit. */
static int append_body(struct request *rq, const char *data, size_t n)
{
	rq->received += n;
	if (rq->received > rq->http->max_body) {
		if (rq->received - rq->http->max_body > GZ_DRAIN_MAX)
			return -1;
		free(rq->body);
		rq->body = NULL;
		rq->len = rq->cap = 0;
		return 0;
	}
	if (rq->route != R_TAG)
		return 0; /* only POST /tag has a body worth keeping */
	if (rq->len + n > rq->cap) {
		size_t cap = rq->cap ? rq->cap : 65536;
		while (cap < rq->len + n)
			cap *= 2;
		if (cap > rq->http->max_body)
			cap = rq->http->max_body;
		char *b = realloc(rq->body, cap + 1);
		if (!b)
			return -1;
		rq->body = b;
		rq->cap = cap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	rq->body[rq->len] = '\0';
	return 0;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *c,
				      const char *url, const char *method,
				      const char *version, const char *upload_data,
				      size_t *upload_data_size, void **con_cls)
{
	(void)version;
	struct gz_http *h = cls;
	struct request *rq = *con_cls;
	if (!rq) {
		if (!(rq = calloc(1, sizeof(*rq))))
			return MHD_NO;
		*con_cls = rq;
		rq->http = h;
		atomic_fetch_add(&h->in_flight, 1);
		clock_gettime(CLOCK_MONOTONIC, &rq->t0);
		snprintf(rq->line, sizeof(rq->line), "%s %s", method, url);
		gz_request_options_init(&rq->opts);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		rq->deadline = ci ? ci->socket_context : NULL;
		gz_deadline_headers(rq->deadline);
		enum MHD_Result ret;
		if (first_call(c, rq, url, method, &ret))
			return ret;
		return MHD_YES;
	}
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		gz_deadline_body(rq->deadline, n);
		if (rq->responded)
			return MHD_YES;
		return append_body(rq, upload_data, n) ? MHD_NO : MHD_YES;
	}
	gz_deadline_handled(rq->deadline);
	if (rq->responded)
		return MHD_YES;
	if (rq->received > h->max_body)
		return send_too_large(c, rq);
	const char *allow;
	enum route route;
	int r = route_of(url, method, &route, &allow);
	if (r <= 0) /* a refusal that waited for the end of a request without body */
		return send_refusal(c, rq, r, url, method, allow);
	switch (rq->route) {
	case R_TAG: return gz_route_tag(c, rq);
	case R_HEALTH: return gz_route_health(c, rq);
	case R_GAZETTEERS: return gz_route_gazetteers(c, rq);
	case R_ENTITY: return gz_route_entity(c, rq, rq->entity);
	case R_RELOAD: return gz_route_reload(c, rq);
	case R_PAGE: return gz_route_page(c, rq);
	case R_METRICS: return gz_route_metrics(c, rq);
	case R_LOOKUP: return gz_route_lookup(c, rq);
	case R_NONE: break;
	}
	return MHD_NO;
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	(void)c;
	struct gz_http *h = cls;
	struct request *rq = *con_cls;
	if (!rq)
		return;
	gz_metrics_request(h->metrics, rq->route, rq->responded ? rq->status : 0, rq->t0);
	if (gz_log_enabled(GZ_LOG_DEBUG)) {
		struct timespec t1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double ms = (double)(t1.tv_sec - rq->t0.tv_sec) * 1e3 +
			    (double)(t1.tv_nsec - rq->t0.tv_nsec) / 1e6;
		gz_log(GZ_LOG_DEBUG, "%s %u %zu bytes in, %.3f ms%s", rq->line, rq->status,
		       (size_t)rq->received, ms,
		       toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	}
	gz_deadline_next(rq->deadline);
	int big = rq->len >= GZ_TRIM_AFTER || rq->response_len >= GZ_TRIM_AFTER;
	free(rq->body);
	free(rq->types);
	free(rq->entity);
	gz_route_reload_wait_free(rq->reload);
	free(rq);
	*con_cls = NULL;
	atomic_fetch_sub(&h->in_flight, 1);
	/* A big text leaves hundreds of MB of freed JSON nodes in this
	 * thread's malloc arena, which glibc keeps; give them back, or one
	 * 16 MiB request would pin its peak memory for the life of the
	 * daemon.  Rare enough that the cost does not matter. */
	if (big)
		malloc_trim(0);
}

static void connection_notify(void *cls, struct MHD_Connection *c, void **socket_context,
			      enum MHD_ConnectionNotificationCode code)
{
	struct gz_http *h = cls;
	gz_metrics_connection(h->metrics, code == MHD_CONNECTION_NOTIFY_STARTED);
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		*socket_context = ci ? gz_deadline_open(h->deadlines, ci->connect_fd) : NULL;
	} else {
		gz_deadline_close(h->deadlines, *socket_context);
		*socket_context = NULL;
	}
}

static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	/* libmicrohttpd's own messages are about single misbehaving clients
	 * (a bad header, a timeout): debug, not warnings an operator acts on. */
	if (!gz_log_enabled(GZ_LOG_DEBUG))
		return;
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	gz_log(GZ_LOG_DEBUG, "libmicrohttpd: %s", msg);
}

/* ------------------------------------------------------------------ */
/* start and stop                                                      */
/* ------------------------------------------------------------------ */

/* Binds the listening socket ourselves, for errors that name the address
 * and the reason, and to learn the port the kernel chose for :0. */
static int bind_listen(struct gz_http *h, const char *address, int *ipv6,
		       struct gz_error *err)
{
	char host[256], portstr[8];
	unsigned port;
	int rc = gz_listen_parse(address, host, sizeof(host), &port, err);
	if (rc)
		return rc;
	snprintf(portstr, sizeof(portstr), "%u", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
	int gai = getaddrinfo(host, portstr, &hints, &ai);
	if (gai)
		return gz_error_set(err, GZ_EIO, "cannot listen on %s: %s", address,
				    gai_strerror(gai));
	int fd = -1, saved = 0;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, a->ai_addr, a->ai_addrlen) && !listen(fd, SOMAXCONN)) {
			*ipv6 = a->ai_family == AF_INET6;
			break;
		}
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	if (fd < 0)
		return gz_error_set(err, GZ_EIO, "cannot listen on %s: %s", address,
				    strerror(saved));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "?";
	int loopback = 0;
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, addr, sizeof(addr));
		h->port = ntohs(s6->sin6_port);
		snprintf(h->address, sizeof(h->address), "[%s]:%u", addr, h->port);
		loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
			   (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &s4->sin_addr, addr, sizeof(addr));
		h->port = ntohs(s4->sin_port);
		snprintf(h->address, sizeof(h->address), "%s:%u", addr, h->port);
		loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	h->listen_fd = fd;
	/* Anyone who can reach a non-loopback address could reload at will:
	 * without a token, /reload stays off there (SPEC §5, issue 5). */
	h->reload_refused = !loopback && !h->reload_token;
	if (h->reload_refused)
		gz_log(GZ_LOG_WARN, "listening on %s without a reload_token: POST /reload is off "
		       "(SIGHUP and file watching still reload)", h->address);
	return 0;
}

int gz_http_start(const struct gz_config *cfg, struct gz_reloader *reloader,
		  struct gz_http **out, struct gz_error *err)
{
	struct gz_http *h = calloc(1, sizeof(*h));
	if (!h)
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	h->listen_fd = -1;
	h->reloader = reloader;
	h->max_body = cfg->max_body_bytes;
	if (cfg->reload_token && cfg->reload_token[0] &&
	    !(h->reload_token = strdup(cfg->reload_token))) {
		free(h);
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	}
	int ipv6 = 0;
	int rc = bind_listen(h, cfg->listen, &ipv6, err);
	if (rc) {
		free(h->reload_token);
		free(h);
		return rc;
	}
	unsigned threads = gz_config_threads(cfg);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC |
			 MHD_ALLOW_SUSPEND_RESUME | /* POST /reload waits suspended */
			 MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
	h->metrics = gz_metrics_new(route_labels, sizeof(route_labels) / sizeof(route_labels[0]));
	h->deadlines = gz_deadlines_start(cfg->connection_timeout);
	h->mhd = !h->metrics || !h->deadlines ? NULL : MHD_start_daemon(flags, 0, NULL, NULL, access_handler, h,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, NULL, /* first, to catch all */
		MHD_OPTION_LISTEN_SOCKET, (MHD_socket)h->listen_fd,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(threads > 1 ? threads : 0),
		MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout,
		MHD_OPTION_NOTIFY_COMPLETED, request_completed, h,
		MHD_OPTION_NOTIFY_CONNECTION, connection_notify, h,
		MHD_OPTION_END);
	if (!h->mhd) {
		gz_deadlines_stop(h->deadlines);
		gz_metrics_free(h->metrics);
		close(h->listen_fd);
		free(h->reload_token);
		free(h);
		return gz_error_set(err, GZ_EIO, "cannot start the HTTP server on %s "
				    "(libmicrohttpd refused the options)", cfg->listen);
	}
	*out = h;
	return 0;
}

const char *gz_http_address(const struct gz_http *h)
{
	return h->address;
}

unsigned gz_http_port(const struct gz_http *h)
{
	return h->port;
}

void gz_http_stop(struct gz_http *h, unsigned grace_seconds)
{
	if (!h)
		return;
	MHD_quiesce_daemon(h->mhd);
	/* Refuse new connections now rather than leave them in the backlog
	 * until exit; the descriptor itself stays open until the workers
	 * are gone, as libmicrohttpd requires. */
	shutdown(h->listen_fd, SHUT_RDWR);
	/* The workers keep serving the connections they have; wait for the
	 * requests among them to end, polling: shutdown is rare. */
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	for (unsigned long i = 0; i < (unsigned long)grace_seconds * 100; i++) {
		if (atomic_load(&h->in_flight) == 0)
			break;
		nanosleep(&nap, NULL);
	}
	long left = atomic_load(&h->in_flight);
	if (left)
		gz_log(GZ_LOG_WARN, "stopping with %ld request(s) still in flight", left);
	MHD_stop_daemon(h->mhd);
	gz_deadlines_stop(h->deadlines);
	gz_metrics_free(h->metrics);
	close(h->listen_fd);
	free(h->reload_token);
	free(h);
}
