// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast export - a trace in another tool's format.  Today one format:
 * Chrome's JSON Trace Event Format, which ui.perfetto.dev and chrome://tracing
 * open (the format's reference: "Trace Event Format", Google, docs.google.com
 * /document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU).
 *
 * What it holds:
 *   - a process "CPUs" with one thread per CPU: a complete ("X") slice per
 *     stretch a task ran there, named by the task, idle left as a gap;
 *   - a process per thread group with one thread per task: "Running" and
 *     "Runnable" (woken or preempted, waiting for a CPU) slices;
 *   - a flow arrow ("s" to "f") from each wakeup, where the waker ran, to the
 *     slice the woken task ran next on a CPU;
 *   - with --model, a process "Model" with a thread per CPU: under each CPU
 *     slice that began with a decision the model scored, a slice of the same
 *     span naming the model's pick and whether it was the kernel's.
 * Times are in microseconds with ns precision, in the trace's clock.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "builtin.h"
#include "common/common.h"
#include "data/filter.h"
#include "data/trace.h"

static const char export_usage[] =
	"usage: schedcast export [--format perfetto] [--model MODEL.h5] -o FILE [filters] TRACE.h5\n"
	"\n"
	"Write the trace as Chrome's JSON Trace Event Format, for ui.perfetto.dev and\n"
	"chrome://tracing: per-CPU tracks of running slices, per-task tracks of\n"
	"running and runnable slices, and wakeup arrows from the waker to the woken.\n"
	"\n"
	"    -f, --format FMT     perfetto (the default and only one so far)\n"
	"    -o, --output FILE    write there (atomically); - for standard output\n"
	"    -m, --model FILE     add a track per CPU of the model's pick at each decision,\n"
	"                         right or wrong (a file, or a shipped model: general)\n"
	DS_FILTER_HELP
	"    -h, --help           show this help\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast export -o trace.json trace.h5     # then open it in ui.perfetto.dev\n"
	"    schedcast export --time 3312.5,3313.5 -C 0,1 -o part.json trace.h5\n"
	"    schedcast export -m general -o predicted.json trace.h5\n";

/* The pid of the "CPUs" process: above any Linux pid (PID_MAX_LIMIT is 2^22). */
#define CPUS_PID 1073741824
/* The pid of the "Model" process (--model), the next one. */
#define MODEL_PID (CPUS_PID + 1)

/*
 * A wakeup arrow is written only when both its ends are: the start lies in
 * the waker's slice on its CPU, the finish in the woken task's next slice,
 * and either slice may be dropped (filtered out, events lost, trace ended).
 * A slice is named by (cpu, serial).
 */
struct ex_flow {
	uint64_t id;
	int src_cpu;
	uint64_t src_serial, s_ts;	/* the start: waker's slice, wakeup time */
	int dst_cpu;
	uint64_t f_ts;			/* the finish, in the woken task's slice */
};

struct ex_task {
	int32_t tid;		/* 0 = empty slot */
	int32_t tgid;		/* the track's process: tgid, or tid when unknown */
	uint64_t runnable_since;	/* 0: not waiting for a CPU */
	struct ex_flow flow;	/* its wakeup's arrow until it runs, id 0 = none */
	int named;		/* thread_name metadata written */
	char comm[DS_COMM_LEN];
};

struct ex_cpu {
	int32_t tid;		/* running, 0 = idle or not known yet */
	uint64_t since;		/* its switch-in (0: not seen) */
	uint64_t serial;	/* of the current slice */
	struct ex_flow in;	/* the arrow that ends in the current slice, id 0 = none */
	struct ana_prediction pred;	/* the model at the decision that began it */
	int has_pred;
	struct ex_flow *pending;	/* arrows whose start is in the current slice */
	size_t nr_pending, alloc_pending;
	uint64_t *dropped;	/* serials of slices not written */
	size_t nr_dropped, alloc_dropped;
};

struct exporter {
	FILE *fp;
	struct ds_filter *f;
	struct ex_task *slots;
	size_t size, used;
	struct ex_cpu *cpus;
	int nr_cpus;
	const struct ds_task *tasks;
	uint64_t nr_tasks;
	int32_t *named_procs;
	size_t nr_named_procs, alloc_named_procs;
	uint64_t next_flow;
	int first;
	struct strbuf sb;
	uint64_t slices, flows;
	struct ana_predictor *model;	/* --model */
	uint64_t predictions, right;
};

static size_t slot_of(const struct exporter *x, int32_t tid)
{
	size_t i = ((uint32_t)tid * 2654435761u) & (x->size - 1);

	while (x->slots[i].tid && x->slots[i].tid != tid)
		i = (i + 1) & (x->size - 1);
	return i;
}

static struct ex_task *task_get(struct exporter *x, int32_t tid)
{
	struct ex_task *t;

	if (2 * (x->used + 1) > x->size) {
		struct ex_task *old = x->slots;
		size_t n = x->size;

		x->size = n ? 2 * n : 1024;
		x->slots = xcalloc(x->size, sizeof(*x->slots));
		for (size_t j = 0; j < n; j++)
			if (old[j].tid)
				x->slots[slot_of(x, old[j].tid)] = old[j];
		free(old);
	}
	t = &x->slots[slot_of(x, tid)];
	if (!t->tid) {
		t->tid = tid;
		t->tgid = tid;
		x->used++;
		for (uint64_t j = 0; j < x->nr_tasks; j++) {
			if (x->tasks[j].pid != tid)
				continue;
			if (!t->comm[0])
				memcpy(t->comm, x->tasks[j].comm, DS_COMM_LEN);
			if (x->tasks[j].tgid > 0) {
				t->tgid = x->tasks[j].tgid;
				break;
			}
		}
		t->comm[DS_COMM_LEN - 1] = '\0';
	}
	return t;
}

static void set_comm(struct ex_task *t, const char *comm)
{
	if (comm[0]) {
		memcpy(t->comm, comm, DS_COMM_LEN);
		t->comm[DS_COMM_LEN - 1] = '\0';
	}
}

/* Microseconds with the nanoseconds kept: "2900542608.773". */
static void add_us(struct strbuf *sb, const char *key, uint64_t ns)
{
	strbuf_addf(sb, ",\"%s\":%llu.%03llu", key, (unsigned long long)(ns / 1000),
		    (unsigned long long)(ns % 1000));
}

static void begin(struct exporter *x, const char *ph, const char *name, int32_t pid, int32_t tid)
{
	strbuf_reset(&x->sb);
	strbuf_addstr(&x->sb, x->first ? "\n" : ",\n");
	x->first = 0;
	strbuf_addf(&x->sb, "{\"ph\":\"%s\",\"name\":", ph);
	strbuf_add_json_str(&x->sb, name);
	strbuf_addf(&x->sb, ",\"pid\":%d,\"tid\":%d", pid, tid);
}

static void end(struct exporter *x)
{
	strbuf_addch(&x->sb, '}');
	fwrite(x->sb.buf, 1, x->sb.len, x->fp);
}

static void meta(struct exporter *x, const char *what, int32_t pid, int32_t tid, const char *name,
		 int sort)
{
	begin(x, "M", what, pid, tid);
	strbuf_addstr(&x->sb, ",\"args\":{\"name\":");
	strbuf_add_json_str(&x->sb, name);
	strbuf_addch(&x->sb, '}');
	end(x);
	if (sort >= 0) {
		begin(x, "M", !strcmp(what, "process_name") ? "process_sort_index"
							    : "thread_sort_index", pid, tid);
		strbuf_addf(&x->sb, ",\"args\":{\"sort_index\":%d}", sort);
		end(x);
	}
}

/* name_task_track - the process and thread names of a task's track, once */
static void name_task_track(struct exporter *x, struct ex_task *t)
{
	char name[64], comm[SC_SAFE_SIZE(DS_COMM_LEN)];
	size_t i;

	if (t->named)
		return;
	t->named = 1;
	for (i = 0; i < x->nr_named_procs; i++)
		if (x->named_procs[i] == t->tgid)
			break;
	if (i == x->nr_named_procs) {
		const struct ex_task *leader = t->tgid == t->tid ? t : task_get(x, t->tgid);

		ALLOC_GROW(x->named_procs, x->nr_named_procs + 1, x->alloc_named_procs);
		x->named_procs[x->nr_named_procs++] = t->tgid;
		snprintf(name, sizeof(name), "%s %d",
			 sc_safe_str(comm, sizeof(comm), leader->comm[0] ? leader->comm : t->comm),
			 t->tgid);
		meta(x, "process_name", t->tgid, t->tgid, name, -1);
	}
	snprintf(name, sizeof(name), "%s %d", sc_safe_str(comm, sizeof(comm), t->comm), t->tid);
	meta(x, "thread_name", t->tgid, t->tid, name, -1);
}

static int task_shown(struct exporter *x, const struct ex_task *t)
{
	return !ds_filter_any_task(x->f) || ds_filter_task(x->f, t->tid, t->tgid, t->comm);
}

/* slice - a complete event from start to end, clipped to --time; 1 if written */
static int slice(struct exporter *x, const char *name, int32_t pid, int32_t tid, uint64_t start,
		  uint64_t stop, const struct ex_task *t, const char *cat)
{
	if (start < x->f->start_ns)
		start = x->f->start_ns;
	if (stop > x->f->end_ns)
		stop = x->f->end_ns;
	if (stop < start || (stop == start && !ds_filter_time(x->f, start)))
		return 0;
	begin(x, "X", name, pid, tid);
	strbuf_addf(&x->sb, ",\"cat\":\"%s\"", cat);
	add_us(&x->sb, "ts", start);
	add_us(&x->sb, "dur", stop - start);
	if (t) {
		strbuf_addf(&x->sb, ",\"args\":{\"tid\":%d,\"pid\":%d,\"comm\":", t->tid, t->tgid);
		strbuf_add_json_str(&x->sb, t->comm);
		strbuf_addch(&x->sb, '}');
	}
	end(x);
	x->slices++;
	return 1;
}

static void flow_write(struct exporter *x, const struct ex_flow *fl)
{
	if (!ds_filter_time(x->f, fl->s_ts) || !ds_filter_time(x->f, fl->f_ts))
		return;
	begin(x, "s", "wakeup", CPUS_PID, fl->src_cpu);
	strbuf_addf(&x->sb, ",\"cat\":\"wakeup\",\"id\":%llu", (unsigned long long)fl->id);
	add_us(&x->sb, "ts", fl->s_ts);
	end(x);
	begin(x, "f", "wakeup", CPUS_PID, fl->dst_cpu);
	strbuf_addf(&x->sb, ",\"cat\":\"wakeup\",\"id\":%llu", (unsigned long long)fl->id);
	add_us(&x->sb, "ts", fl->f_ts);
	strbuf_addstr(&x->sb, ",\"bp\":\"e\"");
	end(x);
	x->flows++;
}

static int was_dropped(const struct ex_cpu *c, uint64_t serial)
{
	for (size_t i = c->nr_dropped; i-- > 0;)
		if (c->dropped[i] == serial)
			return 1;
	return 0;
}

/* flow_finish - the finish's slice is written: write the arrow, or wait for its start's */
static void flow_finish(struct exporter *x, const struct ex_flow *fl)
{
	struct ex_cpu *src = &x->cpus[fl->src_cpu];

	if (src->serial == fl->src_serial) {
		ALLOC_GROW(src->pending, src->nr_pending + 1, src->alloc_pending);
		src->pending[src->nr_pending++] = *fl;
	} else if (!was_dropped(src, fl->src_serial)) {
		flow_write(x, fl);
	}
}

/* slice_close - the current slice of c ends; written tells whether it was */
static void slice_close(struct exporter *x, struct ex_cpu *c, int written, uint64_t now)
{
	if (written) {
		for (size_t i = 0; i < c->nr_pending; i++)
			flow_write(x, &c->pending[i]);
		if (c->in.id) {
			/* 1 ns inside the slice: at its very start it would touch the one before */
			c->in.f_ts = c->since + (now - c->since >= 2);
			flow_finish(x, &c->in);
		}
	} else {
		ALLOC_GROW(c->dropped, c->nr_dropped + 1, c->alloc_dropped);
		c->dropped[c->nr_dropped++] = c->serial;
	}
	c->nr_pending = 0;
	c->in.id = 0;
	c->serial++;
}

/* pred_slice - the model's pick under the CPU slice [start, stop] it began */
static void pred_slice(struct exporter *x, const struct ana_prediction *p, uint64_t start,
		       uint64_t stop, const struct ex_task *ran)
{
	char name[96], pc[SC_SAFE_SIZE(DS_COMM_LEN)], rc[SC_SAFE_SIZE(DS_COMM_LEN)];
	int right = p->top >= 0 && p->top == p->label;

	if (start < x->f->start_ns)
		start = x->f->start_ns;
	if (stop > x->f->end_ns)
		stop = x->f->end_ns;
	if (stop < start)
		return;
	sc_safe_str(pc, sizeof(pc), p->pred_comm);
	sc_safe_str(rc, sizeof(rc), ran->comm);
	if (right)
		snprintf(name, sizeof(name), "right: %s %d", pc, p->pred_pid);
	else
		snprintf(name, sizeof(name), "wrong: %s %d (ran %s %d)", pc, p->pred_pid, rc,
			 ran->tid);
	begin(x, "X", name, MODEL_PID, p->cpu);
	/* the Trace Event Format's reserved colours: green for a hit, red for a miss */
	strbuf_addf(&x->sb, ",\"cat\":\"model\",\"cname\":\"%s\"", right ? "good" : "terrible");
	add_us(&x->sb, "ts", start);
	add_us(&x->sb, "dur", stop - start);
	strbuf_addf(&x->sb, ",\"args\":{\"right\":%s,\"predicted_pid\":%d,\"predicted_comm\":",
		    right ? "true" : "false", p->pred_pid);
	strbuf_add_json_str(&x->sb, p->pred_comm);
	strbuf_addf(&x->sb, ",\"actual_pid\":%d,\"candidates\":%d,\"pick_queued\":%s}",
		    p->next_pid, p->ncand, p->label >= 0 ? "true" : "false");
	end(x);
	x->predictions++;
	x->right += right;
}

static void on_switch(struct exporter *x, const struct ds_event *ev)
{
	struct ex_cpu *c = &x->cpus[ev->cpu];
	int cpu_on = ds_filter_cpu(x->f, ev->cpu), written = 0;

	if (ev->pid > 0) {
		struct ex_task *t = task_get(x, ev->pid);

		set_comm(t, ev->comm);
		if (c->since && c->tid == ev->pid && cpu_on && task_shown(x, t)) {
			name_task_track(x, t);
			written = slice(x, t->comm, CPUS_PID, ev->cpu, c->since, ev->ts, t, "cpu");
			slice(x, "Running", t->tgid, t->tid, c->since, ev->ts, NULL, "task");
			if (written && c->has_pred && c->pred.next_pid == t->tid && c->pred.top >= 0)
				pred_slice(x, &c->pred, c->since, ev->ts, t);
		}
		/* left runnable (preempted or yielded): it waits for a CPU from now */
		t->runnable_since = ds_state_runnable(ev->state) ? ev->ts : 0;
	}
	slice_close(x, c, written, ev->ts);
	c->has_pred = 0;
	c->tid = ev->next_pid > 0 ? ev->next_pid : 0;
	c->since = ev->ts;
	if (ev->next_pid > 0) {
		struct ex_task *n = task_get(x, ev->next_pid);

		set_comm(n, ev->next_comm);
		if (cpu_on && task_shown(x, n)) {
			name_task_track(x, n);
			if (n->runnable_since)
				slice(x, "Runnable", n->tgid, n->tid, n->runnable_since, ev->ts,
				      NULL, "task");
			if (n->flow.id) {
				c->in = n->flow;
				c->in.dst_cpu = ev->cpu;
			}
		}
		n->runnable_since = 0;
		n->flow.id = 0;
	}
}

static void on_wakeup(struct exporter *x, const struct ds_event *ev)
{
	struct ex_task *t = task_get(x, ev->pid);

	set_comm(t, ev->comm);
	if (t->runnable_since)	/* already waiting (sched_waking then sched_wakeup) */
		return;
	t->runnable_since = ev->ts;
	/* the arrow starts in the waker's slice; wakeups from idle have none */
	if (ev->common_pid > 0 && x->cpus[ev->cpu].tid == ev->common_pid &&
	    x->cpus[ev->cpu].since && ds_filter_cpu(x->f, ev->cpu) && task_shown(x, t)) {
		t->flow.id = ++x->next_flow;
		t->flow.src_cpu = ev->cpu;
		t->flow.src_serial = x->cpus[ev->cpu].serial;
		t->flow.s_ts = ev->ts;
	}
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "model", required_argument, NULL, 'm' },
		DS_FILTER_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ds_filter filter = DS_FILTER_INIT;
	struct exporter x = { .f = &filter, .first = 1, .sb = STRBUF_INIT };
	const char *output = NULL, *inputs[2] = { NULL, NULL };
	char *model = NULL;
	struct ds_trace_reader *r;
	struct sc_outfile of;
	struct ds_event ev;
	int c, got, ret = 1;

	while ((c = getopt_long(argc, argv, "f:o:m:C:h", longopts, NULL)) != -1) {
		int fo = ds_filter_option(&filter, c, optarg);

		if (fo < 0)
			goto usage;
		if (fo)
			continue;
		switch (c) {
		case 'f':
			if (strcmp(optarg, "perfetto") && strcmp(optarg, "chrome")) {
				error("unknown format '%s' (perfetto)", optarg);
				goto usage;
			}
			break;
		case 'o':
			output = optarg;
			break;
		case 'm':
			free(model);
			model = xstrdup(optarg);
			break;
		case 'h':
			free(model);
			ds_filter_release(&filter);
			return sc_usage(export_usage, 0);
		default:
			goto usage;
		}
	}
	if (argc - optind != 1) {
		error(optind >= argc ? "no trace given" : "export reads one trace");
		goto usage;
	}
	if (!output) {
		error("no output given (-o FILE)");
		goto usage;
	}
	if (model) {
		char *path = sc_model_path(model);

		free(model);
		model = path;
		if (!model) {
			ds_filter_release(&filter);
			return 1;
		}
	}
	inputs[0] = argv[optind];
	inputs[1] = model;
	if (sc_check_output(output, inputs, model ? 2 : 1)) {
		free(model);
		ds_filter_release(&filter);
		return 1;
	}
	r = ds_trace_open(argv[optind]);
	if (!r) {
		free(model);
		ds_filter_release(&filter);
		return 1;
	}
	if (model && !(x.model = ana_predictor_new(model, argv[optind], ds_trace_meta(r)))) {
		ds_trace_close(r);
		free(model);
		ds_filter_release(&filter);
		return 1;
	}
	if (sc_outfile_open(&of, output)) {
		ana_predictor_free(x.model);
		ds_trace_close(r);
		free(model);
		ds_filter_release(&filter);
		return 1;
	}
	x.fp = of.fp;
	x.nr_cpus = ds_trace_meta(r)->nr_cpus;
	x.cpus = xcalloc((size_t)x.nr_cpus, sizeof(*x.cpus));
	x.tasks = ds_trace_tasks(r, &x.nr_tasks);

	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", x.fp);
	meta(&x, "process_name", CPUS_PID, 0, "CPUs", 0);
	for (int i = 0; i < x.nr_cpus; i++) {
		char name[32];

		if (!ds_filter_cpu(&filter, i))
			continue;
		snprintf(name, sizeof(name), "CPU %d", i);
		meta(&x, "thread_name", CPUS_PID, i, name, i);
	}
	if (x.model) {
		char name[SC_SAFE_SIZE(256) + 16], safe[SC_SAFE_SIZE(256)];

		const char *base = strrchr(model, '/');

		snprintf(name, sizeof(name), "Model %s",
			 sc_safe_str(safe, sizeof(safe), base ? base + 1 : model));
		meta(&x, "process_name", MODEL_PID, 0, name, 1);
		for (int i = 0; i < x.nr_cpus; i++) {
			char cname[32];

			if (!ds_filter_cpu(&filter, i))
				continue;
			snprintf(cname, sizeof(cname), "CPU %d", i);
			meta(&x, "thread_name", MODEL_PID, i, cname, i);
		}
	}
	while ((got = ds_trace_next(r, &ev)) > 0) {
		struct ana_prediction pred;
		int pr = 0;

		if (ev.cpu < 0 || ev.cpu >= x.nr_cpus || ev.ts > filter.end_ns)
			continue;
		/* the model sees every event, before its switch is drawn */
		if (x.model && (pr = ana_predictor_event(x.model, &ev, &pred)) < 0) {
			got = error("cannot use '%s': invalid event at %llu ns", argv[optind],
				    (unsigned long long)ev.ts);
			break;
		}
		switch (ev.type) {
		case DS_EV_SWITCH:
			on_switch(&x, &ev);
			if (pr == 1 && pred.cpu == ev.cpu) {
				x.cpus[ev.cpu].pred = pred;
				x.cpus[ev.cpu].has_pred = 1;
			}
			break;
		case DS_EV_WAKEUP:
		case DS_EV_WAKEUP_NEW:
		case DS_EV_WAKING:
			on_wakeup(&x, &ev);
			break;
		default:
			break;
		}
	}
	fputs("\n]}\n", x.fp);
	if (got < 0) {
		sc_outfile_abort(&of);
	} else if (!sc_outfile_commit(&of)) {
		ret = 0;
		if (strcmp(output, "-") && x.model)
			fprintf(stderr, "%s: %llu slices, %llu wakeup arrows, %llu predictions "
				"(%llu right)\n", output, (unsigned long long)x.slices,
				(unsigned long long)x.flows, (unsigned long long)x.predictions,
				(unsigned long long)x.right);
		else if (strcmp(output, "-"))
			fprintf(stderr, "%s: %llu slices, %llu wakeup arrows\n", output,
				(unsigned long long)x.slices, (unsigned long long)x.flows);
	}
	free(x.slots);
	for (int i = 0; i < x.nr_cpus; i++) {
		free(x.cpus[i].pending);
		free(x.cpus[i].dropped);
	}
	free(x.cpus);
	free(x.named_procs);
	strbuf_release(&x.sb);
	ana_predictor_free(x.model);
	ds_trace_close(r);
	free(model);
	ds_filter_release(&filter);
	return ret;
usage:
	free(model);
	ds_filter_release(&filter);
	return sc_usage(export_usage, 1);
}
