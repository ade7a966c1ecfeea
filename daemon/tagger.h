/*
 * The tagger: text + gazetteer set -> entity spans (SPEC §3).  A gz_tagger
 * holds the scratch buffers of one thread; it is not shared between threads,
 * and it is reused from request to request so that the hot path allocates
 * nothing once the buffers have grown to the size of the largest text.
 */
#ifndef GZ_TAGGER_H
#define GZ_TAGGER_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "set.h"

enum gz_overlaps { GZ_OVERLAPS_LONGEST, GZ_OVERLAPS_ALL };
enum gz_offsets { GZ_OFFSETS_CODEPOINT, GZ_OFFSETS_UTF16, GZ_OFFSETS_BYTE };

#define GZ_MAX_TYPES 64

struct gz_tag_options {
	enum gz_overlaps overlaps;
	enum gz_offsets offsets;
	/* Type filter: type names, comma-separated ("person,place"), or NULL/""
	 * for every type.  Resolved against the set by gz_tagger_run. */
	const char *types;
	/* explain=true: say why each span's entry was chosen (SPEC §8.6) */
	int explain;
};

void gz_tag_options_init(struct gz_tag_options *o);
/* Parse an option value as given on a query string or in JSON; GZ_EINVAL
 * with a message naming the value and the allowed ones. */
int gz_overlaps_parse(const char *s, enum gz_overlaps *out, struct gz_error *err);
int gz_offsets_parse(const char *s, enum gz_offsets *out, struct gz_error *err);
const char *gz_offsets_name(enum gz_offsets o);
const char *gz_overlaps_name(enum gz_overlaps o);

/* The rule that chose a span's entry among its candidates (SPEC §8.4-8.6). */
enum gz_why {
	GZ_WHY_ONLY,       /* the one candidate that can match there */
	GZ_WHY_PRIORITY,   /* the best by priority, then load order */
	GZ_WHY_QUALIFIER,  /* named by the span after it: "Paris, Texas" */
	GZ_WHY_SUPPORT,    /* its country or admin1 is the text's */
	GZ_WHY_NAME_PART,  /* the last name of a person named in full before */
};
const char *gz_why_name(enum gz_why why);

#define GZ_SUPPORT_MAX 8   /* supporting entries kept per span */

struct gz_span {
	size_t start, end;        /* in the unit the options asked for */
	size_t byte_start, byte_end;
	const struct gz_entry *entry;              /* the chosen candidate */
	const struct gz_entry *const *alternatives; /* the others, best first */
	size_t alternative_count;
	enum gz_why why;
	const struct gz_entry *qualifier;          /* GZ_WHY_QUALIFIER: the qualifying span's entry */
	const struct gz_entry *const *support;     /* GZ_WHY_SUPPORT: entries of the supporting spans */
	size_t support_count;
};

struct gz_tagger;

struct gz_tagger *gz_tagger_new(void);
void gz_tagger_free(struct gz_tagger *t);

/* Tags text[0..len) against set.  Returns 0, GZ_EUTF8 (err->offset is the
 * byte offset of the first invalid byte), GZ_EINVAL (an unknown type in the
 * filter) or GZ_ENOMEM.  The spans stay valid until the next run on t, and
 * point into set, which the caller must keep referenced meanwhile. */
int gz_tagger_run(struct gz_tagger *t, const struct gz_set *set,
		  const char *text, size_t len, const struct gz_tag_options *opts,
		  struct gz_error *err);
size_t gz_tagger_span_count(const struct gz_tagger *t);
/* Whether the last run asked for explanations (options' explain). */
int gz_tagger_explained(const struct gz_tagger *t);
const struct gz_span *gz_tagger_spans(const struct gz_tagger *t);
/* The content hash (gz_set_hash) of the set the last run tagged against,
 * the answer's "gazetteers": it lives as long as the spans.  NULL before
 * the first run. */
const char *gz_tagger_gazetteers(const struct gz_tagger *t);

#endif
