/*
 * The endpoints of SPEC §4: POST /tag with its streamed answers, GET
 * /health, /gazetteers, /entities/{id}, /lookup, /metrics and the page, and
 * POST /reload.  http.c routes each request here at its last call, the body
 * read and the headers checked.
 *
 * Each worker thread tags with its own gz_tagger (thread-local, created on
 * first use, freed by a pthread key destructor when the worker exits), so
 * the scratch buffers are reused across requests and never shared.
 */
#include "http_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fold.h"
#include "gz_version.h"
#include "log.h"
#include "metrics.h"
#include "request.h"
#include "set.h"
#include "web/web_page.h"

/* ------------------------------------------------------------------ */
/* the per-thread tagger                                               */
/* ------------------------------------------------------------------ */

static pthread_key_t tagger_key;
static pthread_once_t tagger_once = PTHREAD_ONCE_INIT;
static _Thread_local struct gz_tagger *thread_tagger_ptr;

static void tagger_destroy(void *p)
{
	gz_tagger_free(p);
}

static void tagger_key_init(void)
{
	pthread_key_create(&tagger_key, tagger_destroy);
}

static struct gz_tagger *thread_tagger(void)
{
	if (!thread_tagger_ptr) {
		pthread_once(&tagger_once, tagger_key_init);
		thread_tagger_ptr = gz_tagger_new();
		if (thread_tagger_ptr)
			pthread_setspecific(tagger_key, thread_tagger_ptr);
	}
	return thread_tagger_ptr;
}

/* A streamed answer holds the tagger whose spans it writes: it takes the
 * thread's (grown to the size of the texts seen), and gives it back when it
 * ends if the thread has not made another meanwhile. */
static struct gz_tagger *thread_tagger_take(void)
{
	struct gz_tagger *t = thread_tagger();
	if (t) {
		thread_tagger_ptr = NULL;
		pthread_setspecific(tagger_key, NULL);
	}
	return t;
}

static void thread_tagger_give(struct gz_tagger *t)
{
	if (thread_tagger_ptr) {
		gz_tagger_free(t);
		return;
	}
	pthread_once(&tagger_once, tagger_key_init);
	thread_tagger_ptr = t;
	pthread_setspecific(tagger_key, t);
}

/* ------------------------------------------------------------------ */
/* POST /tag                                                           */
/* ------------------------------------------------------------------ */

/* Answers stream.  A big answer is not built in memory and then sent: it is
 * written a piece of about GZ_STREAM_PIECE bytes at a time as libmicrohttpd
 * asks for more to send (stream_read, on the connection's thread), so that
 * it passes through one small buffer whatever its size:
 *   - one text (raw or JSON body): the spans are turned into JSON piece by
 *     piece (gz_json_answer); the stream keeps the tagger that holds them,
 *     and the body they point into, until the answer is out.  An HTML page
 *     (format=html) is parsed whole first, and its annotated copy, when
 *     asked for, goes out as the answer's last piece: within the body
 *     limit, that is a few times the body;
 *   - NDJSON: the body's lines are tagged a piece at a time, each with the
 *     thread's own tagger, so nothing of the tagger is held between pieces.
 * An answer that fits in the first piece goes out whole, with a
 * Content-Length.  A client that stops reading only stops being asked for:
 * its connection ends at the idle timeout, and stream_free gives back the
 * body, the tagger and the set. */
#define GZ_STREAM_PIECE ((size_t)64 << 10)

struct stream {
	struct gz_http *http;
	struct gz_set *set;          /* referenced until the answer ends */
	char *body;                  /* the request's, owned */
	size_t len;
	char *types;                 /* the types query parameter, owned */
	struct gz_buf out;
	size_t sent;                 /* out.data[sent..len) still to hand over */
	int done;                    /* the answer is all in out */
	/* one text */
	struct gz_tagger *tagger;    /* owned; NULL for NDJSON */
	json_t *root;                /* a JSON body's tree: the text lives in it */
	char *types_buf;             /* the JSON body's types, owned */
	struct gz_request_tagged tagged;  /* the spans, and the page of format=html */
	/* NDJSON */
	struct gz_request_options opts;
	size_t pos;                  /* the next line at body[pos] */
};

static void ndjson_tagged(void *cls, const struct gz_tagger *t, size_t len)
{
	struct gz_http *h = cls;
	gz_metrics_tagged(h->metrics, t, len);
}

/* The next piece of the answer into s->out; 0, or GZ_ENOMEM. */
static int stream_fill(struct stream *s)
{
	s->out.len = s->sent = 0;
	int r;
	if (s->tagger) {
		r = gz_json_answer_write(&s->tagged.answer, &s->out, GZ_STREAM_PIECE);
	} else {
		struct gz_tagger *t = thread_tagger();
		r = t ? gz_request_ndjson_next(t, s->set, &s->opts, s->body ? s->body : "", s->len,
					       &s->pos, &s->out, GZ_STREAM_PIECE, ndjson_tagged, s->http)
		      : GZ_ENOMEM;
	}
	if (r < 0)
		return GZ_ENOMEM;
	s->done = r;
	return 0;
}

static void stream_free(void *cls)
{
	struct stream *s = cls;
	if (s->tagger)
		thread_tagger_give(s->tagger);
	gz_request_tagged_free(&s->tagged);
	gz_set_unref(s->set);
	json_decref(s->root);
	free(s->types_buf);
	free(s->body);
	free(s->types);
	free(s->out.data);
	free(s);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct stream *s = cls;
	while (s->sent == s->out.len) {
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (stream_fill(s)) {
			/* the status is out already: cut the answer short, so
			 * that the client sees a broken chunked body, not an end */
			gz_log(GZ_LOG_ERROR, "out of memory while streaming an answer");
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	size_t n = s->out.len - s->sent;
	if (n > max)
		n = max;
	memcpy(buf, s->out.data + s->sent, n);
	s->sent += n;
	return (ssize_t)n;
}

/* Sends the answer that s has begun (its first piece in s->out): whole
 * when that was all of it, else as a stream that takes s over.  s is
 * freed either way. */
static enum MHD_Result send_stream(struct MHD_Connection *c, struct request *rq,
				   struct stream *s, const char *type)
{
	if (s->done) {
		char *data = s->out.data ? s->out.data : calloc(1, 1); /* nothing: "" */
		size_t n = s->out.len;
		s->out.data = NULL;
		stream_free(s);
		return data ? gz_http_send_buffer(c, rq, MHD_HTTP_OK, data, n, type, NULL) : MHD_NO;
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, GZ_STREAM_PIECE, stream_read, s, stream_free);
	if (!resp) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	rq->responded = 1;
	rq->status = MHD_HTTP_OK;
	rq->response_len = GZ_TRIM_AFTER; /* big: trim the heap when it ends */
	return ret;
}

/* A new stream that takes the request's body and types over, and a
 * reference to set; NULL when out of memory (the request keeps them). */
static struct stream *stream_new(struct request *rq, struct gz_set *set)
{
	struct stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->http = rq->http;
	s->set = gz_set_ref(set);
	s->body = rq->body;
	s->len = rq->len;
	s->types = rq->types;
	s->opts = rq->opts; /* opts.types points into s->types */
	rq->body = rq->types = NULL;
	return s;
}

static enum MHD_Result tag_single(struct MHD_Connection *c, struct request *rq,
				  struct gz_set *set)
{
	struct gz_error e = {0};
	json_t *error = NULL;
	struct stream *s = stream_new(rq, set);
	if (!s)
		return gz_http_send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
					  "out of memory");
	const char *text = s->body ? s->body : "";
	size_t len = s->len;
	if (rq->kind == BODY_JSON &&
	    gz_request_parse_json(text, len, 0, &s->root, &text, &len, &s->opts, &s->types_buf,
				  &error)) {
		stream_free(s);
		return gz_http_send_json(c, rq, MHD_HTTP_BAD_REQUEST, error, NULL);
	}
	/* The stream holds the thread's tagger while its spans are written. */
	s->tagger = thread_tagger_take();
	if (!s->tagger) {
		stream_free(s);
		return gz_http_send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
					  "out of memory");
	}
	if (gz_request_tag(s->tagger, set, text, len, &s->opts, &s->tagged, &e)) {
		stream_free(s);
		return gz_http_send_gz_error(c, rq, &e);
	}
	gz_metrics_tagged(rq->http->metrics, s->tagger, len);
	if (stream_fill(s)) {
		stream_free(s);
		return gz_http_send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
					  "out of memory while writing the answer");
	}
	return send_stream(c, rq, s, JSON_TYPE);
}

static enum MHD_Result tag_ndjson(struct MHD_Connection *c, struct request *rq,
				  struct gz_set *set)
{
	struct stream *s = stream_new(rq, set);
	if (!s || stream_fill(s)) {
		if (s)
			stream_free(s);
		return gz_http_send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
					  "out of memory");
	}
	return send_stream(c, rq, s, NDJSON_TYPE);
}

enum MHD_Result gz_route_tag(struct MHD_Connection *c, struct request *rq)
{
	struct gz_set *set = gz_reloader_acquire(rq->http->reloader);
	if (!set)
		return gz_http_send_not_ready(c, rq);
	enum MHD_Result ret = rq->kind == BODY_NDJSON ? tag_ndjson(c, rq, set)
						      : tag_single(c, rq, set);
	gz_set_unref(set);
	return ret;
}

/* ------------------------------------------------------------------ */
/* GET routes and POST /reload                                         */
/* ------------------------------------------------------------------ */

static json_t *iso_time(struct timespec ts)
{
	struct tm tm;
	char buf[40];
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static void add_set_counts(json_t *j, const struct gz_set *set)
{
	json_object_set_new(j, "entries", json_integer((json_int_t)gz_set_entry_count(set)));
	json_object_set_new(j, "names", json_integer((json_int_t)gz_set_name_count(set)));
	json_object_set_new(j, "files", json_integer((json_int_t)gz_set_file_count(set)));
}

/* The problems of the last failed reload: the first GZ_HEALTH_ERRORS as
 * "FILE:LINE:COL: message", and how many there were. */
#define GZ_HEALTH_ERRORS 100

static void add_reload_errors(json_t *f, struct gz_reloader *r)
{
	struct gz_diag d;
	gz_diag_init(&d);
	size_t n = gz_reloader_errors(r, &d, GZ_HEALTH_ERRORS);
	json_t *errors = json_array();
	for (size_t i = 0; i < d.count; i++)
		json_array_append_new(errors, json_string(d.lines[i]));
	gz_diag_clear(&d);
	json_object_set_new(f, "errors", errors);
	json_object_set_new(f, "error_count", json_integer((json_int_t)n));
}

enum MHD_Result gz_route_health(struct MHD_Connection *c, struct request *rq)
{
	struct gz_set *set = gz_reloader_acquire(rq->http->reloader);
	struct gz_reload_status st;
	gz_reloader_status(rq->http->reloader, &st);
	json_t *j;
	unsigned status = MHD_HTTP_OK;
	if (set) {
		j = json_object();
		json_object_set_new(j, "status", json_string("ok"));
		add_set_counts(j, set);
		json_object_set_new(j, "loaded_at", iso_time(gz_set_loaded_at(set)));
		json_object_set_new(j, "load_seconds", json_real(gz_set_load_seconds(set)));
		json_object_set_new(j, "generation", json_integer((json_int_t)st.generation));
		/* the content hash every /tag answer carries (issue 15) */
		json_object_set_new(j, "gazetteers", json_string(gz_set_hash(set)));
		gz_set_unref(set);
	} else {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		j = gz_json_error("not_ready", "no gazetteer set is loaded yet");
		json_object_set_new(j, "status", json_string("loading"));
	}
	/* Which build answers: a rolling upgrade behind a balancer shows here. */
	json_object_set_new(j, "version", json_string(GZ_VERSION));
	if (st.building)
		json_object_set_new(j, "reloading", json_true());
	if (st.last_failed) {
		json_t *f = json_object();
		json_object_set_new(f, "message", json_string(st.last_error));
		json_object_set_new(f, "at", iso_time(st.last_error_at));
		add_reload_errors(f, rq->http->reloader);
		json_object_set_new(j, "last_reload_error", f);
	}
	return gz_http_send_json(c, rq, status, j, NULL);
}

enum MHD_Result gz_route_gazetteers(struct MHD_Connection *c, struct request *rq)
{
	struct gz_set *set = gz_reloader_acquire(rq->http->reloader);
	if (!set)
		return gz_http_send_not_ready(c, rq);
	json_t *list = json_array();
	for (size_t i = 0; i < gz_set_file_count(set); i++) {
		const struct gz_file_info *f = gz_set_file(set, i);
		json_array_append_new(list, json_pack("{s:s, s:s?, s:I, s:I}",
			"path", f->path, "type", f->type,
			"entries", (json_int_t)f->entries, "names", (json_int_t)f->names));
	}
	struct gz_reload_status st;
	gz_reloader_status(rq->http->reloader, &st);
	json_t *j = json_pack("{s:o, s:s, s:I, s:o, s:f}", "gazetteers", list,
			      "hash", gz_set_hash(set),
			      "generation", (json_int_t)st.generation,
			      "loaded_at", iso_time(gz_set_loaded_at(set)),
			      "load_seconds", gz_set_load_seconds(set));
	gz_set_unref(set);
	return gz_http_send_json(c, rq, MHD_HTTP_OK, j, NULL);
}

enum MHD_Result gz_route_entity(struct MHD_Connection *c, struct request *rq,
				const char *id)
{
	struct gz_set *set = gz_reloader_acquire(rq->http->reloader);
	if (!set)
		return gz_http_send_not_ready(c, rq);
	const struct gz_entry *e = gz_set_find(set, id);
	enum MHD_Result ret;
	if (e) {
		ret = gz_http_send_json(c, rq, MHD_HTTP_OK, gz_json_entry(e), NULL);
	} else {
		json_t *j = gz_json_error("not_found", "no entity with id '%.200s'", id);
		json_object_set_new(json_object_get(j, "error"), "id", json_string(id));
		ret = gz_http_send_json(c, rq, MHD_HTTP_NOT_FOUND, j, NULL);
	}
	gz_set_unref(set);
	return ret;
}

/* GET /lookup?text=Paris: every entry whose names fold to the text, in the
 * order the tagger would rank them, with the form and where it is written
 * (SPEC §8.6). */
enum MHD_Result gz_route_lookup(struct MHD_Connection *c, struct request *rq)
{
	const char *text = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "text");
	if (!text || !*text)
		return gz_http_send_error(c, rq, MHD_HTTP_BAD_REQUEST, "bad_parameter",
					  "missing query parameter 'text' (GET /lookup?text=Paris)");
	size_t bad;
	if (gz_utf8_validate(text, strlen(text), &bad) != 0) {
		json_t *j = gz_json_error("invalid_utf8", "invalid UTF-8 in 'text' at byte %zu", bad);
		json_object_set_new(json_object_get(j, "error"), "offset", json_integer((json_int_t)bad));
		return gz_http_send_json(c, rq, MHD_HTTP_BAD_REQUEST, j, NULL);
	}
	struct gz_set *set = gz_reloader_acquire(rq->http->reloader);
	if (!set)
		return gz_http_send_not_ready(c, rq);
	json_t *j = gz_json_lookup(set, text);
	gz_set_unref(set);
	if (!j)
		return gz_http_send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
					  "out of memory");
	return gz_http_send_json(c, rq, MHD_HTTP_OK, j, NULL);
}

/* GET /: the page to paste an article and see it tagged (daemon/web/). */
enum MHD_Result gz_route_page(struct MHD_Connection *c, struct request *rq)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		gz_web_page_len, (void *)gz_web_page, MHD_RESPMEM_PERSISTENT);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
	MHD_add_response_header(r, "Content-Security-Policy", gz_web_csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	rq->responded = 1;
	rq->status = MHD_HTTP_OK;
	return ret;
}

/* GET /metrics: the Prometheus text exposition (daemon/metrics.c). */
enum MHD_Result gz_route_metrics(struct MHD_Connection *c, struct request *rq)
{
	struct gz_buf b = { 0 };
	if (gz_metrics_write(rq->http->metrics, rq->http->reloader, &b)) {
		free(b.data);
		return gz_http_send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
					  "out of memory while writing the metrics");
	}
	return gz_http_send_buffer(c, rq, MHD_HTTP_OK, b.data, b.len, GZ_METRICS_CONTENT_TYPE, NULL);
}

static int token_ok(struct MHD_Connection *c, const char *token)
{
	if (!token)
		return 1;
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
						       MHD_HTTP_HEADER_AUTHORIZATION);
	if (!auth || strncasecmp(auth, "Bearer ", 7))
		return 0;
	auth += 7;
	size_t n = strlen(token), m = strlen(auth);
	unsigned char diff = n != m;
	for (size_t i = 0; i < n && i < m; i++) /* no early exit: no timing hint */
		diff |= (unsigned char)(token[i] ^ auth[i]);
	return !diff;
}

/* POST /reload waits for the outcome of its build with its connection
 * suspended: the worker thread goes on serving its other connections, and
 * the reloader's thread resumes this one when the build has ended. */
struct reload_wait {
	struct gz_reload_waiter w; /* first: reload_done casts back */
	struct MHD_Connection *c;
};

static void reload_done(struct gz_reload_waiter *w)
{
	MHD_resume_connection(((struct reload_wait *)w)->c);
}

void gz_route_reload_wait_free(struct reload_wait *rw)
{
	if (rw) {
		gz_reload_outcome_clear(&rw->w.outcome);
		free(rw);
	}
}

static enum MHD_Result answer_reload(struct MHD_Connection *c, struct request *rq,
				     const struct gz_reload_outcome *o)
{
	json_t *j;
	unsigned status = MHD_HTTP_OK;
	if (o->cancelled) {
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
		j = gz_json_error("shutting_down", "gaztagd is stopping; nothing was reloaded");
	} else if (o->rc) {
		char buf[1200];
		status = MHD_HTTP_UNPROCESSABLE_CONTENT;
		j = gz_json_error("reload_failed", "%s", gz_error_format(&o->err, buf, sizeof(buf)));
		json_t *errors = json_array();
		for (size_t i = 0; i < o->diag.count; i++)
			json_array_append_new(errors, json_string(o->diag.lines[i]));
		json_object_set_new(json_object_get(j, "error"), "errors", errors);
		json_object_set_new(json_object_get(j, "error"), "generation",
				    json_integer((json_int_t)o->generation));
	} else {
		j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f, s:s}", "status", "ok",
			      "entries", (json_int_t)o->entries, "names", (json_int_t)o->names,
			      "files", (json_int_t)o->files,
			      "generation", (json_int_t)o->generation, "seconds", o->seconds,
			      "gazetteers", o->hash);
	}
	return gz_http_send_json(c, rq, status, j, NULL);
}

enum MHD_Result gz_route_reload(struct MHD_Connection *c, struct request *rq)
{
	if (rq->reload) /* resumed: the build has ended */
		return answer_reload(c, rq, &rq->reload->w.outcome);
	if (rq->http->reload_refused)
		return gz_http_send_error(c, rq, MHD_HTTP_FORBIDDEN, "reload_disabled",
					  "POST /reload is off: gaztagd listens on a non-loopback address "
					  "and no reload_token is set (set one in the config file)");
	if (!token_ok(c, rq->http->reload_token))
		return gz_http_send_error(c, rq, MHD_HTTP_UNAUTHORIZED, "unauthorized",
					  "POST /reload needs 'Authorization: Bearer <reload_token>'");
	struct reload_wait *rw = calloc(1, sizeof(*rw));
	if (!rw)
		return gz_http_send_error(c, rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal_error",
					  "out of memory");
	rw->c = c;
	rw->w.done = reload_done;
	rq->reload = rw;
	/* Suspended before asking: the build may end before this returns. */
	MHD_suspend_connection(c);
	if (gz_reloader_request(rq->http->reloader, GZ_RELOAD_HTTP, &rw->w)) {
		rw->w.outcome.cancelled = 1; /* the reloader has stopped */
		MHD_resume_connection(c);
	}
	return MHD_YES;
}
