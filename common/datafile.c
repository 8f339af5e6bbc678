// SPDX-License-Identifier: GPL-2.0
/*
 * Files shipped with schedcast (sample traces, the general model), found the
 * same way from a build tree and from an installation.  See common.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"

#ifndef SC_DATADIR
#define SC_DATADIR "/usr/local/share/schedcast"
#endif

/* exe_dir - the directory of the running binary (caller frees), NULL if unknown */
static char *exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(buf);
}

char *sc_find_data(const char *kind, const char *name, struct strbuf *tried)
{
	struct strbuf env_name = STRBUF_INIT;
	char *dir = exe_dir(), *try[4] = { NULL }, *found = NULL;
	size_t name_len = strlen(name) + 1;	/* "/NAME" at the end of each try */
	const char *env;

	/* SCHEDCAST_SAMPLES, SCHEDCAST_MODELS */
	strbuf_addstr(&env_name, "SCHEDCAST_");
	for (const char *p = kind; *p; p++)
		strbuf_addch(&env_name, *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
	env = getenv(env_name.buf);
	if (env && *env)
		try[0] = xstrfmt("%s/%s", env, name);
	if (dir) {
		try[1] = xstrfmt("%s/data/%s/%s", dir, kind, name);
		try[2] = xstrfmt("%s/../share/schedcast/%s/%s", dir, kind, name);
	}
	try[3] = xstrfmt("%s/%s/%s", SC_DATADIR, kind, name);
	for (size_t i = 0; i < ARRAY_SIZE(try); i++) {
		if (!try[i])
			continue;
		if (!found && !access(try[i], R_OK)) {
			found = try[i];
			continue;
		}
		if (tried && !found)
			strbuf_addf(tried, "%s%.*s", tried->len ? ", " : "",
				    (int)(strlen(try[i]) - name_len), try[i]);
		free(try[i]);
	}
	free(dir);
	strbuf_release(&env_name);
	return found;
}

/* A model name: letters, digits, '-' and '_' only (no path, no extension). */
static int is_model_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

char *sc_model_path(const char *arg)
{
	struct strbuf tried = STRBUF_INIT;
	char *file, *found;

	if (!is_model_name(arg) || !access(arg, F_OK))
		return xstrdup(arg);
	file = xstrfmt("%s.h5", arg);
	found = sc_find_data("models", file, &tried);
	if (!found) {
		errno = ENOENT;
		error("cannot find the model '%s': no %s in %s (give a path, or set "
		      "SCHEDCAST_MODELS to its directory)", arg, file, tried.buf);
	}
	free(file);
	strbuf_release(&tried);
	return found;
}
