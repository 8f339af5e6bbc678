#!/bin/sh
# Rebuild the general model, data/models/general.h5: the windows of every
# sample trace in data/samples/ together (`schedcast features`, defaults:
# each trace split 70/15/15 by its own time), then `schedcast train` on
# them with the settings below (data/models/README: how long it takes).
#
#   data/models/train-general.sh [-o OUT.h5] [-x NAME]...
#	-o OUT.h5   where to write the model (default data/models/general.h5)
#	-x NAME     leave the sample NAME (e.g. hackbench) out (leave-one-out)
#
# Environment: SCHEDCAST (the binary, default ./schedcast at the top of the
# tree), GENERAL_EPOCHS, GENERAL_HIDDEN (the training settings).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
SC=${SCHEDCAST:-$top/schedcast}
EPOCHS=${GENERAL_EPOCHS:-2}
HIDDEN=${GENERAL_HIDDEN:-16}
out=$top/data/models/general.h5
exclude=" "

while getopts o:x: opt; do
	case $opt in
	o) out=$OPTARG ;;
	x) exclude="$exclude$OPTARG " ;;
	*) echo "usage: data/models/train-general.sh [-o OUT.h5] [-x NAME]..." >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || { echo "usage: data/models/train-general.sh [-o OUT.h5] [-x NAME]..." >&2; exit 2; }

# relative paths from the top: the model records them (schedcast info)
cd "$top"
traces=""
for t in data/samples/*.h5; do
	name=$(basename "$t" .h5)
	case "$exclude" in *" $name "*) continue ;; esac
	traces="$traces $t"
done
[ -n "$traces" ] || { echo "train-general: no sample trace left" >&2; exit 1; }

# the windows stay in build/general/ (the model names them; eval can reuse them)
tag=$(echo "$exclude" | sed 's/^ *//; s/ *$//; s/ \{1,\}/-/g')
windows=build/general/windows${tag:+-without-$tag}.h5
mkdir -p build/general
# shellcheck disable=SC2086
"$SC" features -q -o "$windows" $traces
"$SC" train -q --epochs "$EPOCHS" --hidden "$HIDDEN" --seed 1 -o "$out" "$windows"
