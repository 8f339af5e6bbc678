// SPDX-License-Identifier: GPL-2.0
/*
 * The typed container layer over HDF5: files with a format name and version,
 * attributes, whole arrays, string lists and streaming appends.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>
#include <libdeflate.h>

#include "common/common.h"
#include "data/ds.h"
#include "data/trace.h"

/* ---- private: the only code that speaks HDF5 (scripts/check-layers) ---- */

struct ds_file {
	hid_t fid;
	char *path;
	char *tmp;	/* temporary name while writing, else NULL */
	int writing;
};

static void ds_h5_init(void);
/*
 * ds_h5_errno - the errno HDF5's file driver recorded in the current error
 * stack (a failed write: ENOSPC, EDQUOT, EIO ...), 0 if none; read it right
 * after the failed call, before the next HDF5 call clears the stack.
 * ds_h5_strerror - its strerror(), or "HDF5 error".
 */
static int ds_h5_errno(void);
static const char *ds_h5_strerror(void);
static hid_t ds_h5_mem_type(enum ds_type t);
static hid_t ds_h5_lcpl(void);
static int ds_check_readable(const char *path);
/* ds_h5_open_file - open read-only with one-line errors; <0 on failure */
static hid_t ds_h5_open_file(const char *path);
/*
 * ds_check_storage - error unless dataset d (name) stores enough bytes to
 * hold `bytes` when decompressed (deflate expands at most ~1032:1): a
 * declared size the file cannot back is corruption, not a big dataset.
 */
static int ds_check_storage(struct ds_file *f, hid_t d, const char *name, uint64_t bytes);
static hid_t ds_h5_open_checked(const char *path, const char *format, int max_version, int *version);
/* ds_h5_create_file - create under a registered temporary name (*tmp) */
static hid_t ds_h5_create_file(const char *path, char **tmp);


/*
 * HDF5 1.10 registers H5_term_library() with atexit() when it starts, and
 * that closes every file id still registered.  A failed H5Fclose() (a full
 * disk) frees the file's structure but leaves its id registered, so the exit
 * handler would close freed memory and crash (SIGSEGV after our one-line
 * error, with stdout unflushed).  HDF5 1.14 frees only on success; for 1.10
 * the only safe course is that nothing touches that id again: we close every
 * object ourselves, so the library's exit-time sweep is not needed.  This
 * must run before anything initialises the library (H5T_NATIVE_* do), hence
 * a constructor.
 */
__attribute__((constructor)) static void ds_h5_no_atexit(void)
{
	H5dont_atexit();
}

static herr_t find_errno(unsigned n, const H5E_error2_t *e, void *data)
{
	const char *p = e->desc ? strstr(e->desc, "errno = ") : NULL;

	(void)n;
	if (!p)
		return 0;
	*(int *)data = atoi(p + 8);
	return 1;
}

static int ds_h5_errno(void)
{
	int e = 0;

	/* H5Ewalk2 does not clear the stack it walks (FUNC_ENTER_API_NOCLEAR) */
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_errno, &e);
	return e > 0 ? e : 0;
}

static const char *ds_h5_strerror(void)
{
	int e = ds_h5_errno();

	return e ? strerror(e) : "HDF5 error";
}

static void ds_h5_init(void)
{
	/*
	 * Errors are reported by us, in one line; never HDF5's stack dump.
	 * Debian's HDF5 is built thread-safe, and that keeps the setting per
	 * thread: a trace writer's background thread (data/trace.c) turns it
	 * off for itself when it first writes (table_flush).
	 */
	static __thread int done;

	if (done)
		return;
	done = 1;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

size_t ds_type_size(enum ds_type t)
{
	static const size_t sz[] = { 1, 1, 2, 2, 4, 4, 8, 8, 4, 8, 1 };

	return sz[t];
}

static hid_t ds_h5_mem_type(enum ds_type t)
{
	switch (t) {
	case DS_I8: return H5T_NATIVE_INT8;
	case DS_U8: return H5T_NATIVE_UINT8;
	case DS_I16: return H5T_NATIVE_INT16;
	case DS_U16: return H5T_NATIVE_UINT16;
	case DS_I32: return H5T_NATIVE_INT32;
	case DS_U32: return H5T_NATIVE_UINT32;
	case DS_I64: return H5T_NATIVE_INT64;
	case DS_U64: return H5T_NATIVE_UINT64;
	case DS_F32: return H5T_NATIVE_FLOAT;
	case DS_F64: return H5T_NATIVE_DOUBLE;
	case DS_STR: return H5T_NATIVE_CHAR;
	}
	return H5T_NATIVE_INT32;
}

static hid_t file_type(enum ds_type t)
{
	switch (t) {
	case DS_I8: return H5T_STD_I8LE;
	case DS_U8: return H5T_STD_U8LE;
	case DS_I16: return H5T_STD_I16LE;
	case DS_U16: return H5T_STD_U16LE;
	case DS_I32: return H5T_STD_I32LE;
	case DS_U32: return H5T_STD_U32LE;
	case DS_I64: return H5T_STD_I64LE;
	case DS_U64: return H5T_STD_U64LE;
	case DS_F32: return H5T_IEEE_F32LE;
	case DS_F64: return H5T_IEEE_F64LE;
	case DS_STR: return H5T_STD_I8LE;
	}
	return H5T_STD_I32LE;
}

/* A readable regular file?  One-line error naming path otherwise. */
static int ds_check_readable(const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st))
		return error_errno("cannot open '%s'", path);
	if (S_ISDIR(st.st_mode))
		return error("cannot open '%s': is a directory", path);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return error_errno("cannot open '%s'", path);
	close(fd);
	if (st.st_size == 0)
		return error("cannot read '%s': empty file", path);
	return 0;
}

/*
 * HDF5 1.10 decodes file metadata with few bounds checks, and a damaged file
 * can crash it (fuzz/README.md).  Superblock versions 2 and 3 carry a
 * checksum, and a file written with them (every schedcast writer: see
 * ds_h5_create_file) has checksummed object headers too, which HDF5 verifies
 * before decoding them.  So the older, unchecked layout (superblock 0 or 1)
 * is refused before HDF5 reads anything past the signature.
 */
static int check_superblock(const char *path)
{
	static const unsigned char sig[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };
	unsigned char buf[9];
	FILE *fp = fopen(path, "rb");
	int ret = -1;

	if (!fp)
		return error_errno("cannot open '%s'", path);
	/* the signature is at 0 or, after a user block, at 512, 1024, 2048, ... */
	for (long off = 0; off < (1L << 30); off = off ? off * 2 : 512) {
		if (fseek(fp, off, SEEK_SET) || fread(buf, 1, sizeof(buf), fp) != sizeof(buf))
			break;
		if (memcmp(buf, sig, sizeof(sig)))
			continue;
		if (buf[8] >= 2)
			ret = 0;
		else
			error("cannot read '%s': HDF5 file without metadata checksums (superblock version %d): not written by schedcast",
			      path, buf[8]);
		fclose(fp);
		return ret;
	}
	fclose(fp);
	return error("cannot read '%s': not an HDF5 file (truncated or another format)", path);
}

/* HDF5's sec2 driver opens without O_CLOEXEC: no child of ours may hold our files */
static void set_cloexec(hid_t fid)
{
	void *handle = NULL;

	if (H5Fget_vfd_handle(fid, H5P_DEFAULT, &handle) >= 0 && handle)
		fcntl(*(int *)handle, F_SETFD, FD_CLOEXEC);
}

/*
 * read_fapl - the access properties of a file opened for reading: HDF5's
 * metadata cache held at READ_MDC_BYTES.  The size checks at open
 * (H5Dget_storage_size, ds_check_storage) and the chunk lookups visit
 * every node of a table's chunk index, and the adaptive cache grows to
 * hold them; it counts a node's bytes on disk (2.6 KB), but a node in
 * memory takes about 18 KB (HDF5 1.10 keeps every key with 33
 * dimensions): a cache of 1 MB held 7 MB, its default of 2 MB 10 MB, on
 * the 29,000 chunks of the heavy 10x scale trace's state table.  Readers
 * go through a table in order, a few nodes at a time: 128 KB (about 50
 * nodes, 1 MB of memory) costs nothing measurable (all 29,000 lookups
 * take 0.02 s either way).
 */
#define READ_MDC_BYTES (128 << 10)

static hid_t read_fapl(void)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5AC_cache_config_t mdc = { .version = H5AC__CURR_CACHE_CONFIG_VERSION };

	if (fapl < 0)
		return H5P_DEFAULT;
	if (H5Pget_mdc_config(fapl, &mdc) >= 0) {
		mdc.set_initial_size = 1;
		mdc.initial_size = mdc.min_size = mdc.max_size = READ_MDC_BYTES;
		mdc.incr_mode = H5C_incr__off;
		mdc.flash_incr_mode = H5C_flash_incr__off;
		mdc.decr_mode = H5C_decr__off;
		H5Pset_mdc_config(fapl, &mdc);	/* failing, the default cache */
	}
	return fapl;
}

static hid_t ds_h5_open_file(const char *path)
{
	hid_t fid, fapl;
	htri_t ok;

	ds_h5_init();
	if (ds_check_readable(path) || check_superblock(path))
		return H5I_INVALID_HID;
	ok = H5Fis_hdf5(path);
	if (ok <= 0) {
		error("cannot read '%s': not an HDF5 file (truncated or another format)", path);
		return H5I_INVALID_HID;
	}
	fapl = read_fapl();
	fid = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	if (fapl != H5P_DEFAULT)
		H5Pclose(fapl);
	if (fid < 0)
		error("cannot read '%s': HDF5 file is damaged or truncated", path);
	else
		set_cloexec(fid);
	return fid;
}

static hid_t ds_h5_create_file(const char *path, char **tmp)
{
	hid_t fid, fapl;

	ds_h5_init();
	if (sc_check_output_dir(path))
		return H5I_INVALID_HID;
	*tmp = sc_tmpname(path);
	/* the 1.8 file format: checksummed metadata (see check_superblock) */
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
	fid = H5Fcreate(*tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	if (fid < 0) {
		/* before H5Pclose(), which clears the error stack */
		error("cannot create '%s': %s", path, ds_h5_strerror());
		/* H5Fcreate may have made the file before its first write failed */
		unlink(*tmp);
		sc_tmp_forget(*tmp);
		free(*tmp);
		*tmp = NULL;
	} else {
		set_cloexec(fid);
	}
	H5Pclose(fapl);
	return fid;
}

struct ds_file *ds_create(const char *path, const char *format, int version)
{
	struct ds_file *f = xcalloc(1, sizeof(*f));

	f->fid = ds_h5_create_file(path, &f->tmp);
	if (f->fid < 0) {
		free(f);
		return NULL;
	}
	f->path = xstrdup(path);
	f->writing = 1;
	if (ds_attr_set_str(f, NULL, "format", format) ||
	    ds_attr_set_int(f, NULL, "version", version)) {
		ds_abort(f);
		return NULL;
	}
	return f;
}

/*
 * A failed H5Fclose() leaves the id registered over freed memory (HDF5 1.10):
 * it is never used again (see ds_h5_no_atexit), and the temporary is removed.
 */
int ds_commit(struct ds_file *f)
{
	int ret = 0;

	if (H5Fclose(f->fid) < 0) {
		ret = error("cannot write '%s': %s", f->path, ds_h5_strerror());
		unlink(f->tmp);
		sc_tmp_forget(f->tmp);
	} else {
		ret = sc_tmp_commit(f->tmp, f->path);
	}
	free(f->tmp);
	free(f->path);
	free(f);
	return ret;
}

void ds_abort(struct ds_file *f)
{
	if (!f)
		return;
	H5Fclose(f->fid);
	if (f->tmp) {
		unlink(f->tmp);
		sc_tmp_forget(f->tmp);
	}
	free(f->tmp);
	free(f->path);
	free(f);
}

/* Read the root format/version attributes of an open file. */
static int read_identity(hid_t fid, const char *path, char *format, size_t size, int *version)
{
	struct ds_file tmp = { .fid = fid, .path = (char *)path };
	char *fmt = NULL;
	int64_t v;

	/* no sc_set_quiet() here: it would undo a caller's own quiet */
	if (!ds_attr_exists(&tmp, NULL, "format") || !ds_attr_exists(&tmp, NULL, "version"))
		return error("cannot read '%s': HDF5 file but not a schedcast file (no format attribute)", path);
	if (ds_attr_get_str(&tmp, NULL, "format", &fmt) ||
	    ds_attr_get_int(&tmp, NULL, "version", &v)) {
		free(fmt);
		return -1;
	}
	snprintf(format, size, "%s", fmt);
	free(fmt);
	if (v < 1 || v > 1000000)
		return error("cannot read '%s': invalid version %lld", path, (long long)v);
	*version = (int)v;
	return 0;
}

int ds_identify(const char *path, char *format, size_t size, int *version)
{
	hid_t fid = ds_h5_open_file(path);
	int ret;

	if (fid < 0)
		return -1;
	ret = read_identity(fid, path, format, size, version);
	H5Fclose(fid);
	return ret;
}

static hid_t ds_h5_open_checked(const char *path, const char *format, int max_version, int *version)
{
	char fmt[128];
	hid_t fid = ds_h5_open_file(path);

	if (fid < 0)
		return fid;
	if (read_identity(fid, path, fmt, sizeof(fmt), version))
		goto fail;
	if (strcmp(fmt, format)) {
		error("cannot read '%s': it is a %s file, not %s", path, fmt, format);
		goto fail;
	}
	if (*version > max_version) {
		error("cannot read '%s': %s version %d is newer than this schedcast reads (%d)",
		      path, format, *version, max_version);
		goto fail;
	}
	return fid;
fail:
	H5Fclose(fid);
	return H5I_INVALID_HID;
}

struct ds_file *ds_open(const char *path, const char *format, int max_version, int *version)
{
	int v = 0;
	hid_t fid = ds_h5_open_checked(path, format, max_version, &v);
	struct ds_file *f;

	if (fid < 0)
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->fid = fid;
	f->path = xstrdup(path);
	if (version)
		*version = v;
	return f;
}

void ds_close(struct ds_file *f)
{
	if (!f)
		return;
	H5Fclose(f->fid);
	free(f->path);
	free(f);
}

const char *ds_path(const struct ds_file *f)
{
	return f->path;
}

/* ---- attributes ---------------------------------------------------------- */

static hid_t open_obj(struct ds_file *f, const char *obj)
{
	if (!obj || !*obj || !strcmp(obj, "/"))
		return H5Oopen(f->fid, "/", H5P_DEFAULT);
	return H5Oopen(f->fid, obj, H5P_DEFAULT);
}

static int set_attr(struct ds_file *f, const char *obj, const char *name, hid_t type,
		    const void *val)
{
	hid_t o = open_obj(f, obj), sp = -1, a = -1;
	int ret = -1;

	if (o < 0)
		return error("cannot write '%s': no object '%s'", f->path, obj);
	if (H5Aexists(o, name) > 0)
		H5Adelete(o, name);
	sp = H5Screate(H5S_SCALAR);
	a = H5Acreate2(o, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
	if (a >= 0 && H5Awrite(a, type, val) >= 0)
		ret = 0;
	else
		error("cannot write attribute '%s' in '%s': %s", name, f->path, ds_h5_strerror());
	H5Aclose(a);
	H5Sclose(sp);
	H5Oclose(o);
	return ret;
}

int ds_attr_set_int(struct ds_file *f, const char *obj, const char *name, int64_t v)
{
	return set_attr(f, obj, name, H5T_NATIVE_INT64, &v);
}

int ds_attr_set_double(struct ds_file *f, const char *obj, const char *name, double v)
{
	return set_attr(f, obj, name, H5T_NATIVE_DOUBLE, &v);
}

int ds_attr_set_str(struct ds_file *f, const char *obj, const char *name, const char *v)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	int ret;

	H5Tset_size(t, strlen(v) ? strlen(v) : 1);
	H5Tset_strpad(t, H5T_STR_NULLPAD);
	ret = set_attr(f, obj, name, t, v);
	H5Tclose(t);
	return ret;
}

static hid_t open_attr(struct ds_file *f, const char *obj, const char *name)
{
	hid_t o = open_obj(f, obj), a = -1;

	if (o < 0) {
		error("cannot read '%s': missing object '%s'", f->path, obj);
		return -1;
	}
	if (H5Aexists(o, name) > 0)
		a = H5Aopen(o, name, H5P_DEFAULT);
	H5Oclose(o);
	if (a < 0)
		error("cannot read '%s': missing attribute '%s'", f->path, name);
	return a;
}

int ds_attr_exists(struct ds_file *f, const char *obj, const char *name)
{
	hid_t o = open_obj(f, obj);
	int ret;

	if (o < 0)
		return 0;
	ret = H5Aexists(o, name) > 0;
	H5Oclose(o);
	return ret;
}

int ds_exists(struct ds_file *f, const char *name)
{
	return H5Lexists(f->fid, name, H5P_DEFAULT) > 0 &&
	       H5Oexists_by_name(f->fid, name, H5P_DEFAULT) > 0;
}

static int get_num_attr(struct ds_file *f, const char *obj, const char *name, hid_t mt, void *v)
{
	hid_t a = open_attr(f, obj, name), sp, t;
	int ret = -1;

	if (a < 0)
		return -1;
	sp = H5Aget_space(a);
	t = H5Aget_type(a);
	if (H5Sget_simple_extent_npoints(sp) == 1 &&
	    (H5Tget_class(t) == H5T_INTEGER || H5Tget_class(t) == H5T_FLOAT) &&
	    H5Aread(a, mt, v) >= 0)
		ret = 0;
	else
		error("cannot read '%s': attribute '%s' is not a number", f->path, name);
	H5Tclose(t);
	H5Sclose(sp);
	H5Aclose(a);
	return ret;
}

int ds_attr_get_int(struct ds_file *f, const char *obj, const char *name, int64_t *v)
{
	return get_num_attr(f, obj, name, H5T_NATIVE_INT64, v);
}

int ds_attr_get_double(struct ds_file *f, const char *obj, const char *name, double *v)
{
	return get_num_attr(f, obj, name, H5T_NATIVE_DOUBLE, v);
}

int ds_attr_get_str(struct ds_file *f, const char *obj, const char *name, char **v)
{
	hid_t a = open_attr(f, obj, name), t, mt, sp;
	int ret = -1;

	*v = NULL;
	if (a < 0)
		return -1;
	t = H5Aget_type(a);
	sp = H5Aget_space(a);
	if (H5Tget_class(t) != H5T_STRING || H5Sget_simple_extent_npoints(sp) != 1) {
		error("cannot read '%s': attribute '%s' is not a string", f->path, name);
	} else if (H5Tis_variable_str(t) > 0) {
		char *s = NULL;

		mt = H5Tcopy(H5T_C_S1);
		H5Tset_size(mt, H5T_VARIABLE);
		if (H5Aread(a, mt, &s) >= 0) {
			*v = xstrdup(s ? s : "");
			H5free_memory(s);
			ret = 0;
		}
		H5Tclose(mt);
	} else {
		size_t n = H5Tget_size(t);

		if (n > (1u << 20)) {
			error("cannot read '%s': attribute '%s' is absurdly long", f->path, name);
		} else {
			char *s = xcalloc(1, n + 1);

			mt = H5Tcopy(H5T_C_S1);
			H5Tset_size(mt, n);
			H5Tset_strpad(mt, H5T_STR_NULLPAD);
			if (H5Aread(a, mt, s) >= 0) {
				*v = s;
				ret = 0;
			} else {
				free(s);
			}
			H5Tclose(mt);
		}
	}
	if (ret && !*v && H5Tget_class(t) == H5T_STRING)
		error("cannot read '%s': attribute '%s' unreadable", f->path, name);
	H5Sclose(sp);
	H5Tclose(t);
	H5Aclose(a);
	return ret;
}

/* ---- arrays -------------------------------------------------------------- */

static hid_t ds_h5_lcpl(void)
{
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);

	H5Pset_create_intermediate_group(lcpl, 1);
	return lcpl;
}

/* Chunk rows so that one chunk is about 256 KiB. */
static hsize_t chunk_rows(hsize_t row_bytes)
{
	hsize_t rows = (256 * 1024) / (row_bytes ? row_bytes : 1);

	return rows ? rows : 1;
}

int ds_write_array(struct ds_file *f, const char *name, enum ds_type t, int rank,
		   const uint64_t *dims, const void *data)
{
	hsize_t hd[4], chunk[4], total = 1, row = ds_type_size(t);
	hid_t sp, dcpl, lcpl, d;
	int ret = -1;

	if (rank < 1 || rank > 4)
		return error("internal: rank %d for '%s'", rank, name);
	for (int i = 0; i < rank; i++) {
		hd[i] = dims[i];
		total *= hd[i];
		chunk[i] = hd[i] ? hd[i] : 1;
		if (i)
			row *= hd[i];
	}
	sp = H5Screate_simple(rank, hd, NULL);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	if (total * ds_type_size(t) > 16384) {
		chunk[0] = SC_MIN(hd[0], chunk_rows(row));
		H5Pset_chunk(dcpl, rank, chunk);
		H5Pset_shuffle(dcpl);
		H5Pset_deflate(dcpl, 4);
	}
	lcpl = ds_h5_lcpl();
	d = H5Dcreate2(f->fid, name, file_type(t), sp, lcpl, dcpl, H5P_DEFAULT);
	if (d >= 0 && (total == 0 ||
		       H5Dwrite(d, ds_h5_mem_type(t), H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0))
		ret = 0;
	else
		error("cannot write dataset '%s' in '%s': %s", name, f->path, ds_h5_strerror());
	H5Dclose(d);
	H5Pclose(lcpl);
	H5Pclose(dcpl);
	H5Sclose(sp);
	return ret;
}

int ds_array_dims(struct ds_file *f, const char *name, uint64_t *dims, int max_rank)
{
	hid_t d, sp;
	hsize_t hd[32];
	int rank;

	if (!ds_exists(f, name))
		return error("cannot read '%s': missing dataset '%s'", f->path, name);
	d = H5Dopen2(f->fid, name, H5P_DEFAULT);
	if (d < 0)
		return error("cannot read '%s': '%s' is not a dataset", f->path, name);
	sp = H5Dget_space(d);
	rank = H5Sget_simple_extent_ndims(sp);
	if (rank < 0 || rank > max_rank || rank > 32) {
		H5Sclose(sp);
		H5Dclose(d);
		return error("cannot read '%s': dataset '%s' has rank %d", f->path, name, rank);
	}
	H5Sget_simple_extent_dims(sp, hd, NULL);
	for (int i = 0; i < rank; i++)
		dims[i] = hd[i];
	H5Sclose(sp);
	H5Dclose(d);
	return rank;
}

/*
 * Declared sizes are checked against the bytes the file really holds for
 * the dataset: deflate cannot expand data more than about 1032:1, so a
 * dataset that claims more than that is corrupt, not large.
 */
static int ds_check_storage(struct ds_file *f, hid_t d, const char *name, uint64_t bytes)
{
	hsize_t stored = H5Dget_storage_size(d);

	if (bytes > 65536 && (double)bytes > (double)stored * 1100.0)
		return error("cannot read '%s': dataset '%s' declares %llu bytes but the file holds %llu",
			     f->path, name, (unsigned long long)bytes, (unsigned long long)stored);
	return 0;
}

int ds_read_array(struct ds_file *f, const char *name, enum ds_type t, int rank,
		  uint64_t *dims, void **data, uint64_t max_elems)
{
	uint64_t total = 1, d4[4];
	/* into d4: the file's rank may exceed the caller's dims[rank] */
	int r = ds_array_dims(f, name, d4, 4);
	hid_t d;
	void *buf;

	*data = NULL;
	if (r < 0)
		return -1;
	if (r != rank)
		return error("cannot read '%s': dataset '%s' has rank %d, expected %d", f->path,
			     name, r, rank);
	memcpy(dims, d4, (size_t)rank * sizeof(*dims));
	for (int i = 0; i < rank; i++) {
		if (dims[i] && total > UINT64_MAX / dims[i])
			return error("cannot read '%s': dataset '%s' is absurdly large", f->path, name);
		total *= dims[i];
	}
	if (total > max_elems)
		return error("cannot read '%s': dataset '%s' has %llu elements, more than %llu allowed",
			     f->path, name, (unsigned long long)total, (unsigned long long)max_elems);
	d = H5Dopen2(f->fid, name, H5P_DEFAULT);
	if (ds_check_storage(f, d, name, total * ds_type_size(t))) {
		H5Dclose(d);
		return -1;
	}
	buf = xmallocarray(total ? total : 1, ds_type_size(t));
	if (total && H5Dread(d, ds_h5_mem_type(t), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
		free(buf);
		H5Dclose(d);
		return error("cannot read '%s': dataset '%s' is damaged or of the wrong type",
			     f->path, name);
	}
	H5Dclose(d);
	*data = buf;
	return 0;
}

int ds_write_strings(struct ds_file *f, const char *name, const char *const *s, uint64_t n)
{
	hsize_t dim = n;
	hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(1, &dim, NULL), lcpl = ds_h5_lcpl();
	hid_t d;
	int ret = -1;

	H5Tset_size(t, H5T_VARIABLE);
	d = H5Dcreate2(f->fid, name, t, sp, lcpl, H5P_DEFAULT, H5P_DEFAULT);
	if (d >= 0 && (n == 0 || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, s) >= 0))
		ret = 0;
	else
		error("cannot write dataset '%s' in '%s'", name, f->path);
	H5Dclose(d);
	H5Pclose(lcpl);
	H5Sclose(sp);
	H5Tclose(t);
	return ret;
}

int ds_read_strings(struct ds_file *f, const char *name, char ***out, uint64_t *nout,
		    uint64_t max_n)
{
	uint64_t dims[1];
	hid_t d, t, ft, sp;
	char **raw, **res;
	int ret = -1;

	*out = NULL;
	*nout = 0;
	if (ds_array_dims(f, name, dims, 1) != 1)
		return error("cannot read '%s': '%s' is not a list of strings", f->path, name);
	if (dims[0] > max_n)
		return error("cannot read '%s': '%s' holds %llu strings, more than %llu allowed",
			     f->path, name, (unsigned long long)dims[0], (unsigned long long)max_n);
	d = H5Dopen2(f->fid, name, H5P_DEFAULT);
	ft = H5Dget_type(d);
	if (H5Tget_class(ft) != H5T_STRING || H5Tis_variable_str(ft) <= 0) {
		H5Tclose(ft);
		H5Dclose(d);
		return error("cannot read '%s': '%s' is not a list of strings", f->path, name);
	}
	t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	raw = xcalloc(dims[0] ? dims[0] : 1, sizeof(char *));
	if (dims[0] == 0 || H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw) >= 0) {
		res = xcalloc(dims[0] ? dims[0] : 1, sizeof(char *));
		for (uint64_t i = 0; i < dims[0]; i++)
			res[i] = xstrdup(raw[i] ? raw[i] : "");
		if (dims[0]) {
			sp = H5Dget_space(d);
			H5Dvlen_reclaim(t, sp, H5P_DEFAULT, raw);
			H5Sclose(sp);
		}
		*out = res;
		*nout = dims[0];
		ret = 0;
	} else {
		error("cannot read '%s': '%s' is damaged", f->path, name);
	}
	free(raw);
	H5Tclose(t);
	H5Tclose(ft);
	H5Dclose(d);
	return ret;
}

void ds_free_strings(char **s, uint64_t n)
{
	if (!s)
		return;
	for (uint64_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

/* ---- tables ---------------------------------------------------------------- */

struct ds_table {
	struct ds_file *f;
	char *name;
	struct ds_table_spec spec;
	hid_t d, mt;		/* dataset, memory type of one element */
	int rank;
	hsize_t inner[3];
	size_t row_bytes;
	uint64_t rows;		/* in the file */
	int writing, failed;
	unsigned char *buf;	/* writer: cap rows, nbuf of them pending */
	uint64_t nbuf, cap;
	/*
	 * Direct chunk I/O (see table_direct_*): a 1-D table whose rows are
	 * stored as they are in memory and whose only filter is deflate has
	 * its chunks deflated and inflated here, by libdeflate, and moved by
	 * H5Dwrite_chunk / H5Dread_chunk.  The file is the one HDF5's own
	 * pipeline writes: zlib streams under the same deflate filter.
	 */
	int direct;
	uint64_t chunk;		/* rows of a chunk */
	struct libdeflate_compressor *zc;
	struct libdeflate_decompressor *zd;
	unsigned char *zbuf;	/* a chunk as stored */
	size_t zcap;
	/*
	 * The writer's direct path for every deflated table (table_direct_*):
	 * the chunk's bytes as the file holds them before its filters (img:
	 * packed rows, or one column's values), byte-shuffled into shuf when
	 * the table shuffles, then deflated into zbuf.
	 */
	size_t fsize;		/* bytes of one element in the file */
	uint64_t nelem;		/* elements a row: the product of the inner dims */
	int pack;		/* compound, packed: rows packed column by column */
	int shuffle;		/* the shuffle filter before deflate */
	int colchunks;		/* a chunk holds one element of every row */
	unsigned char *img, *shuf;
	struct zqueue *zq;	/* spec.background: the deflating thread, once started */
	int zq_failed;		/* it could not start: deflate here */
	/* reader, pack: where each column the reader asks for is in a file element */
	struct { size_t foff, moff, len; } *map;
	unsigned char *cbuf;	/* reader: chunk ccur inflated (partly read chunks) */
	uint64_t ccur;
};

size_t ds_table_row_bytes(const struct ds_table_spec *spec)
{
	size_t n = spec->cols ? spec->row_size : ds_type_size(spec->type);

	for (int i = 1; i < spec->rank; i++)
		n *= spec->inner[i - 1];
	return n;
}

static size_t column_bytes(const struct ds_column *c)
{
	return ds_type_size(c->type) * (c->len > 1 ? c->len : 1);
}

static int is_integer(enum ds_type t)
{
	return t <= DS_U64;
}

/* The enum type of column c over base (file or native integer type). */
static hid_t enum_type(const struct ds_column *c, hid_t base)
{
	hid_t e = H5Tenum_create(base);

	for (int64_t i = 0; c->enum_names[i]; i++) {
		union { int8_t i8; int16_t i16; int32_t i32; int64_t i64; } v;

		switch (ds_type_size(c->type)) {
		case 1: v.i8 = (int8_t)i; break;
		case 2: v.i16 = (int16_t)i; break;
		case 4: v.i32 = (int32_t)i; break;
		default: v.i64 = i; break;
		}
		H5Tenum_insert(e, c->enum_names[i], &v);
	}
	return e;
}

/*
 * column_type - the HDF5 type of column c: file (little-endian) or memory
 * (native).  as_enum: an enum column is stored/read as an enum (else as its
 * integer: reading a file written before it became one).
 */
static hid_t column_type(const struct ds_column *c, int file, int as_enum)
{
	hid_t base = file ? file_type(c->type) : ds_h5_mem_type(c->type), t;

	if (c->type == DS_STR) {
		t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, c->len ? c->len : 1);
		H5Tset_strpad(t, H5T_STR_NULLPAD);
		return t;
	}
	t = c->enum_names && as_enum && is_integer(c->type) ? enum_type(c, base) : H5Tcopy(base);
	if (c->len > 1) {
		hsize_t n = c->len;
		hid_t a = H5Tarray_create2(t, 1, &n);

		H5Tclose(t);
		t = a;
	}
	return t;
}

/*
 * element_type - the type of one element.  file: the type to create the
 * dataset with (packed little-endian or the native struct); else the memory
 * type, where ft (the file's element type, or -1 when writing) says which
 * enum columns the file stores as enums.
 */
static hid_t element_type(const struct ds_table_spec *s, int file, hid_t ft)
{
	size_t off = 0, size = 0;
	hid_t t;

	if (!s->cols)
		return H5Tcopy(file ? file_type(s->type) : ds_h5_mem_type(s->type));
	if (file && s->layout == DS_LAYOUT_PACKED)
		for (size_t i = 0; i < s->ncols; i++)
			size += column_bytes(&s->cols[i]);
	else
		size = s->row_size;
	t = H5Tcreate(H5T_COMPOUND, size);
	for (size_t i = 0; i < s->ncols; i++) {
		const struct ds_column *c = &s->cols[i];
		int as_enum = 1;
		hid_t ct;

		if (ft >= 0) {
			int idx = H5Tget_member_index(ft, c->name);

			as_enum = idx >= 0 && H5Tget_member_class(ft, (unsigned)idx) == H5T_ENUM;
		}
		/* the native layout keeps native element types: no conversion on write */
		ct = column_type(c, file && s->layout == DS_LAYOUT_PACKED, as_enum);
		H5Tinsert(t, c->name, file && s->layout == DS_LAYOUT_PACKED ? off : c->offset, ct);
		off += column_bytes(c);
		H5Tclose(ct);
	}
	return t;
}

static void table_init(struct ds_table *t, struct ds_file *f, const char *name,
		       const struct ds_table_spec *spec)
{
	t->f = f;
	t->name = xstrdup(name);
	t->spec = *spec;
	t->rank = spec->rank > 0 ? spec->rank : 1;
	for (int i = 1; i < t->rank; i++)
		t->inner[i - 1] = spec->inner[i - 1];
	t->spec.rank = t->rank;
	t->row_bytes = ds_table_row_bytes(&t->spec);
	t->d = H5I_INVALID_HID;
	t->mt = H5I_INVALID_HID;
	t->ccur = UINT64_MAX;
}

static void zq_stop(struct ds_table *t);

static void table_free(struct ds_table *t)
{
	zq_stop(t);
	if (t->d >= 0)
		H5Dclose(t->d);
	if (t->mt >= 0)
		H5Tclose(t->mt);
	free(t->buf);
	free(t->name);
	if (t->zc)
		libdeflate_free_compressor(t->zc);
	if (t->zd)
		libdeflate_free_decompressor(t->zd);
	free(t->zbuf);
	free(t->cbuf);
	free(t->img);
	free(t->shuf);
	free(t->map);
	free(t);
}

/*
 * ---- direct chunk I/O ---------------------------------------------------
 *
 * HDF5's deflate filter is zlib's, run on the thread that calls HDF5, and it
 * was most of the CPU of writing and of reading a trace, and of writing a
 * windows file with tens of candidates a decision.  The chunks are deflated
 * (and, for the tables it can serve, inflated) here with libdeflate, which
 * writes and reads the same zlib streams at a fraction of the cost, and HDF5
 * only files them (H5Dwrite_chunk, H5Dread_chunk): the file is the one the
 * pipeline would have written, for h5py, h5dump and older schedcasts alike.
 * Every deflated table is written so (the shuffle filter, packed rows and
 * column chunks done here too) and read so when its filters are deflate
 * after at most shuffle and its columns are stored in the reader's types
 * (else, and for chunks HDF5 did not store, H5Dread).
 */
static size_t table_chunk_bytes(const struct ds_table *t)
{
	return (size_t)t->chunk * t->row_bytes;
}

/* the most a stored chunk can take: zlib's and libdeflate's worst cases */
static size_t stored_bound(size_t n)
{
	return SC_MAX(libdeflate_zlib_compress_bound(NULL, n), n + n / 512 + 1024);
}

/*
 * pack_rows - n elements of the memory layout (structs of row_size) as the
 * packed file layout: each column's bytes in list order, no padding (the
 * file's types are little-endian, the host's too: table_direct_setup_write
 * checks).
 */
static void pack_rows(const struct ds_table *t, unsigned char *dst, const unsigned char *src,
		      uint64_t n)
{
	const struct ds_table_spec *s = &t->spec;

	for (uint64_t r = 0; r < n; r++, src += s->row_size) {
		for (size_t i = 0; i < s->ncols; i++) {
			size_t cb = column_bytes(&s->cols[i]);

			memcpy(dst, src + s->cols[i].offset, cb);
			dst += cb;
		}
	}
}

/*
 * shuffle_bytes - HDF5's shuffle filter: byte j of element i goes to
 * dst[j * n + i] (every first byte, then every second byte, ...).
 */
#define SHUFFLE_BLOCK 64

static void shuffle_bytes(unsigned char *dst, const unsigned char *src, size_t n, size_t size)
{
	if (size == 2) {
		for (size_t i = 0; i < n; i++) {
			dst[i] = src[2 * i];
			dst[n + i] = src[2 * i + 1];
		}
		return;
	}
	if (size <= 8) {
		for (size_t j = 0; j < size; j++)
			for (size_t i = 0; i < n; i++)
				dst[j * n + i] = src[i * size + j];
		return;
	}
	/*
	 * Wide rows in blocks of SHUFFLE_BLOCK elements: a block's rows stay in
	 * the cache while each of their bytes goes to its stream (the plain
	 * double loop reads every row `size` times from memory: 0.46 ms a MiB of
	 * 56-byte rows against 0.29, a fifth of deflating the windows'
	 * candidates; for rows of 8 bytes or less it is as fast or faster).
	 */
	size_t i = 0;

	for (; i + SHUFFLE_BLOCK <= n; i += SHUFFLE_BLOCK) {
		const unsigned char *blk = src + i * size;

		for (size_t j = 0; j < size; j++) {
			unsigned char *out = dst + j * n + i;

			for (size_t k = 0; k < SHUFFLE_BLOCK; k++)
				out[k] = blk[k * size + j];
		}
	}
	for (; i < n; i++)
		for (size_t j = 0; j < size; j++)
			dst[j * n + i] = src[i * size + j];
}

/* unshuffle_bytes - shuffle_bytes undone: dst[i * size + j] = src[j * n + i] */
static void unshuffle_bytes(unsigned char *dst, const unsigned char *src, size_t n, size_t size)
{
	if (size == 2) {
		for (size_t i = 0; i < n; i++) {
			dst[2 * i] = src[i];
			dst[2 * i + 1] = src[n + i];
		}
		return;
	}
	for (size_t j = 0; j < size; j++)
		for (size_t i = 0; i < n; i++)
			dst[i * size + j] = src[j * n + i];
}

/* the chunk image of `bytes` (shuffled first if the table does) deflated into z; its size or 0 */
static size_t chunk_deflate(const struct ds_table *t, struct libdeflate_compressor *zc,
			    unsigned char *shuf, const unsigned char *img, size_t bytes,
			    unsigned char *z, size_t zcap)
{
	if (t->shuffle && t->fsize > 1) {
		shuffle_bytes(shuf, img, bytes / t->fsize, t->fsize);
		img = shuf;
	}
	return libdeflate_zlib_compress(zc, img, bytes, z, zcap);
}

/* file a deflated chunk (n bytes, 0: the deflate failed) at off */
static int chunk_file(struct ds_table *t, const hsize_t *off, const unsigned char *z, size_t n)
{
	if (!n)
		return error("internal: deflate of a chunk of table '%s' in '%s' failed", t->name,
			     t->f->path);
	if (H5Dwrite_chunk(t->d, H5P_DEFAULT, 0, off, n, z) < 0)
		return error("cannot write table '%s' in '%s': %s", t->name, t->f->path,
			     ds_h5_strerror());
	return 0;
}

/*
 * ---- deflate on a thread of the table's own (spec.background) ----------
 *
 * With tens of candidates a decision, deflating the windows file's chunks
 * was half of `schedcast features`' CPU, on the thread that runs the feature
 * engine.  A background table hands each chunk image (a copy) to a thread
 * that shuffles and deflates it; the caller files the deflated chunks, in
 * the order they were made, with H5Dwrite_chunk: HDF5 (not thread-safe in
 * Debian's build) is only ever called from the caller's thread, and the
 * bytes filed are the ones table_direct_put would have filed.  At most
 * ZQ_JOBS chunks are in flight (memory: ZQ_JOBS x (image + bound)); the
 * caller waits for the oldest when all are.
 */
#define ZQ_JOBS 6

struct zjob {
	hsize_t off[4];
	size_t bytes, n;		/* image bytes; deflated bytes (0: failed) */
	unsigned char *img, *z;		/* img: chunk_bytes; z: zcap */
};

struct zqueue {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;		/* a job queued, a job done, or stop */
	struct zjob job[ZQ_JOBS];	/* a ring: job[i % ZQ_JOBS] */
	uint64_t head;			/* oldest not yet filed (caller) */
	uint64_t done;			/* [head, done) deflated, [done, tail) queued */
	uint64_t tail;
	int stop;
	size_t img_bytes;
	/* the thread's own */
	struct libdeflate_compressor *zc;
	unsigned char *shuf;
};

static void *zq_main(void *arg)
{
	struct ds_table *t = arg;
	struct zqueue *q = t->zq;

	pthread_mutex_lock(&q->lock);
	for (;;) {
		struct zjob *j;

		while (q->done == q->tail && !q->stop)
			pthread_cond_wait(&q->cond, &q->lock);
		if (q->done == q->tail)
			break;
		j = &q->job[q->done % ZQ_JOBS];
		pthread_mutex_unlock(&q->lock);
		/* t's fields read here are set before the thread starts and never change */
		j->n = chunk_deflate(t, q->zc, q->shuf, j->img, j->bytes, j->z, t->zcap);
		pthread_mutex_lock(&q->lock);
		q->done++;
		pthread_cond_broadcast(&q->cond);
	}
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* start t's thread; 0, or -1 when it cannot (then the caller deflates) */
static int zq_start(struct ds_table *t)
{
	struct zqueue *q;
	sigset_t all, old;
	int err;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return -1;
	q = xcalloc(1, sizeof(*q));
	q->zc = libdeflate_alloc_compressor(SC_MIN(t->spec.deflate, 9));
	if (!q->zc) {
		free(q);
		return -1;
	}
	q->img_bytes = (size_t)t->chunk * (t->colchunks ? 1 : t->nelem) * t->fsize;
	if (t->shuffle)
		q->shuf = xmalloc(q->img_bytes);
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	t->zq = q;
	/* signals are for the caller's loop, never for this thread */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&q->thread, NULL, zq_main, t);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		t->zq = NULL;
		pthread_cond_destroy(&q->cond);
		pthread_mutex_destroy(&q->lock);
		libdeflate_free_compressor(q->zc);
		free(q->shuf);
		free(q);
		return -1;
	}
	return 0;
}

/*
 * zq_file - file the deflated chunks from the oldest on; with all, wait for
 * every queued one, else stop at the first not deflated yet.  Called with
 * the lock held, returns with it held (released around HDF5).
 */
static int zq_file(struct ds_table *t, int all)
{
	struct zqueue *q = t->zq;
	int ret = 0;

	while (q->head < q->tail) {
		struct zjob *j = &q->job[q->head % ZQ_JOBS];

		if (q->head == q->done) {
			if (!all)
				break;
			pthread_cond_wait(&q->cond, &q->lock);
			continue;
		}
		pthread_mutex_unlock(&q->lock);
		if (!ret && chunk_file(t, j->off, j->z, j->n))
			ret = -1;
		pthread_mutex_lock(&q->lock);
		q->head++;
	}
	return ret;
}

/* queue a chunk image for the thread, filing what is deflated (waiting if all jobs are busy) */
static int zq_put(struct ds_table *t, const unsigned char *img, size_t bytes, const hsize_t *off)
{
	struct zqueue *q = t->zq;
	struct zjob *j;
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	while (!ret && q->tail - q->head == ZQ_JOBS) {
		if (q->head == q->done)
			pthread_cond_wait(&q->cond, &q->lock);
		else
			ret = zq_file(t, 0);
	}
	if (!ret)
		ret = zq_file(t, 0);
	pthread_mutex_unlock(&q->lock);
	if (ret)
		return -1;
	/* job tail is the caller's alone until tail moves past it */
	j = &q->job[q->tail % ZQ_JOBS];
	if (!j->img) {
		j->img = xmalloc(q->img_bytes);
		j->z = xmalloc(t->zcap);
	}
	memcpy(j->img, img, bytes);
	memcpy(j->off, off, sizeof(j->off));
	j->bytes = bytes;
	pthread_mutex_lock(&q->lock);
	q->tail++;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

/* zq_drain - file every chunk queued; 0 or -1 (printed) */
static int zq_drain(struct ds_table *t)
{
	int ret;

	if (!t->zq)
		return 0;
	pthread_mutex_lock(&t->zq->lock);
	ret = zq_file(t, 1);
	pthread_mutex_unlock(&t->zq->lock);
	return ret;
}

/* zq_stop - end the thread, dropping what was not filed (zq_drain files it) */
static void zq_stop(struct ds_table *t)
{
	struct zqueue *q = t->zq;

	if (!q)
		return;
	pthread_mutex_lock(&q->lock);
	q->stop = 1;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->lock);
	pthread_join(q->thread, NULL);
	for (int i = 0; i < ZQ_JOBS; i++) {
		free(q->job[i].img);
		free(q->job[i].z);
	}
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	libdeflate_free_compressor(q->zc);
	free(q->shuf);
	free(q);
	t->zq = NULL;
}

/*
 * deflate the chunk image of `bytes` (shuffled first if the table does) and
 * file it at off: here, or on the table's thread (spec.background) once a
 * full chunk comes (a table of one partial chunk is not worth a thread).
 */
static int table_direct_put(struct ds_table *t, const unsigned char *img, size_t bytes,
			    const hsize_t *off)
{
	if (!t->zq && t->spec.background && t->nbuf == t->chunk && !t->zq_failed)
		t->zq_failed = zq_start(t) != 0;
	if (t->zq)
		return zq_put(t, img, bytes, off);
	return chunk_file(t, off, t->zbuf,
			  chunk_deflate(t, t->zc, t->shuf, img, bytes, t->zbuf, t->zcap));
}

/*
 * table_direct_write - rows [rows, rows + nbuf) from t->buf as the chunks
 * at row rows (a multiple of chunk): the tail of a last, partial chunk
 * zeroed, filtered whole, as the pipeline stores an edge chunk.  Column
 * chunks: one chunk per element of the inner dims, its values gathered.
 */
static int table_direct_write(struct ds_table *t)
{
	hsize_t off[4] = { t->rows };
	const unsigned char *img = t->buf;

	if (t->nbuf < t->chunk)
		memset(t->buf + t->nbuf * t->row_bytes, 0, (t->chunk - t->nbuf) * t->row_bytes);
	if (!t->colchunks) {
		if (t->pack) {
			pack_rows(t, t->img, t->buf, t->chunk * t->nelem);
			img = t->img;
		}
		return table_direct_put(t, img, (size_t)(t->chunk * t->nelem) * t->fsize, off);
	}
	for (uint64_t e = 0; e < t->nelem; e++) {
		uint64_t rest = e;
		size_t fs = t->fsize;

		for (int i = t->rank - 1; i >= 1; i--) {
			off[i] = rest % t->inner[i - 1];
			rest /= t->inner[i - 1];
		}
		if (fs == 2) {
			const uint16_t *src = (const uint16_t *)t->buf + e;
			uint16_t *dst = (uint16_t *)t->img;

			for (uint64_t r = 0; r < t->chunk; r++)
				dst[r] = src[r * t->nelem];
		} else {
			for (uint64_t r = 0; r < t->chunk; r++)
				memcpy(t->img + r * fs, t->buf + (r * t->nelem + e) * fs, fs);
		}
		if (table_direct_put(t, t->img, (size_t)t->chunk * fs, off))
			return -1;
	}
	return 0;
}

/*
 * the writer's side: t created, t->mt its element type, ft the file's.
 * Every deflated table whose file bytes are the memory's (numbers, the
 * native layout) or a packing of them (the packed layout: the file is
 * little-endian, so a little-endian host packs by copying): the chunks are
 * filtered here as HDF5's pipeline (shuffle, then deflate) would.
 */
static void table_direct_setup_write(struct ds_table *t, hid_t ft)
{
	int level = SC_MIN(t->spec.deflate, 9);
	size_t fsize = H5Tget_size(ft), msize, img;

	if (t->spec.deflate <= 0 || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__)
		return;
	msize = t->spec.cols ? t->spec.row_size : ds_type_size(t->spec.type);
	t->nelem = t->row_bytes / msize;
	if (H5Tequal(ft, t->mt) > 0) {
		t->pack = 0;
	} else if (t->spec.cols && t->spec.layout == DS_LAYOUT_PACKED) {
		size_t sum = 0;

		for (size_t i = 0; i < t->spec.ncols; i++)
			sum += column_bytes(&t->spec.cols[i]);
		if (sum != fsize)
			return;
		t->pack = 1;
	} else {
		return;
	}
	t->zc = libdeflate_alloc_compressor(level);
	if (!t->zc)
		return;
	t->fsize = fsize;
	t->shuffle = !t->spec.no_shuffle;
	t->colchunks = t->rank >= 2 && t->spec.column_chunks;
	t->chunk = t->cap;
	img = (size_t)t->chunk * (t->colchunks ? 1 : t->nelem) * fsize;
	if (t->pack || t->colchunks)
		t->img = xmalloc(img);
	if (t->shuffle)
		t->shuf = xmalloc(img);
	t->zcap = libdeflate_zlib_compress_bound(t->zc, img);
	t->zbuf = xmalloc(t->zcap);
	t->direct = 1;
}

/*
 * The reader's side: direct when the dataset is chunked in rows (whole rows,
 * or column chunks: one element of every row) with deflate as its last
 * filter and at most shuffle before it, and the file's elements are the
 * memory's or unpack into them by copying (a compound whose every column the
 * reader asks for is stored in the memory's type: t->map).
 */
static int member_same(hid_t ft, hid_t mt, const char *name, size_t *foff)
{
	int fi = H5Tget_member_index(ft, name), mi = H5Tget_member_index(mt, name), eq;
	hid_t a, b;

	if (fi < 0 || mi < 0)
		return 0;
	a = H5Tget_member_type(ft, (unsigned)fi);
	b = H5Tget_member_type(mt, (unsigned)mi);
	eq = a >= 0 && b >= 0 && H5Tequal(a, b) > 0;
	if (a >= 0)
		H5Tclose(a);
	if (b >= 0)
		H5Tclose(b);
	*foff = H5Tget_member_offset(ft, (unsigned)fi);
	return eq;
}

static void table_direct_setup_read(struct ds_table *t, hid_t ft)
{
	hid_t dcpl;
	hsize_t cdim[4];
	unsigned flags, cd[8];
	size_t ncd, fsize = H5Tget_size(ft), msize, img;
	int ok, nf, whole = 1, cols = 1;

	msize = t->spec.cols ? t->spec.row_size : ds_type_size(t->spec.type);
	t->nelem = t->row_bytes / msize;
	if (H5Tequal(ft, t->mt) > 0) {
		t->pack = 0;
	} else if (t->spec.cols && H5Tget_class(ft) == H5T_COMPOUND) {
		t->map = xcalloc(t->spec.ncols, sizeof(*t->map));
		for (size_t i = 0; i < t->spec.ncols; i++) {
			const struct ds_column *c = &t->spec.cols[i];

			if (!member_same(ft, t->mt, c->name, &t->map[i].foff))
				return;
			t->map[i].moff = c->offset;
			t->map[i].len = column_bytes(c);
		}
		t->pack = 1;
	} else {
		return;
	}
	dcpl = H5Dget_create_plist(t->d);
	if (dcpl < 0)
		return;
	ok = H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, t->rank, cdim) == t->rank &&
	     cdim[0] > 0 && cdim[0] <= (64u << 20) / t->row_bytes;
	for (int i = 1; ok && i < t->rank; i++) {
		whole &= cdim[i] == t->inner[i - 1];
		cols &= cdim[i] == 1;
	}
	nf = ok ? H5Pget_nfilters(dcpl) : 0;
	ok = ok && (whole || cols) && (nf == 1 || nf == 2);
	for (int i = 0; ok && i < nf; i++) {
		ncd = ARRAY_SIZE(cd);
		switch (H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, 0, NULL, NULL)) {
		case H5Z_FILTER_DEFLATE:
			ok = i == nf - 1;
			break;
		case H5Z_FILTER_SHUFFLE:
			ok = i == 0;
			t->shuffle = 1;
			break;
		default:
			ok = 0;
		}
	}
	H5Pclose(dcpl);
	if (!ok)
		return;
	t->zd = libdeflate_alloc_decompressor();
	if (!t->zd)
		return;
	t->fsize = fsize;
	t->colchunks = !whole;
	t->chunk = cdim[0];
	img = (size_t)t->chunk * (t->colchunks ? 1 : t->nelem) * fsize;
	t->zcap = stored_bound(img);
	t->zbuf = xmalloc(t->zcap);
	t->img = xmalloc(img);
	if (t->shuffle)
		t->shuf = xmalloc(img);
	t->direct = 1;
}

/*
 * chunk_image - the chunk at off as the file holds its elements (n of them),
 * its filters undone, into into (t->img when NULL) or t->shuf; *out points
 * at it.  0, 1 when HDF5 must read it (not stored), -1 damaged.
 */
static int chunk_image(struct ds_table *t, const hsize_t *off, size_t n, unsigned char *into,
		       const unsigned char **out)
{
	size_t bytes = n * t->fsize;
	hsize_t size = 0;
	uint32_t mask = 0;
	unsigned deflate_bit = t->shuffle ? 2 : 1;

	if (H5Dget_chunk_storage_size(t->d, off, &size) < 0 || !size)
		return 1;
	if (size > t->zcap || H5Dread_chunk(t->d, H5P_DEFAULT, off, &mask, t->zbuf) < 0)
		return -1;
	if (!into)
		into = t->img;
	if (mask & deflate_bit) {
		/* the optional filter was skipped: stored as is */
		if (size != bytes)
			return -1;
		memcpy(into, t->zbuf, bytes);
	} else if (libdeflate_zlib_decompress(t->zd, t->zbuf, (size_t)size, into, bytes,
					      NULL) != LIBDEFLATE_SUCCESS) {
		return -1;
	}
	*out = into;
	if (t->shuffle && !(mask & 1) && t->fsize > 1) {
		unshuffle_bytes(t->shuf, into, n, t->fsize);
		*out = t->shuf;
	}
	return 0;
}

/* n elements of the file's layout at img into memory elements at dst (stride msize) */
static void unpack_elems(const struct ds_table *t, unsigned char *dst, const unsigned char *img,
			 uint64_t n, size_t stride)
{
	if (!t->pack) {
		if (stride == t->fsize) {
			memcpy(dst, img, n * t->fsize);
			return;
		}
		for (uint64_t e = 0; e < n; e++)
			memcpy(dst + e * stride, img + e * t->fsize, t->fsize);
		return;
	}
	for (uint64_t e = 0; e < n; e++, dst += stride, img += t->fsize)
		for (size_t i = 0; i < t->spec.ncols; i++)
			memcpy(dst + t->map[i].moff, img + t->map[i].foff, t->map[i].len);
}

/*
 * table_direct_chunk - the rows of chunk k (chunk rows, whole), in memory's
 * layout, into dst: 0, 1 when HDF5 must read it (not stored), -1 damaged
 */
static int table_direct_chunk(struct ds_table *t, uint64_t k, unsigned char *dst)
{
	hsize_t off[4] = { k * t->chunk };
	size_t msize = t->row_bytes / t->nelem;
	const unsigned char *img;
	int r;

	if (!t->colchunks) {
		/* the file's rows are the memory's: inflated in place */
		int same = !t->pack && !t->shuffle && msize == t->fsize;

		r = chunk_image(t, off, (size_t)(t->chunk * t->nelem), same ? dst : NULL, &img);
		if (!r && !same)
			unpack_elems(t, dst, img, t->chunk * t->nelem, msize);
		return r;
	}
	for (uint64_t e = 0; e < t->nelem; e++) {
		uint64_t rest = e;

		for (int i = t->rank - 1; i >= 1; i--) {
			off[i] = rest % t->inner[i - 1];
			rest /= t->inner[i - 1];
		}
		r = chunk_image(t, off, (size_t)t->chunk, NULL, &img);
		if (r)
			return r;
		if (!t->pack && msize == 2) {
			const uint16_t *src = (const uint16_t *)img;
			uint16_t *d = (uint16_t *)dst + e;

			for (uint64_t i = 0; i < t->chunk; i++)
				d[i * t->nelem] = src[i];
		} else {
			unpack_elems(t, dst + e * msize, img, t->chunk, t->row_bytes);
		}
	}
	return 0;
}

/*
 * rows [start, start + n) through direct chunk reads: 0, 1 (use H5Dread), or
 * -1 with *bad the first row of the damaged chunk
 */
static int table_direct_read(struct ds_table *t, uint64_t start, uint64_t n, unsigned char *out,
			     uint64_t *bad)
{
	uint64_t end = start + n;

	while (start < end) {
		uint64_t k = start / t->chunk, first = k * t->chunk;
		uint64_t stop = SC_MIN(end, first + t->chunk);
		int r;

		*bad = first;
		if (start == first && stop == first + t->chunk) {
			r = table_direct_chunk(t, k, out);
			if (r)
				return r;
		} else {
			if (t->ccur != k) {
				if (!t->cbuf)
					t->cbuf = xcalloc(1, table_chunk_bytes(t));
				t->ccur = UINT64_MAX;
				r = table_direct_chunk(t, k, t->cbuf);
				if (r)
					return r;
				t->ccur = k;
			}
			memcpy(out, t->cbuf + (start - first) * t->row_bytes,
			       (stop - start) * t->row_bytes);
		}
		out += (stop - start) * t->row_bytes;
		start = stop;
	}
	return 0;
}

static int write_column_attrs(struct ds_table *t)
{
	for (size_t i = 0; t->spec.cols && i < t->spec.ncols; i++) {
		const struct ds_column *c = &t->spec.cols[i];

		for (int j = 0; c->attrs && c->attrs[j] && c->attrs[j + 1]; j += 2) {
			char *an = xstrfmt("%s.%s", c->name, c->attrs[j]);
			int ret = ds_attr_set_str(t->f, t->name, an, c->attrs[j + 1]);

			free(an);
			if (ret)
				return -1;
		}
	}
	return 0;
}

/*
 * table_create - the dataset: extendible (fixed < 0) or of fixed rows;
 * chunked unless fixed, small and not deflated.
 */
static struct ds_table *table_create(struct ds_file *f, const char *name,
				     const struct ds_table_spec *spec, int64_t fixed)
{
	struct ds_table *t = xcalloc(1, sizeof(*t));
	hsize_t dims[4], maxd[4], chunk[4];
	hid_t sp, dcpl, lcpl, ft;
	int chunked;

	table_init(t, f, name, spec);
	if (t->rank > 4 || !t->row_bytes || (spec->cols ? !spec->ncols : spec->type == DS_STR)) {
		error("internal: bad table spec for '%s' in '%s'", name, f->path);
		table_free(t);
		return NULL;
	}
	t->writing = 1;
	t->cap = spec->chunk_rows ? spec->chunk_rows : SC_MAX((size_t)1, (256 * 1024) / t->row_bytes);
	chunked = fixed < 0 || spec->deflate > 0;
	dims[0] = fixed < 0 ? 0 : (hsize_t)fixed;
	maxd[0] = fixed < 0 ? H5S_UNLIMITED : dims[0];
	chunk[0] = fixed < 0 ? t->cap : SC_MAX((hsize_t)1, SC_MIN(dims[0], t->cap));
	for (int i = 1; i < t->rank; i++) {
		dims[i] = maxd[i] = t->inner[i - 1];
		chunk[i] = spec->column_chunks ? 1 : t->inner[i - 1];
	}
	sp = H5Screate_simple(t->rank, dims, maxd);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	if (chunked) {
		H5Pset_chunk(dcpl, t->rank, chunk);
		if (spec->deflate > 0) {
			if (!spec->no_shuffle)
				H5Pset_shuffle(dcpl);
			H5Pset_deflate(dcpl, (unsigned)SC_MIN(spec->deflate, 9));
		}
		/* every row is written: no fill values to store first */
		H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
	}
	lcpl = ds_h5_lcpl();
	ft = element_type(spec, 1, -1);
	t->mt = element_type(spec, 0, -1);
	t->d = H5Dcreate2(f->fid, name, ft, sp, lcpl, dcpl, H5P_DEFAULT);
	if (t->d < 0)
		error("cannot create table '%s' in '%s': %s", name, f->path, ds_h5_strerror());
	else if (fixed < 0)
		table_direct_setup_write(t, ft);
	H5Tclose(ft);
	H5Pclose(lcpl);
	H5Pclose(dcpl);
	H5Sclose(sp);
	if (t->d < 0 || write_column_attrs(t)) {
		table_free(t);
		return NULL;
	}
	if (fixed < 0)
		t->buf = xmallocarray(t->cap, t->row_bytes);
	return t;
}

struct ds_table *ds_table_create(struct ds_file *f, const char *name,
				 const struct ds_table_spec *spec)
{
	return table_create(f, name, spec, -1);
}

/* write n rows at row `at` (the dataset already holds at + n rows) */
static int table_write_rows(struct ds_table *t, uint64_t at, const void *rows, uint64_t n)
{
	hsize_t off[4] = { at }, cnt[4] = { n };
	hid_t fs, ms;
	int ret = 0;

	for (int i = 1; i < t->rank; i++)
		cnt[i] = t->inner[i - 1];
	fs = H5Dget_space(t->d);
	H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
	ms = H5Screate_simple(t->rank, cnt, NULL);
	if (H5Dwrite(t->d, t->mt, ms, fs, H5P_DEFAULT, rows) < 0)
		ret = error("cannot write table '%s' in '%s': %s", t->name, t->f->path,
			    ds_h5_strerror());
	H5Sclose(ms);
	H5Sclose(fs);
	return ret;
}

static int table_flush(struct ds_table *t)
{
	hsize_t size[4] = { t->rows + t->nbuf };
	int ret;

	if (!t->nbuf)
		return 0;
	ds_h5_init();
	for (int i = 1; i < t->rank; i++)
		size[i] = t->inner[i - 1];
	if (H5Dset_extent(t->d, size) < 0)
		return error("cannot extend table '%s' in '%s': %s", t->name, t->f->path,
			     ds_h5_strerror());
	ret = t->direct ? table_direct_write(t) : table_write_rows(t, t->rows, t->buf, t->nbuf);
	t->rows += t->nbuf;
	t->nbuf = 0;
	return ret;
}

int ds_table_append(struct ds_table *t, const void *rows, uint64_t n)
{
	const unsigned char *p = rows;

	if (t->failed || !t->writing)
		return -1;
	while (n) {
		uint64_t k = SC_MIN(n, t->cap - t->nbuf);

		memcpy(t->buf + t->nbuf * t->row_bytes, p, k * t->row_bytes);
		t->nbuf += k;
		p += k * t->row_bytes;
		n -= k;
		if (t->nbuf == t->cap && table_flush(t)) {
			t->failed = 1;
			return -1;
		}
	}
	return 0;
}

int ds_table_write(struct ds_file *f, const char *name, const struct ds_table_spec *spec,
		   const void *rows, uint64_t n)
{
	struct ds_table *t = table_create(f, name, spec, (int64_t)n);
	int ret;

	if (!t)
		return -1;
	ret = n ? table_write_rows(t, 0, rows, n) : 0;
	t->rows = n;
	table_free(t);
	return ret;
}

uint64_t ds_table_rows(const struct ds_table *t)
{
	return t->rows + t->nbuf;
}

/* Does the file's member (class fc) read as column c? */
static int column_compatible(const struct ds_column *c, H5T_class_t fc)
{
	if (c->type == DS_STR)
		return fc == H5T_STRING;
	if (c->len > 1)
		return fc == H5T_ARRAY;
	if (fc == H5T_ENUM)
		return c->enum_names != NULL;
	return fc == H5T_INTEGER || fc == H5T_FLOAT;
}

static int check_layout(struct ds_table *t, hid_t ft)
{
	H5T_class_t fc = H5Tget_class(ft);
	const struct ds_table_spec *s = &t->spec;

	if (!s->cols) {
		if (fc != H5T_INTEGER && fc != H5T_FLOAT)
			return error("cannot read '%s': table '%s' does not hold numbers",
				     t->f->path, t->name);
		return 0;
	}
	if (fc != H5T_COMPOUND)
		return error("cannot read '%s': table '%s' has the wrong layout (not rows of columns)",
			     t->f->path, t->name);
	for (size_t i = 0; i < s->ncols; i++) {
		int idx = H5Tget_member_index(ft, s->cols[i].name);

		if (idx < 0)
			return error("cannot read '%s': table '%s' has no column '%s'", t->f->path,
				     t->name, s->cols[i].name);
		if (!column_compatible(&s->cols[i], H5Tget_member_class(ft, (unsigned)idx)))
			return error("cannot read '%s': column '%s' of table '%s' has the wrong type",
				     t->f->path, s->cols[i].name, t->name);
	}
	return 0;
}

struct ds_table *ds_table_open(struct ds_file *f, const char *name,
			       const struct ds_table_spec *spec, uint64_t max_rows)
{
	struct ds_table *t = xcalloc(1, sizeof(*t));
	uint64_t dims[4], bytes;
	hid_t ft = H5I_INVALID_HID;
	int rank;

	table_init(t, f, name, spec);
	rank = ds_array_dims(f, name, dims, 4);
	if (rank < 0)
		goto fail;
	if (rank != t->rank) {
		error("cannot read '%s': table '%s' has rank %d, expected %d", f->path, name, rank,
		      t->rank);
		goto fail;
	}
	for (int i = 1; i < rank; i++) {
		if (dims[i] != t->inner[i - 1]) {
			error("cannot read '%s': table '%s' has %llu columns in dimension %d, expected %llu",
			      f->path, name, (unsigned long long)dims[i], i + 1,
			      (unsigned long long)t->inner[i - 1]);
			goto fail;
		}
	}
	if (dims[0] > max_rows) {
		error("cannot read '%s': table '%s' has %llu rows, more than %llu allowed", f->path,
		      name, (unsigned long long)dims[0], (unsigned long long)max_rows);
		goto fail;
	}
	t->rows = dims[0];
	t->d = H5Dopen2(f->fid, name, H5P_DEFAULT);
	ft = H5Dget_type(t->d);
	if (t->d < 0 || ft < 0 || check_layout(t, ft))
		goto fail;
	/* bytes the rows need as stored: rows the file does not hold would read as zeros */
	bytes = t->rows * H5Tget_size(ft);
	for (int i = 1; i < rank; i++)
		bytes *= t->inner[i - 1];
	if (ds_check_storage(f, t->d, name, bytes))
		goto fail;
	t->mt = element_type(spec, 0, ft);
	table_direct_setup_read(t, ft);
	H5Tclose(ft);
	return t;
fail:
	if (ft >= 0)
		H5Tclose(ft);
	table_free(t);
	return NULL;
}

int ds_table_read(struct ds_table *t, uint64_t start, uint64_t n, void *rows)
{
	hsize_t off[4] = { start }, cnt[4] = { n };
	hid_t fs, ms;
	int ret = 0;

	if (start > t->rows || n > t->rows - start)
		return error("cannot read '%s': rows %llu..%llu of table '%s' out of range (%llu rows)",
			     t->f->path, (unsigned long long)start, (unsigned long long)(start + n),
			     t->name, (unsigned long long)t->rows);
	if (!n)
		return 0;
	if (t->direct) {
		uint64_t bad = start;

		ret = table_direct_read(t, start, n, rows, &bad);
		if (ret < 0)
			return error("cannot read '%s': table '%s' is damaged near row %llu",
				     t->f->path, t->name, (unsigned long long)bad);
		if (!ret)
			return 0;
		ret = 0;
	}
	for (int i = 1; i < t->rank; i++)
		cnt[i] = t->inner[i - 1];
	fs = H5Dget_space(t->d);
	H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
	ms = H5Screate_simple(t->rank, cnt, NULL);
	if (H5Dread(t->d, t->mt, ms, fs, H5P_DEFAULT, rows) < 0)
		ret = error("cannot read '%s': table '%s' is damaged near row %llu", t->f->path,
			    t->name, (unsigned long long)start);
	H5Sclose(ms);
	H5Sclose(fs);
	return ret;
}

int ds_table_read_all(struct ds_file *f, const char *name, const struct ds_table_spec *spec,
		      void **rows, uint64_t *n, uint64_t max_rows)
{
	struct ds_table *t = ds_table_open(f, name, spec, max_rows);
	void *buf;

	*rows = NULL;
	*n = 0;
	if (!t)
		return -1;
	buf = xcalloc(t->rows ? t->rows : 1, t->row_bytes);
	if (ds_table_read(t, 0, t->rows, buf)) {
		free(buf);
		ds_table_close(t);
		return -1;
	}
	*rows = buf;
	*n = t->rows;
	ds_table_close(t);
	return 0;
}

int ds_table_close(struct ds_table *t)
{
	int ret = 0;

	if (!t)
		return 0;
	if (t->writing && !t->failed)
		ret = table_flush(t);
	else if (t->failed)
		ret = -1;
	if (zq_drain(t))
		ret = -1;
	table_free(t);
	return ret;
}

void ds_table_discard(struct ds_table *t)
{
	if (t)
		table_free(t);
}
