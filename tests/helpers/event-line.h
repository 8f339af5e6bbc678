/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tests/helpers/event-line.h - one event of the mktrace text format (see
 * tests/helpers/mktrace.c), parsed the same way by mktrace and by the unit
 * tests that write their event sequences in it:
 *
 *   TS CPU TYPE [FIELD=VALUE ...]
 *
 * TYPE as "switch", "sched_waking", "lost"; FIELD any struct ds_event member
 * (pid prio next_pid next_prio state target_cpu orig_cpu dest_cpu comm
 * next_comm common_pid); in comm and next_comm "\xNN" is the byte NN.
 * Header-only: each test program is one file.
 */
#ifndef SC_TESTS_EVENT_LINE_H
#define SC_TESTS_EVENT_LINE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "data/trace.h"

/* evline_set_comm - v into a DS_COMM_LEN field, "\xNN" decoded, cut at 15 bytes */
static inline void evline_set_comm(char *dst, const char *v)
{
	size_t n = 0;

	memset(dst, 0, DS_COMM_LEN);
	while (*v && n < DS_COMM_LEN - 1) {
		unsigned int b;

		if (v[0] == '\\' && v[1] == 'x' && sscanf(v + 2, "%2x", &b) == 1) {
			dst[n++] = (char)b;
			v += 4;
		} else {
			dst[n++] = *v++;
		}
	}
}

/* evline_set_field - set ev's field k from the text v; -1 when k is no field */
static inline int evline_set_field(struct ds_event *ev, const char *k, const char *v)
{
	struct { const char *name; int32_t *p; } ints[] = {
		{ "pid", &ev->pid }, { "prio", &ev->prio }, { "next_pid", &ev->next_pid },
		{ "next_prio", &ev->next_prio }, { "target_cpu", &ev->target_cpu },
		{ "orig_cpu", &ev->orig_cpu }, { "dest_cpu", &ev->dest_cpu },
		{ "common_pid", &ev->common_pid },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ints); i++) {
		if (!strcmp(k, ints[i].name)) {
			*ints[i].p = (int32_t)strtol(v, NULL, 0);
			return 0;
		}
	}
	if (!strcmp(k, "state"))
		ev->state = strtoll(v, NULL, 0);
	else if (!strcmp(k, "comm"))
		evline_set_comm(ev->comm, v);
	else if (!strcmp(k, "next_comm"))
		evline_set_comm(ev->next_comm, v);
	else
		return -1;
	return 0;
}

enum evline_err {
	EVLINE_BAD_HEAD = -1,	/* not "TS CPU TYPE" */
	EVLINE_NO_VALUE = -2,	/* a token without '=': *bad */
	EVLINE_BAD_FIELD = -3,	/* FIELD is no field of struct ds_event: *bad */
};

/*
 * evline_parse - the event line p (cut up in place) into ev: 0, or an enum
 * evline_err with *bad the token at fault.
 */
static inline int evline_parse(char *p, struct ds_event *ev, const char **bad)
{
	char *tok, *save = NULL;
	uint64_t ts;
	int cpu, type;

	*bad = NULL;
	tok = strtok_r(p, " \t", &save);
	if (!tok)
		return EVLINE_BAD_HEAD;
	ts = strtoull(tok, NULL, 0);
	tok = strtok_r(NULL, " \t", &save);
	cpu = tok ? atoi(tok) : -1;
	tok = strtok_r(NULL, " \t", &save);
	type = tok ? ds_event_type_from_name(tok) : -1;
	if (cpu < 0 || type < 0)
		return EVLINE_BAD_HEAD;
	ds_event_init(ev, type, ts, cpu);
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '=');

		*bad = tok;
		if (!eq)
			return EVLINE_NO_VALUE;
		*eq = '\0';
		if (evline_set_field(ev, tok, eq + 1))
			return EVLINE_BAD_FIELD;
	}
	*bad = NULL;
	return 0;
}

#endif /* SC_TESTS_EVENT_LINE_H */
