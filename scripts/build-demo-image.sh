#!/usr/bin/env bash
# Builds the demo service into an OCI image and pushes it to a registry.
#
#   scripts/build-demo-image.sh [--binary PATH] [--env KEY=VALUE ...] [--insecure] REGISTRY/REPO:TAG
#
# The image holds the demo service (stripped), the shared libraries it loads (the Swift runtime
# and glibc, as ldd finds them) and busybox for a shell; its entrypoint is the service. It is
# built with umoci into an OCI layout and pushed with skopeo (--insecure: plain HTTP, as for a
# local registry on 127.0.0.1). Prints the pushed manifest digest on the last line.
#
# Needs (Debian): umoci, skopeo, busybox-static, binutils. Run as root (umoci keeps file owners).
set -euo pipefail

binary="$(cd "$(dirname "$0")/.." && pwd)/.build/debug/tansiq-demo-service"
insecure=false
envs=()
while [ $# -gt 1 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --env) envs+=("$2"); shift 2 ;;
        --insecure) insecure=true; shift ;;
        *) echo "build-demo-image: unknown option $1" >&2; exit 2 ;;
    esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--binary PATH] [--env K=V ...] [--insecure] REGISTRY/REPO:TAG" >&2; exit 2; }
target="$1"
tag="${target##*:}"
[ -x "$binary" ] || { echo "build-demo-image: $binary is not built (swift build)" >&2; exit 1; }
for tool in umoci skopeo strip; do
    command -v "$tool" >/dev/null || { echo "build-demo-image: $tool is not installed" >&2; exit 1; }
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "build-demo-image: busybox (busybox-static) is not installed" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
layout="$work/layout"
bundle="$work/bundle"
umoci init --layout "$layout"
umoci new --image "$layout:$tag"
umoci unpack --image "$layout:$tag" "$bundle" >/dev/null
root="$bundle/rootfs"

# The service, stripped, and every library it loads at the path it is loaded from.
install -D -m 0755 "$binary" "$root/usr/local/bin/tansiq-demo-service"
strip "$root/usr/local/bin/tansiq-demo-service"
for lib in $(ldd "$binary" | awk '/=> \// { print $3 } /^\t\/.*ld-linux/ { print $1 }'); do
    install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
done
# A shell and the usual tools, for exec health checks and for looking around.
install -D -m 0755 "$busybox" "$root/bin/busybox"
for applet in sh ls cat echo id sleep test touch mkdir rm grep wget env ps; do
    ln -sf busybox "$root/bin/$applet"
done
mkdir -p "$root/tmp" "$root/data" "$root/etc"
echo "nobody:x:65534:65534:nobody:/data:/bin/sh" > "$root/etc/passwd"

umoci repack --image "$layout:$tag" "$bundle"
config=(--config.entrypoint /usr/local/bin/tansiq-demo-service --config.workingdir /data
    --config.env "PATH=/usr/local/bin:/usr/bin:/bin")
for env in "${envs[@]}"; do config+=(--config.env "$env"); done
umoci config --image "$layout:$tag" "${config[@]}"
umoci gc --layout "$layout"

tls=()
if $insecure; then tls=(--dest-tls-verify=false); fi
skopeo copy --quiet "${tls[@]}" "oci:$layout:$tag" "docker://$target"
inspect_tls=()
if $insecure; then inspect_tls=(--tls-verify=false); fi
skopeo inspect "${inspect_tls[@]}" --format '{{.Digest}}' "docker://$target"
