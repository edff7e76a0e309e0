#!/usr/bin/env bash
# Runs `ghostport decode` and `ghostport read` (shipped rules) over every capture under a
# folder. An error message and exit 1 or 2 are fine for files ghostport rejects; a crash, a
# trap (signal), a hang, or a line of `read` output that is not one JSON object fails the sweep.
# usage: sweep.sh GHOSTPORT_BINARY CORPUS_DIR
set -u
bin=$1
dir=$2
files=0
failures=0
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
while IFS= read -r -d '' file; do
    files=$((files + 1))
    for command in decode read; do
        if [ "$command" = decode ]; then
            timeout 30 "$bin" decode --quiet "$file" >/dev/null 2>"$out/err"
        else
            timeout 30 "$bin" read --quiet --no-progress --anomalies "$file" >>"$out/eve.jsonl" 2>"$out/err"
        fi
        rc=$?
        if [ "$rc" -gt 2 ]; then
            failures=$((failures + 1))
            echo "FAIL $command exit $rc (124 = timeout, 128+N = signal N): $file"
            tail -3 "$out/err"
        fi
    done
done < <(find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z)
lines=$(wc -l <"$out/eve.jsonl")
if ! python3 - "$out/eve.jsonl" <<'PY'
import json, sys
bad = 0
for number, line in enumerate(open(sys.argv[1], encoding="utf-8", errors="strict"), 1):
    try:
        record = json.loads(line)
        assert isinstance(record, dict) and "event_type" in record and "timestamp" in record
    except Exception as error:
        bad += 1
        if bad <= 5:
            print(f"malformed line {number}: {error}: {line[:200]!r}")
sys.exit(1 if bad else 0)
PY
then
    failures=$((failures + 1))
fi
echo "corpus sweep: $files files, decode and read each; $lines EVE lines checked; $failures failures"
[ "$failures" -eq 0 ]
