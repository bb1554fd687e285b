#!/usr/bin/env bash
# Profiles the light agent under callgrind and writes its link order (scripts/tansiq-agent.order),
# which scripts/build-agent.sh hands the linker: the functions a running agent touches laid out
# together, so that the few pages of code it keeps resident are not spread over the binary.
#
#   scripts/profile-agent.sh [--idle-seconds N]     # default 60; then scripts/build-agent.sh again
#
# Runs `tansiq-bench agent` (debug builds of the benchmark, controller and demo service) with the
# light agent built by scripts/build-agent.sh, its `run` under valgrind's callgrind, and dumps the
# agent's profile every 5 s. The functions run in the dumps inside the benchmark's idle window (ten
# instances running, the agent left alone: statuses, long polls, health checks, the release of its
# pages) are the hot ones; those run anywhere else (starting the agent, starting instances,
# pulling an image) follow; what ran after the last dump is not seen (the benchmark kills the agent
# at its end), so the last image starts count only up to it. Needs valgrind, and what the benchmark needs (runc; docker-registry,
# skopeo and umoci for the image starts). Run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
idle=60
case "$#:${1:-}" in
    0:) ;;
    2:--idle-seconds) idle="$2" ;;
    *) echo "usage: scripts/profile-agent.sh [--idle-seconds N]" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "profile-agent: valgrind is not installed" >&2; exit 1; }
[ -x .build-agent/release/tansiq-agent ] || { echo "profile-agent: run scripts/build-agent.sh first" >&2; exit 1; }
swift build --product tansiq-bench-api
for product in tansiq-controller tansiq-demo-service; do swift build --product "$product"; done

work=$(mktemp -d /tmp/tansiq-agent-profile.XXXXXX)
dumper=""
trap 'kill "$dumper" 2>/dev/null || true; rm -rf "$work"' EXIT
# Valgrind cannot read the debug information clang writes: symbols alone name the functions.
strip --strip-debug -o "$work/tansiq-agent" .build-agent/release/tansiq-agent
cat >"$work/agent" <<WRAPPER
#!/usr/bin/env bash
[ "\$1" = run ] && exec valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no \
    --callgrind-out-file="$work/callgrind.%p" "$work/tansiq-agent" "\$@"
exec "$work/tansiq-agent" "\$@"
WRAPPER
chmod +x "$work/agent"
# Each dump holds what ran since the one before; its file's time says when it was taken.
(while sleep 5; do callgrind_control --dump >/dev/null 2>&1 || true; done) &
dumper=$!
.build/debug/tansiq-bench-api agent --idle-seconds "$idle" --starts 10 --agent "$work/agent" 2>"$work/stderr" \
    || { cat "$work/stderr" >&2; exit 1; }
kill "$dumper"
window=$(sed -n 's/^idle window: \([0-9.]*\) \([0-9.]*\).*/\1 \2/p' "$work/stderr")
[ -n "$window" ] || { echo "profile-agent: the benchmark printed no idle window" >&2; exit 1; }
read -r from until <<<"$window"
hot=()
every=()
for dump in "$work"/callgrind.*; do
    taken=$(stat -c %Y "$dump")
    every+=("$dump")
    # A dump taken more than 5 s into the window covers nothing from before it.
    if python3 -c "import sys; sys.exit(0 if $from + 6 <= $taken <= $until else 1)"; then hot+=("$dump"); fi
done
[ ${#hot[@]} -gt 0 ] || { echo "profile-agent: no dump inside the idle window ($from to $until)" >&2; exit 1; }
python3 scripts/agent_order.py tansiq-agent --hot "${hot[@]}" --all "${every[@]}" >scripts/tansiq-agent.order
echo "wrote scripts/tansiq-agent.order from ${#hot[@]} dumps of the idle window, ${#every[@]} in all"
