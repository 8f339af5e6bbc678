// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast - learn to forecast the Linux scheduler.
 *
 * The command table, as trace-cmd.c, perf.c and git.c keep theirs: a plain
 * list of { name, function, summary } searched by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "builtin.h"
#include "common/common.h"
#include "common/run-command.h"

struct cmd_struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const struct cmd_struct commands[] = {
	{ "record", cmd_record, "record the scheduler's events into a trace file" },
	{ "import", cmd_import, "turn a trace.dat, perf.data or trace text into a trace file" },
	{ "info", cmd_info, "show what a schedcast file holds" },
	{ "features", cmd_features, "turn traces into decision windows for the model" },
	{ "train", cmd_train, "train the fixed-point LSTM on a windows file" },
	{ "eval", cmd_eval, "score the model and the baselines on a windows file" },
	{ "script", cmd_script, "the events of a trace, one line each (perf sched timehist's columns)" },
	{ "export", cmd_export, "write a trace for Perfetto and chrome://tracing (JSON)" },
	{ "report", cmd_report, "trace statistics per task and CPU (text, json, csv, html)" },
	{ "live", cmd_live, "predict the scheduler's picks as it makes them" },
	{ "run", cmd_run, "record, learn and evaluate the scheduler on one command" },
	{ "workload", cmd_workload, "run the built-in mixed workload (to record it)" },
	{ "help", cmd_help, "show this list, or the manual page of a command" },
	{ "version", cmd_version, "print the version" },
};

static void list_commands(FILE *fp)
{
	fprintf(fp, "usage: schedcast <command> [<options>] [<args>]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(fp, "   %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(fp, "\nschedcast <command> -h shows a command's options; "
		    "'man schedcast-<command>' the details.\n");
}

static const struct cmd_struct *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* have_man_page - whether `man -w PAGE` finds the page (quietly) */
static int have_man_page(const char *page)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return 0;
	strvec_push(&cp.args, "man");
	strvec_push(&cp.args, "-w");
	strvec_push(&cp.args, page);
	cp.out = cp.err = fd;
	sc_set_quiet(1);	/* no man at all: the command's own -h, silently */
	ret = run_command(&cp) == 0;
	sc_set_quiet(0);
	close(fd);
	return ret;
}

/*
 * help CMD - the manual page, as git help does; without man or the page
 * (not installed, or run from the build tree), the command's own -h.
 */
static int cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		const struct cmd_struct *cmd = find_command(argv[1]);
		char *sub_argv[3];
		int ret;
		char page[64];

		if (!cmd) {
			error("unknown command '%s'", argv[1]);
			list_commands(stderr);
			return 2;
		}
		snprintf(page, sizeof(page), "schedcast-%s", argv[1]);
		if (cmd->fn != cmd_help && cmd->fn != cmd_version && have_man_page(page)) {
			execlp("man", "man", page, (char *)NULL);
			error_errno("cannot run man for '%s'", page);
		}
		if (cmd->fn == cmd_help || cmd->fn == cmd_version) {
			list_commands(stdout);
			return 0;
		}
		sub_argv[0] = xstrfmt("schedcast %s", cmd->name);
		sub_argv[1] = (char *)"-h";
		sub_argv[2] = NULL;
		ret = cmd->fn(2, sub_argv);
		free(sub_argv[0]);
		return ret;
	}
	list_commands(stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	printf("schedcast version %s\n", SC_VERSION);
	return 0;
}

/* Fatal signals still remove half-written outputs, then die as the signal says. */
static void fatal_signal(int sig)
{
	sc_tmp_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

int main(int argc, char **argv)
{
	const struct cmd_struct *cmd;
	int status;

	atexit(sc_tmp_cleanup);
	signal(SIGINT, fatal_signal);
	signal(SIGTERM, fatal_signal);
	signal(SIGHUP, fatal_signal);
	signal(SIGPIPE, fatal_signal);

	if (argc < 2) {
		list_commands(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(1, argv + 1);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))
		return cmd_version(1, argv + 1);
	cmd = find_command(argv[1]);
	if (!cmd) {
		error("unknown command '%s'", argv[1]);
		list_commands(stderr);
		return 2;
	}
	/* getopt names the program by argv[0]: "schedcast CMD: invalid option" */
	argv[1] = xstrfmt("schedcast %s", cmd->name);
	status = cmd->fn(argc - 1, argv + 1);

	/* perf's run_builtin: a failed write to stdout is a failure. */
	if (fflush(stdout) || ferror(stdout)) {
		if (errno != EPIPE)
			error_errno("write error on standard output");
		return 1;
	}
	return status;
}
