// SPDX-License-Identifier: GPL-2.0
/*
 * Trace statistics: one streaming pass over a trace.h5 that follows every
 * task (running, queued on a CPU, sleeping) and every CPU (who runs, how
 * many wait), and sums what schedcast-report(1) lists under FIELDS.
 *
 * Gaps.  On the kernels here the switch out of the idle task is not recorded
 * on CPUs other than 0, and lost events leave holes.  Every event carries
 * common_pid, the task running on its CPU when it fired: when that is not
 * the task we believe runs there, the task is taken to have been switched
 * in unrecorded (an "inferred" switch-in, counted).  Out of idle, with the
 * task queued on that CPU, it is dated when both became true (an idle CPU
 * runs a woken task at once, as features/ assumes too); otherwise at the
 * revealing event, which makes that burst a lower bound.  A wait that ends
 * in an inferred switch-in has no recorded end: it is counted as unmeasured
 * instead of being a delay sample.  A lost-events marker on a CPU forgets
 * what ran and waited there.
 *
 * Filters (-C, --time).  Every event is followed, so that who runs and who
 * waits is known when the window opens; what is summed is narrowed: times
 * (busy, idle, run, sleep) are their parts inside the window on the chosen
 * CPUs, counts and samples (switches, bursts, delays, wakeups, migrations,
 * preemptions, lost events) are those whose event falls inside the window
 * on a chosen CPU (the CPU that recorded it, as perf sched -C does).  A
 * delay is dated by its end (the switch-in), a burst by its switch-out.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"
#include "data/filter.h"

const char *const ana_burst_bucket_names[ANA_BURST_BUCKETS] = {
	"<10us", "10us-100us", "100us-1ms", "1ms-10ms", "10ms-100ms", ">=100ms",
};

enum tstate { T_UNKNOWN, T_RUNNING, T_QUEUED, T_SLEEPING, T_DEAD };

struct task {
	struct ana_task_stats st;
	int state;		/* enum tstate */
	int cpu;		/* running or queued on */
	int inferred;		/* current burst began at an inferred switch-in */
	int woken;		/* current wait began with a wakeup (else a preemption) */
	uint64_t since;		/* start of the current run, wait or sleep */
	struct ana_hist bursts, delays;
	struct ana_hist wakes, preempts;	/* delays split by how the wait began */
	struct waker_count {
		int32_t pid;
		uint32_t n;
	} *wk;			/* (nr_wk) its wakers, 8 bytes each: memory in the pairs seen */
	size_t nr_wk, alloc_wk;
	int in_dead;		/* listed in stats_ctx.dead */
};

struct cpu {
	int32_t curr;		/* running pid, 0 idle, -1 unknown */
	uint32_t qlen;		/* tasks queued, not running */
	uint64_t last;		/* time accounted up to */
	uint64_t idle_since;	/* when curr became 0 */
	double rq_area;		/* integral of qlen over time, ns */
};

/*
 * pid -> task index + 1, for every event twice: a two-level table over the
 * pids Linux can hand out (PID_MAX_LIMIT, 2^22), 4096-entry pages allocated
 * when first used; a crafted pid beyond goes to a hash map.
 */
#define PID_LIMIT (1 << 22)
#define PID_PAGE_BITS 12
#define PID_PAGE (1 << PID_PAGE_BITS)

struct stats_ctx {
	struct ana_trace_stats *st;
	struct cpu *cpus;
	struct task *tasks;
	uint64_t nr_tasks, alloc_tasks;
	uint32_t *pid_pages[PID_LIMIT / PID_PAGE];
	struct ana_map *by_pid;		/* pids >= PID_LIMIT */
	uint64_t bucket_ns;
	uint64_t total_queued;
	const struct ds_filter *f;	/* NULL: the whole trace */
	uint64_t from, to;		/* the window, inclusive */
	uint64_t *sec_busy;		/* (nr_sec) busy ns of the chosen CPUs per second */
	uint64_t nr_sec;
	struct ana_timeline *tl;	/* a timeline pass: the runs go there */
	int *tl_row;			/* (nr_cpus) row of each CPU in tl, -1 none */
	/*
	 * Folding (keep > 0): of the tasks that exited, the keep with the most
	 * run time are kept in full; the others' samples go to all, wakes and
	 * preempts (the whole-trace figures) and their slots are reused.
	 */
	uint64_t keep;
	uint32_t *dead;			/* (nr_dead) indices of exited tasks kept */
	size_t nr_dead, alloc_dead;
	uint32_t *free_slots;		/* (nr_free) slots of folded tasks */
	size_t nr_free, alloc_free;
	uint64_t nr_folded;		/* tasks folded (under -C/--time: with something inside) */
	struct ana_hist all, wakes, preempts;
};

/* tl_add - pid ran on cpu over [a, b]: into the timeline's columns */
static void tl_add(struct stats_ctx *c, int cpu, int32_t pid, uint64_t a, uint64_t b)
{
	struct ana_timeline *tl = c->tl;
	uint64_t dur = tl->end_ns - tl->start_ns;
	int row = c->tl_row[cpu];

	if (row < 0 || pid <= 0 || !dur)
		return;
	a = SC_MAX(a, tl->start_ns);
	b = SC_MIN(b, tl->end_ns);
	while (a < b) {
		/* column k covers [start + k * dur / COLS, start + (k + 1) * dur / COLS) */
		uint64_t k = (uint64_t)((double)(a - tl->start_ns) * ANA_TL_COLS / (double)dur);
		uint64_t cend, n;
		struct ana_tl_cell *cell;
		int j, free_slot = -1;

		if (k >= ANA_TL_COLS)
			k = ANA_TL_COLS - 1;
		cend = tl->start_ns + (uint64_t)((double)dur * (double)(k + 1) / ANA_TL_COLS);
		if (cend <= a)
			cend = a + 1;
		n = SC_MIN(b, cend) - a;
		cell = &tl->cells[(size_t)row * ANA_TL_COLS + k];
		cell->busy_ns += n;
		for (j = 0; j < ANA_TL_SLOTS; j++) {
			if (cell->slot_pid[j] == pid)
				break;
			if (!cell->slot_pid[j] && free_slot < 0)
				free_slot = j;
		}
		if (j < ANA_TL_SLOTS)
			cell->slot_ns[j] += n;
		else if (free_slot >= 0) {
			cell->slot_pid[free_slot] = pid;
			cell->slot_ns[free_slot] = n;
		}
		a += n;
	}
}

/* in_cpu - does cpu pass -C */
static int in_cpu(const struct stats_ctx *c, int cpu)
{
	return !c->f || ds_filter_cpu(c->f, cpu);
}

/* counted - does an event on cpu at ts count (inside the window, on a chosen CPU) */
static int counted(const struct stats_ctx *c, int cpu, uint64_t ts)
{
	return ts >= c->from && ts <= c->to && in_cpu(c, cpu);
}

/* overlap - the part of [a, b] inside the window, ns */
static uint64_t overlap(const struct stats_ctx *c, uint64_t a, uint64_t b)
{
	a = SC_MAX(a, c->from);
	b = SC_MIN(b, c->to);
	return b > a ? b - a : 0;
}

/* pid_slot - where the index + 1 of pid's task lives (0: no task yet) */
static uint32_t *pid_slot(struct stats_ctx *c, int32_t pid)
{
	uint32_t **page;
	int32_t key[ANA_KEY_WORDS] = { pid };
	double *v;

	if (pid < PID_LIMIT) {
		page = &c->pid_pages[pid >> PID_PAGE_BITS];
		if (!*page)
			*page = xcalloc(PID_PAGE, sizeof(**page));
		return &(*page)[pid & (PID_PAGE - 1)];
	}
	if (!c->by_pid)
		c->by_pid = ana_map_new(2);
	/* the map holds doubles: the second value keeps the uint32_t we hand out */
	v = ana_map_get(c->by_pid, key, 1);
	return (uint32_t *)&v[1];
}

void ana_task_class(char out[DS_COMM_LEN], const char *comm)
{
	size_t n = strcspn(comm, "/:");

	if (n >= DS_COMM_LEN)
		n = DS_COMM_LEN - 1;
	memcpy(out, comm, n);
	out[n] = '\0';
	while (n > 1 && ((out[n - 1] >= '0' && out[n - 1] <= '9') || out[n - 1] == '-'))
		out[--n] = '\0';
	if (!out[0])
		snprintf(out, DS_COMM_LEN, "%s", comm[0] ? comm : "?");
}

static struct task *task_get(struct stats_ctx *c, int32_t pid, const char *comm)
{
	uint32_t *slot;
	struct task *t;

	if (pid <= 0)
		return NULL;
	slot = pid_slot(c, pid);
	if (!*slot) {
		uint32_t i;

		if (c->nr_free) {
			i = c->free_slots[--c->nr_free];
		} else {
			ALLOC_GROW(c->tasks, c->nr_tasks + 1, c->alloc_tasks);
			i = (uint32_t)c->nr_tasks++;
		}
		t = &c->tasks[i];
		memset(t, 0, sizeof(*t));
		t->st.pid = pid;
		t->cpu = -1;
		*slot = i + 1;
	}
	t = &c->tasks[*slot - 1];
	/* comms are NUL-padded DS_COMM_LEN arrays, NUL-terminated by the reader */
	if (comm && comm[0])
		memcpy(t->st.comm, comm, DS_COMM_LEN);
	return t;
}

static void enqueue(struct stats_ctx *c, struct task *t, int cpu, uint64_t ts, int woken)
{
	if (cpu < 0 || cpu >= c->st->nr_cpus)
		cpu = 0;	/* not said: account it somewhere rather than lose the wait */
	t->state = T_QUEUED;
	t->cpu = cpu;
	t->since = ts;
	t->woken = woken;
	c->cpus[cpu].qlen++;
	c->total_queued++;
}

static void dequeue(struct stats_ctx *c, struct task *t)
{
	if (t->state != T_QUEUED)
		return;
	if (c->cpus[t->cpu].qlen) {
		c->cpus[t->cpu].qlen--;
		c->total_queued--;
	}
}

static void rq_update_max(struct stats_ctx *c, int cpu, uint64_t ts)
{
	if (counted(c, cpu, ts) && c->cpus[cpu].qlen > c->st->cpus[cpu].rq_max)
		c->st->cpus[cpu].rq_max = c->cpus[cpu].qlen;
}

/*
 * spread - add w per ns of [from, to) (inside the window) to the time
 * buckets of series it covers.
 */
static void spread(const struct stats_ctx *c, double *series, uint64_t from, uint64_t to,
		   double w)
{
	from = SC_MAX(from, c->from);
	to = SC_MIN(to, c->to);
	while (from < to) {
		/*
		 * Offsets from the start, in steps bounded by to - from: start +
		 * (b + 1) * bucket overflowed near 2^64 and the loop went
		 * backwards for ever.
		 */
		uint64_t rel = from - c->from;
		uint64_t b = rel / c->bucket_ns;
		uint64_t step = c->bucket_ns - rel % c->bucket_ns;

		if (step > to - from)
			step = to - from;
		if (b >= ANA_SERIES_BUCKETS)
			b = ANA_SERIES_BUCKETS - 1;
		series[b] += w * (double)step;
		from += step;
	}
}

/* sec_add - [from, to) of busy time (inside the window) to the per-second totals */
static void sec_add(struct stats_ctx *c, uint64_t from, uint64_t to)
{
	from = SC_MAX(from, c->from);
	to = SC_MIN(to, c->to);
	while (c->sec_busy && from < to) {
		uint64_t rel = from - c->from, k = rel / NSEC_PER_SEC;
		uint64_t step = SC_MIN(NSEC_PER_SEC - rel % NSEC_PER_SEC, to - from);

		if (k < c->nr_sec)
			c->sec_busy[k] += step;
		from += step;
	}
}

/* Account every CPU's time from its last update to ts. */
static void advance(struct stats_ctx *c, uint64_t ts)
{
	struct ana_trace_stats *st = c->st;

	for (int i = 0; i < st->nr_cpus; i++) {
		struct cpu *p = &c->cpus[i];
		struct ana_cpu_stats *s = &st->cpus[i];
		uint64_t from = p->last, dt;

		if (ts <= from)
			continue;
		p->last = ts;
		/* only the part inside the window, on a chosen CPU, is summed */
		dt = overlap(c, from, ts);
		if (!dt || !in_cpu(c, i))
			continue;
		if (p->curr > 0)
			s->busy_ns += dt;
		else if (p->curr == 0)
			s->idle_ns += dt;
		if (p->curr == 0 && c->total_queued > p->qlen)
			s->idle_queued_ns += dt;
		if (p->qlen) {
			/* a queue standing when the window opens counts too */
			if (p->qlen > s->rq_max)
				s->rq_max = p->qlen;
			p->rq_area += (double)p->qlen * (double)dt;
			spread(c, s->rq_series, from, ts, (double)p->qlen);
		}
		if (p->curr > 0) {
			spread(c, s->util_series, from, ts, 1);
			sec_add(c, from, ts);
		}
	}
}

/* End t's run burst on cpu at ts (a recorded switch-out). */
static void end_burst(struct stats_ctx *c, struct task *t, int cpu, uint64_t ts)
{
	/* its part inside the window (the whole burst without --time) */
	uint64_t b = overlap(c, t->since, ts);
	int k;

	if (in_cpu(c, cpu))
		t->st.run_ns += b;
	if (c->tl)
		tl_add(c, cpu, t->st.pid, t->since, ts);
	if (!counted(c, cpu, ts))
		return;
	ana_hist_add(&t->bursts, b);
	t->st.switches++;
	t->st.inferred_in += t->inferred;
	for (k = 0; k < ANA_BURST_BUCKETS - 1; k++) {
		static const uint64_t lim[] = { 10000, 100000, 1000000, 10000000, 100000000 };

		if (b < lim[k])
			break;
	}
	t->st.burst_hist[k]++;
}

/* t starts running on cpu at ts (recorded: inferred == 0). */
static void start_run(struct stats_ctx *c, struct task *t, int cpu, uint64_t ts, int inferred)
{
	if (inferred && c->cpus[cpu].curr == 0 && t->state == T_QUEUED && t->cpu == cpu) {
		/*
		 * Out of idle: an idle CPU runs a task queued on it at once, so
		 * the burst began when both were true.  Move that time, already
		 * accounted as idle, to busy.
		 */
		struct cpu *p = &c->cpus[cpu];
		struct ana_cpu_stats *s = &c->st->cpus[cpu];
		uint64_t start = SC_MAX(t->since, p->idle_since), d;

		start = SC_MIN(start, ts);
		d = in_cpu(c, cpu) ? SC_MIN(overlap(c, start, ts), s->idle_ns) : 0;
		s->idle_ns -= d;
		s->busy_ns += d;
		p->rq_area -= (double)d;
		if (d) {
			spread(c, s->util_series, start, ts, 1);
			spread(c, s->rq_series, start, ts, -1);
			sec_add(c, start, ts);
		}
		ts = start;
	}
	if (t->state == T_QUEUED) {
		if (!counted(c, cpu, ts)) {
			/* outside the window or on a CPU not chosen: not a sample */
		} else if (inferred) {
			t->st.delay_unmeasured++;
			c->st->delay_unmeasured++;
		} else {
			uint64_t d = ts > t->since ? ts - t->since : 0;

			if (!t->delays.n || d > t->delays.max) {
				t->st.max_delay_start = t->since;
				t->st.max_delay_end = ts;
			}
			ana_hist_add(&t->delays, d);
			if (t->woken) {
				t->st.delay_woken++;
				ana_hist_add(&t->wakes, d);
			} else {
				t->st.delay_preempted++;
				ana_hist_add(&t->preempts, d);
			}
		}
		dequeue(c, t);
	} else if (t->state == T_RUNNING && t->cpu >= 0 && t->cpu != cpu &&
		   c->cpus[t->cpu].curr == t->st.pid) {
		c->cpus[t->cpu].curr = -1;	/* it cannot run on two CPUs: forget the old */
	}
	t->state = T_RUNNING;
	t->cpu = cpu;
	t->since = ts;
	t->inferred = inferred;
	c->cpus[cpu].curr = t->st.pid;
}

/* What ran on cpu stopped without a recorded switch: forget its burst. */
static void drop_curr(struct stats_ctx *c, int cpu)
{
	struct task *t;

	if (c->cpus[cpu].curr > 0) {
		t = task_get(c, c->cpus[cpu].curr, NULL);
		if (t->state == T_RUNNING && t->cpu == cpu)
			t->state = T_UNKNOWN;
	}
	c->cpus[cpu].curr = -1;
}

/* common_pid says pid runs on cpu at ts. */
static void evidence(struct stats_ctx *c, int cpu, int32_t pid, uint64_t ts)
{
	struct cpu *p = &c->cpus[cpu];

	if (pid < 0 || p->curr == pid)
		return;
	if (p->curr > 0)
		drop_curr(c, cpu);
	if (p->curr >= 0)
		c->st->cpus[cpu].inferred++;	/* not the first sight of the CPU */
	if (pid == 0) {
		p->curr = 0;
		p->idle_since = ts;
		return;
	}
	start_run(c, task_get(c, pid, NULL), cpu, ts, 1);
}

static void on_switch(struct stats_ctx *c, const struct ds_event *ev)
{
	struct task *prev = task_get(c, ev->pid, ev->comm);
	struct task *next = task_get(c, ev->next_pid, ev->next_comm);
	int cpu = ev->cpu;

	if (counted(c, cpu, ev->ts)) {
		c->st->nr_switches++;
		c->st->cpus[cpu].switches++;
	}
	evidence(c, cpu, ev->pid, ev->ts);
	if (prev)
		end_burst(c, prev, cpu, ev->ts);
	/* next leaves the queue before prev joins it: rq_max counts states, not instants */
	if (next)
		start_run(c, next, cpu, ev->ts, 0);
	else
		c->cpus[cpu].curr = ev->next_pid == 0 ? 0 : -1;
	c->cpus[cpu].idle_since = ev->ts;
	if (!prev)
		return;
	if (ds_state_runnable(ev->state)) {
		if (counted(c, cpu, ev->ts))
			prev->st.preemptions++;
		enqueue(c, prev, cpu, ev->ts, 0);
		rq_update_max(c, cpu, ev->ts);
	} else {
		prev->state = (ev->state & (DS_STATE_DEAD | DS_STATE_ZOMBIE)) ? T_DEAD : T_SLEEPING;
		prev->since = ev->ts;
		prev->cpu = -1;
		if (prev->state == T_DEAD && c->keep && !prev->in_dead) {
			ALLOC_GROW(c->dead, c->nr_dead + 1, c->alloc_dead);
			c->dead[c->nr_dead++] = (uint32_t)(prev - c->tasks);
			prev->in_dead = 1;
		}
	}
}

static void count_waker(struct task *t, int32_t waker)
{
	size_t i;

	for (i = 0; i < t->nr_wk; i++)
		if (t->wk[i].pid == waker)
			break;
	if (i == t->nr_wk) {
		ALLOC_GROW(t->wk, t->nr_wk + 1, t->alloc_wk);
		t->wk[t->nr_wk++] = (struct waker_count){ waker, 0 };
	}
	if (t->wk[i].n < UINT32_MAX)
		t->wk[i].n++;
	/* one step towards the front: the frequent wakers are found first */
	if (i && t->wk[i].n > t->wk[i - 1].n) {
		struct waker_count x = t->wk[i];

		t->wk[i] = t->wk[i - 1];
		t->wk[i - 1] = x;
	}
}

static void on_wakeup(struct stats_ctx *c, const struct ds_event *ev)
{
	struct task *t = task_get(c, ev->pid, ev->comm);

	if (!t)
		return;
	switch (t->state) {
	case T_SLEEPING:
		if (in_cpu(c, ev->cpu))
			t->st.sleep_ns += overlap(c, t->since, ev->ts);
		/* fall through */
	case T_UNKNOWN:
	case T_DEAD:
		if (counted(c, ev->cpu, ev->ts)) {
			t->st.wakeups++;
			/* the waker: the task the event interrupted (perf sched timehist -w) */
			if (ev->common_pid >= 0)
				count_waker(t, ev->common_pid);
		}
		enqueue(c, t, ev->target_cpu, ev->ts, 1);
		rq_update_max(c, t->cpu, ev->ts);
		break;
	case T_QUEUED:
		/* waking then wakeup: same wait; the target may have moved */
		if (ev->target_cpu >= 0 && ev->target_cpu < c->st->nr_cpus &&
		    ev->target_cpu != t->cpu) {
			uint64_t since = t->since;
			int woken = t->woken;

			dequeue(c, t);
			enqueue(c, t, ev->target_cpu, since, woken);
			rq_update_max(c, t->cpu, ev->ts);
		}
		break;
	default:	/* a running task: nothing to wake */
		break;
	}
}

static void on_migrate(struct stats_ctx *c, const struct ds_event *ev)
{
	struct task *t = task_get(c, ev->pid, ev->comm);

	if (!t)
		return;
	if (!counted(c, ev->cpu, ev->ts))
		goto requeue;
	t->st.migrations++;
	if (c->st->migrations && ev->orig_cpu >= 0 && ev->orig_cpu < c->st->nr_cpus && ev->dest_cpu >= 0 &&
	    ev->dest_cpu < c->st->nr_cpus)
		c->st->migrations[(size_t)ev->orig_cpu * (size_t)c->st->nr_cpus +
				  (size_t)ev->dest_cpu]++;
requeue:
	if (t->state == T_QUEUED && ev->dest_cpu >= 0 && ev->dest_cpu < c->st->nr_cpus) {
		uint64_t since = t->since;
		int woken = t->woken;

		dequeue(c, t);
		enqueue(c, t, ev->dest_cpu, since, woken);
		rq_update_max(c, t->cpu, ev->ts);
	}
}

/* Lost events on cpu: forget who ran and who waited there. */
static void on_lost(struct stats_ctx *c, int cpu)
{
	drop_curr(c, cpu);
	for (uint64_t i = 0; i < c->nr_tasks; i++) {
		struct task *t = &c->tasks[i];

		if (t->state == T_QUEUED && t->cpu == cpu) {
			dequeue(c, t);
			t->state = T_UNKNOWN;
		}
	}
}

/* the order of the task tables: most run time first, then the lowest pid */
static int task_before(const struct task *x, const struct task *y)
{
	if (x->st.run_ns != y->st.run_ns)
		return x->st.run_ns > y->st.run_ns;
	return x->st.pid < y->st.pid;
}

static struct task *sort_tasks;

static int cmp_dead(const void *a, const void *b)
{
	const struct task *x = &sort_tasks[*(const uint32_t *)a];
	const struct task *y = &sort_tasks[*(const uint32_t *)b];

	return task_before(x, y) ? -1 : task_before(y, x);
}

/* fold t: its samples into the whole-trace figures, its slot free */
static void fold_task(struct stats_ctx *c, struct task *t)
{
	int narrowed = c->f && (c->f->cpus || c->f->has_time);

	/* as task_empty() judges the kept ones in keep() */
	if (!narrowed || t->st.run_ns || t->st.switches || t->delays.n || t->st.delay_unmeasured ||
	    t->st.wakeups || t->st.migrations || t->st.sleep_ns)
		c->nr_folded++;
	ana_hist_merge(&c->all, &t->delays);
	ana_hist_merge(&c->wakes, &t->wakes);
	ana_hist_merge(&c->preempts, &t->preempts);
	ana_hist_release(&t->bursts);
	ana_hist_release(&t->delays);
	ana_hist_release(&t->wakes);
	ana_hist_release(&t->preempts);
	free(t->wk);
	*pid_slot(c, t->st.pid) = 0;
	memset(t, 0, sizeof(*t));	/* pid 0: a free slot */
	ALLOC_GROW(c->free_slots, c->nr_free + 1, c->alloc_free);
	c->free_slots[c->nr_free++] = (uint32_t)(t - c->tasks);
}

/*
 * fold_dead - of the listed tasks still exited, keep the c->keep that come
 * first in the task tables' order and fold the others.  A folded task had
 * c->keep tasks before it, and run time only grows: none of the first
 * c->keep rows of the final table is ever folded.
 */
static void fold_dead(struct stats_ctx *c)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nr_dead; i++) {
		struct task *t = &c->tasks[c->dead[i]];

		if (t->state == T_DEAD && t->st.pid > 0)
			c->dead[n++] = c->dead[i];
		else
			t->in_dead = 0;	/* came back (its pid reused): a live task again */
	}
	c->nr_dead = n;
	if (n <= c->keep)
		return;
	sort_tasks = c->tasks;
	qsort(c->dead, n, sizeof(*c->dead), cmp_dead);
	for (size_t i = c->keep; i < n; i++)
		fold_task(c, &c->tasks[c->dead[i]]);
	c->nr_dead = c->keep;
}

static int cmp_task(const void *a, const void *b)
{
	const struct ana_task_stats *x = a, *y = b;

	if (x->run_ns != y->run_ns)
		return x->run_ns > y->run_ns ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* the comm of pid (its last), "<idle>" for 0, "" when never seen */
static const char *comm_of(struct stats_ctx *c, int32_t pid)
{
	uint32_t *slot;

	if (pid == 0)
		return "<idle>";
	slot = pid_slot(c, pid);
	return *slot ? c->tasks[*slot - 1].st.comm : "";
}

/* t's ANA_TOP_WAKERS most frequent wakers into out; frees its counts */
static void top_wakers(struct stats_ctx *c, struct task *t, struct ana_task_stats *out)
{
	for (int k = 0; k < ANA_TOP_WAKERS; k++)
		out->wakers[k].pid = -1;
	for (size_t i = 0; i < t->nr_wk; i++) {
		struct ana_waker w = { .pid = t->wk[i].pid, .n = t->wk[i].n };
		int k;

		/* insertion into the top list: most wakeups first, then lowest pid */
		for (k = 0; k < ANA_TOP_WAKERS; k++) {
			const struct ana_waker *o = &out->wakers[k];

			if (o->pid < 0 || w.n > o->n || (w.n == o->n && w.pid < o->pid))
				break;
		}
		if (k == ANA_TOP_WAKERS) {
			out->wakers_other += w.n;
			continue;
		}
		if (out->wakers[ANA_TOP_WAKERS - 1].pid >= 0)
			out->wakers_other += out->wakers[ANA_TOP_WAKERS - 1].n;
		memmove(&out->wakers[k + 1], &out->wakers[k],
			(ANA_TOP_WAKERS - 1 - k) * sizeof(out->wakers[0]));
		snprintf(w.comm, sizeof(w.comm), "%s", comm_of(c, w.pid));
		out->wakers[k] = w;
	}
	free(t->wk);
	t->wk = NULL;
	t->nr_wk = 0;
}

static void finish(struct stats_ctx *c)
{
	struct ana_trace_stats *st = c->st;
	struct ana_hist all = c->all, wakes = c->wakes, preempts = c->preempts;
	double span = st->span_ns ? (double)st->span_ns : 1;
	uint64_t n = 0;

	advance(c, st->end_ns);
	for (int i = 0; i < st->nr_cpus; i++) {
		struct ana_cpu_stats *s = &st->cpus[i];

		s->util = (double)s->busy_ns / span;
		s->rq_avg = c->cpus[i].rq_area / span;
		for (int b = 0; b < ANA_SERIES_BUCKETS; b++) {
			/* the last buckets may reach past the end: divide by their part before it */
			uint64_t at = (uint64_t)b * c->bucket_ns;
			double len = at >= st->span_ns ? 0 :
				     (double)SC_MIN(c->bucket_ns, st->span_ns - at);

			s->rq_series[b] = len > 0 ? s->rq_series[b] / len : 0;
			s->util_series[b] = len > 0 ? s->util_series[b] / len : 0;
		}
	}
	st->switch_rate = (double)st->nr_switches / (span / 1e9);
	memset(&c->all, 0, sizeof(c->all));	/* moved to all, wakes and preempts */
	memset(&c->wakes, 0, sizeof(c->wakes));
	memset(&c->preempts, 0, sizeof(c->preempts));
	st->tasks_folded = c->nr_folded;
	st->tasks = xcalloc(c->nr_tasks ? c->nr_tasks : 1, sizeof(*st->tasks));
	for (uint64_t i = 0; i < c->nr_tasks; i++) {
		struct task *t = &c->tasks[i];

		if (t->st.pid <= 0)
			continue;	/* a folded task's free slot */

		ana_hist_summarize(&t->st.burst, &t->bursts);
		ana_hist_summarize(&t->st.delay, &t->delays);
		ana_hist_merge(&all, &t->delays);
		ana_hist_summarize(&t->st.wake_lat, &t->wakes);
		ana_hist_summarize(&t->st.preempt_delay, &t->preempts);
		ana_hist_merge(&wakes, &t->wakes);
		ana_hist_merge(&preempts, &t->preempts);
		ana_hist_release(&t->wakes);
		ana_hist_release(&t->preempts);
		/* the delays move to the result, which owns them from here */
		t->st.delays = xmalloc(sizeof(*t->st.delays));
		*t->st.delays = t->delays;
		memset(&t->delays, 0, sizeof(t->delays));
		ana_hist_release(&t->bursts);
		top_wakers(c, t, &t->st);
		st->tasks[n++] = t->st;
	}
	st->nr_tasks = n;
	qsort(st->tasks, st->nr_tasks, sizeof(*st->tasks), cmp_task);
	ana_hist_summarize(&st->delay, &all);
	ana_hist_summarize(&st->wake_lat, &wakes);
	ana_hist_summarize(&st->preempt_delay, &preempts);
	ana_hist_release(&all);
	/* the two distributions move to the result (html draws them) */
	st->wake_hist = xmalloc(sizeof(*st->wake_hist));
	*st->wake_hist = wakes;
	st->preempt_hist = xmalloc(sizeof(*st->preempt_hist));
	*st->preempt_hist = preempts;
	/* the busiest second (the first of equals) */
	st->busiest_ns = st->start_ns;
	for (uint64_t k = 0, best = 0; k < c->nr_sec; k++) {
		if (c->sec_busy[k] > best) {
			best = c->sec_busy[k];
			st->busiest_ns = st->start_ns + k * NSEC_PER_SEC;
		}
	}
	/* what still runs at the end of the window */
	for (int i = 0; c->tl && i < st->nr_cpus; i++) {
		int32_t pid = c->cpus[i].curr;
		uint32_t *slot = pid > 0 ? pid_slot(c, pid) : NULL;

		if (slot && *slot && c->tasks[*slot - 1].state == T_RUNNING &&
		    c->tasks[*slot - 1].cpu == i)
			tl_add(c, i, pid, c->tasks[*slot - 1].since, st->end_ns);
	}
}

/* nothing of the task falls inside the filters */
static int task_empty(const struct ana_task_stats *t)
{
	return !t->run_ns && !t->switches && !t->delay.n && !t->delay_unmeasured && !t->wakeups &&
	       !t->migrations && !t->sleep_ns;
}

/*
 * Thread groups from the task table (report --by process), then the tasks
 * the filters keep: those passing the task filters and, under -C or --time,
 * with something inside them.  The CPU rows keep the chosen CPUs.
 */
static void keep(struct stats_ctx *c, const struct ds_trace_reader *r)
{
	struct ana_trace_stats *st = c->st;
	const struct ds_filter *f = c->f;
	struct ds_task_index ix;
	const struct ds_task *tt;
	uint64_t nt, n = 0;
	int narrowed = f && (f->cpus || f->has_time);

	tt = ds_trace_tasks(r, &nt);
	ds_task_index_init(&ix, tt, tt ? nt : 0);
	for (uint64_t i = 0; i < st->nr_tasks; i++) {
		struct ana_task_stats *t = &st->tasks[i];
		const struct ds_task *row = ds_task_index_find(&ix, t->pid, UINT64_MAX);

		t->tgid = row && row->tgid >= 0 ? row->tgid : -1;
		if ((f && !ds_filter_task(f, t->pid, t->tgid, t->comm)) ||
		    (narrowed && task_empty(t))) {
			ana_hist_free(t->delays);
			continue;
		}
		st->tasks[n++] = *t;
	}
	st->nr_tasks = n;
	ds_task_index_release(&ix);
	st->nr_cpu_rows = 0;
	for (int i = 0; i < st->nr_cpus; i++)
		if (in_cpu(c, i))
			st->cpus[st->nr_cpu_rows++] = st->cpus[i];
}

static int stats_pass(const char *path, const struct ds_filter *f, struct ana_trace_stats *st,
		      struct ana_timeline *tl, uint64_t keep_dead)
{
	struct stats_ctx c = { .st = st, .f = f, .tl = tl, .keep = keep_dead };
	uint64_t trace_start, trace_end;
	struct ds_trace_reader *r;
	const struct ds_trace_meta *m;
	const uint64_t *lost;
	struct ds_event ev;
	struct sc_progress progress;
	uint64_t first, last, seen = 0;
	int ret;

	memset(st, 0, sizeof(*st));
	r = ds_trace_open(path);
	if (!r)
		return -1;
	m = ds_trace_meta(r);
	st->path = xstrdup(path);
	st->meta = *m;
	st->nr_cpus = m->nr_cpus;
	/*
	 * The span: the capture's (metadata), widened to the events' own when
	 * they stray outside it (a recorder stamps its end before draining
	 * the buffers).  The events are in time order: their extremes are
	 * the first and the last, read without a pass.
	 */
	ret = ds_trace_span(r, &first, &last);
	if (ret < 0)
		goto out_early;
	st->start_ns = m->start_ns;
	st->end_ns = m->end_ns;
	if (m->nr_events) {
		if (!st->end_ns || last > st->end_ns)
			st->end_ns = last;
		if (!st->start_ns || first < st->start_ns)
			st->start_ns = first;
	}
	st->has_wakeups = !!(m->events_recorded &
			     (DS_EV_BIT(DS_EV_WAKING) | DS_EV_BIT(DS_EV_WAKEUP)));
	if (st->end_ns < st->start_ns)
		st->end_ns = st->start_ns;
	trace_start = st->start_ns;
	trace_end = st->end_ns;
	/* the window: the trace's span cut to --time */
	if (f && f->has_time) {
		if (f->start_ns > trace_end || f->end_ns < trace_start)
			warning("--time %.6f,%.6f is outside the trace (%.6f to %.6f s): "
				"nothing in the window", f->start_ns / 1e9,
				f->end_ns == UINT64_MAX ? trace_end / 1e9 : f->end_ns / 1e9,
				trace_start / 1e9, trace_end / 1e9);
		st->start_ns = SC_MIN(SC_MAX(st->start_ns, f->start_ns), trace_end);
		st->end_ns = SC_MAX(SC_MIN(st->end_ns, f->end_ns), st->start_ns);
		st->windowed = 1;
	}
	st->span_ns = st->end_ns - st->start_ns;
	c.from = st->start_ns;
	c.to = st->end_ns;
	/* per-second busy time for the busiest second, up to 12 days of span */
	c.nr_sec = st->span_ns / NSEC_PER_SEC + 1;
	if (c.nr_sec <= (1 << 20))
		c.sec_busy = xcalloc(c.nr_sec, sizeof(*c.sec_busy));
	else
		c.nr_sec = 0;
	if (tl) {
		c.tl_row = xmalloc((size_t)st->nr_cpus * sizeof(*c.tl_row));
		for (int i = 0; i < st->nr_cpus; i++) {
			c.tl_row[i] = -1;
			if (!in_cpu(&c, i))
				continue;
			if (tl->nr_rows == ANA_TL_MAX_CPUS) {
				tl->cpus_left_out++;
				continue;
			}
			tl->cpu[tl->nr_rows] = i;
			c.tl_row[i] = tl->nr_rows++;
		}
		tl->cells = xcalloc((size_t)(tl->nr_rows ? tl->nr_rows : 1) * ANA_TL_COLS,
				    sizeof(*tl->cells));
	}
	st->cpus = xcalloc((size_t)st->nr_cpus, sizeof(*st->cpus));
	/* migrations by CPU pair: a square, so not for a crafted CPU count */
	if (st->nr_cpus <= 1024)
		st->migrations = xcalloc((size_t)st->nr_cpus * (size_t)st->nr_cpus,
					 sizeof(*st->migrations));
	c.cpus = xcalloc((size_t)st->nr_cpus, sizeof(*c.cpus));
	lost = ds_trace_lost(r);
	for (int i = 0; i < st->nr_cpus; i++) {
		st->cpus[i].cpu = i;
		/* narrowed, the lost events are those the markers inside report */
		st->cpus[i].lost = lost && !st->windowed && in_cpu(&c, i) ? lost[i] : 0;
		c.cpus[i].curr = -1;
		c.cpus[i].last = trace_start;
	}
	st->lost_total = 0;
	for (int i = 0; i < st->nr_cpus; i++)
		st->lost_total += st->cpus[i].lost;
	if (!f || !(f->cpus || f->has_time))
		st->lost_total = m->lost_total;
	c.bucket_ns = st->span_ns / ANA_SERIES_BUCKETS + 1;

	sc_progress_start(&progress, "report", m->nr_events);
	while ((ret = ds_trace_next(r, &ev)) == 1) {
		sc_progress_update(&progress, ++seen);
		if (ev.cpu < 0 || ev.cpu >= st->nr_cpus) {
			ret = error("'%s': event at %llu on cpu %d, but the trace has %d CPUs", path,
				    (unsigned long long)ev.ts, ev.cpu, st->nr_cpus);
			break;
		}
		if (ev.ts < trace_start || ev.ts > trace_end) {
			ret = error("'%s': event at %llu outside the events' span %llu..%llu", path,
				    (unsigned long long)ev.ts, (unsigned long long)trace_start,
				    (unsigned long long)trace_end);
			break;
		}
		if (counted(&c, ev.cpu, ev.ts))
			st->nr_events++;
		advance(&c, ev.ts);
		switch (ev.type) {
		case DS_EV_SWITCH:
			on_switch(&c, &ev);
			break;
		case DS_EV_WAKEUP:
		case DS_EV_WAKEUP_NEW:
		case DS_EV_WAKING:
			evidence(&c, ev.cpu, ev.common_pid, ev.ts);
			on_wakeup(&c, &ev);
			break;
		case DS_EV_MIGRATE:
			evidence(&c, ev.cpu, ev.common_pid, ev.ts);
			on_migrate(&c, &ev);
			break;
		case DS_EV_FORK:
			evidence(&c, ev.cpu, ev.common_pid, ev.ts);
			task_get(&c, ev.pid, ev.comm);
			task_get(&c, ev.next_pid, ev.next_comm);
			break;
		case DS_EV_EXIT:
			evidence(&c, ev.cpu, ev.common_pid, ev.ts);
			task_get(&c, ev.pid, ev.comm);
			break;
		case DS_EV_LOST:
			on_lost(&c, ev.cpu);
			if (!counted(&c, ev.cpu, ev.ts))
				break;
			if (!ev.state)
				st->lost_unknown++;
			else if (st->windowed) {
				st->cpus[ev.cpu].lost += (uint64_t)ev.state;
				st->lost_total += (uint64_t)ev.state;
			}
			break;
		default:
			break;
		}
		if (c.keep && c.nr_dead >= c.keep + c.keep / 4)
			fold_dead(&c);
	}
	sc_progress_stop(&progress, ret == 0);
	if (ret == 0)
		finish(&c);
	for (uint64_t i = 0; i < c.nr_tasks && ret; i++) {
		ana_hist_release(&c.tasks[i].bursts);
		ana_hist_release(&c.tasks[i].delays);
		ana_hist_release(&c.tasks[i].wakes);
		ana_hist_release(&c.tasks[i].preempts);
		free(c.tasks[i].wk);
	}
	if (ret == 0)
		keep(&c, r);
	ana_hist_release(&c.all);
	ana_hist_release(&c.wakes);
	ana_hist_release(&c.preempts);
	free(c.dead);
	free(c.free_slots);
	free(c.tasks);
	free(c.cpus);
	free(c.sec_busy);
	free(c.tl_row);
	for (size_t i = 0; i < ARRAY_SIZE(c.pid_pages); i++)
		free(c.pid_pages[i]);
	ana_map_free(c.by_pid);
out_early:
	ds_trace_close(r);
	if (ret) {
		ana_trace_stats_release(st);
		return -1;
	}
	return 0;
}

int ana_trace_stats_compute(const char *path, const struct ds_filter *f,
			    struct ana_trace_stats *st)
{
	return stats_pass(path, f, st, NULL, 0);
}

int ana_trace_stats_compute_top(const char *path, const struct ds_filter *f, uint64_t keep,
				struct ana_trace_stats *st)
{
	return stats_pass(path, f, st, NULL, keep);
}

static void timeline_free(struct ana_timeline *tl)
{
	if (!tl)
		return;
	free(tl->cells);
	free(tl);
}

static int cmp_group_ns(const void *a, const void *b)
{
	const struct ana_tl_group *x = a, *y = b;

	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return x->tgid < y->tgid ? -1 : x->tgid > y->tgid;
}

/*
 * timeline_finish - each column's longest-running task, its comm, and the
 * thread groups with the most run time in the window (ix: the task table).
 */
static void timeline_finish(struct ana_timeline *tl, const struct ds_task_index *ix)
{
	struct ana_tl_group *g = NULL;
	size_t ng = 0, alloc = 0;

	for (size_t i = 0; i < (size_t)tl->nr_rows * ANA_TL_COLS; i++) {
		struct ana_tl_cell *cell = &tl->cells[i];
		const struct ds_task *row;
		int32_t tgid;
		size_t k;
		int best = -1;

		for (int j = 0; j < ANA_TL_SLOTS; j++)
			if (cell->slot_pid[j] && (best < 0 || cell->slot_ns[j] > cell->slot_ns[best]))
				best = j;
		cell->group = -1;
		if (best < 0)
			continue;
		cell->pid = cell->slot_pid[best];
		cell->pid_ns = cell->slot_ns[best];
		row = ds_task_index_find(ix, cell->pid, tl->start_ns +
					 (tl->end_ns - tl->start_ns) / ANA_TL_COLS * (i % ANA_TL_COLS));
		if (row)
			memcpy(cell->comm, row->comm, DS_COMM_LEN);
		/* the groups' run time: every followed task of every column */
		for (int j = 0; j < ANA_TL_SLOTS; j++) {
			if (!cell->slot_pid[j])
				continue;
			row = ds_task_index_find(ix, cell->slot_pid[j], UINT64_MAX);
			tgid = row && row->tgid >= 0 ? row->tgid : cell->slot_pid[j];
			for (k = 0; k < ng; k++)
				if (g[k].tgid == tgid)
					break;
			if (k == ng) {
				const struct ds_task *lead = ds_task_index_find(ix, tgid, UINT64_MAX);

				ALLOC_GROW(g, ng + 1, alloc);
				memset(&g[ng], 0, sizeof(g[ng]));
				g[ng].tgid = tgid;
				if (lead || row)
					memcpy(g[ng].comm, (lead ? lead : row)->comm, DS_COMM_LEN);
				ng++;
			}
			g[k].ns += cell->slot_ns[j];
		}
	}
	qsort(g, ng, sizeof(*g), cmp_group_ns);
	tl->nr_groups = (int)SC_MIN(ng, (size_t)ANA_TL_GROUPS);
	memcpy(tl->groups, g, (size_t)tl->nr_groups * sizeof(*g));
	for (size_t k = (size_t)tl->nr_groups; k < ng; k++)
		tl->other_ns += g[k].ns;
	free(g);
	for (size_t i = 0; i < (size_t)tl->nr_rows * ANA_TL_COLS; i++) {
		struct ana_tl_cell *cell = &tl->cells[i];
		const struct ds_task *row;
		int32_t tgid;

		if (!cell->pid)
			continue;
		row = ds_task_index_find(ix, cell->pid, UINT64_MAX);
		tgid = row && row->tgid >= 0 ? row->tgid : cell->pid;
		for (int k = 0; k < tl->nr_groups; k++)
			if (tl->groups[k].tgid == tgid)
				cell->group = k;
	}
}

int ana_timeline_compute(struct ana_trace_stats *st, const struct ds_filter *f)
{
	struct ds_filter win = DS_FILTER_INIT;
	struct ana_trace_stats tmp;
	struct ana_timeline *tl = xcalloc(1, sizeof(*tl));
	struct ds_trace_reader *r;
	struct ds_task_index ix;
	const struct ds_task *tt;
	uint64_t nt;

	if (f)
		win = *f;	/* a shallow copy: its lists stay f's */
	if (st->windowed) {
		tl->start_ns = st->start_ns;
		tl->end_ns = st->end_ns;
	} else {
		tl->busiest = 1;
		tl->start_ns = st->busiest_ns;
		tl->end_ns = SC_MIN(st->busiest_ns + NSEC_PER_SEC, st->end_ns);
	}
	win.has_time = 1;
	win.start_ns = tl->start_ns;
	win.end_ns = tl->end_ns;
	if (stats_pass(st->path, &win, &tmp, tl, 0)) {
		timeline_free(tl);
		return -1;
	}
	ana_trace_stats_release(&tmp);
	r = ds_trace_open(st->path);
	if (!r) {
		timeline_free(tl);
		return -1;
	}
	tt = ds_trace_tasks(r, &nt);
	ds_task_index_init(&ix, tt, tt ? nt : 0);
	ds_trace_close(r);
	timeline_finish(tl, &ix);
	ds_task_index_release(&ix);
	timeline_free(st->timeline);
	st->timeline = tl;
	return 0;
}

void ana_trace_stats_release(struct ana_trace_stats *st)
{
	timeline_free(st->timeline);
	ana_hist_free(st->wake_hist);
	ana_hist_free(st->preempt_hist);
	for (uint64_t i = 0; i < st->nr_tasks; i++)
		ana_hist_free(st->tasks[i].delays);
	free(st->tasks);
	free(st->cpus);
	free(st->migrations);
	free(st->path);
	memset(st, 0, sizeof(*st));
}
