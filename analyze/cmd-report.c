// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast report - trace statistics per task, per CPU and for the whole
 * trace, as text, JSON, CSV or one self-contained HTML page; with a windows
 * file (and a model) also the prediction section that `eval` prints.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "builtin.h"
#include "common/common.h"
#include "data/filter.h"

static const char report_usage[] =
	"usage: schedcast report [--format text|json|csv|html] [-o FILE] [--by process|comm] [--wakers] [--pid LIST] [--tid LIST] [--comm GLOB] [-C LIST] [--time START,END] TRACE.h5 [--windows windows.h5] [--model model.h5]\n"
	"\n"
	"Per task: run time, switches, scheduling delay (avg, p50/p90/p99, max), run\n"
	"bursts, sleep, migrations, preemptions; per CPU: utilisation, idle time, idle\n"
	"time while another CPU had queued tasks, runqueue length; whole trace: switch\n"
	"rate, delay percentiles, lost events.  Definitions: man schedcast-report.\n"
	"\n"
	"    -f, --format FMT     text (default), json, csv (one row per task) or html\n"
	"    -o, --output FILE    write there (atomically) instead of standard output\n"
	"    -w, --windows FILE   add the prediction section: baselines (and the model)\n"
	"                         scored on this windows file's decisions\n"
	"    -m, --model FILE     add the prediction section with this model; without\n"
	"                         --windows the decisions come from the trace itself\n"
	"    -s, --split SPLIT    decisions scored: test (default), val or all\n"
	"    -n, --top N          tasks listed in text and html (default 25, 0 = all)\n"
	"    -a, --all            list every task (--top 0)\n"
	"    -b, --by WHAT        also a table per process (thread group) or per comm\n"
	"    -W, --wakers         also each task's most frequent wakers (who woke whom)\n"
	"\n"
	"Filters: the task filters choose the tasks listed; -C and --time narrow what\n"
	"is summed (times cut to the window, events counted where they happened):\n"
	DS_FILTER_HELP
	"\n"
	"    -h, --help           show this help\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast report trace.h5\n"
	"    schedcast report --format html -o report.html trace.h5 -w windows.h5 -m model.h5\n"
	"    schedcast report --format csv trace.h5 >tasks.csv\n"
	"    schedcast report --by process --wakers -C 0-1 --time 10,12.5 trace.h5\n";

/* exited tasks kept in full for the text table (--top at most this) */
#define REPORT_KEEP_TASKS 256

struct report_opts {
	enum ana_format format;
	const char *output;
	const char *windows;
	const char *model;
	const char *split;
	int top;
	int wakers;
};

static int parse_format(const char *s, enum ana_format *f)
{
	static const char *const names[] = { "text", "json", "csv", "html" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(s, names[i])) {
			*f = (enum ana_format)i;
			return 0;
		}
	}
	return -1;
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "windows", required_argument, NULL, 'w' },
		{ "model", required_argument, NULL, 'm' },
		{ "split", required_argument, NULL, 's' },
		{ "top", required_argument, NULL, 'n' },
		{ "all", no_argument, NULL, 'a' },
		{ "by", required_argument, NULL, 'b' },
		{ "wakers", no_argument, NULL, 'W' },
		DS_FILTER_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct report_opts opts = {
		.format = ANA_FMT_TEXT,
		.output = "-",
		.split = "test",
		.top = 25,
	};
	struct ana_trace_stats st;
	struct ana_eval ev, *e = NULL;
	struct ds_filter filter = DS_FILTER_INIT;
	int by = ANA_BY_TASK;
	struct strbuf out = STRBUF_INIT;
	struct sc_outfile of;
	const char *trace = NULL;
	char *model = NULL;
	unsigned split_mask;
	int c, r, ret = 1;

	while (optind < argc) {
		c = getopt_long(argc, argv, "+f:o:w:m:s:n:ab:WC:h", longopts, NULL);
		if (c == -1) {
			if (optind >= argc)
				break;
			if (trace) {
				error("more than one trace given ('%s', '%s')", trace, argv[optind]);
				goto usage;
			}
			trace = argv[optind++];
			continue;
		}
		switch (c) {
		case 'f':
			if (parse_format(optarg, &opts.format)) {
				error("unknown format '%s' (text, json, csv or html)", optarg);
				goto usage;
			}
			break;
		case 'o':
			opts.output = optarg;
			break;
		case 'w':
			opts.windows = optarg;
			break;
		case 'm':
			opts.model = optarg;
			break;
		case 's':
			opts.split = optarg;
			break;
		case 'n':
			if (parse_int(optarg, 0, 1 << 30, &opts.top)) {
				error("bad --top '%s': a count", optarg);
				goto usage;
			}
			break;
		case 'a':
			opts.top = 0;
			break;
		case 'b':
			if (!strcmp(optarg, "process"))
				by = ANA_BY_PROCESS;
			else if (!strcmp(optarg, "comm"))
				by = ANA_BY_COMM;
			else {
				error("bad --by '%s': process or comm", optarg);
				goto usage;
			}
			break;
		case 'W':
			opts.wakers = 1;
			break;
		case 'h':
			ds_filter_release(&filter);
			return sc_usage(report_usage, 0);
		default:
			if (ds_filter_option(&filter, c, optarg) == 1)
				break;
			goto usage;
		}
	}
	if (!trace) {
		error("no trace given");
		goto usage;
	}
	if (ana_parse_split(opts.split, &split_mask)) {
		error("unknown split '%s' (test, val or all)", opts.split);
		goto usage;
	}
	if (opts.model && !(model = sc_model_path(opts.model))) {
		ds_filter_release(&filter);
		return 1;
	}
	opts.model = model;
	{
		const char *inputs[] = { trace, opts.windows, opts.model };

		if (sc_check_output(opts.output, inputs, ARRAY_SIZE(inputs))) {
			free(model);
			ds_filter_release(&filter);
			return 1;
		}
	}

	/*
	 * The text table of the top N tasks needs no more than the N exited
	 * tasks with the most run time (and the live ones): the others are
	 * folded as the pass goes, so memory stays flat however many tasks
	 * come and go.  Every task is kept for what lists or groups them all.
	 */
	if (opts.format == ANA_FMT_TEXT && opts.top > 0 && opts.top <= REPORT_KEEP_TASKS &&
	    by == ANA_BY_TASK && !opts.wakers && !filter.nr_pids && !filter.nr_tids &&
	    !filter.nr_comms)
		r = ana_trace_stats_compute_top(trace, &filter, REPORT_KEEP_TASKS, &st);
	else
		r = ana_trace_stats_compute(trace, &filter, &st);
	if (r) {
		free(model);
		ds_filter_release(&filter);
		return 1;
	}
	st.group_by = by;
	st.show_wakers = opts.wakers;
	if (opts.format == ANA_FMT_HTML && ana_timeline_compute(&st, &filter)) {
		ana_trace_stats_release(&st);
		ds_filter_release(&filter);
		free(model);
		return 1;
	}
	if (opts.windows || opts.model) {
		/* without a windows file, the features engine computes them from the trace */
		int rr = opts.windows ? ana_eval_file(&ev, opts.windows, opts.model, opts.split,
						     split_mask, &filter)
				     : ana_eval_trace(&ev, trace, opts.model, opts.split, split_mask,
						      &filter);

		if (rr) {
			ana_trace_stats_release(&st);
			ds_filter_release(&filter);
			free(model);
			return 1;
		}
		e = &ev;
	}
	ds_filter_release(&filter);
	if (ana_report_render(&st, e, opts.format, (uint64_t)opts.top, &out))
		goto out;
	if (sc_outfile_open(&of, opts.output))
		goto out;
	fwrite(out.buf, 1, out.len, of.fp);
	if (sc_outfile_commit(&of))
		goto out;
	ret = 0;
out:
	strbuf_release(&out);
	if (e)
		ana_eval_release(e);
	ana_trace_stats_release(&st);
	free(model);
	return ret;
usage:
	ds_filter_release(&filter);
	return sc_usage(report_usage, 1);
}
