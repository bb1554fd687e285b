#!/usr/bin/env bash
# Every test: the suite (`swift test`: unit tests and end-to-end tests of the real binaries),
# then the controller's, agent's, store's and client's tests again under ThreadSanitizer
# (scripts/sanitize.sh thread), then each decoder under libFuzzer with AddressSanitizer for a
# bounded number of runs (scripts/fuzz-decoders.sh). `swift test` alone is the quick loop of
# development; this is what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== swift test"
swift test
echo "== ThreadSanitizer"
scripts/sanitize.sh thread
echo "== libFuzzer"
scripts/fuzz-decoders.sh --runs "${TANSIQ_FUZZ_RUNS:-20000}"
