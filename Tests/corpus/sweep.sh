#!/usr/bin/env bash
# Runs ghostport over every capture under a folder, through every output path that formats
# what it read: `decode` in both row formats (every row printed), `read` with the shipped
# rules, anomaly records, a flood budget of one (flood records) and a listener baseline learned
# from every other capture of the corpus (answers from known listeners, and from new ones in the
# generated flood), and `read --per-packet --anomalies` with a rule that alerts on
# every IP packet and writes evidence files, so every packet's alert record is formatted (with a
# sensor name, so every record's host too, and into a redis-server when there is one: Redis must
# then hold every record of those reads); then
# `report` over all of the EVE written, checked against Tests/report/check_report.py; then the
# whole corpus in one read, --jobs 1 against --jobs 2.
# An error message and exit 1 or 2 are fine for files ghostport rejects; a crash, a trap (a
# signal), a hang, a CSV row without its eleven columns, or an output line that is not one JSON
# object fails the sweep.
# usage: sweep.sh GHOSTPORT_BINARY CORPUS_DIR
set -u
bin=$1
dir=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# A redis-server of the sweep's own, on a Unix socket only, when one is installed.
export SWEEP_REDIS=""
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
    redis-server --port 0 --unixsocket "$out/redis.sock" --save '' --appendonly no --dir "$out" \
        --daemonize yes --pidfile "$out/redis.pid" --logfile "$out/redis.log" >/dev/null
    for _ in $(seq 100); do
        [ "$(redis-cli -s "$out/redis.sock" PING 2>/dev/null)" = PONG ] && break
        sleep 0.1
    done
    SWEEP_REDIS="unix://$out/redis.sock"
    trap 'kill "$(cat "$out/redis.pid")" 2>/dev/null; sleep 0.5; rm -rf "$out"' EXIT
fi
printf 'alert ip any any -> any any (msg:"every packet"; sid:1;)\n' >"$out/every.rules"

# Captures through every command, in batches run by two workers at once; each worker appends to
# files of its own (named by its process id), so no two processes write to one file.
sweep_batch() {
    local bin=$1 out=$2 tag=$$ file rc
    shift 2
    # check NAME COMMAND...: a crash, a trap or a hang is a failure; exit 0, 1 or 2 is not.
    check() {
        local name=$1
        shift
        timeout 60 "$@" 2>"$out/err.$tag"
        rc=$?
        if [ "$rc" -gt 2 ]; then
            echo "FAIL $name exit $rc (124 = timeout, 128+N = signal N): $file" >&3
            tail -3 "$out/err.$tag" >&3
            echo "$file" >>"$out/failed.$tag"
        fi
    }
    # The commands' output goes to the files; what the sweep says, to fd 3 (its standard output).
    exec 3>&1
    for file in "$@"; do
        check "decode csv" "$bin" decode "$file" >>"$out/rows.csv.$tag"
        check "decode json" "$bin" decode --format json "$file" >>"$out/rows.jsonl.$tag"
        # Tight alert limits and a flood budget of one flow record per port, so that flows that
        # carried nothing fold into flood and backscatter records wherever a capture has them.
        check "read" "$bin" read --quiet --no-progress --anomalies --alert-limit-per-sid 4 \
            --flood-per-port 1 --flood-sensor-wide 1000 --baseline "$out/baseline.txt" "$file" >>"$out/eve.jsonl.$tag"
        rm -rf "$out/evidence.$tag"
        check "read --per-packet" "$bin" read --quiet --no-progress --per-packet --anomalies \
            --rules "$out/every.rules" --evidence "$out/evidence.$tag" --evidence-max-files 8 --sensor-name sweep \
            ${SWEEP_REDIS:+--redis "$SWEEP_REDIS" --redis-key sweep -o -} "$file" >>"$out/eve.jsonl.$tag"
    done
}
export -f sweep_batch

# Beside the corpus, a generated flood (TrafficGen's FloodScenario, from ghostport-bench next to
# the binary): the corpus's captures may hold no flood, and the flood records must be formatted.
mkdir -p "$out/generated"
bench="$(dirname "$bin")/ghostport-bench"
if [ -x "$bench" ]; then
    "$bench" gen-flood-scenario "$out/generated/flood.pcap" --flows 3000 --backscatter 300 >/dev/null
else
    echo "no $bench: the flood records are formatted only where the corpus has a flood"
fi
# A listener baseline from every other capture of the corpus: the reads below meet its listeners
# as known, and the generated flood's answered sessions (never learned) as new.
find "$dir" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z \
    | awk 'BEGIN { RS = "\0"; ORS = "\0" } NR % 2' \
    | xargs -0 "$bin" baseline learn --output "$out/baseline.txt" 2>"$out/learn.err"
if [ ! -f "$out/baseline.txt" ]; then
    echo "FAIL baseline learn wrote no baseline:"; tail -3 "$out/learn.err"
    exit 1
fi
echo "baseline: $(grep -vc '^#\|^since\|^$' "$out/baseline.txt") listeners learned from every other capture of the corpus"
files=$(find "$dir" "$out/generated" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) | wc -l)
find "$dir" "$out/generated" -type f \( -name '*.pcap' -o -name '*.pcapng' -o -name '*.cap' \) -print0 | sort -z \
    | xargs -0 -n 64 -P 2 bash -c 'sweep_batch "$@"' sweep_batch "$bin" "$out"
failures=$(cat "$out"/failed.* 2>/dev/null | wc -l)
cat "$out"/rows.csv.* >"$out/rows.csv"
cat "$out"/rows.jsonl.* >"$out/rows.jsonl"
cat "$out"/eve.jsonl.* >"$out/eve.jsonl"

generated=0
[ -f "$out/generated/flood.pcap" ] && generated=1
if ! python3 - "$out/rows.csv" "$out/rows.jsonl" "$out/eve.jsonl" "$generated" <<'PY'
import collections, json, sys
bad = 0
def fail(message):
    global bad
    bad += 1
    if bad <= 10:
        print(message)

rows = 0
for number, line in enumerate(open(sys.argv[1], encoding="utf-8", errors="strict"), 1):
    if line.startswith("frame,ts,"):
        continue
    rows += 1
    if line.count(",") != 10:
        fail(f"decode csv line {number}: not eleven columns: {line[:200]!r}")
json_rows = 0
for number, line in enumerate(open(sys.argv[2], encoding="utf-8", errors="strict"), 1):
    json_rows += 1
    try:
        row = json.loads(line)
        assert isinstance(row, dict) and "frame" in row and "ts" in row
    except Exception as error:
        fail(f"decode json line {number}: {error}: {line[:200]!r}")
kinds = collections.Counter()
listeners = collections.Counter()
for number, line in enumerate(open(sys.argv[3], encoding="utf-8", errors="strict"), 1):
    try:
        record = json.loads(line)
        assert isinstance(record, dict) and "event_type" in record and "timestamp" in record
        kinds[record["event_type"]] += 1
        if record["event_type"] == "alert" and "listener" in record.get("ghostport", {}):
            listeners[record["ghostport"]["listener"]] += 1
    except Exception as error:
        fail(f"EVE line {number}: {error}: {line[:200]!r}")
if rows != json_rows:
    fail(f"decode printed {rows} CSV rows but {json_rows} JSON rows")
print(f"rows formatted: {rows} CSV, {json_rows} JSON; EVE lines checked: {sum(kinds.values())} "
      f"({', '.join(f'{kind} {count}' for kind, count in sorted(kinds.items()))})")
for kind in ("alert", "flow", "anomaly", "stats") + (("flood",) if sys.argv[4] == "1" else ()):
    if not kinds[kind]:
        fail(f"no {kind} record was written: that output path went untested")
for listener in ("known",) + (("new",) if sys.argv[4] == "1" else ()):
    if not listeners[listener]:
        fail(f"no alert of a {listener} listener was written: that output path went untested")
print(f"answers judged by the baseline: {dict(sorted(listeners.items()))}")
sys.exit(1 if bad else 0)
PY
then
    failures=$((failures + 1))
fi
# Every EVE record against ghostport's schema and, beside the corpus, Suricata's own.
suricata_schema="$dir/../expected/suricata-eve/schema.json"
schemas=(--require alert,flow,anomaly,stats)
[ "$generated" = 1 ] && schemas=(--require alert,alert/flood,flow,flood,anomaly,stats)
[ -f "$suricata_schema" ] && schemas+=(--suricata "$suricata_schema")
# (Its status, not tail's: without PIPESTATUS an invalid record would pass.)
/usr/bin/python3 "$(dirname "$0")/../schema/validate.py" "${schemas[@]}" "$out/eve.jsonl" | tail -25
if [ "${PIPESTATUS[0]}" -ne 0 ]; then
    echo "FAIL: EVE records the schemas refuse" >&2
    failures=$((failures + 1))
fi
# The report of everything the sweep wrote (every record kind, hostile captures' fields), its
# figures against check_report.py's own aggregation; with the default caps, and with none.
for top in 20 100000; do
    "$bin" report --top "$top" -o "$out/report-$top.html" "$out/eve.jsonl"
    made=$?
    /usr/bin/python3 "$(dirname "$0")/../report/check_report.py" "$out/report-$top.html" "$out/eve.jsonl" >"$out/report-$top.check"
    checked=$?
    echo "report --top $top: $(tail -n 1 "$out/report-$top.check")"
    if [ "$made" -ne 0 ] || [ "$checked" -ne 0 ]; then
        head -n 20 "$out/report-$top.check"
        echo "FAIL: ghostport report --top $top over the sweep's EVE (exit $made, check $checked)" >&2
        failures=$((failures + 1))
    fi
done
# Every record the reads with a sensor name wrote reached Redis, in the same numbers.
if [ -n "$SWEEP_REDIS" ]; then
    written=$(grep -c '"host":"sweep"' "$out/eve.jsonl")
    stored=$(redis-cli -s "$out/redis.sock" LLEN sweep)
    echo "redis: $stored records in the list, $written written to the file by the same reads"
    if [ "$written" -eq 0 ] || [ "$stored" != "$written" ]; then
        echo "FAIL: Redis holds $stored records, the file $written" >&2
        failures=$((failures + 1))
    fi
fi
# The whole corpus in one read with --jobs 1 and --jobs 2 (captures that continue one another
# through one engine, independent ones at once): the same records in the same order, the same
# messages, and one final stats record the same but for the ring's waits (the machine's timing).
for jobs in 1 2; do
    timeout 300 "$bin" read --quiet --no-progress --recursive --anomalies --per-packet --rules "$out/every.rules" \
        --jobs "$jobs" "$dir" 2>"$out/jobs$jobs.err" | sed 's/"ring_waits":[0-9]*,//' >"$out/jobs$jobs.jsonl"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -gt 1 ]; then
        echo "FAIL: read --jobs $jobs over the corpus exit $rc" >&2
        failures=$((failures + 1))
    fi
done
echo "read --jobs 1 and --jobs 2 over the corpus: $(wc -l <"$out/jobs1.jsonl") and $(wc -l <"$out/jobs2.jsonl") records, $(grep -c '"event_type":"stats"' "$out/jobs2.jsonl") stats record"
if [ ! -s "$out/jobs1.jsonl" ] || ! cmp -s "$out/jobs1.jsonl" "$out/jobs2.jsonl" || ! cmp -s "$out/jobs1.err" "$out/jobs2.err"; then
    diff "$out/jobs1.jsonl" "$out/jobs2.jsonl" | head -5
    diff "$out/jobs1.err" "$out/jobs2.err" | head -5
    echo "FAIL: read --jobs 2 over the corpus wrote other records or messages than --jobs 1" >&2
    failures=$((failures + 1))
fi
echo "corpus sweep: $files files, decode (csv, json) and read (shipped rules; every packet alerting) each; report; $failures failures"
[ "$failures" -eq 0 ]
