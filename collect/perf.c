// SPDX-License-Identifier: GPL-2.0
/*
 * collect/perf.c - the perf backend: perf_event_open(2) on the sched
 * tracepoints (PERF_TYPE_TRACEPOINT, config = the tracepoint id from
 * tracefs), one event per (CPU, tracepoint), all of a CPU's events writing
 * into one mmap ring (PERF_EVENT_IOC_SET_OUTPUT) so that the ring holds that
 * CPU's events in order.  The raw sample is the same record trace_pipe_raw
 * gives, so decoding is shared (collect/decode.c).
 *
 * libperf is not packaged in Debian 12; the system call is the stable ABI.
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <traceevent/event-parse.h>
#include <tracefs/tracefs.h>

#include "common/common.h"
#include "collect/collect-local.h"

struct perf_cpu {
	int fds[DS_EV_LOST];	/* -1 when not opened; fds[leader] owns the ring */
	int leader;		/* index in fds of the group leader, -1 none */
	void *base;		/* the mmap: control page + data */
	size_t mmap_len;
	char *data;
	uint64_t data_size;	/* power of two */
};

struct perf {
	struct perf_cpu *cpu;	/* nr_cpus entries */
	struct pollfd *pfd;
	int npfd;
	char *tmp;		/* a record that wraps around the ring end */
	size_t tmp_size;
};

/* The layout sample_type = TID | TIME | CPU | RAW gives a PERF_RECORD_SAMPLE. */
#define SAMPLE_TYPE (PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CPU | PERF_SAMPLE_RAW)

/* sample_id_all trailer of non-sample records, in sample_type order */
struct sample_id {
	uint32_t pid, tid;
	uint64_t time;
	uint32_t cpu, res;
};

static int sys_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu, int group_fd,
			       unsigned long flags)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, group_fd, flags);
}

static int paranoid_level(void)
{
	FILE *fp = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
	int v = 99;

	if (fp) {
		if (fscanf(fp, "%d", &v) != 1)
			v = 99;
		fclose(fp);
	}
	return v;
}

static int open_error(int cpu, const char *name, int err)
{
	errno = err;
	if (err == EACCES || err == EPERM)
		return error("recording with perf needs root or CAP_PERFMON "
			     "(kernel.perf_event_paranoid is %d)", paranoid_level());
	if (err == ENOENT || err == ENODEV || err == EOPNOTSUPP)
		return error("perf_event_open cannot trace sched/%s on this kernel: %s", name,
			     strerror(err));
	if (err == EMFILE)
		return error("too many open files for perf events (raise ulimit -n)");
	return error("cannot open perf event sched/%s on cpu%d: %s", name, cpu, strerror(err));
}

/* The ring of one CPU: a control page and 2^n data pages, on the leader's fd. */
static int map_ring(struct perf *p, struct perf_cpu *pc, int cpu, uint64_t pages, long page)
{
	int fd = pc->fds[pc->leader];

	pc->mmap_len = (size_t)((pages + 1) * (uint64_t)page);
	pc->base = mmap(NULL, pc->mmap_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (pc->base == MAP_FAILED) {
		int err = errno;

		pc->base = NULL;
		errno = err;
		if (err == EPERM)
			return error("cannot map a %llu KiB perf ring for cpu%d: over the "
				     "locked-memory limit (kernel.perf_event_mlock_kb; try a smaller "
				     "--buffer-size)",
				     (unsigned long long)(pages * (uint64_t)page / 1024), cpu);
		return error_errno("cannot map the perf ring of cpu%d", cpu);
	}
	pc->data = (char *)pc->base + page;
	pc->data_size = pages * (uint64_t)page;
	p->pfd[p->npfd].fd = fd;
	p->pfd[p->npfd++].events = POLLIN;
	return 0;
}

/*
 * The bytes a PERF_RECORD_SAMPLE of event type t takes in the ring: the
 * header, pid/tid, time, cpu/res, then the raw record with its u32 size,
 * padded to 8.  The raw record's length is its last field's end, plus a
 * comm's worth for a __data_loc string.
 */
static uint64_t sample_bytes(const struct col_session *s, int t)
{
	struct tep_event *e = tep_find_event(s->tep, col_decoder_event_id(s->dec, t));
	struct tep_format_field *lists[2], *f;
	uint64_t end = 0;

	if (!e)
		return 128;
	lists[0] = e->format.common_fields;
	lists[1] = e->format.fields;
	for (int i = 0; i < 2; i++) {
		for (f = lists[i]; f; f = f->next) {
			uint64_t fend = (uint64_t)f->offset + (uint64_t)f->size;

			if (f->flags & TEP_FIELD_IS_DYNAMIC)
				fend += 16;
			end = SC_MAX(end, fend);
		}
	}
	return sizeof(struct perf_event_header) + 8 + 8 + 8 + ((4 + end + 7) & ~7ULL);
}

/* tracepoint_attr - the attributes of event t's tracepoint, the rest zero */
static void tracepoint_attr(struct perf_event_attr *attr, const struct col_session *s, int t)
{
	memset(attr, 0, sizeof(*attr));
	attr->size = sizeof(*attr);
	attr->type = PERF_TYPE_TRACEPOINT;
	attr->config = (uint64_t)col_decoder_event_id(s->dec, t);
}

/*
 * probe_rate - count the chosen events on every captured CPU for
 * COL_RING_PROBE_MS (counters only: nothing is sampled), and size the rings
 * from what they would have written.  A mapped perf ring cannot grow, and
 * its wakeup watermark is fixed when the event is opened, so the size is
 * chosen before anything is opened for recording: the rate is that of the
 * 100 ms before recording starts (a `-- COMMAND` has not started yet).
 */
static int probe_rate(struct col_session *s)
{
	int *fds = xmalloc((size_t)s->nr_cpus * DS_EV_LOST * sizeof(*fds));
	uint64_t *bytes = xcalloc((size_t)s->nr_cpus, sizeof(*bytes));
	uint64_t *events = xcalloc((size_t)s->nr_cpus, sizeof(*events));
	struct timespec ts = { .tv_sec = 0, .tv_nsec = COL_RING_PROBE_MS * NSEC_PER_MSEC };
	uint64_t t0, t1;
	int ret = -1;

	for (int i = 0; i < s->nr_cpus * DS_EV_LOST; i++)
		fds[i] = -1;
	for (int c = 0; c < s->nr_cpus; c++) {
		for (int t = 0; s->cpus[c].active && t < DS_EV_LOST; t++) {
			struct perf_event_attr attr;
			int fd;

			if (!(s->events & DS_EV_BIT(t)))
				continue;
			tracepoint_attr(&attr, s, t);
			attr.disabled = 1;
			fd = sys_perf_event_open(&attr, -1, c, -1, PERF_FLAG_FD_CLOEXEC);
			if (fd < 0) {
				open_error(c, ds_event_type_name(t), errno);
				goto out;
			}
			fds[c * DS_EV_LOST + t] = fd;
		}
	}
	t0 = col_session_now(s);
	for (int i = 0; i < s->nr_cpus * DS_EV_LOST; i++)
		if (fds[i] >= 0 && ioctl(fds[i], PERF_EVENT_IOC_ENABLE, 0)) {
			error_errno("cannot enable the perf counters of cpu%d", i / DS_EV_LOST);
			goto out;
		}
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	for (int i = 0; i < s->nr_cpus * DS_EV_LOST; i++)
		if (fds[i] >= 0)
			ioctl(fds[i], PERF_EVENT_IOC_DISABLE, 0);
	t1 = col_session_now(s);
	for (int i = 0; i < s->nr_cpus * DS_EV_LOST; i++) {
		uint64_t n;

		if (fds[i] < 0)
			continue;
		if (read(fds[i], &n, sizeof(n)) != (ssize_t)sizeof(n)) {
			error_errno("cannot read the perf counter of cpu%d", i / DS_EV_LOST);
			goto out;
		}
		events[i / DS_EV_LOST] += n;
		bytes[i / DS_EV_LOST] += n * sample_bytes(s, i % DS_EV_LOST);
	}
	col_session_choose_ring(s, bytes, events, t1 - t0);
	ret = 0;
out:
	for (int i = 0; i < s->nr_cpus * DS_EV_LOST; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(bytes);
	free(events);
	return ret;
}

static int perf_open(struct col_session *s)
{
	struct perf *p = xcalloc(1, sizeof(*p));
	long page = sysconf(_SC_PAGESIZE);
	uint64_t pages = 1;
	const char *dir;

	s->priv = p;
	p->cpu = xcalloc((size_t)s->nr_cpus, sizeof(*p->cpu));
	p->pfd = xcalloc((size_t)s->nr_cpus, sizeof(*p->pfd));
	for (int c = 0; c < s->nr_cpus; c++) {
		p->cpu[c].leader = -1;
		for (int t = 0; t < DS_EV_LOST; t++)
			p->cpu[c].fds[t] = -1;
	}

	/* The tracepoint ids and formats come from tracefs (read-only use). */
	dir = col_tracing_dir();
	if (!dir)
		return -1;
	/* a tracefs recorder killed with SIGKILL may have left its instance */
	col_remove_stale_instances(dir);
	s->tep = col_sched_formats(dir);
	if (!s->tep) {
		errno = ENOENT;
		return error("cannot read the sched event formats under '%s/events'", dir);
	}
	s->dec = col_decoder_new(s->tep);
	if (!s->dec || col_session_wanted(s))
		return -1;

	if (s->ring.why == COL_RING_PENDING && probe_rate(s))
		return -1;
	/* a power of two pages; within the memory bound when the size was chosen */
	while (pages * (uint64_t)page < s->opts.buffer_size && pages < (1ULL << 20))
		pages <<= 1;
	if (s->ring.why != COL_RING_GIVEN && pages > 1 &&
	    pages * (uint64_t)page > SC_MAX(s->ring.bound, COL_RING_MIN))
		pages >>= 1;
	s->opts.buffer_size = pages * (uint64_t)page;
	s->ring.size = s->opts.buffer_size;

	for (int c = 0; c < s->nr_cpus; c++) {
		struct perf_cpu *pc = &p->cpu[c];

		if (!s->cpus[c].active)
			continue;
		for (int t = 0; t < DS_EV_LOST; t++) {
			struct perf_event_attr attr;
			int fd, group;

			if (!(s->events & DS_EV_BIT(t)))
				continue;
			tracepoint_attr(&attr, s, t);
			attr.sample_period = 1;
			attr.sample_type = SAMPLE_TYPE;
			attr.sample_id_all = 1;		/* a time on PERF_RECORD_LOST */
			attr.use_clockid = 1;		/* the clock of the tracefs backend */
			attr.clockid = CLOCK_MONOTONIC;
			attr.watermark = 1;		/* wake the reader at a quarter full */
			attr.wakeup_watermark = (uint32_t)(pages * (uint64_t)page / 4);
			/* the leader starts disabled and enables the whole group at once */
			attr.disabled = pc->leader < 0;
			group = pc->leader < 0 ? -1 : pc->fds[pc->leader];
			fd = sys_perf_event_open(&attr, -1, c, group, PERF_FLAG_FD_CLOEXEC);
			if (fd < 0)
				return open_error(c, ds_event_type_name(t), errno);
			pc->fds[t] = fd;
			if (pc->leader < 0) {
				pc->leader = t;
				if (map_ring(p, pc, c, pages, page))
					return -1;
			} else if (ioctl(fd, PERF_EVENT_IOC_SET_OUTPUT, pc->fds[pc->leader])) {
				return error_errno("cannot share the perf ring of cpu%d", c);
			}
		}
	}
	return 0;
}

static int group_ioctl(struct col_session *s, unsigned long req, const char *what)
{
	struct perf *p = s->priv;

	for (int c = 0; c < s->nr_cpus; c++) {
		struct perf_cpu *pc = &p->cpu[c];

		if (pc->leader < 0)
			continue;
		if (ioctl(pc->fds[pc->leader], req, PERF_IOC_FLAG_GROUP))
			return error_errno("cannot %s the perf events of cpu%d", what, c);
	}
	return 0;
}

static int perf_start(struct col_session *s)
{
	return group_ioctl(s, PERF_EVENT_IOC_ENABLE, "enable");
}

static int perf_wait(struct col_session *s, int timeout_ms)
{
	struct perf *p = s->priv;

	if (poll(p->pfd, (nfds_t)p->npfd, timeout_ms) < 0 && errno != EINTR)
		return error_errno("cannot wait for perf data");
	return 0;
}

/*
 * Where a gap goes: just after the last event read from the CPU.  The LOST
 * record's own time is when the kernel could write it again, a little after
 * the sample that follows it in the ring, which would put the marker out of
 * order.
 */
static uint64_t lost_ts(const struct col_session *s, int cpu, const struct sample_id *sid)
{
	return s->cpus[cpu].last_ts ? s->cpus[cpu].last_ts : sid->time;
}

static void handle_record(struct col_session *s, int cpu, const struct perf_event_header *h)
{
	const char *body = (const char *)(h + 1);
	size_t len = h->size - sizeof(*h);

	switch (h->type) {
	case PERF_RECORD_SAMPLE: {
		struct tep_record rec = { .cpu = cpu };
		struct ds_event ev;
		uint32_t raw_size, sample_cpu;
		uint64_t time;
		int ret;

		/* u32 pid, tid; u64 time; u32 cpu, res; u32 size; char data[size] */
		if (len < 28) {
			s->decode_errors++;
			return;
		}
		memcpy(&time, body + 8, 8);
		memcpy(&sample_cpu, body + 16, 4);
		memcpy(&raw_size, body + 24, 4);
		if (raw_size > len - 28) {
			s->decode_errors++;
			return;
		}
		rec.ts = time;
		rec.data = (void *)(body + 28);
		rec.size = (int)raw_size;
		ret = col_decode(s->dec, &rec, &ev);
		if (ret > 0)
			col_cpu_push(s, cpu, &ev);
		else if (ret < 0)
			s->decode_errors++;
		(void)sample_cpu;	/* always the ring's CPU: events are per CPU */
		return;
	}
	case PERF_RECORD_LOST: {
		/* u64 id; u64 lost; struct sample_id */
		struct sample_id sid = { 0 };
		uint64_t lost;

		if (len < 16)
			return;
		memcpy(&lost, body + 8, 8);
		if (len >= 16 + sizeof(sid))
			memcpy(&sid, body + 16, sizeof(sid));
		col_cpu_lost(s, cpu, lost_ts(s, cpu, &sid), lost);
		return;
	}
	case PERF_RECORD_LOST_SAMPLES: {
		/* u64 lost; struct sample_id */
		struct sample_id sid = { 0 };
		uint64_t lost;

		if (len < 8)
			return;
		memcpy(&lost, body, 8);
		if (len >= 8 + sizeof(sid))
			memcpy(&sid, body + 8, sizeof(sid));
		col_cpu_lost(s, cpu, lost_ts(s, cpu, &sid), lost);
		return;
	}
	default:
		return;	/* throttling and the like: not produced by period-1 tracepoints */
	}
}

/*
 * The kernel may write again where data_tail has passed: give it back what is
 * decoded every RELEASE_BYTES rather than once the whole ring is read.  A
 * reader preempted in the middle of a full ring (a busy machine) otherwise
 * left the kernel no room for as long as it was away.
 */
#define RELEASE_BYTES (64 * 1024)

static int read_ring(struct col_session *s, struct perf *p, int cpu)
{
	struct perf_cpu *pc = &p->cpu[cpu];
	struct perf_event_mmap_page *pg = pc->base;
	uint64_t head, tail, released, mask = pc->data_size - 1;
	size_t before = s->cpus[cpu].nr;

	head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
	tail = released = pg->data_tail;
	while (tail < head) {
		struct perf_event_header h;
		uint64_t off = tail & mask;
		const struct perf_event_header *rec;

		if (head - tail < sizeof(h))
			break;
		/* the header itself may wrap */
		if (off + sizeof(h) <= pc->data_size) {
			memcpy(&h, pc->data + off, sizeof(h));
		} else {
			size_t first = (size_t)(pc->data_size - off);

			memcpy(&h, pc->data + off, first);
			memcpy((char *)&h + first, pc->data, sizeof(h) - first);
		}
		if (h.size < sizeof(h) || h.size > head - tail) {
			/* a corrupt ring: drop what is left rather than loop */
			s->decode_errors++;
			tail = head;
			break;
		}
		if (off + h.size <= pc->data_size) {
			rec = (const void *)(pc->data + off);
		} else {
			size_t first = (size_t)(pc->data_size - off);

			if (p->tmp_size < h.size) {
				p->tmp = xrealloc(p->tmp, h.size);
				p->tmp_size = h.size;
			}
			memcpy(p->tmp, pc->data + off, first);
			memcpy(p->tmp + first, pc->data, h.size - first);
			rec = (const void *)p->tmp;
		}
		handle_record(s, cpu, rec);
		tail += h.size;
		if (tail - released >= RELEASE_BYTES) {
			/* the records up to tail are copied out (decoded, or into tmp) */
			__atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
			released = tail;
		}
	}
	__atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
	return (int)(s->cpus[cpu].nr - before);
}

static int perf_read(struct col_session *s)
{
	struct perf *p = s->priv;
	int total = 0;

	for (int c = 0; c < s->nr_cpus; c++) {
		if (!p->cpu || !p->cpu[c].base)
			continue;
		total += read_ring(s, p, c);
		/* everything written before the read of data_head is now queued */
		s->cpus[c].drained = 1;
	}
	return total;
}

static int perf_stop(struct col_session *s)
{
	return group_ioctl(s, PERF_EVENT_IOC_DISABLE, "disable");
}

static int perf_close(struct col_session *s)
{
	struct perf *p = s->priv;

	if (!p)
		return 0;
	for (int c = 0; p->cpu && c < s->nr_cpus; c++) {
		struct perf_cpu *pc = &p->cpu[c];

		if (pc->base)
			munmap(pc->base, pc->mmap_len);
		/* members first, the leader (whose ring they write to) last */
		for (int t = 0; t < DS_EV_LOST; t++)
			if (pc->fds[t] >= 0 && t != pc->leader)
				close(pc->fds[t]);
		if (pc->leader >= 0)
			close(pc->fds[pc->leader]);
	}
	tep_free(s->tep);
	s->tep = NULL;
	free(p->cpu);
	free(p->pfd);
	free(p->tmp);
	free(p);
	s->priv = NULL;
	return 0;
}

const struct col_backend_ops col_perf_ops = {
	.source = "live-perf",
	.open = perf_open,
	.start = perf_start,
	.wait = perf_wait,
	.read = perf_read,
	.stop = perf_stop,
	.close = perf_close,
};
