#!/usr/bin/env bash
# schedcast workload: the built-in mixed workload that run and live launch.
. "$(dirname "$0")/lib.sh"

test_expect_success 'a ping-pong with a round limit ends by itself after exactly N rounds' '
	schedcast workload -p pingpong --rounds 500 -d 0 >out &&
	grep -q "^workload ran .*: 500 ping-pong round trips$" out
'

test_expect_success 'every part runs and reports what it did' '
	schedcast workload -d 400ms --hogs 1 --period 5ms >out &&
	grep -q "ping-pong round trips" out &&
	grep -q "1 hogs ran [0-9]* bursts" out &&
	grep -q "periodic task woke [1-9][0-9]* times" out &&
	grep -q "short-lived children" out
'

test_expect_success 'SIGTERM stops it cleanly and no part outlives the leader' '
	schedcast workload -d 0 >out &
	pid=$! &&
	sleep 0.5 &&
	kids=$(pgrep -P $pid | tr "\n" " ") &&
	test -n "$kids" &&
	kill -TERM $pid &&
	wait $pid &&
	grep -q "^workload ran" out &&
	for k in $kids; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			[ "$(ps -o stat= -p $k 2>/dev/null | cut -c1)" = "" ] && break
			[ "$(ps -o stat= -p $k 2>/dev/null | cut -c1)" = Z ] && break
			sleep 0.1
		done
		s=$(ps -o stat= -p $k 2>/dev/null | cut -c1)
		[ -z "$s" ] || [ "$s" = Z ] || { echo "part $k still alive ($s)"; exit 1; }
	done
'

test_expect_success 'the parts carry their names' '
	schedcast workload -d 0 -p pingpong,periodic >out &
	pid=$! &&
	sleep 0.3 &&
	names=$(for k in $(pgrep -P $pid); do cat /proc/$k/comm; done | sort | tr "\n" " ") &&
	kill -TERM $pid && wait $pid &&
	test "$names" = "sc-periodic sc-ping sc-pong "
'

test_expect_success 'bad options are usage errors' '
	test_usage_error schedcast workload -p nosuchpart 2>err &&
	grep -q "nosuchpart" err &&
	test_usage_error schedcast workload --hogs 0 2>/dev/null &&
	test_usage_error schedcast workload --period 1us 2>/dev/null &&
	test_usage_error schedcast workload -d forever 2>/dev/null &&
	test_usage_error schedcast workload extra 2>/dev/null &&
	schedcast workload -h | grep -q "^usage: schedcast workload"
'

test_done
