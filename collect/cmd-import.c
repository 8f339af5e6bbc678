// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast import - a trace.dat, perf.data or text trace into trace.h5.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "collect/import.h"
#include "common/common.h"
#include "data/trace.h"

static const char import_usage[] =
	"usage: schedcast import [-o FILE] [-f FORMAT] [-B BUFFER] [--dump] FILE|-\n"
	"\n"
	"Turn a trace recorded by another tool into a schedcast trace file.  The\n"
	"format is recognised by content: trace-cmd trace.dat (versions 6 and 7,\n"
	"compressed or not, with buffer instances), perf.data (file and pipe formats,\n"
	"read natively) and text from ftrace (trace, trace_pipe), trace-cmd report\n"
	"(-N is exact; the plugin form cannot tell R from R+) and perf script.\n"
	"'-' reads standard input.\n"
	"\n"
	"    -o, --output FILE     write FILE (default trace.h5)\n"
	"    -f, --format FORMAT   auto, trace-dat, perf-data or text (default auto)\n"
	"    -B, --buffer NAME     trace.dat: import only buffer instance NAME ('top': the\n"
	"                          top-level buffer); default every buffer with sched events\n"
	"        --perf PATH       read perf.data through 'PATH script' (a cross-check)\n"
	"        --dump            then print the imported events, one per line, as\n"
	"                          'TS CPU TYPE field=value...' (mktrace's input format)\n"
	"    -q, --quiet           no summary on standard error\n"
	"    -h, --help            show this help\n"
	"\n"
	"EXAMPLES\n"
	"    trace-cmd extract -B mybuf -o trace.dat && schedcast import trace.dat\n"
	"    schedcast import -o run1.h5 perf.data\n"
	"    cat /sys/kernel/tracing/trace | schedcast import -o ftrace.h5 -\n"
	"    trace-cmd report -N -t trace.dat | schedcast import -f text -o t.h5 -\n";

struct import_opts {
	const char *output;
	const char *format;
	const char *buffer;
	const char *perf;
	int dump;
	int quiet;
};

static void dump_event(struct strbuf *sb, const struct ds_event *ev)
{
	const struct { const char *name; int32_t v; } ints[] = {
		{ "common_pid", ev->common_pid }, { "pid", ev->pid }, { "prio", ev->prio },
		{ "next_pid", ev->next_pid }, { "next_prio", ev->next_prio },
		{ "target_cpu", ev->target_cpu }, { "orig_cpu", ev->orig_cpu },
		{ "dest_cpu", ev->dest_cpu },
	};
	const char *type = ds_event_type_name(ev->type);

	strbuf_addf(sb, "%llu %d %s", (unsigned long long)ev->ts, ev->cpu, type ? type : "?");
	for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
		if (ints[i].v != -1)
			strbuf_addf(sb, " %s=%d", ints[i].name, ints[i].v);
	/* a lost count in decimal, prev_state bits in hex */
	if (ev->state != -1 && ev->type == DS_EV_LOST)
		strbuf_addf(sb, " state=%lld", (long long)ev->state);
	else if (ev->state != -1)
		strbuf_addf(sb, " state=0x%llx", (unsigned long long)ev->state);
	/* comms under the untrusted-string rule: no escape sequence reaches a terminal */
	if (ev->comm[0]) {
		strbuf_addstr(sb, " comm=");
		strbuf_add_safe_n(sb, ev->comm, DS_COMM_LEN);
	}
	if (ev->next_comm[0]) {
		strbuf_addstr(sb, " next_comm=");
		strbuf_add_safe_n(sb, ev->next_comm, DS_COMM_LEN);
	}
	strbuf_addch(sb, '\n');
}

static int dump_trace(const char *path)
{
	struct ds_trace_reader *r = ds_trace_open(path);
	struct strbuf sb = STRBUF_INIT;
	struct ds_event ev;
	int ret;

	if (!r)
		return -1;
	while ((ret = ds_trace_next(r, &ev)) == 1) {
		dump_event(&sb, &ev);
		if (sb.len > 65536) {
			fwrite(sb.buf, 1, sb.len, stdout);
			strbuf_reset(&sb);
		}
	}
	fwrite(sb.buf, 1, sb.len, stdout);
	strbuf_release(&sb);
	ds_trace_close(r);
	return ret < 0 ? -1 : 0;
}

int cmd_import(int argc, char **argv)
{
	enum { OPT_PERF = 256, OPT_DUMP };
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "perf", required_argument, NULL, OPT_PERF },
		{ "dump", no_argument, NULL, OPT_DUMP },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct import_opts o = {
		.output = "trace.h5",
		.format = "auto",
	};
	struct col_import_opts copts = { 0 };
	struct col_import_stats st;
	int c, fmt;
	char *args, *cmdline;

	while ((c = getopt_long(argc, argv, "o:f:B:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'f':
			o.format = optarg;
			break;
		case 'B':
			o.buffer = optarg;
			break;
		case OPT_PERF:
			o.perf = optarg;
			break;
		case OPT_DUMP:
			o.dump = 1;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'h':
			return sc_usage(import_usage, 0);
		default:
			return sc_usage(import_usage, 1);
		}
	}
	if (argc - optind != 1) {
		error(argc - optind ? "import reads one file" : "no file given");
		return sc_usage(import_usage, 1);
	}
	fmt = col_import_format_parse(o.format);
	if (fmt < 0) {
		error("unknown format '%s' (auto, trace-dat, perf-data, text)", o.format);
		return sc_usage(import_usage, 1);
	}
	if (!*o.output || !strcmp(o.output, "-")) {
		error("the output must be a file name");
		return sc_usage(import_usage, 1);
	}

	if (sc_check_output(o.output, (const char *const *)argv + optind, 1))
		return 1;

	args = sc_cmdline(argc, argv);
	cmdline = xstrfmt("schedcast %s", args);
	free(args);
	copts.format = fmt;
	copts.buffer = o.buffer;
	copts.perf = o.perf;
	copts.command_line = cmdline;
	if (col_import(argv[optind], o.output, &copts, &st)) {
		free(cmdline);
		return 1;
	}
	free(cmdline);
	if (!o.quiet) {
		fprintf(stderr, "imported %llu events (%s, %d CPUs, %llu lost) into %s\n",
			(unsigned long long)st.meta.nr_events, st.meta.source, st.meta.nr_cpus,
			(unsigned long long)st.meta.lost_total, o.output);
		if (st.skipped_lines)
			fprintf(stderr, "skipped %llu line%s that %s not scheduler events\n",
				(unsigned long long)st.skipped_lines,
				st.skipped_lines == 1 ? "" : "s", st.skipped_lines == 1 ? "is" : "are");
		if (st.plugin_switches)
			fprintf(stderr, "note: %llu sched_switch lines are in trace-cmd's plugin form, "
				"which prints R for R+: use 'trace-cmd report -N' for exact states\n",
				(unsigned long long)st.plugin_switches);
	}
	if (o.dump && dump_trace(o.output))
		return 1;
	return 0;
}
