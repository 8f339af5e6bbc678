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

void ana_map_free(struct ana_map *m)
{
	if (!m)
		return;
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

double *ana_map_get(struct ana_map *m, const int32_t *key, int create)
{
	size_t i = find_slot(m, key);

	if (m->full[i])
		return &m->vals[i * m->nvals];
	if (!create)
		return NULL;
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
