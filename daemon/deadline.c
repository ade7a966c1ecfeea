/*
 * Request deadlines (see deadline.h for the rules and why).
 *
 * The connections are a doubly linked list under one mutex; the checker
 * walks it every GZ_DEADLINE_TICK_MS.  The worker threads touch the list
 * only to open and close a connection; the per-request state (phase, phase
 * start, body bytes) is atomics that the workers write without the lock
 * and the checker reads.  A walk over thousands of connections four times a
 * second costs microseconds; one mutex round trip per connection costs
 * nothing next to accept(2) and close(2).
 */
#include "deadline.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "log.h"

/* ------------------------------------------------------------------ */
/* types                                                               */
/* ------------------------------------------------------------------ */

#define GZ_DEADLINE_TICK_MS 250

enum phase { PH_HEADERS, PH_BODY, PH_HANDLED };

struct gz_deadline {
	struct gz_deadline *prev, *next;
	int fd;
	int cut;                       /* shut down already; under the lock */
	atomic_int phase;
	atomic_llong since_ms;         /* the start of the phase */
	atomic_ullong received;        /* body bytes of this request */
};

struct gz_deadlines {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int stopping;
	long long timeout_ms;
	struct gz_deadline *head;
	atomic_ulong cut;
};

/* ------------------------------------------------------------------ */
/* private helpers                                                     */
/* ------------------------------------------------------------------ */

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_phase(struct gz_deadline *d, enum phase p)
{
	atomic_store(&d->since_ms, now_ms());
	atomic_store(&d->received, 0);
	atomic_store(&d->phase, p);
}

/* Whether d is past its deadline at `now`. */
static int expired(const struct gz_deadlines *ds, struct gz_deadline *d, long long now)
{
	/* The phase first: set_phase stores it last, so a new phase is never
	 * read with the start of the old one. */
	enum phase p = atomic_load(&d->phase);
	long long since = atomic_load(&d->since_ms);
	switch (p) {
	case PH_HEADERS:
		return now - since > ds->timeout_ms;
	case PH_BODY:
		return now - since > ds->timeout_ms +
			(long long)(atomic_load(&d->received) * 1000 / GZ_DEADLINE_MIN_RATE);
	default:
		return 0;
	}
}

static void *checker(void *arg)
{
	struct gz_deadlines *ds = arg;
	pthread_mutex_lock(&ds->lock);
	while (!ds->stopping) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += GZ_DEADLINE_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		int rc = pthread_cond_timedwait(&ds->wake, &ds->lock, &ts);
		if (ds->stopping || (rc && rc != ETIMEDOUT))
			continue;
		long long now = now_ms();
		unsigned long n = 0;
		for (struct gz_deadline *d = ds->head; d; d = d->next) {
			if (d->cut || !expired(ds, d, now))
				continue;
			/* Bytes waiting unread: the worker is behind, not the
			 * client (a loaded machine); look again next tick. */
			int unread = 0;
			if (ioctl(d->fd, FIONREAD, &unread) == 0 && unread > 0)
				continue;
			/* The socket is still open: libmicrohttpd closes it only
			 * after gz_deadline_close, which needs this lock. */
			shutdown(d->fd, SHUT_RDWR);
			d->cut = 1;
			n++;
		}
		if (n) {
			atomic_fetch_add(&ds->cut, n);
			gz_log(GZ_LOG_DEBUG, "cut %lu connection%s too slow to send a request "
			       "(connection_timeout)", n, n == 1 ? "" : "s");
		}
	}
	pthread_mutex_unlock(&ds->lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* API implementation                                                  */
/* ------------------------------------------------------------------ */

struct gz_deadlines *gz_deadlines_start(unsigned timeout_seconds)
{
	struct gz_deadlines *ds = calloc(1, sizeof(*ds));
	if (!ds)
		return NULL;
	ds->timeout_ms = (long long)timeout_seconds * 1000;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&ds->lock, NULL);
	pthread_cond_init(&ds->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&ds->thread, NULL, checker, ds)) {
		pthread_cond_destroy(&ds->wake);
		pthread_mutex_destroy(&ds->lock);
		free(ds);
		return NULL;
	}
	return ds;
}

void gz_deadlines_stop(struct gz_deadlines *ds)
{
	if (!ds)
		return;
	pthread_mutex_lock(&ds->lock);
	ds->stopping = 1;
	pthread_cond_signal(&ds->wake);
	pthread_mutex_unlock(&ds->lock);
	pthread_join(ds->thread, NULL);
	/* libmicrohttpd has closed every connection; free any it did not
	 * report (none, but a leak here would outlive nothing anyway). */
	while (ds->head) {
		struct gz_deadline *d = ds->head;
		ds->head = d->next;
		free(d);
	}
	pthread_cond_destroy(&ds->wake);
	pthread_mutex_destroy(&ds->lock);
	free(ds);
}

struct gz_deadline *gz_deadline_open(struct gz_deadlines *ds, int fd)
{
	struct gz_deadline *d = calloc(1, sizeof(*d));
	if (!d || !ds)
		return free(d), NULL;
	d->fd = fd;
	set_phase(d, PH_HEADERS);
	pthread_mutex_lock(&ds->lock);
	d->next = ds->head;
	if (ds->head)
		ds->head->prev = d;
	ds->head = d;
	pthread_mutex_unlock(&ds->lock);
	return d;
}

void gz_deadline_close(struct gz_deadlines *ds, struct gz_deadline *d)
{
	if (!d || !ds)
		return;
	pthread_mutex_lock(&ds->lock);
	if (d->prev)
		d->prev->next = d->next;
	else
		ds->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	pthread_mutex_unlock(&ds->lock);
	free(d);
}

void gz_deadline_headers(struct gz_deadline *d)
{
	if (d)
		set_phase(d, PH_BODY);
}

void gz_deadline_body(struct gz_deadline *d, size_t n)
{
	if (d)
		atomic_fetch_add(&d->received, n);
}

void gz_deadline_handled(struct gz_deadline *d)
{
	if (d)
		atomic_store(&d->phase, PH_HANDLED);
}

void gz_deadline_next(struct gz_deadline *d)
{
	if (d)
		set_phase(d, PH_HEADERS);
}

unsigned long gz_deadlines_cut(struct gz_deadlines *ds)
{
	return ds ? atomic_load(&ds->cut) : 0;
}
