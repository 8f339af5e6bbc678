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

static const char eval_usage[] =
	"usage: schedcast eval [-m model.h5] [--split test|val|all] [--json] windows.h5\n"
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
	"    -s, --split SPLIT    decisions scored: test (default), val or all; the online\n"
	"                         baselines learn from every earlier decision either way\n"
	"    -j, --json           one JSON document (keys: man schedcast-eval)\n"
	"    -h, --help           show this help\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast eval windows.h5\n"
	"    schedcast eval -m model.h5 windows.h5\n"
	"    schedcast eval -m general windows.h5\n"
	"    schedcast eval -m model.h5 --split all --json windows.h5 >eval.json\n";

struct eval_opts {
	const char *model;
	const char *split;
	int json;
};

int cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "split", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct eval_opts opts = {
		.split = "test",
	};
	struct strbuf out = STRBUF_INIT;
	struct ana_eval e;
	char *model = NULL;
	unsigned mask;
	int c;

	while ((c = getopt_long(argc, argv, "m:s:jh", longopts, NULL)) != -1) {
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
		case 'h':
			return sc_usage(eval_usage, 0);
		default:
			return sc_usage(eval_usage, 1);
		}
	}
	if (ana_parse_split(opts.split, &mask)) {
		error("unknown split '%s' (test, val or all)", opts.split);
		return sc_usage(eval_usage, 1);
	}
	if (optind != argc - 1) {
		error(optind >= argc ? "no windows file given" : "more than one windows file given");
		return sc_usage(eval_usage, 1);
	}
	if (opts.model && !(model = sc_model_path(opts.model)))
		return 1;
	opts.model = model;
	if (ana_eval_file(&e, argv[optind], opts.model, opts.split, mask)) {
		free(model);
		return 1;
	}
	if (!e.decisions)
		warning("'%s' has no decisions in split '%s'", argv[optind], opts.split);
	if (opts.json) {
		ana_eval_json(&e, &out);
		strbuf_addch(&out, '\n');
	} else {
		strbuf_addf(&out, "eval %s%s%s\n", argv[optind], opts.model ? " with model " : "",
			    opts.model ? opts.model : "");
		ana_eval_text(&e, &out);
	}
	fputs(out.buf, stdout);
	strbuf_release(&out);
	ana_eval_release(&e);
	free(model);
	return 0;
}
