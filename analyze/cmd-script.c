// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast script - the events of a trace, one line each, in the columns of
 * `perf sched timehist` (time, CPU, task, wait time, scheduling delay, run
 * time), or one JSON object per line: grep and pipe without another tool.
 *
 * The figures follow perf sched timehist's definitions exactly, so that the
 * two agree line for line on the same perf.data (tests/t/t4200-script.sh):
 *   run    from the previous switch on this CPU to this one
 *   delay  from the task's first wakeup since it last ran to that previous
 *          switch (the switch that put it on the CPU)
 *   wait   from the task's last switch-out to that previous switch
 * The first switch seen on a CPU has all three at 0.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "common/common.h"
#include "data/filter.h"
#include "data/trace.h"

static const char script_usage[] =
	"usage: schedcast script [-w] [-M] [-n] [--state] [--json] [filters] TRACE.h5\n"
	"\n"
	"One line per context switch, with the columns of perf sched timehist: time\n"
	"(s), CPU, task switched out (comm[tid] or comm[tid/pid]), wait time (since it\n"
	"last left a CPU), scheduling delay (wakeup to running) and run time, in ms.\n"
	"\n"
	"    -w, --wakeups        also a line per wakeup (the waker, and who it woke)\n"
	"    -M, --migrations     also a line per migration\n"
	"    -n, --next           show the task switched in\n"
	"    -S, --state          show the state the task left in (R, R+, S, D, ...)\n"
	"    -j, --json           one JSON object per line (times in ns; keys: man\n"
	"                         schedcast-script)\n"
	DS_FILTER_HELP
	"    -h, --help           show this help\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast script trace.h5 | less\n"
	"    schedcast script --comm 'hackbench*' -C 1 --time 3312.5,3313 trace.h5\n"
	"    schedcast script --json -w trace.h5 | grep '\"delay_ns\"'\n";

struct script_opts {
	int wakeups, migrations, next, state, json;
	struct ds_filter filter;
};

/* struct task_rt - what perf's thread_runtime keeps, per task (idle: per CPU) */
struct task_rt {
	int32_t key;		/* tid, or -(cpu + 1) for a CPU's idle task; 0 = empty slot */
	int32_t tgid;
	uint64_t last_time;	/* its last switch-out (0: never) */
	uint64_t ready_to_run;	/* its first wakeup since then (0: none) */
	int64_t last_state;
	char comm[DS_COMM_LEN];	/* latest comm seen */
};

struct script {
	struct script_opts *o;
	struct task_rt *slots;
	size_t size, used;
	uint64_t *tprev;	/* (nr_cpus) time of the last switch per CPU */
	int nr_cpus;
	const struct ds_task *tasks;	/* the trace's task table, for tgids and first comms */
	uint64_t nr_tasks;
	struct strbuf line;
};

static size_t slot_of(const struct script *s, int32_t key)
{
	size_t i = ((uint32_t)key * 2654435761u) & (s->size - 1);

	while (s->slots[i].key && s->slots[i].key != key)
		i = (i + 1) & (s->size - 1);
	return i;
}

/* task_tgid - the thread group the task table gives tid, -1 when unknown */
static int32_t task_tgid(const struct script *s, int32_t tid)
{
	for (uint64_t i = 0; i < s->nr_tasks; i++)
		if (s->tasks[i].pid == tid && s->tasks[i].tgid >= 0)
			return s->tasks[i].tgid;
	return -1;
}

static struct task_rt *task_get(struct script *s, int32_t tid, int cpu)
{
	int32_t key = tid ? tid : -(cpu + 1);
	struct task_rt *t;
	size_t i;

	if (2 * (s->used + 1) > s->size) {
		struct task_rt *old = s->slots;
		size_t n = s->size;

		s->size = n ? 2 * n : 1024;
		s->slots = xcalloc(s->size, sizeof(*s->slots));
		for (size_t j = 0; j < n; j++)
			if (old[j].key)
				s->slots[slot_of(s, old[j].key)] = old[j];
		free(old);
	}
	i = slot_of(s, key);
	t = &s->slots[i];
	if (!t->key) {
		t->key = key;
		t->tgid = tid ? -2 : 0;	/* -2: not looked up yet */
		s->used++;
		for (uint64_t j = 0; tid && j < s->nr_tasks; j++) {
			if (s->tasks[j].pid == tid) {
				memcpy(t->comm, s->tasks[j].comm, DS_COMM_LEN);
				break;
			}
		}
	}
	if (t->tgid == -2)
		t->tgid = task_tgid(s, tid);
	return t;
}

static void set_comm(struct task_rt *t, const char *comm)
{
	if (comm[0])
		memcpy(t->comm, comm, DS_COMM_LEN);
	t->comm[DS_COMM_LEN - 1] = '\0';
}

/* task_name - perf's "comm[tid]", "comm[tid/pid]" or "<idle>" */
static const char *task_name(char *buf, size_t size, const struct task_rt *t, int32_t tid)
{
	char comm[SC_SAFE_SIZE(DS_COMM_LEN)];

	sc_safe_str(comm, sizeof(comm), t->comm);
	if (!tid)
		snprintf(buf, size, "<idle>");
	else if (t->tgid >= 0 && t->tgid != tid)
		snprintf(buf, size, "%s[%d/%d]", comm, tid, t->tgid);
	else
		snprintf(buf, size, "%s[%d]", comm, tid);
	return buf;
}

static const char *state_name(char *buf, size_t size, int64_t state)
{
	static const char letters[] = "SDTtXZPI";
	size_t n = 0;

	if (state & DS_STATE_PREEMPTED)
		snprintf(buf, size, "R+");
	else if (!(state & 0xff))
		snprintf(buf, size, "R");
	else {
		for (int b = 0; b < 8 && n + 1 < size; b++)
			if (state & (1 << b))
				buf[n++] = letters[b];
		buf[n] = '\0';
	}
	return buf;
}

/* perf's print_sched_time: ms with 3 decimals, truncated */
static void add_ms(struct strbuf *sb, uint64_t ns)
{
	strbuf_addf(sb, " %6llu.%03llu", (unsigned long long)(ns / NSEC_PER_MSEC),
		    (unsigned long long)(ns % NSEC_PER_MSEC / NSEC_PER_USEC));
}

static void add_time_cpu(struct strbuf *sb, uint64_t ts, int cpu)
{
	char t[32];

	snprintf(t, sizeof(t), "%llu.%06llu", (unsigned long long)(ts / NSEC_PER_SEC),
		 (unsigned long long)(ts % NSEC_PER_SEC / NSEC_PER_USEC));
	strbuf_addf(sb, "%15s [%04d] ", t, cpu);
}

static void json_task(struct json_writer *jw, const char *prefix, int32_t tid,
		      const struct task_rt *t)
{
	char key[32];

	snprintf(key, sizeof(key), "%spid", prefix);
	json_i64(jw, key, tid);
	if (t && t->tgid >= 0) {
		snprintf(key, sizeof(key), "%stgid", prefix);
		json_i64(jw, key, t->tgid);
	}
	snprintf(key, sizeof(key), "%scomm", prefix);
	json_strn(jw, key, t ? t->comm : "", DS_COMM_LEN);
}

/* json_begin - the members every JSON line starts with */
static void json_begin(struct json_writer *jw, struct strbuf *sb, const struct ds_event *ev)
{
	json_writer_init(jw, sb);
	json_object_begin(jw, NULL);
	json_u64(jw, "ts", ev->ts);
	json_i64(jw, "cpu", ev->cpu);
	json_str(jw, "event", ds_event_type_name(ev->type));
}

static void emit(struct script *s)
{
	strbuf_addch(&s->line, '\n');
	fwrite(s->line.buf, 1, s->line.len, stdout);
	strbuf_reset(&s->line);
}

static void on_switch(struct script *s, const struct ds_event *ev)
{
	struct script_opts *o = s->o;
	struct task_rt *t = task_get(s, ev->pid, ev->cpu), *next;
	uint64_t tprev = s->tprev[ev->cpu];
	uint64_t run = 0, delay = 0, wait = 0;
	char name[64], st[16];

	set_comm(t, ev->comm);
	if (tprev) {
		run = ev->ts - tprev;
		if (t->ready_to_run && t->ready_to_run <= tprev)
			delay = tprev - t->ready_to_run;
		if (t->last_time && t->last_time <= tprev)
			wait = tprev - t->last_time;
	}
	next = task_get(s, ev->next_pid, ev->cpu);
	set_comm(next, ev->next_comm);

	if (ds_filter_cpu(&o->filter, ev->cpu) && ds_filter_time(&o->filter, ev->ts) &&
	    (!ds_filter_any_task(&o->filter) || (ev->pid &&
	     ds_filter_task(&o->filter, ev->pid, t->tgid, t->comm)))) {
		struct strbuf *sb = &s->line;

		if (o->json) {
			struct json_writer jw;

			json_begin(&jw, sb, ev);
			json_task(&jw, "", ev->pid, t);
			json_u64(&jw, "wait_ns", wait);
			json_u64(&jw, "delay_ns", delay);
			json_u64(&jw, "run_ns", run);
			json_str(&jw, "state", state_name(st, sizeof(st), ev->state));
			json_task(&jw, "next_", ev->next_pid, next);
			json_object_end(&jw);
		} else {
			add_time_cpu(sb, ev->ts, ev->cpu);
			strbuf_addf(sb, " %-30s", task_name(name, sizeof(name), t, ev->pid));
			add_ms(sb, wait);
			add_ms(sb, delay);
			add_ms(sb, run);
			strbuf_addch(sb, ' ');
			if (o->state)
				strbuf_addf(sb, " %5s ", state_name(st, sizeof(st), ev->state));
			if (o->next) {
				char nx[64];

				char comm[SC_SAFE_SIZE(DS_COMM_LEN)];

				snprintf(nx, sizeof(nx), "next: %s[%d]",
					 sc_safe_str(comm, sizeof(comm), next->comm), ev->next_pid);
				strbuf_addf(sb, " %-30s", nx);
			}
		}
		emit(s);
	}
	t->last_time = ev->ts;
	t->last_state = ev->state;
	t->ready_to_run = 0;
	s->tprev[ev->cpu] = ev->ts;
}

/* the running task's record: wakeups and migrations are done by common_pid */
static struct task_rt *actor(struct script *s, const struct ds_event *ev)
{
	return ev->common_pid >= 0 ? task_get(s, ev->common_pid, ev->cpu) : NULL;
}

static int show_other(struct script *s, const struct ds_event *ev, const struct task_rt *t)
{
	const struct ds_filter *f = &s->o->filter;

	return ds_filter_cpu(f, ev->cpu) && ds_filter_time(f, ev->ts) &&
	       (!ds_filter_any_task(f) || ds_filter_task(f, ev->pid, t->tgid, t->comm));
}

static void other_prefix(struct script *s, const struct ds_event *ev, const struct task_rt *a)
{
	char name[64];

	add_time_cpu(&s->line, ev->ts, ev->cpu);
	strbuf_addf(&s->line, " %-30s ", a ? task_name(name, sizeof(name), a, ev->common_pid) : "?");
	strbuf_addf(&s->line, "  %9s  %9s  %9s ", "", "", "");
}

static void on_wakeup(struct script *s, const struct ds_event *ev)
{
	struct task_rt *t = task_get(s, ev->pid, ev->cpu), *a;
	char name[64];

	set_comm(t, ev->comm);
	if (!t->ready_to_run)
		t->ready_to_run = ev->ts;
	if (!s->o->wakeups || !show_other(s, ev, t))
		return;
	a = actor(s, ev);
	if (s->o->json) {
		struct json_writer jw;

		json_begin(&jw, &s->line, ev);
		json_task(&jw, "", ev->pid, t);
		json_i64(&jw, "target_cpu", ev->target_cpu);
		if (a)
			json_task(&jw, "waker_", ev->common_pid, a);
		json_object_end(&jw);
	} else {
		other_prefix(s, ev, a);
		strbuf_addf(&s->line, "awakened: %s", task_name(name, sizeof(name), t, ev->pid));
	}
	emit(s);
}

static void on_migrate(struct script *s, const struct ds_event *ev)
{
	struct task_rt *t = task_get(s, ev->pid, ev->cpu), *a;
	char name[64];

	set_comm(t, ev->comm);
	if (!s->o->migrations || !show_other(s, ev, t))
		return;
	a = actor(s, ev);
	if (s->o->json) {
		struct json_writer jw;

		json_begin(&jw, &s->line, ev);
		json_task(&jw, "", ev->pid, t);
		json_i64(&jw, "orig_cpu", ev->orig_cpu);
		json_i64(&jw, "dest_cpu", ev->dest_cpu);
		if (a)
			json_task(&jw, "by_", ev->common_pid, a);
		json_object_end(&jw);
	} else {
		other_prefix(s, ev, a);
		strbuf_addf(&s->line, "migrated: %s cpu %d => %d",
			    task_name(name, sizeof(name), t, ev->pid), ev->orig_cpu, ev->dest_cpu);
	}
	emit(s);
}

static void header(const struct script_opts *o)
{
	printf("%15s %6s  %-30s  %9s  %9s  %9s", "time", "cpu", "task name", "wait time",
	       "sch delay", "run time");
	if (o->state)
		printf("  state");
	printf("\n%15s %6s  %-30s  %9s  %9s  %9s", "", "", "[tid/pid]", "(msec)", "(msec)",
	       "(msec)");
	if (o->state)
		printf("       ");
	printf("\n--------------- ------  ------------------------------  ---------  ---------  "
	       "---------");
	if (o->state)
		printf("  -----");
	printf("\n");
}

int cmd_script(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "wakeups", no_argument, NULL, 'w' },
		{ "migrations", no_argument, NULL, 'M' },
		{ "next", no_argument, NULL, 'n' },
		{ "state", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		DS_FILTER_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct script_opts o = { .filter = DS_FILTER_INIT };
	struct script s = { .o = &o, .line = STRBUF_INIT };
	struct ds_trace_reader *r;
	struct ds_event ev;
	int c, got, ret = 1;

	while ((c = getopt_long(argc, argv, "wMnSjC:h", longopts, NULL)) != -1) {
		int f = ds_filter_option(&o.filter, c, optarg);

		if (f < 0) {
			ds_filter_release(&o.filter);
			return sc_usage(script_usage, 1);
		}
		if (f)
			continue;
		switch (c) {
		case 'w':
			o.wakeups = 1;
			break;
		case 'M':
			o.migrations = 1;
			break;
		case 'n':
			o.next = 1;
			break;
		case 'S':
			o.state = 1;
			break;
		case 'j':
			o.json = 1;
			break;
		case 'h':
			ds_filter_release(&o.filter);
			return sc_usage(script_usage, 0);
		default:
			ds_filter_release(&o.filter);
			return sc_usage(script_usage, 1);
		}
	}
	if (argc - optind != 1) {
		error(optind >= argc ? "no trace given" : "script reads one trace");
		ds_filter_release(&o.filter);
		return sc_usage(script_usage, 1);
	}
	r = ds_trace_open(argv[optind]);
	if (!r) {
		ds_filter_release(&o.filter);
		return 1;
	}
	s.nr_cpus = ds_trace_meta(r)->nr_cpus;
	s.tprev = xcalloc((size_t)s.nr_cpus, sizeof(*s.tprev));
	s.tasks = ds_trace_tasks(r, &s.nr_tasks);
	if (!o.json)
		header(&o);
	while ((got = ds_trace_next(r, &ev)) > 0) {
		if (ev.cpu < 0 || ev.cpu >= s.nr_cpus)
			continue;
		switch (ev.type) {
		case DS_EV_SWITCH:
			on_switch(&s, &ev);
			break;
		case DS_EV_WAKEUP:
		case DS_EV_WAKEUP_NEW:
		case DS_EV_WAKING:
			on_wakeup(&s, &ev);
			break;
		case DS_EV_MIGRATE:
			on_migrate(&s, &ev);
			break;
		default:
			break;
		}
	}
	if (!got)
		ret = 0;
	strbuf_release(&s.line);
	free(s.slots);
	free(s.tprev);
	ds_trace_close(r);
	ds_filter_release(&o.filter);
	return ret;
}
