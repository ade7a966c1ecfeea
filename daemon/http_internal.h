/*
 * What the two halves of the HTTP front share: http.c (the server, its
 * connections, the life of each request and the responses) and routes.c
 * (what each endpoint answers).  Not for use outside them.
 */
#ifndef GZ_HTTP_INTERNAL_H
#define GZ_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include "http.h"
#include "json.h"
#include "reload.h"
#include "request.h"
#include "tagger.h"

struct gz_metrics;
struct gz_deadlines;
struct gz_deadline;

struct gz_http {
	struct MHD_Daemon *mhd;
	int listen_fd;
	struct gz_reloader *reloader;
	size_t max_body;
	char *reload_token;
	int reload_refused;         /* non-loopback address and no token: /reload is off */
	atomic_long in_flight;
	struct gz_metrics *metrics;
	struct gz_deadlines *deadlines; /* against slowloris (deadline.h) */
	unsigned port;
	char address[300];
};

/* R_NONE: no route (an unknown path), so a zeroed request has none. */
enum route { R_NONE, R_TAG, R_HEALTH, R_GAZETTEERS, R_ENTITY, R_RELOAD, R_PAGE, R_METRICS,
	     R_LOOKUP };
enum body_kind { BODY_RAW, BODY_JSON, BODY_NDJSON };

/* POST /reload waiting for its build (routes.c). */
struct reload_wait;

struct request {
	struct gz_http *http;
	enum route route;
	enum body_kind kind;
	char *body;
	size_t len, cap;
	unsigned long long received; /* body bytes read, kept or not */
	int responded;
	unsigned status;
	size_t response_len;
	struct gz_request_options opts;
	char *types;                /* the types query parameter, owned */
	char *entity;               /* GET /entities/{id}: the id, URL-decoded */
	struct reload_wait *reload; /* POST /reload: waiting for its build */
	struct gz_deadline *deadline; /* the connection's, or NULL */
	struct timespec t0;
	char line[160];             /* "POST /tag" for the access log */
};

/* Requests with a body or an answer at least this big trim the heap when
 * they end. */
#define GZ_TRIM_AFTER ((size_t)1 << 20)

static const char JSON_TYPE[] = "application/json; charset=utf-8";
static const char NDJSON_TYPE[] = "application/x-ndjson; charset=utf-8";

/* ------------------------------------------------------------------ */
/* responses (http.c)                                                  */
/* ------------------------------------------------------------------ */

/* Each queues its answer on c, records its status and size in rq, and
 * returns what MHD_queue_response did.  buf (malloc'd) is taken over. */
enum MHD_Result gz_http_send_buffer(struct MHD_Connection *c, struct request *rq,
				    unsigned status, char *buf, size_t len,
				    const char *type, const char *allow);
/* Sends j (stolen) as compact JSON with a final newline, for curl users. */
enum MHD_Result gz_http_send_json(struct MHD_Connection *c, struct request *rq,
				  unsigned status, json_t *j, const char *allow);
enum MHD_Result gz_http_send_error(struct MHD_Connection *c, struct request *rq,
				   unsigned status, const char *code,
				   const char *message);
/* err as JSON, with the status its code calls for (400, 413, 500). */
enum MHD_Result gz_http_send_gz_error(struct MHD_Connection *c,
				      struct request *rq,
				      const struct gz_error *err);
/* 503: no gazetteer set is loaded yet. */
enum MHD_Result gz_http_send_not_ready(struct MHD_Connection *c, struct request *rq);

/* ------------------------------------------------------------------ */
/* routes (routes.c), called at the last call of the access handler   */
/* ------------------------------------------------------------------ */

enum MHD_Result gz_route_tag(struct MHD_Connection *c, struct request *rq);
enum MHD_Result gz_route_health(struct MHD_Connection *c, struct request *rq);
enum MHD_Result gz_route_gazetteers(struct MHD_Connection *c, struct request *rq);
enum MHD_Result gz_route_entity(struct MHD_Connection *c, struct request *rq,
				const char *id);
enum MHD_Result gz_route_lookup(struct MHD_Connection *c, struct request *rq);
enum MHD_Result gz_route_page(struct MHD_Connection *c, struct request *rq);
enum MHD_Result gz_route_metrics(struct MHD_Connection *c, struct request *rq);
/* POST /reload: suspends the connection until its build has ended, then
 * (resumed, called again) answers with the outcome. */
enum MHD_Result gz_route_reload(struct MHD_Connection *c, struct request *rq);
/* Frees what POST /reload kept for its request (rq->reload; NULL is fine). */
void gz_route_reload_wait_free(struct reload_wait *rw);

#endif
