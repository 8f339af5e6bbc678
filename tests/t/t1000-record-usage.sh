#!/usr/bin/env bash
# schedcast record: options, usage errors and the refusals that need no kernel.
. "$(dirname "$0")/lib.sh"

test_expect_success 'record -h prints the usage with EXAMPLES and exits 0' '
	schedcast record -h >out &&
	grep -q "^usage: schedcast record " out &&
	grep -q "^EXAMPLES" out &&
	schedcast help | grep -q "^   record "
'

test_expect_success 'bad options and arguments exit 2' '
	test_usage_error schedcast record --bogus 2>/dev/null &&
	test_usage_error schedcast record -b ebpf 2>/dev/null &&
	test_usage_error schedcast record -d 0 2>/dev/null &&
	test_usage_error schedcast record -d soon 2>/dev/null &&
	test_usage_error schedcast record -e sched_switch,bogus 2>/dev/null &&
	test_usage_error schedcast record -e lost 2>/dev/null &&
	test_usage_error schedcast record -e , 2>/dev/null &&
	test_usage_error schedcast record -C 4096 2>/dev/null &&
	test_usage_error schedcast record -C x 2>/dev/null &&
	test_usage_error schedcast record --buffer-size 1k 2>/dev/null &&
	test_usage_error schedcast record --buffer-size 2G 2>/dev/null &&
	test_usage_error schedcast record -z 10 2>/dev/null &&
	test_usage_error schedcast record -z fast 2>/dev/null &&
	test_usage_error schedcast record stray-argument 2>/dev/null
'

test_expect_success 'a usage error names the bad value' '
	test_usage_error schedcast record -e sched_switch,bogus 2>err &&
	grep -q "unknown event .bogus." err &&
	test_usage_error schedcast record -b ebpf 2>err &&
	grep -q "unknown backend .ebpf." err
'

test_expect_success 'an output directory that does not exist: one line naming it, exit 1' '
	test_must_fail schedcast record -d 1s -o nodir/t.h5 2>err &&
	test_one_line_error err nodir &&
	! test -e nodir
'

# Dropping root needs root and setpriv; as another user, run as is.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	out_dir=$(mktemp -d /tmp/schedcast-t1000-user.XXXXXX)
	chmod 777 "$out_dir"
	trap 'cd /; rm -rf "$TRASH" "$out_dir"' EXIT
else
	as_user() { "$@"; }
	out_dir=$TRASH
fi

if [ "$(id -u)" = 0 ] && ! command -v setpriv >/dev/null; then
	test_skip 'without root: one line saying root is needed' 'setpriv is missing'
else
	for b in tracefs perf; do
		test_expect_success "without root ($b): one line saying root is needed, exit 1" '
			test_must_fail as_user "$SCHEDCAST" record -b '$b' -d 1s -o "$out_dir/u.h5" 2>err &&
			test_one_line_error err "needs root" &&
			! test -e "$out_dir/u.h5"
		'
	done
fi

test_done
