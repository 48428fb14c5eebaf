#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser that takes outside bytes (docs/fuzzing.md).
#
#   bash scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET...]
#
# Builds srgan-fuzz with libFuzzer and AddressSanitizer (its own scratch folder, .build-fuzz),
# then runs each target (default: all of `srgan-fuzz --list`) for N seconds (default 60), J at a
# time (default: the number of cores). Each run reads the committed seeds (Tests/FuzzCorpus/TARGET)
# and grows a working corpus in .fuzz-work/corpus/TARGET (git-ignored, kept between runs). A crash,
# a sanitizer report or a failed harness property leaves its input in .fuzz-work/findings/ and
# makes this script exit 1; replay it with `srgan-fuzz TARGET FILE` from a normal build.
# The summary (executions, coverage, corpus size, findings per target) is printed at the end and
# kept in .fuzz-work/summary.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=60
jobs=$(nproc)
targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        -h|--help) sed -n 2,14p "$0"; exit 0 ;;
        -*) echo "error: unknown option $1. HINT: bash scripts/fuzz.sh --help" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done

echo "fuzz: building srgan-fuzz with libFuzzer and AddressSanitizer (.build-fuzz)"
swift build -c release --product srgan-fuzz --scratch-path .build-fuzz \
    --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp -Xswiftc -DSRGAN_FUZZ
fuzzer=.build-fuzz/release/srgan-fuzz
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <("$fuzzer" --list | awk '{print $1}')
    if [ ${#targets[@]} -eq 0 ]; then
        echo "error: $fuzzer --list named no targets. HINT: run it by hand to see why" >&2
        exit 1
    fi
fi

work=.fuzz-work
mkdir -p "$work/corpus" "$work/findings" "$work/logs"
# Leaks are not findings here: the harnesses keep caches (the serve workers) for the process.
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1"
# A Swift trap (overflow, bad index) is reported by libFuzzer as a deadly signal; Swift's own
# backtracer would read memory behind AddressSanitizer's back and be reported instead.
export SWIFT_BACKTRACE=enable=no
export OPENBLAS_NUM_THREADS=1

run_one() {
    local target="$1"
    mkdir -p "$work/corpus/$target"
    "$fuzzer" "$target" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$work/findings/$target-" "$work/corpus/$target" "Tests/FuzzCorpus/$target" \
        > "$work/logs/$target.log" 2>&1
}

echo "fuzz: ${#targets[@]} targets, ${seconds} s each, ${jobs} at a time"
declare -A status
running=0
pids=()
names=()
for target in "${targets[@]}"; do
    run_one "$target" &
    pids+=($!)
    names+=("$target")
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait "${pids[0]}" && status[${names[0]}]=0 || status[${names[0]}]=$?
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
        running=$((running - 1))
    fi
done
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" && status[${names[$i]}]=0 || status[${names[$i]}]=$?
done

failed=0
# The table goes to a file first: a pipe would run this block in a subshell and lose `failed`.
{
    printf '%-12s %12s %8s %8s %8s %6s %s\n' target executions exec/s cov corpus slow findings
    for target in "${targets[@]}"; do
        log="$work/logs/$target.log"
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
        cov=$({ grep -o 'cov: [0-9]*' "$log" || true; } | tail -n 1 | awk '{print $2}')
        corpus=$(find "$work/corpus/$target" -type f | wc -l)
        # slow-unit-* inputs only ran longer than any before them (libFuzzer keeps the slowest);
        # crashes, timeouts, out-of-memory and sanitizer reports are the findings
        found=$(find "$work/findings" -name "$target-*" ! -name "$target-slow-unit-*" -type f | wc -l)
        slow=$(find "$work/findings" -name "$target-slow-unit-*" -type f | wc -l)
        note="${found}"
        if [ "${status[$target]}" -ne 0 ]; then
            failed=1
            note="${found} (exit ${status[$target]}: see $log)"
        fi
        printf '%-12s %12s %8s %8s %8s %6s %s\n' "$target" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$corpus" "$slow" "$note"
    done
} > "$work/summary.txt"
cat "$work/summary.txt"
if [ "$failed" -ne 0 ]; then
    echo "fuzz: FINDINGS: the inputs are in $work/findings/; the reports in $work/logs/" >&2
    for target in "${targets[@]}"; do
        if [ "${status[$target]}" -ne 0 ]; then
            echo "--- $target" >&2
            grep -E "ERROR|Fatal error|SUMMARY|deadly signal|==[0-9]+==" "$work/logs/$target.log" | head -n 8 >&2 || true
        fi
    done
    exit 1
fi
echo "fuzz: no findings"
