#!/usr/bin/env bash
# The trace reader on data/ds.c's table API reads every committed trace
# exactly as the reader before it did: events, task table and the header
# that info prints (digests in tests/data/roundtrip/trace-v1.digests).
. "$(dirname "$0")/lib.sh"

# digests: events (tracedump), task table (tracedump -t), info --json
test_roundtrip_digests "$TEST_DATA/roundtrip/trace-v1.digests" 'tracedump' 'tracedump -t'

test_done
