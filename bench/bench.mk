# SPDX-License-Identifier: GPL-2.0
# The benchmark suite: `make bench` (about 10 minutes on 2 cores), or
# `make bench BENCH_QUICK=1` for a ~3-minute smoke run.  Writes BENCHMARKS.md;
# never part of `make check`.  See bench/README.

BENCH_PROGS := $(O)/bench/bench-predict

$(O)/bench/%: bench/%.c $(LIB)
	$(Q)mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# The C helpers are built by run-bench itself (make bench-progs), so that one
# that cannot link yet marks its figure "not available" instead of stopping
# the suite.
bench-progs: $(BENCH_PROGS)

bench: $(PROG)
	$(Q)bench/run-bench $(if $(filter-out 0,$(BENCH_QUICK)),--quick) $(BENCH_ARGS)

.PHONY: bench bench-progs
