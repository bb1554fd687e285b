#!/usr/bin/env bash
# Tests under a sanitizer: ThreadSanitizer (data races) or AddressSanitizer (memory errors).
#
#   scripts/sanitize.sh thread|address [FILTER]
#
# Builds everything with the sanitizer in a build folder of its own (.build-tsan, .build-asan:
# about 13 minutes cold on 2 cores) and runs the tests FILTER names (a
# regular expression over test names, as `swift test --filter` takes it). The binaries the
# end-to-end tests start are built with the sanitizer too, and stop at their first report
# (halt_on_error), which fails the test that started them.
#
# Without FILTER: the controller's tests (in process and end to end), the agent's, the store's and
# the typed client's through the CLI. Left out: the tests whose tools multiply the time under a
# sanitizer without touching more of the controller (the schemathesis pass, the TLS scan, the
# dashboard's browser, images built with umoci, the gateway's nginx), and the scheduler's and
# manifest's pure suites (single-threaded). Skipped under either sanitizer: the several-controller
# tests, whose instances are the demo service — built with the sanitizer like every product of
# this build, it outgrows its instances' memory limit (under AddressSanitizer their instances never
# come up Running) — and the zone-partition test, which depends on three nodes falling silent
# within the same few hundred milliseconds (the sanitizer slows each report tenfold).
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-}"
case "$kind" in
    thread | address) ;;
    *) echo "usage: scripts/sanitize.sh thread|address [FILTER]" >&2; exit 2 ;;
esac
default="TansiqAgentTests|TansiqStoreTests|TansiqControllerTests\.(RouteTests|ApplyRouteTests|PlanRouteTests"
default+="|QuotaEnforcementTests|PlacementTests|DrainTests|RolloutTests|UsageTests|NodeFailureTests|RetentionTests"
default+="|LiveControllerTests|LiveLoopTests|HighAvailabilityTests|SecretsTests|StoreOperationsTests)"
default+="|TansiqCLITests\.(ClusterCommandTests|OutputTests)"
filter="${2:-$default}"
skip="HighAvailabilityTests|partitionedZone"
scratch=$([ "$kind" = thread ] && echo .build-tsan || echo .build-asan)
start=$(date +%s)
swift build --build-tests --sanitize="$kind" --scratch-path "$scratch"
echo "== built with --sanitize=$kind in $(( $(date +%s) - start )) s"
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export ASAN_OPTIONS="halt_on_error=1 detect_leaks=0 ${ASAN_OPTIONS:-}"
start=$(date +%s)
if [ -z "${2:-}" ]; then
    swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" --filter "$filter" --skip "$skip"
else
    swift test --skip-build --sanitize="$kind" --scratch-path "$scratch" --filter "$filter"
fi
echo "== tests under --sanitize=$kind passed in $(( $(date +%s) - start )) s"
