// SPDX-License-Identifier: GPL-2.0
/*
 * Reading a windows file version 3: it stores the events the engine
 * consumed, not the candidates; this runs the engine over them again, in the
 * order and with the calls the `features` command made (feat_decision() on
 * every sched_switch, then feat_apply() on every event), so each decision's
 * candidates, windows and state are those `features` would have written.
 * The writer's engine only selected the candidates (select_only), which
 * leaves the same state: the features are computed from it, never into it.
 *
 * The completed episodes, which a stateful model steps on, are taken at
 * every decision as the version 2 writer stored them (a decision's ep_off
 * counts those before it).  Their readers go through them at their own pace
 * (eval and train a block behind, train's validation from the start each
 * epoch), so a second engine, which only selects candidates, replays them
 * on demand: forward as they are asked for, from the first event again when
 * an earlier one is.  Memory: two engines and the episodes of one request.
 */
#include <stdlib.h>
#include <string.h>

#include "features/features-local.h"

#define REPLAY_EVENTS 8192	/* event rows read at a time */

/* struct cursor - an engine at some event of the file */
struct cursor {
	struct feat_state *st;
	uint64_t pos;			/* next event row to apply */
	int trace;			/* the trace being replayed, -1 before the first */
	uint64_t last_ts;		/* of the last event applied in this trace */
	uint64_t ep_count;		/* episodes taken at decisions so far */
	struct ds_event *buf;		/* (REPLAY_EVENTS) rows [buf_start, +buf_n) */
	uint64_t buf_start, buf_n;
};

struct feat_replay {
	const char *path;
	const struct ds_windows *hdr;	/* the reader's */
	struct feat_opts fo;
	struct cursor dec;		/* the decisions' (features computed) */
	struct cursor ep;		/* the episodes' (candidates only selected) */
	uint64_t ep_base, ep_n, ep_alloc;	/* held: episodes [ep_base, +ep_n) */
	uint32_t *ep_task;		/* (ep_alloc) */
	int16_t *ep_rows;		/* (ep_alloc, FEAT_E) */
};

static void cursor_release(struct cursor *c)
{
	feat_state_free(c->st);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

/* cursor_restart - a new engine before the first event (task ids from 0 again) */
static int cursor_restart(struct feat_replay *p, struct cursor *c)
{
	feat_state_free(c->st);
	c->st = feat_state_new(&p->fo, 1);
	c->pos = 0;
	c->trace = -1;
	c->last_ts = 0;
	c->ep_count = 0;
	if (!c->buf)
		c->buf = xmallocarray(REPLAY_EVENTS, sizeof(*c->buf));
	if (!c->st)
		return -1;
	c->st->windows_too = 1;
	return 0;
}

static void replay_close(void *ctx)
{
	struct feat_replay *p = ctx;

	if (!p)
		return;
	cursor_release(&p->dec);
	cursor_release(&p->ep);
	free(p->ep_task);
	free(p->ep_rows);
	free(p);
}

static void *replay_open(const char *path, const struct ds_windows *h)
{
	struct feat_replay *p;
	int set, i;

	for (i = 0; i < h->E && h->E == FEAT_E; i++)
		if (strcmp(h->ep_names[i], feat_ep_desc[i].name) ||
		    h->ep_frac[i] != feat_ep_desc[i].frac)
			break;
	set = feat_set_of(h->state_names, h->state_frac, h->S);
	if (h->E != FEAT_E || i < h->E || set < 0 || h->K < 1 || h->K > FEAT_K_MAX) {
		error("cannot read '%s': its features are not this schedcast's (rewrite it "
		      "with 'schedcast features')", path);
		return NULL;
	}
	p = xcalloc(1, sizeof(*p));
	p->path = path;
	p->hdr = h;
	p->fo = (struct feat_opts){ .mode = DS_WIN_CANDIDATES, .K = h->K, .state_set = set,
				    .episodes = 1 };
	if (cursor_restart(p, &p->dec) || cursor_restart(p, &p->ep)) {
		replay_close(p);
		return NULL;
	}
	return p;
}

/* event_at - the event at row c->pos, read in chunks and checked */
static const struct ds_event *event_at(struct feat_replay *p, struct cursor *c,
				       struct ds_windows_reader *r)
{
	const struct ds_windows *h = p->hdr;
	const struct ds_event *ev;

	if (c->pos < c->buf_start || c->pos - c->buf_start >= c->buf_n) {
		uint64_t n = SC_MIN((uint64_t)REPLAY_EVENTS, h->n_events - c->pos);

		if (ds_windows_read_events(r, c->pos, n, c->buf))
			return NULL;
		c->buf_start = c->pos;
		c->buf_n = n;
	}
	ev = &c->buf[c->pos - c->buf_start];
	if (ev->type >= DS_EV_MAX || ev->cpu < 0 || ev->cpu >= h->trace_ev[c->trace].nr_cpus ||
	    (c->pos > h->trace_ev[c->trace].ev_start && ev->ts < c->last_ts)) {
		error("cannot read '%s': event %llu is invalid (type %d, cpu %d)", p->path,
		      (unsigned long long)c->pos, ev->type, ev->cpu);
		return NULL;
	}
	return ev;
}

/* hold - keep the episodes taken now, those from p->ep_base on */
static void hold(struct feat_replay *p, const uint32_t *task, const int16_t *rows, size_t n,
		 uint64_t first)
{
	size_t skip = first < p->ep_base ? (size_t)SC_MIN((uint64_t)n, p->ep_base - first) : 0;

	n -= skip;
	if (!n)
		return;
	if (p->ep_n + n > p->ep_alloc) {
		p->ep_alloc = SC_MAX(p->ep_n + n, 2 * p->ep_alloc);
		p->ep_task = xreallocarray(p->ep_task, p->ep_alloc, sizeof(*p->ep_task));
		p->ep_rows = xreallocarray(p->ep_rows, p->ep_alloc * FEAT_E, sizeof(*p->ep_rows));
	}
	memcpy(p->ep_task + p->ep_n, task + skip, n * sizeof(*task));
	memcpy(p->ep_rows + p->ep_n * FEAT_E, rows + skip * FEAT_E, n * FEAT_E * sizeof(*rows));
	p->ep_n += n;
}

/*
 * step - the event at c->pos, its decision made if it is a sched_switch
 * (into out, features computed, when out is given: it must be one) and the
 * episodes taken there counted (and held, for the episodes' cursor).  The
 * event is not applied yet: apply() does.  NULL after an error (printed).
 */
static const struct ds_event *step(struct feat_replay *p, struct cursor *c,
				   struct ds_windows_reader *r, struct feat_decision_out *out)
{
	const struct ds_windows *h = p->hdr;
	struct feat_decision_out tmp;
	const struct ds_event *ev;

	while (c->trace + 1 < h->nr_traces && c->pos >= h->trace_ev[c->trace + 1].ev_start) {
		const struct ds_windows_trace *tr = &h->trace_ev[++c->trace];

		feat_state_reset(c->st, tr->nr_cpus, tr->events_recorded);
		c->last_ts = 0;
	}
	if (c->trace < 0 || c->pos >= h->n_events) {
		error("cannot read '%s': event %llu is in no trace", p->path,
		      (unsigned long long)c->pos);
		return NULL;
	}
	ev = event_at(p, c, r);
	if (!ev)
		return NULL;
	if (ev->type == DS_EV_SWITCH) {
		const uint32_t *task;
		const int16_t *rows;
		size_t n;
		int rc;

		c->st->select_only = !out;
		rc = feat_decision(c->st, ev, out ? out : &tmp);
		if (rc != 1 && out) {
			error("cannot read '%s': event %llu is no decision", p->path,
			      (unsigned long long)c->pos);
			return NULL;
		}
		if (rc == 1) {
			n = feat_take_episodes(c->st, &task, &rows);
			if (c == &p->ep)
				hold(p, task, rows, n, c->ep_count);
			c->ep_count += n;
		}
	} else if (out) {
		error("cannot read '%s': event %llu is no decision", p->path,
		      (unsigned long long)c->pos);
		return NULL;
	}
	return ev;
}

static int apply(struct feat_replay *p, struct cursor *c, const struct ds_event *ev)
{
	if (feat_apply(c->st, ev))
		return error("cannot read '%s': invalid event %llu", p->path,
			     (unsigned long long)c->pos);
	c->last_ts = ev->ts;
	c->pos++;
	return 0;
}

static int replay_fill(void *ctx, struct ds_windows_reader *r, uint64_t start,
		       struct ds_decision *dec, uint64_t n, struct ds_candidate *cand,
		       int16_t *window, int16_t *state)
{
	struct feat_replay *p = ctx;
	struct cursor *c = &p->dec;
	size_t KE = (size_t)p->hdr->K * FEAT_E, S = (size_t)p->hdr->S;
	uint64_t c0 = n ? dec[0].cand_off : 0;

	for (uint64_t i = 0; i < n; i++) {
		struct ds_decision *d = &dec[i];
		struct feat_decision_out out;
		const struct ds_event *ev;
		size_t at = d->cand_off - c0;

		if (d->ev_off < c->pos && cursor_restart(p, c))	/* back: start over */
			goto fail;
		while (c->pos < d->ev_off) {
			ev = step(p, c, r, NULL);
			if (!ev || apply(p, c, ev))
				goto fail;
		}
		ev = step(p, c, r, &out);
		if (!ev)
			goto fail;
		if (d->trace != c->trace || d->ts != ev->ts || d->cpu != out.cpu ||
		    d->ncand != out.ncand || d->label != out.label || d->next_pid != out.next_pid ||
		    d->prev_pid != out.prev_pid) {
			error("cannot read '%s': decision %llu is not what its event %llu gives",
			      p->path, (unsigned long long)(start + i), (unsigned long long)c->pos);
			goto fail;
		}
		d->ep_off = c->ep_count;
		for (int j = 0; j < out.ncand; j++)
			if (out.cand[j].task >= p->hdr->n_tasks) {
				error("cannot read '%s': decision %llu names task %u, the file has "
				      "%llu", p->path, (unsigned long long)(start + i),
				      out.cand[j].task, (unsigned long long)p->hdr->n_tasks);
				goto fail;
			}
		if (out.ncand) {
			memcpy(cand + at, out.cand, (size_t)out.ncand * sizeof(*cand));
			memcpy(window + at * KE, out.window,
			       (size_t)out.ncand * KE * sizeof(*window));
			memcpy(state + at * S, out.state, (size_t)out.ncand * S * sizeof(*state));
		}
		if (apply(p, c, ev))
			goto fail;
	}
	return 0;
fail:
	c->pos = UINT64_MAX;	/* the engine's state is unknown: the next read starts over */
	return -1;
}

static int replay_episodes(void *ctx, struct ds_windows_reader *r, uint64_t from, uint64_t n,
			   uint32_t *task, int16_t *rows)
{
	struct feat_replay *p = ctx;
	struct cursor *c = &p->ep;

	if (from < p->ep_base) {	/* back: start over */
		p->ep_base = p->ep_n = 0;
		if (cursor_restart(p, c))
			goto fail;
	}
	/* forget what lies before from */
	if (from > p->ep_base) {
		uint64_t drop = SC_MIN(from - p->ep_base, p->ep_n);

		memmove(p->ep_task, p->ep_task + drop, (p->ep_n - drop) * sizeof(*p->ep_task));
		memmove(p->ep_rows, p->ep_rows + drop * FEAT_E,
			(p->ep_n - drop) * FEAT_E * sizeof(*p->ep_rows));
		p->ep_n -= drop;
		p->ep_base = from;
	}
	while (p->ep_n < n) {
		const struct ds_event *ev;

		if (c->pos >= p->hdr->n_events) {
			error("cannot read '%s': episodes %llu..%llu out of range (%llu in all)",
			      p->path, (unsigned long long)from, (unsigned long long)(from + n),
			      (unsigned long long)c->ep_count);
			goto fail;
		}
		ev = step(p, c, r, NULL);
		if (!ev || apply(p, c, ev))
			goto fail;
	}
	for (uint64_t i = 0; i < n; i++)
		if (p->ep_task[i] >= p->hdr->n_tasks) {
			error("cannot read '%s': episode %llu names task %u, the file has %llu",
			      p->path, (unsigned long long)(from + i), p->ep_task[i],
			      (unsigned long long)p->hdr->n_tasks);
			goto fail;
		}
	memcpy(task, p->ep_task, n * sizeof(*task));
	memcpy(rows, p->ep_rows, n * FEAT_E * sizeof(*rows));
	return 0;
fail:
	c->pos = UINT64_MAX;
	p->ep_base = UINT64_MAX;	/* the next request starts over */
	p->ep_n = 0;
	return -1;
}

static const struct ds_windows_replay feat_replay_ops = {
	.open = replay_open,
	.fill = replay_fill,
	.episodes = replay_episodes,
	.close = replay_close,
};

struct ds_windows_reader *feat_windows_open(const char *path)
{
	return ds_windows_open_replay(path, &feat_replay_ops);
}

struct ds_windows *feat_windows_load(const char *path)
{
	return ds_windows_load_replay(path, &feat_replay_ops);
}
