// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in mixed workload (collect/workload.h): a leader forks one or two
 * processes per part, waits for the time limit, a signal or the parts' end,
 * then stops them and collects what they counted in a shared page.
 *
 * Every process here is started by common/run-command.c as a function child,
 * which leaves with _exit(): a forked child must never run the parent's
 * atexit handlers or its fatal-signal handler, which would remove the
 * parent's temporary output files (common/outfile.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "collect/workload.h"
#include "common/common.h"
#include "common/run-command.h"

/* ---- helpers every part uses --------------------------------------------------- */

static volatile sig_atomic_t wl_stop;

static void wl_stop_handler(int sig)
{
	wl_stop = 1;
}

/* splitmix64: small, seedable, good enough to vary work amounts */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* rng_range - uniform in [lo, hi] (hi >= lo) */
static uint64_t rng_range(uint64_t *s, uint64_t lo, uint64_t hi)
{
	return lo + rng_next(s) % (hi - lo + 1);
}

static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static volatile uint64_t burn_sink;

/*
 * burn - use ns of this task's own CPU time (not wall time: a burst that is
 * preempted still asks for the same amount of CPU), or less if told to stop.
 */
static void burn(uint64_t ns)
{
	uint64_t end = clock_ns(CLOCK_THREAD_CPUTIME_ID) + ns;
	uint64_t x = burn_sink;

	while (!wl_stop && clock_ns(CLOCK_THREAD_CPUTIME_ID) < end) {
		for (int i = 0; i < 512; i++)
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		burn_sink = x;
	}
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / NSEC_PER_SEC, .tv_nsec = ns % NSEC_PER_SEC };

	nanosleep(&ts, NULL);	/* EINTR: the caller checks wl_stop */
}

static void stat_add(uint64_t *p, uint64_t n)
{
	__atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

/* ---- the parts ------------------------------------------------------------------ */

struct wl_ctx {
	const struct col_workload_opts *o;
	struct col_workload_stats *st;	/* shared page */
	const sigset_t *orig_mask;
	int a2b[2], b2a[2];		/* the ping-pong pipes (ping to pong, back) */
};

/* wl_part - what a part's process runs; read in the child's copy of memory */
struct wl_part {
	int (*main)(struct wl_ctx *c, int index);
	struct wl_ctx *c;
	int index;
	pid_t parent;
	const sigset_t *mask;
	char comm[16];
};

/*
 * part_run - in a part's process: named comm (as the trace will show it),
 * dying with its parent, stopping on SIGINT/SIGTERM through wl_stop,
 * default dispositions for the signals main.c catches, then the part.
 */
static int part_run(void *data)
{
	struct wl_part *p = data;
	struct sigaction sa = { .sa_handler = wl_stop_handler };

	prctl(PR_SET_NAME, p->comm, 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() != p->parent)
		return 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: a blocked read returns EINTR */
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);	/* a partner gone is seen as EPIPE */
	signal(SIGCHLD, SIG_DFL);
	sigprocmask(SIG_SETMASK, p->mask, NULL);
	return p->main(p->c, p->index);
}

/* part_start - start main(c, index) as the process cp, named comm; 0 or -1 (printed) */
static int part_start(struct child_process *cp, const char *comm,
		      int (*main)(struct wl_ctx *c, int index), struct wl_ctx *c, int index,
		      const sigset_t *mask)
{
	struct wl_part p = { .main = main, .c = c, .index = index, .parent = getpid(),
			     .mask = mask };

	snprintf(p.comm, sizeof(p.comm), "%s", comm);
	child_process_init(cp);
	strvec_push(&cp->args, comm);
	cp->fn = part_run;
	cp->fn_data = &p;
	if (start_command(cp)) {
		child_process_clear(cp);
		return -1;
	}
	return 0;
}

static uint64_t part_seed(const struct col_workload_opts *o, int part, int index)
{
	uint64_t s = o->seed ^ ((uint64_t)part << 32) ^ (uint64_t)index * 0x51ed27;

	rng_next(&s);
	return s;
}

static int full_write(int fd, char c)
{
	ssize_t n;

	do
		n = write(fd, &c, 1);
	while (n < 0 && errno == EINTR && !wl_stop);
	return n == 1 ? 0 : -1;
}

static int full_read(int fd)
{
	ssize_t n;
	char c;

	do
		n = read(fd, &c, 1);
	while (n < 0 && errno == EINTR && !wl_stop);
	return n == 1 ? 0 : -1;
}

static uint64_t pingpong_work(const struct col_workload_opts *o, uint64_t *rng)
{
	int max_us = o->pingpong_work_us ? o->pingpong_work_us : 200;

	if (max_us < 0)
		return 0;
	return rng_range(rng, max_us < 20 ? 0 : 20, (uint64_t)max_us) * NSEC_PER_USEC;
}

/*
 * pingpong: "sc-ping" sends a byte, "sc-pong" answers; each works a little
 * per turn.  ping ends the exchange (closing its pipe) after o->rounds.
 */
static int ping_main(struct wl_ctx *c, int index)
{
	uint64_t rng = part_seed(c->o, 0, 0);

	close(c->a2b[0]);
	close(c->b2a[1]);
	for (uint64_t r = 0; !wl_stop && (!c->o->rounds || r < c->o->rounds); r++) {
		burn(pingpong_work(c->o, &rng));
		if (full_write(c->a2b[1], 'p') || full_read(c->b2a[0]))
			break;
		stat_add(&c->st->pingpong_rounds, 1);
	}
	return 0;
}

static int pong_main(struct wl_ctx *c, int index)
{
	uint64_t rng = part_seed(c->o, 0, 1);

	close(c->a2b[1]);
	close(c->b2a[0]);
	while (!wl_stop && !full_read(c->a2b[0])) {
		burn(pingpong_work(c->o, &rng));
		if (full_write(c->b2a[1], 'q'))
			break;
	}
	return 0;
}

static int start_pingpong(struct wl_ctx *c, struct child_process *parts)
{
	int ret;

	if (pipe(c->a2b))
		return error_errno("cannot create the ping-pong pipes");
	if (pipe(c->b2a)) {
		close(c->a2b[0]);
		close(c->a2b[1]);
		return error_errno("cannot create the ping-pong pipes");
	}
	ret = part_start(&parts[0], "sc-ping", ping_main, c, 0, c->orig_mask);
	if (!ret)
		ret = part_start(&parts[1], "sc-pong", pong_main, c, 1, c->orig_mask);
	close(c->a2b[0]);
	close(c->a2b[1]);
	close(c->b2a[0]);
	close(c->b2a[1]);
	return ret;
}

/* hogs: bursts of 2..20 ms of CPU; after one in four, a 0.1..2 ms sleep */
static int hog_main(struct wl_ctx *c, int index)
{
	uint64_t rng = part_seed(c->o, 1, index);

	while (!wl_stop) {
		burn(rng_range(&rng, 2000, 20000) * NSEC_PER_USEC);
		stat_add(&c->st->hog_bursts, 1);
		if (rng_range(&rng, 0, 3) == 0)
			sleep_ns(rng_range(&rng, 100, 2000) * NSEC_PER_USEC);
	}
	return 0;
}

/*
 * periodic: an absolute timer every period; each expiry does 50..300 us of
 * work (capped at half the period).  Lateness = when the task got to run
 * minus when it was due, which is what a latency-sensitive task suffers.
 */
static int periodic_main(struct wl_ctx *c, int index)
{
	uint64_t period = c->o->period_ns ? c->o->period_ns : 2 * NSEC_PER_MSEC;
	uint64_t rng = part_seed(c->o, 2, 0);
	uint64_t due = clock_ns(CLOCK_MONOTONIC) + period;
	uint64_t max_work = SC_MIN(300 * NSEC_PER_USEC, period / 2);

	while (!wl_stop) {
		struct timespec ts = { .tv_sec = due / NSEC_PER_SEC, .tv_nsec = due % NSEC_PER_SEC };
		uint64_t now, late;

		if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
			continue;	/* EINTR: wl_stop is checked */
		now = clock_ns(CLOCK_MONOTONIC);
		late = now > due ? now - due : 0;
		c->st->periodic_late_sum_ns += late;
		if (late > c->st->periodic_late_max_ns)
			c->st->periodic_late_max_ns = late;
		c->st->periodic_wakeups++;
		burn(rng_range(&rng, SC_MIN(50 * NSEC_PER_USEC, max_work), max_work));
		due += period;
		now = clock_ns(CLOCK_MONOTONIC);
		if (now > due) {
			/* skip the periods already gone rather than firing in a burst */
			uint64_t skip = (now - due) / period + 1;

			c->st->periodic_missed += skip;
			due += skip * period;
		}
	}
	return 0;
}

/* a short-lived "sc-child" of the forks part; data is its rng seed */
static int child_main(void *data)
{
	uint64_t *seed = data;

	prctl(PR_SET_NAME, "sc-child", 0, 0, 0);
	burn(rng_range(seed, 100, 2000) * NSEC_PER_USEC);
	if (rng_range(seed, 0, 1)) {
		sleep_ns(rng_range(seed, 100, 1000) * NSEC_PER_USEC);
		burn(rng_range(seed, 50, 500) * NSEC_PER_USEC);
	}
	return 0;
}

/*
 * forks: every 20..100 ms, fork 2..6 "sc-child" tasks that work 0.1..2 ms,
 * half of them sleep 0.1..1 ms and work 50..500 us more, and exit.
 */
static int forks_main(struct wl_ctx *c, int index)
{
	uint64_t rng = part_seed(c->o, 3, 0);

	while (!wl_stop) {
		int n = (int)rng_range(&rng, 2, 6), started = 0;

		sleep_ns(rng_range(&rng, 20, 100) * NSEC_PER_MSEC);
		if (wl_stop)
			break;
		for (int i = 0; i < n; i++) {
			uint64_t child_seed = rng_next(&rng);
			struct child_process cp = CHILD_PROCESS_INIT;

			strvec_push(&cp.args, "sc-child");
			cp.fn = child_main;
			cp.fn_data = &child_seed;
			if (!start_command(&cp))
				started++;	/* reaped below, by waitpid(-1) */
			child_process_clear(&cp);
		}
		while (started > 0) {
			if (waitpid(-1, NULL, 0) > 0)
				started--;
			else if (errno != EINTR)
				break;
		}
		stat_add(&c->st->forks, (uint64_t)n);
	}
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	return 0;
}

/* ---- the leader ------------------------------------------------------------------ */

static const char *const part_names[] = { "pingpong", "hogs", "periodic", "forks" };

int col_workload_parts_from_names(const char *names, unsigned *mask)
{
	char *copy = xstrdup(names), *save = NULL;
	unsigned m = 0;
	int ret = 0;

	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		unsigned bit = 0;

		if (!strcmp(t, "all"))
			bit = COL_WL_ALL;
		for (size_t i = 0; i < ARRAY_SIZE(part_names); i++)
			if (!strcmp(t, part_names[i]))
				bit = 1u << i;
		if (!bit) {
			ret = -1;
			break;
		}
		m |= bit;
	}
	free(copy);
	if (ret || !m)
		return -1;
	*mask = m;
	return 0;
}

static int online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)SC_MIN(n, 64) : 1;
}

#define WL_MAX_PIDS 72

/* reap - collect the parts that have exited; returns how many still run */
static int reap(struct child_process *parts, int n, int *failed)
{
	int alive = 0;

	for (int i = 0; i < n; i++) {
		if (parts[i].pid <= 0)
			continue;
		if (check_command(&parts[i]) == 1) {
			if (!WIFEXITED(parts[i].status) || WEXITSTATUS(parts[i].status))
				(*failed)++;
			child_process_clear(&parts[i]);
		} else {
			alive++;
		}
	}
	return alive;
}

int col_workload_run(const struct col_workload_opts *opts, struct col_workload_stats *stats)
{
	struct col_workload_opts o = *opts;
	struct col_workload_stats *st;
	sigset_t block, orig;
	struct child_process parts[WL_MAX_PIDS];
	int n = 0, failed = 0, ret = 0, signalled = 0;
	uint64_t start, deadline;
	struct wl_ctx c;

	if (!o.parts)
		o.parts = COL_WL_ALL;
	if (!o.hogs)
		o.hogs = online_cpus();
	if (o.hogs < 0 || o.hogs > 64)
		return error("bad number of CPU hogs %d (1..64)", o.hogs);
	for (int i = 0; i < WL_MAX_PIDS; i++)
		child_process_init(&parts[i]);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		return error_errno("cannot map the workload statistics");
	memset(st, 0, sizeof(*st));
	c = (struct wl_ctx){ .o = &o, .st = st, .orig_mask = &orig };

	/* Signals are taken synchronously by sigtimedwait() below. */
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	wl_stop = 0;
	start = clock_ns(CLOCK_MONOTONIC);
	st->pids[0] = getpid();

	if (o.parts & COL_WL_PINGPONG) {
		if (start_pingpong(&c, parts + n))
			ret = -1;
		n += 2;
	}
	if (!ret && (o.parts & COL_WL_PERIODIC))
		ret = part_start(&parts[n++], "sc-periodic", periodic_main, &c, 0, &orig);
	if (!ret && (o.parts & COL_WL_FORKS))
		ret = part_start(&parts[n++], "sc-forker", forks_main, &c, 0, &orig);
	if (!ret && (o.parts & COL_WL_HOGS)) {
		for (int i = 0; !ret && i < o.hogs; i++) {
			char comm[16];

			snprintf(comm, sizeof(comm), "sc-hog%d", i);
			ret = part_start(&parts[n++], comm, hog_main, &c, i, &orig);
		}
		st->hogs = o.hogs;
	}
	for (int i = 0, j = 1; i < n && j < (int)ARRAY_SIZE(st->pids) - 1; i++)
		if (parts[i].pid > 0)
			st->pids[j++] = parts[i].pid;

	deadline = o.duration_ns ? start + o.duration_ns : UINT64_MAX;
	while (!ret && reap(parts, n, &failed)) {
		uint64_t now = clock_ns(CLOCK_MONOTONIC), wait_ns;
		struct timespec ts;
		int sig;

		if (now >= deadline)
			break;
		wait_ns = SC_MIN(deadline - now, 1 * NSEC_PER_SEC);
		ts = (struct timespec){ .tv_sec = wait_ns / NSEC_PER_SEC,
					.tv_nsec = wait_ns % NSEC_PER_SEC };
		sig = sigtimedwait(&block, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM) {
			signalled = 1;
			break;
		}
	}

	/* Stop what still runs: SIGTERM, a second to finish, then SIGKILL. */
	for (int i = 0; i < n; i++)
		if (parts[i].pid > 0)
			kill(parts[i].pid, SIGTERM);
	for (int tries = 0; reap(parts, n, &failed) && tries < 100; tries++)
		sleep_ns(10 * NSEC_PER_MSEC);
	for (int i = 0; i < n; i++) {
		if (parts[i].pid > 0)
			kill(parts[i].pid, SIGKILL);
		finish_command(&parts[i]);	/* a no-op for a part already reaped */
	}
	st->elapsed_ns = clock_ns(CLOCK_MONOTONIC) - start;
	/* Drop the SIGCHLDs we caused; keep a SIGINT/SIGTERM pending only if unseen. */
	{
		struct timespec zero = { 0, 0 };
		sigset_t chld;

		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		while (sigtimedwait(&chld, NULL, &zero) > 0)
			;
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	if (!ret && failed && !signalled)
		ret = error("%d workload task%s failed", failed, failed == 1 ? "" : "s");
	if (stats)
		*stats = *st;
	munmap(st, sizeof(*st));
	return ret;
}

/* ---- running it in the background --------------------------------------------------- */

struct col_workload {
	struct child_process cp;	/* the leader, "sc-workload" */
	int reaped;
	struct col_workload_stats *st;	/* shared with the leader */
};

/* the leader's process: c->o the options, c->st the page shared with us */
static int leader_main(struct wl_ctx *c, int index)
{
	struct col_workload_stats st;
	int ret;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	ret = col_workload_run(c->o, &st);
	*c->st = st;
	return ret ? 1 : 0;
}

struct col_workload *col_workload_start(const struct col_workload_opts *opts)
{
	struct col_workload *w = xcalloc(1, sizeof(*w));
	struct wl_ctx c = { .o = opts };
	sigset_t none;

	w->st = mmap(NULL, sizeof(*w->st), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (w->st == MAP_FAILED) {
		error_errno("cannot map the workload statistics");
		free(w);
		return NULL;
	}
	memset(w->st, 0, sizeof(*w->st));
	c.st = w->st;
	sigemptyset(&none);
	if (part_start(&w->cp, "sc-workload", leader_main, &c, 0, &none)) {
		munmap(w->st, sizeof(*w->st));
		free(w);
		return NULL;
	}
	return w;
}

int col_workload_done(struct col_workload *w)
{
	/* a wait error (printed) counts as ended: col_workload_finish() says it failed */
	if (!w->reaped && check_command(&w->cp))
		w->reaped = 1;
	return w->reaped;
}

int col_workload_finish(struct col_workload *w, struct col_workload_stats *stats)
{
	int ret = 0;

	if (!w)
		return 0;
	if (!col_workload_done(w))
		kill(w->cp.pid, SIGTERM);
	if (finish_command(&w->cp))	/* a no-op wait once reaped; frees cp's name */
		ret = error("the built-in workload failed");
	if (stats)
		*stats = *w->st;
	munmap(w->st, sizeof(*w->st));
	free(w);
	return ret;
}

void col_workload_describe(const struct col_workload_stats *st, unsigned parts,
			   struct strbuf *sb)
{
	char buf[32];

	strbuf_addf(sb, "workload ran %s:", format_duration(buf, sizeof(buf), st->elapsed_ns));
	if (!parts)
		parts = COL_WL_ALL;
	if (parts & COL_WL_PINGPONG)
		strbuf_addf(sb, " %llu ping-pong round trips,",
			    (unsigned long long)st->pingpong_rounds);
	if (parts & COL_WL_HOGS)
		strbuf_addf(sb, " %d hogs ran %llu bursts,", st->hogs,
			    (unsigned long long)st->hog_bursts);
	if (parts & COL_WL_PERIODIC) {
		uint64_t avg = st->periodic_wakeups
				       ? st->periodic_late_sum_ns / st->periodic_wakeups
				       : 0;

		strbuf_addf(sb, " periodic task woke %llu times (late avg %s, ",
			    (unsigned long long)st->periodic_wakeups,
			    format_duration(buf, sizeof(buf), avg));
		strbuf_addf(sb, "max %s, %llu periods missed),",
			    format_duration(buf, sizeof(buf), st->periodic_late_max_ns),
			    (unsigned long long)st->periodic_missed);
	}
	if (parts & COL_WL_FORKS)
		strbuf_addf(sb, " %llu short-lived children,", (unsigned long long)st->forks);
	if (sb->len && sb->buf[sb->len - 1] == ',')
		sb->buf[--sb->len] = '\0';
}
