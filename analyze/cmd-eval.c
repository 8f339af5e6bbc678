// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast eval - how well the model predicts the kernel's picks, beside
 * seven baselines scored on the very same decisions.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "builtin.h"
#include "common/common.h"
#include "data/filter.h"

static const char eval_usage[] =
	"usage: schedcast eval [-m model.h5] [--online] [--online-lr X] [--split test|val|all] [--json] [--pid LIST] [--tid LIST] [--comm GLOB] [-C LIST] [--time START,END] windows.h5\n"
	"\n"
	"Top-1 and top-3 accuracy on contested decisions (two or more candidates) and\n"
	"on all decisions, with 95% Wilson intervals, coverage, chance level, per-CPU\n"
	"and per-task breakdowns and the most frequent mispredictions, for the model\n"
	"and for the baselines: uniform random, longest-queued, least-recently-run,\n"
	"least recent CPU time, most-frequent, Markov order 1 and 2.  Without -m, the\n"
	"baselines only.  A model that does not beat the best baseline is marked '!!'.\n"
	"\n"
	"    -m, --model FILE     the model to score (schedcast train), or a shipped one by\n"
	"                         name: general (trained on every sample trace)\n"
	"        --online         adapt the model online: after scoring a decision, one\n"
	"                         training step on it (head and linear path); frozen and\n"
	"                         online figures are printed side by side\n"
	"        --online-lr X    the online steps' Adam learning rate (default 0.002)\n"
	"    -s, --split SPLIT    decisions scored: test (default), val or all; the online\n"
	"                         baselines learn from every earlier decision either way\n"
	"    -j, --json           one JSON document (keys: man schedcast-eval)\n"
	"    -h, --help           show this help\n"
	"\n"
	"Filters: only the decisions on these CPUs, in this time range, that picked these\n"
	"tasks are scored (--pid and --comm read the input traces' task tables); the\n"
	"online baselines still learn from every decision:\n"
	DS_FILTER_HELP
	"\n"
	"EXAMPLES\n"
	"    schedcast eval windows.h5\n"
	"    schedcast eval -m model.h5 windows.h5\n"
	"    schedcast eval -m general windows.h5\n"
	"    schedcast eval -m model.h5 --online windows.h5\n"
	"    schedcast eval -m model.h5 --split all --json windows.h5 >eval.json\n"
	"    schedcast eval -m model.h5 --comm 'postgres*' -C 0-3 windows.h5\n";

struct eval_opts {
	const char *model;
	const char *split;
	int json;
	int online;
	double online_lr;
};

/* frozen_vs_online - the two models on the same decisions, and what each has seen */
static void frozen_vs_online(struct strbuf *out, const struct ana_eval *fz,
			     const struct ana_eval *on)
{
	double n = (double)on->contested, lo, hi;
	const struct ana_score *b = &on->bl[on->best];

	strbuf_addf(out, "\nfrozen and online, contested top-1 on the same %llu decisions:\n",
		    (unsigned long long)on->contested);
	if (!on->contested)
		return;
	ana_wilson(fz->model.top1_c, n, &lo, &hi);
	strbuf_addf(out, "  model, frozen    %5.1f%% [%.1f%%, %.1f%%]  has seen the training split "
		    "(epoch chosen on validation)\n", 100 * fz->model.top1_c / n, 100 * lo, 100 * hi);
	ana_wilson(on->model.top1_c, n, &lo, &hi);
	strbuf_addf(out, "  model, online    %5.1f%% [%.1f%%, %.1f%%]  has also learnt from the "
		    "validation split and each scored decision after scoring it\n",
		    100 * on->model.top1_c / n, 100 * lo, 100 * hi);
	ana_wilson(b->top1_c, n, &lo, &hi);
	strbuf_addf(out, "  best baseline    %5.1f%% [%.1f%%, %.1f%%]  %s (most-frequent and markov "
		    "learn from every earlier decision)\n", 100 * b->top1_c / n, 100 * lo, 100 * hi,
		    ana_baseline_names[on->best]);
}

int cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "split", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "online", no_argument, NULL, 'O' },
		{ "online-lr", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		DS_FILTER_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct ds_filter filter = DS_FILTER_INIT;
	struct eval_opts opts = {
		.split = "test", .online_lr = 0.002,
	};
	struct ana_eval frozen;
	struct strbuf out = STRBUF_INIT;
	struct ana_eval e;
	char *model = NULL;
	unsigned mask;
	int c, filtered;

	while ((c = getopt_long(argc, argv, "m:s:jhC:", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			opts.model = optarg;
			break;
		case 's':
			opts.split = optarg;
			break;
		case 'j':
			opts.json = 1;
			break;
		case 'O':
			opts.online = 1;
			break;
		case 'L':
			if (parse_double(optarg, &opts.online_lr) ||
			    !(opts.online_lr >= 1e-6 && opts.online_lr < 1)) {
				error("invalid value '%s' for --online-lr (1e-6 <= X < 1)", optarg);
				goto usage;
			}
			break;
		case 'h':
			ds_filter_release(&filter);
			return sc_usage(eval_usage, 0);
		default:
			if (ds_filter_option(&filter, c, optarg) == 1)
				break;
			goto usage;
		}
	}
	if (ana_parse_split(opts.split, &mask)) {
		error("unknown split '%s' (test, val or all)", opts.split);
		goto usage;
	}
	if (optind != argc - 1) {
		error(optind >= argc ? "no windows file given" : "more than one windows file given");
		goto usage;
	}
	if (opts.online && !opts.model) {
		error("--online needs a model (-m)");
		goto usage;
	}
	if (opts.model && !(model = sc_model_path(opts.model))) {
		ds_filter_release(&filter);
		return 1;
	}
	opts.model = model;
	if (opts.online && !opts.json &&
	    ana_eval_file(&frozen, argv[optind], opts.model, opts.split, mask, &filter)) {
		free(model);
		ds_filter_release(&filter);
		return 1;
	}
	if (ana_eval_file_online(&e, argv[optind], opts.model, opts.split, mask,
				 opts.online ? opts.online_lr : 0, &filter)) {
		if (opts.online && !opts.json)
			ana_eval_release(&frozen);
		free(model);
		ds_filter_release(&filter);
		return 1;
	}
	filtered = filter.cpus || filter.has_time || ds_filter_any_task(&filter);
	ds_filter_release(&filter);
	if (!e.decisions)
		warning("'%s' has no decisions in split '%s'%s", argv[optind], opts.split,
			filtered ? " that pass the filters" : "");
	if (opts.json) {
		ana_eval_json(&e, &out);
		strbuf_addch(&out, '\n');
	} else {
		strbuf_addf(&out, "eval %s%s%s\n", argv[optind], opts.model ? " with model " : "",
			    opts.model ? opts.model : "");
		ana_eval_text(&e, &out);
		if (opts.online) {
			frozen_vs_online(&out, &frozen, &e);
			ana_eval_release(&frozen);
		}
	}
	fputs(out.buf, stdout);
	strbuf_release(&out);
	ana_eval_release(&e);
	free(model);
	return 0;
usage:
	ds_filter_release(&filter);
	return sc_usage(eval_usage, 1);
}
