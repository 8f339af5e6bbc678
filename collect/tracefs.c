// SPDX-License-Identifier: GPL-2.0
/*
 * collect/tracefs.c - the tracefs backend: a private tracefs instance
 * ("schedcast-<pid>") with only the chosen sched events enabled, its per-CPU
 * trace_pipe_raw read page by page while tracing runs, pages split into
 * records with kbuffer and decoded with the formats of the running kernel.
 *
 * Nothing outside the instance is written: not the top-level buffer, not
 * current_tracer, not the function tracer or ftrace_enabled (sandboxes refuse
 * those, and another user of the top buffer would be disturbed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <traceevent/event-parse.h>
#include <traceevent/kbuffer.h>
#include <tracefs/tracefs.h>

#include "common/common.h"
#include "collect/collect-local.h"

/* Wake the reader when a CPU's ring is this full (percent), besides the poll timeout. */
#define TFS_BUFFER_PERCENT 25

struct tfs {
	struct tracefs_instance *inst;
	int created;			/* we made inst: we remove it */
	struct tracefs_cpu **tcpu;	/* nr_cpus entries, NULL for inactive CPUs */
	struct pollfd *pfd;
	int *pfd_cpu;
	int npfd;
	struct kbuffer *kbuf;
	void *page;
	int subbuf_size;
	int max_pages;			/* pages read per CPU per round */
};

/*
 * Instances named schedcast-<pid> whose process is gone were left by a
 * recorder killed with SIGKILL (nothing else skips our cleanup): remove them
 * so that they do not hold ring buffer memory forever.  Others' instances,
 * and ours of live processes, are left alone.
 */
void col_remove_stale_instances(const char *tracing_dir)
{
	char *path = xstrfmt("%s/instances", tracing_dir);
	DIR *d = opendir(path);
	struct dirent *de;

	free(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct tracefs_instance *inst;
		const char *digits = de->d_name + strlen("schedcast-");
		char *end;
		long pid;

		if (strncmp(de->d_name, "schedcast-", strlen("schedcast-")) || !*digits)
			continue;
		pid = strtol(digits, &end, 10);
		if (*end || pid <= 0 || pid > INT32_MAX || pid == getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		inst = tracefs_instance_alloc(tracing_dir, de->d_name);
		if (!inst)
			continue;
		tracefs_event_disable(inst, NULL, NULL);
		if (tracefs_instance_destroy(inst) == 0)
			warning("removed the tracefs instance '%s' left by a killed recorder",
				de->d_name);
		tracefs_instance_free(inst);
	}
	closedir(d);
}

/* the counts of per_cpu/cpuN/stats that the recorder uses */
struct tfs_stats {
	uint64_t entries, overrun, dropped, bytes;
};

static void read_stats(struct tfs *t, int cpu, struct tfs_stats *st)
{
	char path[64], *buf, *p, *save = NULL;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "per_cpu/cpu%d/stats", cpu);
	buf = tracefs_instance_file_read(t->inst, path, NULL);
	if (!buf)
		return;
	for (p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(p, "entries:", 8))
			st->entries = strtoull(p + 8, NULL, 10);
		else if (!strncmp(p, "overrun:", 8))
			st->overrun = strtoull(p + 8, NULL, 10);
		else if (!strncmp(p, "dropped events:", 15))
			st->dropped = strtoull(p + 15, NULL, 10);
		else if (!strncmp(p, "bytes:", 6))
			st->bytes = strtoull(p + 6, NULL, 10);
	}
	free(buf);
}

static int write_file(struct tfs *t, const char *file, const char *val)
{
	if (tracefs_instance_file_write(t->inst, file, val) < 0)
		return error_errno("cannot write '%s' to %s of tracefs instance '%s'", val, file,
				   tracefs_instance_get_name(t->inst));
	return 0;
}

/*
 * Trace only the chosen CPUs: tracing_cpumask takes the mask in hex, 32-bit
 * words separated by commas, most significant first.
 */
static int set_cpumask(struct col_session *s, struct tfs *t)
{
	struct strbuf sb = STRBUF_INIT;
	int words = (s->nr_cpus + 31) / 32, ret;

	for (int w = words - 1; w >= 0; w--) {
		uint32_t v = (uint32_t)(s->cpu_mask[w / 2] >> (32 * (w % 2)));

		strbuf_addf(&sb, w == words - 1 ? "%x" : ",%08x", v);
	}
	ret = write_file(t, "tracing_cpumask", sb.buf);
	strbuf_release(&sb);
	return ret;
}

/*
 * probe_rate - trace the chosen events in the instance for COL_RING_PROBE_MS
 * with the rings at COL_RING_MIN, see how many bytes each CPU's ring took
 * (stats "bytes", plus what overran at the same bytes an event), size the
 * rings from that (col_session_choose_ring) and empty them again.  Tracing
 * is off before and after: the recording proper starts empty, and the
 * rings are resized while nothing is traced (see struct col_ring_choice).
 */
static int probe_rate(struct col_session *s, struct tfs *t)
{
	uint64_t *bytes = xcalloc((size_t)s->nr_cpus, sizeof(*bytes));
	uint64_t *events = xcalloc((size_t)s->nr_cpus, sizeof(*events));
	struct timespec ts = { .tv_sec = 0, .tv_nsec = COL_RING_PROBE_MS * NSEC_PER_MSEC };
	uint64_t t0, t1;
	int ret = -1;

	t0 = col_session_now(s);
	if (tracefs_trace_on(t->inst) < 0) {
		error_errno("cannot turn tracing on in tracefs instance '%s'", s->instance_name);
		goto out;
	}
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	if (tracefs_trace_off(t->inst) < 0) {
		error_errno("cannot turn tracing off in tracefs instance '%s'", s->instance_name);
		goto out;
	}
	t1 = col_session_now(s);
	for (int c = 0; c < s->nr_cpus; c++) {
		struct tfs_stats st;

		if (!s->cpus[c].active)
			continue;
		read_stats(t, c, &st);
		events[c] = st.entries + st.overrun + st.dropped;
		bytes[c] = st.bytes;
		if (st.entries)
			bytes[c] += (st.overrun + st.dropped) * (st.bytes / st.entries);
	}
	col_session_choose_ring(s, bytes, events, t1 - t0);
	ret = 0;
out:
	free(bytes);
	free(events);
	return ret;
}

static int tfs_open(struct col_session *s)
{
	struct tfs *t = xcalloc(1, sizeof(*t));
	const char *dir;
	long long subbuf_kb = 0;
	char val[32];

	s->priv = t;
	dir = col_tracing_dir();
	if (!dir)
		return -1;
	col_remove_stale_instances(dir);
	if (tracefs_instance_exists(s->instance_name)) {
		errno = EEXIST;
		return error("tracefs instance '%s' already exists", s->instance_name);
	}
	t->inst = tracefs_instance_create(s->instance_name);
	if (!t->inst) {
		int err = errno;

		if (err == EACCES || err == EPERM)
			error("recording needs root: cannot create a tracefs instance in '%s'", dir);
		else
			error_errno("cannot create tracefs instance '%s'", s->instance_name);
		errno = err;
		return -1;
	}
	t->created = 1;

	s->tep = col_sched_formats(dir);
	if (!s->tep) {
		errno = ENOENT;
		return error("cannot read the sched event formats under '%s/events'", dir);
	}
	s->dec = col_decoder_new(s->tep);
	if (!s->dec || col_session_wanted(s))
		return -1;

	/* Nothing runs until start: events on, tracing_on off, then on at once. */
	if (tracefs_trace_off(t->inst) < 0)
		return error_errno("cannot turn tracing off in tracefs instance '%s'",
				   s->instance_name);
	if (write_file(t, "trace_clock", "mono"))
		return -1;
	snprintf(val, sizeof(val), "%llu",
		 (unsigned long long)((s->opts.buffer_size + 1023) / 1024));
	if (write_file(t, "buffer_size_kb", val))
		return -1;
	snprintf(val, sizeof(val), "%d", TFS_BUFFER_PERCENT);
	/* older kernels lack buffer_percent: then the poll timeout alone wakes us */
	tracefs_instance_file_write(t->inst, "buffer_percent", val);
	if (set_cpumask(s, t))
		return -1;
	for (int ty = 0; ty < DS_EV_LOST; ty++) {
		const char *name = ds_event_type_name(ty);

		if (!(s->events & DS_EV_BIT(ty)))
			continue;
		if (tracefs_event_enable(t->inst, "sched", name) < 0)
			return error_errno("cannot enable sched/%s in tracefs instance '%s'", name,
					   s->instance_name);
	}
	if (s->ring.why == COL_RING_PENDING) {
		if (probe_rate(s, t))
			return -1;
		snprintf(val, sizeof(val), "%llu",
			 (unsigned long long)((s->opts.buffer_size + 1023) / 1024));
		if (write_file(t, "buffer_size_kb", val))
			return -1;
		/* what the probe recorded is not part of the recording */
		if (write_file(t, "trace", ""))
			return -1;
	}

	if (tracefs_instance_file_read_number(t->inst, "buffer_subbuf_size_kb", &subbuf_kb) ||
	    subbuf_kb <= 0 || subbuf_kb > 1024)
		t->subbuf_size = (int)sysconf(_SC_PAGESIZE);
	else
		t->subbuf_size = (int)subbuf_kb * 1024;
	t->max_pages = (int)SC_MAX(16, s->opts.buffer_size / (uint64_t)t->subbuf_size);
	t->page = xmalloc((size_t)t->subbuf_size);
	t->kbuf = kbuffer_alloc(KBUFFER_LSIZE_SAME_AS_HOST, KBUFFER_ENDIAN_SAME_AS_HOST);
	if (!t->kbuf)
		return error("cannot allocate a kbuffer");

	t->tcpu = xcalloc((size_t)s->nr_cpus, sizeof(*t->tcpu));
	t->pfd = xcalloc((size_t)s->nr_cpus, sizeof(*t->pfd));
	t->pfd_cpu = xcalloc((size_t)s->nr_cpus, sizeof(*t->pfd_cpu));
	for (int c = 0; c < s->nr_cpus; c++) {
		char path[64];
		int fd;

		if (!s->cpus[c].active)
			continue;
		snprintf(path, sizeof(path), "per_cpu/cpu%d/trace_pipe_raw", c);
		fd = tracefs_instance_file_open(t->inst, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return error_errno("cannot open %s of tracefs instance '%s'", path,
					   s->instance_name);
		t->tcpu[c] = tracefs_cpu_alloc_fd(fd, t->subbuf_size, true);
		if (!t->tcpu[c]) {
			close(fd);
			return error_errno("cannot read %s of tracefs instance '%s'", path,
					   s->instance_name);
		}
		t->pfd[t->npfd].fd = fd;
		t->pfd[t->npfd].events = POLLIN;
		t->pfd_cpu[t->npfd++] = c;
	}
	return 0;
}

static int tfs_start(struct col_session *s)
{
	struct tfs *t = s->priv;

	if (tracefs_trace_on(t->inst) < 0)
		return error_errno("cannot turn tracing on in tracefs instance '%s'",
				   s->instance_name);
	return 0;
}

static int tfs_wait(struct col_session *s, int timeout_ms)
{
	struct tfs *t = s->priv;

	if (poll(t->pfd, (nfds_t)t->npfd, timeout_ms) < 0 && errno != EINTR)
		return error_errno("cannot wait for trace data");
	return 0;
}

/* One page of cpu's ring into its queue. */
static void read_page(struct col_session *s, struct tfs *t, int cpu)
{
	unsigned long long ts;
	int missed, first = 1;
	void *data;

	if (kbuffer_load_subbuffer(t->kbuf, t->page) < 0) {
		s->decode_errors++;
		return;
	}
	missed = kbuffer_missed_events(t->kbuf);
	while ((data = kbuffer_read_event(t->kbuf, &ts))) {
		struct tep_record rec = {
			.ts = ts, .cpu = cpu, .data = data, .size = kbuffer_event_size(t->kbuf),
		};
		struct ds_event ev;
		int ret;

		if (first && missed)
			col_cpu_lost(s, cpu, ts, missed > 0 ? (uint64_t)missed : 0);
		first = 0;
		ret = col_decode(s->dec, &rec, &ev);
		if (ret > 0)
			col_cpu_push(s, cpu, &ev);
		else if (ret < 0)
			s->decode_errors++;
		kbuffer_next_event(t->kbuf, NULL);
	}
}

static int tfs_read(struct col_session *s)
{
	struct tfs *t = s->priv;
	int total = 0;

	for (int c = 0; c < s->nr_cpus; c++) {
		struct col_cpu *cpu = &s->cpus[c];
		/* after stop, empty the ring whatever its size */
		int limit = s->stopped ? INT32_MAX : t->max_pages;

		if (!t->tcpu || !t->tcpu[c])
			continue;
		cpu->drained = 0;
		for (int p = 0; p < limit; p++) {
			size_t before = cpu->nr;
			int ret = tracefs_cpu_read(t->tcpu[c], t->page, true);

			if (ret < 0) {
				if (errno == EINTR)
					continue;
				return error_errno("cannot read the ring of cpu%d", c);
			}
			if (ret == 0) {
				cpu->drained = 1;
				break;
			}
			read_page(s, t, c);
			total += (int)(cpu->nr - before);
		}
	}
	return total;
}

static int tfs_stop(struct col_session *s)
{
	struct tfs *t = s->priv;
	int ret = 0;

	if (tracefs_trace_off(t->inst) < 0)
		ret = error_errno("cannot turn tracing off in tracefs instance '%s'",
				  s->instance_name);
	for (int c = 0; c < s->nr_cpus; c++) {
		struct tfs_stats st;

		if (!s->cpus[c].active)
			continue;
		read_stats(t, c, &st);
		col_cpu_set_lost(s, c, st.overrun + st.dropped);
	}
	return ret;
}

static int tfs_close(struct col_session *s)
{
	struct tfs *t = s->priv;
	int ret = 0;

	if (!t)
		return 0;
	for (int c = 0; t->tcpu && c < s->nr_cpus; c++)
		/* closes the fd: the instance cannot be removed while it is open */
		tracefs_cpu_close(t->tcpu[c]);
	if (t->inst && t->created) {
		tracefs_trace_off(t->inst);
		tracefs_event_disable(t->inst, NULL, NULL);
		if (tracefs_instance_destroy(t->inst) < 0)
			ret = error_errno("cannot remove tracefs instance '%s' (remove it with rmdir "
				    "%s/instances/%s)", s->instance_name,
				    tracefs_instance_get_trace_dir(t->inst), s->instance_name);
	}
	tracefs_instance_free(t->inst);
	if (t->kbuf)
		kbuffer_free(t->kbuf);
	tep_free(s->tep);
	s->tep = NULL;
	free(t->tcpu);
	free(t->pfd);
	free(t->pfd_cpu);
	free(t->page);
	free(t);
	s->priv = NULL;
	return ret;
}

const struct col_backend_ops col_tracefs_ops = {
	.source = "live-tracefs",
	.open = tfs_open,
	.start = tfs_start,
	.wait = tfs_wait,
	.read = tfs_read,
	.stop = tfs_stop,
	.close = tfs_close,
};
