// SPDX-License-Identifier: GPL-2.0
/*
 * The trace file: a streaming writer with a bounded reorder window and a
 * streaming reader.  See data/trace.h for the layout.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "data/ds.h"
#include "data/trace.h"

static const char *const type_names[DS_EV_MAX] = {
	[DS_EV_SWITCH] = "sched_switch",
	[DS_EV_WAKEUP] = "sched_wakeup",
	[DS_EV_WAKEUP_NEW] = "sched_wakeup_new",
	[DS_EV_WAKING] = "sched_waking",
	[DS_EV_MIGRATE] = "sched_migrate_task",
	[DS_EV_FORK] = "sched_process_fork",
	[DS_EV_EXIT] = "sched_process_exit",
	[DS_EV_LOST] = "lost",
};

const char *ds_event_type_name(int type)
{
	if (type < 0 || type >= DS_EV_MAX)
		return NULL;
	return type_names[type];
}

int ds_event_type_from_name(const char *name)
{
	for (int i = 0; i < DS_EV_MAX; i++) {
		if (!strcmp(name, type_names[i]))
			return i;
		if (!strncmp(type_names[i], "sched_", 6) && !strcmp(name, type_names[i] + 6))
			return i;
		if (!strncmp(type_names[i], "sched_process_", 14) &&
		    !strcmp(name, type_names[i] + 14))
			return i;
	}
	return -1;
}

void ds_event_init(struct ds_event *ev, enum ds_event_type type, uint64_t ts, int cpu)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts = ts;
	ev->cpu = cpu;
	ev->type = (uint8_t)type;
	ev->state = -1;
	ev->common_pid = ev->pid = ev->prio = ev->next_pid = ev->next_prio = -1;
	ev->target_cpu = ev->orig_cpu = ev->dest_cpu = -1;
}

/* ---- the two tables ------------------------------------------------------- */

/*
 * events: stored in the layout of struct ds_event itself (no conversion per
 * event on write: the recorder's hot path).  Columns are matched by name on
 * read, so files written with another layout (the packed one of earlier
 * writers) read the same, and a file missing a column is refused rather than
 * misread.  The column order is the order of the file's compound type.
 */
/* type as an HDF5 enum: h5py and pandas show the event names (man schedcast-files) */
static const char *const event_type_names[] = {
	"sched_switch", "sched_wakeup", "sched_wakeup_new", "sched_waking",
	"sched_migrate_task", "sched_process_fork", "sched_process_exit", "lost", NULL,
};
static const char *const units_ns[] = { "units", "ns", NULL };

static const struct ds_column event_cols[] = {
	{ .name = "ts", .type = DS_U64, .offset = offsetof(struct ds_event, ts), .attrs = units_ns },
	{ .name = "type", .type = DS_U8, .offset = offsetof(struct ds_event, type),
	  .enum_names = event_type_names },
	DS_COLUMN(struct ds_event, cpu, DS_I32),
	DS_COLUMN(struct ds_event, common_pid, DS_I32),
	DS_COLUMN(struct ds_event, pid, DS_I32),
	DS_COLUMN(struct ds_event, prio, DS_I32),
	DS_COLUMN(struct ds_event, next_pid, DS_I32),
	DS_COLUMN(struct ds_event, next_prio, DS_I32),
	DS_COLUMN(struct ds_event, state, DS_I64),
	DS_COLUMN(struct ds_event, target_cpu, DS_I32),
	DS_COLUMN(struct ds_event, orig_cpu, DS_I32),
	DS_COLUMN(struct ds_event, dest_cpu, DS_I32),
	DS_COLUMN_N(struct ds_event, comm, DS_STR, DS_COMM_LEN),
	DS_COLUMN_N(struct ds_event, next_comm, DS_STR, DS_COMM_LEN),
};

static const struct ds_table_spec event_spec = {
	.cols = event_cols,
	.ncols = ARRAY_SIZE(event_cols),
	.row_size = sizeof(struct ds_event),
	.chunk_rows = 4096,
	.no_shuffle = 1,	/* whole rows: 9-20% smaller and 20-30% less deflate CPU unshuffled */
	.layout = DS_LAYOUT_NATIVE,
};

/* tasks: packed little-endian, written once at close */
static const struct ds_column task_cols[] = {
	DS_COLUMN(struct ds_task, pid, DS_I32),
	DS_COLUMN(struct ds_task, tgid, DS_I32),
	{ .name = "first_ts", .type = DS_U64, .offset = offsetof(struct ds_task, first_ts),
	  .attrs = units_ns },
	DS_COLUMN_N(struct ds_task, comm, DS_STR, DS_COMM_LEN),
};

static const struct ds_table_spec task_spec = {
	.cols = task_cols,
	.ncols = ARRAY_SIZE(task_cols),
	.row_size = sizeof(struct ds_task),
	.layout = DS_LAYOUT_PACKED,
};

/* ---- task table: a hash set of (pid, comm) --------------------------------- */

#define TASK_CACHE 256	/* a power of two */

struct task_set {
	struct ds_task *rows;
	size_t nr, alloc;
	/*
	 * the row each pid (modulo TASK_CACHE) was last seen with: most events
	 * name a task seen a moment ago, and one compare of the comm then
	 * replaces the hash and the probe
	 */
	uint32_t cache[TASK_CACHE];	/* index + 1 into rows, 0 = empty */
	uint32_t *slots;	/* index + 1 into rows, 0 = empty */
	size_t nslots;		/* power of two */
	/* tgids: pid -> tgid, linear-probed */
	int32_t *tg_pid, *tg_tgid;
	size_t tg_nr, tg_slots;
};

static uint32_t hash_task(int32_t pid, const char *comm)
{
	uint32_t h = 2166136261u ^ (uint32_t)pid;

	for (int i = 0; i < DS_COMM_LEN && comm[i]; i++)
		h = (h ^ (unsigned char)comm[i]) * 16777619u;
	return h * 2654435761u;
}

static void task_set_grow(struct task_set *ts)
{
	size_t n = ts->nslots ? ts->nslots * 2 : 1024;

	free(ts->slots);
	ts->slots = xcalloc(n, sizeof(*ts->slots));
	ts->nslots = n;
	for (size_t i = 0; i < ts->nr; i++) {
		size_t s = hash_task(ts->rows[i].pid, ts->rows[i].comm) & (n - 1);

		while (ts->slots[s])
			s = (s + 1) & (n - 1);
		ts->slots[s] = (uint32_t)i + 1;
	}
}

static void task_see(struct task_set *ts, int32_t pid, const char *comm, uint64_t t)
{
	uint32_t *c = &ts->cache[(uint32_t)pid & (TASK_CACHE - 1)];
	size_t s;

	if (pid < 0 || !comm[0])
		return;
	/* the rows' comms are NUL-padded: equal bytes are the same (pid, comm) */
	if (*c && ts->rows[*c - 1].pid == pid && !memcmp(ts->rows[*c - 1].comm, comm, DS_COMM_LEN))
		return;
	if ((ts->nr + 1) * 2 > ts->nslots)
		task_set_grow(ts);
	s = hash_task(pid, comm) & (ts->nslots - 1);
	while (ts->slots[s]) {
		struct ds_task *r = &ts->rows[ts->slots[s] - 1];

		if (r->pid == pid && !strncmp(r->comm, comm, DS_COMM_LEN)) {
			*c = ts->slots[s];
			return;
		}
		s = (s + 1) & (ts->nslots - 1);
	}
	ALLOC_GROW(ts->rows, ts->nr + 1, ts->alloc);
	memset(&ts->rows[ts->nr], 0, sizeof(ts->rows[0]));
	ts->rows[ts->nr].pid = pid;
	ts->rows[ts->nr].tgid = -1;
	ts->rows[ts->nr].first_ts = t;
	memcpy(ts->rows[ts->nr].comm, comm, strnlen(comm, DS_COMM_LEN));	/* NUL-padded */
	ts->slots[s] = (uint32_t)++ts->nr;
	*c = ts->slots[s];
}

static void tgid_set(struct task_set *ts, int32_t pid, int32_t tgid)
{
	size_t s;

	if ((ts->tg_nr + 1) * 2 > ts->tg_slots) {
		size_t n = ts->tg_slots ? ts->tg_slots * 2 : 1024;
		int32_t *np = xmallocarray(n, sizeof(int32_t)), *nt = xmallocarray(n, sizeof(int32_t));

		for (size_t i = 0; i < n; i++)
			np[i] = -1;
		for (size_t i = 0; i < ts->tg_slots; i++) {
			if (ts->tg_pid[i] < 0)
				continue;
			s = ((uint32_t)ts->tg_pid[i] * 2654435761u) & (n - 1);
			while (np[s] >= 0)
				s = (s + 1) & (n - 1);
			np[s] = ts->tg_pid[i];
			nt[s] = ts->tg_tgid[i];
		}
		free(ts->tg_pid);
		free(ts->tg_tgid);
		ts->tg_pid = np;
		ts->tg_tgid = nt;
		ts->tg_slots = n;
	}
	s = ((uint32_t)pid * 2654435761u) & (ts->tg_slots - 1);
	while (ts->tg_pid[s] >= 0 && ts->tg_pid[s] != pid)
		s = (s + 1) & (ts->tg_slots - 1);
	if (ts->tg_pid[s] < 0)
		ts->tg_nr++;
	ts->tg_pid[s] = pid;
	ts->tg_tgid[s] = tgid;
}

static int32_t tgid_get(const struct task_set *ts, int32_t pid)
{
	size_t s;

	if (!ts->tg_slots)
		return -1;
	s = ((uint32_t)pid * 2654435761u) & (ts->tg_slots - 1);
	while (ts->tg_pid[s] >= 0) {
		if (ts->tg_pid[s] == pid)
			return ts->tg_tgid[s];
		s = (s + 1) & (ts->tg_slots - 1);
	}
	return -1;
}

static void task_set_release(struct task_set *ts)
{
	free(ts->rows);
	free(ts->slots);
	free(ts->tg_pid);
	free(ts->tg_tgid);
	memset(ts, 0, sizeof(*ts));
}

/* ---- writer ---------------------------------------------------------------- */

struct heap_item {
	struct ds_event ev;
	uint64_t seq;		/* arrival order: keeps equal timestamps stable */
};

/*
 * The reorder window holds the last DS_REORDER_WINDOW events in two parts:
 * a FIFO ring of the events that arrived in timestamp order (each no older
 * than the ring's tail), and a min-heap of the stragglers that arrived
 * behind it.  Input that is already merged (trace.dat, text, the capture
 * session) costs O(1) an event, and any input at most O(log n): unlike an
 * insertion-sorted buffer, no crafted order can make the writer quadratic.
 * The oldest event is the smaller of the ring's head and the heap's top,
 * ordered by (ts, arrival).
 */
struct ds_trace_writer {
	struct ds_file *f;
	struct ds_table *events;	/* created by the first event out of the window */
	struct ds_trace_meta meta;
	uint64_t *lost;
	int lost_cpus;

	struct heap_item *ring;	/* DS_REORDER_WINDOW slots, a power of two */
	size_t ring_head, ring_nr;
	struct heap_item *heap;	/* DS_REORDER_WINDOW slots */
	size_t heap_nr;
	uint64_t seq;

	uint64_t rows;		/* out of the window, into the table */
	uint64_t first_ts;	/* of the first of them */
	uint64_t last_ts;	/* of the last of them */
	int failed;
	int level;		/* deflate level of the events table, 0: none */

	struct task_set tasks;

	/* kept apart from what the events update, merged at close (see background) */
	uint64_t *lost_added;	/* ds_trace_add_lost(), lost_added_cpus entries */
	int lost_added_cpus;
	struct ds_trace_meta meta_new;	/* ds_trace_meta_update(), if has_meta_new */
	int has_meta_new;

	struct trace_bg *bg;	/* ds_trace_set_background(): the writing thread */
};

static int item_less(const struct heap_item *a, const struct heap_item *b)
{
	return a->ev.ts < b->ev.ts || (a->ev.ts == b->ev.ts && a->seq < b->seq);
}

static struct heap_item *ring_at(struct ds_trace_writer *w, size_t i)
{
	return &w->ring[(w->ring_head + i) & (DS_REORDER_WINDOW - 1)];
}

static size_t window_nr(const struct ds_trace_writer *w)
{
	return w->ring_nr + w->heap_nr;
}

static void heap_push(struct ds_trace_writer *w, const struct heap_item *it)
{
	size_t i = w->heap_nr++;

	while (i) {
		size_t p = (i - 1) / 2;

		if (!item_less(it, &w->heap[p]))
			break;
		w->heap[i] = w->heap[p];
		i = p;
	}
	w->heap[i] = *it;
}

static void heap_pop(struct ds_trace_writer *w)
{
	size_t i = 0, n = --w->heap_nr;
	struct heap_item last = w->heap[n];

	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m;

		if (l >= n)
			break;
		m = (r < n && item_less(&w->heap[r], &w->heap[l])) ? r : l;
		if (!item_less(&w->heap[m], &last))
			break;
		w->heap[i] = w->heap[m];
		i = m;
	}
	w->heap[i] = last;
}

static void window_push(struct ds_trace_writer *w, const struct ds_event *ev)
{
	struct heap_item *it;

	if (!w->ring_nr || ev->ts >= ring_at(w, w->ring_nr - 1)->ev.ts) {
		it = ring_at(w, w->ring_nr++);
		it->ev = *ev;
		it->seq = w->seq++;
	} else {
		struct heap_item tmp = { .ev = *ev, .seq = w->seq++ };

		heap_push(w, &tmp);
	}
}

/* window_pop - take the oldest event (the window is not empty) */
static void window_pop(struct ds_trace_writer *w, struct ds_event *out)
{
	if (w->heap_nr && (!w->ring_nr || item_less(&w->heap[0], ring_at(w, 0)))) {
		*out = w->heap[0].ev;
		heap_pop(w);
	} else {
		*out = ring_at(w, 0)->ev;
		w->ring_head = (w->ring_head + 1) & (DS_REORDER_WINDOW - 1);
		w->ring_nr--;
	}
}

static void grow_lost(struct ds_trace_writer *w, int cpu)
{
	if (cpu < w->lost_cpus)
		return;
	w->lost = xreallocarray(w->lost, (size_t)cpu + 1, sizeof(*w->lost));
	memset(w->lost + w->lost_cpus, 0, ((size_t)cpu + 1 - w->lost_cpus) * sizeof(*w->lost));
	w->lost_cpus = cpu + 1;
}

struct ds_trace_writer *ds_trace_create(const char *path, const struct ds_trace_meta *meta)
{
	struct ds_trace_writer *w;

	if (meta->nr_cpus <= 0 || meta->nr_cpus > DS_MAX_CPUS) {
		error("cannot write '%s': invalid number of CPUs %d", path, meta->nr_cpus);
		return NULL;
	}
	w = xcalloc(1, sizeof(*w));
	w->f = ds_create(path, DS_TRACE_FORMAT, DS_TRACE_VERSION);
	if (!w->f) {
		free(w);
		return NULL;
	}
	w->meta = *meta;
	grow_lost(w, meta->nr_cpus - 1);
	w->level = DS_TRACE_DEFAULT_COMPRESSION;
	w->ring = xmallocarray(DS_REORDER_WINDOW, sizeof(*w->ring));
	w->heap = xmallocarray(DS_REORDER_WINDOW, sizeof(*w->heap));
	return w;
}

void ds_trace_set_compression(struct ds_trace_writer *w, int level)
{
	if (!w->events)
		w->level = SC_MAX(0, SC_MIN(level, 9));
}

void ds_event_table_spec(struct ds_table_spec *spec)
{
	*spec = event_spec;
}

/*
 * create_events - the events table, created when the first event leaves the
 * reorder window (or at close) so that the compression can still be chosen
 * after create.
 */
static int create_events(struct ds_trace_writer *w)
{
	struct ds_table_spec spec = event_spec;

	spec.deflate = w->level;
	w->events = ds_table_create(w->f, "events", &spec);
	return w->events ? 0 : -1;
}

static void account(struct ds_trace_writer *w, const struct ds_event *ev)
{
	w->meta.count_by_type[ev->type]++;
	switch (ev->type) {
	case DS_EV_SWITCH:
	case DS_EV_FORK:
		task_see(&w->tasks, ev->pid, ev->comm, ev->ts);
		task_see(&w->tasks, ev->next_pid, ev->next_comm, ev->ts);
		break;
	case DS_EV_LOST:
		grow_lost(w, ev->cpu);
		if (ev->state > 0)
			w->lost[ev->cpu] += (uint64_t)ev->state;
		break;
	default:
		task_see(&w->tasks, ev->pid, ev->comm, ev->ts);
	}
}

/* Move the oldest event of the window to the output block. */
static int emit_one(struct ds_trace_writer *w)
{
	struct ds_event ev;

	window_pop(w, &ev);
	if (w->rows && ev.ts < w->last_ts) {
		w->failed = 1;
		return error("cannot write '%s': event at %llu ns arrived more than %d events out of order",
			     ds_path(w->f), (unsigned long long)ev.ts, DS_REORDER_WINDOW);
	}
	if (!w->events && create_events(w))
		return -1;
	if (!w->rows)
		w->first_ts = ev.ts;
	w->last_ts = ev.ts;
	account(w, &ev);
	w->rows++;
	return ds_table_append(w->events, &ev, 1);
}

/*
 * Background writing.  Sorting through the reorder window, packing rows and
 * deflate cost a recorder or an importer most of its CPU; with
 * ds_trace_set_background() they run on a thread of the writer's own, and
 * ds_trace_write() only copies the event into a batch.  Full batches go
 * through a FIFO of at most max_batches (the spool), allocated as the thread
 * falls behind and given back to the heap beyond BG_KEEP once it catches up;
 * the caller waits only when the spool is full.  While the thread runs it
 * alone touches the window, the events table (and so HDF5), the counts and
 * the task rows; the caller's other calls touch only what is kept apart for
 * them (the tgid map, lost_added, meta_new), and close joins the thread
 * first.
 */
#define BG_BATCH 4096
#define BG_KEEP 16		/* batches kept allocated while idle; the default spool */

struct bg_batch {
	struct bg_batch *next;
	int n;
	struct ds_event ev[BG_BATCH];
};

struct trace_bg {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a batch queued or freed, or the end */
	struct bg_batch *head, *tail;	/* full, oldest first */
	struct bg_batch *free_list;
	int nr_free;
	struct bg_batch *cur;		/* the caller's, being filled */
	uint64_t nr_allocated;		/* cur, queued and free */
	uint64_t max_batches;		/* the spool's bound: at least BG_KEEP */
	uint64_t nr_queued;
	int done;			/* no more batches; discard: drop what is queued */
	int discard;
	int failed;			/* a write of the thread failed (printed) */
	/* the caller's alone (ds_trace_spool_stats) */
	uint64_t peak_queued, waits, wait_ns;
};

static int write_now(struct ds_trace_writer *w, const struct ds_event *ev);

static void *bg_main(void *arg)
{
	struct ds_trace_writer *w = arg;
	struct trace_bg *bg = w->bg;

	pthread_mutex_lock(&bg->lock);
	for (;;) {
		struct bg_batch *b;
		int failed, discard;

		while (!bg->head && !bg->done)
			pthread_cond_wait(&bg->cond, &bg->lock);
		b = bg->head;
		if (!b)
			break;
		failed = bg->failed;
		discard = bg->discard;
		bg->head = b->next;
		if (!bg->head)
			bg->tail = NULL;
		bg->nr_queued--;
		pthread_mutex_unlock(&bg->lock);

		for (int i = 0; i < b->n && !failed && !discard; i++)
			failed = write_now(w, &b->ev[i]) != 0;

		pthread_mutex_lock(&bg->lock);
		bg->failed |= failed;
		if (bg->nr_free >= BG_KEEP) {
			/* the burst is over: its memory goes back */
			bg->nr_allocated--;
			pthread_mutex_unlock(&bg->lock);
			free(b);
			pthread_mutex_lock(&bg->lock);
		} else {
			b->next = bg->free_list;
			bg->free_list = b;
			bg->nr_free++;
		}
		pthread_cond_broadcast(&bg->cond);
	}
	pthread_mutex_unlock(&bg->lock);
	return NULL;
}

static uint64_t bg_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* queue the caller's batch (if any events) and give it an empty one */
static void bg_push(struct trace_bg *bg)
{
	struct bg_batch *b = bg->cur;

	pthread_mutex_lock(&bg->lock);
	if (b && b->n) {
		b->next = NULL;
		if (bg->tail)
			bg->tail->next = b;
		else
			bg->head = b;
		bg->tail = b;
		b = NULL;
		if (++bg->nr_queued > bg->peak_queued)
			bg->peak_queued = bg->nr_queued;
		pthread_cond_broadcast(&bg->cond);
	}
	if (!b) {
		if (!bg->free_list && bg->nr_allocated < bg->max_batches) {
			bg->nr_allocated++;
			pthread_mutex_unlock(&bg->lock);
			b = xmalloc(sizeof(*b));
			pthread_mutex_lock(&bg->lock);
		} else {
			if (!bg->free_list) {
				/* the spool is full: the one wait of the caller */
				uint64_t t0 = bg_now();

				while (!bg->free_list)
					pthread_cond_wait(&bg->cond, &bg->lock);
				bg->waits++;
				bg->wait_ns += bg_now() - t0;
			}
			b = bg->free_list;
			bg->free_list = b->next;
			bg->nr_free--;
		}
	}
	b->n = 0;
	bg->cur = b;
	pthread_mutex_unlock(&bg->lock);
}

void ds_trace_set_background(struct ds_trace_writer *w, uint64_t spool_bytes)
{
	struct trace_bg *bg;
	sigset_t all, old;
	int err;

	if (w->bg || w->failed)
		return;
	bg = xcalloc(1, sizeof(*bg));
	pthread_mutex_init(&bg->lock, NULL);
	pthread_cond_init(&bg->cond, NULL);
	bg->max_batches = SC_MAX((uint64_t)BG_KEEP, spool_bytes / sizeof(struct bg_batch));
	w->bg = bg;
	bg_push(bg);
	/* signals are for the caller's loop, never for this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&bg->thread, NULL, bg_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		/* go on writing in the caller's thread */
		free(bg->cur);
		pthread_cond_destroy(&bg->cond);
		pthread_mutex_destroy(&bg->lock);
		free(bg);
		w->bg = NULL;
	}
}

void ds_trace_spool_stats(const struct ds_trace_writer *w, struct ds_trace_spool_stats *st)
{
	const struct trace_bg *bg = w->bg;

	memset(st, 0, sizeof(*st));
	if (!bg)
		return;
	st->limit_bytes = bg->max_batches * sizeof(struct bg_batch);
	st->peak_bytes = bg->peak_queued * sizeof(struct bg_batch);
	st->waits = bg->waits;
	st->wait_ns = bg->wait_ns;
}

/* bg_stop - write (or with discard drop) what is queued, end the thread */
static void bg_stop(struct ds_trace_writer *w, int discard)
{
	struct trace_bg *bg = w->bg;
	struct bg_batch *b;

	if (!bg)
		return;
	if (!discard && bg->cur->n)
		bg_push(bg);
	pthread_mutex_lock(&bg->lock);
	bg->done = 1;
	bg->discard = discard;
	pthread_cond_broadcast(&bg->cond);
	pthread_mutex_unlock(&bg->lock);
	pthread_join(bg->thread, NULL);
	if (bg->failed)
		w->failed = 1;
	free(bg->cur);
	while ((b = bg->free_list)) {
		bg->free_list = b->next;
		free(b);
	}
	while ((b = bg->head)) {
		bg->head = b->next;
		free(b);
	}
	pthread_cond_destroy(&bg->cond);
	pthread_mutex_destroy(&bg->lock);
	free(bg);
	w->bg = NULL;
}

static int bg_failed(struct trace_bg *bg)
{
	int failed;

	pthread_mutex_lock(&bg->lock);
	failed = bg->failed;
	pthread_mutex_unlock(&bg->lock);
	return failed;
}

static int write_now(struct ds_trace_writer *w, const struct ds_event *ev)
{
	if (w->failed)
		return -1;
	if (window_nr(w) == DS_REORDER_WINDOW && emit_one(w)) {
		w->failed = 1;
		return -1;
	}
	window_push(w, ev);
	return 0;
}

int ds_trace_write(struct ds_trace_writer *w, const struct ds_event *ev)
{
	struct trace_bg *bg = w->bg;

	if (ev->type >= DS_EV_MAX || ev->cpu < 0 || ev->cpu >= DS_MAX_CPUS) {
		if (bg)
			bg_stop(w, 1);
		w->failed = 1;
		return error("cannot write '%s': invalid event (type %d, cpu %d)", ds_path(w->f),
			     ev->type, ev->cpu);
	}
	if (!bg)
		return write_now(w, ev);
	if (bg->cur->n == BG_BATCH) {
		/* an earlier failure shows at the next batch, as soon as the caller can know */
		if (bg_failed(bg))
			return -1;
		bg_push(bg);
	}
	bg->cur->ev[bg->cur->n++] = *ev;
	return 0;
}

void ds_trace_add_lost(struct ds_trace_writer *w, int cpu, uint64_t n)
{
	if (cpu < 0 || cpu >= DS_MAX_CPUS)
		return;
	if (cpu >= w->lost_added_cpus) {
		w->lost_added = xreallocarray(w->lost_added, (size_t)cpu + 1, sizeof(*w->lost_added));
		memset(w->lost_added + w->lost_added_cpus, 0,
		       ((size_t)cpu + 1 - w->lost_added_cpus) * sizeof(*w->lost_added));
		w->lost_added_cpus = cpu + 1;
	}
	w->lost_added[cpu] += n;
}

void ds_trace_set_tgid(struct ds_trace_writer *w, int pid, int tgid)
{
	if (pid >= 0)
		tgid_set(&w->tasks, pid, tgid);
}

void ds_trace_meta_update(struct ds_trace_writer *w, const struct ds_trace_meta *meta)
{
	w->meta_new = *meta;
	w->has_meta_new = 1;
}

/* merge what the caller gave apart from the events (see background) */
static void merge_caller_side(struct ds_trace_writer *w)
{
	if (w->has_meta_new) {
		uint64_t counts[DS_EV_MAX];

		memcpy(counts, w->meta.count_by_type, sizeof(counts));
		w->meta = w->meta_new;
		memcpy(w->meta.count_by_type, counts, sizeof(counts));
		grow_lost(w, w->meta.nr_cpus - 1);
		w->has_meta_new = 0;
	}
	if (w->lost_added_cpus)
		grow_lost(w, w->lost_added_cpus - 1);
	for (int i = 0; i < w->lost_added_cpus; i++)
		w->lost[i] += w->lost_added[i];
	w->lost_added_cpus = 0;
}

static int write_meta(struct ds_trace_writer *w)
{
	struct ds_trace_meta *m = &w->meta;
	struct ds_file *f = w->f;
	struct strbuf ev = STRBUF_INIT;
	uint64_t dim;
	int ret = 0;

	for (int i = 0; i < DS_EV_MAX; i++) {
		if (!(m->events_recorded & DS_EV_BIT(i)))
			continue;
		if (ev.len)
			strbuf_addch(&ev, ',');
		strbuf_addstr(&ev, type_names[i]);
	}
	ret |= ds_attr_set_str(f, NULL, "source", m->source);
	ret |= ds_attr_set_str(f, NULL, "kernel_release", m->kernel_release);
	ret |= ds_attr_set_str(f, NULL, "hostname", m->hostname);
	ret |= ds_attr_set_str(f, NULL, "clock", m->clock);
	ret |= ds_attr_set_int(f, NULL, "nr_cpus", m->nr_cpus);
	ret |= ds_attr_set_int(f, NULL, "start_ns", (int64_t)m->start_ns);
	ret |= ds_attr_set_int(f, NULL, "end_ns", (int64_t)m->end_ns);
	ret |= ds_attr_set_str(f, NULL, "command_line", m->command_line);
	ret |= ds_attr_set_str(f, NULL, "events_recorded", ev.buf);
	ret |= ds_attr_set_int(f, NULL, "nr_events", (int64_t)m->nr_events);
	if (m->decode_errors)
		ret |= ds_attr_set_int(f, NULL, "decode_errors",
				       (int64_t)SC_MIN(m->decode_errors, (uint64_t)INT64_MAX));
	for (int i = 0; i < DS_EV_MAX; i++) {
		char name[64];

		snprintf(name, sizeof(name), "count_%s", type_names[i]);
		ret |= ds_attr_set_int(f, NULL, name, (int64_t)m->count_by_type[i]);
	}
	dim = (uint64_t)m->nr_cpus;
	ret |= ds_write_array(f, "lost_per_cpu", DS_U64, 1, &dim, w->lost);
	strbuf_release(&ev);
	return ret ? -1 : 0;
}

static int write_tasks(struct ds_trace_writer *w)
{
	for (size_t i = 0; i < w->tasks.nr; i++)
		w->tasks.rows[i].tgid = tgid_get(&w->tasks, w->tasks.rows[i].pid);
	return ds_table_write(w->f, "tasks", &task_spec, w->tasks.rows, w->tasks.nr);
}

static void writer_free(struct ds_trace_writer *w)
{
	task_set_release(&w->tasks);
	free(w->ring);
	free(w->heap);
	free(w->lost);
	free(w->lost_added);
	free(w);
}

int ds_trace_writer_close(struct ds_trace_writer *w, struct ds_trace_meta *final_meta)
{
	struct ds_trace_meta *m = &w->meta;
	int ret = 0;

	bg_stop(w, 0);
	if (w->failed) {
		ds_trace_writer_abort(w);
		return -1;
	}
	merge_caller_side(w);
	while (window_nr(w) && !ret)
		ret = emit_one(w);
	if (!ret && !w->events)
		ret = create_events(w);
	if (ds_table_close(w->events))
		ret = -1;
	w->events = NULL;
	m->nr_events = w->rows;
	m->nr_tasks = w->tasks.nr;
	if (w->lost_cpus > m->nr_cpus)
		m->nr_cpus = w->lost_cpus;
	if (!m->start_ns && !m->end_ns && w->rows) {
		m->start_ns = w->first_ts;
		m->end_ns = w->last_ts;
	}
	m->lost_total = 0;
	for (int i = 0; i < m->nr_cpus; i++)
		m->lost_total += w->lost[i];
	m->version = DS_TRACE_VERSION;
	if (!ret)
		ret = write_meta(w);
	if (!ret)
		ret = write_tasks(w);
	if (ret) {
		ds_abort(w->f);
	} else {
		ret = ds_commit(w->f);
		if (!ret && final_meta)
			*final_meta = *m;
	}
	writer_free(w);
	return ret;
}

void ds_trace_writer_abort(struct ds_trace_writer *w)
{
	if (!w)
		return;
	bg_stop(w, 1);
	ds_table_close(w->events);
	ds_abort(w->f);
	writer_free(w);
}

/* ---- reader ---------------------------------------------------------------- */

#define READ_BLOCK 16384

struct ds_trace_reader {
	struct ds_file *f;
	struct ds_table *events;
	struct ds_trace_meta meta;
	uint64_t *lost;
	struct ds_task *tasks;
	uint64_t nr_tasks;

	struct ds_event *block;
	uint64_t block_start, block_nr, pos;	/* pos: next row to return */
	uint64_t last_ts;
};

static int get_str_attr(struct ds_file *f, const char *name, char *out, size_t size)
{
	char *s = NULL;

	if (ds_attr_get_str(f, NULL, name, &s))
		return -1;
	snprintf(out, size, "%s", s);
	free(s);
	return 0;
}

static int read_meta(struct ds_trace_reader *r)
{
	struct ds_trace_meta *m = &r->meta;
	struct ds_file *f = r->f;
	int64_t v;
	char *ev = NULL;

	if (get_str_attr(f, "source", m->source, sizeof(m->source)) ||
	    get_str_attr(f, "kernel_release", m->kernel_release, sizeof(m->kernel_release)) ||
	    get_str_attr(f, "hostname", m->hostname, sizeof(m->hostname)) ||
	    get_str_attr(f, "clock", m->clock, sizeof(m->clock)) ||
	    get_str_attr(f, "command_line", m->command_line, sizeof(m->command_line)))
		return -1;
	if (ds_attr_get_int(f, NULL, "nr_cpus", &v))
		return -1;
	if (v <= 0 || v > DS_MAX_CPUS)
		return error("cannot read '%s': invalid number of CPUs %lld", ds_path(f), (long long)v);
	m->nr_cpus = (int)v;
	if (ds_attr_get_int(f, NULL, "start_ns", &v))
		return -1;
	m->start_ns = (uint64_t)v;
	if (ds_attr_get_int(f, NULL, "end_ns", &v))
		return -1;
	m->end_ns = (uint64_t)v;
	if (m->start_ns > m->end_ns)
		return error("cannot read '%s': start_ns %llu after end_ns %llu", ds_path(f),
			     (unsigned long long)m->start_ns, (unsigned long long)m->end_ns);
	if (ds_attr_get_int(f, NULL, "nr_events", &v))
		return -1;
	if (v < 0)
		return error("cannot read '%s': negative event count %lld", ds_path(f), (long long)v);
	m->nr_events = (uint64_t)v;
	for (int i = 0; i < DS_EV_MAX; i++) {
		char name[64];

		snprintf(name, sizeof(name), "count_%s", type_names[i]);
		if (ds_attr_get_int(f, NULL, name, &v))
			return -1;
		if (v < 0 || (uint64_t)v > m->nr_events)
			return error("cannot read '%s': attribute '%s' is %lld, outside 0..%llu",
				     ds_path(f), name, (long long)v, (unsigned long long)m->nr_events);
		m->count_by_type[i] = (uint64_t)v;
	}
	m->decode_errors = 0;
	if (ds_attr_exists(f, NULL, "decode_errors")) {
		if (ds_attr_get_int(f, NULL, "decode_errors", &v))
			return -1;
		if (v < 0)
			return error("cannot read '%s': negative decode_errors %lld", ds_path(f),
				     (long long)v);
		m->decode_errors = (uint64_t)v;
	}
	if (ds_attr_get_str(f, NULL, "events_recorded", &ev))
		return -1;
	m->events_recorded = 0;
	for (char *tok = strtok(ev, ","); tok; tok = strtok(NULL, ",")) {
		int t = ds_event_type_from_name(tok);

		if (t >= 0)
			m->events_recorded |= DS_EV_BIT(t);
	}
	free(ev);
	return 0;
}

/*
 * lost_per_cpu, read as float64 so that whatever the file stores is seen as
 * it is (HDF5 would turn a NaN into 2^63 in a uint64 read): an integer in
 * 0..DS_MAX_LOST_PER_CPU per CPU.
 */
static int read_lost(struct ds_trace_reader *r)
{
	uint64_t n;
	double *v = NULL;
	int ret = 0;

	if (ds_read_array(r->f, "lost_per_cpu", DS_F64, 1, &n, (void **)&v, DS_MAX_CPUS))
		return -1;
	if ((int)n != r->meta.nr_cpus) {
		free(v);
		return error("cannot read '%s': lost_per_cpu has %llu entries for %d CPUs",
			     ds_path(r->f), (unsigned long long)n, r->meta.nr_cpus);
	}
	r->lost = xcalloc(n ? n : 1, sizeof(*r->lost));
	for (uint64_t i = 0; i < n && !ret; i++) {
		if (!(v[i] >= 0 && v[i] <= (double)DS_MAX_LOST_PER_CPU && v[i] == (uint64_t)v[i]))
			ret = error("cannot read '%s': lost_per_cpu[%llu] = %g, not a count in "
				    "0..2^48", ds_path(r->f), (unsigned long long)i, v[i]);
		else
			r->lost[i] = (uint64_t)v[i];
		r->meta.lost_total += r->lost[i];
	}
	free(v);
	return ret;
}

struct ds_trace_reader *ds_trace_open(const char *path)
{
	struct ds_trace_reader *r = xcalloc(1, sizeof(*r));
	uint64_t dims[1];

	r->f = ds_open(path, DS_TRACE_FORMAT, DS_TRACE_VERSION, &r->meta.version);
	if (!r->f)
		goto fail;
	if (read_meta(r))
		goto fail;
	if (ds_array_dims(r->f, "events", dims, 1) != 1)
		goto fail;
	if (dims[0] != r->meta.nr_events) {
		error("cannot read '%s': events table has %llu rows but the header says %llu",
		      path, (unsigned long long)dims[0], (unsigned long long)r->meta.nr_events);
		goto fail;
	}
	r->events = ds_table_open(r->f, "events", &event_spec, r->meta.nr_events);
	if (!r->events)
		goto fail;
	if (read_lost(r))
		goto fail;
	/* tasks: bounded by what the events could have named */
	if (ds_table_read_all(r->f, "tasks", &task_spec, (void **)&r->tasks, &r->nr_tasks,
			      2 * r->meta.nr_events + 1))
		goto fail;
	r->meta.nr_tasks = r->nr_tasks;
	/* a comm is at most 15 characters: the file's may lack the NUL */
	for (uint64_t i = 0; i < r->nr_tasks; i++)
		r->tasks[i].comm[DS_COMM_LEN - 1] = '\0';
	r->block = xmallocarray(READ_BLOCK, sizeof(*r->block));
	return r;
fail:
	ds_trace_close(r);
	return NULL;
}

const struct ds_trace_meta *ds_trace_meta(const struct ds_trace_reader *r)
{
	return &r->meta;
}

const uint64_t *ds_trace_lost(const struct ds_trace_reader *r)
{
	return r->lost;
}

const struct ds_task *ds_trace_tasks(const struct ds_trace_reader *r, uint64_t *nr)
{
	*nr = r->nr_tasks;
	return r->tasks;
}

static int read_row(struct ds_trace_reader *r, uint64_t row, struct ds_event *ev)
{
	return ds_table_read(r->events, row, 1, ev);
}

int ds_trace_span(struct ds_trace_reader *r, uint64_t *first, uint64_t *last)
{
	struct ds_event ev;

	*first = *last = 0;
	if (!r->meta.nr_events)
		return 0;
	if (read_row(r, 0, &ev))
		return -1;
	*first = ev.ts;
	if (read_row(r, r->meta.nr_events - 1, &ev))
		return -1;
	*last = ev.ts;
	if (*last < *first)
		return error("cannot read '%s': events out of time order (the last is older "
			     "than the first)", ds_path(r->f));
	return 0;
}

static int read_block(struct ds_trace_reader *r)
{
	uint64_t cnt = SC_MIN((uint64_t)READ_BLOCK, r->meta.nr_events - r->pos);
	int ret = ds_table_read(r->events, r->pos, cnt, r->block);

	r->block_start = r->pos;
	r->block_nr = ret ? 0 : cnt;
	return ret;
}

int ds_trace_next(struct ds_trace_reader *r, struct ds_event *ev)
{
	struct ds_event *e;

	if (r->pos >= r->meta.nr_events)
		return 0;
	if (r->pos >= r->block_start + r->block_nr && read_block(r))
		return -1;
	e = &r->block[r->pos - r->block_start];
	if (e->type >= DS_EV_MAX || e->cpu < 0 || e->cpu >= r->meta.nr_cpus)
		return error("cannot read '%s': invalid event at row %llu (type %d, cpu %d)",
			     ds_path(r->f), (unsigned long long)r->pos, e->type, e->cpu);
	if (r->pos && e->ts < r->last_ts)
		return error("cannot read '%s': events out of time order at row %llu",
			     ds_path(r->f), (unsigned long long)r->pos);
	e->comm[DS_COMM_LEN - 1] = '\0';
	e->next_comm[DS_COMM_LEN - 1] = '\0';
	r->last_ts = e->ts;
	*ev = *e;
	r->pos++;
	return 1;
}

void ds_trace_close(struct ds_trace_reader *r)
{
	if (!r)
		return;
	ds_table_close(r->events);
	ds_close(r->f);
	free(r->lost);
	free(r->tasks);
	free(r->block);
	free(r);
}

/* ---- copy ------------------------------------------------------------------ */

int ds_trace_copy_prefix(const char *in, const char *out, uint64_t max_switches,
			 uint64_t *span_ns)
{
	struct ds_trace_reader *r = ds_trace_open(in);
	struct ds_trace_writer *w;
	struct ds_trace_meta meta;
	const struct ds_task *tasks;
	uint64_t switches = 0, first = 0, last = 0, n_tasks;
	struct ds_event ev;
	int got;

	if (!r)
		return -1;
	meta = *ds_trace_meta(r);
	/* the counts are the writer's to make */
	meta.nr_events = meta.nr_tasks = meta.lost_total = 0;
	memset(meta.count_by_type, 0, sizeof(meta.count_by_type));
	w = ds_trace_create(out, &meta);
	if (!w) {
		ds_trace_close(r);
		return -1;
	}
	tasks = ds_trace_tasks(r, &n_tasks);
	for (uint64_t i = 0; i < n_tasks; i++)
		if (tasks[i].tgid >= 0)
			ds_trace_set_tgid(w, tasks[i].pid, tasks[i].tgid);
	while ((got = ds_trace_next(r, &ev)) == 1) {
		if (!switches && !last)
			first = ev.ts;
		if (ds_trace_write(w, &ev))
			goto fail;
		last = ev.ts;
		if (ev.type == DS_EV_SWITCH && ++switches == max_switches)
			break;
	}
	if (got < 0)
		goto fail;
	if (!meta.start_ns || meta.start_ns > first)
		meta.start_ns = first;
	meta.end_ns = last;
	ds_trace_meta_update(w, &meta);
	ds_trace_close(r);
	*span_ns = last > meta.start_ns ? last - meta.start_ns : 0;
	return ds_trace_writer_close(w, NULL);
fail:
	ds_trace_writer_abort(w);
	ds_trace_close(r);
	return -1;
}
