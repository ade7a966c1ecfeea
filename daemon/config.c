/*
 * The config file and the value parsers behind it and the flags.
 *
 * The file is small and written by an operator, so it is read with libyaml's
 * document loader (a node tree with marks) rather than the event parser the
 * gazetteer loader needs for its size.  Every key is checked: an unknown key
 * or a value of the wrong type stops the start with FILE:LINE:COL, because a
 * typo silently ignored (`max_body_byte: 1MiB`) is a limit that is not there.
 * Anchors and aliases are refused as in gazetteers.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

/* ------------------------------------------------------------------ */
/* defaults and lifetime                                               */
/* ------------------------------------------------------------------ */

void gz_config_init(struct gz_config *c)
{
	memset(c, 0, sizeof(*c));
	c->listen = strdup(GZ_DEFAULT_LISTEN);
	const char *g = GZ_DEFAULT_GAZETTEERS;
	gz_config_set_gazetteers(c, &g, 1);
	c->threads = 0;
	c->max_body_bytes = GZ_DEFAULT_MAX_BODY_BYTES;
	c->max_connections = GZ_DEFAULT_MAX_CONNECTIONS;
	c->connection_timeout = GZ_DEFAULT_CONNECTION_TIMEOUT;
	c->log_level = GZ_LOG_INFO;
	c->watch = 1;
}

/* Gazetteer paths are shown wherever an entry or a problem is (/gazetteers,
 * /entities, /lookup, /health's reload errors, every FILE:LINE:COL line of
 * --check), so each is tidied once, here, as it enters the config: repeated
 * slashes, "." components and a trailing slash go, and "DIR/.." folds away
 * (config/../gazetteers -> gazetteers).  Lexically, not with realpath: a
 * relative path stays relative and a link the operator chose stays in the
 * name.  "DIR/.." is folded only when lstat finds DIR a directory and not a
 * symbolic link, since through a link ".." is the parent of the link's
 * target: a path that named a file still names that file. */
static char *normalise(const char *p)
{
	size_t n = strlen(p);
	if (n == 0)
		return strdup(p); /* not "."; an empty path stays an error */
	char *out = malloc(n + 2);
	if (!out)
		return NULL;
	size_t o = 0, fixed = 0; /* out[0..fixed): the root and ".." that stay */
	if (p[0] == '/') {
		out[o++] = '/';
		fixed = 1;
	}
	for (const char *s = p; *s;) {
		while (*s == '/')
			s++;
		if (!*s)
			break;
		size_t k = strcspn(s, "/");
		const char *c = s;
		s += k;
		if (k == 1 && c[0] == '.')
			continue;
		if (k == 2 && c[0] == '.' && c[1] == '.' && o > fixed) {
			struct stat st;
			out[o] = 0;
			if (lstat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
				while (o > fixed && out[o - 1] != '/')
					o--;
				if (o > fixed)
					o--; /* the slash before the dropped component */
				continue;
			}
		}
		if (o > 0 && out[o - 1] != '/')
			out[o++] = '/';
		memcpy(out + o, c, k);
		o += k;
		if (k == 2 && c[0] == '.' && c[1] == '.')
			fixed = o;
	}
	if (o == 0)
		out[o++] = '.';
	out[o] = 0;
	return out;
}

static void free_list(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

void gz_config_free(struct gz_config *c)
{
	free(c->listen);
	free_list(c->gazetteers, c->gazetteer_count);
	free(c->reload_token);
	free(c->user);
	free(c->cache);
	free(c->path);
	memset(c, 0, sizeof(*c));
}

int gz_config_set_gazetteers(struct gz_config *c, const char *const *paths,
			     size_t n)
{
	char **list = calloc(n ? n : 1, sizeof(*list));
	if (!list)
		return GZ_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!(list[i] = normalise(paths[i]))) {
			free_list(list, i);
			return GZ_ENOMEM;
		}
	}
	free_list(c->gazetteers, c->gazetteer_count);
	c->gazetteers = list;
	c->gazetteer_count = n;
	return 0;
}

int gz_config_set_listen(struct gz_config *c, const char *listen,
			 struct gz_error *err)
{
	char host[256];
	unsigned port;
	int rc = gz_listen_parse(listen, host, sizeof(host), &port, err);
	if (rc)
		return rc;
	char *s = strdup(listen);
	if (!s)
		return gz_error_set(err, GZ_ENOMEM, "out of memory");
	free(c->listen);
	c->listen = s;
	return 0;
}

unsigned gz_config_threads(const struct gz_config *c)
{
	if (c->threads)
		return c->threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* ------------------------------------------------------------------ */
/* value parsers                                                       */
/* ------------------------------------------------------------------ */

int gz_uint_parse(const char *s, unsigned long long min,
		  unsigned long long max, unsigned long long *out)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return GZ_EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return GZ_EINVAL;
	*out = v;
	return 0;
}

int gz_size_parse(const char *s, size_t *out)
{
	if (!s || !isdigit((unsigned char)s[0]))
		return GZ_EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return GZ_EINVAL;
	while (*end == ' ')
		end++;
	unsigned shift = 0;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': shift = 10; break;
		case 'M': shift = 20; break;
		case 'G': shift = 30; break;
		default: return GZ_EINVAL;
		}
		end++;
		if (strcmp(end, "") && strcmp(end, "iB") && strcmp(end, "B") &&
		    strcmp(end, "ib") && strcmp(end, "b"))
			return GZ_EINVAL;
	}
	if (v > (SIZE_MAX >> shift) || v == 0)
		return GZ_EINVAL;
	*out = (size_t)(v << shift);
	return 0;
}

int gz_listen_parse(const char *s, char *host, size_t host_size,
		    unsigned *port, struct gz_error *err)
{
	const char *colon, *h = s;
	size_t hlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			goto bad;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen)) /* a bare IPv6 address needs brackets */
			goto bad;
	}
	unsigned long long p;
	if (hlen == 0 || hlen >= host_size || gz_uint_parse(colon + 1, 0, 65535, &p))
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port = (unsigned)p;
	return 0;
bad:
	return gz_error_set(err, GZ_EINVAL,
			    "bad listen address '%s' (expected HOST:PORT, "
			    "e.g. 127.0.0.1:7700 or [::1]:7700)", s);
}

/* ------------------------------------------------------------------ */
/* the YAML file                                                       */
/* ------------------------------------------------------------------ */

struct loader {
	yaml_document_t *doc;
	const char *path;
	struct gz_error *err;
};

static int node_error(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int node_error(struct loader *l, const yaml_node_t *n, const char *fmt, ...)
{
	struct gz_error *err = l->err;
	if (!err)
		return GZ_ELOAD;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->code = GZ_ELOAD;
	snprintf(err->file, sizeof(err->file), "%s", l->path);
	err->line = n ? (int)n->start_mark.line + 1 : 1;
	err->column = n ? (int)n->start_mark.column + 1 : 1;
	return GZ_ELOAD;
}

static int is_null(const yaml_node_t *v)
{
	if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *s = (const char *)v->data.scalar.value;
	return !strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null");
}

static int scalar(struct loader *l, const char *key, const yaml_node_t *v,
		  const char **out)
{
	if (v->type != YAML_SCALAR_NODE)
		return node_error(l, v, "'%s' must be a single value, not a %s", key,
				  v->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
	*out = (const char *)v->data.scalar.value;
	return 0;
}

static int uint_value(struct loader *l, const char *key, const yaml_node_t *v,
		      unsigned long long min, unsigned long long max, unsigned *out)
{
	const char *s = NULL;
	unsigned long long n;
	int rc = scalar(l, key, v, &s);
	if (rc)
		return rc;
	if (gz_uint_parse(s, min, max, &n))
		return node_error(l, v, "'%s' must be a whole number from %llu to %llu, not '%s'",
				  key, min, max, s);
	*out = (unsigned)n;
	return 0;
}

static int string_value(struct loader *l, const char *key, const yaml_node_t *v,
			char **out)
{
	const char *s = NULL;
	int rc = scalar(l, key, v, &s);
	if (rc)
		return rc;
	free(*out);
	*out = NULL;
	if (is_null(v))
		return 0;
	if (!(*out = strdup(s)))
		return gz_error_set(l->err, GZ_ENOMEM, "out of memory");
	return 0;
}

/* A path from the file is relative to the file's directory; normalised. */
static char *resolve(const char *config_path, const char *p)
{
	if (p[0] == '/')
		return normalise(p);
	const char *slash = strrchr(config_path, '/');
	if (!slash)
		return normalise(p);
	size_t dlen = (size_t)(slash - config_path);
	size_t n = dlen + 1 + strlen(p) + 1;
	char *joined = malloc(n);
	if (!joined)
		return NULL;
	snprintf(joined, n, "%.*s/%s", (int)dlen, config_path, p);
	char *out = normalise(joined);
	free(joined);
	return out;
}

static int gazetteers_value(struct loader *l, struct gz_config *c,
			    const yaml_node_t *v)
{
	const yaml_node_item_t *items = NULL;
	size_t n = 1;
	if (v->type == YAML_SEQUENCE_NODE) {
		items = v->data.sequence.items.start;
		n = (size_t)(v->data.sequence.items.top - items);
	} else if (v->type != YAML_SCALAR_NODE || is_null(v)) {
		return node_error(l, v, "'gazetteers' must be a list of paths");
	}
	char **list = calloc(n ? n : 1, sizeof(*list));
	if (!list)
		return gz_error_set(l->err, GZ_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const yaml_node_t *item = items ? yaml_document_get_node(l->doc, items[i]) : v;
		if (item->type != YAML_SCALAR_NODE || is_null(item)) {
			free_list(list, i);
			return node_error(l, item, "each gazetteer path must be a string");
		}
		if (!(list[i] = resolve(l->path, (const char *)item->data.scalar.value))) {
			free_list(list, i);
			return gz_error_set(l->err, GZ_ENOMEM, "out of memory");
		}
	}
	free_list(c->gazetteers, c->gazetteer_count);
	c->gazetteers = list;
	c->gazetteer_count = n;
	return 0;
}

static int bool_value(struct loader *l, const char *key, const yaml_node_t *v,
		      int *out)
{
	const char *s = NULL;
	int rc = scalar(l, key, v, &s);
	if (rc)
		return rc;
	if (!strcmp(s, "true"))
		*out = 1;
	else if (!strcmp(s, "false"))
		*out = 0;
	else
		return node_error(l, v, "'%s' must be true or false, not '%s'", key, s);
	return 0;
}

static int set_key(struct loader *l, struct gz_config *c, const char *key,
		   const yaml_node_t *v)
{
	const char *s = NULL;
	int rc;
	if (!strcmp(key, "listen")) {
		if ((rc = scalar(l, key, v, &s)))
			return rc;
		struct gz_error e = {0};
		if (gz_config_set_listen(c, s, &e))
			return node_error(l, v, "%s", e.message);
		return 0;
	}
	if (!strcmp(key, "gazetteers"))
		return gazetteers_value(l, c, v);
	if (!strcmp(key, "threads"))
		return uint_value(l, key, v, 0, 1024, &c->threads);
	if (!strcmp(key, "max_connections"))
		return uint_value(l, key, v, 1, 1000000, &c->max_connections);
	if (!strcmp(key, "connection_timeout"))
		return uint_value(l, key, v, 1, 86400, &c->connection_timeout);
	if (!strcmp(key, "max_body_bytes")) {
		if ((rc = scalar(l, key, v, &s)))
			return rc;
		if (gz_size_parse(s, &c->max_body_bytes))
			return node_error(l, v, "'max_body_bytes' must be a positive size "
					  "such as 16777216 or 16MiB, not '%s'", s);
		return 0;
	}
	if (!strcmp(key, "log_level")) {
		if ((rc = scalar(l, key, v, &s)))
			return rc;
		struct gz_error e = {0};
		if (gz_log_level_parse(s, &c->log_level, &e))
			return node_error(l, v, "%s", e.message);
		return 0;
	}
	if (!strcmp(key, "reload_token"))
		return string_value(l, key, v, &c->reload_token);
	if (!strcmp(key, "user"))
		return string_value(l, key, v, &c->user);
	if (!strcmp(key, "watch"))
		return bool_value(l, key, v, &c->watch);
	if (!strcmp(key, "cache")) {
		if ((rc = string_value(l, key, v, &c->cache)) || !c->cache)
			return rc;
		char *dir = resolve(l->path, c->cache);
		free(c->cache);
		if (!(c->cache = dir))
			return gz_error_set(l->err, GZ_ENOMEM, "out of memory");
		return 0;
	}
	return -1;
}

static int load_document(struct loader *l, struct gz_config *c)
{
	const yaml_node_t *root = yaml_document_get_root_node(l->doc);
	if (!root)
		return 0; /* an empty file: every default */
	if (root->type != YAML_MAPPING_NODE) {
		if (is_null(root))
			return 0;
		return node_error(l, root, "the config file must be a mapping of keys to values");
	}
	for (const yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(l->doc, p->value);
		if (k->type != YAML_SCALAR_NODE)
			return node_error(l, k, "a key must be a plain name");
		const char *key = (const char *)k->data.scalar.value;
		int rc = set_key(l, c, key, v);
		if (rc == -1)
			return node_error(l, k, "unknown key '%s' (expected listen, gazetteers, "
					  "threads, max_body_bytes, max_connections, "
					  "connection_timeout, log_level, reload_token, watch, user, "
					  "cache)",
					  key);
		if (rc)
			return rc;
	}
	return 0;
}

/* The document loader resolves aliases silently, so they are found with a
 * first pass over the events. */
static int refuse_anchors(FILE *f, const char *path, struct gz_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, done = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	while (!done && !rc) {
		if (!yaml_parser_parse(&parser, &ev))
			break; /* the loader reports syntax errors with their marks */
		const char *anchor = NULL;
		if (ev.type == YAML_ALIAS_EVENT)
			anchor = "*";
		else if ((ev.type == YAML_SCALAR_EVENT && ev.data.scalar.anchor) ||
			 (ev.type == YAML_SEQUENCE_START_EVENT && ev.data.sequence_start.anchor) ||
			 (ev.type == YAML_MAPPING_START_EVENT && ev.data.mapping_start.anchor))
			anchor = "&";
		if (anchor) {
			if (err) {
				snprintf(err->file, sizeof(err->file), "%s", path);
				err->line = (int)ev.start_mark.line + 1;
				err->column = (int)ev.start_mark.column + 1;
			}
			rc = gz_error_set(err, GZ_ELOAD,
					  "YAML anchors and aliases are not allowed");
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	return rc;
}

int gz_config_load(struct gz_config *c, const char *path, struct gz_error *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (err)
			err->file[0] = '\0';
		return gz_error_set(err, GZ_EIO, "cannot read config file %s: %s", path,
				    strerror(errno));
	}
	int rc = refuse_anchors(f, path, err);
	if (rc) {
		fclose(f);
		return rc;
	}
	rewind(f);

	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		if (err) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			err->line = (int)parser.problem_mark.line + 1;
			err->column = (int)parser.problem_mark.column + 1;
		}
		rc = gz_error_set(err, GZ_ELOAD, "YAML syntax error: %s%s%s",
				  parser.problem ? parser.problem : "unknown problem",
				  parser.context ? " " : "",
				  parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		fclose(f);
		return rc;
	}
	struct loader l = { &doc, path, err };
	rc = load_document(&l, c);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	if (!rc) {
		free(c->path);
		c->path = strdup(path);
	}
	return rc;
}
