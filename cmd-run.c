// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast run - the whole pipeline on one command: record (the built-in
 * workload, a command, or take a given trace), features, train, evaluate
 * against the baselines, write the HTML report, and say where it all is.
 *
 * Each stage is the stage's own command run as a child process of this same
 * binary (/proc/self/exe), not its library code called in-process.  That is
 * the simpler design here, and the more faithful one: every stage does
 * exactly what the user would get by typing it (the same option checks,
 * the same progress line, the same atomic outputs), a stage that fails
 * reports its own one-line error and exit status, its stdout is kept in
 * DIR/logs/ so the user can re-run any stage by hand, and run itself holds
 * no model or trace in memory.  The cost, a fork+exec per stage, is
 * nothing beside recording and training.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "builtin.h"
#include "common/common.h"
#include "common/run-command.h"
#include "data/ds.h"
#include "data/trace.h"
#include "data/windows.h"
#include "features/features.h"
#include "model/lstm.h"

static const char run_usage[] =
	"usage: schedcast run [-d DURATION] [--trace FILE] [-o DIR] [--epochs N] [--train-time DURATION] [--hidden N] [--general MODEL|none] [--max-switches N] [--seed N] [-- COMMAND [ARGS...]]\n"
	"\n"
	"Record the scheduler (the built-in mixed workload by default), build the\n"
	"features, fine-tune the general model shipped with schedcast on them (or\n"
	"train the fixed-point LSTM from scratch), evaluate the general and the\n"
	"fine-tuned model (frozen, and adapted online as the Markov baselines are)\n"
	"against the baselines, write an HTML report and end with a verdict line.\n"
	"Without root or tracefs it says so and uses the sample trace shipped in\n"
	"data/samples/.\n"
	"\n"
	"    -d, --duration DURATION  how long to record (default 10s)\n"
	"    -t, --trace FILE         use this trace instead of recording: a trace.h5, or\n"
	"                             a file `schedcast import` reads (trace.dat, perf.data, text)\n"
	"    -o, --output DIR         where to put everything (default schedcast-run)\n"
	"    -e, --epochs N           training epochs (default 3)\n"
	"        --train-time DURATION  training's wall-time budget (default 60s; 0 = none):\n"
	"                             then train is stopped and keeps its best complete epoch\n"
	"        --hidden N           train from scratch with this LSTM hidden size (16 trains\n"
	"                             about 4x faster than 32) instead of fine-tuning\n"
	"    -g, --general MODEL      the model to fine-tune (default general: the one shipped\n"
	"                             in data/models/; none = train from scratch)\n"
	"    -n, --max-switches N     learn from the first N sched_switch events of the trace\n"
	"                             at most, whatever the machine's event rate (default\n"
	"                             40000; 0 = all of it)\n"
	"    -s, --seed N             seed of the workload and of training (default 1)\n"
	"    -h, --help               show this help\n"
	"\n"
	"    -- COMMAND [ARGS...]     record this command instead of the built-in workload\n"
	"                             (recording stops when it exits or after DURATION)\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast run\n"
	"    schedcast run -d 30s -o build-run -- make -j2\n"
	"    schedcast run --trace data/samples/webserver.h5 --epochs 2\n";

struct run_opts {
	uint64_t duration_ns;
	const char *general;	/* -g: a model name or path, "none" */
	const char *trace;
	const char *outdir;
	int epochs;
	uint64_t train_ns;	/* training's wall-time budget, 0 = none */
	int hidden;		/* 0 = train's default */
	uint64_t max_switches;
	uint64_t seed;
	char **command;		/* argv after "--", NULL-terminated; NULL = built-in workload */
};

struct run_ctx {
	struct run_opts *o;
	char self[PATH_MAX];	/* this binary */
	int stage, nr_stages;
	uint64_t t0;
	char *trace;		/* the trace as recorded, given or sampled */
	char *learn;		/* the part of it features/train/eval/report read */
	const char *trace_origin;	/* how we got it, for the final summary */
	char *windows, *model, *eval_txt, *eval_json, *report, *logs;
	char *oeval_json;	/* the model adapted online (eval --online): the verdict's */
	int online;		/* candidates mode: the model is also scored online */
	char *general;		/* the model fine-tuned, NULL: trained from scratch */
	char *geval_txt, *geval_json;	/* the general model's evaluation */
	uint64_t ticker_ns;	/* expected length of the running stage, 0 = no ticker */
	const char *ticker_what;
	int ticker_done;
	uint64_t ticker_t0;	/* when the running stage started */
	uint64_t budget_ns;	/* the running stage's wall-time budget, 0 = none */
	pid_t child;		/* the running stage's process */
	int budget_hit;		/* the budget ran out: it was sent SIGINT */
	int untuned;		/* no epoch ended within the budget: the model is the general one */
};

/* ---- small helpers ------------------------------------------------------------------ */

static const char *secs(char *buf, size_t size, uint64_t ns)
{
	snprintf(buf, size, "%.1f s", ns / 1e9);
	return buf;
}

static int mkdir_p(const char *dir)
{
	char *p = xstrdup(dir);
	int ret = 0;

	for (char *s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0777) && errno != EEXIST) {
				ret = error_errno("cannot create directory '%s'", p);
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	return ret;
}

/* ---- stages --------------------------------------------------------------------------- */

static void stage_begin(struct run_ctx *c, const char *what)
{
	c->stage++;
	printf("[%d/%d] %s\n", c->stage, c->nr_stages, what);
	fflush(stdout);
}

/*
 * tick - every 0.2 s while a stage runs: on a terminal, how far a stage of
 * known length has got; past the stage's wall-time budget, SIGINT to it
 * (train then finishes its batch and keeps its best complete epoch)
 */
static void tick(void *data)
{
	struct run_ctx *c = data;
	uint64_t el = sc_now_ns() - c->ticker_t0;

	if (c->budget_ns && el > c->budget_ns && !c->budget_hit && c->child > 0) {
		kill(c->child, SIGINT);
		c->budget_hit = 1;
	}
	if (!c->ticker_ns)
		return;
	/* past the expected end the stage speaks for itself: leave the line to it */
	if (el <= c->ticker_ns) {
		printf("\r\033[K      %s %4.1f s of %.1f s", c->ticker_what, el / 1e9,
		       c->ticker_ns / 1e9);
	} else if (!c->ticker_done) {
		printf("\r\033[K");
		c->ticker_done = 1;
	}
	fflush(stdout);
}

/*
 * run_child - run `schedcast ARGV...` (argv[0] is the command name), its
 * stdout into log (when not NULL), its stderr to ours (errors and progress
 * lines stay visible).  Returns its exit status (128 + signal when killed),
 * or -1 if it could not run.
 */
static int run_child(struct run_ctx *c, const char *const *argv, const char *log)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	int rc, fd = -1;

	cp.exec_path = c->self;
	strvec_push(&cp.args, "schedcast");
	strvec_pushv(&cp.args, argv);
	if (log) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
		if (fd < 0) {
			child_process_clear(&cp);
			return error_errno("cannot create '%s'", log);
		}
		cp.out = fd;
	}
	c->ticker_t0 = sc_now_ns();
	rc = start_command(&cp);
	if (fd >= 0)
		close(fd);
	if (rc) {
		child_process_clear(&cp);
		return -1;
	}
	c->child = cp.pid;
	c->budget_hit = 0;
	rc = wait_command(&cp, c->ticker_ns || c->budget_ns ? 200 * NSEC_PER_MSEC : 0, tick, c);
	c->child = -1;
	if (c->ticker_ns && !c->ticker_done)
		printf("\r\033[K");
	if (rc > 128 && !c->budget_hit)
		error("'schedcast %s' was killed by signal %d", argv[0], rc - 128);
	return rc;
}

/* print_last_line - the last non-empty line of a stage's output, indented */
static void print_last_line(const char *path)
{
	struct strbuf line = STRBUF_INIT, last = STRBUF_INIT;
	FILE *fp = fopen(path, "r");

	if (!fp)
		return;
	while (strbuf_getline(&line, fp) != EOF) {
		if (line.len) {
			strbuf_reset(&last);
			strbuf_add(&last, line.buf, line.len);
		}
	}
	fclose(fp);
	if (last.len)
		printf("      %s\n", last.buf);
	strbuf_release(&line);
	strbuf_release(&last);
}

/* stage - run one stage; on failure say which and where its output is */
static int stage(struct run_ctx *c, struct strvec *a, const char *log, int show_last)
{
	uint64_t t = sc_now_ns();
	char buf[32];
	int rc = run_child(c, a->v, log);

	if (rc == 130 && c->budget_hit) {
		printf("      stopped at its budget of %s of wall time (--train-time)\n",
		       secs(buf, sizeof(buf), c->budget_ns));
		rc = 0;
	}
	if (rc) {
		char *cmd = sc_cmdline((int)a->nr, (char **)a->v);

		error("stage %d/%d failed: 'schedcast %s' exited with status %d%s%s", c->stage,
		      c->nr_stages, cmd, rc, log ? "; its output is in " : "", log ? log : "");
		free(cmd);
		return -1;
	}
	printf("      done in %s\n", secs(buf, sizeof(buf), sc_now_ns() - t));
	if (log && show_last)
		print_last_line(log);
	fflush(stdout);
	return 0;
}

static char *dir_file(struct run_ctx *c, const char *name)
{
	return xstrfmt("%s/%s", c->o->outdir, name);
}

static char *log_file(struct run_ctx *c, const char *name)
{
	return xstrfmt("%s/%s.log", c->logs, name);
}

/* self_dir - directory holding this binary (caller frees) */
static char *self_dir(const struct run_ctx *c)
{
	char *d = xstrdup(c->self), *slash = strrchr(d, '/');

	if (slash)
		*slash = '\0';
	return d;
}

/*
 * find_sample - the trace shipped for machines where we cannot record:
 * $SCHEDCAST_SAMPLES, then data/samples/ beside the binary (a build tree),
 * then ../share/schedcast/samples (an installed one).
 */
#define RUN_SAMPLE "mixed.h5"
static char *find_sample(const struct run_ctx *c)
{
	char *dir = self_dir(c), *try[3] = { NULL, NULL, NULL }, *found = NULL;
	const char *env = getenv("SCHEDCAST_SAMPLES");

	if (env && *env)
		try[0] = xstrfmt("%s/%s", env, RUN_SAMPLE);
	try[1] = xstrfmt("%s/data/samples/%s", dir, RUN_SAMPLE);
	try[2] = xstrfmt("%s/../share/schedcast/samples/%s", dir, RUN_SAMPLE);
	for (size_t i = 0; i < ARRAY_SIZE(try); i++) {
		if (!found && try[i] && !access(try[i], R_OK))
			found = try[i];
		else
			free(try[i]);
	}
	free(dir);
	return found;
}

static int is_trace_file(const char *path)
{
	char format[64];
	int version, ret;

	sc_set_quiet(1);
	ret = ds_identify(path, format, sizeof(format), &version);
	sc_set_quiet(0);
	return !ret && !strcmp(format, DS_TRACE_FORMAT);
}

static int can_record(const char **why)
{
	if (geteuid() != 0) {
		*why = "not running as root";
		return 0;
	}
	return 1;
}

static int use_sample(struct run_ctx *c, const char *why)
{
	char *s = find_sample(c);

	if (!s)
		return error("cannot record (%s) and found no sample trace '%s' in "
			     "data/samples/ (set SCHEDCAST_SAMPLES to its directory)",
			     why, RUN_SAMPLE);
	printf("      cannot record here (%s): using the sample trace %s\n", why, s);
	printf("      (recording needs root and tracefs; see schedcast-record(1))\n");
	c->trace = s;
	c->trace_origin = "sample";
	return 0;
}

static int stage_input(struct run_ctx *c)
{
	struct run_opts *o = c->o;
	struct strvec a = STRVEC_INIT;
	const char *why = NULL;
	char buf[32];
	int ret = 0;

	if (o->trace) {
		if (is_trace_file(o->trace)) {
			stage_begin(c, "trace: using the given trace file");
			c->trace = xstrdup(o->trace);
			c->trace_origin = "given";
			printf("      %s\n", c->trace);
			return 0;
		}
		stage_begin(c, "import: converting the given file to a trace.h5");
		c->trace = dir_file(c, "trace.h5");
		c->trace_origin = "imported";
		strvec_pushl(&a, "import", "-o", c->trace, o->trace, NULL);
		ret = stage(c, &a, NULL, 0);
		strvec_clear(&a);
		return ret;
	}

	if (o->command)
		stage_begin(c, "record: the scheduler while your command runs");
	else
		stage_begin(c, "record: the scheduler under the built-in mixed workload");
	if (!can_record(&why)) {
		if (o->command)
			return error("cannot record '%s': %s (recording needs root and tracefs)",
				     o->command[0], why);
		return use_sample(c, why);
	}
	c->trace = dir_file(c, "trace.h5");
	unlink(c->trace);	/* so that a failed recording is not mistaken for an older one */
	c->trace_origin = o->command ? "recorded (your command)" : "recorded (built-in workload)";
	printf("      %s of %s into %s\n", secs(buf, sizeof(buf), o->duration_ns),
	       o->command ? o->command[0] : "schedcast workload", c->trace);
	fflush(stdout);
	strvec_pushl(&a, "record", "-o", c->trace, "-d", NULL);
	strvec_pushf(&a, "%llums", (unsigned long long)(o->duration_ns / NSEC_PER_MSEC));
	strvec_push(&a, "--");
	if (o->command) {
		for (char **p = o->command; *p; p++)
			strvec_push(&a, *p);
	} else {
		strvec_pushl(&a, c->self, "workload", "-d", NULL);
		strvec_pushf(&a, "%llums", (unsigned long long)(o->duration_ns / NSEC_PER_MSEC));
		strvec_push(&a, "-s");
		strvec_pushf(&a, "%llu", (unsigned long long)o->seed);
	}
	{
		char *log = log_file(c, "record");

		if (isatty(STDOUT_FILENO) && sc_isatty_stderr()) {
			c->ticker_ns = o->duration_ns;
			c->ticker_what = "recording";
		}
		ret = stage(c, &a, log, 1);
		c->ticker_ns = 0;
		free(log);
	}
	strvec_clear(&a);
	if (ret && !o->command && access(c->trace, R_OK)) {
		free(c->trace);
		c->trace = NULL;
		return use_sample(c, "recording failed, see above");
	}
	return ret;
}

/* stage_trim - keep the first --max-switches switches for learning (not a numbered stage) */
static int stage_trim(struct run_ctx *c)
{
	struct ds_trace_reader *r;
	uint64_t switches, span;
	char buf[32];

	c->learn = dir_file(c, "learn.h5");
	unlink(c->learn);	/* a previous run's, which would mislead */
	free(c->learn);
	c->learn = xstrdup(c->trace);
	if (!c->o->max_switches)
		return 0;
	r = ds_trace_open(c->trace);
	if (!r)
		return -1;
	switches = ds_trace_meta(r)->count_by_type[DS_EV_SWITCH];
	ds_trace_close(r);
	if (switches <= c->o->max_switches)
		return 0;
	free(c->learn);
	c->learn = dir_file(c, "learn.h5");
	if (ds_trace_copy_prefix(c->trace, c->learn, c->o->max_switches, &span))
		return -1;
	printf("      learning from the first %llu of its %llu switches (%s, %s): "
	       "--max-switches\n", (unsigned long long)c->o->max_switches,
	       (unsigned long long)switches, secs(buf, sizeof(buf), span), c->learn);
	return 0;
}

/* trace_summary - events, span and lost of the input, one line */
static void trace_summary(struct run_ctx *c, int *has_wakeups)
{
	struct ds_trace_reader *r = ds_trace_open(c->trace);
	const struct ds_trace_meta *m;
	uint64_t span;
	char buf[32];

	*has_wakeups = 1;
	if (!r)
		return;
	m = ds_trace_meta(r);
	span = m->end_ns > m->start_ns ? m->end_ns - m->start_ns : 0;
	printf("      %llu events over %s on %d CPUs, %llu lost\n",
	       (unsigned long long)m->nr_events, secs(buf, sizeof(buf), span), m->nr_cpus,
	       (unsigned long long)m->lost_total);
	*has_wakeups = !!(m->count_by_type[DS_EV_WAKEUP] + m->count_by_type[DS_EV_WAKEUP_NEW] +
			  m->count_by_type[DS_EV_WAKING]);
	ds_trace_close(r);
}

static int stage_features(struct run_ctx *c, int has_wakeups)
{
	struct strvec a = STRVEC_INIT;
	char *log = log_file(c, "features");
	int ret;

	stage_begin(c, has_wakeups ? "features: runqueue reconstruction and per-task windows"
				   : "features: sequence mode (the trace has no wakeups)");
	strvec_pushl(&a, "features", "-o", c->windows, NULL);
	if (!has_wakeups) {
		strvec_pushl(&a, "--mode", "sequence", NULL);
	} else if (c->general) {
		/* the state features the model to fine-tune takes (basic: an older one) */
		struct lstm_model *m;

		sc_set_quiet(1);
		m = lstm_model_load(c->general);
		sc_set_quiet(0);
		if (m && lstm_model_shape(m)->mode == DS_WIN_CANDIDATES)
			strvec_pushl(&a, "--state", feat_set_name(ana_model_state_set(m)), NULL);
		lstm_model_free(m);
	}
	strvec_push(&a, c->learn);
	ret = stage(c, &a, log, 1);
	strvec_clear(&a);
	free(log);
	return ret;
}

/*
 * find_general - the model to fine-tune: --general's, else the shipped
 * "general" one when there is one (a build tree or an installation), else
 * none (train from scratch, said so).  A sequence-mode run (no wakeups in
 * the trace) trains from scratch: the general model is a candidates model.
 */
static int find_general(struct run_ctx *c, int has_wakeups)
{
	const char *want = c->o->general;
	struct strbuf tried = STRBUF_INIT;

	if (c->o->hidden || (want && !strcmp(want, "none")))
		return 0;
	if (!has_wakeups) {
		if (want)
			return error("cannot fine-tune '%s': the trace has no wakeup events, so "
				     "the features are in sequence mode", want);
		return 0;
	}
	if (want) {
		c->general = sc_model_path(want);
		return c->general ? 0 : -1;
	}
	c->general = sc_find_data("models", "general.h5", &tried);
	if (!c->general)
		printf("      no general model to fine-tune (looked in %s): training from "
		       "scratch\n", tried.buf);
	strbuf_release(&tried);
	return 0;
}

/*
 * check_general - the shipped general model found by default must read
 * these windows (same feature names and formats): one made before the
 * features changed is set aside with a line saying why, and the run trains
 * from scratch.  A model given with --general is left to train, which
 * refuses a mismatch in one line.
 */
static void check_general(struct run_ctx *c)
{
	struct ds_windows_reader *r;
	struct lstm_model *m;
	int fits = 0;

	if (!c->general || c->o->general)
		return;
	sc_set_quiet(1);
	r = feat_windows_open(c->windows);
	m = r ? lstm_model_load(c->general) : NULL;
	if (m)
		fits = !lstm_model_check_windows(m, ds_windows_header(r), c->windows);
	sc_set_quiet(0);
	lstm_model_free(m);
	if (r)
		ds_windows_close(r);
	if (fits)
		return;
	printf("      the general model %s does not take these features (it was trained on "
	       "another feature set; rebuild it with make general-model): training from "
	       "scratch\n", c->general);
	free(c->general);
	c->general = NULL;
}

static int stage_train(struct run_ctx *c)
{
	struct strvec a = STRVEC_INIT;
	char *log = log_file(c, "train");
	char what[128];
	int ret;

	if (c->general)
		snprintf(what, sizeof(what), "train: fine-tuning the general model, %d epoch%s on "
			 "2 threads", c->o->epochs, c->o->epochs == 1 ? "" : "s");
	else
		snprintf(what, sizeof(what), "train: fixed-point LSTM from scratch, %d epoch%s on "
			 "2 threads", c->o->epochs, c->o->epochs == 1 ? "" : "s");
	stage_begin(c, what);
	if (c->general)
		printf("      from %s\n", c->general);
	strvec_pushl(&a, "train", "-o", c->model, "--epochs", NULL);
	strvec_pushf(&a, "%d", c->o->epochs);
	strvec_pushl(&a, "--threads", "2", NULL);
	if (c->general) {
		strvec_pushl(&a, "--init", c->general, NULL);
	} else if (c->o->hidden) {
		strvec_push(&a, "--hidden");
		strvec_pushf(&a, "%d", c->o->hidden);
	}
	strvec_push(&a, "--seed");
	strvec_pushf(&a, "%llu", (unsigned long long)c->o->seed);
	strvec_push(&a, c->windows);
	unlink(c->model);	/* so that a run stopped before its first epoch is seen */
	c->budget_ns = c->o->train_ns;
	ret = stage(c, &a, log, 1);
	c->budget_ns = 0;
	strvec_clear(&a);
	free(log);
	if (!ret && c->budget_hit && access(c->model, R_OK)) {
		/* stopped before an epoch ended: nothing learnt here */
		if (!c->general)
			return error("training stopped at its budget (--train-time) before its "
				     "first epoch ended: '%s' not written", c->model);
		printf("      no epoch ended within the budget: the general model is scored as "
		       "it is\n");
		free(c->model);
		c->model = xstrdup(c->general);
		c->untuned = 1;
	}
	return ret;
}

/* eval_one - `eval -m model` in text into txt and in JSON into json (one stage) */
static int eval_one(struct run_ctx *c, const char *model, const char *txt, const char *json)
{
	struct strvec a = STRVEC_INIT;
	int ret;

	strvec_pushl(&a, "eval", "-m", model, c->windows, NULL);
	ret = stage(c, &a, txt, 0);
	strvec_clear(&a);
	if (ret)
		return ret;
	strvec_pushl(&a, "eval", "--json", "-m", model, c->windows, NULL);
	ret = run_child(c, a.v, json) ? -1 : 0;
	strvec_clear(&a);
	return ret;
}

/*
 * eval_online - `eval --online --json -m model` into json: the model adapted
 * after each scored decision (prequential), as the online baselines learn
 */
static int eval_online(struct run_ctx *c, const char *model, const char *json)
{
	struct strvec a = STRVEC_INIT;
	int ret;

	strvec_pushl(&a, "eval", "--online", "--json", "-m", model, c->windows, NULL);
	ret = stage(c, &a, json, 0);
	strvec_clear(&a);
	return ret;
}

static int stage_eval(struct run_ctx *c)
{
	if (!c->general) {
		stage_begin(c, c->online ? "eval: the model, frozen and online, against the "
			    "baselines on the test split" : "eval: the model against the baselines "
			    "on the test split");
	} else {
		stage_begin(c, "eval: the general and the fine-tuned model (frozen and online) "
			    "against the baselines on the test split");
		if (eval_one(c, c->general, c->geval_txt, c->geval_json))
			return -1;
	}
	if (eval_one(c, c->model, c->eval_txt, c->eval_json))
		return -1;
	return c->online ? eval_online(c, c->model, c->oeval_json) : 0;
}

static int stage_report(struct run_ctx *c)
{
	struct strvec a = STRVEC_INIT;
	char *log = log_file(c, "report");
	int ret;

	stage_begin(c, "report: statistics, plots and the model section as one HTML page");
	strvec_pushl(&a, "report", "--format", "html", "-o", c->report, "--windows", c->windows,
		     "--model", c->model, c->learn, NULL);
	ret = stage(c, &a, log, 1);
	strvec_clear(&a);
	free(log);
	return ret;
}

/* print_head - the evaluation's header and predictor table: up to its second blank line */
static void print_head(const char *path)
{
	struct strbuf line = STRBUF_INIT;
	FILE *fp = fopen(path, "r");
	int blanks = 0;

	if (!fp)
		return;
	while (strbuf_getline(&line, fp) != EOF) {
		if (!line.len && ++blanks == 2)
			break;
		printf("%s\n", line.buf);
	}
	fclose(fp);
	strbuf_release(&line);
}

/*
 * The verdict reads eval's own JSON output (as a user's script would): the
 * model's and the best baseline's contested top-1 on the test split.
 */
struct eval_figures {
	double model, best;	/* contested top-1, fractions */
	char best_name[64];
	unsigned long long contested;
};

/* json_num - the number after "key": at or after p, NULL-terminated doc; -1 if absent */
static int json_num(const char *p, const char *key, double *v)
{
	char *pat = xstrfmt("\"%s\":", key), *end;
	const char *q = p ? strstr(p, pat) : NULL;

	if (q) {
		q += strlen(pat);
		*v = strtod(q, &end);
		if (end == q)
			q = NULL;
	}
	free(pat);
	return q ? 0 : -1;
}

static int read_eval(const char *path, struct eval_figures *f)
{
	struct strbuf sb = STRBUF_INIT;
	const char *name, *end, *p;
	FILE *fp = fopen(path, "r");
	char buf[4096], *pat = NULL;
	double v;
	size_t n;
	int ret = -1;

	if (!fp)
		return error_errno("cannot read '%s'", path);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(fp);
	name = strstr(sb.buf, "\"best_baseline\":\"");
	if (!name || json_num(strstr(sb.buf, "\"model\":{"), "top1_contested", &f->model) ||
	    json_num(sb.buf, "contested", &v))
		goto out;
	f->contested = (unsigned long long)v;
	name += strlen("\"best_baseline\":\"");
	end = strchr(name, '"');
	if (!end || end - name >= (ptrdiff_t)sizeof(f->best_name))
		goto out;
	snprintf(f->best_name, sizeof(f->best_name), "%.*s", (int)(end - name), name);
	pat = xstrfmt("{\"name\":\"%s\",", f->best_name);
	p = strstr(sb.buf, pat);
	if (!p || json_num(p, "top1_contested", &f->best))
		goto out;
	ret = 0;
out:
	if (ret)
		error("cannot read the figures of '%s': not schedcast eval --json output", path);
	free(pat);
	strbuf_release(&sb);
	return ret;
}

/*
 * print_verdict - the last line: the model (fine-tuned, and the general one
 * as shipped) against the best baseline, contested top-1 on the test split.
 * The margin is the online model's: like the baselines that learn
 * (most-frequent, markov1, markov2), it learns from each decision after
 * scoring it; the frozen figure is given beside it.
 */
static int print_verdict(struct run_ctx *c)
{
	struct eval_figures tuned, onl, gen;
	const struct eval_figures *v = c->online ? &onl : &tuned;
	double pts;

	if (read_eval(c->eval_json, &tuned) || (c->online && read_eval(c->oeval_json, &onl)) ||
	    (c->general && read_eval(c->geval_json, &gen)))
		return -1;
	pts = 100.0 * (v->model - v->best);
	printf("\nverdict: %s model ", c->untuned ? "unchanged general" :
	       c->general ? "fine-tuned" : "trained");
	if (c->online)
		printf("%.1f%% online, ", 100.0 * onl.model);
	printf("%.1f%% frozen", 100.0 * tuned.model);
	if (c->general)
		printf(", general model %.1f%%", 100.0 * gen.model);
	printf(", best baseline %s %.1f%% (contested top-1, test split, %llu decisions): "
	       "the model (%s) is %.1f points %s it\n", v->best_name, 100.0 * v->best,
	       v->contested, c->online ? "online" : "frozen", fabs(pts),
	       pts >= 0 ? "above" : "below");
	return 0;
}

static void print_where(struct run_ctx *c)
{
	char buf[32];

	printf("\n");
	print_head(c->eval_txt);
	printf("\nschedcast run: done in %s\n", secs(buf, sizeof(buf), sc_now_ns() - c->t0));
	printf("  trace     %s (%s)\n", c->trace, c->trace_origin);
	if (strcmp(c->learn, c->trace))
		printf("  learnt on %s (its first %llu switches)\n", c->learn,
		       (unsigned long long)c->o->max_switches);
	printf("  windows   %s\n", c->windows);
	if (c->general && c->untuned)
		printf("  model     %s (not fine-tuned: no epoch ended within --train-time)\n",
		       c->model);
	else if (c->general)
		printf("  model     %s (fine-tuned from %s)\n", c->model, c->general);
	else
		printf("  model     %s\n", c->model);
	printf("  eval      %s (per CPU, per task, mispredictions), %s\n", c->eval_txt,
	       c->eval_json);
	if (c->online)
		printf("  eval      %s (the model adapted online)\n", c->oeval_json);
	if (c->general)
		printf("  eval      %s, %s (the general model as shipped)\n", c->geval_txt,
		       c->geval_json);
	printf("  report    %s\n", c->report);
	printf("  logs      %s/\n", c->logs);
}

int cmd_run(int argc, char **argv)
{
	enum { OPT_HIDDEN = 256, OPT_TRAIN_TIME };
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "trace", required_argument, NULL, 't' },
		{ "output", required_argument, NULL, 'o' },
		{ "epochs", required_argument, NULL, 'e' },
		{ "max-switches", required_argument, NULL, 'n' },
		{ "hidden", required_argument, NULL, OPT_HIDDEN },
		{ "train-time", required_argument, NULL, OPT_TRAIN_TIME },
		{ "general", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts opts = {
		.duration_ns = 10 * NSEC_PER_SEC,
		.outdir = "schedcast-run",
		.epochs = 3,
		.train_ns = 60 * NSEC_PER_SEC,
		.max_switches = 40000,
		.seed = 1,
	};
	struct run_ctx c = { .o = &opts };
	int ch, has_wakeups, ret = 1;
	ssize_t n;

	while ((ch = getopt_long(argc, argv, "+d:t:o:e:n:s:g:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			if (parse_duration(optarg, &opts.duration_ns) ||
			    opts.duration_ns < 100 * NSEC_PER_MSEC) {
				error("bad duration '%s' for -d (at least 100ms)", optarg);
				return sc_usage(run_usage, 1);
			}
			break;
		case 't':
			opts.trace = optarg;
			break;
		case 'g':
			opts.general = optarg;
			break;
		case 'o':
			opts.outdir = optarg;
			break;
		case 'e':
			if (parse_int(optarg, 1, 10000, &opts.epochs)) {
				error("bad number of epochs '%s' (1..10000)", optarg);
				return sc_usage(run_usage, 1);
			}
			break;
		case OPT_TRAIN_TIME:
			if (!strcmp(optarg, "0")) {
				opts.train_ns = 0;
			} else if (parse_duration(optarg, &opts.train_ns) ||
				   opts.train_ns < 100 * NSEC_PER_MSEC) {
				error("bad --train-time '%s' (0, or at least 100ms)", optarg);
				return sc_usage(run_usage, 1);
			}
			break;
		case OPT_HIDDEN:
			if (parse_int(optarg, 1, 256, &opts.hidden)) {
				error("bad hidden size '%s' (1..256)", optarg);
				return sc_usage(run_usage, 1);
			}
			break;
		case 'n':
			if (parse_u64(optarg, &opts.max_switches) ||
			    (opts.max_switches && opts.max_switches < 1000)) {
				error("bad --max-switches '%s' (0, or at least 1000)", optarg);
				return sc_usage(run_usage, 1);
			}
			break;
		case 's':
			if (parse_u64(optarg, &opts.seed)) {
				error("bad seed '%s'", optarg);
				return sc_usage(run_usage, 1);
			}
			break;
		case 'h':
			return sc_usage(run_usage, 0);
		default:
			return sc_usage(run_usage, 1);
		}
	}
	if (sc_command_args(argc, argv, optind, "record a command", &opts.command))
		return sc_usage(run_usage, 1);
	if (opts.general && opts.hidden) {
		error("give either --general or --hidden (a hidden size trains from scratch)");
		return sc_usage(run_usage, 1);
	}
	if (opts.command && opts.trace) {
		error("give either --trace or a command, not both");
		return sc_usage(run_usage, 1);
	}
	if (!*opts.outdir) {
		error("empty output directory");
		return sc_usage(run_usage, 1);
	}

	n = readlink("/proc/self/exe", c.self, sizeof(c.self) - 1);
	if (n <= 0)
		die_errno("cannot find this program's own path");
	c.self[n] = '\0';
	c.t0 = sc_now_ns();
	c.nr_stages = 5;
	c.logs = xstrfmt("%s/logs", opts.outdir);
	if (mkdir_p(c.logs))
		goto out;
	c.windows = dir_file(&c, "windows.h5");
	c.model = dir_file(&c, "model.h5");
	c.eval_txt = dir_file(&c, "eval.txt");
	c.eval_json = dir_file(&c, "eval.json");
	c.oeval_json = dir_file(&c, "eval-online.json");
	c.report = dir_file(&c, "report.html");
	c.geval_txt = dir_file(&c, "eval-general.txt");
	c.geval_json = dir_file(&c, "eval-general.json");
	{
		/* every file the stages write, checked against the given trace before any work */
		char *trace_out = dir_file(&c, "trace.h5"), *learn = dir_file(&c, "learn.h5");
		/* a given trace.h5 is used in place, so only an imported one is written */
		int imported = opts.trace && !is_trace_file(opts.trace);
		const char *outs[] = { imported ? trace_out : NULL, learn, c.windows, c.model,
				       c.eval_txt, c.eval_json, c.oeval_json, c.report,
				       c.geval_txt, c.geval_json };
		int bad = 0;

		for (size_t i = 0; i < ARRAY_SIZE(outs) && !bad; i++)
			bad = sc_check_output(outs[i], &opts.trace, 1);
		free(trace_out);
		free(learn);
		if (bad)
			goto out;
	}

	if (stage_input(&c))
		goto out;
	trace_summary(&c, &has_wakeups);
	if (find_general(&c, has_wakeups))
		goto out;
	if (stage_trim(&c))
		goto out;
	if (stage_features(&c, has_wakeups))
		goto out;
	c.online = has_wakeups;
	unlink(c.oeval_json);	/* an earlier run's, which would mislead */
	check_general(&c);
	if (stage_train(&c) || stage_eval(&c) || stage_report(&c))
		goto out;
	print_where(&c);
	if (print_verdict(&c))
		goto out;
	ret = 0;
out:
	free(c.trace);
	free(c.learn);
	free(c.windows);
	free(c.model);
	free(c.eval_txt);
	free(c.eval_json);
	free(c.oeval_json);
	free(c.report);
	free(c.logs);
	free(c.general);
	free(c.geval_txt);
	free(c.geval_json);
	return ret;
}
