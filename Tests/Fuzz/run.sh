#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each for SECONDS (default 60)
# on a copy of its seed corpus (runs/<target>/corpus, replaced on every run). Prints each target's
# executions and coverage; exits 1 when any target found a crash (the crash-* file is kept under
# runs/<target>/ and its bytes printed), 2 when the build fails.
#
#   Tests/Fuzz/run.sh [SECONDS]          all targets
#   TARGETS="decoder json" Tests/Fuzz/run.sh 30
#
# Targets run JOBS at a time (default 2). Extra libFuzzer flags go in FUZZ_FLAGS;
# FUZZ_CONFIGURATION=debug builds without optimization.
set -uo pipefail

SECONDS_PER_TARGET="${1:-60}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TARGETS="${TARGETS:-decoder rules pcap json config report}"
SCRATCH="$HERE/.build"
RUNS="$HERE/runs"

# Optimized: a debug build runs the rules target at ~40 inputs/s. The targets copy each input into an
# allocation of its exact size, so ASan still catches reads past a frame that debug bounds checks would.
build_flags=(-c "${FUZZ_CONFIGURATION:-release}" -Xswiftc -sanitize=fuzzer,address)
# The C the targets reach (libyaml in Yams) gets coverage counters and ASan too.
build_flags+=(-Xcc -fsanitize=fuzzer-no-link,address)
# ld.gold prints a warning per ASan helper symbol; lld links the same binaries quietly.
if [ -x "$(dirname "$(readlink -f "$(command -v swift)")")/ld.lld" ] || command -v ld.lld >/dev/null; then
    build_flags+=(-Xswiftc -use-ld=lld)
fi

echo "== building fuzz targets (${build_flags[*]})"
if ! (cd "$HERE" && swift build --scratch-path "$SCRATCH" "${build_flags[@]}"); then
    echo "run.sh: build failed" >&2
    exit 2
fi
BIN="$(cd "$HERE" && swift build --scratch-path "$SCRATCH" "${build_flags[@]}" --show-bin-path)"

# Swift's backtracer hangs after a crash under libFuzzer; libFuzzer prints its own stack.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"

# One target: a fresh copy of its seeds, SECONDS of fuzzing, one summary line in $run/summary.
fuzz_target() {
    local target="$1"
    local binary="$BIN/fuzz-$target" seeds="$HERE/corpus/$target" run="$RUNS/$target"
    # Each run starts clean: findings of an earlier run are gone (copy them out first).
    rm -rf "$run"
    mkdir -p "$run/corpus"
    [ -d "$seeds" ] && cp "$seeds"/* "$run/corpus/" 2>/dev/null
    local log="$run/fuzz.log"
    echo "== fuzz-$target for ${SECONDS_PER_TARGET}s ($(ls "$run/corpus" | wc -l) seeds)"
    local dict=()
    [ -f "$HERE/dict/$target.dict" ] && dict=(-dict="$HERE/dict/$target.dict")
    local started=$SECONDS
    # shellcheck disable=SC2086
    (cd "$run" && "$binary" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -print_final_stats=1 \
        -timeout=25 -artifact_prefix="$run/" "${dict[@]}" ${FUZZ_FLAGS:-} corpus) >"$log" 2>&1
    local code=$?
    local elapsed=$((SECONDS - started))
    local executions final cov ft corpus_size line artifacts
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    final="$(grep -E '^#[0-9]+' "$log" | tail -1)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final")"
    corpus_size="$(ls "$run/corpus" | wc -l)"
    line="fuzz-$target: exit $code, ${elapsed}s, executions ${executions:-?}, cov ${cov:-?}, ft ${ft:-?}, corpus $corpus_size"
    artifacts="$(ls "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-* 2>/dev/null)"
    if [ "$code" -ne 0 ] || [ -n "$artifacts" ]; then
        line="$line  FAILED"
        {
            echo "$line"
            grep -E 'ERROR: (libFuzzer|AddressSanitizer)|invariant broken|Fatal error|SUMMARY' "$log" | head -5
            for artifact in $artifacts; do
                echo "  input kept: $artifact ($(wc -c <"$artifact") bytes): $(od -An -tx1 -v "$artifact" | tr -d ' \n' | cut -c1-160)"
            done
            echo "  log: $log"
        } >"$run/summary"
    else
        echo "$line" >"$run/summary"
    fi
    cat "$run/summary"
}

# JOBS targets at a time (default 2, one per core of the machines this project runs on): five
# targets of 60 s take three minutes, not five.
JOBS="${JOBS:-2}"
for target in $TARGETS; do
    [ -x "$BIN/fuzz-$target" ] || { echo "run.sh: no binary $BIN/fuzz-$target" >&2; exit 2; }
done
for target in $TARGETS; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
    fuzz_target "$target" &
done
wait

status=0
summary=()
for target in $TARGETS; do
    line="$(head -1 "$RUNS/$target/summary" 2>/dev/null || echo "fuzz-$target: no summary  FAILED")"
    [[ "$line" == *FAILED* ]] && status=1
    summary+=("$line")
done

echo "== summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
