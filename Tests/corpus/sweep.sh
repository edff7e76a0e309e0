#!/usr/bin/env bash
# Runs ghostport over every capture under a folder: an error message and exit 1 or 2 are fine
# for files it rejects; a crash, a trap (signal) or a hang fails the sweep.
# usage: sweep.sh GHOSTPORT_BINARY CORPUS_DIR
set -u
bin=$1
dir=$2
files=0
failures=0
while IFS= read -r -d '' file; do
    files=$((files + 1))
    timeout 30 "$bin" decode --quiet "$file" >/dev/null 2>/tmp/ghostport-sweep.err
    rc=$?
    if [ "$rc" -gt 2 ]; then
        failures=$((failures + 1))
        echo "FAIL decode exit $rc (124 = timeout, 128+N = signal N): $file"
        tail -3 /tmp/ghostport-sweep.err
    fi
done < <(find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z)
echo "corpus sweep: $files files, $failures crashed or hung"
[ "$failures" -eq 0 ]
