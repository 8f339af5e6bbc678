// SPDX-License-Identifier: GPL-2.0
/*
 * Atomic outputs: every file is written under a temporary name in the same
 * directory and renamed over its real name only when complete.  Temporaries
 * still registered at exit (an error path, a fatal signal) are unlinked.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"

/* Few outputs are open at once; a small fixed table is signal-safe to walk. */
#define MAX_TMP 16
static char *tmp_names[MAX_TMP];
/* The process that registered them: a forked child that exits must not remove them. */
static pid_t tmp_owner[MAX_TMP];

static void tmp_register(const char *name)
{
	for (int i = 0; i < MAX_TMP; i++) {
		if (!tmp_names[i]) {
			tmp_names[i] = xstrdup(name);
			tmp_owner[i] = getpid();
			return;
		}
	}
}

void sc_tmp_forget(const char *tmp)
{
	for (int i = 0; i < MAX_TMP; i++) {
		if (tmp_names[i] && !strcmp(tmp_names[i], tmp)) {
			free(tmp_names[i]);
			tmp_names[i] = NULL;
		}
	}
}

/* Called from atexit and from signal handlers: unlink only, no allocation. */
void sc_tmp_cleanup(void)
{
	pid_t self = getpid();

	for (int i = 0; i < MAX_TMP; i++)
		if (tmp_names[i] && tmp_owner[i] == self)
			unlink(tmp_names[i]);
}

/*
 * Temporaries of this output left by a schedcast that was killed with
 * SIGKILL (nothing else skips the cleanup): ".NAME.tmp.PID" whose PID no
 * longer exists.  Those of a running process are never touched.
 */
static void remove_stale_tmps(const char *dir, const char *base)
{
	char *prefix = xstrfmt(".%s.tmp.", base);
	size_t plen = strlen(prefix);
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		const char *digits = de->d_name + plen;
		char *end, *stale;
		long pid;

		if (strncmp(de->d_name, prefix, plen) || *digits < '0' || *digits > '9')
			continue;
		errno = 0;
		pid = strtol(digits, &end, 10);
		if (*end || errno || pid <= 0 || pid > INT32_MAX || pid == getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		stale = xstrfmt("%s/%s", dir, de->d_name);
		if (!unlink(stale))
			warning("removed '%s' left by a killed schedcast (pid %ld)", stale, pid);
		free(stale);
	}
	if (d)
		closedir(d);
	free(prefix);
}

char *sc_tmpname(const char *path)
{
	char *d = xstrdup(path), *b = xstrdup(path);
	const char *dir = dirname(d), *base = basename(b);
	char *name = xstrfmt("%s/.%s.tmp.%d", dir, base, (int)getpid());

	remove_stale_tmps(dir, base);
	free(d);
	free(b);
	tmp_register(name);
	return name;
}

int sc_tmp_commit(const char *tmp, const char *path)
{
	if (rename(tmp, path)) {
		int ret = error_errno("cannot rename '%s' to '%s'", tmp, path);

		unlink(tmp);
		sc_tmp_forget(tmp);
		return ret;
	}
	sc_tmp_forget(tmp);
	return 0;
}

void sc_cloexec_all(void)
{
	long max;

	if (!close_range(3, ~0U, CLOSE_RANGE_CLOEXEC))
		return;
	/* kernels before 5.11 */
	max = sysconf(_SC_OPEN_MAX);
	for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++) {
		int fl = fcntl(fd, F_GETFD);

		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
}

int sc_check_output(const char *path, const char *const *inputs, int n)
{
	char *d;
	const char *dir;
	struct stat so, si;
	int ret = 0, have_out;

	if (!path || !strcmp(path, "-"))
		return 0;
	d = xstrdup(path);
	dir = dirname(d);
	have_out = !stat(path, &so);
	if (stat(dir, &si) || !S_ISDIR(si.st_mode))
		ret = error("cannot write '%s': directory does not exist", path);
	else if (have_out && S_ISDIR(so.st_mode))
		ret = error("cannot write '%s': it is a directory", path);
	else if (access(dir, W_OK | X_OK))
		ret = error("cannot write '%s': directory '%s': %s", path, dir, strerror(errno));
	/* Renaming the output over an input would destroy it (links and ./ included). */
	for (int i = 0; !ret && have_out && i < n; i++)
		if (inputs[i] && strcmp(inputs[i], "-") && !stat(inputs[i], &si) &&
		    si.st_dev == so.st_dev && si.st_ino == so.st_ino)
			ret = error("cannot write '%s': it is also the input '%s'", path,
				    inputs[i]);
	free(d);
	return ret;
}

int sc_check_output_dir(const char *path)
{
	return sc_check_output(path, NULL, 0);
}

int sc_outfile_open(struct sc_outfile *of, const char *path)
{
	memset(of, 0, sizeof(*of));
	if (!strcmp(path, "-")) {
		of->fp = stdout;
		return 0;
	}
	if (sc_check_output_dir(path))
		return -1;
	of->path = xstrdup(path);
	of->tmp = sc_tmpname(path);
	of->fp = fopen(of->tmp, "w");
	if (!of->fp) {
		error_errno("cannot create '%s'", path);
		sc_tmp_forget(of->tmp);
		free(of->tmp);
		free(of->path);
		memset(of, 0, sizeof(*of));
		return -1;
	}
	return 0;
}

int sc_outfile_commit(struct sc_outfile *of)
{
	int ret = 0;

	if (!of->fp)
		return -1;
	if (!of->tmp) {
		if (fflush(of->fp) || ferror(of->fp))
			ret = error_errno("write error on standard output");
		of->fp = NULL;
		return ret;
	}
	if (ferror(of->fp) | fclose(of->fp)) {
		ret = error_errno("cannot write '%s'", of->path);
		unlink(of->tmp);
		sc_tmp_forget(of->tmp);
	} else {
		ret = sc_tmp_commit(of->tmp, of->path);
	}
	free(of->tmp);
	free(of->path);
	memset(of, 0, sizeof(*of));
	return ret;
}

void sc_outfile_abort(struct sc_outfile *of)
{
	if (!of->fp)
		return;
	if (of->tmp) {
		fclose(of->fp);
		unlink(of->tmp);
		sc_tmp_forget(of->tmp);
	}
	free(of->tmp);
	free(of->path);
	memset(of, 0, sizeof(*of));
}
