// SPDX-License-Identifier: GPL-2.0
/*
 * The offline driver: stream trace files through the engine into a windows
 * file.  Memory: one trace reader, the engine (bounded by tasks) and the
 * writer's blocks; never the events.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/filter.h"
#include "features/features-local.h"

int feat_split_of(uint64_t ts, uint64_t start, uint64_t end, const int split[3])
{
	uint64_t span, b1, b2;
	int s;

	if (end <= start)
		s = 0;
	else {
		span = end - start;
		b1 =
		    start + span / 100 * (uint64_t)split[0] + span % 100 * (uint64_t)split[0] / 100;
		b2 = start + span / 100 * (uint64_t)(split[0] + split[1]) +
		     span % 100 * (uint64_t)(split[0] + split[1]) / 100;
		s = ts < b1 ? DS_SPLIT_TRAIN : ts < b2 ? DS_SPLIT_VAL : DS_SPLIT_TEST;
	}
	/* An empty split takes nothing: fall back on the nearest earlier one. */
	while (s > 0 && !split[s])
		s--;
	while (s < 2 && !split[s])
		s++;
	return s;
}

/*
 * The span a trace's split divides: its own, cut to --time (so that the
 * decisions written are split 70/15/15 of what was chosen).
 */
static void split_span(const struct ds_trace_meta *m, const struct ds_filter *f, uint64_t *start,
		       uint64_t *end)
{
	*start = m->start_ns;
	*end = m->end_ns;
	if (f && f->has_time) {
		*start = SC_MAX(*start, f->start_ns);
		*end = SC_MAX(SC_MIN(*end, f->end_ns), *start);
	}
}

/* keep - does the decision at (cpu, ts) picking pid pass the filters */
static int keep(const struct ds_filter *f, const struct ds_task_index *ix, int cpu, uint64_t ts,
		int32_t pid)
{
	return !f || (ds_filter_cpu(f, cpu) && ds_filter_time(f, ts) &&
		      ds_filter_task_at(f, ix, pid, ts));
}

/* count_kept - the coverage of the decisions written, as feat_decision() counts them all */
static void count_kept(struct ds_coverage *cov, int mode, const struct feat_decision_out *out)
{
	cov->decisions++;
	if (mode == DS_WIN_SEQUENCE) {
		cov->covered += !!out->label;
		return;
	}
	cov->cand_hist[SC_MIN(out->ncand, DS_CAND_HIST - 1)]++;
	cov->covered += out->label >= 0;
	if (out->ncand >= 2) {
		cov->contested++;
		cov->contested_covered += out->label >= 0;
	}
}

static int has_wakeups(const struct ds_trace_meta *m)
{
	uint32_t w = DS_EV_BIT(DS_EV_WAKEUP) | DS_EV_BIT(DS_EV_WAKING);

	if (!(m->events_recorded & w))
		return 0;
	return m->count_by_type[DS_EV_WAKEUP] + m->count_by_type[DS_EV_WAKING] > 0 ||
	       !m->count_by_type[DS_EV_SWITCH];
}

/* Open every input once before writing anything: fail early and clearly. */
static int check_inputs(const char *out, const char *const *traces, int n,
			const struct feat_extract_opts *o)
{
	struct stat so, si;
	int have_out = !stat(out, &so);

	for (int i = 0; i < n; i++) {
		struct ds_trace_reader *r;
		int ok;

		/* Renaming the output over an input would destroy it. */
		if (have_out && !stat(traces[i], &si) && si.st_dev == so.st_dev &&
		    si.st_ino == so.st_ino)
			return error("cannot write '%s': it is also the input '%s'", out,
				     traces[i]);
		r = ds_trace_open(traces[i]);

		if (!r)
			return -1;
		ok = o->mode != DS_WIN_CANDIDATES || has_wakeups(ds_trace_meta(r));
		ds_trace_close(r);
		if (!ok)
			return error("cannot use '%s' in candidates mode: it has no wakeup events "
				     "(sched_wakeup or sched_waking); use --mode sequence",
				     traces[i]);
	}
	return 0;
}

/* Sequence mode, first pass: count each identity's picks in the train split. */
static struct feat_vocab *build_vocab(const char *const *traces, int n,
				      const struct feat_extract_opts *o)
{
	struct feat_vocab *v = feat_vocab_new(o->vocab_by_pid);

	for (int i = 0; i < n; i++) {
		struct ds_trace_reader *r = ds_trace_open(traces[i]);
		struct ds_task_index ix;
		const struct ds_task *tt;
		uint64_t start, end, nt;
		struct ds_event ev;
		int rc;

		if (!r)
			goto fail;
		split_span(ds_trace_meta(r), o->filter, &start, &end);
		tt = ds_trace_tasks(r, &nt);
		ds_task_index_init(&ix, tt, tt ? nt : 0);
		while ((rc = ds_trace_next(r, &ev)) == 1) {
			if (ev.type != DS_EV_SWITCH || ev.next_pid <= 0)
				continue;
			if (feat_split_of(ev.ts, start, end, o->split) != DS_SPLIT_TRAIN ||
			    !keep(o->filter, &ix, ev.cpu, ev.ts, ev.next_pid))
				continue;
			feat_vocab_count(v, ev.next_pid, ev.next_comm);
		}
		ds_task_index_release(&ix);
		ds_trace_close(r);
		if (rc < 0)
			goto fail;
	}
	feat_vocab_freeze(v, o->vocab_size);
	return v;
fail:
	feat_vocab_free(v);
	return NULL;
}

static int run_trace(struct feat_state *st, struct ds_windows_writer *w, const char *path,
		     int idx, const struct feat_extract_opts *o, struct feat_extract_stats *stats)
{
	struct ds_trace_reader *r = ds_trace_open(path);
	const struct ds_trace_meta *m;
	struct feat_decision_out out;
	struct ds_task_index ix;
	const struct ds_task *tt;
	uint64_t start, end, nt;
	struct ds_event ev;
	int rc;

	if (!r)
		return -1;
	m = ds_trace_meta(r);
	split_span(m, o->filter, &start, &end);
	tt = ds_trace_tasks(r, &nt);
	ds_task_index_init(&ix, tt, tt ? nt : 0);
	feat_state_reset(st, m->nr_cpus, m->events_recorded);
	/* version 3: the events are the file, readers replay the engine from them */
	rc = st->select_only && ds_windows_begin_trace(w, m->nr_cpus, m->events_recorded) ? -1 : 1;
	while (rc == 1 && (rc = ds_trace_next(r, &ev)) == 1) {
		stats->events++;
		if (ev.type == DS_EV_SWITCH && feat_decision(st, &ev, &out) == 1) {
			const uint32_t *task;
			const int16_t *rows;
			size_t n_ep = feat_take_episodes(st, &task, &rows);
			struct ds_decision d = {
				.ts = ev.ts,
				.trace = idx,
				.cpu = out.cpu,
				.ncand = out.ncand,
				.label = out.label,
				.prev_pid = out.prev_pid,
				.next_pid = out.next_pid,
				.split = (uint8_t)feat_split_of(ev.ts, start, end, o->split),
			};
			int kept = keep(o->filter, &ix, out.cpu, ev.ts, out.next_pid);

			/* the episodes are stored whether or not the decision is kept */
			if ((n_ep && ds_windows_add_episodes(w, task, rows, n_ep)) ||
			    (kept && ds_windows_add(w, &d, out.cand, out.window, out.state,
						    out.seq_ids, out.seq_gaps))) {
				rc = -1;
				break;
			}
			if (kept) {
				stats->split_n[d.split]++;
				count_kept(&stats->cov, o->mode, &out);
			}
		}
		if (st->select_only && ds_windows_add_event(w, &ev)) {
			rc = -1;
			break;
		}
		if (feat_apply(st, &ev)) {
			rc = error("cannot use '%s': invalid event at %llu ns", path,
				   (unsigned long long)ev.ts);
			break;
		}
		stats->max_tasks = SC_MAX(stats->max_tasks, feat_nr_tasks(st));
	}
	ds_task_index_release(&ix);
	ds_trace_close(r);
	return rc < 0 ? -1 : 0;
}

int feat_extract(const char *out_path, const char *const *traces, int nr_traces,
		 const struct feat_extract_opts *o, struct feat_extract_stats *stats_out)
{
	struct feat_extract_stats stats = { 0 };
	struct feat_opts fo = {
		.mode = o->mode, .state_set = o->state_set, .K = o->K, .W = o->W,
		.episodes = o->mode == DS_WIN_CANDIDATES && o->version == 2,
	};
	int v3 = o->mode == DS_WIN_CANDIDATES && (!o->version || o->version >= 3);
	struct ds_windows hdr = { 0 };
	struct ds_windows_writer *w = NULL;
	struct feat_vocab *vocab = NULL;
	struct feat_state *st = NULL;
	char *ep_names[FEAT_E], *st_names[FEAT_S], *split = NULL;
	int8_t ep_frac[FEAT_E], st_frac[FEAT_S];
	const char *const *vnames = NULL;
	uint64_t nv = 0;
	int ret = -1;

	if (nr_traces < 1)
		return error("no trace given");
	if (o->split[0] < 0 || o->split[1] < 0 || o->split[2] < 0 ||
	    o->split[0] + o->split[1] + o->split[2] != 100)
		return error("invalid split %d,%d,%d: the percentages must add up to 100",
			     o->split[0], o->split[1], o->split[2]);
	if (check_inputs(out_path, traces, nr_traces, o))
		return -1;
	if (o->mode == DS_WIN_SEQUENCE) {
		vocab = build_vocab(traces, nr_traces, o);
		if (!vocab)
			return -1;
		fo.vocab = vocab;
		vnames = feat_vocab_names(vocab, &nv);
	}
	st = feat_state_new(&fo, 1);
	if (!st)
		goto out;
	st->select_only = v3;

	feat_set_header(&hdr, o->state_set, o->K, ep_names, ep_frac, st_names, st_frac);
	/* sequence files are the same in versions 2 and 3: they stay 2 unless asked */
	hdr.version = o->version ? o->version : o->mode == DS_WIN_SEQUENCE ? 2 : 0;
	hdr.mode = o->mode;
	hdr.W = o->W;
	hdr.nr_traces = nr_traces;
	hdr.traces = (char **)traces;
	hdr.seq_gap_frac = FEAT_SEQ_GAP_FRAC;
	hdr.seq_vocab_by_pid = o->vocab_by_pid;
	w = ds_windows_create(out_path, &hdr);
	if (!w)
		goto out;
	split = xstrfmt("%d,%d,%d", o->split[0], o->split[1], o->split[2]);
	if (ds_windows_set_note(w, "split", split) ||
	    (o->command_line && ds_windows_set_note(w, "command_line", o->command_line)))
		goto out;
	for (int i = 0; i < nr_traces; i++)
		if (run_trace(st, w, traces[i], i, o, &stats))
			goto out;
	/* the decisions' counts are those written; the input's repairs are the engine's */
	stats.cov.inferred_switches = feat_coverage(st)->inferred_switches;
	stats.cov.lost_resets = feat_coverage(st)->lost_resets;
	stats.all_decisions = feat_coverage(st)->decisions;
	if (v3)
		ds_windows_set_tasks(w, st->next_uid);
	ret = ds_windows_finish(w, vnames, nv, &stats.cov);
	w = NULL;
	if (!ret && stats_out)
		*stats_out = stats;
out:
	ds_windows_abort(w);
	feat_state_free(st);
	feat_vocab_free(vocab);
	free(split);
	return ret;
}
