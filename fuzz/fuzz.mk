# SPDX-License-Identifier: GPL-2.0
# fuzz/fuzz.mk - libFuzzer targets and the valgrind pass (included by the Makefile).
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_JOBS=2] [FUZZ_TARGETS="trace ..."]
#       build every fuzz/fuzz-<name>.c with clang -fsanitize=fuzzer,address,undefined
#       into build-fuzz/ (the library compiled with the same flags) and run each
#       target for FUZZ_SECONDS on FUZZ_JOBS cores, starting from its seeds in
#       fuzz/corpus/<name>/.  New coverage goes to build-fuzz/corpus/<name>/, a
#       finding to build-fuzz/findings/<name>/ (then: minimise it, fix the bug,
#       keep the input in fuzz/crashes/<name>/).  Fails if any target found one.
#   make fuzz-build      only build the fuzzers
#   make check-valgrind  the unit tests and the corpus replay under valgrind
#
# `make check` does not fuzz; it replays fuzz/corpus/ and fuzz/crashes/
# through the same target code built with the normal compiler
# (build/tests/fuzz-replay, tests/t/t9100-fuzz-corpus.sh).

FUZZ_O := build-fuzz
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_SRC := $(wildcard fuzz/fuzz-*.c)
FUZZ_NAMES := $(filter-out util,$(FUZZ_SRC:fuzz/fuzz-%.c=%))
FUZZ_LIB_SRC := fuzz/fuzz-util.c fuzz/h5mut.c
FUZZ_DEFS := -DFUZZ_TOP='"$(CURDIR)"'
FUZZ_TARGETS ?= $(FUZZ_NAMES)
FUZZ_BIN := $(FUZZ_NAMES:%=$(FUZZ_O)/fuzz-%)
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer

# The replayer: every target plus fuzz/replay.c, built like a test helper.
FUZZ_REPLAY_SRC := fuzz/replay.c $(FUZZ_LIB_SRC) $(filter-out fuzz/fuzz-util.c,$(FUZZ_SRC))

$(O)/tests/fuzz-replay: $(FUZZ_REPLAY_SRC) fuzz/fuzz.h $(LIB)
	$(Q)mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(filter-out -MMD -MP,$(ALL_CFLAGS)) $(FUZZ_DEFS) $(LDFLAGS) -o $@ \
		$(FUZZ_REPLAY_SRC) $(LIB) $(LIBS)

tests tests-asan: $(O)/tests/fuzz-replay

# The fuzzers: a sub-make builds the library into build-fuzz/ with clang and
# coverage instrumentation, then links each target with libFuzzer's main.
fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (Debian: clang libclang-rt-14-dev)" >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory O=$(FUZZ_O) CC=$(FUZZ_CC) OPT="-O1 -g" \
		SAN="-fsanitize=fuzzer-no-link $(FUZZ_SAN)" CFLAGS="-Wno-unknown-warning-option" \
		PROG=$(FUZZ_O)/schedcast fuzz-bins

FUZZ_LIB_OBJ = $(FUZZ_LIB_SRC:%.c=$(O)/%.o)
$(FUZZ_LIB_OBJ): ALL_CFLAGS += $(FUZZ_DEFS)

# The fixed-point model code shifts negative values left (UB in ISO C, an
# arithmetic shift as GCC defines it and as the model means it); clang's
# UBSan would stop every model run there.  Reported to the model's owner.
ifeq ($(O),$(FUZZ_O))
$(filter $(FUZZ_O)/model/%,$(LIB_OBJ)): ALL_CFLAGS += -fno-sanitize=shift-base
endif

fuzz-bins: $(FUZZ_LIB_OBJ) $(FUZZ_BIN)

$(FUZZ_O)/fuzz-%: fuzz/fuzz-%.c $(FUZZ_LIB_OBJ) fuzz/fuzz.h $(LIB)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(FUZZ_DEFS) -fsanitize=fuzzer -DSC_LIBFUZZER $(LDFLAGS) -o $@ \
		$< $(FUZZ_LIB_OBJ) $(LIB) $(LIBS)

# One target at a time, FUZZ_JOBS processes each (libFuzzer -fork), all
# sharing the target's corpus directory.  -timeout: one input taking more
# than 10 s is a finding (a hang); -rss_limit_mb: so is using 2 GiB.
fuzz: fuzz-build
	$(Q)fail=0; for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_O)/corpus/$$t $(FUZZ_O)/findings/$$t fuzz/corpus/$$t; \
		echo "   FUZZ    $$t ($(FUZZ_SECONDS) s, $(FUZZ_JOBS) jobs)"; \
		ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(FUZZ_O)/fuzz-$$t -fork=$(FUZZ_JOBS) -ignore_crashes=0 \
			-max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 \
			-artifact_prefix=$(FUZZ_O)/findings/$$t/ -print_final_stats=1 \
			$(FUZZ_O)/corpus/$$t fuzz/corpus/$$t >$(FUZZ_O)/fuzz-$$t.log 2>&1 || fail=1; \
		grep -E '^#[0-9]+:? ' $(FUZZ_O)/fuzz-$$t.log | tail -1; \
		grep -E '^(INFO: exiting|==[0-9]+==ERROR|SUMMARY|fuzz: )' $(FUZZ_O)/fuzz-$$t.log | head -4; \
		if ls $(FUZZ_O)/findings/$$t/ | grep -q .; then \
			echo "fuzz: $$t: findings in $(FUZZ_O)/findings/$$t/ (log: $(FUZZ_O)/fuzz-$$t.log)"; fail=1; fi; \
	done; exit $$fail

# Valgrind over the unit tests and the corpus replay (gcc build, not ASan:
# the two do not mix).  Zero errors and zero definite or indirect leaks.
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --num-callers=40 \
	--suppressions=fuzz/valgrind.supp \
	--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect
check-valgrind: tests
	@command -v valgrind >/dev/null || { echo "check-valgrind: valgrind not found (Debian: valgrind)" >&2; exit 1; }
	$(Q)mkdir -p $(O)/valgrind; fail=0; for t in $(UNIT_BIN); do \
		log=$(O)/valgrind/$$(basename $$t).log; \
		echo "   VALGRIND $$t"; \
		CMOCKA_MESSAGE_OUTPUT=TAP $(VALGRIND) $$t >$$log 2>&1 || \
			{ fail=1; echo "check-valgrind: $$t failed:"; grep -v '^ok' $$log | head -40; }; \
	done; \
	for t in $$($(O)/tests/fuzz-replay --list); do \
		echo "   VALGRIND fuzz-replay $$t"; \
		$(VALGRIND) $(O)/tests/fuzz-replay $$t $$(ls -d fuzz/corpus/$$t fuzz/crashes/$$t 2>/dev/null) \
			>$(O)/valgrind/fuzz-replay-$$t.log 2>&1 || \
			{ fail=1; echo "check-valgrind: fuzz-replay $$t failed:"; head -40 $(O)/valgrind/fuzz-replay-$$t.log; }; \
	done; \
	[ $$fail = 0 ] && echo "check-valgrind: clean"; exit $$fail

.PHONY: fuzz fuzz-build fuzz-bins check-valgrind

-include $(FUZZ_BIN:=.d)
