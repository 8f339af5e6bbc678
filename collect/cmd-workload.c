// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast workload - run the built-in mixed workload (collect/workload.h)
 * on its own, typically under `schedcast record -- schedcast workload`.
 */
#include <getopt.h>

#include "builtin.h"
#include "collect/workload.h"
#include "common/common.h"

static const char workload_usage[] =
	"usage: schedcast workload [-d DURATION] [-p PARTS] [-s SEED] [--hogs N] [--period DURATION] [--rounds N] [--work US]\n"
	"\n"
	"Run the built-in mixed workload: a pipe ping-pong pair, CPU hogs, a\n"
	"latency-sensitive periodic task and bursts of short-lived forks.  The same\n"
	"seed asks the scheduler for the same sequence of work and sleeps.\n"
	"\n"
	"    -d, --duration DURATION  stop after this long (default 10s; 0 = until interrupted)\n"
	"    -p, --parts PARTS        comma-separated: pingpong, hogs, periodic, forks, all\n"
	"                             (default all)\n"
	"    -s, --seed SEED          seed of the work and sleep amounts (default 1)\n"
	"        --hogs N             CPU hogs (default one per online CPU)\n"
	"        --period DURATION    the periodic task's period (default 2ms)\n"
	"        --rounds N           end the ping-pong after N round trips (default no limit)\n"
	"        --work US            at most US microseconds of work per ping-pong turn\n"
	"                             (default 200; 0 = none)\n"
	"    -h, --help               show this help\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast workload -d 5s\n"
	"    schedcast record -d 10s -o mixed.h5 -- schedcast workload -d 10s\n"
	"    taskset -c 0 schedcast workload -p pingpong --rounds 2000 --work 0\n";

struct workload_opts {
	struct col_workload_opts wl;
};

int cmd_workload(int argc, char **argv)
{
	enum { OPT_HOGS = 256, OPT_PERIOD, OPT_ROUNDS, OPT_WORK };
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "parts", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "hogs", required_argument, NULL, OPT_HOGS },
		{ "period", required_argument, NULL, OPT_PERIOD },
		{ "rounds", required_argument, NULL, OPT_ROUNDS },
		{ "work", required_argument, NULL, OPT_WORK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct workload_opts opts = {
		.wl = { .parts = COL_WL_ALL, .duration_ns = 10 * NSEC_PER_SEC, .seed = 1 },
	};
	struct col_workload_stats st;
	struct strbuf sb = STRBUF_INIT;
	int c, n;

	while ((c = getopt_long(argc, argv, "d:p:s:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (parse_duration(optarg, &opts.wl.duration_ns)) {
				error("bad duration '%s' for -d", optarg);
				return sc_usage(workload_usage, 1);
			}
			break;
		case 'p':
			if (col_workload_parts_from_names(optarg, &opts.wl.parts)) {
				error("bad parts '%s' for -p (pingpong, hogs, periodic, forks, all)",
				      optarg);
				return sc_usage(workload_usage, 1);
			}
			break;
		case 's':
			if (parse_u64(optarg, &opts.wl.seed)) {
				error("bad seed '%s'", optarg);
				return sc_usage(workload_usage, 1);
			}
			break;
		case OPT_HOGS:
			if (parse_int(optarg, 1, 64, &opts.wl.hogs)) {
				error("bad number of hogs '%s' (1..64)", optarg);
				return sc_usage(workload_usage, 1);
			}
			break;
		case OPT_PERIOD:
			if (parse_duration(optarg, &opts.wl.period_ns) ||
			    opts.wl.period_ns < 100 * NSEC_PER_USEC ||
			    opts.wl.period_ns > 10 * NSEC_PER_SEC) {
				error("bad period '%s' (100us..10s)", optarg);
				return sc_usage(workload_usage, 1);
			}
			break;
		case OPT_ROUNDS:
			if (parse_u64(optarg, &opts.wl.rounds)) {
				error("bad number of rounds '%s'", optarg);
				return sc_usage(workload_usage, 1);
			}
			break;
		case OPT_WORK:
			if (parse_int(optarg, 0, 1000000, &n)) {
				error("bad work '%s' (0..1000000 us)", optarg);
				return sc_usage(workload_usage, 1);
			}
			opts.wl.pingpong_work_us = n ? n : -1;
			break;
		case 'h':
			return sc_usage(workload_usage, 0);
		default:
			return sc_usage(workload_usage, 1);
		}
	}
	if (optind < argc) {
		error("unexpected argument '%s'", argv[optind]);
		return sc_usage(workload_usage, 1);
	}
	if (col_workload_run(&opts.wl, &st))
		return 1;
	col_workload_describe(&st, opts.wl.parts, &sb);
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
	return 0;
}
