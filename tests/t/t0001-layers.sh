#!/usr/bin/env bash
# The layer order holds, the checker catches a back-edge, an HDF5 call
# outside data/ds.c and a fork outside common/run-command.c, and every public
# header compiles on its own; every exported function has a caller outside
# its own file (scripts/check-exports).
. "$(dirname "$0")/lib.sh"

test_expect_success 'no include goes against the layer order' '
	"$TEST_TOP/scripts/check-layers"
'

test_expect_success 'the checker catches a back-edge and hdf5.h outside data/' '
	cp -r "$TEST_TOP/scripts" "$TEST_TOP/common" . && mkdir -p data &&
	git init -q . &&
	printf "#include \"model/lstm.h\"\n" >common/bad.h &&
	printf "#include <hdf5.h>\n" >common/bad2.h &&
	! scripts/check-layers >out &&
	grep -q "common/bad.h: includes model/" out &&
	grep -q "common/bad2.h: includes hdf5.h outside data/" out
'

test_expect_success 'the checker catches an HDF5 call outside data/ds.c, in data/ too' '
	rm -rf scripts data common .git &&
	cp -r "$TEST_TOP/scripts" . && mkdir -p data && git init -q . &&
	printf "void f(void) { H5Fflush(0, 0); }\n" >data/trace.c &&
	printf "void g(void) { H5Dclose(0); }\n" >data/ds.c &&
	! scripts/check-layers >out &&
	grep -q "data/trace.c: calls HDF5 (H5Fflush) outside data/ds.c" out &&
	! grep -q "^data/ds.c:" out
'

test_expect_success 'the checker catches a fork outside common/run-command.c' '
	rm -rf scripts data common collect .git &&
	cp -r "$TEST_TOP/scripts" . && mkdir -p collect common && git init -q . &&
	printf "int f(void) { return fork(); }\n" >collect/workload.c &&
	printf "int g(void) { return fork(); }\n" >common/run-command.c &&
	! scripts/check-layers >out &&
	grep -q "collect/workload.c: calls fork() outside common/run-command.c" out &&
	! grep -q "^common/run-command.c:" out
'

test_expect_success 'every exported function of the binary has a caller outside its file' '
	case $UNIT_DIR in /*) obj=${UNIT_DIR%/tests} ;; *) obj=$TEST_TOP/${UNIT_DIR%/tests} ;; esac &&
	"$TEST_TOP/scripts/check-exports" "$obj"
'

test_expect_success 'the export checker catches a function only its own file or a test calls' '
	rm -rf scripts data common collect .git Build obj &&
	cp -r "$TEST_TOP/scripts" . && mkdir -p common obj/common &&
	printf "common-y += a.c\ncommon-y += b.c\n" >common/Build &&
	printf "main-y += main.c\n" >Build &&
	printf "int used(void) { return 1; }\nint lonely(void) { return 2; }\nint self(void) { return lonely(); }\n" >common/a.c &&
	printf "int used(void);\nint b(void) { return used(); }\n" >common/b.c &&
	printf "int b(void);\nint self(void);\nint main(void) { return b() + self(); }\n" >main.c &&
	cc -c -o obj/common/a.o common/a.c && cc -c -o obj/common/b.o common/b.c &&
	cc -c -o obj/main.o main.c &&
	! scripts/check-exports obj >out &&
	grep -q "^common/a.c: lonely() is exported but nothing outside common/a.c calls it" out &&
	test $(wc -l <out) = 1 &&
	printf "int lonely(void);\nint b(void) { return lonely(); }\n" >common/b.c &&
	cc -c -o obj/common/b.o common/b.c &&
	! scripts/check-exports obj >out &&
	grep -q "^common/a.c: used() is exported" out &&
	rm obj/main.o && ! scripts/check-exports obj >out &&
	grep -q "obj/main.o is missing" out
'

test_expect_success 'every header compiles on its own' '
	cd "$TEST_TOP" &&
	flags="-std=gnu11 -D_GNU_SOURCE -I. $(pkg-config --cflags libtracefs libtraceevent hdf5-serial libtracecmd)" &&
	for h in $(git ls-files "*.h" | grep -v "^tests/"); do
		echo "#include \"$h\"" | cc $flags -fsyntax-only -x c - || { echo "header $h does not stand alone"; exit 1; }
	done
'

test_done
