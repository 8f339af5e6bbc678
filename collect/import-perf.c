// SPDX-License-Identifier: GPL-2.0
/*
 * perf.data through the installed perf: `perf report --header-only` for
 * what was recorded (events, kernel, host, CPUs) and `perf script` with
 * fixed fields and nanosecond times for the events, parsed by the text
 * parser.  perf prints every field of a tracepoint with the kernel's own
 * print fmt (prev_state letters included), so nothing is lost; the
 * "pid/tid" column gives each task's thread group.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collect/import-local.h"
#include "common/common.h"
#include "common/run-command.h"

/* find_in_path - 1 if prog (a name or a path) is an executable we can run */
static int find_in_path(const char *prog)
{
	const char *path = getenv("PATH");
	struct strbuf sb = STRBUF_INIT;
	int found = 0;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	if (!path)
		path = "/usr/bin:/bin";
	while (*path && !found) {
		const char *colon = strchrnul(path, ':');

		strbuf_reset(&sb);
		strbuf_add(&sb, path, (size_t)(colon - path));
		strbuf_addf(&sb, "/%s", prog);
		found = access(sb.buf, X_OK) == 0;
		path = *colon ? colon + 1 : colon;
	}
	strbuf_release(&sb);
	return found;
}

/*
 * struct child - a command whose stdout we read as fp and whose stderr goes
 * to an unlinked temporary file (errfd) for the error message.
 */
struct child {
	struct child_process cp;
	FILE *fp;
	int errfd;
};

static int child_start(struct child *c, char *const argv[])
{
	char tmpl[] = "/tmp/schedcast-perf-err.XXXXXX";

	c->fp = NULL;
	c->errfd = mkostemp(tmpl, O_CLOEXEC);
	if (c->errfd < 0)
		return error_errno("cannot create a temporary file");
	unlink(tmpl);
	child_process_init(&c->cp);
	strvec_pushv(&c->cp.args, (const char *const *)argv);
	c->cp.out_pipe = 1;
	c->cp.err = c->errfd;
	c->cp.default_signals = 1;
	if (start_command(&c->cp)) {
		child_process_clear(&c->cp);
		close(c->errfd);
		return -1;
	}
	c->fp = fdopen(c->cp.out, "r");
	if (!c->fp) {
		int ret = error_errno("cannot read from %s", argv[0]);

		close(c->cp.out);
		kill(c->cp.pid, SIGKILL);
		finish_command(&c->cp);
		close(c->errfd);
		return ret;
	}
	return 0;
}

/*
 * child_finish - reap c.  Returns 0 if it exited with status 0, else -1
 * with the first line of its stderr that says something in msg.
 */
static int child_finish(struct child *c, int kill_it, char *msg, size_t size)
{
	int status;
	FILE *err;
	char line[512];

	if (kill_it)
		kill(c->cp.pid, SIGTERM);
	fclose(c->fp);
	finish_command(&c->cp);
	status = c->cp.status;
	if (WIFSIGNALED(status))
		snprintf(msg, size, "it died of signal %d (%s): truncated or corrupt file?",
			 WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(msg, size, "exit status %d", WEXITSTATUS(status));
	lseek(c->errfd, 0, SEEK_SET);
	err = fdopen(c->errfd, "r");
	if (!err) {
		close(c->errfd);
		return -1;
	}
	while (fgets(line, sizeof(line), err)) {
		size_t n = strcspn(line, "\n");

		line[n] = '\0';
		/* perf's notes about events that have no 'trace' field */
		if (!n || strstr(line, "not valid for") || !strncmp(line, "Warning:", 8) ||
		    WIFSIGNALED(status))
			continue;
		if (strlen(line) > 160)
			line[160] = '\0';
		snprintf(msg, size, "%s", line);
		break;
	}
	fclose(err);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* "# key : value" lines of perf report --header-only */
static const char *header_value(const char *line, const char *key)
{
	size_t kl = strlen(key);

	if (strncmp(line, "# ", 2) || strncmp(line + 2, key, kl))
		return NULL;
	line += 2 + kl;
	while (*line == ' ')
		line++;
	if (*line != ':')
		return NULL;
	line++;
	while (*line == ' ')
		line++;
	return line;
}

static int read_header(const char *perf, const char *path, struct col_sink *s)
{
	char *argv[] = { (char *)perf, "report", "--header-only", "-f", "-i", (char *)path, NULL };
	struct ds_trace_meta *m = &s->meta;
	struct child c;
	char *line = NULL, msg[256];
	size_t alloc = 0;
	ssize_t len;
	const char *v;

	if (child_start(&c, argv))
		return -1;
	while ((len = getline(&line, &alloc, c.fp)) > 0) {
		line[strcspn(line, "\n")] = '\0';
		if ((v = header_value(line, "hostname"))) {
			snprintf(m->hostname, sizeof(m->hostname), "%s", v);
		} else if ((v = header_value(line, "os release"))) {
			snprintf(m->kernel_release, sizeof(m->kernel_release), "%s", v);
		} else if ((v = header_value(line, "nrcpus avail"))) {
			int n = atoi(v);

			if (n > 0 && n <= 8192)
				m->nr_cpus = n;
		} else if ((v = header_value(line, "event"))) {
			/* "name = sched:sched_switch, , id = ..." */
			char name[64];
			int t;

			if (sscanf(v, "name = sched:%63[^, ]", name) == 1 &&
			    (t = ds_event_type_from_name(name)) >= 0 && t != DS_EV_LOST)
				m->events_recorded |= DS_EV_BIT(t);
		} else if ((v = header_value(line, "clockid"))) {
			/* "monotonic (1)": tracefs' names, as live captures use */
			static const char *const names[][2] = {
				{ "monotonic", "mono" }, { "monotonic_raw", "mono_raw" },
				{ "boottime", "boot" },
			};

			sscanf(v, "%31s", m->clock);
			for (size_t i = 0; i < ARRAY_SIZE(names); i++)
				if (!strcmp(m->clock, names[i][0]))
					snprintf(m->clock, sizeof(m->clock), "%s", names[i][1]);
		}
	}
	free(line);
	if (child_finish(&c, 0, msg, sizeof(msg)))
		return error("cannot import '%s': perf cannot read it: %s", s->name, msg);
	return 0;
}

int col_import_perf(const char *path, struct col_sink *s, const struct col_import_opts *opts)
{
	const char *perf = opts->perf ? opts->perf : "perf";
	char *argv[] = { (char *)perf, "script", "-f", "--ns", "--show-lost-events",
			 "-i", (char *)path, "-F", "comm,tid,pid,cpu,time,event,trace", NULL };
	struct col_text_parser p;
	struct ds_event ev;
	struct child c;
	char *line = NULL, msg[256];
	size_t alloc = 0;
	ssize_t len;
	int ret = 0, r;
	uint32_t header_events;

	if (!find_in_path(perf))
		return error("cannot import '%s': reading perf.data needs '%s', which is not installed "
			     "(Debian package linux-perf)", s->name, perf);
	if (read_header(perf, path, s))
		return -1;
	header_events = s->meta.events_recorded;
	if (child_start(&c, argv))
		return -1;
	col_text_parser_init(&p, s->name);
	while ((len = getline(&line, &alloc, c.fp)) > 0) {
		r = col_text_parse_line(&p, line, &ev);
		if (r < 0) {
			ret = -1;
			break;
		}
		if (r == 1) {
			if (ev.type != DS_EV_LOST && p.tgid >= 0 && ev.common_pid > 0)
				ds_trace_set_tgid(s->w, ev.common_pid, p.tgid);
			if (col_sink_write(s, &ev)) {
				ret = -1;
				break;
			}
		}
	}
	free(line);
	if (child_finish(&c, ret != 0, msg, sizeof(msg)) && !ret)
		ret = error("cannot import '%s': perf script failed: %s", s->name, msg);
	if (ret)
		return -1;
	if (!s->nr_events)
		return error("cannot import '%s': no scheduler events in the perf.data", s->name);
	/* the header lists the events perf was asked for; without it, what occurs */
	s->meta.events_recorded = header_events ? header_events : p.seen;
	s->meta.nr_cpus = SC_MAX(s->meta.nr_cpus, p.max_cpu + 1);
	if (!s->meta.clock[0])
		snprintf(s->meta.clock, sizeof(s->meta.clock), "perf");
	snprintf(s->meta.source, sizeof(s->meta.source), "perf.data");
	if (s->stats)
		s->stats->skipped_lines = p.skipped;
	return 0;
}
