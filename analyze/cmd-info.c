// SPDX-License-Identifier: GPL-2.0
/*
 * schedcast info - what any schedcast file holds.  Dispatches on the file's
 * format attribute to its describer in analyze/info.c.
 */
#include <getopt.h>
#include <string.h>

#include "analyze/analyze.h"
#include "builtin.h"
#include "common/common.h"
#include "data/ds.h"
#include "data/modelfile.h"
#include "data/trace.h"
#include "data/windows.h"

static const char info_usage[] =
	"usage: schedcast info [--json] FILE...\n"
	"\n"
	"Show what a schedcast file (trace, windows or model) holds: its kind and\n"
	"version, counts, time span, CPUs, lost events and how it was made.\n"
	"\n"
	"    -j, --json    one JSON object per file (a JSON array for several files)\n"
	"    -h, --help    show this help\n"
	"\n"
	"EXAMPLES\n"
	"    schedcast info trace.h5\n"
	"    schedcast info --json windows.h5 model.h5\n";

struct describer {
	const char *format;
	int (*describe)(const char *path, int json, struct strbuf *out);
};

static const struct describer describers[] = {
	{ DS_TRACE_FORMAT, ana_info_trace },
	{ DS_WINDOWS_FORMAT, ana_info_windows },
	{ DS_MODEL_FORMAT, ana_info_model },
};

static int describe(const char *path, int json, struct strbuf *out)
{
	char format[128];
	int version;

	if (ds_identify(path, format, sizeof(format), &version))
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(describers); i++)
		if (!strcmp(describers[i].format, format))
			return describers[i].describe(path, json, out);
	return error("cannot describe '%s': unknown schedcast format '%s'", path, format);
}

int cmd_info(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct strbuf out = STRBUF_INIT;
	struct json_writer jw;
	int json = 0, c, status = 0;

	while ((c = getopt_long(argc, argv, "jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'h':
			return sc_usage(info_usage, 0);
		default:
			return sc_usage(info_usage, 1);
		}
	}
	if (optind >= argc) {
		error("no file given");
		return sc_usage(info_usage, 1);
	}
	json_writer_init(&jw, &out);
	if (json && argc - optind > 1)
		json_array_begin(&jw, NULL);
	for (int i = optind; i < argc; i++) {
		struct strbuf one = STRBUF_INIT;

		if (describe(argv[i], json, &one)) {
			status = 1;
		} else if (json) {
			json_raw(&jw, NULL, one.buf);
		} else {
			if (out.len)
				strbuf_addch(&out, '\n');
			strbuf_add(&out, one.buf, one.len);
		}
		strbuf_release(&one);
	}
	if (json && argc - optind > 1)
		json_array_end(&jw);
	if (json && out.len)
		strbuf_addch(&out, '\n');
	fputs(out.buf, stdout);
	strbuf_release(&out);
	return status;
}
