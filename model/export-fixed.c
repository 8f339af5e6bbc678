// SPDX-License-Identifier: GPL-2.0
/*
 * A read-only view of a fixed-point candidates model for code that runs
 * the same integer network elsewhere (the in-kernel predictor of `live
 * --in-kernel` copies it into BPF maps).  Built with -mgeneral-regs-only.
 */
#include "model/model-local.h"

int lstm_model_fixed_view(const struct lstm_model *m, struct lstm_fixed_view *v)
{
	const struct lstm_net *net = &m->net;

	if (net->sh.mode != DS_WIN_CANDIDATES || net->sh.arith != LSTM_FIXED || !m->wq)
		return -1;
	v->sh = &net->sh;
	v->wx = m->wq + net->off[LT_WX];
	v->wh = m->wq + net->off[LT_WH];
	v->b = m->wq + net->off[LT_B];
	v->w1 = m->wq + net->off[LT_W1];
	v->b1 = m->wq + net->off[LT_B1];
	v->w2 = m->wq + net->off[LT_W2];
	v->wl = m->wq + net->off[LT_WL];
	v->norm_n = m->norm.n;
	v->norm_mu = m->norm.mu;
	v->norm_inv = m->norm.inv;
	v->sigmoid_tab = fx_sigmoid_tab;
	v->tanh_tab = fx_tanh_tab;
	v->ep_names = m->ep_names;
	v->state_names = m->state_names;
	v->ep_frac = m->ep_frac;
	v->state_frac = m->state_frac;
	return 0;
}

void lstm_encode_fixed(const struct lstm_model *m, const int16_t *window, int16_t *h)
{
	fx_encode_raw(m, window, h);
}
