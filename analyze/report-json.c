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

static void ci(struct json_writer *jw, const char *k, double hits, uint64_t n)
{
	double lo, hi;

	ana_wilson(hits, (double)n, &lo, &hi);
	json_array_begin(jw, k);
	json_double(jw, NULL, lo);
	json_double(jw, NULL, hi);
	json_array_end(jw);
}

static void score_fields(struct json_writer *jw, const struct ana_eval *e,
			 const struct ana_score *s)
{
	json_double(jw, "top1", ana_rate(s->top1, e->decisions));
	json_double(jw, "top3", ana_rate(s->top3, e->decisions));
	json_double(jw, "top1_contested", ana_rate(s->top1_c, e->contested));
	json_double(jw, "top3_contested", ana_rate(s->top3_c, e->contested));
	json_object_begin(jw, "ci95");
	ci(jw, "top1", s->top1, e->decisions);
	ci(jw, "top1_contested", s->top1_c, e->contested);
	json_object_end(jw);
}

static void groups(struct json_writer *jw, const char *k, const struct ana_eval *e,
		   const struct ana_group *g, size_t n, const char *name_key)
{
	json_array_begin(jw, k);
	for (size_t i = 0; i < n; i++) {
		json_object_begin(jw, NULL);
		if (!strcmp(name_key, "cpu"))
			json_raw(jw, "cpu", g[i].name + 3);
		else
			json_str(jw, name_key, g[i].name);
		json_u64(jw, "decisions", g[i].n);
		json_u64(jw, "contested", g[i].contested);
		if (e->has_model)
			json_double(jw, "model_top1", ana_rate(g[i].model_top1, g[i].n));
		json_double(jw, "best_baseline_top1", ana_rate(g[i].best_top1, g[i].n));
		json_object_end(jw);
	}
	json_array_end(jw);
}

void ana_eval_json_fields(const struct ana_eval *e, struct json_writer *jw)
{
	json_str(jw, "mode", e->mode == DS_WIN_SEQUENCE ? "sequence" : "candidates");
	json_str(jw, "split", e->split);
	json_u64(jw, "decisions", e->decisions);
	json_u64(jw, "contested", e->contested);
	json_u64(jw, "covered", e->covered);
	json_double(jw, "coverage", ana_rate((double)e->covered, e->decisions));
	json_double(jw, "chance_top1", ana_rate(e->chance, e->decisions));
	json_double(jw, "chance_top1_contested", ana_rate(e->chance_c, e->contested));
	json_u64(jw, "inferred_switches", e->inferred_switches);
	json_u64(jw, "lost_resets", e->lost_resets);
	if (e->has_model) {
		json_object_begin(jw, "model");
		json_str(jw, "name", e->model_name);
		json_str(jw, "arith", e->arith);
		score_fields(jw, e, &e->model);
		json_bool(jw, "beats_best_baseline", e->model_beats_best);
		json_object_end(jw);
	} else {
		json_null(jw, "model");
	}
	json_str(jw, "best_baseline", e->best >= 0 ? ana_baseline_names[e->best] : "");
	json_array_begin(jw, "baselines");
	for (int b = 0; b < ANA_NR_BASELINES; b++) {
		if (!e->bl_available[b])
			continue;
		json_object_begin(jw, NULL);
		json_str(jw, "name", ana_baseline_names[b]);
		score_fields(jw, e, &e->bl[b]);
		json_object_end(jw);
	}
	json_array_end(jw);
	groups(jw, "per_cpu", e, e->cpu_groups, e->nr_cpu_groups, "cpu");
	groups(jw, "per_comm", e, e->comm_groups, e->nr_comm_groups, "comm");
	json_array_begin(jw, "mispredictions");
	for (size_t i = 0; i < e->nr_mispred && i < 20; i++) {
		json_object_begin(jw, NULL);
		json_str(jw, "actual", e->mispred[i].actual);
		if (e->mispred[i].actual_pid >= 0)
			json_u64(jw, "actual_pid", (uint64_t)e->mispred[i].actual_pid);
		json_str(jw, "predicted", e->mispred[i].predicted);
		if (e->mispred[i].predicted_pid >= 0)
			json_u64(jw, "predicted_pid", (uint64_t)e->mispred[i].predicted_pid);
		json_u64(jw, "count", e->mispred[i].n);
		json_object_end(jw);
	}
	json_array_end(jw);
	json_array_begin(jw, "by_candidates");
	for (int k = 0; k <= ANA_NCAND_MAX; k++) {
		if (!e->ncand_n[k])
			continue;
		json_object_begin(jw, NULL);
		json_u64(jw, "candidates", (uint64_t)k);
		json_bool(jw, "or_more", k == ANA_NCAND_MAX);
		json_u64(jw, "decisions", e->ncand_n[k]);
		if (e->has_model)
			json_double(jw, "model_top1", ana_rate(e->ncand_model[k], e->ncand_n[k]));
		json_double(jw, "best_baseline_top1", ana_rate(e->ncand_best[k], e->ncand_n[k]));
		json_object_end(jw);
	}
	json_array_end(jw);
	json_array_begin(jw, "over_time");
	for (int k = 0; k < ANA_TIME_SLICES; k++) {
		if (!e->slice_n[k])
			continue;
		json_object_begin(jw, NULL);
		json_u64(jw, "slice", (uint64_t)k);
		json_u64(jw, "contested", e->slice_n[k]);
		if (e->has_model)
			json_double(jw, "model_top1", ana_rate(e->slice_model[k], e->slice_n[k]));
		json_double(jw, "best_baseline_top1", ana_rate(e->slice_best[k], e->slice_n[k]));
		json_object_end(jw);
	}
	json_array_end(jw);
}

void ana_eval_json(const struct ana_eval *e, struct strbuf *out)
{
	struct json_writer jw;

	json_writer_init(&jw, out);
	json_object_begin(&jw, NULL);
	ana_eval_json_fields(e, &jw);
	json_object_end(&jw);
}

static void summary(struct json_writer *jw, const char *k, const struct ana_summary *s)
{
	json_object_begin(jw, k);
	json_u64(jw, "n", s->n);
	json_u64(jw, "total_ns", s->total);
	json_u64(jw, "min_ns", s->min);
	json_double(jw, "avg_ns", s->avg);
	json_u64(jw, "p50_ns", s->p50);
	json_u64(jw, "p90_ns", s->p90);
	json_u64(jw, "p99_ns", s->p99);
	json_u64(jw, "max_ns", s->max);
	json_object_end(jw);
}

int ana_report_json(const struct ana_trace_stats *st, const struct ana_eval *e,
		    struct strbuf *out)
{
	struct json_writer jw;

	json_writer_init(&jw, out);
	json_object_begin(&jw, NULL);
	json_str(&jw, "file", st->path);
	json_str(&jw, "source", st->meta.source);
	json_u64(&jw, "nr_cpus", (uint64_t)st->nr_cpus);
	json_u64(&jw, "start_ns", st->start_ns);
	json_u64(&jw, "end_ns", st->end_ns);
	json_u64(&jw, "span_ns", st->span_ns);
	json_bool(&jw, "windowed", st->windowed);
	json_u64(&jw, "events", st->nr_events);
	json_u64(&jw, "switches", st->nr_switches);
	json_double(&jw, "switch_rate", st->switch_rate);
	json_u64(&jw, "lost_total", st->lost_total);
	json_u64(&jw, "lost_unknown", st->lost_unknown);
	json_bool(&jw, "has_wakeups", st->has_wakeups);
	summary(&jw, "delay", &st->delay);
	summary(&jw, "wakeup_latency", &st->wake_lat);
	summary(&jw, "preemption_delay", &st->preempt_delay);
	json_u64(&jw, "delay_unmeasured", st->delay_unmeasured);
	json_array_begin(&jw, "migrations_by_cpu_pair");
	for (int a = 0; st->migrations && a < st->nr_cpus; a++) {
		for (int b = 0; b < st->nr_cpus; b++) {
			uint64_t n = st->migrations[(size_t)a * (size_t)st->nr_cpus + (size_t)b];

			if (!n)
				continue;
			json_object_begin(&jw, NULL);
			json_u64(&jw, "from", (uint64_t)a);
			json_u64(&jw, "to", (uint64_t)b);
			json_u64(&jw, "count", n);
			json_object_end(&jw);
		}
	}
	json_array_end(&jw);
	json_array_begin(&jw, "cpus");
	for (int i = 0; i < st->nr_cpu_rows; i++) {
		const struct ana_cpu_stats *c = &st->cpus[i];

		json_object_begin(&jw, NULL);
		json_u64(&jw, "cpu", (uint64_t)c->cpu);
		json_double(&jw, "util", c->util);
		json_u64(&jw, "busy_ns", c->busy_ns);
		json_u64(&jw, "idle_ns", c->idle_ns);
		json_u64(&jw, "idle_while_queued_ns", c->idle_queued_ns);
		json_u64(&jw, "switches", c->switches);
		json_u64(&jw, "inferred_switch_ins", c->inferred);
		json_double(&jw, "rq_avg", c->rq_avg);
		json_u64(&jw, "rq_max", c->rq_max);
		json_u64(&jw, "lost", c->lost);
		json_array_begin(&jw, "rq_series");
		for (int b = 0; b < ANA_SERIES_BUCKETS; b++)
			json_double(&jw, NULL, c->rq_series[b]);
		json_array_end(&jw);
		json_array_begin(&jw, "util_series");
		for (int b = 0; b < ANA_SERIES_BUCKETS; b++)
			json_double(&jw, NULL, c->util_series[b]);
		json_array_end(&jw);
		json_object_end(&jw);
	}
	json_array_end(&jw);
	json_array_begin(&jw, "tasks");
	for (uint64_t i = 0; i < st->nr_tasks; i++) {
		const struct ana_task_stats *t = &st->tasks[i];

		json_object_begin(&jw, NULL);
		json_u64(&jw, "pid", (uint64_t)t->pid);
		if (t->tgid >= 0)
			json_u64(&jw, "tgid", (uint64_t)t->tgid);
		json_str(&jw, "comm", t->comm);
		json_u64(&jw, "run_ns", t->run_ns);
		json_u64(&jw, "switches", t->switches);
		json_u64(&jw, "inferred_switch_ins", t->inferred_in);
		summary(&jw, "run_burst", &t->burst);
		json_object_begin(&jw, "run_burst_hist");
		for (int b = 0; b < ANA_BURST_BUCKETS; b++)
			json_u64(&jw, ana_burst_bucket_names[b], t->burst_hist[b]);
		json_object_end(&jw);
		summary(&jw, "delay", &t->delay);
		json_u64(&jw, "delay_woken", t->delay_woken);
		json_u64(&jw, "delay_preempted", t->delay_preempted);
		json_u64(&jw, "delay_unmeasured", t->delay_unmeasured);
		summary(&jw, "wakeup_latency", &t->wake_lat);
		summary(&jw, "preemption_delay", &t->preempt_delay);
		if (t->delay.n) {
			json_u64(&jw, "max_delay_start_ns", t->max_delay_start);
			json_u64(&jw, "max_delay_end_ns", t->max_delay_end);
		}
		json_u64(&jw, "sleep_ns", t->sleep_ns);
		json_u64(&jw, "wakeups", t->wakeups);
		json_array_begin(&jw, "wakers");
		for (int k = 0; k < ANA_TOP_WAKERS && t->wakers[k].pid >= 0; k++) {
			json_object_begin(&jw, NULL);
			json_u64(&jw, "pid", (uint64_t)t->wakers[k].pid);
			json_str(&jw, "comm", t->wakers[k].comm);
			json_u64(&jw, "count", t->wakers[k].n);
			json_object_end(&jw);
		}
		json_array_end(&jw);
		json_u64(&jw, "wakers_other", t->wakers_other);
		json_u64(&jw, "migrations", t->migrations);
		json_u64(&jw, "preemptions", t->preemptions);
		json_object_end(&jw);
	}
	json_array_end(&jw);
	if (e) {
		json_object_begin(&jw, "prediction");
		ana_eval_json_fields(e, &jw);
		json_object_end(&jw);
	}
	json_object_end(&jw);
	strbuf_addch(out, '\n');
	return 0;
}
