#!/bin/sh
# Re-record the sample traces in this directory (needs root and tracefs; the
# web-server sample needs ab from Debian's apache2-utils, the periodic one
# cyclictest from rt-tests).  README says what each holds.
#
#   data/samples/record-samples.sh [NAME...]    mixed webserver build periodic-hogs
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
SC=${SCHEDCAST:-$top/schedcast}
cd "$here"
names=${*:-mixed webserver build periodic-hogs}

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
	*)
		echo "unknown sample '$name'" >&2
		exit 2
		;;
	esac
done
ls -l *.h5
