#!/usr/bin/env bash
# The windows reader on data/ds.c's table API reads every committed windows
# file (versions 1 and 2, candidates and sequence) exactly as the reader
# before it did, whole and in blocks (digests in
# tests/data/roundtrip/windows.digests); and today's writer, given the trace
# those files were made from, writes the same content.
. "$(dirname "$0")/lib.sh"

# digests: whole (windump), in blocks of 7 (windump -b 7), info --json
test_roundtrip_digests "$TEST_DATA/roundtrip/windows.digests" 'windump' 'windump -b 7'

# tests/data/roundtrip/windows-*.h5 were written from the first 1200 events
# of data/samples/mixed.h5 by the writer before the table API (the state
# features were then the basic set).
test_expect_success 'the trace of the committed windows files' '
	{ echo "@cpus 2" && tracedump "$TEST_TOP/data/samples/mixed.h5" | head -1200; } >small.txt &&
	mktrace small.h5 <small.txt
'

for v in v1:"--windows-version 1 -K 4" v2:"--windows-version 2 -K 4" seq:"-m sequence -W 8"; do
	name=${v%%:*} opts="--state basic ${v#*:}"
	test_expect_success "features $opts writes what the old writer wrote" '
		schedcast features -q '"$opts"' -o w-'$name'.h5 small.h5 &&
		windump w-'$name'.h5 >new &&
		windump "$TEST_DATA/roundtrip/windows-'$name'.h5" >old &&
		cmp old new
	'
done

# version 3 stores the events instead: read back, the same decisions and
# candidates as the version 2 the old writer wrote (the header and the
# episode offsets aside), whole and in blocks
test_expect_success 'features --windows-version 3 reads back what the old writer wrote' '
	schedcast features -q --state basic -K 4 -o w-v3.h5 small.h5 &&
	norm() { sed -e "/^version /d" -e "/^n_dec /d" -e "s/ ep_off [0-9]*//"; } &&
	windump "$TEST_DATA/roundtrip/windows-v2.h5" | norm >old &&
	windump w-v3.h5 | norm >new &&
	cmp old new &&
	windump -b 7 w-v3.h5 | norm >new7 &&
	cmp old new7
'

test_done
