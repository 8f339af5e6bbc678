// SPDX-License-Identifier: GPL-2.0
/*
 * A small open-addressing hash map for the evaluator: fixed-size integer
 * keys, a fixed number of double values per key.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze-local.h"
#include "common/common.h"

static uint64_t hash_key(const int32_t *key)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a over the words */

	for (int i = 0; i < ANA_KEY_WORDS; i++) {
		h ^= (uint32_t)key[i];
		h *= 1099511628211ULL;
		h ^= h >> 29;
	}
	return h;
}

struct ana_map *ana_map_new(size_t nvals)
{
	struct ana_map *m = xcalloc(1, sizeof(*m));

	m->nvals = nvals;
	m->size = 64;
	m->keys = xcalloc(m->size * ANA_KEY_WORDS, sizeof(int32_t));
	m->full = xcalloc(m->size, 1);
	m->vals = xcalloc(m->size * nvals, sizeof(double));
	return m;
}

/*
 * A capped map takes its largest size and its pruning scratch at once, and
 * touches the scratch: its memory is then what it will ever be once its
 * table's pages are touched, which takes a few thousand keys, not cap.
 */
struct ana_map *ana_map_new_capped(size_t nvals, size_t cap)
{
	struct ana_map *m = xcalloc(1, sizeof(*m));
	size_t keep;

	m->nvals = nvals;
	m->cap = SC_MAX(cap, (size_t)2);
	keep = m->cap / 2;
	for (m->size = 64; (m->cap + 1) * 2 > m->size; m->size *= 2)
		;
	m->keys = xcalloc(m->size * ANA_KEY_WORDS, sizeof(int32_t));
	m->full = xcalloc(m->size, 1);
	m->vals = xcalloc(m->size * nvals, sizeof(double));
	m->rest = xcalloc(nvals, sizeof(double));
	m->order = xmallocarray(m->cap + 1, sizeof(*m->order));
	m->keep_keys = xmallocarray(keep * ANA_KEY_WORDS + 1, sizeof(int32_t));
	m->keep_vals = xmallocarray(keep * nvals + 1, sizeof(double));
	memset(m->order, 0, (m->cap + 1) * sizeof(*m->order));
	memset(m->keep_keys, 0, (keep * ANA_KEY_WORDS + 1) * sizeof(int32_t));
	memset(m->keep_vals, 0, (keep * nvals + 1) * sizeof(double));
	return m;
}

void ana_map_free(struct ana_map *m)
{
	if (!m)
		return;
	free(m->rest);
	free(m->order);
	free(m->keep_keys);
	free(m->keep_vals);
	free(m->keys);
	free(m->full);
	free(m->vals);
	free(m);
}

static size_t find_slot(const struct ana_map *m, const int32_t *key)
{
	size_t mask = m->size - 1, i = hash_key(key) & mask;

	while (m->full[i] && memcmp(&m->keys[i * ANA_KEY_WORDS], key,
				    ANA_KEY_WORDS * sizeof(int32_t)))
		i = (i + 1) & mask;
	return i;
}

static void grow(struct ana_map *m)
{
	struct ana_map old = *m;

	m->size *= 2;
	m->used = 0;
	m->keys = xcalloc(m->size * ANA_KEY_WORDS, sizeof(int32_t));
	m->full = xcalloc(m->size, 1);
	m->vals = xcalloc(m->size * m->nvals, sizeof(double));
	for (size_t i = 0; i < old.size; i++) {
		size_t j;

		if (!old.full[i])
			continue;
		j = find_slot(m, &old.keys[i * ANA_KEY_WORDS]);
		memcpy(&m->keys[j * ANA_KEY_WORDS], &old.keys[i * ANA_KEY_WORDS],
		       ANA_KEY_WORDS * sizeof(int32_t));
		memcpy(&m->vals[j * m->nvals], &old.vals[i * m->nvals], m->nvals * sizeof(double));
		m->full[j] = 1;
		m->used++;
	}
	free(old.keys);
	free(old.full);
	free(old.vals);
}

/* most valuable first: the first value, then the smaller key */
static int cmp_keep(const void *a, const void *b, void *map)
{
	const struct ana_map *m = map;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	double vx = m->vals[x * m->nvals], vy = m->vals[y * m->nvals];

	if (vx != vy)
		return vx > vy ? -1 : 1;
	return memcmp(&m->keys[x * ANA_KEY_WORDS], &m->keys[y * ANA_KEY_WORDS],
		      ANA_KEY_WORDS * sizeof(int32_t));
}

/*
 * prune - keep the cap/2 most valuable keys, the others' values into rest.
 * In place, through the map's scratch: a live run prunes every cap/2 new
 * keys and its memory must not churn.
 */
static void prune(struct ana_map *m)
{
	size_t n = 0, keep = m->cap / 2;

	for (size_t i = 0; i < m->size && n < m->cap; i++)
		if (m->full[i])
			m->order[n++] = i;
	qsort_r(m->order, n, sizeof(*m->order), cmp_keep, m);
	for (size_t k = 0; k < n; k++) {
		const int32_t *key = &m->keys[m->order[k] * ANA_KEY_WORDS];
		const double *v = &m->vals[m->order[k] * m->nvals];

		if (k < keep) {
			memcpy(&m->keep_keys[k * ANA_KEY_WORDS], key,
			       ANA_KEY_WORDS * sizeof(int32_t));
			memcpy(&m->keep_vals[k * m->nvals], v, m->nvals * sizeof(double));
			continue;
		}
		for (size_t c = 0; c < m->nvals; c++)
			m->rest[c] += v[c];
		m->dropped++;
	}
	memset(m->full, 0, m->size);
	memset(m->keys, 0, m->size * ANA_KEY_WORDS * sizeof(int32_t));
	memset(m->vals, 0, m->size * m->nvals * sizeof(double));
	m->used = 0;
	for (size_t k = 0; k < n && k < keep; k++) {
		size_t j = find_slot(m, &m->keep_keys[k * ANA_KEY_WORDS]);

		memcpy(&m->keys[j * ANA_KEY_WORDS], &m->keep_keys[k * ANA_KEY_WORDS],
		       ANA_KEY_WORDS * sizeof(int32_t));
		memcpy(&m->vals[j * m->nvals], &m->keep_vals[k * m->nvals],
		       m->nvals * sizeof(double));
		m->full[j] = 1;
		m->used++;
	}
}

double *ana_map_get(struct ana_map *m, const int32_t *key, int create)
{
	size_t i = find_slot(m, key);

	if (m->full[i])
		return &m->vals[i * m->nvals];
	if (!create)
		return NULL;
	if (m->cap && m->used >= m->cap) {
		prune(m);
		i = find_slot(m, key);
	}
	if ((m->used + 1) * 2 > m->size) {
		grow(m);
		i = find_slot(m, key);
	}
	memcpy(&m->keys[i * ANA_KEY_WORDS], key, ANA_KEY_WORDS * sizeof(int32_t));
	m->full[i] = 1;
	m->used++;
	return &m->vals[i * m->nvals];
}

long ana_map_next(const struct ana_map *m, size_t *pos)
{
	while (*pos < m->size) {
		size_t i = (*pos)++;

		if (m->full[i])
			return (long)i;
	}
	return -1;
}

void ana_map_key_str(int32_t *key, int words, const char *s)
{
	char buf[4 * ANA_KEY_WORDS] = { 0 };

	strncpy(buf, s, (size_t)words * 4 - 1);
	memcpy(key, buf, (size_t)words * 4);
}

void ana_map_str_key(char *s, size_t size, const int32_t *key, int words)
{
	char buf[4 * ANA_KEY_WORDS + 1] = { 0 };

	memcpy(buf, key, (size_t)words * 4);
	snprintf(s, size, "%s", buf);
}
