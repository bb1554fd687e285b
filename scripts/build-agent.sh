#!/usr/bin/env bash
# Builds the light node agent: a release tansiq-agent with the Swift standard library and
# Foundation linked in (--static-swift-stdlib: nothing of the toolchain needed on the node, and
# no shared Swift library pages resident), its code optimised for size (-Osize, C at -Os), laid
# out by scripts/tansiq-agent.order (every function in a section of its own, linked by lld in
# that order: the functions a running agent touches together at the front, then those starting
# runs — the code a running agent touches is most of its resident memory, and the kernel maps it
# in windows of 64 KiB), stripped of its symbols and debug information.
#
#   scripts/build-agent.sh [OUT]      # default OUT: .build-agent/tansiq-agent
#
# Copy OUT to /usr/local/bin/tansiq-agent on each node (agents/tansiq-agent.service). The order
# names functions; those that no longer exist are skipped, and scripts/profile-agent.sh writes
# it again from a profile of the running agent.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build-agent/tansiq-agent}"
# The linker reads the order, but the build does not know it: link again whatever changed.
rm -f .build-agent/release/tansiq-agent
swift build -c release --static-swift-stdlib -Xswiftc -Osize -Xcc -Os --scratch-path .build-agent \
    -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections -Xswiftc -use-ld=lld \
    -Xlinker "--symbol-ordering-file=$PWD/scripts/tansiq-agent.order" -Xlinker --no-warn-symbol-ordering \
    --product tansiq-agent
mkdir -p "$(dirname "$out")"
strip -o "$out" .build-agent/release/tansiq-agent
echo "built $out: $(stat -c %s "$out") bytes; needs only: $(ldd "$out" | awk '{print $1}' | tr '\n' ' ')"
