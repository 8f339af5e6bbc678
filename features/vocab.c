// SPDX-License-Identifier: GPL-2.0
/*
 * The sequence-mode vocabulary: task identities (comm, or pid as decimal)
 * to ids, 0 being the unknown-task class.  Counting is bounded by the number
 * of distinct identities, not by events.
 */
#include <stdlib.h>
#include <string.h>

#include "features/features-local.h"

struct vocab_ent {
	char *name;
	uint64_t count, first;
	int32_t id;
};

struct feat_vocab {
	int by_pid, frozen;
	struct vocab_ent *ent;
	size_t nr, alloc;
	uint32_t *slots;	/* index + 1 into ent, 0 = empty */
	size_t nslots;		/* power of two */
	char **names;		/* (n_names) by id */
	uint64_t n_names;
};

static uint32_t hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void rehash(struct feat_vocab *v)
{
	size_t n = v->nslots ? v->nslots * 2 : 256;

	free(v->slots);
	v->slots = xcalloc(n, sizeof(*v->slots));
	v->nslots = n;
	for (size_t i = 0; i < v->nr; i++) {
		size_t s = hash_str(v->ent[i].name) & (n - 1);

		while (v->slots[s])
			s = (s + 1) & (n - 1);
		v->slots[s] = (uint32_t)i + 1;
	}
}

static struct vocab_ent *lookup(const struct feat_vocab *v, const char *name)
{
	size_t s;

	if (!v->nslots)
		return NULL;
	s = hash_str(name) & (v->nslots - 1);
	while (v->slots[s]) {
		struct vocab_ent *e = &v->ent[v->slots[s] - 1];

		if (!strcmp(e->name, name))
			return e;
		s = (s + 1) & (v->nslots - 1);
	}
	return NULL;
}

static struct vocab_ent *insert(struct feat_vocab *v, const char *name)
{
	struct vocab_ent *e = lookup(v, name);
	size_t s;

	if (e)
		return e;
	if ((v->nr + 1) * 2 > v->nslots)
		rehash(v);
	ALLOC_GROW(v->ent, v->nr + 1, v->alloc);
	e = &v->ent[v->nr];
	memset(e, 0, sizeof(*e));
	e->name = xstrdup(name);
	e->first = v->nr;
	s = hash_str(name) & (v->nslots - 1);
	while (v->slots[s])
		s = (s + 1) & (v->nslots - 1);
	v->slots[s] = (uint32_t)++v->nr;
	return e;
}

/* The identity of a task as a string in buf; "" when it has none. */
static const char *identity(const struct feat_vocab *v, int pid, const char *comm, char *buf,
			    size_t size)
{
	if (v->by_pid) {
		if (pid < 0)
			return "";
		snprintf(buf, size, "%d", pid);
		return buf;
	}
	snprintf(buf, size, "%.*s", DS_COMM_LEN - 1, comm ? comm : "");
	return buf;
}

struct feat_vocab *feat_vocab_new(int by_pid)
{
	struct feat_vocab *v = xcalloc(1, sizeof(*v));

	v->by_pid = by_pid;
	return v;
}

void feat_vocab_count(struct feat_vocab *v, int pid, const char *comm)
{
	char buf[32];
	const char *name = identity(v, pid, comm, buf, sizeof(buf));

	if (v->frozen || !name[0])
		return;
	insert(v, name)->count++;
}

static int cmp_freq(const void *a, const void *b)
{
	const struct vocab_ent *x = *(const struct vocab_ent *const *)a;
	const struct vocab_ent *y = *(const struct vocab_ent *const *)b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return (x->first > y->first) - (x->first < y->first);
}

void feat_vocab_freeze(struct feat_vocab *v, uint64_t max_size)
{
	struct vocab_ent **order = xcalloc(v->nr ? v->nr : 1, sizeof(*order));
	uint64_t keep;

	if (v->frozen)
		return;
	for (size_t i = 0; i < v->nr; i++)
		order[i] = &v->ent[i];
	qsort(order, v->nr, sizeof(*order), cmp_freq);
	keep = SC_MIN((uint64_t)v->nr, max_size ? max_size - 1 : 0);
	v->names = xcalloc(keep + 1, sizeof(*v->names));
	v->names[0] = xstrdup(FEAT_VOCAB_UNKNOWN);
	for (uint64_t i = 0; i < keep; i++) {
		order[i]->id = (int32_t)(i + 1);
		v->names[i + 1] = xstrdup(order[i]->name);
	}
	v->n_names = keep + 1;
	v->frozen = 1;
	free(order);
}

int32_t feat_vocab_id(const struct feat_vocab *v, int pid, const char *comm)
{
	char buf[32];
	const struct vocab_ent *e = lookup(v, identity(v, pid, comm, buf, sizeof(buf)));

	return e ? e->id : 0;
}

const char *const *feat_vocab_names(const struct feat_vocab *v, uint64_t *n)
{
	*n = v->n_names;
	return (const char *const *)v->names;
}

void feat_vocab_free(struct feat_vocab *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->nr; i++)
		free(v->ent[i].name);
	free(v->ent);
	free(v->slots);
	for (uint64_t i = 0; i < v->n_names; i++)
		free(v->names[i]);
	free(v->names);
	free(v);
}
