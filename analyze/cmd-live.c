// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast live - predict the scheduler's picks as it makes them.
 *
 * The capture driver (collect/capture.h) delivers the events in timestamp
 * order; each goes, in this order, to
 *   1. the trace writer (-o, on the driver's writer thread), so the run can
 *      be replayed offline;
 *   2. feat_decision(): when the event is a decision, the candidates and
 *      their features from the state BEFORE the switch; the model scores
 *      them and the evaluator (analyze/analyze.h) scores the model and the
 *      baselines against the kernel's pick;
 *   3. feat_apply(): the event updates the runqueue state.
 * This is exactly what `schedcast features` + `schedcast eval --split all`
 * do with the written trace, which is why the two agree (t5100 checks it).
 *
 * Keeping up: the events are processed as they arrive.  If processing falls
 * more than --max-lag (1 s) behind the capture clock, decisions are still
 * applied to the state (features stay right) and still teach the online
 * baselines, but are not scored until the backlog is under a fifth of it;
 * they are counted as skipped and reported, never silently dropped from the
 * denominators.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "analyze/live-bpf.h"
#include "builtin.h"
#include "collect/capture.h"
#include "common/common.h"
#include "common/run-command.h"
#include "data/trace.h"
#include "features/features.h"
#include "model/lstm.h"

static const char live_usage[] =
	"usage: schedcast live -m MODEL [-d DURATION] [--json] [-o TRACE] [-b BACKEND] [-w] [--max-lag DURATION] [--online] [-- COMMAND [ARGS...]]\n"
	"   or: schedcast live --in-kernel [--check] [--time-parts] -m MODEL [-d DURATION] [--json] [-w] [-- COMMAND [ARGS...]]\n"
	"\n"
	"Predict each scheduling decision as the kernel makes it, from the state just\n"
	"before it, and score the model and the baselines against the kernel's pick.\n"
	"Runs until DURATION passes, COMMAND (or the built-in workload) ends, or\n"
	"Ctrl-C; then prints the summary in the form of `schedcast eval`.\n"
	"\n"
	"    -m, --model MODEL        the model to run (a candidates-mode model.h5, or\n"
	"                             general: the one shipped with schedcast)\n"
	"    -d, --duration DURATION  stop after this long (default: until the command\n"
	"                             ends or Ctrl-C)\n"
	"    -j, --json               print the summary as JSON (eval's keys plus \"live\")\n"
	"    -o, --output TRACE       also write the events seen to TRACE (a trace.h5)\n"
	"    -b, --backend BACKEND    tracefs (default) or perf\n"
	"    -w, --workload           run the built-in mixed workload meanwhile\n"
	"        --max-lag DURATION   stop scoring while this far behind the kernel\n"
	"                             (default 1s; scoring resumes below a fifth of it)\n"
	"        --online             adapt the model online: after scoring a decision, one\n"
	"                             training step on it (as eval --online)\n"
	"        --in-kernel          run the features and the model in the kernel, as a\n"
	"                             BPF program on the sched tracepoints (root, BTF);\n"
	"                             a model of the basic state set (features --state basic)\n"
	"        --check              with --in-kernel: replay the program's events through\n"
	"                             the userspace engine and compare every prediction\n"
	"        --time-parts         with --in-kernel: the program also clocks its parts\n"
	"                             (the decision, the encoder), at a cost of its own\n"
	"    -h, --help               show this help\n"
	"\n"
	"    -- COMMAND [ARGS...]     run COMMAND meanwhile and stop when it exits\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast live -m model.h5 -d 10s\n"
	"    schedcast live -m general -d 10s\n"
	"    schedcast live -m model.h5 -w -d 20s -o live.h5\n"
	"    schedcast live -m model.h5 --json -- make -j2\n"
	"    schedcast live --in-kernel -m model.h5 -d 10s -- hackbench -l 2000\n";

#define LIVE_MAX_LAG_NS (1 * NSEC_PER_SEC)	/* default: skip scoring beyond this backlog */
#define LIVE_LINE_NS (500 * NSEC_PER_MSEC)	/* live line refresh */

struct live_opts {
	const char *model;
	uint64_t duration_ns;
	int json;
	const char *output;
	enum col_backend backend;
	int workload;
	uint64_t max_lag_ns;
	char **command;
	int in_kernel, check, time_parts;
	int online;
};

struct live {
	struct col_capture *cap;
	struct feat_state *feat;
	struct lstm_model *m;
	struct lstm_cache *cache;	/* bit-identical to lstm_predict(), see eval-model.c */
	struct lstm_online *online;	/* --online: owns cache */
	struct lstm_tasks *tasks;	/* a stateful encoder: the tasks' states, not cache */
	struct ana_eval e;
	int32_t *scores;	/* (LSTM_MAX_CAND) */

	uint64_t events, decisions, skipped, behind_episodes, max_lag_ns;
	uint64_t predict_ns;	/* CPU time spent in lstm_predict() */
	int behind;		/* currently skipping */
	uint64_t max_lag;	/* start skipping beyond this backlog, score again below 1/5 */
	int failed;
	int tty;		/* the status line is drawn on stderr */
	uint64_t t_start, last_line, last_dec;
};

/* lag - how far behind the capture clock this event is being processed */
static uint64_t lag(const struct live *l, const struct ds_event *ev)
{
	uint64_t now = col_capture_now(l->cap);

	return now > ev->ts ? now - ev->ts : 0;
}

/* cpu_ns - this thread's CPU time: the model's cost, not the time others ran meanwhile */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static void score_decision(struct live *l, const struct ds_event *ev,
			   const struct feat_decision_out *out)
{
	struct ana_decision d = {
		.ts = out->ts,
		.trace = 0,
		.cpu = out->cpu,
		.ncand = out->ncand,
		.label = out->label,
		.next_pid = out->next_pid,
		.cand = out->cand,
	};
	int top[3] = { -1, -1, -1 };
	uint64_t behind = lag(l, ev);

	l->decisions++;
	if (behind > l->max_lag_ns)
		l->max_lag_ns = behind;
	if (!l->behind && behind > l->max_lag) {
		l->behind = 1;
		l->behind_episodes++;
	} else if (l->behind && behind < l->max_lag / 5) {
		l->behind = 0;
	}
	if (l->behind) {
		l->skipped++;
		ana_eval_add(&l->e, &d, NULL, 0);	/* learnt from, not scored */
		return;
	}
	/* the same rule as eval's predictor (analyze/eval-model.c) */
	if (out->ncand >= 1 && out->ncand <= LSTM_MAX_CAND) {
		uint64_t t = cpu_ns();

		if (ana_model_predict(l->m, l->cache, l->tasks, out, l->scores) >= 0)
			ana_top3(l->scores, out->ncand, top);
		/* scored first, then learnt from (the prequential protocol of eval --online) */
		if (l->online && l->tasks)
			lstm_online_step_tasks(l->online, l->tasks, out->cand, out->state,
					       out->ncand, out->label);
		else if (l->online)
			lstm_online_step(l->online, out->window, out->state, out->ncand,
					 out->label);
		l->predict_ns += cpu_ns() - t;
	}
	ana_eval_add(&l->e, &d, top, 1);
}

static int on_event(const struct ds_event *ev, void *ctx)
{
	struct live *l = ctx;
	struct feat_decision_out out;

	l->events++;
	if (ev->type == DS_EV_SWITCH && feat_decision(l->feat, ev, &out) == 1)
		score_decision(l, ev, &out);
	if (feat_apply(l->feat, ev)) {
		l->failed = 1;
		return -1;
	}
	/* a stateful encoder steps on every completed episode, scored or skipped */
	ana_model_episodes(l->feat, l->tasks);
	return 0;
}

/* best_baseline - the baseline with the best contested top-1 so far (as eval ranks) */
static int best_baseline(const struct ana_eval *e)
{
	int best = -1;

	for (int b = 0; b < ANA_NR_BASELINES; b++)
		if (e->bl_available[b] && (best < 0 || e->bl[b].top1_c > e->bl[best].top1_c))
			best = b;
	return best;
}

static double pct(double hits, uint64_t n)
{
	return n ? 100.0 * hits / (double)n : 0.0;
}

static uint64_t total_lost(const struct live *l)
{
	return col_capture_lost(l->cap);
}

/* live_line - the terminal status line, rewritten in place */
static void live_line(struct live *l, uint64_t elapsed, uint64_t rate)
{
	const struct ana_eval *e = &l->e;
	int b = best_baseline(e);
	uint64_t n = e->decisions;

	fprintf(stderr, "\r\033[K%5.1f s %6llu dec/s  model %5.1f%% top-3 %5.1f%%", elapsed / 1e9,
		(unsigned long long)rate, pct(e->model.top1, n), pct(e->model.top3, n));
	if (b >= 0)
		fprintf(stderr, "  %s %5.1f%% top-3 %5.1f%%", ana_baseline_names[b],
			pct(e->bl[b].top1, n), pct(e->bl[b].top3, n));
	fprintf(stderr, "  coverage %5.1f%%  lost %llu  skipped %llu", pct((double)e->covered, n),
		(unsigned long long)total_lost(l), (unsigned long long)l->skipped);
	fflush(stderr);
}

/*
 * check_model - a candidates model for exactly the features feat_decision()
 * makes with the state set *set (the one its inputs name)
 */
static int check_model(const struct lstm_model *m, const char *path, int *set)
{
	const struct lstm_shape *sh = lstm_model_shape(m);
	struct ds_windows hdr;
	char *ep_names[FEAT_E], *st_names[FEAT_S];
	int8_t ep_frac[FEAT_E], st_frac[FEAT_S];

	if (sh->mode != DS_WIN_CANDIDATES)
		return error("'%s' is a sequence-mode model: live prediction needs a "
			     "candidates-mode model (schedcast features --mode candidates)", path);
	*set = ana_model_state_set(m);
	feat_set_header(&hdr, *set, sh->K, ep_names, ep_frac, st_names, st_frac);
	return lstm_model_check_windows(m, &hdr, "the live features");
}

/* on_tick - redraw the status line every LIVE_LINE_NS */
static void on_tick(struct col_capture *cap, void *ctx)
{
	struct live *l = ctx;
	uint64_t t = sc_now_ns(), dt;

	if (!l->tty || t - l->last_line < LIVE_LINE_NS)
		return;
	dt = l->last_line ? t - l->last_line : t - l->t_start;
	live_line(l, t - l->t_start, dt ? (l->decisions - l->last_dec) * NSEC_PER_SEC / dt : 0);
	l->last_line = t;
	l->last_dec = l->decisions;
}

static void on_start(struct col_capture *cap, void *ctx)
{
	struct live *l = ctx;

	l->t_start = sc_now_ns();
}

/* spawn_command - start the workload of --in-kernel: its stdout goes to our stderr */
static pid_t spawn_command(char **argv)
{
	struct child_process cp = CHILD_PROCESS_INIT;
	pid_t pid;

	strvec_pushv(&cp.args, (const char *const *)argv);
	cp.default_signals = 1;
	/* live's standard output is the summary alone: the command's goes to stderr */
	cp.stdout_to_stderr = 1;
	pid = start_command(&cp) ? -1 : cp.pid;
	child_process_clear(&cp);
	return pid;
}

static void print_text_summary(struct live *l, const struct live_opts *o,
			       const struct ds_trace_meta *meta)
{
	struct strbuf sb = STRBUF_INIT;
	uint64_t span = meta->end_ns - meta->start_ns;
	char buf[32];

	printf("live: %s with %s on %d CPUs: %llu events, %llu decisions (%.0f/s), "
	       "%llu lost, %llu skipped\n",
	       format_duration(buf, sizeof(buf), span), col_capture_backend(l->cap),
	       meta->nr_cpus, (unsigned long long)l->events, (unsigned long long)l->decisions,
	       span ? l->decisions / (span / 1e9) : 0.0, (unsigned long long)total_lost(l),
	       (unsigned long long)l->skipped);
	if (l->decisions && l->skipped < l->decisions)
		printf("model: %.2f us of CPU per scored decision\n",
		       l->predict_ns / 1e3 / (double)(l->decisions - l->skipped));
	ana_eval_text(&l->e, &sb);
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	if (o->output && !col_capture_result(l->cap)->trace_failed)
		printf("wrote %s\n", o->output);
}

static void print_json_summary(struct live *l, const struct ds_trace_meta *meta)
{
	struct strbuf sb = STRBUF_INIT;
	struct json_writer jw;

	json_writer_init(&jw, &sb);
	json_object_begin(&jw, NULL);
	ana_eval_json_fields(&l->e, &jw);
	json_object_begin(&jw, "live");
	json_str(&jw, "backend", col_capture_backend(l->cap));
	json_i64(&jw, "nr_cpus", meta->nr_cpus);
	json_u64(&jw, "duration_ns", meta->end_ns - meta->start_ns);
	json_u64(&jw, "events", l->events);
	json_u64(&jw, "decisions", l->decisions);
	json_u64(&jw, "skipped", l->skipped);
	json_u64(&jw, "fell_behind", l->behind_episodes);
	json_u64(&jw, "max_lag_ns", l->max_lag_ns);
	json_u64(&jw, "lost", total_lost(l));
	json_u64(&jw, "predict_ns", l->predict_ns);
	json_u64(&jw, "tasks_tracked", feat_nr_tasks(l->feat));
	json_u64(&jw, "model_states", l->tasks ? lstm_tasks_count(l->tasks) : 0);
	json_object_end(&jw);
	json_object_end(&jw);
	printf("%s\n", sb.buf);
	strbuf_release(&sb);
}

int cmd_live(int argc, char **argv)
{
	enum { OPT_MAX_LAG = 256, OPT_IN_KERNEL, OPT_CHECK, OPT_TIME_PARTS, OPT_ONLINE };
	static const struct option longopts[] = {
		{ "model", required_argument, NULL, 'm' },
		{ "duration", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "backend", required_argument, NULL, 'b' },
		{ "workload", no_argument, NULL, 'w' },
		{ "max-lag", required_argument, NULL, OPT_MAX_LAG },
		{ "in-kernel", no_argument, NULL, OPT_IN_KERNEL },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "time-parts", no_argument, NULL, OPT_TIME_PARTS },
		{ "online", no_argument, NULL, OPT_ONLINE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct live_opts o = { .backend = COL_BACKEND_TRACEFS, .max_lag_ns = LIVE_MAX_LAG_NS };
	static struct live l;	/* one per process */
	struct col_capture_opts copts = { 0 };
	const struct col_capture_result *r;
	struct feat_opts fopts = { 0 };
	char *model = NULL, *cmdline, *command_line = NULL;
	int c, ret = 1, eval_init = 0, set = FEAT_SET_FULL;

	while ((c = getopt_long(argc, argv, "+m:d:jo:b:wh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o.model = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &o.duration_ns) || !o.duration_ns) {
				error("bad duration '%s' for -d (10s, 500ms, 2m)", optarg);
				return sc_usage(live_usage, 1);
			}
			break;
		case 'j':
			o.json = 1;
			break;
		case 'o':
			o.output = optarg;
			break;
		case 'b':
			if (col_backend_from_name(optarg) < 0) {
				error("unknown backend '%s' (tracefs or perf)", optarg);
				return sc_usage(live_usage, 1);
			}
			o.backend = (enum col_backend)col_backend_from_name(optarg);
			break;
		case 'w':
			o.workload = 1;
			break;
		case OPT_MAX_LAG:
			if (parse_duration(optarg, &o.max_lag_ns) ||
			    o.max_lag_ns < 10 * NSEC_PER_MSEC) {
				error("bad --max-lag '%s' (at least 10ms)", optarg);
				return sc_usage(live_usage, 1);
			}
			break;
		case OPT_IN_KERNEL:
			o.in_kernel = 1;
			break;
		case OPT_CHECK:
			o.check = 1;
			break;
		case OPT_TIME_PARTS:
			o.time_parts = 1;
			break;
		case OPT_ONLINE:
			o.online = 1;
			break;
		case 'h':
			return sc_usage(live_usage, 0);
		default:
			return sc_usage(live_usage, 1);
		}
	}
	if (sc_command_args(argc, argv, optind, "run a command", &o.command))
		return sc_usage(live_usage, 1);
	if (!o.model) {
		error("no model given (-m model.h5)");
		return sc_usage(live_usage, 1);
	}
	if (o.command && o.workload) {
		error("give either --workload or a command, not both");
		return sc_usage(live_usage, 1);
	}
	if (o.online && o.in_kernel) {
		error("--online adapts the userspace model: not with --in-kernel");
		return sc_usage(live_usage, 2);
	}
	if (o.time_parts && !o.in_kernel) {
		error("--time-parts clocks the in-kernel predictor's parts: give --in-kernel");
		return sc_usage(live_usage, 1);
	}
	if (o.check && !o.in_kernel) {
		error("--check compares the in-kernel predictor with userspace: give --in-kernel");
		return sc_usage(live_usage, 1);
	}
	if (o.in_kernel && (o.output || o.backend != COL_BACKEND_TRACEFS ||
			    o.max_lag_ns != LIVE_MAX_LAG_NS)) {
		error("--in-kernel takes no -o, -b or --max-lag (no event leaves the kernel)");
		return sc_usage(live_usage, 1);
	}
	if (!(model = sc_model_path(o.model)))
		return 1;
	o.model = model;
	if (o.output && sc_check_output(o.output, &o.model, 1)) {
		free(model);
		return 1;
	}

	memset(&l, 0, sizeof(l));
	l.max_lag = o.max_lag_ns;
	l.m = lstm_model_load(o.model);
	if (l.m && !check_model(l.m, o.model, &set)) {
		l.tasks = lstm_tasks_new(l.m);	/* NULL for a windowed encoder */
		if (o.online) {
			l.online = lstm_online_new(l.m, 0.002);
			l.cache = l.online ? lstm_online_cache(l.online) : NULL;
		} else if (!l.tasks) {
			l.cache = lstm_cache_new(l.m, 4096);
		}
	}
	if (!l.m || (!l.cache && !l.tasks))
		goto out;
	if (o.in_kernel) {
		struct ana_kernel_opts ko = {
			.model_path = o.model, .duration_ns = o.duration_ns, .json = o.json,
			.check = o.check, .time_parts = o.time_parts, .workload = o.workload, .command = o.command,
			.spawn = spawn_command,
		};

		ret = ana_live_kernel(l.m, &ko);
		goto out;
	}
	l.scores = xcalloc(LSTM_MAX_CAND, sizeof(*l.scores));

	copts.session.backend = o.backend;
	copts.duration_ns = o.duration_ns;
	copts.command = o.command;
	copts.command_stdout_to_stderr = 1;	/* our standard output is the summary alone */
	copts.builtin_workload = o.workload;
	copts.output = o.output;
	copts.compress = DS_TRACE_DEFAULT_COMPRESSION;
	cmdline = sc_cmdline(argc, argv);
	copts.command_line = command_line = xstrfmt("schedcast %s", cmdline);
	free(cmdline);
	copts.keep_going = 1;		/* a full disk loses the trace, not the scoring */
	copts.on_event = on_event;
	copts.on_start = on_start;
	copts.on_tick = on_tick;
	copts.ctx = &l;
	l.cap = col_capture_open(&copts);
	if (!l.cap)
		goto out;
	fopts.mode = DS_WIN_CANDIDATES;
	fopts.state_set = set;
	fopts.K = lstm_model_shape(l.m)->K;
	fopts.episodes = l.tasks != NULL;	/* each completed episode steps its task's state */
	fopts.retired = fopts.episodes;	/* and their states freed when they go */
	fopts.events_recorded = col_capture_events(l.cap);
	l.feat = feat_state_new(&fopts, col_capture_nr_cpus(l.cap));
	if (!l.feat)
		goto out;
	ana_eval_init(&l.e, DS_WIN_CANDIDATES, o.model,
		      lstm_model_shape(l.m)->arith == LSTM_FLOAT ?
		      (l.online ? "float, online" : "float") : (l.online ? "fixed, online" : "fixed"),
		      "live");
	eval_init = 1;
	l.tty = sc_isatty_stderr();

	if (col_capture_run(l.cap) || l.failed)
		goto out;
	r = col_capture_result(l.cap);
	if (l.tty)
		fprintf(stderr, "\r\033[K");
	l.e.inferred_switches = feat_coverage(l.feat)->inferred_switches;
	l.e.lost_resets = feat_coverage(l.feat)->lost_resets;
	ana_eval_finish(&l.e);
	if (o.json)
		print_json_summary(&l, &r->meta);
	else
		print_text_summary(&l, &o, &r->meta);
	if (l.skipped)
		warning("fell behind the kernel %llu time%s (up to %.2f s): %llu of %llu decisions "
			"were not scored", (unsigned long long)l.behind_episodes,
			l.behind_episodes == 1 ? "" : "s", l.max_lag_ns / 1e9,
			(unsigned long long)l.skipped, (unsigned long long)l.decisions);
	if (total_lost(&l))
		warning("the kernel dropped %llu events: the features around them were reset",
			(unsigned long long)total_lost(&l));
	if (r->stop_signal && !o.json)
		fprintf(stderr, "stopped by %s\n", strsignal(r->stop_signal));
	ret = r->trace_failed ? 1 : 0;
out:
	if (col_capture_close(l.cap))
		ret = 1;
	feat_state_free(l.feat);
	if (l.online)
		lstm_online_free(l.online);	/* and its cache */
	else
		lstm_cache_free(l.cache);
	lstm_tasks_free(l.tasks);
	lstm_model_free(l.m);
	if (eval_init)
		ana_eval_release(&l.e);
	free(l.scores);
	free(command_line);
	free(model);
	return ret;
}
