/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tests/unit/unit-test.h - what several unit tests share: a scratch
 * directory made by the group set-up and removed by its tear-down, and the
 * count of HDF5 objects left open.  Header-only: each test is one file.
 */
#ifndef SC_TESTS_UNIT_TEST_H
#define SC_TESTS_UNIT_TEST_H

#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/common.h"

/* the scratch directory of this test program, set by unit_tmpdir_setup() */
static char unit_dir[64];

/* unit_path - unit_dir/name; the caller frees it */
static inline char *unit_path(const char *name)
{
	return xstrfmt("%s/%s", unit_dir, name);
}

/*
 * unit_tmpdir_setup, unit_tmpdir_teardown - a cmocka group set-up and
 * tear-down: a fresh /tmp/sc-unit.XXXXXX, then removed with what it holds.
 */
static inline int unit_tmpdir_setup(void **state)
{
	snprintf(unit_dir, sizeof(unit_dir), "/tmp/sc-unit.XXXXXX");
	return mkdtemp(unit_dir) ? 0 : -1;
}

static inline int unit_tmpdir_teardown(void **state)
{
	char *cmd = xstrfmt("rm -rf '%s'", unit_dir);
	int ret = system(cmd);

	free(cmd);
	return ret;
}

/*
 * unit_h5_open_objects - HDF5 files, groups, datasets, types and attributes
 * still open in this process: 0 between data/ calls, else one leaked (the
 * storage layer holds HDF5 objects only in open tables and files).
 */
static inline long unit_h5_open_objects(void)
{
	return (long)H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL);
}

#endif /* SC_TESTS_UNIT_TEST_H */
