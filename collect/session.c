// SPDX-License-Identifier: GPL-2.0
/*
 * collect/session.c - the capture session, whatever the backend: CPU sets,
 * per-CPU queues, the timestamp-ordered merge and lost-event accounting.
 * The backends (tracefs.c, perf.c) only fill the per-CPU queues.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <traceevent/event-parse.h>
#include <tracefs/tracefs.h>

#include "common/common.h"
#include "collect/collect-local.h"

/* ---- helpers for the backends ------------------------------------------------ */

static int bit_test(const uint64_t *mask, int cpu)
{
	return (mask[cpu / 64] >> (cpu % 64)) & 1;
}

/* online CPUs as a bitmap; returns the highest online CPU + 1, or -1 */
static int col_online_cpus(uint64_t *mask, int max_cpus)
{
	FILE *fp = fopen("/sys/devices/system/cpu/online", "r");
	struct strbuf sb = STRBUF_INIT;
	int n = -1;

	memset(mask, 0, (size_t)(max_cpus + 63) / 64 * sizeof(*mask));
	if (fp && strbuf_getline(&sb, fp) == 0 && parse_cpulist(sb.buf, mask, max_cpus) == 0) {
		for (int c = max_cpus - 1; c >= 0; c--) {
			if (bit_test(mask, c)) {
				n = c + 1;
				break;
			}
		}
	}
	if (fp)
		fclose(fp);
	strbuf_release(&sb);
	if (n < 0) {
		/* no sysfs: trust sysconf */
		long nr = sysconf(_SC_NPROCESSORS_ONLN);

		if (nr < 1 || nr > max_cpus)
			return error("cannot tell which CPUs are online");
		for (int c = 0; c < nr; c++)
			mask[c / 64] |= 1ULL << (c % 64);
		n = (int)nr;
	}
	return n;
}

const char *col_tracing_dir(void)
{
	const char *dir;

	/* finds tracefs in /proc/mounts, mounting it when it is not there (cached) */
	errno = 0;
	dir = tracefs_tracing_dir();
	if (!dir) {
		int err = errno;

		if (geteuid() != 0) {
			error("recording needs root: tracefs is not mounted and only root can mount it");
			errno = EACCES;
		} else {
			error("tracefs is not mounted and cannot be mounted (mount -t tracefs nodev "
			      "/sys/kernel/tracing): %s", strerror(err));
			errno = err ? err : ENODEV;
		}
		return NULL;
	}
	if (access(dir, R_OK | W_OK | X_OK)) {
		int err = errno;

		if (err == EACCES || err == EPERM)
			error("recording needs root: no permission on tracefs at '%s'", dir);
		else
			error("cannot use tracefs at '%s': %s", dir, strerror(err));
		errno = err;
		return NULL;
	}
	return dir;
}

/* the queues hold a power of two slots: an index wraps with a mask */
struct tep_handle *col_sched_formats(const char *tracing_dir)
{
	struct tep_handle *tep = tep_alloc();
	int nr = 0;

	if (!tep) {
		errno = ENOMEM;
		return NULL;
	}
	for (int t = 0; t < DS_EV_LOST; t++) {
		char *path = xstrfmt("%s/events/sched/%s/format", tracing_dir,
				     ds_event_type_name(t));
		FILE *fp = fopen(path, "re");
		struct strbuf sb = STRBUF_INIT;
		char buf[4096];
		size_t n;

		free(path);
		if (!fp)
			continue;	/* not in this kernel */
		while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
			strbuf_add(&sb, buf, n);
		if (!ferror(fp) && sb.len && tep_parse_event(tep, sb.buf, sb.len, "sched") == 0)
			nr++;
		fclose(fp);
		strbuf_release(&sb);
	}
	if (!nr) {
		tep_free(tep);
		errno = ENOENT;
		return NULL;
	}
	return tep;
}

static void q_grow(struct col_cpu *c)
{
	size_t n = c->alloc ? c->alloc * 2 : 1024;
	struct ds_event *q = xmallocarray(n, sizeof(*q));

	/* unwrap the ring into the new array */
	for (size_t i = 0; i < c->nr; i++)
		q[i] = c->q[(c->head + i) & (c->alloc - 1)];
	free(c->q);
	c->q = q;
	c->head = 0;
	c->alloc = n;
}

void col_cpu_push(struct col_session *s, int cpu, const struct ds_event *ev)
{
	struct col_cpu *c = &s->cpus[cpu];

	if (c->nr == c->alloc)
		q_grow(c);
	c->q[(c->head + c->nr) & (c->alloc - 1)] = *ev;
	c->nr++;
	if (ev->ts > c->last_ts)
		c->last_ts = ev->ts;
}

void col_cpu_lost(struct col_session *s, int cpu, uint64_t ts, uint64_t n)
{
	struct col_cpu *c = &s->cpus[cpu];
	struct ds_event ev;

	/* the marker may not go before what this CPU already delivered */
	ds_event_init(&ev, DS_EV_LOST, SC_MAX(ts, c->last_ts), cpu);
	ev.state = (int64_t)n;
	col_cpu_push(s, cpu, &ev);
	c->lost_marked += n;
	if (c->lost < c->lost_marked)
		c->lost = c->lost_marked;
}

void col_cpu_set_lost(struct col_session *s, int cpu, uint64_t total)
{
	if (cpu >= 0 && cpu < s->nr_cpus && total > s->cpus[cpu].lost)
		s->cpus[cpu].lost = total;
}

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* ---- the session ------------------------------------------------------------- */

uint64_t col_mem_available(void)
{
	FILE *fp = fopen("/proc/meminfo", "re");
	unsigned long long kb = 0;
	char line[128];

	while (fp && fgets(line, sizeof(line), fp))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (fp)
		fclose(fp);
	return (uint64_t)kb * 1024;
}

/*
 * ring_size - the ring per CPU for a rate of bytes_per_s on the busiest CPU,
 * nr_active CPUs and mem_available bytes free (0: unknown, then only
 * COL_RING_MAX bounds it), in whole MiB; *why and *bound say which limit
 * decided (COL_RING_LEAST, COL_RING_RATE or COL_RING_MEMORY) and the bound.
 */
static uint64_t ring_size(uint64_t bytes_per_s, int nr_active, uint64_t mem_available,
			  enum col_ring_why *why, uint64_t *bound)
{
	const uint64_t mib = 1ULL << 20;
	uint64_t want, max = COL_RING_MAX;

	if (mem_available && nr_active > 0)
		max = SC_MIN(max, mem_available / COL_RING_MEM_SHARE / (uint64_t)nr_active);
	max = SC_MAX(max & ~(mib - 1), COL_RING_MIN);
	*bound = max;
	/* no overflow: 2^64 bytes a second is not a rate */
	want = bytes_per_s / 1000 * COL_RING_STRETCH_MS;
	want = (want + mib - 1) & ~(mib - 1);
	if (want <= COL_RING_MIN) {
		*why = COL_RING_LEAST;
		return COL_RING_MIN;
	}
	if (want > max) {
		*why = COL_RING_MEMORY;
		return max;
	}
	*why = COL_RING_RATE;
	return want;
}

/* ring_floor - the least ring per CPU when a workload follows (collect.h) */
static uint64_t ring_floor(int nr_active, uint64_t mem_available)
{
	uint64_t size;

	if (!mem_available || nr_active < 1)
		return COL_RING_MIN;
	size = mem_available / COL_RING_FLOOR_SHARE / (uint64_t)nr_active;
	size = SC_MAX(COL_RING_MIN, SC_MIN(size, COL_RING_FLOOR_MAX));
	return size & ~((1ULL << 20) - 1);
}

void col_session_choose_ring(struct col_session *s, const uint64_t *bytes,
			     const uint64_t *events, uint64_t window_ns)
{
	struct col_ring_choice *r = &s->ring;
	uint64_t size, avail, per_s = 0, ev_per_s = 0;
	int nr_active = 0;

	if (r->why != COL_RING_PENDING)
		return;
	if (!window_ns)
		window_ns = 1;
	for (int c = 0; c < s->nr_cpus; c++) {
		uint64_t b, e;

		if (!s->cpus[c].active)
			continue;
		nr_active++;
		/* in doubles: bytes * 1e9 overflows past 18 GB */
		b = (uint64_t)((double)bytes[c] * 1e9 / (double)window_ns);
		e = (uint64_t)((double)events[c] * 1e9 / (double)window_ns);
		if (b > per_s) {
			per_s = b;
			ev_per_s = e;
		}
	}
	avail = s->mem_available ? s->mem_available : col_mem_available();
	size = ring_size(per_s, nr_active, avail, &r->why, &r->bound);
	r->bytes_per_s = per_s;
	r->events_per_s = ev_per_s;
	r->window_ns = window_ns;
	r->floor = ring_floor(nr_active, avail);
	if (s->opts.workload_follows && size < r->floor) {
		/* the probe could not see it: no less than the free memory's share */
		size = r->floor;
		r->why = COL_RING_FLOOR;
	}
	s->opts.buffer_size = r->size = size;
}

struct col_session *col_session_open(const struct col_opts *opts)
{
	struct col_session *s = xcalloc(1, sizeof(*s));
	uint64_t online[COL_MAX_CPUS / 64];
	int nr_online, any = 0;

	s->opts = *opts;
	s->opts.cpu_mask = NULL;
	switch (opts->backend) {
	case COL_BACKEND_TRACEFS:
		s->ops = &col_tracefs_ops;
		break;
	case COL_BACKEND_PERF:
		s->ops = &col_perf_ops;
		break;
	default:
		free(s);
		errno = EINVAL;
		error("unknown capture backend %d", (int)opts->backend);
		return NULL;
	}
	if (opts->instance)
		snprintf(s->instance_name, sizeof(s->instance_name), "%s", opts->instance);
	else
		snprintf(s->instance_name, sizeof(s->instance_name), "schedcast-%d", (int)getpid());

	nr_online = col_online_cpus(online, COL_MAX_CPUS);
	if (nr_online < 0) {
		free(s);
		errno = ENODEV;
		return NULL;
	}
	s->nr_cpus = nr_online;
	s->cpus = xcalloc((size_t)s->nr_cpus, sizeof(*s->cpus));
	for (int c = 0; c < s->nr_cpus; c++) {
		s->cpus[c].cpu = c;
		s->cpus[c].active = bit_test(online, c) &&
				    (!opts->cpu_mask || bit_test(opts->cpu_mask, c));
		any |= s->cpus[c].active;
		if (s->cpus[c].active)
			s->cpu_mask[c / 64] |= 1ULL << (c % 64);
	}
	if (!any) {
		free(s->cpus);
		free(s);
		errno = EINVAL;
		error("none of the chosen CPUs is online");
		return NULL;
	}
	if (!s->opts.buffer_size) {
		/* the backend's open probes the rate (col_session_choose_ring) */
		s->ring.why = COL_RING_PENDING;
		s->opts.buffer_size = COL_RING_MIN;
	} else {
		s->ring.why = COL_RING_GIVEN;
	}
	s->ring.size = s->opts.buffer_size;
	if (s->ops->open(s)) {
		int err = errno;

		s->ops->close(s);
		col_decoder_free(s->dec);
		free(s->cpus);
		free(s);
		errno = err ? err : EIO;
		return NULL;
	}
	return s;
}

int col_session_start(struct col_session *s)
{
	if (s->started)
		return 0;
	if (s->ops->start(s))
		return -1;
	s->started = 1;
	return 0;
}

/*
 * The k-way merge: repeatedly take the oldest head among the CPU queues
 * while it is no newer than the watermark.  A linear scan over the CPUs per
 * event: k is the number of CPUs captured, small next to the events per poll.
 */
static int emit(struct col_session *s, uint64_t watermark, col_event_fn cb, void *ctx)
{
	int n = 0;

	for (;;) {
		struct col_cpu *best = NULL;
		const struct ds_event *ev;
		int ret;

		for (int c = 0; c < s->nr_cpus; c++) {
			struct col_cpu *cpu = &s->cpus[c];

			if (!cpu->nr)
				continue;
			if (!best || cpu->q[cpu->head].ts < best->q[best->head].ts)
				best = cpu;
		}
		if (!best || best->q[best->head].ts > watermark)
			return n;
		/* the callback sees the queue's slot: it may not push (it runs between reads) */
		ev = &best->q[best->head];
		best->head = (best->head + 1) & (best->alloc - 1);
		best->nr--;
		ret = cb(ev, ctx);
		if (ret < 0)
			return ret;
		if (n < INT_MAX)
			n++;
	}
}

int col_session_poll(struct col_session *s, int timeout_ms, col_event_fn cb, void *ctx)
{
	uint64_t watermark = UINT64_MAX, read_start;

	if (!s->started)
		return error("capture session polled before it was started");
	if (!s->stopped && timeout_ms != 0 && s->ops->wait(s, timeout_ms))
		return -1;
	/* anything stamped before this (less the slack) and not read yet is lost in flight */
	read_start = mono_now();
	if (s->ops->read(s) < 0)
		return -1;
	if (!s->stopped) {
		for (int c = 0; c < s->nr_cpus; c++) {
			struct col_cpu *cpu = &s->cpus[c];
			uint64_t bound = cpu->last_ts;

			if (!cpu->active)
				continue;
			if (cpu->drained && read_start > COL_MERGE_SLACK_NS)
				bound = SC_MAX(bound, read_start - COL_MERGE_SLACK_NS);
			watermark = SC_MIN(watermark, bound);
		}
	}
	return emit(s, watermark, cb, ctx);
}

int col_session_stop(struct col_session *s)
{
	if (!s->started || s->stopped)
		return 0;
	s->stopped = 1;
	return s->ops->stop(s);
}

int col_session_close(struct col_session *s)
{
	int ret;

	if (!s)
		return 0;
	if (s->started && !s->stopped) {
		s->stopped = 1;
		s->ops->stop(s);
	}
	ret = s->ops->close(s);
	col_decoder_free(s->dec);
	for (int c = 0; c < s->nr_cpus; c++)
		free(s->cpus[c].q);
	free(s->cpus);
	free(s);
	return ret;
}

int col_session_nr_cpus(const struct col_session *s)
{
	return s->nr_cpus;
}

uint64_t col_session_lost(const struct col_session *s, int cpu)
{
	if (cpu < 0 || cpu >= s->nr_cpus)
		return 0;
	return s->cpus[cpu].lost;
}

uint32_t col_session_events(const struct col_session *s)
{
	return s->events;
}

const char *col_session_source(const struct col_session *s)
{
	return s->ops->source;
}

const char *col_session_clock(const struct col_session *s)
{
	return "mono";
}

const struct col_ring_choice *col_session_ring_choice(const struct col_session *s)
{
	return &s->ring;
}

uint64_t col_session_decode_errors(const struct col_session *s)
{
	return s->decode_errors;
}

uint64_t col_session_now(const struct col_session *s)
{
	return mono_now();
}

int col_session_wanted(struct col_session *s)
{
	uint32_t have = col_decoder_events(s->dec);
	uint32_t want = s->opts.events & DS_EV_ALL_SCHED;

	if (!s->opts.events) {
		/* all the kernel has: an old kernel without sched_waking still records */
		s->events = have & DS_EV_ALL_SCHED;
		return 0;
	}

	for (int t = 0; t < DS_EV_LOST; t++) {
		if ((want & DS_EV_BIT(t)) && !(have & DS_EV_BIT(t))) {
			errno = ENOENT;
			return error("this kernel has no usable sched/%s event", ds_event_type_name(t));
		}
	}
	s->events = want;
	return 0;
}
