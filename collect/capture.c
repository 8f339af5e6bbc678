// SPDX-License-Identifier: GPL-2.0
/*
 * collect/capture.c - the capture driver of record and live (capture.h).
 *
 * The thread that reads the rings must never wait for the disk or for
 * deflate: a ring the reader does not empty in time loses events.  So the
 * output is written in the background (ds_trace_set_background(): the trace
 * writer's own thread sorts, packs and compresses), and the reader only
 * copies each merged event into a batch.  Under a workload that keeps both
 * CPUs busy the writer gets too little CPU to deflate as fast as events come
 * (hackbench -p -g 2 -f 20 on 2 CPUs: its 64k-event queue filled within a
 * second and the reader waited up to 136 ms per 2 s for it, enough for a
 * 4 MiB ring to overflow), so its queue is a spool of 1/SPOOL_MEM_SHARE of
 * the free memory: the backlog waits in the heap and is compressed when the
 * burst is over, at the latest after capture.
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "common/run-command.h"
#include "collect/capture.h"
#include "collect/collect-local.h"
#include "collect/workload.h"

struct col_capture {
	struct col_capture_opts o;
	struct col_session *s;
	struct ds_trace_writer *w;
	struct ds_trace_meta meta;
	struct col_capture_result r;
	uint64_t *lost_marked;		/* nr_cpus */
	uint64_t *lost;			/* nr_cpus */
	pid_t child;
	struct col_workload *wl;
	int ran;
	int close_failed;		/* the session was closed early and left something */
	uint32_t events;
	enum col_backend backend;
	struct col_ring_choice ring;	/* the session's, kept after it is closed */
	uint64_t spool_bytes;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* only to cut the wait for trace data short when the workload exits */
static void on_sigchld(int sig)
{
}

/* the writer's spool (see above) takes at most this share of MemAvailable */
#define SPOOL_MEM_SHARE 8

/* die() and other exits still remove the private instance */
static struct col_session *open_session;

static void close_session_at_exit(void)
{
	col_session_close(open_session);
	open_session = NULL;
}

/* ---- thread groups ----------------------------------------------------------- */

/*
 * Thread groups of the tasks alive now, from /proc/PID/task/TID: the events
 * do not say which threads belong together.  Read at the start and at the
 * end, which covers every task but threads that lived only in between.  In a
 * child pid namespace /proc numbers tasks differently from the kernel's
 * events, so nothing is recorded there.
 */
static void note_tgids(struct ds_trace_writer *w)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen("/proc/self/status", "re");
	DIR *proc, *task;
	struct dirent *p, *t;
	int nested = 1;

	while (fp && strbuf_getline(&sb, fp) != EOF) {
		int outer, inner;

		if (!strncmp(sb.buf, "NSpid:", 6)) {
			/* one pid: the initial namespace; two or more: nested */
			nested = sscanf(sb.buf + 6, "%d %d", &outer, &inner) != 1;
			break;
		}
	}
	if (fp)
		fclose(fp);
	strbuf_release(&sb);
	if (nested)
		return;
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((p = readdir(proc))) {
		int tgid = atoi(p->d_name);
		char path[64];

		if (tgid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", tgid);
		task = opendir(path);
		if (!task)
			continue;	/* gone meanwhile */
		while ((t = readdir(task)))
			if (atoi(t->d_name) > 0)
				ds_trace_set_tgid(w, atoi(t->d_name), tgid);
		closedir(task);
	}
	closedir(proc);
}

/* ---- the driver -------------------------------------------------------------- */

/* the capture of session s, which it owns from here */
static struct col_capture *capture_open(const struct col_capture_opts *opts,
					struct col_session *s)
{
	struct col_capture *c = xcalloc(1, sizeof(*c));
	struct ds_trace_meta *m = &c->meta;
	struct sigaction sa;
	struct utsname uts;

	c->o = *opts;
	c->s = s;
	c->child = -1;
	c->r.nr_cpus = col_session_nr_cpus(s);
	c->lost_marked = xcalloc((size_t)c->r.nr_cpus, sizeof(*c->lost_marked));
	c->lost = xcalloc((size_t)c->r.nr_cpus, sizeof(*c->lost));
	c->r.lost = c->lost;
	c->events = col_session_events(s);
	c->backend = s->opts.backend;
	c->ring = *col_session_ring_choice(s);
	c->spool_bytes = opts->spool_bytes ? opts->spool_bytes :
			 col_mem_available() / SPOOL_MEM_SHARE;

	snprintf(m->source, sizeof(m->source), "%s", col_session_source(s));
	snprintf(m->clock, sizeof(m->clock), "%s", col_session_clock(s));
	if (!uname(&uts)) {
		snprintf(m->kernel_release, sizeof(m->kernel_release), "%s", uts.release);
		snprintf(m->hostname, sizeof(m->hostname), "%s", uts.nodename);
	}
	m->nr_cpus = c->r.nr_cpus;
	m->events_recorded = col_session_events(s);
	if (opts->command_line)
		snprintf(m->command_line, sizeof(m->command_line), "%s", opts->command_line);
	if (opts->output) {
		c->w = ds_trace_create(opts->output, m);
		if (!c->w) {
			col_capture_close(c);
			return NULL;
		}
		ds_trace_set_compression(c->w, opts->compress);
	}

	if (opts->command) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigchld;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGCHLD, &sa, NULL);
	}
	return c;
}

struct col_capture *col_capture_open(const struct col_capture_opts *opts)
{
	struct col_opts so = opts->session;
	struct col_session *s;
	static int registered;

	/*
	 * Stop cleanly on these: the loop sees the flag and closes a valid
	 * file.  Caught before the session opens, whose rate probe takes
	 * 100 ms: a signal meanwhile ends the capture as soon as it starts.
	 */
	stop_signal = 0;
	catch_stop_signals(on_signal);
	if (opts->opened)
		return capture_open(opts, opts->opened);
	so.workload_follows = opts->command || opts->builtin_workload;
	s = col_session_open(&so);
	if (!s)
		return NULL;
	if (!registered++)
		atexit(close_session_at_exit);
	open_session = s;
	return capture_open(opts, s);
}

int col_capture_nr_cpus(const struct col_capture *c)
{
	return c->r.nr_cpus;
}

uint32_t col_capture_events(const struct col_capture *c)
{
	return c->events;
}

const char *col_capture_backend(const struct col_capture *c)
{
	return c->backend == COL_BACKEND_PERF ? "perf" : "tracefs";
}

const struct col_ring_choice *col_capture_ring_choice(const struct col_capture *c)
{
	return &c->ring;
}

uint64_t col_capture_now(const struct col_capture *c)
{
	return col_session_now(c->s);
}

uint64_t col_capture_lost(const struct col_capture *c)
{
	uint64_t n = 0;

	if (!c->s)
		return c->r.lost_total;
	for (int cpu = 0; cpu < c->r.nr_cpus; cpu++)
		n += SC_MAX(col_session_lost(c->s, cpu), c->lost_marked[cpu]);
	return n;
}

const struct col_capture_result *col_capture_result(const struct col_capture *c)
{
	return &c->r;
}

static int on_merged(const struct ds_event *ev, void *ctx)
{
	struct col_capture *c = ctx;

	if (ev->type == DS_EV_LOST && ev->cpu >= 0 && ev->cpu < c->r.nr_cpus && ev->state > 0)
		c->lost_marked[ev->cpu] += (uint64_t)ev->state;
	if (c->w && ds_trace_write(c->w, ev)) {
		/* message printed: stop (record), or go on without the trace (live) */
		ds_trace_writer_abort(c->w);
		c->w = NULL;
		c->r.trace_failed = 1;
		if (!c->o.keep_going)
			return -1;
		warning("the trace %s is lost; going on without it", c->o.output);
	}
	return c->o.on_event ? c->o.on_event(ev, c->o.ctx) : 0;
}

static int start_workload(struct col_capture *c)
{
	if (c->o.builtin_workload) {
		struct col_workload_opts wo = { .seed = 1 };

		c->wl = col_workload_start(&wo);
		if (!c->wl)
			return -1;
	} else if (c->o.command) {
		struct child_process cp = CHILD_PROCESS_INIT;

		strvec_pushv(&cp.args, (const char *const *)c->o.command);
		cp.default_signals = 1;
		cp.stdout_to_stderr = c->o.command_stdout_to_stderr;
		c->child = start_command(&cp) ? -1 : cp.pid;
		child_process_clear(&cp);
		if (c->child < 0)
			return -1;
	} else {
		return 0;
	}
	c->r.workload_started = 1;
	return 0;
}

/* 1 when the workload has ended by itself (reaped) */
static int workload_ended(struct col_capture *c)
{
	if (c->child > 0 && waitpid(c->child, &c->r.workload_status, WNOHANG) == c->child) {
		c->child = -1;
		return 1;
	}
	if (c->wl && col_workload_done(c->wl))
		return 1;
	return 0;
}

static void end_workload(struct col_capture *c)
{
	if (c->child > 0) {
		/* the capture ended first (duration, signal, error): end it too */
		if (waitpid(c->child, &c->r.workload_status, WNOHANG) != c->child) {
			kill(c->child, SIGTERM);
			waitpid(c->child, &c->r.workload_status, 0);
		}
		c->child = -1;
	}
	if (c->wl) {
		col_workload_finish(c->wl, NULL);
		c->wl = NULL;
	}
}

static void close_session(struct col_capture *c)
{
	if (!c->s)
		return;
	c->close_failed = col_session_close(c->s) != 0;
	if (open_session == c->s)
		open_session = NULL;
	c->s = NULL;
}

static int drain(struct col_capture *c)
{
	for (;;) {
		int n = col_session_poll(c->s, 0, on_merged, c);

		if (n <= 0)
			return n;
	}
}

int col_capture_run(struct col_capture *c)
{
	uint64_t deadline = 0;
	int ret = 0;

	if (c->ran++)
		return error("the capture has run already");
	/* before tracing is on: no event recorded is older than the start */
	c->meta.start_ns = col_session_now(c->s);
	if (col_session_start(c->s))
		return -1;
	if (c->w) {
		note_tgids(c->w);
		/* sorting, packing and deflate on another core than the reading of the rings */
		ds_trace_set_background(c->w, c->spool_bytes);
	}
	if (c->o.duration_ns)
		deadline = c->meta.start_ns + c->o.duration_ns;
	if (start_workload(c)) {
		ret = -1;
		goto out;
	}
	if (c->o.realtime) {
		/* the workload (already started) keeps its policy; later forks of ours reset */
		struct sched_param sp = { .sched_priority = c->o.realtime };

		if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp)) {
			error_errno("cannot run at SCHED_FIFO priority %d", c->o.realtime);
			ret = -1;
			goto out;
		}
	}
	if (c->o.on_start)
		c->o.on_start(c, c->o.ctx);

	while (!stop_signal) {
		int timeout = 100;

		if (deadline) {
			uint64_t now = col_session_now(c->s);

			if (now >= deadline)
				break;
			timeout = (int)SC_MIN((uint64_t)timeout,
					      (deadline - now) / NSEC_PER_MSEC + 1);
		}
		if (workload_ended(c)) {
			c->r.workload_exited = 1;
			break;
		}
		if (col_session_poll(c->s, timeout, on_merged, c) < 0) {
			ret = -1;
			goto out;
		}
		if (c->o.on_tick)
			c->o.on_tick(c, c->o.ctx);
	}
	c->meta.end_ns = col_session_now(c->s);
	if (col_session_stop(c->s) || drain(c) < 0) {
		ret = -1;
		goto out;
	}
	c->r.stop_signal = stop_signal;
	c->r.decode_errors = col_session_decode_errors(c->s);
	c->ring = *col_session_ring_choice(c->s);

	/* tracefs reports ring overruns only at stop: count what had no marker */
	for (int cpu = 0; cpu < c->r.nr_cpus; cpu++) {
		c->lost[cpu] = SC_MAX(col_session_lost(c->s, cpu), c->lost_marked[cpu]);
		c->r.lost_total += c->lost[cpu];
	}
	/* nothing left to capture: the instance and its buffers go before the file is written */
	close_session(c);
out:
	if (c->w && ret) {
		ds_trace_writer_abort(c->w);
		c->w = NULL;
	}
	if (c->w)
		note_tgids(c->w);	/* the workload's threads, while it still runs */
	end_workload(c);
	if (c->w) {
		ds_trace_spool_stats(c->w, &c->r.spool);
		for (int cpu = 0; cpu < c->r.nr_cpus; cpu++)
			if (c->lost[cpu] > c->lost_marked[cpu])
				ds_trace_add_lost(c->w, cpu, c->lost[cpu] - c->lost_marked[cpu]);
		c->meta.decode_errors = c->r.decode_errors;
		ds_trace_meta_update(c->w, &c->meta);
		if (ds_trace_writer_close(c->w, &c->r.meta)) {
			c->r.trace_failed = 1;
			if (!c->o.keep_going)
				ret = -1;
		}
		c->w = NULL;
	}
	if (!c->o.output || c->r.trace_failed)
		c->r.meta = c->meta;
	return ret;
}

int col_capture_close(struct col_capture *c)
{
	int ret;

	if (!c)
		return 0;
	end_workload(c);
	if (c->w)
		ds_trace_writer_abort(c->w);
	close_session(c);
	ret = c->close_failed ? -1 : 0;
	free(c->lost_marked);
	free(c->lost);
	free(c);
	return ret;
}
