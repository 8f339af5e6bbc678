/* SPDX-License-Identifier: GPL-2.0 */
/*
 * data/ds.h - a small typed container API over HDF5, used by every schedcast
 * file format (trace, windows, model).  Only data/ includes hdf5.h; the rest
 * of the tree sees struct ds_file and these calls.
 *
 * Every file carries two root attributes, "format" (a string such as
 * "schedcast-windows") and "version" (an integer).  ds_open() checks both and
 * refuses a newer version than the reader knows.
 *
 * Names may contain '/': intermediate groups are created as needed.
 * obj arguments name the object that holds an attribute: NULL or "/" for the
 * root, else a dataset or group path.
 */
#ifndef SC_DATA_DS_H
#define SC_DATA_DS_H

#include <stddef.h>
#include <stdint.h>

enum ds_type {
	DS_I8, DS_U8, DS_I16, DS_U16, DS_I32, DS_U32, DS_I64, DS_U64, DS_F32, DS_F64,
};

size_t ds_type_size(enum ds_type t);

struct ds_file;

/*
 * ds_create - create path through a temporary name (nothing appears at path
 * until ds_commit()).  Writes the format and version attributes.  NULL after
 * an error message naming path.
 */
struct ds_file *ds_create(const char *path, const char *format, int version);
/* ds_commit - close and rename into place; frees f.  0 or -1 (printed) */
int ds_commit(struct ds_file *f);
/* ds_abort - close, remove the temporary; frees f (NULL is a no-op) */
void ds_abort(struct ds_file *f);

/*
 * ds_open - open path read-only and check it is format at a version in
 * 1..max_version.  *version receives the file's version.  NULL after a
 * one-line error: missing file, not HDF5, another kind of schedcast file,
 * a newer version, ...
 */
struct ds_file *ds_open(const char *path, const char *format, int max_version, int *version);
/*
 * ds_identify - the format name and version of any schedcast file without
 * checking which it is (for `schedcast info`).  format gets at most size
 * bytes.  0 or -1 (printed).
 */
int ds_identify(const char *path, char *format, size_t size, int *version);
void ds_close(struct ds_file *f);
const char *ds_path(const struct ds_file *f);
/*
 * ds_open_objects - HDF5 files, groups, datasets, types and attributes still
 * open in this process: 0 between operations, else one leaked (tests, fuzz/).
 */
long ds_open_objects(void);

/* ---- attributes ---------------------------------------------------------- */
int ds_attr_set_int(struct ds_file *f, const char *obj, const char *name, int64_t v);
int ds_attr_set_double(struct ds_file *f, const char *obj, const char *name, double v);
int ds_attr_set_str(struct ds_file *f, const char *obj, const char *name, const char *v);
/* The getters return 0, or -1 with a message naming file and attribute. */
int ds_attr_get_int(struct ds_file *f, const char *obj, const char *name, int64_t *v);
int ds_attr_get_double(struct ds_file *f, const char *obj, const char *name, double *v);
/* ds_attr_get_str - caller frees *v */
int ds_attr_get_str(struct ds_file *f, const char *obj, const char *name, char **v);
/* ds_attr_exists - 1, 0 */
int ds_attr_exists(struct ds_file *f, const char *obj, const char *name);
int ds_exists(struct ds_file *f, const char *name);

/* ---- whole arrays -------------------------------------------------------- */

/*
 * ds_write_array - write a rank-1..4 array of type t as dataset name
 * (chunked and deflated when large).
 */
int ds_write_array(struct ds_file *f, const char *name, enum ds_type t, int rank,
		   const uint64_t *dims, const void *data);
/*
 * ds_read_array - read dataset name, which must be of rank `rank` and
 * convertible to t.  dims receives its shape; *data is allocated (caller
 * frees) unless the element count exceeds max_elems, which is an error: the
 * caller states what its input can justify.
 */
int ds_read_array(struct ds_file *f, const char *name, enum ds_type t, int rank,
		  uint64_t *dims, void **data, uint64_t max_elems);
/* ds_array_dims - shape of a dataset; returns its rank or -1 */
int ds_array_dims(struct ds_file *f, const char *name, uint64_t *dims, int max_rank);
/* ds_read_rows - rows [start, start+n) of a rank-1 or rank-2 dataset into buf */
int ds_read_rows(struct ds_file *f, const char *name, enum ds_type t, uint64_t start,
		 uint64_t n, void *buf);

/* String lists (feature names, vocabularies): a 1-D variable-length string set. */
int ds_write_strings(struct ds_file *f, const char *name, const char *const *s, uint64_t n);
/* ds_read_strings - *s is an array of n malloc'd strings (free with ds_free_strings) */
int ds_read_strings(struct ds_file *f, const char *name, char ***s, uint64_t *n,
		    uint64_t max_n);
void ds_free_strings(char **s, uint64_t n);

/* ---- streaming appends (bounded memory) ---------------------------------- */

/*
 * struct ds_appender - grow a dataset of rows of `cols` elements of type t
 * (cols == 0: a rank-1 dataset) by appending; chunked and deflated.
 */
struct ds_appender;
struct ds_appender *ds_appender_open(struct ds_file *f, const char *name, enum ds_type t,
				     uint64_t cols);
int ds_append(struct ds_appender *a, const void *rows, uint64_t n);
uint64_t ds_appender_rows(const struct ds_appender *a);
/* ds_appender_close - flush and free (NULL is a no-op) */
int ds_appender_close(struct ds_appender *a);

#endif /* SC_DATA_DS_H */
