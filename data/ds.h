/* SPDX-License-Identifier: GPL-2.0 */
/*
 * data/ds.h - the storage layer: a small typed container API over HDF5.
 * data/ds.c is the only file that calls HDF5 (scripts/check-layers enforces
 * it); every file format (data/trace.c, data/windows.c, data/modelfile.c) is
 * schema code over these calls: attributes, whole arrays, string lists and
 * chunked tables.
 *
 * Files.  Every file carries two root attributes, "format" (a string such as
 * "schedcast-windows") and "version" (an integer).  ds_open() checks both and
 * refuses a newer version than the reader knows.  A file being written lives
 * under a temporary name in the same directory until ds_commit() renames it
 * into place; ds_abort() (or a failure in ds_commit) removes it, so no path
 * ever holds half a file.
 *
 * Ownership.  struct ds_file is opaque; ds_commit, ds_abort and ds_close free
 * it.  Tables, and nothing else, hold HDF5 objects between calls: close every
 * ds_table before its file: between operations no HDF5 object is open (the
 * unit tests and fuzz targets ask HDF5 for its count of open objects).
 *
 * Errors.  Every call that can fail prints one line naming the file (and the
 * dataset or attribute) and returns -1 or NULL; none exits.  A failed write
 * reports the system's reason ("No space left on device").  Readers check
 * sizes against the caller's limits and against the bytes the file stores
 * before allocating anything, so a damaged header cannot make us allocate
 * what the file does not hold.
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
	DS_STR,		/* table columns only: fixed-size NUL-padded bytes */
};

/* ds_type_size - bytes of one element (DS_STR: 1, a column's len gives the size) */
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
/* String lists (feature names, vocabularies): a 1-D variable-length string set. */
int ds_write_strings(struct ds_file *f, const char *name, const char *const *s, uint64_t n);
/* ds_read_strings - *s is an array of n malloc'd strings (free with ds_free_strings) */
int ds_read_strings(struct ds_file *f, const char *name, char ***s, uint64_t *n,
		    uint64_t max_n);
void ds_free_strings(char **s, uint64_t n);

/* ---- tables: chunked datasets of rows ------------------------------------ */

/*
 * A table is a dataset of shape (rows, inner[0], ...) whose element is either
 * a number of one ds_type or a compound row described by a column list.  The
 * rows grow by appending, are written one chunk at a time (memory bounded by
 * the chunk, never by the table) and are read back by row range.  This is the
 * one place where schedcast's tables meet HDF5: a file format (data/trace.c,
 * data/windows.c) is a list of columns and the attributes around them.
 *
 * Rows in memory are C structs: each column names a member by offset.  In
 * the file a row is either
 *   DS_LAYOUT_PACKED  the columns in list order, little-endian, no padding
 *                     (portable; HDF5 converts each row on write and read), or
 *   DS_LAYOUT_NATIVE  the struct itself, padding included (no conversion on
 *                     write: a recorder's choice; still readable anywhere,
 *                     HDF5 records the layout).
 * Readers match columns by name, so a reader reads a file written with
 * either layout, with columns in any order or extra columns it ignores; a
 * column it asks for and the file lacks is an error naming it.
 */

/* DS_COLUMN(struct S, member, DS_U64) - a column for a scalar member */
#define DS_COLUMN(S, m, t) { .name = #m, .type = (t), .offset = offsetof(S, m) }
/* DS_COLUMN_N - an array member of n elements, or a DS_STR member of n bytes */
#define DS_COLUMN_N(S, m, t, n) { .name = #m, .type = (t), .offset = offsetof(S, m), .len = (n) }

struct ds_column {
	const char *name;
	enum ds_type type;	/* DS_STR: a NUL-padded string of len bytes */
	size_t offset;		/* of the member in the row struct */
	uint32_t len;		/* 0 or 1: one element; n: an array of n (DS_STR: bytes) */
	/*
	 * enum_names: an integer column stored as an HDF5 enum type, value i
	 * named enum_names[i] (NULL-terminated; NULL: a plain integer).  Readers
	 * map enum values by name, and read a plain integer column too (files
	 * written before the column became an enum).
	 */
	const char *const *enum_names;
	/*
	 * attrs: NULL-terminated name, value pairs written as string attributes
	 * "<column>.<name>" of the dataset, e.g. { "units", "ns", NULL } gives
	 * "ts.units" = "ns".  Writers only; read them with ds_attr_get_str().
	 */
	const char *const *attrs;
};

enum ds_layout { DS_LAYOUT_PACKED, DS_LAYOUT_NATIVE };

/*
 * struct ds_table_spec - what a table holds.  The caller owns it and
 * everything it points to, which must outlive the table (usually static).
 */
struct ds_table_spec {
	const struct ds_column *cols;	/* NULL: elements are numbers of `type` */
	size_t ncols;
	size_t row_size;		/* with cols: sizeof the row struct */
	enum ds_type type;		/* without cols (not DS_STR) */
	int rank;			/* 1..4 (0 reads as 1) */
	uint64_t inner[3];		/* dims 2..rank: fixed per table, > 0 */
	int deflate;			/* 0: none; 1..9: deflate (with shuffle) */
	/*
	 * no_shuffle: deflate without the byte shuffle before it.  Whole rows of
	 * mixed fields (the trace's events) come out both smaller and cheaper
	 * without it; numbers of one type side by side gain from it.
	 */
	int no_shuffle;
	uint64_t chunk_rows;		/* rows per chunk; 0: about 256 KiB a chunk */
	/*
	 * column_chunks: rank >= 2, a chunk holds one element of the inner
	 * dims for chunk_rows rows (one feature's values side by side
	 * compress several times better than whole rows); else whole rows.
	 */
	int column_chunks;
	enum ds_layout layout;		/* with cols */
	/*
	 * background: a written table deflates its chunks on a thread of its
	 * own (when more than one CPU is online): the caller only copies each
	 * full chunk and files the ones already deflated.  HDF5 is still
	 * called from the caller's thread only; the file is the same.  For
	 * tables whose deflate is most of their writer's CPU (the windows).
	 */
	int background;
};

/* ds_table_row_bytes - bytes of one row in memory (an element times inner dims) */
size_t ds_table_row_bytes(const struct ds_table_spec *spec);

struct ds_table;

/*
 * ds_table_create - start table name in f (a file being written; groups in
 * name are created).  Column attributes are written now.  Rows are added with
 * ds_table_append() and are in the file once ds_table_close() returns 0.
 * NULL after an error naming the file and the table.
 */
struct ds_table *ds_table_create(struct ds_file *f, const char *name,
				 const struct ds_table_spec *spec);
/*
 * ds_table_append - add n rows (ds_table_row_bytes() each) from rows.
 * Buffered a chunk at a time; 0, or -1 after printing an error (a full disk
 * says so).  After an error the table only accepts ds_table_close().
 */
int ds_table_append(struct ds_table *t, const void *rows, uint64_t n);
/*
 * ds_table_write - a whole table in one call: create, append n rows, close.
 * Its size is fixed, not extendible; without deflate it is stored contiguous.
 */
int ds_table_write(struct ds_file *f, const char *name, const struct ds_table_spec *spec,
		   const void *rows, uint64_t n);

/*
 * ds_table_open - open table name of f for reading, checked against spec:
 * a dataset of that rank and inner dims, holding every column of spec with a
 * convertible type, at most max_rows rows, and as many stored bytes as its
 * rows need (see ds_check_storage in data/ds.c: a damaged header
 * cannot make us allocate or read what the file does not hold).  NULL after
 * a one-line error naming the file and the problem.
 */
struct ds_table *ds_table_open(struct ds_file *f, const char *name,
			       const struct ds_table_spec *spec, uint64_t max_rows);
/* ds_table_rows - rows so far (writing) or in the file (reading) */
uint64_t ds_table_rows(const struct ds_table *t);
/*
 * ds_table_read - rows [start, start+n) into rows (n * ds_table_row_bytes()).
 * 0, or -1 after an error naming the file, the table and the row.
 */
int ds_table_read(struct ds_table *t, uint64_t start, uint64_t n, void *rows);
/*
 * ds_table_read_all - open, read every row into *rows (malloc'd, caller
 * frees; NULL for 0 rows is not used: at least one row is allocated), close.
 */
int ds_table_read_all(struct ds_file *f, const char *name, const struct ds_table_spec *spec,
		      void **rows, uint64_t *n, uint64_t max_rows);
/*
 * ds_table_close - a writer flushes its last rows first: 0 or -1 (printed);
 * the table is freed either way.  NULL is a no-op.  Close every table before
 * ds_commit()/ds_close() of its file.
 */
int ds_table_close(struct ds_table *t);
/*
 * ds_table_discard - free t without writing the rows it still buffers: a
 * writer being abandoned (its file is about to be removed by ds_abort()), so
 * a failure elsewhere costs no further writes or messages.  NULL is a no-op.
 */
void ds_table_discard(struct ds_table *t);

#endif /* SC_DATA_DS_H */
