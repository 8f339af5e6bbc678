// SPDX-License-Identifier: GPL-2.0
/*
 * mkbad - damage a valid schedcast HDF5 file in one precise way, for the
 * bad-input corpus (tests/data/bad/, see its README).  Raw HDF5 on purpose:
 * the ds_ API refuses to write most of these.
 *
 *   mkbad IN OUT OP ARGS [OP ARGS]...
 *     set-int OBJ ATTR N      attribute ATTR of OBJ ("/" = root) := int64 N
 *     set-str OBJ ATTR S      := string S
 *     del-attr OBJ ATTR       remove it
 *     extent DSET ROWS        replace DSET by a chunked one of the same type
 *                             and shape but ROWS rows, none of them written
 *                             (a huge declared size backed by no data)
 *     retype DSET             replace DSET by a float64 one of the same shape
 *     unlink DSET             remove DSET
 *     poke DSET ROW FIELD N   compound field FIELD of row ROW := N
 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, const char *name)
{
	fprintf(stderr, "mkbad: %s '%s' failed\n", what, name);
	exit(1);
}

static void copy_file(const char *in, const char *out)
{
	FILE *a = fopen(in, "rb"), *b = fopen(out, "wb");
	char buf[65536];
	size_t n;

	if (!a || !b)
		fail("copy", in);
	while ((n = fread(buf, 1, sizeof(buf), a)) > 0)
		if (fwrite(buf, 1, n, b) != n)
			fail("copy", out);
	fclose(a);
	if (fclose(b))
		fail("copy", out);
}

static void set_attr(hid_t f, const char *obj, const char *name, hid_t type, const void *v)
{
	hid_t o = H5Oopen(f, obj, H5P_DEFAULT), sp = H5Screate(H5S_SCALAR), a;

	if (o < 0)
		fail("open object", obj);
	if (H5Aexists(o, name) > 0)
		H5Adelete(o, name);
	a = H5Acreate2(o, name, type, sp, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0 || H5Awrite(a, type, v) < 0)
		fail("write attribute", name);
	H5Aclose(a);
	H5Sclose(sp);
	H5Oclose(o);
}

/* Replace dataset name by one of type t (NULL: its own), rows rows, chunked. */
static void replace(hid_t f, const char *name, hid_t t, hsize_t rows)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT), sp, ft, dcpl, nd;
	hsize_t dims[8], maxd[8], chunk[8];
	int rank;

	if (d < 0)
		fail("open dataset", name);
	sp = H5Dget_space(d);
	rank = H5Sget_simple_extent_ndims(sp);
	if (rank < 1 || rank > 8)
		fail("shape of", name);
	H5Sget_simple_extent_dims(sp, dims, NULL);
	ft = t >= 0 ? H5Tcopy(t) : H5Dget_type(d);
	H5Sclose(sp);
	H5Dclose(d);
	if (H5Ldelete(f, name, H5P_DEFAULT) < 0)
		fail("unlink", name);
	if (rows != (hsize_t)-1)
		dims[0] = rows;
	for (int i = 0; i < rank; i++) {
		maxd[i] = i ? dims[i] : H5S_UNLIMITED;
		chunk[i] = dims[i] ? (i ? dims[i] : 64) : 1;
	}
	sp = H5Screate_simple(rank, dims, maxd);
	dcpl = H5Pcreate(H5P_DATASET_CREATE);
	H5Pset_chunk(dcpl, rank, chunk);
	nd = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (nd < 0)
		fail("create dataset", name);
	H5Dclose(nd);
	H5Pclose(dcpl);
	H5Sclose(sp);
	H5Tclose(ft);
}

static void poke(hid_t f, const char *name, hsize_t row, const char *field, long long v)
{
	hid_t d = H5Dopen2(f, name, H5P_DEFAULT), fs, ms, mt;
	hsize_t one = 1;

	if (d < 0)
		fail("open dataset", name);
	mt = H5Tcreate(H5T_COMPOUND, sizeof(v));
	H5Tinsert(mt, field, 0, H5T_NATIVE_LLONG);
	fs = H5Dget_space(d);
	H5Sselect_hyperslab(fs, H5S_SELECT_SET, &row, NULL, &one, NULL);
	ms = H5Screate_simple(1, &one, NULL);
	if (H5Dwrite(d, mt, ms, fs, H5P_DEFAULT, &v) < 0)
		fail("poke", field);
	H5Sclose(ms);
	H5Sclose(fs);
	H5Tclose(mt);
	H5Dclose(d);
}

int main(int argc, char **argv)
{
	hid_t fapl, f;
	int i = 3;

	if (argc < 4) {
		fprintf(stderr, "usage: mkbad IN OUT OP ARGS [OP ARGS]...\n");
		return 2;
	}
	copy_file(argv[1], argv[2]);
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18);
	f = H5Fopen(argv[2], H5F_ACC_RDWR, fapl);
	if (f < 0)
		fail("open", argv[2]);
	while (i < argc) {
		const char *op = argv[i];
		int left = argc - i - 1;

		if (!strcmp(op, "set-int") && left >= 3) {
			long long v = strtoll(argv[i + 3], NULL, 0);

			set_attr(f, argv[i + 1], argv[i + 2], H5T_NATIVE_LLONG, &v);
			i += 4;
		} else if (!strcmp(op, "set-str") && left >= 3) {
			hid_t t = H5Tcopy(H5T_C_S1);

			H5Tset_size(t, strlen(argv[i + 3]) ? strlen(argv[i + 3]) : 1);
			set_attr(f, argv[i + 1], argv[i + 2], t, argv[i + 3]);
			H5Tclose(t);
			i += 4;
		} else if (!strcmp(op, "del-attr") && left >= 2) {
			if (H5Adelete_by_name(f, argv[i + 1], argv[i + 2], H5P_DEFAULT) < 0)
				fail("delete attribute", argv[i + 2]);
			i += 3;
		} else if (!strcmp(op, "extent") && left >= 2) {
			replace(f, argv[i + 1], -1, strtoull(argv[i + 2], NULL, 0));
			i += 3;
		} else if (!strcmp(op, "retype") && left >= 1) {
			replace(f, argv[i + 1], H5T_IEEE_F64LE, (hsize_t)-1);
			i += 2;
		} else if (!strcmp(op, "unlink") && left >= 1) {
			if (H5Ldelete(f, argv[i + 1], H5P_DEFAULT) < 0)
				fail("unlink", argv[i + 1]);
			i += 2;
		} else if (!strcmp(op, "poke") && left >= 4) {
			poke(f, argv[i + 1], strtoull(argv[i + 2], NULL, 0), argv[i + 3],
			     strtoll(argv[i + 4], NULL, 0));
			i += 5;
		} else {
			fprintf(stderr, "mkbad: bad operation '%s' (or missing arguments)\n", op);
			return 2;
		}
	}
	H5Pclose(fapl);
	if (H5Fclose(f) < 0)
		fail("close", argv[2]);
	return 0;
}
