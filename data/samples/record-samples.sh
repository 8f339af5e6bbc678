#!/bin/sh
# Re-record the sample traces in this directory (needs root and tracefs; the
# workloads come from Debian packages that `scripts/install-deps --samples`
# installs: apache2-utils, rt-tests, sysbench, postgresql).  README says what
# each holds.
#
#   data/samples/record-samples.sh [NAME...]
#	mixed webserver build periodic-hogs hackbench sysbench database drift
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
SC=${SCHEDCAST:-$top/schedcast}
cd "$here"
names=${*:-mixed webserver build periodic-hogs hackbench sysbench database drift}

# database: a private PostgreSQL cluster on a Unix socket in a temporary
# directory (never the system's cluster), run as the postgres user
pg_bin() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

for name in $names; do
	case $name in
	mixed)
		"$SC" record -d 8s -o mixed.h5 -- "$SC" workload -d 8s -s 1
		;;
	webserver)
		root=$(mktemp -d)
		head -c 16384 /dev/zero | tr '\0' x >"$root/index.html"
		python3 -m http.server 8765 --bind 127.0.0.1 --directory "$root" >/dev/null 2>&1 &
		server=$!
		for i in 1 2 3 4 5 6 7 8 9 10; do
			curl -s -o /dev/null http://127.0.0.1:8765/index.html && break
			sleep 0.3
		done
		"$SC" record -d 3s -o webserver.h5 -- ab -q -t 3 -n 1000000 -c 8 http://127.0.0.1:8765/index.html
		kill $server
		rm -rf "$root"
		;;
	build)
		src=$(mktemp -d)
		# schedcast itself, as committed: a clean parallel build
		git -C "$top" archive HEAD | tar -x -C "$src"
		"$SC" record -d 10s -o build.h5 -- make -C "$src" -j2 schedcast
		rm -rf "$src"
		;;
	periodic-hogs)
		"$SC" record -d 8s -o periodic-hogs.h5 -- sh -c \
			"'$SC' workload -p hogs --hogs 2 -d 8s -s 1 & cyclictest -q -t 1 -i 1000 -D 8 -h 2000 | tail -4; wait"
		;;
	hackbench)
		# process mode, 4 groups of 20 senders and 20 receivers: 160 tasks
		# on 2 CPUs, about 25 candidates a decision; stopped after 1.5 s by
		# the recorder (SIGTERM) while it still runs
		"$SC" record -d 1500ms -o hackbench.h5 -- hackbench -g 4 -l 2000
		;;
	sysbench)
		# 8 threads taking 8 shared mutexes and yielding 20 times each
		# request, 1000 requests/s in all
		"$SC" record -d 3s -o sysbench.h5 -- sysbench threads --threads=8 \
			--thread-yields=20 --rate=1000 --time=3 run
		;;
	database)
		bin=$(pg_bin)
		[ -n "$bin" ] || { echo "database: PostgreSQL not installed" >&2; exit 1; }
		db=$(mktemp -d)
		chown postgres "$db"
		runuser -u postgres -- "$bin/initdb" -D "$db/data" -A trust -U postgres >/dev/null
		runuser -u postgres -- "$bin/pg_ctl" -D "$db/data" -l "$db/log" -w \
			-o "-k $db -p 54329 -c listen_addresses=''" start >/dev/null
		runuser -u postgres -- "$bin/pgbench" -h "$db" -p 54329 -i -s 2 -q postgres \
			>/dev/null 2>&1
		# pgbench's TPC-B-like transactions, 8 clients on 2 threads at
		# 500 transactions/s in all
		"$SC" record -d 3s -o database.h5 -- runuser -u postgres -- "$bin/pgbench" \
			-h "$db" -p 54329 -c 8 -j 2 -R 500 -T 3 postgres || true
		runuser -u postgres -- "$bin/pg_ctl" -D "$db/data" -w -m fast stop >/dev/null
		rm -rf "$db"
		;;
	drift)
		# a ping-pong pair and the periodic task alone (few contested
		# decisions), then a 2 s burst of sysbench threads at the end: its
		# contested decisions fall after the 70% training split
		"$SC" record -d 12s -o drift.h5 -- sh -c \
			"'$SC' workload -p pingpong,periodic -d 10s -s 1 >/dev/null; sysbench threads --threads=8 --thread-yields=20 --rate=1000 --time=2 run >/dev/null"
		;;
	*)
		echo "unknown sample '$name'" >&2
		exit 2
		;;
	esac
done
ls -l *.h5
