// SPDX-License-Identifier: GPL-2.0
/*
 * tracedump - print the events of a trace.h5, one per line, in the input
 * format of mktrace (TS CPU TYPE FIELD=VALUE...; absent fields left out), so
 * that `tracedump a.h5 | mktrace b.h5` round-trips (comms holding spaces
 * excepted); or count the events that match.
 *
 *   tracedump [-c] FILE.h5 [TYPE [COND...]]
 *   tracedump -t FILE.h5          the task table: "pid tgid first_ts comm" lines
 *
 * TYPE is an event name ("sched_switch", "switch", "lost") or "any".  A COND
 * is FIELD=VALUE, or FIELD~V1,V2,... (any of the values); FIELD is any field
 * of the output (pid, next_pid, state, comm, cpu, ...).  -c prints only the
 * number of matching events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/trace.h"

static void field(struct strbuf *sb, const char *name, int64_t v)
{
	if (v != -1)
		strbuf_addf(sb, " %s=%lld", name, (long long)v);
}

static void format_event(struct strbuf *sb, const struct ds_event *ev)
{
	const char *name = ds_event_type_name(ev->type);

	strbuf_reset(sb);
	strbuf_addf(sb, "%llu %d %s", (unsigned long long)ev->ts, ev->cpu, name ? name : "?");
	field(sb, "common_pid", ev->common_pid);
	field(sb, "pid", ev->pid);
	field(sb, "prio", ev->prio);
	field(sb, "next_pid", ev->next_pid);
	field(sb, "next_prio", ev->next_prio);
	field(sb, "state", ev->state);
	field(sb, "target_cpu", ev->target_cpu);
	field(sb, "orig_cpu", ev->orig_cpu);
	field(sb, "dest_cpu", ev->dest_cpu);
	if (ev->comm[0])
		strbuf_addf(sb, " comm=%.*s", DS_COMM_LEN, ev->comm);
	if (ev->next_comm[0])
		strbuf_addf(sb, " next_comm=%.*s", DS_COMM_LEN, ev->next_comm);
}

/* The value of FIELD in a formatted line ("cpu" is the second column), or NULL. */
static const char *value_of(const char *line, const char *name, char *buf, size_t size)
{
	size_t n = strlen(name);
	const char *p;

	if (!strcmp(name, "cpu")) {
		p = strchr(line, ' ');
		snprintf(buf, size, "%d", p ? atoi(p + 1) : -1);
		return buf;
	}
	for (p = strchr(line, ' '); p; p = strchr(p + 1, ' ')) {
		if (!strncmp(p + 1, name, n) && p[1 + n] == '=') {
			size_t len = strcspn(p + 2 + n, " ");

			snprintf(buf, size, "%.*s", (int)SC_MIN(len, size - 1), p + 2 + n);
			return buf;
		}
	}
	return NULL;
}

static int matches(const char *line, char **conds, int nr)
{
	for (int i = 0; i < nr; i++) {
		char name[64], val[64];
		const char *op = strpbrk(conds[i], "=~"), *have;

		if (!op || (size_t)(op - conds[i]) >= sizeof(name))
			die("bad condition '%s' (FIELD=VALUE or FIELD~V1,V2)", conds[i]);
		snprintf(name, sizeof(name), "%.*s", (int)(op - conds[i]), conds[i]);
		have = value_of(line, name, val, sizeof(val));
		if (!have)
			return 0;
		if (*op == '=') {
			if (strcmp(have, op + 1))
				return 0;
		} else {
			char *list = xstrfmt(",%s,", op + 1), *key = xstrfmt(",%s,", have);
			int found = strstr(list, key) != NULL;

			free(list);
			free(key);
			if (!found)
				return 0;
		}
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct strbuf line = STRBUF_INIT;
	struct ds_trace_reader *r;
	struct ds_event ev;
	int count_only = 0, type = -1, ret;
	uint64_t n = 0;

	if (argc == 3 && !strcmp(argv[1], "-t")) {
		const struct ds_task *tasks;
		uint64_t nr;

		r = ds_trace_open(argv[2]);
		if (!r)
			return 1;
		tasks = ds_trace_tasks(r, &nr);
		for (uint64_t i = 0; i < nr; i++)
			printf("%d %d %llu %.*s\n", tasks[i].pid, tasks[i].tgid,
			       (unsigned long long)tasks[i].first_ts, DS_COMM_LEN, tasks[i].comm);
		ds_trace_close(r);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "-c")) {
		count_only = 1;
		argc--;
		argv++;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: tracedump [-c] FILE.h5 [TYPE [FIELD=VALUE|FIELD~V1,V2]...]\n"
				"       tracedump -t FILE.h5\n");
		return 2;
	}
	if (argc > 2 && strcmp(argv[2], "any")) {
		type = ds_event_type_from_name(argv[2]);
		if (type < 0 && !strcmp(argv[2], "lost"))
			type = DS_EV_LOST;
		if (type < 0)
			die("unknown event type '%s'", argv[2]);
	}
	r = ds_trace_open(argv[1]);
	if (!r)
		return 1;
	while ((ret = ds_trace_next(r, &ev)) == 1) {
		if (type >= 0 && ev.type != type)
			continue;
		format_event(&line, &ev);
		if (argc > 3 && !matches(line.buf, argv + 3, argc - 3))
			continue;
		n++;
		if (!count_only)
			printf("%s\n", line.buf);
	}
	if (count_only)
		printf("%llu\n", (unsigned long long)n);
	ds_trace_close(r);
	strbuf_release(&line);
	return ret < 0 ? 1 : 0;
}
