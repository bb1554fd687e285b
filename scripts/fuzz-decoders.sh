#!/usr/bin/env bash
# libFuzzer over the decoders (Sources/tansiq-fuzz): the manifest decoder, the apply body, the
# agent status body, quantity and duration parsing — built with AddressSanitizer (leaks included),
# each run from its kept corpus in Fuzz/corpus.
#
#   scripts/fuzz-decoders.sh [--runs 1000000] [--jobs 1] [--merge] [TARGET ...]
#
# --runs N   executions per target (default 1,000,000); CI runs a bounded number.
# --merge    add the new inputs that reach new code to Fuzz/corpus (commit them).
# A crash, a leak, a hang over 10 s or more than 2 GiB ends the target with libFuzzer's report
# and the input that caused it (crash-*, leak-*, timeout-* in the current directory); the exit
# status is then 1.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=1000000 merge=0 targets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --merge) merge=1; shift ;;
        --*) echo "fuzz-decoders.sh: unknown option $1" >&2; exit 2 ;;
        *) targets+=("$1"); shift ;;
    esac
done
[ ${#targets[@]} -eq 0 ] && targets=(manifest apply status quantity duration)

# swiftc drops the coverage -sanitize=fuzzer implies when -sanitize=address comes with it: the
# Swift modules would be mutated at but not guided by their own coverage. Name it explicitly.
flags=(--product tansiq-fuzz --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING
    -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp)
swift build "${flags[@]}"
binary="$(swift build "${flags[@]}" --show-bin-path)/tansiq-fuzz"

status=0
for target in "${targets[@]}"; do
    [ -d "Fuzz/corpus/$target" ] || { echo "fuzz-decoders.sh: no corpus Fuzz/corpus/$target" >&2; exit 2; }
    work="$(mktemp -d)"
    echo "== $target: $runs runs"
    start=$(date +%s)
    if TANSIQ_FUZZ_TARGET="$target" ASAN_OPTIONS=detect_leaks=1 "$binary" -runs="$runs" -max_len=65536 \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work" "Fuzz/corpus/$target" 2>"$work.log"; then
        grep -E "^stat::number_of_executed_units|^Done" "$work.log" || true
        echo "$target: no crash, leak or hang in $(( $(date +%s) - start )) s"
    else
        tail -60 "$work.log"
        status=1
    fi
    if [ "$merge" = 1 ]; then
        TANSIQ_FUZZ_TARGET="$target" "$binary" -merge=1 "Fuzz/corpus/$target" "$work" 2>/dev/null
    fi
    rm -rf "$work" "$work.log"
done
exit $status
