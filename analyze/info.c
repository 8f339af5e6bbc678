// SPDX-License-Identifier: GPL-2.0
/*
 * What each kind of schedcast file holds, as text or one JSON object: the
 * describers behind `schedcast info` (analyze/cmd-info.c), one per file kind,
 * each reading through that kind's public reader in data/ (so a file info
 * shows is one the commands accept, checked the same way).
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"
#include "data/modelfile.h"
#include "data/trace.h"
#include "data/windows.h"
#include "features/features.h"

/* json_head - open the object every file kind's JSON is: its file, format and version */
static void json_head(struct json_writer *jw, struct strbuf *out, const char *path,
		      const char *format, int64_t version)
{
	json_writer_init(jw, out);
	json_object_begin(jw, NULL);
	json_str(jw, "file", path);
	json_str(jw, "format", format);
	json_i64(jw, "version", version);
}

/* ---- trace ----------------------------------------------------------------- */

int ana_info_trace(const char *path, int json, struct strbuf *out)
{
	struct ds_trace_reader *r = ds_trace_open(path);
	const struct ds_trace_meta *m;
	const uint64_t *lost;
	char b1[32];
	uint64_t span;

	if (!r)
		return -1;
	m = ds_trace_meta(r);
	lost = ds_trace_lost(r);
	span = m->end_ns > m->start_ns ? m->end_ns - m->start_ns : 0;
	if (json) {
		struct json_writer jw;

		json_head(&jw, out, path, DS_TRACE_FORMAT, m->version);
		json_str(&jw, "source", m->source);
		json_str(&jw, "kernel_release", m->kernel_release);
		json_str(&jw, "hostname", m->hostname);
		json_str(&jw, "clock", m->clock);
		json_i64(&jw, "nr_cpus", m->nr_cpus);
		json_u64(&jw, "start_ns", m->start_ns);
		json_u64(&jw, "end_ns", m->end_ns);
		json_u64(&jw, "duration_ns", span);
		json_u64(&jw, "events", m->nr_events);
		json_u64(&jw, "tasks", m->nr_tasks);
		json_object_begin(&jw, "events_by_type");
		for (int i = 0; i < DS_EV_MAX; i++)
			json_u64(&jw, ds_event_type_name(i), m->count_by_type[i]);
		json_object_end(&jw);
		json_array_begin(&jw, "events_recorded");
		for (int i = 0; i < DS_EV_MAX; i++)
			if (m->events_recorded & DS_EV_BIT(i))
				json_str(&jw, NULL, ds_event_type_name(i));
		json_array_end(&jw);
		json_u64(&jw, "lost_total", m->lost_total);
		if (m->decode_errors)
			json_u64(&jw, "decode_errors", m->decode_errors);
		json_array_begin(&jw, "lost_per_cpu");
		for (int i = 0; i < m->nr_cpus; i++)
			json_u64(&jw, NULL, lost[i]);
		json_array_end(&jw);
		json_str(&jw, "command_line", m->command_line);
		json_object_end(&jw);
		ds_trace_close(r);
		return 0;
	}
	strbuf_add_safe_line(out, "file:            ", path);
	strbuf_addf(out, "kind:            trace (%s version %d)\n", DS_TRACE_FORMAT, m->version);
	/* what the file says, under the untrusted-string rule: a crafted file's escapes stay text */
	strbuf_add_safe_line(out, "source:          ", m->source);
	strbuf_add_safe_line(out, "kernel:          ",
			     m->kernel_release[0] ? m->kernel_release : "unknown");
	if (m->hostname[0])
		strbuf_add_safe_line(out, "host:            ", m->hostname);
	strbuf_add_safe_line(out, "clock:           ", m->clock[0] ? m->clock : "unknown");
	strbuf_addf(out, "cpus:            %d\n", m->nr_cpus);
	strbuf_addf(out, "time span:       %s (%.6f .. %.6f s)\n",
		    format_duration(b1, sizeof(b1), span), m->start_ns / 1e9, m->end_ns / 1e9);
	strbuf_addf(out, "events:          %llu", (unsigned long long)m->nr_events);
	if (span)
		strbuf_addf(out, " (%.0f/s)", m->nr_events / (span / 1e9));
	strbuf_addch(out, '\n');
	for (int i = 0; i < DS_EV_MAX; i++) {
		int recorded = !!(m->events_recorded & DS_EV_BIT(i));

		if (!m->count_by_type[i] && i == DS_EV_LOST)
			continue;
		strbuf_addf(out, "  %-20s %12llu%s\n", ds_event_type_name(i),
			    (unsigned long long)m->count_by_type[i],
			    recorded || i == DS_EV_LOST ? "" : "  (not recorded)");
	}
	strbuf_addf(out, "tasks:           %llu (pid, comm) pairs\n", (unsigned long long)m->nr_tasks);
	strbuf_addf(out, "lost events:     %llu", (unsigned long long)m->lost_total);
	if (!m->lost_total && m->count_by_type[DS_EV_LOST])
		/* markers whose source did not say how many (state 0, see files(5)) */
		strbuf_addf(out, " counted + %llu marker(s) of unknown size",
			    (unsigned long long)m->count_by_type[DS_EV_LOST]);
	if (m->lost_total) {
		strbuf_addstr(out, " (");
		for (int i = 0, n = 0; i < m->nr_cpus; i++)
			if (lost[i])
				strbuf_addf(out, "%scpu%d: %llu", n++ ? ", " : "", i,
					    (unsigned long long)lost[i]);
		strbuf_addch(out, ')');
	}
	strbuf_addch(out, '\n');
	if (m->decode_errors)
		strbuf_addf(out, "undecodable:     %llu records skipped by the recorder\n",
			    (unsigned long long)m->decode_errors);
	if (m->command_line[0])
		strbuf_add_safe_line(out, "command line:    ", m->command_line);
	ds_trace_close(r);
	return 0;
}

/* ---- windows --------------------------------------------------------------- */

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void describe_feats(struct strbuf *out, struct json_writer *jw, const char *title,
			   char **names, const int8_t *frac, int n)
{
	if (jw) {
		char q[16];

		json_array_begin(jw, title);
		for (int i = 0; i < n; i++) {
			json_object_begin(jw, NULL);
			json_str(jw, "name", names[i]);
			json_i64(jw, "frac", frac[i]);
			snprintf(q, sizeof(q), "Q%d.%d", 15 - frac[i], frac[i]);
			json_str(jw, "format", q);
			json_object_end(jw);
		}
		json_array_end(jw);
		return;
	}
	strbuf_addf(out, "%-17s%d (int16, value = raw / 2^frac)\n", title, n);
	for (int i = 0; i < n; i++) {
		struct strbuf name = STRBUF_INIT;

		strbuf_add_safe(&name, names[i]);
		strbuf_addf(out, "  %-24s Q%d.%d\n", name.buf, 15 - frac[i], frac[i]);
		strbuf_release(&name);
	}
}

int ana_info_windows(const char *path, int json, struct strbuf *out)
{
	struct ds_windows_reader *r = feat_windows_open(path);
	const struct ds_windows *h;
	const struct ds_coverage *cov;
	int seq;

	if (!r)
		return -1;
	h = ds_windows_header(r);
	cov = &h->cov;
	seq = h->mode == DS_WIN_SEQUENCE;
	if (json) {
		struct json_writer jw;

		json_head(&jw, out, path, DS_WINDOWS_FORMAT, h->version);
		json_str(&jw, "mode", seq ? "sequence" : "candidates");
		json_i64(&jw, "K", h->K);
		json_i64(&jw, "E", h->E);
		json_i64(&jw, "S", h->S);
		json_i64(&jw, "W", h->W);
		json_array_begin(&jw, "traces");
		for (int i = 0; i < h->nr_traces; i++)
			json_str(&jw, NULL, h->traces[i]);
		json_array_end(&jw);
		json_u64(&jw, "decisions", cov->decisions);
		json_u64(&jw, "candidates", h->n_cand);
		json_u64(&jw, "covered", cov->covered);
		json_double(&jw, "coverage", pct(cov->covered, cov->decisions) / 100);
		json_u64(&jw, "contested", cov->contested);
		json_double(&jw, "contested_share", pct(cov->contested, cov->decisions) / 100);
		json_u64(&jw, "contested_covered", cov->contested_covered);
		json_double(&jw, "contested_coverage",
			    pct(cov->contested_covered, cov->contested) / 100);
		json_u64(&jw, "inferred_switches", cov->inferred_switches);
		json_u64(&jw, "lost_resets", cov->lost_resets);
		json_u64(&jw, "vocab", h->n_vocab);
		if (seq)
			json_str(&jw, "vocab_by", h->seq_vocab_by_pid ? "pid" : "comm");
		else if (h->version >= 3)
			json_u64(&jw, "events", h->n_events);
		else
			json_u64(&jw, "episodes", h->n_ep);
		json_object_begin(&jw, "split");
		json_u64(&jw, "train", h->n_split[DS_SPLIT_TRAIN]);
		json_u64(&jw, "val", h->n_split[DS_SPLIT_VAL]);
		json_u64(&jw, "test", h->n_split[DS_SPLIT_TEST]);
		json_object_end(&jw);
		json_array_begin(&jw, "cand_hist");
		for (int i = 0; i < DS_CAND_HIST; i++)
			json_u64(&jw, NULL, cov->cand_hist[i]);
		json_array_end(&jw);
		if (!seq) {
			describe_feats(out, &jw, "episode_features", h->ep_names, h->ep_frac, h->E);
			describe_feats(out, &jw, "state_features", h->state_names, h->state_frac,
				       h->S);
		}
		if (h->command_line)
			json_str(&jw, "command_line", h->command_line);
		json_object_end(&jw);
		ds_windows_close(r);
		return 0;
	}
	strbuf_add_safe_line(out, "file:            ", path);
	strbuf_addf(out, "kind:            windows (%s version %d)\n", DS_WINDOWS_FORMAT,
		    h->version);
	if (seq)
		strbuf_addf(out, "mode:            sequence (W=%d, vocabulary %llu by %s, "
			    "incl. unknown)\n", h->W, (unsigned long long)h->n_vocab,
			    h->seq_vocab_by_pid ? "pid" : "comm");
	else
		strbuf_addf(out, "mode:            candidates (K=%d episodes)\n", h->K);
	strbuf_addf(out, "traces:          %d\n", h->nr_traces);
	for (int i = 0; i < h->nr_traces; i++) {
		strbuf_addf(out, "  %d: ", i);
		strbuf_add_safe_line(out, "", h->traces[i]);
	}
	strbuf_addf(out, "decisions:       %llu\n", (unsigned long long)cov->decisions);
	strbuf_addf(out, "split:           train %llu, val %llu, test %llu\n",
		    (unsigned long long)h->n_split[DS_SPLIT_TRAIN],
		    (unsigned long long)h->n_split[DS_SPLIT_VAL],
		    (unsigned long long)h->n_split[DS_SPLIT_TEST]);
	if (seq) {
		strbuf_addf(out, "known picks:     %llu (%.1f%% in the vocabulary)\n",
			    (unsigned long long)cov->covered, pct(cov->covered, cov->decisions));
	} else {
		strbuf_addf(out, "candidates:      %llu\n", (unsigned long long)h->n_cand);
		if (h->version >= 3)
			strbuf_addf(out, "events:          %llu (the features engine's input, "
				    "replayed by readers)\n", (unsigned long long)h->n_events);
		else if (h->version == 2)
			strbuf_addf(out, "episodes:        %llu (each stored once)\n",
				    (unsigned long long)h->n_ep);
		strbuf_addf(out,
			    "coverage:        %.1f%% (%llu of %llu picks among the candidates)\n",
			    pct(cov->covered, cov->decisions), (unsigned long long)cov->covered,
			    (unsigned long long)cov->decisions);
		strbuf_addf(
		    out, "contested:       %.1f%% (%llu with >= 2 candidates), coverage %.1f%%\n",
		    pct(cov->contested, cov->decisions), (unsigned long long)cov->contested,
		    pct(cov->contested_covered, cov->contested));
	}
	strbuf_addf(out, "inferred switches: %llu (repaired from common_pid, not scored)\n",
		    (unsigned long long)cov->inferred_switches);
	strbuf_addf(out, "lost resets:     %llu\n", (unsigned long long)cov->lost_resets);
	if (!seq) {
		strbuf_addstr(out, "candidate count histogram:\n");
		for (int i = 0; i < DS_CAND_HIST; i++) {
			if (!cov->cand_hist[i])
				continue;
			strbuf_addf(out, "  %s%-3d %12llu  %5.1f%%\n",
				    i == DS_CAND_HIST - 1 ? ">=" : "  ", i,
				    (unsigned long long)cov->cand_hist[i],
				    pct(cov->cand_hist[i], cov->decisions));
		}
		describe_feats(out, NULL, "episode features:", h->ep_names, h->ep_frac, h->E);
		describe_feats(out, NULL, "state features:", h->state_names, h->state_frac, h->S);
	}
	if (h->command_line)
		strbuf_add_safe_line(out, "command line:    ", h->command_line);
	ds_windows_close(r);
	return 0;
}

/* ---- model ----------------------------------------------------------------- */

int ana_info_model(const char *path, int json, struct strbuf *out)
{
	struct ds_model *m = ds_model_load(path);
	uint64_t params = 0;
	int seq;

	if (!m)
		return -1;
	seq = m->mode == DS_WIN_SEQUENCE;
	for (int i = 0; i < m->n_tensors; i++)
		params += m->tensors[i].rows * m->tensors[i].cols;
	if (json) {
		struct json_writer jw;
		char dg[17];

		json_head(&jw, out, path, DS_MODEL_FORMAT, m->version);
		json_str(&jw, "arith", m->arith);
		json_str(&jw, "mode", seq ? "sequence" : "candidates");
		if (!seq)
			json_str(&jw, "encoder", m->stateful ? "stateful" : "window");
		json_i64(&jw, "K", m->K);
		json_i64(&jw, "E", m->E);
		json_i64(&jw, "S", m->S);
		json_i64(&jw, "W", m->W);
		json_i64(&jw, "V", m->V);
		json_i64(&jw, "D", m->D);
		json_i64(&jw, "H", m->H);
		json_i64(&jw, "R", m->R ? m->R : m->H);
		json_i64(&jw, "M", m->M);
		json_u64(&jw, "parameters", params);
		json_i64(&jw, "epochs", m->epochs);
		json_i64(&jw, "batch", m->batch);
		json_double(&jw, "lr", m->lr);
		json_u64(&jw, "seed", m->seed);
		json_i64(&jw, "threads", m->threads);
		json_i64(&jw, "best_epoch", m->best_epoch);
		json_i64(&jw, "linear_epochs", m->linear_epochs);
		json_double(&jw, "linear_val_top1", m->linear_val_top1);
		json_array_begin(&jw, "ep_features");
		for (int i = 0; i < m->E; i++)
			json_str(&jw, NULL, m->ep_names[i]);
		json_array_end(&jw);
		json_array_begin(&jw, "state_features");
		for (int i = 0; i < m->S; i++)
			json_str(&jw, NULL, m->state_names[i]);
		json_array_end(&jw);
		json_object_begin(&jw, "tensors");
		for (int i = 0; i < m->n_tensors; i++) {
			json_object_begin(&jw, m->tensors[i].name);
			json_array_begin(&jw, "shape");
			json_u64(&jw, NULL, m->tensors[i].rows);
			json_u64(&jw, NULL, m->tensors[i].cols);
			json_array_end(&jw);
			json_str(&jw, "q", m->tensors[i].q);
			json_object_end(&jw);
		}
		json_object_end(&jw);
		json_array_begin(&jw, "train_loss");
		for (int i = 0; i < m->n_curve; i++)
			json_double(&jw, NULL, m->train_loss[i]);
		json_array_end(&jw);
		json_array_begin(&jw, "val_top1");
		for (int i = 0; i < m->n_curve; i++)
			json_double(&jw, NULL, m->val_top1[i]);
		json_array_end(&jw);
		json_i64(&jw, "checkpoint_epoch", m->has_ckpt ? m->ckpt_epoch : 0);
		snprintf(dg, sizeof(dg), "%016llx", (unsigned long long)ds_model_digest(m));
		json_str(&jw, "digest", dg);
		json_str(&jw, "windows", m->windows);
		json_str(&jw, "command_line", m->command_line);
		json_u64(&jw, "train_decisions", m->train_decisions);
		json_u64(&jw, "val_decisions", m->val_decisions);
		json_array_begin(&jw, "trained_on");
		for (int i = 0; i < m->n_traces; i++) {
			json_object_begin(&jw, NULL);
			json_str(&jw, "trace", m->traces[i]);
			json_u64(&jw, "train_decisions", m->trace_train[i]);
			json_object_end(&jw);
		}
		json_array_end(&jw);
		if (m->init_model && m->init_model[0]) {
			json_object_begin(&jw, "init");
			json_str(&jw, "model", m->init_model);
			json_str(&jw, "windows", m->init_windows ? m->init_windows : "");
			json_double(&jw, "val_top1", m->init_val_top1);
			json_object_end(&jw);
		}
		json_object_end(&jw);
		ds_model_free(m);
		return 0;
	}
	strbuf_add_safe_line(out, "file:            ", path);
	strbuf_addf(out, "kind:            model (%s version %d)\n", DS_MODEL_FORMAT, m->version);
	strbuf_addf(out, "arithmetic:      %s\n", m->arith);
	if (seq)
		strbuf_addf(out, "network:         sequence: W=%d, vocabulary %d, embedding %d, "
			    "LSTM hidden %d\n", m->W, m->V, m->D, m->H);
	else
		strbuf_addf(out, "network:         candidates: K=%d x E=%d, S=%d, LSTM hidden %d, "
			    "head %d\n", m->K, m->E, m->S, m->H, m->M);
	if (m->R && m->R < m->H)
		strbuf_addf(out, "recurrent:       the first %d of the %d hidden units feed the "
			    "gates (lstm/w_h's other columns are zero)\n", m->R, m->H);
	if (!seq && m->stateful)
		strbuf_addf(out, "encoder:         stateful: one step per completed episode of a "
			    "task, (h, c) carried per task (K=%d: the training truncation)\n",
			    m->K);
	else if (!seq)
		strbuf_addf(out, "encoder:         window: %d steps from zero over a candidate's "
			    "last %d episodes\n", m->K, m->K);
	strbuf_addf(out, "parameters:      %llu in %d tensors\n", (unsigned long long)params,
		    m->n_tensors);
	for (int i = 0; i < m->n_tensors; i++)
		strbuf_addf(out, "  %-16s %5llu x %-5llu %s\n", m->tensors[i].name,
			    (unsigned long long)m->tensors[i].rows,
			    (unsigned long long)m->tensors[i].cols, m->tensors[i].q);
	if (!seq) {
		strbuf_addstr(out, "episode features:");
		for (int i = 0; i < m->E; i++) {
			strbuf_addch(out, ' ');
			strbuf_add_safe(out, m->ep_names[i]);
			strbuf_addf(out, "(Q.%d)", m->ep_frac[i]);
		}
		strbuf_addstr(out, "\nstate features:  ");
		for (int i = 0; i < m->S; i++) {
			strbuf_addch(out, ' ');
			strbuf_add_safe(out, m->state_names[i]);
			strbuf_addf(out, "(Q.%d)", m->state_frac[i]);
		}
		strbuf_addch(out, '\n');
	}
	strbuf_addf(out, "training:        %d epochs run (max %d), batch %d, lr %g, seed %llu, "
		    "%d threads\n", m->n_curve, m->epochs, m->batch, m->lr,
		    (unsigned long long)m->seed, m->threads);
	if (m->linear_epochs)
		strbuf_addf(out, "linear stage:    %d epochs, validation top-1 %.2f%%\n",
			    m->linear_epochs, 100.0 * m->linear_val_top1);
	if (m->best_epoch && m->best_epoch <= m->n_curve)
		strbuf_addf(out, "best epoch:      %d (validation top-1 %.2f%%)\n", m->best_epoch,
			    100.0 * m->val_top1[m->best_epoch - 1]);
	else if (m->init_model && m->init_model[0] && m->n_curve)
		strbuf_addstr(out, "best epoch:      none: no epoch beat the initial model, whose "
			      "weights these are\n");
	else if (m->linear_epochs && m->linear_val_top1 >= 0)
		strbuf_addf(out, "best epoch:      0 (the linear stage: no epoch of the LSTM beat "
			    "it, head/w2 is zero)\n");
	for (int i = 0; i < m->n_curve; i++)
		strbuf_addf(out, "  epoch %-4d loss %.4f  val top-1 %.2f%%\n", i + 1,
			    m->train_loss[i], 100.0 * m->val_top1[i]);
	if (m->has_ckpt)
		strbuf_addf(out, "checkpoint:      after epoch %d (step %llu)\n", m->ckpt_epoch,
			    (unsigned long long)m->ckpt_step);
	strbuf_addf(out, "digest:          %016llx (FNV-1a of the weights and checkpoint)\n",
		    (unsigned long long)ds_model_digest(m));
	if (m->windows && m->windows[0])
		strbuf_add_safe_line(out, "windows:         ", m->windows);
	if (m->n_traces) {
		strbuf_addf(out, "trained on:      %llu training + %llu validation decisions from "
			    "%d trace%s\n", (unsigned long long)m->train_decisions,
			    (unsigned long long)m->val_decisions, m->n_traces,
			    m->n_traces > 1 ? "s" : "");
		for (int i = 0; i < m->n_traces; i++) {
			strbuf_addf(out, "  %8llu  ", (unsigned long long)m->trace_train[i]);
			strbuf_add_safe_line(out, "", m->traces[i]);
		}
	}
	if (m->init_model && m->init_model[0]) {
		strbuf_addstr(out, "initial model:   ");
		strbuf_add_safe(out, m->init_model);
		if (m->init_windows && m->init_windows[0]) {
			strbuf_addstr(out, " (trained on ");
			strbuf_add_safe(out, m->init_windows);
			strbuf_addch(out, ')');
		}
		if (m->init_val_top1 >= 0)
			strbuf_addf(out, ", validation top-1 %.2f%% before fine-tuning",
				    100.0 * m->init_val_top1);
		strbuf_addch(out, '\n');
	}
	if (m->command_line && m->command_line[0])
		strbuf_add_safe_line(out, "command line:    ", m->command_line);
	ds_model_free(m);
	return 0;
}
