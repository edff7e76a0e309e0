#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer and AddressSanitizer and runs each for SECONDS (default 60)
# on a copy of its seed corpus (runs/<target>/corpus, replaced on every run). Prints each target's
# executions and coverage; exits 1 when any target found a crash (the crash-* file is kept under
# runs/<target>/ and its bytes printed), 2 when the build fails.
#
#   Tests/Fuzz/run.sh [SECONDS]          all targets
#   TARGETS="decoder json" Tests/Fuzz/run.sh 30
#
# Extra libFuzzer flags go in FUZZ_FLAGS (e.g. FUZZ_FLAGS="-jobs=2 -workers=2");
# FUZZ_CONFIGURATION=debug builds without optimization.
set -uo pipefail

SECONDS_PER_TARGET="${1:-60}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# fuzz-config joins this list once Sources/Config lands (see Package.swift).
TARGETS="${TARGETS:-decoder rules pcap json}"
SCRATCH="$HERE/.build"
RUNS="$HERE/runs"

# Optimized: a debug build runs the rules target at ~40 inputs/s. The targets copy each input into an
# allocation of its exact size, so ASan still catches reads past a frame that debug bounds checks would.
build_flags=(-c "${FUZZ_CONFIGURATION:-release}" -Xswiftc -sanitize=fuzzer,address)
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

status=0
summary=()
for target in $TARGETS; do
    binary="$BIN/fuzz-$target"
    seeds="$HERE/corpus/$target"
    run="$RUNS/$target"
    [ -x "$binary" ] || { echo "run.sh: no binary $binary" >&2; exit 2; }
    # Each run starts clean: findings of an earlier run are gone (copy them out first).
    rm -rf "$run"
    mkdir -p "$run/corpus"
    [ -d "$seeds" ] && cp "$seeds"/* "$run/corpus/" 2>/dev/null
    log="$run/fuzz.log"
    echo "== fuzz-$target for ${SECONDS_PER_TARGET}s ($(ls "$run/corpus" | wc -l) seeds)"
    dict=()
    [ -f "$HERE/dict/$target.dict" ] && dict=(-dict="$HERE/dict/$target.dict")
    # shellcheck disable=SC2086
    (cd "$run" && "$binary" -max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb=2048 -print_final_stats=1 \
        -timeout=25 -artifact_prefix="$run/" "${dict[@]}" ${FUZZ_FLAGS:-} corpus) >"$log" 2>&1
    code=$?
    executions="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    final="$(grep -E '^#[0-9]+' "$log" | tail -1)"
    cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$final")"
    ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$final")"
    corpus_size="$(ls "$run/corpus" | wc -l)"
    line="fuzz-$target: exit $code, executions ${executions:-?}, cov ${cov:-?}, ft ${ft:-?}, corpus $corpus_size"
    artifacts="$(ls "$run"/crash-* "$run"/leak-* "$run"/timeout-* "$run"/oom-* 2>/dev/null)"
    if [ "$code" -ne 0 ] || [ -n "$artifacts" ]; then
        status=1
        line="$line  FAILED"
        echo "$line"
        grep -E 'ERROR: (libFuzzer|AddressSanitizer)|invariant broken|Fatal error|SUMMARY' "$log" | head -5
        for artifact in $artifacts; do
            echo "  input kept: $artifact ($(wc -c <"$artifact") bytes): $(od -An -tx1 -v "$artifact" | tr -d ' \n' | cut -c1-160)"
        done
        echo "  log: $log"
    else
        echo "$line"
    fi
    summary+=("$line")
done

echo "== summary (${SECONDS_PER_TARGET}s per target)"
printf '%s\n' "${summary[@]}"
exit $status
