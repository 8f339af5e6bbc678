# SPDX-License-Identifier: GPL-2.0
# schedcast - one non-recursive Makefile.  Quiet by default; V=1 shows commands.
#
# Each module lists its sources in <module>/Build (perf's Build files), so a
# module's owner adds a file there and nowhere else.

# `make install PREFIX=/opt/x` and `prefix=/opt/x` both work (perf and git spellings).
PREFIX ?= /usr/local
prefix ?= $(PREFIX)
bindir ?= $(prefix)/bin
mandir ?= $(prefix)/share/man
DESTDIR ?=

# plain `make` builds the program, whatever rule an included file defines first
.DEFAULT_GOAL := all

CC ?= cc
O ?= build
PKGS := libtracefs libtraceevent hdf5-serial libtracecmd libdeflate

ifeq ($(V),1)
Q :=
QUIET_CC =
QUIET_LINK =
else
Q := @
QUIET_CC = @echo '   CC      '$@;
QUIET_LINK = @echo '   LINK    '$@;
QUIET_GEN = @echo '   GEN     '$@;
QUIET_BPF = @echo '   BPF     '$@;
endif

# `make install-deps <targets>` installs the Debian packages first (before the
# pkg-config checks below read them), then builds the targets.  The test-only
# packages (chromium, valgrind, clang, ...) only when a test target is asked for.
ifneq ($(filter install-deps,$(MAKECMDGOALS)),)
deps_args := $(if $(filter check check-asan check-valgrind fuzz%,$(MAKECMDGOALS)),--test)
deps_status := $(shell scripts/install-deps $(deps_args) >&2; echo $$?)
ifneq ($(deps_status),0)
$(error scripts/install-deps failed)
endif
endif

# trace-cmd's NOTICE: name the Debian package for anything missing.
pkg_deb_libtracefs := libtracefs-dev
pkg_deb_libtraceevent := libtraceevent-dev
pkg_deb_hdf5-serial := libhdf5-dev
pkg_deb_libtracecmd := libtracecmd-dev
pkg_deb_libdeflate := libdeflate-dev
missing := $(foreach p,$(PKGS),$(if $(shell pkg-config --exists $(p) 2>/dev/null && echo y),,$(pkg_deb_$(p))))
ifneq ($(strip $(missing)),)
ifeq ($(filter clean,$(MAKECMDGOALS)),)
$(error missing build dependencies: install Debian packages: $(missing) (or run scripts/install-deps))
endif
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wno-format-nonliteral -Wvla -Werror=implicit-function-declaration -Wno-format-truncation
OPT ?= -O2 -g
SAN ?=
CFLAGS ?=
ALL_CFLAGS := -std=gnu11 $(OPT) $(SAN) $(WARN) -I. $(PKG_CFLAGS) -D_GNU_SOURCE -MMD -MP $(CFLAGS)
LDFLAGS ?=
LIBS := $(PKG_LIBS) -lm -lpthread

MODULES := common data collect features model analyze
common-y :=
data-y :=
collect-y :=
features-y :=
model-y :=
analyze-y :=
include $(foreach m,$(MODULES),$(m)/Build)

LIB_SRC := $(foreach m,$(MODULES),$(addprefix $(m)/,$($(m)-y)))
LIB_OBJ := $(LIB_SRC:%.c=$(O)/%.o)
# The top floor (./Build): main.c and the run driver, outside the library.
main-y :=
include Build
MAIN_OBJ := $(main-y:%.c=$(O)/%.o)
LIB := $(O)/libschedcast.a
PROG := schedcast

# Fixed-point model code must build as kernel code does: no FPU registers.
# A file named model/fx*.c or model/*-fixed*.c gets -mgeneral-regs-only; any
# float or double in it is a compile error.
FIXED_SRC := $(filter model/fx%.c model/%-fixed.c model/%-fixed-%.c,$(LIB_SRC))
$(FIXED_SRC:%.c=$(O)/%.o): ALL_CFLAGS += -mgeneral-regs-only

# The in-kernel predictor (live --in-kernel): a BPF program built with clang
# for the bpf target against this kernel's BTF, and its bpftool skeleton,
# both in $(O)/bpf (generated, never in git).  Without clang, bpftool,
# libbpf-dev or /sys/kernel/btf/vmlinux the rest builds and --in-kernel says
# what is missing.  NO_BPF=1 skips it.
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || ls /usr/sbin/bpftool 2>/dev/null)
ifeq ($(NO_BPF),)
ifneq ($(and $(shell command -v $(CLANG) 2>/dev/null),$(BPFTOOL),$(shell pkg-config --exists libbpf 2>/dev/null && echo y),$(wildcard /sys/kernel/btf/vmlinux)),)
HAVE_BPF := 1
endif
endif
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/')
ifeq ($(HAVE_BPF),1)
LIBS += $(shell pkg-config --libs libbpf)
$(O)/analyze/live-bpf.o: ALL_CFLAGS += -DSC_HAVE_BPF -I$(O)/bpf
$(O)/analyze/live-bpf.o: $(O)/bpf/live.skel.h

$(O)/bpf/vmlinux.h:
	$(Q)mkdir -p $(dir $@)
	$(QUIET_GEN)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(O)/bpf/live.bpf.o: analyze/bpf/live.bpf.c analyze/bpf/live-bpf.h $(O)/bpf/vmlinux.h
	$(QUIET_BPF)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) -I$(O)/bpf -I. \
		-Wall -Wno-unused-function -c -o $@ $<

$(O)/bpf/live.skel.h: $(O)/bpf/live.bpf.o
	$(QUIET_GEN)$(BPFTOOL) gen skeleton $< name live_bpf > $@.tmp && mv $@.tmp $@
endif

UNIT_SRC := $(wildcard tests/unit/test-*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(O)/tests/%)

all: $(PROG)

$(PROG): $(MAIN_OBJ) $(LIB)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(LIB): $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

$(O)/%.o: %.c
	$(Q)mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/tests/%: tests/unit/%.c $(LIB)
	$(Q)mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS) -lcmocka

# Helper programs for the shell tests (tests/helpers/NAME.c -> build/tests/NAME).
HELPER_SRC := $(wildcard tests/helpers/*.c)
HELPER_BIN := $(HELPER_SRC:tests/helpers/%.c=$(O)/tests/%)

$(O)/tests/%: tests/helpers/%.c $(LIB)
	$(Q)mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LIBS)

# What a build without BPF (NO_BPF=1, or no clang/bpftool/libbpf-dev) makes
# of live --in-kernel, linked without libbpf beside the real program, so that
# `make check` proves that configuration compiles and says why the in-kernel
# predictor is unavailable (t5300).
NOBPF_OBJ := $(filter-out $(O)/analyze/live-bpf.o,$(LIB_OBJ)) $(O)/nobpf/live-bpf.o
$(O)/nobpf/live-bpf.o: analyze/live-bpf.c
	$(Q)mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(filter-out -DSC_HAVE_BPF,$(ALL_CFLAGS)) -c -o $@ $<
$(O)/tests/schedcast-nobpf: $(MAIN_OBJ) $(NOBPF_OBJ)
	$(Q)mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lm -lpthread

tests: $(PROG) $(UNIT_BIN) $(HELPER_BIN) $(O)/tests/schedcast-nobpf

# The whole suite: unit tests, end-to-end scripts, layering, man pages.
check: tests
	$(Q)tests/run-tests

# The same suite built with AddressSanitizer and UBSan, in its own tree.
check-asan:
	$(Q)$(MAKE) --no-print-directory O=build-asan SAN="-fsanitize=address,undefined -fno-omit-frame-pointer" \
		OPT="-O1 -g" PROG=build-asan/schedcast build-asan/schedcast tests-asan
	$(Q)SCHEDCAST=$(CURDIR)/build-asan/schedcast UNIT_DIR=build-asan/tests \
		ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 LSAN_OPTIONS=suppressions=$(CURDIR)/fuzz/lsan.supp:print_suppressions=0 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 tests/run-tests

tests-asan: $(UNIT_BIN) $(HELPER_BIN) $(O)/tests/schedcast-nobpf

# Fuzzing and benchmarks keep their rules beside their code.
-include fuzz/fuzz.mk
-include bench/bench.mk

datadir ?= $(prefix)/share/schedcast
# where an installed schedcast finds its samples and models when not beside its binary
$(O)/common/datafile.o: ALL_CFLAGS += -DSC_DATADIR='"$(datadir)"'

install: $(PROG)
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man1 $(DESTDIR)$(mandir)/man5 \
		$(DESTDIR)$(datadir)/samples $(DESTDIR)$(datadir)/models
	install -m 755 $(PROG) $(DESTDIR)$(bindir)/$(PROG)
	install -m 644 data/samples/*.h5 data/samples/README $(DESTDIR)$(datadir)/samples/
	install -m 644 data/models/general.h5 data/models/README $(DESTDIR)$(datadir)/models/
	install -m 644 man/*.1 $(DESTDIR)$(mandir)/man1/
	install -m 644 man/*.5 $(DESTDIR)$(mandir)/man5/

uninstall:
	rm -f $(DESTDIR)$(bindir)/$(PROG)
	rm -f $(addprefix $(DESTDIR)$(mandir)/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(mandir)/man5/,$(notdir $(wildcard man/*.5)))
	rm -rf $(DESTDIR)$(datadir)

install-deps:
	@:

# The general model shipped in data/models/ (-m general): retrain it on every
# sample trace (data/models/README says how long it takes).
general-model: $(PROG)
	data/models/train-general.sh

clean:
	rm -rf $(O) build-asan build-fuzz $(PROG)

.PHONY: all check check-asan tests tests-asan install uninstall install-deps general-model clean
.DELETE_ON_ERROR:

-include $(LIB_OBJ:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_BIN:=.d) $(HELPER_BIN:=.d)
