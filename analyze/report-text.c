// SPDX-License-Identifier: GPL-2.0
/*
 * Plain-text rendering: the trace report and the evaluation summary.  Column
 * layouts are fixed so that golden tests can compare them byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"

/* Durations in tables: milliseconds with 3 decimals, as perf sched prints them. */
static void ms(struct strbuf *out, uint64_t ns, int width)
{
	strbuf_addf(out, " %*.3f", width, (double)ns / 1e6);
}

static const char *mode_name(int mode)
{
	return mode == DS_WIN_SEQUENCE ? "sequence" : "candidates";
}

/* Accuracy in text is a percentage everywhere (eval, report, train, live); JSON keeps fractions. */
static double pct(double hits, uint64_t n)
{
	return 100 * ana_rate(hits, n);
}

static void score_line(struct strbuf *out, const struct ana_eval *e, const char *name,
		       const struct ana_score *s, const char *mark)
{
	char ci[48];
	double lo, hi;

	ana_wilson(s->top1_c, (double)e->contested, &lo, &hi);
	snprintf(ci, sizeof(ci), "[%.1f%%, %.1f%%]", 100 * lo, 100 * hi);
	strbuf_addf(out, "%-2s%-25s %6.1f%% %6.1f%%   %6.1f%% %-16s  %6.1f%%\n", mark, name,
		    pct(s->top1, e->decisions), pct(s->top3, e->decisions),
		    pct(s->top1_c, e->contested), ci, pct(s->top3_c, e->contested));
}

static void group_table(struct strbuf *out, const struct ana_eval *e, const struct ana_group *g,
			size_t n, const char *what, size_t max)
{
	const char *best = ana_baseline_names[e->best >= 0 ? e->best : 0];

	strbuf_addf(out, "  %-16s %10s %10s", what, "decisions", "contested");
	if (e->has_model)
		strbuf_addf(out, " %8s", "model");
	strbuf_addf(out, " %19s\n", best);
	for (size_t i = 0; i < n && i < max; i++) {
		char name[SC_SAFE_SIZE(sizeof(g[i].name))];

		strbuf_addf(out, "  %s %10llu %10llu", sc_safe_pad(name, sizeof(name), g[i].name, 16),
			    (unsigned long long)g[i].n,
			    (unsigned long long)g[i].contested);
		if (e->has_model)
			strbuf_addf(out, " %7.1f%%", pct(g[i].model_top1, g[i].n));
		strbuf_addf(out, " %18.1f%%\n", pct(g[i].best_top1, g[i].n));
	}
}

void ana_eval_text(const struct ana_eval *e, struct strbuf *out)
{
	char name[64];

	strbuf_addf(out, "decisions %llu (%s mode, split %s), contested %llu (%.1f%%), "
			 "coverage %.1f%%\n",
		    (unsigned long long)e->decisions, mode_name(e->mode), e->split,
		    (unsigned long long)e->contested,
		    100 * ana_rate((double)e->contested, e->decisions),
		    100 * ana_rate((double)e->covered, e->decisions));
	strbuf_addf(out, "chance top-1 %.1f%% (all), %.1f%% (contested); input: %llu inferred "
			 "switches (never scored), %llu lost-event resets\n\n",
		    pct(e->chance, e->decisions), pct(e->chance_c, e->contested),
		    (unsigned long long)e->inferred_switches, (unsigned long long)e->lost_resets);
	strbuf_addf(out, "  %-25s %7s %7s   %-24s  %s\n", "predictor", "top-1", "top-3",
		    "top-1 contested [95% CI]", "top-3 contested");
	if (e->has_model) {
		snprintf(name, sizeof(name), "model (%s)", e->arith);
		score_line(out, e, name, &e->model, e->model_beats_best ? "" : "!!");
	}
	for (int b = 0; b < ANA_NR_BASELINES; b++) {
		if (!e->bl_available[b])
			continue;
		snprintf(name, sizeof(name), "%s%s", ana_baseline_names[b],
			 b == e->best ? " (best)" : "");
		score_line(out, e, name, &e->bl[b], "");
	}
	if (e->has_model && !e->model_beats_best && e->best >= 0)
		strbuf_addf(out, "!! the model does not beat the best baseline (%s)\n",
			    ana_baseline_names[e->best]);

	strbuf_addf(out, "\nper CPU (top-1 on all its decisions):\n");
	group_table(out, e, e->cpu_groups, e->nr_cpu_groups, "cpu", e->nr_cpu_groups);
	strbuf_addf(out, "\nper task (the kernel's pick; top 15 by decisions):\n");
	group_table(out, e, e->comm_groups, e->nr_comm_groups, "comm", 15);
	strbuf_addf(out, "\nmost frequent mispredictions (%s; actual pid comm <- predicted):\n",
		    e->has_model ? "model" : ana_baseline_names[e->best >= 0 ? e->best : 0]);
	if (!e->nr_mispred)
		strbuf_addf(out, "  none\n");
	for (size_t i = 0; i < e->nr_mispred && i < 10; i++) {
		const struct ana_mispred *m = &e->mispred[i];
		char a[16] = "-", p[16] = "-";

		if (m->actual_pid >= 0)
			snprintf(a, sizeof(a), "%d", m->actual_pid);
		if (m->predicted_pid >= 0)
			snprintf(p, sizeof(p), "%d", m->predicted_pid);
		char sa[SC_SAFE_SIZE(sizeof(m->actual))], sp[SC_SAFE_SIZE(sizeof(m->predicted))];

		strbuf_addf(out, "  %8llu  %7s %s <- %7s %s\n", (unsigned long long)m->n, a,
			    sc_safe_pad(sa, sizeof(sa), m->actual, 16), p,
			    sc_safe_str(sp, sizeof(sp), m->predicted));
	}
}

static void summary_cols(struct strbuf *out, const struct ana_summary *s)
{
	ms(out, (uint64_t)(s->avg + 0.5), 9);
	ms(out, s->p50, 9);
	ms(out, s->p90, 9);
	ms(out, s->p99, 9);
	ms(out, s->max, 9);
}

/* migration_pairs - sched_migrate_task counts by (from, to) CPU, most first */
static void migration_pairs(const struct ana_trace_stats *st, struct strbuf *out)
{
	uint64_t total = 0;
	int n = 0;

	for (size_t i = 0; st->migrations && i < (size_t)st->nr_cpus * (size_t)st->nr_cpus; i++)
		total += st->migrations[i];
	strbuf_addf(out, "\nmigrations by CPU pair: %llu\n", (unsigned long long)total);
	for (int a = 0; total && a < st->nr_cpus; a++) {
		for (int b = 0; b < st->nr_cpus; b++) {
			uint64_t m = st->migrations[(size_t)a * (size_t)st->nr_cpus + (size_t)b];

			if (!m)
				continue;
			strbuf_addf(out, "%s  cpu%d -> cpu%d %8llu", n && n % 3 == 0 ? "\n" : "", a, b,
				    (unsigned long long)m);
			n++;
		}
	}
	if (n)
		strbuf_addch(out, '\n');
}

struct group {
	int32_t key;		/* tgid (process) */
	char comm[DS_COMM_LEN];
	uint64_t threads, run_ns, switches, migrations, preemptions;
	struct ana_hist delays;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->run_ns != y->run_ns)
		return x->run_ns > y->run_ns ? -1 : 1;
	return x->key < y->key ? -1 : x->key > y->key;
}

/*
 * by_group_table - report --by process|comm: the tasks summed per thread group
 * (a task whose tgid is not known is its own group) or per comm, named as
 * perf sched latency names them, "comm:(N threads)".
 */
static void by_group_table(const struct ana_trace_stats *st, struct strbuf *out, uint64_t top)
{
	int by_comm = st->group_by == ANA_BY_COMM;
	struct group *g = NULL;
	size_t n = 0, alloc = 0;

	for (uint64_t i = 0; i < st->nr_tasks; i++) {
		const struct ana_task_stats *t = &st->tasks[i];
		int32_t key = t->tgid >= 0 ? t->tgid : t->pid;
		size_t j;

		for (j = 0; j < n; j++)
			if (by_comm ? !strcmp(g[j].comm, t->comm) : g[j].key == key)
				break;
		if (j == n) {
			ALLOC_GROW(g, n + 1, alloc);
			memset(&g[n], 0, sizeof(g[n]));
			g[n].key = by_comm ? -1 : key;
			memcpy(g[n].comm, t->comm, DS_COMM_LEN);
			n++;
		}
		/* a process is named by its leader's comm when the leader is seen */
		if (!by_comm && t->pid == key)
			memcpy(g[j].comm, t->comm, DS_COMM_LEN);
		g[j].threads++;
		g[j].run_ns += t->run_ns;
		g[j].switches += t->switches;
		g[j].migrations += t->migrations;
		g[j].preemptions += t->preemptions;
		if (t->delays)
			ana_hist_merge(&g[j].delays, t->delays);
	}
	qsort(g, n, sizeof(*g), cmp_group);
	strbuf_addf(out, "\nper %s (ms; most run time first", by_comm ? "comm" : "process");
	if (top && n > top)
		strbuf_addf(out, ", top %llu of %zu", (unsigned long long)top, n);
	strbuf_addf(out, ")\n  %7s %-24s %10s %7s %7s %9s %9s %9s %5s %5s\n",
		    by_comm ? "" : "tgid", by_comm ? "comm:(threads)" : "comm:(threads)", "run",
		    "switch", "delays", "dly-avg", "dly-p99", "dly-max", "migr", "preem");
	for (size_t i = 0; i < n; i++) {
		struct ana_summary d;
		char safe[SC_SAFE_SIZE(DS_COMM_LEN)], name[SC_SAFE_SIZE(DS_COMM_LEN) + 32];

		ana_hist_summarize(&d, &g[i].delays);
		ana_hist_release(&g[i].delays);
		if (top && i >= top)
			continue;
		snprintf(name, sizeof(name), "%s:(%llu thread%s)",
			 sc_safe_str(safe, sizeof(safe), g[i].comm), (unsigned long long)g[i].threads,
			 g[i].threads == 1 ? "" : "s");
		if (by_comm)
			strbuf_addf(out, "  %7s %-24s", "", name);
		else
			strbuf_addf(out, "  %7d %-24s", g[i].key, name);
		ms(out, g[i].run_ns, 10);
		strbuf_addf(out, " %7llu %7llu", (unsigned long long)g[i].switches,
			    (unsigned long long)d.n);
		ms(out, (uint64_t)(d.avg + 0.5), 9);
		ms(out, d.p99, 9);
		ms(out, d.max, 9);
		strbuf_addf(out, " %5llu %5llu\n", (unsigned long long)g[i].migrations,
			    (unsigned long long)g[i].preemptions);
	}
	if (top && n > top)
		strbuf_addf(out, "  (%llu %s left out: --all shows every one, --top N the first N)\n",
			    (unsigned long long)(n - top), by_comm ? "comms" : "processes");
	free(g);
}

/* tasks_left_out - say how many tasks a --top limited table does not show, and how to see them */
static void tasks_left_out(const struct ana_trace_stats *st, struct strbuf *out, uint64_t top)
{
	uint64_t n = st->nr_tasks + st->tasks_folded;

	if (!top || n <= top)
		return;
	strbuf_addf(out, "  (%llu tasks left out: --all shows every task, --top N the first N)\n",
		    (unsigned long long)(n - top));
}

/*
 * util_strips - each CPU's utilisation over time, one digit per column:
 * tenths of the column's time busy (0: under 10%, 9: 90% or more), blank
 * when not busy at all.
 */
#define STRIP_COLS 60
static void util_strips(const struct ana_trace_stats *st, struct strbuf *out)
{
	const int per = ANA_SERIES_BUCKETS / STRIP_COLS;

	strbuf_addf(out, "\nCPU utilisation over time (a column is 1/%d of the span; digit: tenths "
			 "busy, blank: idle)\n", STRIP_COLS);
	for (int i = 0; i < st->nr_cpu_rows; i++) {
		const struct ana_cpu_stats *c = &st->cpus[i];

		strbuf_addf(out, "  cpu%-3d |", c->cpu);
		for (int k = 0; k < STRIP_COLS; k++) {
			double u = 0;
			int d;

			for (int b = k * per; b < (k + 1) * per; b++)
				u += c->util_series[b];
			u /= per;
			d = (int)(u * 10);
			strbuf_addch(out, u <= 0 ? ' ' : (char)('0' + (d > 9 ? 9 : d < 0 ? 0 : d)));
		}
		strbuf_addstr(out, "|\n");
	}
}

/*
 * wakers_table - report --wakers: for the tasks of the per-task table, their
 * most frequent wakers, one per line, as perf sched timehist -w names them.
 */
static void wakers_table(const struct ana_trace_stats *st, struct strbuf *out, uint64_t top)
{
	strbuf_addf(out, "\nwakers per task (the task running where the wakeup fired; <idle>: an "
			 "interrupt on an idle CPU)\n  %7s %-15s %7s  %7s %-15s %7s\n", "pid", "comm",
		    "wakeups", "waker", "comm", "count");
	for (uint64_t i = 0; i < st->nr_tasks && (!top || i < top); i++) {
		const struct ana_task_stats *t = &st->tasks[i];
		char comm[SC_SAFE_SIZE(sizeof(t->comm))], wc[SC_SAFE_SIZE(DS_COMM_LEN)];

		strbuf_addf(out, "  %7d %s %7llu", t->pid, sc_safe_pad(comm, sizeof(comm), t->comm, 15),
			    (unsigned long long)t->wakeups);
		for (int k = 0; k < ANA_TOP_WAKERS && t->wakers[k].pid >= 0; k++) {
			const struct ana_waker *w = &t->wakers[k];

			if (k)
				strbuf_addf(out, "  %7s %15s %7s", "", "", "");
			strbuf_addf(out, "  %7d %s %7llu\n", w->pid,
				    sc_safe_pad(wc, sizeof(wc), w->comm, 15), (unsigned long long)w->n);
		}
		if (t->wakers[0].pid < 0)
			strbuf_addch(out, '\n');
		if (t->wakers_other)
			strbuf_addf(out, "  %7s %15s %7s  %7s %-15s %7llu\n", "", "", "", "",
				    "(others)", (unsigned long long)t->wakers_other);
	}
	tasks_left_out(st, out, top);
}

static void trace_text(const struct ana_trace_stats *st, struct strbuf *out, uint64_t top)
{
	char span[32];

	format_duration(span, sizeof(span), st->span_ns);
	strbuf_addstr(out, "trace ");
	strbuf_add_safe(out, st->path);
	strbuf_addstr(out, ": source ");
	strbuf_add_safe(out, st->meta.source);
	strbuf_addf(out, ", %d CPUs, span %s, %llu events\n", st->nr_cpus, span,
		    (unsigned long long)st->nr_events);
	strbuf_addf(out, "context switches %llu (%.1f/s), lost events %llu",
		    (unsigned long long)st->nr_switches, st->switch_rate,
		    (unsigned long long)st->lost_total);
	if (st->lost_unknown)
		strbuf_addf(out, " + %llu marker(s) of unknown size",
			    (unsigned long long)st->lost_unknown);
	strbuf_addch(out, '\n');
	if (st->windowed)
		strbuf_addf(out, "window %llu.%06llu to %llu.%06llu s (--time)\n",
			    (unsigned long long)(st->start_ns / NSEC_PER_SEC),
			    (unsigned long long)(st->start_ns % NSEC_PER_SEC / 1000),
			    (unsigned long long)(st->end_ns / NSEC_PER_SEC),
			    (unsigned long long)(st->end_ns % NSEC_PER_SEC / 1000));
	if (!st->has_wakeups)
		strbuf_addf(out, "note: the trace has no wakeup events: delays count preemptions only\n");

	strbuf_addf(out, "\nscheduling delay (ms)  %8s %9s %9s %9s %9s %9s\n", "n", "avg", "p50",
		    "p90", "p99", "max");
	strbuf_addf(out, "  all tasks            %8llu", (unsigned long long)st->delay.n);
	summary_cols(out, &st->delay);
	strbuf_addf(out, "\n  wakeup latency       %8llu", (unsigned long long)st->wake_lat.n);
	summary_cols(out, &st->wake_lat);
	strbuf_addf(out, "\n  preemption delay     %8llu", (unsigned long long)st->preempt_delay.n);
	summary_cols(out, &st->preempt_delay);
	strbuf_addf(out, "\n  unmeasured waits (switch-in not recorded): %llu\n",
		    (unsigned long long)st->delay_unmeasured);

	strbuf_addf(out, "\nper CPU  %6s %11s %11s %11s %8s %8s %6s %6s %6s\n", "util", "busy ms",
		    "idle ms", "idle+q ms", "switches", "inferred", "rq-avg", "rq-max", "lost");
	for (int i = 0; i < st->nr_cpu_rows; i++) {
		const struct ana_cpu_stats *c = &st->cpus[i];

		strbuf_addf(out, "  cpu%-3d %5.1f%%", c->cpu, 100 * c->util);
		ms(out, c->busy_ns, 11);
		ms(out, c->idle_ns, 11);
		ms(out, c->idle_queued_ns, 11);
		strbuf_addf(out, " %8llu %8llu %6.2f %6u %6llu\n", (unsigned long long)c->switches,
			    (unsigned long long)c->inferred, c->rq_avg, c->rq_max,
			    (unsigned long long)c->lost);
	}
	util_strips(st, out);

	migration_pairs(st, out);
	if (st->group_by != ANA_BY_TASK)
		by_group_table(st, out, top);

	strbuf_addf(out, "\nper task (ms; most run time first");
	if (top && st->nr_tasks + st->tasks_folded > top)
		strbuf_addf(out, ", top %llu of %llu", (unsigned long long)top,
			    (unsigned long long)(st->nr_tasks + st->tasks_folded));
	strbuf_addf(out, ")\n");
	strbuf_addf(out, "  %7s %-15s %10s %7s %5s %8s %8s %8s %10s %5s %5s\n", "pid", "comm",
		    "run", "switch", "infer", "run-min", "run-avg", "run-max", "sleep", "migr",
		    "preem");
	for (uint64_t i = 0; i < st->nr_tasks && (!top || i < top); i++) {
		const struct ana_task_stats *t = &st->tasks[i];
		char comm[SC_SAFE_SIZE(sizeof(t->comm))];

		strbuf_addf(out, "  %7d %s", t->pid, sc_safe_pad(comm, sizeof(comm), t->comm, 15));
		ms(out, t->run_ns, 10);
		strbuf_addf(out, " %7llu %5llu", (unsigned long long)t->switches,
			    (unsigned long long)t->inferred_in);
		ms(out, t->burst.min, 8);
		ms(out, (uint64_t)(t->burst.avg + 0.5), 8);
		ms(out, t->burst.max, 8);
		ms(out, t->sleep_ns, 10);
		strbuf_addf(out, " %5llu %5llu\n", (unsigned long long)t->migrations,
			    (unsigned long long)t->preemptions);
	}
	tasks_left_out(st, out, top);
	if (st->show_wakers)
		wakers_table(st, out, top);

	strbuf_addf(out, "\nscheduling delay per task (ms; max-at: when the longest became runnable, s)"
			 "\n  %7s %-15s %7s %9s %9s %9s %9s %9s %15s\n",
		    "pid", "comm", "delays", "avg", "p50", "p90", "p99", "max", "max-at");
	for (uint64_t i = 0; i < st->nr_tasks && (!top || i < top); i++) {
		const struct ana_task_stats *t = &st->tasks[i];
		char comm[SC_SAFE_SIZE(sizeof(t->comm))];

		strbuf_addf(out, "  %7d %s %7llu", t->pid, sc_safe_pad(comm, sizeof(comm), t->comm, 15),
			    (unsigned long long)t->delay.n);
		summary_cols(out, &t->delay);
		if (t->delay.n)
			strbuf_addf(out, " %8llu.%06llu",
				    (unsigned long long)(t->max_delay_start / NSEC_PER_SEC),
				    (unsigned long long)(t->max_delay_start % NSEC_PER_SEC / 1000));
		strbuf_addch(out, '\n');
	}

	strbuf_addf(out, "\nrun bursts per task (counts)\n  %7s %-15s", "pid", "comm");
	for (int b = 0; b < ANA_BURST_BUCKETS; b++)
		strbuf_addf(out, " %10s", ana_burst_bucket_names[b]);
	strbuf_addch(out, '\n');
	for (uint64_t i = 0; i < st->nr_tasks && (!top || i < top); i++) {
		const struct ana_task_stats *t = &st->tasks[i];
		char comm[SC_SAFE_SIZE(sizeof(t->comm))];

		strbuf_addf(out, "  %7d %s", t->pid, sc_safe_pad(comm, sizeof(comm), t->comm, 15));
		for (int b = 0; b < ANA_BURST_BUCKETS; b++)
			strbuf_addf(out, " %10llu", (unsigned long long)t->burst_hist[b]);
		strbuf_addch(out, '\n');
	}
}

int ana_report_text(const struct ana_trace_stats *st, const struct ana_eval *e,
		    struct strbuf *out, uint64_t top)
{
	trace_text(st, out, top);
	if (e) {
		strbuf_addf(out, "\nprediction (%s)\n", e->has_model ? e->model_name : "baselines only");
		ana_eval_text(e, out);
	}
	return 0;
}
