// SPDX-License-Identifier: GPL-2.0
/*
 * CSV rendering (RFC 4180): one row per task, the columns of the per-task
 * JSON objects flattened.  Durations in ns.  Comms go through
 * strbuf_add_csv_cell(): valid UTF-8, no control bytes, no formulas.
 */
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"

static void summary(struct strbuf *out, const struct ana_summary *s)
{
	strbuf_addf(out, ",%llu,%llu,%.0f,%llu,%llu,%llu,%llu", (unsigned long long)s->n,
		    (unsigned long long)s->min, s->avg, (unsigned long long)s->p50,
		    (unsigned long long)s->p90, (unsigned long long)s->p99,
		    (unsigned long long)s->max);
}

int ana_report_csv(const struct ana_trace_stats *st, struct strbuf *out)
{
	static const char *const bucket_cols[ANA_BURST_BUCKETS] = {
		"bursts_lt_10us", "bursts_10us_100us", "bursts_100us_1ms",
		"bursts_1ms_10ms", "bursts_10ms_100ms", "bursts_ge_100ms",
	};
	static const char *const sum[] = { "n", "min_ns", "avg_ns", "p50_ns", "p90_ns", "p99_ns",
					   "max_ns" };

	strbuf_addstr(out, "pid,comm,run_ns,switches,inferred_switch_ins");
	for (size_t i = 0; i < ARRAY_SIZE(sum); i++)
		strbuf_addf(out, ",run_burst_%s", sum[i]);
	for (int b = 0; b < ANA_BURST_BUCKETS; b++)
		strbuf_addf(out, ",%s", bucket_cols[b]);
	for (size_t i = 0; i < ARRAY_SIZE(sum); i++)
		strbuf_addf(out, ",delay_%s", sum[i]);
	strbuf_addstr(out, ",delay_woken,delay_preempted,delay_unmeasured,sleep_ns,wakeups,"
			   "migrations,preemptions\n");
	for (uint64_t i = 0; i < st->nr_tasks; i++) {
		const struct ana_task_stats *t = &st->tasks[i];

		strbuf_addf(out, "%d,", t->pid);
		strbuf_add_csv_cell(out, t->comm);
		strbuf_addf(out, ",%llu,%llu,%llu", (unsigned long long)t->run_ns,
			    (unsigned long long)t->switches, (unsigned long long)t->inferred_in);
		summary(out, &t->burst);
		for (int b = 0; b < ANA_BURST_BUCKETS; b++)
			strbuf_addf(out, ",%llu", (unsigned long long)t->burst_hist[b]);
		summary(out, &t->delay);
		strbuf_addf(out, ",%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
			    (unsigned long long)t->delay_woken,
			    (unsigned long long)t->delay_preempted,
			    (unsigned long long)t->delay_unmeasured, (unsigned long long)t->sleep_ns,
			    (unsigned long long)t->wakeups, (unsigned long long)t->migrations,
			    (unsigned long long)t->preemptions);
	}
	return 0;
}
