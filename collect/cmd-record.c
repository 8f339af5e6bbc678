// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast record - capture the scheduler events into a trace file: a
 * capture session (collect/collect.h) feeding a trace writer (data/trace.h)
 * until the duration passes, the workload exits, or SIGINT/SIGTERM/SIGHUP.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "common/common.h"
#include "collect/capture.h"
#include "data/trace.h"

static const char record_usage[] =
	"usage: schedcast record [-o FILE] [-d DURATION] [-b tracefs|perf] [-e EVENTS] [-C CPUS] "
	"[--buffer-size SIZE] [-r PRIO] [-z LEVEL] [-q] [-- COMMAND [ARGS...]]\n"
	"\n"
	"Record the kernel's scheduler events into a trace file until DURATION has\n"
	"passed, COMMAND has exited, or SIGINT/SIGTERM arrives.  Needs root.\n"
	"\n"
	"    -o, --output FILE       the trace file (default trace.h5)\n"
	"    -d, --duration DURATION stop after DURATION (10s, 500ms, 2m)\n"
	"    -b, --backend NAME      tracefs (default: a private tracefs instance) or\n"
	"                            perf (perf_event_open on the sched tracepoints)\n"
	"    -e, --events EVENTS     comma-separated sched events (sched_switch or\n"
	"                            switch, ...; default all seven)\n"
	"    -C, --cpus CPUS         only these CPUs (0-3,6; default all online)\n"
	"        --buffer-size SIZE  ring buffer per CPU (default: 2 s of what the\n"
	"                            busiest CPU writes in 100 ms before recording,\n"
	"                            4M at least, 1/64 of the free memory in all at\n"
	"                            most; with COMMAND, 1/256 of it at least)\n"
	"    -r, --realtime PRIO     read the rings at SCHED_FIFO priority PRIO (1-99),\n"
	"                            so that an overloaded machine cannot starve the\n"
	"                            recorder into losing events\n"
	"    -z, --compress LEVEL    deflate level of the events (0-9, default 4): 0\n"
	"                            costs the recorder the least CPU for files about\n"
	"                            ten times larger\n"
	"    -q, --quiet             no summary at the end\n"
	"    -h, --help              show this help\n"
	"\n"
	"With -- COMMAND, COMMAND runs as the workload once tracing has started and\n"
	"recording stops when it exits; its exit status is reported.\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast record -d 10s -o idle.h5\n"
	"    schedcast record -o build.h5 -- make -j2\n"
	"    schedcast record -b perf -e switch,waking,migrate -C 1 -d 5s\n";

struct record_opts {
	const char *output;
	uint64_t duration_ns;		/* 0: until the command exits or a signal */
	enum col_backend backend;
	uint32_t events;
	uint64_t cpu_mask[COL_MAX_CPUS / 64];
	int has_cpu_mask;
	uint64_t buffer_size;
	int realtime;			/* SCHED_FIFO priority of the recorder, 0: none */
	int compress;			/* deflate level of the events table */
	int quiet;
	char **command;			/* NULL-terminated, or NULL */
};

static int parse_events(const char *arg, uint32_t *mask)
{
	char *copy = xstrdup(arg), *tok, *save = NULL;
	int ret = 0;

	*mask = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int t;

		if (!strcmp(tok, "all")) {
			*mask |= DS_EV_ALL_SCHED;
			continue;
		}
		t = ds_event_type_from_name(tok);
		if (t < 0 || t >= DS_EV_LOST) {
			ret = error("unknown event '%s' in --events (sched_switch, sched_wakeup, "
				    "sched_wakeup_new, sched_waking, sched_migrate_task, "
				    "sched_process_fork, sched_process_exit)", tok);
			break;
		}
		*mask |= DS_EV_BIT(t);
	}
	free(copy);
	if (!ret && !*mask)
		ret = error("no event in --events '%s'", arg);
	return ret;
}

static void describe_status(struct strbuf *sb, int status)
{
	if (WIFEXITED(status))
		strbuf_addf(sb, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		strbuf_addf(sb, "was killed by signal %d (%s)", WTERMSIG(status),
			    strsignal(WTERMSIG(status)));
	else
		strbuf_addf(sb, "ended with wait status %#x", status);
}

/* what the rings are and why, for the "recording with" line */
static void describe_rings(struct strbuf *sb, const struct col_ring_choice *r)
{
	char a[32], b[32], c[32], rate[128];

	format_size(a, sizeof(a), r->size);
	if (r->why == COL_RING_GIVEN || r->why == COL_RING_PENDING) {
		strbuf_addf(sb, "%s rings, as given", a);
		return;
	}
	snprintf(rate, sizeof(rate), "%d s at the busiest cpu's %s/s (%llu events/s, %.0f ms "
		 "before recording)", COL_RING_STRETCH_MS / 1000,
		 format_size(b, sizeof(b), r->bytes_per_s), (unsigned long long)r->events_per_s,
		 (double)r->window_ns / 1e6);
	switch (r->why) {
	case COL_RING_LEAST:
		strbuf_addf(sb, "%s rings, the least: %s take less", a, rate);
		break;
	case COL_RING_MEMORY:
		strbuf_addf(sb, "%s rings, 1/%d of the free memory: %s take more", a,
			    COL_RING_MEM_SHARE, rate);
		break;
	case COL_RING_FLOOR:
		strbuf_addf(sb, "%s rings, 1/%d of the free memory for a workload not yet "
			    "running: %s take less", a, COL_RING_FLOOR_SHARE, rate);
		break;
	default:
		strbuf_addf(sb, "%s rings: %s; free memory allows %s", a, rate,
			    format_size(c, sizeof(c), r->bound));
		break;
	}
}

static void announce(struct col_capture *cap, void *ctx)
{
	const struct record_opts *o = ctx;
	int nr_cpus = col_capture_nr_cpus(cap);
	struct strbuf sb = STRBUF_INIT;

	describe_rings(&sb, col_capture_ring_choice(cap));
	fprintf(stderr, "recording with %s on %d cpu%s (%s) into %s%s\n",
		col_capture_backend(cap), nr_cpus, nr_cpus == 1 ? "" : "s", sb.buf, o->output,
		o->command ? "" : " (Ctrl-C to stop)");
	strbuf_release(&sb);
}

static void print_summary(const struct record_opts *o, const struct col_capture_result *r)
{
	const struct ds_trace_meta *m = &r->meta;
	const uint64_t *lost = r->lost;
	int nr_cpus = r->nr_cpus;
	uint64_t dur = m->end_ns > m->start_ns ? m->end_ns - m->start_ns : 0, total_lost = 0;
	char dbuf[32], sbuf[32], lbuf[32];
	struct stat st;

	fprintf(stderr, "recorded %s with %s on %d cpu%s: %llu events (%.0f events/s)\n",
		format_duration(dbuf, sizeof(dbuf), dur),
		o->backend == COL_BACKEND_PERF ? "perf" : "tracefs", nr_cpus,
		nr_cpus == 1 ? "" : "s", (unsigned long long)m->nr_events,
		dur ? (double)m->nr_events * 1e9 / (double)dur : 0.0);
	for (int t = 0; t < DS_EV_LOST; t++)
		if (m->events_recorded & DS_EV_BIT(t))
			fprintf(stderr, "  %-20s %llu\n", ds_event_type_name(t),
				(unsigned long long)m->count_by_type[t]);
	for (int c = 0; c < nr_cpus; c++) {
		if (lost[c])
			fprintf(stderr, "lost %llu events on cpu%d\n", (unsigned long long)lost[c], c);
		total_lost += lost[c];
	}
	if (!total_lost)
		fprintf(stderr, "lost: none\n");
	if (r->decode_errors)
		warning("%llu records could not be decoded and were skipped",
			(unsigned long long)r->decode_errors);
	if (r->spool.peak_bytes)
		fprintf(stderr, "writer backlog: at most %s of %s\n",
			format_size(sbuf, sizeof(sbuf), r->spool.peak_bytes),
			format_size(lbuf, sizeof(lbuf), r->spool.limit_bytes));
	if (r->spool.waits)
		warning("the writer fell behind: the rings were not read for %s in all "
			"(%llu waits); -z 1 or -z 0 costs less CPU",
			format_duration(dbuf, sizeof(dbuf), r->spool.wait_ns),
			(unsigned long long)r->spool.waits);
	if (!stat(o->output, &st))
		fprintf(stderr, "wrote %s (%s)\n", o->output,
			format_size(sbuf, sizeof(sbuf), (uint64_t)st.st_size));
}

int cmd_record(int argc, char **argv)
{
	enum { OPT_BUFFER_SIZE = 256 };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "duration", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "events", required_argument, NULL, 'e' },
		{ "cpus", required_argument, NULL, 'C' },
		{ "buffer-size", required_argument, NULL, OPT_BUFFER_SIZE },
		{ "realtime", required_argument, NULL, 'r' },
		{ "compress", required_argument, NULL, 'z' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct record_opts o = {
		.output = "trace.h5",
		.backend = COL_BACKEND_TRACEFS,
		.events = 0,			/* all the kernel has */
		.compress = DS_TRACE_DEFAULT_COMPRESSION,
	};
	struct col_capture_opts copts = { 0 };
	const struct col_capture_result *r;
	struct col_capture *cap;
	int c, ret, started, status;
	char *cmdline;

	while ((c = getopt_long(argc, argv, "+o:d:b:e:C:r:z:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &o.duration_ns) || !o.duration_ns) {
				error("invalid duration '%s' (10s, 500ms, 2m)", optarg);
				return sc_usage(record_usage, 1);
			}
			break;
		case 'b':
			if (col_backend_from_name(optarg) < 0) {
				error("unknown backend '%s' (tracefs or perf)", optarg);
				return sc_usage(record_usage, 1);
			}
			o.backend = (enum col_backend)col_backend_from_name(optarg);
			break;
		case 'e':
			if (parse_events(optarg, &o.events))
				return sc_usage(record_usage, 1);
			break;
		case 'C': {
			long conf = sysconf(_SC_NPROCESSORS_CONF);
			int nr = (int)SC_MIN(conf > 0 ? conf : COL_MAX_CPUS, COL_MAX_CPUS);

			if (parse_cpulist(optarg, o.cpu_mask, nr)) {
				error("invalid CPU list '%s' (this machine has CPUs 0-%d)", optarg,
				      nr - 1);
				return sc_usage(record_usage, 1);
			}
			o.has_cpu_mask = 1;
			break;
		}
		case OPT_BUFFER_SIZE:
			if (parse_size(optarg, &o.buffer_size) || o.buffer_size < 64 * 1024 ||
			    o.buffer_size > (1ULL << 30)) {
				error("invalid --buffer-size '%s' (64k to 1G)", optarg);
				return sc_usage(record_usage, 1);
			}
			break;
		case 'r':
			if (parse_int(optarg, 1, 99, &o.realtime)) {
				error("invalid --realtime priority '%s' (1 to 99)", optarg);
				return sc_usage(record_usage, 1);
			}
			break;
		case 'z':
			if (parse_int(optarg, 0, 9, &o.compress)) {
				error("invalid --compress level '%s' (0 to 9)", optarg);
				return sc_usage(record_usage, 1);
			}
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			return sc_usage(record_usage, 0);
		default:
			return sc_usage(record_usage, 1);
		}
	}
	if (sc_command_args(argc, argv, optind, "run a workload", &o.command))
		return sc_usage(record_usage, 1);
	if (sc_check_output_dir(o.output))
		return 1;

	copts.session.backend = o.backend;
	copts.session.events = o.events;
	copts.session.cpu_mask = o.has_cpu_mask ? o.cpu_mask : NULL;
	copts.session.buffer_size = o.buffer_size;
	copts.duration_ns = o.duration_ns;
	copts.command = o.command;
	copts.realtime = o.realtime;
	copts.output = o.output;
	copts.compress = o.compress;
	cmdline = sc_cmdline(argc, argv);
	copts.command_line = xstrfmt("schedcast %s", cmdline);
	free(cmdline);
	copts.on_start = o.quiet ? NULL : announce;
	copts.ctx = &o;

	cap = col_capture_open(&copts);
	if (!cap) {
		free((char *)copts.command_line);
		return 1;
	}
	ret = col_capture_run(cap) ? 1 : 0;
	r = col_capture_result(cap);
	if (!ret && !o.quiet)
		print_summary(&o, r);
	if (!ret && !o.quiet && r->stop_signal)
		fprintf(stderr, "stopped by %s\n", strsignal(r->stop_signal));
	/* read before close frees the result */
	started = r->workload_started;
	status = r->workload_status;
	if (col_capture_close(cap))
		ret = 1;	/* the instance is left behind: the file is written, the run fails */
	if (started && !o.quiet) {
		struct strbuf sb = STRBUF_INIT;

		describe_status(&sb, status);
		fprintf(stderr, "command '%s' %s\n", o.command[0], sb.buf);
		strbuf_release(&sb);
	}
	free((char *)copts.command_line);
	return ret;
}
