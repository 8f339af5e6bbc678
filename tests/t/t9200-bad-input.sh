#!/usr/bin/env bash
# The bad-input corpus (tests/data/bad/, see its README) through every
# command that reads that kind of input: each must exit 1 or 2 with a
# one-line message naming the file, and leave no output file (nor a
# temporary) behind.  Plus: a directory, a missing file, a file without read
# permission, and an output path in a missing directory.
. "$(dirname "$0")/lib.sh"

BAD=$TEST_DATA/bad

# check_bad NAME CMD...: CMD exits 1 or 2, says one line naming NAME, and
# out/ (where every output of CMD goes) is still empty afterwards
check_bad() {
	local name=$1 rc=0
	shift
	rm -rf out && mkdir out
	"$@" >stdout 2>err || rc=$?
	if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then
		echo "FAIL: exit $rc from: $*"
		head -5 err
		return 1
	fi
	if ! test_one_line_error err "$name" 2>msg; then
		echo "FAIL: from: $*"
		cat msg
		return 1
	fi
	if [ -n "$(ls -A out)" ]; then
		echo "FAIL: '$*' left behind: $(ls -A out)"
		return 1
	fi
	if ls -A in | grep -q '\.tmp\.'; then
		echo "FAIL: '$*' left a temporary in in/: $(ls -A in | grep '\.tmp\.')"
		return 1
	fi
}

# every_bad KIND... [!GLOB...] -- CMD-TEMPLATE: run check_bad for each file of
# the kinds but those matching a GLOB, with @ in the template replaced by the
# file; all failures are listed
every_bad() {
	local files=() skip=() fails=0 f s
	while [ "$1" != -- ]; do
		case $1 in
		any) files+=(empty.h5 random.bin hello.txt trace-truncated.h5 trace-wrong-magic.h5
			trace-no-checksums.h5 no-such-file.h5 a-directory.h5) ;;
		!*) skip+=("${1#!}") ;;
		*) for f in "$BAD"/$1-*; do files+=("$(basename "$f")"); done ;;
		esac
		shift
	done
	shift
	for f in "${files[@]}"; do
		for s in "${skip[@]}"; do
			case $f in $s) continue 2 ;; esac
		done
		local cmd=("${@//@/in/$f}")
		check_bad "in/$f" "${cmd[@]}" || fails=$((fails + 1))
	done
	echo "${#files[@]} inputs, $fails failed"
	[ $fails -eq 0 ]
}

test_expect_success 'setup: the corpus, valid companions, a directory' '
	mkdir in &&
	cp "$BAD"/* in/ && rm -f in/make-bad.sh in/README in/expected-errors &&
	mkdir in/a-directory.h5 &&
	cat >ev.txt <<-EOT &&
	@cpus 2
	1000 0 wakeup pid=10 prio=120 target_cpu=0 comm=a
	2000 0 switch pid=0 prio=120 state=0 next_pid=10 next_prio=120 comm=swapper/0 next_comm=a
	3000 1 switch pid=0 prio=120 state=0 next_pid=11 next_prio=120 comm=swapper/1 next_comm=b
	EOT
	mktrace trace.h5 <ev.txt &&
	mkwindows -n 40 windows.h5 &&
	schedcast train -q -o model.h5 --epochs 1 --hidden 4 windows.h5 &&
	ls in | wc -l >count && test "$(cat count)" -ge 40
'

test_expect_success 'info refuses every bad file' '
	every_bad any trace windows model import "!*-rows-*" "!windows-table-*" -- schedcast info @
'

test_expect_success 'import refuses every bad input' '
	every_bad any import -- schedcast import -o out/t.h5 @
'

test_expect_success 'features refuses every bad trace' '
	every_bad any trace windows model -- schedcast features -o out/w.h5 @
'

test_expect_success 'report refuses every bad trace' '
	every_bad any trace windows -- schedcast report -o out/r.txt @
'

test_expect_success 'report refuses every bad windows and model file' '
	every_bad any windows trace -- schedcast report -o out/r.txt trace.h5 --windows @ &&
	every_bad any model windows -- schedcast report -o out/r.txt trace.h5 --windows windows.h5 --model @
'

test_expect_success 'train refuses every bad windows file' '
	every_bad any windows trace model -- schedcast train -q -o out/m.h5 @
'

test_expect_success 'eval refuses every bad windows and model file' '
	every_bad any windows trace -- schedcast eval -m model.h5 @ &&
	every_bad any model windows trace -- schedcast eval -m @ windows.h5
'

# expect_error FILE MESSAGE CMD...: CMD fails with one line naming FILE and saying MESSAGE
expect_error() {
	local f=$1 msg=$2 rc=0
	shift 2
	"$@" >stdout 2>err || rc=$?
	if [ $rc -ne 1 ] || ! test_one_line_error err "$f" 2>/dev/null || ! grep -qF -- "$msg" err; then
		echo "FAIL: exit $rc from '$*', wanted: $msg"; cat err
		return 1
	fi
}

test_expect_success 'bad values: each reader gives the expected one-line error' '
	fails=0 &&
	while IFS="	" read -r f msg; do
		case $f in "#"*|"") continue ;; esac
		cmds=()
		case $f in
		model-*) cmds=("info in/$f" "eval -m in/$f windows.h5"
			       "report -o out/r.txt trace.h5 --windows windows.h5 --model in/$f") ;;
		trace-*) cmds=("info in/$f" "features -o out/w.h5 in/$f" "report -o out/r.txt in/$f") ;;
		windows-rows-*) cmds=("eval --split all in/$f" "train -q -o out/m.h5 in/$f") ;;
		windows-*) cmds=("info in/$f" "eval --split all in/$f" "train -q -o out/m.h5 in/$f") ;;
		esac
		test ${#cmds[@]} -gt 0 || { echo "no commands for $f"; fails=$((fails + 1)); }
		for c in "${cmds[@]}"; do
			rm -rf out && mkdir out
			expect_error "in/$f" "$msg" schedcast $c || fails=$((fails + 1))
			test -z "$(ls -A out)" || { echo "FAIL: $c left $(ls -A out)"; fails=$((fails + 1)); }
		done
	done <"$BAD/expected-errors" &&
	test $fails -eq 0
'

test_expect_success 'the valid companions are accepted (the checks can pass)' '
	schedcast info trace.h5 windows.h5 model.h5 >/dev/null &&
	schedcast eval -m model.h5 windows.h5 >/dev/null &&
	schedcast report -o r.txt trace.h5 && test -s r.txt
'

test_expect_success 'an output path in a missing directory: one line naming it, nothing written' '
	printf "%s\n" "          <idle>-0       [000] d..2.  3389.244446: sched_switch: prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=a next_pid=10 next_prio=120" >ok.txt &&
	fails=0 &&
	for cmd in "import -o nodir/sub/o.h5 ok.txt" "features -o nodir/sub/o.h5 trace.h5" \
		   "train -q -o nodir/sub/o.h5 windows.h5" "report -o nodir/sub/o.h5 trace.h5"; do
		rc=0; schedcast $cmd >/dev/null 2>err || rc=$?
		if [ $rc -ne 1 ] || ! test_one_line_error err nodir/sub/o.h5 || [ -e nodir ]; then
			echo "FAIL: schedcast $cmd: exit $rc"; cat err; fails=$((fails + 1))
		fi
	done &&
	test $fails -eq 0
'

if [ "$(id -u)" != 0 ]; then
	unreadable_as() { "$@"; }
elif command -v setpriv >/dev/null &&
     setpriv --reuid=65534 --regid=65534 --clear-groups "$SCHEDCAST" version >/dev/null 2>&1; then
	unreadable_as() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
fi
if [ "$(type -t unreadable_as)" = function ]; then
	test_expect_success 'a file without read permission: every reader refuses it' '
		chmod 755 "$TRASH" &&
		mkdir -m 777 p && cp trace.h5 windows.h5 model.h5 p/ && cp in/import-corrupt.txt p/t.txt &&
		for f in trace windows model; do cp p/$f.h5 p/locked-$f.h5; done &&
		cp p/t.txt p/locked.txt && chmod 000 p/locked-* p/locked.txt &&
		chmod 644 p/trace.h5 p/windows.h5 p/model.h5 &&
		fails=0 &&
		while read -r name cmd; do
			rc=0; unreadable_as "$SCHEDCAST" $cmd >/dev/null 2>p/err || rc=$?
			if [ $rc -ne 1 ] || ! test_one_line_error p/err "$name"; then
				echo "FAIL: schedcast $cmd: exit $rc"; cat p/err; fails=$((fails + 1))
			fi
			if ls -A p | grep -q "^o\|\.tmp\."; then echo "FAIL: $cmd left $(ls -A p)"; fails=$((fails + 1)); fi
		done <<-EOT &&
		p/locked-trace.h5 info p/locked-trace.h5
		p/locked.txt import -o p/o.h5 p/locked.txt
		p/locked-trace.h5 features -o p/o.h5 p/locked-trace.h5
		p/locked-trace.h5 report -o p/o.txt p/locked-trace.h5
		p/locked-windows.h5 train -q -o p/o.h5 p/locked-windows.h5
		p/locked-windows.h5 eval -m p/model.h5 p/locked-windows.h5
		p/locked-model.h5 eval -m p/locked-model.h5 p/windows.h5
		EOT
		grep -q "ermission" p/err &&
		test $fails -eq 0
	'
else
	test_skip 'a file without read permission' 'root reads anything, and setpriv cannot run schedcast as nobody here (no setpriv, or the binary is not reachable for nobody)'
fi

test_done
