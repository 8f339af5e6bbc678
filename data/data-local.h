/* SPDX-License-Identifier: GPL-2.0 */
/* data/ private declarations: the only header that includes hdf5.h. */
#ifndef SC_DATA_LOCAL_H
#define SC_DATA_LOCAL_H

#include <fcntl.h>
#include <hdf5.h>

#include "common/common.h"
#include "data/ds.h"
#include "data/trace.h"

struct ds_file {
	hid_t fid;
	char *path;
	char *tmp;	/* temporary name while writing, else NULL */
	int writing;
};

void ds_h5_init(void);
/*
 * ds_h5_errno - the errno HDF5's file driver recorded in the current error
 * stack (a failed write: ENOSPC, EDQUOT, EIO ...), 0 if none; read it right
 * after the failed call, before the next HDF5 call clears the stack.
 * ds_h5_strerror - its strerror(), or "HDF5 error".
 */
int ds_h5_errno(void);
const char *ds_h5_strerror(void);
hid_t ds_h5_mem_type(enum ds_type t);
hid_t ds_h5_lcpl(void);
int ds_check_readable(const char *path);
/* ds_h5_open_file - open read-only with one-line errors; <0 on failure */
hid_t ds_h5_open_file(const char *path);
/*
 * ds_check_storage - error unless dataset d (name) stores enough bytes to
 * hold `bytes` when decompressed (deflate expands at most ~1032:1): a
 * declared size the file cannot back is corruption, not a big dataset.
 */
int ds_check_storage(struct ds_file *f, hid_t d, const char *name, uint64_t bytes);
hid_t ds_h5_open_checked(const char *path, const char *format, int max_version, int *version);
/* ds_h5_create_file - create under a registered temporary name (*tmp) */
hid_t ds_h5_create_file(const char *path, char **tmp);

#endif /* SC_DATA_LOCAL_H */
