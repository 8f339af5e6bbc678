#!/usr/bin/env bash
# Manual pages: lint clean, one per command, SYNOPSIS = -h usage.
. "$(dirname "$0")/lib.sh"

test_expect_success 'every page lints and every SYNOPSIS matches -h' '
	"$TEST_TOP/scripts/check-man"
'

test_expect_success 'the checker notices a SYNOPSIS that drifted' '
	mkdir -p t/scripts t/man &&
	cp "$TEST_TOP/scripts/check-man" t/scripts/ &&
	cp "$TEST_TOP"/man/* t/man/ &&
	sed -i "s/\[\\\\-\\\\-json\]/[--jsonx]/" t/man/schedcast-info.1 &&
	! SCHEDCAST="$SCHEDCAST" t/scripts/check-man >out &&
	grep -q "^info: man SYNOPSIS" out
'

test_expect_success 'make install puts the binary and pages under DESTDIR' '
	make -s -C "$TEST_TOP" install DESTDIR="$TRASH/root" prefix=/usr >/dev/null &&
	test -x root/usr/bin/schedcast &&
	test -f root/usr/share/man/man1/schedcast.1 &&
	test -f root/usr/share/man/man5/schedcast-files.5 &&
	test -f root/usr/share/schedcast/samples/mixed.h5 &&
	test -f root/usr/share/schedcast/models/general.h5 &&
	root/usr/bin/schedcast version
'

test_done
