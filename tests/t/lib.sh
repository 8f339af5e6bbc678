# Shell test library, after git's t/test-lib.sh.  Source it first:
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'what it checks' '
#       commands...
#   '
#   test_skip 'what it would check' 'why it cannot run here'
#   test_done
# Each test runs in a fresh scratch directory ($TRASH) with $SCHEDCAST on
# PATH as "schedcast"; output is TAP lines.  Helpers: test_must_fail (exit 1),
# test_usage_error (exit 2), test_one_line_error FILE (stderr is one line
# that names the file), test_cmp, has_tracefs.
set -u
TEST_TOP=${TEST_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
SCHEDCAST=${SCHEDCAST:-$TEST_TOP/schedcast}
TEST_DATA=$TEST_TOP/tests/data
TEST_NAME=$(basename "$0" .sh)
TRASH=$(mktemp -d "/tmp/schedcast-$TEST_NAME.XXXXXX")
test_count=0
test_failed=0
mkdir -p "$TRASH/bin"
ln -sf "$SCHEDCAST" "$TRASH/bin/schedcast"
HELPER_DIR=$TEST_TOP/${UNIT_DIR:-build/tests}
for h in "$HELPER_DIR"/*; do
	case $h in */test-*|*.d) continue ;; esac
	[ -x "$h" ] && ln -sf "$h" "$TRASH/bin/$(basename "$h")"
done
export PATH="$TRASH/bin:$PATH"
trap 'cd /; rm -rf "$TRASH"' EXIT

test_expect_success() {
	local desc=$1 body=$2 out
	test_count=$((test_count + 1))
	out=$(cd "$TRASH" && eval "set -e; $body" 2>&1)
	if [ $? -eq 0 ]; then
		echo "ok $test_count - $desc"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $desc"
		printf '%s\n' "$out" | tail -20 | sed 's/^/#   /'
	fi
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count # skip $1: $2"
}

# test_must_fail CMD...: CMD exits 1 (failure, not a crash, not usage)
test_must_fail() {
	local rc=0
	"$@" || rc=$?
	if [ $rc -ne 1 ]; then
		echo "expected exit 1 from '$*', got $rc" >&2
		return 1
	fi
	return 0
}

# test_usage_error CMD...: CMD exits 2
test_usage_error() {
	local rc=0
	"$@" || rc=$?
	if [ $rc -ne 2 ]; then
		echo "expected exit 2 from '$*', got $rc" >&2
		return 1
	fi
	return 0
}

# test_one_line_error ERRFILE NAME: ERRFILE holds one line and it names NAME
test_one_line_error() {
	local n
	n=$(wc -l <"$1")
	if [ "$n" -ne 1 ]; then
		echo "expected a one-line error, got $n lines:" >&2
		cat "$1" >&2
		return 1
	fi
	if ! grep -qF -- "$2" "$1"; then
		echo "error does not name '$2':" >&2
		cat "$1" >&2
		return 1
	fi
}

test_cmp() {
	diff -u "$1" "$2"
}

# has_tracefs: root, and tracefs mounted or mountable, with sched events
# h5py_python - the first python3 that imports h5py (pyenv's or Debian's), or ""
h5py_python() {
	local p
	for p in python3 /usr/bin/python3; do
		if "$p" -c 'import h5py' 2>/dev/null; then echo "$p"; return; fi
	done
}

has_tracefs() {
	[ "$(id -u)" = 0 ] || { echo "not root"; return 1; }
	if [ ! -e /sys/kernel/tracing/events/sched/sched_switch ]; then
		mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	fi
	[ -e /sys/kernel/tracing/events/sched/sched_switch ] ||
		{ echo "tracefs is not mounted and cannot be"; return 1; }
	return 0
}

# test_lock NAME - hold a machine-wide lock until this test file ends, for
# tests that must not overlap (even across worktrees).  "bpf": t5300 runs a
# BPF program on every context switch of the machine (slower switches change
# what t5100 measures) and loading it changes /proc/kallsyms under t1004's
# trace-cmd
test_lock() {
	exec 9>"/tmp/schedcast-test-$1.lock"
	flock 9
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
}

# test_skip_rest_unless_command CMD TITLE REASON: without CMD, the rest of
# the script is one skipped test TITLE (REASON) and the script ends there
test_skip_rest_unless_command() {
	command -v "$1" >/dev/null 2>&1 && return 0
	test_skip "$2" "$3"
	test_done
	exit 0
}

# test_skip_rest_unless_h5py TITLE: PY, a python3 that imports h5py; without
# one, the rest of the script is one skipped test TITLE and the script ends
test_skip_rest_unless_h5py() {
	PY=$(h5py_python)
	[ -n "$PY" ] && return 0
	test_skip "$1" 'python3-h5py is not installed'
	test_done
	exit 0
}

# test_roundtrip_digests LIST 'DUMP1' 'DUMP2': for each line "FILE D1 D2 D3"
# of LIST ('#' comments), a test that DUMP1 FILE, DUMP2 FILE and schedcast
# info --json FILE, run from the top of the tree, print what digests (the
# first 16 hex digits of sha256) to D1 D2 D3: a committed file reads as
# before
test_roundtrip_digests() {
	local list=$1 dump1=$2 dump2=$3 file want1 want2 want3
	while read -r file want1 want2 want3; do
		case $file in '#'*|'') continue ;; esac
		test_expect_success "$file reads as before" '
			digest() { "$@" 2>&1 | sha256sum | cut -c1-16; } &&
			cd "$TEST_TOP" &&
			got="$(digest $dump1 "$file") $(digest $dump2 "$file") $(digest schedcast info --json "$file")" &&
			if [ "$got" != "$want1 $want2 $want3" ]; then
				echo "expected $want1 $want2 $want3" && echo "got      $got" && false
			fi
		'
	done <"$list"
}

# rr_trace [windows]: rr.h5 (from rr.events), the synthetic round-robin trace
# of tests/data/report/rr-trace.py whose answers are known; with "windows"
# also its windows w.h5
rr_trace() {
	python3 "$TEST_DATA/report/rr-trace.py" 200 >rr.events &&
	mktrace rr.h5 <rr.events &&
	if [ "${1:-}" = windows ]; then
		schedcast features -o w.h5 rr.h5 >/dev/null
	fi
}

# fill_to KIB: leave about KIB KiB free on the small tmpfs $full (the
# full-disk tests mount it)
fill_to() {
	rm -f "$full/fill" &&
	avail=$(df -k --output=avail "$full" | tail -1) &&
	if [ "$avail" -gt "$1" ]; then
		dd if=/dev/zero of="$full/fill" bs=1k count=$((avail - $1)) 2>/dev/null || :
	fi
}
