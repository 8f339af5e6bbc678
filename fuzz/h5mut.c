// SPDX-License-Identifier: GPL-2.0
/*
 * The structure-aware HDF5 fuzzer: a valid schedcast file (fuzz/bases/) is
 * changed by a list of operations decoded from the fuzz input, through the
 * HDF5 API, so that every change reaches our readers as a well-formed HDF5
 * file with checksums intact.  Mutating raw bytes instead only exercises
 * HDF5's checksum checks (see fuzz/README.md).
 *
 * Each operation is one byte (op % NR_OPS) and its arguments:
 *   set-int, set-str, set-double, delete an attribute of some object;
 *   overwrite bytes of some row of a dataset (raw, in the file's type);
 *   declare a dataset bigger or smaller than what is stored (no data);
 *   replace a dataset by one of another type, or of another rank;
 *   delete a dataset.
 * Objects and attributes are picked by index modulo what the file holds.
 *
 * fuzz/ is a test directory: it includes hdf5.h, as tests/helpers/mkbad.c
 * does, to make files the ds_ API refuses to write.
 */
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "fuzz/fuzz.h"

struct in {
	const uint8_t *p;
	size_t n;
};

static unsigned int u8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t u64(struct in *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | u8(in);
	return v;
}

/* Numbers that sit on the edges readers check. */
static int64_t pick_int(struct in *in)
{
	static const int64_t interesting[] = {
		0, 1, -1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 32, 63, 64, 120, 127, 128, 255, 256,
		999, 1000, 1023, 1024, 4095, 4096, 4097, 8191, 8192, 8193, 65535, 65536,
		INT32_MAX, (int64_t)INT32_MAX + 1, INT32_MIN, 1LL << 32, 1LL << 40, 1LL << 53,
		1LL << 62, INT64_MAX, INT64_MIN, -2, -1000,
	};
	unsigned int c = u8(in);

	if (c < 2 * ARRAY_SIZE(interesting))
		return interesting[c % ARRAY_SIZE(interesting)];
	if (c < 240)
		return (int64_t)(c - 2 * ARRAY_SIZE(interesting));
	return (int64_t)u64(in);
}

struct objs {
	char *names[64];	/* "/" and every dataset and group */
	int nr;
	int dsets[64];		/* indices of datasets */
	int nr_dsets;
};

static herr_t visit(hid_t o, const char *name, const H5O_info_t *info, void *data)
{
	struct objs *ob = data;

	if (ob->nr >= (int)ARRAY_SIZE(ob->names))
		return 1;
	if (info->type == H5O_TYPE_DATASET)
		ob->dsets[ob->nr_dsets++] = ob->nr;
	ob->names[ob->nr++] = xstrdup(!strcmp(name, ".") ? "/" : name);
	return 0;
}

static void objs_release(struct objs *ob)
{
	for (int i = 0; i < ob->nr; i++)
		free(ob->names[i]);
	memset(ob, 0, sizeof(*ob));
}

/* The name of attribute (index % count) of obj, or NULL; caller frees. */
static char *attr_name(hid_t f, const char *obj, unsigned int idx)
{
	H5O_info_t info;
	char buf[256];

	if (H5Oget_info_by_name(f, obj, &info, H5P_DEFAULT) < 0 || !info.num_attrs)
		return NULL;
	if (H5Aget_name_by_idx(f, obj, H5_INDEX_CRT_ORDER, H5_ITER_INC, idx % info.num_attrs, buf,
			       sizeof(buf), H5P_DEFAULT) < 0 &&
	    H5Aget_name_by_idx(f, obj, H5_INDEX_NAME, H5_ITER_INC, idx % info.num_attrs, buf,
			       sizeof(buf), H5P_DEFAULT) < 0)
		return NULL;
	return xstrdup(buf);
}

static void set_attr(hid_t f, const char *obj, const char *name, hid_t type, const void *v)
{
	hid_t o = H5Oopen(f, obj, H5P_DEFAULT), sp, a;

	if (o < 0)
		return;
	if (H5Aexists(o, name) > 0)
		H5Adelete(o, name);
	sp = H5Screate(H5S_SCALAR);
	a = H5Acreate2(o, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
	if (a >= 0) {
		H5Awrite(a, type, v);
		H5Aclose(a);
	}
	H5Sclose(sp);
	H5Oclose(o);
}

/* Replace dataset name: type t (-1: its own), first dimension rows (-1: its own), rank+extra. */
static void replace(hid_t f, const char *name, hid_t t, int64_t rows, int extra_rank)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT), sp, ft, dcpl, nd;
	hsize_t dims[8], maxd[8], chunk[8];
	int rank;

	if (d < 0)
		return;
	sp = H5Dget_space(d);
	rank = H5Sget_simple_extent_ndims(sp);
	if (rank < 0 || rank > 4) {
		H5Sclose(sp);
		H5Dclose(d);
		return;
	}
	if (rank)
		H5Sget_simple_extent_dims(sp, dims, NULL);
	ft = t >= 0 ? H5Tcopy(t) : H5Dget_type(d);
	H5Sclose(sp);
	H5Dclose(d);
	H5Ldelete(f, name, H5P_DEFAULT);
	if (!rank) {
		dims[0] = 1;
		rank = 1;
	}
	if (rows >= 0)
		dims[0] = (hsize_t)rows;
	for (int i = 0; i < extra_rank; i++)
		dims[rank++] = 2;
	for (int i = 0; i < rank; i++) {
		maxd[i] = i ? dims[i] : H5S_UNLIMITED;
		chunk[i] = i ? (dims[i] ? dims[i] : 1) : 64;
	}
	sp = H5Screate_simple(rank, dims, maxd);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, rank, chunk);
	nd = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (nd >= 0)
		H5Dclose(nd);
	H5Pclose(dcpl);
	H5Sclose(sp);
	H5Tclose(ft);
}

/* Overwrite up to 64 bytes of one row (all columns) of a fixed-size dataset. */
static void poke(hid_t f, const char *name, struct in *in)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT), fs = -1, ms = -1, ft = -1;
	hsize_t dims[8], start[8] = { 0 }, count[8];
	unsigned int row = u8(in) << 8 | u8(in), off = u8(in), len = u8(in) % 64;
	size_t rowbytes;
	int rank;
	unsigned char *buf = NULL;

	if (d < 0)
		return;
	ft = H5Dget_type(d);
	fs = H5Dget_space(d);
	rank = H5Sget_simple_extent_ndims(fs);
	if (rank < 1 || rank > 8 || H5Tis_variable_str(ft) > 0 || H5Tget_class(ft) == H5T_VLEN)
		goto out;
	H5Sget_simple_extent_dims(fs, dims, NULL);
	if (!dims[0])
		goto out;
	rowbytes = H5Tget_size(ft);
	for (int i = 1; i < rank; i++) {
		if (dims[i] > 4096)
			goto out;
		rowbytes *= dims[i];
	}
	if (!rowbytes || rowbytes > (1u << 20))
		goto out;
	start[0] = row % dims[0];
	count[0] = 1;
	for (int i = 1; i < rank; i++)
		count[i] = dims[i];
	H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL);
	ms = H5Screate_simple(rank, count, NULL);
	buf = xcalloc(1, rowbytes);
	if (H5Dread(d, ft, ms, fs, H5P_DEFAULT, buf) < 0)
		goto out;
	for (unsigned int i = 0; i < len; i++)
		buf[(off + i) % rowbytes] = (unsigned char)u8(in);
	H5Dwrite(d, ft, ms, fs, H5P_DEFAULT, buf);
out:
	free(buf);
	if (ms >= 0)
		H5Sclose(ms);
	H5Sclose(fs);
	H5Tclose(ft);
	H5Dclose(d);
}

static hid_t pick_type(struct in *in)
{
	switch (u8(in) % 5) {
	case 0: return H5T_IEEE_F64LE;
	case 1: return H5T_STD_I8LE;
	case 2: return H5T_STD_U64LE;
	case 3: return H5T_STD_I16BE;
	default: return H5T_C_S1;
	}
}

#define NR_OPS 9

const char *fuzz_h5_mutate(const char *base, const uint8_t *data, size_t size)
{
	static const char *const suffix = ".mut.h5";
	struct in in = { data, size };
	struct strbuf sb = STRBUF_INIT;
	struct objs ob = { 0 };
	const char *path;
	hid_t fapl, f;
	FILE *fp;
	char buf[65536];
	size_t n;

	fp = fopen(base, "rb");
	if (!fp) {
		fprintf(stderr, "fuzz: cannot open base file '%s'\n", base);
		abort();
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(fp);
	path = fuzz_tmpfile((const uint8_t *)sb.buf, sb.len, suffix);
	strbuf_release(&sb);
	if (!path)
		return NULL;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
	f = H5Fopen(path, H5F_ACC_RDWR, fapl);
	H5Pclose(fapl);
	if (f < 0)
		return NULL;
	for (int nops = 0; in.n && nops < 8; nops++) {
		unsigned int op = u8(&in) % NR_OPS;
		char *a = NULL;
		const char *obj, *ds;
		int64_t v;
		double dv;

		objs_release(&ob);
		H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, visit, &ob);
		if (!ob.nr)
			break;
		obj = ob.names[u8(&in) % ob.nr];
		ds = ob.nr_dsets ? ob.names[ob.dsets[u8(&in) % ob.nr_dsets]] : NULL;
		switch (op) {
		case 0:
			v = pick_int(&in);
			a = attr_name(f, obj, u8(&in));
			if (a)
				set_attr(f, obj, a, H5T_NATIVE_INT64, &v);
			break;
		case 1: {
			char s[32];
			unsigned int len = u8(&in) % 24;
			hid_t t = H5Tcopy(H5T_C_S1);

			for (unsigned int i = 0; i < len; i++)
				s[i] = (char)u8(&in);
			s[len] = '\0';
			H5Tset_size(t, len ? len : 1);
			a = attr_name(f, obj, u8(&in));
			if (a)
				set_attr(f, obj, a, t, s);
			H5Tclose(t);
			break;
		}
		case 2:
			v = pick_int(&in);
			memcpy(&dv, &v, sizeof(dv));
			if (u8(&in) & 1)
				dv = (double)v;
			a = attr_name(f, obj, u8(&in));
			if (a)
				set_attr(f, obj, a, H5T_NATIVE_DOUBLE, &dv);
			break;
		case 3:
			a = attr_name(f, obj, u8(&in));
			if (a)
				H5Adelete_by_name(f, obj, a, H5P_DEFAULT);
			break;
		case 4:
		case 5:
			if (ds)
				poke(f, ds, &in);
			break;
		case 6:
			if (ds) {
				v = pick_int(&in);
				replace(f, ds, -1, (int64_t)((uint64_t)v & ((1ULL << 45) - 1)), 0);
			}
			break;
		case 7:
			if (ds)
				replace(f, ds, pick_type(&in), -1, u8(&in) % 3 == 0);
			break;
		case 8:
			if (ds)
				H5Ldelete(f, ds, H5P_DEFAULT);
			break;
		}
		free(a);
	}
	objs_release(&ob);
	if (H5Fclose(f) < 0)
		return NULL;
	return path;
}

const char *fuzz_base(const char *name)
{
	static char path[4096];

	snprintf(path, sizeof(path), "%s/fuzz/bases/%s", FUZZ_TOP, name);
	return path;
}
