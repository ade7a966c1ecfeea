/*
 * The daemon's configuration: the YAML config file (config/gaztag.yaml
 * documents every key) and the command-line flags that override it, folded
 * into one struct gz_config.  The built-in defaults (gz_config_init) are the
 * values config/gaztag.yaml documents, so a daemon started without --config
 * behaves like one started with the shipped file from the repository root.
 *
 * The log level is a config key; logging itself is log.h's.
 */
#ifndef GZ_CONFIG_H
#define GZ_CONFIG_H

#include <stddef.h>

#include "error.h"
#include "log.h"

#define GZ_DEFAULT_LISTEN "127.0.0.1:7700"
#define GZ_DEFAULT_GAZETTEERS "gazetteers"
#define GZ_DEFAULT_MAX_BODY_BYTES ((size_t)16 << 20)
#define GZ_DEFAULT_MAX_CONNECTIONS 1000u
#define GZ_DEFAULT_CONNECTION_TIMEOUT 30u

struct gz_config {
	char *listen;              /* "HOST:PORT"; HOST may be [v6] */
	char **gazetteers;         /* paths, resolved against the config file's dir, normalised */
	size_t gazetteer_count;
	unsigned threads;          /* 0: one per online core */
	size_t max_body_bytes;
	unsigned max_connections;
	unsigned connection_timeout; /* seconds */
	enum gz_log_level log_level;
	char *reload_token;        /* NULL: POST /reload needs no token */
	int watch;                 /* reload when a gazetteer file changes (issue 5) */
	char *user;                /* started as root: run as this user after binding */
	char *cache;               /* snapshot cache directory (issue 15), resolved
				    * like the gazetteers; NULL: no cache */
	char *path;                /* the config file read, or NULL */
};

/* The built-in defaults. */
void gz_config_init(struct gz_config *c);
void gz_config_free(struct gz_config *c);

/* Reads the YAML config file at path over c's current values.  Errors are
 * GZ_EIO (unreadable) or GZ_ELOAD with err's file/line/column set, so that
 * gz_error_format gives "FILE:LINE:COL: message". */
int gz_config_load(struct gz_config *c, const char *path, struct gz_error *err);

/* Replaces the gazetteer list (what --gazetteers does: it replaces, never
 * adds).  Paths are relative to the working directory, normalised as the
 * file's are ("a/./b/" -> "a/b", "conf/../g" -> "g": see config.c). */
int gz_config_set_gazetteers(struct gz_config *c, const char *const *paths,
			     size_t n);
int gz_config_set_listen(struct gz_config *c, const char *listen,
			 struct gz_error *err);

/* Value parsers shared by the file and the flags; each names the bad value. */
int gz_listen_parse(const char *s, char *host, size_t host_size,
		    unsigned *port, struct gz_error *err);
int gz_uint_parse(const char *s, unsigned long long min,
		  unsigned long long max, unsigned long long *out);
/* A byte count: "16777216", "16MiB", "16M", "512k" (binary units). */
int gz_size_parse(const char *s, size_t *out);

/* The number of threads to run: c->threads, or the online cores for 0. */
unsigned gz_config_threads(const struct gz_config *c);

#endif
