// SPDX-License-Identifier: GPL-2.0
/*
 * collect/decode.c - a raw sched tracepoint record into struct ds_event.
 *
 * The fields are looked up by name once per tep handle (col_decoder_new) and
 * read through their tep_format_field afterwards, bounds-checked against the
 * record: the same code decodes live tracefs pages, perf raw samples and
 * trace.dat records, whatever byte order or layout the kernel used.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>

#include "common/common.h"
#include "collect/collect.h"

/* The fields one event type may use, in struct ds_event terms. */
enum dec_field {
	F_PID, F_PRIO, F_NEXT_PID, F_NEXT_PRIO, F_STATE, F_TARGET_CPU, F_ORIG_CPU,
	F_DEST_CPU, F_COMM, F_NEXT_COMM, F_MAX
};

/*
 * Per event type: the tracepoint name, and the kernel field feeding each of
 * our fields (NULL: the event has none).  Names marked required[] must exist
 * for the event to be decoded at all.
 */
static const struct dec_desc {
	const char *name;
	const char *field[F_MAX];
	unsigned int required;	/* bits of enum dec_field */
} descs[DS_EV_LOST] = {
	[DS_EV_SWITCH] = { "sched_switch", {
		[F_PID] = "prev_pid", [F_PRIO] = "prev_prio", [F_NEXT_PID] = "next_pid",
		[F_NEXT_PRIO] = "next_prio", [F_STATE] = "prev_state", [F_COMM] = "prev_comm",
		[F_NEXT_COMM] = "next_comm" },
		1u << F_PID | 1u << F_NEXT_PID | 1u << F_STATE },
	[DS_EV_WAKEUP] = { "sched_wakeup", {
		[F_PID] = "pid", [F_PRIO] = "prio", [F_TARGET_CPU] = "target_cpu",
		[F_COMM] = "comm" }, 1u << F_PID },
	[DS_EV_WAKEUP_NEW] = { "sched_wakeup_new", {
		[F_PID] = "pid", [F_PRIO] = "prio", [F_TARGET_CPU] = "target_cpu",
		[F_COMM] = "comm" }, 1u << F_PID },
	[DS_EV_WAKING] = { "sched_waking", {
		[F_PID] = "pid", [F_PRIO] = "prio", [F_TARGET_CPU] = "target_cpu",
		[F_COMM] = "comm" }, 1u << F_PID },
	[DS_EV_MIGRATE] = { "sched_migrate_task", {
		[F_PID] = "pid", [F_PRIO] = "prio", [F_ORIG_CPU] = "orig_cpu",
		[F_DEST_CPU] = "dest_cpu", [F_COMM] = "comm" },
		1u << F_PID | 1u << F_ORIG_CPU | 1u << F_DEST_CPU },
	[DS_EV_FORK] = { "sched_process_fork", {
		[F_PID] = "parent_pid", [F_NEXT_PID] = "child_pid", [F_COMM] = "parent_comm",
		[F_NEXT_COMM] = "child_comm" }, 1u << F_PID | 1u << F_NEXT_PID },
	[DS_EV_EXIT] = { "sched_process_exit", {
		[F_PID] = "pid", [F_PRIO] = "prio", [F_STATE] = "group_dead",
		[F_COMM] = "comm" }, 1u << F_PID },
};

/*
 * The fast path: a number field of size 1, 2, 4 or 8 in host byte order is
 * one load (a live capture decodes a million records a second, and
 * tep_read_number() is a call and a switch per field).  nums lists the
 * fields an event has, where they go in struct ds_event, and how far the
 * record must reach for all of them.
 */
struct dec_num {
	int offset;
	unsigned char size;
	unsigned char is_signed;
	unsigned char is_64;		/* into an int64_t (state) */
	unsigned short dst;		/* offsetof(struct ds_event, ...) */
};

struct dec_event {
	int id;					/* tracepoint id; -1 when absent */
	struct tep_format_field *common_pid;
	struct tep_format_field *field[F_MAX];
	int fast;				/* nums[] is all the numbers; host byte order */
	int nr_nums;
	int nums_end;				/* the record must be at least this long */
	struct dec_num nums[F_MAX];
};

struct col_decoder {
	struct tep_handle *tep;
	/* common_type: the same place in every event */
	int type_offset, type_size;
	int swap;				/* the records are not in host byte order */
	uint32_t events;
	struct dec_event ev[DS_EV_LOST];
};

static const unsigned short num_dst[F_MAX] = {
	[F_PID] = offsetof(struct ds_event, pid),
	[F_PRIO] = offsetof(struct ds_event, prio),
	[F_NEXT_PID] = offsetof(struct ds_event, next_pid),
	[F_NEXT_PRIO] = offsetof(struct ds_event, next_prio),
	[F_STATE] = offsetof(struct ds_event, state),
	[F_TARGET_CPU] = offsetof(struct ds_event, target_cpu),
	[F_ORIG_CPU] = offsetof(struct ds_event, orig_cpu),
	[F_DEST_CPU] = offsetof(struct ds_event, dest_cpu),
};

static int add_num(struct dec_event *de, const struct tep_format_field *f, unsigned short dst,
		   int is_64)
{
	struct dec_num *n = &de->nums[de->nr_nums++];

	if (f->offset < 0 || (f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8))
		return -1;
	n->offset = f->offset;
	n->size = (unsigned char)f->size;
	n->is_signed = (f->flags & TEP_FIELD_IS_SIGNED) != 0;
	n->is_64 = (unsigned char)is_64;
	n->dst = dst;
	de->nums_end = SC_MAX(de->nums_end, f->offset + f->size);
	return 0;
}

/* the fast path of de, when every number field has a plain size */
static void setup_fast(struct col_decoder *d, struct dec_event *de)
{
	int ok = !d->swap;

	de->nr_nums = 0;
	de->nums_end = d->type_offset + d->type_size;
	/* common_pid first, then the fields F_PID..F_DEST_CPU (the comms are apart) */
	if (de->common_pid)
		ok &= !add_num(de, de->common_pid, offsetof(struct ds_event, common_pid), 0);
	for (int f = 0; f < F_COMM; f++)
		if (de->field[f])
			ok &= !add_num(de, de->field[f], num_dst[f], f == F_STATE);
	de->fast = ok;
}

static int lookup_event(struct col_decoder *d, int t)
{
	const struct dec_desc *desc = &descs[t];
	struct dec_event *de = &d->ev[t];
	struct tep_event *event;
	struct tep_format_field *type;

	de->id = -1;
	event = tep_find_event_by_name(d->tep, "sched", desc->name);
	if (!event)
		return 0;
	type = tep_find_common_field(event, "common_type");
	if (!type || type->size < 1 || type->size > 4)
		return 0;
	if (d->type_size && (type->offset != d->type_offset || type->size != d->type_size))
		return 0;	/* every event must agree, or we could not tell them apart */
	for (int f = 0; f < F_MAX; f++) {
		if (!desc->field[f])
			continue;
		de->field[f] = tep_find_any_field(event, desc->field[f]);
		if (!de->field[f] && (desc->required & (1u << f)))
			return 0;
	}
	de->common_pid = tep_find_common_field(event, "common_pid");
	d->type_offset = type->offset;
	d->type_size = type->size;
	de->id = event->id;
	setup_fast(d, de);
	d->events |= DS_EV_BIT(t);
	return 0;
}

struct col_decoder *col_decoder_new(struct tep_handle *tep)
{
	struct col_decoder *d = xcalloc(1, sizeof(*d));

	d->tep = tep;
	d->swap = tep_is_file_bigendian(tep) != tep_is_local_bigendian(tep);
	for (int t = 0; t < DS_EV_LOST; t++)
		lookup_event(d, t);
	if (!d->events) {
		free(d);
		errno = ENOENT;
		error("no scheduler events (sched/sched_switch, ...) in the event formats");
		return NULL;
	}
	return d;
}

void col_decoder_free(struct col_decoder *d)
{
	free(d);
}

uint32_t col_decoder_events(const struct col_decoder *d)
{
	return d->events;
}

int col_decoder_event_id(const struct col_decoder *d, int t)
{
	if (t < 0 || t >= DS_EV_LOST)
		return -1;
	return d->ev[t].id;
}

/* A number field of size 1..8 inside the record, sign-extended if signed. */
static int read_num(const struct col_decoder *d, const struct tep_format_field *f,
		    const struct tep_record *rec, int64_t *out)
{
	unsigned long long v;

	if (f->size < 1 || f->size > 8 || f->offset < 0 || f->offset + f->size > rec->size)
		return -1;
	v = tep_read_number(d->tep, (const char *)rec->data + f->offset, f->size);
	if ((f->flags & TEP_FIELD_IS_SIGNED) && f->size < 8) {
		unsigned int bits = (unsigned int)f->size * 8;
		unsigned long long sign = 1ULL << (bits - 1);

		v &= (1ULL << bits) - 1;
		*out = (int64_t)((v ^ sign) - sign);
	} else {
		*out = (int64_t)v;
	}
	return 0;
}

static int read_i32(const struct col_decoder *d, const struct tep_format_field *f,
		    const struct tep_record *rec, int32_t *out)
{
	int64_t v;

	if (!f)
		return 0;	/* optional and absent: stays -1 */
	if (read_num(d, f, rec, &v))
		return -1;
	*out = (int32_t)v;
	return 0;
}

/*
 * A comm: a fixed char array, or a __data_loc / __rel_loc string whose 32-bit
 * descriptor holds the offset (low 16 bits) and length (high 16 bits); a
 * __rel_loc offset counts from the end of the descriptor.  At most 15
 * characters are kept, NUL-terminated.
 */
static int read_comm(const struct col_decoder *d, const struct tep_format_field *f,
		     const struct tep_record *rec, char *out)
{
	const char *data = rec->data;
	long off, len;

	if (!f)
		return 0;
	if (f->offset < 0 || f->size < 1 || f->offset + f->size > rec->size)
		return -1;
	if (f->flags & TEP_FIELD_IS_DYNAMIC) {
		unsigned long long loc;

		if (f->size != 4)
			return -1;
		loc = tep_read_number(d->tep, data + f->offset, 4);
		off = (long)(loc & 0xffff);
		len = (long)((loc >> 16) & 0xffff);
		if (f->flags & TEP_FIELD_IS_RELATIVE)
			off += f->offset + f->size;
	} else {
		off = f->offset;
		len = f->size;
	}
	if (off < 0 || len < 0 || off + len > rec->size)
		return -1;
	len = SC_MIN(len, DS_COMM_LEN - 1);
	memset(out, 0, DS_COMM_LEN);
	for (long i = 0; i < len && data[off + i]; i++)
		out[i] = data[off + i];
	return 0;
}

/* one number of the fast path: a load of 1, 2, 4 or 8 bytes, sign-extended if signed */
static int64_t load_num(const char *p, const struct dec_num *n)
{
	switch (n->size) {
	case 1:
		return n->is_signed ? (int64_t)(int8_t)p[0] : (int64_t)(uint8_t)p[0];
	case 2: {
		uint16_t v;

		memcpy(&v, p, 2);
		return n->is_signed ? (int64_t)(int16_t)v : (int64_t)v;
	}
	case 4: {
		uint32_t v;

		memcpy(&v, p, 4);
		return n->is_signed ? (int64_t)(int32_t)v : (int64_t)v;
	}
	default: {
		int64_t v;

		memcpy(&v, p, 8);
		return v;
	}
	}
}

/* read_comm for a fixed char array in host order: no per-byte loop */
static int read_comm_fast(const struct tep_format_field *f, const struct tep_record *rec,
			  char *out)
{
	size_t len;

	if (!f)
		return 0;
	if (f->flags & TEP_FIELD_IS_DYNAMIC)
		return -2;
	if (f->offset < 0 || f->size < 1 || f->offset + f->size > rec->size)
		return -1;
	len = strnlen((const char *)rec->data + f->offset, SC_MIN(f->size, DS_COMM_LEN - 1));
	memcpy(out, (const char *)rec->data + f->offset, len);
	memset(out + len, 0, DS_COMM_LEN - len);
	return 0;
}

static int decode_fast(const struct col_decoder *d, const struct dec_event *de,
		       const struct tep_record *rec, struct ds_event *e)
{
	const char *data = rec->data;
	int r;

	if (rec->size < de->nums_end)
		return -1;
	for (int i = 0; i < de->nr_nums; i++) {
		const struct dec_num *n = &de->nums[i];
		int64_t v = load_num(data + n->offset, n);

		if (n->is_64) {
			memcpy((char *)e + n->dst, &v, sizeof(v));
		} else {
			int32_t v32 = (int32_t)v;

			memcpy((char *)e + n->dst, &v32, sizeof(v32));
		}
	}
	r = read_comm_fast(de->field[F_COMM], rec, e->comm);
	if (r == -2)
		r = read_comm(d, de->field[F_COMM], rec, e->comm);
	if (r)
		return -1;
	r = read_comm_fast(de->field[F_NEXT_COMM], rec, e->next_comm);
	if (r == -2)
		r = read_comm(d, de->field[F_NEXT_COMM], rec, e->next_comm);
	return r ? -1 : 0;
}

int col_decode(const struct col_decoder *d, const struct tep_record *rec, struct ds_event *ev)
{
	const struct dec_event *de = NULL;
	struct ds_event e;
	unsigned long long id;
	int64_t state;
	int t;

	if (!rec->data || rec->size < d->type_offset + d->type_size)
		return -1;
	if (!d->swap) {
		const struct dec_num n = { .size = (unsigned char)d->type_size };

		id = d->type_size == 3 ? tep_read_number(d->tep, (const char *)rec->data +
							 d->type_offset, 3) :
		     (unsigned long long)load_num((const char *)rec->data + d->type_offset, &n);
	} else {
		id = tep_read_number(d->tep, (const char *)rec->data + d->type_offset, d->type_size);
	}
	for (t = 0; t < DS_EV_LOST; t++) {
		if (d->ev[t].id >= 0 && (unsigned long long)d->ev[t].id == id) {
			de = &d->ev[t];
			break;
		}
	}
	if (!de)
		return 0;

	ds_event_init(&e, t, rec->ts, rec->cpu);
	if (de->fast) {
		if (decode_fast(d, de, rec, &e))
			return -1;
		*ev = e;
		return 1;
	}
	if (read_i32(d, de->common_pid, rec, &e.common_pid) ||
	    read_i32(d, de->field[F_PID], rec, &e.pid) ||
	    read_i32(d, de->field[F_PRIO], rec, &e.prio) ||
	    read_i32(d, de->field[F_NEXT_PID], rec, &e.next_pid) ||
	    read_i32(d, de->field[F_NEXT_PRIO], rec, &e.next_prio) ||
	    read_i32(d, de->field[F_TARGET_CPU], rec, &e.target_cpu) ||
	    read_i32(d, de->field[F_ORIG_CPU], rec, &e.orig_cpu) ||
	    read_i32(d, de->field[F_DEST_CPU], rec, &e.dest_cpu) ||
	    read_comm(d, de->field[F_COMM], rec, e.comm) ||
	    read_comm(d, de->field[F_NEXT_COMM], rec, e.next_comm))
		return -1;
	if (de->field[F_STATE]) {
		if (read_num(d, de->field[F_STATE], rec, &state))
			return -1;
		e.state = state;
	}
	*ev = e;
	return 1;
}

int col_backend_from_name(const char *name)
{
	if (!strcmp(name, "tracefs"))
		return COL_BACKEND_TRACEFS;
	if (!strcmp(name, "perf"))
		return COL_BACKEND_PERF;
	return -1;
}
