/*
 * Request deadlines against slow clients (slowloris).
 *
 * libmicrohttpd's connection timeout is an idle timeout: every byte that
 * arrives restarts it, so a client that sends one header byte every second
 * holds a connection forever, and a few hundred of them fill
 * max_connections.  This module gives each request a deadline instead:
 *   - its headers must be in within `timeout` seconds of its start (the
 *     connection's opening, or the end of the previous request on it);
 *   - its body must then arrive within `timeout` seconds plus one second
 *     per GZ_DEADLINE_MIN_RATE bytes received (an average rate floor);
 *   - once the whole request is in, no deadline applies (a POST /reload
 *     waiting for its build, an answer being sent: the idle timeout does).
 * A thread checks the deadlines four times a second and cuts a connection
 * past its deadline with shutdown(2), which libmicrohttpd then sees as the
 * client going away and closes cleanly.
 *
 * The calls map onto libmicrohttpd's callbacks: open/close on the
 * connection notifications (close comes before libmicrohttpd closes the
 * socket, so the descriptor that the checker shuts down is never one that
 * was closed and reused), headers/body/handled from the access handler,
 * next from the request-completed notification.
 */
#ifndef GZ_DEADLINE_H
#define GZ_DEADLINE_H

#include <stddef.h>

/* The slowest average body rate allowed, in bytes per second. */
#define GZ_DEADLINE_MIN_RATE 1024

struct gz_deadlines;
struct gz_deadline;

/* Starts the checker thread; NULL when out of memory or threads. */
struct gz_deadlines *gz_deadlines_start(unsigned timeout_seconds);

/* Stops the checker.  Every connection must have been closed. */
void gz_deadlines_stop(struct gz_deadlines *ds);

/* A new connection on socket fd; NULL when out of memory (the connection
 * then has only the idle timeout). */
struct gz_deadline *gz_deadline_open(struct gz_deadlines *ds, int fd);
void gz_deadline_close(struct gz_deadlines *ds, struct gz_deadline *d);

/* The request's headers are in: its body phase begins. */
void gz_deadline_headers(struct gz_deadline *d);
/* n more body bytes came. */
void gz_deadline_body(struct gz_deadline *d, size_t n);
/* The whole request is in: no deadline until the next request. */
void gz_deadline_handled(struct gz_deadline *d);
/* The request has ended; the next one on this connection starts now. */
void gz_deadline_next(struct gz_deadline *d);

/* How many connections were cut so far. */
unsigned long gz_deadlines_cut(struct gz_deadlines *ds);

#endif
