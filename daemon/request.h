/*
 * Request bodies of POST /tag, apart from HTTP: a JSON object with "text"
 * and options, and NDJSON, one such object per line; and the input layer
 * that reads a text as its request asks (plain text, or an HTML page whose
 * text html.c extracts) and turns the tagger's spans into the answer.
 * Kept out of http.c so that the fuzzers, tests and --tag drive exactly the
 * code the daemon runs, without libmicrohttpd.  The tagger itself only ever
 * sees plain text.
 */
#ifndef GZ_REQUEST_H
#define GZ_REQUEST_H

#include <jansson.h>
#include <stddef.h>

#include "json.h"
#include "set.h"
#include "tagger.h"

/* How the text of a request is read. */
enum gz_format {
	GZ_FORMAT_TEXT,   /* plain UTF-8 text, tagged as it is */
	GZ_FORMAT_HTML,   /* an HTML page: its text content is tagged (html.h) */
};

/* What a request (POST /tag, an NDJSON line, --tag) asks: the tagger's
 * options, and what only the input layer reads. */
struct gz_request_options {
	struct gz_tag_options tag;
	enum gz_format format;
	int annotate;   /* HTML: the page back with each span in a <mark> */
};

void gz_request_options_init(struct gz_request_options *o);

/* The options of struct gz_request_options, in one table that the query
 * string, JSON bodies and NDJSON lines, and the command line all read
 * through: the same names, values and error messages everywhere. */
enum gz_option_kind {
	GZ_OPTION_CHOICE,  /* one of values: a string (JSON), an argument (command line) */
	GZ_OPTION_BOOL,    /* true or false (JSON: a boolean); a flag on the command line */
	GZ_OPTION_TYPES,   /* type names, "a,b" (JSON: a list too, or null) */
};

struct gz_option {
	const char *name;
	enum gz_option_kind kind;
	const char *const *values;  /* CHOICE: NULL-terminated, in the order of its enum */
	int field;                  /* which field it sets (request.c) */
};

/* Every option, in the order messages list them; the last has name NULL. */
extern const struct gz_option gz_options[];

/* The option called name, or NULL. */
const struct gz_option *gz_option_find(const char *name);
/* "types, overlaps, offsets, explain, format or annotate", for messages. */
void gz_option_names(char *buf, size_t size);
/* Sets o in opts from value as text (a query parameter, a command-line
 * argument; "true" or "false" for a bool).  The types list is copied into
 * *owned (freed and replaced; the caller frees it), or, with owned NULL,
 * pointed at: value must then outlive opts.  Returns 0, GZ_EINVAL ("bad
 * value 'x' for overlaps (expected longest or all)") or GZ_ENOMEM. */
int gz_option_set(const struct gz_option *o, const char *value, struct gz_request_options *opts,
		  char **owned, struct gz_error *err);
/* The same from a JSON value: GZ_EINVAL also for a value of the wrong JSON
 * type ("'explain' must be true or false"). */
int gz_option_set_json(const struct gz_option *o, json_t *v, struct gz_request_options *opts,
		       char **owned, struct gz_error *err);

/* Parses one JSON request object: its text and options (over *opts).
 * Returns 0, or -1 with *error the JSON error object to answer (new
 * reference).  *root keeps the text alive: the caller json_decrefs it, and
 * frees *types_buf, the joined "a,b" types list, either way. */
int gz_request_parse_json(const char *buf, size_t len, int allow_id, json_t **root,
			  const char **text, size_t *text_len, struct gz_request_options *opts,
			  char **types_buf, json_t **error);

/* One text tagged as its request asks, ready to be written as the answer
 * of SPEC §4 (gz_json_answer_write on answer, in pieces).
 *
 * Plain text: the tagger's spans, as gz_tagger_run leaves them.  HTML: the
 * page's text is extracted (gz_html_extract, with its default budget) and
 * tagged with byte offsets; a copy of the spans is moved onto the page
 * (start/end in the unit asked for, "text" the page's own bytes, markup and
 * references included), and with annotate the page is written again with
 * each span in a <mark> ("html" in the answer).  The answer points into
 * text, t (alternatives, explanations) and the set: all three must outlive
 * it, and t must not run again meanwhile. */
struct gz_request_tagged {
	struct gz_json_answer answer;
	struct gz_span *spans;   /* HTML: the spans on the page, owned */
	struct gz_buf html;      /* annotate: the highlighted page */
};

/* Returns 0, GZ_EUTF8 (err->offset: the first invalid byte, in the page
 * for HTML too), GZ_EINVAL (an unknown type, annotate on plain text),
 * GZ_ECOMPLEX (a page over the HTML parser's budget) or GZ_ENOMEM.  *out is
 * for gz_request_tagged_free either way. */
int gz_request_tag(struct gz_tagger *t, const struct gz_set *set, const char *text,
		   size_t len, const struct gz_request_options *opts,
		   struct gz_request_tagged *out, struct gz_error *err);
void gz_request_tagged_free(struct gz_request_tagged *r);

/* Tags an NDJSON body: one answer line per non-blank input line, in order,
 * {"id":..,"entities":[..],"gazetteers":".."} (the set's gz_set_hash) or
 * {"id":..,"error":{..}}, appended to out.  Each line's options lie over
 * base; a line read as HTML (its "format" or base's) answers the same with
 * offsets into its text, and with annotate
 * {"id":..,"entities":[..],"gazetteers":"..","html":".."}.  A bad line never
 * fails the others.  on_tagged (may be NULL) is called
 * after each line tagged, with the text's length (for metrics).  Returns 0,
 * or GZ_ENOMEM. */
int gz_request_tag_ndjson(struct gz_tagger *t, const struct gz_set *set,
			  const struct gz_request_options *base, const char *body, size_t len,
			  struct gz_buf *out,
			  void (*on_tagged)(void *cls, const struct gz_tagger *t, size_t len),
			  void *cls);

/* The same, in pieces: tags the lines from body[*pos] on until out->len
 * reaches limit (whole lines: an answer line is never cut) or the body
 * ends, and moves *pos past them.  Returns 1 when the body is done, 0 when
 * lines are left, GZ_ENOMEM.  POST /tag streams its NDJSON answers this way. */
int gz_request_ndjson_next(struct gz_tagger *t, const struct gz_set *set,
			   const struct gz_request_options *base, const char *body, size_t len,
			   size_t *pos, struct gz_buf *out, size_t limit,
			   void (*on_tagged)(void *cls, const struct gz_tagger *t, size_t len),
			   void *cls);

/* The fast path of an NDJSON line: when line[0..n) is exactly a JSON
 * object of "text" (a string) and optionally "id" (an integer, a string
 * with no escapes, null, true or false), sets the decoded text (a slice of
 * line, or scratch's data when it had escapes) and the id's JSON text as
 * jansson would print it ("null" when absent), and returns 1.  Returns 0
 * for anything else, valid or not: gz_request_parse_json then decides. */
int gz_request_simple_line(const char *line, size_t n, struct gz_buf *scratch,
			   const char **text, size_t *text_len, const char **id, size_t *id_len);

#endif
