// SPDX-License-Identifier: GPL-2.0
/*
 * The incremental runqueue model: tasks, per-CPU queues, repairs from
 * common_pid, and decisions.  The rules are in features/features.h.
 */
#include <stdlib.h>
#include <string.h>

#include "features/features-local.h"

#define MAX_CPUS 8192

/* ---- tasks -------------------------------------------------------------------- */

static uint64_t hash_pid(int32_t pid, uint64_t n)
{
	return ((uint32_t)pid * 2654435761u) & (n - 1);
}

static struct feat_task *task_find(const struct feat_state *st, int32_t pid)
{
	struct feat_task *t;

	for (t = st->hash[hash_pid(pid, st->nhash)]; t; t = t->hnext)
		if (t->pid == pid)
			return t;
	return NULL;
}

static void hash_grow(struct feat_state *st)
{
	uint64_t n = st->nhash * 2;
	struct feat_task **h = xcalloc(n, sizeof(*h));

	for (uint64_t i = 0; i < st->nhash; i++) {
		struct feat_task *t = st->hash[i], *next;

		for (; t; t = next) {
			uint64_t s = hash_pid(t->pid, n);

			next = t->hnext;
			t->hnext = h[s];
			h[s] = t;
		}
	}
	free(st->hash);
	st->hash = h;
	st->nhash = n;
}

static struct feat_task *task_new(struct feat_state *st, int32_t pid)
{
	struct feat_task *t = xcalloc(1, sizeof(*t));
	uint64_t s;

	if (st->nr_tasks + 1 > st->nhash)
		hash_grow(st);
	t->pid = pid;
	t->prio = -1;
	t->cpu = t->last_cpu = t->waker = -1;
	t->qidx = -1;
	t->uid = (uint32_t)st->next_uid++;
	t->ep = st->opts.mode == DS_WIN_CANDIDATES
		    ? xcalloc((size_t)st->opts.K * FEAT_E, sizeof(*t->ep))
		    : NULL;
	s = hash_pid(pid, st->nhash);
	t->hnext = st->hash[s];
	st->hash[s] = t;
	st->nr_tasks++;
	return t;
}

/* task_get - the record of pid (> 0), created if new; comm and prio updated if given */
static struct feat_task *task_get(struct feat_state *st, int32_t pid, const char *comm,
				  int32_t prio)
{
	struct feat_task *t = task_find(st, pid);

	if (!t)
		t = task_new(st, pid);
	if (comm && comm[0])
		memcpy(t->comm, comm, DS_COMM_LEN);
	if (prio >= 0)
		t->prio = prio;
	return t;
}

static void dequeue(struct feat_state *st, struct feat_task *t)
{
	struct feat_cpu *c;

	if (t->st != FT_QUEUED)
		return;
	c = &st->cpus[t->cpu];
	/* keep the order tasks joined in: candidates are sorted by it */
	memmove(c->q + t->qidx, c->q + t->qidx + 1, (size_t)(c->nq - t->qidx - 1) * sizeof(*c->q));
	c->nq--;
	for (int i = t->qidx; i < c->nq; i++)
		c->q[i]->qidx = i;
	t->qidx = -1;
	t->st = FT_UNKNOWN;
}

static void enqueue(struct feat_state *st, struct feat_task *t, int cpu, uint64_t ts)
{
	struct feat_cpu *c = &st->cpus[cpu];

	dequeue(st, t);
	ALLOC_GROW(c->q, (size_t)c->nq + 1, c->alloc);
	t->qidx = c->nq;
	c->q[c->nq++] = t;
	t->st = FT_QUEUED;
	t->cpu = cpu;
	t->queued_ts = ts;
}

static void retire(struct feat_state *st, const struct feat_task *t)
{
	if (!st->opts.retired)
		return;
	if (st->n_retired == st->retired_alloc) {
		st->retired_alloc = SC_MAX((size_t)64, st->retired_alloc * 2);
		st->retired = xreallocarray(st->retired, st->retired_alloc, sizeof(uint32_t));
	}
	st->retired[st->n_retired++] = t->uid;
}

static void task_free(struct feat_state *st, struct feat_task *t)
{
	struct feat_task **p = &st->hash[hash_pid(t->pid, st->nhash)];

	dequeue(st, t);
	if (t->st == FT_RUNNING && st->cpus[t->cpu].curr == t->pid)
		st->cpus[t->cpu].curr = -1;
	while (*p != t)
		p = &(*p)->hnext;
	*p = t->hnext;
	st->nr_tasks--;
	retire(st, t);
	free(t->ep);
	free(t);
}

/* ---- state ------------------------------------------------------------------- */

static void cpus_release(struct feat_state *st)
{
	for (int i = 0; i < st->nr_cpus; i++) {
		free(st->cpus[i].q);
		free(st->cpus[i].hist_id);
		free(st->cpus[i].hist_ts);
	}
	free(st->cpus);
	st->cpus = NULL;
	st->nr_cpus = 0;
}

static void cpus_grow(struct feat_state *st, int nr)
{
	int W = st->opts.mode == DS_WIN_SEQUENCE ? st->opts.W : 0;

	if (nr <= st->nr_cpus)
		return;
	st->cpus = xreallocarray(st->cpus, (size_t)nr, sizeof(*st->cpus));
	memset(st->cpus + st->nr_cpus, 0, (size_t)(nr - st->nr_cpus) * sizeof(*st->cpus));
	for (int i = st->nr_cpus; i < nr; i++) {
		st->cpus[i].curr = -1;
		if (W) {
			st->cpus[i].hist_id = xcalloc((size_t)W, sizeof(int32_t));
			st->cpus[i].hist_ts = xcalloc((size_t)W, sizeof(uint64_t));
		}
	}
	st->nr_cpus = nr;
}

static void tasks_release(struct feat_state *st)
{
	for (uint64_t i = 0; i < st->nhash; i++) {
		struct feat_task *t = st->hash[i], *next;

		for (; t; t = next) {
			next = t->hnext;
			retire(st, t);
			free(t->ep);
			free(t);
		}
		st->hash[i] = NULL;
	}
	st->nr_tasks = 0;
}

struct feat_state *feat_state_new(const struct feat_opts *opts, int nr_cpus)
{
	struct feat_state *st;

	if (opts->mode != DS_WIN_CANDIDATES && opts->mode != DS_WIN_SEQUENCE) {
		error("invalid features mode %d", opts->mode);
		return NULL;
	}
	if (opts->mode == DS_WIN_CANDIDATES && (opts->K < 1 || opts->K > FEAT_K_MAX)) {
		error("invalid window length K=%d (1..%d)", opts->K, FEAT_K_MAX);
		return NULL;
	}
	if (opts->mode == DS_WIN_SEQUENCE &&
	    (opts->W < 1 || opts->W > FEAT_W_MAX || !opts->vocab)) {
		error("invalid sequence length W=%d (1..%d) or no vocabulary", opts->W, FEAT_W_MAX);
		return NULL;
	}
	if (nr_cpus < 1 || nr_cpus > MAX_CPUS) {
		error("invalid number of CPUs %d", nr_cpus);
		return NULL;
	}
	if (opts->state_set < 0 || opts->state_set >= FEAT_NR_SETS) {
		error("invalid state feature set %d", opts->state_set);
		return NULL;
	}
	st = xcalloc(1, sizeof(*st));
	st->opts = *opts;
	/* sequence mode has no state features: no counts either */
	st->S = opts->mode == DS_WIN_CANDIDATES ? feat_set_size(opts->state_set) : FEAT_S_BASIC;
	st->nhash = 1024;
	st->hash = xcalloc(st->nhash, sizeof(*st->hash));
	if (opts->mode == DS_WIN_SEQUENCE) {
		st->seq_ids = xcalloc((size_t)opts->W, sizeof(*st->seq_ids));
		st->seq_gaps = xcalloc((size_t)opts->W, sizeof(*st->seq_gaps));
	}
	feat_state_reset(st, nr_cpus, opts->events_recorded);
	return st;
}

void feat_state_reset(struct feat_state *st, int nr_cpus, uint32_t events_recorded)
{
	tasks_release(st);
	cpus_release(st);
	st->n_pend = 0;		/* episodes after the last decision: nothing refers to them */
	cpus_grow(st, SC_MAX(1, SC_MIN(nr_cpus, MAX_CPUS)));
	feat_counts_reset(st);
	st->recorded = events_recorded ? events_recorded : DS_EV_ALL_SCHED;
}

void feat_state_free(struct feat_state *st)
{
	if (!st)
		return;
	tasks_release(st);
	free(st->hash);
	cpus_release(st);
	free(st->sel);
	free(st->rank);
	free(st->counts);
	free(st->count_tags);
	free(st->cand);
	free(st->window);
	free(st->state);
	free(st->seq_ids);
	free(st->seq_gaps);
	free(st->pend_task);
	free(st->pend_ep);
	free(st->retired);
	free(st);
}

const struct ds_coverage *feat_coverage(const struct feat_state *st)
{
	return &st->cov;
}

uint64_t feat_nr_tasks(const struct feat_state *st)
{
	return st->nr_tasks;
}

/* ---- transitions ------------------------------------------------------------- */

static void hist_push(struct feat_state *st, int cpu, const struct feat_task *t, uint64_t ts)
{
	struct feat_cpu *c = &st->cpus[cpu];
	int W = st->opts.W;

	if (st->opts.mode != DS_WIN_SEQUENCE)
		return;
	c->hist_id[c->hist_head] = feat_vocab_id(st->opts.vocab, t->pid, t->comm);
	c->hist_ts[c->hist_head] = ts;
	c->hist_head = (c->hist_head + 1) % W;
	if (c->hist_nr < W)
		c->hist_nr++;
}

/*
 * The task pid starts running on cpu at ts (pid 0: the CPU goes idle).  Its
 * wait ends: the episode's wait part is taken from how it became runnable.
 */
static void switch_in(struct feat_state *st, int cpu, int32_t pid, const char *comm,
		      int32_t prio, uint64_t ts)
{
	struct feat_cpu *c = &st->cpus[cpu];
	struct feat_task *t;

	c->curr = pid;
	if (pid == 0) {
		c->idle_since = ts;
		return;
	}
	t = task_get(st, pid, comm, prio);
	if (t->st == FT_RUNNING && t->cpu != cpu && st->cpus[t->cpu].curr == pid)
		st->cpus[t->cpu].curr = -1;	/* a switch we never saw elsewhere */
	memset(&t->cur, 0, sizeof(t->cur));
	t->cur_valid = t->st == FT_QUEUED;
	if (t->cur_valid) {
		t->cur.wait_ns = ts > t->wait_ts ? ts - t->wait_ts : 0;
		/* the wait set's usual wait: each new wait weighs a quarter */
		t->wait_avg_ns = t->has_wait_avg ? (3 * t->wait_avg_ns + t->cur.wait_ns) / 4
						 : t->cur.wait_ns;
		t->has_wait_avg = 1;
		t->cur.sleep_ns = t->sleep_ns;
		t->cur.wait_kind = t->wait_kind;
	}
	t->cur.prio = t->prio;
	t->cur.cpu_changed = t->has_run && t->last_cpu != cpu;
	dequeue(st, t);
	t->st = FT_RUNNING;
	t->cpu = cpu;
	t->run_ts = ts;
	hist_push(st, cpu, t, ts);
}

static void take_episode(struct feat_state *st, const struct feat_task *t, const int16_t *row)
{
	if (st->n_pend + 1 > st->pend_alloc) {
		st->pend_alloc = SC_MAX((size_t)64, st->pend_alloc * 2);
		st->pend_task = xreallocarray(st->pend_task, st->pend_alloc, sizeof(uint32_t));
		st->pend_ep = xreallocarray(st->pend_ep, st->pend_alloc * FEAT_E, sizeof(int16_t));
	}
	st->pend_task[st->n_pend] = t->uid;
	memcpy(st->pend_ep + st->n_pend * FEAT_E, row, FEAT_E * sizeof(*row));
	st->n_pend++;
}

size_t feat_take_retired(struct feat_state *st, const uint32_t **task)
{
	size_t n = st->n_retired;

	*task = st->retired;
	st->n_retired = 0;
	return n;
}

size_t feat_take_episodes(struct feat_state *st, const uint32_t **task, const int16_t **rows)
{
	size_t n = st->n_pend;

	*task = st->pend_task;
	*rows = st->pend_ep;
	st->n_pend = 0;
	return n;
}

/*
 * pid (> 0) stops running on cpu at ts with prev_state (-1: unknown).  A
 * burst we saw begin completes an episode.
 */
static void switch_out(struct feat_state *st, int cpu, int32_t pid, const char *comm,
		       int32_t prio, int64_t state, uint64_t ts)
{
	struct feat_task *t = task_get(st, pid, comm, prio);
	int was_running = t->st == FT_RUNNING && t->cpu == cpu;
	int dead = t->exiting || (state >= 0 && (state & (DS_STATE_DEAD | DS_STATE_ZOMBIE)));
	int runnable = state >= 0 && ds_state_runnable(state) && !dead;

	dequeue(st, t);		/* it ran, so it was queued nowhere (a missed switch-in) */
	if (was_running) {
		feat_add_run(t, t->run_ts, ts);
		if (t->cur_valid && t->ep && state >= 0) {
			struct feat_episode e = t->cur;

			e.burst_ns = ts > t->run_ts ? ts - t->run_ts : 0;
			e.out_runnable = (uint8_t)runnable;
			e.out_blocked = state >= 0 && (state & DS_STATE_UNINTERRUPTIBLE) && !dead;
			feat_episode_features(&e, t->ep + (size_t)t->ep_head * FEAT_E);
			if (st->opts.episodes)
				take_episode(st, t, t->ep + (size_t)t->ep_head * FEAT_E);
			t->ep_head = (t->ep_head + 1) % st->opts.K;
			if (t->ep_nr < st->opts.K)
				t->ep_nr++;
			if (t->n_ep < UINT32_MAX)
				t->n_ep++;
		}
	}
	t->cur_valid = 0;
	if (was_running || state >= 0) {
		t->has_run = 1;
		t->out_ts = ts;
		t->last_cpu = cpu;
	}
	if (dead) {
		task_free(st, t);
		return;
	}
	if (runnable) {
		enqueue(st, t, cpu, ts);
		t->wait_ts = ts;
		t->wait_kind = FW_PREEMPTED;
		t->sleep_ns = 0;
	} else if (state >= 0) {
		t->st = FT_SLEEPING;
	} else {
		t->st = FT_UNKNOWN;
	}
}

/* Make the state agree that `who` is on cpu at ts; count an inferred switch. */
static void repair(struct feat_state *st, int cpu, int32_t who, uint64_t ts)
{
	struct feat_cpu *c = &st->cpus[cpu];
	uint64_t t_in = ts;

	if (who < 0 || c->curr == who)
		return;
	struct feat_task *t;
	int known_start = 0;

	if (c->curr < 0) {
		/* Nothing known about this CPU yet: learn, no switch to count. */
		t = who ? task_find(st, who) : NULL;
		if (t && t->st == FT_RUNNING && t->cpu == cpu) {
			c->curr = who;
			return;
		}
	} else {
		st->cov.inferred_switches++;
		if (c->curr > 0)
			switch_out(st, cpu, c->curr, NULL, -1, -1, ts);
		t = who > 0 ? task_find(st, who) : NULL;
		if (t && c->curr == 0 && t->st == FT_QUEUED && t->cpu == cpu) {
			/* An idle CPU runs a task queued on it at once. */
			t_in = SC_MAX(t->queued_ts, c->idle_since);
			known_start = 1;
		}
	}
	switch_in(st, cpu, who, NULL, -1, t_in);
	if (who > 0 && !known_start) {
		/* When it began to run is unknown: its burst makes no episode. */
		t = task_find(st, who);
		if (t)
			t->cur_valid = 0;
	}
}

static int check_cpu(struct feat_state *st, int cpu)
{
	if (cpu < 0 || cpu >= MAX_CPUS)
		return -1;
	cpus_grow(st, cpu + 1);
	return 0;
}

static void repair_event(struct feat_state *st, const struct ds_event *ev)
{
	int32_t who = ev->type == DS_EV_SWITCH && ev->pid >= 0 ? ev->pid : ev->common_pid;

	if (ev->type == DS_EV_LOST || check_cpu(st, ev->cpu))
		return;
	repair(st, ev->cpu, who, ev->ts);
}

static void wakeup(struct feat_state *st, const struct ds_event *ev, int kind)
{
	struct feat_task *t;
	int target = ev->target_cpu >= 0 ? ev->target_cpu : ev->cpu;

	if (ev->pid <= 0 || check_cpu(st, target))
		return;
	t = task_get(st, ev->pid, ev->comm, ev->prio);
	if (t->st == FT_RUNNING || t->st == FT_QUEUED)
		return;		/* already runnable: nothing changes */
	t->sleep_ns = t->st == FT_SLEEPING && t->has_run && ev->ts > t->out_ts ?
		      ev->ts - t->out_ts : 0;
	enqueue(st, t, target, ev->ts);
	t->wait_ts = ev->ts;
	t->wait_kind = (uint8_t)kind;
	/* The waker is in the sched_waking, when there was one (see feat_apply). */
	if (!t->waker_set || ev->type == DS_EV_WAKING || kind == FW_NEW)
		t->waker = ev->common_pid;
	t->waker_set = 0;
}

static void lost_reset(struct feat_state *st, int cpu)
{
	struct feat_cpu *c = &st->cpus[cpu];

	while (c->nq)
		dequeue(st, c->q[0]);
	if (c->curr > 0) {
		struct feat_task *t = task_find(st, c->curr);

		if (t && t->st == FT_RUNNING && t->cpu == cpu) {
			t->st = FT_UNKNOWN;
			t->cur_valid = 0;
		}
	}
	c->curr = -1;
	c->hist_nr = 0;
	c->hist_head = 0;
	feat_counts_forget(st, cpu);
	st->cov.lost_resets++;
}

int feat_apply(struct feat_state *st, const struct ds_event *ev)
{
	struct feat_task *t;

	if (ev->type >= DS_EV_MAX || check_cpu(st, ev->cpu))
		return error("invalid event (type %d, cpu %d)", ev->type, ev->cpu);
	repair_event(st, ev);
	switch (ev->type) {
	case DS_EV_SWITCH:
		/* a decision (feat_decision() returned 1): learn its pick */
		if (ev->next_pid > 0)
			feat_counts_learn(st, ev->cpu, ev->next_pid, ev->next_comm);
		if (ev->pid > 0)
			switch_out(st, ev->cpu, ev->pid, ev->comm, ev->prio, ev->state, ev->ts);
		if (ev->next_pid >= 0)
			switch_in(st, ev->cpu, ev->next_pid, ev->next_comm, ev->next_prio, ev->ts);
		else
			st->cpus[ev->cpu].curr = -1;
		break;
	case DS_EV_WAKEUP:
		wakeup(st, ev, FW_WOKEN);
		break;
	case DS_EV_WAKING:
		if (!(st->recorded & DS_EV_BIT(DS_EV_WAKEUP))) {
			wakeup(st, ev, FW_WOKEN);
		} else if (ev->pid > 0) {
			t = task_get(st, ev->pid, ev->comm, ev->prio);
			t->waker = ev->common_pid;
			t->waker_set = 1;
		}
		break;
	case DS_EV_WAKEUP_NEW:
		wakeup(st, ev, FW_NEW);
		break;
	case DS_EV_MIGRATE:
		if (ev->pid <= 0 || check_cpu(st, ev->dest_cpu))
			break;
		t = task_get(st, ev->pid, ev->comm, ev->prio);
		if (t->st == FT_QUEUED && t->cpu != ev->dest_cpu)
			enqueue(st, t, ev->dest_cpu, ev->ts);
		else if (t->st != FT_RUNNING && t->st != FT_QUEUED)
			t->cpu = ev->dest_cpu;
		break;
	case DS_EV_FORK:
		if (ev->next_pid <= 0)
			break;
		t = task_find(st, ev->next_pid);
		if (t)
			task_free(st, t);	/* a reused pid starts afresh */
		t = task_get(st, ev->next_pid, ev->next_comm, -1);
		if (ev->pid > 0) {
			struct feat_task *parent = task_find(st, ev->pid);

			if (parent)
				t->prio = parent->prio;
		}
		if (!(st->recorded & DS_EV_BIT(DS_EV_WAKEUP_NEW)))
			wakeup(st, &(struct ds_event){ .ts = ev->ts, .cpu = ev->cpu,
				       .common_pid = ev->common_pid, .pid = ev->next_pid,
				       .prio = -1, .target_cpu = ev->cpu,
				       .type = DS_EV_WAKEUP_NEW }, FW_NEW);
		break;
	case DS_EV_EXIT:
		if (ev->pid <= 0)
			break;
		t = task_find(st, ev->pid);
		if (t) {
			t->exiting = 1;
			if (t->st != FT_RUNNING)
				task_free(st, t);
		}
		break;
	case DS_EV_LOST:
		lost_reset(st, ev->cpu);
		break;
	}
	return 0;
}

/* ---- decisions ----------------------------------------------------------------- */

static int cmp_queued(const void *a, const void *b)
{
	const struct feat_task *x = *(const struct feat_task *const *)a;
	const struct feat_task *y = *(const struct feat_task *const *)b;

	if (x->queued_ts != y->queued_ts)
		return x->queued_ts < y->queued_ts ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void grow_out(struct feat_state *st, int n)
{
	if (n <= st->cap)
		return;
	st->cap = SC_MAX(n, st->cap * 2);
	st->sel = xreallocarray(st->sel, (size_t)st->cap, sizeof(*st->sel));
	/* twice: counts.c's merge sort takes its second half */
	st->rank = xreallocarray(st->rank, 2 * (size_t)st->cap, sizeof(*st->rank));
	st->cand = xreallocarray(st->cand, (size_t)st->cap, sizeof(*st->cand));
	st->window = xreallocarray(st->window, (size_t)st->cap * st->opts.K * FEAT_E,
				   sizeof(*st->window));
	st->state = xreallocarray(st->state, (size_t)st->cap * st->S, sizeof(*st->state));
}

static void fill_sequence(struct feat_state *st, const struct feat_cpu *c, uint64_t now)
{
	int W = st->opts.W, pad = W - c->hist_nr;

	for (int i = 0; i < W; i++) {
		st->seq_ids[i] = -1;
		st->seq_gaps[i] = 0;
	}
	for (int i = 0; i < c->hist_nr; i++) {
		int k = (c->hist_head - c->hist_nr + i + W) % W;
		uint64_t next = i + 1 < c->hist_nr ? c->hist_ts[(k + 1) % W] : now;

		st->seq_ids[pad + i] = c->hist_id[k];
		st->seq_gaps[pad + i] =
		    feat_log2us(next > c->hist_ts[k] ? next - c->hist_ts[k] : 0);
	}
}

int feat_decision(struct feat_state *st, const struct ds_event *sw, struct feat_decision_out *out)
{
	struct feat_cpu *c;
	int n = 0, label = -1;

	if (sw->type != DS_EV_SWITCH || check_cpu(st, sw->cpu))
		return 0;
	repair_event(st, sw);
	if (sw->next_pid <= 0)
		return 0;
	c = &st->cpus[sw->cpu];
	memset(out, 0, sizeof(*out));
	out->ts = sw->ts;
	out->cpu = sw->cpu;
	out->prev_pid = c->curr >= 0 ? c->curr : sw->pid;
	out->next_pid = sw->next_pid;
	st->cov.decisions++;

	if (st->opts.mode == DS_WIN_SEQUENCE) {
		fill_sequence(st, c, sw->ts);
		out->label = feat_vocab_id(st->opts.vocab, sw->next_pid, sw->next_comm);
		out->seq_ids = st->seq_ids;
		out->seq_gaps = st->seq_gaps;
		if (out->label)
			st->cov.covered++;
		return 1;
	}

	grow_out(st, c->nq);
	for (int i = 0; i < c->nq; i++)
		if (c->q[i]->pid != out->prev_pid)
			st->sel[n++] = c->q[i];
	/*
	 * Insertion sort: the queue is kept in the order tasks joined it
	 * (dequeue() preserves it), nearly the sorted order, so this is linear
	 * where qsort was not.  The order is the same: cmp_queued is total.
	 */
	for (int i = 1; i < n; i++) {
		struct feat_task *t = st->sel[i];
		int j = i;

		for (; j > 0 && cmp_queued(&st->sel[j - 1], &t) > 0; j--)
			st->sel[j] = st->sel[j - 1];
		st->sel[j] = t;
	}
	if (st->select_only) {
		for (int i = 0; i < n && label < 0; i++)
			if (st->sel[i]->pid == sw->next_pid)
				label = i;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		const struct feat_task *t = st->sel[i];

		if (!st->opts.episodes || st->windows_too)
			feat_fill_window(st, t, st->window + (size_t)i * st->opts.K * FEAT_E);
		feat_fill_state(st, t, sw->cpu, sw->ts, out->prev_pid, i == 0,
				st->state + (size_t)i * st->S, &st->cand[i]);
		if (t->pid == sw->next_pid)
			label = i;
	}
	feat_fill_full(st, sw->cpu, st->sel, n, st->cand,
		       out->prev_pid > 0 ? task_find(st, out->prev_pid) : NULL, st->state);
	out->cand = st->cand;
	out->window = st->opts.episodes && !st->windows_too ? NULL : st->window;
	out->state = st->state;
out:
	out->ncand = n;
	out->S = st->S;
	out->label = label;
	st->cov.cand_hist[SC_MIN(n, DS_CAND_HIST - 1)]++;
	if (label >= 0)
		st->cov.covered++;
	if (n >= 2) {
		st->cov.contested++;
		if (label >= 0)
			st->cov.contested_covered++;
	}
	return 1;
}
