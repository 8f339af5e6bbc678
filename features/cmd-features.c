// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast features - turn traces into the windows file the model trains on:
 * decisions, their candidates with per-task feature windows (or, in sequence
 * mode, the last picks of each CPU), labels and a time split.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "common/common.h"
#include "data/filter.h"
#include "features/features.h"

static const char features_usage[] =
	"usage: schedcast features [-o windows.h5] [--mode candidates|sequence] [--state wait|full|basic] [-K N] "
	"[-W N] [--split 70,15,15] [--vocab comm|pid] [--windows-version 1|2|3] [--pid LIST] [--tid LIST] "
	"[--comm GLOB] [-C LIST] [--time START,END] TRACE.h5...\n"
	"\n"
	"Reconstruct each CPU's runqueue from the traces' scheduler events and write,\n"
	"for every scheduling decision (a sched_switch to a task), the candidates\n"
	"that were queued with their feature windows, or in sequence mode the last\n"
	"picks on the CPU.  Each trace keeps its own time line and is split by time\n"
	"into train, validation and test.\n"
	"\n"
	"    -o, --output FILE     the windows file to write (default windows.h5)\n"
	"    -m, --mode MODE       candidates (default; needs wakeup events) or sequence\n"
	"                          (works with sched_switch alone)\n"
	"        --state SET       the candidates' state features: wait (default: the\n"
	"                          full set, then each task's usual wait and how far\n"
	"                          past it it is), full (the basic set, then\n"
	"                          transition shares, pick frequency, ranks and\n"
	"                          woke_prev) or basic (the set live --in-kernel computes)\n"
	"    -K, --episodes N      episodes per candidate window (default 8, 1..256)\n"
	"    -W, --length N        picks per sequence in sequence mode (default 32, 1..1024)\n"
	"        --split A,B,C     percent of each trace's time span for train, val,\n"
	"                          test, in time order (default 70,15,15)\n"
	"        --vocab BY        sequence mode: task identity by comm (default) or pid\n"
	"        --vocab-size N    sequence mode: identities kept, the unknown class\n"
	"                          included, most frequent in train first (default 256)\n"
	"        --windows-version V  3 (default): the events, readers replay the engine\n"
	"                          (smallest, fastest to write); 2: each episode and\n"
	"                          every candidate's state stored; 1: every candidate's\n"
	"                          whole window (larger, for older readers)\n"
	"    -q, --quiet           no summary line\n"
	"\n"
	"Filters: only the decisions on these CPUs, in this time range (which the split\n"
	"then divides), that picked these tasks; the runqueues still follow every event:\n"
	DS_FILTER_HELP
	"\n"
	"    -h, --help            show this help\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast features -o windows.h5 trace.h5\n"
	"    schedcast features -K 16 --split 80,10,10 -o w.h5 day1.h5 day2.h5\n"
	"    schedcast features --state basic -o basic.h5 trace.h5   # for live --in-kernel\n"
	"    schedcast features --mode sequence --vocab pid -W 64 -o seq.h5 trace.h5\n"
	"    schedcast features --comm 'postgres*' --time 10,70 -o pg.h5 trace.h5\n";

struct features_opts {
	const char *output;
	int mode;
	int state_set;
	int K, W;
	int split[3];
	int vocab_by_pid;
	int vocab_size;
	int version;
	int quiet;
};

static int parse_split(const char *s, int split[3])
{
	char *copy = xstrdup(s), *save = NULL, *tok;
	int n = 0, ret = 0;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == 3 || parse_int(tok, 0, 100, &split[n])) {
			ret = -1;
			break;
		}
		n++;
	}
	free(copy);
	if (ret || n != 3 || split[0] + split[1] + split[2] != 100 || !split[0])
		return -1;
	return 0;
}

int cmd_features(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "mode", required_argument, NULL, 'm' },
		{ "state", required_argument, NULL, 'S' },
		{ "episodes", required_argument, NULL, 'K' },
		{ "length", required_argument, NULL, 'W' },
		{ "split", required_argument, NULL, 's' },
		{ "vocab", required_argument, NULL, 'v' },
		{ "vocab-size", required_argument, NULL, 'V' },
		{ "windows-version", required_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		DS_FILTER_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct features_opts opts = {
		.output = "windows.h5",
		.mode = DS_WIN_CANDIDATES,
		.state_set = FEAT_SET_DEFAULT,
		.K = FEAT_K_DEFAULT,
		.W = FEAT_W_DEFAULT,
		.split = { 70, 15, 15 },
		.vocab_size = FEAT_VOCAB_DEFAULT,
	};
	struct feat_extract_opts xo;
	struct ds_filter filter = DS_FILTER_INIT;
	struct feat_extract_stats stats;
	const struct ds_coverage *cov = &stats.cov;
	uint64_t t0;
	double secs;
	char *cmdline;
	int c, ret, filtered;

	while ((c = getopt_long(argc, argv, "o:m:K:W:qhC:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			opts.output = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "candidates")) {
				opts.mode = DS_WIN_CANDIDATES;
			} else if (!strcmp(optarg, "sequence")) {
				opts.mode = DS_WIN_SEQUENCE;
			} else {
				error("invalid --mode '%s': candidates or sequence", optarg);
				goto usage;
			}
			break;
		case 'S':
			opts.state_set = feat_set_parse(optarg);
			if (opts.state_set < 0) {
				error("invalid --state '%s': wait, full or basic", optarg);
				goto usage;
			}
			break;
		case 'K':
			if (parse_int(optarg, 1, FEAT_K_MAX, &opts.K)) {
				error("invalid -K '%s': 1..%d episodes", optarg, FEAT_K_MAX);
				goto usage;
			}
			break;
		case 'W':
			if (parse_int(optarg, 1, FEAT_W_MAX, &opts.W)) {
				error("invalid -W '%s': 1..%d picks", optarg, FEAT_W_MAX);
				goto usage;
			}
			break;
		case 's':
			if (parse_split(optarg, opts.split)) {
				error("invalid --split '%s': three percentages adding up to 100, "
				      "train not 0", optarg);
				goto usage;
			}
			break;
		case 'v':
			if (!strcmp(optarg, "comm")) {
				opts.vocab_by_pid = 0;
			} else if (!strcmp(optarg, "pid")) {
				opts.vocab_by_pid = 1;
			} else {
				error("invalid --vocab '%s': comm or pid", optarg);
				goto usage;
			}
			break;
		case 'V':
			if (parse_int(optarg, 2, FEAT_VOCAB_MAX, &opts.vocab_size)) {
				error("invalid --vocab-size '%s': 2..%d", optarg, FEAT_VOCAB_MAX);
				goto usage;
			}
			break;
		case 'F':
			if (parse_int(optarg, 1, DS_WINDOWS_VERSION, &opts.version)) {
				error("invalid --windows-version '%s': 1, 2 or 3", optarg);
				goto usage;
			}
			break;
		case 'q':
			opts.quiet = 1;
			break;
		case 'h':
			ds_filter_release(&filter);
			return sc_usage(features_usage, 0);
		default:
			if (ds_filter_option(&filter, c, optarg) == 1)
				break;
			goto usage;
		}
	}
	if (optind >= argc) {
		error("no trace given");
		goto usage;
	}

	if (sc_check_output(opts.output, (const char *const *)argv + optind, argc - optind)) {
		ds_filter_release(&filter);
		return 1;
	}
	cmdline = sc_cmdline(argc, argv);
	xo = (struct feat_extract_opts){
		.mode = opts.mode,
		.state_set = opts.state_set,
		.K = opts.K,
		.W = opts.W,
		.split = { opts.split[0], opts.split[1], opts.split[2] },
		.vocab_by_pid = opts.vocab_by_pid,
		.vocab_size = (uint64_t)opts.vocab_size,
		.command_line = cmdline,
		.version = opts.version,
		.filter = &filter,
	};
	t0 = sc_now_ns();
	ret = feat_extract(opts.output, (const char *const *)argv + optind, argc - optind, &xo,
			   &stats);
	free(cmdline);
	filtered = filter.cpus || filter.has_time || ds_filter_any_task(&filter);
	ds_filter_release(&filter);
	if (ret)
		return 1;
	secs = (double)(sc_now_ns() - t0) / 1e9;
	if (opts.quiet)
		return 0;
	printf("%s: %llu ", opts.output, (unsigned long long)cov->decisions);
	if (filtered)
		printf("of %llu decisions pass the filters ", (unsigned long long)stats.all_decisions);
	else
		printf("decisions ");
	printf("(train %llu, val %llu, test %llu) from %d trace%s, ",
	       (unsigned long long)stats.split_n[0], (unsigned long long)stats.split_n[1],
	       (unsigned long long)stats.split_n[2], argc - optind, argc - optind > 1 ? "s" : "");
	if (opts.mode == DS_WIN_CANDIDATES)
		printf("coverage %.1f%%, contested %.1f%% (coverage %.1f%%), ",
		       cov->decisions ? 100.0 * cov->covered / cov->decisions : 0.0,
		       cov->decisions ? 100.0 * cov->contested / cov->decisions : 0.0,
		       cov->contested ? 100.0 * cov->contested_covered / cov->contested : 0.0);
	else
		printf("known picks %.1f%%, ",
		       cov->decisions ? 100.0 * cov->covered / cov->decisions : 0.0);
	printf("%llu inferred switches, %llu lost resets; %llu events in %.2f s (%.0f/s)\n",
	       (unsigned long long)cov->inferred_switches, (unsigned long long)cov->lost_resets,
	       (unsigned long long)stats.events, secs, secs > 0 ? stats.events / secs : 0.0);
	return 0;
usage:
	ds_filter_release(&filter);
	return sc_usage(features_usage, 1);
}
