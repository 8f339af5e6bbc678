// SPDX-License-Identifier: GPL-2.0
/*
 * JSON rendering: the eval document and the trace report.  Keys are stable
 * (listed in schedcast-eval(1) and schedcast-report(1)); durations are
 * integers in ns, rates and shares plain numbers in [0, 1].
 */
#include <math.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"

void ana_json_double(struct strbuf *out, double v)
{
	if (!isfinite(v))
		v = 0;
	strbuf_addf(out, "%.6g", v);
}

static void key(struct strbuf *out, const char *k, int *first)
{
	if (!*first)
		strbuf_addch(out, ',');
	*first = 0;
	strbuf_add_json_str(out, k);
	strbuf_addch(out, ':');
}

static void kv_u64(struct strbuf *out, const char *k, uint64_t v, int *first)
{
	key(out, k, first);
	strbuf_addf(out, "%llu", (unsigned long long)v);
}

static void kv_dbl(struct strbuf *out, const char *k, double v, int *first)
{
	key(out, k, first);
	ana_json_double(out, v);
}

static void kv_str(struct strbuf *out, const char *k, const char *v, int *first)
{
	key(out, k, first);
	strbuf_add_json_str(out, v);
}

static void ci(struct strbuf *out, double hits, uint64_t n)
{
	double lo, hi;

	ana_wilson(hits, (double)n, &lo, &hi);
	strbuf_addch(out, '[');
	ana_json_double(out, lo);
	strbuf_addch(out, ',');
	ana_json_double(out, hi);
	strbuf_addch(out, ']');
}

static void score_fields(struct strbuf *out, const struct ana_eval *e, const struct ana_score *s,
			 int *first)
{
	kv_dbl(out, "top1", ana_rate(s->top1, e->decisions), first);
	kv_dbl(out, "top3", ana_rate(s->top3, e->decisions), first);
	kv_dbl(out, "top1_contested", ana_rate(s->top1_c, e->contested), first);
	kv_dbl(out, "top3_contested", ana_rate(s->top3_c, e->contested), first);
	key(out, "ci95", first);
	strbuf_addstr(out, "{\"top1\":");
	ci(out, s->top1, e->decisions);
	strbuf_addstr(out, ",\"top1_contested\":");
	ci(out, s->top1_c, e->contested);
	strbuf_addch(out, '}');
}

static void groups(struct strbuf *out, const struct ana_eval *e, const struct ana_group *g,
		   size_t n, const char *name_key)
{
	strbuf_addch(out, '[');
	for (size_t i = 0; i < n; i++) {
		int first = 1;

		if (i)
			strbuf_addch(out, ',');
		strbuf_addch(out, '{');
		if (!strcmp(name_key, "cpu")) {
			key(out, "cpu", &first);
			strbuf_addstr(out, g[i].name + 3);
		} else {
			kv_str(out, name_key, g[i].name, &first);
		}
		kv_u64(out, "decisions", g[i].n, &first);
		kv_u64(out, "contested", g[i].contested, &first);
		if (e->has_model)
			kv_dbl(out, "model_top1", ana_rate(g[i].model_top1, g[i].n), &first);
		kv_dbl(out, "best_baseline_top1", ana_rate(g[i].best_top1, g[i].n), &first);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ']');
}

void ana_eval_json(const struct ana_eval *e, struct strbuf *out)
{
	int first = 1, f;

	strbuf_addch(out, '{');
	kv_str(out, "mode", e->mode == DS_WIN_SEQUENCE ? "sequence" : "candidates", &first);
	kv_str(out, "split", e->split, &first);
	kv_u64(out, "decisions", e->decisions, &first);
	kv_u64(out, "contested", e->contested, &first);
	kv_u64(out, "covered", e->covered, &first);
	kv_dbl(out, "coverage", ana_rate((double)e->covered, e->decisions), &first);
	kv_dbl(out, "chance_top1", ana_rate(e->chance, e->decisions), &first);
	kv_dbl(out, "chance_top1_contested", ana_rate(e->chance_c, e->contested), &first);
	kv_u64(out, "inferred_switches", e->inferred_switches, &first);
	kv_u64(out, "lost_resets", e->lost_resets, &first);
	key(out, "model", &first);
	if (e->has_model) {
		f = 1;
		strbuf_addch(out, '{');
		kv_str(out, "name", e->model_name, &f);
		kv_str(out, "arith", e->arith, &f);
		score_fields(out, e, &e->model, &f);
		key(out, "beats_best_baseline", &f);
		strbuf_addstr(out, e->model_beats_best ? "true" : "false");
		strbuf_addch(out, '}');
	} else {
		strbuf_addstr(out, "null");
	}
	kv_str(out, "best_baseline", e->best >= 0 ? ana_baseline_names[e->best] : "", &first);
	key(out, "baselines", &first);
	strbuf_addch(out, '[');
	for (int b = 0, n = 0; b < ANA_NR_BASELINES; b++) {
		if (!e->bl_available[b])
			continue;
		if (n++)
			strbuf_addch(out, ',');
		f = 1;
		strbuf_addch(out, '{');
		kv_str(out, "name", ana_baseline_names[b], &f);
		score_fields(out, e, &e->bl[b], &f);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ']');
	key(out, "per_cpu", &first);
	groups(out, e, e->cpu_groups, e->nr_cpu_groups, "cpu");
	key(out, "per_comm", &first);
	groups(out, e, e->comm_groups, e->nr_comm_groups, "comm");
	key(out, "mispredictions", &first);
	strbuf_addch(out, '[');
	for (size_t i = 0; i < e->nr_mispred && i < 20; i++) {
		f = 1;
		if (i)
			strbuf_addch(out, ',');
		strbuf_addch(out, '{');
		kv_str(out, "actual", e->mispred[i].actual, &f);
		if (e->mispred[i].actual_pid >= 0)
			kv_u64(out, "actual_pid", (uint64_t)e->mispred[i].actual_pid, &f);
		kv_str(out, "predicted", e->mispred[i].predicted, &f);
		if (e->mispred[i].predicted_pid >= 0)
			kv_u64(out, "predicted_pid", (uint64_t)e->mispred[i].predicted_pid, &f);
		kv_u64(out, "count", e->mispred[i].n, &f);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ']');
	key(out, "by_candidates", &first);
	strbuf_addch(out, '[');
	for (int k = 0, n = 0; k <= ANA_NCAND_MAX; k++) {
		if (!e->ncand_n[k])
			continue;
		f = 1;
		if (n++)
			strbuf_addch(out, ',');
		strbuf_addch(out, '{');
		kv_u64(out, "candidates", (uint64_t)k, &f);
		key(out, "or_more", &f);
		strbuf_addstr(out, k == ANA_NCAND_MAX ? "true" : "false");
		kv_u64(out, "decisions", e->ncand_n[k], &f);
		if (e->has_model)
			kv_dbl(out, "model_top1", ana_rate(e->ncand_model[k], e->ncand_n[k]), &f);
		kv_dbl(out, "best_baseline_top1", ana_rate(e->ncand_best[k], e->ncand_n[k]), &f);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ']');
	key(out, "over_time", &first);
	strbuf_addch(out, '[');
	for (int k = 0, n = 0; k < ANA_TIME_SLICES; k++) {
		if (!e->slice_n[k])
			continue;
		f = 1;
		if (n++)
			strbuf_addch(out, ',');
		strbuf_addch(out, '{');
		kv_u64(out, "slice", (uint64_t)k, &f);
		kv_u64(out, "contested", e->slice_n[k], &f);
		if (e->has_model)
			kv_dbl(out, "model_top1", ana_rate(e->slice_model[k], e->slice_n[k]), &f);
		kv_dbl(out, "best_baseline_top1", ana_rate(e->slice_best[k], e->slice_n[k]), &f);
		strbuf_addch(out, '}');
	}
	strbuf_addstr(out, "]}");
}

static void summary(struct strbuf *out, const char *k, const struct ana_summary *s, int *first)
{
	int f = 1;

	key(out, k, first);
	strbuf_addch(out, '{');
	kv_u64(out, "n", s->n, &f);
	kv_u64(out, "total_ns", s->total, &f);
	kv_u64(out, "min_ns", s->min, &f);
	kv_dbl(out, "avg_ns", s->avg, &f);
	kv_u64(out, "p50_ns", s->p50, &f);
	kv_u64(out, "p90_ns", s->p90, &f);
	kv_u64(out, "p99_ns", s->p99, &f);
	kv_u64(out, "max_ns", s->max, &f);
	strbuf_addch(out, '}');
}

int ana_report_json(const struct ana_trace_stats *st, const struct ana_eval *e,
		    struct strbuf *out)
{
	int first = 1, f;

	strbuf_addch(out, '{');
	kv_str(out, "file", st->path, &first);
	kv_str(out, "source", st->meta.source, &first);
	kv_u64(out, "nr_cpus", (uint64_t)st->nr_cpus, &first);
	kv_u64(out, "start_ns", st->start_ns, &first);
	kv_u64(out, "end_ns", st->end_ns, &first);
	kv_u64(out, "span_ns", st->span_ns, &first);
	kv_u64(out, "events", st->nr_events, &first);
	kv_u64(out, "switches", st->nr_switches, &first);
	kv_dbl(out, "switch_rate", st->switch_rate, &first);
	kv_u64(out, "lost_total", st->lost_total, &first);
	key(out, "has_wakeups", &first);
	strbuf_addstr(out, st->has_wakeups ? "true" : "false");
	summary(out, "delay", &st->delay, &first);
	kv_u64(out, "delay_unmeasured", st->delay_unmeasured, &first);
	key(out, "cpus", &first);
	strbuf_addch(out, '[');
	for (int i = 0; i < st->nr_cpus; i++) {
		const struct ana_cpu_stats *c = &st->cpus[i];

		f = 1;
		if (i)
			strbuf_addch(out, ',');
		strbuf_addch(out, '{');
		kv_u64(out, "cpu", (uint64_t)c->cpu, &f);
		kv_dbl(out, "util", c->util, &f);
		kv_u64(out, "busy_ns", c->busy_ns, &f);
		kv_u64(out, "idle_ns", c->idle_ns, &f);
		kv_u64(out, "idle_while_queued_ns", c->idle_queued_ns, &f);
		kv_u64(out, "switches", c->switches, &f);
		kv_u64(out, "inferred_switch_ins", c->inferred, &f);
		kv_dbl(out, "rq_avg", c->rq_avg, &f);
		kv_u64(out, "rq_max", c->rq_max, &f);
		kv_u64(out, "lost", c->lost, &f);
		key(out, "rq_series", &f);
		strbuf_addch(out, '[');
		for (int b = 0; b < ANA_SERIES_BUCKETS; b++) {
			if (b)
				strbuf_addch(out, ',');
			ana_json_double(out, c->rq_series[b]);
		}
		strbuf_addstr(out, "]}");
	}
	strbuf_addch(out, ']');
	key(out, "tasks", &first);
	strbuf_addch(out, '[');
	for (uint64_t i = 0; i < st->nr_tasks; i++) {
		const struct ana_task_stats *t = &st->tasks[i];
		int g = 1;

		f = 1;
		if (i)
			strbuf_addch(out, ',');
		strbuf_addch(out, '{');
		kv_u64(out, "pid", (uint64_t)t->pid, &f);
		kv_str(out, "comm", t->comm, &f);
		kv_u64(out, "run_ns", t->run_ns, &f);
		kv_u64(out, "switches", t->switches, &f);
		kv_u64(out, "inferred_switch_ins", t->inferred_in, &f);
		summary(out, "run_burst", &t->burst, &f);
		key(out, "run_burst_hist", &f);
		strbuf_addch(out, '{');
		for (int b = 0; b < ANA_BURST_BUCKETS; b++)
			kv_u64(out, ana_burst_bucket_names[b], t->burst_hist[b], &g);
		strbuf_addch(out, '}');
		summary(out, "delay", &t->delay, &f);
		kv_u64(out, "delay_woken", t->delay_woken, &f);
		kv_u64(out, "delay_preempted", t->delay_preempted, &f);
		kv_u64(out, "delay_unmeasured", t->delay_unmeasured, &f);
		kv_u64(out, "sleep_ns", t->sleep_ns, &f);
		kv_u64(out, "wakeups", t->wakeups, &f);
		kv_u64(out, "migrations", t->migrations, &f);
		kv_u64(out, "preemptions", t->preemptions, &f);
		strbuf_addch(out, '}');
	}
	strbuf_addch(out, ']');
	if (e) {
		key(out, "prediction", &first);
		ana_eval_json(e, out);
	}
	strbuf_addstr(out, "}\n");
	return 0;
}
