// SPDX-License-Identifier: GPL-2.0
/*
 * The trace report in any of its formats: the dispatcher over the renderers
 * (report-text.c, report-json.c, report-csv.c, report-html.c), each of which
 * turns the same struct ana_trace_stats (stats.c) into one format.
 */
#include "analyze/analyze-local.h"
#include "common/common.h"

int ana_report_render(const struct ana_trace_stats *st, const struct ana_eval *e,
		      enum ana_format fmt, uint64_t top, struct strbuf *out)
{
	switch (fmt) {
	case ANA_FMT_TEXT:
		return ana_report_text(st, e, out, top);
	case ANA_FMT_JSON:
		return ana_report_json(st, e, out);
	case ANA_FMT_CSV:
		return ana_report_csv(st, out);
	case ANA_FMT_HTML:
		return ana_report_html(st, e, out, top);
	}
	return error("unknown report format %d", (int)fmt);
}
