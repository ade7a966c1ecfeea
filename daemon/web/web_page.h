/*
 * The page served at GET /, embedded at build time: daemon/web/index.html
 * turned into a C array by daemon/web/embed.py (a meson custom_target), so
 * gaztagd needs no file at run time.  gz_web_csp is the
 * Content-Security-Policy to send with it: it allows the page's one inline
 * <style> and one inline <script> by their SHA-256 hashes, and fetches to
 * the daemon itself, nothing else.
 */
#ifndef GZ_WEB_PAGE_H
#define GZ_WEB_PAGE_H

#include <stddef.h>

/* The page's bytes (UTF-8 HTML), NUL-terminated; gz_web_page_len leaves the
 * NUL out. */
extern const char gz_web_page[];
extern const size_t gz_web_page_len;

/* The Content-Security-Policy header value for the page. */
extern const char gz_web_csp[];

#endif
