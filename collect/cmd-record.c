// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast record - capture the scheduler events into a trace file: a
 * capture session (collect/collect.h) feeding a trace writer (data/trace.h)
 * until the duration passes, the workload exits, or SIGINT/SIGTERM/SIGHUP.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "common/common.h"
#include "common/run-command.h"
#include "collect/collect.h"
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
	"        --buffer-size SIZE  ring buffer per CPU (default 4M)\n"
	"    -r, --realtime PRIO     read the rings at SCHED_FIFO priority PRIO (1-99),\n"
	"                            so that an overloaded machine cannot starve the\n"
	"                            recorder into losing events\n"
	"    -z, --compress LEVEL    deflate level of the events (0-9, default 1): 0\n"
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

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* only to interrupt the wait for trace data when the workload exits */
static void on_sigchld(int sig)
{
}

/* die() and other exits still remove the private instance */
static struct col_session *live_session;

static void close_session_at_exit(void)
{
	col_session_close(live_session);
	live_session = NULL;
}

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

struct record_state {
	struct ds_trace_writer *w;
	uint64_t lost_marked[COL_MAX_CPUS];
};

/*
 * Thread groups of the tasks alive now, from /proc/PID/task/TID: the events
 * do not say which threads belong together.  Called at the start and at the
 * end, which covers every task but threads that lived only in between.  In a
 * child pid namespace /proc numbers tasks differently from the kernel's
 * events, so nothing is recorded there.
 */
static void note_tgids(struct ds_trace_writer *w)
{
	struct strbuf sb = STRBUF_INIT;
	FILE *fp = fopen("/proc/self/status", "r");
	DIR *proc, *task;
	struct dirent *p, *t;
	int nested = 1;

	while (fp && strbuf_getline(&sb, fp) != EOF) {
		int outer, inner;

		if (!strncmp(sb.buf, "NSpid:", 6)) {
			/* one pid: the initial namespace; two or more: nested */
			nested = sscanf(sb.buf + 6, "%d %d", &outer, &inner) != 1;
			break;
		}
	}
	if (fp)
		fclose(fp);
	strbuf_release(&sb);
	if (nested)
		return;
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((p = readdir(proc))) {
		int tgid = atoi(p->d_name);
		char path[64];

		if (tgid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", tgid);
		task = opendir(path);
		if (!task)
			continue;	/* gone meanwhile */
		while ((t = readdir(task)))
			if (atoi(t->d_name) > 0)
				ds_trace_set_tgid(w, atoi(t->d_name), tgid);
		closedir(task);
	}
	closedir(proc);
}

static int write_event(const struct ds_event *ev, void *ctx)
{
	struct record_state *st = ctx;

	if (ev->type == DS_EV_LOST && ev->cpu >= 0 && ev->cpu < COL_MAX_CPUS && ev->state > 0)
		st->lost_marked[ev->cpu] += (uint64_t)ev->state;
	return ds_trace_write(st->w, ev);
}

/* Run the workload now that tracing is on; -1 if it could not be started. */
static pid_t start_workload(char **argv)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	pid_t pid;

	strvec_pushv(&cp.args, (const char *const *)argv);
	cp.default_signals = 1;
	pid = start_command(&cp) ? -1 : cp.pid;
	child_process_clear(&cp);
	return pid;
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

static void print_summary(const struct record_opts *o, const struct ds_trace_meta *m,
			  const uint64_t *lost, int nr_cpus)
{
	uint64_t dur = m->end_ns > m->start_ns ? m->end_ns - m->start_ns : 0, total_lost = 0;
	char dbuf[32], sbuf[32];
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
	struct col_opts copts = { 0 };
	struct ds_trace_meta meta = { 0 }, final;
	static struct record_state st;
	struct sigaction sa;
	struct utsname uts;
	struct col_session *s;
	uint64_t deadline = 0, *lost = NULL;
	int close_failed = 0;
	pid_t child = -1;
	int c, nr_cpus, child_status = 0, child_done = 0, ret = 0;
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
	if (optind < argc) {
		/* getopt stops at "--" (consumed) or at the first non-option */
		if (strcmp(argv[optind - 1], "--")) {
			error("unexpected argument '%s' (use -- COMMAND to run a workload)",
			      argv[optind]);
			return sc_usage(record_usage, 1);
		}
		o.command = argv + optind;
	}
	if (sc_check_output_dir(o.output))
		return 1;

	/* stop cleanly on these: the loop sees the flag and closes a valid file */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (o.command) {
		sa.sa_handler = on_sigchld;
		sigaction(SIGCHLD, &sa, NULL);
	}

	copts.backend = o.backend;
	copts.events = o.events;
	copts.cpu_mask = o.has_cpu_mask ? o.cpu_mask : NULL;
	copts.buffer_size = o.buffer_size;
	s = col_session_open(&copts);
	if (!s)
		return 1;
	live_session = s;
	atexit(close_session_at_exit);
	nr_cpus = col_session_nr_cpus(s);

	snprintf(meta.source, sizeof(meta.source), "%s", col_session_source(s));
	snprintf(meta.clock, sizeof(meta.clock), "%s", col_session_clock(s));
	if (!uname(&uts)) {
		snprintf(meta.kernel_release, sizeof(meta.kernel_release), "%s", uts.release);
		snprintf(meta.hostname, sizeof(meta.hostname), "%s", uts.nodename);
	}
	meta.nr_cpus = nr_cpus;
	meta.events_recorded = col_session_events(s);
	cmdline = sc_cmdline(argc, argv);
	snprintf(meta.command_line, sizeof(meta.command_line), "schedcast %s", cmdline);
	free(cmdline);
	st.w = ds_trace_create(o.output, &meta);
	if (st.w)
		ds_trace_set_compression(st.w, o.compress);
	if (!st.w) {
		ret = 1;
		goto out;
	}

	if (col_session_start(s)) {
		ret = 1;
		goto out;
	}
	meta.start_ns = col_session_now(s);
	note_tgids(st.w);
	if (o.duration_ns)
		deadline = meta.start_ns + o.duration_ns;
	if (o.command) {
		child = start_workload(o.command);
		if (child < 0) {
			ret = 1;
			goto out;
		}
	}
	if (o.realtime) {
		/* the workload (already forked) keeps its policy; later forks of ours reset */
		struct sched_param sp = { .sched_priority = o.realtime };

		if (sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &sp)) {
			error_errno("cannot run at SCHED_FIFO priority %d", o.realtime);
			ret = 1;
			goto out;
		}
	}
	if (!o.quiet)
		fprintf(stderr, "recording with %s on %d cpu%s into %s%s\n",
			o.backend == COL_BACKEND_PERF ? "perf" : "tracefs", nr_cpus,
			nr_cpus == 1 ? "" : "s", o.output, o.command ? "" : " (Ctrl-C to stop)");

	while (!stop_signal) {
		int timeout = 100, n;

		if (deadline) {
			uint64_t now = col_session_now(s);

			if (now >= deadline)
				break;
			timeout = (int)SC_MIN((uint64_t)timeout,
					      (deadline - now) / NSEC_PER_MSEC + 1);
		}
		if (child > 0 && waitpid(child, &child_status, WNOHANG) == child) {
			child_done = 1;
			break;
		}
		n = col_session_poll(s, timeout, write_event, &st);
		if (n < 0) {
			ret = 1;
			goto out;
		}
	}
	meta.end_ns = col_session_now(s);
	if (col_session_stop(s)) {
		ret = 1;
		goto out;
	}
	for (;;) {
		int n = col_session_poll(s, 0, write_event, &st);

		if (n < 0) {
			ret = 1;
			goto out;
		}
		if (!n)
			break;
	}

	lost = xcalloc((size_t)nr_cpus, sizeof(*lost));
	for (c = 0; c < nr_cpus; c++) {
		uint64_t marked = c < COL_MAX_CPUS ? st.lost_marked[c] : 0;

		lost[c] = SC_MAX(col_session_lost(s, c), marked);
		if (lost[c] > marked)
			ds_trace_add_lost(st.w, c, lost[c] - marked);
	}
	note_tgids(st.w);
	ds_trace_meta_update(st.w, &meta);
	/* the instance goes before the file is written: nothing left to capture */
	/* a failure to remove the instance fails the run, the file is still written */
	close_failed = col_session_close(s) != 0;
	live_session = s = NULL;
	ret = ds_trace_writer_close(st.w, &final) || close_failed ? 1 : 0;
	st.w = NULL;
	if (!ret && !o.quiet)
		print_summary(&o, &final, lost, nr_cpus);
	if (!ret && !o.quiet && stop_signal)
		fprintf(stderr, "stopped by %s\n", strsignal(stop_signal));

out:
	if (st.w)
		ds_trace_writer_abort(st.w);
	st.w = NULL;
	col_session_close(s);
	live_session = NULL;
	if (child > 0 && !child_done) {
		/* the recording ended first (duration, signal, error): end the workload too */
		if (waitpid(child, &child_status, WNOHANG) != child) {
			kill(child, SIGTERM);
			waitpid(child, &child_status, 0);
		}
		child_done = 1;
	}
	if (child > 0 && !o.quiet) {
		struct strbuf sb = STRBUF_INIT;

		describe_status(&sb, child_status);
		fprintf(stderr, "command '%s' %s\n", o.command[0], sb.buf);
		strbuf_release(&sb);
	}
	free(lost);
	return ret;
}
