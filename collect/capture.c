// SPDX-License-Identifier: GPL-2.0
/*
 * collect/capture.c - the capture driver of record and live (capture.h).
 *
 * The thread that reads the rings must never wait for the disk or for
 * deflate: a ring the reader does not empty in time loses events.  So the
 * output is written by a second thread.  The reader hands it batches of
 * merged events through a bounded queue (CAP_BATCHES batches of CAP_BATCH
 * events); only when the writer is that far behind does the reader wait.
 * The writer thread is the only one that touches the trace writer (and so
 * HDF5) while it runs; everything else happens before it starts or after it
 * is joined.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
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

#define CAP_BATCH 4096		/* events handed to the writer at a time */
#define CAP_BATCHES 16		/* batches in flight: about 5.6 MB of events */

struct cap_batch {
	struct cap_batch *next;
	int n;
	struct ds_event ev[CAP_BATCH];
};

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

	/* the writer thread and its queue */
	pthread_t writer;
	int writer_running;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a batch was queued, freed, or the end came */
	struct cap_batch *full_head, *full_tail;	/* FIFO to the writer */
	struct cap_batch *free_list;
	struct cap_batch *cur;		/* being filled by the reader */
	int nr_allocated;
	int done;			/* no more batches will come */
	int write_failed;		/* set by the writer thread */
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

/* die() and other exits still remove the private instance */
static struct col_session *open_session;

static void close_session_at_exit(void)
{
	col_session_close(open_session);
	open_session = NULL;
}

/* ---- the writer thread ------------------------------------------------------- */

static void *writer_main(void *arg)
{
	struct col_capture *c = arg;
	int failed = 0;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct cap_batch *b;

		while (!c->full_head && !c->done)
			pthread_cond_wait(&c->cond, &c->lock);
		b = c->full_head;
		if (!b)
			break;		/* done and drained */
		c->full_head = b->next;
		if (!c->full_head)
			c->full_tail = NULL;
		pthread_mutex_unlock(&c->lock);

		for (int i = 0; i < b->n && !failed; i++)
			failed = ds_trace_write(c->w, &b->ev[i]) != 0;

		pthread_mutex_lock(&c->lock);
		if (failed)
			c->write_failed = 1;
		b->next = c->free_list;
		c->free_list = b;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

static int writer_start(struct col_capture *c)
{
	sigset_t all, old;
	int err;

	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	/* signals are for the reader's loop, never for the writer */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&c->writer, NULL, writer_main, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		errno = err;
		return error_errno("cannot start the trace writer thread");
	}
	c->writer_running = 1;
	return 0;
}

/* hand the current batch to the writer; take an empty one (waiting if need be) */
static void writer_push(struct col_capture *c)
{
	struct cap_batch *b = c->cur;

	pthread_mutex_lock(&c->lock);
	if (b && b->n) {
		b->next = NULL;
		if (c->full_tail)
			c->full_tail->next = b;
		else
			c->full_head = b;
		c->full_tail = b;
		b = NULL;
		pthread_cond_broadcast(&c->cond);
	}
	if (!b) {
		if (!c->free_list && c->nr_allocated < CAP_BATCHES) {
			c->nr_allocated++;
			pthread_mutex_unlock(&c->lock);
			b = xmalloc(sizeof(*b));
			pthread_mutex_lock(&c->lock);
		} else {
			while (!c->free_list)
				pthread_cond_wait(&c->cond, &c->lock);
			b = c->free_list;
			c->free_list = b->next;
		}
	}
	b->n = 0;
	c->cur = b;
	pthread_mutex_unlock(&c->lock);
}

static int writer_failed(struct col_capture *c)
{
	int failed;

	pthread_mutex_lock(&c->lock);
	failed = c->write_failed;
	pthread_mutex_unlock(&c->lock);
	return failed;
}

/* flush what is queued, wait for the writer; 0, or -1 if a write failed */
static int writer_finish(struct col_capture *c)
{
	struct cap_batch *b;

	if (!c->writer_running)
		return 0;
	if (c->cur && c->cur->n)
		writer_push(c);
	pthread_mutex_lock(&c->lock);
	c->done = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->writer, NULL);
	c->writer_running = 0;
	free(c->cur);
	c->cur = NULL;
	while ((b = c->free_list)) {
		c->free_list = b->next;
		free(b);
	}
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	return c->write_failed ? -1 : 0;
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

/* open with an already opened session (the unit tests' scripted backend) */
struct col_capture *col_capture_open_session(const struct col_capture_opts *opts,
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

	/* stop cleanly on these: the loop sees the flag and closes a valid file */
	stop_signal = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (opts->command) {
		sa.sa_handler = on_sigchld;
		sigaction(SIGCHLD, &sa, NULL);
	}
	return c;
}

struct col_capture *col_capture_open(const struct col_capture_opts *opts)
{
	struct col_session *s = col_session_open(&opts->session);
	static int registered;

	if (!s)
		return NULL;
	if (!registered++)
		atexit(close_session_at_exit);
	open_session = s;
	return col_capture_open_session(opts, s);
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
	if (c->w && !c->r.trace_failed) {
		if (c->cur->n == CAP_BATCH)
			writer_push(c);
		c->cur->ev[c->cur->n++] = *ev;
	}
	return c->o.on_event ? c->o.on_event(ev, c->o.ctx) : 0;
}

/* the writer failed: stop (record), or go on without the trace (live) */
static int check_writer(struct col_capture *c)
{
	if (!c->w || c->r.trace_failed || !writer_failed(c))
		return 0;
	c->r.trace_failed = 1;
	if (!c->o.keep_going)
		return -1;
	warning("the trace %s is lost; going on without it", c->o.output);
	return 0;
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
	if (col_session_start(c->s))
		return -1;
	c->meta.start_ns = col_session_now(c->s);
	if (c->w) {
		note_tgids(c->w);
		writer_push(c);		/* the first batch */
		if (writer_start(c))
			return -1;
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
		if (col_session_poll(c->s, timeout, on_merged, c) < 0 || check_writer(c)) {
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

	/* tracefs reports ring overruns only at stop: count what had no marker */
	for (int cpu = 0; cpu < c->r.nr_cpus; cpu++) {
		c->lost[cpu] = SC_MAX(col_session_lost(c->s, cpu), c->lost_marked[cpu]);
		c->r.lost_total += c->lost[cpu];
	}
	/* nothing left to capture: the instance and its buffers go before the file is written */
	close_session(c);
out:
	if (c->w && writer_finish(c) && !c->r.trace_failed) {
		c->r.trace_failed = 1;
		if (!c->o.keep_going)
			ret = -1;
	}
	if (c->w && (ret || c->r.trace_failed)) {
		ds_trace_writer_abort(c->w);
		c->w = NULL;
	}
	/* the writer thread is gone: the tasks table is ours; the workload still runs */
	if (c->w)
		note_tgids(c->w);
	end_workload(c);
	if (c->w) {
		for (int cpu = 0; cpu < c->r.nr_cpus; cpu++)
			if (c->lost[cpu] > c->lost_marked[cpu])
				ds_trace_add_lost(c->w, cpu, c->lost[cpu] - c->lost_marked[cpu]);
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
	writer_finish(c);
	if (c->w)
		ds_trace_writer_abort(c->w);
	close_session(c);
	ret = c->close_failed ? -1 : 0;
	free(c->lost_marked);
	free(c->lost);
	free(c);
	return ret;
}
