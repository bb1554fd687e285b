#!/usr/bin/env bash
# Builds the light node agent: a release tansiq-agent with the Swift standard library and
# Foundation linked in (--static-swift-stdlib: nothing of the toolchain needed on the node, and
# no shared Swift library pages resident), its code optimised for size (-Osize, C at -Os: the
# code a running agent touches is most of its resident memory), stripped of its symbols and
# debug information.
#
#   scripts/build-agent.sh [OUT]      # default OUT: .build-agent/tansiq-agent
#
# Copy OUT to /usr/local/bin/tansiq-agent on each node (agents/tansiq-agent.service).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-.build-agent/tansiq-agent}"
swift build -c release --static-swift-stdlib -Xswiftc -Osize -Xcc -Os --scratch-path .build-agent \
    --product tansiq-agent
mkdir -p "$(dirname "$out")"
strip -o "$out" .build-agent/release/tansiq-agent
echo "built $out: $(stat -c %s "$out") bytes; needs only: $(ldd "$out" | awk '{print $1}' | tr '\n' ' ')"
